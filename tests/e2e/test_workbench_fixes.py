"""Workbench bugs of issue 15, each driven in a real terminal (tmux).

Each test types what a person typed when the bug showed, and checks what
that person should have seen: keys typed after closing a popup reach the
input line; /connect on a live session ends the old one with QUIT; popups
wrap once, to their own width; the light theme fills its panes; wrapped
dialogue lines hang under their text.
"""

import json
import re
import socket
import subprocess
import threading
import time
import unittest

import tmux
from tmux import servers
import test_workbench


class RecordingServer:
    """A small SMTP server on 127.0.0.1 that records, per connection, the
    lines it received.  quit_reply=False: it never answers QUIT (a server
    that has gone quiet)."""

    def __init__(self, quit_reply=True):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.quit_reply = quit_reply
        self.conns = []  # one list of received lines per connection
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append([])
                lines = self.conns[-1]
            threading.Thread(target=self.serve, args=(conn, lines),
                             daemon=True).start()

    def serve(self, conn, lines):
        with conn:
            conn.sendall(b"220 recorder.test ESMTP\r\n")
            f = conn.makefile("rb")
            for raw in f:
                line = raw.decode("ascii", "replace").rstrip("\r\n")
                with self.lock:
                    lines.append(line)
                verb = line.split(" ", 1)[0].upper()
                if verb == "QUIT":
                    if self.quit_reply:
                        conn.sendall(b"221 2.0.0 bye\r\n")
                        # Like many servers: the client closes first.
                        time.sleep(0.5)
                        return
                    continue
                if verb == "EHLO":
                    conn.sendall(b"250-recorder.test\r\n250 8BITMIME\r\n")
                else:
                    conn.sendall(b"250 2.0.0 ok\r\n")

    def received(self, i):
        with self.lock:
            return list(self.conns[i]) if i < len(self.conns) else []

    def close(self):
        # Wake the accepting thread before the descriptor can be reused.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(5)
        self.sock.close()


def popup_rows(screen):
    """The text rows inside the popup's box (between its borders, inside
    the padding), and the popup's inner width."""
    rows = screen.split("\n")
    top = next(i for i, r in enumerate(rows) if "┌" in r)
    left, right = rows[top].index("┌"), rows[top].index("┐")
    inner = right - left + 1 - 4
    body = []
    for r in rows[top + 1:]:
        if "└" in r:
            break
        body.append(r[left + 2:left + 2 + inner].rstrip())
    return body, inner


def assert_wrapped_once(case, body, inner):
    """No row was cut in the middle of a word, and no row is a fragment
    pushed to the left edge from a full row above: the marks of text
    wrapped to one width and then again, narrower, by the drawing."""
    for a, b in zip(body, body[1:]):
        if not a or not b:
            continue
        full = len(a) >= inner
        case.assertFalse(
            full and a[-1].isalnum() and b[0].isalnum(),
            f"a word cut across rows:\n{a!r}\n{b!r}")
        case.assertFalse(
            full and not b.startswith(" ") and len(b.split()) <= 3,
            f"a fragment of the row above on a row of its own:\n"
            f"{a!r}\n{b!r}")


