/*
 * The connection's own name lookups with c-ares, never blocking: the
 * addresses of the server (or of the SOCKS proxy, or of the target a
 * socks5:// proxy is told) are looked up on the epoll set of the
 * connect race (transport_connect.c), inside the caller's --timeout, so
 * a resolver that never answers cannot hang ehlo.  Also the one maker
 * of c-ares channels (mx.c uses it too), and the bounded lookup of this
 * machine's FQDN for the default EHLO name.
 *
 *   RFC 8305 section 4 (addresses interleaved by family, IPv6 first)
 *   RFC 6761 section 6.3 (localhost)
 */
#include "protocol/dns_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/transport.h"

#define DNS_ADDRS_MAX 16 /* addresses kept of one name */

static int dns_library_ready;

int
dns_channel_new(ares_channel *ch, const char *dns, int timeout_ms,
    int with_hosts, ares_sock_state_cb sock_cb, void *cb_arg, char **name,
    char **errstr)
{
	struct ares_options opts;
	char *host = NULL, *port = NULL, *csv;
	unsigned char tmp[16];
	int rc, v6 = 0, mask;

	if (!dns_library_ready) {
		if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) !=
		    ARES_SUCCESS) {
			*errstr = xasprintf("cannot start the DNS resolver "
			                    "(c-ares): %s",
			    ares_strerror(rc));
			return -1;
		}
		dns_library_ready = 1;
	}
	if (dns != NULL) {
		if (smtp_server_parse(dns, 53, &host, &port, errstr) == -1)
			return -1;
		v6 = inet_pton(AF_INET6, host, tmp) == 1;
		if (!v6 && inet_pton(AF_INET, host, tmp) != 1) {
			*errstr =
			    xasprintf("--dns wants a numeric address "
			              "(SERVER[:PORT], e.g. 127.0.0.1:5353), "
			              "not \"%s\"",
			        host);
			free(host);
			free(port);
			return -1;
		}
	}
	memset(&opts, 0, sizeof opts);
	if (timeout_ms <= 0)
		timeout_ms = 5000;
	/* Two tries, the second twice as long: together the whole budget. */
	opts.timeout = timeout_ms / 3 > 0 ? timeout_ms / 3 : 1;
	opts.tries = 2;
	opts.lookups = (char *)(with_hosts ? "fb" : "b");
	mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
	if (sock_cb != NULL) {
		opts.sock_state_cb = sock_cb;
		opts.sock_state_cb_data = cb_arg;
		mask |= ARES_OPT_SOCK_STATE_CB;
	}
	rc = ares_init_options(ch, &opts, mask);
	if (rc != ARES_SUCCESS) {
		*errstr =
		    xasprintf("cannot start the DNS resolver (c-ares): %s",
		        ares_strerror(rc));
		free(host);
		free(port);
		return -1;
	}
	if (dns == NULL) {
		*name = xstrdup("the system resolver");
		return 0;
	}
	csv = xasprintf(v6 ? "[%s]:%s" : "%s:%s", host, port);
	free(host);
	free(port);
	rc = ares_set_servers_ports_csv(*ch, csv);
	if (rc != ARES_SUCCESS) {
		*errstr = xasprintf(
		    "cannot use DNS server %s: %s", csv, ares_strerror(rc));
		free(csv);
		ares_destroy(*ch);
		return -1;
	}
	*name = csv;
	return 0;
}

struct dns_lookup {
	ares_channel ch;
	int ch_ready;
	int epfd;
	uint64_t tag;
	char *resolver; /* "127.0.0.1:5353" or "the system resolver" */
	char *shown; /* the host, escaped */
	int family;
	int done;
	char *error;
	struct dns_addr addrs[DNS_ADDRS_MAX];
	size_t n;
	char *canon; /* the canonical name, when asked for (no port) */
};

