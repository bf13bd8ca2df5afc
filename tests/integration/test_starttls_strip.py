"""STARTTLS stripping across runs: a server that offered STARTTLS on a
plain-text EHLO in an earlier recorded session and does not now gets a
warning (a classic downgrade attack sign).

The same port serves first `ehlo practice` (STARTTLS offered; the run
upgrades, so the capabilities after TLS lack STARTTLS and must not
count), then smtp-sink (no STARTTLS).  Both runs share one --db.  A
server that never offered STARTTLS gets no warning.
"""

import os
import re
import subprocess
import tempfile

import servers

EHLO_QUIT = "EHLO client.example\nQUIT\n"
WARNING = re.compile(r"^\*: warning: STARTTLS was offered here in session "
                     r"#(\d+) \(\d{4}-\d\d-\d\d \d\d:\d\d\)$", re.M)


class StarttlsStripTest(servers.EhloTestCase):

    def setUp(self):
        servers.require_program("smtp-sink")
        tmp = tempfile.TemporaryDirectory(prefix="ehlo-strip-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self.db = os.path.join(self.tmp, "ehlo.db")

    def start_practice(self):
        """`ehlo practice` on a free port; returns (process, port)."""
        env = dict(os.environ, XDG_DATA_HOME=self.tmp, NO_COLOR="1")
        for _ in range(3):
            port = servers.free_port()
            log = open(os.path.join(self.tmp, "practice.log"), "w+b")
            self.addCleanup(log.close)
            proc = subprocess.Popen(
                [servers.ehlo_bin(), "practice", "--listen",
                 f"127.0.0.1:{port}"], stdout=log, stderr=log, env=env,
                preexec_fn=servers._die_with_parent)
            try:
                servers.wait_ready("127.0.0.1", port,
                                   alive=lambda: proc.poll() is None)
                return proc, port
            except RuntimeError:
                proc.kill()
                proc.wait()
        raise RuntimeError("ehlo practice did not start")

    def run_db(self, port, script_text, *args):
        return self.ehlo(["run", "--db", self.db, *args,
                          f"127.0.0.1:{port}"], script_text)

    def test_stripped_starttls_is_warned(self):
        proc, port = self.start_practice()
        try:
            r = self.run_db(port, "EHLO client.example\nSTARTTLS\n"
                            "EHLO client.example\nQUIT\n", "--insecure")
            self.assertExit(r, 0)
            self.assertLine(r, r"^S: 250.STARTTLS$")
            self.assertNoLine(r, r"STARTTLS was offered here")
        finally:
            proc.kill()
            proc.wait()
        # The same port, now without STARTTLS.
        sink = servers.SmtpSink(port=port)
        self.addCleanup(sink.stop)
        r = self.run_db(port, EHLO_QUIT)
        self.assertExit(r, 0)
        m = WARNING.search(r.stdout)
        self.assertIsNotNone(m, self.transcript(r))
        self.assertEqual(m.group(1), "1")
        self.assertLine(r, r"^\*: warning: but not now: someone may be "
                           r"stripping it \(STARTTLS downgrade\);$")
        self.assertLine(r, r"^\*: warning: do not send credentials or "
                           r"private mail over this connection$")
        for line in r.stdout.splitlines():
            if line.startswith("*:"):
                self.assertLessEqual(len(line), 78, line)
        # The warning comes after the EHLO reply, before QUIT is sent.
        out = r.stdout
        self.assertLess(out.index("S: 250 "), m.start())
        self.assertLess(m.start(), out.index("C: QUIT"))
        # It repeats while STARTTLS stays away, naming the same session.
        r = self.run_db(port, EHLO_QUIT, "--json")
        warnings = [line for line in r.stdout.splitlines()
                    if '"warning"' in line and "session #1 " in line]
        self.assertEqual(len(warnings), 1, self.transcript(r))

    def test_offered_in_a_session_still_in_the_spool(self):
        """Once the database exists, `ehlo run` spools its session; the
        STARTTLS pins (ehlo.db-starttls) carry the fact to the next run
        before any import, which names no number yet."""
        sink = servers.SmtpSink()
        self.addCleanup(sink.stop)
        r = self.run_db(sink.port, EHLO_QUIT)  # makes the database
        self.assertExit(r, 0)
        proc, port = self.start_practice()
        try:
            r = self.run_db(port, EHLO_QUIT)
            self.assertExit(r, 0)
            self.assertLine(r, r"^S: 250.STARTTLS$")
        finally:
            proc.kill()
            proc.wait()
        spool = self.db + "-spool"
        self.assertEqual(len(os.listdir(spool)), 1, "not spooled")
        with open(self.db + "-starttls") as f:
            pins = f.read()
        self.assertRegex(pins, rf"^\d+ 0 {port} 127\.0\.0\.1$")
        sink2 = servers.SmtpSink(port=port)
        self.addCleanup(sink2.stop)
        r = self.run_db(port, EHLO_QUIT)
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: warning: STARTTLS was offered here in an "
                           r"earlier session \(\d{4}-\d\d-\d\d \d\d:\d\d\)$")
        self.assertLine(r, r"^\*: warning: but not now: someone may be "
                           r"stripping it")
        # Imported, the session has its number, and so has its pin.
        r = self.ehlo(["history", "--db", self.db])
        self.assertExit(r, 0)
        self.assertEqual(os.listdir(spool), [])
        r = self.run_db(port, EHLO_QUIT)
        self.assertExit(r, 0)
        m = WARNING.search(r.stdout)
        self.assertIsNotNone(m, self.transcript(r))
        self.assertEqual(m.group(1), "2")

    def test_never_offered_is_not_warned(self):
        sink = servers.SmtpSink()
        self.addCleanup(sink.stop)
        for _ in range(2):
            r = self.run_db(sink.port, EHLO_QUIT)
            self.assertExit(r, 0)
            self.assertNoLine(r, r"STARTTLS was offered|downgrade")

    def test_without_history_nothing_is_checked(self):
        proc, port = self.start_practice()
        try:
            r = self.run_db(port, EHLO_QUIT)
            self.assertExit(r, 0)
        finally:
            proc.kill()
            proc.wait()
        sink = servers.SmtpSink(port=port)
        self.addCleanup(sink.stop)
        # The same database, which does hold the STARTTLS session.
        r = self.ehlo(["run", "--db", self.db, "--no-history",
                       f"127.0.0.1:{port}"], EHLO_QUIT)
        self.assertExit(r, 0)
        self.assertNoLine(r, r"STARTTLS was offered")
        # Control: with history the same session is warned about.
        r = self.run_db(port, EHLO_QUIT)
        self.assertLine(r, r"STARTTLS was offered")


if __name__ == "__main__":
    servers.main()
