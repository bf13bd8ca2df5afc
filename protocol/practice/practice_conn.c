/*
 * One practice connection's I/O: the TLS handshake after STARTTLS, reading
 * (only while the output is small and no teaching delay is running),
 * writing, the greeting and idle timers, and teardown.  Objects are freed
 * after their callbacks return (the dead flag), never inside them.
 *
 *   RFC 3207 STARTTLS   RFC 5321 4.5.3.2 (timeouts)
 */
#include "protocol/practice/practice_int.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/buf.h"
#include "core/loop.h"
#include "protocol/sockbio.h"

/* ---- transport ---------------------------------------------------------- */

static void
pc_tls_begin(struct pconn *c)
{
	BIO *bio;

	c->tls_start = 0;
	if ((c->ssl = SSL_new(c->p->ssl_ctx)) == NULL ||
	    (bio = smtp_sockbio_new(c->fd)) == NULL) {
		pc_log(c, "cannot start TLS (out of memory?)");
		c->dead = 1;
		return;
	}
	SSL_set_bio(c->ssl, bio, bio);
	SSL_set_accept_state(c->ssl);
	c->handshaking = 1;
}

static void
pc_tls_handshake(struct pconn *c)
{
	unsigned long e;
	char why[256];
	int r;

	c->ssl_want_write = 0;
	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->handshaking = 0;
		c->tls = 1;
		/* RFC 3207 4.2: forget everything learnt before TLS. */
		c->helo = 0;
		free(c->auth_user);
		c->auth_user = NULL;
		pc_auth_reset(c);
		pc_txn_reset(c);
		pc_log(c, "TLS established: %s %s", SSL_get_version(c->ssl),
		    SSL_get_cipher_name(c->ssl));
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return;
	case SSL_ERROR_WANT_WRITE:
		c->ssl_want_write = 1;
		return;
	default:
		e = ERR_get_error();
		if (e != 0)
			ERR_error_string_n(e, why, sizeof why);
		else
			(void)snprintf(why, sizeof why, "connection closed");
		pc_log(c, "TLS handshake failed: %s", why);
		ERR_clear_error();
		c->dead = 1;
	}
}

/* Writes what it can; marks the connection dead on error. */
static void
pc_flush(struct pconn *c)
{
	size_t n, done;
	ssize_t r;
	int e;

	c->ssl_want_write = 0;
	while (!c->dead && (n = buf_used(&c->out)) > 0) {
		if (c->ssl != NULL && !c->handshaking) {
			ERR_clear_error();
			if (SSL_write_ex(c->ssl, buf_peek(&c->out), n, &done) ==
			    1) {
				buf_consume(&c->out, done);
				continue;
			}
			e = SSL_get_error(c->ssl, 0);
			if (e == SSL_ERROR_WANT_WRITE) {
				c->ssl_want_write = 1;
				return;
			}
			if (e == SSL_ERROR_WANT_READ)
				return;
			ERR_clear_error();
			c->dead = 1;
			return;
		}
		r = send(c->fd, buf_peek(&c->out), n, MSG_NOSIGNAL);
		if (r > 0) {
			buf_consume(&c->out, (size_t)r);
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->ssl_want_write = 1;
			return;
		}
		c->dead = 1;
	}
	if (buf_used(&c->out) == 0 && c->tls_start)
		pc_tls_begin(c);
}

/* Reads once: 1 got bytes, 0 would block (or no room), -1 EOF / error. */
static int
pc_read(struct pconn *c)
{
	size_t room = PC_IN_CAP - buf_used(&c->in), got;
	char *dst;
	ssize_t r;
	int e;

	if (room == 0 || (dst = buf_reserve(&c->in, room)) == NULL)
		return 0;
	if (c->ssl != NULL) {
		ERR_clear_error();
		if (SSL_read_ex(c->ssl, dst, room, &got) == 1) {
			buf_commit(&c->in, got);
			return 1;
		}
		e = SSL_get_error(c->ssl, 0);
		if (e == SSL_ERROR_WANT_READ)
			return 0;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->ssl_want_write = 1;
			return 0;
		}
		ERR_clear_error();
		return -1;
	}
	do
		r = recv(c->fd, dst, room, 0);
	while (r == -1 && errno == EINTR);
	if (r > 0) {
		buf_commit(&c->in, (size_t)r);
		return 1;
	}
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return -1;
}

static int
pc_can_read(const struct pconn *c)
{
	return !c->dead && !c->closing && !c->paused && !c->tls_start &&
	    !c->handshaking && c->greeted && buf_used(&c->out) <= PC_OUT_HIGH;
}

/* Processes buffered input, then reads and processes until it would block. */
static void pc_slow_timer(void *);

