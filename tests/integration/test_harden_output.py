"""Hardening of ehlo's own ends (issues 20 and 21): what happens when the
output goes away or the options are wrong.

- A closed output pipe (`ehlo run SERVER | head -1`) does not kill ehlo:
  the server still gets the message and QUIT, the session is recorded as
  finished, and the exit status is the session's, not 141 (SIGPIPE).
- Options are checked before any network work: an unknown --auth
  mechanism or an unreadable --cafile is refused before connecting, and
  the error names the option.
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

# A patient server: a pause after the greeting lets the reader of ehlo's
# output go away before the rest of the session is printed.
SLOW_ACCEPT = r"""
what a server that accepts one message, slowly
send "220 slow.example.test ESMTP\r\n"
expect-line ^EHLO
sleep 0.7
send "250 slow.example.test\r\n"
expect-line ^MAIL FROM:<a@example\.test>
send "250 ok\r\n"
expect-line ^RCPT TO:<b@example\.test>
send "250 ok\r\n"
expect-line ^DATA
send "354 go on\r\n"
expect-line ^Subject: closed pipe
expect-line ^$
expect-line ^line \d+$
"""

BODY_LINES = 2000


def make_case(tmp, name, text):
    path = os.path.join(tmp, name + ".case")
    with open(path, "w") as f:
        f.write(text)
    return hostile.Case(path)


class ClosedOutputTest(servers.EhloTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ehlo-harden-out-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.db = os.path.join(self.tmp, "ehlo.db")

    def test_head_closes_the_pipe(self):
        body = "".join(f"line {i}\n" for i in range(BODY_LINES))
        rest = "".join(f"expect-line ^line {i}$\n"
                       for i in range(1, BODY_LINES))
        case = SLOW_ACCEPT + rest + (
            'expect-line ^\\.$\nsend "250 2.0.0 queued as X\\r\\n"\n'
            'expect-line ^QUIT\nsend "221 bye\\r\\n"\nexit 0\n')
        server = hostile.Server(make_case(self.tmp, "slow", case))
        script = ("EHLO me\nMAIL FROM:<a@example.test>\n"
                  "RCPT TO:<b@example.test>\nDATA\nSubject: closed pipe\n\n"
                  + body + ".\nQUIT\n")
        env = dict(os.environ, EHLO_DB=self.db)
        try:
            ehlo = subprocess.Popen(
                [servers.ehlo_bin(), "run", "--timeout", "10",
                 f"127.0.0.1:{server.port}"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            # The reader takes one line and goes away, as head -1 does.
            first = ehlo.stdout.readline()
            ehlo.stdout.close()
            ehlo.stdin.write(script.encode())
            ehlo.stdin.close()
            err = ehlo.stderr.read().decode()
            ehlo.stderr.close()
            code = ehlo.wait(timeout=30)
            server.thread.join(timeout=20)
        finally:
            server.stop()
        self.assertIn(b"connected", first)
        self.assertEqual(code, 0, f"exit {code}, stderr:\n{err}")
        self.assertEqual(server.failures, [], err)
        got = bytes(server.received)
        self.assertIn(b"line 1999\r\n.\r\nQUIT\r\n", got)
        # The session is recorded as finished, with its outcome.
        h = servers.run_ehlo(["history", "--json"], env={"EHLO_DB": self.db})
        self.assertEqual(h.code, 0, h.stderr)
        self.assertRegex(h.stdout, r'"outcome": ?"ok"')


class OptionsFirstTest(servers.EhloTestCase):
    """Bad option values end ehlo before it connects anywhere."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ehlo-harden-opt-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.addCleanup(self.listener.close)
        self.server = f"127.0.0.1:{self.listener.getsockname()[1]}"

    def assertNobodyConnected(self):
        self.listener.settimeout(0.3)
        with self.assertRaises(socket.timeout, msg="ehlo connected"):
            self.listener.accept()[0].close()

    def refused(self, args, script="EHLO me\nQUIT\n"):
        r = self.ehlo([*args, self.server], script,
                      env={"EHLO_DB": os.path.join(self.tmp, "db")})
        self.assertNobodyConnected()
        self.assertNotIn("stdin:", r.stderr)
        return r

    def test_unknown_auth_mechanism(self):
        for cmd in (["run"], ["send", "--from", "a@example.test",
                              "--to", "b@example.test"],
                    ["probe", "size"]):
            with self.subTest(cmd=cmd[0]):
                r = self.refused([*cmd, "--auth", "BOGUS", "--user", "u"])
                self.assertExit(r, 2)
                self.assertLine(r, r"^ehlo: --auth: unknown mechanism "
                                r'"BOGUS"; use PLAIN, LOGIN', "stderr")

    def test_unreadable_cafile(self):
        r = self.refused(["run", "--starttls", "--cafile",
                          os.path.join(self.tmp, "missing.pem")])
        self.assertExit(r, 2)
        self.assertLine(r, r"^ehlo: --cafile: cannot read .*missing\.pem",
                        "stderr")


if __name__ == "__main__":
    servers.main()
