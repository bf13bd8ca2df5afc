"""`ehlo run` against aiosmtpd, checking the exact bytes it received.

One aiosmtpd process serves the file: .port (plain, STARTTLS offered, AUTH
allowed in the clear), .starttls_port (STARTTLS required before MAIL and
AUTH) and .tls_port (implicit TLS).  It records each accepted message, so
the tests compare envelopes and content byte for byte.
"""

import os
import tempfile

import servers

USER = "alice"
SECRET = "alice-secret-1"
BODY_FILE = servers.data_file("dotted-body.eml")


class AiosmtpdTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.ai = servers.Aiosmtpd(user=USER, password=SECRET)
        cls.addClassCleanup(cls.ai.stop)
        cls.cafile = cls.ai.cert.cert
        cls.plain = f"127.0.0.1:{cls.ai.port}"
        cls.starttls_only = f"127.0.0.1:{cls.ai.starttls_port}"
        cls.implicit = f"127.0.0.1:{cls.ai.tls_port}"

    def received_since(self, count_before):
        """The single message recorded after count_before messages."""
        messages = self.ai.messages()
        self.assertEqual(len(messages), count_before + 1,
                         f"expected one new message, have {messages}")
        return messages[-1]

    # -- AUTH ----------------------------------------------------------------

    def test_auth_right_secret(self):
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            with self.subTest(mech=mech):
                count = len(self.ai.messages())
                # No EHLO in the script: ehlo sends it before AUTH.
                r = self.ehlo(["run", "--auth", mech, "--user", USER,
                               self.plain], servers.script(f"""
                    MAIL FROM:<alice@example.test>
                    RCPT TO:<bob@example.test>
                    DATA
                    Subject: AUTH {mech}

                    authenticated
                    .
                    """), env={"EHLO_PASSWORD": SECRET})
                self.assertExit(r, 0)
                self.assertLine(r, rf"^C: AUTH {mech}\b")
                self.assertLine(r, r"^S: 235 ")
                self.assertNoSecret(r, USER, SECRET)
                message = self.received_since(count)
                self.assertEqual(message["login"], USER)

    def test_auth_wrong_secret(self):
        wrong = "guessed-wrong-7"
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            with self.subTest(mech=mech):
                r = self.ehlo(["run", "--auth", mech, "--user", USER,
                               self.plain], servers.script("""
                    EHLO client.example.test
                    MAIL FROM:<alice@example.test>
                    """), env={"EHLO_PASSWORD": wrong})
                self.assertExit(r, 1)
                self.assertLine(r, r"^S: 535 ")
                self.assertNoSecret(r, USER, wrong)

    def test_auth_slash_command_login(self):
        r = self.ehlo(["run", self.plain], servers.script("""
            EHLO client.example.test
            /auth LOGIN alice
            /expect 235
            """), env={"EHLO_PASSWORD": SECRET})
        self.assertExit(r, 0)
        self.assertNoSecret(r, USER, SECRET)

    # -- the port that requires STARTTLS -------------------------------------

    def test_require_starttls_refuses_plain_mail(self):
        count = len(self.ai.messages())
        r = self.ehlo(["run", self.starttls_only], servers.script("""
            EHLO client.example.test
            MAIL FROM:<alice@example.test>
            """))
        self.assertExit(r, 1)
        self.assertLine(r, r"^S: 530 ")
        self.assertEqual(len(self.ai.messages()), count)

    def test_require_starttls_with_starttls_delivers_exact_bytes(self):
        count = len(self.ai.messages())
        r = self.ehlo(["run", "--starttls", "--cafile", self.cafile,
                       self.starttls_only], servers.script("""
            MAIL FROM:<alice@example.test>
            RCPT TO:<bob@example.test>
            RCPT TO:<carol@example.test>
            DATA
            Subject: typed over STARTTLS

            ..x
            ...
            .
            """))
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: .*TLS")
        message = self.received_since(count)
        self.assertTrue(message["tls"])
        self.assertEqual(message["mail_from"], "alice@example.test")
        self.assertEqual(message["rcpt_tos"],
                         ["bob@example.test", "carol@example.test"])
        # Typed content is sent raw; the server removes one leading dot.
        self.assertEqual(message["data"],
                         b"Subject: typed over STARTTLS\r\n\r\n.x\r\n..\r\n")

    def test_starttls_then_auth(self):
        count = len(self.ai.messages())
        r = self.ehlo(["run", "--starttls", "--cafile", self.cafile,
                       "--auth", "LOGIN", "--user", USER,
                       self.starttls_only], servers.script(f"""
            MAIL FROM:<alice@example.test>
            RCPT TO:<bob@example.test>
            /body {BODY_FILE}
            """), env={"EHLO_PASSWORD": SECRET})
        self.assertExit(r, 0)
        self.assertNoSecret(r, USER, SECRET)
        message = self.received_since(count)
        self.assertTrue(message["tls"])
        self.assertEqual(message["login"], USER)
        with open(BODY_FILE, "rb") as f:
            self.assertEqual(message["data"], f.read())

    def test_implicit_tls(self):
        count = len(self.ai.messages())
        r = self.ehlo(["run", "--tls", "--cafile", self.cafile,
                       self.implicit], servers.script("""
            EHLO client.example.test
            MAIL FROM:<alice@example.test>
            RCPT TO:<bob@example.test>
            DATA
            Subject: implicit

            hello
            .
            """))
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: .*TLS")
        message = self.received_since(count)
        self.assertTrue(message["tls"])
        self.assertEqual(message["data"],
                         b"Subject: implicit\r\n\r\nhello\r\n")

    # -- /body normalisation -------------------------------------------------

    def test_body_file_crlf_is_sent_unchanged(self):
        count = len(self.ai.messages())
        r = self.ehlo(["run", self.plain], servers.script(f"""
            EHLO client.example.test
            MAIL FROM:<alice@example.test>
            RCPT TO:<bob@example.test>
            /body {BODY_FILE}
            """))
        self.assertExit(r, 0)
        with open(BODY_FILE, "rb") as f:
            self.assertEqual(self.received_since(count)["data"], f.read())

    def test_body_file_lf_is_normalised_and_stuffed(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "lf-body.txt")
            with open(path, "wb") as f:
                # LF line endings, dots, and no newline at the very end.
                f.write(b"Subject: LF file\n\n.one\n..two\n.\nlast line")
            count = len(self.ai.messages())
            r = self.ehlo(["run", self.plain], servers.script(f"""
                EHLO client.example.test
                MAIL FROM:<alice@example.test>
                RCPT TO:<bob@example.test>
                /body {path}
                """))
        self.assertExit(r, 0)
        self.assertEqual(self.received_since(count)["data"],
                         b"Subject: LF file\r\n\r\n.one\r\n..two\r\n.\r\n"
                         b"last line\r\n")

    def test_server_specific_replies(self):
        r = self.ehlo(["run", self.plain], servers.script("""
            HELO client.example.test
            /expect 250
            EXPN list@example.test
            /expect 502
            HELP
            /expect 250
            VRFY anyone@example.test
            /expect 252
            """))
        self.assertExit(r, 0)


if __name__ == "__main__":
    servers.require_aiosmtpd()
    servers.main()
