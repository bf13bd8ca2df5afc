"""Peers for the troubleshooting-toolkit tests (test_toolkit.py).

- GreetPauseServer: a small SMTP server on 127.0.0.1 that waits before
  its 220 (a greet pause, as sendmail's greet_pause or Postfix's
  postscreen do) and answers a client that talks first with 554 and
  closes, as those servers treat early talkers.
- make_ca / make_leaf: certificate chains made with the openssl CLI: a
  root, an intermediate, leaves signed by either, with any validity
  period (openssl ca -startdate/-enddate, so an expired certificate can
  be made without touching the clock).

Standard library only; everything listens on loopback.
"""

import os
import select
import socket
import subprocess
import threading

import servers


class GreetPauseServer:
    """SMTP with a greet pause.  .port; .early_talkers counts clients that
    spoke before the greeting.  A context manager."""

    def __init__(self, pause=2.5, hostname="pause.example.test"):
        self.pause = pause
        self.hostname = hostname
        self.early_talkers = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        with conn:
            conn.settimeout(10)
            readable, _, _ = select.select([conn], [], [], self.pause)
            if readable:
                self.early_talkers += 1
                conn.sendall(b"554 5.5.1 " + self.hostname.encode() +
                             b": you talked before the greeting\r\n")
                return
            conn.sendall(f"220 {self.hostname} ESMTP\r\n".encode())
            f = conn.makefile("rb")
            for raw in f:
                verb = raw.strip().split(b" ")[0].upper()
                if verb == b"EHLO":
                    conn.sendall(f"250-{self.hostname}\r\n"
                                 "250 8BITMIME\r\n".encode())
                elif verb == b"QUIT":
                    conn.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 2.0.0 ok\r\n")

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


_CA_CONF = """\
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = policy_any
copy_extensions = copy
unique_subject = no
email_in_dn = no
[ policy_any ]
commonName = supplied
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[ v3_leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
"""


def _run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr}")


def _ca_dir(directory, ca):
    """The openssl ca work area of CA cert ca (made on first use)."""
    work = os.path.join(directory, os.path.basename(ca.cert) + ".ca")
    if not os.path.isdir(work):
        os.makedirs(work)
        open(os.path.join(work, "index.txt"), "w").close()
        with open(os.path.join(work, "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(work, "ca.cnf"), "w") as f:
            f.write(_CA_CONF.format(dir=work))
    return work


def _sign(directory, ca, csr, out, extensions, start, end, days):
    work = _ca_dir(directory, ca)
    cmd = ["openssl", "ca", "-batch", "-notext", "-config",
           os.path.join(work, "ca.cnf"), "-cert", ca.cert, "-keyfile",
           ca.key, "-in", csr, "-out", out, "-extensions", extensions]
    if start:
        cmd += ["-startdate", start, "-enddate", end]
    else:
        cmd += ["-days", str(days)]
    _run(cmd)


def make_ca(directory, name, cn, parent=None):
    """A CA certificate: self-signed root, or signed by parent (an
    intermediate).  Returns servers.Cert."""
    key = os.path.join(directory, f"{name}-key.pem")
    cert = os.path.join(directory, f"{name}-cert.pem")
    if parent is None:
        _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
              "-keyout", key, "-out", cert, "-days", "365", "-subj",
              f"/CN={cn}", "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    else:
        csr = os.path.join(directory, f"{name}.csr")
        _run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes",
              "-keyout", key, "-out", csr, "-subj", f"/CN={cn}"])
        _sign(directory, parent, csr, cert, "v3_ca", None, None, 365)
    return servers.Cert(cert, key)


def make_leaf(directory, name, ca, cn="localhost",
              san="DNS:localhost,IP:127.0.0.1", days=30, start=None,
              end=None, chain=()):
    """A server certificate signed by ca.  start/end ("20200101000000Z")
    set the validity exactly (an expired certificate); otherwise it is
    valid for days.  The certificate file holds the leaf followed by the
    certificates in chain (what the server sends).  Returns
    servers.Cert."""
    key = os.path.join(directory, f"{name}-key.pem")
    leaf = os.path.join(directory, f"{name}-leaf.pem")
    cert = os.path.join(directory, f"{name}-cert.pem")
    csr = os.path.join(directory, f"{name}.csr")
    _run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes",
          "-keyout", key, "-out", csr, "-subj", f"/CN={cn}",
          "-addext", f"subjectAltName={san}"])
    _sign(directory, ca, csr, leaf, "v3_leaf", start, end, days)
    with open(cert, "w") as out:
        for path in (leaf, *[c.cert for c in chain]):
            with open(path) as f:
                out.write(f.read())
    os.chmod(key, 0o640)
    return servers.Cert(cert, key)
