/*
 * A TLS survey of a mail server (`ehlo probe tls`, issue 19): which
 * protocol versions and which cipher suites it accepts, one handshake
 * per candidate (a bounded list: TLS 1.0 to 1.3, the TLS 1.3 suites and
 * the TLS 1.2 ciphers mail servers commonly offer), whether it imposes
 * its own order, and what is weak (TLS 1.0/1.1, RSA key exchange, CBC
 * with SHA-1, 3DES, keys under 2048 bits, a certificate that expires
 * soon).  Each try is a connection of its own: greeting, EHLO, STARTTLS
 * (or implicit TLS), the handshake, close; nothing else is sent.  The
 * survey blocks, each step bounded by the timeout, as the MX lookup
 * does: it runs before anything is shown.  Certificates are not
 * verified here (the other paths do that); only what is offered is.
 */
#include "protocol/tls_survey.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/xmalloc.h"
#include "protocol/transport.h"

static const char *const survey_suites13[] = {
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_128_CCM_SHA256",
};

static const char *const survey_ciphers12[] = {
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-RSA-AES256-SHA",
    "ECDHE-RSA-AES128-SHA",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-SHA",
    "DHE-RSA-AES128-SHA",
    "AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
    "AES256-SHA256",
    "AES128-SHA256",
    "AES256-SHA",
    "AES128-SHA",
    "DES-CBC3-SHA",
};

#define NSUITES (sizeof survey_suites13 / sizeof survey_suites13[0])
#define NCIPHERS (sizeof survey_ciphers12 / sizeof survey_ciphers12[0])

/* Reads one reply (until a line "NNN "); 0 and its code, or -1. */
static int
survey_reply(int fd, int *code)
{
	char line[1024];
	size_t n = 0;
	char c;

	for (;;) {
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c != '\n') {
			if (n + 1 < sizeof line)
				line[n++] = c;
			continue;
		}
		line[n] = '\0';
		if (n >= 4 && line[3] == ' ') {
			*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
			    (line[2] - '0');
			return 0;
		}
		if (n < 4 || line[3] != '-')
			return -1;
		n = 0;
	}
}

