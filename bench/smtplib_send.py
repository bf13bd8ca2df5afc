#!/usr/bin/env python3
"""The Python smtplib peer for bench/run, used the way scripts use it.

Reads the message as text and hands it to SMTP.sendmail(), which
normalises line ends and dot-stuffs.  With --starttls CAFILE it upgrades
with a context that trusts CAFILE (the same file every tool is given).

Usage: smtplib_send.py HOST PORT FILE NRCPT [--starttls CAFILE]
"""
import smtplib
import ssl
import sys


def main():
    host, port, path, nrcpt = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        int(sys.argv[4])
    with open(path, "rb") as f:
        msg = f.read().decode("ascii")
    rcpts = [f"rcpt{i}@bench.example" for i in range(nrcpt)] \
        if nrcpt > 1 else ["rcpt@bench.example"]
    s = smtplib.SMTP(host, port, local_hostname="bench.example")
    if len(sys.argv) > 6 and sys.argv[5] == "--starttls":
        s.starttls(context=ssl.create_default_context(cafile=sys.argv[6]))
    s.sendmail("sender@bench.example", rcpts, msg)
    s.quit()


if __name__ == "__main__":
    main()
