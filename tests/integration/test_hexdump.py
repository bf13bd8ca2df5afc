"""--hexdump (issue 18 item 6): every byte sent and received, in hex.

A small STARTTLS server on 127.0.0.1 keeps every octet it received and
sent (after TLS, the plaintext it decrypted): line mode's dump must be
exactly those octets, marked "(TLS, decrypted)" from the handshake on.
Against the practice server (plain and STARTTLS) the dump of the data
must hold the message the server stored; `ehlo show ID --hexdump` must
give the recorded session's octets; and an AUTH line must be dumped in
its redacted form only, in any encoding.
"""

import os
import re
import socket
import ssl
import tempfile
import threading

import servers
from practice_server import PracticeServer

HEX_LINE = re.compile(r"^(C>|S<) ([0-9a-f]{8,16})  ")


def dumped(text):
    """{'C>': octets, 'S<': octets} from the hex lines of text; the
    offsets must follow each other in each direction."""
    got = {"C>": b"", "S<": b""}
    for line in text.splitlines():
        m = HEX_LINE.match(line)
        if not m:
            continue
        way, off = m.group(1), int(m.group(2), 16)
        assert off == len(got[way]), f"offset {off:x} in {line!r}"
        start = m.end()
        got[way] += bytes.fromhex(line[start:start + 49])
    return got


def headers(text):
    """The chunk header lines ("C> 9 octets (TLS, decrypted)")."""
    return [l for l in text.splitlines()
            if re.match(r"^(C>|S<) \d+ octets?", l)]


class StarttlsCapture:
    """One connection: replies 250 to everything, 354 to DATA, 220 to
    STARTTLS (then TLS with cert), 221 to QUIT.  .received and .sent
    hold the octets of the connection (plaintext after TLS)."""

    def __init__(self, cert):
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(cert.cert, cert.key)
        self.received = self.sent = b""
        self.done = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _send(self, conn, data):
        conn.sendall(data)
        self.sent += data

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(10)
        self.conn = conn
        try:
            self._session(conn)
        except OSError:
            pass
        finally:
            self.conn.close()
            self.done.set()

    def _session(self, conn):
        buf, data = b"", False
        self._send(conn, b"220 capture.example.test ESMTP\r\n")
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            self.received += chunk
            buf += chunk
            while True:
                if data:
                    at = buf.find(b"\r\n.\r\n")
                    if at < 0:
                        break
                    buf, data = buf[at + 5:], False
                    self._send(conn, b"250 2.0.0 queued\r\n")
                    continue
                at = buf.find(b"\r\n")
                if at < 0:
                    break
                line, buf = buf[:at], buf[at + 2:]
                verb = line.split(b" ")[0].upper()
                if verb == b"EHLO":
                    self._send(conn, b"250-capture.example.test\r\n"
                               b"250 STARTTLS\r\n")
                elif verb == b"STARTTLS":
                    self._send(conn, b"220 2.0.0 go ahead\r\n")
                    conn = self.conn = self.ctx.wrap_socket(
                        conn, server_side=True)
                elif verb == b"DATA":
                    self._send(conn, b"354 go ahead\r\n")
                    buf, data = b"\r\n" + buf, True
                elif verb == b"QUIT":
                    self._send(conn, b"221 2.0.0 bye\r\n")
                    return
                else:
                    self._send(conn, b"250 2.0.0 ok\r\n")

    def stop(self):
        self.sock.close()


