/*
 * The network connect under an SMTP session, on the event loop from
 * the first DNS packet to the proxy's last reply: the names looked up
 * with c-ares (transport_dns.c), the race of the addresses (happy
 * eyeballs), the local end bound to --source, -4/-6, and the SOCKS5
 * negotiation (transport_socks.c).
 *
 * While it looks names up and races, everything it waits on (c-ares's
 * sockets, each connection attempt, one timerfd for c-ares's retries
 * and the next attempt's start) sits in one epoll set whose descriptor
 * is the transport's fd: the caller polls one descriptor for reading
 * and calls smtp_transport_connect_finish, and never learns how many
 * sockets are in flight.  Once one attempt wins, the others are closed
 * and the fd is the winner's socket.  The caller's timer (--timeout)
 * bounds it all.
 *
 *   RFC 8305 (happy eyeballs: IPv6 first, 250 ms between attempts, the
 *   next at once when one fails)   RFC 1928 (SOCKS5: with socks5:// the
 *   server's name is resolved here and the address sent; with
 *   socks5h:// the name goes to the proxy)
 */
#include "protocol/transport_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/dns_int.h"

#define NET_ATTEMPT_DELAY_US 250000 /* RFC 8305 section 5 */
#define NET_FLY_MAX 16 /* attempts in flight at once */
#define NET_ADDRS_MAX 16

/* epoll data: what became ready (high half), and its index or fd. */
#define TAG_DNS (1ULL << 32)
#define TAG_TRY (2ULL << 32)
#define TAG_TIMER (3ULL << 32)
#define TAG_MASK (0xffffffffULL << 32)

enum net_phase {
	NET_RESOLVE, /* the server's (or the proxy's) addresses */
	NET_RESOLVE_TARGET, /* socks5://: the server's address, for CONNECT */
	NET_RACE, /* attempts in flight */
	NET_SOCKS, /* connected to the proxy: the negotiation */
};

struct net_try {
	int fd; /* -1: free slot */
	char name[TR_ADDR_LEN];
};

struct tr_net {
	enum net_phase phase;
	int epfd, tfd;
	struct dns_lookup *dns;
	char *dialing; /* the name being looked up, escaped */
	char *resolver_wait; /* smtp_transport_waiting() text */
	struct dns_addr addrs[NET_ADDRS_MAX];
	size_t naddrs, next;
	struct net_try fly[NET_FLY_MAX];
	size_t nfly;
	uint64_t next_at_us; /* when the next attempt starts */
	struct sockaddr_storage src; /* --source */
	socklen_t srclen;
	char *socks_target; /* what CONNECT names */
	struct tr_socks *socks;
};

void
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

char *
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

void
tr_net_free(struct smtp_transport *t)
{
	struct tr_net *n = t->net;
	size_t i;

	if (n == NULL)
		return;
	dns_lookup_free(n->dns); /* before its sockets' epoll set goes */
	for (i = 0; i < NET_FLY_MAX; i++)
		if (n->fly[i].fd != -1)
			(void)close(n->fly[i].fd);
	if (n->tfd != -1)
		(void)close(n->tfd);
	if (n->epfd != -1) {
		if (t->fd == n->epfd)
			t->fd = -1;
		(void)close(n->epfd);
	}
	tr_socks_free(n->socks);
	free(n->dialing);
	free(n->resolver_wait);
	free(n->socks_target);
	free(n);
	t->net = NULL;
}

const char *
smtp_transport_waiting(const struct smtp_transport *t)
{
	struct tr_net *n = t->net;

	if (n == NULL || t->state != TR_CONNECTING)
		return "the connection";
	if (n->phase == NET_RESOLVE || n->phase == NET_RESOLVE_TARGET)
		return n->resolver_wait;
	if (n->phase == NET_SOCKS)
		return n->resolver_wait; /* set when the proxy answered */
	return "the connection";
}

/* A lookup of name on the epoll set (the server's, or the proxy's). */
static int
net_lookup(
    struct smtp_transport *t, const char *name, const char *port, char **errstr)
{
	struct tr_net *n = t->net;
	const struct smtp_net_opts *o = &t->nopts;
	int family = o->family;

	if (n->srclen > 0)
		family = n->src.ss_family;
	free(n->dialing);
	n->dialing = escape_dup(name, strlen(name));
	free(n->resolver_wait);
	n->resolver_wait = xasprintf("the DNS answer for %s%s%s", n->dialing,
	    o->dns != NULL ? " from " : "", o->dns != NULL ? o->dns : "");
	/* c-ares gives up a little before the caller's --timeout, so the
	 * message names the resolver that did not answer. */
	n->dns = dns_lookup_start(n->epfd, TAG_DNS, o->dns,
	    (o->timeout_ms > 0 ? o->timeout_ms : 30000) / 10 * 9, name, port,
	    family, errstr);
	return n->dns != NULL ? 0 : -1;
}

