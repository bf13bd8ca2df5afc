/*
 * The byte pipe under an SMTP session: it owns the socket, the list of
 * resolved addresses still to try, and (once TLS is started) the OpenSSL
 * connection together with a sanitised copy of what the handshake showed
 * (struct smtp_tls_info).  A transport moves through a small set of
 * states: idle, connecting (one address at a time, in resolver order),
 * connected, TLS handshake, TLS up, failed.  Every call is non-blocking;
 * t->want records which poll() interest the last would-block result
 * needs.
 *
 * TLS follows RFC 8314 (implicit TLS) and RFC 3207 (STARTTLS); the server
 * identity is checked as RFC 6125 describes (DNS names from the SAN, no
 * partial wildcards; IP literals against IP SANs, without SNI as RFC 6066
 * forbids literals there).  One SSL_CTX is shared by all transports and
 * made on the first TLS start, because loading the CA store is the most
 * expensive thing a short STARTTLS session does; the system store is
 * consulted lazily (tr_store_system), so a chain that ends in --cafile
 * never parses the system's CA bundle.  Socket I/O under TLS
 * goes through a tiny BIO that uses send(MSG_NOSIGNAL), so a server that
 * hangs up never raises SIGPIPE.
 *
 * Every handshake asks for a stapled OCSP response (RFC 6066 8, RFC
 * 6961's successor in TLS 1.3, RFC 8446 4.4.2.1); what came back is
 * only described (tr_ocsp_describe), never enforced: a missing, stale
 * or unverifiable staple is common and says nothing about an attack.
 *
 * Certificate fields are untrusted: they are reduced to printable text
 * and bounded before anyone else sees them.
 */
#include "protocol/transport.h"
#include "protocol/sockbio.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"

#define TR_CHAIN_MAX 16 /* certificates described per handshake */
#define TR_FIELD_MAX 1024 /* characters kept of one certificate field */
#define TR_SAN_MAX 4096 /* characters kept of one SAN list */
#define TR_ERRQ_MAX 4 /* OpenSSL error queue entries quoted */
#define TR_ADDR_LEN (NI_MAXHOST + NI_MAXSERV + 4)

enum tr_state {
	TR_IDLE,
	TR_CONNECTING,
	TR_CONNECTED,
	TR_HANDSHAKE,
	TR_TLS,
	TR_FAILED,
};

struct smtp_transport {
	int fd;
	int want;
	enum tr_state state;

	char *host; /* as given to connect, for name checks */
	char *target; /* "host:port" / "[v6]:port", escaped, for messages */
	struct addrinfo *ai_head;
	struct addrinfo *ai_cur; /* the address being tried */
	char *attempts; /* "addr: reason; addr: reason" */
	int nattempts;
	int nrefused;
	char trying[TR_ADDR_LEN];
	char peer[TR_ADDR_LEN];

	SSL *ssl;
	int ssl_dead; /* fatal TLS error: no close_notify may follow */
	int insecure;
	char *sni; /* name sent as SNI, "" for IP literals */
	char *vname; /* name checked against the certificate */
	struct smtp_tls_info *info;
};

/* Shared by every transport; made on the first TLS start. */
static SSL_CTX *tr_ctx;
static char *tr_ctx_cafile; /* the extra CA file tr_ctx trusts, or NULL */
static X509_LOOKUP_METHOD *tr_lazy_method; /* see tr_store_system() */

static void tr_info_free(struct smtp_tls_info *);
static X509 *tr_peer_leaf(SSL *);

/* Copies p[0..n) keeping printable ASCII, '?' for anything else. */
static char *
tr_printable_dup(const char *p, size_t n)
{
	char *s;
	size_t i, len;

	len = n > TR_FIELD_MAX ? TR_FIELD_MAX : n;
	s = xmalloc(len + 4);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		s[i] = (char)((c >= 0x20 && c < 0x7f) ? c : '?');
	}
	if (len < n) {
		memcpy(s + len, "...", 3);
		len += 3;
	}
	s[len] = '\0';
	return s;
}

static char *
tr_printable_str(const char *s)
{
	return tr_printable_dup(s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

/* "127.0.0.1:25" or "[::1]:25" for a socket address. */
static void
tr_addr_format(
    const struct sockaddr *sa, socklen_t salen, char *out, size_t outsz)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, salen, host, sizeof host, serv, sizeof serv,
	        NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		(void)snprintf(out, outsz, "(unknown address)");
		return;
	}
	if (sa->sa_family == AF_INET6)
		(void)snprintf(out, outsz, "[%s]:%s", host, serv);
	else
		(void)snprintf(out, outsz, "%s:%s", host, serv);
}

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
 * Parses a decimal port: digits only (no sign, no blanks), 1..65535.
 * Returns the value or -1.
 */
