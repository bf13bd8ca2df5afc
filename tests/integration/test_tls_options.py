"""TLS options of issue 19 against aiosmtpd on loopback, checking what
the server really negotiated and received:

- --tls-min/--tls-max, --ciphers (TLS 1.2), --ciphersuites (TLS 1.3),
  --groups, --sni NAME / --no-sni, and what the text and --json show of
  a handshake (signature algorithm, server key, resumed, each
  certificate's SHA-256 fingerprint);
- --cert/--key: a client certificate (an encrypted key's passphrase from
  EHLO_KEY_PASSPHRASE), and a server that demands one and gets none;
- --pin sha256//BASE64: the session ends on a mismatch.
"""

import base64
import hashlib
import json
import os
import socket
import subprocess
import tempfile
import time

import dnsserver
import serverbase
import servers
import toolkit_peers

SESSION = """\
MAIL FROM:<alice@example.test>
RCPT TO:<bob@example.test>
DATA
Subject: options

hello
.
"""


def spki_pin(cert_path):
    """curl's sha256//BASE64 of a certificate's public key."""
    der = subprocess.run(
        ["openssl", "x509", "-in", cert_path, "-pubkey", "-noout"],
        check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=der, check=True, capture_output=True).stdout
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def make_client_cert(directory, ca, cn):
    """A client certificate (extendedKeyUsage clientAuth) signed by ca."""
    key = os.path.join(directory, "client-key.pem")
    csr = os.path.join(directory, "client.csr")
    cert = os.path.join(directory, "client-cert.pem")
    ext = os.path.join(directory, "client.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", csr, "-subj",
                    f"/CN={cn}"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca.cert,
                    "-CAkey", ca.key, "-CAcreateserial", "-days", "30",
                    "-extfile", ext, "-out", cert], check=True,
                   capture_output=True)
    return servers.Cert(cert, key)


class TlsOptionsTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        tmp = tempfile.TemporaryDirectory(prefix="ehlo-tlsopts-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = tmp.name
        cls.cert = servers.make_cert(tmp.name, name="server")
        cls.peer = servers.Aiosmtpd(cert=cls.cert)
        cls.addClassCleanup(cls.peer.stop)
        # A client CA, a client certificate it signed (key encrypted),
        # and a peer that demands such a certificate.
        cls.client_ca = toolkit_peers.make_ca(tmp.name, "clientca",
                                              "ehlo client CA")
        cls.client = make_client_cert(tmp.name, cls.client_ca,
                                      "client.example.test")
        cls.enc_key = os.path.join(tmp.name, "client-enc-key.pem")
        subprocess.run(["openssl", "pkey", "-in", cls.client.key, "-aes256",
                        "-passout", "pass:key-secret-7", "-out",
                        cls.enc_key], check=True, capture_output=True)
        cls.ccpeer = servers.Aiosmtpd(cert=cls.cert,
                                      client_ca=cls.client_ca.cert)
        cls.addClassCleanup(cls.ccpeer.stop)

    def run_tls(self, *options, peer=None, host="127.0.0.1", env=None,
                json_out=False):
        peer = peer or self.peer
        before = len(peer.messages())
        args = ["run", "--starttls", "--cafile", self.cert.cert, *options]
        if json_out:
            args.append("--json")
        r = self.ehlo(args + [f"{host}:{peer.port}"], SESSION, env=env)
        return r, peer.messages()[before:]

    def summary(self, r):
        return json.loads(r.stdout.splitlines()[-1])["tls"]

    # -- versions and algorithms ------------------------------------------

    def test_versions(self):
        r, got = self.run_tls("--tls-max", "1.2", json_out=True)
        self.assertExit(r, 0)
        self.assertEqual(self.summary(r)["version"], "TLSv1.2")
        r, got = self.run_tls("--tls-min", "1.3", json_out=True)
        self.assertExit(r, 0)
        self.assertEqual(self.summary(r)["version"], "TLSv1.3")
        # Python's server refuses 1.1: a clear failure, nothing sent.
        r, got = self.run_tls("--tls-max", "1.1")
        self.assertExit(r, 3)
        self.assertEqual(got, [])
        self.assertLine(r, r"TLS handshake .* failed: .*--tls-max 1\.1",
                        "stderr")

    def test_bad_values_are_usage_errors(self):
        for args, pattern in (
                (["--tls-min", "1.4"], r"--tls-min wants a TLS version"),
                (["--tls-min", "1.3", "--tls-max", "1.2"],
                 r"--tls-min 1\.3 is above --tls-max 1\.2"),
                (["--ciphers", "NO-SUCH-CIPHER"], r"--ciphers "
                 r"\"NO-SUCH-CIPHER\": OpenSSL knows no TLS 1\.2 cipher"),
                (["--ciphersuites", "TLS_BOGUS"], r"--ciphersuites"),
                (["--groups", "nogroup"], r"--groups \"nogroup\""),
                (["--pin", "md5//x"], r"--pin wants sha256//BASE64"),
                (["--key", self.client.key], r"--key .* needs --cert"),
                (["--sni", "a.example", "--no-sni"], r"contradict")):
            r = self.ehlo(["run", *args, f"127.0.0.1:{self.peer.port}"],
                          "QUIT\n")
            self.assertExit(r, 2)
            self.assertLine(r, pattern, "stderr")
            self.assertNoLine(r, r"^S: 220")  # nothing was connected

    def test_ciphers_and_groups(self):
        r, got = self.run_tls("--tls-max", "1.2", "--ciphers",
                              "ECDHE-RSA-CHACHA20-POLY1305", "--groups",
                              "P-384", json_out=True)
        self.assertExit(r, 0)
        tls = self.summary(r)
        self.assertEqual(tls["cipher"], "ECDHE-RSA-CHACHA20-POLY1305")
        self.assertEqual(tls["group"], "secp384r1")
        r, got = self.run_tls("--ciphersuites", "TLS_CHACHA20_POLY1305_SHA256",
                              json_out=True)
        self.assertExit(r, 0)
        self.assertEqual(self.summary(r)["cipher"],
                         "TLS_CHACHA20_POLY1305_SHA256")

    def test_details_in_text_and_json(self):
        r, got = self.run_tls(json_out=True)
        self.assertExit(r, 0)
        tls = self.summary(r)
        self.assertRegex(tls["sig_alg"], r"^RSA-PSS\+SHA256$")
        self.assertEqual(tls["peer_key"], "RSA 2048")
        self.assertFalse(tls["resumed"])
        self.assertEqual(tls["ocsp"], "none")
        fp = subprocess.run(["openssl", "x509", "-in", self.cert.cert,
                             "-noout", "-fingerprint", "-sha256"],
                            check=True, capture_output=True,
                            text=True).stdout.strip().split("=", 1)[1]
        self.assertEqual(tls["chain"][0]["sha256"], fp)
        self.assertEqual("sha256//" + tls["chain"][0]["spki_sha256"],
                         spki_pin(self.cert.cert))
        r, got = self.run_tls()
        self.assertLine(r, r"^\*: TLS parameters: TLSv1\.3, .*signature "
                           r"RSA-PSS\+SHA256, server key RSA 2048")
        self.assertLine(r, r"^\*: certificate 1/1: .*; SHA-256 " +
                        fp.replace(":", r"\:") + "$")

    def test_sni(self):
        r, got = self.run_tls(host="localhost")
        self.assertExit(r, 0)
        self.assertEqual(got[0]["sni"], "localhost")
        r, got = self.run_tls("--sni", "mail.example.test", host="localhost")
        self.assertExit(r, 0)
        self.assertEqual(got[0]["sni"], "mail.example.test")
        r, got = self.run_tls("--no-sni", host="localhost")
        self.assertExit(r, 0)
        self.assertIsNone(got[0]["sni"])

    # -- client certificates ----------------------------------------------

    def test_client_certificate(self):
        r, got = self.run_tls("--cert", self.client.cert, "--key",
                              self.client.key, peer=self.ccpeer)
        self.assertExit(r, 0)
        self.assertEqual(got[0]["client_cert"], "client.example.test")

    def test_encrypted_key(self):
        env = {"EHLO_KEY_PASSPHRASE": "key-secret-7"}
        r, got = self.run_tls("--cert", self.client.cert, "--key",
                              self.enc_key, peer=self.ccpeer, env=env)
        self.assertExit(r, 0)
        self.assertEqual(got[0]["client_cert"], "client.example.test")
        self.assertNotIn("key-secret-7", r.stdout + r.stderr)
        r, got = self.run_tls("--cert", self.client.cert, "--key",
                              self.enc_key, peer=self.ccpeer,
                              env={"EHLO_KEY_PASSPHRASE": "wrong"})
        self.assertExit(r, 2)
        self.assertLine(r, r"--key .*wrong passphrase", "stderr")

    def test_certificate_demanded(self):
        # aiosmtpd asks for a certificate and drops the connection.
        r, got = self.run_tls(peer=self.ccpeer)
        self.assertExit(r, 3)
        self.assertEqual(got, [])
        self.assertLine(r, r"^\*: warning: the server asked for a client "
                           r"certificate and none was sent; .*--cert FILE")
        # openssl s_server -Verify says so with the TLS 1.3 alert.
        port = serverbase.free_port()
        proc = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{port}",
             "-cert", self.cert.cert, "-key", self.cert.key, "-Verify", "1",
             "-CAfile", self.client_ca.cert, "-quiet"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        r = self.ehlo(["run", "--tls", "--cafile", self.cert.cert,
                       "--timeout", "5", f"127.0.0.1:{port}"], "QUIT\n")
        self.assertExit(r, 3)
        self.assertLine(r, r"certificate required.*The server demands a "
                           r"client certificate \(TLS alert: certificate "
                           r"required\): give one with --cert FILE --key "
                           r"FILE", "stderr")

    # -- pinning ----------------------------------------------------------

    def test_pin(self):
        good = spki_pin(self.cert.cert)
        other = spki_pin(self.client.cert)
        r, got = self.run_tls("--pin", good)
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: public key pin matched: " +
                        good.replace("+", r"\+"))
        r, got = self.run_tls("--pin", f"{other};{good}")
        self.assertExit(r, 0)
        r, got = self.run_tls("--pin", other)
        self.assertExit(r, 3)
        self.assertEqual(got, [])
        self.assertLine(r, r"public key pin mismatch", "stderr")
        # Even --insecure does not override a pin.
        r, got = self.run_tls("--pin", other, "--insecure")
        self.assertExit(r, 3)


