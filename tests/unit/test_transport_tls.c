/*
 * Unit tests for protocol/transport*.c over TLS, against a forked
 * OpenSSL server whose certificates are generated at run time: a
 * self-signed one (SAN DNS:localhost, IP:127.0.0.1) and a leaf signed
 * by a test CA, optionally stapling an OCSP response signed by that CA
 * (good, revoked, "try later", or about another certificate); also a
 * server that answers the handshake with garbage or hangs up, and a bad
 * CA file.  Every wait is a poll() with a timeout (transport_fixture.h),
 * and every server child runs under alarm(), so a broken transport
 * fails instead of hanging.  Plain TCP: test_transport.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "protocol/transport.h"
#include "transport_fixture.h"

/* Certificates and files shared by the TLS tests (group setup). */
static struct {
	char dir[64];
	char self_pem[128]; /* the self-signed certificate */
	char ca_pem[128]; /* the test CA */
	EVP_PKEY *key; /* server key for both server certificates */
	X509 *self;
	EVP_PKEY *ca_key;
	X509 *ca;
	X509 *leaf; /* signed by ca */
} fx;

enum srv_mode {
	SRV_SELF, /* TLS with the self-signed certificate */
	SRV_CHAIN, /* TLS with leaf + CA */
	SRV_GARBAGE, /* plain text where a TLS handshake belongs */
	SRV_HANGUP, /* reads the ClientHello, then closes */
	SRV_OCSP_GOOD, /* SRV_CHAIN stapling "good" for the leaf */
	SRV_OCSP_REVOKED, /* ... "revoked" (keyCompromise) */
	SRV_OCSP_TRYLATER, /* ... an unsuccessful response (tryLater) */
	SRV_OCSP_OTHER, /* ... "good" for another certificate */
};

/* The DER OCSP response a stapling server child sends. */
static unsigned char *srv_ocsp_der;
static int srv_ocsp_len;

/* ---- helpers: certificates and the TLS server child ----------------- */

static void
cert_add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* A certificate for key; self-signed when issuer is NULL. */
static X509 *
cert_make(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
    int is_ca, long serial)
{
	X509 *x;
	X509_NAME *name;

	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	                     (const unsigned char *)"ehlo tests", -1, -1, 0),
	    1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                     (const unsigned char *)cn, -1, -1, 0),
	    1);
	assert_int_equal(
	    X509_set_issuer_name(
	        x, issuer != NULL ? X509_get_subject_name(issuer) : name),
	    1);
	if (is_ca) {
		cert_add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		cert_add_ext(
		    x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
		cert_add_ext(x, x, NID_subject_key_identifier, "hash");
	} else {
		cert_add_ext(x, issuer != NULL ? issuer : x,
		    NID_basic_constraints, "CA:FALSE");
		cert_add_ext(x, issuer != NULL ? issuer : x,
		    NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
		if (issuer != NULL)
			cert_add_ext(
			    x, issuer, NID_authority_key_identifier, "keyid");
	}
	assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key,
	                EVP_sha256()) > 0);
	return x;
}

static void
pem_write(const char *path, X509 *x)
{
	FILE *f;

	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
}

