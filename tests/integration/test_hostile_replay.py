"""`ehlo replay` against the scripted hostile server (tests/hostile/):
every scenario meets the replay of a recorded session.

Two sessions are recorded first, against a scripted server that accepts
everything: EHLO, MAIL, RCPT, DATA with a message, QUIT (#1, the shape
most cases' scripts follow) and the same with AUTH PLAIN after EHLO (#2,
replayed for the cases about AUTH, those that give EHLO_PASSWORD).  For
every case `ehlo replay ID HOSTILE_SERVER` then runs with EHLO_PASSWORD
set.  Like `send`, `check` and `probe` (test_hostile_commands.py, whose
checks this shares), replay must end within its --timeout plus a
second, never crash, pass a control character to the terminal or
reveal the secret in any form, and end with the exit status and message
the case expects of it (by default 3 with an "*: error: ..." line; see
tests/hostile/hostile.py, `on replay ...`).

    EHLO_HOSTILE_CASES=name,name   runs only those cases
"""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))

import hostile  # noqa: E402
import servers  # noqa: E402
import test_hostile_commands as commands  # noqa: E402

# The secret replay's AUTH takes from EHLO_PASSWORD: the one the
# hostile cases that echo or probe for it know.
SECRET = "hostile-secret-1"

# A server that accepts the sessions the replay repeats (with AUTH or
# without: {auth} becomes the AUTH steps or nothing).
GOOD_SERVER = r"""what a server that accepts everything
exit 0
send "220 good ready\r\n"
expect-line ^EHLO
send "250-good\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
{auth}
expect-line ^MAIL
send "250 ok\r\n"
expect-line ^RCPT
send "250 ok\r\n"
expect-line ^DATA$
send "354 go\r\n"
expect-line ^Subject
read-line
read-line
expect-line ^\.$
send "250 2.0.0 queued as ABC\r\n"
expect-line ^QUIT
send "221 bye\r\n"
"""
AUTH_STEPS = 'expect-line ^AUTH PLAIN\nsend "235 2.7.0 ok\\r\\n"'

# The sessions recorded, as ids 1 and 2: the one the cases' scripts
# mostly follow, and the same with AUTH PLAIN (for the cases about
# AUTH, those that give EHLO_PASSWORD).
SESSION = servers.script("""
    EHLO client.example
    {auth}
    MAIL FROM:<a@example.test>
    RCPT TO:<b@example.test>
    DATA
    Subject: replayed against a hostile server

    hello
    .
    QUIT
    """)


class HostileReplayTest(commands.HostileCommandsTest):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = os.path.join(cls.tmp.name, "history.db")
        for auth, steps in (("", ""), ("/auth PLAIN alice", AUTH_STEPS)):
            cls.record(SESSION.replace("{auth}\n", auth and auth + "\n"),
                       GOOD_SERVER.replace("{auth}", steps))

    @classmethod
    def record(cls, session, server_case):
        path = os.path.join(cls.tmp.name, "good.case")
        with open(path, "w") as f:
            f.write(server_case)
        server = hostile.Server(hostile.Case(path))
        try:
            r = servers.run_ehlo(["run", "--db", cls.db,
                                  f"127.0.0.1:{server.port}"], session,
                                 env={"EHLO_PASSWORD": SECRET})
        finally:
            server.stop()
        if r.code != 0 or server.failures or "queued as" not in r.stdout:
            raise RuntimeError(f"recording failed ({r.code}, "
                               f"{server.failures}):\n{r.stdout}{r.stderr}")

    def check(self, case):
        timeout = case.timeout() or commands.DEFAULT_TIMEOUT
        session = "2" if "EHLO_PASSWORD" in case.env else "1"

        def argv_of(server):
            return [servers.ehlo_bin(), "replay", session, server, "--db",
                    self.db, "--timeout", timeout]
        problems, shown = self.check_command(
            case, "replay", argv_of, float(timeout),
            env={"EHLO_PASSWORD": SECRET})
        if problems:
            self.fail(f"case {case.name} ({case.what}):\n  " +
                      "\n  ".join(problems) + "\n" + shown)


# One test per case, in place of the inherited send/check/probe ones.
hostile.add_case_tests(HostileReplayTest, " (replay)")

if __name__ == "__main__":
    servers.main()
