"""`ehlo explain` and `/explain` in line mode.

`ehlo explain` needs no server: it prints the knowledge base's text for a
reply code, an enhanced status code, both, a class or a command, exits 2
with a clear message for anything else, and --json gives the fields.
`/explain` in `ehlo run` is checked against real servers: smtp-sink (a
plain 250 to VRFY, and 450 to RCPT with -r RCPT) and aiosmtpd (252 to
VRFY), where it must explain the last reply as "*: " lines.
"""

import concurrent.futures
import importlib.util
import json
import re
import shutil
import subprocess
import unittest

import servers

WIDTH = 78


def lines_of(text):
    return text.splitlines()


class ExplainCommandTest(servers.EhloTestCase):
    """`ehlo explain`: no network involved."""

    def assertWidth(self, text, width=WIDTH):
        for line in lines_of(text):
            self.assertLessEqual(len(line), width,
                                 f"line over {width} columns: {line!r}")

    def test_reply_code(self):
        r = self.ehlo(["explain", "550"])
        self.assertExit(r, 0)
        self.assertEqual(r.stderr, "")
        self.assertTrue(r.stdout.startswith("550: Mailbox unavailable"),
                        r.stdout)
        self.assertLine(r, r"^Reference: RFC 5321 4\.2\.2")
        self.assertLine(r, r"^What it means:$")
        self.assertLine(r, r"^How real servers differ:$")
        self.assertWidth(r.stdout)

    def test_enhanced_code(self):
        r = self.ehlo(["explain", "5.7.1"])
        self.assertExit(r, 0)
        self.assertTrue(
            r.stdout.startswith("5.7.1: Delivery not authorized"), r.stdout)
        self.assertLine(r, r"registry entry X\.7\.1")
        self.assertLine(r, r"Relay access denied")
        self.assertWidth(r.stdout)
        # The class-independent subject: 4.7.1 finds the same entry.
        r4 = self.ehlo(["explain", "4.7.1"])
        self.assertExit(r4, 0)
        self.assertTrue(r4.stdout.startswith("4.7.1: Delivery not "
                                             "authorized"), r4.stdout)

    def test_verb(self):
        for verb in ("VRFY", "vrfy"):
            r = self.ehlo(["explain", verb])
            self.assertExit(r, 0)
            self.assertTrue(r.stdout.startswith("VRFY: "), r.stdout)
            self.assertLine(r, r"^Syntax: VRFY ")
            self.assertLine(r, r"^What it does:$")
            # Where real servers differ: 252 by Postfix, 250 by smtp-sink.
            self.assertIn("252", r.stdout)
            self.assertIn("smtp-sink", r.stdout)
            self.assertWidth(r.stdout)

    def test_code_and_enhanced(self):
        for args in (["550", "5.1.1"], ["550 5.1.1"]):
            r = self.ehlo(["explain", *args])
            self.assertExit(r, 0)
            self.assertTrue(r.stdout.startswith("550: "), r.stdout)
            self.assertLine(r, r"^5\.1\.1: Bad destination mailbox address$")
            self.assertWidth(r.stdout)

    def test_class_and_unregistered(self):
        r = self.ehlo(["explain", "5xx"])
        self.assertExit(r, 0)
        self.assertTrue(r.stdout.startswith("5xx: Permanent"), r.stdout)
        r = self.ehlo(["explain", "571"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^571 is not a registered reply code")

    def test_unknown(self):
        for what in ("hello", "999", "6.1.1"):
            r = self.ehlo(["explain", what])
            self.assertExit(r, 2)
            self.assertEqual(r.stdout, "")
            self.assertEqual(
                r.stderr,
                f'ehlo: no explanation for "{what}": try a reply code like '
                "550, an enhanced code like 5.7.1 or a command like VRFY; "
                "ehlo explain --list shows every topic\n")

    def test_usage(self):
        r = self.ehlo(["explain"])
        self.assertExit(r, 2)
        self.assertLine(r, r"^ehlo: ", stream="stderr")
        r = self.ehlo(["explain", "--help"])
        self.assertExit(r, 0)
        self.assertLine(r, r"usage: ehlo explain")

    def test_json(self):
        r = self.ehlo(["explain", "--json", "550"])
        self.assertExit(r, 0)
        obj = json.loads(r.stdout)
        self.assertEqual(obj["key"], "550")
        self.assertEqual(obj["kind"], "reply")
        for field in ("title", "meaning", "causes", "action", "servers",
                      "rfc"):
            self.assertIsInstance(obj[field], str, field)
            self.assertNotEqual(obj[field], "", field)

        r = self.ehlo(["explain", "--json", "550", "5.1.1"])
        self.assertExit(r, 0)
        obj = json.loads(r.stdout)
        self.assertEqual(obj["key"], "550")
        self.assertEqual(obj["enhanced"]["key"], "X.1.1")
        self.assertEqual(obj["enhanced"]["query"], "5.1.1")
        self.assertEqual(obj["enhanced"]["title"],
                         "Bad destination mailbox address")

        r = self.ehlo(["explain", "--json", "vrfy"])
        self.assertExit(r, 0)
        obj = json.loads(r.stdout)
        self.assertEqual(obj["kind"], "verb")
        self.assertEqual(obj["key"], "VRFY")
        self.assertTrue(obj["syntax"].startswith("VRFY"))

        r = self.ehlo(["explain", "--json", "nope"])
        self.assertExit(r, 2)
        self.assertEqual(r.stdout, "")


class ExplainListTest(servers.EhloTestCase):
    """`ehlo explain --list` and the topics of issue 16: EHLO keywords,
    ports, SASL mechanisms and concepts."""

    def test_every_listed_entry_explains(self):
        r = self.ehlo(["explain", "--list", "--json"])
        self.assertExit(r, 0)
        entries = json.loads(r.stdout)["entries"]
        kinds = {e["kind"] for e in entries}
        for kind in ("reply", "enhanced", "verb", "extension", "port",
                     "mechanism", "concept"):
            self.assertIn(kind, kinds)
        keys = {(e["kind"], e["key"]) for e in entries}
        for kw in ("SIZE", "PIPELINING", "DSN", "8BITMIME", "CHUNKING",
                   "SMTPUTF8", "STARTTLS", "AUTH", "REQUIRETLS", "LIMITS"):
            self.assertIn(("extension", kw), keys)
        for port in ("25", "465", "587", "2525", "24"):
            self.assertIn(("port", port), keys)
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"):
            self.assertIn(("mechanism", mech), keys)
        for concept in ("envelope", "bounce", "greylisting", "relay", "MX"):
            self.assertIn(("concept", concept), keys)

        def explain(entry):
            res = subprocess.run([servers.ehlo_bin(), "explain",
                                  entry["key"]], capture_output=True,
                                 text=True, timeout=30, check=False)
            return entry, res

        # Every topic entry, and the first of each other kind, as a user
        # would ask for it (tests/unit/test_explain.c checks every entry
        # through the same lookup and formatter; one process per entry
        # for all ~200 would cost the suite seconds for nothing more).
        topics = ("extension", "port", "mechanism", "concept")
        chosen, seen = [], set()
        for e in entries:
            if e["kind"] in topics or e["kind"] not in seen:
                chosen.append(e)
            seen.add(e["kind"])
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for entry, res in pool.map(explain, chosen):
                self.assertEqual(res.returncode, 0, entry)
                self.assertIn(entry["title"], res.stdout, entry)
                self.assertGreater(len(lines_of(res.stdout)), 3, entry)

    def test_list_text(self):
        r = self.ehlo(["explain", "--list"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^extension:$")
        self.assertLine(r, r"^port:$")
        self.assertLine(r, r"^  587 +Message submission")
        self.assertLine(r, r"^  PLAIN +SASL PLAIN")
        r = self.ehlo(["explain", "--list", "SIZE"])
        self.assertExit(r, 2)
        self.assertLine(r, r"--list takes no topic", stream="stderr")

    def test_port_beats_reply_class(self):
        r = self.ehlo(["explain", "587"])
        self.assertExit(r, 0)
        self.assertTrue(r.stdout.startswith("Port 587: Message submission"),
                        r.stdout)
        self.assertNoLine(r, r"not a registered reply code")
        self.assertLine(r, r"^How to try it here:$")
        r = self.ehlo(["explain", "250"])
        self.assertTrue(r.stdout.startswith("250: "), r.stdout)

    def test_keyword_and_command(self):
        r = self.ehlo(["explain", "--json", "STARTTLS"])
        self.assertExit(r, 0)
        obj = json.loads(r.stdout)
        self.assertEqual(obj["kind"], "verb")
        self.assertEqual(obj["also"]["kind"], "extension")
        self.assertIn("RFC 3207", obj["also"]["rfc"])
        r = self.ehlo(["explain", "size"])
        self.assertExit(r, 0)
        self.assertTrue(r.stdout.startswith("SIZE: Message size"), r.stdout)
        self.assertLine(r, r"^Reference: RFC 1870")
        self.assertLine(r, r"^What a server does with it:$")
        for line in lines_of(r.stdout):
            self.assertLessEqual(len(line), WIDTH, line)


def explain_notes(stdout):
    """The "*: " lines of a dialogue."""
    return [line[3:] for line in lines_of(stdout) if line.startswith("*: ")]


@unittest.skipUnless(shutil.which("smtp-sink"),
                     "smtp-sink is not installed (Debian: postfix)")
class ExplainInSessionSinkTest(servers.EhloTestCase):
    """`/explain` in line mode against Postfix's smtp-sink."""

    @classmethod
    def setUpClass(cls):
        cls.sink = servers.SmtpSink()
        cls.addClassCleanup(cls.sink.stop)
        cls.server = f"127.0.0.1:{cls.sink.port}"

    def assertNotesFit(self, result):
        for line in lines_of(result.stdout):
            if line.startswith("*: "):
                self.assertLessEqual(len(line), WIDTH, line)

    def test_last_reply(self):
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example.test
            VRFY nobody
            /explain
            """))
        self.assertExit(r, 0)
        # smtp-sink says yes to any VRFY; the explanation says what that
        # is worth.
        self.assertLine(r, r"^S: 250")
        self.assertLine(r, r"^\*: explaining the last reply, 250( 2\.\d\.\d)? "
                        r"to VRFY:\n\*:   address exists \(or the server says "
                        r"yes to all\)$")
        self.assertLine(r, r"^\*: 250: Requested action completed \(OK\)$")
        self.assertLine(r, r"^\*: How real servers differ:$")
        self.assertNotesFit(r)
        # The explanation comes after the reply it explains, before QUIT.
        out = r.stdout
        at = out.index("*: explaining the last reply")
        self.assertLess(out.index("C: VRFY"), at)
        self.assertLess(at, out.index("C: QUIT"))

    def test_with_argument(self):
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example.test
            /explain 5.7.1
            /explain vrfy
            NOOP
            """))
        self.assertExit(r, 0)
        notes = explain_notes(r.stdout)
        self.assertIn("5.7.1: Delivery not authorized, message refused",
                      notes)
        self.assertIn("VRFY: Ask whether an address exists", notes)
        self.assertNotesFit(r)
        self.assertLine(r, r"^C: NOOP$")

    def test_temporary_failure(self):
        sink = servers.SmtpSink(["-r", "RCPT"])
        self.addCleanup(sink.stop)
        r = self.ehlo(["run", f"127.0.0.1:{sink.port}"], servers.script("""
            EHLO client.example.test
            MAIL FROM:<alice@example.test>
            RCPT TO:<bob@example.test>
            /explain
            /expect 450
            """))
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: explaining the last reply, 450( 4\.\d\.\d)? "
                        r"to RCPT:\n\*:   recipient deferred: "
                        r"try again later$")
        self.assertLine(r, r"^\*: 450: Mailbox unavailable \(temporary\)$")
        self.assertNotesFit(r)

    def test_unknown_argument(self):
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example.test
            /explain 999
            NOOP
            """))
        self.assertExit(r, 2)
        self.assertLine(r, r'no explanation for "999"', stream="stderr")
        self.assertNoLine(r, r"^C: NOOP$")

    def test_json_notes(self):
        r = self.ehlo(["run", "--json", self.server], servers.script("""
            EHLO client.example.test
            /explain
            """))
        self.assertExit(r, 0)
        notes = [json.loads(line) for line in lines_of(r.stdout)]
        texts = [n.get("text", "") for n in notes if n.get("type") == "note"]
        at = texts.index("  capabilities listed")
        self.assertTrue(re.match(r"explaining the last reply, 250 .*to EHLO:$",
                                 texts[at - 1]), texts)


@unittest.skipUnless(importlib.util.find_spec("aiosmtpd"),
                     "aiosmtpd is not importable (Debian: python3-aiosmtpd)")
class ExplainInSessionAiosmtpdTest(servers.EhloTestCase):
    """`/explain` against aiosmtpd, which answers VRFY with 252."""

    @classmethod
    def setUpClass(cls):
        cls.srv = servers.Aiosmtpd()
        cls.addClassCleanup(cls.srv.stop)

    def test_vrfy_252(self):
        r = self.ehlo(["run", f"127.0.0.1:{self.srv.port}"], servers.script("""
            EHLO client.example.test
            VRFY alice@example.test
            /explain
            """))
        self.assertExit(r, 0)
        self.assertLine(r, r"^S: 252 ")
        self.assertLine(r, r"^\*: explaining the last reply, 252 to VRFY:\n"
                        r"\*:   cannot verify, but would try delivery$")
        self.assertLine(r, r"^\*: 252: Cannot verify the user, but will try "
                        r"delivery$")


if __name__ == "__main__":
    servers.main()
