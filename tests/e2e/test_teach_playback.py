"""Playback for a lecture (issue 16, item 7), in tmux.

A session recorded by `ehlo run` against the practice server (a
greeting, EHLO, an accepted and a refused recipient, RSET, QUIT) is
opened in the workbench and played back: F5 steps forward one exchange
(a command and its reply), F8 steps back, F9 jumps to the next failure,
F10 changes the speed and F6 plays and pauses; the status line says
where playback is, and the keys.
"""

import os
import re

import tmux
from tmux import servers
from test_workbench import WorkbenchCase

SCRIPT = """EHLO lecture.example
MAIL FROM:<alice@practice.test>
RCPT TO:<bob@practice.test>
RCPT TO:<nobody@practice.test>
RSET
QUIT
"""


class PlaybackTest(WorkbenchCase):

    def record(self):
        env = dict(os.environ, HOME=self.home,
                   XDG_DATA_HOME=os.path.join(self.home, "data"))
        proc, port = servers.start_practice(env)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        r = servers.run_ehlo(["run", f"127.0.0.1:{port}"], SCRIPT,
                             env={"HOME": self.home,
                                  "EHLO_DB": os.path.join(self.home,
                                                          "ehlo.db")})
        self.assertEqual(r.code, 1, r.stderr)  # the 550
        self.assertIn("S: 550 5.1.1", r.stdout)

    def test_step_back_failure_and_speed(self):
        self.record()
        t = self.start(width=110)
        t.wait_for(r"S: 220 ")
        self.enter(t, "/open 1")
        # Opened whole: the last of 7 exchanges, and the keys.
        screen = t.wait_for(r"session #1 .*read-only  7/7 paused 1x")
        self.assertIn("F5/F8 step  F9 fail  F6 play  F10 speed", screen)
        self.assertIn("C: QUIT", screen)
        # F5 at the end starts over with the first exchange: the greeting.
        t.send("F5")
        screen = t.wait_for(r"read-only  1/7 paused")
        self.assertRegex(screen, r"S: 220 ")
        self.assertNotIn("C: EHLO lecture.example", screen)
        # One exchange: EHLO and its whole reply.
        t.send("F5")
        screen = t.wait_for(r"read-only  2/7 paused")
        self.assertIn("C: EHLO lecture.example", screen)
        self.assertRegex(screen, r"S: 250 [A-Z]")
        self.assertNotIn("C: MAIL FROM", screen)
        # Back: the greeting alone again.
        t.send("F8")
        screen = t.wait_for(r"read-only  1/7 paused")
        self.assertNotIn("C: EHLO lecture.example", screen)
        # The next failure: the refused recipient, nothing after it.
        t.send("F9")
        screen = t.wait_for(r"read-only  5/7 paused")
        self.assertIn("C: RCPT TO:<nobody@practice.test>", screen)
        self.assertIn("S: 550 5.1.1", screen)
        self.assertNotIn("C: RSET", screen)
        # Its stage, failed, is on the stage pane.
        self.assertRegex(screen, r"RCPT\s+550")
        # The speed: 2x, 10x, and back to 1x; shown as it changes.
        t.send("F10")
        t.wait_for(r"read-only  5/7 paused 2x")
        t.send("F10")
        t.wait_for(r"read-only  5/7 paused 10x")
        # Play from here to the end at 10x; it pauses by itself there.
        t.send("F6")
        screen = t.wait_for(r"read-only  7/7 paused 10x", timeout=15)
        self.assertIn("C: RSET", screen)
        self.assertIn("C: QUIT", screen)
        # The same through the commands.
        self.enter(t, "/step back")
        t.wait_for(r"read-only  6/7 paused 10x")
        self.enter(t, "/play 1x")
        t.wait_for(r"read-only  7/7 paused 1x", timeout=15)
        self.enter(t, "/step failure")
        t.wait_for(r"read-only  5/7 paused 1x")
        self.enter(t, "/close")
        t.wait_for(r"read-only", absent=True)


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
