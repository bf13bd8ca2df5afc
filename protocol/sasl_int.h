/*
 * Private between sasl.c (the table, the mechanisms built here, the
 * redaction) and sasl_gsasl.c (the mechanisms GNU SASL runs): the
 * client's state and the calls between the two rooms.
 */
#ifndef EHLO_PROTOCOL_SASL_INT_H
#define EHLO_PROTOCOL_SASL_INT_H

#include <stddef.h>

#include "protocol/sasl.h"

/* Indexes into sasl_mechs[]. */
enum sasl_mech_id {
	SASL_PLAIN,
	SASL_LOGIN,
	SASL_CRAM_MD5,
	SASL_XOAUTH2,
	SASL_OAUTHBEARER,
	SASL_SCRAM_SHA1,
	SASL_SCRAM_SHA1_PLUS,
	SASL_SCRAM_SHA256,
	SASL_SCRAM_SHA256_PLUS,
	SASL_GSSAPI,
};

/* The display form of a response nothing is known about. */
#define SASL_MASKED "[response " SASL_MASK "]"

#define SASL_CB_MAX 64 /* tls-exporter is 32 bytes, tls-unique 12 or 36 */

struct sasl_gs; /* sasl_gsasl.c */

struct sasl_client {
	const struct sasl_mech_info *info;
	enum sasl_mech_id id;
	char *user;
	char *secret;
	int stage; /* messages produced so far, initial response included */
	char *host; /* GSSAPI's service host, or NULL */
	const char *cbtype; /* "tls-exporter", "tls-unique" or NULL */
	unsigned char cb[SASL_CB_MAX];
	size_t cblen;
	struct sasl_gs *gs; /* the GNU SASL exchange, or NULL */
};

/* 1 for the mechanisms sasl_gsasl.c runs. */
int sasl_id_is_gsasl(enum sasl_mech_id);

/*
 * Starts the GNU SASL exchange of c (its user, secret, host and binding
 * are read through a callback when the library asks).  -1 with *errstr.
 */
int sasl_gs_begin(struct sasl_client *c, char **errstr);
/*
 * One step: in[0..inlen) is the decoded challenge (empty for the
 * initial response); *out (allocated, wiped by the caller with
 * secret_free) gets the raw answer and *outlen its length.  -1 with
 * *errstr when the library refuses (the message says why in words).
 */
int sasl_gs_step(struct sasl_client *c, const unsigned char *in, size_t inlen,
    char **out, size_t *outlen, char **errstr);
/* 1 when the library has checked the server's last message (for SCRAM:
 * the signature v=). */
int sasl_gs_is_done(const struct sasl_gs *);
/* Ends and frees the exchange (NULL is a no-op). */
void sasl_gs_end(struct sasl_gs *);

/*
 * The display form of a decoded message of mechanism id that ehlo or
 * the user produced (d NUL-terminated after n bytes): SCRAM's messages
 * with the proof masked, GSSAPI's tokens as their size only.
 */
char *sasl_gs_redact(enum sasl_mech_id id, const unsigned char *d, size_t n);

#endif