class DaneTest(servers.EhloTestCase):
    """--dane against aiosmtpd with a self-signed certificate, the TLSA
    records served by a DNS responder on loopback (--dns)."""

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        tmp = tempfile.TemporaryDirectory(prefix="ehlo-dane-")
        cls.addClassCleanup(tmp.cleanup)
        cls.cert = servers.make_cert(tmp.name, name="server")
        cls.other = servers.make_cert(tmp.name, name="other")
        cls.peer = servers.Aiosmtpd(cert=cls.cert)
        cls.addClassCleanup(cls.peer.stop)
        cls.peer2 = servers.Aiosmtpd(cert=cls.cert)
        cls.addClassCleanup(cls.peer2.stop)
        spki = base64.b64decode(spki_pin(cls.cert.cert)[8:]).hex()
        wrong = base64.b64decode(spki_pin(cls.other.cert)[8:]).hex()
        port = cls.peer.port
        zone = {
            "localhost": [("A", "127.0.0.1")],
            f"_{port}._tcp.localhost": [("TLSA", 3, 1, 1, wrong),
                                        ("TLSA", 3, 1, 1, spki)],
            f"_{cls.peer2.port}._tcp.localhost": [("TLSA", 3, 1, 1, wrong)],
        }
        cls.dns = dnsserver.DnsServer(zone)
        cls.addClassCleanup(cls.dns.stop)
        cls.spki, cls.wrong = spki, wrong

    def run_dane(self, host, *options, peer=None):
        peer = peer or self.peer
        before = len(peer.messages())
        r = self.ehlo(["run", "--starttls", "--dane", "--dns",
                       f"127.0.0.1:{self.dns.port}", *options,
                       f"{host}:{peer.port}"], SESSION)
        return r, peer.messages()[before:]

    def test_matching_record(self):
        r, got = self.run_dane("localhost")
        self.assertExit(r, 0)
        self.assertEqual(len(got), 1)
        self.assertIn((f"_{self.peer.port}._tcp.localhost", "TLSA"),
                      [(q[0], q[1]) for q in self.dns.queries])
        name = rf"_{self.peer.port}\._tcp\.localhost"
        self.assertLine(r, rf"^\*: DANE: TLSA {name} \[1/2\]: 3 1 1 "
                           rf"{self.wrong} \(usage DANE-EE, selector SPKI, "
                           r"matching SHA2-256\): no match$")
        self.assertLine(r, rf"^\*: DANE: TLSA {name} \[2/2\]: 3 1 1 "
                           rf"{self.spki} .*: MATCHED$")
        self.assertLine(r, r"certificate verified")
        r = self.ehlo(["run", "--starttls", "--dane", "--json", "--dns",
                       f"127.0.0.1:{self.dns.port}",
                       f"localhost:{self.peer.port}"], SESSION)
        dane = json.loads(r.stdout.splitlines()[-1])["tls"]["dane"]
        self.assertEqual(dane["matched"], 1)
        self.assertEqual(len(dane["records"]), 2)

    def test_no_matching_record(self):
        r, got = self.run_dane("localhost", peer=self.peer2)
        self.assertExit(r, 3)
        self.assertEqual(got, [])
        self.assertLine(r, r"^\*: DANE: TLSA .*: no match$")
        self.assertLine(r, r"no matching DANE TLSA records \(none of the 1 "
                           r"TLSA records of _\d+\._tcp\.localhost "
                           r"matches", "stderr")

    def test_no_records(self):
        r, got = self.run_dane("127.0.0.1")
        # No TLSA: DANE does not apply; the self-signed certificate is
        # then refused as without --dane.
        self.assertExit(r, 3)
        self.assertLine(r, r"^\*: DANE: no TLSA records at _\d+\._tcp\."
                           r"127\.0\.0\.1: DANE does not apply")


if __name__ == "__main__":
    servers.main()
