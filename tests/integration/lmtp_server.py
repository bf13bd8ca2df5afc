"""A real LMTP peer for test_lmtp.py: aiosmtpd's LMTP class on loopback
TCP and on a UNIX socket, one process.

    python3 lmtp_server.py WORKDIR SOCKET

aiosmtpd's LMTP greets, answers LHLO and refuses EHLO/HELO; the handler
here makes it a mail store: RCPT refuses nobody@..., and after the data
it answers once per accepted recipient (RFC 2033 4.2), 452 for full@...
(a full mailbox) and 250 for the others.  Each message is written to
WORKDIR/NNNN.json (LHLO name, envelope, content); "ready PORT" is printed
once both listeners are bound.  SIGTERM stops it.
"""

import asyncio
import itertools
import json
import os
import signal
import sys

from aiosmtpd.lmtp import LMTP


class Store:
    def __init__(self, workdir):
        self.workdir = workdir
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("nobody@"):
            return "550 5.1.1 <%s> no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        replies = []
        for rcpt in envelope.rcpt_tos:
            if rcpt.startswith("full@"):
                replies.append("452 4.2.2 <%s> mailbox full" % rcpt)
            else:
                replies.append("250 2.0.0 <%s> delivered" % rcpt)
        record = {
            "lhlo": session.host_name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "content": envelope.original_content.decode("utf-8",
                                                        "replace"),
        }
        path = os.path.join(self.workdir, "%04d.json" % next(self.counter))
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "\r\n".join(replies)


async def main(workdir, sock):
    loop = asyncio.get_running_loop()
    store = Store(workdir)
    tcp = await loop.create_server(lambda: LMTP(store), "127.0.0.1", 0)
    unix = await loop.create_unix_server(lambda: LMTP(store), sock)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", tcp.sockets[0].getsockname()[1], flush=True)
    await stop.wait()
    tcp.close()
    unix.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
