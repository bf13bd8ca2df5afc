"""`/send` in the workbench and `ehlo send --draft` put the same bytes on
the wire (issue 15: one transaction builder, protocol/txn.h).

One draft is composed in the workbench (tmux) and sent twice with the
same DSN wishes to a private Postfix, which offers PIPELINING, SIZE,
8BITMIME and DSN (and to aiosmtpd, which offers neither PIPELINING nor
DSN): once with `/send ID NOTIFY=... ENVID="..." RET=...`,
once with `ehlo send --draft ID --notify ... --envid ... --ret ...`.
Between ehlo and Postfix sits a relay on loopback that keeps every byte
the client writes, so what is compared is what the server received, not
what ehlo says it sent.

The client's transaction (MAIL FROM through the final "." of the data)
must be identical byte for byte, except for three values that are new
for every message by design and are replaced before comparing: the Date
(the time of sending), the Message-ID (one per message sent, RFC 5322
3.6.4: sending a draft twice makes two messages) and the MIME boundary
(random, so that no content can contain it).  Everything else -- the
MAIL and RCPT parameters (SIZE, BODY, RET, ENVID as xtext, NOTIFY,
ORCPT), DATA, the headers, the encoded body and attachment, the
dot-stuffing -- must match exactly.

Where a recipient is refused, both follow one policy: nothing is sent
and the transaction is reset, unless PARTIAL (--partial) asks to deliver
to the accepted ones; the bytes match in both cases.
"""

import json
import os
import re
import shutil
import socket
import threading
import unittest

import tmux
from tmux import Term, servers

DOMAIN = "example.test"


class Relay:
    """A TCP relay on 127.0.0.1 to upstream: records, per connection, the
    exact bytes the client wrote."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.sessions = []  # one bytearray per connection, client bytes
        self.writes = []  # per connection, the client's data as read
        self.lock = threading.Lock()
        self.conns = []
        self.threads = []
        self.stopping = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                client, _ = self.sock.accept()
            except socket.timeout:
                continue
            client.settimeout(None)
            server = socket.create_connection(self.upstream)
            record = bytearray()
            with self.lock:
                self.conns += [client, server]
                self.sessions.append(record)
                self.writes.append([])
                reads = self.writes[-1]
            for src, dst, rec in ((client, server, (record, reads)),
                                  (server, client, None)):
                t = threading.Thread(target=self._pipe,
                                     args=(src, dst, rec), daemon=True)
                t.start()
                self.threads.append(t)

    def _pipe(self, src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record is not None:
                    with self.lock:
                        record[0].extend(data)
                        record[1].append(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (dst, src):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def client_bytes(self, index):
        with self.lock:
            return bytes(self.sessions[index])

    def client_reads(self, index):
        """The client's bytes of one connection as the relay read them."""
        with self.lock:
            return list(self.writes[index])

    def stop(self):
        """Stops accepting, ends every connection, closes every socket
        (only once no thread uses them: a closed descriptor's number is
        reused at once)."""
        self.stopping.set()
        self.acceptor.join()
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self.threads:
            t.join()
        for s in self.conns + [self.sock]:
            s.close()


def transaction(stream, nth=0):
    """The client's nth transaction in stream: from MAIL FROM through the
    end of data (CRLF . CRLF) or through RSET, as (envelope lines ending
    with DATA or RSET, message bytes or None)."""
    start = -1
    for _ in range(nth + 1):
        start = stream.find(b"MAIL FROM:", start + 1)
        assert start != -1, stream
    data = stream.find(b"\r\nDATA\r\n", start)
    rset = stream.find(b"\r\nRSET\r\n", start)
    if rset != -1 and (data == -1 or rset < data):
        return stream[start:rset + 8].split(b"\r\n")[:-1], None
    assert data != -1, stream[start:]
    end = stream.find(b"\r\n.\r\n", data + 8)
    assert end != -1, stream[data:]
    envelope = stream[start:data + 2].split(b"\r\n")[:-1] + [b"DATA"]
    return envelope, stream[data + 8:end + 5]


def normalised(message, multipart=True):
    """message with the per-message values replaced: the Date and
    Message-ID header values (one of each, in the header block) and the
    MIME boundary (one, when multipart)."""
    head, sep, body = message.partition(b"\r\n\r\n")
    head, n_date = re.subn(rb"(?m)^Date: [^\r\n]+", b"Date: DATE", head)
    head, n_id = re.subn(rb"(?m)^Message-ID: <[^>\r\n]+>",
                         b"Message-ID: <ID>", head)
    assert (n_date, n_id) == (1, 1), head
    out = head + sep + body
    if not multipart:
        return out
    boundaries = set(re.findall(rb'boundary="([^"]+)"', out))
    assert len(boundaries) == 1, out[:2000]
    return out.replace(boundaries.pop(), b"BOUNDARY")