/* Starts one attempt at addrs[next]; 0 under way, -1 failed at once. */
static int
net_try_one(struct smtp_transport *t)
{
	struct tr_net *n = t->net;
	const struct dns_addr *a = &n->addrs[n->next++];
	struct epoll_event ev;
	size_t i;
	int fd, one = 1, err;

	for (i = 0; i < NET_FLY_MAX && n->fly[i].fd != -1; i++)
		;
	if (i == NET_FLY_MAX)
		return -1;
	tr_addr_format((const struct sockaddr *)&a->ss, a->len, t->trying,
	    sizeof t->trying);
	fd = socket(
	    a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		tr_attempt_fail(t, errno);
		return -1;
	}
	/* Without it every small command can stall on delayed ACKs. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (n->srclen > 0 &&
	    bind(fd, (const struct sockaddr *)&n->src, n->srclen) == -1) {
		err = errno;
		(void)close(fd);
		tr_attempt_fail(t, err);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == -1 &&
	    errno != EINPROGRESS && errno != EINTR) {
		err = errno;
		(void)close(fd);
		tr_attempt_fail(t, err);
		return -1;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLOUT;
	ev.data.u64 = TAG_TRY | i;
	if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		err = errno;
		(void)close(fd);
		tr_attempt_fail(t, err);
		return -1;
	}
	n->fly[i].fd = fd;
	(void)snprintf(n->fly[i].name, sizeof n->fly[i].name, "%s", t->trying);
	n->nfly++;
	n->next_at_us = loop_now_us() + NET_ATTEMPT_DELAY_US;
	return 0;
}

/* The timerfd: the sooner of c-ares's retry and the next attempt. */
static void
net_timer_arm(struct tr_net *n)
{
	struct itimerspec its;
	long ms = -1;
	uint64_t now = loop_now_us(), us;

	memset(&its, 0, sizeof its);
	if (n->dns != NULL)
		ms = dns_lookup_timeout_ms(n->dns);
	if (n->phase == NET_RACE && n->next < n->naddrs) {
		us = n->next_at_us > now ? n->next_at_us - now : 0;
		if (ms < 0 || (long)((us + 999) / 1000) < ms)
			ms = (long)((us + 999) / 1000);
	}
	if (ms >= 0) {
		/* 0 would disarm it: at least a microsecond. */
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000L + 1000;
	}
	(void)timerfd_settime(n->tfd, 0, &its, NULL);
}

/* The timerfd fires at once: the next finish moves things on. */
static void
net_timer_now(struct tr_net *n)
{
	struct itimerspec its;

	memset(&its, 0, sizeof its);
	its.it_value.tv_nsec = 1000;
	(void)timerfd_settime(n->tfd, 0, &its, NULL);
}

/* The attempt in slot i is over: out of the set and closed. */
static void
net_try_drop(struct tr_net *n, size_t i)
{
	(void)epoll_ctl(n->epfd, EPOLL_CTL_DEL, n->fly[i].fd, NULL);
	(void)close(n->fly[i].fd);
	n->fly[i].fd = -1;
	n->nfly--;
}

/* Attempt i connected: it is the connection, the rest go. */
static int
net_won(struct smtp_transport *t, size_t i, char **errstr)
{
	struct tr_net *n = t->net;
	const struct smtp_socks *sk = t->nopts.socks;
	size_t j;
	int fd = n->fly[i].fd;

	(void)epoll_ctl(n->epfd, EPOLL_CTL_DEL, fd, NULL);
	n->fly[i].fd = -1;
	n->nfly--;
	for (j = 0; j < NET_FLY_MAX; j++)
		if (n->fly[j].fd != -1)
			net_try_drop(n, j);
	if (t->fd == n->epfd)
		t->fd = -1;
	t->fd = fd;
	if (sk == NULL) {
		(void)snprintf(t->peer, sizeof t->peer, "%s", n->fly[i].name);
		tr_net_free(t);
		t->state = TR_CONNECTED;
		t->want = SMTP_TR_WANT_READ;
		return 0;
	}
	(void)snprintf(t->via, sizeof t->via, "%s", n->fly[i].name);
	free(n->resolver_wait);
	n->resolver_wait = xasprintf("the SOCKS5 proxy %s", t->via);
	n->phase = NET_SOCKS;
	n->socks = tr_socks_new(n->socks_target, t->port, sk->user,
	    sk->user != NULL ? sk->password : NULL);
	(void)errstr;
	t->want = SMTP_TR_WANT_WRITE;
	return SMTP_TR_AGAIN;
}

/* What the attempt in slot i says now: won, failed, or still waiting. */
static int
net_try_check(struct smtp_transport *t, size_t i, char **errstr)
{
	struct tr_net *n = t->net;
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(n->fly[i].fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0) {
		struct sockaddr_storage ss;

		len = sizeof ss;
		if (getpeername(n->fly[i].fd, (struct sockaddr *)&ss, &len) ==
		    0)
			return net_won(t, i, errstr);
		if (errno == ENOTCONN)
			return SMTP_TR_AGAIN;
		err = errno;
	}
	(void)snprintf(t->trying, sizeof t->trying, "%s", n->fly[i].name);
	tr_attempt_fail(t, err);
	net_try_drop(n, i);
	n->next_at_us = loop_now_us(); /* the next one at once */
	return SMTP_TR_AGAIN;
}

/*
 * Moves the phases on as far as they go now: lookups that finished,
 * attempts that are due.  0 connected, SMTP_TR_AGAIN, SMTP_TR_ERROR.
 */
static int
net_pump(struct smtp_transport *t, char **errstr)
{
	struct tr_net *n = t->net;
	const struct smtp_socks *sk = t->nopts.socks;
	const struct dns_addr *addrs;
	char *why = NULL, text[TR_ADDR_LEN];
	size_t na, i;

	for (;;) {
		if (n->phase == NET_RESOLVE_TARGET) {
			if (!dns_lookup_done(n->dns, &addrs, &na, &why))
				break;
			if (na == 0) {
				*errstr = why;
				return SMTP_TR_ERROR;
			}
			/* The first address, as the resolver ordered them. */
			tr_addr_format((const struct sockaddr *)&addrs[0].ss,
			    addrs[0].len, text, sizeof text);
			free(n->socks_target);
			n->socks_target = text[0] == '['
			    ? xstrndup(text + 1, strcspn(text + 1, "]"))
			    : xstrndup(text, strcspn(text, ":"));
			dns_lookup_free(n->dns);
			n->dns = NULL;
			n->phase = NET_RESOLVE;
			if (net_lookup(t, sk->host, sk->port, errstr) == -1)
				return SMTP_TR_ERROR;
			continue;
		}
		if (n->phase == NET_RESOLVE) {
			if (!dns_lookup_done(n->dns, &addrs, &na, &why))
				break;
			if (na == 0) {
				*errstr = sk != NULL
				    ? xasprintf("the SOCKS5 proxy: %s", why)
				    : why;
				if (sk != NULL)
					free(why);
				return SMTP_TR_ERROR;
			}
			n->naddrs = na < NET_ADDRS_MAX ? na : NET_ADDRS_MAX;
			memcpy(n->addrs, addrs, n->naddrs * sizeof *addrs);
			dns_lookup_free(n->dns);
			n->dns = NULL;
			n->phase = NET_RACE;
			n->next_at_us = 0;
			continue;
		}
		if (n->phase != NET_RACE)
			break;
		while (n->next < n->naddrs &&
		    (n->nfly == 0 || loop_now_us() >= n->next_at_us))
			if (net_try_one(t) == 0)
				break;
		if (n->nfly == 0 && n->next >= n->naddrs) {
			*errstr = tr_connect_error(t);
			if (sk != NULL) {
				char *e = *errstr;

				*errstr = xasprintf("the SOCKS5 proxy: %s", e);
				free(e);
			}
			return SMTP_TR_ERROR;
		}
		/* A connect that finished at once (loopback) is seen now. */
		for (i = 0; i < NET_FLY_MAX; i++)
			if (n->fly[i].fd != -1) {
				int r = net_try_check(t, i, errstr);

				if (r != SMTP_TR_AGAIN || n->phase != NET_RACE)
					return r;
			}
		if (n->nfly == 0)
			continue;
		break;
	}
	net_timer_arm(n);
	return SMTP_TR_AGAIN;
}

/* --source: a numeric address; the family follows from it. */
static int
net_source(struct smtp_transport *t, char **errstr)
{
	struct tr_net *n = t->net;
	const char *src = t->nopts.source;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&n->src;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&n->src;
	char *shown;

	if (src == NULL)
		return 0;
	if (inet_pton(AF_INET, src, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		n->srclen = sizeof *s4;
	} else if (inet_pton(AF_INET6, src, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		n->srclen = sizeof *s6;
	} else {
		shown = escape_dup(src, strlen(src));
		*errstr = xasprintf("--source wants a numeric IPv4 or IPv6 "
		                    "address of this machine, not \"%s\"",
		    shown);
		free(shown);
		return -1;
	}
	if (t->nopts.family != 0 && t->nopts.family != n->src.ss_family) {
		*errstr = xasprintf("--source %s is an IPv%c address but %s "
		                    "asks for IPv%c",
		    src, n->src.ss_family == AF_INET ? '4' : '6',
		    t->nopts.family == AF_INET ? "-4" : "-6",
		    t->nopts.family == AF_INET ? '4' : '6');
		return -1;
	}
	return 0;
}

int
tr_net_connect(struct smtp_transport *t, char **errstr)
{
	const struct smtp_socks *sk = t->nopts.socks;
	struct tr_net *n;
	struct epoll_event ev;
	unsigned char tmp[16];
	size_t i;
	int r, literal;

	n = t->net = xcalloc(1, sizeof *n);
	n->tfd = -1;
	for (i = 0; i < NET_FLY_MAX; i++)
		n->fly[i].fd = -1;
	n->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (n->epfd == -1 ||
	    (n->tfd = timerfd_create(
	         CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) == -1) {
		*errstr = xasprintf("cannot connect: %s", strerror(errno));
		return -1;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_TIMER;
	if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->tfd, &ev) == -1 ||
	    net_source(t, errstr) == -1) {
		if (*errstr == NULL)
			*errstr =
			    xasprintf("cannot connect: %s", strerror(errno));
		return -1;
	}
	literal = inet_pton(AF_INET, t->host, tmp) == 1 ||
	    inet_pton(AF_INET6, t->host, tmp) == 1;
	if (sk == NULL)
		r = net_lookup(t, t->host, t->port, errstr);
	else if (sk->remote_dns || literal) {
		n->socks_target = xstrdup(t->host);
		r = net_lookup(t, sk->host, sk->port, errstr);
	} else {
		n->phase = NET_RESOLVE_TARGET;
		r = net_lookup(t, t->host, t->port, errstr);
	}
	if (r == -1)
		return -1;
	t->fd = n->epfd;
	t->state = TR_CONNECTING;
	t->want = SMTP_TR_WANT_READ;
	/*
	 * Everything else happens in finish, even for an IP literal that
	 * is answered at once: callers see every failure the same way,
	 * after connect returned.
	 */
	net_timer_now(n);
	return 0;
}

/* The proxy's part: 0 connected through it, AGAIN, ERROR. */
static int
net_socks(struct smtp_transport *t, char **errstr)
{
	struct tr_net *n = t->net;
	char bound[TR_ADDR_LEN], *why = NULL, *shown;
	int r;

	r = tr_socks_io(n->socks, t->fd, &t->want, bound, sizeof bound, &why);
	if (r == SMTP_TR_AGAIN)
		return r;
	if (r == SMTP_TR_ERROR) {
		shown = escape_dup(n->socks_target, strlen(n->socks_target));
		*errstr = xasprintf("SOCKS5 via %s to %s port %s: %s", t->via,
		    shown, t->port, why);
		free(shown);
		free(why);
		(void)close(t->fd);
		t->fd = -1;
		return SMTP_TR_ERROR;
	}
	/* The server as the proxy was told: name or address. */
	shown = escape_dup(n->socks_target, strlen(n->socks_target));
	(void)snprintf(t->peer, sizeof t->peer,
	    strchr(shown, ':') != NULL ? "[%s]:%s" : "%s:%s", shown, t->port);
	free(shown);
	tr_net_free(t);
	t->state = TR_CONNECTED;
	t->want = SMTP_TR_WANT_READ;
	return 0;
}

int
tr_net_finish(struct smtp_transport *t, char **errstr)
{
	struct tr_net *n = t->net;
	struct epoll_event evs[16];
	uint64_t tag, expirations;
	int i, k, r;

	if (n->phase == NET_SOCKS)
		return net_socks(t, errstr);
	k = epoll_wait(n->epfd, evs, 16, 0);
	for (i = 0; i < k && t->net == n && n->phase != NET_SOCKS; i++) {
		tag = evs[i].data.u64 & TAG_MASK;
		if (tag == TAG_TIMER) {
			(void)!read(n->tfd, &expirations, sizeof expirations);
			if (n->dns != NULL)
				dns_lookup_process(n->dns, -1, 0);
		} else if (tag == TAG_DNS && n->dns != NULL)
			dns_lookup_process(n->dns,
			    (int)(evs[i].data.u64 & 0xffffffffu),
			    evs[i].events);
		else if (tag == TAG_TRY &&
		    n->fly[evs[i].data.u64 & 0xffff].fd != -1) {
			r = net_try_check(
			    t, (size_t)(evs[i].data.u64 & 0xffff), errstr);
			if (r != SMTP_TR_AGAIN)
				return r;
		}
	}
	if (t->net == NULL)
		return 0;
	if (n->phase == NET_SOCKS)
		return net_socks(t, errstr);
	return net_pump(t, errstr);
}
