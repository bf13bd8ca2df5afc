"""A scripted hostile SMTP server, driven by case files.

Real servers never produce the faults ehlo must survive (a 1 MB reply
line, a code that changes inside a reply, escape sequences aimed at the
terminal, a byte a second...).  This module plays them from a case file,
one scenario per file in tests/hostile/cases/, and checks how the client
ended.  Only the standard library is used.

Case file format: one directive per line; blank lines and lines starting
with '#' are ignored.  STRING is a double-quoted string with the escapes
\\r \\n \\t \\e (ESC) \\0 \\xNN \\\\ \\"; REGEX is a Python regular
expression running to the end of the line.

  what TEXT             one line saying what the scenario is about
  args ARG...           extra `ehlo run` options (split on blanks)
  env NAME=VALUE        an environment variable for ehlo
  script TEXT           one line of the client's script (TEXT as written,
                        or a STRING when it starts with '"')
  tui                   the scenario also runs in the workbench (tmux)
  tui-type TEXT         what to type in the workbench (default: the
                        script lines); repeatable
  tui-screen REGEX      what the workbench screen must show once the
                        server has done its worst; repeatable

  Server steps, in order (the server handles one connection):
  send STRING           write bytes
  send-bytes N CHAR     write N copies of CHAR (a STRING or a bare char)
  send-lines N STRING   write STRING N times ("%d" becomes the index)
  trickle SECONDS STRING  write STRING one byte at a time, SECONDS apart
  sleep SECONDS         do nothing for a while
  expect-line REGEX     read one client line; it must match (a step
                        that times out or does not match fails the case)
  read-line             read one client line, whatever it is
  recv-any              read whatever bytes arrive first (a TLS
                        ClientHello, say)
  drain SECONDS         read and record whatever arrives for SECONDS
  close                 close the connection (implicit after the last
                        step, after a short drain)

  Assertions about the client:
  exit N                its exit status
  stderr REGEX          some stderr line matches
  stdout REGEX          some stdout line matches
  stdout-not REGEX      no stdout line matches
  sent REGEX            some line the client sent matches
  not-sent REGEX        no line the client sent matches
  max-time SECONDS      it ended within SECONDS (default 10)

  The other commands (`send`, `check`, `probe`, and `replay` of a
  recorded session) meet every scenario too, each within its --timeout
  (the case's, else 2 s) plus a second; by default `send`, `probe` and
  `replay` exit 3 and `check` 2 (CRITICAL).  Where a command ends
  otherwise (the server's script no longer fits it):
  on COMMAND exit N     its exit status
  on COMMAND stdout REGEX / on COMMAND stderr REGEX   a line it printed

Every case also checks, whatever it says: the client did not crash (no
signal, no sanitizer report), stdout holds no ESC, no C1 control (as
UTF-8 or raw) and no control byte other than LF and TAB.
"""

import os
import re
import shlex
import socket
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")

# Seconds a step that reads waits for the client.
STEP_TIMEOUT = 15.0

# The commands besides `run` that meet every case.
COMMANDS = ("send", "check", "probe")

# Commands an `on COMMAND ...` line may name: those, and `replay` (which
# replays a recorded session against every case, in its own test).
ON_COMMANDS = COMMANDS + ("replay",)

_ESCAPES = {"r": b"\r", "n": b"\n", "t": b"\t", "e": b"\x1b", "0": b"\0",
            "\\": b"\\", '"': b'"', "a": b"\x07"}


class CaseError(ValueError):
    """A malformed case file."""


def parse_string(text, where):
    """A double-quoted STRING at the start of text -> (bytes, rest)."""
    if not text.startswith('"'):
        raise CaseError(f"{where}: expected a double-quoted string")
    out = bytearray()
    i = 1
    while i < len(text):
        c = text[i]
        if c == '"':
            return bytes(out), text[i + 1:].strip()
        if c == "\\":
            i += 1
            if i >= len(text):
                break
            e = text[i]
            if e == "x":
                out += bytes([int(text[i + 1:i + 3], 16)])
                i += 3
                continue
            if e not in _ESCAPES:
                raise CaseError(f"{where}: unknown escape \\{e}")
            out += _ESCAPES[e]
        else:
            out += c.encode()
        i += 1
    raise CaseError(f"{where}: unterminated string")


