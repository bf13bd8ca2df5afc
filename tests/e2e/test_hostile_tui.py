"""The workbench against the scripted hostile server, in a real terminal.

Runs the cases of tests/hostile/cases/ marked `tui`: the workbench
connects to the hostile server, the case's lines are typed, and then

- the screen shows what the case's `tui-screen` lines say (a clear
  message) within the case's time limit: no hang past the timeout;
- the workbench is still running (no crash), and its input line still
  takes text;
- nothing the server sent reached the terminal as a control sequence:
  the pane captured with escapes (capture-pane -e) holds only the SGR
  colour sequences tmux itself writes, no C1 control, and the pane title
  is unchanged (an OSC 0 from the server would set it);
- /quit ends it with a normal exit status.

    EHLO_HOSTILE_CASES=name,name   runs only those cases
"""

import os
import re
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))

import hostile  # noqa: E402
import tmux  # noqa: E402
from tmux import Term, servers  # noqa: E402

# What tmux writes with capture-pane -e: SGR sequences only.
_SGR = re.compile(r"\x1b\[[0-9;:]*m")


def terminal_problems(raw):
    problems = []
    rest = _SGR.sub("", raw)
    if "\x1b" in rest:
        at = rest.index("\x1b")
        problems.append(f"the pane holds a control sequence: "
                        f"{rest[at:at + 20]!r}")
    if re.search("[\u0080-\u009f]", rest):
        problems.append("the pane holds a C1 control character")
    if re.search("[\x00-\x08\x0b-\x1f\x7f]", rest):
        problems.append("the pane holds a raw control character")
    return problems


class HostileTuiTest(unittest.TestCase):
    maxDiff = None

    def check(self, case):
        tmux.require_tmux()
        home = tempfile.mkdtemp(prefix="ehlo-e2e-hostile-")
        self.addCleanup(shutil.rmtree, home, True)
        server = hostile.Server(case)
        self.addCleanup(server.stop)
        env = {"HOME": home, "XDG_DATA_HOME": os.path.join(home, "data"),
               "XDG_CONFIG_HOME": os.path.join(home, "config"),
               "EHLO_DB": os.path.join(home, "ehlo.db")}
        env.update(case.env)
        t = Term([servers.ehlo_bin(), *case.args,
                  f"127.0.0.1:{server.port}"], 100, 30, env=env)
        self.addCleanup(t.stop)
        title = t._tmux("display", "-p", "-t", "t",
                        "#{pane_title}").stdout.strip()
        start = time.monotonic()
        t.wait_for(r"> ?$", timeout=10)
        # Give the server its first say (or let the silent ones be).
        server.connected.wait(5)
        time.sleep(0.5)
        for line in case.tui_type or case.script:
            t.type(line)
            t.send("Enter")
            time.sleep(0.3)
        limit = case.max_time + 5
        screen = ""
        for rx in case.tui_screen:
            left = max(1.0, limit - (time.monotonic() - start))
            screen = t.wait_for(rx.pattern, timeout=left)
        problems = []
        status = t.exit_status(timeout=0.1)
        if status is not None:
            problems.append(f"the workbench ended (exit status {status}) "
                            "instead of staying usable")
        raw = t.screen(escapes=True)
        problems += terminal_problems(raw)
        now = t._tmux("display", "-p", "-t", "t",
                      "#{pane_title}").stdout.strip()
        if now != title:
            problems.append(f"the pane title changed: {title!r} -> {now!r}")
        if status is None:
            # The input line still takes text, then /quit ends cleanly.
            t.send("C-u")
            t.type("NOOP")
            try:
                t.wait_for(r"> NOOP\s*$", timeout=5)
            except AssertionError as e:
                problems.append(f"the input line does not take text: {e}")
            t.send("C-u")
            t.type("/quit")
            t.send("Enter")
            status = t.exit_status(timeout=10)
            if status is None or status < 0 or status > 3:
                problems.append(f"/quit gave exit status {status}")
        if problems:
            self.fail(f"case {case.name} ({case.what}):\n  " +
                      "\n  ".join(problems) +
                      f"\n--- screen ---\n{screen or t.screen()}")


def _add_tests():
    only = os.environ.get("EHLO_HOSTILE_CASES")
    names = set(only.split(",")) if only else None
    for case in hostile.load_cases(names):
        if not case.tui:
            continue

        def test(self, case=case):
            self.check(case)
        test.__doc__ = f"{case.name}: {case.what}"
        setattr(HostileTuiTest, "test_" + case.name.replace("-", "_"), test)


_add_tests()

if __name__ == "__main__":
    servers.main()