static void
pc_pump(struct pconn *c)
{
	int i, r;

	/*
	 * Every read is followed by pc_process: input left unprocessed
	 * when the loop ends would wait for a poll() event that may never
	 * come (the client has sent all and waits for the reply).
	 */
	for (i = 0;; i++) {
		size_t had = buf_used(&c->in);

		pc_process(c);
		/* A line was taken: progress (practice_limit.c). */
		if (buf_used(&c->in) < had)
			c->progress_us = loop_now_us();
		if (!pc_can_read(c))
			break;
		/* Fair to other clients; poll() reports what the socket
		 * still holds, but not what TLS has already decrypted. */
		if (i >= PC_READS_PER_WAKE &&
		    (c->ssl == NULL || SSL_pending(c->ssl) == 0))
			break;
		r = pc_read(c);
		if (r == 0)
			break;
		if (r == -1) {
			if (c->mode == PC_DATA || c->mode == PC_BDAT)
				pc_log(c,
				    "client vanished in the middle of "
				    "a message (nothing delivered)");
			else
				pc_log(c, "client closed the connection");
			c->dead = 1;
			break;
		}
		c->last_us = loop_now_us();
	}
	/* A teaching delay the transaction asked for (slow@). */
	if (c->slow_rcpt != NULL && c->slow_timer == 0 && !c->dead)
		c->slow_timer = loop_timer_add(c->p->loop,
		    c->p->o.slow_ms ? c->p->o.slow_ms : PC_DEF_SLOW_MS,
		    pc_slow_timer, c);
	pc_flush(c);
}

static void
pc_slow_timer(void *arg)
{
	struct pconn *c = arg;

	c->slow_timer = 0;
	pc_slow_accept(c);
	pc_pump(c);
	pc_settle(c);
}

void
pc_free(struct pconn *c)
{
	struct practice *p = c->p;

	pc_status_gone(c);
	pc_log_close(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	p->nconns--;
	loop_fd_del(p->loop, c->fd);
	if (c->greet_timer != 0)
		loop_timer_del(p->loop, c->greet_timer);
	if (c->idle_timer != 0)
		loop_timer_del(p->loop, c->idle_timer);
	if (c->slow_timer != 0)
		loop_timer_del(p->loop, c->slow_timer);
	if (c->ssl != NULL) {
		if (c->tls)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	(void)close(c->fd);
	pc_txn_reset(c);
	pc_auth_reset(c);
	free(c->auth_user);
	free(c->slow_rcpt);
	buf_reset(&c->in);
	buf_reset(&c->out);
	free(c);
}

/* After any event: frees a finished connection or sets its poll interest. */
void
pc_settle(struct pconn *c)
{
	int ev = 0;

	pc_log_flush(c);
	if (!c->dead && c->closing && buf_used(&c->out) == 0)
		c->dead = 1;
	if (c->dead) {
		pc_free(c);
		return;
	}
	if (c->handshaking)
		ev = c->ssl_want_write ? LOOP_WRITE : LOOP_READ;
	else {
		if (buf_used(&c->out) > 0 || c->ssl_want_write)
			ev |= LOOP_WRITE;
		if (pc_can_read(c) || !c->greeted)
			ev |= LOOP_READ;
	}
	loop_fd_set(c->p->loop, c->fd, ev);
}

void
pc_on_io(int fd, int events, void *arg)
{
	struct pconn *c = arg;

	(void)fd;
	if (!c->greeted) {
		/* Anything before the greeting is an early talker. */
		pc_log(c, "early talker");
		pc_close_with(c, PR_EARLY);
		c->greeted = 1;
		pc_flush(c);
		c->dead = 1;
		pc_settle(c);
		return;
	}
	if ((events & LOOP_ERROR) && !pc_can_read(c) && !c->handshaking)
		c->dead = 1;
	if (!c->dead && c->handshaking) {
		pc_tls_handshake(c);
		if (c->handshaking || c->dead) {
			pc_settle(c);
			return;
		}
	}
	if (!c->dead)
		pc_pump(c);
	pc_settle(c);
}

void
pc_greet(struct pconn *c)
{
	c->greeted = 1;
	pc_line(c, PR_GREETING, 1, (const char *)NULL);
	pc_flush(c);
}

void
pc_greet_timer(void *arg)
{
	struct pconn *c = arg;

	c->greet_timer = 0;
	pc_greet(c);
	pc_settle(c);
}

void
pc_idle_timer(void *arg)
{
	struct pconn *c = arg;
	struct practice *p = c->p;
	uint64_t idle = p->o.idle_ms ? p->o.idle_ms : PC_DEF_IDLE_MS;
	uint64_t since = (loop_now_us() - c->last_us) / 1000u;

	c->idle_timer = 0;
	if (since < idle || c->paused) {
		c->idle_timer = loop_timer_add(
		    p->loop, c->paused ? idle : idle - since, pc_idle_timer, c);
		return;
	}
	pc_log(c, "idle for %llu ms; closing", (unsigned long long)since);
	pc_auth_reset(c);
	c->mode = PC_CMD;
	pc_close_with(c, PR_IDLE);
	pc_flush(c);
	pc_settle(c);
}
