/*
 * TLS inspection: checks on the smtp_tls_info the transport built after
 * a handshake (RFC 6125 name matching, RFC 5280 validity, RFC 8446 /
 * RFC 5246 for the parameters shown).  It works on the display strings
 * alone (subject, issuer, "DNS:a, IP:b" SAN lists), so it needs no
 * OpenSSL and is tested with plain structs; the transport already did
 * the cryptographic verification, this explains its outcome.
 */
#include "protocol/tlscheck.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"

/* name without one trailing dot, into out (bounded). */
static void
trim_dot(const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(out, name, n);
	out[n] = '\0';
}

/* A DNS-ID against a host name: exact, or "*." for one left label. */
static int
dns_matches(const char *pattern, size_t plen, const char *host)
{
	const char *dot;
	size_t hlen = strlen(host);

	if (plen > 0 && pattern[plen - 1] == '.')
		plen--;
	if (plen == hlen && strncasecmp(pattern, host, plen) == 0)
		return 1;
	if (plen > 2 && pattern[0] == '*' && pattern[1] == '.') {
		dot = strchr(host, '.');
		/* "*" covers exactly one non-empty label. */
		if (dot == NULL || dot == host)
			return 0;
		return strlen(dot) == plen - 1 &&
		    strncasecmp(dot, pattern + 1, plen - 1) == 0;
	}
	return 0;
}

static int
ip_equal(const char *a, size_t alen, const char *b)
{
	unsigned char x[16], y[16];
	char tmp[64];
	int fa, fb;

	if (alen >= sizeof tmp)
		return 0;
	memcpy(tmp, a, alen);
	tmp[alen] = '\0';
	fa = strchr(tmp, ':') != NULL ? AF_INET6 : AF_INET;
	fb = strchr(b, ':') != NULL ? AF_INET6 : AF_INET;
	if (fa != fb || inet_pton(fa, tmp, x) != 1 || inet_pton(fb, b, y) != 1)
		return 0;
	return memcmp(x, y, fa == AF_INET ? 4 : 16) == 0;
}

/* The CN of an RFC 2253 subject ("CN=x,O=y"), into out; 0 when none. */
static int
subject_cn(const char *subject, char *out, size_t size)
{
	const char *p = subject, *end;
	size_t n;

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, "CN=", 3) == 0) {
			p += 3;
			end = strchr(p, ',');
			n = end != NULL ? (size_t)(end - p) : strlen(p);
			if (n >= size)
				n = size - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return 1;
		}
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return 0;
}

int
smtp_tls_cert_matches(const struct smtp_tls_cert *c, const char *name)
{
	char host[256], cn[256];
	unsigned char addr[16];
	const char *p, *end;
	size_t n;
	int is_ip, have_dns = 0;

	if (c == NULL || name == NULL || *name == '\0')
		return 0;
	trim_dot(name, host, sizeof host);
	is_ip = inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
	for (p = c->san != NULL ? c->san : ""; *p != '\0'; p = end) {
		while (*p == ' ' || *p == ',')
			p++;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n > 4 && strncmp(p, "DNS:", 4) == 0) {
			have_dns = 1;
			if (!is_ip && dns_matches(p + 4, n - 4, host))
				return 1;
		} else if (n > 3 && strncmp(p, "IP:", 3) == 0) {
			if (is_ip && ip_equal(p + 3, n - 3, host))
				return 1;
		}
	}
	/* RFC 6125 6.4.4: the CN only when there is no DNS-ID at all. */
	if (!is_ip && !have_dns && c->subject != NULL &&
	    subject_cn(c->subject, cn, sizeof cn))
		return dns_matches(cn, strlen(cn), host);
	return 0;
}

int
smtp_tls_cert_is_self_signed(const struct smtp_tls_cert *c)
{
	return c != NULL && c->subject != NULL && c->issuer != NULL &&
	    *c->subject != '\0' && strcmp(c->subject, c->issuer) == 0;
}

/* 1 for a non-empty string (fields a caller may have left NULL). */
static int
nz(const char *s)
{
	return s != NULL && *s != '\0';
}

void
smtp_tls_days_text(long d, char *buf, size_t size)
{
	if (d < 0)
		(void)snprintf(
		    buf, size, "expired %ld day%s ago", -d, d == -1 ? "" : "s");
	else if (d == 0)
		(void)snprintf(buf, size, "expires today");
	else
		(void)snprintf(
		    buf, size, "%ld day%s left", d, d == 1 ? "" : "s");
}

char *
smtp_tls_verify_summary(const struct smtp_tls_info *ti)
{
	if (ti == NULL || ti->verified)
		return xstrdup("");
	return xasprintf("certificate NOT verified (%s): %s",
	    ti->refused              ? "refused"
	        : ti->verify_skipped ? "--insecure"
	        : ti->opportunistic  ? "opportunistic TLS"
	                             : "not checked",
	    *ti->verify_error != '\0' ? ti->verify_error : "no certificate");
}

