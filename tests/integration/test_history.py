"""The history store end to end: `ehlo run` records, `history`, `show`,
`export`, `replay --diff` read it back.

Every test writes to a database in its own temporary directory (EHLO_DB
or --db), never the user's home.  Servers: smtp-sink (a recording, a
slow reply for the kill -9 test, a second sink that rejects RCPT for the
replay diff), aiosmtpd (AUTH: no secret reaches the database or an
export), and two private Postfix instances that differ by one recipient
(the replay diff must report exactly that RCPT; needs root, skipped
otherwise).
"""

import hashlib
import json
import os
import shutil
import pty
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

import servers

TRANSACTION = servers.script("""
    EHLO client.example.test
    MAIL FROM:<alice@example.test>
    RCPT TO:<bob@example.test>
    DATA
    Subject: recorded

    hello history
    .
    NOOP
    """)


class SinkHistoryBase(servers.EhloTestCase):
    """smtp-sink for the class, a database per test (no tests here:
    test_history_housekeeping.py builds on it too)."""

    @classmethod
    def setUpClass(cls):
        cls.sink = servers.SmtpSink()
        cls.addClassCleanup(cls.sink.stop)
        cls.server = f"127.0.0.1:{cls.sink.port}"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ehlo-hist-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.db = os.path.join(self.tmp, "sub", "ehlo.db")

    def run_db(self, args, script_text="", **kwargs):
        env = dict(kwargs.pop("env", {}) or {}, EHLO_DB=self.db)
        return self.ehlo(args, script_text, env=env, **kwargs)

    def sessions(self):
        r = self.run_db(["history", "--json"])
        self.assertExit(r, 0)
        return [json.loads(line) for line in r.stdout.splitlines()]


