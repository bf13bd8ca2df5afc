/*
 * Authenticating the server beyond the CA system: public key pinning
 * (--pin sha256//BASE64, curl's --pinnedpubkey form: the SHA-256 of the
 * server certificate's SubjectPublicKeyInfo, several joined with ";").
 * A pin is checked after the handshake and holds even with --insecure:
 * it is the user's own statement of which key the server has.
 *
 * And DANE (--dane, posttls-finger's job): the TLSA records of
 * _PORT._tcp.HOST, looked up through the resolver ehlo already uses
 * (c-ares, protocol/mx.c, --dns for a test server), are handed to
 * OpenSSL's DANE verification (SSL_dane_enable, SSL_dane_tlsa_add); the
 * report names each record's usage, selector and matching type and
 * which one matched.  With records, verification is required (Postfix's
 * "dane" level); without any, DANE does not apply and that is said.
 *
 *   RFC 7469 2.4 (SPKI fingerprints)   RFC 6698, RFC 7671, RFC 7672
 */
#include "protocol/transport_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>
#include <arpa/nameser.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/mx.h"

#define DANE_RECORDS_MAX 16 /* TLSA records kept per name */
#define DANE_DATA_MAX 512 /* octets of one record's data kept */

char *
tr_pin_check(struct smtp_transport *t, const char *pins)
{
	X509 *leaf = tr_peer_leaf(t->ssl);
	const char *p, *end;
	char *spki, *shown, *s;
	size_t n, k;

	if (leaf == NULL)
		return xstrdup("public key pin mismatch: the server sent no "
		               "certificate");
	spki = tr_spki_sha256(leaf);
	k = strlen(spki);
	for (p = pins; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, ";");
		n = (size_t)(end - p);
		if (n > 8 && strncmp(p, "sha256//", 8) == 0 && n - 8 == k &&
		    memcmp(p + 8, spki, k) == 0) {
			free(spki);
			return NULL;
		}
	}
	shown = escape_dup(pins, strlen(pins));
	s = xasprintf("public key pin mismatch: the server's key is "
	              "sha256//%s, --pin wants %s; nothing was sent (the "
	              "server changed its key, or someone is in between)",
	    spki, shown);
	free(shown);
	free(spki);
	return s;
}

/* Appends the TLSA records of a DNS answer to d. */
static void
dane_parse(struct smtp_dane *d, const unsigned char *a, int alen)
{
	const unsigned char *p = a + 12, *end = a + alen;
	unsigned qd, an, i, type, rdlen;
	char *name;
	long enc;

	if (alen < 12)
		return;
	qd = (unsigned)(a[4] << 8 | a[5]);
	an = (unsigned)(a[6] << 8 | a[7]);
	for (i = 0; i < qd; i++) {
		if (ares_expand_name(p, a, alen, &name, &enc) != ARES_SUCCESS)
			return;
		ares_free_string(name);
		p += enc + 4;
		if (p > end)
			return;
	}
	for (i = 0; i < an && d->n < DANE_RECORDS_MAX; i++) {
		if (ares_expand_name(p, a, alen, &name, &enc) != ARES_SUCCESS)
			return;
		ares_free_string(name);
		p += enc;
		if (end - p < 10)
			return;
		type = (unsigned)(p[0] << 8 | p[1]);
		rdlen = (unsigned)(p[8] << 8 | p[9]);
		p += 10;
		if ((size_t)(end - p) < rdlen)
			return;
		if (type == 52 && rdlen > 3 && rdlen - 3 <= DANE_DATA_MAX) {
			struct smtp_tlsa *r = &d->rec[d->n++];

			r->usage = p[0];
			r->selector = p[1];
			r->mtype = p[2];
			r->len = rdlen - 3;
			r->data = xmalloc(r->len);
			memcpy(r->data, p + 3, r->len);
		}
		p += rdlen;
	}
}

