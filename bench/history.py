#!/usr/bin/env python3
"""bench/history.py: the history store at scale, and what recording costs.

Started by bench/bench.py (or alone: history.py --ehlo PATH [--quick]).

1. Recording: `ehlo run` of 5,000 NOOPs against Postfix's smtp-sink with
   `--no-history` and with a history database, alternating; the medians'
   ratio is the cost of recording (target: at most 1.10).
2. A database of 100,000 sessions and 10,000,000 events (--quick: 10,000
   and 1,000,000), made by ehlo itself (so the schema is the real one,
   migrations included) and then filled by SQL inside one transaction,
   the search index rebuilt once.  Then `ehlo history` and
   `ehlo history --search TEXT` (a rare address, a reply code in one
   session out of ten, two words) are timed as whole processes
   (target: each at most 50 ms).
3. Recording at scale: one small transaction recorded beside that big
   database against the same beside a database of one session,
   alternating: recording must not get slower as the history grows
   (a run spools and reads only the header and the STARTTLS pins).

Prints one JSON object on the last line of stdout: the figures, which
bench.py turns into a section of docs/BENCHMARKS.md.
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

NOOPS = 5000


def timed(argv, env=None, stdin=None):
    t = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, stdin=stdin, check=False)
    dt = time.monotonic() - t
    if r.returncode != 0:
        raise RuntimeError(f"{argv}: exit {r.returncode}: "
                           f"{r.stderr.decode(errors='replace')[-400:]}")
    return dt, r.stdout


def cpu_of_children():
    ru = os.times()
    return ru.children_user + ru.children_system


def recording(ehlo, tmp, port, reps):
    """The long session three ways, alternating: --no-history ("off"),
    recording into a new database each time, so straight into SQLite
    ("on"), and recording beside an existing database, so into the
    spool ("spool"), imported at the end and counted."""
    script = os.path.join(tmp, "noops.txt")
    with open(script, "w") as f:
        f.write("EHLO bench.example\n" + "NOOP\n" * NOOPS + "QUIT\n")
    db = os.path.join(tmp, "rec.db")
    kept = os.path.join(tmp, "spool.db")
    timed([ehlo, "run", "--db", kept, f"127.0.0.1:{port}", os.devnull])
    res = {"off": [], "on": [], "spool": [], "off_cpu": [], "on_cpu": [],
           "spool_cpu": []}
    modes = ("off", "on", "spool")
    for rep in range(reps):
        for mode in (modes if rep % 2 == 0 else modes[::-1]):
            argv = [ehlo, "run"]
            if mode == "off":
                argv.append("--no-history")
            elif mode == "on":
                for p in (db, db + "-wal", db + "-shm"):
                    if os.path.exists(p):
                        os.unlink(p)
                argv += ["--db", db]
            else:
                argv += ["--db", kept]
            c0 = cpu_of_children()
            dt, out = timed(argv + [f"127.0.0.1:{port}", script])
            res[mode + "_cpu"].append(cpu_of_children() - c0)
            if out.count(b"S: 250") < NOOPS:
                raise RuntimeError(f"recording run ({mode}) saw "
                                   f"{out.count(b'S: 250')} replies")
            res[mode].append(dt)
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    if n < 2 * NOOPS:
        raise RuntimeError(f"only {n} events recorded")
    # The spooled sessions, imported by the next ehlo to open it.
    timed([ehlo, "history", "--db", kept])
    con = sqlite3.connect(kept)
    ns = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    if ns < 2 * NOOPS * reps:
        raise RuntimeError(f"only {ns} spooled events imported")
    return res, n


# Ten event shapes per session, repeated to make 100: a sender and a
# recipient unique to the session, one session in ten refused with
# 550 5.1.1, the others accepted.
FILL = """
WITH RECURSIVE
  s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :sessions),
  k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < :per - 1)
INSERT INTO events (session_id, seq, t_us, dir, text, stage, code,
                    enhanced, flags, stage_no, grp, latency_us)
