"""Crash safety of the history store: kill -9 at random points.

Twenty line-mode sessions (`ehlo run --db DB`), all into one database,
each against a server that answers after random delays and trickles
some replies a few bytes at a time, each killed with SIGKILL at a random
moment after it has printed some dialogue.  Standard output is read
through a pipe as it streams, and whatever was still in the pipe after
the kill counts as shown too (it was written before the process died).
After every kill:

- `PRAGMA integrity_check` says ok;
- every C:/S: line that was shown is in the database, in order (the
  store writes a line before it is printed; DESIGN.md section 6).

And a line-mode session whose commits are held up (another process
holds the database's write lock) while a long reply arrives: no line of
it may appear before it is committed, however much there is to print
(stdout is a pipe: stdio would write its buffer as it fills).

Then the workbench under tmux, killed the same way: the dialogue lines
on the screen are in the database.  And SIGTERM and SIGHUP to the
workbench: the session is closed in the database (ended and an exit
status set).

The random choices come from one seed, printed; set EHLO_CRASH_SEED to
replay a run.
"""

import os
import random
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import servers  # noqa: E402
import tmux  # noqa: E402

SESSIONS = 20
DIALOGUE = re.compile(r"^([CS]): (.*)$")


class TrickleServer:
    """An SMTP server on 127.0.0.1 that answers every command after a
    random delay, sends the EHLO reply line by line and some lines a few
    bytes at a time.  Each connection gets its own generator, seeded from
    the test's seed, so a run can be replayed."""

    def __init__(self, seed):
        self.seed = seed
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            rng = random.Random(f"{self.seed}/{self.count}")
            self.count += 1
            threading.Thread(target=self._serve, args=(conn, rng),
                             daemon=True).start()

    @staticmethod
    def _send(conn, rng, text):
        data = text.encode()
        if rng.random() < 0.3:
            # Trickle: a few bytes at a time.
            i = 0
            while i < len(data):
                n = rng.randint(1, 6)
                conn.sendall(data[i:i + n])
                i += n
                time.sleep(rng.uniform(0, 0.01))
        else:
            conn.sendall(data)

    def _serve(self, conn, rng):
        try:
            conn.settimeout(30)
            f = conn.makefile("rb")
            time.sleep(rng.uniform(0, 0.1))
            self._send(conn, rng, "220 trickle.example.test ESMTP\r\n")
            in_data = False
            while True:
                line = f.readline()
                if not line:
                    return
                word = line.split(b" ")[0].strip().upper()
                if in_data:
                    if line.rstrip(b"\r\n") == b".":
                        in_data = False
                        time.sleep(rng.uniform(0, 0.08))
                        self._send(conn, rng, "250 2.0.0 queued as "
                                   f"{rng.randrange(1 << 32):08X}\r\n")
                    continue
                time.sleep(rng.uniform(0, 0.08))
                if word == b"EHLO":
                    caps = ["trickle.example.test greets you", "PIPELINING",
                            "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES",
                            "HELP", "X-SLOW-" + "A" * rng.randint(1, 200)]
                    for i, cap in enumerate(caps):
                        sep = " " if i == len(caps) - 1 else "-"
                        self._send(conn, rng, f"250{sep}{cap}\r\n")
                        time.sleep(rng.uniform(0, 0.02))
                elif word == b"DATA":
                    self._send(conn, rng, "354 end with <CRLF>.<CRLF>\r\n")
                    in_data = True
                elif word == b"QUIT":
                    self._send(conn, rng, "221 2.0.0 bye\r\n")
                    return
                elif word == b"HELP":
                    for i in range(5):
                        self._send(conn, rng, f"214-help line {i}\r\n")
                    self._send(conn, rng, "214 end\r\n")
                else:
                    self._send(conn, rng, "250 2.0.0 ok\r\n")
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopping = True
        self.sock.close()


