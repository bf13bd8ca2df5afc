/*
 * SOCKS5 (RFC 1928) with user name and password (RFC 1929): the
 * --socks argument, and the messages of the negotiation as pure
 * functions (bytes in, bytes out) so they can be tested alone.  The
 * negotiation itself runs inside the transport's connect
 * (transport_socks.c), on the event loop, within --timeout.
 */
#ifndef EHLO_PROTOCOL_SOCKS_H
#define EHLO_PROTOCOL_SOCKS_H

#include <stddef.h>

#define SMTP_SOCKS_DEFAULT_PORT 1080
#define SMTP_SOCKS_MSG_MAX 515 /* the longest request: RFC 1929's */

/* A proxy as --socks or the configuration's socks key named it. */
struct smtp_socks_spec {
	char *host; /* the proxy: name or address (brackets removed) */
	char *port; /* "1080" when not given */
	char *user; /* socks5://USER@...: RFC 1929, or NULL */
	int remote_dns; /* 1: socks5h:// or HOST:PORT, the proxy resolves
	                 * the server's name; 0: socks5://, ehlo resolves
	                 * it and sends the address */
};

/*
 * Parses "HOST[:PORT]", "socks5://[USER@]HOST[:PORT]" or
 * "socks5h://[USER@]HOST[:PORT]" (HOST may be "[v6addr]").  A password
 * in the URL (USER:PASS@) is refused: it would show in ps, in the shell
 * history and in the history database; the caller takes it from the
 * environment or ~/.netrc instead.  0, or -1 with *errstr naming what
 * is wrong.
 */
int smtp_socks_parse(
    const char *spec, struct smtp_socks_spec *out, char **errstr);
void smtp_socks_spec_free(struct smtp_socks_spec *);

/*
 * The method selection message (RFC 1928 section 3): "no
 * authentication", and "username/password" too when with_auth.
 * Returns its length (3 or 4).
 */
size_t smtp_socks_hello(unsigned char out[4], int with_auth);
/*
 * Reads the proxy's method choice from p (n bytes so far): 0 when more
 * is needed, 2 with *method set (0 none, 2 username/password), -1 with
 * *errstr (not SOCKS5, no acceptable method, one not offered).
 */
int smtp_socks_hello_reply(const unsigned char *p, size_t n, int with_auth,
    int *method, char **errstr);

/*
 * The username/password request (RFC 1929 section 2) into out
 * (SMTP_SOCKS_MSG_MAX bytes): its length, or -1 with *errstr when the
 * user or the password is empty or longer than 255 octets.  out holds
 * the password: the caller wipes it once sent.
 */
int smtp_socks_auth_request(
    unsigned char *out, const char *user, const char *password, char **errstr);
/* The status reply: 0 more needed, 2 accepted, -1 refused (*errstr). */
int smtp_socks_auth_reply(
    const unsigned char *p, size_t n, const char *user, char **errstr);

/*
 * The CONNECT request (RFC 1928 section 4) for host (an IPv4 or IPv6
 * literal goes as an address, anything else as a domain name for the
 * proxy to resolve) and port (numeric) into out: its length, or -1
 * with *errstr.
 */
int smtp_socks_connect_request(
    unsigned char *out, const char *host, const char *port, char **errstr);
/*
 * The proxy's reply to CONNECT: 0 more needed, else the reply's length
 * with bound ("192.0.2.1:40000", the proxy's end towards the server;
 * boundsz bytes) filled; -1 with *errstr saying what the reply code
 * means (section 6) or what is malformed.
 */
int smtp_socks_connect_reply(const unsigned char *p, size_t n, char *bound,
    size_t boundsz, char **errstr);
/* RFC 1928 section 6: the meaning of reply code rep ("connection
 * refused"), or "an unassigned reply code". */
const char *smtp_socks_reply_text(int rep);

#endif