SELECT s.n + :base, k.n + 1, k.n * 1500,
       CASE k.n % 10 WHEN 0 THEN 'S' WHEN 2 THEN 'S' WHEN 4 THEN 'S'
                     WHEN 6 THEN 'S' WHEN 8 THEN 'S' ELSE 'C' END,
       CASE k.n % 10
         WHEN 0 THEN '220 mx' || (s.n % 50) || '.bench.example ESMTP'
         WHEN 1 THEN 'EHLO client' || (s.n % 200) || '.bench.example'
         WHEN 2 THEN '250-mx' || (s.n % 50) || '.bench.example'
         WHEN 3 THEN 'MAIL FROM:<user' || s.n || '@example.org>'
         WHEN 4 THEN '250 2.1.0 Ok'
         WHEN 5 THEN 'RCPT TO:<rcpt' || s.n || '@dest' || (s.n % 13)
                     || '.example>'
         WHEN 6 THEN CASE WHEN s.n % 10 = 7
                     THEN '550 5.1.1 <rcpt' || s.n || '@dest' || (s.n % 13)
                          || '.example>: Recipient address rejected'
                     ELSE '250 2.1.5 Ok' END
         WHEN 7 THEN 'DATA'
         WHEN 8 THEN '354 End data with <CR><LF>.<CR><LF>'
         ELSE 'Subject: report ' || (s.n % 1000) || ' of week '
              || (k.n / 10) END,
       NULL, NULL, NULL, CASE WHEN k.n % 2 = 0 THEN 64 ELSE 0 END,
       NULL, NULL, NULL
