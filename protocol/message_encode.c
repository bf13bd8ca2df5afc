/*
 * The message builder's encoders (protocol/message_int.h): RFC 2047
 * encoded-words for header text, and the streaming body encoders (CRLF
 * normalisation, quoted-printable, base64) that keep their state
 * between chunks (a pending blank in QP, up to two bytes in base64, a
 * CR waiting for its LF), which is why any chunking gives the same
 * bytes.
 *
 *   RFC 2045  6.7 quoted-printable, 6.8 base64 in 76-character lines
 *   RFC 2047  encoded-words (B and Q, the shorter), 75 octets each
 */
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/message_int.h"

int
message_is_ascii(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 0;
	return 1;
}

/* Length of the UTF-8 sequence starting at p (1 for invalid bytes). */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	size_t n = 1;

	if (*p >= 0xf0 && *p < 0xf8)
		n = 4;
	else if (*p >= 0xe0)
		n = 3;
	else if (*p >= 0xc0)
		n = 2;
	if (*p >= 0xf8)
		n = 1;
	return n > left ? left : n;
}

const char message_hexdig[] = "0123456789ABCDEF";

/* ---- RFC 2047 encoded-words ---------------------------------------- */

/* Q: the "phrase" set of RFC 2047 5 (3) is safe in any header. */
static int
q_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/';
}

static size_t
q_cost(unsigned char c)
{
	return q_safe(c) || c == ' ' ? 1 : 3;
}

static void
q_put(struct buf *out, const unsigned char *p, size_t n)
{
	char t[3];
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == ' ')
			(void)buf_add(out, "_", 1);
		else if (q_safe(p[i]))
			(void)buf_add(out, &p[i], 1);
		else {
			t[0] = '=';
			t[1] = message_hexdig[p[i] >> 4];
			t[2] = message_hexdig[p[i] & 15];
			(void)buf_add(out, t, 3);
		}
	}
}

static const char b64dig[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes n bytes (n <= 3, padding the rest) into 4 characters at d. */
static void
b64_quantum(char *d, const unsigned char *s, size_t n)
{
	unsigned v = (unsigned)s[0] << 16;

	if (n > 1)
		v |= (unsigned)s[1] << 8;
	if (n > 2)
		v |= s[2];
	d[0] = b64dig[(v >> 18) & 63];
	d[1] = b64dig[(v >> 12) & 63];
	d[2] = n > 1 ? b64dig[(v >> 6) & 63] : '=';
	d[3] = n > 2 ? b64dig[v & 63] : '=';
}

static void
b_put(struct buf *out, const unsigned char *p, size_t n)
{
	char q[4];
	size_t i;

	for (i = 0; i < n; i += 3) {
		b64_quantum(q, p + i, n - i < 3 ? n - i : 3);
		(void)buf_add(out, q, 4);
	}
}

/*
 * Appends text as encoded-words separated by single spaces (the header
 * writer folds at those spaces).  The first word is at most first_max
 * octets, the others MSG_EW_MAX.  A character is never split between
 * two words (RFC 2047 5, last paragraph).
 */
void
message_ew_append(struct buf *out, const char *text, size_t n, size_t first_max)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i, qlen = 0, start, cl, payload, wmax, cost, bytes;
	int use_q, first = 1;

	for (i = 0; i < n; i++)
		qlen += q_cost(p[i]);
	use_q = qlen <= (n + 2) / 3 * 4;
	i = 0;
	while (i < n) {
		wmax = first ? first_max : MSG_EW_MAX;
		if (wmax < 12 + 12)
			wmax = 12 + 12; /* room for any one character */
		payload = wmax - 12; /* "=?utf-8?Q?" and "?=" */
		start = i;
		cost = 0;
		while (i < n) {
			cl = utf8_len(p + i, n - i);
			if (use_q) {
				size_t c = 0, k;

				for (k = 0; k < cl; k++)
					c += q_cost(p[i + k]);
				if (cost + c > payload)
					break;
				cost += c;
			} else {
				bytes = i - start + cl;
				if ((bytes + 2) / 3 * 4 > payload)
					break;
			}
			i += cl;
		}
		if (i == start) /* cannot happen: wmax fits any character */
			i += utf8_len(p + i, n - i);
		if (!first)
			(void)buf_add(out, " ", 1);
		(void)buf_add_str(out, use_q ? "=?utf-8?Q?" : "=?utf-8?B?");
		if (use_q)
			q_put(out, p + start, i - start);
		else
			b_put(out, p + start, i - start);
		(void)buf_add(out, "?=", 2);
		first = 0;
	}
}

char *
smtp_message_encode_words(const char *text, size_t col)
{
	struct buf b, o;
	const char *p, *sp, *end;
	char *s;

	if (message_is_ascii(text, strlen(text)))
		return xstrdup(text);
	buf_init(&b, 0);
	message_ew_append(&b, text, strlen(text),
	    col + 1 < MSG_EW_LINE ? MSG_EW_LINE - col - 1 : 0);
	buf_init(&o, 0);
	p = buf_peek(&b);
	end = p + buf_used(&b);
	while (p < end) {
		sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == NULL)
			sp = end;
		if (buf_used(&o) > 0)
			(void)buf_add(&o, "\r\n ", 3);
		(void)buf_add(&o, p, (size_t)(sp - p));
		p = sp + 1;
	}
	(void)buf_add(&o, "", 1);
	s = xstrdup(buf_peek(&o));
	buf_reset(&b);
	buf_reset(&o);
	return s;
}