/* c-ares opened, changed or closed a socket: the epoll set follows. */
static void
on_sock_state(void *arg, ares_socket_t fd, int readable, int writable)
{
	struct dns_lookup *l = arg;
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.data.u64 = l->tag | (uint64_t)(unsigned)fd;
	ev.events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
	if (!readable && !writable) {
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == -1 && errno == ENOENT)
		(void)epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static const char *
dns_family_name(int family)
{
	return family == AF_INET ? " IPv4 (-4)"
	    : family == AF_INET6 ? " IPv6 (-6)"
	                         : "";
}

static void
on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct dns_lookup *l = arg;
	struct ares_addrinfo_node *p;
	struct dns_addr v6[DNS_ADDRS_MAX], v4[DNS_ADDRS_MAX];
	size_t n6 = 0, n4 = 0, i6 = 0, i4 = 0;

	(void)timeouts;
	memset(v6, 0, sizeof v6);
	memset(v4, 0, sizeof v4);
	l->done = 1;
	if (status == ARES_SUCCESS && res != NULL && res->cnames != NULL &&
	    res->cnames->name != NULL)
		l->canon = xstrdup(res->cnames->name);
	if (status == ARES_SUCCESS && res != NULL)
		for (p = res->nodes; p != NULL; p = p->ai_next) {
			struct dns_addr *a;

			/* -4/-6: an IP literal of the other family too. */
			if (l->family != 0 && p->ai_family != l->family)
				continue;
			if (p->ai_family == AF_INET6 && n6 < DNS_ADDRS_MAX)
				a = &v6[n6++];
			else if (p->ai_family == AF_INET && n4 < DNS_ADDRS_MAX)
				a = &v4[n4++];
			else
				continue;
			if ((size_t)p->ai_addrlen > sizeof a->ss) {
				(p->ai_family == AF_INET6 ? n6-- : n4--);
				continue;
			}
			memset(a, 0, sizeof *a);
			memcpy(&a->ss, p->ai_addr, (size_t)p->ai_addrlen);
			a->len = (socklen_t)p->ai_addrlen;
		}
	/* IPv6 first, then the families take turns. */
	while (l->n < DNS_ADDRS_MAX && (i6 < n6 || i4 < n4)) {
		if (i6 < n6)
			l->addrs[l->n++] = v6[i6++];
		if (i4 < n4 && l->n < DNS_ADDRS_MAX)
			l->addrs[l->n++] = v4[i4++];
	}
	if (res != NULL)
		ares_freeaddrinfo(res);
	if (l->n > 0)
		return;
	if (status == ARES_SUCCESS || status == ARES_ENODATA)
		l->error = xasprintf("\"%s\" has no%s address (asked %s)",
		    l->shown, dns_family_name(l->family), l->resolver);
	else if (status == ARES_ENOTFOUND)
		l->error = xasprintf("cannot resolve \"%s\": no such "
		                     "host (asked %s). Check the host name.",
		    l->shown, l->resolver);
	else if (status == ARES_ETIMEOUT)
		l->error =
		    xasprintf("cannot resolve \"%s\": %s did not answer in "
		              "time (--timeout; --dns SERVER names another "
		              "resolver)",
		        l->shown, l->resolver);
	else if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED)
		l->error =
		    xasprintf("the lookup of \"%s\" was cancelled", l->shown);
	else
		l->error = xasprintf("cannot resolve \"%s\" (asked %s): %s",
		    l->shown, l->resolver, ares_strerror(status));
}

/*
 * An IP literal is its own answer (c-ares 1.18 would ask DNS for it):
 * 1 when host is one (the lookup is done), else 0.
 */
static int
dns_literal(struct dns_lookup *l, const char *host, const char *port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&l->addrs[0].ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&l->addrs[0].ss;
	uint16_t p = htons((uint16_t)strtoul(port, NULL, 10));
	int v4;

	memset(&l->addrs[0], 0, sizeof l->addrs[0]);
	if ((v4 = inet_pton(AF_INET, host, &s4->sin_addr)) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = p;
		l->addrs[0].len = sizeof *s4;
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = p;
		l->addrs[0].len = sizeof *s6;
	} else
		return 0;
	l->done = 1;
	l->resolver = xstrdup("nobody: it is an address");
	if (l->family != 0 && l->addrs[0].ss.ss_family != l->family)
		l->error = xasprintf("%s is an IPv%c address, but %s asks "
		                     "for IPv%c",
		    l->shown, v4 == 1 ? '4' : '6',
		    l->family == AF_INET ? "-4" : "-6",
		    l->family == AF_INET ? '4' : '6');
	else
		l->n = 1;
	return 1;
}

struct dns_lookup *
dns_lookup_start(int epfd, uint64_t tag, const char *dns, int timeout_ms,
    const char *host, const char *port, int family, char **errstr)
{
	struct dns_lookup *l = xcalloc(1, sizeof *l);
	struct ares_addrinfo_hints hints;

	l->epfd = epfd;
	l->tag = tag;
	l->family = family;
	l->shown = escape_dup(host, strlen(host));
	if (port != NULL && dns_literal(l, host, port))
		return l;
	if (dns_channel_new(&l->ch, dns, timeout_ms, 1, on_sock_state, l,
	        &l->resolver, errstr) == -1) {
		free(l->shown);
		free(l);
		return NULL;
	}
	l->ch_ready = 1;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family != 0 ? family : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* No port: the canonical name is what is asked for. */
	hints.ai_flags = port != NULL ? ARES_AI_NUMERICSERV : ARES_AI_CANONNAME;
	ares_getaddrinfo(l->ch, host, port, &hints, on_addrinfo, l);
	return l;
}

