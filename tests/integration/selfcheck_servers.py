"""Check the test peers themselves, independently of ehlo.

    /usr/bin/python3 tests/integration/selfcheck_servers.py

Starts each server from servers.py and talks to it with swaks (and, for
replies swaks does not show, a raw socket), asserting what the ehlo
integration tests rely on: ports, STARTTLS, implicit TLS, AUTH with right
and wrong secrets, delivery, the reply codes of the notes, and that the
generated certificates verify (or fail to) for the right names.  Not named
test_*, so ctest does not run it.  Postfix parts need root; they are
skipped otherwise.  Exits non-zero on the first failure.
"""

import os
import socket
import ssl
import subprocess
import sys
import tempfile

import servers

USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}
DOMAIN = "example.test"


def check(condition, what, detail=""):
    if not condition:
        sys.exit(f"FAIL: {what}\n{detail}")
    print(f"ok  {what}")


def swaks(port, *args, tls=None, host="127.0.0.1"):
    """Run swaks against host:port; returns (exit, transcript)."""
    argv = ["swaks", "--server", f"{host}:{port}", "--helo",
            "selfcheck.example.test", *args]
    if tls == "starttls":
        argv.append("--tls")
    elif tls == "implicit":
        argv.append("--tlsc")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stdout + proc.stderr


def smtp_replies(port, commands):
    """Send each command on a plain connection; returns first reply lines."""
    replies = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        f = sock.makefile("rb")
        servers.read_reply(f)
        for command in ["EHLO selfcheck.example.test", *commands]:
            sock.sendall(command.encode() + b"\r\n")
            replies.append(servers.read_reply(f).split("\n")[-1])
        sock.sendall(b"QUIT\r\n")
    return replies[1:]


def tls_verifies(port, cafile, name):
    """Does a STARTTLS handshake verifying name against cafile succeed?"""
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        f = raw.makefile("rb")
        servers.read_reply(f)
        raw.sendall(b"EHLO selfcheck.example.test\r\n")
        servers.read_reply(f)
        raw.sendall(b"STARTTLS\r\n")
        servers.read_reply(f)
        try:
            with ctx.wrap_socket(raw, server_hostname=name):
                return True
        except ssl.SSLCertVerificationError:
            return False


def check_postfix():
    if os.geteuid() != 0:
        print("skip Postfix (needs root)")
        return
    body_path = servers.data_file("dotted-body.eml")
    with open(body_path, "rb") as f:
        body = f.read()
    with servers.Postfix(USERS, domain=DOMAIN) as pf:
        code, out = swaks(pf.port, "--from", "x@elsewhere.example",
                          "--to", f"alice@{DOMAIN}")
        check(code == 0 and pf.maildir("alice"), "Postfix plain delivery",
              out)
        code, out = swaks(pf.port, "--from", "x@elsewhere.example",
                          "--to", "x@elsewhere.example")
        check(code != 0 and "554 5.7.1" in out and
              "Relay access denied" in out, "Postfix relay denied", out)
        code, out = swaks(pf.port, "--quit-after", "EHLO", tls="starttls",
                          *["--tls-verify", "--tls-ca-path", pf.cert.cert])
        check(code == 0 and "TLS started" in out,
              "Postfix STARTTLS verifies with the generated cert", out)
        code, out = swaks(pf.tls_port, "--quit-after", "EHLO",
                          tls="implicit")
        check(code == 0 and "220 " in out, "Postfix implicit TLS port", out)
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            code, out = swaks(pf.port, "--quit-after", "AUTH", "-a", mech,
                              "-au", "alice", "-ap", USERS["alice"])
            check(code == 0 and "235 " in out, f"Postfix AUTH {mech}", out)
            code, out = swaks(pf.port, "--quit-after", "AUTH", "-a", mech,
                              "-au", "alice", "-ap", "wrong-secret")
            check(code != 0 and "535 5.7.8" in out,
                  f"Postfix AUTH {mech} wrong secret -> 535", out)
        replies = smtp_replies(pf.submission_port,
                               ["MAIL FROM:<alice@example.test>"])
        check(replies[0].startswith("530"),
              "Postfix submission port wants STARTTLS first", replies)
        before = pf.maildir("bob", count=0)
        code, out = swaks(pf.submission_port, "--from", f"alice@{DOMAIN}",
                          "--to", f"bob@{DOMAIN}", "-a", "PLAIN", "-au",
                          "alice", "-ap", USERS["alice"], "--data",
                          body_path, tls="starttls")
        new = pf.new_messages("bob", before)
        check(code == 0 and len(new) == 1,
              "Postfix submission: STARTTLS + AUTH + delivery", out)
        with open(new[0], "rb") as f:
            delivered = f.read()
        # swaks ends the data with an extra CRLF; ehlo must not.
        check(b"ESMTPSA" in delivered and
              delivered.replace(b"\r\n", b"\n").rstrip(b"\n").endswith(
                  body.replace(b"\r\n", b"\n").rstrip(b"\n")),
              "Postfix delivered the body file intact (LF)",
              delivered.decode(errors="replace"))
        replies = smtp_replies(pf.port, [
            f"VRFY alice@{DOMAIN}", f"VRFY nobody@{DOMAIN}",
            f"EXPN list@{DOMAIN}", "VERB", "HELP", "RSET", "NOOP",
            "MAIL FROM:<a@x> SIZE=999999999"])
        codes = [r[:9] for r in replies]
        check(codes == ["252 2.0.0", "550 5.1.1", "500 5.5.2", "500 5.5.2",
                        "500 5.5.2", "250 2.0.0", "250 2.0.0", "552 5.3.4"],
              "Postfix VRFY/EXPN/VERB/HELP/RSET/NOOP/SIZE replies", replies)
        code, out = swaks(pf.port, "--pipeline", "--from",
                          "x@elsewhere.example", "--to",
                          f"alice@{DOMAIN},bob@{DOMAIN}")
        check(code == 0, "Postfix accepts a pipelined transaction", out)


