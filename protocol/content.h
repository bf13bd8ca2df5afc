/*
 * Message content for DATA (RFC 5321 4.5.2, 2.3.8): CRLF normalisation
 * and dot-stuffing in one streaming pass with constant state, so a file
 * of any size goes out in fixed-size chunks.  Bare CR and bare LF both
 * become CRLF (no SMTP smuggling); a line starting with "." gets another
 * "."; the end is CRLF "." CRLF (the CRLF only when the content did not
 * end with a line break).
 */
#ifndef EHLO_PROTOCOL_CONTENT_H
#define EHLO_PROTOCOL_CONTENT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

struct smtp_dotstuff {
	int bol; /* at the beginning of a line */
	int after_cr; /* the last byte seen was CR (a following LF joins it) */
	uint64_t in_bytes;
	uint64_t out_bytes;
	uint64_t lines; /* line breaks emitted */
	uint64_t stuffed; /* dots added */
	uint64_t bare_cr; /* CRs not followed by LF, turned into CRLF */
	uint64_t bare_lf; /* LFs not preceded by CR, turned into CRLF */
	size_t longest; /* longest line seen, in octets without CRLF */
	size_t cur_line; /* octets in the current line so far */
};

void smtp_dotstuff_init(struct smtp_dotstuff *);

/*
 * Transforms in[0..n) and appends the result to out.  The output of a
 * chunk is never more than 2n + 2 bytes; a CR at the end of a chunk is
 * handled across the boundary.  Returns -1 if out's cap was reached.
 */
int smtp_dotstuff_feed(
    struct smtp_dotstuff *, const char *in, size_t n, struct buf *out);

/* Appends the terminating [CRLF] "." CRLF.  Returns -1 on cap. */
int smtp_dotstuff_finish(struct smtp_dotstuff *, struct buf *out);

#endif