def script(rng):
    """A long session: more than any kill lets it finish."""
    lines = ["EHLO crash.example.test"]
    for i in range(rng.randint(6, 10)):
        lines += [f"MAIL FROM:<sender{i}@example.test>",
                  f"RCPT TO:<rcpt{i}@example.test>",
                  "DATA", f"Subject: message {i}", "",
                  f"line one of message {i}", "line two", ".",
                  "NOOP", "HELP", "RSET"]
    lines.append("QUIT")
    return ("\n".join(lines) + "\n").encode()


def db_problems(db):
    """integrity_check, read with bytes: raw invalid UTF-8 may be stored."""
    con = sqlite3.connect(db)
    try:
        con.text_factory = bytes
        rows = con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()
    if rows != [(b"ok",)]:
        return [f"PRAGMA integrity_check: {rows!r}"]
    return []


def import_spool(db):
    """`ehlo run` leaves its session in the spool beside the database
    (history/hist_spool_sink.c); any ehlo that opens the database imports
    it.  `ehlo history` does, so SQL read after it sees every session."""
    r = servers.run_ehlo(["history", "--db", db], timeout=30)
    if r.code != 0:
        raise AssertionError(f"ehlo history failed: {r.stderr}")


def recorded_lines(db, session_id=None):
    """The C:/S: lines of a session (the newest by default), as ehlo
    show prints them, with the session id."""
    import_spool(db)
    con = sqlite3.connect(db)
    try:
        con.text_factory = bytes
        if session_id is None:
            row = con.execute("SELECT max(id) FROM sessions").fetchone()
            session_id = row[0]
    finally:
        con.close()
    if session_id is None:
        return None, []
    r = subprocess.run([servers.ehlo_bin(), "show", "--db", db,
                        str(session_id)], capture_output=True, timeout=30,
                       env=dict(os.environ, NO_COLOR="1", TERM="dumb"))
    if r.returncode != 0:
        raise AssertionError(f"ehlo show {session_id} failed: "
                             f"{r.stderr.decode(errors='replace')}")
    lines = []
    for line in r.stdout.decode("utf-8", "replace").split("\n"):
        m = re.match(r"^\s+\d+\.\d+ ([CS]: .*?)(    \[[^]]*\])?$", line)
        if m:
            lines.append(m.group(1))
    return session_id, lines


def is_subsequence(shown, recorded):
    it = iter(recorded)
    return all(any(line == r for r in it) for line in shown)


class CrashTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.seed = int(os.environ.get("EHLO_CRASH_SEED") or
                        random.SystemRandom().randrange(1 << 31))
        print(f"test_crash: seed {self.seed} (EHLO_CRASH_SEED={self.seed} "
              "replays it)", flush=True)
        self.rng = random.Random(self.seed)
        self.home = tempfile.mkdtemp(prefix="ehlo-crash-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.db = os.path.join(self.home, "ehlo.db")
        self.env = dict(os.environ, NO_COLOR="1", TERM="dumb",
                        HOME=self.home, XDG_DATA_HOME=self.home,
                        XDG_CONFIG_HOME=self.home, XDG_STATE_HOME=self.home,
                        EHLO_DB=self.db)
        self.env.pop("EHLO_PASSWORD", None)
        self.server = TrickleServer(self.seed)
        self.addCleanup(self.server.stop)

    def run_and_kill(self, n):
        """One session killed after it has shown `kill_after` dialogue
        lines and a random extra moment.  Returns the lines shown."""
        kill_after = self.rng.randint(1, 40)
        extra = self.rng.uniform(0, 0.05)
        proc = subprocess.Popen(
            [servers.ehlo_bin(), "run", "--db", self.db, "--timeout", "20",
             f"127.0.0.1:{self.server.port}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=self.env)
        # stdin stays open: the session never ends on its own.
        proc.stdin.write(script(self.rng))
        proc.stdin.flush()
        out = b""
        deadline = time.monotonic() + 15
        fd = proc.stdout.fileno()
        while time.monotonic() < deadline:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk
            shown = sum(1 for line in out.split(b"\n")[:-1]
                        if DIALOGUE.match(line.decode("utf-8", "replace")))
            if shown >= kill_after:
                break
        time.sleep(extra)
        proc.send_signal(signal.SIGKILL)
        # What it wrote before it died is still in the pipe: shown too.
        out += proc.stdout.read()
        proc.wait()
        proc.stdin.close()
        proc.stderr.close()
        proc.stdout.close()
        self.assertEqual(proc.returncode, -signal.SIGKILL,
                         f"session {n} ended before the kill:\n"
                         f"{out.decode(errors='replace')}")
        return [line for line in out.decode("utf-8", "replace").split("\n")
                if DIALOGUE.match(line)]

    def test_kill_nine_in_twenty_line_mode_sessions(self):
        start = time.monotonic()
        total = 0
        for n in range(SESSIONS):
            shown = self.run_and_kill(n)
            problems = db_problems(self.db)
            sid, recorded = recorded_lines(self.db)
            if not is_subsequence(shown, recorded):
                missing = [line for line in shown if line not in recorded]
                problems.append(
                    f"{len(shown)} lines shown, {len(recorded)} recorded; "
                    f"missing: {missing[:3]!r}")
            if problems:
                self.fail(f"seed {self.seed}, session {n} (id {sid}):\n  " +
                          "\n  ".join(problems) + "\nshown:\n" +
                          "\n".join(shown[-10:]))
            total += len(shown)
        import_spool(self.db)
        con = sqlite3.connect(self.db)
        count = con.execute("SELECT count(*) FROM sessions").fetchone()[0]
        con.close()
        self.assertEqual(count, SESSIONS)
        print(f"test_crash: {SESSIONS} sessions killed, {total} lines "
              f"checked, {time.monotonic() - start:.1f} s", flush=True)

    def test_nothing_shown_while_the_commit_waits(self):
        """ehlo run into the database itself (not the spool: the database
        is left in rollback-journal mode, which the spool does not take),
        against a server that sends a 400-line greeting once this test
        holds the write lock.  While the lock is held the rows cannot be
        committed, so not one line of the greeting may be on ehlo's
        stdout; once it is let go they all are, and recorded."""
        subprocess.run([servers.ehlo_bin(), "history", "--db", self.db],
                       capture_output=True, timeout=30, check=True)
        con = sqlite3.connect(self.db, isolation_level=None)
        con.execute("PRAGMA journal_mode = DELETE")
        con.close()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        self.addCleanup(sock.close)
        accepted, go = threading.Event(), threading.Event()

        def serve():
            conn, _ = sock.accept()
            accepted.set()
            go.wait(10)
            greeting = "".join(f"220-greeting line {i} of a long one\r\n"
                               for i in range(400))
            conn.sendall((greeting + "220 ready\r\n").encode())
            f = conn.makefile("rb")
            for line in f:
                if line.strip().upper() == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    break
            conn.close()

        threading.Thread(target=serve, daemon=True).start()
        proc = subprocess.Popen(
            [servers.ehlo_bin(), "run", "--db", self.db, "--timeout", "20",
             f"127.0.0.1:{sock.getsockname()[1]}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=self.env)
        self.addCleanup(proc.kill)
        # Connected: the history is open (ehlo opens it first).
        self.assertTrue(accepted.wait(10), "ehlo did not connect")
        lock = sqlite3.connect(self.db, isolation_level=None, timeout=10)
        lock.execute("BEGIN IMMEDIATE")
        go.set()
        # Well inside ehlo's busy timeout (2 s): it waits, it does not
        # give up on the history.
        out = b""
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                out += chunk
        held = [line for line in out.decode("utf-8", "replace").split("\n")
                if DIALOGUE.match(line)]
        rows = lock.execute("SELECT count(*) FROM events").fetchone()[0]
        lock.execute("ROLLBACK")
        lock.close()
        self.assertEqual(held, [], f"{len(held)} lines shown while "
                         f"{rows} rows were committed")
        rest, err = proc.communicate(b"QUIT\n", timeout=30)
        self.assertEqual(proc.returncode, 0, err.decode(errors="replace"))
        self.assertNotIn(b"history disabled", err)
        shown = [line for line in (out + rest).decode().split("\n")
                 if DIALOGUE.match(line)]
        self.assertEqual(len(shown), 401 + 2, shown[-3:])
        _, recorded = recorded_lines(self.db)
        self.assertTrue(is_subsequence(shown, recorded),
                        f"{len(shown)} shown, {len(recorded)} recorded")

    def test_kill_nine_in_the_workbench(self):
        if shutil.which("tmux") is None:
            self.skipTest("tmux is not installed")
        env = {k: self.env[k] for k in ("HOME", "XDG_DATA_HOME",
                                         "XDG_CONFIG_HOME", "XDG_STATE_HOME",
                                         "EHLO_DB")}
        for n in range(2):
            t = tmux.Term([servers.ehlo_bin(),
                           f"127.0.0.1:{self.server.port}"], 120, 40, env=env)
            try:
                t.wait_for(r"S: 220 ", timeout=15)
                for cmd in ("EHLO wb.example.test",
                            "MAIL FROM:<a@example.test>",
                            "RCPT TO:<b@example.test>", "NOOP", "HELP"):
                    t.type(cmd)
                    t.send("Enter")
                    time.sleep(self.rng.uniform(0, 0.15))
                time.sleep(self.rng.uniform(0, 0.3))
                pid = workbench_pid(t.pane_pid())
                screen = t.screen()
                os.kill(pid, signal.SIGKILL)
                t.exit_status(timeout=5)
            finally:
                t.stop()
            self.assertEqual(db_problems(self.db), [])
            _, recorded = recorded_lines(self.db)
            on_screen = screen_lines(screen)
            self.assertTrue(on_screen, screen)
            missing = [line for line in on_screen
                       if not any(r.startswith(line) for r in recorded)]
            self.assertEqual(missing, [],
                             f"seed {self.seed}, workbench {n}: screen\n"
                             f"{screen}\nrecorded:\n" + "\n".join(recorded))

    def test_sigterm_and_sighup_close_the_workbench_session(self):
        if shutil.which("tmux") is None:
            self.skipTest("tmux is not installed")
        env = {k: self.env[k] for k in ("HOME", "XDG_DATA_HOME",
                                         "XDG_CONFIG_HOME", "XDG_STATE_HOME",
                                         "EHLO_DB")}
        for sig in (signal.SIGTERM, signal.SIGHUP):
            t = tmux.Term([servers.ehlo_bin(),
                           f"127.0.0.1:{self.server.port}"], 120, 40, env=env)
            try:
                t.wait_for(r"S: 220 ", timeout=15)
                t.type("EHLO wb.example.test")
                t.send("Enter")
                t.wait_for(r"S: 250 ", timeout=10)
                os.kill(workbench_pid(t.pane_pid()), sig)
                status = t.exit_status(timeout=10)
            finally:
                t.stop()
            self.assertIsNotNone(status, f"{sig.name}: the workbench "
                                 "did not exit")
            self.assertEqual(db_problems(self.db), [])
            con = sqlite3.connect(self.db)
            ended, exit_status = con.execute(
                "SELECT ended, exit_status FROM sessions "
                "ORDER BY id DESC LIMIT 1").fetchone()
            con.close()
            self.assertIsNotNone(ended, f"{sig.name}: session not ended")
            # The workbench records 0 today; line mode 128 + the signal.
            self.assertIn(exit_status, (0, 128 + sig), sig.name)
            self.assertIn(status, (0, 128 + sig), sig.name)


def screen_lines(screen):
    """The dialogue lines of a workbench screen: "C: ..." and "S: ...",
    perhaps after a time column, cut where the pane cuts them."""
    lines = []
    for row in screen.split("\n"):
        m = re.search(r"(?:^|\s)([CS]: \S.*?)\s*(?:│.*)?$", row)
        if m:
            lines.append(m.group(1).rstrip())
    return lines


def workbench_pid(pane_pid):
    """The ehlo process in the pane (the pane's shell runs it)."""
    pid = pane_pid
    for _ in range(5):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0]
        except FileNotFoundError:
            break
        if os.path.basename(argv0) == b"ehlo":
            return pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = f.read().split()
        except FileNotFoundError:
            break
        if not kids:
            break
        pid = int(kids[0])
    raise AssertionError("no ehlo process in the pane")


if __name__ == "__main__":
    servers.main()
