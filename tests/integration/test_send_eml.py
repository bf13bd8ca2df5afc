"""`ehlo send --eml FILE|-` against a private Postfix: a prepared RFC 5322
message arrives as it was written (the bytes after Postfix's own trace
headers are the file's, line ends aside: its Message-ID, Date, folded
headers, a line that is a lone dot and lines that start with dots,
8-bit UTF-8 text); `-t` takes the recipients from To, Cc and Bcc and
removes the Bcc field; without -t only --to counts and nothing is
removed; `--dry-run` prints the envelope and the message and connects
to nothing.
"""

import os
import socket
import tempfile

import servers

DOMAIN = "example.test"
USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}

MESSAGE = ("From: Sender Example <sender@elsewhere.example>\n"
           "To: Alice <alice@example.test>\n"
           "Cc: nobody-here@elsewhere.example\n"
           "Bcc: bob@example.test\n"
           "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= prepared\n"
           "Date: Tue, 01 Dec 2026 10:00:00 +0100\n"
           "Message-ID: <prepared-42@elsewhere.example>\n"
           "X-Folded: first part\n"
           "\tsecond part\n"
           "MIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: 8bit\n"
           "\n"
           "Hallo Alice,\n"
           ".\n"
           "..two dots\n"
           ".one dot\n"
           "Grüße aus Köln\n"
           "Ende.\n").encode()


class SendEmlTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_root()
        cls.pf = servers.Postfix(USERS, domain=DOMAIN)
        cls.addClassCleanup(cls.pf.stop)
        cls.server = f"127.0.0.1:{cls.pf.port}"
        cls.dir = tempfile.mkdtemp(prefix="ehlo-eml-")
        cls.eml = os.path.join(cls.dir, "prepared.eml")
        with open(cls.eml, "wb") as f:
            f.write(MESSAGE)

    def delivered(self, user, before):
        new = self.pf.new_messages(user, before)
        self.assertEqual(len(new), 1, self.pf.log()[-3000:])
        with open(new[0], "rb") as f:
            return f.read()

    def mailbox(self, user):
        return self.pf.maildir(user, count=0)

    def test_t_takes_recipients_and_removes_bcc(self):
        before_a, before_b = self.mailbox("alice"), self.mailbox("bob")
        r = self.ehlo(["send", "--cafile", self.pf.cert.cert, self.server,
                       "--eml", self.eml, "-t", "--partial"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: MAIL FROM:<sender@elsewhere\.example> "
                           r"SIZE=\d+ BODY=8BITMIME$")
        self.assertLine(r, r"^C: RCPT TO:<alice@example\.test>$")
        self.assertLine(r, r"^C: RCPT TO:<nobody-here@elsewhere\.example>$")
        self.assertLine(r, r"^C: RCPT TO:<bob@example\.test>$")
        want = MESSAGE.replace(b"Bcc: bob@example.test\n", b"")
        for user, before in (("alice", before_a), ("bob", before_b)):
            raw = self.delivered(user, before)
            self.assertNotIn(b"\nBcc:", raw)
            self.assertBodyDelivered(raw, want)

    def test_as_is_from_stdin_with_to(self):
        """Without -t: the recipients are --to only, the Bcc field
        stays (nothing is changed), CRLF and LF mixed become CRLF."""
        before = self.mailbox("alice")
        mixed = MESSAGE.replace(b"Hallo Alice,\n", b"Hallo Alice,\r\n")
        r = self.ehlo(["send", "--cafile", self.pf.cert.cert, self.server,
                       "--eml", "-", "--to", "alice@example.test"], mixed)
        self.assertExit(r, 0)
        self.assertNoLine(r, r"^C: RCPT TO:<bob@")
        raw = self.delivered("alice", before)
        # Postfix's cleanup drops Bcc fields itself (AiosmtpdEmlTest
        # sees them kept).
        self.assertBodyDelivered(
            raw, MESSAGE.replace(b"Bcc: bob@example.test\n", b""))

    def test_from_overrides_the_envelope_sender(self):
        before = self.mailbox("alice")
        r = self.ehlo(["send", "--no-starttls", self.server, "--eml",
                       self.eml, "--from", "bounces@elsewhere.example",
                       "--to", "alice@example.test"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: MAIL FROM:<bounces@elsewhere\.example> ")
        raw = self.delivered("alice", before)
        self.assertIn(b"Return-Path: <bounces@elsewhere.example>", raw)
        self.assertIn(b"From: Sender Example <sender@elsewhere.example>",
                      raw)

    def test_dry_run_connects_to_nothing(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        self.addCleanup(listener.close)
        port = listener.getsockname()[1]
        r = self.ehlo(["send", f"127.0.0.1:{port}", "--eml", self.eml, "-t",
                       "--dry-run"])
        self.assertExit(r, 0)
        with self.assertRaises(socket.timeout):
            listener.accept()
        lines = r.stdout.split("\n")
        self.assertIn("MAIL FROM:<sender@elsewhere.example>", lines)
        self.assertIn("RCPT TO:<bob@example.test>", lines)
        body = r.stdout[r.stdout.index("From: Sender"):]
        self.assertEqual(body.replace("\r\n", "\n").encode(),
                         MESSAGE.replace(b"Bcc: bob@example.test\n", b""))
        # Without a SERVER too, and for a composed message.
        r = self.ehlo(["send", "--dry-run", "--from", "a@example.test",
                       "--to", "b@example.test", "--subject", "look"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^RCPT TO:<b@example\.test>$")
        self.assertLine(r, r"^Subject: look\r?$")

    def test_bad_usage(self):
        for args, what in (
                (["--eml", self.eml], r"no recipient: give --to"),
                (["--eml", self.eml, "-t", "--subject", "x"],
                 r"--eml sends the message as it is"),
                (["--eml", self.dir, "-t"], r"only a regular file can be sent"),
                (["-t", "--from", "a@x.example", "--to", "b@x.example"],
                 r"-t takes the recipients from the message")):
            with self.subTest(args=args):
                r = self.ehlo(["send", self.server, *args])
                self.assertExit(r, 2)
                self.assertLine(r, what, "stderr")


class AiosmtpdEmlTest(servers.EhloTestCase):
    """aiosmtpd keeps the content exactly as received."""

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        cls.srv = servers.Aiosmtpd()
        cls.addClassCleanup(cls.srv.stop)
        cls.dir = tempfile.mkdtemp(prefix="ehlo-eml-")
        cls.eml = os.path.join(cls.dir, "prepared.eml")
        with open(cls.eml, "wb") as f:
            f.write(MESSAGE)

    def send(self, *args):
        n = len(self.srv.messages())
        r = self.ehlo(["send", "--no-starttls",
                       f"127.0.0.1:{self.srv.port}", "--eml", self.eml,
                       *args])
        self.assertExit(r, 0)
        msgs = self.srv.messages()
        self.assertEqual(len(msgs), n + 1)
        return msgs[-1]

    def test_exact_bytes(self):
        crlf = MESSAGE.replace(b"\n", b"\r\n")
        m = self.send("--to", "alice@example.test")
        self.assertEqual(m["data"], crlf)
        self.assertEqual(m["rcpt_tos"], ["alice@example.test"])
        m = self.send("-t")
        self.assertEqual(m["data"],
                         crlf.replace(b"Bcc: bob@example.test\r\n", b""))
        self.assertEqual(sorted(m["rcpt_tos"]),
                         ["alice@example.test", "bob@example.test",
                          "nobody-here@elsewhere.example"])


if __name__ == "__main__":
    servers.main()
