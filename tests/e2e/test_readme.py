"""The screen capture in README.md is what the program really shows.

The README's capture (marked `<!-- screen: practice-80x24 ... -->`) was
taken from a session on the practice server at 80x24.  This test types the
same session and compares the screen with the capture, after masking what
legitimately changes from run to run: port numbers, latencies, the
elapsed time and the server's queue id.
"""

import os
import re
import shutil
import tempfile
import unittest

import tmux
from tmux import Term, servers

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "README.md")

SESSION = ["EHLO client.example", "MAIL FROM:<me@client.example>",
           "RCPT TO:<bob@practice.test>", "RCPT TO:<nobody@practice.test>",
           "DATA", "Subject: hi", "", "Hello Bob.", "."]


def readme_capture():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- screen: practice-80x24[^>]*-->\n```\n(.*?)```",
                  text, re.S)
    if not m:
        raise AssertionError("README.md has no practice-80x24 capture")
    return m.group(1).rstrip("\n").split("\n")


def normalise(line):
    line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line)
    line = re.sub(r"queued as \S+", "queued as ID", line)
    line = re.sub(r"\d\d:\d\d", "MM:SS", line)
    if "│" in line:
        left, right = line.split("│", 1)
        # Latencies vary, and what follows them is clipped differently.
        right = re.sub(r" \d+(\.\d+)?(ms|s)\b.*", " LATENCY", right)
        right = re.sub(r"^(\s+)(\S.*)$", lambda m: m.group(1) +
                       m.group(2)[:20], right)
        return left.rstrip() + "│" + right.rstrip()
    return line.rstrip()


class ReadmeScreenTest(unittest.TestCase):
    def test_capture_matches_the_program(self):
        home = tempfile.mkdtemp(prefix="ehlo-readme-")
        self.addCleanup(shutil.rmtree, home, True)
        t = Term([servers.ehlo_bin(), "--no-history"], 80, 24,
                 env={"HOME": home,
                      "XDG_DATA_HOME": os.path.join(home, "data"),
                      "XDG_CONFIG_HOME": os.path.join(home, "config"),
                      "EHLO_DB": os.path.join(home, "ehlo.db")})
        self.addCleanup(t.stop)
        t.wait_for(r"smtp>")
        for line in SESSION:
            t.type(line)
            t.send("Enter")
        t.wait_for(r"queued as")
        t.type("QU")
        t.send("Tab")
        screen = t.wait_for(r"smtp> QUIT\s*\Z")
        got = [normalise(x) for x in screen.rstrip("\n").split("\n")]
        want = [normalise(x) for x in readme_capture()]
        self.assertEqual(want, got)


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
