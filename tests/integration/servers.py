"""Real SMTP servers on loopback, and a runner for the ehlo binary.

The integration tests prove `ehlo run` against the servers people really
meet: Postfix (a private instance, needs root), aiosmtpd (a small Python
server, any user) and Postfix's smtp-sink (a fast sink with fault
injection).  Every server here

- lives in its own temporary work directory, removed when it stops;
- listens on a free port on 127.0.0.1 (and ::1 where asked);
- is ready-checked: the constructor returns only once a connection gets
  the 220 greeting, and raises (after cleaning up) when it does not;
- is always stopped: use it as a context manager, or call stop() (tests
  register it with addClassCleanup).  An atexit hook stops what a test
  forgot; a parent-death signal (or, for Postfix, a watchdog process)
  stops the processes even when the test process is killed.

Only the standard library is used here; the aiosmtpd peer runs in a child
process (aiosmtpd_server.py) so this module imports nothing outside it.
See DESIGN.md section 8.
"""

import atexit
import base64
import collections
import ctypes
import glob
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

# Postfix's tools (postfix, postconf, smtp-sink, saslpasswd2) live in sbin,
# which a non-root PATH often lacks.
for _sbin in ("/usr/sbin", "/sbin"):
    if _sbin not in os.environ.get("PATH", "").split(":"):
        os.environ["PATH"] = os.environ.get("PATH", "") + ":" + _sbin

# ctest treats this exit status as "skipped" (SKIP_RETURN_CODE 77).
EXIT_SKIP = 77

# Seconds a server may take to greet after it was started.
READY_TIMEOUT = 30.0


# ---------------------------------------------------------------------------
# Environment checks and the test entry point


def skip_file(reason):
    """Skip the whole test program: ctest reports it as skipped."""
    print(f"SKIP: {reason}", file=sys.stderr, flush=True)
    sys.exit(EXIT_SKIP)


def require_root(what="Postfix"):
    if os.geteuid() != 0:
        skip_file(f"{what} tests need root (a private Postfix instance "
                  "drops privileges to the postfix and nobody users)")


def require_program(name):
    if shutil.which(name) is None:
        skip_file(f"{name} is not installed (or not on PATH)")


def require_aiosmtpd():
    if importlib.util.find_spec("aiosmtpd") is None:
        skip_file(f"aiosmtpd is not importable by {sys.executable} "
                  "(Debian: apt-get install python3-aiosmtpd)")


def ehlo_bin():
    """The binary under test, from EHLO_BIN (ctest sets it)."""
    path = os.environ.get("EHLO_BIN")
    if not path:
        sys.exit("error: EHLO_BIN is not set; run the integration tests "
                 "through ctest, or set EHLO_BIN to the ehlo binary")
    if not os.access(path, os.X_OK):
        sys.exit(f"error: EHLO_BIN={path} is not an executable file; "
                 "build the project first")
    return path


def data_file(name):
    """Path of a file in tests/data (EHLO_TEST_DATA, else next to us)."""
    base = os.environ.get("EHLO_TEST_DATA") or os.path.join(HERE, "..",
                                                            "data")
    return os.path.join(base, name)


def main():
    """Run the unittest program of the calling module.

    A failing or erroring test exits non-zero; the summary line is printed
    by unittest itself.  EHLO_BIN is checked first so a missing binary is
    one clear message rather than a screen of identical failures.  A run
    in which some tests were skipped (no root for Postfix, no swaks...)
    and none failed exits 77, so ctest reports the file as skipped, never
    as passed.
    """
    ehlo_bin()
    prog = unittest.main(module="__main__", verbosity=2, exit=False)
    result = prog.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.skipped:
        print(f"{len(result.skipped)} test(s) skipped: reported as skipped",
              file=sys.stderr)
        sys.exit(77)
    sys.exit(0)


# ---------------------------------------------------------------------------
# Process hygiene


_live_servers = []


def _stop_all_servers():
    for server in list(_live_servers):
        server.stop()


atexit.register(_stop_all_servers)


