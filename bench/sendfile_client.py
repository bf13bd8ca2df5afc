#!/usr/bin/env python3
"""The minimal sendfile client: bench/run's reference for raw speed.

Connects, EHLO, MAIL, RCPT, DATA (one command at a time), then hands a
file that is already dot-stuffed, CRLF-normalised and terminated with
".\\r\\n" to the kernel with sendfile(), and QUITs.  No content pass at
all: the ceiling an SMTP client can reach on this machine.

Usage: sendfile_client.py HOST PORT STUFFED_FILE
"""
import os
import socket
import sys


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if len(line) < 4 or line[3:4] != b"-":
                if not line.startswith((b"2", b"3")):
                    sys.exit(f"unexpected reply {line!r}")
                return

    reply()
    for cmd in (b"EHLO bench.example", b"MAIL FROM:<sender@bench.example>",
                b"RCPT TO:<rcpt@bench.example>", b"DATA"):
        s.sendall(cmd + b"\r\n")
        reply()
    with open(path, "rb") as m:
        size = os.fstat(m.fileno()).st_size
        off = 0
        while off < size:
            off += os.sendfile(s.fileno(), m.fileno(), off, size - off)
    reply()
    s.sendall(b"QUIT\r\n")
    reply()
    s.close()


if __name__ == "__main__":
    main()
