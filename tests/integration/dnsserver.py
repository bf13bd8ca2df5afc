"""A tiny authoritative DNS responder on loopback UDP, for MX tests.

Standard library only.  It answers from a dict, in a thread of the test
process, on 127.0.0.1 and a free port, so ehlo's resolver (c-ares) can be
pointed at it with --dns 127.0.0.1:PORT and no query ever leaves the
machine:

    zone = {
        "example.test": [("MX", 10, "mx1.example.test"),
                         ("MX", 20, "mx2.example.test")],
        "mx1.example.test": [("A", "127.0.0.1")],
    }
    with DnsServer(zone) as dns:
        ... dns.port, dns.queries ...

Names not in the zone get NXDOMAIN; a known name without records of the
asked type gets an empty NOERROR answer (NODATA).  ("MX", 0, ".") is a
null MX (RFC 7505).  ("TLSA", 3, 1, 1, "hex") is a TLSA record (RFC
6698) for a name such as "_25._tcp.mx1.example.test".  Only the question section of a query is read; every
request is recorded in .queries as (name, type name, client address).
DnsServer(zone, silent=True) records queries and never answers, as a
resolver that is down or filtered.
"""

import socket
import struct
import threading

TYPES = {1: "A", 28: "AAAA", 15: "MX", 5: "CNAME", 52: "TLSA"}
CODES = {name: code for code, name in TYPES.items()}


def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def _decode_name(packet, offset):
    labels = []
    while True:
        length = packet[offset]
        if length == 0:
            return ".".join(labels), offset + 1
        if length & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(packet[offset + 1:offset + 1 + length].decode(
            "ascii", "replace"))
        offset += 1 + length


def _rdata(record):
    kind = record[0]
    if kind == "A":
        return socket.inet_pton(socket.AF_INET, record[1])
    if kind == "AAAA":
        return socket.inet_pton(socket.AF_INET6, record[1])
    if kind == "MX":
        return struct.pack("!H", record[1]) + _encode_name(record[2])
    if kind == "TLSA":  # ("TLSA", usage, selector, matching, hex data)
        return bytes(record[1:4]) + bytes.fromhex(record[4])
    raise ValueError(f"unsupported record {record!r}")


def build_answer(query, zone):
    """The response packet to query (bytes) from zone, or None when the
    query cannot be parsed."""
    try:
        ident, _flags, qdcount = struct.unpack("!HHH", query[:6])
        if qdcount != 1:
            return None
        name, offset = _decode_name(query, 12)
        qtype, qclass = struct.unpack("!HH", query[offset:offset + 4])
    except (ValueError, IndexError, struct.error):
        return None
    question = query[12:offset + 4]
    key = name.lower().rstrip(".")
    records = zone.get(key)
    rcode = 3 if records is None else 0  # NXDOMAIN / NOERROR
    answers = []
    for record in records or ():
        if CODES.get(record[0]) == qtype:
            rdata = _rdata(record)
            # Name: a pointer to the question's name at offset 12.
            answers.append(struct.pack("!HHHIH", 0xC00C, qtype, 1, 60,
                                       len(rdata)) + rdata)
    # QR, AA, RD copied, RA; the rcode.
    flags = 0x8000 | 0x0400 | 0x0100 | 0x0080 | rcode
    header = struct.pack("!HHHHHH", ident, flags, 1, len(answers), 0, 0)
    return header + question + b"".join(answers), name, qtype


class DnsServer:
    """The responder; a context manager (or call stop())."""

    def __init__(self, zone, host="127.0.0.1", silent=False):
        self.silent = silent
        self.zone = {k.lower().rstrip("."): v for k, v in zone.items()}
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def _serve(self):
        while not self._stop.is_set():
            try:
                query, client = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            result = build_answer(query, self.zone)
            if result is None:
                continue
            packet, name, qtype = result
            self.queries.append((name, TYPES.get(qtype, str(qtype)),
                                 client[0]))
            if self.silent:
                continue
            self.sock.sendto(packet, client)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
