"""Drive the workbench in a real terminal: a private tmux server.

Each Term runs one program in a detached tmux session on its own socket
(`tmux -L NAME`), so tests never touch a user's tmux.  Keys go in with
send-keys; the screen comes back with capture-pane, polled until the
expected text appears (DESIGN.md section 8: terminal tests compare real
screens).  Everything is torn down in stop(), also on failure.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import servers  # noqa: E402  (shared helpers: servers, ehlo_bin, skips)


def require_tmux():
    if shutil.which("tmux") is None:
        servers.skip_file("tmux is not installed")


class Term:
    """One program in a tmux pane of width x height."""

    def __init__(self, argv, width=100, height=30, env=None, cwd=None):
        # Unique per Term: a reused name could meet a server still exiting.
        self.sock = f"ehlo-e2e-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.width, self.height = width, height
        full_env = dict(os.environ)
        full_env.update({"TERM": "tmux-256color", "LANG": "C.UTF-8",
                         "LC_ALL": "C.UTF-8"})
        full_env.pop("NO_COLOR", None)
        full_env.update(env or {})
        # The program's exit status is kept for the tests.
        self.status_file = os.path.join(
            servers.tempfile.mkdtemp(prefix="ehlo-e2e-"), "status")
        cmd = " ".join(shlex.quote(a) for a in argv)
        shell = f"{cmd}; echo $? > {shlex.quote(self.status_file)}; " \
                "sleep 600"
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", "t",
                   "-x", str(width), "-y", str(height),
                   "sh", "-c", shell, env=full_env, cwd=cwd)
        self._tmux("set-option", "-g", "status", "off")
        # Detached sessions follow no client: let resize-window decide.
        self._tmux("set-option", "-g", "window-size", "manual")

    def _tmux(self, *args, env=None, cwd=None, check=True):
        return subprocess.run(["tmux", "-L", self.sock] + list(args),
                              env=env, cwd=cwd, check=check,
                              capture_output=True, text=True)

    def send(self, *keys, literal=False):
        """send-keys: literal text (-l) or key names like Enter, Tab, C-c."""
        args = ["send-keys", "-t", "t"]
        if literal:
            args.append("-l")
        self._tmux(*(args + list(keys)))

    def type(self, text):
        self.send(text, literal=True)

    def screen(self, escapes=False):
        args = ["capture-pane", "-p", "-t", "t"]
        if escapes:
            args.append("-e")
        return self._tmux(*args).stdout

    def cursor(self):
        out = self._tmux("display", "-p", "-t", "t",
                         "#{cursor_x} #{cursor_y}").stdout.split()
        return int(out[0]), int(out[1])

    def wait_for(self, pattern, timeout=10.0, absent=False):
        """Poll the screen until pattern (a regex) matches (or, with
        absent, no longer matches); returns the screen or raises."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern, re.M)
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if bool(rx.search(screen)) != absent:
                return screen
            time.sleep(0.05)
        raise AssertionError(
            f"screen never {'lost' if absent else 'showed'} {pattern!r} "
            f"within {timeout}s; last screen:\n{screen}")

    def resize(self, width, height):
        self.width, self.height = width, height
        self._tmux("resize-window", "-t", "t", "-x", str(width),
                   "-y", str(height))

    def exit_status(self, timeout=10.0):
        """The program's exit status once it has ended, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.status_file) as f:
                    text = f.read().strip()
                if text:
                    return int(text)
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        return None

    def pane_pid(self):
        out = self._tmux("display", "-p", "-t", "t", "#{pane_pid}").stdout
        return int(out.strip())

    def stop(self):
        self._tmux("kill-server", check=False)
        shutil.rmtree(os.path.dirname(self.status_file), ignore_errors=True)