def check_aiosmtpd():
    with servers.Aiosmtpd(user="alice", password=USERS["alice"]) as ai:
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            code, out = swaks(ai.port, "--quit-after", "AUTH", "-a", mech,
                              "-au", "alice", "-ap", USERS["alice"])
            check(code == 0 and "235 " in out, f"aiosmtpd AUTH {mech}", out)
            code, out = swaks(ai.port, "--quit-after", "AUTH", "-a", mech,
                              "-au", "alice", "-ap", "wrong-secret")
            check(code != 0 and "535 " in out,
                  f"aiosmtpd AUTH {mech} wrong secret -> 535", out)
        code, out = swaks(ai.starttls_port, "--from", "a@example.test",
                          "--to", "b@example.test")
        check(code != 0 and "530 " in out,
              "aiosmtpd STARTTLS-required port refuses plain MAIL", out)
        code, out = swaks(ai.starttls_port, "--from", "a@example.test",
                          "--to", "b@example.test", "--body", "..x\n.\nend",
                          "-a", "LOGIN", "-au", "alice", "-ap",
                          USERS["alice"], tls="starttls")
        check(code == 0, "aiosmtpd STARTTLS + AUTH + DATA", out)
        code, out = swaks(ai.tls_port, "--from", "a@example.test", "--to",
                          "c@example.test", tls="implicit")
        check(code == 0, "aiosmtpd implicit TLS", out)
        messages = ai.messages()
        check(len(messages) == 2 and messages[0]["tls"] and
              messages[0]["login"] == "alice" and
              messages[0]["rcpt_tos"] == ["b@example.test"] and
              b"\r\n..x\r\n.\r\nend\r\n" in messages[0]["data"],
              "aiosmtpd records envelope and unstuffed bytes", messages)
        check(tls_verifies(ai.port, ai.cert.cert, "127.0.0.1") and
              tls_verifies(ai.port, ai.cert.cert, "localhost"),
              "generated cert verifies for 127.0.0.1 and localhost")
    with tempfile.TemporaryDirectory() as tmp:
        wrong = servers.make_cert(tmp, cn="wrong.example",
                                  san="DNS:wrong.example", name="wrong")
        with servers.Aiosmtpd(cert=wrong) as ai:
            check(not tls_verifies(ai.port, wrong.cert, "127.0.0.1") and
                  tls_verifies(ai.port, wrong.cert, "wrong.example"),
                  "wrong.example cert fails for 127.0.0.1, passes for "
                  "its own name")


def check_smtp_sink():
    with servers.SmtpSink() as sink:
        code, out = swaks(sink.port, "--from", "a@example.test", "--to",
                          "b@example.test")
        check(code == 0 and len(sink.dumps()) == 1, "smtp-sink accepts",
              out)
    with servers.SmtpSink(["-Q", "RCPT"]) as sink:
        code, out = swaks(sink.port, "--from", "a@example.test", "--to",
                          "b@example.test")
        check(code != 0 and "421 " in out, "smtp-sink -Q RCPT gives 421",
              out)
    if servers.ipv6_loopback_available():
        with servers.SmtpSink(host="::1") as sink:
            code, out = swaks(sink.port, "-6", "--from", "a@example.test",
                              "--to", "b@example.test", host="[::1]")
            check(code == 0, "smtp-sink on [::1]", out)


def main():
    check_smtp_sink()
    check_aiosmtpd()
    check_postfix()
    print("all peers behave as the integration tests expect")


if __name__ == "__main__":
    main()
