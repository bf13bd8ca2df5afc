"""`ehlo replay --diff` across a configuration change (issue 20 item 11).

A session recorded against one Postfix is replayed against a second one
with another host name, a larger message_size_limit, VRFY disabled and
DSN not offered.  The diff must list the one behaviour change (VRFY
252 -> 502) first, then the capabilities as a set (VRFY and DSN removed,
SIZE changed), and nothing about the greeting's host name or the queue
id; --exact shows those too.  Needs root (private Postfix instances).
"""

import json
import os
import tempfile

import servers

SESSION = servers.script("""
    EHLO client.example.test
    VRFY alice@example.test
    MAIL FROM:<alice@example.test>
    RCPT TO:<alice@example.test>
    DATA
    Subject: diff

    same message
    .
    QUIT
    """)


class ReplayDiffTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_root()
        users = {"alice": "alice-secret-1"}
        cls.before = servers.Postfix(users, hostname="mx1.example.test")
        cls.addClassCleanup(cls.before.stop)
        cls.after = servers.Postfix(
            users, hostname="mx2.example.test", message_size_limit=2000000,
            extra_main_cf="disable_vrfy_command = yes\n"
                          "smtpd_discard_ehlo_keywords = dsn\n")
        cls.addClassCleanup(cls.after.stop)
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-diff-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.env = {"EHLO_DB": os.path.join(cls.tmp.name, "ehlo.db")}
        r = servers.run_ehlo(["run", f"127.0.0.1:{cls.before.port}"],
                             SESSION, env=cls.env)
        if r.code != 0:
            raise RuntimeError("recording failed:\n" + r.stdout + r.stderr)

    def replay_diff(self, *extra):
        r = self.ehlo(["replay", "1", f"127.0.0.1:{self.after.port}",
                       "--diff", *extra], env=self.env)
        self.assertExit(r, 1)
        return r

    def test_behaviour_first_and_no_noise(self):
        r = self.replay_diff()
        diffs = [x for x in r.stdout.splitlines() if x.startswith("diff: ")]
        self.assertEqual(diffs[:2], [
            "diff: VRFY alice@example.test",
            "diff: EHLO client.example.test   (capabilities)"],
            self.transcript(r))
        self.assertRegex(diffs[-1], r"^diff: 2 differences between ")
        self.assertLine(r, r"^  - 252 2\.0\.0 alice")
        self.assertLine(r, r"^  \+ 502 5\.5\.1 ")
        self.assertLine(r, r"^  - VRFY$")
        self.assertLine(r, r"^  - DSN$")
        self.assertLine(r, r"^  ~ SIZE 1000000 -> 2000000$")
        # The EHLO list is not printed whole, nor the greeting or the
        # queue id compared.
        report = r.stdout[r.stdout.index("\ndiff: "):]
        self.assertNotRegex(report, r"(?m)^  [-+] 2[25]0[- ]")
        self.assertNotIn("queued as", report)
        self.assertNotIn("mx2", report)

    def test_json_kinds(self):
        r = self.replay_diff("--json")
        diff = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual([(d["command"], d["kind"])
                          for d in diff["differences"]],
                         [("VRFY alice@example.test", "behaviour"),
                          ("EHLO client.example.test", "capabilities")])
        caps = diff["differences"][1]
        self.assertEqual(sorted(caps["removed"]), ["DSN", "VRFY"])
        self.assertEqual(caps["added"], [])
        self.assertEqual(caps["changed"], ["SIZE 1000000 -> 2000000"])

    def test_exact_shows_what_always_differs(self):
        r = self.replay_diff("--exact")
        self.assertLine(r, r"^  - 220 mx1\.example\.test ESMTP")
        self.assertLine(r, r"^  \+ 220 mx2\.example\.test ESMTP")
        self.assertLine(r, r"^  - 250 2\.0\.0 Ok: queued as ")
        diffs = [x for x in r.stdout.splitlines() if x.startswith("diff: ")]
        self.assertEqual(diffs[0], "diff: VRFY alice@example.test")


if __name__ == "__main__":
    servers.main()
