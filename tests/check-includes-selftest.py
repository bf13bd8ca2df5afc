#!/usr/bin/env python3
"""Tests of tests/check-includes.py on small trees made in a temporary
folder: it fails on a planted include cycle and on a planted long file
(a source, or a test or tool source under tests/ or bench/), names them,
passes the clean tree, and leaves test data out of the size rule."""

import os
import subprocess
import sys
import tempfile
import unittest

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     "check-includes.py")


class CheckIncludes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ehlo-includes-")
        self.addCleanup(self.tmp.cleanup)
        self.root = self.tmp.name
        for d in ("core", "protocol", "history", "themes", "tui"):
            os.mkdir(os.path.join(self.root, d))
        # A clean tree: b uses a, a uses nothing.
        self.put("core/a.h", "#include <stddef.h>\n")
        self.put("core/a.c", '#include "core/a.h"\n')
        self.put("core/b.h", '#include "core/a.h"\n')
        self.put("core/b.c", '#include "core/b.h"\n#include "core/a.h"\n')

    def put(self, path, text):
        os.makedirs(os.path.dirname(os.path.join(self.root, path)),
                    exist_ok=True)
        with open(os.path.join(self.root, path), "w") as f:
            f.write(text)

    def check(self):
        r = subprocess.run([sys.executable, CHECK, self.root],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def test_clean_tree_passes(self):
        rc, out = self.check()
        self.assertEqual(rc, 0, out)
        self.assertIn("includes: ok", out)

    def test_cycle_through_a_private_header_fails(self):
        # a.c includes b's header, b.c includes a's: a <-> b.
        self.put("core/a.c", '#include "core/a.h"\n#include "core/b.h"\n')
        rc, out = self.check()
        self.assertEqual(rc, 1, out)
        self.assertIn("include cycle: core/a <-> core/b", out)
        self.assertIn("core/a.c:2 -> core/b", out)

    def test_three_room_cycle_fails(self):
        self.put("history/x.h", '#include "history/y.h"\n')
        self.put("history/y.h", '#include "history/z_int.h"\n')
        self.put("history/z_int.h", '#include "history/x.h"\n')
        rc, out = self.check()
        self.assertEqual(rc, 1, out)
        # z_int.h is z's private header: one room with z.c and z.h.
        self.assertIn("history/x <-> history/y <-> history/z", out)
        self.assertIn("history/z_int.h:1 -> history/x", out)

    def test_private_header_of_a_room_is_not_a_cycle(self):
        # s.c includes its private header, which includes s.h.
        self.put("protocol/s.h", "#include <stddef.h>\n")
        self.put("protocol/s_int.h", '#include "protocol/s.h"\n')
        self.put("protocol/s.c", '#include "protocol/s_int.h"\n')
        self.put("protocol/s_send.c", '#include "protocol/s_int.h"\n')
        rc, out = self.check()
        self.assertEqual(rc, 0, out)

    def test_the_old_cli_workbench_lang_cycle_fails(self):
        self.put("tui/cli.h", '#include "tui/lang.h"\n')
        self.put("tui/lang.h", '#include "tui/workbench.h"\n')
        self.put("tui/workbench.h", '#include "tui/cli.h"\n')
        rc, out = self.check()
        self.assertEqual(rc, 1, out)

    def test_long_file_fails(self):
        self.put("history/big.c", "int x;\n" * 1001)
        self.put("tui/edge.c", "int y;\n" * 1000)  # exactly the limit
        rc, out = self.check()
        self.assertEqual(rc, 1, out)
        self.assertIn("history/big.c: 1001 lines", out)
        self.assertNotIn("tui/edge.c", out)

    def test_long_test_and_tool_sources_fail(self):
        self.put("tests/unit/test_big.c", "int x;\n" * 1001)
        self.put("tests/unit/big_fixture.h", "int y;\n" * 1001)
        self.put("tests/integration/big.py", "x = 1\n" * 1001)
        self.put("bench/big.py", "x = 1\n" * 1001)
        self.put("tests/fuzz/run.sh", "true\n" * 1001)
        self.put("bench/edge.py", "x = 1\n" * 1000)  # exactly the limit
        rc, out = self.check()
        self.assertEqual(rc, 1, out)
        for f in ("tests/unit/test_big.c", "tests/unit/big_fixture.h",
                  "tests/integration/big.py", "bench/big.py",
                  "tests/fuzz/run.sh"):
            self.assertIn(f"{f}: 1001 lines", out)
        self.assertNotIn("bench/edge.py", out)

    def test_test_data_is_not_held_to_the_size_rule(self):
        # Inputs, corpora and cases are data, whatever their names; a
        # file that is not a source (a text file) is not counted either.
        self.put("tests/data/long.py", "x = 1\n" * 5000)
        self.put("tests/fuzz/corpus/reply/seed.c", "250 ok\n" * 5000)
        self.put("tests/hostile/cases/long.sh", "true\n" * 5000)
        self.put("tests/notes.txt", "note\n" * 5000)
        rc, out = self.check()
        self.assertEqual(rc, 0, out)
        self.assertIn("includes: ok", out)


if __name__ == "__main__":
    unittest.main()
