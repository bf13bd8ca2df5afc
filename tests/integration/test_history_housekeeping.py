"""History housekeeping (issue 17 item 8) against smtp-sink on loopback:
`ehlo history rm ID...`, `ehlo history prune --older-than AGE [--yes]`
(counts first, deletes with --yes, VACUUM after a large prune), and
`--no-content` (the envelope and replies are recorded, the message is
not: no rows, no body content, nothing to search for).
"""

import json
import os
import sqlite3

import servers
from test_history import SinkHistoryBase


def session_script(word, lines=1):
    body = "".join(f"{word} line {i} " + "x" * 60 + "\n"
                   for i in range(lines))
    return ("EHLO client.example.test\nMAIL FROM:<alice@example.test>\n"
            f"RCPT TO:<bob@example.test>\nDATA\nSubject: {word}\n\n"
            f"{body}.\nQUIT\n")


class HousekeepingTest(SinkHistoryBase):

    def record(self, word, *extra, lines=1):
        r = self.run_db(["run", *extra, self.server],
                        session_script(word, lines))
        self.assertExit(r, 0)

    def by_id(self):
        r = self.run_db(["history", "--json", "--limit", "0"])
        self.assertExit(r, 0)
        return {s["id"]: s for s in map(json.loads, r.stdout.splitlines())}

    def age(self, ids, days):
        with sqlite3.connect(self.db) as db:
            for i in ids:
                db.execute("UPDATE sessions SET started = started - ? "
                           "WHERE id = ?", (days * 86400, i))

    def test_rm(self):
        for word in ("alpha", "bravo", "charlie"):
            self.record(word)
        r = self.run_db(["replay", "1"])
        self.assertExit(r, 0)
        self.assertEqual(self.by_id()[4]["replay_of"], 1)
        r = self.run_db(["history", "rm", "1", "#2"])
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "deleted session #1\n"
                                   "deleted session #2\n")
        left = self.by_id()
        self.assertEqual(sorted(left), [3, 4])
        self.assertIsNone(left[4]["replay_of"])
        self.assertExit(self.run_db(["show", "1"]), 2)
        r = self.run_db(["history", "--search", "bravo"])
        self.assertNotRegex(r.stdout, r"(?m)^ +2 ")
        with sqlite3.connect(self.db) as db:
            self.assertEqual(db.execute(
                "SELECT count(*) FROM events WHERE session_id IN (1, 2)")
                .fetchone()[0], 0)
        r = self.run_db(["history", "rm", "99"])
        self.assertExit(r, 2)
        self.assertIn("no session #99", r.stderr)
        self.assertExit(self.run_db(["history", "rm"]), 2)

    def test_retention_from_the_configuration(self):
        for word in ("ancient", "recent"):
            self.record(word)
        self.by_id()  # imports the spool
        self.age([1], 40)
        cfg = os.path.join(self.tmp, "retention.conf")
        with open(cfg, "w") as f:
            f.write("defaults\nhistory_retention 30d\n")
        r = self.run_db(["history", "--config", cfg])
        self.assertExit(r, 0)
        self.assertNotRegex(r.stdout, r"(?m)^ +1 ")
        self.assertRegex(r.stdout, r"(?m)^ +2 ")
        self.assertEqual(sorted(self.by_id()), [2])
        with open(cfg, "w") as f:
            f.write("defaults\nhistory_retention soon\n")
        r = self.run_db(["history", "--config", cfg])
        self.assertExit(r, 2)
        self.assertIn("retention.conf:2:", r.stderr)
        self.assertIn("history_retention", r.stderr)

    def test_prune_counts_then_deletes(self):
        for word in ("old1", "old2", "new"):
            self.record(word)
        self.by_id()  # imports the spool
        self.age([1, 2], 100)
        r = self.run_db(["history", "prune", "--older-than", "90d"])
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"^would delete 2 sessions \(\d+ "
                         r"events, 2 message bodies\) started before ")
        self.assertIn("--yes", r.stdout)
        self.assertEqual(sorted(self.by_id()), [1, 2, 3])
        r = self.run_db(["history", "prune", "--older-than", "90d",
                         "--yes"])
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"^deleted 2 sessions ")
        self.assertEqual(sorted(self.by_id()), [3])
        for bad in ("90", "90x", "d", "-1d"):
            r = self.run_db(["history", "prune", "--older-than", bad])
            self.assertExit(r, 2)
            self.assertIn("--older-than", r.stderr)
        r = self.run_db(["history", "prune"])
        self.assertExit(r, 2)
        r = self.run_db(["history", "--yes"])
        self.assertExit(r, 2)

    def test_large_prune_vacuums(self):
        for i in range(6):
            self.record(f"big{i}", lines=800)  # ~56 KB kept per message
        self.record("small")
        self.by_id()
        self.age(range(1, 7), 400)
        before = os.path.getsize(self.db)
        r = self.run_db(["history", "prune", "--older-than", "1w", "--yes"])
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"(?m)^deleted 6 sessions ")
        self.assertRegex(r.stdout, r"(?m)^compacted the database \(VACUUM\)")
        self.assertLess(os.path.getsize(self.db), before / 2)
        self.assertEqual(sorted(self.by_id()), [7])

    def test_no_content(self):
        self.record("topsecretword", "--no-content", lines=3)
        sid = max(self.by_id())
        with sqlite3.connect(self.db) as db:
            texts = [t for (t,) in db.execute(
                "SELECT text FROM events WHERE session_id = ?", (sid,))]
            body = db.execute("SELECT size, content, first_lines FROM "
                              "bodies WHERE session_id = ?",
                              (sid,)).fetchone()
        self.assertIn("MAIL FROM:<alice@example.test>", texts)
        self.assertIn("RCPT TO:<bob@example.test>", texts)
        self.assertTrue(any(t.startswith("250 ") and "queued" in t.lower()
                            or t.startswith("250 2.0.0") for t in texts))
        self.assertFalse([t for t in texts if "topsecretword" in t], texts)
        self.assertGreater(body[0], 200)
        self.assertIsNone(body[1])
        self.assertIsNone(body[2])
        r = self.run_db(["history", "--search", "topsecretword"])
        self.assertNotRegex(r.stdout, rf"(?m)^ +{sid} ")
        r = self.run_db(["export", str(sid), "--format", "swaks"])
        self.assertExit(r, 0)
        self.assertIn("not kept (recorded with --no-content)", r.stdout)
        r = self.run_db(["send", "--no-content", self.server, "--from",
                         "alice@example.test", "--to", "bob@example.test",
                         "--subject", "topsecretword"])
        self.assertExit(r, 0)
        sid = max(self.by_id())
        with sqlite3.connect(self.db) as db:
            body = db.execute("SELECT size, content FROM bodies WHERE "
                              "session_id = ?", (sid,)).fetchone()
        self.assertGreater(body[0], 100)
        self.assertIsNone(body[1])


if __name__ == "__main__":
    servers.main()
