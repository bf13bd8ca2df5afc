/*
 * MX lookups with c-ares.
 *
 * RFC 5321 section 5.1 (MX ordering, implicit MX), RFC 7505 (null MX),
 * RFC 1035 (names), RFC 3596 (AAAA).
 *
 * One resolver is one c-ares channel.  A lookup is two rounds of
 * queries: the MX records of the domain, then A and AAAA of every host
 * at once.  Each query is a callback that fills the list; mx_wait()
 * drives the channel with poll() until no query is outstanding.  The
 * timeout bounds the whole lookup, both rounds and c-ares's retries (a
 * resolver that never answers must not take longer than the network
 * step it serves): each try gets a third of it, and what is still
 * outstanding at the deadline is cancelled.  Everything from the network is
 * untrusted: names are checked for LDH syntax and kept escaped when bad,
 * counts are capped at SMTP_MX_HOSTS_MAX and SMTP_MX_ADDRS_MAX.
 */
#include "protocol/mx.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/dns_int.h"
#include "protocol/transport.h"

struct smtp_mx_resolver {
	ares_channel ch;
	char *name;
	int pending; /* queries whose callback has not run */
	int timeout_ms; /* for one whole lookup */
	uint64_t deadline_us; /* of the lookup under way (loop_now_us) */
};

/* One query in flight and where its answer goes. */
struct mx_query {
	struct smtp_mx_resolver *r;
	struct smtp_mx_list *list;
	size_t host; /* index into list->hosts (address queries) */
	int type; /* ns_t_mx, ns_t_a or ns_t_aaaa */
	int status;
	struct ares_mx_reply *mx; /* MX answer, freed by the caller */
	unsigned char *raw; /* any other type: the answer as it came */
	int rawlen;
	/* address answers, appended by family */
	char *v4[SMTP_MX_ADDRS_MAX];
	char *v6[SMTP_MX_ADDRS_MAX];
	size_t n4, n6;
};

int
smtp_mx_domain_valid(const char *name)
{
	size_t n = strlen(name), label = 0, i;
	char c;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		c = name[i];
		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return name[n - 1] != '-';
}

struct smtp_mx_resolver *
smtp_mx_resolver_new(const char *dns, int timeout_ms, char **errstr)
{
	struct smtp_mx_resolver *r;

	if (timeout_ms <= 0)
		timeout_ms = 5000;
	r = xcalloc(1, sizeof *r);
	r->timeout_ms = timeout_ms;
	/* DNS only: no /etc/hosts, so what is shown is what DNS says. */
	if (dns_channel_new(&r->ch, dns, timeout_ms, 0, NULL, NULL, &r->name,
	        errstr) == -1) {
		free(r);
		return NULL;
	}
	return r;
}

void
smtp_mx_resolver_free(struct smtp_mx_resolver *r)
{
	if (r == NULL)
		return;
	ares_destroy(r->ch);
	free(r->name);
	free(r);
}

const char *
smtp_mx_resolver_name(const struct smtp_mx_resolver *r)
{
	return r->name;
}

void
smtp_mx_list_free(struct smtp_mx_list *l)
{
	size_t i, j;

	if (l == NULL)
		return;
	for (i = 0; i < l->nhosts; i++) {
		for (j = 0; j < l->hosts[i].naddrs; j++)
			free(l->hosts[i].addrs[j]);
		free(l->hosts[i].addrs);
		free(l->hosts[i].name);
		free(l->hosts[i].error);
	}
	free(l->hosts);
	free(l->domain);
	free(l);
}

void
smtp_mx_sort(struct smtp_mx_host *h, size_t n)
{
	struct smtp_mx_host t;
	size_t i, j;

	/* Insertion sort: stable, and n is at most SMTP_MX_HOSTS_MAX. */
	for (i = 1; i < n; i++) {
		t = h[i];
		for (j = i; j > 0 && h[j - 1].pref > t.pref; j--)
			h[j] = h[j - 1];
		h[j] = t;
	}
}

size_t
smtp_mx_candidates(const struct smtp_mx_list *l, struct smtp_mx_candidate **out)
{
	size_t i, j, n = 0;

	*out = NULL;
	for (i = 0; i < l->nhosts; i++)
		n += l->hosts[i].naddrs;
	if (n == 0)
		return 0;
	*out = xcalloc(n, sizeof **out);
	n = 0;
	for (i = 0; i < l->nhosts; i++)
		for (j = 0; j < l->hosts[i].naddrs; j++) {
			(*out)[n].host = l->hosts[i].name;
			(*out)[n].addr = l->hosts[i].addrs[j];
			(*out)[n].pref = l->hosts[i].pref;
			n++;
		}
	return n;
}

