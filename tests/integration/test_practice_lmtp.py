"""The practice server's LMTP mode (`ehlo practice --lmtp`, issue 18
item 1, RFC 2033): LHLO instead of EHLO (EHLO and HELO refused with
500), and one reply per accepted recipient after the final dot --
full@ gets 552 there while the others are delivered.

Driven by a real LMTP client (Python's smtplib.LMTP, reading the
per-recipient replies itself: its sendmail() reads only the first), by
ehlo's own --lmtp, and by `ehlo replay` of that TCP session without
--lmtp (the record's LHLO says it was LMTP).
"""

import json
import os
import smtplib
import tempfile

import servers
from practice_server import PracticeServer

MSG = b"Subject: lmtp\r\nFrom: me@learner.example\r\n\r\nhello\r\n"


class PracticeLmtpTest(PracticeServer, servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-plmtp-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.data_home = tempfile.TemporaryDirectory(prefix="ehlo-plmtp-d-")
        cls.addClassCleanup(cls.data_home.cleanup)
        env = dict(os.environ, XDG_DATA_HOME=cls.data_home.name)
        cls.proc, cls.port = servers.start_practice(env, extra=("--lmtp",))
        cls.addClassCleanup(cls.stop_practice)
        cls.data = os.path.join(cls.data_home.name, "ehlo", "practice")
        cls.server = f"127.0.0.1:{cls.port}"
        cls.db = os.path.join(cls.tmp.name, "ehlo.db")

    def test_smtplib_lmtp_per_recipient_replies(self):
        before = {u: self.inbox(u) for u in ("alice", "bob")}
        with smtplib.LMTP("127.0.0.1", self.port) as c:
            self.assertEqual(c.docmd("EHLO", "x")[0], 500)
            self.assertEqual(c.docmd("HELO", "x")[0], 500)
            code, caps = c.ehlo("learner.example")  # sends LHLO
            self.assertEqual(code, 250)
            self.assertIn(b"PIPELINING", caps)
            self.assertEqual(c.mail("me@learner.example")[0], 250)
            for rcpt in ("alice@practice.test", "full@practice.test",
                         "bob@practice.test"):
                self.assertEqual(c.rcpt(rcpt)[0], 250, rcpt)
            replies = [c.data(MSG), c.getreply(), c.getreply()]
            self.assertEqual([r[0] for r in replies], [250, 552, 250])
            self.assertIn(b"<alice@practice.test> delivered", replies[0][1])
            self.assertIn(b"5.2.2 <full@practice.test>", replies[1][1])
            self.assertIn(b"<bob@practice.test> delivered", replies[2][1])
            self.assertEqual(c.noop()[0], 250)  # nothing left over
        for user in ("alice", "bob"):
            stored = self.split_stored(self.wait_new(user, before[user]))[2]
            self.assertEqual(stored, MSG)
        self.assertEqual(self.inbox("full"), [])

    def run_lmtp(self, *extra):
        return self.ehlo(["run", "--db", self.db, *extra, self.server],
                         servers.script("""
                             LHLO learner.example
                             MAIL FROM:<me@learner.example>
                             RCPT TO:<alice@practice.test>
                             RCPT TO:<full@practice.test>
                             DATA
                             Subject: lmtp

                             hello
                             .
                             NOOP
                             QUIT
                             """))

    def assertBothReplies(self, r):
        self.assertLine(r, r"^S: 250 2\.0\.0 <alice@practice\.test> "
                           r"delivered as ")
        self.assertLine(r, r"^S: 552 5\.2\.2 <full@practice\.test>: "
                           r"Mailbox full$")
        # Each reply was matched: NOOP got its own.
        self.assertLine(r, r"^C: NOOP\nS: 250 2\.0\.0 Ok$")
        self.assertNoLine(r, r"matched to nothing|no command waits")

    def test_ehlo_lmtp_and_replay_without_lmtp(self):
        r = self.run_lmtp("--lmtp")
        self.assertExit(r, 1)  # the 552
        self.assertBothReplies(r)
        # Replayed without --lmtp: the record's LHLO says it was LMTP
        # (as SMTP, ehlo would take one reply after the dot and match
        # the second to nothing).
        h = self.ehlo(["history", "--db", self.db, "--json", "--limit",
                       "1"])
        sid = json.loads(h.stdout.splitlines()[0])["id"]
        again = self.ehlo(["replay", "--db", self.db, "--no-pauses",
                           str(sid)])
        self.assertExit(again, 1)
        self.assertBothReplies(again)
        self.assertLine(again, r"^\*: LMTP: one reply per accepted "
                               r"recipient \(2\)")


if __name__ == "__main__":
    servers.main()
