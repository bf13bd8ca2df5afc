"""`ehlo check --targets FILE --parallel N` (issue 19 item 7): many
targets on one event loop, one line per target and a summary, the worst
state as exit status, or one OpenMetrics exposition for all.

Concurrency is measured, not assumed: targets that each pause 0.6 s
before greeting finish together with --parallel 6 and in turns with
--parallel 2.
"""

import json
import os
import sys
import tempfile
import unittest

import check_peers
import servers
from test_check_plugin import PluginTestCase, check

try:
    from prometheus_client.openmetrics.parser import \
        text_string_to_metric_families
except ImportError:
    text_string_to_metric_families = None


class FleetTest(PluginTestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ehlo-fleet-")
        self.addCleanup(self.tmp.cleanup)

    def targets(self, lines):
        path = os.path.join(self.tmp.name, "targets")
        with open(path, "w") as f:
            f.write("# a comment, then a blank line\n\n" +
                    "\n".join(lines) + "\n")
        return path

    def test_lines_summary_and_worst_state(self):
        with check_peers.ScriptedSmtp() as ok, check_peers.ScriptedSmtp(
                greeting=b"554 5.7.1 go away\r\n") as bad:
            down = servers.free_port()
            path = self.targets([
                f"127.0.0.1:{ok.port}",
                f"127.0.0.1:{ok.port} -e Postfix",
                f"127.0.0.1:{bad.port}",
                f"127.0.0.1:{down}",
                f"127.0.0.1:{ok.port} -w soon"])
            code, out, err, _ = check("--targets", path, "--timeout", "5")
        lines = out.splitlines()
        self.assertEqual(len(lines), 6, out)
        self.assertEqual(code, 2, out)
        self.assertRegex(lines[-1], r"^SMTP CRITICAL - 5 targets: 1 OK, 1 "
                                    r"WARNING, 2 CRITICAL, 1 UNKNOWN in "
                                    r"[0-9.]+ s \| targets=5;;;0 ok=1;;;0 "
                                    r"warning=1;;;0 critical=2;;;0 "
                                    r"unknown=1;;;0 time=[0-9.]+s;;;0$")
        body = "\n".join(lines[:-1])
        self.assertRegex(body, rf"(?m)^SMTP OK - 127\.0\.0\.1:{ok.port}: "
                               r"220 scripted")
        self.assertRegex(body, r'(?m)^SMTP WARNING - the greeting lacks -e '
                               r'"Postfix"')
        self.assertRegex(body, rf"(?m)^SMTP CRITICAL - 127\.0\.0\.1:"
                               rf"{bad.port}: greeting 554 5\.7\.1 go away")
        self.assertRegex(body, rf"(?m)^SMTP CRITICAL - cannot connect to "
                               rf"127\.0\.0\.1:{down}")
        self.assertRegex(body, rf"(?m)^SMTP UNKNOWN - 127\.0\.0\.1:{ok.port}"
                               rf": {path} line 7: -w: soon is not")

    def test_parallel_bound(self):
        # Slow enough that the gap between 6 at once (one round) and 2 at
        # a time (three rounds) outlasts a loaded machine's overhead.
        with check_peers.ScriptedSmtp(pause=1.0) as slow:
            path = self.targets([f"127.0.0.1:{slow.port}"] * 6)
            code, out, _, wide = check("--targets", path, "--parallel", "6")
            self.assertEqual(code, 0, out)
            code, out, _, narrow = check("--targets", path, "--parallel",
                                         "2")
            self.assertEqual(code, 0, out)
        self.assertEqual(len(out.splitlines()), 7, out)
        self.assertLess(wide, 2.6, "6 slow targets at once")
        self.assertGreaterEqual(narrow, 2.9, "6 slow targets, 2 at a time")

    def test_openmetrics_for_all(self):
        if text_string_to_metric_families is None:
            self.skipTest("python3-prometheus-client missing")
        with check_peers.ScriptedSmtp() as a, check_peers.ScriptedSmtp() as b:
            down = servers.free_port()
            path = self.targets([f"127.0.0.1:{a.port}",
                                 f"127.0.0.1:{b.port}",
                                 f"127.0.0.1:{down}"])
            code, out, err, _ = check("--targets", path, "--format",
                                      "openmetrics")
        self.assertEqual(code, 2, out)
        up = {s.labels["target"]: s.value
              for fam in text_string_to_metric_families(out)
              for s in fam.samples if s.name == "smtp_up"}
        self.assertEqual(up, {f"127.0.0.1:{a.port}": 1,
                              f"127.0.0.1:{b.port}": 1,
                              f"127.0.0.1:{down}": 0})

    def test_json_for_each(self):
        with check_peers.ScriptedSmtp() as a:
            down = servers.free_port()
            path = self.targets([f"127.0.0.1:{a.port}",
                                 f"127.0.0.1:{down}"])
            code, out, err, _ = check("--targets", path, "--json")
        self.assertEqual(code, 2, out)
        objs = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(
            sorted((o["server"], o["status"]) for o in objs),
            sorted([(f"127.0.0.1:{a.port}", "OK"),
                    (f"127.0.0.1:{down}", "CRITICAL")]))

    def test_usage(self):
        r = check("--parallel", "5", "127.0.0.1")
        self.assertRegex(self.plugin(r, "UNKNOWN"),
                         r"--parallel goes with --targets FILE")
        r = check("--targets", "/nonexistent/targets")
        self.assertRegex(self.plugin(r, "UNKNOWN"),
                         r"--targets: cannot read /nonexistent/targets")
        r = check("--targets", "x", "--parallel", "0")
        self.assertRegex(self.plugin(r, "UNKNOWN"), r"--parallel: 0 is not")


if __name__ == "__main__":
    sys.exit(servers.main())
