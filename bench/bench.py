#!/usr/bin/env python3
"""bench.py: ehlo against swaks, curl, msmtp and Python smtplib.

Started by bench/run (which installs the tools and builds ehlo); see
docs/BENCHMARKS.md for what it measures and the latest results.

Everything lives in one temporary directory that is removed at the end:
the inputs, a certificate made for this run, the sinks' logs, every
tool's output.  Servers listen on 127.0.0.1 only.

Shape of a workload: a list of tools, each with an argv, the sink it
talks to and what the sink must have received.  Tools run alternately
(the order rotates every round), each run is timed as a whole process
(wall clock around fork/exec/wait4, peak RSS from wait4's rusage), and a
run counts only when its exit status is 0 and the sink reports the
message complete: recipients, octet count and CRC-32 of the content
(fastsink, tlssink), or the dumped transaction (smtp-sink).
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SENDER = "sender@bench.example"
RCPT1 = "rcpt@bench.example"
NRCPT = 100


def rcpts(n):
    return [RCPT1] if n == 1 else [f"rcpt{i}@bench.example"
                                    for i in range(n)]


# ---------------------------------------------------------------------------
# Inputs


HEADER = ("From: Sender <sender@bench.example>\n"
          "To: Recipient <rcpt@bench.example>\n"
          "Date: Sat, 28 Nov 2026 12:00:00 +0000\n"
          "Message-ID: <bench.1@bench.example>\n"
          "Subject: ehlo benchmark message\n"
          "MIME-Version: 1.0\n"
          "Content-Type: text/plain; charset=us-ascii\n"
          "\n")

WORDS = ("the quick brown fox jumps over lazy dog mail server client relay "
         "queue envelope header body line octet transfer protocol").split()


def make_block(target, seed):
    """Lines of text about `target` octets: mostly CRLF, every 5th a bare
    LF, every 11th starting with ".", every 97th a lone "."."""
    out = []
    size = 0
    i = 0
    x = seed
    while size < target:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        n = 3 + x % 14
        words = [WORDS[(x >> (k + 3)) % len(WORDS)] for k in range(n)]
        line = " ".join(words)
        if i % 97 == 50:
            line = "."
        elif i % 11 == 3:
            line = "." + line
        end = "\n" if i % 5 == 0 else "\r\n"
        out.append(line + end)
        size += len(line) + len(end)
        i += 1
    return "".join(out).encode("ascii")


def canonical(raw):
    """What a correct client sends: CRLF line ends, dots stuffed."""
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    assert lines[-1] == b""
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                    for l in lines[:-1])


class Message:
    """A generated message: header + block * count, in three forms on
    disk (raw mixed line ends, CRLF-only unstuffed for curl, the wire
    form for the sendfile client) and its expected arrival."""

    def __init__(self, tmp, name, header, block, count, forms):
        self.name = name
        self.raw = os.path.join(tmp, f"{name}.eml")
        self.crlf = os.path.join(tmp, f"{name}.crlf.eml")
        self.stuffed = os.path.join(tmp, f"{name}.wire")
        block_c = canonical(block)
        head_c = canonical(header)
        paths = {"raw": self.raw, "crlf": self.crlf, "wire": self.stuffed}
        files = {k: open(paths[k], "wb") for k in forms}
        per = {"raw": (header, block),
               "crlf": (header.replace(b"\r\n", b"\n").replace(b"\n",
                                                               b"\r\n"),
                        block.replace(b"\r\n", b"\n").replace(b"\n",
                                                              b"\r\n")),
               "wire": (head_c, block_c)}
        for k, f in files.items():
            f.write(per[k][0])
            for _ in range(count):
                f.write(per[k][1])
        for k, f in files.items():
            if k == "wire":
                f.write(b".\r\n")
            f.close()
        crc = zlib.crc32(head_c)
        for _ in range(count):
            crc = zlib.crc32(block_c, crc)
        self.content_bytes = len(head_c) + count * len(block_c)
        self.raw_bytes = len(header) + count * len(block)
        # Arrival as the sink sees it: content, then ".\r\n"; swaks
        # adds one more CRLF before the dot.
        self.expect = {
            "exact": (self.content_bytes + 3, zlib.crc32(b".\r\n", crc)),
            "extra_crlf": (self.content_bytes + 5,
                           zlib.crc32(b"\r\n.\r\n", crc)),
        }
        # smtp-sink dumps content with LF line ends and dots unstuffed.
        self.dump_text = None
        if count * len(block) < 1 << 20:
            plain = (header + block * count).replace(b"\r\n", b"\n")
            self.dump_text = plain

    @property
    def wire_bytes(self):
        return self.content_bytes + 3


# ---------------------------------------------------------------------------
# Servers


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_greeting(port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), 1) as s:
                if s.recv(100).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    s.recv(100)
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no SMTP greeting on port {port}")


class Sink:
    """A sink process and its log; check() waits briefly for the line a
    run must have added."""

    def __init__(self, argv, log, port=None, cwd=None):
        self.log = log
        open(log, "a").close()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=cwd,
                                     start_new_session=True)
        self.port = port if port else int(self.proc.stdout.readline())
        wait_greeting(self.port)
        self.mark()

    def mark(self):
        self.pos = os.path.getsize(self.log)

    def new(self, want_lines=1, timeout=2.0):
        end = time.monotonic() + timeout
        while True:
            with open(self.log, "rb") as f:
                f.seek(self.pos)
                data = f.read()
            if data.count(b"\n") >= want_lines or \
                    time.monotonic() > end:
                self.pos += len(data)
                return data.decode("ascii", "replace")
            time.sleep(0.002)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def check_log_line(text, nrcpt, expect):
    m = re.search(r"rcpt=(\d+) bytes=(\d+) crc=([0-9a-f]+)", text)
    if not m:
        return f"sink logged no message ({text.strip()!r})"
    got = (int(m.group(1)), int(m.group(2)), int(m.group(3), 16))
    if got != (nrcpt, expect[0], expect[1]):
        return (f"sink got rcpt={got[0]} bytes={got[1]} crc={got[2]:08x}, "
                f"expected rcpt={nrcpt} bytes={expect[0]} "
                f"crc={expect[1]:08x}")
    return None


class SmtpSink(Sink):
    """Postfix's smtp-sink, dumping every transaction to one file."""

    def __init__(self, tmp):
        port = free_port()
        d = os.path.join(tmp, "smtp-sink")
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o777)
        log = os.path.join(d, "dump")
        argv = [shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"]
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]
        argv += ["-D", log, f"127.0.0.1:{port}", "256"]
        with open(log, "w"):
            pass
        os.chmod(log, 0o666)
        super().__init__(argv, log, port=port)

    def check(self, nrcpt, msg, variant):
        text = self.new(want_lines=0, timeout=0)
        end = time.monotonic() + 2
        while msg.dump_text.decode()[-40:] not in text and \
                time.monotonic() < end:
            time.sleep(0.002)
            text += self.new(want_lines=0, timeout=0)
        if text.count("X-Client-Addr:") != 1:
            return "smtp-sink dumped no (or more than one) transaction"
        if text.count("X-Rcpt-Args:") != nrcpt:
            return f"smtp-sink got {text.count('X-Rcpt-Args:')} recipients"
        # Each dumped transaction ends with an empty line.
        want = msg.dump_text.decode() + "\n"
        if variant == "extra_crlf":
            want += "\n"
        if not text.endswith(want):
            return "smtp-sink dumped different content"
        return None


