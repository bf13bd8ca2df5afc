"""SASL through GNU SASL (issue 18 item 5), against real servers.

- Postfix with Dovecot SASL (smtpd_sasl_type = dovecot; Dovecot's auth
  with auth_mechanisms = plain scram-sha-1 scram-sha-256 and a
  passwd-file): a message is really delivered after AUTH SCRAM-SHA-256
  (ehlo send) and SCRAM-SHA-1 (ehlo run); a wrong password gets 535 and
  send's exit 1.  Dovecot 2.3 offers no -PLUS mechanism, so:
- the practice server (SCRAM-SHA-256 and, over TLS, -PLUS through GNU
  SASL's server side): -PLUS after STARTTLS with tls-exporter (TLS 1.3)
  and tls-unique (TLS 1.2); -PLUS without TLS is refused unsent.
- OAUTHBEARER against a scripted server that checks the exact bytes
  RFC 7628 3.1 asks for, and its error path (334 JSON, ^A, 535).

Everything ehlo printed or stored is searched for the password, its
base64, the SCRAM salted password and client key (hex and base64,
recomputed from the server's salt and iteration count) and the token.
GSSAPI is not tested here: it needs a Kerberos KDC (docs/line-mode.md).
"""

import base64
import glob
import hashlib
import hmac
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))

import hostile  # noqa: E402
import servers  # noqa: E402
from dovecot import Dovecot  # noqa: E402
from practice_server import PracticeServer  # noqa: E402

USER = "alice"
SECRET = "Sekr1t-pa55-QX7"
TOKEN = "ya29.Tok3n-QX7-oauth"

DOVECOT_CONF = """\
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols =
ssl = no
auth_mechanisms = plain scram-sha-1 scram-sha-256
auth_username_format = %n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/home/%n
}}
service auth {{
  unix_listener auth-client {{
    path = {d}/auth-client
    mode = 0666
  }}
}}
"""


def scram_forms(transcript, password, hash_name):
    """The salted password and client key of each SCRAM exchange in the
    transcript (recomputed from the server-first's s= and i=), in hex
    and base64: none of them may appear anywhere."""
    out = []
    for b64 in re.findall(r"S: 334 (\S+)", transcript):
        try:
            first = base64.b64decode(b64).decode()
        except ValueError:
            continue
        m = re.search(r"(?:^|,)s=([^,]+),i=(\d+)", first)
        if m is None:
            continue
        salted = hashlib.pbkdf2_hmac(hash_name, password.encode(),
                                     base64.b64decode(m.group(1)),
                                     int(m.group(2)))
        key = hmac.new(salted, b"Client Key", hash_name).digest()
        for v in (salted, key):
            out += [v.hex(), v.hex().upper(),
                    base64.b64encode(v).decode()]
    return out


def secret_forms(secret):
    b = [secret.encode(), b"\0" + USER.encode() + b"\0" + secret.encode()]
    return [secret] + [base64.b64encode(x).decode() for x in b]


