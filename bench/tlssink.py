#!/usr/bin/env python3
"""tlssink: the STARTTLS sink for bench/run.

A small asyncio SMTP server on 127.0.0.1 that offers STARTTLS with the
certificate it is given, answers every command at once, and for each
message appends "rcpt=N bytes=B crc=XXXXXXXX tls=0|1" to the log file
(CRC-32 of the content as it arrived, the terminating ".\\r\\n"
included), so bench/run can check that the message arrived complete.
Small transactions only: content is handled line by line.

Usage: tlssink.py CERT KEY LOGFILE  (prints its port, serves until killed)
"""
import asyncio
import ssl
import sys
import zlib

EHLO_PLAIN = (b"250-tlssink\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
              b"250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n")
EHLO_TLS = (b"250-tlssink\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
            b"250 ENHANCEDSTATUSCODES\r\n")


def main():
    cert, key, logname = sys.argv[1:4]
    log = open(logname, "a", buffering=1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def session(reader, writer):
        tls = False
        rcpt = 0
        writer.write(b"220 tlssink ESMTP\r\n")
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(EHLO_TLS if tls else EHLO_PLAIN)
            elif verb == b"HELO":
                writer.write(b"250 tlssink\r\n")
            elif verb == b"STAR" and not tls:
                writer.write(b"220 2.0.0 Ready to start TLS\r\n")
                await writer.drain()
                await writer.start_tls(ctx)
                tls = True
            elif verb == b"MAIL":
                rcpt = 0
                writer.write(b"250 2.1.0 Ok\r\n")
            elif verb == b"RCPT":
                rcpt += 1
                writer.write(b"250 2.1.5 Ok\r\n")
            elif verb == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                crc, size = 0, 0
                while True:
                    cl = await reader.readline()
                    if not cl:
                        break
                    crc = zlib.crc32(cl, crc)
                    size += len(cl)
                    if cl == b".\r\n":
                        break
                log.write(f"rcpt={rcpt} bytes={size} crc={crc:08x} "
                          f"tls={int(tls)}\n")
                writer.write(b"250 2.0.0 Ok: queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 Bye\r\n")
                break
            elif verb in (b"RSET", b"NOOP"):
                writer.write(b"250 2.0.0 Ok\r\n")
            else:
                writer.write(b"502 5.5.2 Command not implemented\r\n")
            await writer.drain()
        try:
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass

    async def serve():
        server = await asyncio.start_server(session, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
