"""A full line-mode session under valgrind memcheck: zero errors, zero
definite leaks.

STARTTLS (certificate verified through --cafile), AUTH PLAIN, a typed
message and a /body file, against aiosmtpd, with history recorded.
Skipped when valgrind is missing or the binary is a sanitizer build
(ASan and valgrind do not mix).
"""

import os
import shutil
import tempfile

import servers

USER, SECRET = "alice", "valgrind-secret-9"


class ValgrindTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        servers.require_program("valgrind")
        servers.require_aiosmtpd()
        with open(servers.ehlo_bin(), "rb") as f:
            if b"__asan_init" in f.read():
                servers.skip_file("the binary is built with AddressSanitizer")
        cls.ai = servers.Aiosmtpd(user=USER, password=SECRET)
        cls.addClassCleanup(cls.ai.stop)

    def test_full_session(self):
        tmp = tempfile.mkdtemp(prefix="ehlo-valgrind-")
        self.addCleanup(shutil.rmtree, tmp, True)
        log = os.path.join(tmp, "valgrind.log")
        body = servers.data_file("dotted-body.eml")
        script = servers.script(f"""
            EHLO client.example.test
            /starttls
            /auth PLAIN {USER}
            MAIL FROM:<alice@example.test>
            RCPT TO:<bob@example.test>
            DATA
            Subject: under valgrind

            .a dotted line
            .
            MAIL FROM:<alice@example.test>
            RCPT TO:<carol@example.test>
            /body {body}
            NOOP
            """)
        env = {"EHLO_PASSWORD": SECRET, "EHLO_DB": os.path.join(tmp, "db")}
        valgrind = ["valgrind", "--quiet", "--error-exitcode=99",
                    "--leak-check=full", "--errors-for-leak-kinds=definite",
                    "--show-leak-kinds=definite", f"--log-file={log}",
                    servers.ehlo_bin()]
        args = ["run", "--cafile", self.ai.cert.cert, "--timeout", "60",
                f"127.0.0.1:{self.ai.port}"]
        # run_ehlo runs $EHLO_BIN: point it at valgrind wrapping ehlo.
        old = os.environ["EHLO_BIN"]
        wrapper = os.path.join(tmp, "ehlo-under-valgrind")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec " +
                    " ".join(f"'{a}'" for a in valgrind) + ' "$@"\n')
        os.chmod(wrapper, 0o755)
        os.environ["EHLO_BIN"] = wrapper
        try:
            r = servers.run_ehlo(args, script, env=env, timeout=240)
        finally:
            os.environ["EHLO_BIN"] = old
        with open(log) as f:
            report = f.read()
        self.assertEqual(r.code, 0, self.transcript(r) + report)
        self.assertLine(r, r"^S: 235 ")
        self.assertEqual(report.strip(), "", "valgrind found:\n" + report)
        self.assertEqual(len(self.ai.messages()), 2)


if __name__ == "__main__":
    servers.main()
