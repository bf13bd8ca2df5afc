"""The workbench on the session host (issue 15), in a real terminal (tmux).

Bug: every workbench session was recorded with the outcome "ok", even
one that ended in a 550 or a dropped connection.  The workbench now runs
its sessions on the same host as line mode, and `ehlo history` shows the
session's real result: ok, failed with the last 5xx, a network error,
or aborted (a signal, or a session the user cut short).
"""

import json
import os
import signal
import socket
import subprocess
import threading

import tmux
from tmux import servers
import test_workbench
from test_crash import workbench_pid


class DroppingServer:
    """Greets, then closes the connection when the client says EHLO:
    the reply the client waits for never comes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(2)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.sendall(b"220 dropper.test ESMTP\r\n")
            conn.makefile("rb").readline()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class HostCase(test_workbench.WorkbenchCase):
    def history(self):
        """`ehlo history --json` with the workbench's database: the
        sessions, oldest first."""
        env = {"HOME": self.home, "EHLO_DB": f"{self.home}/ehlo.db",
               "PATH": "/usr/bin:/bin"}
        out = subprocess.run([servers.ehlo_bin(), "history", "--json"],
                             env=env, capture_output=True, text=True,
                             check=True).stdout
        rows = [json.loads(line) for line in out.splitlines() if line]
        return sorted(rows, key=lambda r: r["id"])

    def outcomes(self):
        return [r["outcome"] for r in self.history()]

    def quit(self, t):
        self.enter(t, "/quit")
        self.assertEqual(0, t.exit_status())

    def steps(self, t, *lines):
        """Types each line and waits for its stage's reply (a regex)."""
        for line, reply in lines:
            self.enter(t, line)
            t.wait_for(reply)

    def refused_rcpt(self, t):
        """A practice session up to a 550 for an unknown recipient."""
        t.wait_for(r"S: 220 ")
        self.steps(t, ("EHLO learner.example", r"EHLO\s+250"),
                   ("MAIL FROM:<me@learner.example>", r"MAIL\s+250"),
                   ("RCPT TO:<nobody@practice.test>", r"RCPT\s+550"))


class OutcomeTest(HostCase):
    def test_a_550_then_quit_is_recorded_as_failed(self):
        t = self.start()
        self.refused_rcpt(t)
        self.quit(t)
        self.assertEqual(["failed 550 5.1.1"], self.outcomes())

    def test_a_clean_session_is_ok(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.steps(t, ("EHLO learner.example", r"EHLO\s+250"),
                   ("NOOP", r"NOOP\s+250"))
        self.quit(t)
        self.assertEqual(["ok"], self.outcomes())

    def test_a_dropped_connection_is_a_network_error(self):
        srv = DroppingServer()
        self.addCleanup(srv.close)
        t = self.start([f"127.0.0.1:{srv.port}"])
        t.wait_for(r"S: 220 dropper")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"not connected")
        self.quit(t)
        self.assertEqual(["network error"], self.outcomes())

    def test_an_expected_550_does_not_count(self):
        """/expect in the workbench takes the reply back, as in line
        mode."""
        t = self.start()
        self.refused_rcpt(t)
        self.enter(t, "/expect 550 5.1.1")
        t.wait_for(r"as expected")
        self.quit(t)
        self.assertEqual(["ok"], self.outcomes())

    def test_each_session_keeps_its_own_outcome(self):
        """/connect ends the first session with its outcome; the history
        browser shows the words too."""
        t = self.start()
        self.refused_rcpt(t)
        self.enter(t, "/connect")
        t.wait_for(r"session #2")
        self.enter(t, "/history")
        screen = t.wait_for(r"#1 .*failed 550 5\.1\.1")
        self.assertRegex(screen, r"#2 .*unfinished")
        t.send("Escape")
        t.wait_for(r"history \(newest first\)", absent=True)
        self.quit(t)
        self.assertEqual(["failed 550 5.1.1", "ok"], self.outcomes())

    def test_sigterm_in_the_middle_is_aborted(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.steps(t, ("EHLO learner.example", r"EHLO\s+250"),
                   ("MAIL FROM:<me@learner.example>", r"MAIL\s+250"))
        os.kill(workbench_pid(t.pane_pid()), signal.SIGTERM)
        self.assertEqual(128 + signal.SIGTERM, t.exit_status())
        rows = self.history()
        self.assertEqual(["aborted"], [r["outcome"] for r in rows])
        self.assertEqual(128 + signal.SIGTERM, rows[0]["exit"])


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
