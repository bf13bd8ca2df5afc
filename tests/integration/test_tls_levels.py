"""TLS levels and certificates that fail verification (issue 20, items
6 and 7), against aiosmtpd on loopback with certificates made here.

- opportunistic TLS (Postfix's "may"): without --starttls/--tls, `send`
  and `check` upgrade when STARTTLS is offered, report an unverified
  certificate prominently and go on; credentials are held back over it
  unless --insecure;
- --starttls (required) verifies strictly;
- a refused certificate is shown all the same: its chain in text and
  --json, with the exact reasons (expired on DATE, self-signed, name
  mismatch, unknown issuer) and advice that fits what was given;
- --insecure never prints a negative "days left" as if it were fine;
- /starttls sends the EHLO name the user gave again (item 5).
"""

import json
import os
import re
import subprocess
import tempfile

import servers
import toolkit_peers

EHLO_ONLY = "EHLO client.example\n"


def make_expired(directory):
    """A self-signed certificate for localhost and 127.0.0.1 that expired
    on 2020-02-01 (openssl ca -selfsign sets the dates exactly)."""
    key = os.path.join(directory, "exp-key.pem")
    csr = os.path.join(directory, "exp.csr")
    cert = os.path.join(directory, "exp.pem")
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", csr, "-subj",
                    "/CN=expired.example.test", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    work = toolkit_peers._ca_dir(directory, servers.Cert(cert, key))
    subprocess.run(["openssl", "ca", "-batch", "-notext", "-selfsign",
                    "-config", os.path.join(work, "ca.cnf"), "-keyfile", key,
                    "-in", csr, "-out", cert, "-extensions", "v3_leaf",
                    "-startdate", "20190101000000Z", "-enddate",
                    "20200201000000Z"], check=True, capture_output=True)
    return servers.Cert(cert, key)


class TlsLevelsTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        tmp = tempfile.TemporaryDirectory(prefix="ehlo-tlslevels-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = tmp.name
        cls.self_signed = servers.make_cert(tmp.name, name="self")
        cls.expired = make_expired(tmp.name)
        cls.peer = servers.Aiosmtpd(cert=cls.self_signed)
        cls.addClassCleanup(cls.peer.stop)
        cls.exp_peer = servers.Aiosmtpd(cert=cls.expired)
        cls.addClassCleanup(cls.exp_peer.stop)

    def send(self, *options, peer=None, env=None):
        peer = peer or self.peer
        before = len(peer.messages())
        r = self.ehlo(["send", *options, f"127.0.0.1:{peer.port}",
                       "--from", "alice@example.test",
                       "--to", "bob@example.test", "--subject", "levels"],
                      env=env)
        return r, peer.messages()[before:]

    # -- item 7: opportunistic TLS --------------------------------------

    def test_opportunistic_send_goes_on(self):
        r, got = self.send()
        self.assertExit(r, 0)
        self.assertEqual(len(got), 1, self.transcript(r))
        self.assertTrue(got[0]["tls"], "the message did not travel in TLS")
        self.assertLine(r, r"^C: STARTTLS$")
        self.assertLine(r, r"^\*: warning: certificate NOT verified "
                           r"\(self-signed certificate .*\): opportunistic "
                           r"TLS goes on encrypted")

    def test_required_tls_is_strict(self):
        r, got = self.send("--starttls")
        self.assertExit(r, 3)
        self.assertEqual(got, [])
        self.assertLine(r, r"TLS certificate verification failed for "
                           r"127\.0\.0\.1: self-signed certificate", "stderr")
        self.assertLine(r, r"--no-starttls", "stderr")
        self.assertNoLine(r, r"^C: MAIL")

    def test_no_credentials_over_unverified_tls(self):
        env = {"EHLO_PASSWORD": self.peer.password}
        r, got = self.send("--auth", "PLAIN", "--user", self.peer.user,
                           env=env)
        self.assertNotEqual(r.code, 0)
        self.assertEqual(got, [])
        self.assertNoLine(r, r"^C: AUTH")
        self.assertLine(r, r"not sending credentials: the server's "
                           r"certificate was not verified", "stderr")
        self.assertNoSecret(r, self.peer.user, self.peer.password)
        # --insecure says the user accepts an unverified server.
        r, got = self.send("--auth", "PLAIN", "--user", self.peer.user,
                           "--insecure", env=env)
        self.assertExit(r, 0)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["login"], self.peer.user)
        # So does giving its certificate as the trust anchor.
        r, got = self.send("--auth", "PLAIN", "--user", self.peer.user,
                           "--cafile", self.self_signed.cert, env=env)
        self.assertExit(r, 0)
        self.assertEqual(got[0]["login"], self.peer.user)

    def check(self, *args, peer=None):
        peer = peer or self.peer
        r = self.ehlo(["check", f"127.0.0.1:{peer.port}", *args])
        self.assertEqual(len(r.stdout.splitlines()), 1, self.transcript(r))
        return r

    def test_opportunistic_check_is_ok_with_warning(self):
        r = self.check()
        self.assertExit(r, 0)
        self.assertLine(r, r"^SMTP OK - certificate NOT verified "
                           r"\(opportunistic TLS\): self-signed")
        r = self.check("--starttls")
        self.assertExit(r, 2)
        self.assertLine(r, r"^SMTP CRITICAL - TLS certificate verification "
                           r"failed")

    # -- item 6: a refused certificate is shown --------------------------

    def test_refused_chain_in_text(self):
        r = self.ehlo(["run", "--starttls",
                       f"127.0.0.1:{self.exp_peer.port}"], EHLO_ONLY)
        self.assertExit(r, 3)
        self.assertLine(r, r"^\*: certificate 1/1: CN=expired\.example\.test;"
                           r" issuer CN=expired\.example\.test; SAN "
                           r"DNS:localhost, IP:127\.0\.0\.1; valid "
                           r"2019-01-01 00:00:00 UTC \.\. 2020-02-01 "
                           r"00:00:00 UTC \(expired \d+ days ago\)")
        err = r.stderr
        self.assertRegex(err, r"certificate has expired \(certificate 1, "
                              r"CN=expired\.example\.test: expired on "
                              r"2020-02-01 00:00:00 UTC, \d+ days ago\)")
        self.assertRegex(err, r"self-signed certificate \(certificate 1, "
                              r"CN=expired\.example\.test: self-signed")
        self.assertNoLine(r, r"^C: MAIL")

    def test_refused_chain_in_json(self):
        r = self.ehlo(["run", "--starttls", "--json",
                       f"127.0.0.1:{self.exp_peer.port}"], EHLO_ONLY)
        self.assertExit(r, 3)
        events = [json.loads(x) for x in r.stdout.splitlines()]
        summary = events[-1]
        self.assertEqual(summary["type"], "summary")
        tls = summary["tls"]
        self.assertFalse(tls["verified"])
        self.assertTrue(tls["refused"])
        self.assertEqual(len(tls["chain"]), 1)
        leaf = tls["chain"][0]
        self.assertEqual(leaf["subject"], "CN=expired.example.test")
        self.assertEqual(leaf["not_after"], "2020-02-01T00:00:00.000Z")
        self.assertLess(leaf["days_left"], -1000)
        self.assertIn("expired on 2020-02-01", tls["verify_error"])
        self.assertIn("self-signed", tls["verify_error"])

    def test_wrong_cafile_reasons_and_advice(self):
        r = self.ehlo(["run", "--starttls", "--cafile", self.self_signed.cert,
                       f"localhost:{self.peer.port}"], EHLO_ONLY)
        self.assertExit(r, 0)  # a name the certificate lists
        other = servers.make_cert(self.tmp, cn="other.example",
                                  san="DNS:other.example", name="other")
        r = self.ehlo(["run", "--starttls", "--cafile", other.cert,
                       f"127.0.0.1:{self.peer.port}"], EHLO_ONLY)
        self.assertExit(r, 3)
        self.assertLine(r, r"self-signed certificate \(certificate 1, "
                           r"CN=localhost: self-signed", "stderr")
        # The advice fits: a CA file was given, and it is the wrong one.
        self.assertLine(r, r"The CA file given with --cafile does not vouch "
                           r"for this certificate", "stderr")
        self.assertNoLine(r, r"pass its CA with --cafile", "stderr")

    def test_cafile_with_expired_certificate(self):
        r = self.check("--starttls", "--cafile", self.expired.cert,
                       peer=self.exp_peer)
        self.assertExit(r, 2)
        line = r.stdout
        self.assertIn("expired on 2020-02-01", line)
        self.assertIn("trusting it with --cafile does not change that",
                      line)
        self.assertNotIn("pass its CA with --cafile", line)
        self.assertRegex(line, r"\| .*cert_days=-\d+;")

    def test_insecure_expired_days(self):
        r = self.check("--insecure", peer=self.exp_peer)
        self.assertExit(r, 2)
        self.assertNotRegex(r.stdout, r"-\d+ days left")
        self.assertRegex(r.stdout, r"expired \d+ days ago")
        r = self.ehlo(["run", "--starttls", "--insecure",
                       f"127.0.0.1:{self.exp_peer.port}"], EHLO_ONLY)
        self.assertExit(r, 0)
        self.assertNoLine(r, r"-\d+ days")
        self.assertLine(r, r"^\*: certificate 1/1: .*\(expired \d+ days "
                           r"ago\)")

    # -- issue 20 item 5: /starttls keeps the EHLO name -----------------

    def test_starttls_reuses_the_ehlo_name(self):
        before = len(self.peer.messages())
        r = self.ehlo(["run", "--cafile", self.self_signed.cert,
                       f"127.0.0.1:{self.peer.port}"],
                      "EHLO admin.example.test\n/starttls\n"
                      "MAIL FROM:<a@example.test>\nRCPT TO:<b@example.test>\n"
                      "DATA\nSubject: name\n\nx\n.\n")
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: EHLO admin\.example\.test$")
        got = self.peer.messages()[before:]
        self.assertEqual(len(got), 1, self.transcript(r))
        self.assertTrue(got[0]["tls"])
        # What the server was told after TLS, not this machine's name.
        self.assertEqual(got[0]["helo"], "admin.example.test")
        self.assertEqual(len(re.findall(r"^C: EHLO admin\.example\.test$",
                                        r.stdout, re.M)), 2,
                         self.transcript(r))


if __name__ == "__main__":
    servers.main()
