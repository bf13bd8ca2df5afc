#!/usr/bin/env python3
"""bench/workbench.py: the workbench in a real terminal (tmux).

Started by bench/bench.py (or alone: workbench.py --ehlo PATH [--quick]).
Uses tests/e2e/tmux.py (a private tmux server per run).

- First frame, directly: `ehlo` on a pty of its own (100x30, TERM
  xterm-256color), from just before it is started to (a) its first byte
  of output and (b) the practice server's greeting "S: 220 practice.test
  ESMTP" drawn (read from the pty master; escape sequences and blanks are
  dropped before matching, so cursor moves and colour changes inside the
  line do not matter); beside it the same for `sh -c 'printf ...'` of
  that line, the floor of starting a process on a pty.
- First frame under tmux (for reference): from starting `ehlo` to
  capture-pane showing "S: 220", polled; beside it the same for
  `sh -c 'echo S: 220'`, which is tmux's own share of that time.
- Typing latency: send-keys of one character to it showing on the input
  line, on a fresh session and after a scripted server has put N lines
  in the dialogue (N = 1,000,000; --quick: 100,000): replies of 1,000
  lines each (999 continuations), one per NOOP, because a reply of more
  than 1,000 lines is a protocol error by design.
- Flood: the server sends 10,000 lines a second (unsolicited 250-
  continuation lines of one long reply per NOOP, paced) while characters
  are typed; the same latency is measured during the flood.

Prints one JSON object on the last line of stdout.
"""

import argparse
import fcntl
import json
import os
import re
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

import tmux  # noqa: E402


class LineServer:
    """127.0.0.1 server: greeting, then each command gets a reply of
    `per` lines; with `rate`, lines are paced to that many a second."""

    def __init__(self, per=1000, rate=None):
        self.per, self.rate = per, rate
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.sent = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _reply(self, c, n):
        body = b"".join(b"250-line %d\r\n" % i for i in range(n - 1))
        body += b"250 done\r\n"
        if self.rate is None:
            c.sendall(body)
            self.sent += n
            return
        lines = body.split(b"\r\n")[:-1]
        chunk = max(1, self.rate // 100)
        t0 = time.monotonic()
        for i in range(0, len(lines), chunk):
            c.sendall(b"".join(x + b"\r\n" for x in lines[i:i + chunk]))
            self.sent += len(lines[i:i + chunk])
            delay = t0 + (i + chunk) / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _serve(self, c):
        try:
            c.sendall(b"220 bench.example ready\r\n")
            f = c.makefile("rb")
            for line in f:
                cmd = line.strip().upper()
                if cmd == b"QUIT":
                    c.sendall(b"221 bye\r\n")
                    break
                self._reply(c, self.per)
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.sock.close()


def poll(t, pred, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = t.screen()
        if pred(s):
            return s
    raise RuntimeError("screen never showed what was expected:\n" +
                       t.screen())


def first_frame(argv, reps, env):
    ts = []
    for _ in range(reps):
        t0 = time.monotonic()
        t = tmux.Term(argv, 100, 30, env=env)
        try:
            poll(t, lambda s: "S: 220" in s, 10)
            ts.append(time.monotonic() - t0)
        finally:
            t.stop()
    return ts


# What the pty path looks for: the practice server's greeting
# (protocol/practice/practice_reply.c, PR_GREETING) as the dialogue pane draws it.
GREETING = "S: 220 practice.test ESMTP"
# Escape sequences: CSI (with private parameters), OSC/DCS/APC strings,
# character-set selections and the other two-byte ones.
_ESC = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]"
                  rb"|\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)?"
                  rb"|\x1b[()*+][ -~]"
                  rb"|\x1b[ -/]*[0-~]")
_BLANK = re.compile(rb"[\x00-\x20\x7f]+")


def _shown(raw, marker):
    """marker drawn in raw terminal output: escapes and blanks (spaces,
    control characters) are dropped on both sides before matching."""
    text = _BLANK.sub(b"", _ESC.sub(b"", raw))
    return _BLANK.sub(b"", marker.encode()) in text


def first_frame_pty(argv, reps, env, marker=GREETING, quit_keys=b"\x04",
                    width=100, height=30, timeout=10):
    """Each rep: argv on a fresh pty of width x height as its controlling
    terminal; seconds from just before Popen to its first byte of output
    and to marker shown. Then quit_keys are typed (Ctrl-D on the empty
    input line quits the workbench; None: SIGTERM), and the program is
    waited for (SIGTERM, then SIGKILL, if it lingers)."""
    full_env = dict(os.environ)
    full_env.update({"TERM": "xterm-256color", "LANG": "C.UTF-8",
                     "LC_ALL": "C.UTF-8"})
    full_env.pop("NO_COLOR", None)
    full_env.pop("TMUX", None)
    full_env.update(env or {})
    firsts, shown = [], []
    for _ in range(reps):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ,
                    struct.pack("HHHH", height, width, 0, 0))
        p = None
        try:
            t0 = time.monotonic()
            # start_new_session: setsid() in the child, then the pty
            # (its fd 0) becomes the session's controlling terminal.
            p = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave,
                env=full_env, start_new_session=True, close_fds=True,
                preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
            os.close(slave)
            slave = None
            raw, t_first, t_shown = b"", None, None
            end = t0 + timeout
            while t_shown is None:
                left = end - time.monotonic()
                if left <= 0:
                    raise RuntimeError(
                        f"{argv[0]}: {marker!r} not shown on the pty "
                        f"within {timeout} s; output:\n{raw[-2000:]!r}")
                r, _, _ = select.select([master], [], [], left)
                if not r:
                    continue
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the slave side is gone
                    chunk = b""
                now = time.monotonic()
                if not chunk:
                    raise RuntimeError(f"{argv[0]}: exited before showing "
                                       f"{marker!r}; output:\n"
                                       f"{raw[-2000:]!r}")
                if t_first is None:
                    t_first = now
                raw += chunk
                if _shown(raw, marker):
                    t_shown = now
            firsts.append(t_first - t0)
            shown.append(t_shown - t0)
        finally:
            if slave is not None:
                os.close(slave)
            if p is not None:
                _pty_stop(p, master, quit_keys)
            os.close(master)
    return firsts, shown