FROM s, k;
"""


def make_db(ehlo, tmp, port, sessions, per):
    """A database with the real schema (ehlo makes it: one session), then
    `sessions` sessions of `per` events each by SQL, one transaction."""
    db = os.path.join(tmp, "big.db")
    script = os.path.join(tmp, "one.txt")
    with open(script, "w") as f:
        f.write("EHLO bench.example\nQUIT\n")
    timed([ehlo, "run", "--db", db, f"127.0.0.1:{port}", script])
    t0 = time.monotonic()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -262144")
    con.execute("BEGIN")
    base = con.execute("SELECT max(id) FROM sessions").fetchone()[0]
    now = int(time.time())
    con.execute(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
        "WHERE n < ?) INSERT INTO sessions (id, started, ended, server, "
        "port, tls_mode, exit_status, label, caps, plain_caps) "
        "SELECT n + ?, ? - (? - n) * 60,"
        " ? - (? - n) * 60 + 1, CASE WHEN n % 50 = 0 THEN ? ELSE "
        "'mx' || (n % 50) || '.bench.example' END, "
        "CASE WHEN n % 50 = 0 THEN ? ELSE 25 END, "
        "'plain', CASE WHEN n % 10 = 7 THEN 1 ELSE 0 END, "
        "CASE WHEN n % 1000 = 0 THEN 'weekly check ' || n END, "
        "?, ? FROM s",
        (sessions, base, now, sessions, now, sessions,
         "127.0.0.1", port, CAPS, CAPS))
    con.execute(FILL, {"sessions": sessions, "per": per, "base": base})
    con.execute("INSERT INTO events_fts(events_fts) VALUES ('rebuild')")
    con.execute("UPDATE fts_state SET last_event_id = "
                "(SELECT max(id) FROM events)")
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    nev = con.execute("SELECT max(id) FROM events").fetchone()[0]
    con.close()
    # On disk now, so the first timed session's checkpoint does not pay
    # for writing back the whole generated file.
    fd = os.open(db, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    return db, time.monotonic() - t0, nev


CAPS = "PIPELINING\nSIZE 10240000\n8BITMIME\nENHANCEDSTATUSCODES"

SMALL = ("EHLO bench.example\nMAIL FROM:<a@example.org>\n"
         "RCPT TO:<b@example.org>\nDATA\nSubject: scale\n\nhello\n.\n"
         "QUIT\n")


def record_at_scale(ehlo, tmp, port, big, reps):
    """One small transaction recorded into the big database and into a
    database of one session, alternating."""
    script = os.path.join(tmp, "small.txt")
    with open(script, "w") as f:
        f.write(SMALL)
    small = os.path.join(tmp, "small.db")
    timed([ehlo, "run", "--db", small, f"127.0.0.1:{port}", script])
    res = {"big": [], "small": []}
    for rep in range(reps):
        for which in (("big", "small") if rep % 2 == 0 else
                      ("small", "big")):
            db = big if which == "big" else small
            dt, out = timed([ehlo, "run", "--db", db,
                             f"127.0.0.1:{port}", script])
            if b"S: 221" not in out:
                raise RuntimeError(f"recording at scale ({which}): "
                                   "no 221 seen")
            res[which].append(dt)
    return res


QUERIES = [
    ("ehlo history", []),
    ("ehlo history --json", ["--json"]),
    ("--search a rare address", ["--search", "user{mid}@example.org"]),
    ("--search 550 5.1.1 (1 session in 10)", ["--search", "550 5.1.1"]),
    ("--search two words", ["--search", "Recipient rejected"]),
    ("--search a label", ["--search", "weekly"]),
]


def listing(ehlo, db, sessions, reps):
    out = {}
    for name, args in QUERIES:
        args = [a.replace("{mid}", str(sessions // 2)) for a in args]
        ts = []
        rows = 0
        for _ in range(reps):
            dt, o = timed([ehlo, "history", "--db", db] + args)
            ts.append(dt)
            rows = o.count(b"\n")
        out[name] = {"median": statistics.median(ts), "min": min(ts),
                     "max": max(ts), "lines": rows}
        print(f"  {name:40} median {statistics.median(ts) * 1000:7.1f} ms"
              f"  ({rows} lines)", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ehlo", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    ehlo = os.path.abspath(a.ehlo)
    tmp = tempfile.mkdtemp(prefix="ehlo-bench-hist-")
    os.chmod(tmp, 0o755)
    sink = None
    try:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import bench  # noqa: E402  (its smtp-sink wrapper)
        sink = bench.SmtpSink(tmp)
        reps = 5 if a.quick else 11
        print(f"== recording: {NOOPS} NOOPs, x{reps}", flush=True)
        rec, nrec = recording(ehlo, tmp, sink.port, reps)
        off = statistics.median(rec["off"])
        on = statistics.median(rec["on"])
        print(f"  no history {off * 1000:.0f} ms, history {on * 1000:.0f} ms"
              f" ({on / off:.2f}x), {nrec} rows", flush=True)
        sessions, per = (10000, 100) if a.quick else (100000, 100)
        print(f"== making a database: {sessions} sessions x {per} events",
              flush=True)
        db, gen_s, nev = make_db(ehlo, tmp, sink.port, sessions, per)
        size = os.path.getsize(db)
        print(f"  {nev} events, {size / 1e6:.0f} MB, {gen_s:.0f} s",
              flush=True)
        lst = listing(ehlo, db, sessions, 5 if a.quick else 11)
        print("== recording into that database", flush=True)
        scale = record_at_scale(ehlo, tmp, sink.port, db,
                                5 if a.quick else 15)
        print(f"  {statistics.median(scale['big']) * 1000:.1f} ms, into a "
              f"database of one session "
              f"{statistics.median(scale['small']) * 1000:.1f} ms",
              flush=True)
        result = {
            "noops": NOOPS, "recorded_rows": nrec,
            "record_off": rec["off"], "record_on": rec["on"],
            "record_off_cpu": rec["off_cpu"], "record_on_cpu": rec["on_cpu"],
            "record_spool": rec["spool"], "record_spool_cpu": rec["spool_cpu"],
            "sessions": sessions + 1, "events": nev, "db_bytes": size,
            "gen_seconds": gen_s, "queries": lst, "quick": a.quick,
            "scale_big": scale["big"], "scale_small": scale["small"],
        }
        print(json.dumps(result))
        return 0
    finally:
        if sink:
            sink.stop()
        if a.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
