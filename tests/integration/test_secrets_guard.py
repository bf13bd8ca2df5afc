"""Secrets against a hostile or stripped server (issue 21, items 2, 3, 6).

- A server that echoes the AUTH line it got ("535 ... you sent AUTH
  PLAIN <base64>") must not get the secret, in any form, onto stdout,
  --json, the database and spool files, `ehlo show` or `ehlo export`.
- After a STARTTLS downgrade (the server offered STARTTLS in an earlier
  recorded session and does not now), `run --auth`, `/auth` (in a
  script and in the workbench) and `send --auth` send no AUTH at all,
  and say how to opt in; with --allow-plaintext-auth they do.  What the
  server really received is checked.
- EHLO_PASSWORD is gone from /proc/PID/environ while ehlo waits.
"""

import base64
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import hostile  # noqa: E402
import servers  # noqa: E402
from test_secrets import leaks  # noqa: E402

USER = "alice"
SECRET = "Ech0ed-Sekr1t-QX7"


PLAIN_B64 = base64.b64encode(f"\0{USER}\0{SECRET}".encode()).decode()
PASS_B64 = base64.b64encode(SECRET.encode()).decode()

ECHO_CASE = f"""
what a server that echoes the secret in its refusal
send "220 echo.example.test ESMTP\\r\\n"
expect-line ^EHLO
send "250-echo.example.test\\r\\n250-AUTH PLAIN LOGIN\\r\\n250 8BITMIME\\r\\n"
expect-line ^AUTH PLAIN
send "535-5.7.8 you sent AUTH PLAIN {PLAIN_B64}\\r\\n535 5.7.8 that is {SECRET} or {PASS_B64}\\r\\n"
expect-line ^QUIT
send "221 bye\\r\\n"
exit 0
"""