static long
tr_port_value(const char *s)
{
	char *end;
	long v;
	size_t i, n;

	n = strlen(s);
	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return -1;
	return v;
}

int
smtp_server_parse(const char *server, int default_port, char **host,
    char **port, char **errstr)
{
	const char *colon, *close, *portstr = NULL;
	char *h, *shown;
	size_t hlen;
	long v;

	*host = *port = NULL;
	if (default_port < 1 || default_port > 65535) {
		*errstr = xasprintf(
		    "bad default port %d: expected 1-65535", default_port);
		return -1;
	}
	if (server == NULL || *server == '\0') {
		*errstr = xstrdup("empty server: expected host, host:port or "
		                  "[v6addr]:port");
		return -1;
	}
	shown = escape_dup(server, strlen(server));
	if (server[0] == '[') {
		close = strchr(server, ']');
		if (close == NULL) {
			*errstr = xasprintf("missing \"]\" in \"%s\": expected "
			                    "[v6addr] or [v6addr]:port",
			    shown);
			goto fail;
		}
		hlen = (size_t)(close - server - 1);
		h = xstrndup(server + 1, hlen);
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1] != '\0') {
			free(h);
			*errstr = xasprintf("unexpected text after \"]\" in "
			                    "\"%s\": expected [v6addr]:port",
			    shown);
			goto fail;
		}
	} else {
		/* Two colons or more: a bare IPv6 address, no port. */
		colon = strchr(server, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - server);
			h = xstrndup(server, hlen);
			portstr = colon + 1;
		} else {
			h = xstrdup(server);
			hlen = strlen(h);
		}
	}
	if (hlen == 0) {
		free(h);
		*errstr = xasprintf("empty host in \"%s\": expected host, "
		                    "host:port or [v6addr]:port",
		    shown);
		goto fail;
	}
	if (portstr != NULL) {
		v = tr_port_value(portstr);
		if (v == -1) {
			char *p = escape_dup(portstr, strlen(portstr));

			free(h);
			*errstr = xasprintf("bad port \"%s\" in \"%s\": "
			                    "expected 1-65535",
			    p, shown);
			free(p);
			goto fail;
		}
	} else
		v = default_port;
	free(shown);
	*host = h;
	*port = xasprintf("%ld", v);
	return 0;
fail:
	free(shown);
	return -1;
}

struct smtp_transport *
smtp_transport_new(void)
{
	struct smtp_transport *t;

	t = xcalloc(1, sizeof *t);
	t->fd = -1;
	t->state = TR_IDLE;
	return t;
}

/* Drops the resolver results and the record of failed attempts. */
static void
tr_attempts_clear(struct smtp_transport *t)
{
	if (t->ai_head != NULL)
		freeaddrinfo(t->ai_head);
	t->ai_head = t->ai_cur = NULL;
	free(t->attempts);
	t->attempts = NULL;
	t->nattempts = t->nrefused = 0;
	t->trying[0] = '\0';
}

void
smtp_transport_close(struct smtp_transport *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		if (t->state == TR_TLS && !t->ssl_dead) {
			/* Best effort: one close_notify, no waiting. */
			ERR_clear_error();
			(void)SSL_shutdown(t->ssl);
		}
		ERR_clear_error();
		SSL_free(t->ssl);
		t->ssl = NULL;
	}
	if (t->fd != -1)
		(void)close(t->fd);
	t->fd = -1;
	t->want = 0;
	t->state = TR_IDLE;
	t->ssl_dead = 0;
	tr_attempts_clear(t);
}

void
smtp_transport_free(struct smtp_transport *t)
{
	if (t == NULL)
		return;
	smtp_transport_close(t);
	tr_info_free(t->info);
	free(t->host);
	free(t->target);
	free(t->sni);
	free(t->vname);
	free(t);
}

/* Notes why the address in t->trying failed. */
static void
tr_attempt_fail(struct smtp_transport *t, int err)
{
	char *s;

	s = xasprintf("%s%s%s: %s", t->attempts != NULL ? t->attempts : "",
	    t->attempts != NULL ? "; " : "", t->trying, strerror(err));
	free(t->attempts);
	t->attempts = s;
	t->nattempts++;
	if (err == ECONNREFUSED)
		t->nrefused++;
}