class SaslCase(servers.EhloTestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ehlo-gsasl-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.db = os.path.join(self.tmp, "ehlo.db")

    def assertClean(self, r, secret, hash_name=None):
        text = r.stdout + r.stderr
        forms = secret_forms(secret)
        if hash_name is not None:
            forms += scram_forms(r.stdout, secret, hash_name)
        blobs = [("output", text.encode())]
        for path in glob.glob(self.db + "*") + \
                glob.glob(self.db + "-spool/*"):
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    blobs.append((os.path.basename(path), f.read()))
        for what, blob in blobs:
            found = [f for f in forms if f.encode() in blob]
            self.assertEqual(found, [], f"{what} reveals a secret form:\n"
                             + servers._clip(text))


class DovecotScramTest(SaslCase):

    @classmethod
    def setUpClass(cls):
        servers.require_root("Postfix with Dovecot SASL")
        servers.require_program("dovecot")
        servers.require_program("postfix")
        cls.d = tempfile.mkdtemp(prefix="ehlo-dovecot-sasl-")
        cls.addClassCleanup(shutil.rmtree, cls.d, True)
        os.chmod(cls.d, 0o755)
        with open(os.path.join(cls.d, "passwd"), "w") as f:
            f.write(f"{USER}:{{PLAIN}}{SECRET}\n")
        cls.dovecot = Dovecot(cls.d, DOVECOT_CONF.format(d=cls.d))
        cls.addClassCleanup(cls.dovecot.stop)
        sock = cls.dovecot.wait_path("auth-client")
        cls.pf = servers.Postfix(
            {USER: SECRET},
            extra_main_cf=f"smtpd_sasl_type = dovecot\n"
                          f"smtpd_sasl_path = {sock}\n")
        cls.addClassCleanup(cls.pf.stop)
        cls.server = f"127.0.0.1:{cls.pf.port}"

    def logs(self):
        return "\n--- postfix ---\n" + self.pf.log()[-3000:] + \
            "\n--- dovecot ---\n" + self.dovecot.log()

    def test_scram_sha256_send_delivers(self):
        before = self.pf.maildir(USER, count=0)
        r = self.ehlo(["send", "--auth", "SCRAM-SHA-256", "--user", USER,
                       "--cafile", self.pf.cert.cert,
                       self.server, "--from", f"{USER}@example.test",
                       "--to", f"{USER}@example.test",
                       "--subject", "after SCRAM-SHA-256"],
                      env={"EHLO_PASSWORD": SECRET, "EHLO_DB": self.db})
        self.assertExit(r, 0)
        self.assertIn("250-AUTH PLAIN SCRAM-SHA-1 SCRAM-SHA-256", r.stdout)
        self.assertRegex(r.stdout, r"C: AUTH SCRAM-SHA-256 \[n,,n=alice,"
                         r"r=[^\]]+\]\n")
        self.assertRegex(r.stdout, r"C: \[c=biws,r=[^,]+,p=•••••\]\n"
                         r"S: 334 ")
        self.assertIn("S: 235 ", r.stdout)
        new = self.pf.new_messages(USER, before)
        with open(new[-1], "rb") as f:
            self.assertIn(b"Subject: after SCRAM-SHA-256", f.read())
        self.assertClean(r, SECRET, "sha256")

    def test_scram_sha1_run_delivers(self):
        before = self.pf.maildir(USER, count=0)
        r = self.ehlo(["run", self.server, "-"], servers.script(f"""
            EHLO client.test
            /auth SCRAM-SHA-1 {USER}
            /expect 235
            MAIL FROM:<{USER}@example.test>
            RCPT TO:<{USER}@example.test>
            DATA
            Subject: after SCRAM-SHA-1

            hello
            .
            QUIT
            """), env={"EHLO_PASSWORD": SECRET, "EHLO_DB": self.db})
        self.assertExit(r, 0)
        self.assertIn("C: AUTH SCRAM-SHA-1 [n,,n=alice,r=", r.stdout)
        new = self.pf.new_messages(USER, before)
        with open(new[-1], "rb") as f:
            self.assertIn(b"Subject: after SCRAM-SHA-1", f.read())
        self.assertClean(r, SECRET, "sha1")

    def test_wrong_password_535(self):
        wrong = "Wr0ng-pa55-QX7"
        r = self.ehlo(["send", "--auth", "SCRAM-SHA-256", "--user", USER,
                       "--no-starttls", self.server,
                       "--from", f"{USER}@example.test",
                       "--to", f"{USER}@example.test"],
                      env={"EHLO_PASSWORD": wrong, "EHLO_DB": self.db})
        self.assertExit(r, 1)
        self.assertRegex(r.stdout, r"S: 535 5\.7\.8 ", self.logs())
        self.assertNotIn("C: MAIL", r.stdout)
        self.assertClean(r, wrong, "sha256")


class PracticeScramPlusTest(PracticeServer, SaslCase):

    @classmethod
    def setUpClass(cls):
        cls.start_practice()

    def plus(self, extra, binding):
        r = self.ehlo(["run", "--cafile", self.cafile, *extra,
                       self.server, "-"], servers.script("""
            EHLO client.test
            /starttls
            /auth SCRAM-SHA-256-PLUS alice
            /expect 235
            QUIT
            """), env={"EHLO_PASSWORD": "wonderland", "EHLO_DB": self.db})
        self.assertExit(r, 0)
        self.assertIn("SCRAM-SHA-256 SCRAM-SHA-256-PLUS", r.stdout)
        self.assertIn(f"C: AUTH SCRAM-SHA-256-PLUS [p={binding},,n=alice,",
                      r.stdout)
        self.assertIn("S: 235 2.7.0", r.stdout)
        self.assertClean(r, "wonderland", "sha256")
        return r

    def test_plus_tls13_exporter(self):
        self.plus([], "tls-exporter")
        # Recorded: exported as a script and replayed, the user read
        # from SCRAM's client-first, the password asked for again.
        env = {"EHLO_PASSWORD": "wonderland", "EHLO_DB": self.db}
        r = self.ehlo(["history", "--json"], env=env)
        sid = json.loads(r.stdout.splitlines()[-1])["id"]
        r = self.ehlo(["export", str(sid), "--format", "script"], env=env)
        self.assertExit(r, 0)
        self.assertIn("\n/auth SCRAM-SHA-256-PLUS alice\n", r.stdout)
        r = self.ehlo(["replay", str(sid), "--cafile", self.cafile],
                      env=env)
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"C: AUTH SCRAM-SHA-256-PLUS "
                         r"\[p=tls-exporter,,n=alice,r=[^\]]+\]\n")
        self.assertIn("S: 235 2.7.0", r.stdout)
        self.assertClean(r, "wonderland", "sha256")

    def test_export_to_peers_without_scram(self):
        # swaks and curl have no SCRAM: the export names no mechanism
        # (each picks one the server offers) and says why.
        env = {"EHLO_DB": self.db}
        r = self.ehlo(["send", "--starttls", "--cafile", self.cafile,
                       "--auth", "SCRAM-SHA-256-PLUS", "--user", "alice",
                       "--from", "alice@practice.test", "--to",
                       "bob@practice.test", "--subject", "scram export",
                       self.server],
                      env=dict(env, EHLO_PASSWORD="wonderland"))
        self.assertExit(r, 0)
        r = self.ehlo(["history", "--json"], env=env)
        sid = str(json.loads(r.stdout.splitlines()[-1])["id"])
        swaks = self.ehlo(["export", sid, "--format", "swaks"], env=env)
        self.assertExit(swaks, 0)
        self.assertIn("# the session used AUTH SCRAM-SHA-256-PLUS, which "
                      "swaks does not speak", swaks.stdout)
        self.assertRegex(swaks.stdout, r" --auth --auth-user 'alice' ")
        curl = self.ehlo(["export", sid, "--format", "curl"], env=env)
        self.assertExit(curl, 0)
        self.assertIn("# the session used AUTH SCRAM-SHA-256-PLUS: curl "
                      "is not told a mechanism", curl.stdout)
        self.assertNotIn("--login-options", curl.stdout)
        for r in (swaks, curl):
            self.assertNotIn("wonderland", r.stdout)

    def test_plus_tls12_unique(self):
        self.plus(["--tls-max", "1.2"], "tls-unique")

    def test_auth_auto(self):
        for extra, chosen in (([], "SCRAM-SHA-256 [n,,"),
                              (["--starttls", "--cafile", self.cafile],
                               "SCRAM-SHA-256-PLUS [p=tls-exporter,,")):
            r = self.ehlo(["run", "--auth", "auto", "--user", "alice",
                           *extra, self.server, "-"], "NOOP\n",
                          env={"EHLO_PASSWORD": "wonderland",
                               "EHLO_DB": self.db})
            self.assertExit(r, 0)
            self.assertIn("*: AUTH auto chose " + chosen.split()[0],
                          r.stdout)
            self.assertIn("C: AUTH " + chosen, r.stdout)
            self.assertIn("S: 235 2.7.0", r.stdout)

    def test_plus_needs_tls_and_wrong_password(self):
        r = self.ehlo(["run", self.server, "-"], servers.script("""
            EHLO client.test
            /auth SCRAM-SHA-256-PLUS alice
            """), env={"EHLO_PASSWORD": "wonderland", "EHLO_DB": self.db})
        self.assertIn("SCRAM-SHA-256-PLUS needs TLS", r.stdout)
        self.assertNotIn("C: AUTH", r.stdout)
        r = self.ehlo(["run", self.server, "-"], servers.script("""
            EHLO client.test
            /auth SCRAM-SHA-256 alice
            QUIT
            """), env={"EHLO_PASSWORD": "not-wonderland",
                       "EHLO_DB": self.db})
        self.assertIn("C: AUTH SCRAM-SHA-256 [n,,n=alice,", r.stdout)
        self.assertIn("S: 535 5.7.8", r.stdout)
        self.assertClean(r, "not-wonderland", "sha256")