# ---------------------------------------------------------------------------
# Tools


class Env:
    pass


def tool_argv(env, tool, mode, port, msg, nrcpt):
    """argv (and stdin path) for one tool in one mode: plain, starttls."""
    tls = mode == "starttls"
    to = rcpts(nrcpt)
    if tool.startswith("ehlo"):
        script = os.path.join(env.tmp, f"script-{msg.name}-{nrcpt}.txt")
        with open(script, "w") as f:
            f.write("EHLO bench.example\n")
            if nrcpt > 1:
                f.write("/pipeline\n")
            f.write(f"MAIL FROM:<{SENDER}>\n")
            for r in to:
                f.write(f"RCPT TO:<{r}>\n")
            if nrcpt > 1:
                f.write("/end\n")
            f.write(f"/body {msg.raw}\n")
        argv = [env.ehlo, "run"]
        if tool == "ehlo":
            argv.append("--no-history")
        else:
            argv += ["--db", os.path.join(env.tmp, "history.db")]
        if tls:
            argv += ["--starttls", "--cafile", env.cert]
        return argv + [f"127.0.0.1:{port}", script], None
    if tool == "curl":
        argv = ["curl", "-sS", f"smtp://127.0.0.1:{port}",
                "--mail-from", SENDER]
        for r in to:
            argv += ["--mail-rcpt", r]
        if tls:
            argv += ["--ssl-reqd", "--cacert", env.cert]
        return argv + ["-T", msg.crlf], None
    if tool == "swaks":
        argv = ["swaks", "--server", f"127.0.0.1:{port}", "--from", SENDER,
                "--to", ",".join(to), "--helo", "bench.example",
                "--data", "@" + msg.raw, "--suppress-data"]
        if nrcpt > 1:
            argv.append("--pipeline")
        if tls:
            argv += ["--tls", "--tls-verify", "--tls-ca-path", env.cert]
        return argv, None
    if tool == "msmtp":
        conf = os.path.join(env.tmp, f"msmtprc-{mode}-{port}")
        with open(conf, "w") as f:
            f.write(f"account default\nhost 127.0.0.1\nport {port}\n"
                    f"from {SENDER}\nauth off\ndomain bench.example\n")
            if tls:
                f.write(f"tls on\ntls_starttls on\n"
                        f"tls_trust_file {env.cert}\n")
            else:
                f.write("tls off\n")
        os.chmod(conf, 0o600)
        return ["msmtp", "-C", conf] + to, msg.raw
    if tool == "smtplib":
        argv = [env.python, os.path.join(HERE, "smtplib_send.py"),
                "127.0.0.1", str(port), msg.raw, str(nrcpt)]
        if tls:
            argv += ["--starttls", env.cert]
        return argv, None
    if tool == "sendfile":
        return [env.python, os.path.join(HERE, "sendfile_client.py"),
                "127.0.0.1", str(port), msg.stuffed], None
    raise ValueError(tool)


