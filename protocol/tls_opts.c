/*
 * The TLS knobs an admin turns while diagnosing (issue 19): protocol
 * versions (--tls-min/--tls-max, 1.0 to 1.3), the TLS 1.2 cipher list
 * (--ciphers), the TLS 1.3 suites (--ciphersuites), key exchange groups
 * (--groups), the SNI name (--sni NAME, --no-sni) and a client
 * certificate (--cert/--key, RFC 8446 4.4.2).  They are applied per
 * connection on the SSL object, so the shared context and its CA store
 * stay as they are.  Everything is checked before any network work
 * (smtp_tls_opts_check, smtp_tls_identity_load): a cipher string
 * OpenSSL does not know, an unreadable key or a wrong passphrase is a
 * usage error naming the option, not a failed handshake later.
 *
 * TLS 1.0 and 1.1 need SHA-1 signatures, which OpenSSL 3 refuses above
 * security level 0; asking for them lowers the level for that
 * connection only.
 */
#include "protocol/transport_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "core/escape.h"
#include "core/xmalloc.h"

struct smtp_tls_identity {
	X509 *cert;
	STACK_OF(X509) * chain; /* the rest of the certificate file */
	EVP_PKEY *key;
};

int
smtp_tls_version_parse(const char *s)
{
	static const struct {
		const char *name;
		int v;
	} names[] = {
	    {"1.0", TLS1_VERSION},
	    {"1.1", TLS1_1_VERSION},
	    {"1.2", TLS1_2_VERSION},
	    {"1.3", TLS1_3_VERSION},
	};
	size_t i;

	if (s == NULL)
		return -1;
	if (strncmp(s, "TLSv", 4) == 0 || strncmp(s, "tlsv", 4) == 0)
		s += 4;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].v;
	return -1;
}

const char *
smtp_tls_version_name(int v)
{
	switch (v) {
	case TLS1_VERSION:
		return "1.0";
	case TLS1_1_VERSION:
		return "1.1";
	case TLS1_2_VERSION:
		return "1.2";
	case TLS1_3_VERSION:
		return "1.3";
	default:
		return "?";
	}
}

/* The message for an option OpenSSL refused, with its reason. */
static int
tr_opt_error(
    const char *option, const char *value, const char *what, char **errstr)
{
	char *reasons, *details, *shown;

	(void)tr_ssl_errors(&reasons, &details);
	shown = escape_dup(value, strlen(value));
	*errstr = xasprintf("%s \"%s\": %s%s%s%s", option, shown, what,
	    *reasons != '\0' ? " (" : "", reasons, *reasons != '\0' ? ")" : "");
	free(shown);
	free(reasons);
	free(details);
	return -1;
}

int
tr_opts_apply(SSL *ssl, const struct smtp_tls_opts *o, char **errstr)
{
	int lo = o->min_version, hi = o->max_version;

	ERR_clear_error();
	if (hi != 0 && hi < TLS1_2_VERSION && lo == 0)
		lo = TLS1_VERSION; /* --tls-max 1.1 alone */
	if ((lo != 0 && lo < TLS1_2_VERSION) ||
	    (hi != 0 && hi < TLS1_2_VERSION))
		SSL_set_security_level(ssl, 0);
	if (lo != 0 && SSL_set_min_proto_version(ssl, lo) != 1)
		return tr_opt_error("--tls-min", smtp_tls_version_name(lo),
		    "this OpenSSL does not offer that version", errstr);
	if (hi != 0 && SSL_set_max_proto_version(ssl, hi) != 1)
		return tr_opt_error("--tls-max", smtp_tls_version_name(hi),
		    "this OpenSSL does not offer that version", errstr);
	if (o->ciphers != NULL) {
		if (SSL_set_cipher_list(ssl, o->ciphers) != 1)
			return tr_opt_error("--ciphers", o->ciphers,
			    "OpenSSL knows no TLS 1.2 cipher by that name "
			    "(see `openssl ciphers`)",
			    errstr);
		/* The cipher string may carry its own @SECLEVEL. */
		if ((lo != 0 && lo < TLS1_2_VERSION) ||
		    (hi != 0 && hi < TLS1_2_VERSION))
			SSL_set_security_level(ssl, 0);
	}
	if (o->ciphersuites != NULL &&
	    SSL_set_ciphersuites(ssl, o->ciphersuites) != 1)
		return tr_opt_error("--ciphersuites", o->ciphersuites,
		    "OpenSSL knows no TLS 1.3 suite by that name (e.g. "
		    "TLS_AES_128_GCM_SHA256)",
		    errstr);
	if (o->groups != NULL && SSL_set1_groups_list(ssl, o->groups) != 1)
		return tr_opt_error("--groups", o->groups,
		    "OpenSSL knows no key exchange group by that name (e.g. "
		    "X25519:P-256)",
		    errstr);
	if (o->identity != NULL) {
		const struct smtp_tls_identity *id = o->identity;

		if (SSL_use_certificate(ssl, id->cert) != 1 ||
		    SSL_use_PrivateKey(ssl, id->key) != 1 ||
		    (id->chain != NULL &&
		        SSL_set1_chain(ssl, id->chain) != 1) ||
		    SSL_check_private_key(ssl) != 1)
			return tr_opt_error("--cert", "(loaded)",
			    "cannot use the client certificate", errstr);
	}
	ERR_clear_error();
	return 0;
}

