/*
 * The SASL mechanisms GNU SASL (libgsasl) runs for ehlo: SCRAM-SHA-1,
 * SCRAM-SHA-256 and their -PLUS forms, and GSSAPI (Kerberos).
 *
 *   RFC 5802  Salted Challenge Response Authentication Mechanism (SCRAM)
 *   RFC 7677  SCRAM-SHA-256 and SCRAM-SHA-256-PLUS
 *   RFC 5801  GS2 (the "n,," / "p=tls-unique,," header)
 *   RFC 9266  tls-exporter, RFC 5929 tls-unique (the -PLUS binding)
 *   RFC 4752  The Kerberos V5 ("GSSAPI") SASL mechanism
 *
 * Each exchange has its own library handle whose callback reads the
 * struct sasl_client: the user (AUTHID), the password, the service
 * "smtp" and the server's host name for GSSAPI, and the channel binding
 * (base64, as the library wants it) for a -PLUS mechanism only; a plain
 * SCRAM says "n" (no binding), as the library supports.  The library
 * does the arithmetic (PBKDF2, HMAC, the proof and the check of the
 * server's signature); this file turns its return codes into sentences
 * and makes the display forms: SCRAM's messages are shown with the proof
 * (p=) masked, GSSAPI's tokens only by size.  The password, the salted
 * password and the keys never leave the library's memory and ours, and
 * ours is wiped.
 */
#include "protocol/sasl_int.h"

#include <gsasl.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/xmalloc.h"

/*
 * The most PBKDF2 iterations a server may ask for (RFC 5802's i=): the
 * hashing runs before any reply, so a hostile i=2147483647 would hang
 * ehlo for minutes.  Servers use 4096 (Dovecot, RFC 7677's minimum) up
 * to some hundred thousands.
 */
#define SASL_SCRAM_ITER_MAX 2000000

struct sasl_gs {
	Gsasl *ctx;
	Gsasl_session *sess;
	char *cb64; /* the channel binding in base64, or NULL */
	int done; /* the library said GSASL_OK: nothing more to send */
};

int
sasl_id_is_gsasl(enum sasl_mech_id id)
{
	return id == SASL_SCRAM_SHA1 || id == SASL_SCRAM_SHA1_PLUS ||
	    id == SASL_SCRAM_SHA256 || id == SASL_SCRAM_SHA256_PLUS ||
	    id == SASL_GSSAPI;
}

static int
gs_is_scram(enum sasl_mech_id id)
{
	return id != SASL_GSSAPI && sasl_id_is_gsasl(id);
}

/* The library asks for what it needs, when it needs it. */
static int
gs_callback(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
	struct sasl_client *c = gsasl_callback_hook_get(ctx);
	const char *v = NULL;

	switch (prop) {
	case GSASL_AUTHID:
		v = c->user;
		break;
	case GSASL_PASSWORD:
		if (gs_is_scram(c->id))
			v = c->secret;
		break;
	case GSASL_SERVICE:
		v = "smtp";
		break;
	case GSASL_HOSTNAME:
		v = c->host;
		break;
	case GSASL_CB_TLS_EXPORTER:
		if (c->cbtype != NULL && strcmp(c->cbtype, "tls-exporter") == 0)
			v = c->gs->cb64;
		break;
	case GSASL_CB_TLS_UNIQUE:
		if (c->cbtype != NULL && strcmp(c->cbtype, "tls-unique") == 0)
			v = c->gs->cb64;
		break;
	default:
		break;
	}
	if (v == NULL)
		return GSASL_NO_CALLBACK;
	return gsasl_property_set(sess, prop, v);
}

int
sasl_gs_is_done(const struct sasl_gs *g)
{
	return g != NULL && g->done;
}

void
sasl_gs_end(struct sasl_gs *g)
{
	if (g == NULL)
		return;
	if (g->sess != NULL)
		gsasl_finish(g->sess);
	if (g->ctx != NULL)
		gsasl_done(g->ctx);
	free(g->cb64);
	free(g);
}

int
sasl_gs_begin(struct sasl_client *c, char **errstr)
{
	struct sasl_gs *g;
	int rc;

	if ((c->info->flags & SASL_MECH_PLUS) && c->cbtype == NULL) {
		*errstr = xasprintf("%s needs TLS: its channel binding is data "
		                    "of the TLS connection; use /starttls (or "
		                    "--starttls, --tls) first, or %.*s without "
		                    "-PLUS",
		    c->info->name, (int)(strlen(c->info->name) - 5),
		    c->info->name);
		return -1;
	}
	if (c->id == SASL_GSSAPI && (c->host == NULL || *c->host == '\0')) {
		*errstr = xstrdup("GSSAPI needs the server's host name (its "
		                  "Kerberos principal is smtp/HOST)");
		return -1;
	}
	sasl_gs_end(c->gs);
	c->gs = g = xcalloc(1, sizeof *g);
	if ((rc = gsasl_init(&g->ctx)) != GSASL_OK) {
		g->ctx = NULL;
		*errstr = xasprintf(
		    "GNU SASL could not start: %s", gsasl_strerror(rc));
		return -1;
	}
	gsasl_callback_set(g->ctx, gs_callback);
	gsasl_callback_hook_set(g->ctx, c);
	if ((c->info->flags & SASL_MECH_PLUS) && c->cblen > 0)
		g->cb64 = sasl_b64_encode(c->cb, c->cblen);
	if ((rc = gsasl_client_start(g->ctx, c->info->name, &g->sess)) !=
	    GSASL_OK) {
		g->sess = NULL;
		*errstr = xasprintf("GNU SASL cannot start %s: %s",
		    c->info->name, gsasl_strerror(rc));
		return -1;
	}
	return 0;
}

