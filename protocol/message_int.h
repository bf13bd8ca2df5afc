/*
 * Private to the message builder's rooms (protocol/message*.c): the
 * streaming encoders (message_encode.c) and the header block's pieces
 * (message_header.c) that the builder (message.c) puts together.
 * Nothing outside these three files includes it.
 */
#ifndef EHLO_PROTOCOL_MESSAGE_INT_H
#define EHLO_PROTOCOL_MESSAGE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/message.h"

struct buf;

#define MSG_LINE_SOFT 78 /* RFC 5322 2.1.1: SHOULD */
#define MSG_LINE_HARD 998 /* RFC 5322 2.1.1: MUST */
#define MSG_EW_MAX 75 /* RFC 2047 2: one encoded-word */
#define MSG_EW_LINE 76 /* RFC 2047 2: a line holding encoded-words */
#define MSG_QP_LINE 76 /* RFC 2045 6.7 (5), "=" included */
#define MSG_B64_LINE 76 /* RFC 2045 6.8 */
#define MSG_ADDR_MAX 254 /* RFC 5321 4.5.3.1.3 path, less the <> */

/* ---- message_encode.c ---------------------------------------------- */

/* "0123456789ABCDEF" */
extern const char message_hexdig[];

/* 1 when p[0..n) holds no byte over 0x7f. */
int message_is_ascii(const char *p, size_t n);

/*
 * Appends text[0..n) (UTF-8) as RFC 2047 encoded-words separated by
 * single spaces, the first at most first_max octets, the others 75;
 * a character is never split between two words.
 */
void message_ew_append(
    struct buf *out, const char *text, size_t n, size_t first_max);

/*
 * The streaming body encoders.  Each keeps its state between calls, so
 * any split of the input gives the same output; zero the state before
 * the first feed, call _finish after the last.
 */
/* CRLF normalisation (7bit, 8bit): bare CR and bare LF become CRLF. */
struct message_norm {
	int after_cr;
};

/* Quoted-printable (RFC 2045 6.7), line breaks as hard breaks. */
struct message_qp {
	size_t col;
	int pend; /* a blank waiting to see what follows, or 0 */
	int after_cr;
};

/* Base64 (RFC 2045 6.8) in 76-character lines joined by CRLF. */
struct message_b64 {
	unsigned char held[3];
	size_t nheld;
	size_t col;
};

struct message_mbox {
	char *display; /* NULL when none */
	char *addr;
};

struct message_mlist {
	struct message_mbox *v;
	size_t n;
};

/* CRLF normalisation: appends at most 2n + 2 bytes. */
void message_norm_feed(
    struct message_norm *, const unsigned char *in, size_t n, struct buf *out);
/* Quoted-printable with hard line breaks (RFC 2045 6.7). */
void message_qp_feed(
    struct message_qp *, const unsigned char *in, size_t n, struct buf *out);
void message_qp_finish(struct message_qp *, struct buf *out);
/* Base64 in 76-character lines (RFC 2045 6.8). */
void message_b64_feed(
    struct message_b64 *, const unsigned char *in, size_t n, struct buf *out);
void message_b64_finish(struct message_b64 *, struct buf *out);
/* Octets message_b64_feed/_finish write for n input octets. */
uint64_t message_b64_size(uint64_t n);

/* ---- message_header.c ---------------------------------------------- */

/*
 * -1 with *errstr naming what when v holds CR, LF (header injection)
 * or another control character; else 0.
 */
int message_check_header_text(const char *what, const char *v, char **errstr);

/* Empties l (its strings are its own). */
void message_mlist_free(struct message_mlist *l);
/*
 * Appends to l the mailboxes of every entry of in (comma lists,
 * display names, quoting); -1 with *errstr naming what on a bad one.
 */
int message_parse_field(const char *what, const struct smtp_message_list *in,
    struct message_mlist *l, char **errstr);
/* 1 when an address of l is not ASCII (SMTPUTF8 needed). */
int message_mlist_has_nonascii(const struct message_mlist *l);

/*
 * Header fields into out, folded at 78 octets; raw: UTF-8 as it is
 * (RFC 6532) instead of encoded-words.  -1 with *errstr when a word
 * cannot fit in 998 octets.
 */
int message_put_mlist(struct buf *out, const char *name,
    const struct message_mlist *l, int raw, char **errstr);
int message_put_unstructured(struct buf *out, const char *name,
    const char *value, int raw, char **errstr);
/* The ";\r\n filename=..." parameter of a Content-Disposition. */
void message_put_filename(struct buf *out, const char *name);

/* An RFC 5322 date, allocated; when 0: now; utc: +0000. */
char *message_date(int64_t when, int utc);
/* 2 * nbytes hex digits and a NUL into out (nbytes at most 32). */
void message_random_hex(char *out, size_t nbytes);
/* The domain for a Message-ID from addr (a safe one when unusual). */
const char *message_id_domain(const char *addr);
/* Why a user may not give header name[0..n), or NULL when allowed. */
const char *message_header_refused(const char *name, size_t n);
/*
 * Checks "Name: value" and splits it: *namelen, *value (into line).
 * -1 with *errstr on a bad name or control characters.
 */
int message_split_header(
    const char *line, size_t *namelen, const char **value, char **errstr);

/* ---- message_eml.c ------------------------------------------------- */

/* A prepared message's header block (ehlo send --eml). */
struct message_eml_head {
	uint64_t body_off; /* where the body starts: after the empty line */
	/* unfolded values, repeated fields joined by ", "; NULL: absent */
	char *from, *to, *cc, *bcc, *message_id, *date;
	int had_bcc;
	/* the header block with CRLF line ends (and without Bcc fields
	 * when asked), its empty line included */
	char *without_bcc;
	size_t without_bcc_len;
};

/*
 * Reads the header block of the message in fd from its start (at most
 * 1 MiB); drop_bcc leaves Bcc fields out of without_bcc.  -1 with
 * *errstr.
 */
int message_eml_head_read(
    int fd, int drop_bcc, struct message_eml_head *h, char **errstr);
void message_eml_head_free(struct message_eml_head *);

#endif
