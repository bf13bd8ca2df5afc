/*
 * The practice server's listener and public API: resolving and binding
 * the listen address (loopback unless asked otherwise), accepting
 * connections within the limits of practice_limit.c, and the struct
 * practice lifecycle.
 */
#include "protocol/practice/practice_int.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"

static void practice_on_accept(int, int, void *);

/* ---- the listener --------------------------------------------------------- */

static void
practice_accept_again(void *arg)
{
	struct practice *p = arg;

	p->accept_timer = 0;
	loop_fd_add(p->loop, p->lfd, LOOP_READ, practice_on_accept, p);
}

static void
practice_on_accept(int lfd, int events, void *arg)
{
	struct practice *p = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct pconn *c;
	char peer[INET6_ADDRSTRLEN];
	unsigned port;
	int fd, one = 1, i;

	(void)events;
	for (i = 0; i < 64; i++) {
		sl = sizeof ss;
		fd = accept(lfd, (struct sockaddr *)&ss, &sl);
		if (fd != -1 &&
		    (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
		        fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)) {
			(void)close(fd);
			continue;
		}
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				practice_log(p,
				    "accept: %s; pausing for a second",
				    strerror(errno));
				loop_fd_del(p->loop, lfd);
				p->accept_timer = loop_timer_add(
				    p->loop, 1000, practice_accept_again, p);
			}
			return;
		}
		if (ss.ss_family == AF_INET6) {
			(void)inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, peer,
			    sizeof peer);
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		} else {
			(void)inet_ntop(AF_INET,
			    &((struct sockaddr_in *)&ss)->sin_addr, peer,
			    sizeof peer);
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		}
		if (!pc_admit(p, fd, peer))
			continue;
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c = xcalloc(1, sizeof *c);
		c->p = p;
		c->fd = fd;
		c->id = ++p->next_id;
		c->bdat_reject = PR_COUNT;
		buf_init(&c->in, PC_IN_CAP);
		buf_init(&c->out, PC_OUT_CAP);
		buf_init(&c->msg, PRACTICE_SIZE_LIMIT);
		(void)snprintf(c->peer, sizeof c->peer, "%s", peer);
		c->next = p->conns;
		if (p->conns != NULL)
			p->conns->prev = c;
		p->conns = c;
		p->nconns++;
		c->last_us = c->progress_us = c->conn_us = loop_now_us();
		c->conn_wall = (int64_t)time(NULL);
		c->peer_port = port;
		pc_log_open(c);
		c->idle_timer = loop_timer_add(p->loop,
		    p->o.idle_ms ? p->o.idle_ms : PC_DEF_IDLE_MS, pc_idle_timer,
		    c);
		loop_fd_add(p->loop, fd, LOOP_READ, pc_on_io, c);
		pc_log(c, "connected (%zu open)", p->nconns);
		if (p->o.greet_pause_ms > 0)
			c->greet_timer = loop_timer_add(
			    p->loop, p->o.greet_pause_ms, pc_greet_timer, c);
		else
			pc_greet(c);
		pc_settle(c);
	}
}

/* "127.0.0.1:2525", "[::1]:2525", "::1" (port 2525), "127.0.0.1". */
static int
practice_resolve(const char *spec, struct addrinfo **res)
{
	struct addrinfo hints;
	char host[INET6_ADDRSTRLEN + 2], port[16];
	const char *colon, *rb;
	size_t n;

	*res = NULL;
	if (spec[0] == '[') {
		if ((rb = strchr(spec, ']')) == NULL ||
		    (rb[1] != '\0' && rb[1] != ':'))
			return -1;
		n = (size_t)(rb - spec - 1);
		colon = rb[1] == ':' ? rb + 1 : NULL;
		spec++;
	} else {
		colon = strrchr(spec, ':');
		if (colon != NULL && strchr(spec, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		n = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	}
	if (n == 0 || n >= sizeof host)
		return -1;
	if (colon != NULL) {
		char *end;
		long v;

		errno = 0;
		v = strtol(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || *end != '\0' || v < 0 ||
		    v > 65535)
			return -1;
	}
	memcpy(host, spec, n);
	host[n] = '\0';
	(void)snprintf(
	    port, sizeof port, "%s", colon != NULL ? colon + 1 : "2525");
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, res) != 0 || *res == NULL) {
		*res = NULL;
		return -1;
	}
	return 0;
}

