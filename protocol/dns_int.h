/*
 * Between the rooms of protocol/ that resolve names with c-ares (the
 * MX lookups of mx.c, the connection's own names in transport_dns.c):
 * one way to make a channel, so --dns and the retry budget mean the
 * same everywhere, and the asynchronous lookup of a host's addresses
 * that the connect race (transport_connect.c) waits on.
 */
#ifndef EHLO_PROTOCOL_DNS_INT_H
#define EHLO_PROTOCOL_DNS_INT_H

#include <stdint.h>
#include <sys/socket.h>

#include <ares.h>

/*
 * Makes a c-ares channel.  dns is "SERVER[:PORT]" (numeric) or NULL for
 * the system's resolv.conf; timeout_ms bounds one whole lookup (two
 * tries, the second twice as long); with_hosts 1 reads /etc/hosts
 * first (a connection's name, as the system resolver does), 0 asks DNS
 * only (MX and TLSA: what is shown is what DNS says).  sock_cb, when
 * not NULL, is told of every socket the channel opens or closes.
 * *name gets "127.0.0.1:5353" or "the system resolver" (allocated).
 * 0, or -1 with *errstr naming the problem.
 */
int dns_channel_new(ares_channel *ch, const char *dns, int timeout_ms,
    int with_hosts, ares_sock_state_cb sock_cb, void *cb_arg, char **name,
    char **errstr);

/* One resolved address of a connection's host. */
struct dns_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct dns_lookup; /* a host's addresses being looked up, on an epoll set */

/*
 * Starts looking up host (port: numeric; NULL: the canonical name is
 * wanted too, see smtp_dns_canonname) on the epoll set epfd: the
 * channel's sockets are added to it with the data tag | fd.  family is
 * 0 (both), AF_INET or AF_INET6.  An IP literal is answered at once.
 * NULL with *errstr when the channel cannot be made (a bad --dns).
 */
struct dns_lookup *dns_lookup_start(int epfd, uint64_t tag, const char *dns,
    int timeout_ms, const char *host, const char *port, int family,
    char **errstr);
/* A socket of the lookup became ready (fd), or its timer ran out (-1). */
void dns_lookup_process(struct dns_lookup *, int fd, uint32_t events);
/* Milliseconds until the lookup's own timer, or -1 when none. */
long dns_lookup_timeout_ms(struct dns_lookup *);
/*
 * 1 once the answer is in: *addrs (owned by the lookup, IPv6 and IPv4
 * interleaved, IPv6 first: RFC 8305 section 4) and *n, or *n 0 with
 * *errstr (allocated) saying why there is no address.  0 while waiting.
 */
int dns_lookup_done(struct dns_lookup *, const struct dns_addr **addrs,
    size_t *n, char **errstr);
/* Closes the lookup's sockets (taking them off the epoll set). */
void dns_lookup_free(struct dns_lookup *);

#endif