/* Starts a connect to one address; 0 when under way, -1 when it failed. */
static int
tr_connect_one(struct smtp_transport *t, const struct addrinfo *ai)
{
	int fd, one = 1, err;

	tr_addr_format(
	    ai->ai_addr, ai->ai_addrlen, t->trying, sizeof t->trying);
	fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		tr_attempt_fail(t, errno);
		return -1;
	}
	/*
	 * Without it every small command can stall on delayed ACKs; a
	 * failure here only costs speed.
	 */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
	    errno == EINPROGRESS || errno == EINTR) {
		/*
		 * Even a connect that finished at once (loopback) reports
		 * through connect_finish, so callers have one path.
		 */
		t->fd = fd;
		t->state = TR_CONNECTING;
		t->want = SMTP_TR_WANT_WRITE;
		return 0;
	}
	err = errno;
	(void)close(fd);
	tr_attempt_fail(t, err);
	return -1;
}

/* Tries t->ai_cur and the addresses after it until one is under way. */
static int
tr_connect_next(struct smtp_transport *t)
{
	for (; t->ai_cur != NULL; t->ai_cur = t->ai_cur->ai_next)
		if (tr_connect_one(t, t->ai_cur) == 0)
			return 0;
	return -1;
}

static char *
tr_connect_error(const struct smtp_transport *t)
{
	const char *why, *open, *close;
	size_t n;

	/* One address, the one the user typed: do not say it twice. */
	why = t->attempts != NULL ? t->attempts : "no address to try";
	open = " (";
	close = ")";
	n = strlen(t->target);
	if (t->nattempts == 1 && strncmp(why, t->target, n) == 0 &&
	    why[n] == ':') {
		why += n + 2;
		open = ": ";
		close = "";
	}
	if (t->nattempts > 0 && t->nrefused == t->nattempts)
		return xasprintf("cannot connect to %s%s%s%s. Is a server "
		                 "listening on %s? Check the host and port.",
		    t->target, open, why, close, t->target);
	return xasprintf("cannot connect to %s%s%s%s. Check the host, the "
	                 "port and the network (a firewall may be blocking "
	                 "the connection).",
	    t->target, open, why, close);
}

int
smtp_transport_connect(
    struct smtp_transport *t, const char *host, const char *port, char **errstr)
{
	struct addrinfo hints;
	char *eh, *ep;
	int r;

	smtp_transport_close(t);
	tr_info_free(t->info);
	t->info = NULL;
	free(t->host);
	free(t->target);
	t->peer[0] = '\0';
	t->host = xstrdup(host);
	eh = escape_dup(host, strlen(host));
	ep = escape_dup(port, strlen(port));
	if (strchr(host, ':') != NULL)
		t->target = xasprintf("[%s]:%s", eh, ep);
	else
		t->target = xasprintf("%s:%s", eh, ep);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, port, &hints, &t->ai_head);
	if (r != 0) {
		t->ai_head = NULL;
		*errstr =
		    xasprintf("cannot resolve \"%s\" (port %s): %s. Check "
		              "the host name and port.",
		        eh, ep,
		        r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		free(eh);
		free(ep);
		return -1;
	}
	free(eh);
	free(ep);
	t->ai_cur = t->ai_head;
	if (tr_connect_next(t) == 0)
		return 0;
	*errstr = tr_connect_error(t);
	tr_attempts_clear(t);
	return -1;
}

int
smtp_transport_connect_finish(struct smtp_transport *t, char **errstr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int err = 0;

	if (t->state == TR_CONNECTED)
		return 0;
	if (t->state != TR_CONNECTING || t->fd == -1) {
		*errstr = xstrdup("no connection attempt in progress");
		return SMTP_TR_ERROR;
	}
	len = sizeof err;
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		len = sizeof ss;
		if (getpeername(t->fd, (struct sockaddr *)&ss, &len) == 0) {
			tr_addr_format((struct sockaddr *)&ss, len, t->peer,
			    sizeof t->peer);
			tr_attempts_clear(t);
			t->state = TR_CONNECTED;
			t->want = SMTP_TR_WANT_READ;
			return 0;
		}
		if (errno == ENOTCONN)
			return SMTP_TR_AGAIN; /* not writable yet */
		err = errno;
	}
	tr_attempt_fail(t, err);
	(void)close(t->fd);
	t->fd = -1;
	t->ai_cur = t->ai_cur != NULL ? t->ai_cur->ai_next : NULL;
	if (tr_connect_next(t) == 0)
		return SMTP_TR_AGAIN;
	*errstr = tr_connect_error(t);
	tr_attempts_clear(t);
	t->state = TR_IDLE;
	t->want = 0;
	return SMTP_TR_ERROR;
}

