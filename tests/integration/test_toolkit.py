"""The troubleshooting toolkit: timing, TLS inspection, MX routing,
probes and `ehlo check`, against real peers on loopback.

- timing and a greet pause: a small server that waits before its 220
  and answers early talkers with 554 (toolkit_peers.GreetPauseServer);
- TLS: aiosmtpd with certificates made here with the openssl CLI: a
  chain with an intermediate, an expired certificate, a name mismatch,
  a self-signed one, a missing intermediate;
- MX: a DNS responder on 127.0.0.1 (dnsserver.py) serving MX records of
  different preference, one of them dead; ehlo's resolver is pointed at
  it with --dns, so no query leaves the machine;
- probes: a private Postfix configured both ways (needs root; those
  tests are skipped otherwise), smtp-sink and the greet-pause server;
- `ehlo check`: thresholds, certificate days and exit codes;
- `ehlo export --format swaks|curl|script`: the exported command, run,
  repeats the session against the practice server.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import dnsserver
import servers
import toolkit_peers

EHLO_ONLY = "EHLO client.example\n"


def perfdata(line):
    """{label: value} from the perfdata of a check's output line."""
    _, _, perf = line.partition("|")
    out = {}
    for item in perf.split():
        label, _, rest = item.partition("=")
        out[label] = float(re.match(r"[-0-9.]+", rest).group(0))
    return out


class TimingTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.pause = toolkit_peers.GreetPauseServer(pause=2.2)
        cls.addClassCleanup(cls.pause.stop)
        cls.sink = servers.SmtpSink()
        cls.addClassCleanup(cls.sink.stop)

    def test_reply_latency_on_last_line(self):
        r = self.ehlo(["run", "--timing", f"127.0.0.1:{self.sink.port}"],
                      "EHLO client.example\nNOOP\n")
        self.assertExit(r, 0)
        # Every reply's last line carries its round trip; others do not.
        self.assertLine(r, r"^ *[0-9.]+ S: 220 .*   \(\+[0-9.]+ ms\)$")
        self.assertLine(r, r"^ *[0-9.]+ S: 250 2.0.0 Ok   \(\+[0-9.]+ ms\)$")
        self.assertNoLine(r, r"S: 250-.*\(\+")
        self.assertNoLine(r, r"greet-pause")

    def test_late_greeting_is_explained(self):
        r = self.ehlo(["run", "--timing", f"127.0.0.1:{self.pause.port}"],
                      EHLO_ONLY)
        self.assertExit(r, 0)
        m = re.search(r"S: 220 pause.example.test ESMTP   \(\+([0-9.]+) ms\)",
                      r.stdout)
        self.assertIsNotNone(m, self.transcript(r))
        self.assertGreaterEqual(float(m.group(1)), 2000)
        self.assertLine(r, r"^ *[0-9.]+ \*: the greeting took 2\.[0-9] s: "
                           r"greet-pause / tarpit\? \(or an overloaded "
                           r"server\)$")

    def test_json_latency(self):
        r = self.ehlo(["run", "--json", f"127.0.0.1:{self.pause.port}"],
                      EHLO_ONLY)
        self.assertExit(r, 0)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        greeting = [e for e in events if e.get("type") == "reply" and
                    e.get("stage") == "greeting"]
        self.assertEqual(len(greeting), 1)
        self.assertGreaterEqual(greeting[0]["latency_ms"], 2000)
        self.assertTrue(any("greet-pause" in e.get("text", "")
                            for e in events if e.get("type") == "note"))

    def test_early_talker_is_detected(self):
        before = self.pause.early_talkers
        r = self.ehlo(["probe", "pipelining", f"127.0.0.1:{self.pause.port}"])
        self.assertExit(r, 0)
        self.assertEqual(self.pause.early_talkers, before + 1)
        self.assertLine(r, r"^\*: 554 to a client that spoke before the "
                           r"greeting: it punishes early talkers$")
        self.assertLine(r, r"^verdict: neutral - PIPELINING is not "
                           r"advertised; it punishes clients that talk "
                           r"before the greeting$")
        self.assertLine(r, r"^  \[connection 2\] S: 554 5\.5\.1 ")
        self.assertNoLine(r, r"^C: (DATA|BDAT)")

    def test_auth_offered_in_plain_text(self):
        r = self.ehlo(["run", f"127.0.0.1:{self.sink.port}"], EHLO_ONLY)
        self.assertLine(r, r"^\*: AUTH offered in plain text, no STARTTLS: "
                           r"credentials would go unencrypted$")
        for line in r.stdout.splitlines():
            if line.startswith("*: AUTH"):
                self.assertLessEqual(len(line), 78)


class TlsInspectionTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        tmp = tempfile.TemporaryDirectory(prefix="ehlo-tlsinspect-")
        cls.addClassCleanup(tmp.cleanup)
        d = tmp.name
        cls.root = toolkit_peers.make_ca(d, "root", "ehlo test root")
        inter = toolkit_peers.make_ca(d, "inter", "ehlo test intermediate",
                                      parent=cls.root)
        certs = {
            "chain": toolkit_peers.make_leaf(d, "chain", inter,
                                             chain=(inter,)),
            "no_inter": toolkit_peers.make_leaf(d, "noint", inter),
            "expired": toolkit_peers.make_leaf(
                d, "expired", cls.root, start="20200101000000Z",
                end="20200201000000Z"),
            "soon": toolkit_peers.make_leaf(d, "soon", cls.root, days=5),
            "wrong": toolkit_peers.make_leaf(
                d, "wrong", cls.root, cn="wrong.example",
                san="DNS:wrong.example"),
            "self": servers.make_cert(d, name="selfsigned"),
        }
        cls.peers = {}
        for label, cert in certs.items():
            peer = servers.Aiosmtpd(cert=cert)
            cls.addClassCleanup(peer.stop)
            cls.peers[label] = peer

    def run_tls(self, label, *options, json_out=False):
        peer = self.peers[label]
        args = ["run", "--starttls", *options]
        if json_out:
            args.append("--json")
        return self.ehlo(args + [f"127.0.0.1:{peer.port}"], EHLO_ONLY)

    def test_chain_with_intermediate(self):
        r = self.run_tls("chain", "--cafile", self.root.cert)
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: TLS established: TLSv1\.[23] .*, "
                           r"certificate verified$")
        self.assertLine(r, r"^\*: TLS parameters: TLSv1\.[23], .*, key "
                           r"exchange .*, SNI \(none\)")
        self.assertLine(r, r"^\*: certificate 1/2: CN=localhost; issuer "
                           r"CN=ehlo test intermediate; SAN DNS:localhost, "
                           r"IP:127\.0\.0\.1; valid .* \(\d+ days left\); "
                           r"RSA 2048 bit; sha256WithRSAEncryption; "
                           r"SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$")
        self.assertLine(r, r"^\*: certificate 2/2: CN=ehlo test "
                           r"intermediate; issuer CN=ehlo test root;")
        self.assertNoLine(r, r"warning: .*(certificate|mismatch)")

    def test_chain_in_json_summary(self):
        r = self.run_tls("chain", "--cafile", self.root.cert, json_out=True)
        self.assertExit(r, 0)
        summary = json.loads(r.stdout.splitlines()[-1])
        tls = summary["tls"]
        self.assertTrue(tls["verified"])
        self.assertIn("group", tls)
        self.assertIsNone(tls["sni"])  # an IP literal: no SNI
        self.assertEqual(len(tls["chain"]), 2)
        leaf = tls["chain"][0]
        self.assertEqual(leaf["key"], {"type": "RSA", "bits": 2048})
        self.assertEqual(leaf["sig_alg"], "sha256WithRSAEncryption")
        self.assertRegex(leaf["not_before"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(tls["chain"][1]["subject"], "CN=ehlo test "
                         "intermediate")

    def test_missing_intermediate(self):
        r = self.run_tls("no_inter", "--cafile", self.root.cert)
        self.assertExit(r, 3)
        self.assertLine(r, r"(?i)^ehlo: TLS certificate verification failed"
                           r".*issuer", "stderr")
        r = self.run_tls("no_inter", "--cafile", self.root.cert,
                         "--insecure")
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: warning: the server sent only its own "
                           r"certificate and its issuer \(CN=ehlo test "
                           r"intermediate\) is not a trusted root: is an "
                           r"intermediate certificate missing")

    def test_expired(self):
        r = self.run_tls("expired", "--cafile", self.root.cert)
        self.assertExit(r, 3)
        self.assertLine(r, r"^ehlo: TLS certificate verification failed "
                           r"for 127\.0\.0\.1: certificate has expired",
                        "stderr")
        self.assertNoLine(r, r"^\*: TLS established")
        r = self.run_tls("expired", "--cafile", self.root.cert, "--insecure")
        self.assertExit(r, 0)
        self.assertLine(r, r"certificate NOT verified: certificate has "
                           r"expired")
        self.assertLine(r, r"^\*: certificate 1/1: .*\(expired \d+ days "
                           r"ago\)")
        self.assertLine(r, r"^\*: warning: certificate 1 \(CN=localhost\) "
                           r"expired: not valid after 2020-02-01 ")

    def test_expiring_soon(self):
        r = self.run_tls("soon", "--cafile", self.root.cert)
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: warning: certificate 1 \(CN=localhost\) "
                           r"expires in [45] days? .*: renew it now$")

    def test_name_mismatch(self):
        r = self.run_tls("wrong", "--cafile", self.root.cert)
        self.assertExit(r, 3)
        self.assertLine(r, r"hostname mismatch|IP address mismatch",
                        "stderr")
        r = self.run_tls("wrong", "--cafile", self.root.cert, "--insecure")
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: warning: name mismatch: the certificate "
                           r"does not cover 127\.0\.0\.1 \(it is for "
                           r"DNS:wrong\.example\)")
        self.assertLine(r, r"^\*: warning: --insecure")

    def test_self_signed(self):
        r = self.run_tls("self")
        self.assertExit(r, 3)
        self.assertLine(r, r"self-signed certificate", "stderr")
        r = self.run_tls("self", "--insecure")
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: warning: the certificate is self-signed")
        self.assertNoLine(r, r"name mismatch")


