/*
 * xtext (RFC 3461 section 4), the one copy of it: the transaction
 * builder encodes ENVID= and ORCPT= with it (protocol/txn.c) and the
 * command checker validates what the user typed (protocol/command.c).
 *
 *   xtext   = *( xchar / hexchar )
 *   xchar   = any ASCII from "!" (33) to "~" (126) except "+" and "="
 *   hexchar = "+" 2(upper-case hex digit)
 */
#include "protocol/xtext.h"

#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"

static int
xtext_is_xchar(unsigned char c)
{
	return c >= '!' && c <= '~' && c != '+' && c != '=';
}

static int
xtext_is_hex(char c, enum smtp_xtext_hex hex)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
	    (hex == SMTP_XTEXT_HEX_ANY && c >= 'a' && c <= 'f');
}

int
smtp_xtext_append(struct buf *out, const char *p, size_t n)
{
	static const char hexdig[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)p;
	char t[3];
	size_t i;

	for (i = 0; i < n; i++) {
		if (xtext_is_xchar(u[i])) {
			if (buf_add(out, &u[i], 1) == -1)
				return -1;
			continue;
		}
		t[0] = '+';
		t[1] = hexdig[u[i] >> 4];
		t[2] = hexdig[u[i] & 15];
		if (buf_add(out, t, 3) == -1)
			return -1;
	}
	return 0;
}

char *
smtp_xtext_encode(const char *s)
{
	struct buf b;
	char *r;

	buf_init(&b, 0);
	(void)smtp_xtext_append(&b, s, strlen(s));
	r = xstrndup(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	return r;
}

int
smtp_xtext_is_valid(const char *p, size_t n, enum smtp_xtext_hex hex)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '+') {
			if (n - i < 3 || !xtext_is_hex(p[i + 1], hex) ||
			    !xtext_is_hex(p[i + 2], hex))
				return 0;
			i += 2;
		} else if (!xtext_is_xchar((unsigned char)p[i]))
			return 0;
	}
	return 1;
}
