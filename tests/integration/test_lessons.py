"""`ehlo lesson`: the lessons of issue 16, progress, --dir and --check.

Each new lesson is taken with a script written here as a learner would
(not the lesson's own answer), against the practice server ehlo starts
for it, and must pass; with an empty script it must fail with a hint.
Progress lands in the history database and `ehlo lesson` shows it with
the next lesson.  A teacher's lesson from --dir runs like a built-in
one, and --check refuses a broken file with its line number.
"""

import os
import re
import tempfile

import servers

ANSWERS = {
    "tls-required": "EHLO me\nMAIL FROM:<bob@practice.test>\n"
                    "AUTH PLAIN AGJvYgBidWlsZGVy\nSTARTTLS\nEHLO me\n"
                    "MAIL FROM:<bob@practice.test>\n",
    "submission": "EHLO me\nSTARTTLS\nEHLO me\nMAIL FROM:<bob@practice.test>\n"
                  "AUTH PLAIN AGJvYgBidWlsZGVy\nMAIL FROM:<bob@practice.test>\n"
                  "RCPT TO:<pal@far.example>\n",
    "size-8bitmime": "EHLO me\nMAIL FROM:<bob@practice.test> SIZE=5000000\n"
                     "MAIL FROM:<bob@practice.test> BODY=8BITMIME\n"
                     "RCPT TO:<bob@practice.test>\nDATA\nSubject: x\n\n"
                     "\u00fcber\n.\n",
    "smtputf8": "EHLO me\nMAIL FROM:<\u00fc@practice.test>\n"
                "MAIL FROM:<\u00fc@practice.test> SMTPUTF8\n"
                "RCPT TO:<bob@practice.test>\nDATA\n\nx\n.\n",
    "bdat": "EHLO me\nMAIL FROM:<a@practice.test>\nRCPT TO:<bob@practice.test>\n"
            "BDAT 4 LAST\nhi\n",
    "dsn": "EHLO me\nMAIL FROM:<a@practice.test> RET=FULL\n"
           "RCPT TO:<bob@practice.test> NOTIFY=FAILURE\nDATA\n\nx\n.\n",
    "greylisting": "EHLO me\nMAIL FROM:<a@practice.test>\n"
                   "RCPT TO:<greylist@practice.test>\nRSET\n/sleep 1.7\n"
                   "MAIL FROM:<a@practice.test>\n"
                   "RCPT TO:<greylist@practice.test>\n",
    "envelope-and-bcc": "EHLO me\nMAIL FROM:<a@practice.test>\n"
                        "RCPT TO:<bob@practice.test>\n"
                        "RCPT TO:<carol@practice.test>\nDATA\n"
                        "To: bob@practice.test\n\nx\n.\n",
    "reading-a-bounce": "EHLO me\nVRFY ghost\nMAIL FROM:<a@practice.test>\n"
                        "RCPT TO:<ghost@practice.test>\n",
    "timing": "EHLO me\nMAIL FROM:<a@practice.test>\n"
              "RCPT TO:<slow@practice.test>\n",
    # issue 18: the practice server and the session speak LMTP
    "lmtp": "LHLO me\nMAIL FROM:<a@practice.test>\n"
            "RCPT TO:<full@practice.test>\nRCPT TO:<bob@practice.test>\n"
            "DATA\n\nx\n.\n",
}

TEACHER = """# a teacher's lesson
name: postmaster
title: Write to the postmaster
text: Every domain must accept mail for postmaster (RFC 5321 4.5.1).
task: Send a message to postmaster@practice.test.
goal: postmaster got the message
check: delivered <postmaster@practice.test>
hint: RCPT TO:<postmaster@practice.test>, DATA, a line, a dot
answer: EHLO me
answer: MAIL FROM:<a@practice.test>
answer: RCPT TO:<postmaster@practice.test>
answer: DATA
answer:
answer: hi
answer: .
"""


