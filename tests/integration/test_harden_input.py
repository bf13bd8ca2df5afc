"""Local input that never ends (issue 21 item 7).

A body or attachment that is not a regular file is refused before ehlo
connects, quickly, with a message saying what it is: /dev/zero (a device
that reads forever), a FIFO with no writer (open(2) would block for
ever), a directory.  A body from standard input is bounded by a
documented maximum (256 MiB).  `/body FIFO` in line mode is refused the
same way and the session goes on to QUIT.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))

import hostile  # noqa: E402
import servers  # noqa: E402

ENVELOPE = ["--from", "a@example.test", "--to", "b@example.test"]

BODY_FIFO_CASE = r"""
what a server that sees MAIL and RCPT, then QUIT (no DATA)
send "220 fifo.example.test ESMTP\r\n"
expect-line ^EHLO
send "250 fifo.example.test\r\n"
expect-line ^MAIL
send "250 ok\r\n"
expect-line ^RCPT
send "250 ok\r\n"
expect-line ^QUIT
send "221 bye\r\n"
exit 2
"""


class LocalInputTest(servers.EhloTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ehlo-harden-in-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.env = {"EHLO_DB": os.path.join(self.tmp, "db")}
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.addCleanup(self.listener.close)
        self.server = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(self.fifo)

    def assertNobodyConnected(self):
        self.listener.settimeout(0.2)
        with self.assertRaises(socket.timeout, msg="ehlo connected"):
            self.listener.accept()[0].close()

    def send(self, args, stdin=None, timeout=20):
        start = time.monotonic()
        p = subprocess.run([servers.ehlo_bin(), "send", "--timeout", "3",
                            *ENVELOPE, *args, self.server],
                           stdin=stdin if stdin is not None
                           else subprocess.DEVNULL,
                           capture_output=True, timeout=timeout,
                           env=dict(os.environ, **self.env))
        elapsed = time.monotonic() - start
        self.assertNobodyConnected()
        return p.returncode, p.stderr.decode(), elapsed

    def test_body_dev_zero(self):
        code, err, elapsed = self.send(["--body", "/dev/zero"])
        self.assertEqual(code, 2, err)
        self.assertIn("the body /dev/zero is a character device", err)
        self.assertLess(elapsed, 5)

    def test_attach_fifo_without_writer(self):
        code, err, elapsed = self.send(["--attach", self.fifo])
        self.assertEqual(code, 2, err)
        self.assertIn(f"the attachment {self.fifo} is a FIFO", err)
        self.assertLess(elapsed, 5)

    def test_body_fifo_and_directory(self):
        for path, kind in ((self.fifo, "a FIFO"), (self.tmp, "a directory")):
            with self.subTest(path=path):
                code, err, _ = self.send(["--body", path])
                self.assertEqual(code, 2, err)
                self.assertIn(f"the body {path} is {kind}", err)

    def test_endless_stdin_is_bounded(self):
        with open("/dev/zero", "rb") as zero:
            code, err, _ = self.send(["--body", "-"], stdin=zero)
        self.assertEqual(code, 2, err)
        self.assertIn("the body from standard input is over the maximum "
                      "of 268435456 octets", err)

    def test_line_mode_body_fifo(self):
        case = os.path.join(self.tmp, "fifo.case")
        with open(case, "w") as f:
            f.write(BODY_FIFO_CASE)
        server = hostile.Server(hostile.Case(case))
        try:
            r = self.ehlo(["run", "--timeout", "3",
                           f"127.0.0.1:{server.port}"],
                          "EHLO me\nMAIL FROM:<a@example.test>\n"
                          "RCPT TO:<b@example.test>\n"
                          f"/body {self.fifo}\nQUIT\n", env=self.env,
                          timeout=20)
            server.thread.join(10)
        finally:
            server.stop()
        self.assertExit(r, 2)
        self.assertLine(r, r"^ehlo: stdin:4: /body: the body .* is a FIFO",
                        "stderr")
        self.assertEqual(server.failures, [], self.transcript(r))
        self.assertNotIn(b"DATA", bytes(server.received))


if __name__ == "__main__":
    servers.main()