class ScramLessonTest(SaslCase):

    def test_lesson_scram(self):
        script = os.path.join(self.tmp, "scram")
        with open(script, "w") as f:
            f.write("EHLO me\nSTARTTLS\nEHLO me\n"
                    "/auth SCRAM-SHA-256-PLUS alice\n")
        env = {"EHLO_PASSWORD": "wonderland", "EHLO_DB": self.db,
               "XDG_DATA_HOME": self.tmp}
        r = self.ehlo(["lesson", "scram", script], env=env)
        self.assertExit(r, 0)
        self.assertLine(r, r"^  \[x\] the exchange was bound to the TLS")
        self.assertLine(r, r"^lesson passed$")
        # The lesson names the practice password; its transcript must not.
        dialogue = "\n".join(line for line in r.stdout.splitlines()
                              if line[:3] in ("C: ", "S: "))
        for form in secret_forms("wonderland") + \
                scram_forms(r.stdout, "wonderland", "sha256"):
            self.assertNotIn(form, dialogue)
        r = self.ehlo(["lesson", "--no-history", "scram"], "EHLO me\n",
                      env=env)
        self.assertExit(r, 1)
        self.assertLine(r, r"^hint: ")


OAUTHBEARER_CASE = r"""
what a server that accepts OAUTHBEARER
send "220 oauth.example.test ESMTP\r\n"
expect-line ^EHLO
send "250-oauth.example.test\r\n250 AUTH OAUTHBEARER XOAUTH2\r\n"
expect-line ^AUTH OAUTHBEARER bixhPWFsaWNlLAFhdXRoPUJlYXJlciB5YTI5LlRvazNuLVFYNy1vYXV0aAEB$
send "235 2.7.0 accepted\r\n"
expect-line ^NOOP
send "250 ok\r\n"
expect-line ^QUIT
send "221 bye\r\n"
exit 0
"""