/* ---- queries ------------------------------------------------------ */

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct mx_query *q = arg;
	struct ares_addrttl a4[SMTP_MX_ADDRS_MAX];
	struct ares_addr6ttl a6[SMTP_MX_ADDRS_MAX];
	char text[INET6_ADDRSTRLEN];
	int n, i;

	(void)timeouts;
	q->r->pending--;
	q->status = status;
	if (status != ARES_SUCCESS)
		return;
	if (q->type == ns_t_mx) {
		q->status = ares_parse_mx_reply(abuf, alen, &q->mx);
		return;
	}
	if (q->type != ns_t_a && q->type != ns_t_aaaa) {
		q->raw = xmalloc(alen > 0 ? (size_t)alen : 1);
		memcpy(q->raw, abuf, alen > 0 ? (size_t)alen : 0);
		q->rawlen = alen;
		return;
	}
	if (q->type == ns_t_a) {
		n = SMTP_MX_ADDRS_MAX;
		q->status = ares_parse_a_reply(abuf, alen, NULL, a4, &n);
		for (i = 0; q->status == ARES_SUCCESS && i < n; i++)
			if (inet_ntop(AF_INET, &a4[i].ipaddr, text,
			        sizeof text) != NULL)
				q->v4[q->n4++] = xstrdup(text);
		return;
	}
	n = SMTP_MX_ADDRS_MAX;
	q->status = ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n);
	for (i = 0; q->status == ARES_SUCCESS && i < n; i++)
		if (inet_ntop(AF_INET6, &a6[i].ip6addr, text, sizeof text) !=
		    NULL)
			q->v6[q->n6++] = xstrdup(text);
}

static void
query_start(struct mx_query *q, const char *name)
{
	q->r->pending++;
	ares_query(q->r->ch, name, ns_c_in, q->type, on_answer, q);
}

/* Drives the channel until every query has called back. */
static void
mx_wait(struct smtp_mx_resolver *r)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	struct timeval tv, *tvp;
	unsigned bits;
	int i, n, rc, ms, rd, wr;
	uint64_t now;

	while (r->pending > 0) {
		now = loop_now_us();
		if (now >= r->deadline_us) {
			/* Every callback runs now, with ARES_ECANCELLED. */
			ares_cancel(r->ch);
			continue;
		}
		/* c-ares's macros shift a signed 1 into the sign bit. */
		bits =
		    (unsigned)ares_getsock(r->ch, socks, ARES_GETSOCK_MAXNUM);
		for (i = n = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			rd = (bits & (1u << i)) != 0;
			wr = (bits & (1u << (i + ARES_GETSOCK_MAXNUM))) != 0;
			if (!rd && !wr)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events =
			    (short)((rd ? POLLIN : 0) | (wr ? POLLOUT : 0));
			pfd[n].revents = 0;
			n++;
		}
		tvp = ares_timeout(r->ch, NULL, &tv);
		ms = tvp != NULL
		    ? (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000)
		    : 1000;
		if ((uint64_t)ms * 1000 > r->deadline_us - now)
			ms = (int)((r->deadline_us - now + 999) / 1000);
		rc = poll(pfd, (nfds_t)n, ms);
		if (rc == -1 && errno != EINTR) {
			ares_cancel(r->ch);
			continue;
		}
		if (rc <= 0) {
			ares_process_fd(
			    r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (i = 0; i < n; i++)
			ares_process_fd(r->ch,
			    pfd[i].revents & (POLLIN | POLLERR | POLLHUP)
			        ? pfd[i].fd
			        : ARES_SOCKET_BAD,
			    pfd[i].revents & POLLOUT ? pfd[i].fd
			                             : ARES_SOCKET_BAD);
	}
}

/* One query of type for name, waited for within the lookup's deadline. */
static void
query_one(
    struct smtp_mx_resolver *r, struct mx_query *q, int type, const char *name)
{
	r->deadline_us = loop_now_us() + (uint64_t)r->timeout_ms * 1000;
	memset(q, 0, sizeof *q);
	q->r = r;
	q->type = type;
	query_start(q, name);
	mx_wait(r);
}

static char *
status_text(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
		return xstrdup("no such domain (NXDOMAIN)");
	case ARES_ENODATA:
		return xstrdup("no address records (A/AAAA)");
	case ARES_ETIMEOUT: /* the tries ran out */
	case ARES_ECANCELLED: /* the lookup's deadline (mx_wait) */
		return xstrdup("the DNS server did not answer in time "
		               "(--timeout)");
	case ARES_ECONNREFUSED:
		return xstrdup("the DNS server refused the connection");
	case ARES_ESERVFAIL:
		return xstrdup("the DNS server failed (SERVFAIL)");
	case ARES_EREFUSED:
		return xstrdup("the DNS server refused the query (REFUSED)");
	default:
		return xstrdup(ares_strerror(status));
	}
}

