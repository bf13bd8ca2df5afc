"""Hostile local input and signals for `ehlo run`.

- Scripts of binary garbage, a 10 MB line, NUL bytes and invalid UTF-8:
  a clear message naming the script line, no crash, nothing raw on the
  terminal.
- A damaged history database (garbage, a truncated real database, a
  directory in its place, absurd rows): `ehlo: history disabled: ...`
  once, the session still runs, the file is never deleted or rewritten;
  `history` and `show` give a clear message.
- SIGTERM and SIGHUP during a session: a prompt, clean exit (128 +
  signal), the session closed in the database with that status.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))

import hostile  # noqa: E402
import servers  # noqa: E402

# A server that greets and answers every line with 250 (QUIT with 221).
ECHO_CASE = r"""
what a server that accepts anything
send "220 patient.example.test ESMTP\r\n"
expect-line ^EHLO
send "250 patient.example.test\r\n"
read-line
send "250 ok\r\n"
read-line
send "250 ok\r\n"
read-line
send "221 bye\r\n"
exit 0
"""

SILENT_CASE = r"""
what a server that greets, then says nothing
send "220 silent.example.test ESMTP\r\n"
expect-line ^EHLO
sleep 20
exit 3
"""


def read(path):
    with open(path, "rb") as f:
        return f.read()


def make_case(tmp, name, text):
    path = os.path.join(tmp, name + ".case")
    with open(path, "w") as f:
        f.write(text)
    return hostile.Case(path)


class HostileInputTest(servers.EhloTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ehlo-hostile-input-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.db = os.path.join(self.tmp, "ehlo.db")

    def run_against(self, text, script, env=None, args=()):
        server = hostile.Server(make_case(self.tmp, "srv", text))
        try:
            r = self.ehlo(["run", "--timeout", "3", *args,
                           f"127.0.0.1:{server.port}"], script,
                          env=dict(env or {}, EHLO_DB=self.db))
        finally:
            server.stop()
        self.assertNotIn(r.code, (-6, -11, 134, 139), self.transcript(r))
        self.assertIn(r.code, (0, 1, 2, 3), self.transcript(r))
        self.assertEqual(hostile.output_problems(
            r.stdout.encode("utf-8", "surrogateescape")), [],
            self.transcript(r))
        return r

    # -- scripts --------------------------------------------------------------

    def test_binary_garbage_script(self):
        garbage = bytes(range(256)) * 64 + b"\n\xff\xfe\x00\x1b[2J\n"
        r = self.run_against(ECHO_CASE, b"EHLO me\n" + garbage)
        self.assertExit(r, 2)
        self.assertLine(r, r"^ehlo: stdin:\d+: ", "stderr")

    def test_ten_megabyte_line(self):
        r = self.run_against(ECHO_CASE,
                             b"EHLO me\nNOOP " + b"x" * (10 << 20) + b"\n")
        self.assertIn(r.code, (1, 2, 3))
        self.assertLine(r, r"^ehlo: ", "stderr")
        self.assertLess(len(r.stdout), 1 << 20, "the line was echoed")

    def test_nul_and_invalid_utf8(self):
        r = self.run_against(ECHO_CASE,
                             b"EHLO me\nNOOP a\x00b\nVRFY \xc3\x28\xed\xa0\x80"
                             b"\xe2\x80\xae\n")
        self.assertExit(r, 2)
        self.assertLine(r, r"(?i)NUL|CR, LF", "stderr")

    def test_script_file_that_is_a_directory(self):
        server = hostile.Server(make_case(self.tmp, "srv", ECHO_CASE))
        try:
            r = self.ehlo(["run", f"127.0.0.1:{server.port}", self.tmp],
                          env={"EHLO_DB": self.db})
        finally:
            server.stop()
        self.assertExit(r, 2)
        self.assertLine(r, r"^ehlo: ", "stderr")

    # -- a damaged database ---------------------------------------------------

    def damaged(self, content):
        with open(self.db, "wb") as f:
            f.write(content)
        before = read(self.db)
        r = self.run_against(ECHO_CASE, "EHLO me\nNOOP\n")
        self.assertExit(r, 0)
        self.assertLine(r, r"^ehlo: history disabled: ", "stderr")
        self.assertEqual(r.stderr.count("history disabled"), 1)
        self.assertTrue(os.path.exists(self.db), "the database was deleted")
        self.assertEqual(read(self.db), before,
                         "the damaged database was rewritten")
        for args in (["history"], ["show", "1"]):
            r = self.ehlo(args, env={"EHLO_DB": self.db})
            self.assertIn(r.code, (1, 2, 3), self.transcript(r))
            self.assertLine(r, r"^ehlo: ", "stderr")

    def test_database_of_garbage(self):
        self.damaged(os.urandom(8192))

    def test_database_with_a_sqlite_header_then_garbage(self):
        self.damaged(b"SQLite format 3\x00" + b"\x10\x00\x01\x01" +
                     os.urandom(4096 * 3))

    def test_truncated_database(self):
        self.run_against(ECHO_CASE, "EHLO me\nNOOP\n")
        with open(self.db, "rb") as f:
            data = f.read()
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.db + suffix):
                os.remove(self.db + suffix)
        self.damaged(data[:len(data) // 2 + 100] +
                     b"\xde\xad" * 2000)

    def test_absurd_rows(self):
        """A well-formed database whose rows make no sense: huge and
        negative numbers, text with escape sequences, NULs where text is
        expected.  history and show must print them escaped, not crash."""
        self.run_against(ECHO_CASE, "EHLO me\nNOOP\n")
        with sqlite3.connect(self.db) as db:
            tables = [r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")]
            self.assertIn("events", tables)
            cols = [r[1] for r in db.execute("PRAGMA table_info(events)")]
            if "text" in cols:
                db.execute("UPDATE events SET text = ?",
                           ("\x1b]0;PWNED\x07\x1b[2J\x9b" + "y" * 100000,))
            for col in cols:
                if col in ("seq", "session_id", "id", "text", "dir"):
                    continue
                try:
                    db.execute(f"UPDATE events SET {col} = ?", (-2**63,))
                except sqlite3.Error:
                    pass
            try:
                db.execute("UPDATE sessions SET started = ?, exit = ?",
                           (2**62, -999999))
            except sqlite3.Error:
                pass
        for args in (["history"], ["history", "--json"], ["show", "1"],
                     ["show", "1", "--json"], ["export", "1"]):
            r = self.ehlo(args, env={"EHLO_DB": self.db})
            self.assertIn(r.code, (0, 1, 2), self.transcript(r))
            self.assertEqual(hostile.output_problems(
                r.stdout.encode("utf-8", "surrogateescape")), [],
                f"{args}: " + self.transcript(r))

    def test_export_escapes_a_hostile_server_name_once(self):
        self.run_against(ECHO_CASE, "EHLO me\nNOOP\n")
        with sqlite3.connect(self.db) as db:
            db.execute("UPDATE sessions SET server = ?", ("mx\x1bevil",))
        for fmt in ("script",):
            r = self.ehlo(["export", "1", "--format", fmt],
                          env={"EHLO_DB": self.db})
            self.assertExit(r, 0)
            self.assertIn("mx\\eevil", r.stdout, self.transcript(r))
            self.assertNotIn("\\\\e", r.stdout, self.transcript(r))
            self.assertNotIn("\x1b", r.stdout)

    def test_database_path_is_a_directory(self):
        os.makedirs(self.db)
        r = self.run_against(ECHO_CASE, "EHLO me\nNOOP\n")
        self.assertExit(r, 0)
        self.assertLine(r, r"^ehlo: history disabled: ", "stderr")
        self.assertTrue(os.path.isdir(self.db))

    # -- signals --------------------------------------------------------------

    def test_sigterm_and_sighup(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with self.subTest(signal=sig.name):
                if os.path.exists(self.db):
                    os.remove(self.db)
                server = hostile.Server(make_case(self.tmp, "silent",
                                                  SILENT_CASE))
                env = dict(os.environ, EHLO_DB=self.db, NO_COLOR="1")
                p = subprocess.Popen(
                    [servers.ehlo_bin(), "run", f"127.0.0.1:{server.port}"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, env=env)
                try:
                    p.stdin.write(b"EHLO me\n")
                    p.stdin.flush()
                    server.connected.wait(5)
                    time.sleep(0.5)
                    start = time.monotonic()
                    p.send_signal(sig)
                    out, err = p.communicate(timeout=10)
                finally:
                    if p.poll() is None:
                        p.kill()
                    server.stop()
                self.assertLess(time.monotonic() - start, 3)
                self.assertEqual(p.returncode, 128 + sig, err.decode())
                self.assertIn(f"interrupted by {sig.name}", err.decode())
                r = self.ehlo(["history", "--json"],
                              env={"EHLO_DB": self.db})
                [s] = [json.loads(line) for line in r.stdout.splitlines()]
                self.assertEqual(s["exit"], 128 + sig)
                self.assertNotEqual(s["outcome"], "unfinished")


if __name__ == "__main__":
    servers.main()
