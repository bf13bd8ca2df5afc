""""Why?" in the workbench (issue 16, item 2), in tmux.

After a 5xx the status line offers F7; F7 opens the stage view of the
last failure with this session's cause first.  A SASL exchange typed by
hand gets a prompt that says what the mechanism expects, and a note
with the /auth shortcut.
"""

import tmux
from tmux import servers
from test_workbench import WorkbenchCase


class WhyWorkbenchTest(WorkbenchCase):

    def test_f7_explains_this_sessions_cause(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 ")
        screen = t.screen()
        self.assertNotIn("F7 why?", screen)
        self.enter(t, "RCPT TO:<bob@practice.test>")
        t.send("Enter")  # the workbench asks before breaking the order
        t.wait_for(r"S: 503 ")
        t.wait_for(r"F7 why\?")
        t.send("F7")
        screen = t.wait_for(r"Why: This session: RCPT before an")
        self.assertIn("RFC 5321 3.3", screen.replace("\n", " "))
        t.send("Escape")
        t.wait_for(r"Why:", absent=True)

    def test_sasl_prompt_says_what_comes_next(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 ")
        self.enter(t, "AUTH PLAIN")
        t.wait_for(r"S: 334")
        t.wait_for(r"sasl b64\(\\0user\\0pass\)>\s*$")
        screen = t.wait_for(r"AUTH PLAIN waits for one line")
        self.assertIn("/auth PLAIN USER", screen.replace("\n", " "))
        self.enter(t, "*")
        t.wait_for(r"S: 501 ")
        t.wait_for(r"smtp>\s*$")


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
