/*
 * Why a server certificate was not verified, exactly, and what to do
 * about it.  OpenSSL stops at the first problem and names only the last
 * one it saw; an admin wants all of them, each with the certificate it
 * is about: "expired on DATE, N days ago", "self-signed", "unknown
 * issuer", "name mismatch (the certificate is for ...)".  A verify
 * callback (tr_verify_setup) collects every problem of the chain while
 * letting the handshake finish, so the chain can be shown even for a
 * certificate that is refused; the transport then decides (strict
 * verification refuses, Postfix's "may" level and --insecure report).
 * The advice fits what was given: no "pass --cafile" to someone who did.
 *
 *   RFC 5280 6 (path validation)   RFC 6125 (names)   RFC 7672 (DANE)
 */
#include "protocol/transport_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"

void
tr_verify_reset(struct smtp_transport *t)
{
	free(t->verr);
	t->verr = NULL;
	t->nverr = 0;
}

/* "expired on DATE, N days ago" or "not valid before DATE". */
static char *
tr_validity_detail(X509 *x, int expired)
{
	const ASN1_TIME *at;
	char *when, *s;
	int day = 0, sec = 0;

	at = expired ? X509_get0_notAfter(x) : X509_get0_notBefore(x);
	when = tr_time_string(at);
	if (!expired)
		s = xasprintf("not valid before %s", when);
	else if (at != NULL && ASN1_TIME_diff(&day, &sec, at, NULL) == 1 &&
	    day > 0)
		s = xasprintf("expired on %s, %d day%s ago", when, day,
		    day == 1 ? "" : "s");
	else
		s = xasprintf("expired on %s, today", when);
	free(when);
	ERR_clear_error();
	return s;
}

/* One problem, described with the certificate it is about. */
static char *
tr_verify_detail(struct smtp_transport *t, int code, int depth, X509 *x)
{
	char *subj, *what, *s, *names;

	subj =
	    x != NULL ? tr_name_string(X509_get_subject_name(x)) : xstrdup("");
	switch (code) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		what = x != NULL
		    ? tr_validity_detail(x, code == X509_V_ERR_CERT_HAS_EXPIRED)
		    : xstrdup("");
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		what = xstrdup("self-signed: it is its own issuer and not a "
		               "trusted CA");
		break;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		what = xstrdup("the chain ends in this self-signed root, which "
		               "is not a trusted CA");
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: {
		char *iss = x != NULL ? tr_name_string(X509_get_issuer_name(x))
		                      : xstrdup("");

		what = xasprintf("unknown issuer %s: not a trusted CA, and "
		                 "the server did not send it",
		    *iss != '\0' ? iss : "(none)");
		free(iss);
		break;
	}
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		names = x != NULL ? tr_san_string(x) : xstrdup("");
		if (*names == '\0') {
			free(names);
			names = xstrdup(*subj != '\0' ? subj : "no name");
		}
		s = escape_dup(t->vname, strlen(t->vname));
		what = xasprintf("name mismatch: the certificate is for %s, "
		                 "not %s",
		    names, s);
		free(s);
		free(names);
		break;
	case X509_V_ERR_DANE_NO_MATCH:
		what = xasprintf("none of the %zu TLSA records of %s matches "
		                 "the certificates the server sent",
		    t->dane != NULL ? t->dane->n : 0,
		    t->dane != NULL ? t->dane->name : "the server");
		break;
	default:
		what = xstrdup("");
		break;
	}
	if (code == X509_V_ERR_DANE_NO_MATCH)
		s = xasprintf(
		    "%s (%s)", X509_verify_cert_error_string(code), what);
	else if (*what != '\0' && *subj != '\0')
		s = xasprintf("%s (certificate %d, %s: %s)",
		    X509_verify_cert_error_string(code), depth + 1, subj, what);
	else if (*what != '\0')
		s = xasprintf(
		    "%s (%s)", X509_verify_cert_error_string(code), what);
	else
		s = xasprintf("%s (certificate %d%s%s)",
		    X509_verify_cert_error_string(code), depth + 1,
		    *subj != '\0' ? ", " : "", subj);
	free(what);
	free(subj);
	return s;
}

