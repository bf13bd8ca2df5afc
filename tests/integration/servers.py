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
The machinery under the servers (process groups, ports, readiness,
certificates, the Server base) is in serverbase.py and the Postfix
instance in postfix.py; this module re-exports what tests use, so a test
imports servers alone.  See DESIGN.md section 8.
"""

import base64
import collections
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

# The machinery (serverbase.py) and the Postfix instance (postfix.py),
# re-exported: tests reach every helper as servers.NAME.
from serverbase import (  # noqa: F401
    READY_TIMEOUT, Cert, PortInUse, Server, StartTimeout, _ChildServer,
    _die_with_parent, _user_ids, _write, fetch_greeting, free_port,
    free_ports, ipv6_loopback_available, make_cert, read_reply, wait_ready)
from postfix import Postfix  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))

# ctest treats this exit status as "skipped" (SKIP_RETURN_CODE 77).
EXIT_SKIP = 77


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
# The practice server


def start_practice(env, stdout=subprocess.DEVNULL, extra=()):
    """Starts `ehlo practice` on a free loopback port (three tries) with
    env and the options in extra; returns (process, port).  The caller
    kills it."""
    for _ in range(3):
        port = free_port()
        proc = subprocess.Popen(
            [ehlo_bin(), "practice", "--listen", f"127.0.0.1:{port}",
             *extra], stdout=stdout, stderr=stdout, env=env,
            preexec_fn=_die_with_parent)
        try:
            wait_ready("127.0.0.1", port, alive=lambda: proc.poll() is None)
            return proc, port
        except RuntimeError:
            proc.kill()
            proc.wait()
    raise RuntimeError("ehlo practice did not start")


# ---------------------------------------------------------------------------
# aiosmtpd


class Aiosmtpd(_ChildServer):
    """aiosmtpd in a child process (aiosmtpd_server.py), any user.

    Ports (127.0.0.1, and ::1 when available): .port plain with STARTTLS
    offered and AUTH allowed without TLS; .starttls_port requiring STARTTLS
    before MAIL and AUTH; .tls_port implicit TLS.  One account user /
    password for AUTH PLAIN, LOGIN and CRAM-MD5.  messages() returns what
    the server really received (with the SNI name and the CN of the
    client certificate).  client_ca (a PEM file): STARTTLS demands a
    client certificate that CA signed.
    """

    kind = "aiosmtpd"

    def __init__(self, user="alice", password="alice-secret-1", cert=None,
                 hostname="aiosmtpd.example.test", data_size_limit=1000000,
                 client_ca=None):
        super().__init__()
        self.client_ca = client_ca
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
            "tls_port": self.tls_port, "client_ca": self.client_ca,
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
            # SIGTERM first: ehlo records the session and flushes what
            # it printed, so the message shows where it was waiting.
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
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
