"""The exit status table (docs/configuration.md, `ehlo --help`): 0
success, 1 a session that ended on a 5xx, 75 (EX_TEMPFAIL) one that
ended on a 4xx, 2 usage, 3 network/TLS/timeout -- for run, send and
replay, against the practice server (`ehlo practice --listen`) and its
teaching triggers (tempfail@ answers 451, unknown@ 550).  `ehlo check`
keeps the monitoring-plugin codes.
"""

import json
import os
import shutil
import subprocess
import tempfile

import servers

RCPT = servers.script("""
    EHLO client.example.test
    MAIL FROM:<alice@example.test>
    RCPT TO:<{rcpt}>
    """)


class ExitCodesTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.mkdtemp(prefix="ehlo-exit-")
        cls.addClassCleanup(shutil.rmtree, cls.home, True)
        cls.db = os.path.join(cls.home, "history.db")
        cls.log = open(os.path.join(cls.home, "practice.log"), "w+b")
        cls.addClassCleanup(cls.log.close)
        env = dict(os.environ, XDG_DATA_HOME=cls.home)
        for _ in range(3):
            cls.port = servers.free_port()
            cls.proc = subprocess.Popen(
                [servers.ehlo_bin(), "practice", "--listen",
                 f"127.0.0.1:{cls.port}"], stdout=cls.log, stderr=cls.log,
                env=env, preexec_fn=servers._die_with_parent)
            try:
                servers.wait_ready("127.0.0.1", cls.port,
                                   alive=lambda: cls.proc.poll() is None)
                break
            except RuntimeError:
                cls.proc.kill()
                cls.proc.wait()
        else:
            raise RuntimeError("ehlo practice did not start")
        cls.addClassCleanup(cls.stop_practice)
        cls.server = f"127.0.0.1:{cls.port}"

    @classmethod
    def stop_practice(cls):
        cls.proc.terminate()
        cls.proc.wait()

    def run_db(self, args, script=""):
        return self.ehlo(args, script, env={"EHLO_DB": self.db})

    def last_id(self):
        r = self.run_db(["history", "--json", "--limit", "1"])
        self.assertExit(r, 0)
        return json.loads(r.stdout.splitlines()[0])["id"]

    def test_run(self):
        for rcpt, status in (("alice@practice.test", 0),
                             ("tempfail@practice.test", 75),
                             ("unknown@practice.test", 1)):
            with self.subTest(rcpt=rcpt):
                r = self.run_db(["run", self.server], RCPT.format(rcpt=rcpt))
                self.assertExit(r, status)
        # The session ends on its last failure: a 550, then a 451.
        r = self.run_db(["run", self.server],
                        RCPT.format(rcpt="unknown@practice.test") +
                        "RCPT TO:<tempfail@practice.test>\n")
        self.assertExit(r, 75)
        r = self.run_db(["run", self.server],
                        RCPT.format(rcpt="tempfail@practice.test") +
                        "RCPT TO:<unknown@practice.test>\n")
        self.assertExit(r, 1)
        r = self.run_db(["run", "--no-such-option", self.server])
        self.assertExit(r, 2)
        r = self.run_db(["run", f"127.0.0.1:{servers.free_port()}"],
                        "NOOP\n")
        self.assertExit(r, 3)

    def test_send(self):
        for rcpt, status in (("alice@practice.test", 0),
                             ("tempfail@practice.test", 75),
                             ("unknown@practice.test", 1)):
            with self.subTest(rcpt=rcpt):
                r = self.run_db(["send", self.server, "--no-starttls",
                                 "--from", "a@example.test", "--to", rcpt,
                                 "--subject", "exit"])
                self.assertExit(r, status)
        r = self.run_db(["send", self.server, "--to", "x@example.test"])
        self.assertExit(r, 2)

    def test_replay(self):
        for rcpt, status in (("tempfail@practice.test", 75),
                             ("unknown@practice.test", 1),
                             ("alice@practice.test", 0)):
            with self.subTest(rcpt=rcpt):
                r = self.run_db(["run", self.server], RCPT.format(rcpt=rcpt))
                self.assertExit(r, status)
                r = self.run_db(["replay", str(self.last_id()), self.server])
                self.assertExit(r, status)
                # The history names the outcome with the same status.
                r = self.run_db(["history", "--json", "--limit", "1"])
                s = json.loads(r.stdout.splitlines()[0])
                self.assertEqual(s["exit"], status)
                if status == 75:
                    self.assertEqual(s["outcome"],
                                     "temporary failure 451 4.3.0")

    def test_check_keeps_plugin_codes(self):
        r = self.ehlo(["check", f"127.0.0.1:{servers.free_port()}"])
        self.assertExit(r, 2)  # CRITICAL, not 3
        r = self.ehlo(["check", self.server, "--no-starttls"])
        self.assertExit(r, 0)

    def test_help_lists_the_table(self):
        r = self.ehlo(["--help"])
        self.assertExit(r, 0)
        for line in (r"^  0   success$",
                     r"^  1   the session ended on a permanent failure "
                     r"\(5xx\)$",
                     r"^  2   usage",
                     r"^  3   network, TLS or timeout failure$",
                     r"^  75  the session ended on a temporary failure "
                     r"\(4xx\)"):
            self.assertLine(r, line)
        r = self.ehlo(["-V"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^ehlo \d+\.\d+\.\d+ ")


if __name__ == "__main__":
    servers.main()