int
smtp_transport_fd(const struct smtp_transport *t)
{
	return t->fd;
}

int
smtp_transport_want(const struct smtp_transport *t)
{
	return t->want;
}

const char *
smtp_transport_peer(const struct smtp_transport *t)
{
	return t->peer;
}

/*
 * Collects (and clears) the OpenSSL error queue: *reasons gets the short
 * reasons ("wrong version number"), *details the full error strings.
 * Returns 1 when a reason says the peer did not talk TLS at all.
 */
static int
tr_ssl_errors(char **reasons, char **details)
{
	struct buf r, d;
	char line[256];
	unsigned long e;
	const char *reason;
	int n = 0, plain = 0, why;

	buf_init(&r, 2048);
	buf_init(&d, 2048);
	while ((e = ERR_get_error()) != 0) {
		if (n++ >= TR_ERRQ_MAX)
			continue;
		ERR_error_string_n(e, line, sizeof line);
		reason = ERR_SYSTEM_ERROR(e) ? strerror(ERR_GET_REASON(e))
		                             : ERR_reason_error_string(e);
		(void)buf_add_printf(&r, "%s%s", n > 1 ? "; " : "",
		    reason != NULL ? reason : line);
		(void)buf_add_printf(&d, "%s%s", n > 1 ? "; " : "", line);
		why = ERR_GET_REASON(e);
		if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    (why == SSL_R_WRONG_VERSION_NUMBER ||
		        why == SSL_R_UNKNOWN_PROTOCOL ||
		        why == SSL_R_PACKET_LENGTH_TOO_LONG ||
		        why == SSL_R_RECORD_LENGTH_MISMATCH))
			plain = 1;
	}
	ERR_clear_error();
	*reasons = tr_printable_dup(buf_peek(&r), buf_used(&r));
	*details = tr_printable_dup(buf_peek(&d), buf_used(&d));
	buf_reset(&r);
	buf_reset(&d);
	return plain;
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
		if (SSL_set_tlsext_host_name(ssl, t->sni) != 1 ||
		    SSL_set1_host(ssl, t->vname) != 1) {
			SSL_free(ssl);
			goto fail;
		}
	}
	t->insecure = opts->insecure != 0;
	SSL_set_verify(
	    ssl, t->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
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

/* Appends a GENERAL_NAME's text ("DNS:x") to b; 0, or -1 when b is full. */
static int
tr_san_add(struct buf *b, const GENERAL_NAME *gn)
{
	char ip[INET6_ADDRSTRLEN];
	const ASN1_STRING *s;
	const char *prefix, *sep;
	char *text;
	int len, r;

	sep = buf_used(b) > 0 ? ", " : "";
	switch (gn->type) {
	case GEN_DNS:
		prefix = "DNS:";
		s = gn->d.dNSName;
		break;
	case GEN_EMAIL:
		prefix = "email:";
		s = gn->d.rfc822Name;
		break;
	case GEN_URI:
		prefix = "URI:";
		s = gn->d.uniformResourceIdentifier;
		break;
	case GEN_IPADD:
		s = gn->d.iPAddress;
		len = ASN1_STRING_length(s);
		if ((len != 4 && len != 16) ||
		    inet_ntop(len == 4 ? AF_INET : AF_INET6,
		        ASN1_STRING_get0_data(s), ip, sizeof ip) == NULL)
			return buf_add_printf(b, "%sIP:(invalid)", sep);
		return buf_add_printf(b, "%sIP:%s", sep, ip);
	default:
		return buf_add_printf(b, "%s(other name)", sep);
	}
	len = ASN1_STRING_length(s);
	text = escape_dup(
	    (const char *)ASN1_STRING_get0_data(s), len > 0 ? (size_t)len : 0);
	r = buf_add_printf(b, "%s%s%s", sep, prefix, text);
	free(text);
	return r;
}

/* "DNS:a.example, IP:127.0.0.1", or "" without a SAN extension. */
static char *
tr_san_string(X509 *x)
{
	GENERAL_NAMES *names;
	struct buf b;
	char *s;
	int i, n;

	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (names == NULL) {
		ERR_clear_error();
		return xstrdup("");
	}
	buf_init(&b, TR_SAN_MAX);
	n = sk_GENERAL_NAME_num(names);
	for (i = 0; i < n; i++)
		if (tr_san_add(&b, sk_GENERAL_NAME_value(names, i)) == -1)
			break;
	GENERAL_NAMES_free(names);
	s = xasprintf(
	    "%.*s%s", (int)buf_used(&b), buf_peek(&b), i < n ? ", ..." : "");
	buf_reset(&b);
	return s;
}

/* A certificate name in one-line RFC 2253 form. */
static char *
tr_name_string(const X509_NAME *name)
{
	BIO *mem;
	char *data, *s;
	long n;

	if (name == NULL || (mem = BIO_new(BIO_s_mem())) == NULL)
		return xstrdup("");
	if (X509_NAME_print_ex(mem, name, 0, XN_FLAG_RFC2253) < 0) {
		BIO_free(mem);
		ERR_clear_error();
		return xstrdup("");
	}
	n = BIO_get_mem_data(mem, &data);
	s = tr_printable_dup(data, n > 0 ? (size_t)n : 0);
	BIO_free(mem);
	return s;
}

static char *
tr_time_string(const ASN1_TIME *at)
{
	struct tm tm;
	char s[64];

	memset(&tm, 0, sizeof tm);
	if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1 ||
	    strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return xstrdup("(invalid time)");
	return xstrdup(s);
}

static void
tr_cert_fill(struct smtp_tls_cert *c, X509 *x)
{
	const ASN1_TIME *na;
	EVP_PKEY *pk;
	const char *kt;
	int day = 0, sec = 0, nid;

	c->subject = tr_name_string(X509_get_subject_name(x));
	c->issuer = tr_name_string(X509_get_issuer_name(x));
	c->san = tr_san_string(x);
	c->not_before = tr_time_string(X509_get0_notBefore(x));
	na = X509_get0_notAfter(x);
	c->not_after = tr_time_string(na);
	if (na != NULL && ASN1_TIME_diff(&day, &sec, NULL, na) == 1)
		c->days_left = (day == 0 && sec < 0) ? -1 : day;
	else
		c->days_left = 0;
	pk = X509_get0_pubkey(x);
	kt = NULL;
	c->key_bits = 0;
	if (pk != NULL) {
		kt = EVP_PKEY_get0_type_name(pk);
		if (kt == NULL)
			kt = OBJ_nid2sn(EVP_PKEY_get_base_id(pk));
		c->key_bits = EVP_PKEY_get_bits(pk);
	}
	c->key_type = tr_printable_str(kt != NULL ? kt : "unknown");
	nid = X509_get_signature_nid(x);
	c->sig_alg =
	    tr_printable_str(nid != NID_undef ? OBJ_nid2ln(nid) : "unknown");
	ERR_clear_error();
}

static void
tr_info_free(struct smtp_tls_info *info)
{
	size_t i;

	if (info == NULL)
		return;
	for (i = 0; i < info->nchain; i++) {
		struct smtp_tls_cert *c = &info->chain[i];

		free(c->subject);
		free(c->issuer);
		free(c->san);
		free(c->not_before);
		free(c->not_after);
		free(c->key_type);
		free(c->sig_alg);
	}
	free(info->chain);
	free(info->version);
	free(info->cipher);
	free(info->group);
	free(info->sni);
	free(info->alpn);
	free(info->verify_error);
	free(info->ocsp);
	free(info);
}

static char *
tr_group_name(SSL *ssl)
{
	const char *name = NULL;
	int id;

	id = (int)SSL_get_negotiated_group(ssl);
	if (id <= 0)
		return xstrdup("");
#if OPENSSL_VERSION_NUMBER >= 0x30200000L
	name = SSL_group_to_name(ssl, id);
#else
	/* Before 3.2 the value is a NID, with a flag bit for unknown ones. */
	if ((id & TLSEXT_nid_unknown) == 0)
		name = OBJ_nid2sn(id);
#endif
	return tr_printable_str(name);
}

/* The leaf's issuer: the next certificate sent, else the verified chain. */
static X509 *
tr_leaf_issuer(SSL *ssl, X509 *leaf)
{
	STACK_OF(X509) * sk;
	int i, pass;

	for (pass = 0; pass < 2; pass++) {
		sk = pass == 0 ? SSL_get_peer_cert_chain(ssl)
		               : SSL_get0_verified_chain(ssl);
		for (i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
			X509 *x = sk_X509_value(sk, i);

			if (x != leaf &&
			    X509_check_issued(x, leaf) == X509_V_OK)
				return x;
		}
	}
	return NULL;
}

/*
 * The leaf's status in a stapled OCSP response: *status and a one-line
 * summary (see struct smtp_tls_info).  Responder signature checks use
 * the shared store, so --insecure sessions may report it unverified.
 */
static char *
tr_ocsp_describe(SSL *ssl, enum smtp_ocsp_status *status)
{
	const unsigned char *p = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp;
	OCSP_CERTID *id;
	X509 *leaf, *issuer;
	char *what, *tu, *nu, *s;
	const char *sig, *stale;
	long len;
	int rs, cs, reason;

	*status = SMTP_OCSP_NONE;
	len = SSL_get_tlsext_status_ocsp_resp(ssl, &p);
	if (len <= 0 || p == NULL)
		return xstrdup("");
	*status = SMTP_OCSP_UNUSABLE;
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, len)) == NULL) {
		ERR_clear_error();
		return xstrdup("unparseable response");
	}
	rs = OCSP_response_status(resp);
	if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		s = xasprintf(
		    "response status %s", OCSP_response_status_str(rs));
		OCSP_RESPONSE_free(resp);
		return s;
	}
	bs = OCSP_response_get1_basic(resp);
	OCSP_RESPONSE_free(resp);
	leaf = tr_peer_leaf(ssl);
	issuer = leaf != NULL ? tr_leaf_issuer(ssl, leaf) : NULL;
	if (bs == NULL || leaf == NULL || issuer == NULL) {
		OCSP_BASICRESP_free(bs);
		ERR_clear_error();
		return xstrdup(bs == NULL ? "unparseable response"
		                          : "no issuer certificate to match "
		                            "the response with");
	}
	id = OCSP_cert_to_id(NULL, leaf, issuer);
	if (id == NULL ||
	    OCSP_resp_find_status(
	        bs, id, &cs, &reason, &rev, &thisupd, &nextupd) != 1) {
		OCSP_CERTID_free(id);
		OCSP_BASICRESP_free(bs);
		ERR_clear_error();
		return xstrdup("no status for this certificate");
	}
	OCSP_CERTID_free(id);
	sig = OCSP_basic_verify(bs, SSL_get_peer_cert_chain(ssl),
	          SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl)), 0) > 0
	    ? ""
	    : "; signature not verified";
	/* Five minutes of clock skew, as OpenSSL's own tools allow. */
	stale = OCSP_check_validity(thisupd, nextupd, 300, -1) == 1
	    ? ""
	    : "; out of date";
	tu = tr_time_string(thisupd);
	nu = nextupd != NULL ? tr_time_string(nextupd) : xstrdup("none");
	switch (cs) {
	case V_OCSP_CERTSTATUS_GOOD:
		*status = SMTP_OCSP_GOOD;
		what = xstrdup("good");
		break;
	case V_OCSP_CERTSTATUS_REVOKED: {
		char *at = tr_time_string(rev);

		*status = SMTP_OCSP_REVOKED;
		what =
		    xasprintf("revoked at %s%s%s", at, reason >= 0 ? ", " : "",
		        reason >= 0 ? OCSP_crl_reason_str(reason) : "");
		free(at);
		break;
	}
	default:
		*status = SMTP_OCSP_UNKNOWN;
		what = xstrdup("unknown");
		break;
	}
	s = xasprintf("%s (this update %s, next update %s)%s%s", what, tu, nu,
	    sig, stale);
	free(what);
	free(tu);
	free(nu);
	OCSP_BASICRESP_free(bs);
	ERR_clear_error();
	return s;
}

