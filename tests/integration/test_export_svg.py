"""`ehlo export ID --format svg|html` (issue 16, item 8): a session drawn
as a sequence diagram.

A real session with the practice server (STARTTLS, AUTH PLAIN, a
message, a refused recipient) is recorded into a private database, then
exported.  The SVG must parse as XML (Python's ElementTree) with both
lanes, every command and reply as text, the stage bands with TLS and
AUTH marked, and no form of the password; the HTML must parse (Python's
html.parser), carry the same SVG, an explanation for every reply that a
click shows, and fetch nothing from the network.
"""

import os
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import servers
from test_practice_failures import Practice

SVG = "{http://www.w3.org/2000/svg}"


class Page(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self):
        super().__init__()
        self.tags = []
        self.text = []
        self.open = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "path", "line", "rect"):
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


class ExportDiagramTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Practice()
        cls.addClassCleanup(cls.srv.stop)
        cls.tmp = tempfile.TemporaryDirectory(prefix="ehlo-svg-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.env = {"EHLO_DB": os.path.join(cls.tmp.name, "h.db")}
        r = servers.run_ehlo(
            ["run", "--cafile", cls.srv.cafile, f"127.0.0.1:{cls.srv.port}"],
            servers.script("""
                EHLO me
                STARTTLS
                EHLO me
                AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=
                MAIL FROM:<alice@practice.test>
                RCPT TO:<bob@practice.test>
                RCPT TO:<ghost@practice.test>
                DATA
                Subject: <drawn> & "quoted"

                line one
                line two
                .
                """), env=cls.env)
        assert r.code == 1, r  # the 550 for ghost@

    def export(self, fmt):
        r = self.ehlo(["export", "1", "--format", fmt], env=self.env)
        self.assertExit(r, 0)
        for secret in servers.secret_forms("alice", "wonderland"):
            self.assertNotIn(secret, r.stdout)
        return r.stdout

    def test_svg(self):
        root = ET.fromstring(self.export("svg").encode())
        self.assertEqual(root.tag, SVG + "svg")
        texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
        for want in ("client (ehlo)", "C: EHLO me", "C: STARTTLS",
                     "S: 220 2.0.0 Ready to start TLS",
                     "C: MAIL FROM:<alice@practice.test>",
                     "C: RCPT TO:<ghost@practice.test>",
                     "C: QUIT"):
            self.assertIn(want, texts)
        self.assertTrue(any(t.startswith("S: 550 5.1.1") for t in texts))
        self.assertTrue(any(t.startswith("C: AUTH PLAIN") for t in texts))
        self.assertIn("TLS", texts)
        self.assertIn("AUTH (secret redacted)", texts)
        self.assertIn("MAIL (in TLS)", texts)
        self.assertTrue(any(t.startswith("message content: ") for t in
                            ["".join(t.itertext())[3:] for t in
                             root.iter(SVG + "text")]))
        times = [t for t in texts if t.endswith(" s")]
        self.assertGreater(len(times), 10)
        # Commands point right, replies left: two lanes.
        lines = [ln for ln in root.iter(SVG + "line")
                 if ln.get("class") in ("cmd", "rpl")]
        cmd = [ln for ln in lines if ln.get("class") == "cmd"]
        rpl = [ln for ln in lines if ln.get("class") == "rpl"]
        self.assertTrue(cmd and rpl)
        self.assertLess(float(cmd[0].get("x1")), float(cmd[0].get("x2")))
        self.assertGreater(float(rpl[0].get("x1")), float(rpl[0].get("x2")))

    def test_html(self):
        page = Page()
        html = self.export("html")
        page.feed(html)
        page.close()
        self.assertEqual(page.open, [], "unclosed tags")
        tags = [t for t, _ in page.tags]
        self.assertIn("svg", tags)
        ids = {a.get("id") for _, a in page.tags if a.get("id")}
        replies = [a["data-explain"] for t, a in page.tags
                   if t == "g" and "data-explain" in a]
        self.assertGreater(len(replies), 5)
        for r in replies:
            self.assertIn(r, ids)
        text = "".join(page.text)
        self.assertIn("550: Mailbox unavailable", text)
        self.assertIn("5.1.1: Bad destination mailbox address", text)
        # Self-contained: nothing is fetched.
        for _, attrs in page.tags:
            self.assertNotIn("src", attrs)
            self.assertNotIn("href", attrs)

    def test_bad_format(self):
        r = self.ehlo(["export", "1", "--format", "png"], env=self.env)
        self.assertExit(r, 2)
        self.assertLine(r, r"svg or html", stream="stderr")


if __name__ == "__main__":
    servers.main()
