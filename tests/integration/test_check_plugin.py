"""`ehlo check` as a monitoring plugin (issues 19, 20 and 21).

- Every outcome prints exactly one "SMTP STATE - ..." line on stdout and
  exits with that state: usage errors are UNKNOWN (3) with the message
  naming the option; a server that greets and goes silent is CRITICAL
  naming the step; a 421 or 554 greeting is reported as such at once
  with perfdata that agrees with the wall time; server text cannot break
  the line or forge perfdata; the greeting is not cut inside a word.
- check_smtp's options with their meanings, checked against what the
  server really received (-e -C/-R -f -F -A/-U/-P -S -D -4/-6 -q -t).
- Side by side with Debian's check_smtp (monitoring-plugins-standard):
  the same options on the same servers give the same state.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import check_peers
import servers
import toolkit_peers

CHECK_SMTP = "/usr/lib/nagios/plugins/check_smtp"

LINE = re.compile(r"^SMTP (OK|WARNING|CRITICAL|UNKNOWN) - [^\n]*\n\Z")
STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
PERF_ITEM = re.compile(r"^([a-z_]+)=(-?[0-9.]+)(s|)?;([0-9.]*);([0-9.]*);"
                       r"([0-9.]*)(;[0-9.]*)?$")


def perfdata(line):
    """{label: float} from a plugin line, each item checked against the
    plugin guidelines' shape."""
    _, bar, perf = line.partition("|")
    assert bar, f"no perfdata in {line!r}"
    out = {}
    for item in perf.split():
        m = PERF_ITEM.match(item)
        assert m, f"perfdata item {item!r} is not label=value[UOM];w;c;min"
        out[m.group(1)] = float(m.group(2))
    return out


def check(*args, env=None, timeout=30):
    """(exit status, stdout, stderr, seconds) of `ehlo check args`."""
    full = dict(os.environ, NO_COLOR="1")
    full.pop("EHLO_PASSWORD", None)
    full.update(env or {})
    return check_peers.run_timed([servers.ehlo_bin(), "check", *args],
                                 env=full, timeout=timeout)


class PluginTestCase(unittest.TestCase):
    maxDiff = None

    def plugin(self, result, state):
        """The one status line of result, in state, with the exit
        status of that state."""
        code, out, err, _ = result
        shown = f"exit {code}\nstdout: {out!r}\nstderr: {err!r}"
        self.assertRegex(out, LINE, "not exactly one status line\n" + shown)
        self.assertEqual(out.split(" ")[1], state, shown)
        self.assertEqual(code, STATES.index(state), shown)
        return out.rstrip("\n")