static int
group_setup(void **state)
{
	(void)state;
	/* A dead server must show up as EPIPE, not kill the test. */
	(void)signal(SIGPIPE, SIG_IGN);
	(void)snprintf(
	    fx.dir, sizeof fx.dir, "/tmp/ehlo-test-transport-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	(void)snprintf(fx.self_pem, sizeof fx.self_pem, "%s/self.pem", fx.dir);
	(void)snprintf(fx.ca_pem, sizeof fx.ca_pem, "%s/ca.pem", fx.dir);
	fx.key = EVP_EC_gen("P-256");
	fx.ca_key = EVP_EC_gen("P-256");
	if (fx.key == NULL || fx.ca_key == NULL)
		return -1;
	fx.self = cert_make(fx.key, "localhost", NULL, NULL, 0, 1);
	fx.ca = cert_make(fx.ca_key, "ehlo test CA", NULL, NULL, 1, 2);
	fx.leaf = cert_make(fx.key, "localhost", fx.ca, fx.ca_key, 0, 3);
	pem_write(fx.self_pem, fx.self);
	pem_write(fx.ca_pem, fx.ca);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	(void)unlink(fx.self_pem);
	(void)unlink(fx.ca_pem);
	(void)rmdir(fx.dir);
	X509_free(fx.self);
	X509_free(fx.ca);
	X509_free(fx.leaf);
	EVP_PKEY_free(fx.key);
	EVP_PKEY_free(fx.ca_key);
	smtp_transport_tls_cleanup();
	return 0;
}

/* An OCSP response for mode, signed by the test CA, as DER. */
static void
ocsp_make(enum srv_mode mode)
{
	OCSP_BASICRESP *bs;
	OCSP_RESPONSE *resp;
	OCSP_CERTID *id;
	ASN1_TIME *now, *next, *rev;

	if (mode == SRV_OCSP_TRYLATER)
		resp =
		    OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, NULL);
	else {
		bs = OCSP_BASICRESP_new();
		id = OCSP_cert_to_id(
		    NULL, mode == SRV_OCSP_OTHER ? fx.self : fx.leaf, fx.ca);
		now = X509_gmtime_adj(NULL, -60);
		next = X509_gmtime_adj(NULL, 7L * 86400);
		rev = X509_gmtime_adj(NULL, -86400);
		if (bs == NULL || id == NULL || now == NULL || next == NULL ||
		    rev == NULL ||
		    OCSP_basic_add1_status(bs, id,
		        mode == SRV_OCSP_REVOKED ? V_OCSP_CERTSTATUS_REVOKED
		                                 : V_OCSP_CERTSTATUS_GOOD,
		        OCSP_REVOKED_STATUS_KEYCOMPROMISE,
		        mode == SRV_OCSP_REVOKED ? rev : NULL, now,
		        next) == NULL ||
		    OCSP_basic_sign(
		        bs, fx.ca, fx.ca_key, EVP_sha256(), NULL, 0) != 1)
			_exit(30);
		resp =
		    OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
		OCSP_CERTID_free(id);
		OCSP_BASICRESP_free(bs);
		ASN1_TIME_free(now);
		ASN1_TIME_free(next);
		ASN1_TIME_free(rev);
	}
	if (resp == NULL ||
	    (srv_ocsp_len = i2d_OCSP_RESPONSE(resp, &srv_ocsp_der)) <= 0)
		_exit(31);
	OCSP_RESPONSE_free(resp);
}

/* Staples srv_ocsp_der (the library frees the copy it is given). */
static int
ocsp_staple_cb(SSL *ssl, void *arg)
{
	unsigned char *copy;

	(void)arg;
	if ((copy = OPENSSL_memdup(srv_ocsp_der, (size_t)srv_ocsp_len)) ==
	        NULL ||
	    SSL_set_tlsext_status_ocsp_resp(ssl, copy, srv_ocsp_len) != 1)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

/*
 * The server child: accepts one connection.  TLS modes greet with
 * "220 sni=NAME" (or "sni=-"), expect "QUIT" and exit 0 when it came;
 * a failed handshake exits 2.  SRV_GARBAGE writes a plain greeting,
 * stops sending and waits for the client to hang up.
 */
static int
server_run(int lfd, enum srv_mode mode)
{
	SSL_CTX *ctx;
	SSL *ssl;
	const char *sni;
	char greet[300], line[256], hello[16384];
	size_t len = 0, n;
	int fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1)
		return 10;
	if (mode == SRV_GARBAGE) {
		if (write(fd, "220 hello\r\n", 11) != 11)
			return 11;
		(void)shutdown(fd, SHUT_WR);
		while (read(fd, line, sizeof line) > 0)
			;
		return 0;
	}
	if (mode == SRV_HANGUP) {
		/* All of the ClientHello, so close() sends FIN, not RST. */
		if (!wait_fd(fd, POLLIN, WAIT_MS) ||
		    read(fd, hello, sizeof hello) <= 0)
			return 19;
		(void)close(fd);
		return 0;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return 12;
	if (SSL_CTX_use_certificate(
	        ctx, mode == SRV_SELF ? fx.self : fx.leaf) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, fx.key) != 1)
		return 13;
	if (mode != SRV_SELF && SSL_CTX_add1_chain_cert(ctx, fx.ca) != 1)
		return 14;
	if (mode >= SRV_OCSP_GOOD) {
		ocsp_make(mode);
		if (SSL_CTX_set_tlsext_status_cb(ctx, ocsp_staple_cb) != 1)
			return 20;
	}
	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1)
		return 15;
	if (SSL_accept(ssl) != 1) {
		SSL_free(ssl);
		SSL_CTX_free(ctx);
		return 2;
	}
	sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	(void)snprintf(
	    greet, sizeof greet, "220 sni=%s\r\n", sni != NULL ? sni : "-");
	if (SSL_write_ex(ssl, greet, strlen(greet), &n) != 1)
		return 16;
	while (len + 1 < sizeof line && memchr(line, '\n', len) == NULL) {
		if (SSL_read_ex(ssl, line + len, sizeof line - 1 - len, &n) !=
		    1)
			return 17;
		len += n;
	}
	line[len] = '\0';
	(void)SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	(void)close(fd);
	return strcmp(line, "QUIT\r\n") == 0 ? 0 : 18;
}

