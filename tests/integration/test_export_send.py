"""Exports of `ehlo send` sessions (issue 20 item 4, issue 17 item 11).

A 5 KB message composed by `ehlo send` over STARTTLS with --cafile and
AUTH PLAIN is recorded, then exported as a swaks command, a curl command
and an ehlo script.  Each export is run against the same practice server
and must deliver the same envelope and the same message, over TLS
verified with the same CA file and authenticated as the same user; the
secret is in no export (the commands take it from EHLO_PASSWORD).  A
message over 64 KiB is not kept, and the export says so with its size.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import servers
from practice_server import PracticeServer

SECRET = "wonderland"


class ExportSendTest(PracticeServer, servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.start_practice()
        cls.db = os.path.join(cls.home.name, "history.db")
        cls.body = os.path.join(cls.home.name, "body.txt")
        with open(cls.body, "w") as f:
            for i in range(70):
                f.write(f"line {i} " + "y" * 60 + "\n")
            f.write(".a line that starts with a dot\nit's the end\n")
        r = servers.run_ehlo(
            ["send", "--db", cls.db, cls.server, "--starttls", "--cafile",
             cls.cafile, "--auth", "PLAIN", "--user", "alice", "--from",
             "alice@practice.test", "--to", "bob@practice.test", "--to",
             "carol@practice.test", "--subject", "exported send"],
            env={"EHLO_PASSWORD": SECRET})
        if r.code != 0:
            raise RuntimeError("recording failed:\n" + r.stdout + r.stderr)
        before = cls.inbox("bob")
        r = servers.run_ehlo(
            ["send", "--db", cls.db, cls.server, "--starttls", "--cafile",
             cls.cafile, "--auth", "PLAIN", "--user", "alice", "--from",
             "alice@practice.test", "--to", "bob@practice.test", "--to",
             "carol@practice.test", "--subject", "exported send", "--body",
             cls.body], env={"EHLO_PASSWORD": SECRET})
        if r.code != 0:
            raise RuntimeError("recording failed:\n" + r.stdout + r.stderr)
        cls.original = cls.split_stored(cls.wait_new("bob", before))

    def export(self, fmt, sid=2, code=0):
        r = self.ehlo(["export", str(sid), "--db", self.db, "--format", fmt])
        self.assertExit(r, code)
        self.assertNotIn(SECRET, r.stdout + r.stderr)
        return r

    def run_exported(self, text, users=("bob", "carol")):
        """Runs an exported command with the secret in EHLO_PASSWORD;
        returns each user's new message split by split_stored."""
        before = {u: self.inbox(u) for u in users}
        with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
            f.write(text)
            f.flush()
            proc = subprocess.run(
                ["sh", f.name], capture_output=True, text=True, timeout=30,
                cwd="/", env=dict(os.environ, EHLO_PASSWORD=SECRET))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        return {u: self.split_stored(self.wait_new(u, before[u]))
                for u in users}

    def assertSameDelivery(self, got):
        for user in ("bob", "carol"):
            first, received, message = got[user]
            self.assertEqual(first, b"Return-Path: <alice@practice.test>")
            # ESMTPSA: over TLS and authenticated, as the session was.
            self.assertIn(b"with ESMTPSA", received)
            self.assertIn(b"(using TLS", received)
            self.assertEqual(message, self.original[2])

    @unittest.skipUnless(shutil.which("swaks"), "swaks is not installed")
    def test_swaks(self):
        text = self.export("swaks").stdout
        self.assertNotIn("64 KiB", text)
        self.assertNotIn("test message", text)
        self.assertIn(" --tls --tls-verify --tls-ca-path "
                      f"'{os.path.realpath(self.cafile)}' ", text)
        self.assertIn(" --auth 'PLAIN' --auth-user 'alice' ", text)
        self.assertSameDelivery(self.run_exported(text))

    @unittest.skipUnless(shutil.which("curl"), "curl is not installed")
    def test_curl(self):
        text = self.export("curl").stdout
        self.assertIn(" --ssl-reqd --cacert "
                      f"'{os.path.realpath(self.cafile)}' ", text)
        self.assertIn(" --login-options 'AUTH=PLAIN' ", text)
        self.assertSameDelivery(self.run_exported(
            text.replace("curl --globoff --url", "curl -s --globoff --url")))

    def test_script_and_replay(self):
        text = self.export("script").stdout
        self.assertIn("\n/auth PLAIN alice\n", text)
        self.assertIn(f"--cafile {os.path.realpath(self.cafile)} ", text)
        self.assertIn("\nDATA\n", text)
        self.assertIn("\n..a line that starts with a dot\n", text)
        before = self.inbox("bob")
        r = self.ehlo(["run", "--cafile", self.cafile, self.server], text,
                      env={"EHLO_PASSWORD": SECRET})
        self.assertExit(r, 0)
        self.assertEqual(self.split_stored(self.wait_new("bob", before))[2],
                         self.original[2])
        before = self.inbox("bob")
        r = self.ehlo(["replay", "2", "--db", self.db, "--cafile",
                       self.cafile], env={"EHLO_PASSWORD": SECRET})
        self.assertExit(r, 0)
        self.assertEqual(self.split_stored(self.wait_new("bob", before))[2],
                         self.original[2])

    def test_message_without_body_option(self):
        """Session 1 sent an empty body: still exported whole."""
        text = self.export("swaks", sid=1).stdout
        self.assertIn("Subject: exported send", text)

    def test_large_message_says_why(self):
        big = os.path.join(self.home.name, "big.txt")
        with open(big, "w") as f:
            f.write(("z" * 70 + "\n") * 1500)
        r = self.ehlo(["send", "--db", self.db, self.server, "--starttls",
                       "--cafile", self.cafile, "--from",
                       "alice@practice.test", "--to", "bob@practice.test",
                       "--body", big])
        self.assertExit(r, 0)
        sid = max(s["id"] for s in map(
            __import__("json").loads,
            self.ehlo(["history", "--db", self.db, "--json"])
            .stdout.splitlines()))
        text = self.export("swaks", sid=sid).stdout
        self.assertRegex(text, r"the message content \(\d{6} octets\) was "
                         r"over 64 KiB and not kept")
        r = self.export("curl", sid=sid, code=2)
        self.assertIn("over 64 KiB and not kept, so curl cannot", r.stderr)


if __name__ == "__main__":
    servers.main()