class OutcomeTest(PluginTestCase):
    """Issue 20 item 8, issue 21 item 4."""

    def test_usage_errors_are_unknown_with_a_line(self):
        for args, want in (
                (["127.0.0.1", "--bogus"], r"--bogus is not an option"),
                (["--warning", "0.001", "127.0.0.1"],
                 r"--warning: 0\.001 is not a whole number of millisec"),
                (["-w", "soon", "127.0.0.1"],
                 r"-w: soon is not a number of seconds"),
                (["-c", "1", "-w", "2", "127.0.0.1"],
                 r"the warning time \(2 s\) is above the critical time"),
                (["-D", "x,3", "-H", "127.0.0.1"], r"-D: x,3 is not WARN"),
                (["-p", "70000", "-H", "127.0.0.1"], r"-p: 70000 is not a "),
                ([], r"no server: give -H HOST"),
                (["-H", "127.0.0.1", "127.0.0.2"], r"both -H 127\.0\.0\.1 "),
                (["-R", "250", "127.0.0.1"], r"-R given 1 times for 0 -C"),
                (["-A", "PLAIN", "127.0.0.1"], r"-A MECH needs -U USER"),
                (["-S", "--tls", "127.0.0.1"],
                 r"-S \(STARTTLS\) and -s/--tls .* contradict"),
                (["--format", "xml", "127.0.0.1"],
                 r"--format: xml is not plugin, openmetrics or json"),
                (["-L", "127.0.0.1"], r"-L: LMTP"),
                (["-4", "-H", "::1"], r"::1 has no IPv4 address")):
            with self.subTest(args=args):
                r = check(*args)
                line = self.plugin(r, "UNKNOWN")
                self.assertRegex(line, r"^SMTP UNKNOWN - " + want)
                self.assertEqual(r[2], "", "a plugin's message belongs on "
                                           "stdout only")

    def test_silent_after_greeting_names_the_step(self):
        with check_peers.ScriptedSmtp(after="silent") as srv:
            r = check("--timeout", "1.5", f"127.0.0.1:{srv.port}")
        line = self.plugin(r, "CRITICAL")
        self.assertRegex(line, r"^SMTP CRITICAL - timed out after 1\.5 s "
                               r"waiting for the reply to EHLO ")
        self.assertLess(r[3], 1.5 + 1)
        self.assertGreaterEqual(perfdata(line)["time"], 1.4)

    def test_421_greeting_at_once_and_perfdata_agrees(self):
        # The server keeps the connection open after its 421.
        with check_peers.ScriptedSmtp(
                greeting=b"421 4.3.2 too busy, try later\r\n",
                after="no-quit-reply") as srv:
            r = check("--timeout", "5", f"127.0.0.1:{srv.port}")
            self.assertNotIn("QUIT", srv.received)
        line = self.plugin(r, "CRITICAL")
        self.assertRegex(line, r"^SMTP CRITICAL - greeting 421 4\.3\.2 too "
                               r"busy, try later \| time=")
        self.assertNotRegex(line, r"timed out")
        self.assertLess(r[3], 2)
        self.assertLessEqual(perfdata(line)["time"], r[3])

    def test_554_greeting_does_not_wait_for_quit_reply(self):
        with check_peers.ScriptedSmtp(greeting=b"554 5.7.1 no service\r\n",
                                      after="no-quit-reply") as srv:
            r = check("--timeout", "8", f"127.0.0.1:{srv.port}")
            time.sleep(0.1)
            self.assertEqual(srv.received, ["QUIT"])
        line = self.plugin(r, "CRITICAL")
        self.assertRegex(line, r"^SMTP CRITICAL - greeting 554 5\.7\.1 no "
                               r"service \| time=0\.\d+s;")
        self.assertLess(r[3], 2)
        self.assertLessEqual(perfdata(line)["time"], r[3])

    def test_greeting_cut_at_a_word(self):
        words = [f"word{i:02d}" for i in range(40)]
        greeting = "220 mx.example.test ESMTP " + " ".join(words)
        with check_peers.ScriptedSmtp(
                greeting=greeting.encode() + b"\r\n") as srv:
            r = check(f"127.0.0.1:{srv.port}")
        line = self.plugin(r, "OK")
        m = re.search(r": 220 (.*?)\.\.\., [0-9.]+ s \|", line)
        self.assertIsNotNone(m, line)
        shown = m.group(1).split(" ")
        self.assertTrue(all(w in greeting.split(" ") for w in shown), line)
        self.assertGreater(len(shown), 5)

    def test_server_text_cannot_forge_plugin_output(self):
        evil = (b"220 mx |time=0s;;;0 cert_days=9;1;1;;\x1b[2J;a=b\r\n")
        with check_peers.ScriptedSmtp(greeting=evil) as srv:
            r = check(f"127.0.0.1:{srv.port}")
        line = self.plugin(r, "OK")
        self.assertEqual(line.count("|"), 1, line)
        self.assertNotIn("\x1b", line)
        text, _, perf = line.partition("|")
        self.assertNotRegex(text, r"[;=]", line)
        self.assertEqual(sorted(perfdata(line)),
                         ["connect", "greeting", "time"])
        # User text from the command line does not break it either.
        with check_peers.ScriptedSmtp() as srv:
            r = check("-C", "NOOP |x=1", "-R", "^999", "-H", "127.0.0.1",
                      "-p", str(srv.port))
        line = self.plugin(r, "WARNING")
        self.assertEqual(line.count("|"), 1, line)


