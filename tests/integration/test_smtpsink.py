"""`ehlo run` against smtp-sink: faults, timeouts, exit statuses, usage.

smtp-sink accepts everything and injects the faults real servers produce
under stress: 421 and disconnect, disconnect without a reply, 4xx/5xx
replies, slow replies.  Each fault gets its own sink (they start in ~25 ms).
"""

import json
import os
import tempfile
import textwrap
import time
import unittest

import servers

TRANSACTION = textwrap.dedent("""\
    EHLO client.example.test
    MAIL FROM:<alice@example.test>
    RCPT TO:<bob@example.test>
    DATA
    Subject: to the sink

    hello sink
    .
    """)


class SmtpSinkTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.sink = servers.SmtpSink()
        cls.addClassCleanup(cls.sink.stop)
        cls.server = f"127.0.0.1:{cls.sink.port}"

    def faulty(self, *options):
        """A sink with fault options, stopped when the test ends."""
        sink = servers.SmtpSink(options)
        self.addCleanup(sink.stop)
        return f"127.0.0.1:{sink.port}"

    def timed(self, args, script_text):
        start = time.monotonic()
        r = self.ehlo(args, script_text)
        return r, time.monotonic() - start

    # -- a normal session ----------------------------------------------------

    def test_transaction(self):
        before = len(self.sink.dumps())
        r = self.ehlo(["run", self.server], TRANSACTION)
        self.assertExit(r, 0)
        self.assertLine(r, r"^S: 220 sink\.example\.test ")
        self.assertLine(r, r"^S: 250 2\.0\.0 Ok")
        self.assertLine(r, r"^C: QUIT$")
        dumps = self.sink.dumps()
        self.assertEqual(len(dumps), before + 1)
        self.assertIn(b"hello sink", dumps[-1])

    def test_trailing_blanks_after_a_body_path(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "body.txt")
            with open(path, "w") as f:
                f.write("Subject: blanks\n\nbody with a path and blanks\n")
            before = len(self.sink.dumps())
            r = self.ehlo(["run", self.server],
                          "EHLO c.example\nMAIL FROM:<a@b.example>\n"
                          f"RCPT TO:<c@d.example>\n/body {path} \t \n")
            self.assertExit(r, 0)
            dumps = self.sink.dumps()
            self.assertEqual(len(dumps), before + 1)
            self.assertIn(b"body with a path and blanks", dumps[-1])

    def test_script_from_file_and_dash(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "session.txt")
            with open(path, "w") as f:
                f.write("EHLO client.example.test\nNOOP\n")
            r = self.ehlo(["run", self.server, path])
            self.assertExit(r, 0)
            self.assertLine(r, r"^C: NOOP$")
        r = self.ehlo(["run", self.server, "-"], "NOOP\n")
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: NOOP$")

    def test_comments_blank_lines_quit_and_sleep(self):
        start = time.monotonic()
        r = self.ehlo(["run", self.server], textwrap.dedent("""\
            # a comment is not sent

            EHLO client.example.test
            /sleep 1
            /quit
            NOOP
            """))
        self.assertExit(r, 0)
        self.assertGreaterEqual(time.monotonic() - start, 1.0)
        self.assertNoLine(r, r"^C: #")
        self.assertLine(r, r"^C: QUIT$")
        self.assertNoLine(r, r"^C: NOOP")

    def test_json_output(self):
        r = self.ehlo(["run", "--json", self.server], TRANSACTION)
        self.assertExit(r, 0)
        lines = r.stdout.splitlines()
        self.assertTrue(lines, self.transcript(r))
        for line in lines:
            try:
                value = json.loads(line)
            except ValueError:
                self.fail(f"not JSON: {line!r}\n" + self.transcript(r))
            self.assertIsInstance(value, dict, line)
        self.assertIn("EHLO client.example.test", r.stdout)

    @unittest.skipUnless(servers.ipv6_loopback_available(), "no ::1")
    def test_ipv6_literal(self):
        sink = servers.SmtpSink(host="::1")
        self.addCleanup(sink.stop)
        r = self.ehlo(["run", f"[::1]:{sink.port}"], TRANSACTION)
        self.assertExit(r, 0)
        self.assertEqual(len(sink.dumps()), 1)

    # -- faults --------------------------------------------------------------

    def test_421_and_disconnect(self):
        server = self.faulty("-Q", "RCPT")
        r, elapsed = self.timed(["run", "--timeout", "10", server],
                                textwrap.dedent("""\
            EHLO client.example.test
            MAIL FROM:<alice@example.test>
            RCPT TO:<bob@example.test>
            """))
        # A 421 is a 4xx reply (exit 75, EX_TEMPFAIL); the close after it
        # must not hang.
        self.assertExit(r, 75)
        self.assertLine(r, r"^S: 421 ")
        self.assertLess(elapsed, 8)

    def test_disconnect_without_reply(self):
        server = self.faulty("-q", "RCPT")
        r, elapsed = self.timed(["run", "--timeout", "10", server],
                                textwrap.dedent("""\
            EHLO client.example.test
            MAIL FROM:<alice@example.test>
            RCPT TO:<bob@example.test>
            """))
        self.assertExit(r, 3)
        self.assertLine(r, r"^ehlo: ", stream="stderr")
        self.assertLess(elapsed, 8)

    def test_reply_delayed_past_timeout(self):
        server = self.faulty("-W", "MAIL:5")
        r, elapsed = self.timed(["run", "--timeout", "1", server],
                                textwrap.dedent("""\
            EHLO client.example.test
            MAIL FROM:<alice@example.test>
            """))
        self.assertExit(r, 3)
        self.assertLess(elapsed, 4.5)
        self.assertLine(r, r"(?i)^ehlo: .*time(d)?[ -]?out", stream="stderr")

    def test_data_reply_delayed_past_timeout(self):
        server = self.faulty("-w", "5")
        r, elapsed = self.timed(["run", "--timeout", "1", server],
                                TRANSACTION)
        self.assertExit(r, 3)
        self.assertLess(elapsed, 4.5)
        self.assertLine(r, r"(?i)^ehlo: .*time(d)?[ -]?out", stream="stderr")

    def test_slow_reply_within_timeout(self):
        server = self.faulty("-W", "MAIL:1")
        r = self.ehlo(["run", "--timeout", "5", server], TRANSACTION)
        self.assertExit(r, 0)

    def test_temporary_and_permanent_rejections(self):
        # A session that ends on a 4xx exits 75 (EX_TEMPFAIL), on a 5xx 1.
        for option, code, status in (("-r", "450", 75), ("-f", "500", 1)):
            with self.subTest(option=option):
                server = self.faulty(option, "RCPT")
                text = textwrap.dedent("""\
                    EHLO client.example.test
                    MAIL FROM:<alice@example.test>
                    RCPT TO:<bob@example.test>
                    """)
                r = self.ehlo(["run", server], text)
                self.assertExit(r, status)
                self.assertLine(r, rf"^S: {code} ")
                r = self.ehlo(["run", server],
                              text + f"/expect {code[0]}xx\n")
                self.assertExit(r, 0)

    def test_starttls_required_but_not_offered(self):
        r = self.ehlo(["run", "--starttls", self.server],
                      "MAIL FROM:<alice@example.test>\n")
        self.assertExit(r, 3)
        self.assertLine(r, r"^ehlo: .*STARTTLS", stream="stderr")
        self.assertNoLine(r, r"^C: MAIL")

    def test_connection_refused(self):
        port = servers.free_port()
        r = self.ehlo(["run", "--timeout", "5", f"127.0.0.1:{port}"],
                      "NOOP\n")
        self.assertExit(r, 3)
        self.assertLine(r, r"^ehlo: ", stream="stderr")

    # -- usage and script errors ---------------------------------------------

    def test_bad_script_names_file_and_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "script.txt")
            with open(path, "w") as f:
                f.write("EHLO client.example.test\nNOOP\n/frobnicate\n")
            r = self.ehlo(["run", self.server, path])
        self.assertExit(r, 2)
        self.assertLine(r, r"^ehlo: .*script\.txt:3\b", stream="stderr")

    def test_bad_usage(self):
        for args in (["run"], ["run", "--timeout", "soon", self.server],
                     ["run", "--no-such-option", self.server]):
            with self.subTest(args=args):
                r = self.ehlo(args, "NOOP\n")
                self.assertExit(r, 2)
                self.assertLine(r, r"^ehlo: ", stream="stderr")


if __name__ == "__main__":
    servers.require_program("smtp-sink")
    servers.main()
