"""Completion that knows the practice server (issue 16, item 1), in tmux.

The built-in practice server's mailboxes, list and trigger addresses are
candidates after RCPT TO:<, MAIL FROM:<, VRFY and EXPN; a practice server
running elsewhere (`ehlo practice` in its own process, as on a teacher's
machine) teaches them through its HELP reply: before HELP nothing of
practice.test is offered, after it the same addresses are.
"""

import os
import subprocess
import tempfile

import tmux
from tmux import servers
from test_workbench import WorkbenchCase


class BuiltinPracticeCompletionTest(WorkbenchCase):

    def test_rcpt_candidates(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 ")
        t.type("RCPT TO:<b")
        t.send("Tab")
        screen = t.wait_for(r"matches")
        for addr in ("bob@practice.test", "badcontent@practice.test",
                     "blocked@practice.test", "bye@practice.test"):
            self.assertIn(addr, screen)
        t.send("C-c")
        t.wait_for(r"smtp>\s*$")
        # One candidate: completed whole, with its '>'.
        t.type("RCPT TO:<greyl")
        t.send("Tab")
        t.wait_for(r"smtp> RCPT TO:<greylist@practice\.test>$")
        t.send("C-c")
        t.wait_for(r"smtp>\s*$")
        t.type("EXPN st")
        t.send("Tab")
        t.wait_for(r"smtp> EXPN staff@practice\.test$")
        t.send("C-c")
        t.wait_for(r"smtp>\s*$")
        t.type("MAIL FROM:<blo")
        t.send("Tab")
        t.wait_for(r"smtp> MAIL FROM:<blocked@practice\.test>$")

    def test_account_candidates_after_auth(self):
        """Issue 16 item 1: the practice accounts after /auth MECH, and
        in base64 where a hand-typed AUTH LOGIN asks for the user."""
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 ")
        t.type("/auth PLAIN ")
        t.send("Tab")
        screen = t.wait_for(r"matches")
        self.assertRegex(screen, r"3 matches(.|\n)*alice\s+bob\s+carol")
        t.send("C-c")
        t.wait_for(r"smtp>\s*$")
        t.type("/auth LOGIN ca")
        t.send("Tab")
        t.wait_for(r"smtp> /auth LOGIN carol$")
        t.send("C-c")
        t.wait_for(r"smtp>\s*$")
        # AUTH LOGIN by hand: the user name in base64 ("bob").
        self.enter(t, "AUTH LOGIN")
        t.wait_for(r"sasl b64\(user\)>\s*$")
        t.type("Ym")
        t.send("Tab")
        t.wait_for(r"sasl b64\(user\)> Ym9i$")
        t.send("Enter")
        t.wait_for(r"sasl b64\(password\)>\s*$")
        # The password step offers nothing.
        t.send("Tab")
        t.wait_for(r"sasl b64\(password\)>\s*$")
        self.assertNotIn("matches", t.screen())
        self.enter(t, "*")
        t.wait_for(r"S: 501 ")


class RemotePracticeCompletionTest(WorkbenchCase):
    """A practice server in another process: learned from HELP."""

    def setUp(self):
        super().setUp()
        self.data = tempfile.TemporaryDirectory(prefix="ehlo-remote-")
        self.addCleanup(self.data.cleanup)
        self.port = servers.free_port()
        self.proc = subprocess.Popen(
            [servers.ehlo_bin(), "practice", "--listen",
             f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(os.environ, XDG_DATA_HOME=self.data.name),
            preexec_fn=servers._die_with_parent)
        self.addCleanup(self.stop_server)
        servers.wait_ready("127.0.0.1", self.port,
                           alive=lambda: self.proc.poll() is None)

    def stop_server(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def test_help_teaches_the_addresses(self):
        t = self.start([f"127.0.0.1:{self.port}"])
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 ")
        # Nothing known yet: Tab offers no practice address.
        t.type("VRFY toom")
        t.send("Tab")
        t.wait_for(r"smtp> VRFY toom$")
        t.send("C-c")
        t.wait_for(r"smtp>\s*$")
        self.enter(t, "HELP")
        t.wait_for(r"S: 214 ")
        t.type("VRFY toom")
        t.send("Tab")
        t.wait_for(r"smtp> VRFY toomany@practice\.test$")
        t.send("C-c")
        t.wait_for(r"smtp>\s*$")
        t.type("RCPT TO:<a")
        t.send("Tab")
        screen = t.wait_for(r"matches")
        self.assertIn("alice@practice.test", screen)
        self.assertIn("anyone@other.example", screen)
        t.send("C-c")
        t.wait_for(r"smtp>\s*$")
        # The accounts HELP lists, for /auth MECH USER.
        t.type("/auth PLAIN ")
        t.send("Tab")
        screen = t.wait_for(r"matches")
        self.assertRegex(screen, r"3 matches(.|\n)*alice\s+bob\s+carol")

    def test_no_accounts_before_help(self):
        t = self.start([f"127.0.0.1:{self.port}"])
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 ")
        t.type("/auth PLAIN a")
        t.send("Tab")
        t.wait_for(r"smtp> /auth PLAIN a$")
        self.assertNotIn("alice", t.screen())


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
