/*
 * RFC 2047 encoded-words read back (the writer is message_encode.c):
 * "=?charset?B|Q?text?=" tokens in a header value become their text.
 * Only for display; what could not be decoded stays as written.
 */
#include "protocol/mime_words.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/escape.h"
#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/sasl.h"

/* Q encoding (RFC 2047 4.2) into out; -1 when malformed. */
static int
decode_q(const char *p, size_t n, struct buf *out)
{
	size_t i;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '_')
			c = ' ';
		else if (c == '=') {
			if (i + 2 >= n)
				return -1;
			if ((hi = escape_hex_value((unsigned char)p[i + 1])) <
			        0 ||
			    (lo = escape_hex_value((unsigned char)p[i + 2])) <
			        0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		(void)buf_add(out, &c, 1);
	}
	return 0;
}

/* ISO-8859-1 bytes as UTF-8. */
static void
latin1_utf8(const char *p, size_t n, struct buf *out)
{
	unsigned char c, two[2];
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c < 0x80) {
			(void)buf_add(out, p + i, 1);
			continue;
		}
		two[0] = (unsigned char)(0xc0 | (c >> 6));
		two[1] = (unsigned char)(0x80 | (c & 0x3f));
		(void)buf_add(out, two, 2);
	}
}

/*
 * One encoded-word at p (p[0..n) starts with "=?"): appends its text
 * and returns its length, or 0 when it is not one that can be decoded.
 */
static size_t
decode_word(const char *p, size_t n, struct buf *out)
{
	const char *cs = p + 2, *q1, *q2, *end, *text;
	struct buf raw;
	unsigned char *d;
	size_t dlen, cslen, tlen;
	int latin1, rc = 0;

	if ((q1 = memchr(cs, '?', n - 2)) == NULL || (size_t)(q1 - p) + 3 > n ||
	    q1[2] != '?')
		return 0;
	q2 = q1 + 2;
	text = q2 + 1;
	end = text;
	while ((size_t)(end - p) + 1 < n && !(end[0] == '?' && end[1] == '='))
		end++;
	if ((size_t)(end - p) + 1 >= n)
		return 0;
	cslen = strcspn(cs, "*?"); /* RFC 2231 language after '*' */
	if (cslen == 5 && strncasecmp(cs, "UTF-8", 5) == 0)
		latin1 = 0;
	else if (cslen == 8 && strncasecmp(cs, "US-ASCII", 8) == 0)
		latin1 = 0;
	else if (cslen == 10 && strncasecmp(cs, "ISO-8859-1", 10) == 0)
		latin1 = 1;
	else
		return 0;
	tlen = (size_t)(end - text);
	buf_init(&raw, 0);
	if (q1[1] == 'B' || q1[1] == 'b') {
		if ((d = sasl_b64_decode(text, tlen, &dlen)) == NULL)
			rc = -1;
		else {
			(void)buf_add(&raw, d, dlen);
			free(d);
		}
	} else if (q1[1] == 'Q' || q1[1] == 'q')
		rc = decode_q(text, tlen, &raw);
	else
		rc = -1;
	if (rc == 0) {
		if (latin1)
			latin1_utf8(buf_peek(&raw), buf_used(&raw), out);
		else
			(void)buf_add(out, buf_peek(&raw), buf_used(&raw));
	}
	buf_reset(&raw);
	return rc == 0 ? (size_t)(end + 2 - p) : 0;
}

static int
is_word(const char *v, size_t i, size_t n)
{
	return i + 1 < n && v[i] == '=' && v[i + 1] == '?';
}

char *
smtp_mime_decode_words(const char *v, size_t n)
{
	struct buf out;
	size_t i = 0, j, w;
	char *s;

	buf_init(&out, 0);
	while (i < n) {
		if (is_word(v, i, n) && (w = decode_word(v + i, n - i, &out))) {
			i += w;
			/* Blanks between two encoded-words are dropped. */
			for (;;) {
				for (j = i;
				     j < n && (v[j] == ' ' || v[j] == '\t');
				     j++)
					;
				if (j == i || !is_word(v, j, n) ||
				    (w = decode_word(v + j, n - j, &out)) == 0)
					break;
				i = j + w;
			}
			continue;
		}
		(void)buf_add(&out, v + i, 1);
		i++;
	}
	s = xstrndup(buf_peek(&out), buf_used(&out));
	buf_reset(&out);
	return s;
}