class MxTest(servers.EhloTestCase):
    """--mx DOMAIN:PORT with a loopback resolver.  The dead MX is ::1,
    where nothing listens on the sink's port (smtp-sink listens on
    127.0.0.1 only): refused, or unreachable without IPv6."""

    @classmethod
    def setUpClass(cls):
        cls.sink = servers.SmtpSink(hostname="mx2.example.test")
        cls.addClassCleanup(cls.sink.stop)
        zone = {
            "example.test": [("MX", 30, "mx3.example.test"),
                             ("MX", 10, "dead.example.test"),
                             ("MX", 20, "mx2.example.test")],
            "dead.example.test": [("AAAA", "::1")],
            "mx2.example.test": [("A", "127.0.0.1")],
            "mx3.example.test": [("A", "127.0.0.1")],
            "allDead.test": [("MX", 10, "dead.example.test")],
            "implicit.test": [("A", "127.0.0.1")],
            "nomail.test": [("MX", 0, ".")],
            "noaddr.test": [("MX", 10, "gone.noaddr.test")],
        }
        cls.dns = dnsserver.DnsServer(zone)
        cls.addClassCleanup(cls.dns.stop)

    def mx(self, domain, *options, script=EHLO_ONLY):
        return self.ehlo(["run", "--dns", self.dns.address, "--timeout", "5",
                          *options, "--mx", f"{domain}:{self.sink.port}"],
                         script)

    def test_tries_mx_in_preference_order(self):
        r = self.mx("example.test")
        self.assertExit(r, 0)
        notes = [line for line in r.stdout.splitlines()
                 if re.match(r"\*: MX \d", line)]
        self.assertEqual(notes, [
            "*: MX 10 dead.example.test: ::1",
            "*: MX 20 mx2.example.test: 127.0.0.1",
            "*: MX 30 mx3.example.test: 127.0.0.1",
        ], self.transcript(r))
        self.assertLine(r, r"^\*: trying MX 10 dead\.example\.test at ::1 ")
        self.assertLine(r, r"^\*: no greeting from dead\.example\.test at "
                           r"::1: trying the next MX address$")
        self.assertLine(r, r"^\*: trying MX 20 mx2\.example\.test at "
                           r"127\.0\.0\.1 port \d+ \(2 of 3\)$")
        self.assertLine(r, r"^S: 220 mx2\.example\.test ESMTP")
        self.assertNoLine(r, r"trying MX 30")
        # Every query went to the loopback resolver.
        asked = {(name, qtype) for name, qtype, _ in self.dns.queries}
        self.assertIn(("example.test", "MX"), asked)
        self.assertIn(("dead.example.test", "AAAA"), asked)
        self.assertTrue(all(client == "127.0.0.1"
                            for _, _, client in self.dns.queries))

    def test_all_dead(self):
        r = self.mx("allDead.test")
        self.assertExit(r, 3)
        self.assertLine(r, r"^\*: no MX host of allDead\.test:\d+ answered$")

    def test_implicit_mx(self):
        r = self.mx("implicit.test")
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: implicit\.test has no MX record: its own "
                           r"address is the implicit MX \(RFC 5321 5\.1\)$")
        self.assertLine(r, r"^\*: MX 0 implicit\.test: 127\.0\.0\.1$")
        self.assertLine(r, r"^S: 250 ")

    def test_null_mx(self):
        r = self.mx("nomail.test")
        self.assertExit(r, 1)
        self.assertLine(r, r"null MX \(RFC 7505\): it accepts no mail")
        self.assertNoLine(r, r"^\*: connected")

    def test_no_such_domain(self):
        r = self.mx("missing.test")
        self.assertExit(r, 3)
        self.assertLine(r, r"no such domain \(NXDOMAIN\)", "stderr")

    def test_mx_without_address(self):
        r = self.mx("noaddr.test")
        self.assertExit(r, 3)
        self.assertLine(r, r"^\*: MX 10 gone\.noaddr\.test: no address: no "
                           r"such domain \(NXDOMAIN\)$")

    def test_bad_usage(self):
        r = self.ehlo(["run", "--dns", "not-an-address", "--mx",
                       "example.test"], EHLO_ONLY)
        self.assertExit(r, 2)
        r = self.ehlo(["run", "--dns", self.dns.address, "127.0.0.1"],
                      EHLO_ONLY)
        self.assertExit(r, 2)
        r = self.ehlo(["run", "--mx", "bad domain!"], EHLO_ONLY)
        self.assertExit(r, 2)

    def test_json_notes(self):
        r = self.mx("example.test", "--json")
        self.assertExit(r, 0)
        events = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(events[0]["type"], "note")
        self.assertIn("MX lookup for example.test", events[0]["text"])
        self.assertEqual(events[-1]["type"], "summary")