static struct smtp_tls_info *
tr_info_build(struct smtp_transport *t, long vr)
{
	struct smtp_tls_info *info;
	STACK_OF(X509) * chain;
	const unsigned char *alpn;
	unsigned int alpnlen;
	X509 *leaf;
	size_t i, n;

	info = xcalloc(1, sizeof *info);
	info->version = tr_printable_str(SSL_get_version(t->ssl));
	info->cipher = tr_printable_str(SSL_get_cipher_name(t->ssl));
	info->group = tr_group_name(t->ssl);
	info->sni = xstrdup(t->sni != NULL ? t->sni : "");
	SSL_get0_alpn_selected(t->ssl, &alpn, &alpnlen);
	info->alpn =
	    tr_printable_dup((const char *)alpn, alpn != NULL ? alpnlen : 0);
	info->verified = vr == X509_V_OK;
	info->verify_skipped = t->insecure;
	info->verify_error =
	    xstrdup(vr == X509_V_OK ? "" : X509_verify_cert_error_string(vr));

	chain = SSL_get_peer_cert_chain(t->ssl);
	if (chain != NULL && sk_X509_num(chain) > 0) {
		n = (size_t)sk_X509_num(chain);
		if (n > TR_CHAIN_MAX)
			n = TR_CHAIN_MAX;
		info->chain = xcalloc(n, sizeof *info->chain);
		for (i = 0; i < n; i++)
			tr_cert_fill(
			    &info->chain[i], sk_X509_value(chain, (int)i));
		info->nchain = n;
	} else if ((leaf = SSL_get1_peer_certificate(t->ssl)) != NULL) {
		info->chain = xcalloc(1, sizeof *info->chain);
		tr_cert_fill(&info->chain[0], leaf);
		info->nchain = 1;
		X509_free(leaf);
	}
	info->ocsp = tr_ocsp_describe(t->ssl, &info->ocsp_status);
	ERR_clear_error();
	return info;
}

