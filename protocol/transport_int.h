/*
 * Between the rooms of the transport (the public API is
 * protocol/transport.h): struct smtp_transport and its states.
 *
 *   transport.c       the socket: starting and finishing connects, reads
 *                     and writes (plain or TLS)
 *   transport_addr.c  SERVER arguments, addresses as text
 *   transport_tls.c   the shared SSL_CTX and its CA store, starting TLS,
 *                     the handshake and its verification messages
 *   transport_unix.c  UNIX-domain sockets (LMTP): SERVER forms, connect
 *   transport_connect.c  the network connect (issue 18): names looked
 *                     up on the loop (transport_dns.c), happy eyeballs,
 *                     --source, -4/-6, and SOCKS5 (transport_socks.c)
 *   transport_info.c  what the handshake showed, reduced to bounded
 *                     printable text (struct smtp_tls_info): chain,
 *                     SANs, group, OCSP staple
 *
 * A transport moves through a small set of states: idle, connecting (one
 * address at a time, in resolver order), connected, TLS handshake, TLS
 * up, failed.  Every call is non-blocking; t->want records which poll()
 * interest the last would-block result needs.
 */
#ifndef EHLO_PROTOCOL_TRANSPORT_INT_H
#define EHLO_PROTOCOL_TRANSPORT_INT_H

#include <stddef.h>
#include <netdb.h>

#include <openssl/ssl.h>

#include "protocol/transport.h"
#define TR_CHAIN_MAX 16 /* certificates described per handshake */
#define TR_FIELD_MAX 1024 /* characters kept of one certificate field */
#define TR_SAN_MAX 4096 /* characters kept of one SAN list */
#define TR_ERRQ_MAX 4 /* OpenSSL error queue entries quoted */
#define TR_ADDR_LEN (NI_MAXHOST + NI_MAXSERV + 4)
#define TR_VERR_MAX 8 /* verification problems described per handshake */

enum tr_state {
	TR_IDLE,
	TR_CONNECTING,
	TR_CONNECTED,
	TR_HANDSHAKE,
	TR_TLS,
	TR_FAILED,
};

struct smtp_transport {
	int fd;
	int want;
	enum tr_state state;

	char *host; /* as given to connect, for name checks */
	char *port;
	char *target; /* "host:port" / "[v6]:port", escaped, for messages */
	struct tr_net *net; /* transport_connect.c, while connecting */
	struct smtp_net_opts nopts; /* strings copied (not the password) */
	char via[TR_ADDR_LEN]; /* the SOCKS proxy's address, or "" */
	char *attempts; /* "addr: reason; addr: reason" */
	int nattempts;
	int nrefused;
	char trying[TR_ADDR_LEN];
	char peer[TR_ADDR_LEN];

	SSL *ssl;
	int ssl_dead; /* fatal TLS error: no close_notify may follow */
	int insecure;
	int opportunistic; /* Postfix's "may": unverified is reported */
	int implicit; /* implicit TLS, not STARTTLS (for hints) */
	int cafile_given; /* --cafile was given (for hints) */
	int has_cert; /* a client certificate was offered */
	int cert_requested; /* the server asked for one we did not have */
	char *pin; /* --pin, or NULL */
	const struct smtp_dane *dane; /* --dane records (the caller's) */
	int min_version, max_version; /* as --tls-min/--tls-max asked */
	char *verr; /* tls_verify.c: every verification problem, or NULL */
	int verr_codes[TR_VERR_MAX]; /* their X509_V_ERR_* codes */
	int verr_depths[TR_VERR_MAX];
	int nverr;
	char *sni; /* name sent as SNI, "" for IP literals */
	char *vname; /* name checked against the certificate */
	struct smtp_tls_info *info;
};

/*
 * transport_connect.c: starts connecting t->host, t->port over the
 * network (0 under way, or -1 with *errstr); drives it (0 connected,
 * SMTP_TR_AGAIN, SMTP_TR_ERROR); drops what is under way.
 */
