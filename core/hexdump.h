/*
 * Bytes as a hex dump (`--hexdump`, the workbench's /hexdump, `ehlo show
 * --hexdump`): one chunk of bytes that went one way on a connection
 * becomes a header line and one line per 16 octets, each with the offset
 * of its first octet in that direction's stream, the octets in hex, and
 * a printable column where anything but printable ASCII is '.', so the
 * bytes of a server never reach a terminal as they are.
 *
 *     C> 8 octets (TLS, decrypted)
 *     C> 00000000  45 48 4c 4f 20 78 0d 0a                           EHLO x..
 */
#ifndef EHLO_CORE_HEXDUMP_H
#define EHLO_CORE_HEXDUMP_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* Octets per line. */
#define HEXDUMP_WIDTH 16
/* A line's size: offset (8 to 16 digits), hex, printable column, NUL. */
#define HEXDUMP_LINE_MAX 96

/* hexdump_chunk flags */
#define HEXDUMP_TLS 0x1 /* the plaintext of TLS records, decrypted */
#define HEXDUMP_REDACTED                                                       \
	0x2 /* stands for a secret: the dialogue's form
                              * of the line, not the octets sent */

/* The offsets of one connection, client (0) and server (1): zero it.
 * narrow: 8 octets a line (a narrow pane) instead of 16. */
struct hexdump {
	uint64_t off[2];
	int narrow;
};

/*
 * Writes one line for p[0..n) (n <= HEXDUMP_WIDTH) at offset off into
 * out (HEXDUMP_LINE_MAX octets): "00000000  45 48 ...  EHLO x..", no
 * newline.  Returns the line's length.
 */
size_t hexdump_line(
    char out[HEXDUMP_LINE_MAX], uint64_t off, const void *p, size_t n);

/*
 * Appends the dump of one chunk sent by the client (server 0) or the
 * server (1) to b: a header "C> N octets" ("S< " for the server) with
 * "(TLS, decrypted)" and "(redacted: ...)" as flags say, then the lines,
 * each prefixed the same way and ended by "\n"; the direction's offset
 * advances by n.  Returns -1 when b's cap was reached.
 */
int hexdump_chunk(struct hexdump *, struct buf *b, int server, unsigned flags,
    const void *p, size_t n);

#endif