/* The leaf certificate the server sent, not owned, or NULL. */
static X509 *
tr_peer_leaf(SSL *ssl)
{
	STACK_OF(X509) * chain;

	chain = SSL_get_peer_cert_chain(ssl);
	if (chain != NULL && sk_X509_num(chain) > 0)
		return sk_X509_value(chain, 0);
	return SSL_get0_peer_certificate(ssl);
}

static char *
tr_verify_message(struct smtp_transport *t, long vr)
{
	const char *reason;
	char *names, *name, *s;
	X509 *leaf;

	reason = X509_verify_cert_error_string(vr);
	name = escape_dup(t->vname, strlen(t->vname));
	if (vr == X509_V_ERR_HOSTNAME_MISMATCH ||
	    vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		leaf = tr_peer_leaf(t->ssl);
		names = leaf != NULL ? tr_san_string(leaf) : xstrdup("");
		if (*names == '\0' && leaf != NULL) {
			free(names);
			names = tr_name_string(X509_get_subject_name(leaf));
		}
		s = xasprintf("TLS certificate verification failed for %s: %s "
		              "(the certificate is for %s). Connect using a "
		              "name the certificate lists, or use --insecure "
		              "to proceed without verification.",
		    name, reason, *names != '\0' ? names : "no name");
		free(names);
	} else
		s = xasprintf("TLS certificate verification failed for %s: %s. "
		              "If you trust this server, pass its CA with "
		              "--cafile FILE, or use --insecure to proceed "
		              "without verification.",
		    name, reason);
	free(name);
	return s;
}

