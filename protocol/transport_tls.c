/*
 * TLS for the transport: RFC 8314 (implicit TLS) and RFC 3207
 * (STARTTLS).  The server identity is checked as RFC 6125 describes (DNS
 * names from the SAN, no partial wildcards; IP literals against IP SANs,
 * without SNI as RFC 6066 forbids literals there).  One SSL_CTX is
 * shared by all transports and made on the first TLS start, because
 * loading the CA store is the most expensive thing a short STARTTLS
 * session does; the system store is consulted lazily (tr_store_system),
 * so a chain that ends in --cafile never parses the system's CA bundle.
 * Every handshake asks for a stapled OCSP response (RFC 6066 8); what
 * came back is described by transport_info.c, never enforced.  Errors
 * become one message naming the reason, from the OpenSSL error queue
 * and the verification result.
 */
#include "protocol/transport_int.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/sockbio.h"

/* Shared by every transport; made on the first TLS start. */
static SSL_CTX *tr_ctx;
static char *tr_ctx_cafile; /* the extra CA file tr_ctx trusts, or NULL */
static X509_LOOKUP_METHOD *tr_lazy_method; /* see tr_store_system() */

/* 1 when s is an IPv4 or IPv6 literal (an IPv6 zone suffix allowed). */
static int
tr_is_ip_literal(const char *s)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char tmp[INET6_ADDRSTRLEN];
	size_t n;

	if (inet_pton(AF_INET, s, addr) == 1)
		return 1;
	n = strcspn(s, "%");
	if (n >= sizeof tmp)
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, addr) == 1;
}

/*
 * X509_LOOKUP get_by_subject for the system CA file: the first time an
 * issuer is missing from memory (and from the hashed directory before
 * this lookup), loads the whole file into the store, then answers from
 * the store.  The caller takes its own reference on what ret holds.
 */
static int
tr_lazy_get(X509_LOOKUP *lu, X509_LOOKUP_TYPE type, const X509_NAME *name,
    X509_OBJECT *ret)
{
	X509_STORE *store = X509_LOOKUP_get_store(lu);
	X509_OBJECT *obj;
	X509 *x = NULL;
	const char *file;

	if (type != X509_LU_X509 || store == NULL)
		return 0;
	if (X509_LOOKUP_get_method_data(lu) == NULL) {
		(void)X509_LOOKUP_set_method_data(lu, lu); /* loaded */
		file = getenv(X509_get_default_cert_file_env());
		if (file == NULL)
			file = X509_get_default_cert_file();
		/* No system bundle is fine: --cafile may be all there is. */
		(void)X509_load_cert_crl_file(lu, file, X509_FILETYPE_PEM);
		ERR_clear_error();
	}
	if (X509_STORE_lock(store) != 1)
		return 0;
	obj = X509_OBJECT_retrieve_by_subject(
	    X509_STORE_get0_objects(store), type, name);
	if (obj != NULL &&
	    X509_OBJECT_set1_X509(ret, X509_OBJECT_get0_X509(obj)) == 1)
		x = X509_OBJECT_get0_X509(ret);
	(void)X509_STORE_unlock(store);
	/* set1 took a reference the store already holds for us. */
	X509_free(x);
	return x != NULL;
}

/*
 * Makes ctx trust the system store the way
 * SSL_CTX_set_default_verify_paths() does (SSL_CERT_DIR and SSL_CERT_FILE
 * honoured), but lazily: that call parses the whole CA bundle up front,
 * which the benchmarks measured at 90% of the instructions of a STARTTLS
 * session.  Here the hashed directory is searched one issuer at a time
 * and the bundle is read only when neither memory (--cafile) nor the
 * directory has the issuer.
 */
