"""The failures a learner meets in real life, on `ehlo practice` (issue 16).

Each trigger and mode of the practice server's trigger table in
docs/learning.md is proved here against a real client (Python's smtplib;
a raw socket only where a client would never misbehave on its own, like
talking before the greeting):

- a too-long command line gets 500 5.5.2 (5.5.6 only inside AUTH);
- toomany@ gets 452 4.5.3, MAIL FROM:<blocked@...> 550 5.7.1, and a
  message to badcontent@ is refused after the final dot with 554 5.7.1;
- --require-tls: MAIL and AUTH before STARTTLS get 530 5.7.0, AUTH PLAIN
  and LOGIN 538 5.7.11; after STARTTLS they work;
- --require-auth: MAIL without AUTH gets 530 5.7.0, after AUTH 250;
- --greet-pause: a client that talks first gets 554 5.5.1 and is hung up
  on, a patient one is greeted.

Every server runs with XDG_DATA_HOME in a temporary directory.
"""

import base64
import os
import re
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time

import servers


class Practice:
    """`ehlo practice` with extra options on a free loopback port."""

    def __init__(self, *options):
        self.home = tempfile.TemporaryDirectory(prefix="ehlo-fail-")
        self.data = os.path.join(self.home.name, "ehlo", "practice")
        env = dict(os.environ, XDG_DATA_HOME=self.home.name, NO_COLOR="1")
        self.err = open(os.path.join(self.home.name, "err"), "w+b")
        for _ in range(3):
            self.port = servers.free_port()
            self.proc = subprocess.Popen(
                [servers.ehlo_bin(), "practice", "--listen",
                 f"127.0.0.1:{self.port}", *options],
                stdout=subprocess.DEVNULL, stderr=self.err, env=env,
                preexec_fn=servers._die_with_parent)
            try:
                servers.wait_ready("127.0.0.1", self.port,
                                   alive=lambda: self.proc.poll() is None)
                break
            except RuntimeError:
                self.proc.kill()
                self.proc.wait()
        else:
            raise RuntimeError("ehlo practice did not start")
        self.cafile = os.path.join(self.data, "cert.pem")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.err.close()
        self.home.cleanup()

    def smtp(self):
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=10)
        s.ehlo("learner.example")
        return s

    def tls_context(self):
        ctx = ssl.create_default_context(cafile=self.cafile)
        return ctx

    def inbox(self, user):
        d = os.path.join(self.data, "inbox", user)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


class TriggersTest(servers.EhloTestCase):
    """The default server: the new triggers and the line-length codes."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Practice()
        cls.addClassCleanup(cls.srv.stop)

    def test_too_long_line_is_5_5_2(self):
        with self.srv.smtp() as s:
            code, text = s.docmd("NOOP " + "A" * 1100)
            self.assertEqual(code, 500)
            self.assertTrue(text.startswith(b"5.5.2 Line too long"), text)
            self.assertIn(b"1000 octets", text)
            self.assertEqual(s.noop()[0], 250)

    def test_too_long_sasl_line_is_5_5_6(self):
        with self.srv.smtp() as s:
            self.assertEqual(s.docmd("AUTH PLAIN")[0], 334)
            code, text = s.docmd("A" * 1100)
            self.assertEqual(code, 500)
            self.assertTrue(text.startswith(b"5.5.6 Authentication "
                                            b"exchange line is too long"),
                            text)
            # The exchange is over: the next line is a command again.
            self.assertEqual(s.noop()[0], 250)

    def test_too_many_recipients_trigger(self):
        with self.srv.smtp() as s:
            self.assertEqual(s.mail("alice@practice.test")[0], 250)
            self.assertEqual(s.rcpt("bob@practice.test")[0], 250)
            code, text = s.rcpt("toomany@practice.test")
            self.assertEqual(code, 452)
            self.assertTrue(text.startswith(b"4.5.3 "), text)
            self.assertIn(b"Too many recipients", text)
            # bob is still a recipient: the transaction goes on.
            before = self.srv.inbox("bob")
            s.data(b"Subject: t\r\n\r\nhi\r\n")
            self.assertEqual(len(self.srv.inbox("bob")), len(before) + 1)

    def test_sender_policy_trigger(self):
        with self.srv.smtp() as s:
            code, text = s.mail("blocked@practice.test")
            self.assertEqual(code, 550)
            self.assertTrue(text.startswith(b"5.7.1 <blocked@practice.test>:"
                                            b" Sender address rejected"),
                            text)
            # No transaction started: RCPT needs MAIL first.
            self.assertEqual(s.rcpt("bob@practice.test")[0], 503)
            self.assertEqual(s.mail("alice@practice.test")[0], 250)

    def test_content_rejected_after_the_dot(self):
        before = self.srv.inbox("bob")
        with self.srv.smtp() as s:
            s.mail("alice@practice.test")
            self.assertEqual(s.rcpt("badcontent@practice.test")[0], 250)
            self.assertEqual(s.rcpt("bob@practice.test")[0], 250)
            # The content went out after 354; the verdict comes after
            # the final dot.
            code, text = s.data(b"Subject: buy now\r\n\r\nspam\r\n")
            self.assertEqual(code, 554)
            self.assertTrue(text.startswith(b"5.7.1 Message content "
                                            b"rejected"), text)
        self.assertEqual(self.srv.inbox("bob"), before)

    def test_help_lists_the_new_triggers(self):
        with self.srv.smtp() as s:
            code, text = s.docmd("HELP")
            self.assertEqual(code, 214)
            for want in (b"toomany@practice.test", b"blocked@practice.test",
                         b"badcontent@practice.test", b"--greet-pause"):
                self.assertIn(want, text)
            # The addresses a client completes, each whole on an
            # "Addresses:" line (what a remote workbench learns).
            listed = " ".join(line.split("Addresses:", 1)[1] for line in
                              text.decode().split("\n")
                              if re.match(r"2\.0\.0 Addresses:", line))
            for addr in ("alice@practice.test", "staff@practice.test",
                         "toomany@practice.test", "blocked@practice.test",
                         "anyone@other.example"):
                self.assertIn(addr, listed.split())


class RequireTlsTest(servers.EhloTestCase):
    """--require-tls --require-auth: a submission server."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Practice("--require-tls", "--require-auth")
        cls.addClassCleanup(cls.srv.stop)

    def test_before_starttls(self):
        with self.srv.smtp() as s:
            code, text = s.mail("alice@practice.test")
            self.assertEqual(code, 530)
            self.assertTrue(text.startswith(b"5.7.0 Must issue a STARTTLS "
                                            b"command first"), text)
            code, text = s.docmd("AUTH", "PLAIN " + plain("alice",
                                                          "wonderland"))
            self.assertEqual(code, 538)
            self.assertTrue(text.startswith(b"5.7.11 Encryption required"),
                            text)
            self.assertEqual(s.docmd("AUTH", "LOGIN")[0], 538)
            code, text = s.docmd("AUTH", "CRAM-MD5")
            self.assertEqual(code, 530)
            self.assertTrue(text.startswith(b"5.7.0 "), text)

    def test_after_starttls_then_auth(self):
        with self.srv.smtp() as s:
            s.starttls(context=self.srv.tls_context())
            s.ehlo("learner.example")
            code, text = s.mail("alice@practice.test")
            self.assertEqual(code, 530)
            self.assertTrue(text.startswith(b"5.7.0 Authentication "
                                            b"required"), text)
            s.rset()
            s.login("alice", "wonderland")
            self.assertEqual(s.mail("alice@practice.test")[0], 250)
            self.assertEqual(s.rcpt("friend@elsewhere.example")[0], 250)


