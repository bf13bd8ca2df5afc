"""The configuration file (docs/configuration.md) against a private
Postfix: an account whose secret comes from passwordeval authenticates
(Postfix's log names the SASL user, the message lands in the Maildir);
an msmtp stanza pasted as it is works, with msmtp's keywords that ehlo
does not use reported by file and line; ~/.netrc gives the user and the
secret; the command line overrides the account; a file holding a
password that others may read is refused with the chmod that fixes it;
bad lines are reported as FILE:LINE; -a works for check and probe.
"""

import os
import re
import stat
import tempfile

import servers

DOMAIN = "example.test"
USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}


# A recipient accepted: Postfix logs the SASL user with the queue id.
TXN = ("MAIL FROM:<sender@elsewhere.example>\nRCPT TO:<alice@example.test>\n"
       "RSET\nQUIT\n")


class ConfigTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_root()
        cls.pf = servers.Postfix(USERS, domain=DOMAIN)
        cls.addClassCleanup(cls.pf.stop)
        cls.dir = tempfile.mkdtemp(prefix="ehlo-config-")
        cls.body = cls.write("body.txt", "Hello from an account.\n")

    @classmethod
    def write(cls, name, text, mode=0o600):
        path = os.path.join(cls.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def account(self, name="pf", extra=""):
        return (f"account {name}\n"
                f"host 127.0.0.1\n"
                f"port {self.pf.port}\n"
                f"tls on\n"
                f"tls_trust_file {self.pf.cert.cert}\n"
                f"from sender@elsewhere.example\n" + extra)

    def sasl_logins(self):
        return re.findall(r"sasl_method=(\w+), sasl_username=(\S+)",
                          self.pf.log())

    def test_passwordeval_account_authenticates(self):
        secret_file = self.write("secret", "alice-secret-1\nsecond line\n")
        cfg = self.write("config", self.account(extra=(
            "auth plain\nuser alice\n"
            f"passwordeval \"cat {secret_file}\"\n")))
        before = self.pf.maildir("alice", count=0)
        logins = len(self.sasl_logins())
        r = self.ehlo(["send", "--config", cfg, "-a", "pf",
                       "--to", "alice@example.test", "--subject", "acct",
                       "--body", self.body])
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: STARTTLS$")
        self.assertLine(r, r"^C: AUTH PLAIN ")
        self.assertLine(r, r"^S: 235 ")
        self.assertNoSecret(r, "alice", "alice-secret-1")
        # Postfix saw alice authenticate, and the message arrived.
        self.assertEqual(self.sasl_logins()[logins:], [("PLAIN", "alice@example.test")],
                         self.pf.log()[-3000:])
        new = self.pf.new_messages("alice", before)
        with open(new[0], "rb") as f:
            raw = f.read()
        self.assertIn(b"Hello from an account.", raw)
        self.assertIn(b"with ESMTPSA", raw)  # Postfix: after AUTH

    def test_passwordeval_failure_is_reported(self):
        cfg = self.write("config-fail", self.account(extra=(
            "auth plain\nuser alice\npasswordeval \"exit 3\"\n")))
        r = self.ehlo(["run", "--config", cfg, "-a", "pf"], "NOOP\nQUIT\n")
        self.assertExit(r, 2)
        self.assertLine(r, r"passwordeval: the command failed \(exit "
                           r"status 3\)", "stderr")
        self.assertNoLine(r, r"^C: AUTH")

    def test_msmtprc_stanza_pasted(self):
        """A ~/.msmtprc as msmtp's manual writes it, read with --config:
        the default account is used, AUTH with the file's password
        relays to the relay domain (denied without AUTH)."""
        rc = self.write("msmtprc", (
            "# Set default values for all following accounts.\n"
            "defaults\n"
            "auth           on\n"
            "tls            on\n"
            f"tls_trust_file {self.pf.cert.cert}\n"
            "logfile        ~/.msmtp.log\n"
            "\n"
            "account        test\n"
            "host           127.0.0.1\n"
            f"port           {self.pf.port}\n"
            "from           bob@example.test\n"
            "user           bob\n"
            "password       bob-secret-2\n"
            "syslog         LOG_MAIL\n"
            "\n"
            "account default : test\n"))
        logins = len(self.sasl_logins())
        r = self.ehlo(["run", "--config", rc],
                      f"MAIL FROM:<bob@example.test>\n"
                      f"RCPT TO:<x@{self.pf.relay_domain}>\n"
                      "/expect 250\nQUIT\n")
        self.assertExit(r, 0)
        self.assertLine(r, r"^S: 235 ")
        self.assertLine(r, rf"^C: RCPT TO:<x@{re.escape(self.pf.relay_domain)}>")
        self.assertLine(r, rf"^ehlo: {re.escape(rc)}:6: msmtp's \"logfile\" is "
                           r"not used by ehlo \(ignored\)$", "stderr")
        self.assertLine(r, rf"^ehlo: {re.escape(rc)}:14: msmtp's \"syslog\"",
                        "stderr")
        self.assertNoSecret(r, "bob", "bob-secret-2")
        self.assertEqual(self.sasl_logins()[logins:], [("PLAIN", "bob@example.test")])

    def test_netrc_gives_user_and_secret(self):
        netrc = self.write("netrc", "machine 127.0.0.1 login alice "
                                    "password alice-secret-1\n")
        cfg = self.write("config-netrc", self.account(extra="auth login\n"))
        logins = len(self.sasl_logins())
        r = self.ehlo(["run", "--config", cfg, "-a", "pf"], TXN,
                      env={"NETRC": netrc})
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: AUTH LOGIN")
        self.assertLine(r, r"^S: 235 ")
        self.assertEqual(self.sasl_logins()[logins:], [("LOGIN", "alice@example.test")])

    def test_command_line_overrides_account(self):
        """--user and EHLO_PASSWORD over the account's user and password;
        --no-starttls over its tls on; --helo over its domain."""
        cfg = self.write("config-over", self.account(extra=(
            "auth plain\nuser alice\npassword wrong-secret\n"
            "domain account.example\n")))
        logins = len(self.sasl_logins())
        r = self.ehlo(["run", "--config", cfg, "-a", "pf", "--user", "bob",
                       "--no-starttls", "--helo", "cli.example"],
                      TXN, env={"EHLO_PASSWORD": "bob-secret-2"})
        self.assertExit(r, 0)
        self.assertNoLine(r, r"^C: STARTTLS")
        self.assertLine(r, r"^C: EHLO cli\.example$")
        self.assertEqual(self.sasl_logins()[logins:], [("PLAIN", "bob@example.test")])
        # Without the overrides the account's own values are used.
        r = self.ehlo(["run", "--config", cfg, "-a", "pf"], "NOOP\nQUIT\n")
        self.assertExit(r, 1)
        self.assertLine(r, r"^C: EHLO account\.example$")
        self.assertLine(r, r"^C: STARTTLS$")
        self.assertLine(r, r"^S: 535 ")

    def test_readable_password_file_refused(self):
        cfg = self.write("config-644", self.account(extra=(
            "auth plain\nuser alice\npassword alice-secret-1\n")), 0o644)
        r = self.ehlo(["run", "--config", cfg, "-a", "pf"], "NOOP\nQUIT\n")
        self.assertExit(r, 2)
        self.assertLine(r, rf"^ehlo: {re.escape(cfg)}: holds a password but "
                           r"its group or others may read it \(mode "
                           rf"0644\); run: chmod 600 {re.escape(cfg)}$",
                        "stderr")
        self.assertEqual(r.stdout, "")
        os.chmod(cfg, 0o600)
        r = self.ehlo(["run", "--config", cfg, "-a", "pf"], "NOOP\nQUIT\n")
        self.assertExit(r, 0)

    def test_bad_lines_name_file_and_line(self):
        for text, line, what in (
                ("account a\nhost h\nport 70000\n", 3,
                 r"port wants a number from 1 to 65535"),
                ("account a : missing\n", 1,
                 r"account \"a\" inherits from \"missing\""),
                ("account a\n\ntls perhaps\n", 3,
                 r"tls wants on or off, not \"perhaps\""),
                ("account a\nfrom \"x\n", 2, r"the value's quote is not "
                                             r"closed")):
            cfg = self.write("bad", text)
            r = self.ehlo(["run", "--config", cfg, "-a", "a"], "NOOP\nQUIT\n")
            self.assertExit(r, 2)
            self.assertLine(r, rf"^ehlo: {re.escape(cfg)}:{line}: {what}",
                            "stderr")
        r = self.ehlo(["run", "--config", os.path.join(self.dir, "none"),
                       "127.0.0.1:1"], "")
        self.assertExit(r, 2)
        self.assertLine(r, r"cannot open the configuration file", "stderr")
        cfg = self.write("two", "account one\nhost h\naccount two\nhost i\n")
        r = self.ehlo(["run", "--config", cfg, "-a", "three"], "")
        self.assertExit(r, 2)
        self.assertLine(r, r"no account \"three\" \(accounts: one, two\)",
                        "stderr")

    def test_default_file_place(self):
        """$XDG_CONFIG_HOME/ehlo/config is read without --config."""
        with tempfile.TemporaryDirectory() as xdg:
            os.makedirs(os.path.join(xdg, "ehlo"))
            with open(os.path.join(xdg, "ehlo", "config"), "w") as f:
                f.write(self.account(extra="domain xdg.example\n"))
            r = self.ehlo(["run", "-a", "pf"], "NOOP\nQUIT\n",
                          env={"XDG_CONFIG_HOME": xdg})
        self.assertExit(r, 0)
        self.assertLine(r, r"^C: EHLO xdg\.example$")

    def test_check_and_probe_with_account(self):
        cfg = self.write("config-check", self.account(extra=(
            "auth plain\nuser alice\npassword alice-secret-1\n")))
        r = self.ehlo(["check", "--config", cfg, "-a", "pf"])
        self.assertExit(r, 0)
        self.assertLine(r, r"^SMTP OK")
        r = self.ehlo(["probe", "--config", cfg, "-a", "pf", "relay"])
        self.assertLine(r, r"^\*: probe relay")
        self.assertIn(r.code, (0, 1), self.transcript(r))


if __name__ == "__main__":
    servers.main()
