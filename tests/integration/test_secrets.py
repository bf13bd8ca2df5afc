"""No credential ever leaves ehlo except on the wire to the server.

Authenticates with every mechanism (PLAIN, LOGIN, CRAM-MD5 against
aiosmtpd, in plain text and after STARTTLS; XOAUTH2 against a scripted
server, since aiosmtpd has no XOAUTH2), with --auth and with /auth, then
searches everything ehlo leaves behind for the secret, in plain and in
base64 (of the secret itself and of the PLAIN, LOGIN and XOAUTH2
payloads that carry it):

- line-mode standard output and error, plain, --timing and --json;
- the history database file (and its WAL and journal files), byte for
  byte, and what `history`, `show`, `show --json` and `export` (text and
  JSON) print from it;
- the workbench's screen, captured with tmux (with and without escapes)
  while and after it does /auth, and the database it wrote.

Zero hits is the only pass.
"""

import base64
import glob
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import hostile  # noqa: E402
import servers  # noqa: E402

USER = "alice"
SECRET = "Sekr1t-pa55-QX7"
TOKEN = "ya29.Tok3n-QX7-oauth"


def forms(user, secret):
    """Every string that would reveal secret."""
    u, s = user.encode(), secret.encode()
    payloads = [s, b"\0" + u + b"\0" + s, u + b"\0" + u + b"\0" + s,
                b"user=" + u + b"\x01auth=Bearer " + s + b"\x01\x01"]
    out = [secret]
    for p in payloads:
        b = base64.b64encode(p).decode()
        out += [b, b.rstrip("=")]
    return out


def leaks(blob, user, secret):
    """The forms of secret found in blob (str or bytes)."""
    if isinstance(blob, str):
        blob = blob.encode("utf-8", "replace")
    return [f for f in forms(user, secret) if f.encode() in blob]


XOAUTH2_CASE = r"""
what a server that accepts XOAUTH2
send "220 oauth.example.test ESMTP\r\n"
expect-line ^EHLO
send "250-oauth.example.test\r\n250-AUTH XOAUTH2 PLAIN\r\n250 8BITMIME\r\n"
expect-line ^AUTH XOAUTH2
send "235 2.7.0 accepted\r\n"
expect-line ^MAIL
send "250 ok\r\n"
expect-line ^QUIT
send "221 bye\r\n"
exit 0
"""


class SecretsTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        cls.ai = servers.Aiosmtpd(user=USER, password=SECRET)
        cls.addClassCleanup(cls.ai.stop)
        cls.plain = f"127.0.0.1:{cls.ai.port}"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ehlo-secrets-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.db = os.path.join(self.tmp, "ehlo.db")
        self.env = {"EHLO_DB": self.db, "EHLO_PASSWORD": SECRET}

    def assertClean(self, what, blob, secret=SECRET):
        found = leaks(blob, USER, secret)
        if found:
            text = blob if isinstance(blob, str) else \
                blob.decode("utf-8", "replace")
            self.fail(f"{what} reveals the secret as {found}:\n"
                      f"{servers._clip(text)}")

    def run_and_check(self, args, script, secret=SECRET, code=0):
        for extra in ([], ["--timing"], ["--json"]):
            r = self.ehlo(["run", *extra, *args], script,
                          env=dict(self.env, EHLO_PASSWORD=secret))
            self.assertExit(r, code)
            self.assertClean(f"ehlo run {extra} stdout", r.stdout, secret)
            self.assertClean(f"ehlo run {extra} stderr", r.stderr, secret)
        return r

    def check_history(self, secret=SECRET):
        """The database files and everything read back from them."""
        def scan(what):
            # The database, its WAL, the STARTTLS pins and the spool
            # directory's files (sessions not imported yet).
            files = [p for p in glob.glob(self.db + "*")
                     if os.path.isfile(p)]
            files += glob.glob(self.db + "-spool/*")
            self.assertTrue(files, "no history database was written")
            for path in files:
                with open(path, "rb") as f:
                    self.assertClean(f"{what} file "
                                     f"{os.path.basename(path)}",
                                     f.read(), secret)
            return files

        scan("history")
        r = self.ehlo(["history", "--json"], env=self.env)
        # After the import (any ehlo that opens the database): again.
        self.assertFalse(glob.glob(self.db + "-spool/*.spool"),
                         "ehlo history left spool files unimported")
        scan("imported history")
        self.assertExit(r, 0)
        ids = [json.loads(line)["id"] for line in r.stdout.splitlines()]
        self.assertTrue(ids)
        for sid in ids:
            for args in (["show", str(sid)], ["show", str(sid), "--json"],
                         ["export", str(sid)],
                         ["export", str(sid), "--format", "json"]):
                r = self.ehlo(args, env=self.env)
                self.assertExit(r, 0)
                self.assertClean(" ".join(args), r.stdout + r.stderr,
                                 secret)

    def test_every_mechanism_with_auth_option(self):
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            with self.subTest(mech=mech):
                r = self.run_and_check(
                    ["--auth", mech, "--user", USER, self.plain],
                    "MAIL FROM:<alice@example.test>\nRSET\n")
                self.assertLine(r, r'"code": ?235|235')
        self.check_history()

    def test_every_mechanism_with_slash_auth_after_starttls(self):
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            with self.subTest(mech=mech):
                self.run_and_check(
                    ["--cafile", self.ai.cert.cert, self.plain],
                    f"EHLO client.example\n/starttls\n/auth {mech} {USER}\n"
                    "/expect 235\n")
        self.check_history()

    def test_secret_typed_by_hand(self):
        """AUTH lines typed raw (initial response, then answers to 334):
        the transcript masks what it cannot prove is not secret."""
        plain = base64.b64encode(f"\0{USER}\0{SECRET}".encode()).decode()
        u = base64.b64encode(USER.encode()).decode()
        p = base64.b64encode(SECRET.encode()).decode()
        self.run_and_check([self.plain],
                           f"EHLO client.example\nAUTH PLAIN {plain}\n"
                           "/expect 235\n")
        self.run_and_check([self.plain],
                           f"EHLO client.example\nAUTH LOGIN\n{u}\n{p}\n"
                           "/expect 235\n")
        self.check_history()

    def test_xoauth2(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "xoauth2.case")
            with open(path, "w") as f:
                f.write(XOAUTH2_CASE)
            case = hostile.Case(path)
            for extra in ([], ["--json"]):
                server = hostile.Server(case)
                try:
                    r = self.ehlo(["run", *extra, "--auth", "XOAUTH2",
                                   "--user", USER,
                                   f"127.0.0.1:{server.port}"],
                                  "MAIL FROM:<alice@example.test>\n",
                                  env=dict(self.env, EHLO_PASSWORD=TOKEN))
                finally:
                    server.stop()
                self.assertExit(r, 0)
                self.assertEqual(server.failures, [])
                # The token did go to the server, and only there.
                wire = bytes(server.received).decode("latin-1")
                self.assertTrue(leaks(wire, USER, TOKEN))
                self.assertClean("XOAUTH2 stdout", r.stdout, TOKEN)
                self.assertClean("XOAUTH2 stderr", r.stderr, TOKEN)
        self.check_history(TOKEN)

    def test_workbench_auth_screen(self):
        if shutil.which("tmux") is None:
            self.skipTest("tmux is not installed")
        import tmux
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        t = tmux.Term([servers.ehlo_bin(), "--cafile", self.ai.cert.cert,
                       self.plain], 100, 48,
                      env={"HOME": home, "EHLO_DB": self.db,
                           "EHLO_PASSWORD": SECRET,
                           "XDG_DATA_HOME": os.path.join(home, "data"),
                           "XDG_CONFIG_HOME": os.path.join(home, "cfg")})
        self.addCleanup(t.stop)
        t.wait_for(r"S: 220 ")
        screens = []
        for line, wait in (("EHLO client.example", r"S: 250 "),
                           ("/auth PLAIN alice", r"S: 235 "),
                           ("RSET", r"RSET\s+250"),
                           ("/starttls", r"S: 250 "),
                           ("/auth LOGIN alice", r"S: 235 .*\n(.*\n)*.*"
                            r"S: 235 "),
                           ("/auth CRAM-MD5 alice", r"S: 503|S: 235 .*\n"
                            r"(.*\n)*.*S: 235 .*\n(.*\n)*.*S: 235 ")):
            t.type(line)
            t.send("Enter")
            for _ in range(10):
                screens += [t.screen(), t.screen(escapes=True)]
                time.sleep(0.05)
            t.wait_for(wait)
            screens += [t.screen(), t.screen(escapes=True)]
        for i, s in enumerate(screens):
            self.assertClean(f"workbench screen {i}", s)
            # /auth answers every step itself: no hint to type one.
            self.assertNotIn("AUTH LOGIN asks for", s)
        t.type("/quit")
        t.send("Enter")
        t.exit_status()
        self.check_history()


if __name__ == "__main__":
    servers.main()