static void
tr_store_system(SSL_CTX *ctx)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lu;

	if ((lu = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir())) != NULL)
		(void)X509_LOOKUP_add_dir(lu, NULL, X509_FILETYPE_DEFAULT);
	if (tr_lazy_method == NULL) {
		tr_lazy_method = X509_LOOKUP_meth_new("ehlo lazy CA file");
		if (tr_lazy_method == NULL ||
		    X509_LOOKUP_meth_set_get_by_subject(
		        tr_lazy_method, tr_lazy_get) != 1) {
			X509_LOOKUP_meth_free(tr_lazy_method);
			tr_lazy_method = NULL;
			return;
		}
	}
	(void)X509_STORE_add_lookup(store, tr_lazy_method);
}

/*
 * Called when the server asks for a client certificate and none was
 * given (--cert): noted for the report, and the handshake goes on
 * without one (the server decides).
 */
static int
tr_client_cert_cb(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
	struct smtp_transport *t = SSL_get_app_data(ssl);

	(void)x509;
	(void)pkey;
	if (t != NULL)
		t->cert_requested = 1;
	return 0;
}

/* An SSL_CTX that trusts the system store and cafile (may be NULL). */
static SSL_CTX *
tr_ctx_get(const char *cafile, char **errstr)
{
	SSL_CTX *ctx;
	char *reasons, *details, *shown;

	if (tr_ctx != NULL &&
	    ((cafile == NULL && tr_ctx_cafile == NULL) ||
	        (cafile != NULL && tr_ctx_cafile != NULL &&
	            strcmp(cafile, tr_ctx_cafile) == 0)))
		return tr_ctx;
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/*
	 * SMTP frames its own data, so a close without close_notify is
	 * just the end of the stream (many servers do it after QUIT).
	 */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* A system without a default store still works with --cafile. */
	tr_store_system(ctx);
	ERR_clear_error();
	if (cafile != NULL &&
	    SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		(void)tr_ssl_errors(&reasons, &details);
		shown = escape_dup(cafile, strlen(cafile));
		if (access(cafile, R_OK) == -1)
			*errstr = xasprintf("cannot read CA file \"%s\": %s. "
			                    "Check the path given to --cafile.",
			    shown, strerror(errno));
		else
			*errstr = xasprintf("cannot load CA file \"%s\": %s "
			                    "(%s). Check that it holds PEM "
			                    "certificates.",
			    shown, reasons, details);
		free(shown);
		free(reasons);
		free(details);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, tr_cert_verify, NULL);
	SSL_CTX_set_client_cert_cb(ctx, tr_client_cert_cb);
	/* Live SSL objects keep their own reference to the old context. */
	SSL_CTX_free(tr_ctx);
	free(tr_ctx_cafile);
	tr_ctx = ctx;
	tr_ctx_cafile = cafile != NULL ? xstrdup(cafile) : NULL;
	return ctx;
fail:
	(void)tr_ssl_errors(&reasons, &details);
	*errstr = xasprintf("cannot set up TLS: %s (%s)", reasons, details);
	free(reasons);
	free(details);
	SSL_CTX_free(ctx);
	return NULL;
}

void
smtp_transport_tls_prepare(const char *cafile)
{
	char *err = NULL;

	/* An error is reported by the TLS start that needs the context. */
	if (tr_ctx_get(cafile, &err) == NULL)
		free(err);
}

void
smtp_transport_tls_cleanup(void)
{
	SSL_CTX_free(tr_ctx);
	tr_ctx = NULL;
	free(tr_ctx_cafile);
	tr_ctx_cafile = NULL;
	smtp_sockbio_cleanup();
	X509_LOOKUP_meth_free(tr_lazy_method);
	tr_lazy_method = NULL;
}

int
smtp_transport_tls_start(
    struct smtp_transport *t, const struct smtp_tls_opts *opts, char **errstr)
{
	static const struct smtp_tls_opts none;
	X509_VERIFY_PARAM *param;
	SSL_CTX *ctx;
	BIO *bio;
	SSL *ssl;
	const char *name;
	char *reasons, *details;
	size_t n;

