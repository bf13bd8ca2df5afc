"""The machinery under the test servers: process groups that die with
the test, free ports, the 220 readiness check, self-signed certificates
and the Server base class with its lifetime (a work directory, stop()
once, an atexit hook for what a test forgot).

servers.py builds the servers on it and re-exports what tests use;
import servers, not this module, from a test.
"""

import atexit
import collections
import ctypes
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

# Postfix's tools (postfix, postconf, smtp-sink, saslpasswd2) live in sbin,
# which a non-root PATH often lacks.
for _sbin in ("/usr/sbin", "/sbin"):
    if _sbin not in os.environ.get("PATH", "").split(":"):
        os.environ["PATH"] = os.environ.get("PATH", "") + ":" + _sbin

# Seconds a server may take to greet after it was started.
READY_TIMEOUT = 30.0

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

def _user_ids(name):
    import pwd
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid
