/*
 * Control-character escaping for display.  The rendering is a pure
 * function of the bytes: a terminal never sees a raw control byte, an
 * escape sequence or an invalid UTF-8 sequence from the network.
 */
#include "core/escape.h"

#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/xmalloc.h"

/*
 * Length of the well-formed UTF-8 sequence at p (2..4), or 0.  The code
 * point goes to *cp.  Overlong forms and surrogates are rejected.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07u;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3fu);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points that are valid but change how a terminal draws text. */
static int
unsafe_codepoint(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f ||
	    c == 0x061c || c == 0xfeff;
}

static const char *
short_escape(unsigned char c)
{
	switch (c) {
	case '\r':
		return "\\r";
	case '\n':
		return "\\n";
	case '\t':
		return "\\t";
	case '\0':
		return "\\0";
	case 0x1b:
		return "\\e";
	case '\\':
		return "\\\\";
	default:
		return NULL;
	}
}

int
escape_append(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run, len;
	uint32_t cp;
	const char *esc;
	char tmp[16];

	while (i < n) {
		run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f &&
		    p[run] != '\\')
			run++;
		if (run > i && buf_add(out, p + i, run - i) == -1)
			return -1;
		i = run;
		if (i >= n)
			break;
		if (p[i] >= 0x80) {
			len = utf8_seq(p + i, n - i, &cp);
			if (len > 0 && !unsafe_codepoint(cp)) {
				if (buf_add(out, p + i, len) == -1)
					return -1;
				i += len;
				continue;
			}
			if (len > 0) {
				(void)snprintf(
				    tmp, sizeof tmp, "\\u{%04X}", (unsigned)cp);
				i += len;
			} else
				(void)snprintf(
				    tmp, sizeof tmp, "\\x%02X", p[i++]);
			if (buf_add_str(out, tmp) == -1)
				return -1;
			continue;
		}
		if ((esc = short_escape(p[i])) == NULL) {
			(void)snprintf(tmp, sizeof tmp, "\\x%02X", p[i]);
			esc = tmp;
		}
		i++;
		if (buf_add_str(out, esc) == -1)
			return -1;
	}
	return 0;
}

char *
escape_dup(const char *p, size_t n)
{
	struct buf b;
	char *s;

	buf_init(&b, 0);
	(void)escape_append(&b, p, n);
	s = xstrndup(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	return s;
}

int
escape_is_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp;

	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			i++;
			continue;
		}
		if (p[i] < 0x80)
			return 0;
		len = utf8_seq(p + i, n - i, &cp);
		if (len == 0 || unsafe_codepoint(cp))
			return 0;
		i += len;
	}
	return 1;
}

int
escape_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