class SameBytesCase(unittest.TestCase):
    """The workbench and `ehlo send` on one server behind self.relay."""

    def setUp(self):
        self.home = servers.tempfile.mkdtemp(prefix="ehlo-e2e-home-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.db = os.path.join(self.home, "ehlo.db")
        self.server = f"127.0.0.1:{self.relay.port}"
        self.term = None

    def tearDown(self):
        if self.term is not None:
            self.term.stop()

    def enter(self, line):
        self.term.type(line)
        self.term.send("Enter")

    def workbench(self):
        """The workbench on the relay, greeted; the relay's session
        number of its connection."""
        index = len(self.relay.sessions)
        self.term = Term(
            [servers.ehlo_bin(), self.server], 100, 30,
            env={"HOME": self.home,
                 "XDG_DATA_HOME": os.path.join(self.home, "data"),
                 "XDG_CONFIG_HOME": os.path.join(self.home, "config"),
                 "EHLO_DB": self.db})
        self.term.wait_for(r"S: 220 ")
        return index

    def compose(self, fields, body):
        """A new draft in the workbench; its number."""
        self.enter("/draft new")
        for field in fields:
            self.enter(f"/draft {field}")
        self.enter("/draft body")
        self.term.wait_for(r"body>")
        for line in body + ["."]:
            self.enter(line)
        screen = self.term.wait_for(rf"Body:\s+{len(body)} lines")
        return re.search(r"draft #(\d+)", screen).group(1)

    def ehlo_send(self, draft_id, *options):
        """`ehlo send --draft` through the relay; the relay's session
        number and the result."""
        index = len(self.relay.sessions)
        r = servers.run_ehlo(["send", "--db", self.db, "--no-starttls",
                              "--helo", "client.example", self.server,
                              "--draft", draft_id, *options])
        return index, r

    def quit(self):
        self.enter("/quit")
        self.assertEqual(self.term.exit_status(), 0)

    def assertSameTransaction(self, wb, cli, nth=0, multipart=False):
        """The workbench's nth transaction in relay session wb and the
        first in session cli are the same bytes (normalised); returns
        the latter's (envelope, message)."""
        wb_env, wb_msg = transaction(self.relay.client_bytes(wb), nth)
        cli_env, cli_msg = transaction(self.relay.client_bytes(cli))
        self.assertEqual(wb_env, cli_env)
        if cli_msg is None:
            self.assertIsNone(wb_msg)
        else:
            self.assertEqual(normalised(wb_msg, multipart),
                             normalised(cli_msg, multipart))
        return cli_env, cli_msg


@unittest.skipUnless(os.geteuid() == 0, "Postfix needs root")
class PostfixTest(SameBytesCase):
    """Postfix: PIPELINING and DSN offered."""

    @classmethod
    def setUpClass(cls):
        cls.pf = servers.Postfix({"alice": "alice-secret-1",
                                  "bob": "bob-secret-2"}, domain=DOMAIN)
        cls.addClassCleanup(cls.pf.stop)
        cls.relay = Relay(("127.0.0.1", cls.pf.port))
        cls.addClassCleanup(cls.relay.stop)

    def test_send_and_ehlo_send_put_the_same_bytes_on_the_wire(self):
        attach = os.path.join(self.home, "Bericht.bin")
        with open(attach, "wb") as f:
            f.write(bytes(range(256)) * 40)
        wb = self.workbench()
        draft_id = self.compose(
            [f"from Alice Example <alice@{DOMAIN}>", f"to alice@{DOMAIN}",
             f"cc Bob <bob@{DOMAIN}>", f"bcc list@{DOMAIN}",
             "subject Grüße: the same bytes twice", f"attach {attach}"],
            ["Hallo,", ".a line that starts with a dot", "..two",
             "und ein Umlaut: äöü"])
        self.enter("EHLO client.example")
        self.term.wait_for(r"S: 250 ")
        self.enter(f'/send {draft_id} NOTIFY=SUCCESS,FAILURE '
                   f'ENVID="QQ 3+4=7" RET=HDRS')
        self.term.wait_for(rf"draft #{draft_id} sent", timeout=20)
        self.quit()
        cli, r = self.ehlo_send(draft_id, "--notify", "SUCCESS,FAILURE",
                                "--envid", "QQ 3+4=7", "--ret", "HDRS")
        self.assertEqual(r.code, 0, f"{r.stdout}\n{r.stderr}")

        cli_env, cli_msg = self.assertSameTransaction(wb, cli, 0, True)
        # What both sent (RFC 3461: ENVID and ORCPT in xtext).
        self.assertRegex(cli_env[0].decode(),
                         rf"^MAIL FROM:<alice@{DOMAIN}> SIZE=\d+ "
                         r"BODY=8BITMIME RET=HDRS ENVID=QQ\+203\+2B4\+3D7$")
        self.assertEqual(
            [line.decode() for line in cli_env[1:]],
            [f"RCPT TO:<{a}@{DOMAIN}> NOTIFY=SUCCESS,FAILURE "
             f"ORCPT=rfc822;{a}@{DOMAIN}" for a in ("alice", "bob", "list")]
            + ["DATA"])
        self.assertIn(b"\r\n..a line that starts with a dot\r\n", cli_msg)
        # What each recorded (ehlo show --json) is what the server got.
        for session in ("1", "2"):
            self.assertEqual(self.recorded_envelope(session),
                             [line.decode() for line in cli_env])

    def recorded_envelope(self, session):
        """The client's MAIL, RCPT and DATA lines in the history."""
        r = servers.run_ehlo(["show", session, "--json", "--db", self.db])
        self.assertEqual(r.code, 0, r.stderr)
        return [e["text"] for e in json.loads(r.stdout)["events"]
                if e["dir"] == "C" and
                e["text"].startswith(("MAIL ", "RCPT ", "DATA"))]

    def test_a_refused_recipient_all_or_nothing_unless_partial(self):
        # One policy for both (smtp_txn_after_envelope): a refused
        # recipient stops the message for everyone, RSET; PARTIAL
        # (--partial) sends it to the accepted ones.
        wb = self.workbench()
        draft_id = self.compose(
            [f"from alice@{DOMAIN}", f"to alice@{DOMAIN}",
             f"to nosuchuser@{DOMAIN}", "subject refused"], ["hi"])
        self.enter("EHLO client.example")
        self.term.wait_for(r"S: 250 ")
        self.enter(f"/send {draft_id} NOTIFY=FAILURE")
        screen = self.term.wait_for(rf"draft #{draft_id} not sent: 1 of 2 "
                                    r"recipients refused")
        self.term.wait_for(r"RSET\s+250")
        self.assertNotIn("C: DATA", screen)
        self.enter(f"/send {draft_id} NOTIFY=FAILURE PARTIAL")
        self.term.wait_for(rf"draft #{draft_id} sent", timeout=20)
        self.quit()
        refused, r = self.ehlo_send(draft_id, "--notify", "FAILURE")
        self.assertEqual(r.code, 1, f"{r.stdout}\n{r.stderr}")
        partial, r = self.ehlo_send(draft_id, "--notify", "FAILURE",
                                    "--partial")
        self.assertEqual(r.code, 0, f"{r.stdout}\n{r.stderr}")

        cli_env, _ = self.assertSameTransaction(wb, refused, 0)
        self.assertEqual(cli_env[-1], b"RSET")
        cli_env, _ = self.assertSameTransaction(wb, partial, 1)
        self.assertEqual(cli_env[-1], b"DATA")


class AiosmtpdTest(SameBytesCase):
    """aiosmtpd: no PIPELINING (one line per reply), no DSN."""

    @classmethod
    def setUpClass(cls):
        cls.srv = servers.Aiosmtpd()
        cls.addClassCleanup(cls.srv.stop)
        cls.relay = Relay(("127.0.0.1", cls.srv.port))
        cls.addClassCleanup(cls.relay.stop)

    def test_one_line_per_reply_and_dsn_left_out(self):
        wb = self.workbench()
        draft_id = self.compose(
            ["from a@example.org", "to b@example.org", "cc c@example.org",
             "subject no pipelining"], ["hi", ".dot"])
        self.enter("EHLO client.example")
        screen = self.term.wait_for(r"S: 250 ")
        self.assertNotIn("PIPELINING", screen)
        self.enter(f"/send {draft_id} NOTIFY=FAILURE ENVID=x")
        screen = self.term.wait_for(rf"draft #{draft_id} sent", timeout=20)
        self.assertIn("does not offer DSN", screen)
        self.quit()
        cli, r = self.ehlo_send(draft_id, "--notify", "FAILURE",
                                "--envid", "x")
        self.assertEqual(r.code, 0, f"{r.stdout}\n{r.stderr}")
        cli_env, _ = self.assertSameTransaction(wb, cli)
        self.assertRegex(cli_env[0].decode(),
                         r"^MAIL FROM:<a@example\.org> SIZE=\d+$")
        self.assertEqual(cli_env[1:], [b"RCPT TO:<b@example.org>",
                                       b"RCPT TO:<c@example.org>", b"DATA"])
        # One line per reply: MAIL, then each RCPT, arrived alone (a
        # pipelined envelope is one write).
        for session in (wb, cli):
            reads = self.relay.client_reads(session)
            mail = [d for d in reads if b"MAIL FROM" in d]
            self.assertEqual(len(mail), 1, reads)
            self.assertEqual(mail[0].count(b"\r\n"), 1, reads)
        got = [m["rcpt_tos"] for m in self.srv.messages()]
        self.assertEqual(got, [["b@example.org", "c@example.org"]] * 2)

if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
