/*
 * XCLIENT command lines (Postfix XCLIENT_README): NAME=VALUE pairs as
 * typed become "XCLIENT NAME=xtext(VALUE) ...".  The attribute names
 * are Postfix's; one the server did not list in its 250-XCLIENT line is
 * found for a warning, never refused (a server may know more).
 */
#include "protocol/xclient.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/caps.h"
#include "protocol/xtext.h"

const char *const smtp_xclient_attrs[] = {"NAME", "ADDR", "PORT", "PROTO",
    "HELO", "LOGIN", "DESTADDR", "DESTPORT", NULL};

static int
xclient_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char
xclient_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* One NAME=VALUE pair at *pp into out; moves *pp past it. */
static int
xclient_pair(const char **pp, struct buf *out, char **errstr)
{
	const char *p = *pp, *name = p, *v;
	size_t n;
	char q;

	while (*p != '\0' && *p != '=' && !xclient_blank(*p))
		p++;
	n = (size_t)(p - name);
	if (*p != '=') {
		*errstr = xasprintf("\"%.*s\" is not NAME=VALUE (e.g. "
		                    "ADDR=192.0.2.7 NAME=client.example)",
		    (int)(n < 40 ? n : 40), name);
		return -1;
	}
	for (v = name; v < p; v++)
		if (!((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') ||
		        *v == '_'))
			break;
	if (n == 0 || v < p) {
		*errstr = xasprintf("\"%.*s\" is no attribute name: XCLIENT "
		                    "names are letters and _ (NAME, ADDR, "
		                    "PORT, PROTO, HELO, LOGIN, DESTADDR, "
		                    "DESTPORT, REVERSE_NAME)",
		    (int)(n < 40 ? n : 40), name);
		return -1;
	}
	(void)buf_add(out, " ", 1);
	for (v = name; v < p; v++) {
		q = xclient_upper(*v);
		(void)buf_add(out, &q, 1);
	}
	(void)buf_add(out, "=", 1);
	p++;
	if (*p == '"') {
		v = ++p;
		while (*p != '\0' && *p != '"')
			p++;
		if (*p != '"') {
			*errstr = xasprintf("the value of %.*s opens a \" it "
			                    "does not close",
			    (int)(n < 40 ? n : 40), name);
			return -1;
		}
		(void)smtp_xtext_append(out, v, (size_t)(p - v));
		p++;
	} else {
		v = p;
		while (*p != '\0' && !xclient_blank(*p))
			p++;
		(void)smtp_xtext_append(out, v, (size_t)(p - v));
	}
	*pp = p;
	return 0;
}

char *
smtp_xclient_line(const char *text, char **errstr)
{
	struct buf out;
	const char *p = text;
	char *r;
	int pairs = 0;

	buf_init(&out, 0);
	(void)buf_add(&out, "XCLIENT", 7);
	for (;;) {
		while (xclient_blank(*p))
			p++;
		if (*p == '\0')
			break;
		if (xclient_pair(&p, &out, errstr) == -1) {
			buf_reset(&out);
			return NULL;
		}
		pairs++;
	}
	if (pairs == 0) {
		buf_reset(&out);
		*errstr = xstrdup("XCLIENT needs at least one NAME=VALUE pair "
		                  "(e.g. ADDR=192.0.2.7 NAME=client.example)");
		return NULL;
	}
	r = xstrndup(buf_peek(&out), buf_used(&out));
	buf_reset(&out);
	return r;
}

/* 1 when the blank-separated list holds word[0..n) (any case). */
static int
xclient_listed(const char *list, const char *word, size_t n)
{
	const char *p = list, *w;

	while (*p != '\0') {
		while (xclient_blank(*p))
			p++;
		w = p;
		while (*p != '\0' && !xclient_blank(*p))
			p++;
		if ((size_t)(p - w) == n && strncasecmp(w, word, n) == 0)
			return 1;
	}
	return 0;
}

int
smtp_xclient_unlisted(
    const char *pairs, const struct smtp_caps *caps, char *out, size_t outsz)
{
	const struct smtp_cap *cap = caps != NULL && caps->valid
	    ? smtp_caps_find(caps, "XCLIENT")
	    : NULL;
	const char *p = pairs, *w;
	size_t n;

	if (cap == NULL)
		return 0;
	for (;;) {
		while (xclient_blank(*p))
			p++;
		if (*p == '\0')
			return 0;
		w = p;
		while (*p != '\0' && *p != '=' && !xclient_blank(*p))
			p++;
		n = (size_t)(p - w);
		if (n > 0 && !xclient_listed(cap->params, w, n)) {
			(void)snprintf(out, outsz, "%.*s", (int)n, w);
			return 1;
		}
		while (*p != '\0' && !xclient_blank(*p))
			p++;
	}
}
