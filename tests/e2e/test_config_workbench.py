"""The workbench with an account of the configuration file, in a real
terminal (tmux): `ehlo -a NAME` connects to the account's host and port
and greets with its domain; plain `ehlo` still opens the practice
server even when the file has an account called default.
"""

import os
import socket
import threading

import tmux
from tmux import servers
import test_workbench


class GreetingServer:
    """Greets, answers EHLO with the name it was sent, records lines."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.lines = []
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                f = conn.makefile("rb")
                conn.sendall(b"220 account.test ESMTP\r\n")
                for line in f:
                    self.lines.append(line.decode(errors="replace").strip())
                    if line.upper().startswith(b"QUIT"):
                        conn.sendall(b"221 bye\r\n")
                        break
                    conn.sendall(b"250 account.test\r\n")
                f.close()

    def close(self):
        self.sock.close()


class AccountWorkbenchTest(test_workbench.WorkbenchCase):

    def setUp(self):
        super().setUp()
        self.srv = GreetingServer()
        self.addCleanup(self.srv.close)
        cfgdir = os.path.join(self.home, "config", "ehlo")
        os.makedirs(cfgdir)
        with open(os.path.join(cfgdir, "config"), "w") as f:
            f.write(f"account work\nhost 127.0.0.1\nport {self.srv.port}\n"
                    "domain client.account.example\n"
                    "account default : work\n")

    def test_account_server(self):
        t = self.start(["-a", "work"])
        t.wait_for(r"S: 220 account\.test ESMTP")
        self.enter(t, "EHLO client.account.example")
        t.wait_for(r"S: 250 account\.test")
        self.assertIn("EHLO client.account.example", self.srv.lines)

    def test_plain_ehlo_stays_practice(self):
        t = self.start([])
        t.wait_for(r"S: 220 practice\.test")
        self.assertEqual(self.srv.lines, [])


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
