/*
 * IDNA 2008 for SMTP without SMTPUTF8 (protocol/idn.h): RFC 5890-5893
 * through libidn2 (UTS #46 mapping off, NFC input, non-transitional),
 * and the one place that finds domains in a command line: the address
 * in angle brackets (or the bare argument) of MAIL, RCPT, VRFY and EXPN,
 * whose domain follows the last '@'; the argument of EHLO and HELO.
 *   RFC 5890, 5891  IDNA 2008: A-labels and U-labels
 *   RFC 5321 2.3.5  domains on the wire are ASCII without SMTPUTF8
 *   RFC 6531        SMTPUTF8, which would carry the U-label as is
 */
#include "protocol/idn.h"

#include <idn2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"

char *
smtp_idn_to_ascii(const char *domain, char **errstr)
{
	char *out = NULL, *copy;
	int rc;

	rc = idn2_to_ascii_8z(
	    domain, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		*errstr = xasprintf("\"%s\" is not a valid internationalised "
		                    "domain name (IDNA 2008: %s)",
		    domain, idn2_strerror(rc));
		return NULL;
	}
	copy = xstrdup(out);
	idn2_free(out);
	return copy;
}

void
smtp_idn_changes_free(struct smtp_idn_change *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(c[i].ulabel);
		free(c[i].alabel);
	}
	free(c);
}

static int
has_8bit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* Does the line start with verb (any case) and a blank or its end? */
static int
verb_is(const char *p, size_t n, const char *verb)
{
	size_t k = strlen(verb);

	return n >= k && strncasecmp(p, verb, k) == 0 &&
	    (n == k || p[k] == ' ' || p[k] == ':');
}

/*
 * Where the domain to convert is in p (n bytes): [*at, *at + *len).
 * 0 when there is none to convert.
 */
static int
find_domain(const char *p, size_t n, int helo_only, size_t *at, size_t *len)
{
	size_t i, start, end, sign;

	if (verb_is(p, n, "EHLO") || verb_is(p, n, "HELO")) {
		for (i = 4; i < n && p[i] == ' '; i++)
			;
		for (end = i; end < n && p[end] != ' '; end++)
			;
		*at = i;
		*len = end - i;
		return *len > 0 && p[i] != '[' && has_8bit(p + i, *len);
	}
	if (helo_only)
		return 0;
	if (!verb_is(p, n, "MAIL") && !verb_is(p, n, "RCPT") &&
	    !verb_is(p, n, "VRFY") && !verb_is(p, n, "EXPN"))
		return 0;
	/* The path: <...>, else the first word after the verb. */
	for (start = 4; start < n && p[start] != '<'; start++)
		;
	if (start < n) {
		for (end = ++start; end < n && p[end] != '>'; end++)
			;
	} else {
		for (start = 4; start < n && p[start] == ' '; start++)
			;
		for (end = start; end < n && p[end] != ' '; end++)
			;
	}
	for (sign = end; sign > start && p[sign - 1] != '@'; sign--)
		;
	if (sign == start || has_8bit(p + start, sign - start))
		return 0; /* no domain, or a local part only SMTPUTF8 takes */
	*at = sign;
	*len = end - sign;
	return *len > 0 && p[sign] != '[' && has_8bit(p + sign, *len);
}

char *
smtp_idn_line(const char *line, size_t n, int helo_only,
    struct smtp_idn_change **changes, size_t *nchanges, char **errstr)
{
	struct smtp_idn_change *c;
	size_t at, len, alen;
	char *u, *a, *out;

	*changes = NULL;
	*nchanges = 0;
	*errstr = NULL;
	if (!has_8bit(line, n) || !find_domain(line, n, helo_only, &at, &len))
		return NULL;
	u = xstrndup(line + at, len);
	if ((a = smtp_idn_to_ascii(u, errstr)) == NULL) {
		free(u);
		return NULL;
	}
	alen = strlen(a);
	out = xmalloc(n - len + alen + 1);
	memcpy(out, line, at);
	memcpy(out + at, a, alen);
	memcpy(out + at + alen, line + at + len, n - at - len);
	out[n - len + alen] = '\0';
	c = xcalloc(1, sizeof *c);
	c->ulabel = u;
	c->alabel = a;
	*changes = c;
	*nchanges = 1;
	return out;
}