VARIANT = {"swaks": "extra_crlf"}


class Result:
    def __init__(self, tool):
        self.tool = tool
        self.times = []
        self.rss = []
        self.failures = []


def run_once(env, argv, stdin_path):
    """Runs argv under bench/timeexec (wall time from fork to exit, peak
    RSS from wait4): (seconds, peak RSS in KiB, exit status, output)."""
    out = os.path.join(env.tmp, "out.txt")
    res = os.path.join(env.tmp, "timeexec.txt")
    with open(out, "wb") as o, open(stdin_path or os.devnull, "rb") as i:
        subprocess.run([env.timeexec, res] + argv, stdin=i, stdout=o,
                       stderr=o, check=False)
    with open(res) as f:
        ns, kib, status = (int(x) for x in f.read().split())
    return ns / 1e9, kib, status, out


def import_spool(env):
    """The runs of `ehlo+history` after the first left their sessions in
    the spool beside the database (history/hist_spool_sink.c); the next ehlo
    that opens the database imports them.  Time that import (`ehlo
    history`), so the cost moved out of the session is shown too."""
    db = os.path.join(env.tmp, "history.db")
    spool = db + "-spool"
    n = len([f for f in os.listdir(spool) if f.endswith(".spool")]) \
        if os.path.isdir(spool) else 0
    t0 = time.perf_counter()
    r = subprocess.run([env.ehlo, "history", "--db", db, "--limit", "1"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    left = len([f for f in os.listdir(spool) if f.endswith(".spool")]) \
        if os.path.isdir(spool) else 0
    if r.returncode != 0 or left != 0:
        raise SystemExit(f"bench: importing the spool failed ({left} "
                         f"files left): {r.stderr.decode(errors='replace')}")
    return {"sessions": n, "seconds": dt}


def workload(env, title, tools, sink, mode, msg, nrcpt, reps):
    """Runs every tool reps times, alternating; returns {tool: Result}."""
    results = {t: Result(t) for t in tools}
    print(f"== {title}: {', '.join(tools)} x{reps}", flush=True)
    for rep in range(reps):
        order = tools[rep % len(tools):] + tools[:rep % len(tools)]
        for tool in order:
            argv, stdin = tool_argv(env, tool, mode, sink.port, msg, nrcpt)
            sink.mark()
            dt, rss, rc, out = run_once(env, argv, stdin)
            variant = VARIANT.get(tool, "exact")
            if rc != 0:
                err = f"exit status {rc}"
            elif isinstance(sink, SmtpSink):
                err = sink.check(nrcpt, msg, variant)
            else:
                err = check_log_line(sink.new(), nrcpt, msg.expect[variant])
            r = results[tool]
            if err:
                with open(out, "rb") as f:
                    tail = f.read()[-600:].decode("utf-8", "replace")
                r.failures.append(err)
                print(f"  {tool}: NOT COUNTED: {err}\n    {tail!r}",
                      flush=True)
            else:
                r.times.append(dt)
                r.rss.append(rss)
    for t in tools:
        r = results[t]
        if r.times:
            print(f"  {t:10} median {fmt_t(median(r.times))}  "
                  f"rss {max(r.rss) / 1024:.1f} MB  "
                  f"({len(r.times)}/{reps} counted)", flush=True)
    return results


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_t(s):
    if s != s:
        return "—"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


# ---------------------------------------------------------------------------
# The one-write check for the pipelined envelope


def pipeline_check(env, sink, msg):
    """strace ehlo: the syscall that carries MAIL must carry all 100
    RCPTs, and no other write may carry any."""
    if not shutil.which("strace"):
        return None, "strace is not installed"
    argv, _ = tool_argv(env, "ehlo", "plain", sink.port, msg, NRCPT)
    trace = os.path.join(env.tmp, "strace.txt")
    sink.mark()
    subprocess.run(["strace", "-f", "-qq", "-s", "1000000", "-o", trace,
                    "-e", "trace=write,writev,send,sendto,sendmsg"] + argv,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    err = check_log_line(sink.new(), NRCPT, msg.expect["exact"])
    if err:
        return None, err
    envelope = 0
    for line in open(trace, errors="replace"):
        if "MAIL FROM:<" in line or "RCPT TO:<" in line:
            if not re.search(r"(sendto|sendmsg|send|write|writev)\(\d+,",
                             line):
                continue
            if "C: MAIL FROM" in line or "C: RCPT" in line:
                continue  # the dialogue printed on stdout
            envelope += 1
            if line.count("RCPT TO:<") != NRCPT:
                return envelope, (f"a write carried "
                                  f"{line.count('RCPT TO:<')} RCPTs")
    return envelope, None


# ---------------------------------------------------------------------------
# Report


def machine(env):
    def pkg(name):
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name],
                           capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else "—"

    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    ver = subprocess.run([env.ehlo, "--version"], capture_output=True,
                         text=True).stdout.strip().splitlines()
    py = subprocess.run([env.python, "--version"], capture_output=True,
                        text=True).stdout.strip()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores (nproc)"),
        ("load average (1, 5, 15 min)", f"{env.load_start} at the start, "
         f"{load} at the end (other work on the machine slows every tool; "
         "compare ratios, not absolute times)"),
        ("memory", f"{mem} MiB"),
        ("kernel", platform.release()),
        ("ehlo", (ver[0] if ver else "?") + ", Release build"),
        ("curl", pkg("curl")), ("swaks", pkg("swaks")),
        ("msmtp", pkg("msmtp")), ("postfix (smtp-sink)", pkg("postfix")),
        ("python3 (smtplib, sinks)", py), ("OpenSSL", pkg("openssl")),
    ]


def table(results, ref="ehlo", unit_bytes=None):
    rows = ["| tool | median | min – max | vs ehlo | "
            + ("throughput | " if unit_bytes else "")
            + "peak RSS | counted |",
            "| --- | ---: | ---: | ---: | " + ("---: | " if unit_bytes
                                                else "") + "---: | ---: |"]
    base = median(results[ref].times) if ref in results else float("nan")
    for t, r in results.items():
        if not r.times:
            rows.append(f"| {t} | — | — | — | " +
                        ("— | " if unit_bytes else "") +
                        f"— | 0 ({r.failures[0] if r.failures else ''}) |")
            continue
        m = median(r.times)
        ratio = f"{m / base:.2f}×" if base == base else "—"
        tp = f"{unit_bytes / m / 1e6:.0f} MB/s | " if unit_bytes else ""
        rows.append(
            f"| {t} | {fmt_t(m)} | {fmt_t(min(r.times))} – "
            f"{fmt_t(max(r.times))} | {ratio} | {tp}"
            f"{max(r.rss) / 1024:.1f} MB | "
            f"{len(r.times)}/{len(r.times) + len(r.failures)} |")
    return "\n".join(rows)


def verdict(ok):
    return "**met**" if ok else "**missed**"


def write_report(env, res, out_md, chart_png, quick):
    lines = []
    w = lines.append
    w("# Benchmarks")
    w("")
    w("Generated by `bench/run` — do not edit by hand; re-run it. "
      "The profile notes at the end come from `bench/profile-notes.md`.")
    w("")
    w(f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
      + (" (quick mode)" if quick else ""))
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("| --- | --- |")
    for k, v in machine(env):
        w(f"| {k} | {v} |")
    w("")
    w("## Method")
    w("")
    w("- Every tool runs as a whole process, started by `bench/timeexec.c` "
      "(wall clock from `fork` to `wait4`, peak RSS = `ru_maxrss` of "
      "that `wait4`; the launcher is a small C program so its own memory "
      "does not leak into the child's high-water mark). Tools run alternately, the order rotating each "
      "round; the tables give the median, the fastest and slowest run, "
      "and the ratio of medians against ehlo (above 1× means slower "
      "than ehlo). Standard output and error go to a file.")
    w("- A run counts only if the tool exits 0 **and** the sink received "
      "the message complete: recipient count, octet count and CRC-32 of "
      "the content as it arrived (fastsink, tlssink), or the dumped "
      "transaction (smtp-sink).")
    w("- Sinks on 127.0.0.1: Postfix's `smtp-sink` (small plain "
      "transactions), `bench/tlssink.py` (asyncio, STARTTLS with a "
      "P-256 certificate made for the run), `bench/fastsink.c` (1 MiB "
      "reads, looks only for CRLF.CRLF with `memmem`, CRC-32 of the "
      "content; throughput and 100 recipients).")
    w("- Message inputs mix CRLF and bare LF line ends (every 5th line "
      "bare LF), and every 11th line starts with `.` (some are a lone "
      "`.`), so clients must normalise and dot-stuff. ehlo, swaks, msmtp "
      "and smtplib read that file. **curl** does not normalise line ends "
      "(with `--crlf` it turns CRLF into CR CR LF), so it is given the "
      "same message with CRLF line ends already in place: it only "
      "dot-stuffs. The **sendfile** client is given the wire form "
      "(normalised, stuffed, terminated) and does no content work: the "
      "ceiling for any client on this machine.")
    w("- ehlo runs as `ehlo run --no-history` (the others keep no "
      "history either); `ehlo+history` in the small-transaction table is "
      "the default, recording every line: its first run makes the "
      "database, the later runs spool (see the History section).")
    w("- STARTTLS: every tool verifies the certificate against the same "
      "CA file (`--cafile`, `--cacert`, `--tls-ca-path`, "
      "`tls_trust_file`, `create_default_context(cafile=)`). ehlo also "
      "loads the system store (its `--cafile` adds trust anchors).")
    w("- Peers: curl (`--mail-rcpt` per recipient), swaks "
      "(`--suppress-data`, `--pipeline` for 100 recipients), msmtp "
      "(config file in the run's temporary directory; it pipelines by "
      "itself), `bench/smtplib_send.py` (`SMTP.sendmail` with the "
      "message as text), `bench/sendfile_client.py`.")
    w("")
    w("## Results")
    w("")
    targets = []
    small = res.get("small")
    if small:
        w(f"### One small transaction, plain (smtp-sink), "
          f"{env.small.raw_bytes} octets")
        w("")
        w(table(small))
        w("")
        ok = median(small["ehlo"].times) <= median(small["curl"].times)
        targets.append(("small transaction, plain: ehlo ≤ curl",
                        f"{fmt_t(median(small['ehlo'].times))} vs "
                        f"{fmt_t(median(small['curl'].times))}", ok))
    tls = res.get("tls")
    if tls:
        w("### The same with STARTTLS (tlssink), certificate verified")
        w("")
        w(table(tls))
        w("")
        ok = median(tls["ehlo"].times) <= median(tls["curl"].times)
        targets.append(("small transaction, STARTTLS: ehlo ≤ curl",
                        f"{fmt_t(median(tls['ehlo'].times))} vs "
                        f"{fmt_t(median(tls['curl'].times))}", ok))
    big_rss = []
    for key, msg in env.big.items():
        r = res.get(f"big-{key}")
        if not r:
            continue
        w(f"### {key} message through DATA (fastsink): "
          f"{msg.raw_bytes:,} octets in the file, "
          f"{msg.wire_bytes:,} on the wire")
        w("")
        w(table(r, unit_bytes=msg.wire_bytes))
        w("")
        e = median(r["ehlo"].times)
        rss = max(r["ehlo"].rss) / 1024
        big_rss.append(rss)
        if "sendfile" in r:
            s = median(r["sendfile"].times)
            best = min(r["sendfile"].times) / min(r["ehlo"].times)
            targets.append((f"{key}: ehlo ≥ 0.8× sendfile client's speed",
                            f"{s / e:.2f}× (fastest runs: {best:.2f}×)",
                            s / e >= 0.8))
        if "curl" in r:
            c = median(r["curl"].times)
            targets.append((f"{key}: ehlo faster than curl",
                            f"{fmt_t(e)} vs {fmt_t(c)}", e < c))
        targets.append((f"{key}: ehlo peak RSS ≤ 16 MB", f"{rss:.1f} MB",
                        rss <= 16))
    many = res.get("rcpt")
    if many:
        w(f"### {NRCPT} recipients with PIPELINING (fastsink), "
          f"{env.small.raw_bytes}-octet message")
        w("")
        w(table(many))
        w("")
        n, err = env.pipeline_writes
        w(f"Envelope writes by ehlo (strace of `write`/`send*`): "
          f"{n if n is not None else '—'}"
          + (f" ({err})" if err else "") + ". Reads that carried MAIL and "
          "RCPT lines at the sink, last run of each tool: "
          + ", ".join(f"{t} {v}" for t, v in env.envelope_reads.items())
          + ".")
        w("")
        ok = median(many["ehlo"].times) <= median(many["curl"].times)
        targets.append((f"{NRCPT} recipients: one write for the envelope",
                        f"{n} write(s)", n == 1 and err is None))
        targets.append((f"{NRCPT} recipients: ehlo ≤ curl",
                        f"{fmt_t(median(many['ehlo'].times))} vs "
                        f"{fmt_t(median(many['curl'].times))}", ok))
    hist = res.get("history")
    if hist:
        off, on = median(hist["record_off"]), median(hist["record_on"])
        spl = median(hist["record_spool"]) if hist.get("record_spool") \
            else None
        w(f"### History ({hist['sessions']:,} sessions, "
          f"{hist['events']:,} events, {hist['db_bytes'] / 1e6:.0f} MB; "
          "`bench/history.py`)")
        w("")
        w(f"Recording a long session: {hist['noops']:,} NOOPs against "
          f"smtp-sink, one round trip each, `--no-history` {fmt_t(off)}, "
          f"recording every line {fmt_t(on)} ({on / off:.2f}×), each run "
          "into a new database, so straight into SQLite (the path of "
          "the workbench and of a first run; later runs spool). The rows "
          "are queued and written once the next command has gone out, so "
          "the store works while the server does (on the other core); "
          "the work is still done: CPU "
          f"{median(hist['record_off_cpu']):.2f} s vs "
          f"{median(hist['record_on_cpu']):.2f} s."
          + (f" Beside an existing database the same run spools its "
             f"session: {fmt_t(spl)} ({spl / off:.2f}×), CPU "
             f"{median(hist['record_spool_cpu']):.2f} s; the import "
             "that follows is checked to hold every row."
             if spl else ""))
        w("")
        small = res.get("small")
        if small and "ehlo+history" in small:
            s_off = median(small["ehlo"].times)
            s_on = median(small["ehlo+history"].times)
            imp = res.get("import") or {"sessions": 0, "seconds": 0}
            per = imp["seconds"] / imp["sessions"] if imp["sessions"] \
                else 0
            w("Recording's cost per session in the small-transaction "
              f"table: {fmt_t(s_on)} vs {fmt_t(s_off)} "
              f"({s_on / s_off:.2f}×). The first run makes the database; "
              "every later `ehlo run` or `ehlo send` writes its session "
              "to a spool file beside it (a create, one write per loop "
              "turn, before the output that shows it) and checks for a "
              "STARTTLS downgrade in the pins file, without opening "
              "SQLite. The next ehlo that opens the database imports "
              f"the spool: here `ehlo history` took {fmt_t(imp['seconds'])} "
              f"for {imp['sessions']} sessions ({fmt_t(per)} each, the "
              "process, the open and the one checkpoint included). "
              "Before the spool, each run recorded straight into SQLite "
              "and paid about 5 ms for it (open, commit, and the "
              "checkpoint's fsyncs at close; 1.8–2.2× `--no-history` "
              "in the runs of that version, see the profile notes): a "
              "figure from those runs, not this one.")
            w("")
            targets.append(("history: recording adds ≤ 10% wall time, "
                            "one small transaction on loopback",
                            f"{fmt_t(s_on)} vs {fmt_t(s_off)} "
                            f"({s_on / s_off:.2f}×)", s_on / s_off <= 1.10))
        if hist.get("scale_big"):
            big = median(hist["scale_big"])
            one = median(hist["scale_small"])
            w(f"Recording at scale: the same small transaction recorded "
              f"into this database takes {fmt_t(big)}, into a database "
              f"of one session {fmt_t(one)} ({big / one:.2f}×): the run "
              "spools its session and reads only the database's header "
              "and the STARTTLS pins, so the history's size does not "
              "reach it.")
            w("")
        w("| command | median | min – max | lines out |")
        w("| --- | ---: | ---: | ---: |")
        for name, q in hist["queries"].items():
            w(f"| `{name}` | {fmt_t(q['median'])} | {fmt_t(q['min'])} – "
              f"{fmt_t(q['max'])} | {q['lines']} |")
            targets.append((f"history: {name} ≤ 50 ms",
                            fmt_t(q["median"]), q["median"] <= 0.05))
        w("")
        targets.append((f"history: recording adds ≤ 10% wall time, "
                        f"{hist['noops']:,}-exchange session, into SQLite",
                        f"{on / off:.2f}×", on / off <= 1.10))
        if spl:
            targets.append((f"history: recording adds ≤ 10% wall time, "
                            f"{hist['noops']:,}-exchange session, spooled",
                            f"{spl / off:.2f}×", spl / off <= 1.10))
    wb = res.get("workbench")
    if wb:
        ff, ft = median(wb["first_frame"]), median(wb["first_frame_tmux"])
        ffp = median(wb.get("first_frame_pty", []))
        w("### Workbench in a terminal (`bench/workbench.py`)")
        w("")
        w("| measure | median | max |")
        w("| --- | ---: | ---: |")
        for key, label in (
                ("first_byte_pty", "first byte on a pty (practice server)"),
                ("first_frame_pty", "first frame on a pty: greeting shown"),
                ("first_frame_pty_floor",
                 "process start-up on a pty (`printf` the same line)"),
                ("first_frame", "first frame under tmux (practice server)"),
                ("first_frame_tmux", "tmux alone (`echo` the same line)"),
                ("typing_fresh", "typing latency, fresh session"),
                ("typing_full", f"typing latency, {wb['lines']:,} lines"),
                ("typing_after_scroll", "typing latency after PageUp"),
                ("typing_flood", "typing latency, 10,000 lines/s flood")):
            if key in wb:
                w(f"| {label} | {fmt_t(median(wb[key]))} | "
                  f"{fmt_t(max(wb[key]))} |")
        w("")
        w("On a pty: `ehlo` alone on a 100x30 pty (`TERM=xterm-256color`), "
          "timed from just before it is started to its first byte of output "
          "and to the practice server's greeting (`S: 220 practice.test "
          "ESMTP`) drawn, read from the pty master. Under tmux: the same "
          "greeting polled with capture-pane, tmux's own start-up "
          "included (for reference).")
        w("")
        if ffp == ffp:
            targets.append(("workbench: first frame ≤ 50 ms (greeting "
                            "shown, on a pty)",
                            f"{fmt_t(ffp)} (under tmux {fmt_t(ff)}, "
                            f"tmux alone {fmt_t(ft)})", ffp <= 0.05))
        else:
            targets.append(("workbench: first frame ≤ 50 ms (less tmux's "
                            "own)", f"{fmt_t(ff)} − {fmt_t(ft)}",
                            ff - ft <= 0.05))
        grow = median(wb["typing_full"]) / median(wb["typing_fresh"])
        targets.append((f"workbench: typing with {wb['lines']:,} lines "
                        "costs no more than fresh (≤ 1.5×)",
                        f"{grow:.2f}×", grow <= 1.5))
        targets.append(("workbench: typing during a flood ≤ 50 ms",
                        fmt_t(median(wb["typing_flood"])),
                        median(wb["typing_flood"]) <= 0.05))
    w("### Targets (issue 9)")
    w("")
    w("| target | measured | |")
    w("| --- | --- | --- |")
    for name, val, ok in targets:
        w(f"| {name} | {val} | {verdict(ok)} |")
    w("")
    if chart_png:
        w("### Chart")
        w("")
        w(f"![throughput and peak RSS]({os.path.basename(chart_png)})")
        w("")
    notes = os.path.join(HERE, "profile-notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            w(f.read().rstrip())
        w("")
    with open(out_md, "w") as f:
        f.write("\n".join(lines))
    return targets


def chart(env, res, png):
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no chart", flush=True)
        return None
    key = "100 MB" if "big-100 MB" in res else list(env.big)[0]
    r = res[f"big-{key}"]
    msg = env.big[key]
    tp = os.path.join(env.tmp, "tp.dat")
    with open(tp, "w") as f:
        for t, x in r.items():
            if x.times:
                f.write(f'"{t}" {msg.wire_bytes / median(x.times) / 1e6:.1f}'
                        f" {max(x.rss) / 1024:.1f}\n")
    mem = os.path.join(env.tmp, "mem.dat")
    with open(mem, "w") as f:
        for k, m in env.big.items():
            x = res.get(f"big-{k}", {}).get("ehlo")
            if x and x.rss:
                f.write(f'"{k}" {max(x.rss) / 1024:.1f}\n')
    gp = os.path.join(env.tmp, "chart.gp")
    with open(gp, "w") as f:
        f.write(f"""
set terminal pngcairo size 1100,420 font "sans,10" noenhanced
set output "{png}"
set multiplot layout 1,3 title "ehlo benchmarks (bench/run)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.7
set grid ytics
unset key
set xtics rotate by -30
set title "{key} through DATA: throughput (MB/s)"
set yrange [0:*]
plot "{tp}" using 2:xtic(1) lc rgb "#3070b0"
set title "{key} through DATA: peak RSS (MB, log)"
set logscale y
set yrange [1:*]
plot "{tp}" using 3:xtic(1) lc rgb "#b05030"
unset logscale y
set title "ehlo peak RSS by message size (MB)"
set yrange [0:20]
plot "{mem}" using 2:xtic(1) lc rgb "#40a040"
unset multiplot
""")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        r = subprocess.run(["gnuplot", "-e", "set terminal png"],
                           capture_output=True)
        with open(gp) as f:
            s = f.read().replace('pngcairo size 1100,420 font "sans,10"',
                                 "png size 1100,420")
        with open(gp, "w") as f:
            f.write(s)
        r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
        if r.returncode != 0:
            print("gnuplot failed:", r.stderr, flush=True)
            return None
    return png


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ehlo", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", help="directory for BENCHMARKS.md and the "
                    "chart (default: docs/, or the temp dir with --quick)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory")
    a = ap.parse_args()

    env = Env()
    env.ehlo = os.path.abspath(a.ehlo)
    env.python = sys.executable
    env.tmp = tempfile.mkdtemp(prefix="ehlo-bench-")
    os.chmod(env.tmp, 0o755)
    out_dir = a.out or (env.tmp if a.quick else os.path.join(ROOT, "docs"))
    os.makedirs(out_dir, exist_ok=True)
    sinks = []
    try:
        t_start = time.monotonic()
        with open("/proc/loadavg") as f:
            env.load_start = " ".join(f.read().split()[:3])
        print(f"work directory {env.tmp}", flush=True)
        fastsink = os.path.join(env.tmp, "fastsink")
        subprocess.run(["cc", "-O2", "-o", fastsink,
                        os.path.join(HERE, "fastsink.c"), "-lz"], check=True)
        env.timeexec = os.path.join(env.tmp, "timeexec")
        subprocess.run(["cc", "-O2", "-o", env.timeexec,
                        os.path.join(HERE, "timeexec.c")], check=True)
        env.cert = os.path.join(env.tmp, "cert.pem")
        key = os.path.join(env.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", env.cert, "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True)

        print("generating inputs", flush=True)
        header = HEADER.encode()
        env.small = Message(env.tmp, "small", header,
                            make_block(1024 - len(header), 1), 1,
                            ("raw", "crlf"))
        block = make_block(1 << 20, 7)
        sizes = [("10 MB", 10)] if a.quick else \
            [("10 MB", 10), ("100 MB", 100), ("1 GB", 1000)]
        env.big = {}
        for name, count in sizes:
            forms = ("raw", "crlf", "wire") if count <= 100 else \
                ("raw", "wire")
            env.big[name] = Message(env.tmp, name.replace(" ", ""),
                                    header, block, count, forms)

        smtpsink = SmtpSink(env.tmp)
        sinks.append(smtpsink)
        tlssink = Sink([env.python, os.path.join(HERE, "tlssink.py"),
                        env.cert, key, os.path.join(env.tmp, "tlssink.log")],
                       os.path.join(env.tmp, "tlssink.log"))
        sinks.append(tlssink)
        fast = Sink([fastsink, os.path.join(env.tmp, "fastsink.log")],
                    os.path.join(env.tmp, "fastsink.log"))
        sinks.append(fast)

        reps_small = 3 if a.quick else 15
        reps_big = 3 if a.quick else 7
        peers = ["ehlo", "curl", "swaks", "msmtp", "smtplib"]
        res = {}
        res["small"] = workload(env, "small transaction, plain",
                                peers[:1] + ["ehlo+history"] + peers[1:],
                                smtpsink, "plain", env.small, 1, reps_small)
        res["import"] = import_spool(env)
        res["tls"] = workload(env, "small transaction, STARTTLS", peers,
                              tlssink, "starttls", env.small, 1, reps_small)
        res["rcpt"] = workload(env, f"{NRCPT} recipients, pipelined",
                               peers, fast, "plain", env.small, NRCPT,
                               reps_small)
        env.envelope_reads = {}
        for tool in peers:
            argv, stdin = tool_argv(env, tool, "plain", fast.port,
                                    env.small, NRCPT)
            fast.mark()
            run_once(env, argv, stdin)
            m = re.search(r"envelope_reads=(\d+)", fast.new())
            env.envelope_reads[tool] = m.group(1) if m else "?"
        env.pipeline_writes = pipeline_check(env, fast, env.small)
        print(f"  pipelined envelope writes: {env.pipeline_writes}",
              flush=True)
        for name, msg in env.big.items():
            if name == "1 GB":
                tools, reps = ["ehlo", "sendfile"], 3
            elif name == "10 MB":
                tools, reps = ["ehlo", "curl", "sendfile"], reps_big
            else:
                tools, reps = ["ehlo", "curl", "sendfile", "swaks",
                               "msmtp", "smtplib"], reps_big
            res[f"big-{name}"] = workload(env, f"{name} through DATA",
                                          tools, fast, "plain", msg, 1,
                                          reps)

        for name, script in (("history", "history.py"),
                             ("workbench", "workbench.py")):
            print(f"== {script}", flush=True)
            r = subprocess.run([env.python, os.path.join(HERE, script),
                                "--ehlo", env.ehlo]
                               + (["--quick"] if a.quick else []),
                               stdout=subprocess.PIPE, text=True)
            print(r.stdout.rstrip(), flush=True)
            if r.returncode == 0 and r.stdout.strip():
                res[name] = json.loads(r.stdout.strip().splitlines()[-1])
        png = chart(env, res, os.path.join(out_dir, "benchmarks.png"))
        md = os.path.join(out_dir, "BENCHMARKS.md")
        targets = write_report(env, res, md, png, a.quick)
        if a.quick:
            with open(md) as f:
                print(f.read())
        print(f"\nwrote {md}" + (f" and {png}" if png else ""))
        print("\ntargets:")
        for name, val, ok in targets:
            print(f"  {'met   ' if ok else 'MISSED'} {name}: {val}")
        print(f"\ntotal {time.monotonic() - t_start:.0f} s")
        failures = sum(len(r.failures) for k, w in res.items()
                       if k not in ("history", "workbench", "import")
                       for r in w.values())
        if failures:
            print(f"{failures} run(s) were not counted (see above)")
        return 1 if failures else 0
    finally:
        for s in sinks:
            s.stop()
        if a.keep:
            print(f"kept {env.tmp}")
        else:
            shutil.rmtree(env.tmp, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