class LessonTest(servers.EhloTestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ehlo-lessons-")
        self.addCleanup(self.tmp.cleanup)
        self.env = {"EHLO_DB": os.path.join(self.tmp.name, "h.db"),
                    "XDG_DATA_HOME": os.path.join(self.tmp.name, "data")}

    def lesson(self, args, script=""):
        return self.ehlo(["lesson", *args], script, env=self.env)

    def test_new_lessons_pass_and_fail(self):
        for name, answer in ANSWERS.items():
            with self.subTest(name):
                path = os.path.join(self.tmp.name, name)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(answer)
                r = self.lesson([name, path])
                self.assertExit(r, 0)
                # The goals come before the session.
                self.assertLess(r.stdout.index("Goals:"),
                                r.stdout.index("*: practice server"))
                self.assertLine(r, r"^lesson passed$")
                r = self.lesson(["--no-history", name], "")
                self.assertExit(r, 1)
                self.assertLine(r, r"^  missing: ")
                self.assertLine(r, r"^hint: ")

    def test_hint_after_a_failed_step(self):
        r = self.lesson(["--no-history", "rcpt"],
                        "EHLO me\nRCPT TO:<bob@practice.test>\n"
                        "MAIL FROM:<a@practice.test>\n")
        self.assertExit(r, 1)
        lines = r.stdout.splitlines()
        at = lines.index("S: 503 5.5.1 Need MAIL before RCPT")
        self.assertTrue(lines[at + 1].startswith(
            "*: lesson: next goal: RCPT TO:<bob@practice.test> was "
            "accepted"), lines[at + 1])
        self.assertIn("try: after MAIL FROM", lines[at + 1])
        # A lesson run without failures prints no such line.
        r = self.lesson(["--no-history", "greeting"], "EHLO me\nHELP\n")
        self.assertNotIn("*: lesson: next goal", r.stdout)

    def test_progress_and_next(self):
        r = self.lesson([])
        self.assertLine(r, r"^  greeting +not done ")
        self.assertLine(r, r"^0 of \d+ done; next: ehlo lesson greeting$")
        r = self.lesson(["greeting"], "EHLO me\n")
        self.assertExit(r, 1)
        r = self.lesson(["greeting"], "EHLO me\nHELP\n")
        self.assertExit(r, 0)
        r = self.lesson(["mail"], "EHLO me\nMAIL FROM:<a@practice.test>\n")
        self.assertExit(r, 1)
        r = self.lesson([])
        self.assertExit(r, 0)
        self.assertLine(r, r"^  greeting +done ")
        self.assertLine(r, r"^  mail +1/2 goals ")
        self.assertLine(r, r"^  rcpt +not done ")
        self.assertLine(r, r"^1 of \d+ done; next: ehlo lesson mail$")
        count = int(re.search(r"^1 of (\d+) done", r.stdout, re.M).group(1))
        self.assertGreaterEqual(count, 20)
        # --no-history: nothing stored, nothing shown.
        r = self.ehlo(["lesson", "--no-history"], env=self.env)
        self.assertLine(r, r"^  greeting +not done ")

    def test_teacher_dir(self):
        d = os.path.join(self.tmp.name, "class")
        os.mkdir(d)
        with open(os.path.join(d, "postmaster.lesson"), "w") as f:
            f.write(TEACHER)
        r = self.lesson(["--dir", d])
        self.assertLine(r, r"^  postmaster +not done +Write to the postmaster")
        r = self.lesson(["--dir", d, "postmaster"],
                        "EHLO me\nMAIL FROM:<a@practice.test>\n"
                        "RCPT TO:<postmaster@practice.test>\nDATA\n\nhi\n.\n")
        self.assertExit(r, 0)
        self.assertLine(r, r"^lesson passed$")
        r = self.lesson(["postmaster"])
        self.assertExit(r, 2)  # not there without --dir

    def test_check(self):
        good = os.path.join(self.tmp.name, "good.lesson")
        with open(good, "w") as f:
            f.write(TEACHER)
        r = self.lesson(["--check", good])
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, f"{good}: lesson postmaster, 1 goal: ok\n")
        bad = os.path.join(self.tmp.name, "bad.lesson")
        with open(bad, "w") as f:
            f.write(TEACHER.replace("check: delivered",
                                    "check: deliverd"))
        r = self.lesson(["--check", bad])
        self.assertExit(r, 1)
        self.assertTrue(r.stderr.startswith(
            f"{bad}:7: check: unknown stage or check \"deliverd\""),
            r.stderr)
        r = self.lesson(["--check", good, bad])
        self.assertExit(r, 1)
        r = self.lesson(["--dir", self.tmp.name])
        self.assertExit(r, 2)
        self.assertLine(r, r"bad\.lesson:7: ", stream="stderr")


if __name__ == "__main__":
    servers.main()
