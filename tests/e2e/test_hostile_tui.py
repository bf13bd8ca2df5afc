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


def wait_dialogue(t, text, timeout=10.0):
    """Waits until the dialogue pane shows text, however it is wrapped."""
    want = re.sub(r"\s", "", text)
    deadline = time.monotonic() + timeout
    while True:
        screen = t.screen()
        flat = "".join(line.split("\u2502")[0]
                       for line in screen.split("\n"))
        if want in re.sub(r"\s", "", flat):
            return screen
        if time.monotonic() > deadline:
            raise AssertionError(f"the dialogue never showed {text!r}:\n"
                                 f"{screen}")
        time.sleep(0.1)


def ehlo_child(pid):
    """The pid of the ehlo process below pid (the pane's shells)."""
    for _ in range(4):
        kids = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(k) for k in f.read().split()]
        for k in kids:
            with open(f"/proc/{k}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0]
            if os.path.basename(argv0) == b"ehlo":
                return k
        if not kids:
            break
        pid = kids[0]
    raise AssertionError("no ehlo process in the pane")


class LocalInputAndSignalsTest(unittest.TestCase):
    """Hostile theme files, and SIGTERM/SIGHUP to the workbench."""

    def setUp(self):
        tmux.require_tmux()
        self.home = tempfile.mkdtemp(prefix="ehlo-e2e-local-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.env = {"HOME": self.home,
                    "XDG_DATA_HOME": os.path.join(self.home, "data"),
                    "XDG_CONFIG_HOME": os.path.join(self.home, "config"),
                    "EHLO_DB": os.path.join(self.home, "ehlo.db")}

    def test_hostile_theme_files(self):
        tdir = os.path.join(self.home, "config", "ehlo", "themes")
        os.makedirs(tdir)
        files = {
            "garbage": bytes(range(256)) * 40,
            "huge": b"client = red\n" * (10 << 20 // 13),
            "nul": b"client = red\x00\nserver = \xff\xfe\x1b]0;PWNED\x07\n",
            "longline": b"client = " + b"1" * 100000 + b"\n",
            "loop": b"inherit = loop\n",
        }
        for name, data in files.items():
            with open(os.path.join(tdir, name + ".theme"), "wb") as f:
                f.write(data)
        for name in files:
            with self.subTest(theme=name):
                t = Term([servers.ehlo_bin(), "--theme", name], 100, 30,
                         env=self.env)
                try:
                    screen = wait_dialogue(t, f"{name}.theme")
                    wait_dialogue(t, "using the default theme")
                    t.wait_for(r"theme dark", timeout=10)
                    self.assertEqual(terminal_problems(
                        t.screen(escapes=True)), [], screen)
                    t.type("/quit")
                    t.send("Enter")
                    self.assertIn(t.exit_status(), (0, 1, 3))
                finally:
                    t.stop()

    def test_sigterm_and_sighup_restore_the_terminal(self):
        for sig in ("TERM", "HUP"):
            with self.subTest(signal=sig):
                before = os.path.join(self.home, f"before-{sig}")
                after = os.path.join(self.home, f"after-{sig}")
                t = Term(["sh", "-c",
                          f"stty -a > {before}; {servers.ehlo_bin()}; "
                          f"echo status=$? > {after}.status; "
                          f"stty -a > {after}"], 100, 30, env=self.env)
                try:
                    t.wait_for(r"S: 220 ", timeout=15)
                    pid = ehlo_child(t.pane_pid())
                    os.kill(pid, getattr(__import__("signal"), "SIG" + sig))
                    deadline = time.monotonic() + 10
                    while not os.path.exists(after) and \
                            time.monotonic() < deadline:
                        time.sleep(0.05)
                    time.sleep(0.2)
                    with open(before) as f1, open(after) as f2:
                        self.assertEqual(f1.read(), f2.read())
                    with open(after + ".status") as f:
                        status = f.read().strip()
                    self.assertRegex(status, r"^status=(0|1|3|129|143)$")
                    # The alternate screen is gone: the shell's view again.
                    t.wait_for(r"stages", timeout=5, absent=True)
                finally:
                    t.stop()


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
