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
import time

import tmux
from tmux import servers
import test_workbench
from test_crash import workbench_pid


class Listener:
    """A server on 127.0.0.1; serve(conn) handles each connection in the
    accepting thread."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.serve(conn)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            c.close()


class DroppingServer(Listener):
    """Greets, then closes the connection when the client says EHLO:
    the reply the client waits for never comes."""

    def serve(self, conn):
        conn.sendall(b"220 dropper.test ESMTP\r\n")
        conn.makefile("rb").readline()
        conn.close()


class SilentServer(Listener):
    """Accepts connections and never says a word: a run against it
    waits for the greeting until it is cancelled."""

    def serve(self, conn):
        pass


def children(pid):
    """The processes the workbench started (none: runs are in-process)."""
    kids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            kids += f.read().split()
    return kids


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

    def test_an_mx_lookup_that_finds_nothing_leaves_a_session(self):
        """--mx with no MX and no address crashed the workbench (no
        session at all); now the practice server stands in."""
        import dnsserver
        dns = dnsserver.DnsServer({})
        self.addCleanup(dns.stop)
        t = self.start(["--dns", f"127.0.0.1:{dns.port}", "--mx",
                        "nothing.test", "--timeout", "3"])
        t.wait_for(r"nothing to connect to")
        t.wait_for(r"S: 220 practice")
        self.steps(t, ("NOOP", r"NOOP\s+250"))
        self.quit(t)

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


class InProcessRunTest(HostCase):
    """/replay and /probe ran as children (fork and exec of the program
    itself) and showed their output in a popup when they ended.  Now
    they run on the workbench's loop, stream into the dialogue, and
    Ctrl-C cancels them."""

    def test_probe_streams_its_verdict_without_a_child(self):
        t = self.start(width=160, height=50)
        t.wait_for(r"S: 220 ")
        pid = workbench_pid(t.pane_pid())
        self.enter(t, "/probe vrfy-expn")
        t.wait_for(r"probe vrfy-expn .*: running beside the session")
        screen = t.wait_for(r"end of the probe vrfy-expn .*exit 1", 30)
        self.assertIn("verdict: PROBLEM", screen)
        self.assertRegex(screen, r"C: VRFY postmaster")
        self.assertEqual([], children(pid))
        # The session is still the workbench's own.
        self.steps(t, ("NOOP", r"NOOP\s+250"))

    def test_ctrl_c_cancels_a_probe_of_a_silent_server(self):
        srv = SilentServer()
        self.addCleanup(srv.close)
        t = self.start(width=160, height=50)
        t.wait_for(r"S: 220 ")
        pid = workbench_pid(t.pane_pid())
        self.enter(t, f"/probe vrfy-expn 127.0.0.1:{srv.port}")
        t.wait_for(r"running beside the session; Ctrl-C cancels it")
        time.sleep(0.3)
        self.assertEqual([], children(pid))
        t.send("C-c")
        t.wait_for(r"end of the probe vrfy-expn .*: exit")
        self.assertEqual([], children(pid))
        # Ctrl-C has its usual meaning again: it clears the line.
        t.type("NOOP typed but not sent")
        t.send("C-c")
        t.wait_for(r"smtp>\s*$")
        self.steps(t, ("NOOP", r"NOOP\s+250"))
        self.quit(t)

    def replayed_session(self, t):
        """Session #1: a 550 for an unknown recipient; then /connect
        starts session #2 on the same practice server."""
        self.refused_rcpt(t)
        self.enter(t, "/connect")
        t.wait_for(r"session #2")

    def test_replay_streams_into_the_dialogue_and_is_recorded(self):
        t = self.start(width=160, height=50)
        self.replayed_session(t)
        pid = workbench_pid(t.pane_pid())
        self.enter(t, "/clear")
        self.enter(t, "/replay 1")
        t.wait_for(r"replay of session #1 against 127\.0\.0\.1:\d+: "
                   r"running")
        screen = t.wait_for(r"end of the replay of session #1: exit 0 "
                            r"\(session #3, failed 550 5\.1\.1\)")
        self.assertIn("C: RCPT TO:<nobody@practice.test>", screen)
        self.assertRegex(screen, r"diff: no differences: \d+ replies of "
                         r"session #1 and #3 match")
        self.assertEqual([], children(pid))
        self.quit(t)
        rows = {r["id"]: r for r in self.history()}
        self.assertEqual(1, rows[3]["replay_of"])
        self.assertEqual("failed 550 5.1.1", rows[3]["outcome"])
        self.assertEqual("failed 550 5.1.1", rows[1]["outcome"])
        self.assertEqual("ok", rows[2]["outcome"])

    def test_ctrl_c_cancels_a_replay_of_a_silent_server(self):
        srv = SilentServer()
        self.addCleanup(srv.close)
        t = self.start(width=160, height=50)
        self.replayed_session(t)
        self.enter(t, f"/replay 1 127.0.0.1:{srv.port}")
        t.wait_for(r"running beside the session; Ctrl-C cancels it")
        t.send("C-c")
        t.wait_for(r"end of the replay of session #1: exit 130 "
                   r"\(session #3, aborted\)")
        self.steps(t, ("EHLO learner.example", r"EHLO\s+250"))
        self.quit(t)
        rows = {r["id"]: r for r in self.history()}
        self.assertEqual(1, rows[3]["replay_of"])
        self.assertEqual("aborted", rows[3]["outcome"])