class MxSilentResolverTest(servers.EhloTestCase):
    """A resolver that never answers: the MX lookup is bounded by
    --timeout as a whole, not by c-ares's doubling retries."""

    def test_bounded_by_timeout(self):
        with dnsserver.DnsServer({}, silent=True) as dns:
            start = time.monotonic()
            r = self.ehlo(["run", "--mx", "example.test", "--dns",
                           dns.address, "--timeout", "2"], EHLO_ONLY)
            elapsed = time.monotonic() - start
            asked = list(dns.queries)
        self.assertExit(r, 3)
        self.assertLess(elapsed, 3.0, self.transcript(r))
        self.assertLine(r, r"^ehlo: MX lookup for example\.test via "
                           r"127\.0\.0\.1:\d+ failed: the DNS server did "
                           r"not answer in time \(--timeout\)", "stderr")
        self.assertIn(("example.test", "MX", "127.0.0.1"), asked)


class MxTlsNameTest(servers.EhloTestCase):
    """TLS to an MX host is verified against the MX name, not the
    address connected to."""

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        tmp = tempfile.TemporaryDirectory(prefix="ehlo-mxtls-")
        cls.addClassCleanup(tmp.cleanup)
        cls.cert = servers.make_cert(tmp.name, cn="mx.example.test",
                                     san="DNS:mx.example.test", name="mx")
        cls.peer = servers.Aiosmtpd(cert=cls.cert)
        cls.addClassCleanup(cls.peer.stop)
        cls.dns = dnsserver.DnsServer({
            "example.test": [("MX", 10, "mx.example.test")],
            "mx.example.test": [("A", "127.0.0.1")]})
        cls.addClassCleanup(cls.dns.stop)

    def test_verified_against_mx_name(self):
        r = self.ehlo(["run", "--dns", self.dns.address, "--starttls",
                       "--cafile", self.cert.cert, "--mx",
                       f"example.test:{self.peer.port}"], EHLO_ONLY)
        self.assertExit(r, 0)
        self.assertLine(r, r"certificate verified$")
        self.assertLine(r, r"SNI mx\.example\.test")


