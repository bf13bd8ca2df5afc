"""`ehlo check --format openmetrics` (issue 19 item 6), read by a real
OpenMetrics parser: Debian's python3-prometheus-client, the library a
Pushgateway client or an exporter in Python uses.

Against aiosmtpd with STARTTLS and a certificate from a test CA: smtp_up,
the state, a duration for every phase, the reply code of every step
(labels target and phase), and the certificate's expiry as the Unix time
openssl reads from the certificate itself.  A server that is down and a
usage error still give a valid exposition ending in "# EOF".
"""

import calendar
import os
import subprocess
import sys
import tempfile
import time
import unittest

import servers
import toolkit_peers

try:
    from prometheus_client.openmetrics.parser import \
        text_string_to_metric_families
except ImportError:
    text_string_to_metric_families = None


def check_metrics(*args):
    """(exit status, {family name: family}, {(name, labels): value},
    raw text)."""
    env = dict(os.environ)
    env.pop("EHLO_PASSWORD", None)
    proc = subprocess.run([servers.ehlo_bin(), "check", "--format",
                           "openmetrics", *args], capture_output=True,
                          text=True, env=env, timeout=30)
    families = {f.name: f for f in
                text_string_to_metric_families(proc.stdout)}
    samples = {}
    for fam in families.values():
        for s in fam.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return proc.returncode, families, samples, proc.stdout


def key(name, target, phase=None):
    labels = {"target": target}
    if phase is not None:
        labels["phase"] = phase
    return (name, tuple(sorted(labels.items())))


class OpenMetricsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if text_string_to_metric_families is None:
            raise unittest.SkipTest("python3-prometheus-client missing")
        servers.require_aiosmtpd()
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-om-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.ca = toolkit_peers.make_ca(cls.tmp.name, "root", "OM Root")
        cls.leaf = toolkit_peers.make_leaf(cls.tmp.name, "leaf", cls.ca,
                                           days=40)
        cls.peer = servers.Aiosmtpd(cert=cls.leaf)
        cls.addClassCleanup(cls.peer.stop)

    def not_after(self):
        out = subprocess.run(["openssl", "x509", "-noout", "-enddate",
                              "-in", self.leaf.cert], capture_output=True,
                             text=True, check=True).stdout
        when = out.strip().split("=", 1)[1]
        return calendar.timegm(time.strptime(when, "%b %d %H:%M:%S %Y GMT"))

    def test_ok_with_starttls(self):
        target = f"127.0.0.1:{self.peer.port}"
        code, fams, s, raw = check_metrics("--cafile", self.ca.cert, target)
        self.assertEqual(code, 0, raw)
        self.assertTrue(raw.endswith("# EOF\n"), raw)
        self.assertEqual(s[key("smtp_up", target)], 1)
        self.assertEqual(s[key("smtp_check_state", target)], 0)
        self.assertEqual(fams["smtp_duration_seconds"].unit, "seconds")
        phases = {dict(labels)["phase"]: v for (name, labels), v in s.items()
                  if name == "smtp_duration_seconds"}
        self.assertEqual(sorted(phases), sorted([
            "connect", "greeting", "ehlo", "starttls", "tls", "ehlo_tls",
            "quit", "total"]))
        self.assertGreaterEqual(phases["total"], phases["tls"])
        self.assertTrue(all(0 <= v < 10 for v in phases.values()), phases)
        codes = {dict(labels)["phase"]: v for (name, labels), v in s.items()
                 if name == "smtp_reply_code"}
        self.assertEqual(codes, {"greeting": 220, "ehlo": 250,
                                 "starttls": 220, "ehlo_tls": 250,
                                 "quit": 221})
        self.assertEqual(
            s[key("smtp_tls_cert_expiry_timestamp_seconds", target)],
            self.not_after())
        self.assertEqual(
            fams["smtp_tls_cert_expiry_timestamp_seconds"].unit, "seconds")

    def test_down_and_usage_still_parse(self):
        target = f"127.0.0.1:{servers.free_port()}"
        code, fams, s, raw = check_metrics(target)
        self.assertEqual(code, 2, raw)
        self.assertEqual(s[key("smtp_up", target)], 0)
        self.assertEqual(s[key("smtp_check_state", target)], 2)
        self.assertNotIn("smtp_tls_cert_expiry_timestamp_seconds", fams)
        code, fams, s, raw = check_metrics("-w", "soon", target)
        self.assertEqual(code, 3, raw)
        self.assertEqual(s[key("smtp_check_state", "")], 3)
        self.assertTrue(raw.endswith("# EOF\n"), raw)


if __name__ == "__main__":
    sys.exit(servers.main())
