"""XCLIENT and the PROXY protocol against a real Postfix (issue 18 items
2 and 3; needs root).

One private Postfix serves the file: its plain port lets 127.0.0.1 use
XCLIENT (smtpd_authorized_xclient_hosts), and one more smtpd expects a
PROXY protocol header first (smtpd_upstream_proxy_protocol = haproxy).
Each test checks the client address Postfix wrote into the Received:
header of the message it really delivered: the address ehlo forged.
"""

import os
import re
import tempfile

import servers

servers.require_root()
servers.require_program("postfix")

DOMAIN = "example.test"
MESSAGE = """\
    MAIL FROM:<sender@elsewhere.example>
    RCPT TO:<alice@example.test>
    DATA
    Subject: {subject}

    hello
    .
    """


class XclientProxyTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.pf = servers.Postfix(
            {"alice": "alice-secret-1"}, domain=DOMAIN, proxy=True,
            extra_main_cf="smtpd_authorized_xclient_hosts = 127.0.0.1")
        cls.addClassCleanup(cls.pf.stop)
        cls.server = f"127.0.0.1:{cls.pf.port}"
        cls.proxied = f"127.0.0.1:{cls.pf.proxy_port}"

    def received(self, before):
        """The first Received: header of the one new message for alice."""
        new = self.pf.new_messages("alice", before)
        self.assertEqual(len(new), 1, self.pf.log()[-3000:])
        with open(new[0], "rb") as f:
            head = f.read().decode("utf-8", "replace").split("\n\n")[0]
        m = re.search(r"^Received: from ([^\n]*)", head, re.MULTILINE)
        self.assertIsNotNone(m, head)
        return m.group(1)

    def message(self, subject):
        return servers.script(MESSAGE.format(subject=subject))

    # -- XCLIENT -------------------------------------------------------------

    def test_slash_xclient_forges_the_client_then_ehlo_again(self):
        before = self.pf.maildir("alice", count=0)
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example
            /xclient addr=192.0.2.7 NAME=forged.example
            """) + self.message("slash xclient"))
        self.assertExit(r, 0)
        self.assertLine(r, r"^S: 250-XCLIENT .*\bADDR\b")
        self.assertLine(r, r"^C: XCLIENT ADDR=192\.0\.2\.7 "
                           r"NAME=forged\.example$")
        # The 220 is a new greeting, and EHLO follows by itself.
        self.assertRegex(r.stdout, r"C: XCLIENT [^\n]*\nS: 220 [^\n]*\n"
                                   r"\*: XCLIENT accepted[^\n]*\n"
                                   r"C: EHLO client\.example\n")
        self.assertIn("forged.example [192.0.2.7]", self.received(before))

    def test_send_xclient_option(self):
        before = self.pf.maildir("alice", count=0)
        r = self.ehlo(["send", self.server, "--from", "s@elsewhere.example",
                       "--to", "alice@example.test", "--subject", "opt",
                       "--xclient", "ADDR=192.0.2.8",
                       "--xclient", "NAME=option.example PROTO=SMTP"])
        self.assertExit(r, 0)
        self.assertIn("(option.example [192.0.2.8])", self.received(before))

    def test_run_xclient_option_and_replay(self):
        with tempfile.TemporaryDirectory(prefix="ehlo-xclient-") as home:
            db = os.path.join(home, "ehlo.db")
            before = self.pf.maildir("alice", count=0)
            r = self.ehlo(["run", "--db", db, self.server, "--xclient",
                           "ADDR=192.0.2.9 NAME=replayed.example"],
                          self.message("run xclient"))
            self.assertExit(r, 0)
            self.assertLine(r, r"^C: XCLIENT ADDR=192\.0\.2\.9 "
                               r"NAME=replayed\.example$")
            self.assertIn("replayed.example [192.0.2.9]",
                          self.received(before))
            # The replay sends XCLIENT and the EHLO after it again.
            before = self.pf.maildir("alice", count=0)
            r = self.ehlo(["replay", "--db", db, "1"])
            self.assertExit(r, 0)
            self.assertEqual(len(re.findall(r"^C: EHLO ", r.stdout,
                                            re.MULTILINE)), 2, r.stdout)
            self.assertIn("replayed.example [192.0.2.9]",
                          self.received(before))
            r = self.ehlo(["replay", "--db", db, "1", "--xclient",
                           "ADDR=192.0.2.1"])
            self.assertExit(r, 2)
            self.assertIn("replay repeats the recorded XCLIENT", r.stderr)
            exported = self.ehlo(["export", "--db", db, "1",
                                  "--format", "swaks"])
            self.assertExit(exported, 0)
            self.assertIn("--xclient 'ADDR=192.0.2.9 "
                          "NAME=replayed.example'", exported.stdout)

    def test_xclient_not_offered_sends_nothing_else(self):
        """The proxied port is another smtpd: with a PROXY header from
        198.51.100.9, that client is not allowed XCLIENT."""
        r = self.ehlo(["run", self.proxied, "--proxy-header", "v1",
                       "--proxy-source", "198.51.100.9:4000",
                       "--xclient", "ADDR=192.0.2.7"],
                      self.message("never sent"))
        self.assertExit(r, 3)
        self.assertLine(r, r"did not offer XCLIENT", "stderr")
        self.assertNoLine(r, r"^C: (XCLIENT|MAIL)")

    # -- PROXY protocol -----------------------------------------------------

    def test_proxy_v1(self):
        before = self.pf.maildir("alice", count=0)
        port = self.pf.proxy_port
        r = self.ehlo(["run", self.proxied, "--proxy-header", "v1",
                       "--proxy-source", "198.51.100.9:4321"],
                      "EHLO client.example\n" + self.message("proxy v1"))
        self.assertExit(r, 0)
        # First on the wire, before the greeting.
        self.assertRegex(r.stdout, r"\*: connected to [^\n]*\n"
                                   rf"C: PROXY TCP4 198\.51\.100\.9 "
                                   rf"127\.0\.0\.1 4321 {port}\nS: 220 ")
        self.assertIn("[198.51.100.9]", self.received(before))

    def test_proxy_v2_recorded_and_replayed(self):
        with tempfile.TemporaryDirectory(prefix="ehlo-proxy-") as home:
            db = os.path.join(home, "ehlo.db")
            before = self.pf.maildir("alice", count=0)
            r = self.ehlo(["run", "--db", db, self.proxied,
                           "--proxy-header", "v2", "--proxy-source",
                           "203.0.113.77:5555", "--proxy-dest",
                           "192.0.2.25:25"],
                          "EHLO client.example\n" + self.message("v2"))
            self.assertExit(r, 0)
            shown = ("C: PROXY v2 0d0a0d0a000d0a515549540a 21 11 000c "
                     "cb00714d c0000219 15b3 0019")
            self.assertIn(shown + "\nS: 220 ", r.stdout)
            self.assertIn("[203.0.113.77]", self.received(before))
            # Recorded, and sent again by replay.
            r = self.ehlo(["show", "--db", db, "1"])
            self.assertIn(shown[3:], r.stdout)
            before = self.pf.maildir("alice", count=0)
            r = self.ehlo(["replay", "--db", db, "1"])
            self.assertExit(r, 0)
            self.assertIn(shown, r.stdout)
            self.assertIn("[203.0.113.77]", self.received(before))

    def test_proxy_option_errors(self):
        for args, said in (
                (["--proxy-header", "v3"], "v1 or v2"),
                (["--proxy-header", "v1"], "needs --proxy-source"),
                (["--proxy-source", "192.0.2.1:1"], "go with --proxy-header"),
                (["--proxy-header", "v2", "--proxy-source", "mx.example:25"],
                 "not an IPv4 or IPv6 address"),
                (["--proxy-header", "v1", "--proxy-source", "192.0.2.1:1",
                  "--proxy-dest", "[::1]:25"], "both be IPv4"),
                (["--xclient", "ADDR"], "not NAME=VALUE")):
            r = self.ehlo(["run", *args, self.proxied], "QUIT\n")
            self.assertExit(r, 2)
            self.assertIn(said, r.stderr)
        # check and probe speak as themselves: --xclient is refused, not
        # silently left out.
        r = self.ehlo(["check", "--xclient", "ADDR=192.0.2.9", self.proxied])
        self.assertExit(r, 3)
        self.assertIn("--xclient is for run, send and the workbench",
                      r.stdout)
        r = self.ehlo(["probe", "relay", "--xclient", "ADDR=192.0.2.9",
                       self.proxied])
        self.assertExit(r, 2)
        self.assertIn("ehlo probe takes NAME SERVER and only", r.stderr)


if __name__ == "__main__":
    servers.main()