class SinkProbeTest(servers.EhloTestCase):
    """Probes against smtp-sink, which accepts everything."""

    @classmethod
    def setUpClass(cls):
        cls.sink = servers.SmtpSink()
        cls.addClassCleanup(cls.sink.stop)

    def probe(self, name, *options):
        r = self.ehlo(["probe", name, f"127.0.0.1:{self.sink.port}",
                       *options])
        self.assertNoLine(r, r"^C: (DATA|BDAT)")
        return r

    def test_open_relay(self):
        r = self.probe("relay")
        self.assertExit(r, 1)
        self.assertLine(r, r"^verdict: PROBLEM - OPEN RELAY")
        self.assertLine(r, r"^evidence:\n  C: MAIL FROM:<>\n  S: 250 2\.1\.0 "
                           r"Ok\n  C: RCPT TO:<ehlo-relay-probe@example\.net>"
                           r"\n  S: 250 2\.1\.5 Ok\nmeaning:$")
        self.assertLine(r, r"^C: RSET$")
        self.assertEqual(self.sink.dumps(), [])

    def test_pipelining_honoured(self):
        r = self.probe("pipelining")
        self.assertExit(r, 0)
        self.assertLine(r, r"^verdict: good - PIPELINING is advertised and "
                           r"honoured; it tolerates clients that talk before "
                           r"the greeting$")

    def test_vrfy_says_yes_to_all(self):
        r = self.probe("vrfy-expn")
        self.assertExit(r, 0)
        self.assertLine(r, r"^verdict: neutral - VRFY answers 250 for any")

    def test_json(self):
        r = self.probe("size", "--json")
        self.assertExit(r, 0)
        out = json.loads(r.stdout)
        self.assertEqual(out["verdict"], "neutral")
        self.assertEqual(out["summary"], "SIZE is not advertised")

    def test_usage(self):
        r = self.ehlo(["probe", "data", f"127.0.0.1:{self.sink.port}"])
        self.assertExit(r, 2)
        self.assertLine(r, r"unknown probe", "stderr")
        self.assertLine(r, r"^  starttls-required ", "stderr")
        r = self.ehlo(["probe", "relay"])
        self.assertExit(r, 2)

    def test_network_failure(self):
        port = servers.free_port()
        r = self.ehlo(["probe", "relay", f"127.0.0.1:{port}"])
        self.assertExit(r, 3)
        self.assertLine(r, r"^verdict: failed - no greeting")