/* Forks a server on 127.0.0.1; *port gets its port. */
static pid_t
server_start(enum srv_mode mode, char *port, size_t portsz)
{
	pid_t pid;
	int lfd;

	lfd = listen_on(AF_INET, "127.0.0.1", port, portsz);
	assert_true(lfd >= 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		alarm(10);
		_exit(server_run(lfd, mode));
	}
	(void)close(lfd);
	return pid;
}

/* Waits (bounded) for the server child; returns its exit status. */
static int
server_reap(pid_t pid)
{
	struct timespec ts = {0, 10000000L};
	int status, i;

	for (i = 0; i < WAIT_MS / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		nanosleep(&ts, NULL);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	return -1;
}

/*
 * Connects to a fresh TLS server and handshakes with opts; returns the
 * handshake result with the transport in *tp (the caller frees it).
 */
static int
tls_session(enum srv_mode mode, const char *host,
    const struct smtp_tls_opts *opts, struct smtp_transport **tp, pid_t *pid,
    char **err)
{
	struct smtp_transport *t;
	char port[16];

	*pid = server_start(mode, port, sizeof port);
	*tp = t = smtp_transport_new();
	assert_int_equal(client_connect(t, host, port, err), 0);
	return client_tls(t, opts, err);
}

/* ---- TLS ----------------------------------------------------------- */

static void
test_tls_self_signed_refused(void **state)
{
	struct smtp_tls_opts opts = {
	    .cafile = NULL, .insecure = 0, .verify_name = "localhost"};
	const struct smtp_tls_info *info;
	struct smtp_transport *t;
	char *err = NULL;
	pid_t pid;

	(void)state;
	assert_int_equal(
	    tls_session(SRV_SELF, "127.0.0.1", &opts, &t, &pid, &err),
	    SMTP_TR_ERROR);
	assert_non_null(err);
	if (strstr(err, "self-signed") == NULL ||
	    strstr(err, "verif") == NULL || strstr(err, "localhost") == NULL ||
	    strstr(err, "--cafile") == NULL ||
	    strstr(err, "--insecure") == NULL)
		fail_msg("unhelpful message: %s", err);
	print_message("%s\n", err);
	assert_false(smtp_transport_is_tls(t));
	/* Refused, but the chain it showed stays readable (issue 20). */
	info = smtp_transport_tls_info(t);
	assert_non_null(info);
	assert_true(info->refused);
	assert_false(info->verified);
	assert_int_equal(info->nchain, 1);
	assert_string_equal(
	    info->chain[0].subject, "CN=localhost,O=ehlo tests");
	assert_non_null(strstr(info->verify_error, "its own issuer"));
	free(err);
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 2);
}

