"""Every --json output against docs/schema.json (issue 17, item 7).

One practice server (`ehlo practice`) on loopback for the whole file;
each producer of JSON is run for real: `run` (a mail with STARTTLS, its
TLS fields and --dane against a TLSA record on a DNS responder, a
refused connection, and --mx through a resolver on loopback), `send`
(one recipient accepted, one refused; --dry-run), `probe`, `replay --diff`,
`history` (and its rm and prune), `show`, `export --format json`, `drafts`, `explain` and
`explain --list`; `probe smuggling` (its variants, and the nulls of the
variants a refused recipient left untested), `probe tls` (against the
practice server's STARTTLS, and a refused port) and a `replay --diff`
against a practice server that requires AUTH (differences with their
kind).  Every line must be one JSON object that the
schema (JSON Schema 2020-12) accepts: "schema": 1, the shape of its
type, RFC 3339 UTC times with milliseconds, null (never "") for what is
absent.  The schema itself is checked to refuse the old shapes (an
epoch number for "started", "" for an absent value, no "schema").
"""

import base64
import json
import os
import re
import sqlite3
import tempfile

import dnsserver
import servers

try:
    import jsonschema
except ImportError:  # pragma: no cover - reported as skipped
    jsonschema = None

SRC = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))
MAIL = ("EHLO me\n/starttls\nMAIL FROM:<alice@practice.test>\n"
        "RCPT TO:<bob@practice.test>\nDATA\nSubject: schema\n\nhello\n.\n")