@unittest.skipUnless(os.geteuid() == 0, "Postfix tests need root")
class PostfixProbeTest(servers.EhloTestCase):
    """Each probe against Postfix configured both ways: the harness's
    default (VRFY on, AUTH offered before TLS on the plain port, relaying
    only after AUTH; the submission port requires TLS), and a 'tight'
    one (VRFY off, AUTH only after TLS) that, being careless about its
    own networks, relays for localhost."""

    USERS = {"alice": "alice-secret-1"}

    @classmethod
    def setUpClass(cls):
        servers.require_program("postfix")
        cls.loose = servers.Postfix(cls.USERS)
        cls.addClassCleanup(cls.loose.stop)
        cls.tight = servers.Postfix(cls.USERS, extra_main_cf=(
            "disable_vrfy_command = yes\n"
            "smtpd_tls_auth_only = yes\n"
            "smtpd_relay_restrictions = permit_mynetworks "
            "permit_sasl_authenticated reject_unauth_destination\n"))
        cls.addClassCleanup(cls.tight.stop)

    def probe(self, name, port, *options):
        r = self.ehlo(["probe", name, f"127.0.0.1:{port}", *options])
        self.assertNoLine(r, r"^C: (DATA|BDAT)")
        self.assertNoLine(r, r"^\*: error")
        return r

    def test_starttls_required(self):
        r = self.probe("starttls-required", self.loose.port)
        self.assertExit(r, 1)
        self.assertLine(r, r"^verdict: PROBLEM - AUTH is accepted before "
                           r"STARTTLS$")
        self.assertLine(r, r"^  S: 250-STARTTLS$")
        r = self.probe("starttls-required", self.loose.submission_port)
        self.assertExit(r, 0)
        self.assertLine(r, r"^verdict: good - MAIL and AUTH are refused "
                           r"until STARTTLS$")
        self.assertLine(r, r"^  S: 530 5\.7\.0 Must issue a STARTTLS command "
                           r"first$")

    def test_auth_before_tls(self):
        r = self.probe("auth-before-tls", self.loose.port)
        self.assertExit(r, 1)
        self.assertLine(r, r"^verdict: PROBLEM - AUTH is offered and "
                           r"accepted in plain text$")
        self.assertLine(r, r"^  S: 250-AUTH PLAIN LOGIN CRAM-MD5$")
        self.assertLine(r, r"^  S: 334 ")
        r = self.probe("auth-before-tls", self.tight.port)
        self.assertExit(r, 0)
        self.assertLine(r, r"^verdict: good - AUTH is neither offered nor "
                           r"accepted in plain text$")

    def test_relay(self):
        rcpt = "--to=someone@relayed.example"
        r = self.probe("relay", self.loose.port, rcpt)
        self.assertExit(r, 0)
        self.assertLine(r, r"^verdict: good - relaying is refused")
        self.assertLine(r, r"^  S: 554 5\.7\.1 .*Relay access denied$")
        r = self.probe("relay", self.tight.port, rcpt)
        self.assertExit(r, 1)
        self.assertLine(r, r"^verdict: PROBLEM - OPEN RELAY")
        self.assertLine(r, r"^  C: RCPT TO:<someone@relayed\.example>\n"
                           r"  S: 250 2\.1\.5 Ok$")
        self.assertLine(r, r"^C: RSET\nS: 250 2\.0\.0 Ok$")

    def test_vrfy_expn(self):
        known = "--to=alice@example.test"
        r = self.probe("vrfy-expn", self.loose.port, known)
        self.assertExit(r, 1)
        self.assertLine(r, r"^verdict: PROBLEM - VRFY tells existing "
                           r"addresses from unknown ones$")
        self.assertLine(r, r"^  C: VRFY alice@example\.test\n  S: 252 ")
        r = self.probe("vrfy-expn", self.tight.port, known)
        self.assertExit(r, 0)
        self.assertLine(r, r"^verdict: good - VRFY and EXPN reveal nothing$")
        self.assertLine(r, r"^  S: 502 5\.5\.1 VRFY command is disabled$")

    def test_pipelining(self):
        r = self.probe("pipelining", self.loose.port)
        self.assertExit(r, 0)
        self.assertLine(r, r"^verdict: good - PIPELINING is advertised and "
                           r"honoured")
        self.assertLine(r, r"^  S: 250-PIPELINING$")

    def test_size(self):
        r = self.probe("size", self.loose.port)
        self.assertExit(r, 0)
        self.assertLine(r, r"^verdict: good - the advertised SIZE is "
                           r"enforced at MAIL; a small size is accepted$")
        self.assertLine(r, r"^  C: MAIL FROM:<> SIZE=1000001\n  S: 552 "
                           r"5\.3\.4 ")

    def test_nothing_delivered(self):
        for name in ("relay", "size", "pipelining"):
            self.probe(name, self.tight.port, "--to=x@relayed.example")
        self.assertNotIn("status=sent", self.tight.log())


class CheckTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        cls.peer = servers.Aiosmtpd()
        cls.addClassCleanup(cls.peer.stop)
        cls.sink = servers.SmtpSink()
        cls.addClassCleanup(cls.sink.stop)
        cls.pause = toolkit_peers.GreetPauseServer(pause=1.2)
        cls.addClassCleanup(cls.pause.stop)

    def check(self, *args, port=None):
        r = self.ehlo(["check", f"127.0.0.1:{port or self.peer.port}",
                       *args])
        self.assertEqual(len(r.stdout.splitlines()), 1,
                         self.transcript(r))
        return r

    def test_ok_with_starttls(self):
        r = self.check("--cafile", self.peer.cert.cert)
        self.assertExit(r, 0)
        self.assertLine(r, r"^SMTP OK - 127\.0\.0\.1:\d+: 220 .*, STARTTLS "
                           r"TLSv1\.[23], certificate verified, \d+ days "
                           r"left, [0-9.]+ s \| time=[0-9.]+s;;;0 "
                           r"connect=[0-9.]+s;;;0 greeting=[0-9.]+s;;;0 "
                           r"tls=[0-9.]+s;;;0 cert_days=\d+;;;;$")
        perf = perfdata(r.stdout)
        self.assertGreaterEqual(perf["time"], perf["tls"])

    def test_thresholds(self):
        r = self.check("--cafile", self.peer.cert.cert, "-w", "0")
        self.assertExit(r, 1)
        self.assertLine(r, r"^SMTP WARNING - [0-9.]+ s > 0 s \(warning\);")
        self.assertLine(r, r"time=[0-9.]+s;0;;0")
        r = self.check("--cafile", self.peer.cert.cert, "-w", "0", "-c", "0")
        self.assertExit(r, 2)
        self.assertLine(r, r"^SMTP CRITICAL - [0-9.]+ s > 0 s \(critical\)")
        # -w/-c are seconds (check_smtp's), --warning/--critical ms.
        r = self.check("--cafile", self.peer.cert.cert, "-w", "60",
                       "-c", "90.5")
        self.assertExit(r, 0)
        self.assertLine(r, r"time=[0-9.]+s;60;90\.5;0")
        r = self.check("--cafile", self.peer.cert.cert, "--warning", "60000",
                       "--critical", "90000")
        self.assertExit(r, 0)
        self.assertLine(r, r"time=[0-9.]+s;60;90;0")

    def test_slow_greeting(self):
        r = self.check("-w", "1", "-c", "5", port=self.pause.port)
        self.assertExit(r, 1)
        self.assertGreaterEqual(perfdata(r.stdout)["greeting"], 1.0)

    def test_certificate_days(self):
        # servers.make_cert certificates are valid for 30 days.
        r = self.check("--cafile", self.peer.cert.cert,
                       "--cert-days-warn", "60")
        self.assertExit(r, 1)
        self.assertLine(r, r"^SMTP WARNING - certificate expires in \d+ days "
                           r"\(warning: 60\)")
        self.assertLine(r, r"cert_days=\d+;60;;;$")
        r = self.check("--cafile", self.peer.cert.cert,
                       "--cert-days-warn", "60", "--cert-days-crit", "45")
        self.assertExit(r, 2)
        r = self.check("--cafile", self.peer.cert.cert,
                       "--cert-days-warn", "10", "--cert-days-crit", "5")
        self.assertExit(r, 0)

    def test_unverified_certificate(self):
        # Required TLS verifies strictly; opportunistic TLS goes on
        # (issue 20 item 7, test_tls_levels.py).
        r = self.check("--starttls")
        self.assertExit(r, 2)
        self.assertLine(r, r"^SMTP CRITICAL - TLS certificate verification "
                           r"failed")
        r = self.check("--insecure")
        self.assertExit(r, 0)
        self.assertLine(r, r"^SMTP OK - certificate NOT verified")

    def test_no_starttls_and_implicit_tls(self):
        r = self.check("--no-starttls")
        self.assertExit(r, 0)
        self.assertNoLine(r, r"tls=")
        r = self.check("--tls", "--cafile", self.peer.cert.cert,
                       port=self.peer.tls_port)
        self.assertExit(r, 0)
        self.assertLine(r, r", TLSv1\.[23], certificate verified")

    def test_starttls_required_but_missing(self):
        r = self.check("--starttls", port=self.sink.port)
        self.assertExit(r, 2)
        self.assertLine(r, r"^SMTP CRITICAL - STARTTLS not offered")
        r = self.check(port=self.sink.port)
        self.assertExit(r, 0)

    def test_down_and_usage(self):
        r = self.check(port=servers.free_port())
        self.assertExit(r, 2)
        self.assertLine(r, r"^SMTP CRITICAL - cannot connect")
        r = self.ehlo(["check"])
        self.assertExit(r, 3)
        self.assertLine(r, r"^SMTP UNKNOWN - ")
        r = self.ehlo(["check", "127.0.0.1", "--bogus"])
        self.assertExit(r, 3)


