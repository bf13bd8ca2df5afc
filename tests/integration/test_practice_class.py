"""A class server (issue 16 item 6): `ehlo practice` serving a room.

One `ehlo practice --dir DATA --name class.test` runs for the file.
Before it starts, DATA/transcripts holds an old transcript and 1005
others, so the retention rule is seen at work.  Then:

- a hundred students at once: 100 smtplib sessions (every other one
  with STARTTLS) reach RCPT together, `ehlo practice --watch --once`
  sees all hundred at "RCPT 1", then each sends its message; all 100
  land in the inbox and each has its transcript (0600, in a 0700
  directory) with its commands and replies;
- one session's transcript holds its commands and replies with their
  timing and latency, AUTH PLAIN and LOGIN (and a failed AUTH) leave no
  secret in any encoding in the transcript, the stderr log or the
  status file, message content is not logged, and a terminal escape
  sent as a command reaches no log raw;
- --watch --once shows a connected client's stage and its last error,
  and a closed one under "Recently closed" with why;
- --watch --once without a running server says so (exit 3).

(The certificate's --name is proved in test_practice_failures.py.)
"""

import glob
import os
import re
import smtplib
import socket
import ssl
import stat
import tempfile
import threading
import time

import servers

STUDENTS = 100


class ClassServerTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.TemporaryDirectory(prefix="ehlo-class-")
        cls.addClassCleanup(cls.home.cleanup)
        cls.data = os.path.join(cls.home.name, "data")
        cls.tdir = os.path.join(cls.data, "transcripts")
        os.makedirs(cls.tdir, mode=0o755)
        os.chmod(cls.tdir, 0o755)
        old = os.path.join(cls.tdir, "20200101-000000-1-127.0.0.1.log")
        open(old, "w").close()
        two_days_ago = time.time() - 2 * 86400
        os.utime(old, (two_days_ago, two_days_ago))
        for i in range(1005):
            open(os.path.join(cls.tdir, f"20200102-000000-{i:04d}-"
                              "127.0.0.1.log"), "w").close()
        open(os.path.join(cls.tdir, "notes.txt"), "w").close()
        cls.env = dict(os.environ, XDG_DATA_HOME=cls.home.name,
                       NO_COLOR="1")
        # The banner and the log (stderr) both go to err.
        cls.err = open(os.path.join(cls.home.name, "err"), "w+b")
        cls.addClassCleanup(cls.err.close)
        cls.proc, cls.port = servers.start_practice(
            cls.env, stdout=cls.err,
            extra=("--dir", cls.data, "--name", "class.test"))
        cls.addClassCleanup(cls.stop)
        cls.cafile = os.path.join(cls.data, "cert.pem")

    @classmethod
    def stop(cls):
        if cls.proc.poll() is None:
            cls.proc.kill()
        cls.proc.wait()

    # -- helpers ---------------------------------------------------------

    def server_log(self):
        self.err.flush()
        with open(self.err.name, "rb") as f:
            return f.read()

    def watch(self):
        r = self.ehlo(["practice", "--watch", "--once", "--dir", self.data],
                      env=self.env)
        self.assertExit(r, 0)
        return r.stdout

    def wait_watch(self, pred, what):
        deadline = time.monotonic() + 15
        out = ""
        while time.monotonic() < deadline:
            out = self.watch()
            if pred(out):
                return out
            time.sleep(0.05)
        self.fail(f"--watch --once never showed {what}:\n{out}")

    def transcript_of(self, client_port):
        """The transcript of the connection from client_port."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for path in glob.glob(os.path.join(self.tdir, "2*.log")):
                with open(path, encoding="utf-8", errors="replace") as f:
                    head = f.readline()
                if f" port {client_port} to " in head:
                    with open(path, "rb") as f:
                        return path, f.read()
            time.sleep(0.02)
        self.fail(f"no transcript for client port {client_port}")

    def wait_closed(self, path):
        """The transcript once its connection has closed."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(path, "rb") as f:
                data = f.read()
            if data.rstrip().endswith(b"-- closed"):
                return data
            time.sleep(0.02)
        self.fail(f"{path} never closed:\n{data!r}")

    def tls_session(self, helo):
        """smtplib after EHLO, STARTTLS (checking the name class.test)
        and EHLO again."""
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=10)
        s.ehlo(helo)
        s._host = "class.test"  # the name smtplib checks
        s.starttls(context=ssl.create_default_context(cafile=self.cafile))
        s.ehlo(helo)
        return s

    def inbox(self, user):
        return sorted(glob.glob(os.path.join(self.data, "inbox", user,
                                             "*.eml")))

    # -- retention -------------------------------------------------------

    def test_0_retention(self):
        names = set(os.listdir(self.tdir))
        self.assertNotIn("20200101-000000-1-127.0.0.1.log", names,
                         "a transcript older than a day survived")
        for i in range(5):
            self.assertNotIn(f"20200102-000000-{i:04d}-127.0.0.1.log",
                             names, "past the newest 1000 survived")
        for i in (5, 1004):
            self.assertIn(f"20200102-000000-{i:04d}-127.0.0.1.log", names)
        self.assertIn("notes.txt", names)
        self.assertEqual(stat.S_IMODE(os.stat(self.tdir).st_mode), 0o700)

    # -- a hundred students ----------------------------------------------

    def test_a_hundred_students(self):
        at_rcpt = threading.Barrier(STUDENTS + 1, timeout=60)
        go = threading.Barrier(STUDENTS + 1, timeout=60)
        errors, ports = [], {}
        before = set(self.inbox("alice"))

        def student(n):
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
                    ports[n] = s.sock.getsockname()[1]
                    s.ehlo(f"student{n}.class.test")
                    if n % 2 == 0:
                        s._host = "class.test"  # the name checked
                        s.starttls(context=ssl.create_default_context(
                            cafile=self.cafile))
                        s.ehlo(f"student{n}.class.test")
                    self.assertEqual(s.mail(f"s{n}@class.test")[0], 250)
                    self.assertEqual(s.rcpt("alice@practice.test")[0], 250)
                    at_rcpt.wait()
                    go.wait()
                    code, _ = s.data(f"Subject: homework {n}\r\n\r\n"
                                     f"from student {n}\r\n")
                    self.assertEqual(code, 250)
            except Exception as e:  # reported below
                errors.append((n, repr(e)))
                at_rcpt.abort()
                go.abort()

        threads = [threading.Thread(target=student, args=(n,))
                   for n in range(STUDENTS)]
        for t in threads:
            t.start()
        try:
            at_rcpt.wait()
            out = self.wait_watch(
                lambda o: f" {STUDENTS} connected" in o and
                len(re.findall(r" RCPT 1 ", o)) == STUDENTS,
                f"{STUDENTS} students at RCPT 1")
            self.assertEqual(len(re.findall(r"student\d+\.class\.test", out)),
                             STUDENTS, out)
            go.wait()
        except threading.BrokenBarrierError:
            pass  # a student failed: in errors
        except BaseException:
            go.abort()  # let the students go before failing
            raise
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        new = [p for p in self.inbox("alice") if p not in before]
        subjects = set()
        for p in new:
            with open(p, "rb") as f:
                m = re.search(rb"Subject: homework (\d+)\r\n", f.read())
            if m:
                subjects.add(int(m.group(1)))
        self.assertEqual(subjects, set(range(STUDENTS)))
        for n in (0, 1, STUDENTS - 1):
            path, _ = self.transcript_of(ports[n])
            data = self.wait_closed(path)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            # smtplib writes its verbs in lower case.
            self.assertIn(f"C: ehlo student{n}.class.test".encode(), data)
            self.assertIn(b"S: 250 2.0.0 Ok: queued as ", data)
            self.assertEqual(b"C: STARTTLS" in data, n % 2 == 0)

    # -- one transcript ----------------------------------------------------

    def test_transcript_commands_timing_no_secret(self):
        body_marker = "the-body-is-never-logged-7f3a"
        with self.tls_session("pupil.class.test") as s:
            port = s.sock.getsockname()[1]
            s.user, s.password = "bob", "wrong-Secret-42"
            with self.assertRaises(smtplib.SMTPAuthenticationError):
                s.auth("PLAIN", s.auth_plain)
            s.user, s.password = "bob", "builder"
            s.auth("PLAIN", s.auth_plain)
            s.sendmail("bob@practice.test", ["carol@practice.test"],
                       f"Subject: t\r\n\r\n{body_marker}\r\n")
            s.docmd("\x1b[2Jwipe")
        with self.tls_session("pupil2.class.test") as s:
            port2 = s.sock.getsockname()[1]
            s.user, s.password = "carol", "ladybird-not-hers"
            with self.assertRaises(smtplib.SMTPAuthenticationError):
                s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        path, _ = self.transcript_of(port)
        data = self.wait_closed(path).decode()
        path2, _ = self.transcript_of(port2)
        data2 = self.wait_closed(path2).decode()
        ms = r"\s+\d+\.\d{3} "
        for pattern in (
                rf"(?m)^{ms}S: 220 practice\.test ESMTP .*\(\d+\.\d{{3}} ms\)$",
                rf"(?m)^{ms}C: ehlo pupil\.class\.test$",
                rf"(?m)^{ms}S: 250-practice\.test Hello pupil\.class\.test",
                rf"(?m)^{ms}S: 250 HELP   \(\d+\.\d{{3}} ms\)$",
                rf"(?m)^{ms}C: STARTTLS$",
                rf"(?m)^{ms}-- TLS established: TLSv1\.[23] ",
                rf"(?m)^{ms}C: AUTH PLAIN \[initial response: \d+ octets, "
                r"not logged\]$",
                rf"(?m)^{ms}S: 535 5\.7\.8 ",
                rf"(?m)^{ms}S: 235 2\.7\.0 Authentication successful",
                rf"(?m)^{ms}C: mail FROM:<bob@practice\.test>",
                rf"(?m)^{ms}C: rcpt TO:<carol@practice\.test>$",
                rf"(?m)^{ms}C: data$",
                rf"(?m)^{ms}S: 354 ",
                rf"(?m)^{ms}C: \[message content: \d+ octets",
                rf"(?m)^{ms}S: 250 2\.0\.0 Ok: queued as \S+   "
                r"\(\d+\.\d{3} ms\)$",
                rf"(?m)^{ms}C: \\e\[2Jwipe$",
                rf"(?m)^{ms}C: QUIT$",
                rf"(?m)^{ms}S: 221 2\.0\.0 Bye"):
            self.assertRegex(data, pattern)
        self.assertRegex(data2, r"C: AUTH LOGIN\n")
        self.assertEqual(len(re.findall(r"C: \[SASL response: \d+ octets, "
                                        r"not logged\]", data2)), 2, data2)
        self.assertNotIn(body_marker, data)
        # The status row keeps the last error, after the escape command.
        with open(os.path.join(self.data, "status"), "rb") as f:
            status = f.read()
        log = self.server_log()
        # The stderr log has the commands and replies too (a multi-line
        # reply as its first line), with their timing.
        cid = re.search(r"connection #(\d+) ", data).group(1)
        for pattern in (rf"#{cid} 127\.0\.0\.1 \[\d+\.\d{{3}} ms\] C: "
                        r"rcpt TO:<carol@practice\.test>\n",
                        rf"#{cid} 127\.0\.0\.1 \[\d+\.\d{{3}} ms\] S: 250-"
                        r"practice\.test Hello pupil\.class\.test \[127\.0\.0"
                        r"\.1\] \(\+11 more lines; \d+\.\d{3} ms\)\n",
                        rf"#{cid} 127\.0\.0\.1 \[\d+\.\d{{3}} ms\] S: 221 "):
            self.assertRegex(log.decode(errors="replace"), pattern)
        logs = {"transcript": data.encode(), "transcript 2": data2.encode(),
                "status": status, "stderr log": log}
        for where, text in logs.items():
            self.assertNotIn(b"\x1b", text, where)
            secrets = [("bob", "wrong-Secret-42"),
                       ("carol", "ladybird-not-hers")]
            if where != "stderr log":  # its banner lists bob/builder
                secrets.append(("bob", "builder"))
            for user, secret in secrets:
                for form in servers.secret_forms(user, secret):
                    self.assertNotIn(form.encode(), text,
                                     f"{where} holds {form!r}")

    # -- --watch ---------------------------------------------------------

    def test_watch_stage_and_last_error(self):
        c = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        f = c.makefile("rb")
        try:
            self.assertTrue(servers.read_reply(f).startswith("220 "))

            def cmd(line):
                c.sendall(line.encode() + b"\r\n")
                return servers.read_reply(f)

            self.assertTrue(cmd("EHLO watched.class.test").startswith("250"))
            self.assertTrue(cmd("MAIL FROM:<w@class.test>").startswith("250"))
            self.assertTrue(cmd("RCPT TO:<ghost@practice.test>")
                            .startswith("550"))

            def row(out):
                return next((ln for ln in out.splitlines()
                             if "watched.class.test" in ln), "")

            out = self.wait_watch(
                lambda o: " MAIL " in row(o) and "RCPT TO:<ghost@practice."
                "test> -> 550 5.1.1" in row(o), "MAIL and the 550")
            self.assertRegex(out, r"^ehlo practice server on 127\.0\.0\.1:"
                             rf"{self.port} \(pid \d+, up ")
            self.assertTrue(cmd("RCPT TO:<bob@practice.test>")
                            .startswith("250"))
            self.wait_watch(lambda o: " RCPT 1 " in row(o), "RCPT 1")
            self.assertTrue(cmd("QUIT").startswith("221"))
            out = self.wait_watch(
                lambda o: "[QUIT]" in row(o), "the closed connection")
            closed = out.split("Recently closed:")[1]
            self.assertIn("watched.class.test", closed)
        finally:
            f.close()
            c.close()

    def test_watch_without_a_server(self):
        with tempfile.TemporaryDirectory() as empty:
            r = self.ehlo(["practice", "--watch", "--once", "--dir", empty])
            self.assertExit(r, 3)
            self.assertLine(r, r"no practice server is running",
                            stream="stderr")
        r = self.ehlo(["practice", "--once"])
        self.assertExit(r, 2)
        self.assertLine(r, r"--once goes with --watch", stream="stderr")


if __name__ == "__main__":
    servers.main()
