#!/usr/bin/env python3
"""bench/fleet.py [--targets N] [--parallel P] [--quick] [--no-write]:
`ehlo check --targets FILE` against sequential `ehlo check` runs and
against Debian's check_smtp run by a shell loop, on loopback.

The peers: a handful of Postfix smtp-sink processes (--sinks, default
10), each on its own port; the N targets are spread over them.  Three
ways to check all N:

  fleet       ehlo check --targets FILE --parallel P   (one process)
  sequential  a shell loop running `ehlo check SERVER` N times
  check_smtp  a shell loop running `check_smtp -H HOST -p PORT` N times

Each is timed over the whole run (best of --repeat) and every run must
report every target OK, so no failed or skipped target makes a time look
good.  The fleet's peak memory (maximum RSS from /usr/bin/time) is also
measured at N/4, N and 4N targets: it should follow P, not N.  The
figures go to stdout and, unless --no-write, into the "Fleet" section of
docs/BENCHMARKS.md (between the fleet markers; the section is appended
when missing).

Benchmark tool: run it on an otherwise quiet machine, as root (smtp-sink
switches to nobody).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CHECK_SMTP = "/usr/lib/nagios/plugins/check_smtp"
BEGIN = "<!-- fleet:begin (bench/fleet.py writes this section) -->"
END = "<!-- fleet:end -->"


def free_ports(count):
    import socket
    socks, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def start_sinks(count):
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    procs, ports = [], free_ports(count)
    for port in ports:
        argv = [sink, "-h", "sink.example.test", f"127.0.0.1:{port}", "256"]
        if os.geteuid() == 0:
            argv[1:1] = ["-u", "nobody"]
        procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
    deadline = time.monotonic() + 10
    import socket
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"smtp-sink on {port} did not start")
                time.sleep(0.05)
    return procs, ports


def timed(argv, stdin=None):
    """(seconds, stdout) of argv."""
    start = time.monotonic()
    proc = subprocess.run(argv, stdin=stdin, capture_output=True, text=True)
    return time.monotonic() - start, proc.stdout


def best(runs, fn):
    return min(fn() for _ in range(runs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets", type=int, default=1000)
    ap.add_argument("--parallel", type=int, default=50)
    ap.add_argument("--sinks", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--ehlo", default=os.path.join(ROOT, "build", "ehlo"))
    ap.add_argument("--quick", action="store_true",
                    help="100 targets, one run each")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.targets, args.repeat = 100, 1
    if not os.access(CHECK_SMTP, os.X_OK):
        sys.exit("bench/fleet.py: check_smtp missing "
                 "(apt-get install monitoring-plugins-standard)")
    procs, ports = start_sinks(args.sinks)
    tmp = tempfile.TemporaryDirectory(prefix="ehlo-fleet-bench-")
    try:
        def target_file(n):
            path = os.path.join(tmp.name, f"targets-{n}")
            with open(path, "w") as f:
                for i in range(n):
                    f.write(f"127.0.0.1:{ports[i % len(ports)]}\n")
            return path

        n = args.targets
        path = target_file(n)
        pairs = os.path.join(tmp.name, "pairs")
        with open(pairs, "w") as f:
            for i in range(n):
                f.write(f"127.0.0.1 {ports[i % len(ports)]}\n")

        def fleet():
            secs, out = timed([args.ehlo, "check", "--targets", path,
                               "--parallel", str(args.parallel)])
            if not re.search(rf"^SMTP OK - {n} targets: {n} OK", out, re.M):
                raise RuntimeError("fleet run not all OK:\n" + out[-2000:])
            return secs

        def loop(cmd):
            script = (f"while read h p; do {cmd}; done < {pairs} "
                      "| grep -c '^SMTP OK'")

            def run():
                secs, out = timed(["/bin/sh", "-c", script])
                if out.strip() != str(n):
                    raise RuntimeError(f"{cmd}: {out.strip()} of {n} OK")
                return secs
            return run

        t_fleet = best(args.repeat, fleet)
        t_seq = best(args.repeat, loop(f'{args.ehlo} check "$h:$p"'))
        t_cs = best(args.repeat, loop(f'{CHECK_SMTP} -H "$h" -p "$p"'))
        rss = {}
        for m in (n // 4, n, n * 4):
            p = target_file(m)
            out = subprocess.run(
                ["/usr/bin/time", "-f", "%M", args.ehlo, "check",
                 "--targets", p, "--parallel", str(args.parallel)],
                capture_output=True, text=True)
            rss[m] = int(out.stderr.strip().splitlines()[-1])
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        tmp.cleanup()

    load = os.getloadavg()[0]
    section = f"""{BEGIN}
## Fleet: `ehlo check --targets` (issue 19)

{n} loopback targets spread over {args.sinks} smtp-sink processes, every
check ending OK, best of {args.repeat} (`bench/fleet.py`, load average
{load:.1f} on {os.cpu_count()} CPUs when it ran):

| how | time | per target | vs the fleet |
| --- | ---: | ---: | ---: |
| `ehlo check --targets FILE --parallel {args.parallel}` | {t_fleet:.2f} s | {t_fleet / n * 1000:.2f} ms | 1.00× |
| sequential `ehlo check` (a shell loop) | {t_seq:.2f} s | {t_seq / n * 1000:.2f} ms | {t_seq / t_fleet:.1f}× |
| `check_smtp` in a shell loop | {t_cs:.2f} s | {t_cs / n * 1000:.2f} ms | {t_cs / t_fleet:.1f}× |

The fleet is {t_cs / t_fleet:.1f} times faster than check_smtp in a loop
and {t_seq / t_fleet:.1f} times faster than the same check run once per
target: one process and one event loop instead of a process per target,
and up to {args.parallel} conversations at once.  Sequential `ehlo check`
against check_smtp: {t_seq / t_cs:.2f}×.

Peak memory of the fleet (maximum RSS) follows `--parallel`, not the
number of targets: {', '.join(f'{m} targets {kb / 1024:.1f} MiB'
                               for m, kb in rss.items())}.
{END}
"""
    print(section)
    if args.no_write or args.quick:
        return
    doc = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    with open(doc) as f:
        text = f.read()
    if BEGIN in text and END in text:
        text = (text[:text.index(BEGIN)] + section.rstrip("\n") +
                text[text.index(END) + len(END):])
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(doc, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