class ExportTest(servers.EhloTestCase):
    """A session recorded against the practice server, exported as a
    swaks command, a curl command and an ehlo script: each, run, makes
    the practice server receive the same envelope and the same bytes."""

    SESSION = servers.script("""
        EHLO client.example
        VRFY bob
        MAIL FROM:<alice@practice.test>
        RCPT TO:<bob@practice.test>
        RCPT TO:<carol@practice.test>
        DATA
        Subject: it's exported

        hello
        ..a line that starts with a dot
        .
        """)

    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.TemporaryDirectory(prefix="ehlo-export-")
        cls.addClassCleanup(cls.home.cleanup)
        cls.db = os.path.join(cls.home.name, "history.db")
        cls.data = os.path.join(cls.home.name, "ehlo", "practice")
        env = dict(os.environ, XDG_DATA_HOME=cls.home.name)
        cls.port = servers.free_port()
        cls.log = open(os.path.join(cls.home.name, "practice.log"), "w+b")
        cls.addClassCleanup(cls.log.close)
        cls.proc = subprocess.Popen(
            [servers.ehlo_bin(), "practice", "--listen",
             f"127.0.0.1:{cls.port}"], stdout=subprocess.DEVNULL,
            stderr=cls.log, env=env, preexec_fn=servers._die_with_parent)
        cls.addClassCleanup(cls.stop_practice)
        servers.wait_ready("127.0.0.1", cls.port,
                           alive=lambda: cls.proc.poll() is None)
        before = cls.inbox("bob")
        r = servers.run_ehlo(["run", "--db", cls.db,
                              f"127.0.0.1:{cls.port}"], cls.SESSION)
        if r.code != 0:
            raise RuntimeError("recording failed:\n" + r.stdout + r.stderr)
        cls.original = cls.content(cls.wait_new("bob", before))

    @classmethod
    def stop_practice(cls):
        cls.proc.kill()
        cls.proc.wait()

    @classmethod
    def inbox(cls, user):
        return sorted(glob.glob(os.path.join(cls.data, "inbox", user,
                                             "*.eml")))

    @classmethod
    def wait_new(cls, user, before):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            new = [p for p in cls.inbox(user) if p not in before]
            if new:
                return new[0]
            time.sleep(0.02)
        raise AssertionError(f"no new message for {user}")

    @staticmethod
    def content(path):
        """The stored message without the server's trace headers."""
        with open(path, "rb") as f:
            data = f.read()
        at = data.index(b"Subject: ")
        return data[:data.index(b"\r\n")], data[at:]

    def export(self, fmt):
        r = self.ehlo(["export", "1", "--db", self.db, "--format", fmt])
        self.assertExit(r, 0)
        return r.stdout

    def run_exported(self, text):
        before = {u: self.inbox(u) for u in ("bob", "carol")}
        with tempfile.NamedTemporaryFile("w", suffix=".sh") as f:
            f.write(text)
            f.flush()
            proc = subprocess.run(["sh", f.name], capture_output=True,
                                  text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        return {u: self.content(self.wait_new(u, before[u]))
                for u in ("bob", "carol")}

    @unittest.skipUnless(shutil.which("swaks"), "swaks is not installed")
    def test_swaks(self):
        text = self.export("swaks")
        self.assertRegex(text, r"(?m)^#   a command: VRFY bob$")
        self.assertRegex(text, r"(?m)^swaks --server '127\.0\.0\.1' --port "
                         rf"'{self.port}' --ehlo 'client\.example' --from "
                         r"'alice@practice\.test' --to "
                         r"'bob@practice\.test,carol@practice\.test' ")
        got = self.run_exported(text)
        for user in ("bob", "carol"):
            self.assertEqual(got[user], self.original)

    @unittest.skipUnless(shutil.which("curl"), "curl is not installed")
    def test_curl(self):
        text = self.export("curl")
        self.assertIn("--mail-rcpt 'carol@practice.test'", text)
        got = self.run_exported(text.replace("curl --globoff --url", "curl -s --globoff --url"))
        for user in ("bob", "carol"):
            self.assertEqual(got[user], self.original)

    def test_script(self):
        text = self.export("script")
        self.assertIn("\nVRFY bob\n", text)
        before = self.inbox("bob")
        r = self.ehlo(["run", f"127.0.0.1:{self.port}"], text)
        self.assertExit(r, 0)
        self.assertEqual(self.content(self.wait_new("bob", before)),
                         self.original)

    def test_session_without_message(self):
        r = servers.run_ehlo(
            ["run", "--db", self.db, f"127.0.0.1:{self.port}"],
            "EHLO client.example\nMAIL FROM:<alice@practice.test>\n"
            "RCPT TO:<bob@practice.test>\nRSET\n")
        self.assertExit(r, 0)
        text = self.export_id(2, "swaks")
        self.assertRegex(text, r"--quit-after RCPT\n$")
        self.assertNotIn("--data", text)
        r = self.ehlo(["export", "2", "--db", self.db, "--format", "curl"])
        self.assertExit(r, 0)
        self.assertIn("no curl command repeats it", r.stdout)
        r = self.ehlo(["export", "1", "--db", self.db, "--format", "bogus"])
        self.assertExit(r, 2)

    def export_id(self, sid, fmt):
        r = self.ehlo(["export", str(sid), "--db", self.db, "--format", fmt])
        self.assertExit(r, 0)
        return r.stdout


if __name__ == "__main__":
    servers.main()
