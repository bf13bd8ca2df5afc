"""Certificate verification by `ehlo run`, against aiosmtpd.

Verification is the default: a self-signed certificate is refused unless
it is made a trust anchor (--cafile) or checking is off (--insecure), and
the name checked is the one typed on the command line (an IP address is
checked against the IP entries of subjectAltName).
"""

import tempfile

import servers

SESSION = """\
MAIL FROM:<alice@example.test>
RCPT TO:<bob@example.test>
DATA
Subject: certificate check

hello
.
"""

VERIFY_FAILURE = r"(?i)^ehlo: .*(certificate|verif)"


class CertificateTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="ehlo-certs-")
        cls.addClassCleanup(tmp.cleanup)
        cls.good = servers.make_cert(tmp.name, name="good")
        cls.wrong = servers.make_cert(tmp.name, cn="wrong.example",
                                      san="DNS:wrong.example", name="wrong")
        cls.name_only = servers.make_cert(tmp.name, san="DNS:localhost",
                                          name="name-only")
        cls.peers = {}
        for label, cert in (("good", cls.good), ("wrong", cls.wrong),
                            ("name_only", cls.name_only)):
            peer = servers.Aiosmtpd(cert=cert)
            cls.addClassCleanup(peer.stop)
            cls.peers[label] = peer

    def ehlo(self, args, script_text=SESSION, **kwargs):
        return super().ehlo(args, script_text, **kwargs)

    def starttls(self, label, *options, host="127.0.0.1"):
        """Run SESSION over STARTTLS to peer label; returns (result,
        number of messages the peer accepted)."""
        peer = self.peers[label]
        before = len(peer.messages())
        r = self.ehlo(["run", "--starttls", *options,
                       f"{host}:{peer.port}"])
        return r, len(peer.messages()) - before

    def assertRefused(self, r, delivered):
        self.assertExit(r, 3)
        self.assertEqual(delivered, 0, "a message was sent anyway")
        self.assertNoLine(r, r"^C: MAIL")

    def test_self_signed_refused_by_default(self):
        r, delivered = self.starttls("good")
        self.assertRefused(r, delivered)
        self.assertLine(r, VERIFY_FAILURE, stream="stderr")
        self.assertTrue("--cafile" in r.stderr or "--insecure" in r.stderr,
                        "stderr should say how to proceed\n" +
                        self.transcript(r))

    def test_self_signed_refused_with_implicit_tls(self):
        peer = self.peers["good"]
        r = self.ehlo(["run", "--tls", f"127.0.0.1:{peer.tls_port}"],
                      "EHLO client.example.test\n" + SESSION)
        self.assertExit(r, 3)
        self.assertLine(r, VERIFY_FAILURE, stream="stderr")

    def test_cafile_accepts(self):
        r, delivered = self.starttls("good", "--cafile", self.good.cert)
        self.assertExit(r, 0)
        self.assertEqual(delivered, 1)
        self.assertLine(r, r"^\*: .*TLS")

    def test_cafile_accepts_implicit_tls(self):
        peer = self.peers["good"]
        r = self.ehlo(["run", "--tls", "--cafile", self.good.cert,
                       f"127.0.0.1:{peer.tls_port}"],
                      "EHLO client.example.test\n" + SESSION)
        self.assertExit(r, 0)

    def test_insecure_accepts(self):
        r, delivered = self.starttls("good", "--insecure")
        self.assertExit(r, 0)
        self.assertEqual(delivered, 1)

    def test_other_anchor_refused(self):
        r, delivered = self.starttls("good", "--cafile", self.wrong.cert)
        self.assertRefused(r, delivered)
        self.assertLine(r, VERIFY_FAILURE, stream="stderr")

    def test_host_name_mismatch_refused(self):
        # Trusted, but issued for wrong.example, not 127.0.0.1.
        r, delivered = self.starttls("wrong", "--cafile", self.wrong.cert)
        self.assertRefused(r, delivered)
        self.assertLine(r, r"(?i)^ehlo: .*(name|host|match|127\.0\.0\.1|"
                        r"verif)", stream="stderr")
        r, delivered = self.starttls("wrong", "--insecure")
        self.assertExit(r, 0)

    def test_name_checked_is_the_name_typed(self):
        # The certificate names localhost only, with no IP entry.
        r, delivered = self.starttls("name_only", "--cafile",
                                     self.name_only.cert, host="localhost")
        self.assertExit(r, 0)
        self.assertEqual(delivered, 1)
        r, delivered = self.starttls("name_only", "--cafile",
                                     self.name_only.cert, host="127.0.0.1")
        self.assertRefused(r, delivered)


if __name__ == "__main__":
    servers.require_aiosmtpd()
    servers.main()
