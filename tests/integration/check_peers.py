"""Peers for the `ehlo check` tests (test_check_plugin.py,
test_openmetrics.py, test_monitoring_doc.py).

- ScriptedSmtp: a small SMTP server on 127.0.0.1 that misbehaves on
  demand, as real servers will not: a chosen greeting (after a pause),
  silence after the greeting, no reply to QUIT, a hang-up instead of
  one.  It records every line it received (.received).
- run_timed: a command's exit status, output and wall time.

Standard library only; everything listens on loopback.
"""

import socket
import subprocess
import threading
import time


class ScriptedSmtp:
    """greeting: bytes sent first (after pause seconds).  after: what
    follows it: "answer" (EHLO, AUTH-less, 250 to the rest, 221 to
    QUIT), "silent" (reads, never answers), "no-quit-reply" (answers
    all but QUIT, keeps the connection open), "close-at-quit" (hangs
    up on QUIT without a reply).  A context manager."""

    def __init__(self, greeting=b"220 scripted.example.test ESMTP\r\n",
                 after="answer", pause=0.0, ehlo_extra=b""):
        self.greeting = greeting
        self.after = after
        self.pause = pause
        self.ehlo_extra = ehlo_extra
        self.received = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(30)
            if self.pause:
                time.sleep(self.pause)
            conn.sendall(self.greeting)
            for raw in conn.makefile("rb"):
                line = raw.rstrip(b"\r\n").decode("latin-1")
                self.received.append(line)
                verb = line.split(" ")[0].upper()
                if self.after == "silent":
                    continue
                if verb == "QUIT":
                    if self.after == "answer":
                        conn.sendall(b"221 2.0.0 bye\r\n")
                    if self.after != "no-quit-reply":
                        return
                    continue
                if verb == "EHLO":
                    conn.sendall(b"250-scripted.example.test\r\n" +
                                 self.ehlo_extra + b"250 8BITMIME\r\n")
                elif verb == "RCPT" and "unknown" in line:
                    conn.sendall(b"550 5.1.1 no such user\r\n")
                else:
                    conn.sendall(b"250 2.0.0 ok\r\n")
        except OSError:
            pass
        finally:
            if self.after != "no-quit-reply":
                conn.close()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()
        for conn in self._conns:
            try:
                conn.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_timed(argv, env=None, timeout=60):
    """(exit status, stdout, stderr, seconds) of argv."""
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env,
                          timeout=timeout, errors="replace")
    return (proc.returncode, proc.stdout, proc.stderr,
            time.monotonic() - start)