int tr_net_connect(struct smtp_transport *t, char **errstr);
int tr_net_finish(struct smtp_transport *t, char **errstr);
void tr_net_free(struct smtp_transport *t);
/* Notes why the address in t->trying failed (errno value err). */
void tr_attempt_fail(struct smtp_transport *t, int err);
/* Why no address worked, from the attempts noted, with advice. */
char *tr_connect_error(const struct smtp_transport *t);
/* "127.0.0.1:25" or "[::1]:25" for a socket address. */
void tr_addr_format(
    const struct sockaddr *sa, socklen_t salen, char *out, size_t outsz);

/* transport_socks.c: the SOCKS5 negotiation on a connected socket */
struct tr_socks;
struct tr_socks *tr_socks_new(const char *target, const char *port,
    const char *user, const char *password);
/*
 * Moves the negotiation on: 0 when the proxy is connected to the
 * server (bound: the proxy's end), SMTP_TR_AGAIN with *want, or
 * SMTP_TR_ERROR with *errstr (without the proxy's name).
 */
int tr_socks_io(struct tr_socks *, int fd, int *want, char *bound,
    size_t boundsz, char **errstr);
void tr_socks_free(struct tr_socks *);

/* transport_unix.c: connects t->host, a socket path (0 under way). */
int tr_unix_connect(struct smtp_transport *t, char **errstr);

/* transport_info.c */
/*
 * Collects (and clears) the OpenSSL error queue: *reasons the short
 * reasons, *details the full strings; 1 when the peer did not talk TLS.
 */
int tr_ssl_errors(char **reasons, char **details);
char *tr_printable_dup(const char *p, size_t n);
char *tr_san_string(X509 *x);
char *tr_name_string(const X509_NAME *name);
void tr_info_free(struct smtp_tls_info *info);
char *tr_ocsp_describe(SSL *ssl, enum smtp_ocsp_status *status);
struct smtp_tls_info *tr_info_build(struct smtp_transport *t, long vr);
X509 *tr_peer_leaf(SSL *ssl);
char *tr_time_string(const ASN1_TIME *at);
/* Base64 SHA-256 of x's SubjectPublicKeyInfo (curl's --pinnedpubkey). */
char *tr_spki_sha256(X509 *x);

/* tls_opts.c: versions, ciphers, groups, client certificate on ssl */
int tr_opts_apply(SSL *ssl, const struct smtp_tls_opts *o, char **errstr);
/*
 * Advice for a failed handshake or TLS read, from OpenSSL's reasons: a
 * client certificate demanded or refused (naming the alert), or the
 * versions --tls-min/--tls-max allowed.  " ..." or "".  Allocated.
 */
char *tr_alert_advice(const struct smtp_transport *t, const char *reasons);
/* tls_dane.c: hands the TLSA records to OpenSSL (none: nothing). */
int tr_dane_apply(struct smtp_transport *t, SSL *ssl, const struct smtp_dane *d,
    char **errstr);
/* Fills info's DANE lines: each record, and which one matched. */
void tr_dane_report(struct smtp_transport *t, const struct smtp_dane *d,
    struct smtp_tls_info *info);
/* Checks the leaf's public key against --pin; NULL or the mismatch. */
char *tr_pin_check(struct smtp_transport *t, const char *pins);

/* tls_verify.c */
/* Makes ssl collect every verification problem into t (SSL app data). */
void tr_verify_setup(struct smtp_transport *t, SSL *ssl);
/*
 * The shared context's certificate verification: the whole chain is
 * checked with every problem collected, then refused (0: the handshake
 * ends with the matching alert) unless --insecure or opportunistic.
 */
int tr_cert_verify(X509_STORE_CTX *ctx, void *arg);
/* Forgets the problems collected by the last handshake. */
void tr_verify_reset(struct smtp_transport *t);
/*
 * The verification problems as one line: each OpenSSL reason with what
 * it is about in parentheses ("certificate has expired (certificate 1,
 * CN=x: not valid after DATE, 12 days ago)"); OpenSSL's reason for vr
 * when nothing was collected; "" when vr is X509_V_OK.  Allocated.
 */
char *tr_verify_reasons(struct smtp_transport *t, long vr);
/* The message for a refused certificate, with advice that fits. */
char *tr_verify_message(struct smtp_transport *t, long vr);

#endif