int
practice_listen_check(const char *spec, char **errstr)
{
	struct addrinfo *res;

	if (practice_resolve(spec, &res) == -1) {
		*errstr = xasprintf("cannot listen on \"%s\": want an IP "
		                    "address and port such as 127.0.0.1:2525 "
		                    "or [::1]:2525",
		    spec);
		return -1;
	}
	freeaddrinfo(res);
	return 0;
}

static int
practice_listen(struct practice *p, const char *spec, char **errstr)
{
	struct addrinfo *res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char numhost[INET6_ADDRSTRLEN];
	int fd, one = 1;

	if (practice_resolve(spec, &res) == -1)
		return practice_listen_check(spec, errstr);
	fd = socket(
	    res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*errstr =
		    xasprintf("cannot create a socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 512) == -1) {
		*errstr = xasprintf("cannot listen on %s: %s%s", p->o.listen,
		    strerror(errno),
		    errno == EADDRINUSE
		        ? " (another server uses that port: pick another "
		          "with --listen ADDR:PORT)"
		        : "");
		(void)close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		*errstr = xasprintf("getsockname: %s", strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (ss.ss_family == AF_INET6) {
		(void)inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr, numhost,
		    sizeof numhost);
		p->address = xasprintf("[%s]:%u", numhost,
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	} else {
		(void)inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    numhost, sizeof numhost);
		p->address = xasprintf("%s:%u", numhost,
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
	p->lfd = fd;
	return 0;
}

/* ---- public API ----------------------------------------------------------- */

struct practice *
practice_new(struct loop *loop, const struct practice_opts *o, char **errstr)
{
	struct practice *p = xcalloc(1, sizeof *p);

	p->loop = loop;
	p->lfd = -1;
	p->o = *o;
	p->o.listen = NULL;
	p->o.datadir = NULL;
	if (o->datadir != NULL)
		p->datadir = xstrdup(o->datadir);
	else if ((p->datadir = practice_default_dir(errstr)) == NULL)
		goto fail;
	p->o.listen = o->listen != NULL ? o->listen : "127.0.0.1:2525";
	if (practice_listen_check(p->o.listen, errstr) == -1)
		goto fail;
	p->inbox = xasprintf("%s/inbox", p->datadir);
	p->cafile = xasprintf("%s/cert.pem", p->datadir);
	p->keyfile = xasprintf("%s/key.pem", p->datadir);
	p->started = (int64_t)time(NULL);
	if (practice_mkdirs(p->inbox, errstr) == -1 ||
	    practice_tls_init(p, errstr) == -1 ||
	    practice_listen(p, p->o.listen, errstr) == -1 ||
	    pc_log_init(p, errstr) == -1)
		goto fail;
	p->o.listen = p->address;
	pc_limits_init(p);
	loop_fd_add(loop, p->lfd, LOOP_READ, practice_on_accept, p);
	practice_log(p, "listening on %s (data in %s)", p->address, p->datadir);
	pc_status_touch(p);
	return p;
fail:
	p->o.listen = NULL;
	practice_free(p);
	return NULL;
}

void
practice_free(struct practice *p)
{
	static const char bye[] = "421 4.3.2 practice.test Shutting down\r\n";
	size_t i;

	if (p == NULL)
		return;
	/* pc_free unlinks the connection, so the head moves on (the
	 * analyser loses track of the unlinking). */
	while (p->conns != NULL) {
		struct pconn *c = p->conns;

		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc)
		if (c->ssl == NULL && !c->closing)
			(void)send(c->fd, bye, sizeof bye - 1, MSG_NOSIGNAL);
		pc_free(c);
	}
	if (p->lfd != -1) {
		loop_fd_del(p->loop, p->lfd);
		(void)close(p->lfd);
	}
	if (p->accept_timer != 0)
		loop_timer_del(p->loop, p->accept_timer);
	pc_status_free(p);
	practice_log_free(p);
	for (i = 0; i < PC_GREY_MAX; i++)
		free(p->grey[i].key);
	SSL_CTX_free(p->ssl_ctx);
	free(p->address);
	free(p->datadir);
	free(p->inbox);
	free(p->cafile);
	free(p->keyfile);
	free(p);
}

const char *
practice_address(const struct practice *p)
{
	return p->address;
}

const char *
practice_cafile(const struct practice *p)
{
	return p->cafile;
}

const char *
practice_inbox_dir(const struct practice *p)
{
	return p->inbox;
}

size_t
practice_connection_count(const struct practice *p)
{
	return p->nconns;
}

size_t
practice_buffered(const struct practice *p)
{
	const struct pconn *c;
	size_t n = 0;

	for (c = p->conns; c != NULL; c = c->next)
		n += c->in.cap + c->out.cap + c->msg.cap;
	return n;
}
