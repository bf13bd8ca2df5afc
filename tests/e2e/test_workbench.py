"""The full-screen workbench in a real terminal (tmux).

Each test starts `ehlo` in its own tmux server, types like a person
(send-keys), and polls the screen (capture-pane) until what a person
would see appears.  Servers are real: the built-in practice server,
smtp-sink, a private Postfix (root only), and a small hostile server.
"""

import os
import re
import shutil
import socket
import tempfile
import threading
import time
import unittest

import tmux
from tmux import Term, servers


class WorkbenchCase(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="ehlo-e2e-home-")
        self.addCleanup(shutil.rmtree, self.home, True)
        self.terms = []

    def tearDown(self):
        for t in self.terms:
            t.stop()

    def start(self, args=(), width=100, height=30, env=None):
        e = {"HOME": self.home,
             "XDG_DATA_HOME": os.path.join(self.home, "data"),
             "XDG_CONFIG_HOME": os.path.join(self.home, "config"),
             "EHLO_DB": os.path.join(self.home, "ehlo.db")}
        e.update(env or {})
        t = Term([servers.ehlo_bin()] + list(args), width, height, env=e)
        self.terms.append(t)
        return t

    def input_line(self, t):
        return t.screen().rstrip("\n").split("\n")[-1]

    def enter(self, t, line):
        t.type(line)
        t.send("Enter")