/* The sentence for a library error at this point of the exchange. */
static char *
gs_error(
    const struct sasl_client *c, int rc, const unsigned char *in, size_t inlen)
{
	char *shown, *s;

	if (gs_is_scram(c->id) && inlen >= 2 && memcmp(in, "e=", 2) == 0) {
		shown = escape_dup((const char *)in + 2, inlen - 2);
		s = xasprintf("the server ended %s with the error \"%s\"",
		    c->info->name, shown);
		free(shown);
		return s;
	}
	if (gs_is_scram(c->id) && rc == GSASL_AUTHENTICATION_ERROR &&
	    c->stage >= 2)
		return xasprintf("the server's %s signature (v=) is wrong: it "
		                 "does not know the password, or something "
		                 "between rewrote the exchange; not trusting "
		                 "this server",
		    c->info->name);
	if (gs_is_scram(c->id) && rc == GSASL_AUTHENTICATION_ERROR)
		return xasprintf("the server's %s challenge does not continue "
		                 "this exchange (its nonce r= must start with "
		                 "ehlo's)",
		    c->info->name);
	if (gs_is_scram(c->id) && rc == GSASL_MECHANISM_PARSE_ERROR)
		return xasprintf("the server's %s challenge is not a SCRAM "
		                 "message (RFC 5802 7)",
		    c->info->name);
	if (c->id == SASL_GSSAPI)
		return xasprintf(
		    "GSSAPI failed: %s (is there a Kerberos ticket "
		    "for this realm? run kinit, and check klist "
		    "shows one; the service is smtp/%s)",
		    gsasl_strerror(rc), c->host != NULL ? c->host : "?");
	return xasprintf("%s failed: %s", c->info->name, gsasl_strerror(rc));
}

/* 1 when a server-first message asks for too many iterations. */
static int
gs_iter_too_many(const unsigned char *in, size_t n)
{
	size_t i;
	long long v = 0;

	for (i = 0; i + 2 < n; i++) {
		if ((i != 0 && in[i - 1] != ',') || in[i] != 'i' ||
		    in[i + 1] != '=')
			continue;
		for (i += 2; i < n && in[i] >= '0' && in[i] <= '9'; i++) {
			v = v * 10 + (in[i] - '0');
			if (v > SASL_SCRAM_ITER_MAX)
				return 1;
		}
		return 0;
	}
	return 0;
}

int
sasl_gs_step(struct sasl_client *c, const unsigned char *in, size_t inlen,
    char **out, size_t *outlen, char **errstr)
{
	struct sasl_gs *g = c->gs;
	char *o = NULL;
	size_t on = 0;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (g == NULL || g->sess == NULL) {
		*errstr = xasprintf("%s was not started", c->info->name);
		return -1;
	}
	if (g->done) {
		*errstr =
		    xasprintf("%s has nothing more to send; cancel with \"*\"",
		        c->info->name);
		return -1;
	}
	if (gs_is_scram(c->id) && gs_iter_too_many(in, inlen)) {
		*errstr = xasprintf("the server asks for more than %d "
		                    "iterations of %s's password hashing (i=): "
		                    "refused, it would take minutes",
		    SASL_SCRAM_ITER_MAX, c->info->name);
		return -1;
	}
	rc = gsasl_step(g->sess, (const char *)in, inlen, &o, &on);
	if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
		if (o != NULL) {
			secret_free(o, on);
		}
		*errstr = gs_error(c, rc, in, inlen);
		return -1;
	}
	if (rc == GSASL_OK)
		g->done = 1;
	/* Copied into our memory so it is wiped like every secret. */
	*out = xmalloc(on + 1);
	if (on > 0)
		memcpy(*out, o, on);
	(*out)[on] = '\0';
	*outlen = on;
	if (o != NULL)
		secret_free(o, on);
	return 0;
}

/* "c=...,r=...,p=PROOF": everything up to p= shown, the proof masked. */
static char *
gs_redact_scram(const unsigned char *d, size_t n)
{
	const char *s = (const char *)d;
	char *shown, *r;
	size_t i;

	if (n == 0)
		return xstrdup("[empty response]");
	/* client-first: a GS2 header, then n=USER,r=NONCE; nothing secret. */
	if ((n >= 2 && (memcmp(s, "n,", 2) == 0 || memcmp(s, "y,", 2) == 0)) ||
	    (n >= 2 && memcmp(s, "p=", 2) == 0)) {
		shown = escape_dup(s, n);
		r = xasprintf("[%s]", shown);
		free(shown);
		return r;
	}
	if (n < 2 || memcmp(s, "c=", 2) != 0)
		return xstrdup(SASL_MASKED);
	for (i = 0; i + 3 <= n; i++) {
		if (memcmp(s + i, ",p=", 3) == 0) {
			shown = escape_dup(s, i);
			r = xasprintf("[%s,p=" SASL_MASK "]", shown);
			free(shown);
			return r;
		}
	}
	return xstrdup(SASL_MASKED);
}

char *
sasl_gs_redact(enum sasl_mech_id id, const unsigned char *d, size_t n)
{
	if (id == SASL_GSSAPI)
		return n == 0 ? xstrdup("[empty response]")
		              : xasprintf("[GSSAPI token, %zu bytes]", n);
	return gs_redact_scram(d, n);
}