/* cafile trusts the self-signed certificate; checks the details. */
static void
test_tls_cafile_accepted(void **state)
{
	struct smtp_tls_opts opts = {
	    .cafile = fx.self_pem, .insecure = 0, .verify_name = "localhost"};
	const struct smtp_tls_info *info;
	const struct smtp_tls_cert *c;
	struct smtp_transport *t;
	char line[128], *err = NULL;
	pid_t pid;

	(void)state;
	if (tls_session(SRV_SELF, "127.0.0.1", &opts, &t, &pid, &err) != 0)
		fail_msg("handshake: %s", err);
	assert_true(smtp_transport_is_tls(t));
	assert_non_null(info = smtp_transport_tls_info(t));
	print_message(
	    "%s %s group=%s\n", info->version, info->cipher, info->group);
	assert_true(strncmp(info->version, "TLS", 3) == 0);
	assert_true(info->cipher[0] != '\0');
	assert_non_null(info->group);
	assert_string_equal(info->sni, "localhost");
	assert_string_equal(info->alpn, "");
	assert_int_equal(info->verified, 1);
	assert_int_equal(info->verify_skipped, 0);
	assert_string_equal(info->verify_error, "");
	assert_true(info->nchain >= 1);
	c = &info->chain[0];
	assert_non_null(strstr(c->subject, "CN=localhost"));
	assert_non_null(strstr(c->subject, "O=ehlo tests"));
	assert_string_equal(c->subject, c->issuer);
	assert_string_equal(c->san, "DNS:localhost, IP:127.0.0.1");
	assert_true(c->days_left >= 29 && c->days_left <= 30);
	assert_int_equal(strlen(c->not_before), 23);
	assert_non_null(strstr(c->not_after, " UTC"));
	assert_string_equal(c->key_type, "EC");
	assert_int_equal(c->key_bits, 256);
	assert_string_equal(c->sig_alg, "ecdsa-with-SHA256");

	assert_true(client_read_line(t, line, sizeof line) > 0);
	assert_string_equal(line, "220 sni=localhost\r\n");
	client_write_all(t, "QUIT\r\n");
	/* The server's close_notify reads as end of stream. */
	assert_int_equal(client_read_line(t, line, sizeof line), 0);
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 0);
}

/* An IP literal is checked against IP SANs and sends no SNI. */
static void
test_tls_ip_literal(void **state)
{
	struct smtp_tls_opts opts = {
	    .cafile = fx.self_pem, .insecure = 0, .verify_name = NULL};
	const struct smtp_tls_info *info;
	struct smtp_transport *t;
	char line[128], *err = NULL;
	pid_t pid;

	(void)state;
	if (tls_session(SRV_SELF, "127.0.0.1", &opts, &t, &pid, &err) != 0)
		fail_msg("handshake: %s", err);
	assert_non_null(info = smtp_transport_tls_info(t));
	assert_string_equal(info->sni, "");
	assert_int_equal(info->verified, 1);
	assert_true(client_read_line(t, line, sizeof line) > 0);
	assert_string_equal(line, "220 sni=-\r\n");
	client_write_all(t, "QUIT\r\n");
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 0);

	/* An IP the certificate does not list is refused. */
	opts.verify_name = "127.0.0.2";
	assert_int_equal(
	    tls_session(SRV_SELF, "127.0.0.1", &opts, &t, &pid, &err),
	    SMTP_TR_ERROR);
	if (strstr(err, "IP address mismatch") == NULL ||
	    strstr(err, "IP:127.0.0.1") == NULL)
		fail_msg("unhelpful message: %s", err);
	print_message("%s\n", err);
	free(err);
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 2);
}

static void
test_tls_insecure(void **state)
{
	struct smtp_tls_opts opts = {
	    .cafile = NULL, .insecure = 1, .verify_name = "localhost"};
	const struct smtp_tls_info *info;
	struct smtp_transport *t;
	char line[128], *err = NULL;
	pid_t pid;

	(void)state;
	if (tls_session(SRV_SELF, "127.0.0.1", &opts, &t, &pid, &err) != 0)
		fail_msg("handshake: %s", err);
	assert_non_null(info = smtp_transport_tls_info(t));
	assert_int_equal(info->verified, 0);
	assert_int_equal(info->verify_skipped, 1);
	assert_non_null(strstr(info->verify_error, "self-signed"));
	assert_true(info->nchain >= 1);
	assert_true(client_read_line(t, line, sizeof line) > 0);
	client_write_all(t, "QUIT\r\n");
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 0);
}

static void
test_tls_hostname_mismatch(void **state)
{
	struct smtp_tls_opts opts = {.cafile = fx.self_pem,
	    .insecure = 0,
	    .verify_name = "wrong.example"};
	struct smtp_transport *t;
	char *err = NULL;
	pid_t pid;

	(void)state;
	assert_int_equal(
	    tls_session(SRV_SELF, "127.0.0.1", &opts, &t, &pid, &err),
	    SMTP_TR_ERROR);
	if (strstr(err, "hostname mismatch") == NULL ||
	    strstr(err, "wrong.example") == NULL ||
	    strstr(err, "DNS:localhost") == NULL ||
	    strstr(err, "--insecure") == NULL)
		fail_msg("unhelpful message: %s", err);
	print_message("%s\n", err);
	free(err);
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 2);

	/* With --insecure the same mismatch is recorded, not fatal. */
	opts.insecure = 1;
	if (tls_session(SRV_SELF, "127.0.0.1", &opts, &t, &pid, &err) != 0)
		fail_msg("handshake: %s", err);
	assert_int_equal(smtp_transport_tls_info(t)->verified, 0);
	assert_non_null(
	    strstr(smtp_transport_tls_info(t)->verify_error, "mismatch"));
	smtp_transport_free(t);
	(void)server_reap(pid);
}

