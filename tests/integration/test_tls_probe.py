"""`ehlo probe tls` (issue 19 item 4) against a private Postfix whose
TLS offer is known: TLS 1.2 only, exactly two ciphers (one with RSA key
exchange and CBC/SHA-1, so weak), the server's own order.  Needs root
(Postfix); skipped otherwise."""

import json
import re

import servers

EXTRA = """\
smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.3
smtpd_tls_ciphers = high
tls_high_cipherlist = ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA
tls_preempt_cipherlist = yes
"""


class TlsProbeTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_root()
        cls.pf = servers.Postfix({"alice": "alice-secret-1"},
                                 extra_main_cf=EXTRA)
        cls.addClassCleanup(cls.pf.stop)

    def test_survey(self):
        r = self.ehlo(["probe", "tls", f"127.0.0.1:{self.pf.port}"],
                      timeout=120)
        self.assertExit(r, 1)  # a weak cipher is accepted
        self.assertLine(r, r"^  1\.0 +refused$")
        self.assertLine(r, r"^  1\.1 +refused$")
        self.assertLine(r, r"^  1\.2 +accepted$")
        self.assertLine(r, r"^  1\.3 +refused$")
        accepted = re.findall(r"^  (\S+) +accepted", r.stdout, re.M)
        self.assertEqual(accepted, ["1.2", "ECDHE-RSA-AES128-GCM-SHA256",
                                    "AES256-SHA"], self.transcript(r))
        self.assertLine(r, r"^  AES256-SHA +accepted  WEAK: RSA key "
                           r"exchange")
        self.assertNoLine(r, r"ECDHE-RSA-AES128-GCM-SHA256 .*WEAK")
        self.assertLine(r, r"^order: the server's own")
        self.assertLine(r, r"^verdict: PROBLEM - 1 weak choice$")

    def test_json_and_order(self):
        r = self.ehlo(["probe", "tls", "--json",
                       f"127.0.0.1:{self.pf.port}"], timeout=120)
        self.assertExit(r, 1)
        out = json.loads(r.stdout)
        self.assertTrue(out["server_order"])
        accepted = {o["name"] for o in out["offers"] if o["accepted"]}
        self.assertEqual(accepted, {"1.2", "ECDHE-RSA-AES128-GCM-SHA256",
                                    "AES256-SHA"})
        self.assertEqual(out["key"]["type"], "RSA")
        self.assertEqual(out["key"]["bits"], 2048)


if __name__ == "__main__":
    servers.main()
