"""The practice server under a connection flood (issue 21 item 10).

Each test starts its own `ehlo practice` and floods it from Python over
several loopback source addresses (127.0.0.2, 127.0.0.3...):

- past --max-conns a fresh newcomer hears `421 4.7.0` and is closed;
- during a slowloris flood (connections trickling bytes, never a whole
  line) at the cap, a real client is served: the stalest flood
  connection gives way with 421 4.7.0;
- past --max-per-addr one address is refused while another is served;
- with the defaults and a low descriptor limit (ulimit -n 256, below the
  1,000 default cap), a newcomer still hears a reply, never silence;
- the defaults let 250 clients from 127.0.0.1 hold a session at once (a
  class on one address).
"""

import os
import resource
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import servers

try:
    _soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, _hard), _hard))
except (ValueError, OSError):
    pass


def connect(port, source="127.0.0.1", timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0))
    return s


def read_line(s, timeout=5):
    s.settimeout(timeout)
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(1)
        if not chunk:
            break
        data += chunk
    return data.decode("latin-1")


class FloodTest(servers.EhloTestCase):

    def start(self, *args, nofile=None):
        self.home = tempfile.mkdtemp(prefix="ehlo-flood-")
        self.addCleanup(shutil.rmtree, self.home, True)
        env = dict(os.environ, XDG_DATA_HOME=self.home, NO_COLOR="1")
        self.err = open(os.path.join(self.home, "err"), "w+b")
        self.addCleanup(self.err.close)

        def limit():
            servers._die_with_parent()
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.port = servers.free_port()
        self.proc = subprocess.Popen(
            [servers.ehlo_bin(), "practice", "--listen",
             f"127.0.0.1:{self.port}", *args],
            stdout=subprocess.DEVNULL, stderr=self.err, env=env,
            preexec_fn=limit)
        self.addCleanup(self.stop)
        servers.wait_ready("127.0.0.1", self.port,
                           alive=lambda: self.proc.poll() is None)
        self.socks = []
        self.addCleanup(self.close_all)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close_all(self):
        for s in self.socks:
            s.close()

    def log(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def flood(self, n, sources=("127.0.0.2", "127.0.0.3", "127.0.0.4")):
        """n connections that read their greeting and then say nothing."""
        for i in range(n):
            s = connect(self.port, sources[i % len(sources)])
            self.assertTrue(read_line(s).startswith("220 "))
            self.socks.append(s)

    def real_client(self, source="127.0.0.1"):
        c = smtplib.SMTP(timeout=10, source_address=(source, 0))
        code, msg = c.connect("127.0.0.1", self.port)
        self.assertEqual(code, 220, msg)
        code, _ = c.ehlo("student.example.test")
        self.assertEqual(code, 250)
        self.assertEqual(c.noop()[0], 250)
        c.quit()

    def test_past_the_cap_421_at_once(self):
        self.start("--max-conns", "20")
        self.flood(20)
        s = connect(self.port, "127.0.0.5")
        self.assertRegex(read_line(s), r"^421 4\.7\.0 .*Too many connections")
        self.assertEqual(s.recv(10), b"", "not closed after the 421")
        s.close()
        self.assertIsNone(self.proc.poll(), self.log())

    def test_slowloris_gives_way_to_a_real_client(self):
        self.start("--max-conns", "30")
        self.flood(30)
        # Trickle: a byte now and then, never a complete line.
        deadline = time.monotonic() + 1.3
        while time.monotonic() < deadline:
            for s in self.socks:
                s.send(b"N")
            time.sleep(0.25)
        self.real_client()
        # The stalest flood connection was told why and closed.
        told = 0
        for s in self.socks:
            s.settimeout(0.05)
            try:
                if s.recv(200).startswith(b"421 4.7.0"):
                    told += 1
            except (socket.timeout, ConnectionResetError):
                pass
        self.assertGreaterEqual(told, 1, self.log())
        self.assertIn("evicted (connection limit)", self.log())

    def test_per_address_limit(self):
        self.start("--max-per-addr", "5")
        self.flood(5, sources=("127.0.0.7",))
        s = connect(self.port, "127.0.0.7")
        self.assertRegex(read_line(s),
                         r"^421 4\.7\.0 .*from your address")
        s.close()
        self.real_client("127.0.0.8")

    def test_default_cap_below_descriptor_limit(self):
        self.start(nofile=256)
        sources = tuple(f"127.0.1.{i}" for i in range(1, 40))
        answered = 0
        for i in range(300):
            s = connect(self.port, sources[i % len(sources)])
            line = read_line(s, timeout=3)
            self.assertRegex(line, r"^(220|421) ", f"connection {i}: "
                             f"{line!r}\n{self.log()[-2000:]}")
            if line.startswith("220"):
                self.socks.append(s)
                answered += 1
            else:
                s.close()
        self.assertGreater(answered, 100)
        # Past the cap a newcomer was refused, or took the place of a
        # stale connection (on a slow machine, over a second old).
        self.assertIn("at most 192 connections (the descriptor limit is "
                      "256)", self.log())
        self.assertIsNone(self.proc.poll(), self.log())

    def test_defaults_serve_a_class_on_one_address(self):
        self.start()
        for _ in range(250):
            s = connect(self.port)
            self.assertTrue(read_line(s).startswith("220 "))
            s.sendall(b"EHLO student.example.test\r\n")
            self.socks.append(s)
        for s in self.socks:
            while not read_line(s).startswith("250 "):
                pass
        self.real_client()


if __name__ == "__main__":
    servers.main()