class StrippingServer:
    """Serves connections one after the other on one loopback port: the
    first is offered STARTTLS, the later ones are not (a downgrade).  It
    accepts AUTH, MAIL, RCPT and DATA, and keeps what each connection
    sent (received: one bytes object per connection)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                try:
                    self._serve(conn, offer=not self.received)
                except OSError:
                    pass

    def _serve(self, conn, offer):
        got = bytearray()
        self.received.append(got)
        conn.settimeout(30)
        f = conn.makefile("rb")
        conn.sendall(b"220 strip.example.test ESMTP\r\n")
        in_data = False
        for line in f:
            got += line
            self.received[-1] = bytes(got)
            word = line[:4].upper()
            if in_data:
                if line.rstrip(b"\r\n") == b".":
                    in_data = False
                    conn.sendall(b"250 queued\r\n")
                continue
            if word == b"EHLO":
                caps = b"250-STARTTLS\r\n" if offer else b""
                conn.sendall(b"250-strip.example.test\r\n" + caps +
                             b"250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
            elif word == b"AUTH":
                conn.sendall(b"235 2.7.0 ok\r\n")
            elif word == b"DATA":
                in_data = True
                conn.sendall(b"354 go\r\n")
            elif word == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                break
            else:
                conn.sendall(b"250 ok\r\n")
        self.received[-1] = bytes(got)

    def stop(self):
        self._stop.set()
        self.thread.join(10)
        self.sock.close()


STALL_CASE = """
what a server that stalls after AUTH
send "220 stall.example.test ESMTP\\r\\n"
expect-line ^EHLO
send "250-stall.example.test\\r\\n250 AUTH PLAIN\\r\\n"
expect-line ^AUTH
sleep 20
exit 0
"""


def case(tmp, name, text):
    path = os.path.join(tmp, name + ".case")
    with open(path, "w") as f:
        f.write(text)
    return hostile.Case(path)


class SecretsGuardTest(servers.EhloTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ehlo-guard-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.db = os.path.join(self.tmp, "ehlo.db")
        self.env = {"EHLO_DB": self.db, "EHLO_PASSWORD": SECRET}

    def serve(self, name, text):
        server = hostile.Server(case(self.tmp, name, text))
        self.addCleanup(server.stop)
        return server

    def assertClean(self, what, blob):
        found = leaks(blob, USER, SECRET)
        if found:
            self.fail(f"{what} reveals the secret as {found}:\n"
                      f"{servers._clip(str(blob))}")

    # ---- item 3: an echoed secret is masked everywhere ----------------

    def test_echoed_secret_is_masked_everywhere(self):
        for extra in ([], ["--json"]):
            server = self.serve("echo", ECHO_CASE)
            r = self.ehlo(["run", *extra, "--auth", "PLAIN", "--user", USER,
                           f"127.0.0.1:{server.port}"],
                          "MAIL FROM:<a@example.test>\nQUIT\n", env=self.env)
            server.stop()
            # The secret did reach the server (and only it).
            wire = bytes(server.received).decode("latin-1")
            self.assertIn(PLAIN_B64, wire)
            self.assertClean(f"run {extra} stdout", r.stdout)
            self.assertClean(f"run {extra} stderr", r.stderr)
            # The reply is still shown, with the echo masked.
            self.assertIn("you sent AUTH PLAIN", r.stdout)
            self.assertIn("[secret removed]", r.stdout)
        files = [p for p in glob.glob(self.db + "*") if os.path.isfile(p)]
        files += glob.glob(self.db + "-spool/*")
        self.assertTrue(files)
        for path in files:
            with open(path, "rb") as f:
                self.assertClean(os.path.basename(path), f.read())
        r = self.ehlo(["history", "--json"], env=self.env)
        self.assertExit(r, 0)
        ids = [json.loads(line)["id"] for line in r.stdout.splitlines()]
        self.assertEqual(len(ids), 2)
        for path in glob.glob(self.db + "*"):
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    self.assertClean("imported " + path, f.read())
        for sid in ids:
            for args in (["show", str(sid)], ["show", str(sid), "--json"],
                         ["export", str(sid)],
                         ["export", str(sid), "--format", "json"]):
                r = self.ehlo(args, env=self.env)
                self.assertExit(r, 0)
                self.assertClean(" ".join(args), r.stdout + r.stderr)
                self.assertIn("you sent AUTH PLAIN", r.stdout)

    # ---- item 2: no AUTH after a downgrade ----------------------------

    def downgrade_runs(self):
        """(name, argv(port, extra), script) for each way of sending
        credentials."""
        return [
            ("run --auth", lambda p, extra: [
                "run", *extra, "--auth", "PLAIN", "--user", USER,
                f"127.0.0.1:{p}"], "MAIL FROM:<a@example.test>\nQUIT\n"),
            ("/auth", lambda p, extra: [
                "run", *extra, f"127.0.0.1:{p}"],
             "EHLO client.example\n/auth PLAIN alice\nQUIT\n"),
            ("send --auth", lambda p, extra: [
                "send", *extra, "--auth", "PLAIN", "--user", USER,
                "--from", "a@example.test", "--to", "b@example.test",
                f"127.0.0.1:{p}"], ""),
        ]

    def downgrade(self, extra):
        """For each way of sending credentials: a server seen offering
        STARTTLS in a first recorded session, stripped in the second.
        Returns [(name, result, bytes the stripped server received)]."""
        out = []
        for name, argv, script in self.downgrade_runs():
            db = os.path.join(self.tmp, name.replace(" ", "").replace(
                "/", "") + ".db")
            env = dict(self.env, EHLO_DB=db)
            server = StrippingServer()
            self.addCleanup(server.stop)
            r = self.ehlo(["run", f"127.0.0.1:{server.port}"],
                          "EHLO client.example\nQUIT\n", env=env)
            self.assertExit(r, 0)
            self.assertNotIn("STARTTLS was offered", r.stdout)
            r = self.ehlo(argv(server.port, extra), script, env=env,
                          timeout=20)
            server.stop()
            self.assertEqual(len(server.received), 2, self.transcript(r))
            self.assertIn("STARTTLS was offered here", r.stdout,
                          self.transcript(r))
            out.append((name, r, bytes(server.received[1])))
        return out

    def test_no_auth_after_downgrade(self):
        for name, r, wire in self.downgrade([]):
            with self.subTest(name):
                self.assertNotIn(b"AUTH", wire, self.transcript(r))
                self.assertNotIn(PLAIN_B64.encode(), wire)
                self.assertNotIn(b"MAIL FROM", wire)
                self.assertNotEqual(r.code, 0, self.transcript(r))
                both = r.stdout + r.stderr
                self.assertIn("STARTTLS downgrade", both)
                self.assertIn("--allow-plaintext-auth", both)

    def test_downgrade_opt_in_sends_auth(self):
        for name, r, wire in self.downgrade(["--allow-plaintext-auth"]):
            with self.subTest(name):
                self.assertIn(("AUTH PLAIN " + PLAIN_B64).encode(), wire,
                              self.transcript(r))

    def test_workbench_auth_after_downgrade(self):
        """The workbench's /auth goes through the same rule: refused
        before any secret is asked for, nothing sent."""
        if shutil.which("tmux") is None:
            self.skipTest("tmux is not installed")
        import tmux
        server = StrippingServer()
        self.addCleanup(server.stop)
        r = self.ehlo(["run", f"127.0.0.1:{server.port}"],
                      "EHLO client.example\nQUIT\n", env=self.env)
        self.assertExit(r, 0)
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        t = tmux.Term([servers.ehlo_bin(), f"127.0.0.1:{server.port}"],
                      100, 30,
                      env={"HOME": home, "EHLO_DB": self.db,
                           "XDG_DATA_HOME": os.path.join(home, "data"),
                           "XDG_CONFIG_HOME": os.path.join(home, "cfg")})
        self.addCleanup(t.stop)
        t.wait_for(r"S: 220 ")
        t.type("EHLO client.example")
        t.send("Enter")
        t.wait_for(r"someone may be stripping")
        t.type("/auth PLAIN alice")
        t.send("Enter")
        t.wait_for(r"not\s+sending\s+credentials")
        screen = t.screen()
        self.assertNotIn("secret for alice", screen)
        t.type("/quit")
        t.send("Enter")
        t.exit_status()
        server.stop()
        self.assertEqual(len(server.received), 2)
        self.assertNotIn(b"AUTH", server.received[1])

    # ---- item 6: EHLO_PASSWORD leaves the environment -----------------

    def test_password_not_in_environ(self):
        if not os.path.isdir("/proc/self"):
            self.skipTest("no /proc")
        server = self.serve("stall", STALL_CASE)
        env = dict(os.environ, NO_COLOR="1", EHLO_DB=self.db,
                   XDG_DATA_HOME=self.tmp, XDG_CONFIG_HOME=self.tmp,
                   EHLO_PASSWORD=SECRET)
        proc = subprocess.Popen(
            [servers.ehlo_bin(), "run", "--timeout", "15", "--auth",
             "PLAIN", "--user", USER, f"127.0.0.1:{server.port}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=env)
        # --auth comes before the first transaction line; stdin stays
        # open, so ehlo waits for the server.
        proc.stdin.write(b"MAIL FROM:<a@example.test>\n")
        proc.stdin.flush()
        self.addCleanup(proc.stdin.close)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        deadline = time.monotonic() + 10
        while b"AUTH" not in bytes(server.received):
            self.assertLess(time.monotonic(), deadline, "no AUTH came")
            time.sleep(0.05)
        # AUTH went out with the secret: it was read; now it waits.
        self.assertIn(PLAIN_B64.encode(), bytes(server.received))
        with open(f"/proc/{proc.pid}/environ", "rb") as f:
            environ = f.read()
        self.assertIsNone(proc.poll())
        self.assertNotIn(SECRET.encode(), environ)
        self.assertNotIn(b"EHLO_PASSWORD=", environ)
        # Control: the same read does see the rest of the environment.
        self.assertIn(b"EHLO_DB=", environ)


if __name__ == "__main__":
    servers.main()
