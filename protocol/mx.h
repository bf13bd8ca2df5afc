/*
 * Mail routing for a domain (RFC 5321 section 5.1, RFC 7505 null MX):
 * the MX records ordered by preference, each host's addresses, or the
 * domain's own A/AAAA records when it has no MX ("implicit MX").  The
 * resolver is c-ares, so a test (or an admin) can point it at any server
 * with --dns SERVER[:PORT].
 *
 * Lookups here block (bounded by the timeout): line mode resolves once
 * before it connects.  Inside, every query is a c-ares callback, so an
 * event-loop version only has to hand the channel's sockets to the loop.
 */
#ifndef EHLO_PROTOCOL_MX_H
#define EHLO_PROTOCOL_MX_H

#include <stddef.h>

#define SMTP_MX_HOSTS_MAX 32 /* MX records kept */
#define SMTP_MX_ADDRS_MAX 16 /* addresses kept per host */

struct smtp_mx_host {
	char *name; /* the MX target (sanitised), or the domain itself */
	unsigned pref; /* MX preference; 0 for the implicit MX */
	size_t naddrs;
	char **addrs; /* numeric: IPv4 ones first, then IPv6 */
	char *error; /* why it has no address, or NULL */
};

struct smtp_mx_list {
	char *domain;
	int implicit; /* no MX: the domain's own address (5.1) */
	int null_mx; /* "MX 0 ." (RFC 7505): no mail accepted */
	size_t nhosts;
	struct smtp_mx_host *hosts; /* lowest preference value first */
};

/* One place to connect to: an address of an MX host. */
struct smtp_mx_candidate {
	const char *host; /* MX name: verify TLS against it */
	const char *addr; /* numeric address to connect to */
	unsigned pref;
};

struct smtp_mx_resolver; /* opaque */

/*
 * A resolver.  dns is "SERVER[:PORT]", "[v6addr]:PORT" or NULL for the
 * system's resolv.conf; it must be a numeric address.  timeout_ms bounds
 * each whole lookup (every query and retry of one smtp_mx_lookup; <= 0:
 * 5 s).  Returns NULL with *errstr on a bad dns or
 * when c-ares cannot start.
 */
struct smtp_mx_resolver *smtp_mx_resolver_new(
    const char *dns, int timeout_ms, char **errstr);
/* NULL is a no-op. */
void smtp_mx_resolver_free(struct smtp_mx_resolver *);
/* "127.0.0.1:5353" or "the system resolver" (owned). */
const char *smtp_mx_resolver_name(const struct smtp_mx_resolver *);

/*
 * Looks up domain's mail routing (blocks until done or timed out).
 * Returns the list (free with smtp_mx_list_free), whose hosts may have
 * no address (see their error), or NULL with *errstr when the domain
 * does not exist, is not a valid name, or the resolver failed.  A null
 * MX is returned as a list with null_mx set and no hosts.  DNS data is
 * untrusted: names are checked and bounded.
 */
struct smtp_mx_list *smtp_mx_lookup(
    struct smtp_mx_resolver *, const char *domain, char **errstr);
void smtp_mx_list_free(struct smtp_mx_list *);

/*
 * Orders hosts by preference, lowest first; equal preferences keep the
 * order the resolver gave (RFC 5321 5.1 allows randomising them; a
 * troubleshooting tool prefers runs that repeat).
 */
void smtp_mx_sort(struct smtp_mx_host *, size_t n);

/*
 * The addresses to try, in order (host by host, each host's addresses
 * in turn).  The array is allocated (free it); its strings point into
 * list.  Returns the count (0 when nothing is reachable).
 */
size_t smtp_mx_candidates(
    const struct smtp_mx_list *, struct smtp_mx_candidate **out);

/*
 * One query of any type (e.g. TLSA, 52) for name, blocking like
 * smtp_mx_lookup: *answer is the whole DNS answer as it came (free it),
 * NULL with *len 0 when the name or the type does not exist; -1 with
 * *errstr when the resolver failed.
 */
int smtp_mx_query_raw(struct smtp_mx_resolver *, const char *name, int type,
    unsigned char **answer, int *len, char **errstr);

/* 1 when name is a syntactically valid domain name (LDH labels). */
int smtp_mx_domain_valid(const char *name);

#endif
