"""/xclient in the workbench (issue 18 item 2), in a real terminal (tmux),
against a private Postfix that lets 127.0.0.1 use XCLIENT (root only).

Tab after "/xclient ADDR=192.0.2.7 NAME=forged.example RE" completes
REVERSE_NAME=, an
attribute only the server's 250-XCLIENT line names (ehlo's own list
does not have it); sent, the 220 is shown as a new greeting in the
stage view, EHLO follows by itself, and the message then delivered
carries the forged client in its Received: header.  With --xclient the
workbench sends XCLIENT itself after the first EHLO, then EHLO again.
"""

import os
import re
import unittest

import tmux
from tmux import servers
import test_workbench


@unittest.skipUnless(os.geteuid() == 0, "Postfix needs root")
class XclientWorkbenchTest(test_workbench.WorkbenchCase):

    @classmethod
    def setUpClass(cls):
        cls.pf = servers.Postfix(
            {"alice": "alice-secret-1"},
            extra_main_cf="smtpd_authorized_xclient_hosts = 127.0.0.1")
        cls.addClassCleanup(cls.pf.stop)

    def test_xclient_completes_resets_and_ehlo_again(self):
        before = self.pf.maildir("alice", count=0)
        t = self.start([f"127.0.0.1:{self.pf.port}"], width=110, height=40)
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 CHUNKING")
        t.type("/xclient ADDR=192.0.2.7 NAME=forged.example RE")
        t.send("Tab")
        t.wait_for(r"NAME=forged\.example REVERSE_NAME=\s*$")
        t.type("forged.example")
        t.send("Enter")
        screen = t.wait_for(r"(?s)C: XCLIENT ADDR=192\.0\.2\.7 "
                            r"NAME=forged\.example REVERSE_NAME=.*"
                            r"S: 220 .*C: EHLO learner\.example.*"
                            r"S: 250 CHUNKING")
        # The stage view: XCLIENT 220, then a greeting row again.
        self.assertRegex(screen, r"(?s)XCLIENT\s+220.*greeting\s+220",
                         screen)
        for line, reply in (
                ("MAIL FROM:<me@learner.example>", r"MAIL\s+250"),
                ("RCPT TO:<alice@example.test>", r"RCPT\s+250"),
                ("DATA", r"S: 354 ")):
            self.enter(t, line)
            t.wait_for(reply)
        for line in ("Subject: xclient", "", "hi", "."):
            self.enter(t, line)
        t.wait_for(r"S: 250 2\.0\.0 Ok: queued")
        self.enter(t, "/quit")
        self.assertEqual(0, t.exit_status())
        new = self.pf.new_messages("alice", before)
        with open(new[0], "rb") as f:
            text = f.read().decode("utf-8", "replace")
        self.assertRegex(text, r"Received: from learner\.example "
                               r"\(forged\.example \[192\.0\.2\.7\]\)")

    def test_xclient_option_after_the_first_ehlo(self):
        """--xclient: the workbench sends XCLIENT by itself after the
        EHLO the user types, then EHLO again, once."""
        t = self.start([f"127.0.0.1:{self.pf.port}", "--xclient",
                        "ADDR=192.0.2.8 NAME=option.example"],
                       width=110, height=40)
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        screen = t.wait_for(r"(?s)C: XCLIENT ADDR=192\.0\.2\.8 "
                            r"NAME=option\.example.*S: 220 .*"
                            r"C: EHLO learner\.example.*S: 250 CHUNKING")
        self.assertEqual(2, len(re.findall(r"C: EHLO", screen)), screen)
        self.enter(t, "/quit")
        self.assertEqual(0, t.exit_status())


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
