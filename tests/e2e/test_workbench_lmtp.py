"""The workbench over LMTP (issue 18 item 1), in a real terminal (tmux),
against aiosmtpd's LMTP class (tests/integration/lmtp_server.py), and
against the practice server's LMTP mode (`ehlo practice --lmtp`).

With --lmtp, Tab on "LH" completes LHLO (EHLO and HELO are not offered),
and after the final dot the stage view shows one end-of-data row per
accepted recipient -- 250 for one, 452 for the full mailbox -- and the
dialogue both replies, with the next command's reply still its own;
the history records the 452 as the session's outcome.

/send of a draft to two recipients (one of them full@, which the
practice server refuses after the data) reports both replies, then
how many were delivered; /hexdump on then shows the next command's
bytes in hex.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import tmux
from tmux import servers
import test_workbench

HERE = os.path.dirname(os.path.abspath(__file__))


class LmtpWorkbenchTest(test_workbench.WorkbenchCase):

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-e2e-lmtp-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.proc = subprocess.Popen(
            [sys.executable,
             os.path.join(HERE, "..", "integration", "lmtp_server.py"),
             cls.tmp.name, os.path.join(cls.tmp.name, "lmtp.sock")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=servers._die_with_parent)
        cls.addClassCleanup(cls._stop)
        line = cls.proc.stdout.readline().decode()
        if not line.startswith("ready "):
            raise RuntimeError("the LMTP server did not start: " + line)
        cls.port = int(line.split()[1])

    @classmethod
    def _stop(cls):
        cls.proc.terminate()
        cls.proc.wait(timeout=10)
        cls.proc.stdout.close()

    def test_lhlo_and_one_reply_per_recipient(self):
        t = self.start(["--lmtp", f"127.0.0.1:{self.port}"])
        t.wait_for(r"S: 220 ")
        t.type("LH")
        t.send("Tab")
        t.wait_for(r"smtp> LHLO\s*$")
        t.type("learner.example")
        t.send("Enter")
        t.wait_for(r"S: 250 HELP")
        for line, reply in (
                ("MAIL FROM:<me@learner.example>", r"MAIL\s+250"),
                ("RCPT TO:<alice@example.test>", r"S: 250 2\.1\.5"),
                ("RCPT TO:<full@example.test>",
                 r"(?s)2\.1\.5.*2\.1\.5"),
                ("DATA", r"data>\s*$")):
            self.enter(t, line)
            t.wait_for(reply)
        for line in ("Subject: lmtp", "", "hi"):
            self.enter(t, line)
        self.enter(t, ".")
        screen = t.wait_for(r"S: 452 4\.2\.2 <full@example\.test>")
        self.assertRegex(screen, r"S: 250 2\.0\.0 <alice@example\.test> "
                                 r"delivered")
        # The stage view: two end-of-data rows, 250 and 452.
        self.assertRegex(screen, r"(?s)end of data\s+250.*"
                                 r"end of data\s+452", screen)
        self.enter(t, "NOOP")
        t.wait_for(r"NOOP\s+250")
        self.enter(t, "/quit")
        self.assertEqual(0, t.exit_status())
        # The history has the 452 as the session's outcome.
        env = {"HOME": self.home, "EHLO_DB": f"{self.home}/ehlo.db",
               "PATH": "/usr/bin:/bin"}
        out = subprocess.run([servers.ehlo_bin(), "history", "--json"],
                             env=env, capture_output=True, text=True,
                             check=True).stdout
        rows = [json.loads(line) for line in out.splitlines() if line]
        self.assertEqual(["temporary failure 452 4.2.2"],
                         [r["outcome"] for r in rows])


class PracticeLmtpSendTest(test_workbench.WorkbenchCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-e2e-plmtp-")
        cls.addClassCleanup(cls.tmp.cleanup)
        env = dict(os.environ, XDG_DATA_HOME=cls.tmp.name)
        cls.proc, cls.port = servers.start_practice(env, extra=("--lmtp",))
        cls.addClassCleanup(cls._stop)

    @classmethod
    def _stop(cls):
        cls.proc.kill()
        cls.proc.wait()

    def test_send_reports_every_recipient(self):
        t = self.start(["--lmtp", f"127.0.0.1:{self.port}"])
        t.wait_for(r"S: 220 ")
        self.enter(t, "LHLO learner.example")
        t.wait_for(r"S: 250 HELP")
        self.enter(t, "/draft new")
        for field in ("from me@learner.example", "to alice@practice.test",
                      "to full@practice.test", "subject two"):
            self.enter(t, f"/draft {field}")
        self.enter(t, "/draft body")
        t.wait_for(r"body>")
        for line in ("hello", "."):
            self.enter(t, line)
        screen = t.wait_for(r"Body:\s+1 lines")
        draft_id = re.search(r"draft #(\d+)", screen).group(1)
        self.enter(t, f"/send {draft_id}")
        screen = t.wait_for(r"delivered to 1 of 2 recipients")
        self.assertRegex(screen, rf"draft #{draft_id} for "
                                 r"<alice@practice\.test>: 250, delivered")
        self.assertRegex(screen, rf"draft #{draft_id} for "
                                 r"<full@practice\.test>: 552, refused")
        self.enter(t, "/hexdump on")
        t.wait_for(r"hexdump on")
        self.enter(t, "NOOP")
        # Offsets count the whole connection, not from /hexdump on.
        screen = t.wait_for(r"C> [0-9a-f]{8}  4e 4f 4f 50 0d 0a "
                            r"+NOOP\.\.")
        self.assertNotRegex(screen, r"C> 00000000  4e 4f")
        self.enter(t, "/quit")
        self.assertEqual(0, t.exit_status())


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