def _exit_on_sigterm(signum, frame):
    # Turn SIGTERM (ctest timeout, kill) into a normal exit so atexit runs.
    raise SystemExit(128 + signum)


if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option, value):
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


# Daemons that outlive their parent (Postfix's master exits before its
# children) are re-parented to us rather than to PID 1, which in some
# containers never reaps them; _terminate_group reaps them.
_prctl(_PR_SET_CHILD_SUBREAPER, 1)


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when this test process dies,
    even by SIGKILL, so a crashed test leaves no server behind."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


# Runs in a separate process: waits for EOF on stdin (its parent died or
# let go), then terminates process group argv[1].
_WATCHDOG = """
import os, signal, sys, time
sys.stdin.buffer.read()
for sig in (signal.SIGTERM, signal.SIGKILL):
    try:
        os.killpg(int(sys.argv[1]), sig)
    except ProcessLookupError:
        break
    time.sleep(2)
"""


def _start_watchdog(pgid):
    """For daemons that lose the death signal (by switching their
    effective uid, as Postfix's master does): a helper that kills their
    process group once this process is gone.  Kill the helper first when
    stopping the group normally."""
    return subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(pgid)],
                            stdin=subprocess.PIPE, start_new_session=True)


def _kill_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_members(pgid, zombies=False):
    """Pids of process group pgid: the live ones, or with zombies=True
    the zombies that are our children (ours to reap)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, ppid, group = fields[0], int(fields[1]), int(fields[2])
        if group != pgid:
            continue
        if not zombies and state != "Z":
            pids.append(int(entry))
        elif zombies and state == "Z" and ppid == os.getpid():
            pids.append(int(entry))
    return pids


def _terminate_group(pgid, grace=5.0, leader=None):
    """SIGTERM a process group, wait, SIGKILL whatever is left, and reap
    the group's orphans.  leader (a Popen) is reaped through Popen."""
    _kill_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_members(pgid):
        _kill_group(pgid, signal.SIGKILL)
    if leader is not None:
        try:
            leader.wait(timeout=5)
        except subprocess.TimeoutExpired:
            leader.kill()
            leader.wait()
    for pid in _group_members(pgid, zombies=True):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


# ---------------------------------------------------------------------------
# Ports, readiness, certificates


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def free_ports(count, hosts=("127.0.0.1",)):
    """count distinct TCP ports, each free on every address in hosts.

    The ports are free when returned; a server binds them moments later.
    Someone else may grab one in between: servers then fail with "address
    already in use" and Server retries with new ports (PortInUse)."""
    held = []
    ports = []
    try:
        while len(ports) < count:
            first = _bound_socket(hosts[0], 0)
            held.append(first)
            port = first.getsockname()[1]
            try:
                held += [_bound_socket(h, port) for h in hosts[1:]]
            except OSError:
                continue
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


def free_port(host="127.0.0.1"):
    return free_ports(1, (host,))[0]


