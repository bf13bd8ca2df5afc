/*
 * The PROXY protocol header (HAProxy, versions 1 and 2): what a proxy
 * in front of an SMTP server sends first on a new connection to say
 * whom it is relaying for.  ehlo sends one with --proxy-header to test
 * a server that expects it (Postfix's smtpd_upstream_proxy_protocol =
 * haproxy): the bytes go out right after TCP connect, before the
 * greeting is read and before implicit TLS.
 *
 * Only the PROXY command over TCP (TCP4, TCP6) is built; v2 carries no
 * TLVs.  The display form is what the dialogue and the history show:
 * v1 its text line without CRLF, v2 "PROXY v2" and the bytes in hex,
 * grouped by field; smtp_proxy_display_parse() reads it back (replay).
 */
#ifndef EHLO_PROTOCOL_PROXYHDR_H
#define EHLO_PROTOCOL_PROXYHDR_H

#include <stddef.h>

/* v1's longest line is 107 octets with CRLF; v2 over TCP6 is 52. */
#define SMTP_PROXY_HDR_MAX 108

/* One end of the proxied connection. */
struct smtp_proxy_addr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* 4 or 16 octets, network order */
	unsigned port;
};

/* 1 for "v1" or "1", 2 for "v2" or "2", else -1. */
int smtp_proxy_version_parse(const char *);

/*
 * Reads "ADDR:PORT": "192.0.2.7:4567", "[2001:db8::7]:4567" (a literal
 * address, no name; port 0..65535).  Returns 0, or -1 with *errstr
 * (allocated) naming what is wrong and the form expected.
 */
int smtp_proxy_addr_parse(
    const char *, struct smtp_proxy_addr *, char **errstr);
/* "192.0.2.7:4567" or "[2001:db8::7]:4567", allocated. */
char *smtp_proxy_addr_format(const struct smtp_proxy_addr *);

/*
 * Builds the header of version 1 or 2 for a TCP connection from src to
 * dst into out (SMTP_PROXY_HDR_MAX octets) and sets *len.  Returns 0,
 * or -1 with *errstr when the two addresses are not of one family (the
 * protocol carries one address family per header).
 */
int smtp_proxy_build(int version, const struct smtp_proxy_addr *src,
    const struct smtp_proxy_addr *dst, unsigned char *out, size_t *len,
    char **errstr);

/* The display form of a header smtp_proxy_build made, allocated. */
char *smtp_proxy_display(const unsigned char *, size_t);

/*
 * Reads a display form back (untrusted text from the history): sets
 * *version, *src and *dst.  Returns 0, or -1 with *errstr.
 */
int smtp_proxy_display_parse(const char *, int *version,
    struct smtp_proxy_addr *src, struct smtp_proxy_addr *dst, char **errstr);

#endif
