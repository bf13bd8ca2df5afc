""""Why?" in context (issue 16, item 2): `/explain` of a failed reply
starts with this session's cause, against real practice servers.

Each script breaks one rule on purpose and asks `/explain`; the "*:"
notes must name the cause and its RFC section before the general
meaning: MAIL after STARTTLS without EHLO (RFC 3207 4.2), RCPT before
MAIL, relaying without AUTH, a parameter the EHLO reply did not
advertise, a SIZE over the limit, AUTH before STARTTLS on a server that
requires TLS (538), MAIL before AUTH on a submission server (530).  A
failure ehlo cannot explain further gets no "This session" line.
"""

import servers
from test_practice_failures import Practice


def notes(result):
    """The "*: " notes joined into one text, line breaks unwrapped."""
    return " ".join(line[3:].strip() for line in result.stdout.splitlines()
                    if line.startswith("*: "))


class WhyTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.plain = Practice()
        cls.addClassCleanup(cls.plain.stop)
        cls.tls = Practice("--require-tls")
        cls.addClassCleanup(cls.tls.stop)
        cls.sub = Practice("--require-auth")
        cls.addClassCleanup(cls.sub.stop)

    def run_on(self, srv, script, *options):
        return self.ehlo(["run", "--no-history", "--cafile", srv.cafile,
                          *options, f"127.0.0.1:{srv.port}"],
                         servers.script(script))

    def assertWhy(self, result, *parts):
        text = notes(result)
        at = text.find("This session:")
        self.assertGreaterEqual(at, 0, self.transcript(result))
        # The cause comes before the general meaning of the code.
        self.assertLess(at, text.find("Reference:"))
        for part in parts:
            self.assertIn(part, text[at:], self.transcript(result))

    def test_mail_after_starttls_without_ehlo(self):
        r = self.run_on(self.plain, """
            EHLO me
            STARTTLS
            MAIL FROM:<alice@practice.test>
            /explain
            """)
        self.assertLine(r, r"^S: 503 ")
        self.assertWhy(r, "after STARTTLS without a new EHLO",
                       "RFC 3207 4.2", "Send EHLO again")

    def test_rcpt_before_mail(self):
        r = self.run_on(self.plain, """
            EHLO me
            RCPT TO:<bob@practice.test>
            /explain
            """)
        self.assertWhy(r, "RCPT before an accepted MAIL", "RFC 5321 3.3")

    def test_relaying_without_auth(self):
        r = self.run_on(self.plain, """
            EHLO me
            MAIL FROM:<alice@practice.test>
            RCPT TO:<friend@far.example>
            /explain
            """)
        self.assertLine(r, r"^S: 554 5\.7\.1 ")
        self.assertWhy(r, "relaying without AUTH", "Log in with AUTH")

    def test_parameter_not_advertised(self):
        r = self.run_on(self.plain, """
            EHLO me
            MAIL FROM:<alice@practice.test> BY=120;R
            /explain
            """)
        self.assertLine(r, r"^S: 555 ")
        self.assertWhy(r, "the parameter BY was not advertised",
                       "RFC 5321 4.1.2")

    def test_size_over_the_limit(self):
        r = self.run_on(self.plain, """
            EHLO me
            MAIL FROM:<alice@practice.test> SIZE=2000000
            /explain
            """)
        self.assertWhy(r, "SIZE=2000000, over the limit of 1048576",
                       "RFC 1870 6")

    def test_auth_before_starttls(self):
        r = self.run_on(self.tls, """
            EHLO me
            AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=
            /explain
            """)
        self.assertLine(r, r"^S: 538 5\.7\.11 ")
        self.assertWhy(r, "AUTH before STARTTLS", "538",
                       "Send STARTTLS, EHLO again")

    def test_mail_before_auth(self):
        r = self.run_on(self.sub, """
            EHLO me
            MAIL FROM:<alice@practice.test>
            /explain
            """)
        self.assertLine(r, r"^S: 530 5\.7\.0 ")
        self.assertWhy(r, "MAIL before AUTH", "RFC 6409 4.3")

    def test_no_cause_known(self):
        r = self.run_on(self.plain, """
            EHLO me
            MAIL FROM:<alice@practice.test>
            RCPT TO:<full@practice.test>
            /explain
            """)
        self.assertLine(r, r"^S: 552 5\.2\.2 ")
        self.assertNotIn("This session:", notes(r))
        self.assertIn("552:", notes(r))


if __name__ == "__main__":
    servers.main()