def _bound_socket(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _port_taken(port, host="127.0.0.1"):
    try:
        _bound_socket(host, port).close()
        return False
    except OSError:
        return True


class StartTimeout(RuntimeError):
    """A server accepted connections but never greeted in time."""


class PortInUse(RuntimeError):
    """A server could not bind a port chosen by free_ports."""


def read_reply(sock_file):
    """Read one SMTP reply (all lines) from a binary file; returns text."""
    lines = []
    while True:
        line = sock_file.readline(4096)
        if not line:
            raise ConnectionError("connection closed before a full reply")
        lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return "\n".join(lines)


def fetch_greeting(host, port, tls=False, timeout=2.0):
    """Connect, read the greeting, send QUIT; returns the greeting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    raw = socket.socket(family, socket.SOCK_STREAM)
    raw.settimeout(timeout)
    try:
        raw.connect((host, port))
        sock = raw
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(raw, server_hostname=None)
        with sock.makefile("rb") as f:
            greeting = read_reply(f)
            try:
                sock.sendall(b"QUIT\r\n")
                read_reply(f)
            except (OSError, ConnectionError):
                pass
        return greeting
    finally:
        raw.close()


def wait_ready(host, port, tls=False, alive=lambda: True,
               timeout=READY_TIMEOUT, describe=lambda: ""):
    """Wait until host:port greets with 220; raises RuntimeError if the
    process dies (alive() false) or the timeout passes."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if not alive():
            details = describe()
            error = PortInUse if "already in use" in details else \
                RuntimeError
            raise error(f"server for port {port} exited during start-up\n"
                        f"{details}")
        try:
            greeting = fetch_greeting(host, port, tls=tls)
            if greeting.startswith("220"):
                return greeting
            last_error = f"unexpected greeting {greeting!r}"
        except (OSError, ConnectionError) as e:
            last_error = e
        time.sleep(0.05)
    raise StartTimeout(f"no 220 greeting on {host}:{port} within "
                       f"{timeout:.0f} s ({last_error})\n{describe()}")


Cert = collections.namedtuple("Cert", "cert key")


def make_cert(directory, cn="localhost", san="DNS:localhost,IP:127.0.0.1",
              name="server"):
    """Self-signed certificate and key made with the openssl CLI.

    Returns Cert(cert=PATH, key=PATH) in directory; the certificate is its
    own trust anchor, so tests pass it to ehlo with --cafile.  For a
    host-name mismatch use cn="wrong.example", san="DNS:wrong.example".
    """
    cert = os.path.join(directory, f"{name}-cert.pem")
    key = os.path.join(directory, f"{name}-key.pem")
    cmd = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
           "-keyout", key, "-out", cert, "-days", "30", "-subj", f"/CN={cn}",
           "-addext", "basicConstraints=critical,CA:TRUE",
           "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,"
                      "keyCertSign"]
    if san:
        cmd += ["-addext", f"subjectAltName={san}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl req failed: {proc.stderr}")
    os.chmod(key, 0o640)
    os.chmod(cert, 0o644)
    return Cert(cert, key)


def _make_workdir(kind):
    # 0755: the postfix and nobody users must traverse it.
    work = tempfile.mkdtemp(prefix=f"ehlo-{kind}-")
    os.chmod(work, 0o755)
    return work


