/*
 * Between the rooms of the transport (the public API is
 * protocol/transport.h): struct smtp_transport and its states.
 *
 *   transport.c       the socket: SERVER parsing, connecting one resolved
 *                     address at a time, reads and writes (plain or TLS)
 *   transport_tls.c   the shared SSL_CTX and its CA store, starting TLS,
 *                     the handshake and its verification messages
 *   transport_unix.c  UNIX-domain sockets (LMTP): SERVER forms, connect
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
	char *target; /* "host:port" / "[v6]:port", escaped, for messages */
	struct addrinfo *ai_head;
	struct addrinfo *ai_cur; /* the address being tried */
	char *attempts; /* "addr: reason; addr: reason" */
	int nattempts;
	int nrefused;
	char trying[TR_ADDR_LEN];
	char peer[TR_ADDR_LEN];

	SSL *ssl;
	int ssl_dead; /* fatal TLS error: no close_notify may follow */
	int insecure;
	char *sni; /* name sent as SNI, "" for IP literals */
	char *vname; /* name checked against the certificate */
	struct smtp_tls_info *info;
};

/* transport_unix.c: connects t->host, a socket path (0 under way). */
int tr_unix_connect(struct smtp_transport *t, char **errstr);

/* transport_tls.c */
int tr_ssl_errors(char **reasons, char **details);

/* transport_info.c */
char *tr_printable_dup(const char *p, size_t n);
char *tr_san_string(X509 *x);
char *tr_name_string(const X509_NAME *name);
void tr_info_free(struct smtp_tls_info *info);
char *tr_ocsp_describe(SSL *ssl, enum smtp_ocsp_status *status);
struct smtp_tls_info *tr_info_build(struct smtp_transport *t, long vr);
X509 *tr_peer_leaf(SSL *ssl);

#endif
