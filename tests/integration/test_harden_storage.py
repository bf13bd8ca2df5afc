"""Storage faults, explained and survived (issue 21 item 8).

Each test records a session into a database on a small tmpfs of its own
(so it needs root: `mount`), then breaks the file system:

- full before a session starts: the session runs, one message says the
  disk is full (never "disk I/O error"), `history` and `show` still work;
- full in the middle of a session: the session goes on to QUIT with its
  own exit status, one message, the earlier session still listed;
- remounted read-only: the session says once that it is not recorded
  because the file system is read-only; `history` and `show` list and
  show what is there.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))

import hostile  # noqa: E402
import servers  # noqa: E402

ACCEPT = r"""
what a server that answers every line, pausing after EHLO
send "220 store.example.test ESMTP\r\n"
expect-line ^EHLO
sleep PAUSE
send "250 store.example.test\r\n"
expect-line ^NOOP
send-lines 200 "250-2.0.0 a long reply, line %d, to fill more than a page\r\n"
send "250 2.0.0 ok\r\n"
expect-line ^NOOP
send "250 2.0.0 ok again\r\n"
expect-line ^QUIT
send "221 2.0.0 bye\r\n"
exit 0
"""

SCRIPT = "EHLO me\nNOOP\nNOOP\nQUIT\n"


def mount_tmpfs(path, size):
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}",
                        "tmpfs", path], capture_output=True, text=True)
    return p.returncode == 0, p.stderr.strip()


class StorageFaultTest(servers.EhloTestCase):

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a small tmpfs")
        self.tmp = tempfile.mkdtemp(prefix="ehlo-harden-store-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(self.mnt)
        ok, why = mount_tmpfs(self.mnt, "400k")
        if not ok:
            self.skipTest(f"cannot mount a tmpfs here: {why}")
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt])
        self.db = os.path.join(self.mnt, "ehlo.db")
        self.env = {"EHLO_DB": self.db}
        self.session(pause=0)  # session 1, recorded normally
        self.assertEqual(self.listed(), 1)

    def session(self, pause, during=None):
        case = os.path.join(self.tmp, "srv.case")
        with open(case, "w") as f:
            f.write(ACCEPT.replace("PAUSE", str(pause)))
        server = hostile.Server(hostile.Case(case))
        try:
            if during is not None:
                threading.Thread(target=lambda: (server.connected.wait(10),
                                                 during()),
                                 daemon=True).start()
            r = self.ehlo(["run", "--timeout", "5",
                           f"127.0.0.1:{server.port}"], SCRIPT,
                          env=self.env, timeout=30)
            server.thread.join(10)
        finally:
            server.stop()
        self.assertEqual(server.failures, [], self.transcript(r))
        self.assertExit(r, 0)
        self.assertIn(b"QUIT\r\n", bytes(server.received))
        self.assertNotIn("disk I/O error", r.stderr)
        return r

    def listed(self):
        h = self.ehlo(["history", "--json"], env=self.env)
        self.assertExit(h, 0)
        self.assertNotIn("disk I/O error", h.stderr)
        rows = [json.loads(line) for line in h.stdout.splitlines()
                if line.startswith("{")]
        if not rows and h.stdout.strip().startswith("["):
            rows = json.loads(h.stdout)
        return len(rows)

    def assertShows(self):
        s = self.ehlo(["show", "1"], env=self.env)
        self.assertExit(s, 0)
        self.assertLine(s, r"^session:\s+#1")
        self.assertNotIn("disk I/O error", s.stderr)

    def fill(self):
        try:
            with open(os.path.join(self.mnt, "filler"), "wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError:
            pass

    def test_disk_full_before_the_session(self):
        self.fill()
        r = self.session(pause=0)
        self.assertEqual(r.stderr.count("ehlo: "), 1, r.stderr)
        self.assertLine(r, r"^ehlo: history disabled: .*the disk is full",
                        "stderr")
        self.assertEqual(self.listed(), 1)
        self.assertShows()

    def test_disk_full_during_the_session(self):
        r = self.session(pause=1.5, during=self.fill)
        self.assertLine(r, r"^ehlo: history disabled: .*the disk is full",
                        "stderr")
        self.assertEqual(len([line for line in r.stderr.splitlines()
                              if "the disk is full" in line]), 1, r.stderr)
        self.assertGreaterEqual(self.listed(), 1)
        self.assertShows()

    def test_read_only_mount(self):
        p = subprocess.run(["mount", "-o", "remount,ro", self.mnt],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.session(pause=0)
        self.assertEqual(r.stderr.count("ehlo: "), 1, r.stderr)
        self.assertLine(r, r"^ehlo: history disabled: .*mounted read-only",
                        "stderr")
        self.assertEqual(self.listed(), 1)
        self.assertShows()


if __name__ == "__main__":
    servers.main()
