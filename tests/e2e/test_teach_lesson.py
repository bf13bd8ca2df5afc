"""A lesson typed by a person (issue 16, item 5), in tmux: `ehlo lesson`
with a terminal shows its goals first, then a real prompt; each typed
line appears once, as the dialogue's "C: " line (the terminal's echo
gives way to it); a failed step prints what to try next.
"""

import tmux
from tmux import servers
from test_workbench import WorkbenchCase


class LessonTerminalTest(WorkbenchCase):

    def test_prompt_and_single_echo(self):
        t = self.start(["lesson", "--no-history", "rcpt"], height=40)
        screen = t.wait_for(r"lesson>\s*$")
        self.assertLess(screen.index("Goals:"), screen.index("lesson>"))
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 HELP")
        t.wait_for(r"lesson>\s*$")
        self.enter(t, "RCPT TO:<bob@practice.test>")
        screen = t.wait_for(r"\*: lesson: next goal: ")
        self.assertIn("try: after MAIL FROM", screen.replace("\n", " "))
        t.wait_for(r"lesson>\s*$")
        lines = [ln.rstrip() for ln in t.screen().split("\n")]
        # Each typed line once, as the dialogue's C: line; no echo.
        self.assertEqual(lines.count("C: EHLO learner.example"), 1, lines)
        self.assertEqual(lines.count("C: RCPT TO:<bob@practice.test>"), 1,
                         lines)
        self.assertFalse([ln for ln in lines if "EHLO learner" in ln and
                          not ln.startswith("C: ")], lines)
        self.assertFalse([ln for ln in lines
                          if ln.startswith("lesson> ") and ln != "lesson>"],
                         lines)
        t.send("C-d")
        t.wait_for(r"lesson not passed yet")
        self.assertEqual(t.exit_status(), 1)


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
