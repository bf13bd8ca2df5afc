"""LMTP against Dovecot's real dovecot-lmtpd (issue 18 item 1): a private
Dovecot master (root) in a temporary directory, LMTP only, on a loopback
port and on a UNIX socket, with a static user database (every address
is a user, mail in WORK/mail/USER/Maildir).

One mailbox is made undeliverable (its home is a plain file), so Dovecot
accepts that recipient at RCPT and refuses it after the data: ehlo must
show one reply per recipient after the final dot and after BDAT LAST,
exit 75 for the 451, and the other recipient's Maildir must hold the
message.
"""

import glob
import os
import shutil
import tempfile

import servers
from dovecot import Dovecot

servers.require_root("Dovecot")
servers.require_program("dovecot")
if not os.path.exists("/usr/lib/dovecot/lmtp"):
    servers.skip_file("dovecot-lmtpd is not installed")

CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = lmtp
ssl = no
listen = 127.0.0.1
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/mail/%n
}}
mail_location = maildir:~/Maildir
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
  unix_listener lmtp {{
    path = {d}/lmtp.sock
    mode = 0666
  }}
}}
"""


class DovecotLmtpTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="ehlo-dovecot-")
        cls.addClassCleanup(shutil.rmtree, cls.d, True)
        os.chmod(cls.d, 0o755)
        os.makedirs(os.path.join(cls.d, "mail"))
        os.chmod(os.path.join(cls.d, "mail"), 0o1777)
        # carol's home is a file: her delivery fails after the data.
        with open(os.path.join(cls.d, "mail", "carol"), "w") as f:
            f.write("not a directory\n")
        cls.port = servers.free_port()
        cls.dovecot = Dovecot(cls.d, CONF.format(d=cls.d, port=cls.port))
        cls.addClassCleanup(cls.dovecot.stop)
        servers.wait_ready("127.0.0.1", cls.port, alive=cls.dovecot.alive,
                           describe=cls.dovecot.log)
        cls.sock = cls.dovecot.wait_path("lmtp.sock")

    def log(self):
        return self.dovecot.log()

    def maildir(self, user):
        return glob.glob(os.path.join(self.d, "mail", user, "Maildir",
                                      "new", "*"))

    def test_data_over_the_socket(self):
        before = len(self.maildir("alice"))
        r = self.ehlo(["run", "unix:" + self.sock, "-"], servers.script("""
            LHLO client.test
            MAIL FROM:<sender@example.test>
            RCPT TO:<alice@example.test>
            RCPT TO:<carol@example.test>
            DATA
            Subject: from ehlo over LMTP

            hello dovecot
            .
            NOOP
            QUIT
            """))
        self.assertExit(r, 75)
        self.assertRegex(
            r.stdout, r"C: \.\nS: 250 2\.0\.0 <alice@example\.test> .*Saved"
            r"\n(\*: .*\n)?S: 451 4\.2\.0 <carol@example\.test> .*\n"
            r"C: NOOP\nS: 250 ", self.transcript(r) + self.log())
        new = self.maildir("alice")
        self.assertEqual(len(new), before + 1, self.log())
        with open(sorted(new, key=os.path.getmtime)[-1], "rb") as f:
            self.assertIn(b"hello dovecot", f.read())

    def test_bdat_last_over_tcp(self):
        before = len(self.maildir("bob"))
        r = self.ehlo(["run", "--lmtp", f"127.0.0.1:{self.port}", "-"],
                      servers.script("""
            LHLO client.test
            MAIL FROM:<sender@example.test>
            RCPT TO:<bob@example.test>
            RCPT TO:<carol@example.test>
            BDAT 23 LAST
            Subject: t

            hello12
            QUIT
            """))
        self.assertExit(r, 75)
        self.assertRegex(
            r.stdout, r"S: 250 2\.0\.0 <bob@example\.test> .*Saved\n"
            r"(\*: .*\n)?S: 451 4\.2\.0 <carol@example\.test> .*\n"
            r"C: QUIT\nS: 221 ", self.transcript(r) + self.log())
        self.assertEqual(len(self.maildir("bob")), before + 1, self.log())


if __name__ == "__main__":
    servers.main()
