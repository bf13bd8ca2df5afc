/*
 * The PROXY protocol header, versions 1 and 2 (HAProxy's
 * proxy-protocol.txt, sections 2.1 and 2.2), built byte by byte so the
 * unit tests can state the exact octets.
 *
 * v1: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n", addresses in their
 * usual text form.  v2: the 12-octet signature, 0x21 (version 2, the
 * PROXY command), 0x11 or 0x21 (INET or INET6 over STREAM), the length
 * of what follows (12 or 36, big-endian), then source and destination
 * address and source and destination port, all in network order.
 */
#include "protocol/proxyhdr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/escape.h"
#include "core/xmalloc.h"

static const unsigned char proxy_sig[12] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

int
smtp_proxy_version_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "v1") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcmp(s, "v2") == 0 || strcmp(s, "2") == 0)
		return 2;
	return -1;
}

/* A port of 1 to 5 digits, 0..65535; -1 otherwise. */
static long
proxy_port(const char *p)
{
	long v = 0;
	size_t i;

	for (i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
		if (i >= 5)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return i == 0 || p[i] != '\0' || v > 65535 ? -1 : v;
}

/* A literal address of either family into a; -1 when it is none. */
static int
proxy_inet(const char *s, struct smtp_proxy_addr *a)
{
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

int
smtp_proxy_addr_parse(const char *s, struct smtp_proxy_addr *a, char **errstr)
{
	char host[64];
	const char *colon, *end;
	long port;
	size_t n;

	memset(a, 0, sizeof *a);
	if (s[0] == '[') {
		end = strchr(s, ']');
		colon = end != NULL && end[1] == ':' ? end + 1 : NULL;
		n = end != NULL ? (size_t)(end - s - 1) : 0;
		s++;
	} else {
		colon = strrchr(s, ':');
		n = colon != NULL ? (size_t)(colon - s) : 0;
		if (colon != NULL && memchr(s, ':', n) != NULL)
			colon = NULL; /* an IPv6 address wants its [] */
	}
	if (colon == NULL || n == 0 || n >= sizeof host) {
		*errstr = xstrdup("expected ADDR:PORT, an IP address and a "
		                  "port, e.g. 192.0.2.7:4567 or "
		                  "[2001:db8::7]:4567");
		return -1;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	if (proxy_inet(host, a) == -1) {
		*errstr = xasprintf("\"%.40s\" is not an IPv4 or IPv6 address "
		                    "(the PROXY protocol carries addresses, "
		                    "not names)",
		    host);
		return -1;
	}
	if ((port = proxy_port(colon + 1)) < 0) {
		*errstr = xasprintf("the port \"%.20s\" is not a number from 0 "
		                    "to 65535",
		    colon + 1);
		return -1;
	}
	a->port = (unsigned)port;
	return 0;
}

char *
smtp_proxy_addr_format(const struct smtp_proxy_addr *a)
{
	char t[INET6_ADDRSTRLEN];

	if (inet_ntop(a->family, a->addr, t, sizeof t) == NULL)
		t[0] = '\0';
	return a->family == AF_INET6 ? xasprintf("[%s]:%u", t, a->port)
	                             : xasprintf("%s:%u", t, a->port);
}

static size_t
proxy_alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

int
smtp_proxy_build(int version, const struct smtp_proxy_addr *src,
    const struct smtp_proxy_addr *dst, unsigned char *out, size_t *len,
    char **errstr)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	size_t al = proxy_alen(src->family), n;
	int six = src->family == AF_INET6;

	if (src->family != dst->family) {
		*errstr = xasprintf("the PROXY header's source is %s but its "
		                    "destination is %s: both must be of one "
		                    "family (give --proxy-dest of the same "
		                    "family, or -4/-6 to reach the server "
		                    "over it)",
		    six ? "IPv6" : "IPv4", six ? "IPv4" : "IPv6");
		return -1;
	}
	if (version == 1) {
		(void)inet_ntop(src->family, src->addr, s, sizeof s);
		(void)inet_ntop(dst->family, dst->addr, d, sizeof d);
		n = (size_t)snprintf((char *)out, SMTP_PROXY_HDR_MAX,
		    "PROXY %s %s %s %u %u\r\n", six ? "TCP6" : "TCP4", s, d,
		    src->port, dst->port);
		*len = n;
		return 0;
	}
	memcpy(out, proxy_sig, sizeof proxy_sig);
	out[12] = 0x21; /* version 2, PROXY */
	out[13] = six ? 0x21 : 0x11; /* INET6 or INET, STREAM */
	out[14] = 0;
	out[15] = (unsigned char)(2 * al + 4);
	memcpy(out + 16, src->addr, al);
	memcpy(out + 16 + al, dst->addr, al);
	n = 16 + 2 * al;
	out[n++] = (unsigned char)(src->port >> 8);
	out[n++] = (unsigned char)(src->port & 0xff);
	out[n++] = (unsigned char)(dst->port >> 8);
	out[n++] = (unsigned char)(dst->port & 0xff);
	*len = n;
	return 0;
}

static void
proxy_hex(char **t, const unsigned char *p, size_t n)
{
	static const char hexdig[] = "0123456789abcdef";
	size_t i;

	*(*t)++ = ' ';
	for (i = 0; i < n; i++) {
		*(*t)++ = hexdig[p[i] >> 4];
		*(*t)++ = hexdig[p[i] & 15];
	}
}

char *
smtp_proxy_display(const unsigned char *p, size_t n)
{
	/* The field widths of v2 over TCP4 and TCP6: group the hex so a
	 * reader finds each field (see the top comment). */
	static const size_t v4[] = {12, 1, 1, 2, 4, 4, 2, 2};
	static const size_t v6[] = {12, 1, 1, 2, 16, 16, 2, 2};
	const size_t *f;
	char *r, *t;
	size_t i, at = 0;

	if (n < 16 || memcmp(p, proxy_sig, sizeof proxy_sig) != 0) {
		/* v1: the line without its CRLF. */
		return xstrndup(
		    (const char *)p, n >= 2 && p[n - 2] == '\r' ? n - 2 : n);
	}
	f = p[13] == 0x21 ? v6 : v4;
	r = t = xmalloc(9 + 3 * n + 1);
	memcpy(t, "PROXY v2", 8);
	t += 8;
	for (i = 0; i < 8 && at < n; i++) {
		size_t k = f[i] <= n - at ? f[i] : n - at;

		proxy_hex(&t, p + at, k);
		at += k;
	}
	if (at < n)
		proxy_hex(&t, p + at, n - at);
	*t = '\0';
	return r;
}

/* v2's display form back into its fields. */
static int
proxy_parse_v2(
    const char *s, struct smtp_proxy_addr *src, struct smtp_proxy_addr *dst)
{
	unsigned char b[SMTP_PROXY_HDR_MAX];
	size_t n = 0, al;
	int hi, lo;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		hi = escape_hex_value(s[0]);
		lo = hi < 0 ? -1 : escape_hex_value(s[1]);
		if (lo < 0 || n >= sizeof b)
			return -1;
		b[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	if (n < 16 || memcmp(b, proxy_sig, sizeof proxy_sig) != 0 ||
	    b[12] != 0x21 || (b[13] != 0x11 && b[13] != 0x21))
		return -1;
	src->family = dst->family = b[13] == 0x21 ? AF_INET6 : AF_INET;
	al = proxy_alen(src->family);
	if (b[14] != 0 || b[15] != 2 * al + 4 || n != 16 + 2 * al + 4)
		return -1;
	memcpy(src->addr, b + 16, al);
	memcpy(dst->addr, b + 16 + al, al);
	src->port = (unsigned)(b[16 + 2 * al] << 8 | b[17 + 2 * al]);
	dst->port = (unsigned)(b[18 + 2 * al] << 8 | b[19 + 2 * al]);
	return 0;
}

/* v1's line back into its fields. */
static int
proxy_parse_v1(
    const char *s, struct smtp_proxy_addr *src, struct smtp_proxy_addr *dst)
{
	char proto[8], a[48], b[48], sp[8], dp[8], extra[2];
	long ps, pd;
	int want;

	if (sscanf(s, "PROXY %7s %47s %47s %7s %7s %1s", proto, a, b, sp, dp,
	        extra) != 5)
		return -1;
	if (strcmp(proto, "TCP4") == 0)
		want = AF_INET;
	else if (strcmp(proto, "TCP6") == 0)
		want = AF_INET6;
	else
		return -1;
	if (proxy_inet(a, src) == -1 || proxy_inet(b, dst) == -1 ||
	    src->family != want || dst->family != want ||
	    (ps = proxy_port(sp)) < 0 || (pd = proxy_port(dp)) < 0)
		return -1;
	src->port = (unsigned)ps;
	dst->port = (unsigned)pd;
	return 0;
}

int
smtp_proxy_display_parse(const char *s, int *version,
    struct smtp_proxy_addr *src, struct smtp_proxy_addr *dst, char **errstr)
{
	int rc;

	memset(src, 0, sizeof *src);
	memset(dst, 0, sizeof *dst);
	if (strncmp(s, "PROXY v2 ", 9) == 0) {
		*version = 2;
		rc = proxy_parse_v2(s + 9, src, dst);
	} else {
		*version = 1;
		rc = proxy_parse_v1(s, src, dst);
	}
	if (rc == -1)
		*errstr = xstrdup("the recorded PROXY header cannot be read "
		                  "back (it is not one ehlo sends)");
	return rc;
}
