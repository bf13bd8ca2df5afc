"""The network path (issue 18 items 4 and 7): SOCKS5 through a real
proxy (Debian's microsocks), --source, -4/-6, happy eyeballs and name
lookups bounded by --timeout.

- microsocks without authentication binds its outgoing connections to
  127.0.0.3 (-b), so aiosmtpd seeing the message come from 127.0.0.3
  proves it crossed the proxy; the name "localhost" goes to the proxy
  (socks5h) or is resolved by ehlo (socks5://, the note then names the
  address sent);
- a second microsocks wants alice and a password (RFC 1929): the
  password comes from EHLO_SOCKS_PASSWORD and shows nowhere; a wrong
  one is a clear error and exit 3; one in the URL is refused (exit 2);
- --source 127.0.0.2: the server sees that address;
- a name with an AAAA (::1) and an A (127.0.0.1) record, served by the
  test DNS server, where only IPv4 listens: happy eyeballs gets there,
  -6 does not, -4 never tries IPv6; and when IPv6 hangs (a listener on
  ::1 whose queue is full, so its SYNs go unanswered) IPv4 still wins
  quickly (RFC 8305: the next attempt 250 ms later);
- a resolver that never answers ends in a timeout message well inside
  a short --timeout.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import servers
from dnsserver import DnsServer

servers.require_aiosmtpd()
servers.require_program("microsocks")

SCRIPT = servers.script("""
    EHLO client.test
    MAIL FROM:<sender@example.test>
    RCPT TO:<alice@example.test>
    DATA
    Subject: {subject}

    through the proxy
    .
    QUIT
    """)

PASSWORD = "proxy-pass-4711"


def start_microsocks(*args):
    """microsocks on a free loopback port; returns (process, port)."""
    for _ in range(3):
        port = servers.free_port()
        proc = subprocess.Popen(
            ["microsocks", "-i", "127.0.0.1", "-p", str(port), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=servers._die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return proc, port
            except OSError:
                time.sleep(0.02)
        proc.kill()
        proc.wait()
    raise RuntimeError("microsocks did not start")


class SocksTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.smtp = servers.Aiosmtpd()
        cls.addClassCleanup(cls.smtp.stop)
        cls.open_proxy, cls.open_port = start_microsocks("-b", "127.0.0.3")
        cls.addClassCleanup(cls._stop, cls.open_proxy)
        cls.auth_proxy, cls.auth_port = start_microsocks(
            "-u", "alice", "-P", PASSWORD)
        cls.addClassCleanup(cls._stop, cls.auth_proxy)
        cls.tmp = tempfile.mkdtemp(prefix="ehlo-socks-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.db = os.path.join(cls.tmp, "history.db")

    @staticmethod
    def _stop(proc):
        proc.kill()
        proc.wait()

    def last_id(self):
        r = self.ehlo(["history", "--db", self.db, "--json", "--limit", "1"])
        return str(json.loads(r.stdout.splitlines()[0])["id"])

    def send(self, subject, args, env=None):
        """Runs the script; returns (result, the message received)."""
        before = len(self.smtp.messages())
        r = self.ehlo(["run", "--db", self.db, *args,
                       f"localhost:{self.smtp.port}"],
                      SCRIPT.format(subject=subject), env=env)
        got = self.smtp.messages()[before:]
        return r, (got[0] if got else None)

    def test_socks5h_without_authentication(self):
        r, msg = self.send("open", ["--socks",
                                    f"socks5h://127.0.0.1:{self.open_port}"])
        self.assertExit(r, 0)
        self.assertLine(r, rf"^\*: SOCKS5 via 127\.0\.0\.1:{self.open_port}: "
                           rf"connected to localhost:{self.smtp.port}$")
        self.assertIsNotNone(msg, self.transcript(r))
        self.assertIn(b"Subject: open", msg["data"])
        self.assertEqual(msg["peer"], "127.0.0.3")  # the proxy's side
        # Recorded: the note is in the history, and the curl export
        # goes through the same proxy.
        show = self.ehlo(["show", "--db", self.db, self.last_id()])
        self.assertIn(f"SOCKS5 via 127.0.0.1:{self.open_port}", show.stdout)
        export = self.ehlo(["export", "--db", self.db, self.last_id(),
                            "--format", "curl"])
        self.assertIn(f"--socks5-hostname '127.0.0.1:{self.open_port}'",
                      export.stdout)
        # A replay against the recorded server takes the recorded proxy.
        before = len(self.smtp.messages())
        replay = self.ehlo(["replay", "--db", self.db, self.last_id()])
        self.assertExit(replay, 0)
        self.assertLine(replay, rf"^\*: SOCKS5 via 127\.0\.0\.1:"
                                rf"{self.open_port}: connected to localhost:")
        again = self.smtp.messages()[before:]
        self.assertEqual([m["peer"] for m in again], ["127.0.0.3"])
        export = self.ehlo(["export", "--db", self.db, self.last_id(),
                            "--format", "curl"])
        if shutil.which("curl"):
            # The exported command itself crosses the proxy.
            before = len(self.smtp.messages())
            subprocess.run(["sh", "-c", export.stdout], check=True,
                           timeout=30, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            again = self.smtp.messages()[before:]
            self.assertEqual([m["peer"] for m in again], ["127.0.0.3"])

    def test_socks5_resolves_here(self):
        r, msg = self.send("local", ["--socks",
                                     f"socks5://127.0.0.1:{self.open_port}"])
        self.assertExit(r, 0)
        # ehlo looked "localhost" up and sent the address.
        self.assertLine(r, rf"^\*: SOCKS5 via .*: connected to "
                           rf"(127\.0\.0\.1|\[::1\]):{self.smtp.port}$")
        self.assertEqual(msg["peer"], "127.0.0.3")

    def test_user_and_password(self):
        r, msg = self.send(
            "auth", ["--socks", f"alice@127.0.0.1:{self.auth_port}"],
            env={"EHLO_SOCKS_PASSWORD": PASSWORD})
        self.assertExit(r, 0)
        self.assertIsNotNone(msg, self.transcript(r))
        self.assertNoSecret(r, "alice", PASSWORD)
        dump = self.ehlo(["export", "--db", self.db, self.last_id(),
                          "--format", "json"])
        self.assertNoSecret(dump, "alice", PASSWORD)

        r, msg = self.send(
            "wrong", ["--socks", f"alice@127.0.0.1:{self.auth_port}"],
            env={"EHLO_SOCKS_PASSWORD": "not-it"})
        self.assertExit(r, 3)
        self.assertIsNone(msg)
        self.assertLine(r, r"refused the user name \"alice\" or its "
                           r"password", stream="stderr")

        # No password anywhere: said before any network work.
        r, _ = self.send("none", ["--socks",
                                  f"alice@127.0.0.1:{self.auth_port}"],
                         env={"NETRC": os.path.join(self.tmp, "none")})
        self.assertExit(r, 2)
        self.assertIn("EHLO_SOCKS_PASSWORD", r.stderr)

        r, _ = self.send("url", ["--socks", f"socks5h://alice:{PASSWORD}@"
                                 f"127.0.0.1:{self.auth_port}"])
        self.assertExit(r, 2)
        self.assertNoSecret(r, "alice", PASSWORD)

    def test_tls_send_and_check_through_the_proxy(self):
        proxy = ["--socks", f"127.0.0.1:{self.open_port}", "--cafile",
                 self.smtp.cert.cert]
        before = len(self.smtp.messages())
        # STARTTLS and implicit TLS run end to end through the proxy:
        # SNI and verification name the server, not the proxy.
        for subject, mode, port in (("starttls", "--starttls",
                                     self.smtp.port),
                                    ("implicit", "--tls", self.smtp.tls_port)):
            r = self.ehlo(["run", "--no-history", *proxy, mode,
                           f"localhost:{port}"],
                          SCRIPT.format(subject=subject))
            self.assertExit(r, 0)
            self.assertLine(r, r"^\*: SOCKS5 via ")
        # ehlo send, and ehlo check.
        body = os.path.join(self.tmp, "body.txt")
        with open(body, "w") as f:
            f.write("sent through the proxy\n")
        r = self.ehlo(["send", "--no-history", *proxy,
                       f"localhost:{self.smtp.port}", "--from",
                       "sender@example.test", "--to", "alice@example.test",
                       "--subject", "send", "--body", body])
        self.assertExit(r, 0)
        got = self.smtp.messages()[before:]
        self.assertEqual([(m["tls"], m["sni"], m["peer"]) for m in got],
                         [(True, "localhost", "127.0.0.3")] * 3)
        self.assertIn(b"Subject: implicit", got[1]["data"])
        self.assertIn(b"sent through the proxy", got[2]["data"])
        r = self.ehlo(["check", "--socks",
                       f"127.0.0.1:{self.open_port}",
                       f"localhost:{self.smtp.port}", "--no-starttls"])
        self.assertExit(r, 0)
        dead = servers.free_port()
        r = self.ehlo(["check", "--socks", f"127.0.0.1:{self.open_port}",
                       f"localhost:{dead}"])
        self.assertExit(r, 2)  # CRITICAL
        self.assertIn("connection refused (SOCKS5 reply 5)", r.stdout)

    def test_source_address(self):
        r, msg = self.send("source", ["--source", "127.0.0.2"])
        self.assertExit(r, 0)
        self.assertEqual(msg["peer"], "127.0.0.2")
        r, _ = self.send("bad", ["--source", "not-an-address"])
        self.assertExit(r, 2)
        self.assertIn("--source wants a numeric", r.stderr)


class FamilyTest(servers.EhloTestCase):
    """A dual-stack name where only IPv4 listens (the practice server)."""

    @classmethod
    def setUpClass(cls):
        if not servers.ipv6_loopback_available():
            raise servers.unittest.SkipTest("no IPv6 loopback here")
        cls.proc, cls.port = servers.start_practice(dict(os.environ))
        cls.addClassCleanup(cls._stop)
        cls.dns = DnsServer({"dual.test": [("A", "127.0.0.1"),
                                           ("AAAA", "::1")]})
        cls.dns.__enter__()
        cls.addClassCleanup(cls.dns.__exit__, None, None, None)

    @classmethod
    def _stop(cls):
        cls.proc.kill()
        cls.proc.wait()

    def run_dual(self, *args, port=None):
        return self.ehlo(["run", "--no-history", "--timeout", "10", "--dns",
                          f"127.0.0.1:{self.dns.port}", *args,
                          f"dual.test:{port or self.port}"],
                         "EHLO client.test\nQUIT\n")

    def test_happy_eyeballs_falls_back_to_ipv4(self):
        r = self.run_dual()
        self.assertExit(r, 0)
        self.assertLine(r, rf"^\*: connected to 127\.0\.0\.1:{self.port}$")
        # The practice server saw an IPv4 client.
        self.assertLine(r, r"^S: 250-practice\.test Hello client\.test "
                           r"\[127\.0\.0\.1\]")

    def test_ipv6_only_and_ipv4_only(self):
        r = self.run_dual("-6")
        self.assertExit(r, 3)
        self.assertIn(f"[::1]:{self.port}", r.stderr)
        self.assertNotIn("127.0.0.1", r.stderr)
        r = self.run_dual("-4")
        self.assertExit(r, 0)
        self.assertLine(r, rf"^\*: connected to 127\.0\.0\.1:{self.port}$")

    def test_ipv4_wins_while_ipv6_hangs(self):
        # [::1]:PORT accepts nothing: one connection fills its queue, so
        # the kernel leaves later SYNs unanswered.
        stall = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        self.addCleanup(stall.close)
        stall.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        stall.bind(("::1", self.port))
        stall.listen(0)
        fillers = []
        for _ in range(2):
            f = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            f.setblocking(False)
            f.connect_ex(("::1", self.port))
            fillers.append(f)
            self.addCleanup(f.close)
        start = time.monotonic()
        r = self.run_dual()
        self.assertExit(r, 0)
        self.assertLine(r, rf"^\*: connected to 127\.0\.0\.1:{self.port}$")
        # Far below the 10 s --timeout an unanswered IPv6 connect would
        # take without the race.
        self.assertLess(time.monotonic() - start, 5)



class ResolverTest(servers.EhloTestCase):
    """Name lookups count within --timeout (no IPv6 needed)."""

    def test_dead_resolver_times_out(self):
        with DnsServer({}, silent=True) as dead:
            start = time.monotonic()
            r = self.ehlo(["run", "--no-history", "--timeout", "2", "--dns",
                           f"127.0.0.1:{dead.port}", "mail.dead.test:25"],
                          "QUIT\n")
            took = time.monotonic() - start
            self.assertTrue(dead.queries, "nothing asked the test resolver")
        self.assertExit(r, 3)
        # c-ares gives up first (naming the resolver); the step timer
        # is the backstop.
        self.assertRegex(r.stderr, r"did not answer in time|timed out "
                                   r"after .* waiting for the DNS answer")
        self.assertLess(took, 5)


class UnixSocketTest(servers.EhloTestCase):
    """The network path options have no meaning for a UNIX socket: said
    so, not silently ignored."""

    def test_refused_for_a_socket(self):
        for opt in (["--socks", "127.0.0.1:1080"], ["--source", "127.0.0.1"],
                    ["-4"]):
            r = self.ehlo(["run", "--no-history", *opt,
                           "/nonexistent/lmtp.sock"], "QUIT\n")
            self.assertExit(r, 3)
            self.assertIn("are for TCP; the server is a UNIX socket",
                          r.stderr)


if __name__ == "__main__":
    servers.main()
