"""docs/monitoring.md's examples, run as written (issue 19 item 8).

The test reads the Nagios command definition, the Icinga 2 CheckCommand
and the Prometheus textfile-collector cron line out of the document's
fenced blocks (```nagios, ```icinga2, ```cron), fills in what the
engine would (the host address, the arguments, the variables), points
/usr/bin/ehlo at the built binary and the collector's directory at a
temporary one, and runs the command line against aiosmtpd with a
certificate from a test CA (trusted through SSL_CERT_FILE, as a real CA
is through the system store).
"""

import os
import re
import shlex
import subprocess
import sys
import tempfile
import unittest

import servers
import toolkit_peers

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                   "docs", "monitoring.md")


def fenced(kind):
    """The text of the document's one ```kind block."""
    with open(DOC) as f:
        text = f.read()
    blocks = re.findall(r"^```" + kind + r"\n(.*?)^```$", text,
                        re.M | re.S)
    assert len(blocks) == 1, f"{len(blocks)} ```{kind} blocks in the doc"
    return blocks[0]


def macros(text, values):
    """$NAME$ replaced from values (a KeyError for an unknown one)."""
    return re.sub(r"\$(\w+)\$", lambda m: values[m.group(1)], text)


class MonitoringDocTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        servers.require_aiosmtpd()
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-mondoc-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.ca = toolkit_peers.make_ca(cls.tmp.name, "root", "Doc Root")
        leaf = toolkit_peers.make_leaf(cls.tmp.name, "leaf", cls.ca, days=40)
        cls.peer = servers.Aiosmtpd(cert=leaf)
        cls.addClassCleanup(cls.peer.stop)
        cls.env = dict(os.environ, SSL_CERT_FILE=cls.ca.cert)
        cls.env.pop("EHLO_PASSWORD", None)

    def run_line(self, argv, env=None):
        argv = [servers.ehlo_bin() if a == "/usr/bin/ehlo" else a
                for a in argv]
        proc = subprocess.run(argv, capture_output=True, text=True,
                              env=env or self.env, timeout=30)
        self.assertEqual(len(proc.stdout.splitlines()), 1,
                         f"{argv}: {proc.stdout!r} {proc.stderr!r}")
        return proc

    def test_nagios_command(self):
        block = fenced("nagios")
        line = re.search(r"^\s*command_line\s+(.*)$", block, re.M).group(1)
        values = {"HOSTADDRESS": "127.0.0.1", "ARG1": str(self.peer.port),
                  "ARG2": "2", "ARG3": "5", "ARG4": "30,14"}
        # Nagios runs a command line without a shell when it has no
        # shell metacharacters; this one has none.
        self.assertNotRegex(line, r"[|;&<>`]")
        proc = self.run_line(shlex.split(macros(line, values)))
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertRegex(proc.stdout, r"^SMTP OK - 127\.0\.0\.1:\d+: 220 .*"
                                      r"certificate verified, (39|40) days left"
                                      r".* cert_days=(39|40);30;14;;$")
        values["ARG4"] = "60,14"
        proc = self.run_line(shlex.split(macros(line, values)))
        self.assertEqual(proc.returncode, 1, proc.stdout)
        values["ARG1"] = str(servers.free_port())
        proc = self.run_line(shlex.split(macros(line, values)))
        self.assertEqual(proc.returncode, 2, proc.stdout)
        self.assertRegex(proc.stdout, r"^SMTP CRITICAL - cannot connect")

    def icinga_argv(self, overrides):
        """What Icinga 2 runs for the doc's CheckCommand with the host's
        vars overridden: command, then each argument whose value
        resolves (unset variables leave the argument out); and env."""
        block = fenced("icinga2")
        command = re.findall(r'"([^"]*)"',
                             re.search(r"command = \[(.*?)\]", block).group(1))
        vars_ = dict(re.findall(r'^\s*vars\.(\w+) = "?([^"\n]*)"?$', block,
                                re.M))
        vars_.update(overrides)
        values = {"address": "127.0.0.1"}

        def resolve(text):
            def one(m):
                name = m.group(1)
                if name in values:
                    return values[name]
                value = vars_.get(name)
                if value is None:
                    raise LookupError(name)
                return resolve(value)
            return re.sub(r"\$(\w+)\$", one, text)

        argv = list(command)
        args = re.search(r"arguments = \{(.*?)\n  \}", block, re.S).group(1)
        for opt, value in re.findall(r'^\s*"(-\w)" = "([^"]*)"$', args, re.M):
            try:
                argv += [opt, resolve(value)]
            except LookupError:
                continue
        env = dict(self.env)
        envs = re.search(r"env = \{(.*?)\n  \}", block, re.S).group(1)
        for name, value in re.findall(r'^\s*(\w+) = "([^"]*)"$', envs, re.M):
            try:
                env[name] = resolve(value)
            except LookupError:
                continue
        return argv, env

    def test_icinga2_command(self):
        argv, env = self.icinga_argv({"smtp_port": str(self.peer.port)})
        self.assertNotIn("-A", argv)
        self.assertNotIn("EHLO_PASSWORD", env)
        proc = self.run_line(argv, env)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertRegex(proc.stdout, r"time=[0-9.]+s;2;5;0 ")
        argv, env = self.icinga_argv({
            "smtp_port": str(self.peer.port), "smtp_authtype": "PLAIN",
            "smtp_authuser": self.peer.user,
            "smtp_authpass": self.peer.password})
        self.assertNotIn(self.peer.password, argv)
        proc = self.run_line(argv, env)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertRegex(proc.stdout, r", AUTH PLAIN as alice, ")

    def test_textfile_collector_cron_line(self):
        try:
            from prometheus_client.openmetrics.parser import \
                text_string_to_metric_families as openmetrics
            from prometheus_client.parser import \
                text_string_to_metric_families as prometheus_text
        except ImportError:
            self.skipTest("python3-prometheus-client missing")
        line = fenced("cron").strip()
        fields = line.split(None, 5)
        self.assertEqual(len(fields), 6, line)
        command = fields[5]
        self.assertNotIn("%", command, "cron would cut the line at a %")
        outdir = os.path.join(self.tmp.name, "textfile")
        os.makedirs(outdir, exist_ok=True)
        bindir = os.path.join(self.tmp.name, "bin")
        os.makedirs(bindir, exist_ok=True)
        if not os.path.exists(os.path.join(bindir, "ehlo")):
            os.symlink(servers.ehlo_bin(), os.path.join(bindir, "ehlo"))
        env = dict(self.env, PATH=bindir + ":/usr/bin:/bin")
        prom = os.path.join(outdir, "smtp_mx.prom")
        for port, up in ((self.peer.port, 1), (servers.free_port(), 0)):
            target = f"127.0.0.1:{port}"
            run = command.replace("/var/lib/prometheus/node-exporter",
                                  outdir).replace("mx.example.org:25",
                                                  target)
            subprocess.run(["/bin/sh", "-c", run], env=env, timeout=30)
            with open(prom) as f:
                text = f.read()
            self.assertFalse(os.path.exists(prom + ".tmp"))
            for parse in (openmetrics, prometheus_text):
                samples = {(s.name, s.labels.get("phase")): s.value
                           for fam in parse(text) for s in fam.samples}
                self.assertEqual(samples[("smtp_up", None)], up, text)
            self.assertIn(f'target="{target}"', text)


if __name__ == "__main__":
    sys.exit(servers.main())