	if (opts == NULL)
		opts = &none;
	if (t->state != TR_CONNECTED || t->fd == -1) {
		*errstr = xstrdup(t->state == TR_TLS
		        ? "cannot start TLS: TLS is already active"
		        : "cannot start TLS: not connected");
		return -1;
	}
	name = opts->verify_name != NULL ? opts->verify_name : t->host;
	if (name == NULL || *name == '\0') {
		*errstr = xstrdup("cannot start TLS: no server name to verify "
		                  "the certificate against");
		return -1;
	}
	if ((ctx = tr_ctx_get(opts->cafile, errstr)) == NULL)
		return -1;
	if ((ssl = SSL_new(ctx)) == NULL)
		goto fail;
	if ((bio = smtp_sockbio_new(t->fd)) == NULL) {
		SSL_free(ssl);
		goto fail;
	}
	SSL_set_bio(ssl, bio, bio);
	SSL_set_connect_state(ssl);

	free(t->vname);
	free(t->sni);
	/* "mail.example." names the same host; SNI must not end in a dot. */
	n = strlen(name);
	if (n > 1 && name[n - 1] == '.')
		n--;
	t->vname = xstrndup(name, n);
	param = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set_hostflags(
	    param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (tr_is_ip_literal(t->vname)) {
		t->sni = xstrdup("");
		t->vname[strcspn(t->vname, "%")] = '\0';
		if (X509_VERIFY_PARAM_set1_ip_asc(param, t->vname) != 1) {
			SSL_free(ssl);
			goto fail;
		}
	} else {
		t->sni = xstrdup(t->vname);
		if (SSL_set1_host(ssl, t->vname) != 1) {
			SSL_free(ssl);
			goto fail;
		}
	}
	/* --sni NAME sends another name, --no-sni none (issue 19). */
	if (opts->no_sni || opts->sni != NULL) {
		free(t->sni);
		n = opts->sni != NULL ? strlen(opts->sni) : 0;
		if (n > 1 && opts->sni[n - 1] == '.')
			n--;
		t->sni = opts->no_sni ? xstrdup("") : xstrndup(opts->sni, n);
	}
	if (*t->sni != '\0' && SSL_set_tlsext_host_name(ssl, t->sni) != 1) {
		SSL_free(ssl);
		goto fail;
	}
	if (tr_opts_apply(ssl, opts, errstr) == -1) {
		SSL_free(ssl);
		return -1;
	}
	t->dane = opts->dane;
	if (tr_dane_apply(t, ssl, opts->dane, errstr) == -1) {
		SSL_free(ssl);
		return -1;
	}
	t->insecure = opts->insecure != 0;
	/* TLSA records make verification required (Postfix's "dane"). */
	t->opportunistic = opts->opportunistic != 0 &&
	    (opts->dane == NULL || opts->dane->n == 0);
	t->implicit = opts->implicit != 0;
	t->cafile_given = opts->cafile != NULL;
	t->has_cert = opts->identity != NULL;
	free(t->pin);
	t->pin = opts->pin != NULL ? xstrdup(opts->pin) : NULL;
	t->min_version = opts->min_version;
	t->max_version = opts->max_version;
	/* Every problem is collected (tr_cert_verify refuses). */
	tr_verify_setup(t, ssl);
	/* No status callback: a staple is kept for tr_ocsp_describe. */
	if (SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp) != 1) {
		SSL_free(ssl);
		goto fail;
	}
	t->ssl = ssl;
	t->ssl_dead = 0;
	t->state = TR_HANDSHAKE;
	t->want = SMTP_TR_WANT_WRITE;
	return 0;
fail:
	(void)tr_ssl_errors(&reasons, &details);
	*errstr = xasprintf("cannot start TLS: %s (%s)", reasons, details);
	free(reasons);
	free(details);
	return -1;
}