class PracticeTest(WorkbenchCase):
    """`ehlo` with no server: the practice server, in-process."""

    def test_full_transaction_on_the_practice_server(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        t.wait_for(r"smtp>\s*$")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 ")
        self.enter(t, "MAIL FROM:<me@learner.example>")
        t.wait_for(r"MAIL\s+250")
        self.enter(t, "RCPT TO:<bob@practice.test>")
        t.wait_for(r"RCPT\s+250")
        self.enter(t, "DATA")
        t.wait_for(r"data>")
        self.enter(t, "Subject: hello")
        self.enter(t, "")
        self.enter(t, "..a line that starts with a dot")
        self.enter(t, ".")
        screen = t.wait_for(r"end of data\s+250")
        self.assertIn("C: ..a line that starts with a dot", screen)
        self.enter(t, "QUIT")
        screen = t.wait_for(r"QUIT\s+221")
        # Every stage of the transaction shows in the stage pane.
        for stage in ("greeting", "EHLO", "MAIL", "RCPT", "DATA"):
            self.assertRegex(screen, stage + r"\s+\d{3}")
        self.enter(t, "/quit")
        self.assertEqual(t.exit_status(), 0)

    def test_completion_of_verbs_and_addresses(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 ")
        t.type("MAI")
        t.send("Tab")
        t.wait_for(r"smtp> MAIL FROM:<$")
        # (A name no practice address starts with: those are candidates
        # too, since issue 16.)
        t.type("zoe@elsewhere.example>")
        t.send("Enter")
        t.wait_for(r"MAIL\s+250")
        t.type("RCPT TO:<zo")
        t.send("Tab")
        t.wait_for(r"smtp> RCPT TO:<zoe@elsewhere.example>$")
        t.send("C-c")
        t.wait_for(r"smtp>\s*$")
        # Several matches: a list drawn by the workbench.
        t.type("R")
        t.send("Tab")
        screen = t.wait_for(r"matches")
        self.assertIn("RCPT TO:<", screen)
        self.assertIn("RSET", screen)

    def test_tab_offers_only_the_commands_enter_runs(self):
        """Tab offered /expect and /sleep, and Enter then answered
        "unknown command" (issue 15).  One table now: Tab offers what the
        workbench runs, /expect runs here too, and a command of scripts
        says where it belongs."""
        t = self.start()
        t.wait_for(r"S: 220 ")
        t.wait_for(r"smtp>\s*$")
        t.type("/expe")
        t.send("Tab")
        t.wait_for(r"smtp> /expect\s*$")
        t.type("220")
        t.send("Enter")
        t.wait_for(r"/expect 220: 220 as expected")
        # /sleep is for scripts: Tab does not complete it...
        t.type("/sle")
        t.send("Tab")
        time.sleep(0.5)
        self.assertRegex(self.input_line(t), r"smtp> /sle$")
        # ...and typed out, it says so instead of "unknown command".
        t.type("ep 1")
        t.send("Enter")
        screen = t.wait_for(r"/sleep is for scripts; in the workbench just")
        self.assertNotIn("unknown", screen)
        self.enter(t, "/nosuch")
        t.wait_for(r'unknown command "/nosuch"')

    def test_rule_break_needs_confirmation(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "RCPT TO:<bob@practice.test>")
        screen = t.wait_for(r"press Enter again")
        self.assertNotIn("C: RCPT", screen)
        t.send("Enter")
        t.wait_for(r"C: RCPT TO:<bob@practice.test>")
        t.wait_for(r"RCPT\s+503")

    def test_explanation_popup_and_stage_selection(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 ")
        self.enter(t, "MAIL FROM:<me@learner.example>")
        t.wait_for(r"MAIL\s+250")
        self.enter(t, "RCPT TO:<unknown@practice.test>")
        t.wait_for(r"RCPT\s+550")
        self.enter(t, "/explain")
        screen = t.wait_for(r"Esc closes")
        self.assertRegex(screen, r"550")
        t.send("Escape")
        t.wait_for(r"Esc closes", absent=True)
        # F2 selects stages; Enter explains the selected one.
        t.send("F2")
        t.wait_for(r"Enter explains")
        t.send("Up")
        t.send("Enter")
        screen = t.wait_for(r"Esc closes")
        self.assertIn("MAIL", screen)
        t.send("Escape")
        t.send("Escape")
        t.wait_for(r"F2 to select")
        # F4 selects dialogue lines; the last one is the 550 reply.
        t.send("F4")
        t.wait_for(r"Enter explains")
        t.send("Enter")
        screen = t.wait_for(r"Esc closes")
        self.assertRegex(screen, r"5\.1\.1|550")
        t.send("Escape")
        t.send("Escape")
        t.wait_for(r"F4 to select")

    def test_resize_and_too_small(self):
        t = self.start(width=80, height=24)
        t.wait_for(r"S: 220 ")
        t.type("NOOP")
        t.resize(200, 60)
        # The input line moves to the new last row without a keypress.
        screen = t.wait_for(r"\A([^\n]*\n){59}smtp> NOOP\s*\Z")
        self.assertIn("stages", screen.split("\n")[0])
        t.resize(40, 8)
        t.wait_for(r"terminal too small")
        t.resize(80, 24)
        t.wait_for(r"smtp> NOOP$")
        t.send("Enter")
        t.wait_for(r"NOOP\s+250")

    def test_theme_switch_live(self):
        t = self.start(["--theme", "dark"])
        t.wait_for(r"S: 220 ")
        t.wait_for(r"theme dark")
        t.type("/theme l")
        t.send("Tab")
        t.wait_for(r"smtp> /theme light")
        t.send("Enter")
        t.wait_for(r"theme light")
        self.enter(t, "/theme no-such-theme")
        screen = t.wait_for(r"no-such-theme")
        self.assertIn("theme light", screen)

    def test_bad_theme_file_falls_back(self):
        tdir = os.path.join(self.home, "config", "ehlo", "themes")
        os.makedirs(tdir)
        with open(os.path.join(tdir, "broken.theme"), "w") as f:
            f.write("client = purpel\n")
        t = self.start(["--theme", "broken"])
        screen = t.wait_for(r"unknown colour \"purpel\"")
        self.assertIn("broken.th", screen)   # file:line, maybe wrapped
        t.wait_for(r"theme dark")

    def test_session_recorded_and_input_history_kept(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO remembered.example")
        t.wait_for(r"S: 250 ")
        screen = t.wait_for(r"session #\d+")
        self.enter(t, "/quit")
        self.assertEqual(t.exit_status(), 0)
        # The session is in the database, with what was on screen.
        env = dict(os.environ, HOME=self.home,
                   EHLO_DB=os.path.join(self.home, "ehlo.db"))
        out = servers.subprocess.run(
            [servers.ehlo_bin(), "history", "--json"], env=env,
            capture_output=True, text=True, check=True).stdout
        self.assertIn("127.0.0.1", out)
        # A new workbench recalls the line with Up.
        t2 = self.start()
        t2.wait_for(r"S: 220 ")
        t2.send("Up")
        t2.wait_for(r"smtp> /quit")
        t2.send("Up")
        t2.wait_for(r"smtp> EHLO remembered.example")

    def test_history_lists_sessions_spooled_meanwhile(self):
        """An `ehlo run` while the workbench is open spools its session
        (history/hist_spool.c); /history in the workbench imports it."""
        db = os.path.join(self.home, "ehlo.db")
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "/quit")
        self.assertEqual(t.exit_status(), 0)
        t2 = self.start()
        screen = t2.wait_for(r"practice server 127\.0\.0\.1:\d+")
        addr = re.search(r"practice server (127\.0\.0\.1:\d+)",
                         screen).group(1)
        r = servers.run_ehlo(["run", addr], "EHLO spooled.example\nQUIT\n",
                             env={"HOME": self.home, "EHLO_DB": db})
        self.assertEqual(r.code, 0, r.stderr)
        self.assertEqual(len(os.listdir(db + "-spool")), 1)
        self.enter(t2, "/history")
        screen = t2.wait_for(r"#3 ")
        self.assertIn("newest first", screen)
        self.assertEqual(os.listdir(db + "-spool"), [])

    def test_history_browser_and_playback(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO first.example")
        t.wait_for(r"S: 250 ")
        self.enter(t, "VRFY bob")
        t.wait_for(r"VRFY\s+25\d")
        self.enter(t, "/quit")
        self.assertEqual(t.exit_status(), 0)
        t2 = self.start()
        t2.wait_for(r"S: 220 ")
        self.enter(t2, "/history")
        screen = t2.wait_for(r"newest first")
        self.assertRegex(screen, r"#1 ")
        t2.send("Escape")
        self.enter(t2, "/history VRFY")
        t2.wait_for(r"#1 ")
        t2.send("Escape")
        self.enter(t2, "/open 1")
        screen = t2.wait_for(r"session #1 .*read-only")
        self.assertIn("C: EHLO first.example", screen)
        self.assertRegex(screen, r"VRFY\s+25\d")
        # Step playback starts over with the first event only.
        t2.send("F5")
        screen = t2.wait_for(r"C: VRFY bob", absent=True)
        t2.send("F6")
        t2.wait_for(r"C: VRFY bob", timeout=15)
        self.enter(t2, "/close")
        t2.wait_for(r"read-only", absent=True)
        screen = t2.wait_for(r"practice server 127\.0\.0\.1:\d+")
        addr = re.search(r"practice server (127\.0\.0\.1:\d+)",
                         screen).group(1)
        # Replay it live against this practice server: same replies.
        self.enter(t2, f"/replay 1 {addr}")
        screen = t2.wait_for(r"replay of session #1: exit 0",
                             timeout=20)

    def test_compose_save_reopen_and_send_a_draft(self):
        attach = os.path.join(self.home, "notes.txt")
        with open(attach, "w") as f:
            f.write("attached text\n")
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "/draft new")
        t.wait_for(r"draft #\d+")
        self.enter(t, "/draft from Me <me@learner.example>")
        self.enter(t, "/draft to bob@practice.test")
        self.enter(t, "/draft subject Grüße from the workbench")
        # The path completes like a shell's: type a prefix, press Tab.
        t.type(f"/draft attach {attach[:-6]}")
        t.send("Tab")
        t.wait_for(rf"smtp> /draft attach {re.escape(attach)}\s*$")
        t.send("Enter")
        t.wait_for(r"Attach:")
        self.enter(t, "/draft body")
        t.wait_for(r"body>")
        self.enter(t, "Hello Bob,")
        self.enter(t, ".a line with a dot")
        self.enter(t, ".")
        screen = t.wait_for(r"Body:\s+2 lines")
        draft_id = re.search(r"draft #(\d+)", screen).group(1)
        self.enter(t, "/draft show")
        # Wait for the body line itself: tmux may show the popup half
        # drawn (its title and headers before its body).
        screen = t.wait_for(r"as it will be sent(.|\n)*\.a line with a dot")
        self.assertRegex(screen, r"(?i)Subject: =\?utf-8\?")
        t.send("Escape")
        self.enter(t, "/quit")
        self.assertEqual(t.exit_status(), 0)
        # After a restart the draft is still there; send it.
        t2 = self.start()
        t2.wait_for(r"S: 220 ")
        self.enter(t2, "/drafts")
        t2.wait_for(rf"#{draft_id}\s")
        t2.send("Escape")
        self.enter(t2, f"/draft open {draft_id}")
        t2.wait_for(r"Subject:\s+Grüße")
        self.enter(t2, "EHLO learner.example")
        t2.wait_for(r"S: 250 ")
        self.enter(t2, "/send")
        t2.wait_for(rf"draft #{draft_id} sent", timeout=15)
        self.enter(t2, "/inbox")
        screen = t2.wait_for(r"practice inbox")
        self.assertRegex(screen, r"1\s+bob")
        t2.send("Escape")
        self.enter(t2, "/inbox 1")
        screen = t2.wait_for(r"message 1 for bob")
        self.assertIn("multipart/mixed", screen)

    def test_inbox_and_lesson_pane(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "/lesson")
        t.wait_for(r"Esc closes")
        t.send("Escape")
        self.enter(t, "/lesson data")
        t.wait_for(r"Esc closes")
        t.send("Escape")
        t.wait_for(r"lesson: ")
        for line in ("EHLO learner.example", "MAIL FROM:<me@learner.example>",
                     "RCPT TO:<bob@practice.test>", "DATA",
                     "Subject: lesson", "", "hi", "."):
            self.enter(t, line)
        t.wait_for(r"end of data\s+250")
        self.enter(t, "/inbox")
        screen = t.wait_for(r"practice inbox")
        self.assertRegex(screen, r"1\s+bob")
        t.send("Escape")
        self.enter(t, "/inbox 1")
        screen = t.wait_for(r"message 1 for bob")
        self.assertIn("Subject: lesson", screen)

    def test_no_color_means_no_colour(self):
        t = self.start(env={"NO_COLOR": "1"})
        t.wait_for(r"S: 220 ")
        self.enter(t, "RCPT TO:<x@practice.test>")
        t.wait_for(r"press Enter again")
        raw = t.screen(escapes=True)
        # Attributes (bold, reverse...) are fine; colour SGRs are not.
        self.assertNotRegex(raw, r"\x1b\[[0-9;]*(3[0-7]|4[0-7]|38;5|48;5)"
                                 r"[;m]")

    def test_slow_server_does_not_freeze_typing(self):
        t = self.start(["--timeout", "30"])
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO learner.example")
        t.wait_for(r"S: 250 ")
        self.enter(t, "MAIL FROM:<me@learner.example>")
        t.wait_for(r"MAIL\s+250")
        self.enter(t, "RCPT TO:<slow@practice.test>")
        t.wait_for(r"C: RCPT TO:<slow@practice.test>")
        t.type("typing while the server thinks")
        t.wait_for(r"smtp> typing while the server thinks$", timeout=3)

    def test_sigterm_restores_the_terminal(self):
        before = os.path.join(self.home, "before")
        after = os.path.join(self.home, "after")
        pidfile = os.path.join(self.home, "pid")
        t = Term(["sh", "-c",
                  f"stty -a > {before}; {servers.ehlo_bin()} < /dev/tty & "
                  f"echo $! > {pidfile}; wait; stty -a > {after}"],
                 100, 30,
                 env={"HOME": self.home,
                      "XDG_DATA_HOME": os.path.join(self.home, "data"),
                      "EHLO_DB": os.path.join(self.home, "ehlo.db")})
        self.terms.append(t)
        t.wait_for(r"S: 220 ")
        with open(pidfile) as f:
            os.kill(int(f.read()), 15)
        self.assertEqual(t.exit_status(), 0)
        with open(before) as f1, open(after) as f2:
            self.assertEqual(f1.read(), f2.read())

    def test_completion_from_drafts_and_history(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "/draft new")
        self.enter(t, "/draft to Zed <zed@drafted.example>")
        screen = t.wait_for(r"draft #\d+")
        draft_id = re.search(r"draft #(\d+)", screen).group(1)
        self.enter(t, "EHLO a.example")
        self.enter(t, "MAIL FROM:<hist@sender.example>")
        t.wait_for(r"MAIL\s+250")
        self.enter(t, "/save lesson one")
        t.wait_for(r'labelled "lesson one"')
        self.enter(t, "/quit")
        self.assertEqual(t.exit_status(), 0)
        t2 = self.start()
        t2.wait_for(r"S: 220 ")
        self.enter(t2, "EHLO a.example")
        t2.wait_for(r"S: 250 ")
        t2.type("MAIL FROM:<hi")
        t2.send("Tab")
        t2.wait_for(r"smtp> MAIL FROM:<hist@sender\.example>")
        t2.send("C-c")
        t2.type("RCPT TO:<ze")
        t2.send("Tab")
        t2.wait_for(r"smtp> RCPT TO:<zed@drafted\.example>")
        t2.send("C-c")
        t2.type("/draft open ")
        t2.send("Tab")
        t2.wait_for(rf"smtp> /draft open {draft_id}")

    def test_draft_editor_duplicate_and_delete(self):
        editor = os.path.join(self.home, "fake-editor")
        with open(editor, "w") as f:
            f.write("#!/bin/sh\nprintf 'written by the editor\\n' >> \"$1\"\n")
        os.chmod(editor, 0o755)
        t = self.start(env={"VISUAL": editor})
        t.wait_for(r"S: 220 ")
        self.enter(t, "/draft new")
        screen = t.wait_for(r"draft #\d+")
        first = re.search(r"draft #(\d+)", screen).group(1)
        self.enter(t, "/draft subject edited outside")
        self.enter(t, "/draft edit")
        # Curses comes back after the editor, with the body it wrote.
        t.wait_for(r"Body:\s+1 lines")
        t.wait_for(r"smtp>")
        self.enter(t, f"/draft dup {first}")
        screen = t.wait_for(rf"draft #(?!{first}\b)\d+")
        self.enter(t, "/draft close")
        t.wait_for(r"Subject:", absent=True)
        self.enter(t, "/drafts")
        screen = t.wait_for(r"Esc closes")
        self.assertEqual(len(re.findall(r"edited outside", screen)), 2)
        t.send("Escape")
        self.enter(t, f"/draft delete {first}")
        t.wait_for(rf"draft #{first} deleted")
        self.enter(t, "/drafts")
        screen = t.wait_for(r"Esc closes")
        self.assertEqual(len(re.findall(r"edited outside", screen)), 1)

    def test_workbench_runs_on_a_damaged_database(self):
        db = os.path.join(self.home, "ehlo.db")
        with open(db, "wb") as f:
            f.write(b"this is not a database" * 100)
        before = open(db, "rb").read()
        t = self.start()
        screen = t.wait_for(r"history disabled")
        t.wait_for(r"S: 220 ")
        self.enter(t, "NOOP")
        t.wait_for(r"NOOP\s+250")
        self.enter(t, "/quit")
        self.assertEqual(t.exit_status(), 0)
        self.assertEqual(open(db, "rb").read(), before)

    def test_terminal_is_restored(self):
        before = os.path.join(self.home, "before")
        after = os.path.join(self.home, "after")
        t = Term(["sh", "-c",
                  f"stty -a > {before}; {servers.ehlo_bin()}; "
                  f"stty -a > {after}"], 100, 30,
                 env={"HOME": self.home,
                      "XDG_DATA_HOME": os.path.join(self.home, "data"),
                      "EHLO_DB": os.path.join(self.home, "ehlo.db")})
        self.terms.append(t)
        t.wait_for(r"S: 220 ")
        t.send("C-d")
        self.assertEqual(t.exit_status(), 0)
        with open(before) as f1, open(after) as f2:
            self.assertEqual(f1.read(), f2.read())


class ToolkitTest(WorkbenchCase):
    def test_probe_runs_beside_the_session(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        self.enter(t, "/probe vrfy-expn")
        # The practice server answers VRFY: the probe finds a problem.
        t.wait_for(r"probe vrfy-expn .*exit 1", timeout=30)
        t.send("NPage")
        t.send("NPage")
        t.wait_for(r"verdict: PROBLEM")

    def test_mx_lookup_and_next(self):
        import dnsserver
        sink = servers.SmtpSink()
        self.addCleanup(sink.stop)
        zone = {"example.test": [("MX", 10, "dead.example.test"),
                                 ("MX", 20, "live.example.test")],
                "dead.example.test": [("AAAA", "::1")],
                "live.example.test": [("A", "127.0.0.1")]}
        dns = dnsserver.DnsServer(zone)
        self.addCleanup(dns.stop)
        t = self.start(["--dns", f"127.0.0.1:{dns.port}", "--mx",
                        f"example.test:{sink.port}", "--timeout", "3"])
        screen = t.wait_for(r"MX 20 live\.example\.test")
        self.assertIn("MX 10 dead.example.test", screen)
        t.wait_for(r"not connected")
        self.enter(t, "/next")
        t.wait_for(r"S: 220 ")


class HostileServer:
    """Sends escape sequences and a flood of lines after the greeting."""

    def __init__(self, flood=900):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.flood = flood
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        conn, _ = self.sock.accept()
        with conn:
            conn.sendall(b"220-hostile \x1b]0;HACKED\x07 \x1b[2J\x1b[H\r\n"
                         b"220 ready \x9b31m\xff\xfe\r\n")
            f = conn.makefile("rb")
            f.readline()  # EHLO
            lines = b"".join(b"250-flood line %d \x1b[5m\r\n" % i
                             for i in range(self.flood))
            conn.sendall(lines + b"250 done\r\n")
            f.readline()  # QUIT or anything
            conn.sendall(b"221 bye\r\n")
            time.sleep(0.2)

    def close(self):
        self.sock.close()


class HostileTest(WorkbenchCase):
    def test_escape_sequences_are_shown_escaped(self):
        srv = HostileServer()
        self.addCleanup(srv.close)
        t = self.start([f"127.0.0.1:{srv.port}"])
        screen = t.wait_for(r"S: 220 ready")
        self.assertIn(r"\e]0;HACKED\x07", screen)
        self.assertIn(r"\e[2J\e[H", screen)
        self.assertIn(r"\xFF\xFE", screen)
        t.type("EHLO x")
        t.send("Enter")
        t.wait_for(r"S: 250 done")
        # The input line survives the flood and still works.
        t.type("NOOP")
        t.wait_for(r"smtp> NOOP$")
        raw = t.screen(escapes=True)
        self.assertNotIn("HACKED\x07", raw)
        self.assertNotIn("\x1b[2J", raw)
        self.assertNotIn("\x1b[5m", raw)


@unittest.skipUnless(os.geteuid() == 0, "Postfix needs root")
class PostfixTest(WorkbenchCase):
    @classmethod
    def setUpClass(cls):
        cls.pf = servers.Postfix({"alice": "alice-secret-1"})
        cls.addClassCleanup(cls.pf.stop)

    def test_completion_offers_what_postfix_advertised(self):
        t = self.start([f"127.0.0.1:{self.pf.port}",
                        "--cafile", self.pf.cert.cert])
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO client.example")
        t.wait_for(r"S: 250 ")
        t.type("AUTH ")
        t.send("Tab")
        screen = t.wait_for(r"3 matches")
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            self.assertIn(mech, screen)
        self.assertNotIn("XOAUTH2", screen)
        t.send("C-c")
        t.type("MAIL FROM:<a@b.example> ")
        t.send("Tab")
        screen = t.wait_for(r"matches")
        self.assertIn("SIZE=", screen)
        self.assertIn("BODY=", screen)

    def test_compose_and_send_a_draft_to_postfix(self):
        import email
        import email.policy
        a1 = os.path.join(self.home, "report.bin")
        a2 = os.path.join(self.home, "notes.txt")
        blob = bytes(range(256)) * 400
        with open(a1, "wb") as f:
            f.write(blob)
        with open(a2, "w") as f:
            f.write("second attachment\n")
        t = self.start([f"127.0.0.1:{self.pf.port}",
                        "--cafile", self.pf.cert.cert])
        t.wait_for(r"S: 220 ")
        self.enter(t, "/draft new")
        self.enter(t, f"/draft from Alice <alice@{self.pf.domain}>")
        self.enter(t, f"/draft to alice@{self.pf.domain}")
        self.enter(t, "/draft subject Grüße, 日本 and a ☃")
        self.enter(t, f"/draft attach {a1}")
        self.enter(t, f"/draft attach {a2}")
        self.enter(t, "/draft body")
        self.enter(t, "Two attachments follow.")
        self.enter(t, ".")
        t.wait_for(r"Body:\s+1 lines")
        self.enter(t, "EHLO client.example")
        t.wait_for(r"S: 250 ")
        before = set(self.pf.maildir("alice", count=0))
        self.enter(t, "/send NOTIFY=SUCCESS,FAILURE RET=HDRS ENVID=ehlo1")
        t.wait_for(r"draft #\d+ sent", timeout=20)
        screen = t.screen()
        self.assertIn("RET=HDRS ENVI", screen)
        self.assertIn("NOTIFY=SUCCESS,FAILURE", screen)
        # NOTIFY=SUCCESS: Postfix also sends alice (the sender) a
        # delivery report; wait for both and pick the message itself.
        msgs = [m for m in self.pf.maildir("alice", count=len(before) + 2)
                if m not in before]
        parsed = []
        for path in msgs:
            with open(path, "rb") as f:
                parsed.append(email.message_from_binary_file(
                    f, policy=email.policy.default))
        mine = [m for m in parsed if m["Subject"] == "Grüße, 日本 and a ☃"]
        self.assertEqual(len(mine), 1)
        msg = mine[0]
        self.assertTrue(any(m.get_content_type() == "multipart/report"
                            for m in parsed))
        self.assertEqual(msg["Subject"], "Grüße, 日本 and a ☃")
        parts = [p for p in msg.iter_attachments()]
        self.assertEqual(len(parts), 2)
        self.assertEqual(parts[0].get_content(), blob)
        self.assertEqual(parts[1].get_content(), "second attachment\n")

    def test_starttls_auth_and_delivery(self):
        t = self.start([f"127.0.0.1:{self.pf.port}",
                        "--cafile", self.pf.cert.cert],
                       env={"EHLO_PASSWORD": "alice-secret-1"})
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO client.example")
        t.wait_for(r"S: 250 ")
        self.enter(t, "/starttls")
        t.wait_for(r"TLS established")
        self.enter(t, "/tls")
        screen = t.wait_for(r"TLS details")
        self.assertRegex(screen, r"Verified:\s+yes")
        self.assertRegex(screen, r"OCSP:\s+no staple")
        self.assertIn("SAN:", screen)
        t.send("Escape")
        t.wait_for(r"EHLO\s+250.*\n(.*\n)*.*EHLO\s+250")
        self.enter(t, "/auth PLAIN alice")
        screen = t.wait_for(r"AUTH\s+235")
        self.assertNotIn("alice-secret-1", screen)
        t.wait_for(r"TLSv1\.\d verified  alice")
        self.enter(t, f"MAIL FROM:<alice@{self.pf.domain}>")
        t.wait_for(r"MAIL\s+250")
        self.enter(t, f"RCPT TO:<alice@{self.pf.domain}>")
        t.wait_for(r"RCPT\s+250")
        self.enter(t, "DATA")
        t.wait_for(r"data>")
        self.enter(t, "Subject: from the workbench")
        self.enter(t, "")
        self.enter(t, "typed by hand")
        self.enter(t, ".")
        t.wait_for(r"end of data\s+250")
        self.enter(t, "/quit")
        self.assertEqual(t.exit_status(), 0)
        msgs = self.pf.maildir("alice")
        with open(msgs[-1], "rb") as f:
            self.assertIn(b"typed by hand", f.read())


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