class OptionsTest(PluginTestCase):
    """check_smtp's options, with what the server really received."""

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-check-")
        cls.addClassCleanup(cls.tmp.cleanup)
        d = cls.tmp.name
        cls.ca = toolkit_peers.make_ca(d, "root", "Check Test Root")
        cls.expired = toolkit_peers.make_leaf(
            d, "expired", cls.ca, start="20200101000000Z",
            end="20200201000000Z")
        cls.good = toolkit_peers.make_leaf(d, "good", cls.ca, days=20)
        cls.peer = servers.Aiosmtpd(cert=cls.good)
        cls.addClassCleanup(cls.peer.stop)
        cls.old = servers.Aiosmtpd(cert=cls.expired)
        cls.addClassCleanup(cls.old.stop)

    def test_expect_commands_from_fqdn(self):
        with check_peers.ScriptedSmtp() as srv:
            r = check("-H", "127.0.0.1", "-p", str(srv.port), "-e",
                      "scripted.example", "-F", "mon.example.test", "-f",
                      "nagios@example.test", "-C", "RCPT TO:<a@example.test>",
                      "-R", "^250", "-C", "NOOP")
            self.plugin(r, "OK")
            self.assertEqual(srv.received, [
                "EHLO mon.example.test", "MAIL FROM:<nagios@example.test>",
                "RCPT TO:<a@example.test>", "NOOP", "QUIT"])
            r = check("-H", "127.0.0.1", "-p", str(srv.port), "-e", "Exim")
            line = self.plugin(r, "WARNING")
            self.assertRegex(line, r'^SMTP WARNING - the greeting lacks -e '
                                   r'"Exim"')
            r = check("-H", "127.0.0.1", "-p", str(srv.port), "-C",
                      "RCPT TO:<unknown@example.test>", "-R", "^2[0-9]{2} ")
            line = self.plugin(r, "WARNING")
            self.assertRegex(line, r'-C RCPT TO:<unknown@example\.test> '
                                   r'answered "550 5\.1\.1 no such user"')

    def test_auth_and_the_password_stays_out_of_argv(self):
        user, secret = self.peer.user, self.peer.password
        base = ["-H", "127.0.0.1", "-p", str(self.peer.port), "-S",
                "--cafile", self.ca.cert, "-A", "PLAIN", "-U", user]
        r = check(*base, env={"EHLO_PASSWORD": secret})
        line = self.plugin(r, "OK")
        self.assertRegex(line, r", AUTH PLAIN as alice, ")
        r = check(*base, env={"EHLO_PASSWORD": "wrong"})
        line = self.plugin(r, "CRITICAL")
        self.assertRegex(line, r"AUTH PLAIN as alice failed: 535")
        # -P works, and ps or /proc no longer show it once ehlo runs;
        # nothing is recorded (no history, so no export either).
        home = tempfile.mkdtemp(prefix="ehlo-check-home-")
        self.addCleanup(shutil.rmtree, home)
        r = check(*base, "-P", secret, env={
            "XDG_DATA_HOME": home, "XDG_STATE_HOME": home,
            "EHLO_DB": os.path.join(home, "ehlo.db")})
        self.plugin(r, "OK")
        for dirpath, _, files in os.walk(home):
            for name in files:
                with open(os.path.join(dirpath, name), "rb") as f:
                    self.assertNotIn(secret.encode(), f.read(), name)
        self.assertFalse(os.path.exists(os.path.join(home, "ehlo.db")))
        with check_peers.ScriptedSmtp(pause=1.5) as srv:
            proc = subprocess.Popen(
                [servers.ehlo_bin(), "check", "-H", "127.0.0.1", "-p",
                 str(srv.port), "-A", "PLAIN", "-U", user, "-P", secret],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(0.7)
            with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
                cmdline = f.read()
            proc.communicate(timeout=30)
        self.assertIn(b"-P", cmdline)
        self.assertNotIn(secret.encode(), cmdline)
        for form in servers.secret_forms(user, secret):
            self.assertNotIn(form, r[1] + r[2])

    def test_certificate_days(self):
        port = str(self.peer.port)
        r = check("-H", "127.0.0.1", "-p", port, "--cafile", self.ca.cert,
                  "-D", "30")
        line = self.plugin(r, "WARNING")
        self.assertRegex(line, r"certificate expires in 1\d days \(warning: "
                               r"30\)")
        self.assertRegex(line, r" cert_days=1\d;30;;;$")
        r = check("-H", "127.0.0.1", "-p", port, "--cafile", self.ca.cert,
                  "-D", "30,25")
        self.plugin(r, "CRITICAL")
        r = check("-H", "127.0.0.1", "-p", port, "--cafile", self.ca.cert,
                  "-D", "10,5")
        self.assertRegex(self.plugin(r, "OK"), r" cert_days=1\d;10;5;;$")
        r = check("-H", "127.0.0.1", "-p", str(self.old.port), "--cafile",
                  self.ca.cert, "-D", "30")
        self.assertRegex(self.plugin(r, "CRITICAL"), r"(?i)expired")
        # -D needs the certificate: a server without STARTTLS fails.
        with check_peers.ScriptedSmtp() as srv:
            r = check("-H", "127.0.0.1", "-p", str(srv.port), "-D", "30")
        self.assertRegex(self.plugin(r, "CRITICAL"),
                         r"STARTTLS not offered, which -D requires")

    def test_families_and_implicit_tls(self):
        with check_peers.ScriptedSmtp() as srv:
            r = check("-4", "-H", "localhost", "-p", str(srv.port))
        self.assertRegex(self.plugin(r, "OK"), r"- 127\.0\.0\.1:\d+: 220 ")
        r = check("-s", "-H", "localhost", "-p", str(self.peer.tls_port),
                  "--cafile", self.ca.cert)
        self.assertRegex(self.plugin(r, "OK"),
                         r", TLSv1\.[23], certificate verified")
        if servers.ipv6_loopback_available():
            r = check("-6", "-H", "::1", "-p", str(self.peer.port),
                      "--no-starttls")
            self.assertRegex(self.plugin(r, "OK"), r"- \[::1\]:\d+: 220 ")

    def test_quit_failure_and_timeout(self):
        with check_peers.ScriptedSmtp(after="no-quit-reply") as srv:
            r = check("-H", "127.0.0.1", "-p", str(srv.port), "-t", "1")
            self.assertRegex(self.plugin(r, "CRITICAL"),
                             r"waiting for the reply to QUIT")
            self.assertLess(r[3], 2)
            r = check("-H", "127.0.0.1", "-p", str(srv.port), "-t", "1",
                      "-q")
            self.plugin(r, "OK")
        with check_peers.ScriptedSmtp(after="close-at-quit") as srv:
            r = check("-H", "127.0.0.1", "-p", str(srv.port), "-q")
            self.plugin(r, "OK")


@unittest.skipUnless(os.access(CHECK_SMTP, os.X_OK),
                     "check_smtp (monitoring-plugins-standard) missing")
class SideBySideTest(PluginTestCase):
    """The same options on the same server: the same state from
    check_smtp and from ehlo check."""

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-side-")
        cls.addClassCleanup(cls.tmp.cleanup)
        d = cls.tmp.name
        cls.ca = toolkit_peers.make_ca(d, "root", "Side Test Root")
        cls.expired = toolkit_peers.make_leaf(
            d, "expired", cls.ca, start="20200101000000Z",
            end="20200201000000Z")
        cls.good = toolkit_peers.make_leaf(d, "good", cls.ca, days=20)
        cls.sink = servers.SmtpSink()
        cls.addClassCleanup(cls.sink.stop)
        cls.peer = servers.Aiosmtpd(cert=cls.good)
        cls.addClassCleanup(cls.peer.stop)
        cls.old = servers.Aiosmtpd(cert=cls.expired)
        cls.addClassCleanup(cls.old.stop)
        cls.slow = toolkit_peers.GreetPauseServer(pause=1.2)
        cls.addClassCleanup(cls.slow.stop)

    def both(self, args, state, ehlo_only=()):
        """Runs both with args; each must end in state.  ehlo_only: what
        ehlo needs besides (trust for a private CA: check_smtp does not
        verify certificates at all)."""
        theirs = check_peers.run_timed([CHECK_SMTP, *args])
        ours = check(*args, *ehlo_only)
        self.assertEqual(theirs[0], STATES.index(state),
                         f"check_smtp {args}: {theirs}")
        self.plugin(ours, state)
        return ours

    def test_ok(self):
        self.both(["-H", "127.0.0.1", "-p", str(self.sink.port)], "OK")
        self.both(["-H", "127.0.0.1", "-p", str(self.sink.port), "-e",
                   "ESMTP", "-f", "mon@example.test", "-C", "NOOP", "-R",
                   "250", "-w", "5", "-c", "10", "-t", "10"], "OK")
        self.both(["-H", "127.0.0.1", "-p", str(self.peer.port), "-S",
                   "-D", "10,5"], "OK", ehlo_only=["--cafile", self.ca.cert])

    def test_warning(self):
        slow = ["-H", "127.0.0.1", "-p", str(self.slow.port)]
        r = self.both(slow + ["-w", "0.5", "-c", "5"], "WARNING")
        self.assertRegex(r[1], r"time=1\.[0-9]+s;0\.5;5;0")
        self.both(["-H", "127.0.0.1", "-p", str(self.sink.port), "-e",
                   "Microsoft"], "WARNING")
        self.both(["-H", "127.0.0.1", "-p", str(self.sink.port), "-C",
                   "VRFY nobody", "-R", "^550"], "WARNING")
        self.both(["-H", "127.0.0.1", "-p", str(self.peer.port), "-S",
                   "-D", "30"], "WARNING", ehlo_only=["--cafile",
                                                     self.ca.cert])

    def test_critical(self):
        slow = ["-H", "127.0.0.1", "-p", str(self.slow.port)]
        self.both(slow + ["-w", "0.5", "-c", "1"], "CRITICAL")
        self.both(["-H", "127.0.0.1", "-p", str(servers.free_port())],
                  "CRITICAL")
        self.both(["-H", "127.0.0.1", "-p", str(self.old.port), "-S", "-D",
                   "30"], "CRITICAL")
        self.both(["-H", "127.0.0.1", "-p", str(self.old.port), "-D",
                   "30,10"], "CRITICAL", ehlo_only=["--cafile",
                                                   self.ca.cert])

    def test_unknown(self):
        port = str(self.sink.port)
        self.both(["-H", "127.0.0.1", "-p", port, "--bogus"], "UNKNOWN")
        self.both(["-H", "127.0.0.1", "-p", port, "-w", "soon"], "UNKNOWN")
        self.both(["-H", "127.0.0.1", "-p", port, "-c", "x1"], "UNKNOWN")


if __name__ == "__main__":
    if not shutil.which("smtp-sink"):
        servers.skip_file("smtp-sink (postfix) missing")
    sys.exit(servers.main())