class ChunkPromptTest(HostCase):
    """Bug: after `BDAT n` typed lines were parsed as commands (a rule
    warning, then a second Enter to send each).  They are chunk content:
    one Enter per line, no `/` commands, and a prompt that counts the
    octets left, as after 354."""

    def open_chunk(self, t, size):
        t.wait_for(r"S: 220 ")
        screen = self.steps(
            t, ("EHLO learner.example", r"S: 250 HELP"),
            ("MAIL FROM:<me@learner.example>", r"MAIL\s+250"),
            ("RCPT TO:<bob@practice.test>", r"RCPT\s+250"))
        self.assertIn("CHUNKING", t.screen())
        self.enter(t, f"BDAT {size} LAST")
        t.wait_for(rf"chunk {size} left>\s*$")

    def test_chunk_lines_are_content_counted_at_the_prompt(self):
        t = self.start()
        self.open_chunk(t, 26)
        # 10 octets and CRLF, each line once.
        self.enter(t, "Subject: x")
        t.wait_for(r"chunk 14 left>\s*$")
        self.enter(t, "/help")  # content here, not the help popup
        t.wait_for(r"chunk 7 left>\s*$")
        self.enter(t, "")
        t.wait_for(r"chunk 5 left>\s*$")
        self.enter(t, "bye")
        screen = t.wait_for(r"BDAT\s+250")
        self.assertIn("C: /help", screen)
        self.assertNotIn("press Enter again", screen)
        self.assertNotIn("Keys", screen)
        t.wait_for(r"smtp>\s*$")
        self.quit(t)
        self.assertEqual(["ok"], self.outcomes())

    def test_quit_in_a_chunk_closes_the_connection(self):
        t = self.start()
        self.open_chunk(t, 100)
        self.enter(t, "Subject: x")
        t.wait_for(r"chunk 88 left>\s*$")
        self.enter(t, "/quit")
        self.assertEqual(0, t.exit_status())
        self.assertEqual(["aborted"], self.outcomes())

    def test_ctrl_d_in_a_message_closes_the_connection(self):
        """Ctrl-D sent QUIT as a line of the message, and the session
        was recorded as ok."""
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.steps(t, ("EHLO learner.example", r"S: 250 HELP"),
                   ("MAIL FROM:<me@learner.example>", r"MAIL\s+250"),
                   ("RCPT TO:<bob@practice.test>", r"RCPT\s+250"),
                   ("DATA", r"data>\s*$"))
        self.enter(t, "Subject: x")
        t.send("C-d")
        self.assertEqual(0, t.exit_status())
        self.assertEqual(["aborted"], self.outcomes())


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
