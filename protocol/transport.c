/*
 * The byte pipe under an SMTP session: it owns the socket and (once TLS
 * is started, see transport_tls.c) the OpenSSL connection together with
 * a sanitised copy of what the handshake showed (transport_info.c).
 * This room starts and finishes connects (the network's in
 * transport_connect.c, a UNIX socket's here and in transport_unix.c) and
 * moves bytes, plain or through TLS; SERVER arguments are parsed in
 * transport_addr.c.  Socket I/O under TLS
 * goes through a tiny BIO (sockbio.c, set up by transport_tls.c) that
 * uses send(MSG_NOSIGNAL), so a server that hangs up never raises
 * SIGPIPE.
 *
 *   RFC 5321 4.5.3.2 (timeouts are the caller's)   RFC 3986 (host:port,
 *   [v6]:port)   RFC 8314 (implicit TLS on 465)
 */
#include "protocol/transport_int.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/escape.h"
#include "core/xmalloc.h"

struct smtp_transport *
smtp_transport_new(void)
{
	struct smtp_transport *t;

	t = xcalloc(1, sizeof *t);
	t->fd = -1;
	t->state = TR_IDLE;
	return t;
}

/* Drops what a connect has under way and the record of failed attempts. */
static void
tr_attempts_clear(struct smtp_transport *t)
{
	tr_net_free(t);
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
	tr_attempts_clear(t); /* the race's own sockets first */
	if (t->fd != -1)
		(void)close(t->fd);
	t->fd = -1;
	t->want = 0;
	t->state = TR_IDLE;
	t->ssl_dead = 0;
}

void
smtp_transport_free(struct smtp_transport *t)
{
	if (t == NULL)
		return;
	smtp_transport_close(t);
	tr_info_free(t->info);
	smtp_transport_set_net(t, NULL);
	free(t->host);
	free(t->port);
	free(t->target);
	free(t->sni);
	free(t->vname);
	free(t->pin);
	tr_verify_reset(t);
	free(t);
}

void
smtp_transport_set_net(struct smtp_transport *t, const struct smtp_net_opts *o)
{
	struct smtp_net_opts *n = &t->nopts;
	struct smtp_socks *sk = (struct smtp_socks *)n->socks;

	free((char *)n->source);
	free((char *)n->dns);
	if (sk != NULL) {
		free((char *)sk->host);
		free((char *)sk->port);
		free((char *)sk->user);
		free(sk);
	}
	memset(n, 0, sizeof *n);
	if (o == NULL)
		return;
	n->family = o->family;
	n->timeout_ms = o->timeout_ms;
	n->source = o->source != NULL ? xstrdup(o->source) : NULL;
	n->dns = o->dns != NULL ? xstrdup(o->dns) : NULL;
	if (o->socks != NULL) {
		sk = xcalloc(1, sizeof *sk);
		sk->host = xstrdup(o->socks->host);
		sk->port = xstrdup(o->socks->port);
		sk->remote_dns = o->socks->remote_dns;
		sk->user =
		    o->socks->user != NULL ? xstrdup(o->socks->user) : NULL;
		sk->password = o->socks->password; /* the caller's */
		n->socks = sk;
	}
}

int
smtp_transport_connect(
    struct smtp_transport *t, const char *host, const char *port, char **errstr)
{
	char *eh, *ep;

	smtp_transport_close(t);
	tr_info_free(t->info);
	t->info = NULL;
	free(t->host);
	free(t->port);
	free(t->target);
	t->peer[0] = t->via[0] = '\0';
	t->host = xstrdup(host);
	t->port = xstrdup(port);
	if (host[0] == '/') { /* a UNIX socket (LMTP) */
		t->target = xasprintf("unix:%s", host);
		if (t->nopts.socks != NULL || t->nopts.source != NULL ||
		    t->nopts.family != 0) {
			*errstr = xstrdup(
			    "--socks, --source, -4 and -6 are for TCP; the "
			    "server is a UNIX socket (drop them, or name a "
			    "HOST:PORT)");
			return -1;
		}
		return tr_unix_connect(t, errstr);
	}
	eh = escape_dup(host, strlen(host));
	ep = escape_dup(port, strlen(port));
	if (strchr(host, ':') != NULL)
		t->target = xasprintf("[%s]:%s", eh, ep);
	else
		t->target = xasprintf("%s:%s", eh, ep);
	free(eh);
	free(ep);
	if (tr_net_connect(t, errstr) == 0)
		return 0;
	tr_attempts_clear(t);
	return -1;
}

int
smtp_transport_connect_finish(struct smtp_transport *t, char **errstr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int err = 0;

	if (t->state == TR_CONNECTED) {
		t->want = SMTP_TR_WANT_READ; /* connected within connect */
		return 0;
	}
	if (t->state != TR_CONNECTING || t->fd == -1) {
		*errstr = xstrdup("no connection attempt in progress");
		return SMTP_TR_ERROR;
	}
	if (t->net != NULL) {
		err = tr_net_finish(t, errstr);
		if (err == SMTP_TR_ERROR) {
			tr_attempts_clear(t);
			t->fd = -1;
			t->state = TR_IDLE;
			t->want = 0;
		}
		return err;
	}
	/* A UNIX socket: one address, nothing to race. */
	len = sizeof err;
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		len = sizeof ss;
		if (getpeername(t->fd, (struct sockaddr *)&ss, &len) == 0) {
			(void)snprintf(
			    t->peer, sizeof t->peer, "%s", t->trying);
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
	*errstr = tr_connect_error(t);
	tr_attempts_clear(t);
	(void)close(t->fd);
	t->fd = -1;
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

const char *
smtp_transport_via(const struct smtp_transport *t)
{
	return t->via[0] != '\0' ? t->via : NULL;
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
	else if (*reasons != '\0') {
		/* TLS 1.3 servers refuse a client certificate (or its
		 * absence) only after the handshake, on the first read. */
		char *advice = tr_alert_advice(t, reasons);

		*errstr = xasprintf("TLS %s %s failed: %s (%s).%s", what,
		    t->peer, reasons, details, advice);
		free(advice);
	} else
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