/* What the handshake showed, with the verification reasons and DANE. */
static struct smtp_tls_info *
tr_info_complete(struct smtp_transport *t, long vr)
{
	struct smtp_tls_info *info = tr_info_build(t, vr);

	free(info->verify_error);
	info->verify_error = tr_verify_reasons(t, vr);
	tr_dane_report(t, t->dane, info);
	return info;
}

static char *
tr_handshake_message(struct smtp_transport *t, int e, int err)
{
	char *reasons, *details, *s, *advice;
	long vr;
	int plain;

	vr = SSL_get_verify_result(t->ssl);
	if (!t->insecure && !t->opportunistic && vr != X509_V_OK) {
		/* Refused by tr_cert_verify: the chain is still shown. */
		ERR_clear_error();
		tr_info_free(t->info);
		t->info = tr_info_complete(t, vr);
		t->info->refused = 1;
		return tr_verify_message(t, vr);
	}

	plain = tr_ssl_errors(&reasons, &details);
	advice = tr_alert_advice(t, reasons);
	if (e == SSL_ERROR_SSL && *reasons != '\0')
		s = xasprintf("TLS handshake with %s failed: %s (%s).%s",
		    t->peer, reasons, details,
		    plain ? " The server did not answer with TLS: is this a "
		            "plain-text port? Implicit TLS is normally port "
		            "465; ports 25 and 587 use STARTTLS."
		          : advice);
	else if (e == SSL_ERROR_SYSCALL && err != 0 && err != ECONNRESET &&
	    err != EPIPE)
		s = xasprintf(
		    "TLS handshake with %s failed: %s", t->peer, strerror(err));
	else
		s = xasprintf("TLS handshake with %s failed: the server closed "
		              "the connection%s%s%s. It may not speak TLS on "
		              "this port, or it accepts none of our TLS "
		              "versions (1.2 or later) and ciphers.%s",
		    t->peer, err != 0 ? " (" : "",
		    err != 0 ? strerror(err) : "", err != 0 ? ")" : "", advice);
	free(advice);
	free(reasons);
	free(details);
	return s;
}

int
smtp_transport_tls_handshake(struct smtp_transport *t, char **errstr)
{
	long vr;
	int r, e, err;

	if (t->state == TR_TLS)
		return 0;
	if (t->state != TR_HANDSHAKE || t->ssl == NULL) {
		*errstr = xstrdup("no TLS handshake in progress");
		return SMTP_TR_ERROR;
	}
	ERR_clear_error();
	errno = 0;
	r = SSL_connect(t->ssl);
	err = errno;
	if (r == 1) {
		vr = SSL_get_verify_result(t->ssl);
		tr_info_free(t->info);
		t->info = tr_info_complete(t, vr);
		if (!t->insecure && !t->opportunistic &&
		    (vr != X509_V_OK || tr_peer_leaf(t->ssl) == NULL)) {
			/* tr_cert_verify should have refused it already. */
			t->info->refused = 1;
			*errstr = vr != X509_V_OK
			    ? tr_verify_message(t, vr)
			    : xasprintf(
			          "TLS handshake with %s: the server sent "
			          "no certificate",
			          t->peer);
			t->state = TR_FAILED;
			t->want = 0;
			return SMTP_TR_ERROR;
		}
		if (t->pin != NULL &&
		    (*errstr = tr_pin_check(t, t->pin)) != NULL) {
			/* A pin holds even with --insecure, as in curl. */
			t->info->refused = 1;
			t->state = TR_FAILED;
			t->want = 0;
			return SMTP_TR_ERROR;
		}
		t->state = TR_TLS;
		t->want = SMTP_TR_WANT_READ;
		return 0;
	}
	e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		t->want = e == SSL_ERROR_WANT_READ ? SMTP_TR_WANT_READ
		                                   : SMTP_TR_WANT_WRITE;
		return SMTP_TR_AGAIN;
	}
	*errstr = tr_handshake_message(t, e, err);
	ERR_clear_error();
	t->ssl_dead = 1;
	t->state = TR_FAILED;
	t->want = 0;
	return SMTP_TR_ERROR;
}