/* A leaf signed by the test CA, sent with the CA: two certificates. */
static void
test_tls_chain(void **state)
{
	struct smtp_tls_opts opts = {
	    .cafile = fx.ca_pem, .insecure = 0, .verify_name = "localhost"};
	const struct smtp_tls_info *info;
	struct smtp_transport *t;
	char line[128], *err = NULL;
	pid_t pid;

	(void)state;
	if (tls_session(SRV_CHAIN, "localhost", &opts, &t, &pid, &err) != 0)
		fail_msg("handshake: %s", err);
	assert_non_null(info = smtp_transport_tls_info(t));
	assert_int_equal(info->verified, 1);
	assert_int_equal(info->nchain, 2);
	assert_non_null(strstr(info->chain[0].subject, "CN=localhost"));
	assert_non_null(strstr(info->chain[0].issuer, "CN=ehlo test CA"));
	assert_string_equal(info->chain[0].issuer, info->chain[1].subject);
	assert_string_equal(info->chain[1].san, "");
	assert_true(client_read_line(t, line, sizeof line) > 0);
	client_write_all(t, "QUIT\r\n");
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 0);

	/* Without the CA: the chain ends in an untrusted self-signed root. */
	opts.cafile = NULL;
	assert_int_equal(
	    tls_session(SRV_CHAIN, "localhost", &opts, &t, &pid, &err),
	    SMTP_TR_ERROR);
	if (strstr(err, "self-signed") == NULL ||
	    strstr(err, "--cafile") == NULL)
		fail_msg("unhelpful message: %s", err);
	print_message("%s\n", err);
	free(err);
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 2);
}

/* Handshakes with a stapling server; returns the OCSP summary. */
static char *
ocsp_session(enum srv_mode mode, int insecure, enum smtp_ocsp_status *st)
{
	struct smtp_tls_opts opts = {.cafile = fx.ca_pem,
	    .insecure = insecure,
	    .verify_name = "localhost"};
	const struct smtp_tls_info *info;
	struct smtp_transport *t;
	char line[128], *err = NULL, *s;
	pid_t pid;

	if (insecure)
		opts.cafile = NULL;
	if (tls_session(mode, "localhost", &opts, &t, &pid, &err) != 0)
		fail_msg("handshake: %s", err);
	assert_non_null(info = smtp_transport_tls_info(t));
	assert_int_equal(info->verified, !insecure);
	assert_non_null(info->ocsp);
	s = strdup(info->ocsp);
	*st = info->ocsp_status;
	print_message("ocsp: %s\n", s);
	assert_true(client_read_line(t, line, sizeof line) > 0);
	client_write_all(t, "QUIT\r\n");
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 0);
	return s;
}

/* A stapled OCSP response is described, never enforced. */
static void
test_tls_ocsp(void **state)
{
	enum smtp_ocsp_status st;
	char *s;

	(void)state;
	s = ocsp_session(SRV_CHAIN, 0, &st);
	assert_string_equal(s, "");
	assert_int_equal(st, SMTP_OCSP_NONE);
	free(s);

	s = ocsp_session(SRV_OCSP_GOOD, 0, &st);
	assert_int_equal(st, SMTP_OCSP_GOOD);
	assert_true(strncmp(s, "good (this update 20", 20) == 0);
	assert_non_null(strstr(s, " UTC, next update 20"));
	assert_null(strstr(s, "not verified"));
	assert_null(strstr(s, "out of date"));
	free(s);

	/* A revoked leaf does not fail the handshake: it is reported. */
	s = ocsp_session(SRV_OCSP_REVOKED, 0, &st);
	assert_int_equal(st, SMTP_OCSP_REVOKED);
	assert_true(strncmp(s, "revoked at 20", 13) == 0);
	assert_non_null(strstr(s, ", keyCompromise (this update "));
	free(s);

	s = ocsp_session(SRV_OCSP_TRYLATER, 0, &st);
	assert_int_equal(st, SMTP_OCSP_UNUSABLE);
	assert_string_equal(s, "response status trylater");
	free(s);

	s = ocsp_session(SRV_OCSP_OTHER, 0, &st);
	assert_int_equal(st, SMTP_OCSP_UNUSABLE);
	assert_string_equal(s, "no status for this certificate");
	free(s);

	/* Without the CA the responder's signature cannot be checked. */
	s = ocsp_session(SRV_OCSP_GOOD, 1, &st);
	assert_int_equal(st, SMTP_OCSP_GOOD);
	assert_non_null(strstr(s, "; signature not verified"));
	free(s);
}