static int
survey_send(int fd, const char *line)
{
	size_t n = strlen(line);

	return send(fd, line, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* A connected socket, SMTP greeted and STARTTLS accepted (or implicit). */
static int
survey_connect(const struct smtp_tls_survey_opts *o, char **errstr)
{
	struct addrinfo hints, *ai = NULL, *a;
	struct timeval tv;
	char *cmd;
	int fd = -1, code = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(o->host, o->port, &hints, &ai) != 0) {
		*errstr = xasprintf("cannot resolve %s", o->host);
		return -1;
	}
	tv.tv_sec = o->timeout_ms / 1000;
	tv.tv_usec = (o->timeout_ms % 1000) * 1000;
	for (a = ai; a != NULL && fd == -1; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (connect(fd, a->ai_addr, a->ai_addrlen) == -1) {
			(void)close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd == -1) {
		*errstr =
		    xasprintf("cannot connect to %s port %s", o->host, o->port);
		return -1;
	}
	if (o->implicit)
		return fd;
	cmd = xasprintf("EHLO %s\r\n", o->helo);
	if (survey_reply(fd, &code) == -1 || code != 220 ||
	    survey_send(fd, cmd) == -1 || survey_reply(fd, &code) == -1 ||
	    code != 250 || survey_send(fd, "STARTTLS\r\n") == -1 ||
	    survey_reply(fd, &code) == -1 || code != 220) {
		*errstr = xasprintf("the server did not get as far as "
		                    "STARTTLS (last reply %d)",
		    code);
		free(cmd);
		(void)close(fd);
		return -1;
	}
	free(cmd);
	return fd;
}

/*
 * One handshake offering versions lo..hi and the given ciphers (TLS
 * 1.2 and older) or suites (1.3).  1 accepted (what was chosen in
 * *version and *cipher, the leaf in *leaf when asked), 0 refused, -1 when
 * the server could not be reached.
 */
static int
survey_try(SSL_CTX *ctx, const struct smtp_tls_survey_opts *o, int lo, int hi,
    const char *ciphers, const char *suites, char **version, char **cipher,
    X509 **leaf, char **errstr)
{
	SSL *ssl;
	int fd, ok;

	if ((fd = survey_connect(o, errstr)) == -1)
		return -1;
	ERR_clear_error();
	ssl = SSL_new(ctx);
	SSL_set_security_level(ssl, 0);
	ok = ssl != NULL && SSL_set_min_proto_version(ssl, lo) == 1 &&
	    SSL_set_max_proto_version(ssl, hi) == 1 &&
	    (ciphers == NULL || SSL_set_cipher_list(ssl, ciphers) == 1) &&
	    (suites == NULL || SSL_set_ciphersuites(ssl, suites) == 1) &&
	    SSL_set_fd(ssl, fd) == 1;
	if (ok && o->sni != NULL)
		(void)SSL_set_tlsext_host_name(ssl, o->sni);
	ok = ok && SSL_connect(ssl) == 1;
	if (ok) {
		if (version != NULL)
			*version = xstrdup(SSL_get_version(ssl));
		if (cipher != NULL)
			*cipher = xstrdup(SSL_get_cipher_name(ssl));
		if (leaf != NULL)
			*leaf = SSL_get1_peer_certificate(ssl);
		(void)SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	(void)close(fd);
	ERR_clear_error();
	return ok ? 1 : 0;
}

/* Why a TLS 1.2 cipher is weak, or NULL. */
static const char *
survey_weak_cipher(SSL_CTX *ctx, const char *name)
{
	const SSL_CIPHER *c = NULL;
	STACK_OF(SSL_CIPHER) * sk;
	SSL *ssl = SSL_new(ctx);
	int i;

	if (ssl != NULL) {
		SSL_set_security_level(ssl, 0);
		if (SSL_set_cipher_list(ssl, name) == 1 &&
		    (sk = SSL_get_ciphers(ssl)) != NULL)
			for (i = 0; i < sk_SSL_CIPHER_num(sk) && c == NULL; i++)
				if (strcmp(SSL_CIPHER_get_name(
				               sk_SSL_CIPHER_value(sk, i)),
				        name) == 0)
					c = sk_SSL_CIPHER_value(sk, i);
	}
	SSL_free(ssl);
	ERR_clear_error();
	if (strstr(name, "DES-CBC3") != NULL)
		return "3DES (64-bit blocks, Sweet32)";
	if (c != NULL && SSL_CIPHER_get_kx_nid(c) == NID_kx_rsa)
		return "RSA key exchange (no forward secrecy)";
	if (strstr(name, "GCM") == NULL && strstr(name, "CHACHA") == NULL &&
	    strlen(name) > 4 && strcmp(name + strlen(name) - 4, "-SHA") == 0)
		return "CBC with SHA-1";
	return NULL;
}

static void
survey_add(struct smtp_tls_survey *s, const char *name, int kind, int ok,
    const char *weak)
{
	struct smtp_tls_survey_item *it;

	s->items = xreallocarray(s->items, s->nitems + 1, sizeof *s->items);
	it = &s->items[s->nitems++];
	it->name = xstrdup(name);
	it->kind = kind;
	it->accepted = ok;
	it->weak = weak != NULL && ok ? xstrdup(weak) : NULL;
}

int
smtp_tls_survey_run(const struct smtp_tls_survey_opts *o,
    struct smtp_tls_survey *s, char **errstr)
{
	static const int versions[] = {
	    TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION};
	SSL_CTX *ctx;
	X509 *leaf = NULL;
	char *a = NULL, *b = NULL, *order;
	const char *first = NULL, *second = NULL;
	size_t i;
	int r, any = 0;

	memset(s, 0, sizeof *s);
	s->server_order = -1;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		*errstr = xstrdup("cannot set up TLS");
		return -1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	for (i = 0; i < 4; i++) {
		r = survey_try(ctx, o, versions[i], versions[i],
		    versions[i] < TLS1_3_VERSION ? "ALL:@SECLEVEL=0" : NULL,
		    NULL, NULL, NULL, leaf == NULL ? &leaf : NULL, errstr);
		if (r == -1)
			goto fail;
		any |= r;
		survey_add(s, smtp_tls_version_name(versions[i]), 0, r,
		    versions[i] < TLS1_2_VERSION ? "obsolete (RFC 8996)"
		                                 : NULL);
	}
	for (i = 0; i < NSUITES; i++) {
		r = survey_try(ctx, o, TLS1_3_VERSION, TLS1_3_VERSION, NULL,
		    survey_suites13[i], NULL, NULL, NULL, errstr);
		if (r == -1)
			goto fail;
		survey_add(s, survey_suites13[i], 13, r, NULL);
	}
	for (i = 0; i < NCIPHERS; i++) {
		r = survey_try(ctx, o, TLS1_VERSION, TLS1_2_VERSION,
		    survey_ciphers12[i], NULL, NULL, NULL, NULL, errstr);
		if (r == -1)
			goto fail;
		survey_add(s, survey_ciphers12[i], 12, r,
		    survey_weak_cipher(ctx, survey_ciphers12[i]));
		if (r == 1 && first == NULL)
			first = survey_ciphers12[i];
		else if (r == 1 && second == NULL)
			second = survey_ciphers12[i];
	}
	if (first != NULL && second != NULL) {
		/* The same choice from both orders: the server's own. */
		order = xasprintf("%s:%s:@SECLEVEL=0", first, second);
		r = survey_try(ctx, o, TLS1_VERSION, TLS1_2_VERSION, order,
		    NULL, NULL, &a, NULL, errstr);
		free(order);
		order = xasprintf("%s:%s:@SECLEVEL=0", second, first);
		if (r == 1)
			r = survey_try(ctx, o, TLS1_VERSION, TLS1_2_VERSION,
			    order, NULL, NULL, &b, NULL, errstr);
		free(order);
		if (r == 1 && a != NULL && b != NULL)
			s->server_order = strcmp(a, b) == 0;
		free(a);
		free(b);
	}
	if (leaf != NULL) {
		EVP_PKEY *pk = X509_get0_pubkey(leaf);
		int day = 0, sec = 0;

		s->key_bits = pk != NULL ? EVP_PKEY_get_bits(pk) : 0;
		s->key_type = xstrdup(pk != NULL && EVP_PKEY_get0_type_name(pk)
		        ? EVP_PKEY_get0_type_name(pk)
		        : "unknown");
		if (ASN1_TIME_diff(
		        &day, &sec, NULL, X509_get0_notAfter(leaf)) == 1)
			s->days_left = day;
		s->have_cert = 1;
		X509_free(leaf);
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
	if (!any) {
		*errstr = xstrdup("the server accepted no TLS version at all");
		return -1;
	}
	return 0;
fail:
	X509_free(leaf);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return -1;
}

void
smtp_tls_survey_free(struct smtp_tls_survey *s)
{
	size_t i;

	for (i = 0; i < s->nitems; i++) {
		free(s->items[i].name);
		free(s->items[i].weak);
	}
	free(s->items);
	free(s->key_type);
	memset(s, 0, sizeof *s);
}