class RequireAuthTest(servers.EhloTestCase):
    """--require-auth alone: plain text AUTH is allowed, MAIL waits."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Practice("--require-auth")
        cls.addClassCleanup(cls.srv.stop)

    def test_mail_needs_auth(self):
        with self.srv.smtp() as s:
            code, text = s.mail("bob@practice.test")
            self.assertEqual(code, 530)
            self.assertTrue(text.startswith(b"5.7.0 Authentication "
                                            b"required"), text)
            s.login("bob", "builder")
            self.assertEqual(s.mail("bob@practice.test")[0], 250)


class GreetPauseTest(servers.EhloTestCase):
    """--greet-pause: early talkers are refused, as postscreen does."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Practice("--greet-pause", "1500")
        cls.addClassCleanup(cls.srv.stop)

    def test_early_talker(self):
        sock = socket.create_connection(("127.0.0.1", self.srv.port),
                                        timeout=10)
        with sock, sock.makefile("rb") as f:
            sock.sendall(b"EHLO impatient.example\r\n")
            reply = servers.read_reply(f)
            self.assertTrue(reply.startswith("554 5.5.1 "), reply)
            self.assertIn("before the greeting", reply)
            # Hung up: an orderly close, or a reset because the server
            # closed with the client's line unread.
            try:
                self.assertEqual(f.read(), b"")
            except ConnectionResetError:
                pass

    def test_patient_client(self):
        start = time.monotonic()
        with smtplib.SMTP("127.0.0.1", self.srv.port, timeout=10) as s:
            self.assertGreaterEqual(time.monotonic() - start, 1.4)
            self.assertEqual(s.ehlo("patient.example")[0], 250)

    def test_bad_value(self):
        r = self.ehlo(["practice", "--greet-pause", "soon"])
        self.assertExit(r, 2)
        self.assertLine(r, r"--greet-pause wants milliseconds",
                        stream="stderr")


class ClassServerNamesTest(servers.EhloTestCase):
    """--name: the certificate carries a class server's names, so a
    student's client that checks the name given (not localhost) verifies
    it; a certificate made without the name is made again."""

    def test_certificate_names(self):
        srv = Practice()
        data_home = srv.home.name
        srv.proc.terminate()
        srv.proc.wait(timeout=10)
        # The same data directory, now with names: a new certificate.
        env = dict(os.environ, XDG_DATA_HOME=data_home, NO_COLOR="1")
        port = servers.free_port()
        proc = subprocess.Popen(
            [servers.ehlo_bin(), "practice", "--listen",
             f"127.0.0.1:{port}", "--name", "class.test", "--name",
             "room-12.school.test"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            preexec_fn=servers._die_with_parent)
        try:
            servers.wait_ready("127.0.0.1", port,
                               alive=lambda: proc.poll() is None)
            for name in ("class.test", "room-12.school.test", "localhost"):
                ctx = ssl.create_default_context(cafile=srv.cafile)
                with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
                    s.ehlo("student.example")
                    s._host = name  # the name smtplib checks
                    s.starttls(context=ctx)
                    self.assertEqual(s.ehlo("student.example")[0], 250)
            ctx = ssl.create_default_context(cafile=srv.cafile)
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
                s.ehlo("student.example")
                s._host = "other.test"
                with self.assertRaises(ssl.SSLCertVerificationError):
                    s.starttls(context=ctx)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            srv.err.close()
            srv.home.cleanup()

    def test_bad_name(self):
        r = self.ehlo(["practice", "--name", "bad,name"])
        self.assertExit(r, 2)
        self.assertLine(r, r"--name wants a host name", stream="stderr")


if __name__ == "__main__":
    servers.main()