class KeysAfterPopupTest(test_workbench.WorkbenchCase):
    """Bug: keys typed right after closing a popup were lost."""

    def test_typing_after_an_explanation_popup_reaches_the_input(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        t.wait_for(r"smtp>\s*$")
        # F4, Enter, Esc, then typing: what the issue describes.
        t.send("F4")
        t.wait_for(r"Enter explains")
        t.send("Enter")
        t.wait_for(r"Esc closes")
        t.send("Escape")
        t.wait_for(r"Esc closes", absent=True)
        t.type("NOOP")
        t.wait_for(r"smtp> NOOP$")
        t.send("Enter")
        t.wait_for(r"NOOP\s+250")

    def test_typing_in_the_panes_goes_to_the_input(self):
        t = self.start()
        t.wait_for(r"S: 220 ")
        # The dialogue has the focus: letters and editing keys go to the
        # input line, and the focus with them.
        t.send("F4")
        t.wait_for(r"dialogue: Up/Down")
        t.type("NOOPX")
        t.wait_for(r"smtp> NOOPX$")
        t.wait_for(r"F4 to select")
        t.send("F4")
        t.wait_for(r"dialogue: Up/Down")
        t.send("BSpace")
        t.wait_for(r"smtp> NOOP$")
        # The stage list too.
        t.send("F2")
        t.wait_for(r"stages: Up/Down")
        t.type(" x")
        t.wait_for(r"smtp> NOOP x$")
        t.wait_for(r"F2 to select")
        t.send("C-u")
        t.wait_for(r"smtp>\s*$")
        # A popup open over the dialogue: a letter closes it and is
        # typed, not lost.
        t.send("F1")
        t.wait_for(r"Esc closes")
        t.type("RSET")
        t.wait_for(r"smtp> RSET$")
        t.wait_for(r"Esc closes", absent=True)
        t.send("Enter")
        t.wait_for(r"RSET\s+250")


class ConnectQuitsTest(test_workbench.WorkbenchCase):
    """Bug: /connect on a live session did not QUIT the old one, and the
    note blamed the server for closing."""

    def show_json(self, session_id):
        env = {"HOME": self.home, "EHLO_DB": f"{self.home}/ehlo.db",
               "PATH": "/usr/bin:/bin"}
        out = subprocess.run([servers.ehlo_bin(), "show", str(session_id),
                              "--json"], env=env, capture_output=True,
                             text=True, check=True).stdout
        return json.loads(out)

    def test_connect_sends_quit_to_the_old_session(self):
        srv = RecordingServer()
        self.addCleanup(srv.close)
        t = self.start([f"127.0.0.1:{srv.port}"])
        t.wait_for(r"S: 220 recorder")
        self.enter(t, "EHLO client.example")
        t.wait_for(r"EHLO\s+250")
        self.enter(t, f"/connect 127.0.0.1:{srv.port}")
        screen = t.wait_for(r"S: 220 recorder(.*\n)*.*S: 220 recorder")
        self.assertIn("session #2", screen)
        self.assertEqual(["EHLO client.example", "QUIT"], srv.received(0))
        self.assertIn("C: QUIT", screen)
        self.assertIn("S: 221 2.0.0 bye", screen)
        self.assertIn("the workbench closed the connection", screen)
        self.assertNotIn("the server closed the connection", screen)
        self.assertNotIn("not connected", screen)
        self.assertEqual(2, len(srv.conns))
        # The old session's record ends with its QUIT, the 221 and the
        # workbench's note.
        self.enter(t, "/quit")
        self.assertEqual(0, t.exit_status())
        text = json.dumps(self.show_json(1))
        self.assertIn("QUIT", text)
        self.assertIn("221 2.0.0 bye", text)
        self.assertIn("the workbench closed the connection", text)
        self.assertNotIn("the server closed the connection", text)

    def test_connect_does_not_wait_long_for_a_silent_server(self):
        srv = RecordingServer(quit_reply=False)
        self.addCleanup(srv.close)
        t = self.start([f"127.0.0.1:{srv.port}", "--timeout", "30"])
        t.wait_for(r"S: 220 recorder")
        self.enter(t, "EHLO client.example")
        t.wait_for(r"EHLO\s+250")
        start = time.monotonic()
        self.enter(t, "/connect")
        screen = t.wait_for(r"practice server", timeout=8)
        self.assertLess(time.monotonic() - start, 8)
        self.assertEqual(["EHLO client.example", "QUIT"], srv.received(0))
        screen = t.wait_for(r"the workbench closed the connection")
        self.assertNotIn("the server closed the connection", screen)


class PopupWrapTest(test_workbench.WorkbenchCase):
    """Bug: at 80x24 popup text was wrapped, then wrapped again."""

    def test_help_popup_at_80x24(self):
        t = self.start(width=80, height=24)
        t.wait_for(r"S: 220 ")
        t.send("F1")
        screen = t.wait_for(r"Esc closes")
        body, inner = popup_rows(screen)
        self.assertEqual(72, inner)
        self.assertTrue(any(r.strip() for r in body))
        assert_wrapped_once(self, body, inner)
        # Scrolled down: the rest of the help, wrapped the same way.
        for _ in range(3):
            t.send("PageDown")
        screen = t.wait_for(r"Esc closes")
        body, inner = popup_rows(screen)
        assert_wrapped_once(self, body, inner)

    def test_explanation_popup_at_80x24_and_after_a_resize(self):
        t = self.start(width=80, height=24)
        t.wait_for(r"S: 220 ")
        self.enter(t, "/explain 550")
        screen = t.wait_for(r"Esc closes")
        body, inner = popup_rows(screen)
        self.assertIn("550: Mailbox unavailable", "\n".join(body))
        assert_wrapped_once(self, body, inner)
        # A paragraph's rows are the paragraph, indented, in order.
        text = " ".join(r.strip() for r in body)
        self.assertIn("The requested action was not taken and will not be "
                      "with this request.", text)
        # Opened wide, then narrowed: wrapped again to the new width.
        t.send("Escape")
        t.resize(120, 40)
        t.wait_for(r"Esc closes", absent=True)
        self.enter(t, "/explain 550")
        t.wait_for(r"Esc closes")
        t.resize(80, 24)
        time.sleep(0.3)
        screen = t.wait_for(r"Esc closes")
        body, inner = popup_rows(screen)
        self.assertEqual(72, inner)
        assert_wrapped_once(self, body, inner)


SGR = re.compile(r"\x1b\[([0-9;]*)m")


def cell_backgrounds(raw_row, bg=None):
    """The background of each cell of a row captured with escapes (None
    for the terminal's default, else the SGR colour text), and the
    background at its end: tmux carries the attributes from row to row,
    so bg is the background the row starts with."""
    cells, pos = [], 0
    for m in list(SGR.finditer(raw_row)) + [None]:
        end = m.start() if m else len(raw_row)
        cells.extend([bg] * len(raw_row[pos:end]))
        if m is None:
            break
        pos = m.end()
        params = m.group(1).split(";") if m.group(1) else ["0"]
        i = 0
        while i < len(params):
            p = params[i]
            if p in ("0", ""):
                bg = None
            elif p == "49":
                bg = None
            elif p == "48" and i + 2 < len(params) and params[i + 1] == "5":
                bg = "5;" + params[i + 2]
                i += 2
            elif p == "48" and i + 4 < len(params) and params[i + 1] == "2":
                bg = "2;" + ";".join(params[i + 2:i + 5])
                i += 4
            elif p in ("38",) and i + 1 < len(params):
                i += 2 if params[i + 1] == "5" else 4
            elif p.isdigit() and (40 <= int(p) <= 47 or
                                  100 <= int(p) <= 107):
                bg = p
            i += 1
    return cells, bg


class LightThemeTest(test_workbench.WorkbenchCase):
    """Bug: the light theme reset the background after each text, so its
    panes showed stripes of the terminal's own background."""

    def test_dialogue_rows_are_filled_to_the_pane_edge(self):
        t = self.start(["--theme", "light"], width=80, height=24)
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO client.example")
        t.wait_for(r"EHLO\s+250")
        t.wait_for(r"smtp>\s*$")
        raw = t._tmux("capture-pane", "-p", "-e", "-N", "-t", "t").stdout
        rows = raw.split("\n")
        plain = t.screen().split("\n")
        pane = plain[2].index("│")  # the separator's column
        checked, bg = 0, None
        cells, bg = cell_backgrounds(rows[0], bg)
        for y in range(1, 22):  # the dialogue pane's rows
            cells, bg = cell_backgrounds(rows[y], bg)
            self.assertGreaterEqual(len(cells), pane, rows[y])
            for x in range(pane):
                # light.theme: "default = 235 on 231" (every role without
                # a background of its own inherits 231).
                self.assertEqual(
                    "5;231", cells[x], f"row {y} column {x} is not on "
                    f"the theme's background: {plain[y]!r}")
            checked += 1
        self.assertEqual(21, checked)


class HangingIndentTest(test_workbench.WorkbenchCase):
    """Bug: the rows after the first of a wrapped dialogue line started at
    column 0, like a new line."""

    def test_continuation_rows_are_indented(self):
        t = self.start(width=80, height=24)
        t.wait_for(r"S: 220 ")
        self.enter(t, "EHLO client.example")
        t.wait_for(r"EHLO\s+250")
        self.enter(t, "MAIL FROM:<me@client.example>")
        t.wait_for(r"MAIL\s+250")
        addr = "someone.with.a.rather.long.name@practice.test"
        self.enter(t, f"RCPT TO:<{addr}>")
        screen = t.wait_for(r"RCPT\s+550")
        left = [r.split("│", 1)[0] for r in screen.split("\n")[1:22]]
        self.check_rows(left, 3)
        # The 550 echoes the address: it wraps, under its text.
        rows = [r for r in left if r.strip()]
        i = next(i for i, r in enumerate(rows) if r.startswith("S: 550"))
        self.assertTrue(rows[i + 1].startswith("   "), rows[i:i + 2])
        # With time offsets (F3) the rows hang under the text, past the
        # time column.
        t.send("F3")
        screen = t.wait_for(r"^\s*\d+\.\d{3} S: 550", timeout=5)
        left = [r.split("│", 1)[0] for r in screen.split("\n")[1:22]]
        self.check_rows(left, 11)

    def check_rows(self, left, indent):
        first = re.compile(r"^(\s*\d+\.\d{3} )?[CS*]: ")
        seen = 0
        for r in left:
            if not r.strip():
                continue
            if first.match(r):
                continue
            seen += 1
            self.assertTrue(r.startswith(" " * indent),
                            f"a continuation row not indented by "
                            f"{indent}: {r!r}")
        self.assertGreater(seen, 0, "no line wrapped:\n" + "\n".join(left))


if __name__ == "__main__":
    tmux.require_tmux()
    servers.main()