/* A plain-text server where TLS was expected: a clear error, no hang. */
static void
test_tls_garbage(void **state)
{
	struct smtp_tls_opts opts = {
	    .cafile = NULL, .insecure = 0, .verify_name = "localhost"};
	struct smtp_transport *t;
	char *err = NULL;
	pid_t pid;

	(void)state;
	assert_int_equal(
	    tls_session(SRV_GARBAGE, "127.0.0.1", &opts, &t, &pid, &err),
	    SMTP_TR_ERROR);
	assert_non_null(err);
	if (strstr(err, "TLS") == NULL || strstr(err, "127.0.0.1") == NULL)
		fail_msg("unhelpful message: %s", err);
	print_message("%s\n", err);
	assert_false(smtp_transport_is_tls(t));
	free(err);
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 0);
}

/* The server hangs up in the middle of the handshake. */
static void
test_tls_hangup(void **state)
{
	struct smtp_tls_opts opts = {
	    .cafile = NULL, .insecure = 0, .verify_name = "localhost"};
	struct smtp_transport *t;
	char *err = NULL;
	pid_t pid;

	(void)state;
	assert_int_equal(
	    tls_session(SRV_HANGUP, "127.0.0.1", &opts, &t, &pid, &err),
	    SMTP_TR_ERROR);
	if (strstr(err, "TLS handshake") == NULL ||
	    strstr(err, "127.0.0.1") == NULL ||
	    strstr(err, "closed the connection") == NULL)
		fail_msg("unhelpful message: %s", err);
	print_message("%s\n", err);
	free(err);
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 0);
}

static void
test_tls_bad_cafile(void **state)
{
	struct smtp_tls_opts opts = {.cafile = "/nonexistent/ca.pem",
	    .insecure = 0,
	    .verify_name = "localhost"};
	struct smtp_transport *t;
	char path[160], *err = NULL;
	FILE *f;
	pid_t pid;

	(void)state;
	assert_int_equal(
	    tls_session(SRV_SELF, "127.0.0.1", &opts, &t, &pid, &err),
	    SMTP_TR_ERROR);
	if (strstr(err, "cannot read CA file \"/nonexistent/ca.pem\"") ==
	        NULL ||
	    strstr(err, "No such file") == NULL)
		fail_msg("unhelpful message: %s", err);
	print_message("%s\n", err);
	free(err);
	smtp_transport_free(t);
	/* The server never saw a ClientHello: end of stream in accept. */
	assert_int_equal(server_reap(pid), 2);

	/* A readable file without certificates. */
	(void)snprintf(path, sizeof path, "%s/junk.pem", fx.dir);
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs("not a certificate\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
	opts.cafile = path;
	assert_int_equal(
	    tls_session(SRV_SELF, "127.0.0.1", &opts, &t, &pid, &err),
	    SMTP_TR_ERROR);
	(void)unlink(path);
	if (strstr(err, "cannot load CA file") == NULL ||
	    strstr(err, "PEM") == NULL)
		fail_msg("unhelpful message: %s", err);
	print_message("%s\n", err);
	free(err);
	smtp_transport_free(t);
	assert_int_equal(server_reap(pid), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tls_self_signed_refused),
	    cmocka_unit_test(test_tls_cafile_accepted),
	    cmocka_unit_test(test_tls_ip_literal),
	    cmocka_unit_test(test_tls_insecure),
	    cmocka_unit_test(test_tls_hostname_mismatch),
	    cmocka_unit_test(test_tls_chain),
	    cmocka_unit_test(test_tls_ocsp),
	    cmocka_unit_test(test_tls_garbage),
	    cmocka_unit_test(test_tls_hangup),
	    cmocka_unit_test(test_tls_bad_cafile),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
