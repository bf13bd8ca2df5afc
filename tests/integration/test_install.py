"""`cmake --install` and the .deb (CMakeLists.txt, install and CPack).

Installs the build tree with DESTDIR into a temporary directory, once
with CMAKE_INSTALL_PREFIX /usr and once with --prefix /opt/ehlo, and
checks that every file lands where GNUInstallDirs and the shells expect
it: the binary (which runs), the three man pages, the bash, zsh and fish
completions, the themes, README, LICENSE and the JSON schema.  The .deb
(CPack) is built, installed with dpkg -i, used and removed by .ci/run:
building it here would cost half a minute of the suite.
"""

import glob
import os
import shutil
import subprocess
import tempfile

import servers

SRC = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))

# Relative to the prefix.
FILES = [
    "bin/ehlo",
    "share/man/man1/ehlo.1",
    "share/man/man5/ehlo.conf.5",
    "share/man/man5/ehlo-themes.5",
    "share/man/man5/ehlo-lessons.5",
    "share/bash-completion/completions/ehlo",
    "share/zsh/vendor-completions/_ehlo",
    "share/fish/vendor_completions.d/ehlo.fish",
    "share/doc/ehlo/README.md",
    "share/doc/ehlo/LICENSE",
    "share/doc/ehlo/schema.json",
]


class InstallTest(servers.EhloTestCase):

    @classmethod
    def setUpClass(cls):
        cls.build = os.path.dirname(servers.ehlo_bin())
        if not os.path.isfile(os.path.join(cls.build, "CMakeCache.txt")):
            servers.skip_file(f"{cls.build} is not a CMake build directory")
        cls.themes = sorted(os.path.basename(p) for p in
                            glob.glob(os.path.join(SRC, "themes",
                                                   "*.theme")))
        cls.lessons = sorted(os.path.basename(p) for p in glob.glob(
            os.path.join(SRC, "protocol", "knowledge", "lessons",
                         "*.lesson")))

    def install(self, prefix):
        tmp = tempfile.mkdtemp(prefix="ehlo-install-")
        self.addCleanup(shutil.rmtree, tmp)
        r = subprocess.run(["cmake", "--install", self.build, "--prefix",
                            prefix], env=dict(os.environ, DESTDIR=tmp),
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return tmp

    def check_tree(self, root):
        lessons = [f"share/ehlo/lessons/{x}" for x in self.lessons]
        self.assertGreater(len(lessons), 20)
        for rel in (FILES + [f"share/ehlo/themes/{t}" for t in self.themes]
                    + lessons):
            self.assertTrue(os.path.isfile(os.path.join(root, rel)),
                            f"{rel} was not installed under {root}")
        ehlo = os.path.join(root, "bin", "ehlo")
        self.assertTrue(os.access(ehlo, os.X_OK))
        r = subprocess.run([ehlo, "--version"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^ehlo \d+\.\d+\.\d+ ")
        # The installed lesson files are valid examples (ehlo-lessons(5)).
        r = subprocess.run([ehlo, "lesson", "--check",
                            *(os.path.join(root, x) for x in lessons)],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(root, "share/doc/ehlo/LICENSE")) as f:
            self.assertIn("the ehlo authors", f.read())

    def test_destdir_usr(self):
        tmp = self.install("/usr")
        self.check_tree(os.path.join(tmp, "usr"))
        # Nothing outside DESTDIR/usr.
        self.assertEqual(os.listdir(tmp), ["usr"])

    def test_destdir_prefix(self):
        tmp = self.install("/opt/ehlo")
        self.check_tree(os.path.join(tmp, "opt", "ehlo"))
        self.assertEqual(os.listdir(tmp), ["opt"])


if __name__ == "__main__":
    servers.main()