def _write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _wait_for(predicate, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Server base


class Server:
    """Common lifetime handling: a work dir, processes, stop() once."""

    kind = "server"

    def __init__(self):
        self.workdir = _make_workdir(self.kind)
        self._stopped = False
        _live_servers.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _started(self, start, attempts=3):
        """Run start(), again with new ports if one was taken meanwhile or
        the server never greeted (a rare Postfix start-up that hangs: the
        attempt's state goes to stderr); on any other failure stop and
        re-raise."""
        try:
            for attempt in range(attempts):
                try:
                    start()
                    return
                except (PortInUse, StartTimeout) as e:
                    if attempt == attempts - 1:
                        raise
                    print(f"{self.kind}: start-up attempt {attempt + 1} "
                          f"failed, trying again with new ports: {e}",
                          file=sys.stderr)
                    self._shutdown()
        except BaseException:
            self.stop()
            raise

    def _shutdown(self):
        raise NotImplementedError

    def stop(self):
        """Stop every process and remove the work dir (idempotent).

        Set EHLO_KEEP_SERVERS=1 to keep work dirs for post-mortems."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._shutdown()
        finally:
            if self in _live_servers:
                _live_servers.remove(self)
            if os.environ.get("EHLO_KEEP_SERVERS"):
                print(f"kept {self.kind} work dir {self.workdir}",
                      file=sys.stderr)
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)


class _ChildServer(Server):
    """A server that is one child process in its own process group."""

    def _spawn(self, argv, log_name, user=None):
        """Start argv (as user, when given) with output to log_name."""
        self.log_path = os.path.join(self.workdir, log_name)
        with open(self.log_path, "wb") as log:
            # Popen switches user before preexec_fn, so the death signal
            # survives (a process changing its own uid loses it).
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.workdir, user=user,
                start_new_session=True, preexec_fn=_die_with_parent)

    def alive(self):
        return getattr(self, "proc", None) is not None and \
            self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except (OSError, AttributeError):
            return ""

    def _shutdown(self):
        proc = getattr(self, "proc", None)
        if proc is None:
            return
        _terminate_group(proc.pid, leader=proc)


# ---------------------------------------------------------------------------
# Postfix


_POSTFIX_MASTER_CF = """\
# Private test instance: no chroot, loopback only.
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:{port} inet n - n - - smtpd
127.0.0.1:{tls_port} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o syslog_name=postfix/smtps
127.0.0.1:{submission_port} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o syslog_name=postfix/submission
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

_POSTFIX_MAIN_CF = """\
# Private Postfix instance for the ehlo integration tests.
compatibility_level = 3.6
config_directory = {work}/etc
queue_directory = {work}/spool
data_directory = {work}/data
maillog_file = {work}/maillog
maillog_file_prefixes = {work}, /dev/stdout
myhostname = {hostname}
mydomain = {domain}
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
biff = no
smtputf8_enable = yes

# Never deliver anything off this machine, and never rewrite headers, so
# what a test sends is what lands in the Maildir.  Clients that
# authenticated may relay to {relay_domain}, whose mail is discarded (a
# recipient routed to error: is refused at RCPT time, even after AUTH).
default_transport = error:outbound mail is disabled in this test instance
relay_transport = error:outbound mail is disabled in this test instance
transport_maps = inline:{{ {relay_domain}=discard: }}
local_header_rewrite_clients =

# What the workbench tests look at.
message_size_limit = {size_limit}
disable_vrfy_command = no
smtpd_error_sleep_time = 0
smtpd_relay_restrictions = permit_sasl_authenticated reject_unauth_destination
smtpd_banner = $myhostname ESMTP test instance

# Virtual Maildir delivery.
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {work}/mail
virtual_mailbox_maps = inline:{{ {mailboxes} }}
virtual_alias_maps = inline:{{ {{list@{domain}={list_members}}} }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1

# STARTTLS (offered, not required, on the plain port).
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes

# AUTH through Cyrus SASL with a private sasldb.
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {work}/etc/sasl
smtpd_sasl_local_domain = {domain}
smtpd_sasl_security_options = noanonymous
smtpd_tls_auth_only = no
"""

_SASL_SMTPD_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: {sasldb}
mech_list: PLAIN LOGIN CRAM-MD5
"""


class Postfix(Server):
    """A private Postfix instance (needs root).

    users: {"alice": "alice-secret-1", ...}: each gets a SASL secret and a
    virtual Maildir at USER@domain; list@domain expands to all users.
    Ports (all on 127.0.0.1): .port plain (STARTTLS offered, AUTH offered
    without TLS), .tls_port implicit TLS, .submission_port (STARTTLS
    required, AUTH only after TLS).  cert: a Cert, generated when None.
    Relaying is denied (554 5.7.1) except to relay_domain after AUTH;
    mail relayed there is discarded.
    """

    kind = "postfix"

    def __init__(self, users, domain="example.test",
                 hostname="mx.example.test", cert=None,
                 message_size_limit=1000000, relay_domain="relayed.example",
                 extra_main_cf=""):
        super().__init__()
        # Lines appended to main.cf (a later setting overrides an earlier
        # one), e.g. "disable_vrfy_command = yes".
        self.extra_main_cf = extra_main_cf
        self.relay_domain = relay_domain
        self.users = dict(users)
        self.domain = domain
        self.hostname = hostname
        self.message_size_limit = message_size_limit
        self.cert = cert
        self.etc = os.path.join(self.workdir, "etc")
        self.maillog = os.path.join(self.workdir, "maillog")
        self._master = None
        self._started(self._start)

    # -- start-up ----------------------------------------------------------

    def _start(self):
        for name in ("etc", "etc/sasl", "spool", "data", "mail"):
            os.makedirs(os.path.join(self.workdir, name), exist_ok=True)
        if self.cert is None:
            self.cert = make_cert(self.etc)
        self.port, self.tls_port, self.submission_port = free_ports(3)
        open(self.maillog, "w").close()
        self._write_config()
        self._write_sasldb()
        self._prepare_dirs()
        self._run_postfix("check")
        # Run master as our own child (not "postfix start", which detaches
        # it): it makes itself a session and process group leader, and we
        # can reap it, so nothing lingers as a zombie or an orphan.
        env = dict(os.environ, MAIL_CONFIG=self.etc)
        with open(os.path.join(self.workdir, "master.log"), "wb") as log:
            self._master = subprocess.Popen(
                [os.path.join(self._postconf("daemon_directory"), "master"),
                 "-c", self.etc],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        self._watchdog = _start_watchdog(self._master.pid)
        ports = ((self.port, False), (self.tls_port, True),
                 (self.submission_port, False))
        try:
            for port, tls in ports:
                wait_ready("127.0.0.1", port, tls=tls,
                           alive=self._master_alive,
                           describe=self._describe_failure)
        except RuntimeError as e:
            # master's "bind: address already in use" is logged before its
            # logger runs, so it is lost: look for the taken port instead.
            if not self._master_alive() and any(
                    _port_taken(port) for port, _ in ports):
                raise PortInUse(str(e)) from e
            raise

    def _postconf(self, name):
        proc = subprocess.run(["postconf", "-c", self.etc, "-h", name],
                              capture_output=True, text=True, check=True)
        return proc.stdout.strip()

    def _write_config(self):
        nobody = _user_ids("nobody")
        mailboxes = ", ".join(f"{u}@{self.domain}={u}/" for u in self.users)
        members = ",".join(f"{u}@{self.domain}" for u in self.users)
        main_cf = _POSTFIX_MAIN_CF.format(
            work=self.workdir, hostname=self.hostname, domain=self.domain,
            size_limit=self.message_size_limit, mailboxes=mailboxes,
            list_members=members, uid=nobody[0], gid=nobody[1],
            cert=self.cert.cert, key=self.cert.key,
            relay_domain=self.relay_domain)
        if self.extra_main_cf:
            main_cf += "\n# Extra settings of this test.\n" + \
                self.extra_main_cf.strip() + "\n"
        master_cf = _POSTFIX_MASTER_CF.format(
            port=self.port, tls_port=self.tls_port,
            submission_port=self.submission_port)
        sasldb = os.path.join(self.etc, "sasldb2")
        paths = [os.path.join(self.etc, "main.cf"),
                 os.path.join(self.etc, "master.cf"),
                 os.path.join(self.etc, "sasl", "smtpd.conf")]
        for path, text in zip(paths, (main_cf, master_cf,
                                      _SASL_SMTPD_CONF.format(sasldb=sasldb))):
            _write(path, text)
        # A config file younger than a second or two makes Postfix wait
        # for it to "settle"; back-date them.
        past = time.time() - 10
        for path in paths:
            os.utime(path, (past, past))

    def _write_sasldb(self):
        sasldb = os.path.join(self.etc, "sasldb2")
        for user, secret in self.users.items():
            proc = subprocess.run(
                ["saslpasswd2", "-p", "-c", "-f", sasldb, "-u", self.domain,
                 user], input=secret.encode(), capture_output=True)
            if proc.returncode != 0:
                raise RuntimeError("saslpasswd2 failed: " +
                                   proc.stderr.decode(errors="replace"))
        postfix_gid = _user_ids("postfix")[1]
        os.chown(sasldb, 0, postfix_gid)
        os.chmod(sasldb, 0o640)

    def _prepare_dirs(self):
        postfix_ids = _user_ids("postfix")
        nobody_ids = _user_ids("nobody")
        os.chown(os.path.join(self.workdir, "data"), *postfix_ids)
        os.chmod(os.path.join(self.workdir, "data"), 0o700)
        os.chown(os.path.join(self.workdir, "mail"), *nobody_ids)

    def _run_postfix(self, *args):
        proc = subprocess.run(["postfix", "-c", self.etc, *args],
                              capture_output=True, text=True,
                              env=dict(os.environ, MAIL_CONFIG=self.etc))
        if proc.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)} failed "
                               f"(exit {proc.returncode}): {proc.stdout}"
                               f"{proc.stderr}\n{self._describe_failure()}")

    def _master_alive(self):
        return self._master is not None and self._master.poll() is None

    def _describe_failure(self):
        text = "Postfix maillog:\n" + self.log()[-4000:]
        try:
            with open(os.path.join(self.workdir, "master.log"),
                      errors="replace") as f:
                text += "\nmaster's own output:\n" + f.read()[-2000:]
        except OSError:
            pass
        if self._master_alive():
            ps = subprocess.run(["ps", "-o", "pid,stat,wchan:20,args",
                                 "-s", str(self._master.pid)],
                                capture_output=True, text=True)
            text += "\nits processes:\n" + ps.stdout[-2000:]
        return text

    def log(self):
        """The instance's maillog (useful in assertion messages)."""
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- mailboxes ---------------------------------------------------------

    def maildir(self, user, count=1, timeout=5.0):
        """Paths of the messages delivered to user's Maildir, oldest first.

        Waits up to timeout seconds for at least count messages."""
        base = os.path.join(self.workdir, "mail", user)

        def listing():
            paths = glob.glob(os.path.join(base, "new", "*")) + \
                glob.glob(os.path.join(base, "cur", "*"))
            return sorted(paths, key=lambda p: (os.stat(p).st_mtime_ns, p))

        _wait_for(lambda: len(listing()) >= count, timeout)
        return listing()

    def new_messages(self, user, before, timeout=5.0):
        """Messages in user's Maildir not in the collection before,
        waiting up to timeout seconds for at least one."""
        before = set(before)
        paths = self.maildir(user, count=len(before) + 1, timeout=timeout)
        return [p for p in paths if p not in before]

    # -- shutdown ----------------------------------------------------------

    def _shutdown(self):
        if self._master is None:
            return
        self._watchdog.kill()
        self._watchdog.wait()
        # master forwards SIGTERM to its process group, then exits.
        _terminate_group(self._master.pid, leader=self._master)


def _user_ids(name):
    import pwd
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


# ---------------------------------------------------------------------------
# aiosmtpd


class Aiosmtpd(_ChildServer):
    """aiosmtpd in a child process (aiosmtpd_server.py), any user.

    Ports (127.0.0.1, and ::1 when available): .port plain with STARTTLS
    offered and AUTH allowed without TLS; .starttls_port requiring STARTTLS
    before MAIL and AUTH; .tls_port implicit TLS.  One account user /
    password for AUTH PLAIN, LOGIN and CRAM-MD5.  messages() returns what
    the server really received.
    """

    kind = "aiosmtpd"

    def __init__(self, user="alice", password="alice-secret-1", cert=None,
                 hostname="aiosmtpd.example.test", data_size_limit=1000000):
        super().__init__()
        self.user = user
        self.password = password
        self.hostname = hostname
        self.data_size_limit = data_size_limit
        self.cert = cert
        self._started(self._start)

    def _start(self):
        if self.cert is None:
            self.cert = make_cert(self.workdir)
        dual = ipv6_loopback_available()
        self.hosts = ["127.0.0.1", "::1"] if dual else ["127.0.0.1"]
        self.port, self.starttls_port, self.tls_port = \
            free_ports(3, self.hosts)
        config = {
            "workdir": self.workdir, "hostname": self.hostname,
            "cert": self.cert.cert, "key": self.cert.key,
            "user": self.user, "password": self.password,
            "data_size_limit": self.data_size_limit, "hosts": self.hosts,
            "port": self.port, "starttls_port": self.starttls_port,
            "tls_port": self.tls_port,
        }
        config_path = os.path.join(self.workdir, "config.json")
        _write(config_path, json.dumps(config, indent=1), mode=0o600)
        self._spawn([sys.executable,
                     os.path.join(HERE, "aiosmtpd_server.py"), config_path],
                    "aiosmtpd.log")
        for port, tls in ((self.port, False), (self.starttls_port, False),
                          (self.tls_port, True)):
            wait_ready("127.0.0.1", port, tls=tls, alive=self.alive,
                       describe=lambda: "aiosmtpd log:\n" + self.log())

    def messages(self):
        """Every message received so far, oldest first, as dicts with
        mail_from, rcpt_tos, mail_options, login, tls, helo and data (the
        exact content bytes, dot-stuffing removed by the server)."""
        result = []
        outdir = os.path.join(self.workdir, "messages")
        for meta in sorted(glob.glob(os.path.join(outdir, "*.json"))):
            with open(meta) as f:
                record = json.load(f)
            with open(meta[:-len(".json")] + ".eml", "rb") as f:
                record["data"] = f.read()
            result.append(record)
        return result


# ---------------------------------------------------------------------------
# smtp-sink


class SmtpSink(_ChildServer):
    """Postfix's smtp-sink on a free port, with extra options such as
    ["-Q", "RCPT"] (421 and disconnect) or ["-W", "MAIL:5"] (slow reply).

    host "::1" listens on IPv6 loopback instead; port, when given, is used
    instead of a free one (to take over another server's port).  Messages
    are dumped to WORK/mail (see dumps()).
    """

    kind = "smtp-sink"

    def __init__(self, options=(), host="127.0.0.1",
                 hostname="sink.example.test", port=None):
        super().__init__()
        self.options = list(options)
        self.host = host
        self.hostname = hostname
        self.fixed_port = port
        self._started(self._start)

    def _start(self):
        self.port = self.fixed_port or free_port(self.host)
        mail = os.path.join(self.workdir, "mail")
        os.makedirs(mail, exist_ok=True)
        # As root, smtp-sink insists on -u USER and switches to it itself;
        # starting it as nobody instead keeps our death signal in force.
        user = None
        if os.geteuid() == 0:
            user = "nobody"
            os.chown(mail, *_user_ids(user))
        listen = f"[{self.host}]:{self.port}" if ":" in self.host else \
            f"{self.host}:{self.port}"
        argv = ["smtp-sink", "-h", self.hostname, "-d",
                os.path.join(mail, "%Y%m%d%H%M%S."), *self.options,
                listen, "64"]
        self._spawn(argv, "smtp-sink.log", user=user)
        wait_ready(self.host, self.port, alive=self.alive,
                   describe=lambda: "smtp-sink output:\n" + self.log())

    def dumps(self):
        """Contents (bytes) of the transactions smtp-sink dumped, oldest
        first (by modification time: the file names only have seconds,
        and two dumps in the same second sort at random)."""
        result = []
        paths = glob.glob(os.path.join(self.workdir, "mail", "*"))
        for path in sorted(paths, key=lambda p: (os.stat(p).st_mtime_ns,
                                                 p)):
            with open(path, "rb") as f:
                result.append(f.read())
        return result


# ---------------------------------------------------------------------------
# Running ehlo


Result = collections.namedtuple("Result", "code stdout stderr")

# Output beyond this many bytes per stream means ehlo is running away (a
# loop printing forever); it is killed rather than exhausting memory.
OUTPUT_LIMIT = 4 * 1024 * 1024


def run_ehlo(args, script="", env=None, timeout=60):
    """Run $EHLO_BIN with args and script (str or bytes) on stdin.

    Returns Result(code, stdout, stderr) (a tuple: code, out, err = ...),
    output decoded as UTF-8.  env entries are added to a copy of the
    environment; history goes to a throw-away database and colour is off.
    Raises AssertionError when ehlo does not finish within timeout seconds
    or writes more than OUTPUT_LIMIT bytes to stdout or stderr.
    """
    if isinstance(script, str):
        script = script.encode()
    with tempfile.TemporaryDirectory(prefix="ehlo-run-") as home:
        full_env = dict(os.environ, NO_COLOR="1", TERM="dumb",
                        XDG_DATA_HOME=home, XDG_CONFIG_HOME=home,
                        XDG_STATE_HOME=home,
                        EHLO_DB=os.path.join(home, "ehlo.db"))
        full_env.pop("EHLO_PASSWORD", None)
        full_env.update(env or {})
        argv = [ehlo_bin(), *args]
        # Files, not pipes: stdin never blocks us, and the output size can
        # be watched while ehlo runs.
        with tempfile.TemporaryFile() as stdin, \
                tempfile.TemporaryFile() as stdout, \
                tempfile.TemporaryFile() as stderr:
            stdin.write(script)
            stdin.seek(0)
            proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout,
                                    stderr=stderr, env=full_env)
            problem = _watch(proc, timeout, (stdout, stderr))
            out, err = (_read_head(f) for f in (stdout, stderr))
    if problem:
        raise AssertionError(f"{' '.join(argv)} {problem}\n"
                             f"stdout:\n{_clip(out)}\nstderr:\n"
                             f"{_clip(err)}")
    return Result(proc.returncode, out, err)