class Case:
    """One parsed case file."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.what = ""
        self.args = []
        self.env = {}
        self.script = []
        self.tui = False
        self.tui_type = []
        self.tui_screen = []
        self.steps = []
        self.exit = None
        self.stderr = []
        self.stdout = []
        self.stdout_not = []
        self.sent = []
        self.not_sent = []
        self.max_time = 10.0
        self.on = {}
        with open(path, encoding="utf-8") as f:
            for n, raw in enumerate(f, 1):
                self._line(raw.rstrip("\n"), f"{self.name}.case:{n}")
        if self.exit is None:
            raise CaseError(f"{self.name}.case: no 'exit' assertion")

    def _line(self, line, where):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return
        word, _, rest = stripped.partition(" ")
        rest = rest.strip()
        if word == "what":
            self.what = rest
        elif word == "args":
            self.args += shlex.split(rest)
        elif word == "env":
            name, _, value = rest.partition("=")
            self.env[name] = value
        elif word == "script":
            text = rest
            if rest.startswith('"'):
                text = parse_string(rest, where)[0].decode("latin-1")
            self.script.append(text)
        elif word == "tui":
            self.tui = True
        elif word == "tui-type":
            self.tui_type.append(rest)
        elif word == "tui-screen":
            self.tui_screen.append(re.compile(rest, re.M))
        elif word in ("send", "trickle", "send-lines", "send-bytes"):
            self.steps.append(self._data_step(word, rest, where))
        elif word in ("sleep", "drain"):
            self.steps.append((word, float(rest)))
        elif word == "expect-line":
            self.steps.append((word, re.compile(rest)))
        elif word in ("read-line", "recv-any", "close"):
            self.steps.append((word, None))
        elif word == "exit":
            self.exit = int(rest)
        elif word in ("stderr", "stdout", "stdout-not", "sent",
                      "not-sent"):
            getattr(self, word.replace("-", "_")).append(re.compile(rest))
        elif word == "max-time":
            self.max_time = float(rest)
        elif word == "on":
            self._on_line(rest, where)
        else:
            raise CaseError(f"{where}: unknown directive {word!r}")

    def _on_line(self, rest, where):
        cmd, _, rest = rest.partition(" ")
        what, _, value = rest.strip().partition(" ")
        if cmd not in ON_COMMANDS or \
                what not in ("exit", "stdout", "stderr"):
            raise CaseError(f"{where}: expected 'on send|check|probe|replay "
                            f"exit|stdout|stderr ...'")
        on = self.on.setdefault(cmd, {"exit": None, "stdout": [],
                                      "stderr": []})
        if what == "exit":
            on["exit"] = int(value)
        else:
            on[what].append(re.compile(value.strip(), re.M))

    def expected(self, cmd):
        """(exit status, stdout regexes, stderr regexes) for cmd."""
        on = self.on.get(cmd, {"exit": None, "stdout": [], "stderr": []})
        code = on["exit"]
        if code is None:
            code = 2 if cmd == "check" else 3
        return code, on["stdout"], on["stderr"]

    def timeout(self):
        """The --timeout the case gives (as a string), or None."""
        if "--timeout" in self.args:
            return self.args[self.args.index("--timeout") + 1]
        return None

    @staticmethod
    def _data_step(word, rest, where):
        if word == "send":
            return (word, parse_string(rest, where)[0])
        count, _, tail = rest.partition(" ")
        if word == "trickle":
            return (word, (float(count), parse_string(tail.strip(),
                                                      where)[0]))
        tail = tail.strip()
        if tail.startswith('"'):
            data = parse_string(tail, where)[0]
        else:
            data = tail.encode()
        if word == "send-bytes":
            return ("send", data * int(count))
        return (word, (int(count), data))

    def script_bytes(self):
        return "".join(line + "\n" for line in self.script).encode("latin-1")


def load_cases(names=None):
    """Every case in tests/hostile/cases, sorted by name (or only names)."""
    cases = []
    for entry in sorted(os.listdir(CASES_DIR)):
        if entry.endswith(".case"):
            case = Case(os.path.join(CASES_DIR, entry))
            if names is None or case.name in names:
                cases.append(case)
    return cases


def add_case_tests(cls, what=""):
    """Gives cls one test_NAME method per case (EHLO_HOSTILE_CASES=a,b
    picks some), each calling cls.check(case); what ends its doc."""
    only = os.environ.get("EHLO_HOSTILE_CASES")
    names = set(only.split(",")) if only else None
    for case in load_cases(names):
        def test(self, case=case):
            self.check(case)
        test.__doc__ = f"{case.name}: {case.what}{what}"
        setattr(cls, "test_" + case.name.replace("-", "_"), test)


class Server:
    """Plays one case's steps to the first connection on a loopback port.

    .received holds every byte the client sent; .failures what went
    wrong on the server side (a step that timed out or did not match).
    """

    def __init__(self, case, host="127.0.0.1"):
        self.case = case
        self.sock = socket.socket(socket.AF_INET6 if ":" in host
                                  else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.failures = []
        self.connected = threading.Event()
        self._buf = bytearray()
        self._conn = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    # -- reading ------------------------------------------------------------

    def _recv(self, timeout):
        """Reads what is there (up to timeout).  Returns False on EOF."""
        self._conn.settimeout(timeout)
        try:
            data = self._conn.recv(65536)
        except socket.timeout:
            return True
        except OSError:
            return False
        if not data:
            return False
        self.received += data
        self._buf += data
        return True

    def _read_line(self):
        deadline = time.monotonic() + STEP_TIMEOUT
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or self._stop.is_set():
                return None
            if not self._recv(min(left, 0.2)):
                if b"\n" not in self._buf:
                    return None
        line, _, rest = bytes(self._buf).partition(b"\n")
        self._buf = bytearray(rest)
        return line.rstrip(b"\r").decode("latin-1")

    def _drain(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stop.is_set():
            if not self._recv(min(0.1, deadline - time.monotonic())):
                return False
        return True

    # -- the steps ----------------------------------------------------------

    def _send(self, data):
        try:
            self._conn.sendall(data)
            return True
        except OSError:
            return False

    def _run(self):
        self.sock.settimeout(STEP_TIMEOUT + 30)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self._conn = conn
        self.connected.set()
        try:
            self._play()
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def _play(self):
        for n, (op, arg) in enumerate(self.case.steps, 1):
            if self._stop.is_set():
                return
            where = f"step {n} ({op})"
            if op == "send":
                if not self._send(arg):
                    return  # the client hung up: that is its right
            elif op == "send-lines":
                count, template = arg
                if b"%d" in template:
                    data = b"".join(template.replace(b"%d", b"%d" % i)
                                    for i in range(count))
                else:
                    data = template * count
                if not self._send(data):
                    return
            elif op == "trickle":
                delay, data = arg
                for i in range(len(data)):
                    if self._stop.is_set() or not self._send(data[i:i + 1]):
                        return
                    self._stop.wait(delay)
            elif op == "sleep":
                self._stop.wait(arg)
            elif op == "drain":
                if not self._drain(arg):
                    return
            elif op == "expect-line":
                line = self._read_line()
                if line is None:
                    self.failures.append(f"{where}: no line from the "
                                         f"client (wanted {arg.pattern!r})")
                    return
                if not arg.search(line):
                    self.failures.append(f"{where}: client sent {line!r}, "
                                         f"wanted {arg.pattern!r}")
                    return
            elif op == "read-line":
                if self._read_line() is None:
                    self.failures.append(f"{where}: no line from the "
                                         "client")
                    return
            elif op == "recv-any":
                self._buf.clear()
                deadline = time.monotonic() + STEP_TIMEOUT
                while not self._buf and time.monotonic() < deadline:
                    if not self._recv(0.2):
                        break
                if not self._buf:
                    self.failures.append(f"{where}: nothing from the client")
                    return
            elif op == "close":
                return
        self._drain(0.5)

    def stop(self):
        self._stop.set()
        self.thread.join(5)
        self.sock.close()

    def client_lines(self):
        text = bytes(self.received).decode("latin-1")
        return [line.rstrip("\r") for line in text.split("\n")]


# ---------------------------------------------------------------------------
# Checks shared by the line-mode and the workbench runners


_C1_UTF8 = re.compile("[\u0080-\u009f]")
_BAD_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|"
                        r"runtime error:|Segmentation fault|core dumped")


def output_problems(stdout_bytes):
    """What is wrong with raw stdout bytes that reach a terminal."""
    problems = []
    if b"\x1b" in stdout_bytes:
        problems.append("stdout holds an ESC byte")
    text = stdout_bytes.decode("utf-8", "replace")
    if _C1_UTF8.search(text):
        problems.append("stdout holds a C1 control character")
    if re.search(rb"[\x80-\x9f]", stdout_bytes) and \
            "\ufffd" in text:
        problems.append("stdout holds a raw C1 byte or invalid UTF-8")
    m = _BAD_CONTROL.search(text)
    if m:
        problems.append(f"stdout holds the control byte {m.group(0)!r}")
    return problems


def result_problems(case, code, stdout, stderr, elapsed, server):
    """Every way a line-mode run broke the case's expectations."""
    problems = list(server.failures)
    if code < 0 or (code > 3 and code != 75):  # 75: EX_TEMPFAIL
        problems.append(f"exit status {code} (a crash or a signal)")
    elif code != case.exit:
        problems.append(f"exit status {code}, expected {case.exit}")
    if _SANITIZER.search(stderr):
        problems.append("a sanitizer or crash report on stderr")
    if elapsed > case.max_time:
        problems.append(f"took {elapsed:.1f} s, more than {case.max_time}")
    for rx in case.stderr:
        if not rx.search(stderr):
            problems.append(f"no stderr line matches {rx.pattern!r}")
    for rx in case.stdout:
        if not re.search(rx.pattern, stdout, re.M):
            problems.append(f"no stdout line matches {rx.pattern!r}")
    for rx in case.stdout_not:
        m = re.search(rx.pattern, stdout, re.M)
        if m:
            problems.append(f"stdout matches {rx.pattern!r}: "
                            f"{m.group(0)[:80]!r}")
    secret = case.env.get("EHLO_PASSWORD")
    if secret:
        import base64
        forms = [secret, base64.b64encode(secret.encode()).decode()]
        for form in forms:
            if form in stdout or form in stderr:
                problems.append(f"the output reveals the secret as {form!r}")
    lines = server.client_lines()
    for rx in case.sent:
        if not any(rx.search(line) for line in lines):
            problems.append(f"the client never sent {rx.pattern!r}")
    for rx in case.not_sent:
        hit = [line for line in lines if rx.search(line)]
        if hit:
            problems.append(f"the client sent {hit[0][:80]!r}, matching "
                            f"{rx.pattern!r}")
    return problems
