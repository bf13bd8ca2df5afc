"""LMTP (RFC 2033) against a real LMTP server: aiosmtpd's LMTP class
(lmtp_server.py) on 127.0.0.1 and on a UNIX socket in a temporary
directory.

`ehlo run --lmtp` and a bare socket path greet with LHLO; after the final
dot the server answers once per accepted recipient (one refused at RCPT,
one accepted and then refused after the data for a full mailbox), and
ehlo must show each reply on its own end-of-data stage, in the dialogue,
in --json and in the history, keep the next command's reply matched to
that command, and exit 75 for the 452.  `ehlo send --lmtp` delivers a
message the server really received.
"""

import json
import os
import subprocess
import sys
import tempfile

import servers

servers.require_aiosmtpd()

HERE = os.path.dirname(os.path.abspath(__file__))

SCRIPT = servers.script("""
    LHLO client.test
    MAIL FROM:<sender@example.test>
    RCPT TO:<alice@example.test>
    RCPT TO:<nobody@example.test>
    /expect 550
    RCPT TO:<full@example.test>
    DATA
    Subject: LMTP test

    hello over LMTP
    .
    NOOP
    QUIT
    """)


class LmtpTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-lmtp-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.workdir = cls.tmp.name
        cls.sock = os.path.join(cls.workdir, "lmtp.sock")
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "lmtp_server.py"),
             cls.workdir, cls.sock],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=servers._die_with_parent)
        cls.addClassCleanup(cls._stop)
        line = cls.proc.stdout.readline().decode()
        if not line.startswith("ready "):
            raise RuntimeError("the LMTP server did not start: " + line +
                               cls.proc.stdout.read().decode())
        cls.port = int(line.split()[1])

    @classmethod
    def _stop(cls):
        cls.proc.terminate()
        cls.proc.wait(timeout=10)
        cls.proc.stdout.close()

    def received(self):
        """What the server stored, oldest first."""
        names = sorted(n for n in os.listdir(self.workdir)
                       if n.endswith(".json"))
        result = []
        for name in names:
            with open(os.path.join(self.workdir, name)) as f:
                result.append(json.load(f))
        return result

    def assertPerRecipient(self, r):
        # Both end-of-data replies shown, in RCPT order, right after the
        # dot, and the NOOP after them gets its own 250.
        self.assertRegex(
            r.stdout,
            r"C: \.\nS: 250 2\.0\.0 <alice@example\.test> delivered\n"
            r"(\*: .*\n)?S: 452 4\.2\.2 <full@example\.test> mailbox full\n"
            r"C: NOOP\nS: 250 OK\n", self.transcript(r))
        self.assertNoLine(r, r"to no command")

    def run_script(self, server, *extra, env=None):
        before = len(self.received())
        r = self.ehlo(["run", *extra, server, "-"], SCRIPT, env=env)
        got = self.received()[before:]
        self.assertEqual(len(got), 1, self.transcript(r))
        self.assertEqual(got[0]["lhlo"], "client.test")
        self.assertEqual(got[0]["rcpt_tos"],
                         ["alice@example.test", "full@example.test"])
        self.assertIn("hello over LMTP", got[0]["content"])
        return r

    def test_run_tcp(self):
        r = self.run_script(f"127.0.0.1:{self.port}", "--lmtp")
        self.assertExit(r, 75)  # the 452 after the data counts
        self.assertLine(r, r"^C: LHLO client\.test$")
        self.assertPerRecipient(r)

    def test_run_lmtp_url_json(self):
        r = self.run_script(f"lmtp://127.0.0.1:{self.port}", "--json")
        self.assertExit(r, 75)
        replies = [json.loads(line) for line in r.stdout.splitlines()]
        replies = [e for e in replies if e["type"] == "reply"]
        ends = [(e["stage"], e["code"]) for e in replies
                if e["stage"] == "end of data"]
        self.assertEqual(ends, [("end of data", 250), ("end of data", 452)],
                         self.transcript(r))
        self.assertEqual(replies[-2]["stage"], "NOOP")

    def test_run_unix_socket_and_history(self):
        db = os.path.join(self.workdir, "history.db")
        r = self.run_script(f"unix:{self.sock}", env={"EHLO_DB": db})
        self.assertExit(r, 75)
        self.assertLine(r, r"^\*: connected to unix:" + self.sock + "$")
        self.assertPerRecipient(r)
        # Recorded: both replies, each on an end-of-data stage.
        shown = self.ehlo(["show", "1", "--json"], env={"EHLO_DB": db})
        self.assertExit(shown, 0)
        events = json.loads(shown.stdout)["events"]
        ends = [e["code"] for e in events
                if e["type"] == "line" and e["stage"] == "end of data" and
                e["code"] is not None]
        self.assertEqual(ends, [250, 452], shown.stdout)
        # Replayable: the recorded socket path is the server again.
        before = len(self.received())
        again = self.ehlo(["replay", "1"], env={"EHLO_DB": db})
        self.assertLine(again, r"^\*: connected to unix:" + self.sock + "$")
        self.assertPerRecipient(again)
        self.assertEqual(len(self.received()), before + 1)

    def test_bare_path_is_lmtp(self):
        r = self.run_script(self.sock)
        self.assertExit(r, 75)
        self.assertPerRecipient(r)

    def test_send(self):
        before = len(self.received())
        r = self.ehlo(["send", "--lmtp", f"127.0.0.1:{self.port}",
                       "--from", "sender@example.test",
                       "--to", "alice@example.test",
                       "--subject", "sent over LMTP", "--body", "-"],
                      "a body line\n")
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: LHLO ")
        got = self.received()[before:]
        self.assertEqual(len(got), 1, self.transcript(r))
        self.assertEqual(got[0]["rcpt_tos"], ["alice@example.test"])
        self.assertIn("Subject: sent over LMTP", got[0]["content"])
        self.assertIn("a body line", got[0]["content"])

    def test_send_partial(self):
        r = self.ehlo(["send", "--lmtp", f"127.0.0.1:{self.port}",
                       "--from", "sender@example.test",
                       "--to", "alice@example.test",
                       "--to", "full@example.test",
                       "--subject", "half", "--body", "-"], "x\n")
        self.assertExit(r, 75)
        self.assertLine(r, r"^S: 250 2\.0\.0 <alice@example\.test> "
                           r"delivered$")
        self.assertLine(r, r"^S: 452 4\.2\.2 <full@example\.test> "
                           r"mailbox full$")
        self.assertLine(r, r"delivered the message to 1 recipient",
                        "stderr")

    def test_bad_socket_paths(self):
        r = self.ehlo(["run", "unix:relative.sock", "-"], "")
        self.assertExit(r, 2)
        self.assertLine(r, r"socket path \"relative\.sock\" is not "
                           r"absolute", "stderr")
        missing = os.path.join(self.workdir, "missing.sock")
        r = self.ehlo(["run", missing, "-"], "")
        self.assertExit(r, 3)
        self.assertLine(r, r"cannot connect to the socket unix:.*"
                           r"missing\.sock: No such file", "stderr")

    def test_send_lmtp_to_an_smtp_server(self):
        # The practice server speaks SMTP: LHLO is refused and ehlo says
        # so instead of falling back to HELO.
        proc, port = servers.start_practice(dict(os.environ))
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        r = self.ehlo(["send", "--lmtp", f"127.0.0.1:{port}",
                       "--from", "me@practice.test",
                       "--to", "bob@practice.test", "--body", "-"], "x\n")
        self.assertExit(r, 1)
        self.assertLine(r, r"did not accept LHLO: is it an LMTP server",
                        "stderr")
        self.assertNoLine(r, r"^C: HELO")

    def test_explain(self):
        r = self.ehlo(["explain", "LHLO"])
        self.assertExit(r, 0)
        self.assertLine(r, r"RFC 2033 4\.1")
        r = self.ehlo(["explain", "LMTP"])
        self.assertExit(r, 0)
        self.assertLine(r, r"one reply per recipient")


if __name__ == "__main__":
    servers.main()
