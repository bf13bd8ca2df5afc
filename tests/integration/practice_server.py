"""The built-in practice server (`ehlo practice`) on loopback for the
history tests: its data directory, its CA file, its inbox and its log.

A test class mixes PracticeServer in and calls start_practice() from
setUpClass; messages land in <data>/inbox/USER/*.eml as the server
stored them (trace headers first).
"""

import glob
import os
import subprocess
import tempfile
import time

import servers


class PracticeServer:

    @classmethod
    def start_practice(cls):
        cls.home = tempfile.TemporaryDirectory(prefix="ehlo-practice-")
        cls.addClassCleanup(cls.home.cleanup)
        cls.data = os.path.join(cls.home.name, "ehlo", "practice")
        cls.cafile = os.path.join(cls.data, "cert.pem")
        cls.port = servers.free_port()
        cls.server = f"127.0.0.1:{cls.port}"
        cls.log_path = os.path.join(cls.home.name, "practice.log")
        cls.log = open(cls.log_path, "w+b")
        cls.addClassCleanup(cls.log.close)
        env = dict(os.environ, XDG_DATA_HOME=cls.home.name)
        cls.proc = subprocess.Popen(
            [servers.ehlo_bin(), "practice", "--listen", cls.server],
            stdout=subprocess.DEVNULL, stderr=cls.log, env=env,
            preexec_fn=servers._die_with_parent)
        cls.addClassCleanup(cls.stop_practice)
        servers.wait_ready("127.0.0.1", cls.port,
                           alive=lambda: cls.proc.poll() is None)

    @classmethod
    def stop_practice(cls):
        cls.proc.kill()
        cls.proc.wait()

    def ehlo(self, args, script_text="", **kwargs):
        """EhloTestCase.ehlo; a run that hangs adds the server's log
        (its last commands and replies, with their timing)."""
        try:
            return super().ehlo(args, script_text, **kwargs)
        except AssertionError as e:
            self.log.flush()
            with open(self.log_path, "rb") as f:
                tail = f.read()[-12000:].decode("utf-8", "replace")
            raise AssertionError(f"{e}\n--- practice server log ---\n"
                                 f"{tail}") from None

    @classmethod
    def inbox(cls, user):
        return sorted(glob.glob(os.path.join(cls.data, "inbox", user,
                                             "*.eml")))

    @classmethod
    def wait_new(cls, user, before, timeout=5):
        """The first message for user that is not in before (a list)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = [p for p in cls.inbox(user) if p not in before]
            if new:
                with open(new[0], "rb") as f:
                    return f.read()
            time.sleep(0.02)
        raise AssertionError(f"no new message for {user}")

    @staticmethod
    def split_stored(data):
        """(Return-Path line, Received header, the message as sent)."""
        first, rest = data.split(b"\r\n", 1)
        end = 0
        lines = rest.split(b"\r\n")
        for i, line in enumerate(lines[1:], 1):
            if not line[:1] in (b" ", b"\t"):
                end = i
                break
        return (first, b"\r\n".join(lines[:end]),
                b"\r\n".join(lines[end:]))
