"""`ehlo practice --watch` full screen (issue 16 item 6), in tmux: the
teacher's view of a running class server follows a student's session as
it moves on (the stage, the last error), and q leaves with status 0.
"""

import os
import socket

import tmux
from tmux import servers
from test_workbench import WorkbenchCase


class PracticeWatchTest(WorkbenchCase):

    def test_follows_a_student(self):
        env = dict(os.environ, XDG_DATA_HOME=os.path.join(self.home, "data"))
        proc, port = servers.start_practice(env, extra=("--quiet",))
        self.addCleanup(proc.wait)
        self.addCleanup(proc.kill)
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(c.close)
        f = c.makefile("rb")
        self.addCleanup(f.close)
        self.assertTrue(servers.read_reply(f).startswith("220 "))

        def cmd(line):
            c.sendall(line.encode() + b"\r\n")
            return servers.read_reply(f)

        cmd("EHLO anna.student")
        cmd("MAIL FROM:<anna@school.test>")
        self.assertTrue(cmd("RCPT TO:<ghost@practice.test>")
                        .startswith("550"))
        t = self.start(["practice", "--watch"], width=160, height=12)
        screen = t.wait_for(r"anna\.student .* RCPT TO:<ghost@practice\.test>"
                            r" -> 550 5\.1\.1")
        self.assertRegex(screen, r"1 connected")
        self.assertRegex(screen, r" MAIL +no +anna\.student")
        self.assertIn("q quits", screen)
        cmd("RCPT TO:<bob@practice.test>")
        t.wait_for(r" RCPT 1 +no +anna\.student")
        t.send("q")
        self.assertEqual(t.exit_status(), 0)


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
