"""The names ehlo puts on the wire, checked by what a scripted server on
loopback received:

- the default EHLO name is this host's FQDN (getaddrinfo with
  AI_CANONNAME), else the address literal of the local end, "[127.0.0.1]"
  or "[IPv6:::1]" (RFC 5321 4.1.4), never a bare short host name;
- a Unicode domain goes as its A-label (IDNA 2008, libidn2) to a server
  that did not offer SMTPUTF8, the dialogue says so and shows the line as
  typed; a server that offers SMTPUTF8 gets the Unicode form; a
  non-ASCII local part is left to SMTPUTF8; a domain IDNA 2008 refuses
  is not sent.
"""

import os
import re
import socket
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))

import hostile  # noqa: E402
import servers  # noqa: E402
from serverbase import ipv6_loopback_available  # noqa: E402

HELO_CASE = r"""
what records the EHLO name
send "220 names.example.test ESMTP\r\n"
expect-line ^EHLO
send "250 names.example.test\r\n"
expect-line ^QUIT
send "221 bye\r\n"
exit 0
"""

IDN_CASE = r"""
what a server {offer} SMTPUTF8
send "220 idn.example.test ESMTP\r\n"
expect-line ^EHLO
send "250-idn.example.test\r\n{caps}250 8BITMIME\r\n"
expect-line ^MAIL
send "250 ok\r\n"
expect-line ^RCPT
send "250 ok\r\n"
expect-line ^RCPT
send "250 ok\r\n"
expect-line ^QUIT
send "221 bye\r\n"
exit 0
"""


SEND_CASE = r"""
what a server without SMTPUTF8 that takes one message
send "220 idn.example.test ESMTP\r\n"
expect-line ^EHLO
send "250-idn.example.test\r\n250 8BITMIME\r\n"
expect-line ^MAIL
send "250 ok\r\n"
expect-line ^RCPT
send "250 ok\r\n"
expect-line ^DATA
send "354 go\r\n"
drain 1
send "250 queued\r\n"
drain 1
send "221 bye\r\n"
exit 0
"""


def expected_helo(local):
    name = socket.gethostname()
    try:
        canon = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM,
                                   flags=socket.AI_CANONNAME)[0][3]
    except socket.gaierror:
        canon = ""
    if "." in canon:
        return canon.rstrip(".")
    if "." in name:
        return name
    return f"[IPv6:{local}]" if ":" in local else f"[{local}]"


class NamesTest(servers.EhloTestCase):

    def serve(self, text, host="127.0.0.1"):
        d = tempfile.mkdtemp(prefix="ehlo-names-")
        path = os.path.join(d, "names.case")
        with open(path, "w") as f:
            f.write(text)
        server = hostile.Server(hostile.Case(path), host=host)
        self.addCleanup(server.stop)
        return server

    def sent(self, server):
        return [line for line in server.client_lines() if line]

    def test_default_helo(self):
        hosts = ["127.0.0.1"] + (["::1"] if ipv6_loopback_available()
                                 else [])
        for host in hosts:
            with self.subTest(host=host):
                server = self.serve(HELO_CASE, host)
                target = f"[{host}]" if ":" in host else host
                r = self.ehlo(["check", "--no-starttls",
                               f"{target}:{server.port}"])
                lines = self.sent(server)
                self.assertTrue(lines, self.transcript(r))
                self.assertEqual(lines[0], f"EHLO {expected_helo(host)}",
                                 self.transcript(r))

    def run_idn(self, offer):
        caps = "250-SMTPUTF8\\r\\n" if offer else ""
        server = self.serve(IDN_CASE.format(
            offer="that offers" if offer else "without", caps=caps))
        r = self.ehlo(["run", f"127.0.0.1:{server.port}"],
                      "EHLO bücher.example\n"
                      "MAIL FROM:<alice@bücher.example>\n"
                      "RCPT TO:<bob@münchen.example>\n"
                      "RCPT TO:<jörg@köln.example>\n"
                      "QUIT\n")
        return r, server

    def test_idn_a_label_without_smtputf8(self):
        r, server = self.run_idn(offer=False)
        self.assertEqual(server.failures, [], self.transcript(r))
        lines = self.sent(server)
        self.assertEqual(lines[0], "EHLO xn--bcher-kva.example")
        self.assertEqual(lines[1], "MAIL FROM:<alice@xn--bcher-kva.example>")
        self.assertEqual(lines[2], "RCPT TO:<bob@xn--mnchen-3ya.example>")
        # A non-ASCII local part needs SMTPUTF8: left as typed.
        self.assertEqual(lines[3].encode("latin-1").decode(),
                         "RCPT TO:<jörg@köln.example>")
        # The dialogue shows the Unicode form and says what was sent.
        self.assertLine(r, r"^C: MAIL FROM:<alice@bücher\.example>$")
        self.assertLine(r, r"^\*: bücher\.example is sent as its A-label "
                           r"xn--bcher-kva\.example: the server did not "
                           r"offer SMTPUTF8")
        self.assertLine(r, r"^\*: münchen\.example is sent as its A-label "
                           r"xn--mnchen-3ya\.example")

    def test_idn_unicode_with_smtputf8(self):
        r, server = self.run_idn(offer=True)
        lines = [line.encode("latin-1").decode() for line in
                 self.sent(server)]
        # The first EHLO goes before the server has said anything.
        self.assertEqual(lines[0], "EHLO xn--bcher-kva.example")
        self.assertEqual(lines[1], "MAIL FROM:<alice@bücher.example>")
        self.assertEqual(lines[2], "RCPT TO:<bob@münchen.example>")
        self.assertNoLine(r, r"münchen\.example is sent as")

    def test_send_idn_without_smtputf8(self):
        """ehlo send: the envelope and the header addresses carry the
        A-label (headers must be ASCII without SMTPUTF8); the display
        name stays Unicode as an encoded-word."""
        server = self.serve(SEND_CASE)
        r = self.ehlo(["send", "--no-starttls", f"127.0.0.1:{server.port}",
                       "--from", "Jörg <joerg@bücher.example>",
                       "--to", "bob@münchen.example", "--subject", "idn"])
        self.assertExit(r, 0)
        self.assertEqual(server.failures, [], self.transcript(r))
        lines = self.sent(server)
        self.assertTrue([line for line in lines if line.startswith(
            "MAIL FROM:<joerg@xn--bcher-kva.example>")], lines)
        self.assertIn("RCPT TO:<bob@xn--mnchen-3ya.example>", lines)
        self.assertIn("To: bob@xn--mnchen-3ya.example", lines)
        self.assertTrue([line for line in lines if line.startswith("From: ")
                         and "<joerg@xn--bcher-kva.example>" in line
                         and "=?utf-8?" in line], lines)
        self.assertLine(r, r"^\*: bücher\.example is sent as its A-label")
        self.assertLine(r, r"^C: MAIL FROM:<joerg@bücher\.example>")

    def test_invalid_idn_not_sent(self):
        server = self.serve(HELO_CASE)
        r = self.ehlo(["run", f"127.0.0.1:{server.port}"],
                      "EHLO client.example\n"
                      "RCPT TO:<a@snow\u2603man.example>\n"
                      "QUIT\n")
        self.assertNotEqual(r.code, 0, self.transcript(r))
        self.assertLine(r, r"snow\u2603man\.example\" is not a valid "
                           r"internationalised domain name", "stderr")
        self.assertFalse([line for line in self.sent(server)
                          if line.startswith("RCPT")])


if __name__ == "__main__":
    servers.main()
