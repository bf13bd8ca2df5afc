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

This module measures; bench_report.py writes the report and the chart.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib

from bench_report import chart, fmt_t, median, write_report

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
# The run (the report: bench_report.py)


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
    env.nrcpt = NRCPT  # for the report
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
