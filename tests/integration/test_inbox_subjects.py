"""`ehlo practice --inbox` shows subjects decoded (issue 20 item 14).

Messages delivered to the practice server: one composed by `ehlo send`
with a long UTF-8 subject (RFC 2047 encoded-words, folded over lines),
one typed with ISO-8859-1 and Q-encoded words, a control character
hidden in an encoded-word, and a word in an unknown charset.  The inbox
listing shows the decoded text, the control character escaped like any
other text, and the unknown word as it was.
"""

import os

import servers
from practice_server import PracticeServer

LONG = ("Grüße aus Köln, ein recht langer Betreff, der gefaltet werden "
        "muss: ä ö ü ß")


class InboxSubjectTest(PracticeServer, servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.start_practice()

    def inbox_listing(self):
        r = self.ehlo(["practice", "--inbox"],
                      env={"XDG_DATA_HOME": self.home.name})
        self.assertExit(r, 0)
        return r.stdout

    def test_subjects_decoded_and_escaped(self):
        before = self.inbox("carol")
        r = self.ehlo(["send", "--no-history", "--cafile", self.cafile,
                       self.server, "--from", "alice@practice.test", "--to",
                       "carol@practice.test", "--subject", LONG])
        self.assertExit(r, 0)
        stored = self.wait_new("carol", before)
        self.assertIn(b"=?utf-8?", stored.lower())  # encoded, and folded:
        self.assertRegex(stored, rb"(?i)\?=\r\n =\?UTF-8\?")
        before = self.inbox("carol")
        r = self.ehlo(["run", "--no-history", self.server], servers.script("""
            EHLO client.example
            MAIL FROM:<alice@practice.test>
            RCPT TO:<carol@practice.test>
            DATA
            Subject: =?ISO-8859-1?Q?caf=E9?= =?UTF-8?Q?_evil=1B[31m_red?= plain =?x-unknown?Q?y?=

            hello
            .
            QUIT
            """))
        self.assertExit(r, 0)
        self.wait_new("carol", before)
        listing = self.inbox_listing()
        self.assertIn(f"  {LONG}\n", listing)
        self.assertIn("  café evil\\e[31m red plain =?x-unknown?Q?y?=\n",
                      listing)
        self.assertNotIn("\x1b", listing)
        self.assertNotIn("=?utf-8?", listing.lower())


if __name__ == "__main__":
    servers.main()
