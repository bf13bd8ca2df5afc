"""The man pages (man/) against the program's own tables.

Every long option of the option table (tui/cli.c, cli_options; the same
list `ehlo complete options` prints), every subcommand of the subcommand
table (tui/main.c) and every / command of the command table
(tui/cmdtab.c) must appear in ehlo(1), and every exit status of the
contract (EXIT_* in tui/cli.h) in its EXIT STATUS section, so the page
cannot drift from the program.  The test names what is missing.
(`mandoc -T lint` runs as the ctest lint/man.)
"""

import os
import re
import shutil
import subprocess

import servers

SRC = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))


def source(path):
    with open(os.path.join(SRC, path), encoding="utf-8") as f:
        return f.read()


def table(text, start):
    """The C initialiser that follows start, up to its closing '};'."""
    i = text.index(start)
    return text[i:text.index("\n};", i)]


def render(page):
    """The page as plain text (mandoc, overstrike removed)."""
    r = subprocess.run(["mandoc", "-T", "ascii", "-O", "width=200",
                        os.path.join(SRC, "man", page)],
                       capture_output=True, text=True, check=True)
    return re.sub(r".\x08", "", r.stdout)


def section(text, name):
    m = re.search(rf"^{name}\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)", text,
                  re.MULTILINE | re.DOTALL)
    return m.group(1) if m else ""


class ManPageTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        if shutil.which("mandoc") is None:
            servers.skip_file("mandoc is not installed")
        cls.page = render("ehlo.1")

    def assertAllIn(self, names, text, where):
        missing = [n for n in names if not re.search(
            rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)]
        self.assertEqual(missing, [], f"missing from {where}: "
                         f"{', '.join(missing)} (add them to man/ehlo.1)")

    def test_every_option(self):
        names = re.findall(r'\{\{"([a-z0-9-]+)",',
                           table(source("tui/cli.c"), "cli_options[] ="))
        self.assertGreater(len(names), 30)
        # The regular expression reads the table the program uses.
        r = self.ehlo(["complete", "options"])
        self.assertEqual(r.stdout.split(), ["--" + n for n in names])
        self.assertAllIn(["--" + n for n in names],
                         section(self.page, "OPTIONS"), "OPTIONS of ehlo(1)")

    def test_every_subcommand(self):
        names = re.findall(r'\{"([a-z-]+)", (?:cmd|main)_\w+',
                           table(source("tui/main.c"), "commands[] ="))
        self.assertIn("run", names)
        self.assertIn("complete", names)
        self.assertAllIn(["ehlo " + n for n in names],
                         section(self.page, "SYNOPSIS"),
                         "SYNOPSIS of ehlo(1)")
        sub = section(self.page, "SUBCOMMANDS")
        self.assertAllIn(names, sub, "SUBCOMMANDS of ehlo(1)")

    def test_every_slash_command(self):
        names = re.findall(r'^\s*\{"(/[a-z-]+)",',
                           table(source("tui/cmdtab.c"), "cmdtab[] ="),
                           re.MULTILINE)
        self.assertIn("/expect", names)
        self.assertAllIn(names, section(self.page, "COMMANDS"),
                         "COMMANDS of ehlo(1)")

    def test_every_exit_status(self):
        codes = re.findall(r"^#define EXIT_\w+ (\d+)", source("tui/cli.h"),
                           re.MULTILINE)
        self.assertIn("2", codes)
        exits = section(self.page, "EXIT STATUS")
        listed = re.findall(r"^ {7}(\d+)(?:\s|$)", exits, re.MULTILINE)
        self.assertEqual(sorted(set(codes) - set(listed)), [],
                         f"exit statuses missing from ehlo(1): {exits}")

    def test_environment_and_files(self):
        env = section(self.page, "ENVIRONMENT")
        for var in set(re.findall(r'getenv\("([A-Z_]+)"\)', "".join(
                source(os.path.join(d, f))
                for d in ("tui", "protocol", "history", "themes", "core")
                for f in os.listdir(os.path.join(SRC, d))
                if f.endswith(".c")))):
            self.assertIn(var, env, f"{var} is read but not in ENVIRONMENT")
        self.assertIn("ehlo.db", section(self.page, "FILES"))
        self.assertIn("ehlo run", section(self.page, "EXAMPLES"))

    def test_other_pages(self):
        conf = render("ehlo.conf.5")
        for key in ("defaults", "account", "host", "port", "from", "domain",
                    "user", "password", "passwordeval", "auth", "tls",
                    "tls_starttls", "tls_trust_file", "tls_cert_file",
                    "tls_key_file", "timeout", "theme", "history",
                    "allow_plaintext_auth"):
            self.assertRegex(conf, rf"(?m)^ {{7}}{key}\b",
                             f"ehlo.conf(5) does not describe {key}")
        themes = render("ehlo-themes.5")
        roles = re.findall(r"^([a-z0-9-]+)\s*=", source("themes/dark.theme"),
                           re.MULTILINE)
        self.assertGreater(len(roles), 20)
        self.assertAllIn(roles, themes, "ehlo-themes(5)")
        for name in self.ehlo(["complete", "themes"]).stdout.split():
            self.assertIn(name, themes)

    def test_lessons_page(self):
        # ehlo-lessons(5) describes every field, server rule, stage and
        # named check the lesson parser knows (its tables).
        page = render("ehlo-lessons.5")
        parser = source("protocol/knowledge/lesson_file.c")
        fields = re.findall(r'strcmp\(name, "([a-z]+)"\)', parser)
        self.assertGreater(len(fields), 8)
        for f in fields:
            self.assertRegex(page, rf"(?m)^ {{7}}{f}:",
                             f"ehlo-lessons(5) does not describe {f}:")
        stages = re.findall(r'\{"([a-z]+)", SMTP_STAGE_',
                            table(parser, "lf_stages[]"))
        named = re.findall(r'\{"([a-z-]+)", LESSON_CHECK_',
                           table(parser, "lf_named[]"))
        rules = re.findall(r'strcmp\(w, "([a-z-]+)"\)', parser)
        self.assertIn("bare-lf", named)
        self.assertAllIn(stages, section(page, "CHECKS"), "its CHECKS")
        for word in named:
            self.assertRegex(section(page, "CHECKS"), rf"(?m)^ {{7}}{word}\b",
                             f"ehlo-lessons(5) does not describe {word}")
        for word in rules:
            self.assertRegex(page, rf"(?m)^ +{word}\b",
                             f"ehlo-lessons(5) does not describe {word}")
        self.assertIn("ehlo-lessons(5)", section(self.page, "SEE ALSO"))
        self.assertNotIn("docs/lessons.md", self.page)


if __name__ == "__main__":
    servers.main()