def empty_strings(v, path="", key=None):
    """The paths of "" values, other than an event's text."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield from empty_strings(x, f"{path}.{k}", k)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from empty_strings(x, f"{path}[{i}]")
    elif v == "" and key != "text":
        yield path


class JsonSchemaTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        if jsonschema is None:
            servers.skip_file("python3-jsonschema is not installed")
        with open(os.path.join(SRC, "docs", "schema.json")) as f:
            cls.schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(cls.schema)
        cls.validator = jsonschema.Draft202012Validator(cls.schema)
        cls.home = tempfile.TemporaryDirectory(prefix="ehlo-json-")
        cls.addClassCleanup(cls.home.cleanup)
        h = cls.home.name
        cls.db = os.path.join(h, "ehlo.db")
        cls.env = {"XDG_DATA_HOME": h, "XDG_CONFIG_HOME": h, "HOME": h,
                   "EHLO_DB": cls.db}
        cls.proc, cls.port = servers.start_practice(
            dict(os.environ, XDG_DATA_HOME=os.path.join(h, "p")))
        cls.addClassCleanup(cls.proc.wait)
        cls.addClassCleanup(cls.proc.kill)
        cls.server = f"127.0.0.1:{cls.port}"

    def json_lines(self, args, script="", code=0):
        """Runs ehlo, checks the exit status, validates and returns every
        stdout line as an object."""
        r = self.ehlo(args, script, env=self.env)
        self.assertExit(r, code)
        objs = []
        for line in r.stdout.splitlines():
            obj = json.loads(line)
            errors = sorted(self.validator.iter_errors(obj),
                            key=lambda e: list(e.absolute_path))
            self.assertEqual(
                [], [f"{list(e.absolute_path)}: {e.message}"
                     for e in errors],
                f"ehlo {' '.join(args)}: line does not follow "
                f"docs/schema.json:\n{line}")
            self.assertEqual(obj["schema"], 1)
            objs.append(obj)
        self.assertTrue(objs, f"ehlo {' '.join(args)} printed no JSON")
        return objs

    def test_1_run(self):
        objs = self.json_lines(["run", "--json", "--insecure", self.server],
                               MAIL)
        self.assertEqual(objs[-1]["type"], "summary")
        tls = objs[-1]["tls"]
        self.assertIsNotNone(tls)
        cert = tls["chain"][0]
        self.assertIn("IP:127.0.0.1", cert["san"])
        self.assertEqual(cert["key"]["type"], "EC")
        self.assertRegex(cert["not_after"], r"Z$")
        self.assertRegex(cert["sha256"], r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
        self.assertEqual(len(base64.b64decode(cert["spki_sha256"])), 32)
        self.assertEqual((tls["level"], tls["refused"], tls["resumed"],
                          tls["dane"]), ("insecure", False, False, None))
        self.assertEqual(tls["peer_key"], "EC 256")
        replies = [o for o in objs if o["type"] == "reply"]
        self.assertIn(354, [o["code"] for o in replies])
        self.assertIsNone(replies[0]["dir"])
        # Nothing absent is written as "" (an empty line of content
        # sent is the only empty text).
        self.assertEqual([], list(empty_strings(objs)))
        self.assertIn("", [o["text"] for o in objs if o["type"] == "sent"])

    def test_1_run_refused(self):
        objs = self.json_lines(
            ["run", "--json", f"127.0.0.1:{servers.free_port()}"],
            "EHLO me\n", code=3)
        self.assertIn("failure", [o["type"] for o in objs])
        self.assertEqual(objs[-1]["exit"], 3)

    def test_1_run_mx(self):
        # The MX notes come before any session (tui/mxrun.c).
        dns = dnsserver.DnsServer({
            "mx.test": [("MX", 10, "dead.mx.test"), ("MX", 20, "p.mx.test")],
            "dead.mx.test": [("AAAA", "::1")],
            "p.mx.test": [("A", "127.0.0.1")]})
        self.addCleanup(dns.stop)
        objs = self.json_lines(["run", "--json", "--insecure", "--timeout",
                                "5", "--dns", dns.address, "--mx",
                                f"mx.test:{self.port}"], "EHLO me\n")
        self.assertTrue(any(o["type"] == "note" and
                            o["text"].startswith("MX 10 dead.mx.test")
                            for o in objs), objs)
        self.assertEqual(objs[-1]["type"], "summary")

    def test_1_run_dane(self):
        # The practice server's key as a TLSA record (3 1 1) on a DNS
        # responder on loopback: --dane's object in the summary's TLS.
        first = self.json_lines(["run", "--json", "--insecure",
                                 self.server], "EHLO me\n/starttls\n")
        spki = first[-1]["tls"]["chain"][0]["spki_sha256"]
        dns = dnsserver.DnsServer({
            "localhost": [("A", "127.0.0.1")],
            f"_{self.port}._tcp.localhost": [
                ("TLSA", 3, 1, 1, base64.b64decode(spki).hex())]})
        self.addCleanup(dns.stop)
        objs = self.json_lines(["run", "--json", "--starttls", "--dane",
                                "--dns", f"127.0.0.1:{dns.port}",
                                f"localhost:{self.port}"], "EHLO me\n")
        tls = objs[-1]["tls"]
        self.assertEqual(tls["dane"]["matched"], 0, tls)
        self.assertEqual(tls["dane"]["name"], f"_{self.port}._tcp.localhost")
        self.assertEqual(tls["level"], "verify")
        # show --json gives the recorded session's TLS as run gave it.
        last = self.json_lines(["history", "--json", "--limit", "1"])[0]
        shown = self.json_lines(["show", "--json", str(last["id"])])[0]
        self.assertEqual(shown["tls"], tls)

    def test_2_send(self):
        objs = self.json_lines(
            ["send", "--json", "--insecure", "--partial", self.server, "--from",
             "alice@practice.test", "--to", "bob@practice.test", "--to",
             "ghost@practice.test", "--subject", "s", "--body", "-"],
            "hello\n")
        s = objs[-1]
        self.assertEqual((s["type"], s["delivered"]), ("summary", True))
        self.assertEqual(s["accepted"], ["bob@practice.test"])
        self.assertEqual(s["refused"][0]["rcpt"], "ghost@practice.test")

    def test_2_send_dry_run(self):
        objs = self.json_lines(
            ["send", "--json", "--dry-run", "--from", "alice@practice.test",
             "--to", "bob@practice.test", "--subject", "dry", "--body",
             "-"], "hello\n")
        o = objs[0]
        self.assertEqual((o["type"], o["from"], o["to"]),
                         ("dry_run", "alice@practice.test",
                          ["bob@practice.test"]))
        self.assertIn("\r\nSubject: dry\r\n", o["message"])
        self.assertTrue(o["message"].endswith("\r\n\r\nhello\r\n"))
        self.assertEqual(o["size"], len(o["message"].encode()))

    def test_2_probe(self):
        objs = self.json_lines(["probe", "--json", "relay", self.server])
        self.assertEqual([o["type"] for o in objs], ["probe"])
        self.assertEqual(objs[0]["verdict"], "good")

    def test_2_probe_smuggling(self):
        args = ["probe", "--json", "--insecure", "smuggling", self.server]
        objs = self.json_lines(args + ["--to", "bob@practice.test"])
        variants = objs[0]["variants"]
        self.assertEqual(len(variants), 7)
        self.assertEqual({(v["outcome"], v["code"], v["enhanced"])
                          for v in variants}, {("content", 250, "2.0.0")})
        # A refused recipient: the first variant was not reached, the
        # others not tested, with no reply (null, not 0 or "").
        objs = self.json_lines(args + ["--to", "ghost@practice.test"])
        self.assertEqual(objs[0]["verdict"], "inconclusive")
        first, second = objs[0]["variants"][:2]
        self.assertEqual((first["outcome"], first["code"]),
                         ("not reached", 550))
        self.assertEqual((second["outcome"], second["code"],
                          second["enhanced"]), ("not tested", None, None))

    def test_2_probe_tls(self):
        objs = self.json_lines(["probe", "--json", "tls", self.server])
        o = objs[0]
        self.assertEqual((o["type"], o["probe"], o["verdict"]),
                         ("probe", "tls", "good"))
        accepted = {x["name"] for x in o["offers"] if x["accepted"]}
        self.assertIn("1.3", accepted)
        self.assertEqual(o["key"]["type"], "EC")
        # A server that cannot be reached: one failed probe object too.
        objs = self.json_lines(
            ["probe", "--json", "tls", f"127.0.0.1:{servers.free_port()}"],
            code=3)
        self.assertEqual((objs[0]["verdict"], objs[0]["offers"],
                          objs[0]["key"]), ("failed", [], None))

    def test_2_check(self):
        """ehlo check --json: the plugin's facts as one object; the state
        and exit agree with the plugin line of the same check."""
        args = ["check", "-S", "-D", "30,7", "--insecure", self.server]
        plugin = self.ehlo(args, env=self.env)
        [obj] = self.json_lines(args + ["--json"], code=plugin.code)
        self.assertEqual(plugin.code, 0, plugin.stdout)
        self.assertEqual((obj["status"], obj["exit"], obj["server"]),
                         ("OK", 0, self.server))
        # The same facts; only the measured time differs.
        untimed = re.sub(r", [0-9.]+ s$", "", obj["text"])
        self.assertNotEqual(untimed, obj["text"])
        self.assertTrue(plugin.stdout.startswith("SMTP OK - " + untimed),
                        (plugin.stdout, obj["text"]))
        self.assertGreater(obj["times"]["total"], 0)
        self.assertIn("IP:127.0.0.1", obj["certificate"]["san"])
        self.assertEqual(obj["tls"]["chain"][0]["subject"],
                         obj["certificate"]["subject"])
        self.assertGreater(obj["certificate"]["days_left"], 7)
        # A refused connection and a usage error come as objects too.
        dead = f"127.0.0.1:{servers.free_port()}"
        [obj] = self.json_lines(["check", "--format", "json", dead], code=2)
        self.assertEqual((obj["status"], obj["certificate"], obj["tls"]),
                         ("CRITICAL", None, None))
        [obj] = self.json_lines(["check", "--json", "--no-such-option"],
                                code=3)
        self.assertEqual(obj["status"], "UNKNOWN")
        self.assertIn("--no-such-option", obj["text"])

    def test_3_history_show_export(self):
        rows = self.json_lines(["history", "--json"])
        self.assertTrue(all(o["type"] == "session" for o in rows))
        self.assertTrue(all(o["events"] is None for o in rows))
        first = rows[-1]["id"]
        self.assertRegex(rows[-1]["started"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        show = self.json_lines(["show", "--json", str(first)])
        self.assertEqual(len(show), 1)
        self.assertTrue(show[0]["events"])
        self.assertEqual(show[0]["tls"]["chain"][0]["key"]["type"], "EC")
        export = self.json_lines(["export", str(first), "--format",
                                  "json"])
        self.assertRegex(export[0]["exported_by"], r"^ehlo ")
        # The same session in the same shape from history and show.
        self.assertEqual(set(rows[-1]), set(show[0]))

    def test_3_replay(self):
        objs = self.json_lines(["replay", "--json", "--diff", "1",
                                "--insecure"])
        types = [o["type"] for o in objs]
        self.assertIn("summary", types)
        self.assertEqual(types[-1], "diff")

    def test_3_replay_changed(self):
        # The same session replayed where MAIL needs AUTH first: the
        # replies differ, each difference with its kind.
        proc, port = servers.start_practice(
            dict(os.environ, XDG_DATA_HOME=os.path.join(self.home.name,
                                                        "q")),
            extra=["--require-auth"])
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        objs = self.json_lines(["replay", "--json", "--diff", "--exact",
                                "1", f"127.0.0.1:{port}", "--insecure"],
                               code=1)
        diff = objs[-1]
        self.assertEqual((diff["type"], diff["exact"]), ("diff", True))
        mail = [d for d in diff["differences"]
                if d["command"].startswith("MAIL")]
        self.assertEqual(mail[0]["kind"], "behaviour", diff)
        self.assertEqual(mail[0]["replay"]["code"], 530)

    def test_3_drafts(self):
        with sqlite3.connect(self.db) as c:
            c.execute("INSERT INTO drafts (created, updated, env_from, "
                      "env_to, headers, body, attachments) VALUES "
                      "(1765000000, 1765000001, 'a@practice.test', "
                      "'[\"bob@practice.test\"]', 'Subject: hi\n', "
                      "x'6869', NULL)")
        objs = self.json_lines(["drafts", "--json"])
        self.assertEqual(objs[0]["type"], "draft")
        self.assertEqual(objs[0]["updated"], "2025-12-06T05:46:41.000Z")
        self.assertEqual(objs[0]["to"], ["bob@practice.test"])

    def test_4_history_rm_prune(self):
        rows = self.json_lines(["history", "--json"])
        count = self.json_lines(["history", "prune", "--older-than", "1s",
                                 "--json"])[0]
        self.assertEqual((count["type"], count["deleted"]),
                         ("history_prune", False))
        # Sessions of the last second are not counted.
        self.assertTrue(0 < count["sessions"] <= len(rows), count)
        self.assertIsNone(count["vacuum"])
        self.assertRegex(count["before"], r"\.\d{3}Z$")
        none = self.json_lines(["history", "prune", "--older-than", "52w",
                                "--yes", "--json"])[0]
        self.assertEqual((none["deleted"], none["sessions"]), (True, 0))
        last = rows[0]["id"]
        rm = self.json_lines(["history", "rm", str(last), "99999", "--json"],
                             code=2)[0]
        self.assertEqual((rm["type"], rm["deleted"], rm["missing"]),
                         ("history_rm", [last], [99999]))
        self.assertNotIn(last, [o["id"] for o in
                                self.json_lines(["history", "--json"])])

    def test_explain(self):
        for q in (["550"], ["550", "5.1.1"], ["VRFY"], ["5.7.1"], ["SIZE"],
                  ["587"], ["XOAUTH2"], ["greylisting"]):
            objs = self.json_lines(["explain", "--json", *q])
            self.assertEqual(objs[0]["type"], "explanation")
        both = self.json_lines(["explain", "--json", "550", "5.1.1"])[0]
        self.assertEqual(both["enhanced"]["query"], "5.1.1")

    def test_explain_list(self):
        objs = self.json_lines(["explain", "--list", "--json"])
        self.assertEqual(len(objs), 1)
        self.assertEqual(objs[0]["type"], "explanation_list")
        self.assertIn({"kind": "reply", "key": "550"},
                      [{"kind": e["kind"], "key": e["key"]}
                       for e in objs[0]["entries"]])

    def test_schema_refuses_old_shapes(self):
        rows = self.json_lines(["history", "--json"])
        old = dict(rows[0])
        old["started"] = 1765000000  # an epoch number
        self.assertFalse(self.validator.is_valid(old))
        old = dict(rows[0], label="")  # "" for an absent value
        self.assertFalse(self.validator.is_valid(old))
        old = dict(rows[0])
        del old["schema"]
        self.assertFalse(self.validator.is_valid(old))


if __name__ == "__main__":
    servers.main()
