"""/raw TEXT (issue 22 item 1): exact bytes on the wire, captured on a
server socket.

CaptureServer is a small SMTP server on 127.0.0.1 that records every
byte it receives.  Strict, it ends message data only at
<CR><LF>.<CR><LF>; lenient, also at <LF>.<LF> (a receiver open to SMTP
smuggling), so the test can see how ehlo tracks a server that ended the
message where ehlo did not.
"""

import os
import socket
import tempfile
import threading

import servers


class CaptureServer:
    """One connection at a time; .received holds the bytes of the last
    one once it closed."""

    def __init__(self, lenient=False):
        self.lenient = lenient
        self.received = b""
        self.done = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _end_of_data(self, buf):
        ends = [b"\r\n.\r\n"] + ([b"\n.\n"] if self.lenient else [])
        found = [(buf.find(e), len(e)) for e in ends if buf.find(e) >= 0]
        return min(found) if found else (-1, 0)

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.done.clear()
            self._session(conn)
            self.done.set()

    def _session(self, conn):
        got, buf, data = b"", b"", False
        conn.settimeout(10)
        conn.sendall(b"220 capture.example.test ESMTP\r\n")
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                got += chunk
                buf += chunk
                while True:
                    if data:
                        at, n = self._end_of_data(buf)
                        if at < 0:
                            break
                        buf, data = buf[at + n:], False
                        conn.sendall(b"250 2.0.0 queued\r\n")
                        continue
                    at = buf.find(b"\r\n")
                    if at < 0:
                        break
                    line, buf = buf[:at], buf[at + 2:]
                    verb = line.split(b" ")[0].upper()
                    if verb == b"DATA":
                        conn.sendall(b"354 go ahead\r\n")
                        # The DATA line's CRLF starts the first line.
                        buf, data = b"\r\n" + buf, True
                    elif verb == b"QUIT":
                        conn.sendall(b"221 2.0.0 bye\r\n")
                        self.received = got
                        return
                    else:
                        conn.sendall(b"250 2.0.0 ok\r\n")
        self.received = got

    def stop(self):
        self.sock.close()


class RawTest(servers.EhloTestCase):

    def setUp(self):
        self.peer = CaptureServer()
        self.addCleanup(self.peer.stop)

    def run_script(self, text, peer=None):
        peer = peer or self.peer
        r = self.ehlo(["run", f"127.0.0.1:{peer.port}"], text)
        self.assertTrue(peer.done.wait(5), self.transcript(r))
        return r

    def test_exact_bytes(self):
        r = self.run_script(
            "EHLO client.example\n"
            "/raw MAIL FROM:<a@example.test>\\r\\n\n"
            "/raw RCPT TO:<b@example.test>\n"
            "/raw \\r\\n\n"
            "DATA\n"
            "Subject: raw\n"
            "/raw line\\x00one\\tx\\\\y\\nsecond\n"
            "/raw \\r\\n.\\r\\n\n"
            "QUIT\n")
        self.assertExit(r, 0)
        self.assertEqual(
            self.peer.received,
            b"EHLO client.example\r\n"
            b"MAIL FROM:<a@example.test>\r\n"
            b"RCPT TO:<b@example.test>\r\n"
            b"DATA\r\n"
            b"Subject: raw\r\n"
            b"line\x00one\tx\\y\nsecond\r\n.\r\n"
            b"QUIT\r\n")
        # Shown escaped and marked raw; the split line waits for its end.
        self.assertLine(r, r"^C: \[raw\] MAIL FROM:<a@example\.test>\\r\\n$")
        self.assertLine(r, r"^C: \[raw\] line\\0one\\tx\\\\y\\nsecond$")
        self.assertLine(r, r"^\*: raw: 24 octets of a command line sent; "
                           r"the server waits for the rest of it")
        # The raw "." line ended DATA: its reply matched the message.
        self.assertLine(r, r"^C: \[raw\] \\r\\n\.\\r\\n\nS: 250 2\.0\.0 "
                           r"queued$")
        self.assertNoLine(r, r"matched to nothing")

    def test_raw_data_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            for content, end in ((b"Subject: r\r\n\r\n.dot\nbare\rx\r\n",
                                  b".\r\n"),
                                 (b"Subject: r\n\nno final line end",
                                  b"\r\n.\r\n")):
                path = os.path.join(tmp, "msg")
                with open(path, "wb") as f:
                    f.write(content)
                peer = CaptureServer()
                self.addCleanup(peer.stop)
                r = self.ehlo(["run", "--raw-data", path,
                               f"127.0.0.1:{peer.port}"],
                              "EHLO client.example\nMAIL FROM:<a@x.test>\n"
                              "RCPT TO:<b@x.test>\n/body\nQUIT\n")
                self.assertTrue(peer.done.wait(5), self.transcript(r))
                self.assertExit(r, 0)
                # The file's octets exactly: no CRLF added inside, no
                # dot doubled; then the end.
                self.assertIn(b"DATA\r\n" + content + end + b"QUIT\r\n",
                              peer.received)
                self.assertLine(r, r"^C: \[raw message content from .*: "
                                   rf"{len(content)} octets as they are")

    def test_bad_escape(self):
        r = self.run_script("EHLO client.example\n/raw MAIL\\q\nQUIT\n")
        self.assertExit(r, 2)
        self.assertLine(r, r'/raw: "q" after the backslash at position 5 '
                           r"is no escape ehlo knows", "stderr")
        self.assertNotIn(b"MAIL", self.peer.received)

    def test_bare_lf_end_of_data(self):
        lenient = CaptureServer(lenient=True)
        self.addCleanup(lenient.stop)
        script = ("EHLO client.example\nMAIL FROM:<a@example.test>\n"
                  "RCPT TO:<b@example.test>\nDATA\nSubject: x\n"
                  "/raw body\\n.\\n\n/sleep 0.5\n"
                  "QUIT\n")
        r = self.run_script(script, lenient)
        self.assertExit(r, 0)
        self.assertLine(r, r"^\*: warning: the raw bytes hold a dot between "
                           r"line ends other than <CR><LF>\.<CR><LF>")
        # The lenient server ended the message there, and ehlo knew.
        self.assertLine(r, r"^\*: the server answered before the message's "
                           r"end: it took the raw bytes for the end of data")
        self.assertLine(r, r"^C: QUIT\nS: 221 ")
        self.assertEqual(lenient.received.count(b"QUIT"), 1)
        # A strict server reads on; the real end ends it.
        r = self.run_script(script.replace(
            "/sleep 0.5\n", "/raw \\r\\n.\\r\\n\n"))
        self.assertExit(r, 0)
        self.assertIn(b"body\n.\n\r\n.\r\nQUIT", self.peer.received)
        self.assertNoLine(r, r"answered before the message's end")


if __name__ == "__main__":
    servers.main()
