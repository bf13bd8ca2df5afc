/*
 * The practice server's SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (the -PLUS
 * form only over TLS): GNU SASL's server side against the built-in
 * accounts, so the AUTH lesson can show a mechanism whose password never
 * crosses the wire.
 *
 *   RFC 5802  SCRAM (client-first, server-first, client-final,
 *             server-final; the proof and the server's signature)
 *   RFC 7677  SCRAM-SHA-256
 *   RFC 9266  tls-exporter (TLS 1.3), RFC 5929 tls-unique (TLS 1.2)
 *
 * The library asks this file's callback for the password of the user
 * the client named (the practice passwords are public), for the PBKDF2
 * iteration count (4096, RFC 7677's minimum) and, for -PLUS, for the
 * binding of this connection's TLS, computed for the server's side by
 * transport_cb.c as the client's transport computes it for its own.
 */
#include "protocol/practice/practice_int.h"

#include <gsasl.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "core/xmalloc.h"
#include "protocol/sasl.h"
#include "protocol/transport_cb.h"

struct pc_scram {
	struct pconn *c;
	Gsasl *ctx;
	Gsasl_session *sess;
	char user[64]; /* the account, once the proof was right */
};

/* This connection's channel binding of the given type, base64, or NULL. */
static char *
pc_scram_binding(const struct pconn *c, Gsasl_property prop)
{
	unsigned char cb[64];
	const char *type;
	size_t n;
	char *b64 = NULL;

	if (!c->tls ||
	    transport_cb_read(c->ssl, 1, &type, cb, sizeof cb, &n) == -1)
		return NULL;
	if ((prop == GSASL_CB_TLS_EXPORTER &&
	        strcmp(type, "tls-exporter") == 0) ||
	    (prop == GSASL_CB_TLS_UNIQUE && strcmp(type, "tls-unique") == 0))
		b64 = sasl_b64_encode(cb, n);
	OPENSSL_cleanse(cb, sizeof cb);
	return b64;
}

static int
pc_scram_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
	struct pc_scram *s = gsasl_callback_hook_get(ctx);
	const char *user;
	char *b64;
	size_t i;
	int rc;

	switch (prop) {
	case GSASL_PASSWORD:
		if ((user = gsasl_property_fast(sess, GSASL_AUTHID)) == NULL)
			return GSASL_NO_CALLBACK;
		for (i = 0; i < practice_account_count(); i++)
			if (strcmp(practice_account_at(i)->user, user) == 0)
				return gsasl_property_set(sess, prop,
				    practice_account_at(i)->password);
		return GSASL_NO_CALLBACK;
	case GSASL_SCRAM_ITER:
		return gsasl_property_set(sess, prop, "4096");
	case GSASL_CB_TLS_EXPORTER:
	case GSASL_CB_TLS_UNIQUE:
		if ((b64 = pc_scram_binding(s->c, prop)) == NULL)
			return GSASL_NO_CALLBACK;
		rc = gsasl_property_set(sess, prop, b64);
		free(b64);
		return rc;
	default:
		return GSASL_NO_CALLBACK;
	}
}

struct pc_scram *
pc_scram_new(struct pconn *c, const char *mech)
{
	struct pc_scram *s = xcalloc(1, sizeof *s);

	s->c = c;
	if (gsasl_init(&s->ctx) != GSASL_OK) {
		free(s);
		return NULL;
	}
	gsasl_callback_set(s->ctx, pc_scram_cb);
	gsasl_callback_hook_set(s->ctx, s);
	if (gsasl_server_start(s->ctx, mech, &s->sess) != GSASL_OK) {
		s->sess = NULL;
		pc_scram_free(s);
		return NULL;
	}
	return s;
}

int
pc_scram_step(struct pc_scram *s, const unsigned char *in, size_t n, char **out,
    size_t *outlen, const char **user)
{
	const char *id;
	char *o = NULL;
	size_t on = 0;
	int rc;

	*out = NULL;
	*outlen = 0;
	*user = NULL;
	rc = gsasl_step(s->sess, (const char *)in, n, &o, &on);
	if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
		free(o);
		return -1;
	}
	*out = xmalloc(on + 1);
	if (on > 0)
		memcpy(*out, o, on);
	(*out)[on] = '\0';
	*outlen = on;
	free(o);
	if (rc == GSASL_NEEDS_MORE)
		return 1;
	id = gsasl_property_fast(s->sess, GSASL_AUTHID);
	if (id == NULL || strlen(id) >= sizeof s->user)
		return -1;
	memcpy(s->user, id, strlen(id) + 1);
	*user = s->user;
	return 0;
}

void
pc_scram_free(struct pc_scram *s)
{
	if (s == NULL)
		return;
	if (s->sess != NULL)
		gsasl_finish(s->sess);
	if (s->ctx != NULL)
		gsasl_done(s->ctx);
	free(s);
}
