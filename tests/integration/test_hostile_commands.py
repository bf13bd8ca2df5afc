"""`ehlo send`, `ehlo check` and `ehlo probe` against the scripted
hostile server (tests/hostile/): every scenario meets every command.

The server plays the case written for `ehlo run`; the other commands
talk differently, so the server may hang up on them early, which they
must survive too.  Each must end within its --timeout plus a second,
never crash or pass a control character to the terminal, and end with
the exit status and message the case expects of it (by default: send
and probe 3, check 2 with an "SMTP CRITICAL - reason" line; see
tests/hostile/hostile.py, `on COMMAND ...`).

    EHLO_HOSTILE_CASES=name,name   runs only those cases
"""

import os
import re
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))

import hostile  # noqa: E402
import servers  # noqa: E402
import test_hostile  # noqa: E402

# The --timeout of a case that gives none.
DEFAULT_TIMEOUT = "2"

# What each command prints when it ends badly.
_MESSAGE = {
    "send": ("stderr", re.compile(r"^ehlo: \S", re.M)),
    "check": ("stdout", re.compile(r"^SMTP (OK|WARNING|CRITICAL|UNKNOWN) "
                                   r"- \S", re.M)),
    "probe": ("stdout", re.compile(r"(?i)verdict", re.M)),
    "replay": ("stdout", re.compile(r"^\*: (error|421): \S", re.M)),
}


def argv_for(cmd, case, body):
    timeout = case.timeout() or DEFAULT_TIMEOUT
    conn = [a for a in case.args if a in ("--starttls", "--no-starttls",
                                          "--tls", "--insecure")]
    ehlo = servers.ehlo_bin()

    def argv(server):
        if cmd == "send":
            return [ehlo, "send", *conn, "--timeout", timeout, server,
                    "--from", "a@example.test", "--to", "b@example.test",
                    "--subject", "hostile", "--body", body]
        if cmd == "check":
            return [ehlo, "check", *conn, "--timeout", timeout, server]
        return [ehlo, "probe", "vrfy-expn", server, "--timeout", timeout]
    return argv, float(timeout)


class HostileCommandsTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-hostile-cmd-")
        cls.body = os.path.join(cls.tmp.name, "body.txt")
        with open(cls.body, "w") as f:
            f.write("a hostile server test\n")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_command(self, case, cmd, argv_of=None, timeout=None,
                      env=None):
        """Runs cmd against case's server (argv_of and timeout default
        to argv_for's) and returns (problems, what it printed)."""
        if argv_of is None:
            argv_of, timeout = argv_for(cmd, case, self.body)
        code, raw, stdout, stderr, elapsed, server, _ = \
            test_hostile.run_case(case, argv_of=argv_of, env=env,
                                  limit=timeout + 5)
        want_exit, want_out, want_err = case.expected(cmd)
        problems = hostile.output_problems(raw)
        if elapsed > timeout + 1:
            problems.append(f"took {elapsed:.1f} s, more than --timeout "
                            f"{timeout:g} s plus a second")
        if code != want_exit:
            problems.append(f"exit status {code}, expected {want_exit}")
        if hostile._SANITIZER.search(stderr):
            problems.append("a sanitizer or crash report on stderr")
        secret = dict(case.env, **(env or {})).get("EHLO_PASSWORD")
        for form in servers.secret_forms("alice", secret) if secret else ():
            if form in stdout or form in stderr:
                problems.append(f"the output reveals the secret as {form!r}")
        where, rx = _MESSAGE[cmd]
        if (code != 0 or cmd == "check") and \
                not rx.search(stdout if where == "stdout" else stderr):
            problems.append(f"no {where} line matches {rx.pattern!r}")
        m = re.match(r"SMTP (\w+) - ", stdout)
        if cmd == "check" and m and 0 <= code <= 3 and \
                m.group(1) != ("OK", "WARNING", "CRITICAL", "UNKNOWN")[code]:
            problems.append(f"SMTP {m.group(1)} with exit status {code}")
        for rx in want_out:
            if not rx.search(stdout):
                problems.append(f"no stdout line matches {rx.pattern!r}")
        for rx in want_err:
            if not rx.search(stderr):
                problems.append(f"no stderr line matches {rx.pattern!r}")
        return [f"{cmd}: {p}" for p in problems], (
            f"--- {cmd}: exit {code}, {elapsed:.1f} s ---\n"
            f"{servers._clip(stdout)}{servers._clip(stderr)}")

    def check(self, case):
        problems, shown = [], ""
        for cmd in hostile.COMMANDS:
            p, out = self.check_command(case, cmd)
            problems += p
            if p:
                shown += out
        if problems:
            self.fail(f"case {case.name} ({case.what}):\n  " +
                      "\n  ".join(problems) + "\n" + shown)


hostile.add_case_tests(HostileCommandsTest, " (send, check, probe)")

if __name__ == "__main__":
    servers.main()