class HistoryTest(SinkHistoryBase):

    def rows(self, session_id):
        """The session's rows as line mode shows them ("C: ...")."""
        with sqlite3.connect(self.db) as db:
            rows = db.execute("SELECT dir, text, flags FROM events WHERE "
                              "session_id = ? ORDER BY seq",
                              (session_id,)).fetchall()
        prefix = {8: "warning: ", 16: "error: "}
        return [f"{d}: {prefix.get(flags & 24, '') if d == '*' else ''}{t}"
                for d, t, flags in rows]

    # -- the spool (history/hist_spool_*.c) ---------------------------------

    def spool_files(self, suffix=".spool"):
        d = self.db + "-spool"
        if not os.path.isdir(d):
            return []
        return sorted(n for n in os.listdir(d) if n.endswith(suffix))

    def test_run_spools_and_the_next_reader_imports(self):
        """The first run makes the database; later runs leave it alone
        and write a spool file each, 0600 in a 0700 directory; the next
        ehlo that opens the database imports them, in start order, with
        the same rows line mode showed."""
        r = self.run_db(["run", self.server], TRANSACTION)
        self.assertExit(r, 0)
        self.assertEqual(self.spool_files(), [])
        before = os.stat(self.db)
        outs = []
        for i in range(3):
            script = TRANSACTION.replace("EHLO client.example.test",
                                         f"EHLO c{i}.example.test")
            r = self.run_db(["run", self.server], script)
            self.assertExit(r, 0)
            self.assertEqual(r.stderr, "")
            outs.append(r.stdout)
        after = os.stat(self.db)
        self.assertEqual((before.st_mtime_ns, before.st_size),
                         (after.st_mtime_ns, after.st_size),
                         "a spooled run wrote the database")
        files = self.spool_files()
        self.assertEqual(len(files), 3)
        spool = self.db + "-spool"
        self.assertEqual(os.stat(spool).st_mode & 0o777, 0o700)
        for name in files:
            self.assertEqual(os.stat(os.path.join(spool, name)).st_mode
                             & 0o777, 0o600)
        got = self.sessions()
        self.assertEqual([s["id"] for s in got], [4, 3, 2, 1])
        self.assertEqual(self.spool_files(), [])
        for i, (sid, out) in enumerate(zip((2, 3, 4), outs)):
            shown = [line for line in out.splitlines()
                     if line[:3] in ("C: ", "S: ", "*: ")]
            # Numbered in start order: run i is session i + 2.
            self.assertIn(f"C: EHLO c{i}.example.test", shown)
            self.assertEqual(shown, self.rows(sid))
        # Searchable like any session.
        r = self.run_db(["history", "--search", "hello history"])
        self.assertExit(r, 0)
        self.assertEqual(len([ln for ln in r.stdout.splitlines()
                              if ln.strip()[:1].isdigit()]), 4)

    def test_send_spools_too(self):
        """`ehlo send` records like `ehlo run`: the second send is
        spooled, and imported it holds every line the send showed."""
        body = os.path.join(self.tmp, "note.txt")
        with open(body, "w") as f:
            f.write("first line of the note\nsecond\n")
        for subject in ("one", "two"):
            r = self.run_db(["send", self.server, "--from", "a@example.test",
                             "--to", "b@example.test", "--subject", subject,
                             "--body", body])
            self.assertExit(r, 0)
        self.assertEqual(len(self.spool_files()), 1)
        got = self.sessions()
        self.assertEqual(len(got), 2)
        self.assertEqual(got[0]["outcome"], "ok")
        shown = [line for line in r.stdout.splitlines()
                 if line[:3] in ("C: ", "S: ", "*: ")]
        self.assertTrue(any("the server accepted the message" in line
                            for line in shown), shown)
        self.assertEqual(shown, self.rows(got[0]["id"]))

    def test_concurrent_runs_all_recorded(self):
        """Eight runs at once each write their own spool file: no lock
        waits, nothing lost, nothing twice."""
        r = self.run_db(["run", self.server], "NOOP\n")
        self.assertExit(r, 0)
        env = dict(os.environ, EHLO_DB=self.db, NO_COLOR="1")
        procs = [subprocess.Popen(
            [servers.ehlo_bin(), "run", self.server],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env) for _ in range(8)]
        # Every script is in before any ends: the runs overlap.
        for i, p in enumerate(procs):
            p.stdin.write(f"EHLO c{i}.example.test\nNOOP\n".encode())
            p.stdin.close()
        for p in procs:
            out = p.stdout.read()
            err = p.stderr.read()
            p.wait(timeout=60)
            p.stdout.close()
            p.stderr.close()
            self.assertEqual(p.returncode, 0, err)
            self.assertEqual(err, b"")
            self.assertIn(b"S: 250 ", out)
        # Each in its own spool file; none touched the database.
        self.assertEqual(len(self.spool_files()), 8)
        got = self.sessions()
        self.assertEqual(len(got), 9)
        self.assertEqual(sorted(s["id"] for s in got), list(range(1, 10)))
        with sqlite3.connect(self.db) as db:
            helos = sorted(t for (t,) in db.execute(
                "SELECT text FROM events WHERE text LIKE 'EHLO c%'"))
        self.assertEqual(helos, [f"EHLO c{i}.example.test"
                                 for i in range(8)])
        # A second reader finds nothing more to import.
        self.assertEqual(len(self.sessions()), 9)

    def test_64_waiting_files_bring_the_import(self):
        """The spool stays short: the run that finds 64 files waiting
        (its own included) imports them all as it ends."""
        r = self.run_db(["run", self.server], "NOOP\n")
        self.assertExit(r, 0)
        for i in range(63):
            r = self.run_db(["run", self.server], "NOOP\n")
            self.assertExit(r, 0)
        self.assertEqual(len(self.spool_files()), 63)
        r = self.run_db(["run", self.server], "NOOP\n")
        self.assertExit(r, 0)
        self.assertEqual(r.stderr, "")
        self.assertEqual(self.spool_files(), [])
        with sqlite3.connect(self.db) as db:
            (n,), = db.execute("SELECT count(*) FROM sessions")
        self.assertEqual(n, 65)

    def test_locked_database_keeps_the_spool(self):
        """A database another program holds locked: the import waits
        its turn, gives up with a warning, and the files wait for the
        next open; the history is still listed."""
        r = self.run_db(["run", self.server], "NOOP\n")
        self.assertExit(r, 0)
        r = self.run_db(["run", self.server], "NOOP\n")
        self.assertExit(r, 0)
        self.assertEqual(len(self.spool_files()), 1)
        holder = sqlite3.connect(self.db, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            r = self.run_db(["history"])
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        self.assertExit(r, 0)
        # Listed all the same: the first session, not the waiting one.
        self.assertLine(r, r"^\s+1\s+\d{4}-\d\d-\d\d ")
        self.assertNoLine(r, r"^\s+2\s+\d{4}-")
        self.assertLine(r, r"^ehlo: 1 spool file\(s\) in .* not imported "
                           r"yet: .*locked", stream="stderr")
        self.assertNotIn("still being recorded", r.stderr)
        self.assertEqual(len(self.spool_files()), 1)
        self.assertEqual(len(self.sessions()), 2)
        self.assertEqual(self.spool_files(), [])

    def test_spool_directory_not_ours_is_not_used(self):
        """A spool directory that is a symbolic link (someone else's
        place, perhaps) is neither written nor read: the run records
        straight into the database."""
        r = self.run_db(["run", self.server], "NOOP\n")
        self.assertExit(r, 0)
        elsewhere = os.path.join(self.tmp, "elsewhere")
        os.mkdir(elsewhere, 0o700)
        os.symlink(elsewhere, self.db + "-spool")
        r = self.run_db(["run", self.server], "NOOP\n")
        self.assertExit(r, 0)
        self.assertEqual(os.listdir(elsewhere), [])
        with sqlite3.connect(self.db) as db:
            (n,), = db.execute("SELECT count(*) FROM sessions")
        self.assertEqual(n, 2)
        # A file planted there is not imported either.
        with open(os.path.join(elsewhere, "0-1-1.spool"), "wb") as f:
            f.write(b"EHLOSPL1")
        r = self.run_db(["history"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^ehlo: history spool .* is not a directory "
                           r"of yours; nothing in it is imported$",
                        stream="stderr")
        self.assertEqual(os.listdir(elsewhere), ["0-1-1.spool"])

    def test_damaged_spool_file_is_kept(self):
        r = self.run_db(["run", self.server], "NOOP\n")
        self.assertExit(r, 0)
        r = self.run_db(["run", self.server], TRANSACTION)
        self.assertExit(r, 0)
        shown = [line for line in r.stdout.splitlines()
                 if line[:3] in ("C: ", "S: ", "*: ")]
        [name] = self.spool_files()
        path = os.path.join(self.db + "-spool", name)
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            # One octet inside a known line's text: its check fails.
            at = data.rindex(b"hello history")  # the row, not the body
            data[at + 3] ^= 0x5A
            f.seek(0)
            f.write(data)
        r = self.run_db(["history"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^ehlo: history spool .*: a damaged record at "
                           r"octet \d+; what came before it is in the "
                           r"history, the file is kept as .*\.damaged$",
                        stream="stderr")
        self.assertEqual(self.spool_files(), [])
        self.assertEqual(len(self.spool_files(".damaged")), 1)
        with open(path + ".damaged", "rb") as f:
            self.assertEqual(f.read(), bytes(data))
        # What came before the damaged line is in the history.
        got = self.sessions()
        self.assertEqual(len(got), 2)
        stored = self.rows(got[0]["id"])
        cut = shown.index("C: hello history")
        self.assertEqual(stored, shown[:cut])
        # Reported once: the kept file is not read again.
        r = self.run_db(["history"])
        self.assertEqual(r.stderr, "")

    # -- recording and reading back -----------------------------------------

    def test_record_list_show_export(self):
        r = self.run_db(["run", self.server], TRANSACTION)
        self.assertExit(r, 0)
        st = os.stat(self.db)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(self.db)).st_mode & 0o777,
                         0o700)
        [s] = self.sessions()
        self.assertEqual(f'{s["server"]}:{s["port"]}', self.server)
        self.assertEqual(s["exit"], 0)
        self.assertEqual(s["outcome"], "ok")

        # Every dialogue line of the output is a row, in order.
        shown = [line for line in r.stdout.splitlines()
                 if line[:3] in ("C: ", "S: ", "*: ")]
        self.assertEqual(shown, self.rows(s["id"]))

        r = self.run_db(["show", str(s["id"])])
        self.assertExit(r, 0)
        self.assertLine(r, r"^server: +127\.0\.0\.1:\d+")
        self.assertLine(r, r"^ +\d+\.\d{3} S: 250 2\.1\.5 Ok +\[RCPT 250 "
                           r"2\.1\.5, \d+\.\d ms\]$")
        self.assertLine(r, r"^ +\d+\.\d{3} C: hello history$")
        self.assertLine(r, r"^caps: +PIPELINING")

        r = self.run_db(["show", f"#{s['id']}", "--json"])
        self.assertExit(r, 0)
        full = json.loads(r.stdout)
        replies = [e for e in full["events"] if e["code"] is not None]
        self.assertEqual([e["code"] for e in replies],
                         [220, 250, 250, 250, 354, 250, 250, 221])
        self.assertEqual(replies[3]["stage"], "RCPT")
        self.assertEqual(replies[3]["enhanced"], "2.1.5")
        self.assertIn("PIPELINING", full["capabilities"])
        self.assertEqual(full["bodies"][0]["kind"], "inline")
        self.assertTrue(full["bodies"][0]["kept"])
        self.assertEqual(full["bodies"][0]["sha256"], hashlib.sha256(
            b"Subject: recorded\r\n\r\nhello history\r\n").hexdigest())
        r = self.run_db(["show", str(s["id"])])
        self.assertLine(r, r"\(message body: inline, 36 octets, 3 lines, "
                           r"SHA-256 " + full["bodies"][0]["sha256"] +
                           r", content kept\)")

        r = self.run_db(["export", str(s["id"])])
        self.assertExit(r, 0)
        self.assertLine(r, r"^started: .* UTC")
        self.assertLine(r, r"^ +\d+\.\d{3} C: RCPT TO:<bob@example\.test>$")
        r = self.run_db(["export", str(s["id"]), "--format", "json"])
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout)["id"], s["id"])

    def test_search_and_limit(self):
        self.assertExit(self.run_db(["run", self.server],
                                    "EHLO a.example\nVRFY findme-one\n"), 0)
        self.assertExit(self.run_db(["run", self.server],
                                    "EHLO a.example\nNOOP\n"), 0)
        ids = [s["id"] for s in self.sessions()]
        self.assertEqual(len(ids), 2)
        self.assertGreater(ids[0], ids[1])  # newest first
        r = self.run_db(["history", "--json", "--search", "findme-one"])
        self.assertEqual([json.loads(x)["id"] for x in r.stdout.splitlines()],
                         [ids[1]])
        r = self.run_db(["history", "--json", "--limit", "1"])
        self.assertEqual(len(r.stdout.splitlines()), 1)
        r = self.run_db(["history"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^ +ID +STARTED +SERVER +OUTCOME +LABEL$")

    # -- replies split across reads ------------------------------------------

    def split_reply_server(self, pause):
        """A one-connection server whose multi-line replies arrive in two
        writes, `pause` seconds apart: the recorder sees the first lines
        in one turn and the reply's end in a later one."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        self.addCleanup(srv.close)

        def serve():
            conn, _ = srv.accept()
            with conn, conn.makefile("rb") as f:
                conn.sendall(b"220 split.example ready\r\n")
                f.readline()  # EHLO
                conn.sendall(b"250-split.example\r\n250-PIPELINING\r\n")
                time.sleep(pause)
                conn.sendall(b"250 8BITMIME\r\n")
                f.readline()  # NOOP
                conn.sendall(b"250-first half\r\n")
                time.sleep(pause)
                conn.sendall(b"250 2.0.0 second half\r\n")
                f.readline()  # QUIT
                conn.sendall(b"221 2.0.0 bye\r\n")

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        self.addCleanup(t.join, 5)
        return f"127.0.0.1:{srv.getsockname()[1]}"

    SPLIT_SCRIPT = "EHLO client.example\nNOOP\nQUIT\n"
    SPLIT_ROWS = [
        ("S", "220 split.example ready", 220, None, 1),
        ("C", "EHLO client.example", None, None, 0),
        ("S", "250-split.example", None, None, 0),
        ("S", "250-PIPELINING", None, None, 0),
        ("S", "250 8BITMIME", 250, None, 1),
        ("C", "NOOP", None, None, 0),
        ("S", "250-first half", None, None, 0),
        ("S", "250 2.0.0 second half", 250, None, 1),  # enhanced: first line
        ("C", "QUIT", None, None, 0),
        ("S", "221 2.0.0 bye", 221, "2.0.0", 1),
    ]

    def split_rows(self):
        with sqlite3.connect(self.db) as db:
            rows = db.execute(
                "SELECT dir, text, code, enhanced, flags & 64 != 0, seq "
                "FROM events ORDER BY seq").fetchall()
        self.assertEqual([r[5] for r in rows], list(range(1, len(rows) + 1)))
        return [r[:5] for r in rows if r[0] in "CS"]

    def test_reply_split_across_reads(self):
        """A reply's code is stored on its last line even when its lines
        came in different reads (the first ones already written)."""
        server = self.split_reply_server(0.3)
        r = self.run_db(["run", server], self.SPLIT_SCRIPT)
        self.assertExit(r, 0)
        self.assertEqual(self.split_rows(), self.SPLIT_ROWS)

    def test_reply_recorded_when_output_is_a_terminal(self):
        """On a terminal each line is committed as it is printed, before
        the reply it ends is known: the code still reaches the row."""
        server = self.split_reply_server(0.1)
        master, slave = pty.openpty()
        env = dict(os.environ, NO_COLOR="1", TERM="dumb", EHLO_DB=self.db)
        with tempfile.TemporaryFile() as stdin:
            stdin.write(self.SPLIT_SCRIPT.encode())
            stdin.seek(0)
            proc = subprocess.Popen([servers.ehlo_bin(), "run", server],
                                    stdin=stdin, stdout=slave,
                                    stderr=subprocess.PIPE, env=env)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        self.assertEqual(proc.wait(timeout=30), 0, proc.stderr.read())
        proc.stderr.close()
        self.assertIn(b"S: 250 2.0.0 second half", out)
        self.assertEqual(self.split_rows(), self.SPLIT_ROWS)

    def test_bad_ids(self):
        self.assertExit(self.run_db(["run", self.server], "NOOP\n"), 0)
        for cmd in ("show", "export", "replay"):
            r = self.run_db([cmd, "9999"])
            self.assertExit(r, 2)
            self.assertLine(r, r"no session #9999", stream="stderr")
            r = self.run_db([cmd, "abc"])
            self.assertExit(r, 2)
            self.assertLine(r, r'"abc" is not a session number',
                            stream="stderr")

    def test_no_history_creates_nothing(self):
        r = self.run_db(["run", "--no-history", self.server], "NOOP\n")
        self.assertExit(r, 0)
        self.assertFalse(os.path.exists(self.db))
        self.assertFalse(os.path.exists(os.path.dirname(self.db)))
        r = self.run_db(["history", "--json"])
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "")

    def test_corrupt_database_session_still_runs(self):
        os.makedirs(os.path.dirname(self.db))
        garbage = b"not a database\n" * 100
        with open(self.db, "wb") as f:
            f.write(garbage)
        r = self.run_db(["run", self.server], "NOOP\n")
        self.assertExit(r, 0)
        self.assertLine(r, r"^S: 250 ")
        self.assertLine(r, r"^ehlo: history disabled: .*not an SQLite "
                           r"database", stream="stderr")
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), garbage)
        r = self.run_db(["history"])
        self.assertExit(r, 2)

    # -- crash safety -------------------------------------------------------

    def kill_9_after_rcpt(self, spool):
        """A run killed after showing RCPT: what it showed is in the
        history as an unfinished session, whichever sink took it.  The
        first run creates the database and writes into it; once it
        exists, runs write the spool, which the next reader imports (a
        file still held by its running writer is left alone)."""
        if spool:
            r = self.run_db(["run", self.server], "NOOP\n")
            self.assertExit(r, 0)
        slow = servers.SmtpSink(["-W", "RCPT:30"])
        self.addCleanup(slow.stop)
        env = dict(os.environ, EHLO_DB=self.db, NO_COLOR="1")
        proc = subprocess.Popen(
            [servers.ehlo_bin(), "run", f"127.0.0.1:{slow.port}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        proc.stdin.write(TRANSACTION.encode())
        proc.stdin.close()
        shown = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            line = proc.stdout.readline().decode()
            if not line:
                break
            shown.append(line.rstrip("\n"))
            if line.startswith("C: RCPT"):
                break
        self.assertTrue(shown and shown[-1].startswith("C: RCPT"), shown)
        self.assertEqual(len(self.spool_files()), 1 if spool else 0)
        if spool:
            # Still running: left alone, and said so.
            r = self.run_db(["history"])
            self.assertExit(r, 0)
            self.assertLine(r, r"^ehlo: 1 session\(s\) still being "
                               r"recorded by a running ehlo",
                            stream="stderr")
            self.assertEqual(len(self.spool_files()), 1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        with sqlite3.connect(self.db) as db:
            self.assertEqual(db.execute("PRAGMA integrity_check")
                             .fetchone()[0], "ok")
        got = self.sessions()
        self.assertEqual(len(got), 2 if spool else 1)
        self.assertEqual(got[0]["outcome"], "unfinished", got[0])
        stored = self.rows(got[0]["id"])
        for line in shown:
            self.assertIn(line, stored)
        self.assertEqual(self.spool_files(), [])

    def test_kill_9_loses_nothing_shown(self):
        self.kill_9_after_rcpt(spool=False)

    def test_kill_9_into_the_spool(self):
        self.kill_9_after_rcpt(spool=True)

    # -- replay -------------------------------------------------------------

    def record(self, script_text, server=None, **kwargs):
        r = self.run_db(["run", server or self.server], script_text,
                        **kwargs)
        return r, self.sessions()[0]["id"]

    def test_replay_same_server_no_diff(self):
        r, sid = self.record(TRANSACTION)
        self.assertExit(r, 0)
        r = self.run_db(["replay", str(sid), "--diff"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: hello history$")
        self.assertLine(r, r"^diff: no differences: 8 replies")
        latest = self.sessions()[0]
        self.assertEqual(latest["replay_of"], sid)
        self.assertNotEqual(latest["id"], sid)

    def test_replay_other_server_differs(self):
        _, sid = self.record(TRANSACTION)
        strict = servers.SmtpSink(["-f", "RCPT"])
        self.addCleanup(strict.stop)
        r = self.run_db(["replay", str(sid), f"127.0.0.1:{strict.port}",
                         "--diff"])
        self.assertExit(r, 1)
        self.assertLine(r, r"^diff: RCPT TO:<bob@example\.test>$")
        self.assertLine(r, r"^  - 250 2\.1\.5 Ok$")
        self.assertLine(r, r"^  \+ 5\d\d ")
        r = self.run_db(["replay", str(sid), f"127.0.0.1:{strict.port}",
                         "--diff", "--json"])
        self.assertExit(r, 1)
        diff = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual(diff["type"], "diff")
        # Behaviour changes first (issue 20 item 11), then capabilities:
        # -f implies -p, so the EHLO reply lost PIPELINING, which counts
        # too, as a set difference.
        kinds = [(d["command"], d["kind"]) for d in diff["differences"]]
        self.assertEqual(kinds[0], ("RCPT TO:<bob@example.test>",
                                    "behaviour"))
        ehlo = [d for d in diff["differences"] if d["kind"] ==
                "capabilities"]
        self.assertEqual([(d["command"], d["removed"]) for d in ehlo],
                         [("EHLO client.example.test", ["PIPELINING"])])
        self.assertLess(kinds.index(("RCPT TO:<bob@example.test>",
                                     "behaviour")),
                        kinds.index(("EHLO client.example.test",
                                     "capabilities")))
        rcpt = diff["differences"][0]
        self.assertEqual(rcpt["original"]["code"], 250)
        self.assertEqual(rcpt["replay"]["code"] // 100, 5)

    def test_replay_body_file_warns_when_changed(self):
        body = os.path.join(self.tmp, "msg.eml")
        with open(body, "w") as f:
            f.write("Subject: file\n\nfirst version\n")
        r, sid = self.record(servers.script(f"""
            EHLO client.example.test
            MAIL FROM:<alice@example.test>
            RCPT TO:<bob@example.test>
            /body {body}
            """))
        self.assertExit(r, 0)
        r = self.run_db(["show", str(sid), "--json"])
        [b] = json.loads(r.stdout)["bodies"]
        self.assertEqual(b["kind"], "file")
        self.assertEqual(b["path"], body)
        self.assertEqual(len(b["sha256"]), 64)
        r = self.run_db(["replay", str(sid), "--diff"])
        self.assertExit(r, 0)
        self.assertNoLine(r, r"changed since", stream="stderr")
        with open(body, "a") as f:
            f.write("second version\n")
        r = self.run_db(["replay", str(sid)])
        self.assertExit(r, 0)
        self.assertLine(r, r"msg\.eml changed since session #%d" % sid,
                        stream="stderr")
        os.unlink(body)
        r = self.run_db(["replay", str(sid)])
        self.assertExit(r, 2)
        self.assertLine(r, r"cannot replay: .*gone", stream="stderr")


class HistoryAuthTest(servers.EhloTestCase):
    """AUTH: the secret is in neither the database nor an export, and
    replay asks for it again (EHLO_PASSWORD)."""

    USER, SECRET = "alice", "alice-Hist0ry-secret"

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        cls.ai = servers.Aiosmtpd(user=cls.USER, password=cls.SECRET)
        cls.addClassCleanup(cls.ai.stop)

    def test_secret_never_stored(self):
        with tempfile.TemporaryDirectory(prefix="ehlo-hist-") as tmp:
            db = os.path.join(tmp, "ehlo.db")
            env = {"EHLO_DB": db, "EHLO_PASSWORD": self.SECRET}
            for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
                r = self.ehlo(["run", f"127.0.0.1:{self.ai.port}"],
                              f"EHLO me\n/auth {mech} {self.USER}\nNOOP\n",
                              env=env)
                self.assertExit(r, 0)
            # A hand-typed AUTH PLAIN with its initial response too.
            forms = servers.secret_forms(self.USER, self.SECRET)
            r = self.ehlo(["run", f"127.0.0.1:{self.ai.port}"],
                          f"EHLO me\nAUTH PLAIN {forms[2]}\n", env=env)
            self.assertExit(r, 0)
            # The spool files, before anything imports them.
            spooled = os.listdir(db + "-spool")
            self.assertEqual(len(spooled), 3, spooled)
            for name in spooled:
                with open(os.path.join(db + "-spool", name), "rb") as f:
                    data = f.read()
                for form in forms:
                    self.assertNotIn(form.encode(), data,
                                     f"{name} holds {form!r}")
            outputs = []
            for sid in range(1, 5):
                for args in (["export", str(sid)],
                             ["export", str(sid), "--format", "json"],
                             ["show", str(sid), "--json"]):
                    r = self.ehlo(args, env=env)
                    self.assertExit(r, 0)
                    self.assertNoSecret(r, self.USER, self.SECRET)
                    outputs.append(r.stdout)
            self.assertTrue(any("user=alice" in o for o in outputs))
            r = self.ehlo(["replay", "1", "--diff"], env=env)
            self.assertExit(r, 0)
            self.assertLine(r, r"^C: AUTH PLAIN")
            self.assertNoSecret(r, self.USER, self.SECRET)
            # Every file: the database and its companions, spool too.
            for top, _, names in os.walk(tmp):
                for name in names:
                    with open(os.path.join(top, name), "rb") as f:
                        data = f.read()
                    for form in forms:
                        self.assertNotIn(form.encode(), data,
                                         f"{name} holds {form!r}")


class HistoryPostfixTest(servers.EhloTestCase):
    """Replay --diff across a configuration change: the second Postfix
    no longer has bob; exactly that RCPT must differ."""

    @classmethod
    def setUpClass(cls):
        servers.require_root()
        users = {"alice": "alice-secret-1", "bob": "bob-secret-2"}
        cls.before = servers.Postfix(users)
        cls.addClassCleanup(cls.before.stop)
        cls.after = servers.Postfix({"alice": "alice-secret-1"})
        cls.addClassCleanup(cls.after.stop)

    def test_replay_reports_the_removed_recipient(self):
        with tempfile.TemporaryDirectory(prefix="ehlo-hist-") as tmp:
            env = {"EHLO_DB": os.path.join(tmp, "ehlo.db")}
            r = self.ehlo(["run", f"127.0.0.1:{self.before.port}"],
                          servers.script("""
                EHLO client.example.test
                MAIL FROM:<alice@example.test>
                RCPT TO:<alice@example.test>
                RCPT TO:<bob@example.test>
                DATA
                Subject: before and after

                one recipient less
                .
                """), env=env)
            self.assertExit(r, 0)
            r = self.ehlo(["replay", "1", "--diff"], env=env)
            self.assertExit(r, 0)
            self.assertLine(r, r"^diff: no differences")
            r = self.ehlo(["replay", "1", f"127.0.0.1:{self.after.port}",
                           "--diff"], env=env)
            self.assertExit(r, 1)
            diffs = [x for x in r.stdout.splitlines()
                     if x.startswith("diff: ")]
            self.assertEqual(diffs, [
                "diff: RCPT TO:<bob@example.test>",
                "diff: 1 difference between session #1 and its replay #3"],
                self.transcript(r))
            self.assertLine(r, r"^  \+ 550 5\.1\.1 ")


if __name__ == "__main__":
    servers.main()
