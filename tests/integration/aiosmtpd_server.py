"""aiosmtpd peer for the integration tests (run by servers.Aiosmtpd).

    python3 aiosmtpd_server.py CONFIG.json

CONFIG names the work directory, the certificate, the account and three
ports, all served by this one process on loopback:

- "port": plain SMTP; STARTTLS offered; AUTH allowed without TLS;
- "starttls_port": STARTTLS required before MAIL (require_starttls) and
  before AUTH (auth_require_tls);
- "tls_port": implicit TLS.

AUTH PLAIN and LOGIN are aiosmtpd's own; CRAM-MD5 is added here.  Every
accepted message is written to WORK/messages/NNNN.json (envelope and
session facts) and NNNN.eml (the exact content bytes aiosmtpd received,
after it removed the dot-stuffing), the .json last, each renamed into
place, so a reader never sees half a message.  The process prints "ready"
once all listeners are bound and stops on SIGTERM.
"""

import asyncio
import hmac
import itertools
import json
import os
import secrets
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    """Handler: records messages; implements CRAM-MD5."""

    def __init__(self, config):
        self.config = config
        self.outdir = os.path.join(config["workdir"], "messages")
        os.makedirs(self.outdir, exist_ok=True)
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        number = next(self.counter)
        base = os.path.join(self.outdir, f"{number:04d}")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "login": _login(session.auth_data),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "helo": session.host_name,
            # the client's address as the server saw it (--source, a
            # SOCKS proxy's outgoing address)
            "peer": session.peer[0] if session.peer else None,
            "sni": LAST_SNI[0],
            "client_cert": _peer_cn(server),
        }
        _write_atomic(base + ".eml", envelope.original_content)
        _write_atomic(base + ".json",
                      json.dumps(record, indent=1).encode())
        return "250 2.0.0 OK: queued as %04d" % number

    async def auth_CRAM__MD5(self, server, args):
        # RFC 2195: challenge <random@host>, answer "user hex(hmac-md5)".
        challenge = f"<{secrets.token_hex(8)}@{self.config['hostname']}>"
        answer = await server.challenge_auth(challenge)
        if not isinstance(answer, bytes):
            return AuthResult(success=False, handled=True)
        user, _, digest = answer.decode("utf-8", "replace").rpartition(" ")
        expected = hmac.new(self.config["password"].encode(),
                            challenge.encode(), "md5").hexdigest()
        ok = (user == self.config["user"] and
              hmac.compare_digest(digest, expected))
        return AuthResult(success=ok, handled=False,
                          auth_data=LoginPassword(user.encode(), b""))


# The SNI name of the latest handshake (None: none was sent); the tests
# talk to one peer at a time.
LAST_SNI = [None]


def _remember_sni(sslobj, name, context):
    LAST_SNI[0] = name


def _peer_cn(server):
    """The CN of the client certificate the TLS peer presented, or None."""
    sslobj = server.transport.get_extra_info("ssl_object")
    cert = sslobj.getpeercert() if sslobj is not None else None
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def _login(auth_data):
    if isinstance(auth_data, LoginPassword):
        return auth_data.login.decode("utf-8", "replace")
    return None


def _write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def make_authenticator(config):
    user = config["user"].encode()
    password = config["password"].encode()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and
              auth_data.login == user and auth_data.password == password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return authenticator


async def serve(config):
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(config["cert"], config["key"])
    tls.sni_callback = _remember_sni
    # "client_ca": the STARTTLS ports demand a client certificate it
    # signed (implicit TLS stays as it is, for the readiness check).
    starttls_tls = tls
    if config.get("client_ca"):
        starttls_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        starttls_tls.load_cert_chain(config["cert"], config["key"])
        starttls_tls.sni_callback = _remember_sni
        starttls_tls.verify_mode = ssl.CERT_REQUIRED
        starttls_tls.load_verify_locations(config["client_ca"])
    handler = Recorder(config)
    authenticator = make_authenticator(config)
    hosts = config["hosts"]

    def factory(**options):
        def make():
            return SMTP(handler, hostname=config["hostname"],
                        ident="aiosmtpd test peer",
                        data_size_limit=config["data_size_limit"],
                        enable_SMTPUTF8=True, authenticator=authenticator,
                        **options)
        return make

    loop = asyncio.get_running_loop()
    servers = [
        await loop.create_server(
            factory(tls_context=starttls_tls, auth_require_tls=False),
            host=hosts, port=config["port"]),
        await loop.create_server(
            factory(tls_context=starttls_tls, require_starttls=True,
                    auth_require_tls=True),
            host=hosts, port=config["starttls_port"]),
        await loop.create_server(
            # aiosmtpd only knows about STARTTLS: on this port the
            # connection is TLS from the start, so AUTH needs no check.
            factory(auth_require_tls=False),
            host=hosts, port=config["tls_port"], ssl=tls),
    ]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    for server in servers:
        server.close()


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
