"""The recorded outcome of a session (the session host, tui/host.c).

Real runs against the practice server (`ehlo practice --listen`) with
its triggers, a server that drops the connection, and a SIGTERM in the
middle of a session; each run goes into one database, and `ehlo history
--json`, `ehlo history` and `ehlo show` must name the outcome in words:
"ok", "failed 550 5.1.1", "temporary failure 451 4.3.0", "network
error", "aborted", with the exit status of the contract beside it.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import servers

RCPT = servers.script("""
    EHLO client.example.test
    MAIL FROM:<alice@example.test>
    RCPT TO:<{rcpt}>
    """)


class DroppingServer:
    """Greets, answers EHLO, then closes the connection when MAIL comes:
    the client sees the line go without a reply."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                f = conn.makefile("rb")
                conn.sendall(b"220 drop.test ESMTP\r\n")
                for line in f:
                    if line.upper().startswith(b"EHLO"):
                        conn.sendall(b"250 drop.test\r\n")
                    else:
                        break
                f.close()
                conn.shutdown(socket.SHUT_RDWR)

    def stop(self):
        self.sock.close()


class OutcomeTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.mkdtemp(prefix="ehlo-outcome-")
        cls.addClassCleanup(shutil.rmtree, cls.home, True)
        env = dict(os.environ, XDG_DATA_HOME=cls.home, NO_COLOR="1")
        cls.log = open(os.path.join(cls.home, "practice.log"), "w+b")
        cls.addClassCleanup(cls.log.close)
        cls.proc, cls.port = servers.start_practice(env, stdout=cls.log)
        cls.addClassCleanup(cls.stop_practice)
        cls.server = f"127.0.0.1:{cls.port}"

    @classmethod
    def stop_practice(cls):
        if cls.proc.poll() is None:
            cls.proc.kill()
        cls.proc.wait()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ehlo-outcome-db-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.db = os.path.join(self.tmp, "ehlo.db")

    def run_db(self, args, script_text=""):
        return self.ehlo(args, script_text, env={"EHLO_DB": self.db})

    def last_session(self):
        r = self.run_db(["history", "--json", "--limit", "1"])
        self.assertExit(r, 0)
        rows = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(len(rows), 1, r.stdout)
        return rows[0]

    def assertOutcome(self, exit_status, words):
        s = self.last_session()
        self.assertEqual((s["exit"], s["outcome"]), (exit_status, words))
        r = self.run_db(["history"])
        self.assertExit(r, 0)
        row = [ln for ln in r.stdout.splitlines()
               if ln.split()[:1] == [str(s["id"])]]
        self.assertEqual(len(row), 1, r.stdout)
        self.assertIn(f"  {words}", row[0])
        r = self.run_db(["show", str(s["id"])])
        self.assertExit(r, 0)
        self.assertIn(f"outcome:   exit {exit_status} ({words})\n", r.stdout)
        r = self.run_db(["show", str(s["id"]), "--json"])
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout)["outcome"], words)

    def test_ok(self):
        r = self.run_db(["run", self.server],
                        RCPT.format(rcpt="alice@practice.test"))
        self.assertExit(r, 0)
        self.assertOutcome(0, "ok")

    def test_failed_with_the_last_5xx(self):
        r = self.run_db(["run", self.server],
                        RCPT.format(rcpt="unknown@practice.test"))
        self.assertExit(r, 1)
        self.assertOutcome(1, "failed 550 5.1.1")

    def test_temporary_failure_with_the_last_4xx(self):
        r = self.run_db(["run", self.server],
                        RCPT.format(rcpt="tempfail@practice.test"))
        # EX_TEMPFAIL (issue 17): a caller retries.
        self.assertExit(r, 75)
        self.assertOutcome(75, "temporary failure 451 4.3.0")

    def test_expected_reply_is_not_a_failure(self):
        """/expect takes the 550 back: ok, as line mode's exit says."""
        r = self.run_db(["run", self.server],
                        RCPT.format(rcpt="unknown@practice.test")
                        + "/expect 550\n")
        self.assertExit(r, 0)
        self.assertOutcome(0, "ok")

    def test_send_refused(self):
        """ehlo send records through the same host: a refused recipient
        is the failure named."""
        r = self.run_db(["send", self.server, "--no-starttls",
                         "--from", "a@example.test",
                         "--to", "unknown@practice.test", "--subject", "x"])
        self.assertExit(r, 1)
        self.assertOutcome(1, "failed 550 5.1.1")

    def test_dropped_connection_is_a_network_error(self):
        srv = DroppingServer()
        self.addCleanup(srv.stop)
        r = self.run_db(["run", f"127.0.0.1:{srv.port}"],
                        RCPT.format(rcpt="bob@example.test"))
        self.assertExit(r, 3)
        self.assertOutcome(3, "network error")

    def terminate_after(self, args, stdin, marker):
        """Starts ehlo, waits for marker in its output, sends SIGTERM;
        returns its stderr once it has exited with 128 + SIGTERM."""
        env = dict(os.environ, EHLO_DB=self.db, NO_COLOR="1")
        proc = subprocess.Popen(
            [servers.ehlo_bin(), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env)
        proc.stdin.write(stdin)
        proc.stdin.flush()
        line = b""
        deadline = time.monotonic() + 10
        while marker not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            self.assertNotEqual(line, b"", "ehlo ended early")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        self.assertEqual(proc.returncode, 128 + signal.SIGTERM, err)
        return err

    def test_sigterm_is_aborted(self):
        err = self.terminate_after(["run", self.server],
                                   b"EHLO client.example.test\n", b"250 ")
        self.assertIn(b"interrupted by SIGTERM", err)
        self.assertOutcome(128 + signal.SIGTERM, "aborted")

    def test_send_sigterm_is_aborted(self):
        """ehlo send has the host's signal handling too: killed while
        the server takes its time, the session is closed and recorded
        as aborted, not left unfinished."""
        err = self.terminate_after(
            ["send", self.server, "--no-starttls", "--from",
             "a@example.test", "--to", "slow@practice.test"],
            b"", b"C: RCPT TO:<slow@practice.test>")
        self.assertIn(b"interrupted by SIGTERM", err)
        self.assertOutcome(128 + signal.SIGTERM, "aborted")


if __name__ == "__main__":
    servers.main()