OAUTHBEARER_ERROR_CASE = r"""
what a server that refuses the token
send "220 oauth.example.test ESMTP\r\n"
expect-line ^EHLO
send "250-oauth.example.test\r\n250 AUTH OAUTHBEARER\r\n"
expect-line ^AUTH OAUTHBEARER bixhPWFsaWNlLAFhdXRoPUJlYXJlciB5YTI5LlRvazNuLVFYNy1vYXV0aAEB$
send "334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJtYWlsIn0=\r\n"
expect-line ^AQ==$
send "535 5.7.8 token refused\r\n"
expect-line ^QUIT
send "221 bye\r\n"
exit 0
"""


class OauthbearerTest(SaslCase):

    def run_case(self, text):
        path = os.path.join(self.tmp, "oauthbearer.case")
        with open(path, "w") as f:
            f.write(text)
        server = hostile.Server(hostile.Case(path))
        try:
            r = self.ehlo(["run", "--auth", "OAUTHBEARER", "--user", USER,
                           f"127.0.0.1:{server.port}", "-"], "NOOP\n",
                          env={"EHLO_PASSWORD": TOKEN, "EHLO_DB": self.db})
        finally:
            server.stop()
        self.assertEqual(server.failures, [], self.transcript(r))
        self.assertIn("C: AUTH OAUTHBEARER [user=alice token=•••••]",
                      r.stdout)
        self.assertClean(r, TOKEN)
        self.assertNotIn(base64.b64encode(
            b"n,a=alice,\x01auth=Bearer " + TOKEN.encode() +
            b"\x01\x01").decode(), r.stdout + r.stderr)
        return r

    def test_exact_bytes(self):
        r = self.run_case(OAUTHBEARER_CASE)
        self.assertExit(r, 0)
        self.assertIn("S: 235 2.7.0 accepted", r.stdout)

    def test_error_is_acknowledged(self):
        r = self.run_case(OAUTHBEARER_ERROR_CASE)
        self.assertIn("C: [^A: the error is acknowledged]", r.stdout)
        self.assertIn("S: 535 5.7.8 token refused", r.stdout)


if __name__ == "__main__":
    servers.main()
