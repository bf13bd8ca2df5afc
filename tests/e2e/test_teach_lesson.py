"""A lesson typed by a person (issue 16, item 5), in tmux: `ehlo lesson`
with a terminal shows its goals first, then a real prompt; each typed
line appears once, as the dialogue's "C: " line (the terminal's echo
gives way to it); a failed step prints what to try next.
"""

import os

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



class WorkbenchLessonTest(WorkbenchCase):
    """/lesson in the workbench (issue 16, item 5): the lesson's server
    rules apply (tls-required runs the practice server as
    --require-tls), the pane shows the goals met beside the session, and
    the progress is saved where `ehlo lesson` reads it."""

    def test_lesson_rules_progress_saved(self):
        t = self.start(height=40, width=110)
        t.wait_for(r"S: 220 ")
        self.enter(t, "/lesson tls-required")
        t.wait_for(r"Esc closes")
        t.send("Escape")
        t.wait_for(r"lesson tls-required: a new session on the practice")
        # The old session ends (QUIT, 221), the new one is greeted.
        t.wait_for(r"S: 221 (.|\n)*connected to (.|\n)*S: 220 ")
        t.wait_for(r"lesson: TLS required")
        t.wait_for(r"\(0/3\)")
        t.wait_for(r"smtp>\s*$")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 HELP")
        # The rule: no MAIL before STARTTLS (without it: 250).
        self.enter(t, "MAIL FROM:<alice@practice.test>")
        t.wait_for(r"S: 530 5\.7\.0")
        t.wait_for(r"\(1/3\)")
        self.enter(t, "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=")
        t.wait_for(r"S: 538 5\.7\.11")
        t.wait_for(r"\(2/3\)")
        self.enter(t, "STARTTLS")
        t.wait_for(r"STARTTLS\s+220")
        # The handshake done (the status line names the version).
        t.wait_for(r"TLSv1\.[23] verified")
        t.wait_for(r"smtp>\s*$")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"EHLO\s+250(.|\n)*EHLO\s+250")
        self.enter(t, "MAIL FROM:<alice@practice.test>")
        t.wait_for(r"\(3/3\)")
        t.wait_for(r"lesson tls-required passed; ehlo lesson shows it done")
        t.wait_for(r"Lesson passed and saved")
        self.enter(t, "/quit")
        self.assertEqual(t.exit_status(), 0)
        # Line mode reads the same progress.
        r = servers.run_ehlo(["lesson"], env={
            "HOME": self.home,
            "EHLO_DB": os.path.join(self.home, "ehlo.db")})
        self.assertEqual(r.code, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^  tls-required\s+done\s")
        self.assertRegex(r.stdout, r"(?m)^  greeting\s+not done\s")
        # And the workbench's list.
        t2 = self.start(height=40, width=110)
        t2.wait_for(r"S: 220 ")
        self.enter(t2, "/lesson")
        screen = t2.wait_for(r"Esc closes")
        self.assertRegex(screen, r"tls-required\s+done\s")

if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
