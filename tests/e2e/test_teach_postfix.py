"""Teaching on a real Postfix session (issue 16, items 2, 7 and 8).

One session against a private Postfix (needs root) is recorded by `ehlo
run`: a recipient outside Postfix's domains refused with 554 5.7.1
before AUTH (relay denied), then AUTH PLAIN and a delivered message.
Then:

- item 2: `/explain` after the 554 names this session's cause,
  relaying without AUTH, before the reply's general meaning;
- item 8: `ehlo export ID --format svg` parses as XML and `--format
  html` with html.parser, both hold the session's commands and replies
  and no form of the password;
- item 7: the workbench plays the record back (tmux): F5 by exchange,
  F8 back, F9 on to the failure.
"""

import os
import re
import tempfile
import xml.etree.ElementTree as ET

import tmux
from tmux import servers
from test_export_svg import SVG, Page
from test_workbench import WorkbenchCase

DOMAIN = "example.test"
USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}
SCRIPT = """EHLO client.example.test
MAIL FROM:<sender@elsewhere.example>
RCPT TO:<someone@elsewhere.example>
/explain
RSET
/auth PLAIN alice
MAIL FROM:<alice@example.test>
RCPT TO:<bob@example.test>
DATA
Subject: drawn on a real server

hello from the lecture
.
QUIT
"""


class PostfixTeachingTest(WorkbenchCase):

    @classmethod
    def setUpClass(cls):
        servers.require_root()
        cls.pf = servers.Postfix(USERS, domain=DOMAIN)
        cls.addClassCleanup(cls.pf.stop)
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-teach-pf-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.db = os.path.join(cls.tmp.name, "ehlo.db")
        cls.recorded = servers.run_ehlo(
            ["run", f"127.0.0.1:{cls.pf.port}"], SCRIPT,
            env={"EHLO_DB": cls.db, "HOME": cls.tmp.name,
                 "EHLO_PASSWORD": USERS["alice"]})

    def setUp(self):
        super().setUp()
        r = self.recorded
        # The 554 makes the run's status 1; the rest went through.
        self.assertEqual(r.code, 1, r.stdout + r.stderr)
        self.assertIn("S: 554 5.7.1", r.stdout)
        self.assertRegex(r.stdout, r"S: 235 ")
        self.assertRegex(r.stdout, r"S: 250 2\.0\.0 Ok: queued")

    def export(self, fmt):
        r = servers.run_ehlo(["export", "1", "--format", fmt],
                             env={"EHLO_DB": self.db, "HOME": self.tmp.name})
        self.assertEqual(r.code, 0, r.stderr)
        for secret in servers.secret_forms("alice", USERS["alice"]):
            self.assertNotIn(secret, r.stdout)
        return r.stdout

    def test_why_names_this_sessions_cause(self):
        out = " ".join(self.recorded.stdout.split())
        cause = out.index("This session: relaying without AUTH")
        self.assertIn("RFC 5321 3.6, 7.1", out[cause:])
        # The cause comes before the general meaning of 554.
        self.assertLess(cause, out.index("554: ", cause))

    def test_svg_and_html_parse_and_hold_the_session(self):
        root = ET.fromstring(self.export("svg").encode())
        self.assertEqual(root.tag, SVG + "svg")
        texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
        for want in ("client (ehlo)",
                     "C: RCPT TO:<someone@elsewhere.example>",
                     "C: RCPT TO:<bob@example.test>", "C: QUIT"):
            self.assertIn(want, texts)
        self.assertTrue(any(t.startswith("S: 220 mx.example.test ESMTP")
                            for t in texts), texts)
        self.assertTrue(any(t.startswith("S: 554 5.7.1") for t in texts))
        self.assertIn("AUTH (secret redacted)", texts)
        self.assertTrue(any(t.startswith("C: AUTH PLAIN") and
                            "alice" in t for t in texts), texts)
        lanes = [ln for ln in root.iter(SVG + "line")
                 if ln.get("class") == "lane"]
        self.assertEqual(len(lanes), 2)
        page = Page()
        page.feed(self.export("html"))
        page.close()
        self.assertEqual(page.open, [], "unclosed tags")
        text = "".join(page.text)
        self.assertIn("C: RCPT TO:<someone@elsewhere.example>", text)
        self.assertIn("S: 554 5.7.1", text)
        self.assertIn("5.7.1: Delivery not authorized", text)

    def test_playback_steps_and_jumps_to_the_failure(self):
        t = self.start(width=110, height=80, env={"EHLO_DB": self.db})
        t.wait_for(r"S: 220 ")
        self.enter(t, "/open 1")
        screen = t.wait_for(r"session #1 .*read-only  (\d+)/\1 paused")
        total = int(re.search(r"read-only  (\d+)/", screen).group(1))
        t.send("F5")
        screen = t.wait_for(rf"read-only  1/{total} paused")
        self.assertIn("S: 220 mx.example.test ESMTP", screen)
        self.assertNotIn("C: EHLO", screen)
        # On to the failure: greeting, EHLO, MAIL, then the refused RCPT.
        t.send("F9")
        screen = t.wait_for(rf"read-only  4/{total} paused")
        self.assertIn("C: RCPT TO:<someone@elsewhere.example>", screen)
        self.assertIn("S: 554 5.7.1", screen)
        self.assertNotIn("C: RSET", screen)
        t.send("F5")
        screen = t.wait_for(rf"read-only  5/{total} paused")
        self.assertIn("C: RSET", screen)
        t.send("F8")
        screen = t.wait_for(rf"read-only  4/{total} paused")
        self.assertNotIn("C: RSET", screen)
        # No failure after it: F9 comes back to the same one.
        t.send("F5")
        t.wait_for(rf"read-only  5/{total} paused")
        t.send("F9")
        t.wait_for(rf"read-only  4/{total} paused")


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
