/*
 * The TLS channel binding of one OpenSSL connection, for SASL -PLUS
 * (transport_cb.c): the client's transport and the practice server's
 * SCRAM-SHA-256-PLUS compute it the same way, each for its own side.
 */
#ifndef EHLO_PROTOCOL_TRANSPORT_CB_H
#define EHLO_PROTOCOL_TRANSPORT_CB_H

#include <stddef.h>

struct ssl_st;

/*
 * The binding of ssl after its handshake: TLS 1.3 gives *type
 * "tls-exporter" (RFC 9266, 32 bytes), TLS 1.2 "tls-unique" (RFC 5929,
 * the first Finished message: the client's after a full handshake, the
 * server's after a resumed one; is_server says which side ssl is).  At
 * most cap bytes go to out, their count to *len.  -1 when the handshake
 * is not done or OpenSSL refuses.
 */
int transport_cb_read(struct ssl_st *ssl, int is_server, const char **type,
    unsigned char *out, size_t cap, size_t *len);

#endif
