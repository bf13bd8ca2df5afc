"""The workbench after a flood (issue 21 item 11).

A server answers EHLO with 250- lines for ever.  Past the reply's line
limit the workbench must close the connection (the server's writes then
fail), say why in the dialogue, show "not connected" in the status bar,
and stop reading: the process uses next to no CPU afterwards, and the
input line still works.
"""

import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import tmux  # noqa: E402
from tmux import Term, servers  # noqa: E402
from test_hostile_tui import ehlo_child, wait_dialogue  # noqa: E402


class Flooder:
    """Greets, waits for EHLO, then writes 250- lines until the client
    goes away (or 30 s pass)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.ended = None  # why the flood stopped
        self.sent = 0
        self.done = threading.Event()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        self.sock.settimeout(20)
        try:
            conn, _ = self.sock.accept()
        except OSError as e:
            self.ended = f"no client: {e}"
            self.done.set()
            return
        try:
            conn.sendall(b"220 flood.example.test ESMTP\r\n")
            conn.settimeout(20)
            got = b""
            while b"\n" not in got:
                got += conn.recv(100)
            block = b"".join(b"250-FLOOD%d\r\n" % i for i in range(1000))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                conn.sendall(block)
                self.sent += len(block)
            self.ended = "still reading after 30 s"
        except OSError as e:
            self.ended = f"closed by the client ({e.__class__.__name__})"
        finally:
            conn.close()
            self.done.set()

    def close(self):
        self.sock.close()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class WorkbenchFloodTest(unittest.TestCase):

    def test_flood_closes_the_connection(self):
        tmux.require_tmux()
        home = tempfile.mkdtemp(prefix="ehlo-e2e-flood-")
        self.addCleanup(shutil.rmtree, home, True)
        server = Flooder()
        self.addCleanup(server.close)
        env = {"HOME": home, "XDG_DATA_HOME": os.path.join(home, "data"),
               "XDG_CONFIG_HOME": os.path.join(home, "config"),
               "EHLO_DB": os.path.join(home, "ehlo.db")}
        t = Term([servers.ehlo_bin(), f"127.0.0.1:{server.port}"], 100, 30,
                 env=env)
        self.addCleanup(t.stop)
        t.wait_for(r"> ?$", timeout=10)
        wait_dialogue(t, "S: 220 flood.example.test ESMTP")
        t.type("EHLO client.example")
        t.send("Enter")
        self.assertTrue(server.done.wait(15), "the flood never stopped")
        self.assertTrue(server.ended.startswith("closed by the client"),
                        server.ended)
        screen = wait_dialogue(t, "reply has too many lines")
        t.wait_for(r"not connected  session #1", timeout=5)
        self.assertEqual(screen.count("reply has too many"), 1, screen)
        # Nothing left to read: the process sleeps.
        pid = ehlo_child(t.pane_pid())
        before = cpu_seconds(pid)
        time.sleep(2)
        self.assertLess(cpu_seconds(pid) - before, 0.2)
        t.type("/quit")
        t.send("Enter")
        status = t.exit_status(timeout=10)
        self.assertIsNotNone(status, "the workbench did not end")


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
