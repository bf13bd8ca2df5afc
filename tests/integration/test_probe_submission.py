"""Probes an admin can trust (issue 20, items 2 and 3), against a
private Postfix on loopback (needs root) and smtp-sink:

- a probe whose test step was refused for another reason (MAIL refused
  with 530 5.7.0 on a port that requires STARTTLS) is "inconclusive"
  and says why, instead of "good";
- --starttls and --auth set each connection up first, so SIZE and relay
  can be probed on a submission port; a preamble that cannot be done
  (STARTTLS not offered) ends with "failed" and the reason;
- vrfy-expn asks about an unknown address written the same way as the
  known one (same domain), so the answers differ only in whether the
  account exists.
"""

import json
import os
import unittest

import servers

USERS = {"alice": "alice-secret-1"}
DOMAIN = "example.test"


@unittest.skipUnless(os.geteuid() == 0, "Postfix tests need root")
class SubmissionProbeTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_program("postfix")
        cls.pf = servers.Postfix(USERS, domain=DOMAIN)
        cls.addClassCleanup(cls.pf.stop)
        cls.submission = f"127.0.0.1:{cls.pf.submission_port}"
        cls.plain = f"127.0.0.1:{cls.pf.port}"

    def probe(self, name, server, *options, env=None):
        r = self.ehlo(["probe", name, server, *options], env=env)
        self.assertNoLine(r, r"^C: (DATA|BDAT)")
        return r

    def test_size_refused_for_tls_is_inconclusive(self):
        r = self.probe("size", self.submission)
        self.assertExit(r, 0)
        self.assertLine(r, r"^S: 530 5\.7\.0 Must issue a STARTTLS")
        self.assertLine(r, r"^verdict: inconclusive - inconclusive: MAIL "
                           r"was refused with 530 5\.7\.0 \(the server "
                           r"wants TLS or a login first: probe again with "
                           r"--starttls")
        self.assertNoLine(r, r"^verdict: good")
        out = json.loads(self.probe("size", self.submission,
                                    "--json").stdout)
        self.assertEqual(out["verdict"], "inconclusive")

    def test_size_through_starttls(self):
        r = self.probe("size", self.submission, "--starttls",
                       "--cafile", self.pf.cert.cert)
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: STARTTLS$")
        # MAIL SIZE= went inside TLS, after the second EHLO, once.
        self.assertEqual(r.stdout.count("C: EHLO "), 2,
                         self.transcript(r))
        self.assertLine(r, r"^verdict: good - the advertised SIZE is "
                           r"enforced at MAIL; a small size is accepted$")
        self.assertLine(r, r"^  C: MAIL FROM:<> SIZE=1000001\n  S: 552 ")

    def test_relay_through_starttls_and_auth(self):
        # Without a login the submission port refuses the foreign domain.
        r = self.probe("relay", self.submission, "--starttls",
                       "--cafile", self.pf.cert.cert)
        self.assertExit(r, 0)
        self.assertLine(r, r"^verdict: good - relaying is refused")
        self.assertLine(r, r"^  S: 554 5\.7\.1 .*Relay access denied$")
        # After AUTH it relays, as a submission server should.
        r = self.probe("relay", self.submission, "--starttls",
                       "--cafile", self.pf.cert.cert, "--auth", "PLAIN",
                       "--user", "alice", "--to=someone@relayed.example",
                       env={"EHLO_PASSWORD": USERS["alice"]})
        self.assertExit(r, 0)
        self.assertLine(r, r"^S: 235 2\.7\.0 ")
        self.assertLine(r, r"^verdict: neutral - a foreign recipient was "
                           r"accepted after AUTH$")
        self.assertNoSecret(r, "alice", USERS["alice"])
        self.assertNotIn("status=sent", self.pf.log())

    def test_wrong_secret_fails(self):
        r = self.probe("size", self.submission, "--starttls",
                       "--cafile", self.pf.cert.cert, "--auth", "PLAIN",
                       "--user", "alice", env={"EHLO_PASSWORD": "wrong-9"})
        self.assertExit(r, 3)
        self.assertLine(r, r"^verdict: failed - authentication as alice "
                           r"failed; nothing was tested$")
        self.assertNoLine(r, r"^C: MAIL")

    def test_plain_text_probes_refuse_starttls(self):
        r = self.ehlo(["probe", "starttls-required", self.submission,
                       "--starttls"])
        self.assertExit(r, 2)
        self.assertLine(r, r"tests the plain-text session", "stderr")

    def test_vrfy_unknown_in_the_same_form(self):
        r = self.probe("vrfy-expn", self.plain, "--to=alice@example.test")
        self.assertLine(r, r"^C: VRFY alice@example\.test$")
        self.assertLine(r, r"^C: VRFY ehlo-probe-no-such-user-7f3a9c"
                           r"@example\.test$")
        r = self.probe("vrfy-expn", self.plain, "--to=<alice@example.test>")
        self.assertLine(r, r"^C: VRFY <ehlo-probe-no-such-user-7f3a9c"
                           r"@example\.test>$")


class SinkPreambleTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_program("smtp-sink")
        cls.sink = servers.SmtpSink()
        cls.addClassCleanup(cls.sink.stop)

    def test_starttls_not_offered(self):
        r = self.ehlo(["probe", "relay", f"127.0.0.1:{self.sink.port}",
                       "--starttls"])
        self.assertExit(r, 3)
        self.assertLine(r, r"^verdict: failed - the server did not offer "
                           r"STARTTLS, which --starttls requires; nothing "
                           r"was tested$")
        self.assertNoLine(r, r"^C: (MAIL|RCPT)")
        self.assertLine(r, r"^C: QUIT$")


if __name__ == "__main__":
    servers.main()