static void
report_cert(
    struct smtp_session *s, const struct smtp_tls_cert *c, size_t i, size_t n)
{
	char days[48];

	smtp_tls_days_text(c->days_left, days, sizeof days);
	smtp_session_note(s,
	    "certificate %zu/%zu: %s; issuer %s; SAN %s; valid %s .. %s "
	    "(%s); %s %d bit; %s%s%s",
	    i + 1, n, *c->subject != '\0' ? c->subject : "(no subject)",
	    *c->issuer != '\0' ? c->issuer : "(none)",
	    *c->san != '\0' ? c->san : "(none)", c->not_before, c->not_after,
	    days, c->key_type, c->key_bits, c->sig_alg,
	    nz(c->sha256) ? "; SHA-256 " : "", nz(c->sha256) ? c->sha256 : "");
	if (c->days_left < 0)
		smtp_session_warn(s,
		    "certificate %zu (%s) expired: not valid after %s; "
		    "clients that verify refuse it",
		    i + 1, c->subject, c->not_after);
	else if (c->days_left <= SMTP_TLS_EXPIRY_WARN_DAYS)
		smtp_session_warn(s,
		    "certificate %zu (%s) expires in %ld day%s (%s): renew it "
		    "now",
		    i + 1, c->subject, c->days_left,
		    c->days_left == 1 ? "" : "s", c->not_after);
}

void
smtp_tls_report(
    struct smtp_session *s, const struct smtp_tls_info *ti, const char *name)
{
	const struct smtp_tls_cert *leaf;
	size_t i;

	if (ti == NULL)
		return;
	smtp_session_note(s,
	    "TLS parameters: %s, %s, key exchange %s%s%s, server key %s, "
	    "SNI %s%s%s%s",
	    ti->version, ti->cipher,
	    *ti->group != '\0' ? ti->group : "(unknown)",
	    nz(ti->sig_alg) ? ", signature " : "",
	    nz(ti->sig_alg) ? ti->sig_alg : "",
	    nz(ti->peer_key) ? ti->peer_key : "(none)",
	    *ti->sni != '\0' ? ti->sni : "(none)",
	    *ti->alpn != '\0' ? ", ALPN " : "", ti->alpn,
	    ti->resumed ? ", session resumed" : "");
	for (i = 0; i < ti->nchain; i++)
		report_cert(s, &ti->chain[i], i, ti->nchain);
	if (ti->dane_name != NULL && ti->ndane == 0)
		smtp_session_note(s,
		    "DANE: no TLSA records at %s: DANE does not apply, the "
		    "certificate is checked as without --dane",
		    ti->dane_name);
	for (i = 0; ti->dane_name != NULL && i < ti->ndane; i++)
		smtp_session_note(s, "DANE: TLSA %s [%zu/%zu]: %s",
		    ti->dane_name, i + 1, ti->ndane, ti->dane[i]);
	if (ti->cert_requested)
		smtp_session_warn(s,
		    "the server asked for a client certificate and none was "
		    "sent; it may refuse the session (give one with --cert "
		    "FILE --key FILE)");
	if (ti->ocsp_status == SMTP_OCSP_REVOKED)
		smtp_session_warn(s,
		    "the server's own OCSP staple says its certificate is "
		    "revoked: %s",
		    ti->ocsp);
	else if (ti->ocsp != NULL && *ti->ocsp != '\0')
		smtp_session_note(s, "OCSP staple: %s", ti->ocsp);
	if (ti->nchain == 0) {
		smtp_session_warn(s, "the server sent no certificate");
		return;
	}
	leaf = &ti->chain[0];
	if (name != NULL && *name != '\0' && !smtp_tls_cert_matches(leaf, name))
		smtp_session_warn(s,
		    "name mismatch: the certificate does not cover %s (it is "
		    "for %s); a client that verifies refuses this server",
		    name, *leaf->san != '\0' ? leaf->san : leaf->subject);
	if (ti->verified)
		return;
	if (smtp_tls_cert_is_self_signed(leaf))
		smtp_session_warn(s,
		    "the certificate is self-signed (its issuer is itself): "
		    "only clients given it as a trust anchor (--cafile) "
		    "accept it");
	else if (ti->nchain == 1 && strstr(ti->verify_error, "issuer") != NULL)
		smtp_session_warn(s,
		    "the server sent only its own certificate and its issuer "
		    "(%s) is not a trusted root: is an intermediate "
		    "certificate missing from the server's chain?",
		    leaf->issuer);
}

const char *
smtp_tls_ocsp_name(enum smtp_ocsp_status st)
{
	switch (st) {
	case SMTP_OCSP_NONE:
		break;
	case SMTP_OCSP_GOOD:
		return "good";
	case SMTP_OCSP_REVOKED:
		return "revoked";
	case SMTP_OCSP_UNKNOWN:
		return "unknown";
	case SMTP_OCSP_UNUSABLE:
		return "unusable";
	}
	return "none";
}
