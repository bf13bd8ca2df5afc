"""Attachment types and charsets (issue 20 item 12), against aiosmtpd.

`ehlo send --attach` with UTF-8 text files: what aiosmtpd received is
parsed with Python's email package; each text attachment carries the
charset of its content and decodes (with that charset) to the original
text; a known extension gets its registered type where libmagic only
says text/plain (table.csv -> text/csv, notes.md -> text/markdown); an
ASCII file says us-ascii; a binary file gets no charset.
"""

import email
import email.policy
import os
import shutil
import tempfile

import servers

CSV = "name,city\nJürgen,Köln\nä,ö\n"
SIMPLE_CSV = "a,b\n1,2\n"
MARKDOWN = "# Grüße\n\n- eins\n- zwei ✓\n"
BINARY = bytes(range(256)) * 4


class AttachTypesTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        cls.server = servers.Aiosmtpd()
        cls.addClassCleanup(cls.server.stop)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ehlo-attach-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def file(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return path

    def test_text_attachments_carry_type_and_charset(self):
        files = [self.file("table.csv", CSV),
                 self.file("simple.csv", SIMPLE_CSV),
                 self.file("notes.md", MARKDOWN),
                 self.file("blob.bin", BINARY)]
        before = len(self.server.messages())
        args = ["send", "--no-starttls", "--from", "a@example.test",
                "--to", "alice@example.test", "--subject", "types"]
        for f in files:
            args += ["--attach", f]
        r = self.ehlo(args + [f"127.0.0.1:{self.server.port}"])
        self.assertExit(r, 0)
        got = self.server.messages()
        self.assertEqual(len(got), before + 1)
        msg = email.message_from_bytes(got[-1]["data"],
                                       policy=email.policy.default)
        parts = {p.get_filename(): p for p in msg.iter_attachments()}
        self.assertEqual(set(parts), {"table.csv", "simple.csv", "notes.md",
                                      "blob.bin"})

        csv = parts["table.csv"]
        self.assertEqual(csv.get_content_type(), "text/csv")
        self.assertEqual(csv.get_content_charset(), "utf-8")
        self.assertEqual(csv.get_content(), CSV)

        simple = parts["simple.csv"]
        self.assertEqual(simple.get_content_type(), "text/csv")
        self.assertEqual(simple.get_content_charset(), "us-ascii")
        self.assertEqual(simple.get_content(), SIMPLE_CSV)

        md = parts["notes.md"]
        self.assertEqual(md.get_content_type(), "text/markdown")
        self.assertEqual(md.get_content_charset(), "utf-8")
        self.assertEqual(md.get_content(), MARKDOWN)

        blob = parts["blob.bin"]
        self.assertFalse(blob.get_content_type().startswith("text/"))
        self.assertIsNone(blob.get_param("charset"))
        self.assertEqual(blob.get_content(), BINARY)


if __name__ == "__main__":
    servers.main()