class HexdumpTest(PracticeServer, servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.start_practice()
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-hexdump-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.cert = servers.make_cert(cls.tmp.name)
        cls.db = os.path.join(cls.tmp.name, "ehlo.db")

    def run_hex(self, server, script_text, *extra, env=None):
        r = self.ehlo(["run", "--hexdump", "--db", self.db, *extra, server],
                      script_text, env=env)
        return r

    def test_exact_octets_plain_and_starttls(self):
        peer = StarttlsCapture(self.cert)
        self.addCleanup(peer.stop)
        r = self.run_hex(f"127.0.0.1:{peer.port}", servers.script("""
            EHLO client.example
            STARTTLS
            EHLO client.example
            MAIL FROM:<a@example.test>
            RCPT TO:<b@example.test>
            DATA
            Subject: hex
            /raw tab\\there\\x01\\r\\n
            .
            QUIT
            """), "--cafile", self.cert.cert)
        self.assertTrue(peer.done.wait(5), self.transcript(r))
        self.assertExit(r, 0)
        got = dumped(r.stdout)
        self.assertEqual(got["C>"], peer.received, self.transcript(r))
        self.assertEqual(got["S<"], peer.sent, self.transcript(r))
        # The handshake is summarised, not dumped; what follows is marked.
        hs = headers(r.stdout)
        tls_from = r.stdout.index("*: hexdump: TLS handshake (not dumped)")
        for h in hs:
            after = r.stdout.index(h + "\n") > tls_from
            self.assertEqual("(TLS, decrypted)" in h, after, h)
        self.assertTrue(any("(TLS, decrypted)" in h for h in hs))
        # Server octets are never printed raw: the printable column has
        # '.' for the control octet the client sent.
        self.assertLine(r, r"^C> [0-9a-f]{8}  74 61 62 09 .*tab\.here\.\.\.")
        self.assertNotIn("\x01", r.stdout)

    def practice_session(self, *extra):
        before = self.inbox("bob")
        r = self.run_hex(self.server, servers.script("""
            EHLO client.example
            MAIL FROM:<alice@practice.test>
            RCPT TO:<bob@practice.test>
            DATA
            Subject: hexdump
            From: alice@practice.test

            ..a dot-stuffed line
            .
            QUIT
            """), *extra)
        self.assertExit(r, 0)
        stored = self.split_stored(self.wait_new("bob", before))[2]
        got = dumped(r.stdout)
        # What the server stored is what the dump says went after DATA
        # (undone dot-stuffing: the server's view).
        data = got["C>"].split(b"DATA\r\n", 1)[1].split(b"\r\n.\r\n", 1)[0]
        self.assertEqual(data.replace(b"\r\n..", b"\r\n.") + b"\r\n",
                         stored, self.transcript(r))
        # The server's octets are the S: lines, each with its CRLF.
        lines = [l[3:] for l in r.stdout.splitlines() if l.startswith("S: ")]
        self.assertEqual(got["S<"],
                         "".join(l + "\r\n" for l in lines).encode(),
                         self.transcript(r))
        return r, got

    def test_practice_plain_and_replay(self):
        r, got = self.practice_session()
        self.assertNotIn("(TLS, decrypted)", r.stdout)
        # ehlo replay --hexdump: the same octets go out again.
        h = self.ehlo(["history", "--db", self.db, "--json", "--limit",
                       "1"])
        sid = re.search(r'"id":\s*(\d+)', h.stdout).group(1)
        again = self.ehlo(["replay", "--db", self.db, "--no-pauses",
                           "--hexdump", sid])
        self.assertExit(again, 0)
        self.assertEqual(dumped(again.stdout)["C>"], got["C>"],
                         self.transcript(again))

    def test_practice_starttls_and_show(self):
        r, got = self.practice_session("--starttls", "--cafile",
                                       self.cafile)
        self.assertLine(r, r"^C> \d+ octets \(TLS, decrypted\)$")
        self.assertLine(r, r"^S< \d+ octets \(TLS, decrypted\)$")
        # ehlo show --hexdump of the recorded session: the same octets.
        h = self.ehlo(["history", "--db", self.db, "--json", "--limit",
                       "1"])
        sid = re.search(r'"id":\s*(\d+)', h.stdout).group(1)
        s = self.ehlo(["show", "--db", self.db, "--hexdump", sid])
        self.assertExit(s, 0)
        shown = dumped(s.stdout)
        self.assertEqual(shown, got, self.transcript(s))
        self.assertIn("*: hexdump: TLS handshake (not dumped)", s.stdout)
        self.assertLine(s, r"^C> \d+ octets \(TLS, decrypted\)$")
        # Without --hexdump, show is as before.
        plain = self.ehlo(["show", "--db", self.db, sid])
        self.assertNoLine(plain, r"^C> ")

    def test_secret_never_dumped(self):
        user, secret = "alice", "wonderland"
        r = self.run_hex(self.server, servers.script("""
            EHLO client.example
            AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=
            QUIT
            """), "--cafile", self.cafile, "--starttls")
        self.assertExit(r, 0)
        self.assertLine(r, r"^C> \d+ octets \(TLS, decrypted\) \(redacted: ")
        r2 = self.run_hex(self.server, "EHLO client.example\nNOOP\nQUIT\n",
                          "--cafile", self.cafile, "--starttls",
                          "--auth", "PLAIN", "--user", user,
                          env={"EHLO_PASSWORD": secret})
        self.assertExit(r2, 0)
        h = self.ehlo(["history", "--db", self.db, "--json", "--limit",
                       "2"])
        ids = re.findall(r'"id":\s*(\d+)', h.stdout)
        for res in [r, r2] + [self.ehlo(["show", "--db", self.db,
                                         "--hexdump", i]) for i in ids]:
            self.assertNoSecret(res, user, secret)
            octets = b"".join(dumped(res.stdout).values())
            for form in servers.secret_forms(user, secret):
                self.assertNotIn(form.encode(), octets,
                                 self.transcript(res))
            self.assertIn(b"password=", octets, self.transcript(res))

    def test_json_refused(self):
        r = self.ehlo(["run", "--hexdump", "--json", self.server], "")
        self.assertExit(r, 2)
        self.assertLine(r, r"--hexdump is for the text output", "stderr")


if __name__ == "__main__":
    servers.main()
