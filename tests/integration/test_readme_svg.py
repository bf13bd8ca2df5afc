"""The README's picture (issue 16, item 8): docs/session.svg is what
`ehlo export ID --format svg` draws for a short practice session.

The session is the script below, run by `ehlo run` against `ehlo
practice` on a free loopback port and exported.  Only three things differ
from run to run, and they are normalised before the comparison: the
times (each row's "N.NNN s", written as 0.000 s in the committed file)
the practice server's port (written as 2525) and its queue id
(P000000000000).  So the test fails
when the exporter draws differently than the committed picture, and the
committed picture holds no path of any machine and no host name but
loopback's.  After a deliberate change to the drawing, regenerate it:

    EHLO_BIN=build/ehlo python3 tests/integration/test_readme_svg.py --write
"""

import os
import re
import sys
import tempfile
import xml.etree.ElementTree as ET

import servers
from test_practice_failures import Practice

HERE = os.path.dirname(os.path.abspath(__file__))
PICTURE = os.path.join(HERE, "..", "..", "docs", "session.svg")
SVG = "{http://www.w3.org/2000/svg}"
SCRIPT = """EHLO learner.example
STARTTLS
EHLO learner.example
AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=
MAIL FROM:<alice@practice.test>
RCPT TO:<bob@practice.test>
RCPT TO:<nobody@practice.test>
DATA
Subject: hello

Hello Bob.
.
QUIT
"""


def normalise(svg, port):
    svg = re.sub(r">\d+\.\d{3} s<", ">0.000 s<", svg)
    svg = re.sub(r"queued as [A-Z0-9]+<", "queued as P000000000000<", svg)
    return svg.replace(f"127.0.0.1:{port}", "127.0.0.1:2525")


def draw():
    """The exporter's picture of SCRIPT's session, normalised."""
    srv = Practice()
    try:
        with tempfile.TemporaryDirectory(prefix="ehlo-readme-") as tmp:
            env = {"EHLO_DB": os.path.join(tmp, "h.db"), "HOME": tmp}
            r = servers.run_ehlo(
                ["run", "--cafile", srv.cafile, f"127.0.0.1:{srv.port}"],
                SCRIPT, env=env)
            if r.code != 1 or "S: 550 5.1.1" not in r.stdout:
                raise AssertionError(f"the session went otherwise: {r}")
            r = servers.run_ehlo(["export", "1", "--format", "svg"],
                                 env=env)
            if r.code != 0:
                raise AssertionError(f"export failed: {r}")
            return normalise(r.stdout, srv.port)
    finally:
        srv.stop()


class ReadmePictureTest(servers.EhloTestCase):

    def test_committed_picture_is_what_the_exporter_draws(self):
        with open(PICTURE, encoding="utf-8") as f:
            committed = f.read()
        self.assertEqual(committed, draw(),
                         "docs/session.svg is not what the exporter draws "
                         "now; regenerate it (see this file's docstring)")

    def test_picture_parses_with_both_lanes_and_no_secret(self):
        with open(PICTURE, encoding="utf-8") as f:
            text = f.read()
        root = ET.fromstring(text.encode())
        self.assertEqual(root.tag, SVG + "svg")
        lanes = [ln for ln in root.iter(SVG + "line")
                 if ln.get("class") == "lane"]
        self.assertEqual(len(lanes), 2)
        texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
        self.assertIn("client (ehlo)", texts)
        self.assertIn("server 127.0.0.1:2525", texts)
        self.assertIn("AUTH (secret redacted)", texts)
        for secret in servers.secret_forms("alice", "wonderland"):
            self.assertNotIn(secret, text)
        self.assertNotRegex(text, r"/(tmp|home|root|work)/")
        # The README shows it.
        with open(os.path.join(HERE, "..", "..", "README.md")) as f:
            self.assertIn("](docs/session.svg)", f.read())


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        with open(PICTURE, "w", encoding="utf-8") as f:
            f.write(draw())
        print(f"wrote {os.path.normpath(PICTURE)}")
    else:
        servers.main()
