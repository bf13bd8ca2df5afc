"""Shell completion (completions/): bash, zsh and fish.

bash is driven for real: a bash subprocess sources completions/ehlo.bash,
sets COMP_WORDS/COMP_CWORD as readline would and calls the function
`complete -p ehlo` names; the candidates must come from ehlo itself
(`ehlo complete KIND`): subcommands, options, theme names (a user theme
included), probe names, lesson names and recorded session ids.  fish is
driven with `complete -C`; zsh in a pty (zpty) with compinit, after
`zsh -n`.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import servers

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
COMPLETIONS = os.path.join(SRC, "completions")


class CompletionTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.TemporaryDirectory(prefix="ehlo-compl-")
        cls.addClassCleanup(cls.home.cleanup)
        h = cls.home.name
        os.makedirs(os.path.join(h, "ehlo", "themes"))
        with open(os.path.join(h, "ehlo", "themes", "mine.theme"), "w") as f:
            f.write("inherit = dark\nclient = 81\n")
        cls.env = dict(os.environ, HOME=h, XDG_CONFIG_HOME=h,
                       XDG_DATA_HOME=h, EHLO_DB=os.path.join(h, "ehlo.db"),
                       PATH=os.path.dirname(servers.ehlo_bin()) + ":" +
                       os.environ.get("PATH", "/usr/bin:/bin"))
        # Two recorded sessions: connections refused by a closed port
        # are recorded too (network error).
        for _ in range(2):
            subprocess.run([servers.ehlo_bin(), "run",
                            f"127.0.0.1:{servers.free_port()}"],
                           input=b"EHLO me\n", env=cls.env,
                           capture_output=True, timeout=30, check=False)

    def ehlo_list(self, kind):
        r = subprocess.run([servers.ehlo_bin(), "complete", kind],
                           env=self.env, capture_output=True, text=True,
                           timeout=30, check=True)
        return r.stdout.split()

    def bash(self, line):
        """The candidates bash offers for line (the word at its end)."""
        words = line.split(" ")
        prog = (f"source {os.path.join(COMPLETIONS, 'ehlo.bash')}\n"
                "fn=$(complete -p ehlo | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')\n"
                "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1))\n"
                "COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}\n"
                "$fn ehlo \"${COMP_WORDS[COMP_CWORD]}\" "
                "\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
                "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
        r = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog,
                            "bash", *words], env=self.env,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return sorted(w for w in r.stdout.split("\n") if w)

    def test_registered(self):
        r = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c",
             f"source {os.path.join(COMPLETIONS, 'ehlo.bash')}; "
             "complete -p ehlo"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stdout.strip(), "complete -F _ehlo ehlo")

    def test_subcommands(self):
        self.assertEqual(self.bash("ehlo pro"), ["probe"])
        got = self.bash("ehlo ")
        for sub in ("run", "send", "check", "probe", "history", "show",
                    "export", "replay", "lesson", "practice", "explain"):
            self.assertIn(sub, got)
        self.assertNotIn("complete", got)  # internal

    def test_options(self):
        self.assertEqual(self.bash("ehlo run --star"), ["--starttls"])
        got = self.bash("ehlo send --")
        self.assertIn("--from", got)
        self.assertIn("--attach", got)
        self.assertEqual(got, sorted(self.ehlo_list("options")))

    def test_themes(self):
        got = self.bash("ehlo --theme ")
        self.assertEqual(got, ["dark", "high-contrast", "light", "mine",
                               "monochrome"])
        self.assertEqual(self.bash("ehlo --theme m"), ["mine", "monochrome"])

    def test_probes(self):
        self.assertEqual(self.bash("ehlo probe "),
                         ["auth-before-tls", "pipelining", "relay", "size",
                          "smuggling", "starttls-required", "tls",
                          "vrfy-expn"])
        self.assertEqual(self.bash("ehlo probe re"), ["relay"])
        # The second argument is a SERVER, not a probe.
        self.assertEqual(self.bash("ehlo probe relay "), [])
        # An option's value is not a positional argument.
        self.assertEqual(self.bash("ehlo probe --helo me.example "),
                         self.bash("ehlo probe "))

    def test_lessons(self):
        got = self.bash("ehlo lesson ")
        for name in ("greeting", "mail", "rcpt", "data", "starttls"):
            self.assertIn(name, got)
        self.assertEqual(got, sorted(self.ehlo_list("lessons")))

    def test_history_ids(self):
        ids = self.ehlo_list("history")
        self.assertEqual(ids, ["2", "1"])  # newest first
        for sub in ("show", "export", "replay"):
            self.assertEqual(self.bash(f"ehlo {sub} "), ["1", "2"])
        self.assertEqual(self.bash("ehlo export --format "),
                         ["curl", "json", "script", "swaks", "text"])
        self.assertEqual(self.bash("ehlo run --proxy-header "),
                         ["v1", "v2"])

    def test_accounts(self):
        # No configuration file: no accounts, nothing in their place.
        self.assertEqual(self.ehlo_list("accounts"), [])
        self.assertEqual(self.bash("ehlo --account "), [])
        # The accounts of the default configuration file, in file order.
        cfg = os.path.join(self.env["XDG_CONFIG_HOME"], "ehlo", "config")
        os.makedirs(os.path.dirname(cfg), exist_ok=True)
        with open(cfg, "w") as f:
            f.write("defaults\ntimeout 10\n\naccount work\nhost "
                    "mail.example.test\n\naccount home : work\n"
                    "host home.example.test\n")
        try:
            self.assertEqual(self.ehlo_list("accounts"), ["work", "home"])
            self.assertEqual(self.bash("ehlo --account "), ["home", "work"])
            self.assertEqual(self.bash("ehlo send -a w"), ["work"])
        finally:
            os.unlink(cfg)

    def test_complete_command(self):
        r = subprocess.run([servers.ehlo_bin(), "complete", "nonsense"],
                           env=self.env, capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        # Internal: dispatched, but not offered nor in --help.
        self.assertNotIn("complete", self.ehlo_list("commands"))
        r = subprocess.run([servers.ehlo_bin(), "--help"], env=self.env,
                           capture_output=True, text=True, timeout=30)
        self.assertNotIn("ehlo complete", r.stdout)
        self.assertEqual(self.ehlo_list("value-options")[:2],
                         ["--cafile", "--helo"])

    @unittest.skipUnless(shutil.which("zsh"), "zsh is not installed")
    def test_zsh(self):
        r = subprocess.run(["zsh", "-n", os.path.join(COMPLETIONS, "_ehlo")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        # An interactive zsh in a pty (zpty) with compinit: Tab lists.
        probes, themes = self.zsh(("ehlo probe ", "vrfy-expn"),
                                  ("ehlo --theme ", "monochrome"))
        for name in self.ehlo_list("probes"):
            self.assertIn(name, probes)
        self.assertIn("mine", themes)

    def zsh(self, *cases):
        """What an interactive zsh shows after each line and Tab, up to
        the candidate given with it (zsh lists them sorted)."""
        prog = (
            "zmodload zsh/zpty\n"
            "zpty z zsh -f -i\n"
            # Only the completion system's own folders: fast compinit.
            "zpty -w z \"PS1='%% '; fpath=($1 "
            "\\${(M)fpath:#*/Completion(|/Base|/Unix|/Zsh)}); "
            "autoload -U compinit; compinit -u -D\"\n"
            "zpty -w z 'print RE''ADY'\n"
            "zpty -r z x '*READY*'\n"
            "shift\n"
            "while (( $# )); do\n"
            "  zpty -n -w z \"$1\"$'\\t'\n"
            "  zpty -r z out \"*$2*\"\n"
            "  print -r -- \"$out\"; print -r -- '<<END>>'\n"
            "  zpty -n -w z $'\\x15'\n"  # Ctrl-U: kill the line
            "  shift 2\n"
            "done\n"
            "zpty -d z\n")
        args = [w for case in cases for w in case]
        r = subprocess.run(["zsh", "-f", "-c", prog, "zsh", COMPLETIONS,
                            *args], env=self.env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", r.stdout)
        return out.split("<<END>>")[:len(cases)]

    @unittest.skipUnless(shutil.which("fish"), "fish is not installed")
    def test_fish(self):
        path = os.path.join(COMPLETIONS, "ehlo.fish")
        r = subprocess.run(["fish", "-n", path], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual((r.returncode, r.stderr), (0, ""))

        def fish(line):
            r = subprocess.run(
                ["fish", "--no-config", "-c",
                 f"source {path}; complete -C '{line}'"],
                env=self.env, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return sorted(w.split("\t")[0] for w in r.stdout.splitlines())

        self.assertEqual(fish("ehlo probe re"), ["relay"])
        self.assertIn("mine", fish("ehlo --theme "))
        self.assertEqual(fish("ehlo show "), ["1", "2"])
        self.assertIn("greeting", fish("ehlo lesson "))


if __name__ == "__main__":
    servers.main()