void
dns_lookup_process(struct dns_lookup *l, int fd, uint32_t events)
{
	if (l->done)
		return;
	if (fd == -1) {
		ares_process_fd(l->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		return;
	}
	ares_process_fd(l->ch,
	    events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
	    events & EPOLLOUT ? fd : ARES_SOCKET_BAD);
}

long
dns_lookup_timeout_ms(struct dns_lookup *l)
{
	struct timeval tv, *tvp;

	if (l->done)
		return -1;
	tvp = ares_timeout(l->ch, NULL, &tv);
	if (tvp == NULL)
		return -1;
	return (long)tvp->tv_sec * 1000 + (long)((tvp->tv_usec + 999) / 1000);
}

int
dns_lookup_done(struct dns_lookup *l, const struct dns_addr **addrs, size_t *n,
    char **errstr)
{
	if (!l->done)
		return 0;
	*addrs = l->addrs;
	*n = l->n;
	if (l->n == 0)
		*errstr = xstrdup(l->error != NULL ? l->error : "no address");
	return 1;
}

void
dns_lookup_free(struct dns_lookup *l)
{
	if (l == NULL)
		return;
	if (l->ch_ready)
		ares_destroy(l->ch); /* a pending callback sees DESTRUCTION */
	free(l->error);
	free(l->canon);
	free(l->resolver);
	free(l->shown);
	free(l);
}

/* ---- blocking but bounded: the EHLO name's lookups ------------------ */

/*
 * Looks name up (port NULL: its canonical name too) and waits for the
 * answer at most timeout_ms.  The lookup (done or not), or NULL; *epfd
 * is closed by the caller after dns_lookup_free.
 */
static struct dns_lookup *
dns_wait(const char *name, const char *port, const char *dns, int timeout_ms,
    int *epfd)
{
	struct dns_lookup *l;
	struct epoll_event evs[8];
	struct pollfd pfd;
	uint64_t deadline;
	char *err = NULL;
	long ms, left;
	int i, n;

	if (timeout_ms <= 0)
		timeout_ms = 5000;
	if ((*epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return NULL;
	l = dns_lookup_start(*epfd, 0, dns, timeout_ms, name, port, 0, &err);
	free(err);
	deadline = loop_now_us() + (uint64_t)timeout_ms * 1000;
	while (l != NULL && !l->done && loop_now_us() < deadline) {
		left = (long)((deadline - loop_now_us() + 999) / 1000);
		ms = dns_lookup_timeout_ms(l);
		if (ms < 0 || ms > left)
			ms = left;
		pfd.fd = *epfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(ms > 0 ? ms : 1)) == -1 &&
		    errno != EINTR)
			break;
		n = epoll_wait(*epfd, evs, 8, 0);
		for (i = 0; i < n; i++)
			dns_lookup_process(l,
			    (int)(evs[i].data.u64 & 0xffffffffu),
			    evs[i].events);
		dns_lookup_process(l, -1, 0); /* retries that fell due */
	}
	return l;
}

char *
smtp_dns_canonname(const char *name, const char *dns, int timeout_ms)
{
	struct dns_lookup *l;
	char *canon = NULL;
	int epfd = -1;

	l = dns_wait(name, NULL, dns, timeout_ms, &epfd);
	if (l != NULL && l->done && l->canon != NULL)
		canon = xstrdup(l->canon);
	dns_lookup_free(l);
	if (epfd != -1)
		(void)close(epfd);
	return canon;
}

int
smtp_dns_first_addr(const char *name, const char *port, const char *dns,
    int timeout_ms, struct sockaddr_storage *ss, socklen_t *len)
{
	struct dns_lookup *l;
	int epfd = -1, rc = -1;

	l = dns_wait(name, port, dns, timeout_ms, &epfd);
	if (l != NULL && l->done && l->n > 0) {
		*ss = l->addrs[0].ss;
		*len = l->addrs[0].len;
		rc = 0;
	}
	dns_lookup_free(l);
	if (epfd != -1)
		(void)close(epfd);
	return rc;
}