static int
tr_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	SSL *ssl;
	struct smtp_transport *t;
	int code, depth, i;
	char *d, *s;

	if (ok)
		return 1;
	ssl = X509_STORE_CTX_get_ex_data(
	    ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	t = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	if (t == NULL)
		return 0;
	code = X509_STORE_CTX_get_error(ctx);
	depth = X509_STORE_CTX_get_error_depth(ctx);
	for (i = 0; i < t->nverr; i++)
		if (t->verr_codes[i] == code && t->verr_depths[i] == depth)
			return 1;
	if (t->nverr >= TR_VERR_MAX)
		return 1;
	t->verr_codes[t->nverr] = code;
	t->verr_depths[t->nverr] = depth;
	t->nverr++;
	d = tr_verify_detail(
	    t, code, depth, X509_STORE_CTX_get_current_cert(ctx));
	s = xasprintf("%s%s%s", t->verr != NULL ? t->verr : "",
	    t->verr != NULL ? "; " : "", d);
	free(d);
	free(t->verr);
	t->verr = s;
	/* tr_cert_verify decides once all are known. */
	return 1;
}

int
tr_cert_verify(X509_STORE_CTX *ctx, void *arg)
{
	SSL *ssl;
	struct smtp_transport *t;
	int r;

	(void)arg;
	r = X509_verify_cert(ctx);
	ssl = X509_STORE_CTX_get_ex_data(
	    ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	t = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	if (t == NULL || r < 0)
		return r;
	if (r > 0 && X509_STORE_CTX_get_error(ctx) == X509_V_OK)
		return 1;
	/* Postfix's "may" and --insecure go on; the result is kept. */
	return t->insecure || t->opportunistic ? 1 : 0;
}

void
tr_verify_setup(struct smtp_transport *t, SSL *ssl)
{
	tr_verify_reset(t);
	t->cert_requested = 0;
	(void)SSL_set_app_data(ssl, t);
	SSL_set_verify(ssl, SSL_VERIFY_PEER, tr_verify_cb);
}

char *
tr_verify_reasons(struct smtp_transport *t, long vr)
{
	if (vr == X509_V_OK)
		return xstrdup("");
	if (t->verr != NULL)
		return tr_printable_dup(t->verr, strlen(t->verr));
	return xstrdup(X509_verify_cert_error_string(vr));
}

/* 1 when one of the problems collected is code. */
static int
tr_verify_has(const struct smtp_transport *t, int code)
{
	int i;

	for (i = 0; i < t->nverr; i++)
		if (t->verr_codes[i] == code)
			return 1;
	return 0;
}

char *
tr_verify_message(struct smtp_transport *t, long vr)
{
	const char *advice, *plain;
	char *name, *why, *s;
	int expired, trust;

	expired = tr_verify_has(t, X509_V_ERR_CERT_HAS_EXPIRED) ||
	    tr_verify_has(t, X509_V_ERR_CERT_NOT_YET_VALID) ||
	    vr == X509_V_ERR_CERT_HAS_EXPIRED;
	trust = tr_verify_has(t, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) ||
	    tr_verify_has(t, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN) ||
	    tr_verify_has(t, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) ||
	    tr_verify_has(t, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY) ||
	    tr_verify_has(t, X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE);
	if (expired)
		advice = t->cafile_given
		    ? " The certificate is out of its validity period: trusting "
		      "it with --cafile does not change that; the server needs "
		      "a current certificate (--insecure looks anyway)."
		    : " The certificate is out of its validity period: the "
		      "server needs a current certificate (--insecure looks "
		      "anyway).";
	else if (trust && t->cafile_given)
		advice = " The CA file given with --cafile does not vouch for "
		         "this certificate: give the CA that issued it (or, "
		         "for a self-signed certificate, the certificate "
		         "itself), or use --insecure to proceed without "
		         "verification.";
	else if (trust || t->nverr == 0)
		advice = " If you trust this server, pass its CA with --cafile "
		         "FILE, or use --insecure to proceed without "
		         "verification.";
	else if (tr_verify_has(t, X509_V_ERR_HOSTNAME_MISMATCH) ||
	    tr_verify_has(t, X509_V_ERR_IP_ADDRESS_MISMATCH))
		advice = " Connect using a name the certificate lists, or use "
		         "--insecure to proceed without verification.";
	else
		advice = " Use --insecure to proceed without verification.";
	plain = t->implicit ? ""
	                    : " (--no-starttls talks in plain text "
	                      "instead.)";
	name = escape_dup(t->vname, strlen(t->vname));
	why = tr_verify_reasons(t, vr);
	s = xasprintf("TLS certificate verification failed for %s: %s.%s%s",
	    name, why, advice, plain);
	free(why);
	free(name);
	return s;
}
