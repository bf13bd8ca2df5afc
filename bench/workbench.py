#!/usr/bin/env python3
"""bench/workbench.py: the workbench in a real terminal (tmux).

Started by bench/bench.py (or alone: workbench.py --ehlo PATH [--quick]).
Uses tests/e2e/tmux.py (a private tmux server per run).

- First frame: from starting `ehlo` (the practice server, in-process) to
  capture-pane showing the greeting "S: 220", polled; beside it the same
  for `sh -c 'echo S: 220'`, which is tmux's own share of that time.
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
import json
import os
import socket
import statistics
import sys
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
    print(f"== first frame x{reps}", flush=True)
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