struct smtp_dane *
smtp_dane_lookup(struct smtp_mx_resolver *r, const char *host, const char *port,
    char **errstr)
{
	struct smtp_dane *d;
	unsigned char *answer = NULL;
	int len = 0;
	size_t n = strlen(host);

	if (n > 1 && host[n - 1] == '.')
		n--;
	d = xcalloc(1, sizeof *d);
	d->name = xasprintf("_%s._tcp.%.*s", port, (int)n, host);
	d->rec = xcalloc(DANE_RECORDS_MAX, sizeof *d->rec);
	if (smtp_mx_query_raw(r, d->name, 52, &answer, &len, errstr) == -1) {
		smtp_dane_free(d);
		return NULL;
	}
	if (answer != NULL)
		dane_parse(d, answer, len);
	free(answer);
	return d;
}

void
smtp_dane_free(struct smtp_dane *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->rec[i].data);
	free(d->rec);
	free(d->name);
	free(d);
}

int
tr_dane_apply(struct smtp_transport *t, SSL *ssl, const struct smtp_dane *d,
    char **errstr)
{
	size_t i;
	int r;

	if (d == NULL || d->n == 0)
		return 0;
	if (SSL_CTX_dane_enable(SSL_get_SSL_CTX(ssl)) <= 0 ||
	    SSL_dane_enable(ssl, t->vname) <= 0) {
		*errstr = xstrdup("cannot enable DANE in OpenSSL");
		ERR_clear_error();
		return -1;
	}
	for (i = 0; i < d->n; i++) {
		const struct smtp_tlsa *rec = &d->rec[i];

		r = SSL_dane_tlsa_add(ssl, (uint8_t)rec->usage,
		    (uint8_t)rec->selector, (uint8_t)rec->mtype, rec->data,
		    rec->len);
		if (r < 0) {
			*errstr = xstrdup("OpenSSL refused a TLSA record");
			ERR_clear_error();
			return -1;
		}
	}
	ERR_clear_error();
	return 0;
}

static const char *
dane_usage_name(unsigned u)
{
	static const char *const names[] = {
	    "PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"};

	return u < 4 ? names[u] : "unknown usage";
}

void
tr_dane_report(struct smtp_transport *t, const struct smtp_dane *d,
    struct smtp_tls_info *info)
{
	uint8_t mu = 0, ms = 0, mm = 0;
	const unsigned char *mdata = NULL;
	size_t mlen = 0, i, k;
	char hex[2 * 32 + 4];
	int matched = -1;

	if (d == NULL)
		return;
	info->dane_name = xstrdup(d->name);
	info->ndane = d->n;
	info->dane = xcalloc(d->n > 0 ? d->n : 1, sizeof *info->dane);
	info->dane_match = -1;
	if (d->n > 0 && SSL_get0_dane_authority(t->ssl, NULL, NULL) >= 0 &&
	    SSL_get0_dane_tlsa(t->ssl, &mu, &ms, &mm, &mdata, &mlen) >= 0)
		matched = 0;
	for (i = 0; i < d->n; i++) {
		const struct smtp_tlsa *r = &d->rec[i];

		for (k = 0; k < r->len && k < 32; k++)
			(void)snprintf(hex + 2 * k, 3, "%02x", r->data[k]);
		hex[2 * k] = '\0';
		if (r->len > 32)
			memcpy(hex + 2 * k, "...", 4);
		if (matched >= 0 && info->dane_match < 0 && r->usage == mu &&
		    r->selector == ms && r->mtype == mm && r->len == mlen &&
		    memcmp(r->data, mdata, mlen) == 0)
			info->dane_match = (int)i;
		info->dane[i] = xasprintf("%u %u %u %s (usage %s, selector %s, "
		                          "matching %s): %s",
		    r->usage, r->selector, r->mtype, hex,
		    dane_usage_name(r->usage),
		    r->selector == 0       ? "full certificate"
		        : r->selector == 1 ? "SPKI"
		                           : "unknown",
		    r->mtype == 0       ? "exact"
		        : r->mtype == 1 ? "SHA2-256"
		        : r->mtype == 2 ? "SHA2-512"
		                        : "unknown",
		    info->dane_match == (int)i ? "MATCHED" : "no match");
	}
	ERR_clear_error();
}
