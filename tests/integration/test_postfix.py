"""`ehlo run` against a private Postfix instance (needs root).

One Postfix serves the whole file: a plain port (STARTTLS offered, AUTH
allowed in the clear), an implicit-TLS port and a submission port (TLS
required, AUTH only after TLS).  Mail for alice@ and bob@example.test is
delivered to Maildirs, and the tests read what Postfix really stored.
"""

import json
import os
import re
import subprocess
import tempfile

import servers

DOMAIN = "example.test"
USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}
BODY_FILE = servers.data_file("dotted-body.eml")


class PostfixTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.pf = servers.Postfix(USERS, domain=DOMAIN)
        cls.addClassCleanup(cls.pf.stop)
        cls.server = f"127.0.0.1:{cls.pf.port}"
        cls.tls_server = f"127.0.0.1:{cls.pf.tls_port}"
        cls.submission = f"127.0.0.1:{cls.pf.submission_port}"
        cls.cafile = cls.pf.cert.cert
        with open(BODY_FILE, "rb") as f:
            cls.body = f.read()

    def auth_env(self, user="alice", secret=None):
        return {"EHLO_PASSWORD": USERS[user] if secret is None else secret}

    def delivered(self, user, before):
        """The one message that arrived for user since before."""
        new = self.pf.new_messages(user, before)
        self.assertEqual(len(new), 1, f"expected one new message for {user}"
                         f", got {new}\nmaillog:\n{self.pf.log()[-3000:]}")
        with open(new[0], "rb") as f:
            return f.read()

    def mailbox(self, user):
        return self.pf.maildir(user, count=0)

    # -- a plain session -----------------------------------------------------

    def test_plain_session_delivers_typed_content(self):
        before = self.mailbox("alice")
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example.test
            MAIL FROM:<sender@elsewhere.example>
            RCPT TO:<alice@example.test>
            DATA
            Subject: typed by hand

            Hello Alice, typed line by line.
            ..this line was dot-stuffed by the user
            .
            QUIT
            """))
        self.assertExit(r, 0)
        port = self.pf.port
        self.assertLine(r, rf"^\*: .*connected.*127\.0\.0\.1\D+{port}\b")
        self.assertLine(r, r"^S: 220 mx\.example\.test ESMTP")
        self.assertLine(r, r"^C: EHLO client\.example\.test$")
        self.assertLine(r, r"^S: 250-PIPELINING$")
        self.assertLine(r, r"^C: MAIL FROM:<sender@elsewhere\.example>$")
        self.assertLine(r, r"^S: 354 ")
        self.assertLine(r, r"^S: 250 2\.0\.0 Ok: queued as ")
        self.assertLine(r, r"^C: QUIT$")
        self.assertLine(r, r"^S: 221 ")
        message = self.delivered("alice", before).replace(b"\r\n", b"\n")
        self.assertIn(b"\nSubject: typed by hand\n\nHello Alice, typed line "
                      b"by line.\n.this line was dot-stuffed by the user\n",
                      message)
        self.assertTrue(message.endswith(b"by the user\n"), message)

    def test_quit_is_sent_at_end_of_script(self):
        r = self.ehlo(["run", self.server], "EHLO client.example.test\n")
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: QUIT$")
        self.assertLine(r, r"^S: 221 ")

    # -- TLS -----------------------------------------------------------------

    def test_starttls_option(self):
        before = self.mailbox("bob")
        r = self.ehlo(["run", "--starttls", "--cafile", self.cafile,
                       self.server], servers.script("""
            MAIL FROM:<sender@elsewhere.example>
            RCPT TO:<bob@example.test>
            DATA
            Subject: over STARTTLS

            secret stuff
            .
            """))
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: STARTTLS$")
        self.assertLine(r, r"^S: 220 ")
        self.assertLine(r, r"^\*: .*TLS")
        # EHLO, STARTTLS, EHLO again before the first script line.
        self.assertEqual(len(re.findall(r"^C: EHLO ", r.stdout, re.M)), 2,
                         self.transcript(r))
        self.assertIn(b"(using TLS", self.delivered("bob", before))

    def test_starttls_slash_command(self):
        r = self.ehlo(["run", "--cafile", self.cafile, self.server],
                      servers.script("""
            EHLO client.example.test
            /starttls
            MAIL FROM:<sender@elsewhere.example>
            RCPT TO:<bob@example.test>
            """))
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: STARTTLS$")
        self.assertLine(r, r"^\*: .*TLS")
        self.assertEqual(len(re.findall(r"^C: EHLO ", r.stdout, re.M)), 2,
                         self.transcript(r))

    def test_implicit_tls(self):
        before = self.mailbox("alice")
        r = self.ehlo(["run", "--tls", "--cafile", self.cafile,
                       self.tls_server], servers.script("""
            EHLO client.example.test
            MAIL FROM:<sender@elsewhere.example>
            RCPT TO:<alice@example.test>
            DATA
            Subject: over implicit TLS

            wrapped from the first byte
            .
            """))
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: .*TLS")
        self.assertNoLine(r, r"^C: STARTTLS")
        self.assertIn(b"(using TLS", self.delivered("alice", before))

    def test_submission_port_refuses_mail_before_tls(self):
        r = self.ehlo(["run", self.submission], servers.script("""
            EHLO client.example.test
            MAIL FROM:<alice@example.test>
            """))
        self.assertExit(r, 1)
        self.assertLine(r, r"^S: 530 5\.7\.0 ")

    # -- AUTH ----------------------------------------------------------------

    def test_auth_right_secret(self):
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            with self.subTest(mech=mech):
                # Relaying to another domain is allowed only after AUTH.
                r = self.ehlo(["run", "--auth", mech, "--user", "alice",
                               self.server], servers.script("""
                    EHLO client.example.test
                    MAIL FROM:<alice@example.test>
                    RCPT TO:<friend@relayed.example>
                    """), env=self.auth_env())
                self.assertExit(r, 0)
                self.assertLine(r, rf"^C: AUTH {mech}\b")
                self.assertLine(r, r"^S: 235 2\.7\.0 ")
                self.assertLine(r, r"^S: 250 2\.1\.5 ")
                self.assertNoSecret(r, "alice", USERS["alice"])
                if mech != "CRAM-MD5":
                    self.assertLine(r, r"^C: .*alice")
                    self.assertLine(r, r"^C: .*•")

    def test_auth_wrong_secret(self):
        wrong = "not-alices-secret-9"
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            with self.subTest(mech=mech):
                r = self.ehlo(["run", "--auth", mech, "--user", "alice",
                               self.server], servers.script("""
                    EHLO client.example.test
                    MAIL FROM:<alice@example.test>
                    RCPT TO:<friend@relayed.example>
                    """), env=self.auth_env(secret=wrong))
                self.assertExit(r, 1)
                self.assertLine(r, r"^S: 535 5\.7\.8 ")
                self.assertNoLine(r, r"^S: 235")
                self.assertNoSecret(r, "alice", wrong)

    def test_auth_slash_command(self):
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example.test
            /auth PLAIN bob
            MAIL FROM:<bob@example.test>
            RCPT TO:<friend@relayed.example>
            """), env=self.auth_env("bob"))
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: AUTH PLAIN\b.*bob")
        self.assertLine(r, r"^S: 235 ")
        self.assertNoSecret(r, "bob", USERS["bob"])

    # -- replies and /expect -------------------------------------------------

    def test_teaching_commands_with_expect(self):
        r = self.ehlo(["run", self.server], servers.script("""
            # How Postfix answers the commands the workbench teaches.
            EHLO client.example.test

            VRFY alice@example.test
            /expect 252
            VRFY nobody@example.test
            /expect 550 5.1.1
            EXPN list@example.test
            /expect 500 5.5.2
            VERB
            /expect 500
            HELP
            /expect 500 5.5.2
            RSET
            /expect 250
            NOOP
            /expect 2xx
            """))
        self.assertExit(r, 0)
        for pattern in (r"^S: 252 2\.0\.0 ", r"^S: 550 5\.1\.1 ",
                        r"^S: 500 5\.5\.2 ", r"^S: 250 2\.0\.0 Ok"):
            self.assertLine(r, pattern)
        self.assertNoLine(r, r"^C: #")
        self.assertNoLine(r, r"^C: /")

    def test_unexpected_550_exits_1(self):
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example.test
            VRFY nobody@example.test
            """))
        self.assertExit(r, 1)
        self.assertLine(r, r"^S: 550 5\.1\.1 ")

    def test_failed_expect_quits(self):
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example.test
            NOOP
            /expect 5xx
            VRFY alice@example.test
            """))
        self.assertExit(r, 1)
        self.assertNoLine(r, r"^C: VRFY")
        self.assertLine(r, r"^C: QUIT$")
        self.assertIn("expect", (r.stdout + r.stderr).lower(),
                      self.transcript(r))

    def test_expect_checks_enhanced_code(self):
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example.test
            VRFY nobody@example.test
            /expect 550 5.1.2
            """))
        self.assertExit(r, 1)

    def test_size_over_limit(self):
        text = servers.script("""
            EHLO client.example.test
            MAIL FROM:<a@x> SIZE=999999999
            """)
        r = self.ehlo(["run", self.server], text)
        self.assertExit(r, 1)
        self.assertLine(r, r"^S: 552 5\.3\.4 ")
        r = self.ehlo(["run", self.server], text + "/expect 552\n")
        self.assertExit(r, 0)

    def test_relay_needs_auth(self):
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example.test
            MAIL FROM:<alice@example.test>
            RCPT TO:<friend@relayed.example>
            /expect 554 5.7.1
            """))
        self.assertExit(r, 0)

    def test_relay_denied(self):
        text = servers.script("""
            EHLO client.example.test
            MAIL FROM:<a@elsewhere.example>
            RCPT TO:<x@elsewhere.example>
            """)
        r = self.ehlo(["run", self.server], text)
        self.assertExit(r, 1)
        self.assertLine(r, r"^S: 554 5\.7\.1 .*Relay access denied")
        for expect in ("554", "554 5.7.1", "55x", "5xx"):
            with self.subTest(expect=expect):
                r = self.ehlo(["run", self.server],
                              text + f"/expect {expect}\n")
                self.assertExit(r, 0)

    # -- pipelining and /body ------------------------------------------------

    def test_pipeline(self):
        before = {u: self.mailbox(u) for u in USERS}
        r = self.ehlo(["run", self.server], servers.script("""
            EHLO client.example.test
            /pipeline
            MAIL FROM:<sender@elsewhere.example>
            RCPT TO:<alice@example.test>
            RCPT TO:<bob@example.test>
            /end
            DATA
            Subject: pipelined envelope

            to both
            .
            """))
        self.assertExit(r, 0)
        # Sent in one write: the three commands precede their replies.
        lines = r.stdout.splitlines()
        first = next(i for i, line in enumerate(lines)
                     if line.startswith("C: MAIL"))
        self.assertEqual([line[:7] for line in lines[first:first + 3]],
                         ["C: MAIL", "C: RCPT", "C: RCPT"],
                         self.transcript(r))
        replies = [line.split()[:3] for line in lines[first + 3:]
                   if line.startswith("S: ")][:3]
        self.assertEqual(replies, [["S:", "250", "2.1.0"],
                                   ["S:", "250", "2.1.5"],
                                   ["S:", "250", "2.1.5"]],
                         self.transcript(r))
        for user in USERS:
            self.assertIn(b"pipelined envelope",
                          self.delivered(user, before[user]))

    def test_body_file_is_delivered_byte_identical(self):
        before = self.mailbox("bob")
        r = self.ehlo(["run", self.server], servers.script(f"""
            EHLO client.example.test
            MAIL FROM:<alice@{DOMAIN}>
            RCPT TO:<bob@{DOMAIN}>
            /body {BODY_FILE}
            """))
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: DATA$")
        self.assertLine(r, r"^S: 354 ")
        self.assertLine(r, r"^S: 250 2\.0\.0 Ok: queued as ")
        # A summary line stands for the content.
        self.assertNotIn("a line starting with two dots", r.stdout)
        self.assertBodyDelivered(self.delivered("bob", before), self.body)

    def test_done_when_starttls_auth_body(self):
        """The issue's "done when", on the plain and submission ports."""
        for name, server in (("plain", self.server),
                             ("submission", self.submission)):
            with self.subTest(port=name):
                before = self.mailbox("bob")
                r = self.ehlo(["run", "--starttls", "--cafile", self.cafile,
                               "--auth", "PLAIN", "--user", "alice", server],
                              f"MAIL FROM:<alice@{DOMAIN}>\n"
                              f"RCPT TO:<bob@{DOMAIN}>\n"
                              f"/body {BODY_FILE}\n",
                              env=self.auth_env())
                self.assertExit(r, 0)
                self.assertLine(r, r"^S: 235 ")
                self.assertNoSecret(r, "alice", USERS["alice"])
                message = self.delivered("bob", before)
                self.assertIn(b"(using TLS", message)
                self.assertIn(b"with ESMTPSA", message)
                self.assertBodyDelivered(message, self.body)

    # -- BDAT by hand (RFC 3030) ---------------------------------------------

    def run_piped(self, script_bytes, db):
        """printf SCRIPT | ehlo run --timeout 5 SERVER, through a real
        pipe as an admin types it (issue 20, item 1), recording into db."""
        env = dict(os.environ, NO_COLOR="1", TERM="dumb", EHLO_DB=db,
                   XDG_DATA_HOME=os.path.dirname(db),
                   XDG_CONFIG_HOME=os.path.dirname(db),
                   XDG_STATE_HOME=os.path.dirname(db))
        env.pop("EHLO_PASSWORD", None)
        proc = subprocess.run(
            ["sh", "-c", 'printf "%s" "$1" | "$2" run --timeout 5 "$3"',
             "sh", script_bytes, servers.ehlo_bin(), self.server],
            capture_output=True, env=env, timeout=60)
        return servers.Result(proc.returncode, proc.stdout.decode(),
                              proc.stderr.decode())

    def assertOnlyTraceHeaders(self, message, content):
        """message (as stored, LF line ends) is Postfix's trace headers
        followed by exactly content (CRLF as LF)."""
        want = content.replace(b"\r\n", b"\n")
        self.assertTrue(message.endswith(want), message)
        added = message[:len(message) - len(want)].decode()
        names = [line.split(":", 1)[0] for line in added.splitlines()
                 if not line[:1].isspace()]
        self.assertEqual(names, ["Return-Path", "X-Original-To",
                                 "Delivered-To", "Received"], message)

    def test_bdat_chunks_are_sent_before_the_reply_is_awaited(self):
        """Lines after BDAT n are the chunk: sent as typed (no dot-stuffing,
        no slash commands, QUIT is content), then the reply is awaited.
        Before the fix line mode waited for the reply to BDAT without
        sending the chunk and timed out (exit 3)."""
        chunk1 = b"Subject: x\r\n"
        chunk2 = (b"\r\n.a dot that stays\r\n/expect 250\r\n"
                  b"# not a comment\r\nQUIT\r\n")
        script = (b"EHLO me\nMAIL FROM:<a@example.test>\n"
                  b"RCPT TO:<alice@example.test>\n"
                  b"BDAT %d\n" % len(chunk1) +
                  chunk1.replace(b"\r\n", b"\n") +
                  b"BDAT %d LAST\n" % len(chunk2) +
                  chunk2.replace(b"\r\n", b"\n"))
        before = self.mailbox("alice")
        with tempfile.TemporaryDirectory(prefix="ehlo-bdat-") as home:
            db = os.path.join(home, "ehlo.db")
            r = self.run_piped(script, db)
            self.assertExit(r, 0)
            dialogue = [line for line in r.stdout.splitlines()
                        if line[:3] in ("C: ", "S: ")]
            at = dialogue.index("C: BDAT 12")
            self.assertEqual(dialogue[at:at + 3],
                             ["C: BDAT 12", "C: Subject: x",
                              "S: 250 2.0.0 Ok: 12 bytes"],
                             self.transcript(r))
            self.assertEqual(dialogue[at + 3:at + 9],
                             [f"C: BDAT {len(chunk2)} LAST", "C: ",
                              "C: .a dot that stays", "C: /expect 250",
                              "C: # not a comment", "C: QUIT"],
                             self.transcript(r))
            self.assertRegex(dialogue[at + 9],
                             r"^S: 250 2\.0\.0 Ok: %d bytes queued as " %
                             (len(chunk1) + len(chunk2)))
            self.assertEqual(dialogue[at + 10:at + 12],
                             ["C: QUIT", "S: 221 2.0.0 Bye"])
            self.assertOnlyTraceHeaders(self.delivered("alice", before),
                                        chunk1 + chunk2)
            # Recorded like DATA content: client rows marked content.
            shown = servers.run_ehlo(["show", "--db", db, "1", "--json"])
            self.assertExit(shown, 0)
            content = [e["text"] for e in json.loads(shown.stdout)["events"]
                       if e.get("content") and e.get("stage") == "BDAT"]
            self.assertEqual(content, ["Subject: x", "", ".a dot that stays",
                                       "/expect 250", "# not a comment",
                                       "QUIT"])

    def test_bdat_message_longer_than_its_rows_replays(self):
        """A BDAT message of more lines than are kept as rows (20) is
        recorded with its body; `ehlo replay` cuts the same chunks from
        the body again (the first chunk ends inside a line), and the
        server gets the same message.  Before, the script held only the
        lines kept as rows, and the replay broke off inside the chunk."""
        chunk1 = b"Subject: sp"
        chunk2 = (b"lit\r\n\r\n" +
                  b"".join(b"line %02d\r\n" % i for i in range(1, 26)))
        script = (b"EHLO me\nMAIL FROM:<a@example.test>\n"
                  b"RCPT TO:<alice@example.test>\n"
                  b"BDAT %d\n" % len(chunk1) + chunk1 + b"\n" +
                  b"BDAT %d LAST\n" % len(chunk2) +
                  chunk2.replace(b"\r\n", b"\n") + b"QUIT\n")
        with tempfile.TemporaryDirectory(prefix="ehlo-bdat-") as home:
            db = os.path.join(home, "ehlo.db")
            before = self.mailbox("alice")
            r = self.run_piped(script, db)
            self.assertExit(r, 0)
            self.assertOnlyTraceHeaders(self.delivered("alice", before),
                                        chunk1 + chunk2)
            exported = servers.run_ehlo(["export", "--db", db, "1",
                                         "--format", "script"])
            self.assertExit(exported, 0)
            self.assertIn("BDAT %d LAST\n" % len(chunk2), exported.stdout)
            self.assertIn("line 25\nQUIT\n", exported.stdout)
            before = self.mailbox("alice")
            r = servers.run_ehlo(["replay", "--db", db, "1", "--diff"])
            self.assertExit(r, 0)
            self.assertOnlyTraceHeaders(self.delivered("alice", before),
                                        chunk1 + chunk2)

    def test_bdat_chunk_may_end_inside_a_line(self):
        """A line of exactly the octets left ends the chunk without CRLF;
        the next chunk continues that line."""
        before = self.mailbox("alice")
        args = ["run", "--timeout", "5", self.server]
        r = self.ehlo(args, servers.script("""
            EHLO me
            MAIL FROM:<a@example.test>
            RCPT TO:<alice@example.test>
            BDAT 11
            Subject: sp
            BDAT 13 LAST
            lit

            body
            """))
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: BDAT chunk complete \(11 octets\), its last "
                           r"line sent without CRLF")
        self.assertOnlyTraceHeaders(self.delivered("alice", before),
                                    b"Subject: split\r\n\r\nbody\r\n")

    def test_bdat_line_that_does_not_fit_is_refused(self):
        """A line longer than the chunk's rest is not sent; the script ends
        there and the session is closed (a QUIT would be chunk content), so
        nothing is delivered and ehlo exits 2 without waiting."""
        before = self.mailbox("bob")
        args = ["run", "--timeout", "5", self.server]
        r = self.ehlo(args, servers.script("""
            EHLO me
            MAIL FROM:<a@example.test>
            RCPT TO:<bob@example.test>
            BDAT 12 LAST
            Subject: xyz!
            """))
        self.assertExit(r, 2)
        self.assertLine(r, r"^ehlo: stdin:5: this line needs 15 octets with "
                           r"its CRLF but the BDAT chunk has 12 left",
                        stream="stderr")
        self.assertLine(r, r"^ehlo: stdin: the script stopped 12 octets "
                           r"short of the BDAT chunk's end; the connection "
                           r"was closed", stream="stderr")
        self.assertNoLine(r, r"^C: (Subject|QUIT)")
        self.assertEqual(self.pf.new_messages("bob", before, timeout=1), [])


if __name__ == "__main__":
    servers.require_root("Postfix")
    servers.require_program("postfix")
    servers.require_program("saslpasswd2")
    servers.main()