static char *
tr_handshake_message(struct smtp_transport *t, int e, int err)
{
	char *reasons, *details, *s;
	long vr;
	int plain;

	vr = SSL_get_verify_result(t->ssl);
	if (!t->insecure && vr != X509_V_OK) {
		ERR_clear_error();
		return tr_verify_message(t, vr);
	}
	plain = tr_ssl_errors(&reasons, &details);
	if (e == SSL_ERROR_SSL && *reasons != '\0')
		s = xasprintf("TLS handshake with %s failed: %s (%s).%s",
		    t->peer, reasons, details,
		    plain ? " The server did not answer with TLS: is this a "
		            "plain-text port? Implicit TLS is normally port "
		            "465; ports 25 and 587 use STARTTLS."
		          : "");
	else if (e == SSL_ERROR_SYSCALL && err != 0 && err != ECONNRESET &&
	    err != EPIPE)
		s = xasprintf(
		    "TLS handshake with %s failed: %s", t->peer, strerror(err));
	else
		s = xasprintf("TLS handshake with %s failed: the server closed "
		              "the connection%s%s%s. It may not speak TLS on "
		              "this port, or it accepts none of our TLS "
		              "versions (1.2 or later) and ciphers.",
		    t->peer, err != 0 ? " (" : "",
		    err != 0 ? strerror(err) : "", err != 0 ? ")" : "");
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
		if (!t->insecure &&
		    (vr != X509_V_OK || tr_peer_leaf(t->ssl) == NULL)) {
			/* SSL_VERIFY_PEER should have stopped it already. */
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
		t->info = tr_info_build(t, vr);
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

int
smtp_transport_is_tls(const struct smtp_transport *t)
{
	return t->state == TR_TLS;
}

const struct smtp_tls_info *
smtp_transport_tls_info(const struct smtp_transport *t)
{
	return t->info;
}

/* Handles a failed SSL_read_ex/SSL_write_ex; never returns a count. */
static ssize_t
tr_ssl_io_error(
    struct smtp_transport *t, int r, int err, const char *what, char **errstr)
{
	char *reasons, *details;
	int e;

	e = SSL_get_error(t->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		t->want = SMTP_TR_WANT_READ;
		return SMTP_TR_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		t->want = SMTP_TR_WANT_WRITE;
		return SMTP_TR_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return 0;
	default:
		break;
	}
	t->ssl_dead = 1;
	(void)tr_ssl_errors(&reasons, &details);
	if (e == SSL_ERROR_SYSCALL && err != 0)
		*errstr = xasprintf("TLS %s %s failed: %s%s", what, t->peer,
		    strerror(err),
		    err == EPIPE || err == ECONNRESET
		        ? ". The server closed the connection."
		        : "");
	else if (*reasons != '\0')
		*errstr = xasprintf("TLS %s %s failed: %s (%s)", what, t->peer,
		    reasons, details);
	else
		*errstr = xasprintf("TLS %s %s failed: the connection was "
		                    "lost",
		    what, t->peer);
	free(reasons);
	free(details);
	t->want = 0;
	return SMTP_TR_ERROR;
}

ssize_t
smtp_transport_read(struct smtp_transport *t, void *p, size_t n, char **errstr)
{
	size_t got;
	ssize_t r;
	int ok, err;

	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	if (t->state == TR_TLS) {
		ERR_clear_error();
		errno = 0;
		ok = SSL_read_ex(t->ssl, p, n, &got);
		err = errno;
		if (ok == 1) {
			t->want = SMTP_TR_WANT_READ;
			return (ssize_t)got;
		}
		return tr_ssl_io_error(t, ok, err, "read from", errstr);
	}
	if (t->state != TR_CONNECTED || t->fd == -1) {
		*errstr = xstrdup("cannot read: not connected");
		return SMTP_TR_ERROR;
	}
	do
		r = recv(t->fd, p, n, 0);
	while (r == -1 && errno == EINTR);
	if (r >= 0) {
		t->want = SMTP_TR_WANT_READ;
		return r;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		t->want = SMTP_TR_WANT_READ;
		return SMTP_TR_AGAIN;
	}
	*errstr =
	    xasprintf("read from %s failed: %s", t->peer, strerror(errno));
	return SMTP_TR_ERROR;
}

size_t
smtp_transport_pending(const struct smtp_transport *t)
{
	int n;

	if (t->state != TR_TLS || t->ssl == NULL)
		return 0;
	n = SSL_pending(t->ssl);
	return n > 0 ? (size_t)n : 0;
}

ssize_t
smtp_transport_write(
    struct smtp_transport *t, const void *p, size_t n, char **errstr)
{
	size_t done;
	ssize_t r;
	int ok, err;

	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	if (t->state == TR_TLS) {
		if (n == 0)
			return 0;
		ERR_clear_error();
		errno = 0;
		ok = SSL_write_ex(t->ssl, p, n, &done);
		err = errno;
		if (ok == 1) {
			t->want = SMTP_TR_WANT_READ;
			return (ssize_t)done;
		}
		return tr_ssl_io_error(t, ok, err, "write to", errstr);
	}
	if (t->state != TR_CONNECTED || t->fd == -1) {
		*errstr = xstrdup("cannot write: not connected");
		return SMTP_TR_ERROR;
	}
	do
		r = send(t->fd, p, n, MSG_NOSIGNAL);
	while (r == -1 && errno == EINTR);
	if (r >= 0) {
		t->want = SMTP_TR_WANT_READ;
		return r;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		t->want = SMTP_TR_WANT_WRITE;
		return SMTP_TR_AGAIN;
	}
	err = errno;
	*errstr = xasprintf("write to %s failed: %s%s", t->peer, strerror(err),
	    err == EPIPE || err == ECONNRESET
	        ? ". The server closed the connection."
	        : "");
	return SMTP_TR_ERROR;
}