def _watch(proc, timeout, outputs):
    """Wait for proc; kill it on timeout or runaway output.  Returns None
    or what went wrong."""
    deadline = time.monotonic() + timeout
    problem = None
    while proc.poll() is None:
        if time.monotonic() > deadline:
            problem = f"did not finish within {timeout} s"
        elif any(os.fstat(f.fileno()).st_size > OUTPUT_LIMIT
                 for f in outputs):
            problem = f"wrote more than {OUTPUT_LIMIT} bytes of output"
        if problem:
            proc.kill()
            proc.wait()
            break
        time.sleep(0.01)
    return problem


def _read_head(f):
    f.seek(0)
    return f.read(OUTPUT_LIMIT).decode("utf-8", "replace")


def _clip(text, limit=6000):
    """text, shortened for an assertion message."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters]\n"


def secret_forms(user, secret):
    """Strings that reveal secret: itself and the base64 encodings an
    AUTH PLAIN or LOGIN exchange would carry."""
    u, s = user.encode(), secret.encode()
    payloads = [s, b"\0" + u + b"\0" + s, u + b"\0" + u + b"\0" + s]
    return [secret] + [base64.b64encode(p).decode() for p in payloads]


def script(text):
    """A script written as an indented triple-quoted string."""
    return textwrap.dedent(text).lstrip("\n")


class EhloTestCase(unittest.TestCase):
    """run_ehlo, and assertions that print the dialogue when they fail."""

    maxDiff = None

    def ehlo(self, args, script_text="", **kwargs):
        kwargs.setdefault("timeout", 30)
        return run_ehlo(args, script_text, **kwargs)

    @staticmethod
    def transcript(result):
        return (f"exit status {result.code}\n--- stdout ---\n"
                f"{_clip(result.stdout)}--- stderr ---\n"
                f"{_clip(result.stderr)}")

    def assertExit(self, result, code):
        self.assertEqual(result.code, code,
                         f"expected exit status {code}\n" +
                         self.transcript(result))

    def assertLine(self, result, pattern, stream="stdout"):
        """Some line of stdout (or stderr) matches the regex pattern."""
        text = getattr(result, stream)
        if not re.search(pattern, text, re.MULTILINE):
            self.fail(f"no {stream} line matches {pattern!r}\n" +
                      self.transcript(result))

    def assertNoLine(self, result, pattern, stream="stdout"):
        text = getattr(result, stream)
        match = re.search(pattern, text, re.MULTILINE)
        if match:
            self.fail(f"{stream} unexpectedly matches {pattern!r}: "
                      f"{match.group(0)!r}\n" + self.transcript(result))

    def assertNoSecret(self, result, user, secret):
        """Neither the secret nor its base64 forms appear anywhere."""
        for form in secret_forms(user, secret):
            for stream in ("stdout", "stderr"):
                if form in getattr(result, stream):
                    self.fail(f"{stream} reveals the secret as {form!r}\n" +
                              self.transcript(result))

    def assertBodyDelivered(self, delivered, original):
        """delivered (bytes of a stored message) ends with original (the
        input file), comparing line endings as LF: the server's added
        headers are skipped by finding original's first line."""
        want = original.replace(b"\r\n", b"\n")
        got = delivered.replace(b"\r\n", b"\n")
        first_line = want.split(b"\n", 1)[0] + b"\n"
        at = got.find(first_line)
        self.assertNotEqual(at, -1, "first line of the input "
                            f"{first_line!r} not found in the delivered "
                            f"message:\n{got.decode(errors='replace')}")
        self.assertEqual(got[at:].decode(errors="replace"),
                         want.decode(errors="replace"))
