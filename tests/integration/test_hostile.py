"""ehlo run against the scripted hostile server (tests/hostile/).

One test per case file in tests/hostile/cases/: the server plays the
case's steps, `ehlo run` runs the case's script against it, and the
client must end as the case says (exit status, a clear message, what it
sent and did not send, within the time limit) and never crash or pass a
control character from the server to the terminal.

    EHLO_HOSTILE_CASES=name,name   runs only those cases
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))

import hostile  # noqa: E402
import servers  # noqa: E402


def run_case(case, extra_args=(), env=None, argv_of=None, limit=None):
    """Runs ehlo against a fresh server for case (`ehlo run`, or the
    argv argv_of(server address) gives; killed after limit seconds, by
    default the case's max-time plus 20).  Returns
    (code, stdout_bytes, stdout, stderr, elapsed, server)."""
    server = hostile.Server(case)
    try:
        with tempfile.TemporaryDirectory(prefix="ehlo-hostile-") as home, \
                tempfile.TemporaryFile() as stdin, \
                tempfile.TemporaryFile() as out, \
                tempfile.TemporaryFile() as err:
            full_env = dict(os.environ, NO_COLOR="1", TERM="dumb",
                            HOME=home, XDG_DATA_HOME=home,
                            XDG_CONFIG_HOME=home, XDG_STATE_HOME=home,
                            EHLO_DB=os.path.join(home, "ehlo.db"))
            full_env.pop("EHLO_PASSWORD", None)
            full_env.update(case.env)
            full_env.update(env or {})
            stdin.write(case.script_bytes())
            stdin.seek(0)
            argv = [servers.ehlo_bin(), "run", *case.args, *extra_args,
                    f"127.0.0.1:{server.port}"]
            if argv_of is not None:
                argv = argv_of(f"127.0.0.1:{server.port}")
            start = time.monotonic()
            proc = subprocess.Popen(argv, stdin=stdin, stdout=out,
                                    stderr=err, env=full_env)
            try:
                proc.wait(limit or case.max_time + 20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            elapsed = time.monotonic() - start
            out.seek(0)
            err.seek(0)
            raw = out.read(servers.OUTPUT_LIMIT)
            stderr = err.read(servers.OUTPUT_LIMIT).decode("utf-8",
                                                           "replace")
            db_rows = history_rows(full_env)
    finally:
        server.stop()
    return (proc.returncode, raw, raw.decode("utf-8", "replace"), stderr,
            elapsed, server, db_rows)


def history_rows(env):
    """What the history store holds of the session: (exit status, the
    C:/S: lines of `ehlo show`), or a string saying what went wrong."""
    if not os.path.exists(env["EHLO_DB"]):
        return "no history database was written"
    r = subprocess.run([servers.ehlo_bin(), "history", "--json"],
                       env=env, capture_output=True, timeout=30)
    if r.returncode != 0:
        return f"ehlo history failed: {r.stderr.decode(errors='replace')}"
    sessions = [json.loads(line) for line in r.stdout.splitlines()]
    if len(sessions) != 1:
        return f"{len(sessions)} sessions recorded, expected 1"
    r = subprocess.run([servers.ehlo_bin(), "show", str(sessions[0]["id"])],
                       env=env, capture_output=True, timeout=30)
    if r.returncode != 0 or b"\x1b" in r.stdout:
        return (f"ehlo show failed or printed ESC: "
                f"{r.stderr.decode(errors='replace')}")
    lines = []
    for line in r.stdout.decode("utf-8", "replace").split("\n"):
        m = re.match(r"^\s+\d+\.\d+ ([CS]: .*?)(    \[[^]]*\])?$", line)
        if m:
            lines.append(m.group(1))
    return sessions[0]["exit"], lines


class HostileTest(unittest.TestCase):
    maxDiff = None

    def check(self, case):
        code, raw, stdout, stderr, elapsed, server, rows = run_case(case)
        problems = hostile.result_problems(case, code, stdout, stderr,
                                           elapsed, server)
        problems += hostile.output_problems(raw)
        problems += self.history_problems(code, stdout, rows)
        if problems:
            self.fail(f"case {case.name} ({case.what}):\n  " +
                      "\n  ".join(problems) +
                      f"\nexit status {code}, {elapsed:.1f} s\n"
                      f"--- stdout ---\n{servers._clip(stdout)}"
                      f"--- stderr ---\n{servers._clip(stderr)}"
                      f"--- client sent ---\n"
                      f"{servers._clip(bytes(server.received).decode('latin-1'))}")

    @staticmethod
    def history_problems(code, stdout, rows):
        """The session is in the database up to the fault, closed with
        the exit status: every C:/S: line line mode printed was recorded
        (DESIGN.md section 6)."""
        if isinstance(rows, str):
            return [rows]
        exit_status, recorded = rows
        problems = []
        if exit_status != code:
            problems.append(f"the database says exit {exit_status}, "
                            f"ehlo exited {code}")
        shown = [line for line in stdout.split("\n")
                 if line[:3] in ("C: ", "S: ")]
        if shown != recorded:
            missing = [line for line in shown if line not in recorded]
            problems.append(f"the database holds {len(recorded)} dialogue "
                            f"lines, {len(shown)} were shown; first "
                            f"missing: {missing[:1]!r}")
        return problems


hostile.add_case_tests(HostileTest)

if __name__ == "__main__":
    servers.main()
