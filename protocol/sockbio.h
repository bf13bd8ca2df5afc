/*
 * The socket BIO under every TLS connection of ehlo, client and practice
 * server alike.  OpenSSL's own socket BIO writes with write(), which
 * raises SIGPIPE when the peer has gone; this one uses send() with
 * MSG_NOSIGNAL, so a vanished peer is an ordinary error.
 */
#ifndef EHLO_PROTOCOL_SOCKBIO_H
#define EHLO_PROTOCOL_SOCKBIO_H

#include <openssl/bio.h>

/* A BIO reading and writing fd (not closed by the BIO), or NULL. */
BIO *smtp_sockbio_new(int fd);
/* Frees the shared BIO method (tests, leak checks); BIOs in use stay. */
void smtp_sockbio_cleanup(void);

#endif