int
smtp_tls_opts_check(const struct smtp_tls_opts *o, char **errstr)
{
	SSL_CTX *ctx;
	SSL *ssl;
	int r = -1;

	if (o->min_version != 0 && o->max_version != 0 &&
	    o->min_version > o->max_version) {
		*errstr = xasprintf("--tls-min %s is above --tls-max %s",
		    smtp_tls_version_name(o->min_version),
		    smtp_tls_version_name(o->max_version));
		return -1;
	}
	if (o->min_version == 0 && o->max_version == 0 && o->ciphers == NULL &&
	    o->ciphersuites == NULL && o->groups == NULL)
		return 0;
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	if (ssl == NULL)
		*errstr = xstrdup("cannot set up TLS to check the options");
	else
		r = tr_opts_apply(ssl, o, errstr);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

/* OpenSSL's passphrase callback: asks through the caller's function. */
struct tr_pass {
	smtp_tls_pass_cb *cb;
	void *arg;
	const char *path;
	int asked;
};

static int
tr_pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct tr_pass *p = u;
	int n;

	(void)rwflag;
	if (p->cb == NULL || size <= 0)
		return -1;
	p->asked = 1;
	n = p->cb(p->path, buf, (size_t)size, p->arg);
	return n < 0 || n >= size ? -1 : n;
}

/* PEM objects of path: the certificate (and chain), or the key. */
static int
tr_identity_read(struct smtp_tls_identity *id, const char *cert,
    const char *key, struct tr_pass *pass, char **errstr)
{
	BIO *bio;
	X509 *x;
	char *shown;

	if ((bio = BIO_new_file(cert, "r")) == NULL) {
		shown = escape_dup(cert, strlen(cert));
		*errstr =
		    xasprintf("--cert \"%s\": %s", shown, strerror(errno));
		free(shown);
		return -1;
	}
	id->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	while (id->cert != NULL &&
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (id->chain == NULL)
			id->chain = sk_X509_new_null();
		if (id->chain == NULL || sk_X509_push(id->chain, x) == 0)
			X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (id->cert == NULL)
		return tr_opt_error("--cert", cert,
		    "holds no PEM certificate (BEGIN CERTIFICATE)", errstr);
	if ((bio = BIO_new_file(key, "r")) == NULL) {
		shown = escape_dup(key, strlen(key));
		*errstr = xasprintf("--key \"%s\": %s", shown, strerror(errno));
		free(shown);
		return -1;
	}
	id->key = PEM_read_bio_PrivateKey(bio, NULL, tr_pass_cb, pass);
	BIO_free(bio);
	if (id->key == NULL)
		return tr_opt_error("--key", key,
		    pass->asked ? "cannot decrypt the key: wrong passphrase?"
		                : "holds no PEM private key",
		    errstr);
	if (X509_check_private_key(id->cert, id->key) != 1)
		return tr_opt_error("--key", key,
		    "does not belong to the certificate given with --cert",
		    errstr);
	ERR_clear_error();
	return 0;
}

struct smtp_tls_identity *
smtp_tls_identity_load(const char *cert, const char *key, smtp_tls_pass_cb *cb,
    void *arg, char **errstr)
{
	struct smtp_tls_identity *id = xcalloc(1, sizeof *id);
	struct tr_pass pass = {cb, arg, key != NULL ? key : cert, 0};

	if (key == NULL)
		key = cert; /* one PEM file with both */
	ERR_clear_error();
	if (tr_identity_read(id, cert, key, &pass, errstr) == -1) {
		smtp_tls_identity_free(id);
		return NULL;
	}
	return id;
}

void
smtp_tls_identity_free(struct smtp_tls_identity *id)
{
	if (id == NULL)
		return;
	X509_free(id->cert);
	sk_X509_pop_free(id->chain, X509_free);
	EVP_PKEY_free(id->key);
	free(id);
}

char *
tr_alert_advice(const struct smtp_transport *t, const char *reasons)
{
	char range[32];

	if (strstr(reasons, "certificate required") != NULL ||
	    (t->cert_requested && strstr(reasons, "handshake failure") != NULL))
		return xstrdup(" The server demands a client certificate (TLS "
		               "alert: certificate required): give one with "
		               "--cert FILE --key FILE.");
	if (t->has_cert &&
	    (strstr(reasons, "bad certificate") != NULL ||
	        strstr(reasons, "unknown ca") != NULL ||
	        strstr(reasons, "certificate unknown") != NULL))
		return xasprintf(" The server refused the client certificate "
		                 "given with --cert (TLS alert: %s).",
		    strstr(reasons, "unknown ca") != NULL
		        ? "unknown CA: it does not trust its issuer"
		        : "bad certificate");
	if (t->min_version == 0 && t->max_version == 0)
		return xstrdup("");
	(void)snprintf(range, sizeof range, "%s to %s",
	    t->min_version != 0 ? smtp_tls_version_name(t->min_version) : "1.2",
	    t->max_version != 0 ? smtp_tls_version_name(t->max_version)
	                        : "1.3");
	return xasprintf(
	    " Only TLS %s was offered (--tls-min/--tls-max%s%s%s%s): "
	    "the server accepts none of it%s.",
	    range, t->min_version != 0 ? " --tls-min " : "",
	    t->min_version != 0 ? smtp_tls_version_name(t->min_version) : "",
	    t->max_version != 0 ? " --tls-max " : "",
	    t->max_version != 0 ? smtp_tls_version_name(t->max_version) : "",
	    (t->min_version != 0 && t->min_version < TLS1_2_VERSION) ||
	            (t->max_version != 0 && t->max_version < TLS1_2_VERSION)
	        ? ", or this system's OpenSSL does not allow TLS 1.0/1.1 even "
	          "at security level 0"
	        : "");
}
