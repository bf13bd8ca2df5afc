"""The secret typed at the prompt (tui/lang.c): ehlo run is driven through
a real pseudo-terminal, the secret typed (pasted) after the prompt, and a
scripted server checks what arrived.  A 4 KB XOAUTH2 bearer token and a
16 KB secret reach the server whole (the terminal's own line editor stops
at 4 KiB, and ehlo used to cut at 1,023 bytes); Backspace and Ctrl-U
edit the line; nothing of it is echoed or printed; the account's
passwordeval output is used the same way and never shown.
"""

import base64
import os
import pty
import select
import signal
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))

import hostile  # noqa: E402
import servers  # noqa: E402

CASE = r"""
what a server that takes AUTH {mech} and records it
send "220 auth.example.test ESMTP\r\n"
expect-line ^EHLO
send "250-auth.example.test\r\n250-AUTH XOAUTH2 PLAIN LOGIN\r\n250 8BITMIME\r\n"
expect-line ^AUTH {mech}
{steps}send "235 2.7.0 accepted\r\n"
expect-line ^NOOP
send "250 ok\r\n"
expect-line ^QUIT
send "221 bye\r\n"
exit 0
"""

# ehlo sends the user with AUTH LOGIN (an initial response).
LOGIN_STEPS = 'send "334 UGFzc3dvcmQ6\\r\\n"\nexpect-line .\n'


def token(n):
    """n printable characters, as a bearer token has."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._"
    raw = os.urandom(n)
    return "".join(alphabet[b % len(alphabet)] for b in raw)


def run_on_pty(args, typed, script="NOOP\nQUIT\n", timeout=30, env=None):
    """Runs ehlo on a new pty; once it prompts for the secret, types
    typed (bytes) in pieces as a paste arrives.  Returns (status, all
    the terminal showed, every byte ehlo left on disk: the history
    database, its journal and spool files)."""
    with tempfile.TemporaryDirectory() as home:
        path = os.path.join(home, "script")
        with open(path, "w") as f:
            f.write(script)
        full_env = dict(os.environ, NO_COLOR="1", TERM="dumb",
                        XDG_DATA_HOME=home, XDG_CONFIG_HOME=home,
                        EHLO_DB=os.path.join(home, "ehlo.db"))
        full_env.pop("EHLO_PASSWORD", None)
        full_env.update(env or {})
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(servers.ehlo_bin(),
                      [servers.ehlo_bin(), *args, path], full_env)
        shown = bytearray()
        deadline = time.monotonic() + timeout
        sent = False
        try:
            while time.monotonic() < deadline:
                if not sent and b"(not echoed): " in shown:
                    for i in range(0, len(typed), 1000):
                        os.write(fd, typed[i:i + 1000])
                    sent = True
                r, _, _ = select.select([fd], [], [], 0.2)
                if not r:
                    continue
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                shown += data
            else:
                os.kill(pid, signal.SIGKILL)
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(fd)
        disk = b""
        for root, _, files in os.walk(home):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    disk += f.read()
    return os.waitstatus_to_exitcode(status), bytes(shown), disk


class SecretPromptTest(unittest.TestCase):

    def serve(self, mech, steps=""):
        d = tempfile.mkdtemp(prefix="ehlo-secret-")
        path = os.path.join(d, "auth.case")
        with open(path, "w") as f:
            f.write(CASE.format(mech=mech, steps=steps))
        server = hostile.Server(hostile.Case(path))
        self.addCleanup(server.stop)
        return server

    def client_lines(self, server):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and \
                b"QUIT" not in bytes(server.received):
            time.sleep(0.05)
        return server.client_lines()

    def test_4k_xoauth2_token_whole(self):
        tok = token(4096)
        server = self.serve("XOAUTH2")
        code, shown, disk = run_on_pty(
            ["run", "--auth", "XOAUTH2", "--user", "alice",
             f"127.0.0.1:{server.port}"], tok.encode() + b"\r")
        self.assertEqual(code, 0, shown.decode(errors="replace")[-3000:])
        self.assertEqual(server.failures, [])
        auth = [line for line in self.client_lines(server)
                if line.startswith("AUTH XOAUTH2 ")][0]
        sent = base64.b64decode(auth.split(" ", 2)[2])
        self.assertEqual(sent, b"user=alice\x01auth=Bearer " +
                         tok.encode() + b"\x01\x01")
        self.assertNotIn(tok[:64].encode(), shown)
        # Nothing of it in the history: neither the token nor the
        # base64 payload that carried it.
        self.assertIn(b"AUTH XOAUTH2", disk)  # the session was recorded
        self.assertNotIn(tok[:64].encode(), disk)
        self.assertNotIn(auth.split(" ", 2)[2][:64].encode(), disk)

    def test_16k_secret_and_line_editing(self):
        """16 KB through LOGIN; a typo erased with Backspace (one UTF-8
        character, both bytes) and a false start with Ctrl-U."""
        secret = token(16 * 1024)
        typed = (b"false start\x15" + secret.encode()[:-1] + "é".encode() +
                 b"\x7f" + secret.encode()[-1:] + b"\r")
        server = self.serve("LOGIN", LOGIN_STEPS)
        code, shown, disk = run_on_pty(
            ["run", "--auth", "LOGIN", "--user", "alice",
             f"127.0.0.1:{server.port}"], typed)
        self.assertEqual(code, 0, shown.decode(errors="replace")[-3000:])
        lines = self.client_lines(server)
        i = [n for n, line in enumerate(lines)
             if line.startswith("AUTH LOGIN ")][0]
        self.assertEqual(base64.b64decode(lines[i].split()[2]), b"alice")
        self.assertEqual(base64.b64decode(lines[i + 1]).decode(), secret)
        self.assertNotIn(secret[:64].encode(), shown)
        self.assertNotIn(secret[:64].encode(), disk)

    def test_passwordeval_secret_used_not_shown(self):
        tok = token(3000)
        with tempfile.TemporaryDirectory() as d:
            tokfile = os.path.join(d, "token")
            with open(tokfile, "w") as f:
                f.write(tok + "\n")
            server = self.serve("XOAUTH2")
            cfg = os.path.join(d, "config")
            with open(cfg, "w") as f:
                f.write(f"account o\nhost 127.0.0.1\nport {server.port}\n"
                        f"auth xoauth2\nuser alice\n"
                        f"passwordeval cat {tokfile}\n")
            r = servers.run_ehlo(["run", "--config", cfg, "-a", "o"],
                                 "NOOP\nQUIT\n")
        self.assertEqual(r.code, 0, r.stderr)
        auth = [line for line in self.client_lines(server)
                if line.startswith("AUTH XOAUTH2 ")][0]
        self.assertIn(tok.encode(), base64.b64decode(auth.split(" ", 2)[2]))
        self.assertNotIn(tok[:64], r.stdout + r.stderr)


if __name__ == "__main__":
    servers.main()
