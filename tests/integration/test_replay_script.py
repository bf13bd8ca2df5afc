"""Replay and script export of sessions with a failed AUTH and with the
user's pauses (issue 20 item 13), against the practice server.

The recorded session fails AUTH once with a wrong secret, cancels a
second AUTH (its exchange shows no user), waits 1.5 s (a greylisting
retry), then authenticates and sends a message.  The script export marks
the failed exchanges instead of giving up and keeps the wait as /sleep;
--no-pauses drops it; the replay delivers the message again and takes
the wait only without --no-pauses.
"""

import os
import time

import servers
from practice_server import PracticeServer

SESSION = servers.script("""
    EHLO client.example
    STARTTLS
    EHLO client.example
    /auth PLAIN alice
    AUTH PLAIN
    *
    /sleep 1.5
    /auth PLAIN bob
    MAIL FROM:<bob@practice.test>
    RCPT TO:<carol@practice.test>
    DATA
    Subject: replayed after a pause

    hello
    .
    QUIT
    """)


class ReplayScriptTest(PracticeServer, servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.start_practice()
        cls.db = os.path.join(cls.home.name, "history.db")
        # Both /auth lines take EHLO_PASSWORD: alice's is wrong.
        r = servers.run_ehlo(["run", "--db", cls.db, "--cafile",
                              cls.cafile, cls.server], SESSION,
                             env={"EHLO_PASSWORD": "builder"})
        if "535" not in r.stdout or "queued" not in r.stdout:
            raise RuntimeError("recording failed:\n" + r.stdout + r.stderr)

    def export_script(self, *extra):
        r = self.ehlo(["export", "1", "--db", self.db, "--format", "script",
                       *extra])
        self.assertExit(r, 0)
        return r.stdout

    def test_script_marks_failed_auth_and_keeps_the_pause(self):
        text = self.export_script()
        self.assertRegex(text, r"(?m)^# not repeated: AUTH PLAIN "
                         r"\[user=alice [^\n]*failed: 535 5\.7\.8$")
        self.assertRegex(text, r"(?m)^# not repeated: AUTH PLAIN \(at "
                         r"[0-9.]+ s\) failed: 501 ")
        self.assertRegex(text, r"(?m)^/sleep 1\.[5-9]\n/auth PLAIN bob$")
        self.assertEqual(text.count("/auth "), 1)
        self.assertNotIn("/sleep", self.export_script("--no-pauses"))

    def replay(self, *extra):
        before = self.inbox("carol")
        t0 = time.monotonic()
        r = self.ehlo(["replay", "1", "--db", self.db, "--cafile",
                       self.cafile, *extra],
                      env={"EHLO_PASSWORD": "builder"})
        took = time.monotonic() - t0
        self.assertExit(r, 0)
        self.assertIn(b"Subject: replayed after a pause",
                      self.wait_new("carol", before))
        self.assertNotIn("535", r.stdout)
        return took

    def test_replay_keeps_the_pause(self):
        self.assertGreaterEqual(self.replay(), 1.5)

    def test_replay_without_pauses(self):
        self.assertLess(self.replay("--no-pauses"), 1.4)


if __name__ == "__main__":
    servers.main()
