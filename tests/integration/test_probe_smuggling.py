"""`ehlo probe smuggling` (issue 22 items 2 and 3) against real
receivers on loopback:

- the test Postfix with its default settings ends a message early at
  the three bare-LF variants (Postfix reads a LF alone as a line end);
  with smtpd_forbid_bare_newline = yes and the exclusions emptied (they
  cover loopback by default) no variant ends a message early;
- through STARTTLS and AUTH on the submission port too;
- the practice server is strict by default and plays the vulnerable
  receiver with --lenient-eod, which the same probe shows.

Each variant is a connection that delivers one message to --to, so the
tests count the messages that arrived.
"""

import json
import os
import subprocess
import tempfile
import unittest

import servers

USERS = {"alice": "alice-secret-1"}
BARE_LF = ["<LF>.<LF>", "<LF>.<CR><LF>", "<CR><LF>.<LF>"]
# The banner names the software, as most real ones do.
BANNER = "smtpd_banner = $myhostname ESMTP $mail_name\n"


def variants(r):
    """{variant: outcome} from a --json run."""
    out = json.loads(r.stdout)
    return {v["name"]: v["outcome"] for v in out["variants"]}


@unittest.skipUnless(os.geteuid() == 0, "Postfix tests need root")
class PostfixSmugglingTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_program("postfix")
        cls.loose = servers.Postfix(USERS, extra_main_cf=BANNER)
        cls.addClassCleanup(cls.loose.stop)
        cls.tight = servers.Postfix(USERS, extra_main_cf=BANNER + (
            "smtpd_forbid_bare_newline = yes\n"
            "smtpd_forbid_bare_newline_exclusions =\n"))
        cls.addClassCleanup(cls.tight.stop)

    def probe(self, pf, *options, port=None, env=None):
        return self.ehlo(["probe", "smuggling",
                          f"127.0.0.1:{port or pf.port}",
                          "--from", "bob@example.test",
                          "--to", "alice@example.test", *options], env=env)

    def test_default_settings_end_early_at_bare_lf(self):
        before = self.loose.maildir("alice", count=0)
        r = self.probe(self.loose)
        self.assertExit(r, 1)
        # Said before the first connection.
        first = r.stdout.index("*: probe: smuggling delivers a message to "
                               "<alice@example.test> for each of the 7")
        self.assertLess(first, r.stdout.index("C: EHLO"))
        self.assertLine(r, r"^verdict: PROBLEM - the server ends a message "
                           r"early at <LF>\.<LF>, <LF>\.<CR><LF>, "
                           r"<CR><LF>\.<LF>: a smuggling attack can use "
                           r"them$")
        self.assertLine(r, r"^  <CR>\.<CR>: content \(250 2\.0\.0\)$")
        self.assertIn("smtpd_forbid_bare_newline = yes", r.stdout)
        for name in BARE_LF:
            self.assertIn(f"\n  {name}: ended early (250 2.0.0)\n",
                          r.stdout)
        # One message per variant, as announced.
        self.assertEqual(r.stdout.count("C: DATA"), 7)
        self.assertEqual(len(self.loose.maildir("alice", count=len(before)
                                                + 7)), len(before) + 7)

    def test_forbid_bare_newline_closes_them(self):
        r = self.probe(self.tight, "--json")
        self.assertExit(r, 0)
        out = json.loads(r.stdout)
        self.assertEqual(out["verdict"], "good")
        self.assertNotIn("ended early", variants(r).values())
        self.assertEqual(len(variants(r)), 7)

    def test_through_starttls_and_auth(self):
        r = self.probe(self.loose, "--starttls", "--cafile",
                       self.loose.cert.cert, "--auth", "PLAIN", "--user",
                       "alice", port=self.loose.submission_port,
                       env={"EHLO_PASSWORD": USERS["alice"]})
        self.assertExit(r, 1)
        self.assertEqual(r.stdout.count("C: STARTTLS"), 7)
        self.assertEqual(r.stdout.count("S: 235 2.7.0"), 7)
        self.assertLine(r, r"^verdict: PROBLEM - the server ends a message "
                           r"early at <LF>\.<LF>, ")
        self.assertNoSecret(r, "alice", USERS["alice"])

    def test_needs_to(self):
        r = self.ehlo(["probe", "smuggling", f"127.0.0.1:{self.loose.port}"])
        self.assertExit(r, 2)
        self.assertLine(r, r"needs --to ADDRESS", "stderr")
        self.assertNoLine(r, r"C: ")


class PracticeSmugglingTest(servers.EhloTestCase):
    """The practice server, strict and with --lenient-eod."""

    def practice(self, *args):
        home = tempfile.TemporaryDirectory(prefix="ehlo-smuggle-")
        self.addCleanup(home.cleanup)
        env = dict(os.environ, XDG_DATA_HOME=home.name)
        for _ in range(3):
            port = servers.free_port()
            proc = subprocess.Popen(
                [servers.ehlo_bin(), "practice", "--listen",
                 f"127.0.0.1:{port}", *args], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=env,
                preexec_fn=servers._die_with_parent)
            self.addCleanup(proc.wait)
            self.addCleanup(proc.kill)
            try:
                servers.wait_ready("127.0.0.1", port,
                                   alive=lambda: proc.poll() is None)
                return port
            except RuntimeError:
                continue
        self.fail("ehlo practice did not start")

    def probe(self, port):
        return self.ehlo(["probe", "smuggling", f"127.0.0.1:{port}",
                          "--to", "alice@practice.test", "--json"])

    def test_strict_by_default(self):
        r = self.probe(self.practice())
        self.assertExit(r, 0)
        got = variants(r)
        self.assertEqual(set(got.values()), {"content"}, r.stdout)

    def test_explain_topics(self):
        for query, rfc in (("smuggling", "4.1.1.4"), ("bare LF", "2.3.8"),
                           ("end-of-data", "4.1.1.4")):
            r = self.ehlo(["explain", query])
            self.assertExit(r, 0)
            self.assertLine(r, rf"^Reference: RFC 5321 .*{rfc}")

    def test_lenient_eod_is_vulnerable(self):
        r = self.probe(self.practice("--lenient-eod"))
        self.assertExit(r, 1)
        got = variants(r)
        self.assertEqual(sorted(k for k, v in got.items()
                                if v == "ended early"), sorted(BARE_LF))
        self.assertIn("without it, only <CR><LF>.<CR><LF> ends the data",
                      json.loads(r.stdout)["meaning"])


if __name__ == "__main__":
    servers.main()