/* ---- body encoders (streaming) ------------------------------------- */

/* Appends the transformed in[0..n); at most 2n bytes. */
void
message_norm_feed(
    struct message_norm *st, const unsigned char *in, size_t n, struct buf *out)
{
	char *d0 = buf_reserve(out, 2 * n + 2), *d = d0;
	size_t i;

	if (d0 == NULL)
		fatalx("message buffer cap");
	for (i = 0; i < n; i++) {
		if (in[i] == '\r') {
			*d++ = '\r';
			*d++ = '\n';
			st->after_cr = 1;
			continue;
		}
		if (in[i] == '\n') {
			if (!st->after_cr) {
				*d++ = '\r';
				*d++ = '\n';
			}
			st->after_cr = 0;
			continue;
		}
		st->after_cr = 0;
		*d++ = (char)in[i];
	}
	buf_commit(out, (size_t)(d - d0));
}

static char *
qp_soft(struct message_qp *st, char *d, size_t need)
{
	if (st->col + need > MSG_QP_LINE - 1) {
		*d++ = '=';
		*d++ = '\r';
		*d++ = '\n';
		st->col = 0;
	}
	return d;
}

static char *
qp_hex(struct message_qp *st, char *d, unsigned char c)
{
	d = qp_soft(st, d, 3);
	*d++ = '=';
	*d++ = message_hexdig[c >> 4];
	*d++ = message_hexdig[c & 15];
	st->col += 3;
	return d;
}

/* A blank before a line end must be encoded (RFC 2045 6.7 (3)). */
static char *
qp_flush_blank(struct message_qp *st, char *d)
{
	if (st->pend != 0)
		d = qp_hex(st, d, (unsigned char)st->pend);
	st->pend = 0;
	return d;
}

void
message_qp_feed(
    struct message_qp *st, const unsigned char *in, size_t n, struct buf *out)
{
	/* Worst case per byte: "=\r\n" + "=XX" twice (a pending blank). */
	char *d0 = buf_reserve(out, 6 * n + 16), *d = d0;
	size_t i;
	unsigned char c;

	if (d0 == NULL)
		fatalx("message buffer cap");
	for (i = 0; i < n; i++) {
		c = in[i];
		if (c == '\r' || (c == '\n' && !st->after_cr)) {
			d = qp_flush_blank(st, d);
			*d++ = '\r';
			*d++ = '\n';
			st->col = 0;
			st->after_cr = c == '\r';
			continue;
		}
		if (c == '\n') {
			st->after_cr = 0;
			continue;
		}
		st->after_cr = 0;
		if (st->pend != 0) {
			d = qp_soft(st, d, 1);
			*d++ = (char)st->pend;
			st->col++;
			st->pend = 0;
		}
		if (c == ' ' || c == '\t') {
			st->pend = c;
			continue;
		}
		if (c >= 33 && c <= 126 && c != '=') {
			d = qp_soft(st, d, 1);
			*d++ = (char)c;
			st->col++;
		} else
			d = qp_hex(st, d, c);
	}
	buf_commit(out, (size_t)(d - d0));
}

void
message_qp_finish(struct message_qp *st, struct buf *out)
{
	char *d0 = buf_reserve(out, 16), *d = d0;

	if (d0 == NULL)
		fatalx("message buffer cap");
	d = qp_flush_blank(st, d);
	buf_commit(out, (size_t)(d - d0));
}

static char *
b64_emit(struct message_b64 *st, char *d, const unsigned char *q, size_t n)
{
	if (st->col == MSG_B64_LINE) {
		*d++ = '\r';
		*d++ = '\n';
		st->col = 0;
	}
	b64_quantum(d, q, n);
	st->col += 4;
	return d + 4;
}

void
message_b64_feed(
    struct message_b64 *st, const unsigned char *in, size_t n, struct buf *out)
{
	char *d0 = buf_reserve(out, 2 * n + 16), *d = d0;
	size_t i = 0;

	if (d0 == NULL)
		fatalx("message buffer cap");
	while (st->nheld > 0 && st->nheld < 3 && i < n)
		st->held[st->nheld++] = in[i++];
	if (st->nheld == 3) {
		d = b64_emit(st, d, st->held, 3);
		st->nheld = 0;
	}
	for (; i + 3 <= n; i += 3)
		d = b64_emit(st, d, in + i, 3);
	while (i < n)
		st->held[st->nheld++] = in[i++];
	buf_commit(out, (size_t)(d - d0));
}

void
message_b64_finish(struct message_b64 *st, struct buf *out)
{
	char *d0 = buf_reserve(out, 16), *d = d0;

	if (d0 == NULL)
		fatalx("message buffer cap");
	if (st->nheld > 0)
		d = b64_emit(st, d, st->held, st->nheld);
	st->nheld = 0;
	buf_commit(out, (size_t)(d - d0));
}

uint64_t
message_b64_size(uint64_t n)
{
	uint64_t chars = (n + 2) / 3 * 4;

	return chars == 0 ? 0 : chars + 2 * ((chars - 1) / MSG_B64_LINE);
}
