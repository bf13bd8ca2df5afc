"""A private Dovecot for the tests that need one (LMTP delivery, SASL
for Postfix): started in the foreground from a configuration text
written into the test's own directory, stopped with SIGTERM, its log
read for failure messages."""

import os
import signal
import subprocess
import time


class Dovecot:

    def __init__(self, d, conf_text):
        """Starts `dovecot -F` with conf_text as d/dovecot.conf (the
        text points its log at d/dovecot.log)."""
        self.d = d
        conf = os.path.join(d, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(conf_text)
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)

    def log(self):
        try:
            with open(os.path.join(self.d, "dovecot.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def wait_path(self, name, timeout=10):
        """d/name once Dovecot has made it (a socket); RuntimeError with
        the log when it does not appear or Dovecot stops."""
        path = os.path.join(self.d, name)
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > deadline or not self.alive():
                raise RuntimeError(f"Dovecot's {name} did not appear:\n"
                                   + self.log())
            time.sleep(0.02)
        return path