/* Fills list->hosts from an MX answer. */
static void
take_mx(struct smtp_mx_list *l, const struct ares_mx_reply *mx)
{
	const struct ares_mx_reply *m;
	size_t n = 0;

	for (m = mx; m != NULL; m = m->next)
		n++;
	if (n == 1 &&
	    (mx->host == NULL || mx->host[0] == '\0' ||
	        strcmp(mx->host, ".") == 0)) {
		l->null_mx = 1;
		return;
	}
	if (n > SMTP_MX_HOSTS_MAX)
		n = SMTP_MX_HOSTS_MAX;
	l->hosts = xcalloc(n, sizeof *l->hosts);
	for (m = mx; m != NULL && l->nhosts < n; m = m->next) {
		struct smtp_mx_host *h = &l->hosts[l->nhosts++];
		const char *name = m->host != NULL ? m->host : "";

		h->pref = m->priority;
		if (smtp_mx_domain_valid(name))
			h->name = xstrdup(name);
		else {
			h->name = escape_dup(name, strlen(name));
			h->error = xstrdup("not a valid host name");
		}
	}
	smtp_mx_sort(l->hosts, l->nhosts);
}

static void
resolve_hosts(struct smtp_mx_resolver *r, struct smtp_mx_list *l)
{
	struct mx_query *qs;
	size_t i, j, nq = 0;
	int errst;

	qs = xcalloc(l->nhosts * 2 + 1, sizeof *qs);
	for (i = 0; i < l->nhosts; i++) {
		if (l->hosts[i].error != NULL)
			continue;
		for (j = 0; j < 2; j++) {
			qs[nq].r = r;
			qs[nq].list = l;
			qs[nq].host = i;
			qs[nq].type = j == 0 ? ns_t_a : ns_t_aaaa;
			query_start(&qs[nq], l->hosts[i].name);
			nq++;
		}
	}
	mx_wait(r);
	for (i = 0; i < nq; i += 2) {
		struct smtp_mx_host *h = &l->hosts[qs[i].host];
		struct mx_query *q4 = &qs[i], *q6 = &qs[i + 1];

		h->addrs = xcalloc(q4->n4 + q6->n6 + 1, sizeof *h->addrs);
		for (j = 0; j < q4->n4; j++)
			h->addrs[h->naddrs++] = q4->v4[j];
		for (j = 0; j < q6->n6; j++)
			h->addrs[h->naddrs++] = q6->v6[j];
		if (h->naddrs == 0) {
			/* The more telling of the two failures. */
			errst = q4->status != ARES_ENODATA &&
			        q4->status != ARES_SUCCESS
			    ? q4->status
			    : q6->status;
			h->error = status_text(
			    errst == ARES_SUCCESS ? ARES_ENODATA : errst);
		}
	}
	free(qs);
}

struct smtp_mx_list *
smtp_mx_lookup(struct smtp_mx_resolver *r, const char *domain, char **errstr)
{
	struct smtp_mx_list *l;
	struct mx_query q;
	char *why;

	if (!smtp_mx_domain_valid(domain)) {
		*errstr =
		    xasprintf("\"%s\" is not a valid domain name", domain);
		return NULL;
	}
	query_one(r, &q, ns_t_mx, domain);
	if (q.status != ARES_SUCCESS && q.status != ARES_ENODATA) {
		why = status_text(q.status);
		*errstr = xasprintf(
		    "MX lookup for %s via %s failed: %s", domain, r->name, why);
		free(why);
		ares_free_data(q.mx);
		return NULL;
	}
	l = xcalloc(1, sizeof *l);
	l->domain = xstrdup(domain);
	if (q.status == ARES_SUCCESS && q.mx != NULL)
		take_mx(l, q.mx);
	ares_free_data(q.mx);
	if (l->null_mx)
		return l;
	if (l->nhosts == 0) {
		/* RFC 5321 5.1: no MX, the domain itself is the host. */
		l->implicit = 1;
		l->hosts = xcalloc(1, sizeof *l->hosts);
		l->hosts[0].name = xstrdup(domain);
		l->nhosts = 1;
	}
	resolve_hosts(r, l);
	return l;
}

int
smtp_mx_query_raw(struct smtp_mx_resolver *r, const char *name, int type,
    unsigned char **answer, int *len, char **errstr)
{
	struct mx_query q;
	char *why;

	query_one(r, &q, type, name);
	if (q.status == ARES_ENOTFOUND || q.status == ARES_ENODATA) {
		free(q.raw);
		*answer = NULL;
		*len = 0;
		return 0;
	}
	if (q.status != ARES_SUCCESS || q.raw == NULL) {
		why = status_text(q.status);
		*errstr = xasprintf(
		    "lookup of %s via %s failed: %s", name, r->name, why);
		free(why);
		free(q.raw);
		return -1;
	}
	*answer = q.raw;
	*len = q.rawlen;
	return 0;
}