def _pty_stop(p, master, quit_keys, grace=5.0):
    """Ends p: quit_keys typed (or SIGTERM), the master drained meanwhile
    (a full pty would block the program's last writes), then SIGTERM and
    SIGKILL if it is still there after grace seconds."""
    try:
        if quit_keys and p.poll() is None:
            os.write(master, quit_keys)
        elif p.poll() is None:
            p.send_signal(signal.SIGTERM)
    except OSError:
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL, None):
        end = time.monotonic() + grace
        while p.poll() is None and time.monotonic() < end:
            try:
                r, _, _ = select.select([master], [], [], 0.05)
                if r:
                    os.read(master, 65536)
            except OSError:
                time.sleep(0.05)
        if p.poll() is not None or sig is None:
            break
        p.send_signal(sig)
    p.wait()


def input_line(screen):
    rows = [r for r in screen.split("\n") if r.strip()]
    return rows[-1] if rows else ""


def typing(t, n, marker="x"):
    """Latency of n characters: send-keys to the character showing."""
    ts = []
    typed = ""
    for i in range(n):
        ch = "abcdefghij"[i % 10]
        typed += ch
        t0 = time.monotonic()
        t.type(ch)
        poll(t, lambda s: typed in s, 10)
        ts.append(time.monotonic() - t0)
    t.send("C-u")
    return ts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ehlo", required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    ehlo = os.path.abspath(a.ehlo)
    home = tmux.servers.tempfile.mkdtemp(prefix="ehlo-bench-wb-")
    env = {"HOME": home, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home,
           "XDG_STATE_HOME": home, "EHLO_DB": os.path.join(home, "h.db")}
    reps = 5 if a.quick else 11
    out = {}
    print(f"== first frame on a pty x{reps}", flush=True)
    out["first_byte_pty"], out["first_frame_pty"] = first_frame_pty(
        [ehlo], reps, env)
    out["first_byte_pty_floor"], out["first_frame_pty_floor"] = \
        first_frame_pty(["sh", "-c", f"printf '%s ready\\n' '{GREETING}';"
                         " exec sleep 600"], reps, env, quit_keys=None)
    print(f"  ehlo first byte "
          f"{statistics.median(out['first_byte_pty']) * 1000:.1f} ms, "
          f"greeting shown "
          f"{statistics.median(out['first_frame_pty']) * 1000:.1f} ms; "
          f"printf alone "
          f"{statistics.median(out['first_frame_pty_floor']) * 1000:.1f} ms",
          flush=True)
    print(f"== first frame under tmux x{reps}", flush=True)
    out["first_frame"] = first_frame([ehlo], reps, env)
    out["first_frame_tmux"] = first_frame(
        ["sh", "-c", "echo 'S: 220 ready'; exec sleep 600"], reps, env)
    print(f"  ehlo {statistics.median(out['first_frame']) * 1000:.0f} ms, "
          f"tmux alone {statistics.median(out['first_frame_tmux']) * 1000:.0f}"
          " ms", flush=True)

    lines = 100000 if a.quick else 1000000
    srv = LineServer(per=1000)
    t = tmux.Term([ehlo, f"127.0.0.1:{srv.port}"], 100, 30, env=env)
    try:
        poll(t, lambda s: "S: 220" in s, 15)
        out["typing_fresh"] = typing(t, 20)
        print(f"== filling the dialogue with {lines} lines", flush=True)
        t0 = time.monotonic()
        for _ in range(lines // 1000):
            t.type("NOOP")
            t.send("Enter")
        end = time.monotonic() + 600
        while srv.sent < lines and time.monotonic() < end:
            time.sleep(0.2)
        poll(t, lambda s: "S: 250 done" in s, 600)
        time.sleep(1.0)
        out["fill_seconds"] = time.monotonic() - t0
        out["typing_full"] = typing(t, 20)
        t.send("PageUp")
        t0 = time.monotonic()
        t.send("PageUp")
        time.sleep(0.05)
        out["typing_after_scroll"] = typing(t, 10)
    finally:
        t.stop()
        srv.stop()
    print(f"  typing: fresh {statistics.median(out['typing_fresh']) * 1000:.0f}"
          f" ms, with {lines} lines "
          f"{statistics.median(out['typing_full']) * 1000:.0f} ms",
          flush=True)

    srv = LineServer(per=100000, rate=10000)
    t = tmux.Term([ehlo, f"127.0.0.1:{srv.port}"], 100, 30, env=env)
    try:
        poll(t, lambda s: "S: 220" in s, 15)
        t.type("NOOP")
        t.send("Enter")
        time.sleep(1.0)
        s0 = srv.sent
        out["typing_flood"] = typing(t, 20)
        out["flood_lines_during"] = srv.sent - s0
    finally:
        t.stop()
        srv.stop()
    print(f"  typing during a 10,000 lines/s flood "
          f"{statistics.median(out['typing_flood']) * 1000:.0f} ms",
          flush=True)
    out["lines"] = lines
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
