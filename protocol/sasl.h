/*
 * SASL client mechanisms for SMTP AUTH (RFC 4954): PLAIN (RFC 4616),
 * LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195), XOAUTH2
 * (Google/Microsoft bearer tokens) and OAUTHBEARER (RFC 7628) here;
 * SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS forms (RFC 5802, 7677) and
 * GSSAPI (RFC 4752) through GNU SASL (sasl_gsasl.c).  A mechanism table
 * drives everything.
 *
 * Every step produces two strings: the wire form (base64, what is sent)
 * and the display form (decoded, secret replaced by SASL_MASK) for the
 * transcript.  The wire form of any step that carries the secret must
 * never be shown or stored; callers free it with secret_free_str().
 * Base64 and HMAC come from OpenSSL.
 */
#ifndef EHLO_PROTOCOL_SASL_H
#define EHLO_PROTOCOL_SASL_H

#include <stddef.h>

#define SASL_MASK "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2"

/* The names for messages, in the table's order. */
#define SASL_MECH_NAMES                                                        \
	"PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER, SCRAM-SHA-1, "          \
	"SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-256-PLUS, GSSAPI"

#define SASL_MECH_NO_SECRET 0x1 /* no password (GSSAPI: Kerberos tickets) */
#define SASL_MECH_PLUS 0x2 /* needs the TLS channel binding */
#define SASL_MECH_TOKEN 0x4 /* the secret is a bearer token */

struct sasl_mech_info {
	const char *name; /* "CRAM-MD5" */
	int initial_response; /* 1 if the first message can go with AUTH */
	const char *help; /* one line for /help and completion */
	const char *rfc;
	unsigned flags; /* SASL_MECH_* */
	int rank; /* choice among offered ones: higher first, 0 never */
};

/* The table, terminated by an entry with name == NULL. */
extern const struct sasl_mech_info sasl_mechs[];
/* The entry for a name (any case), or NULL. */
const struct sasl_mech_info *sasl_mech_find(const char *name);

/*
 * The mechanism ehlo would choose among the n names a server offered
 * (offered[i], any case): SCRAM-SHA-256-PLUS (only when tls), then
 * SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN.
 * Bearer-token mechanisms and GSSAPI are never chosen (they need a
 * different secret).  NULL when none fits.
 */
const struct sasl_mech_info *sasl_mech_choose(
    const char *const *offered, size_t n, int tls);

struct sasl_client; /* opaque */

/*
 * Starts an exchange.  user and secret are copied (the copy of secret is
 * wiped on free); for XOAUTH2 the secret is the bearer token.  Returns
 * NULL with *errstr set for an unknown mechanism or a missing user.
 */
struct sasl_client *sasl_client_new(
    const char *mech, const char *user, const char *secret, char **errstr);
/* Wipes and frees.  NULL is a no-op. */
void sasl_client_free(struct sasl_client *);

/*
 * The TLS channel binding for a -PLUS mechanism (from
 * smtp_client_channel_binding: type "tls-exporter" or "tls-unique"),
 * copied; set before sasl_client_start.  Other mechanisms ignore it.
 */
void sasl_client_set_binding(struct sasl_client *, const char *type,
    const unsigned char *data, size_t len);
/* The server's host name, for GSSAPI's service principal smtp/HOST. */
void sasl_client_set_host(struct sasl_client *, const char *host);

/*
 * The AUTH command line to send (without CRLF), e.g.
 * "AUTH PLAIN AGFsaWNlAHNlY3JldA==" when use_initial_response is set and
 * the mechanism allows it, else "AUTH PLAIN".  *display gets the
 * transcript form ("AUTH PLAIN [user=alice password=•••••]").  Both are
 * allocated; free *wire with secret_free_str().  Returns -1 with
 * *errstr (nothing to send) when the mechanism cannot start: a -PLUS
 * one without a channel binding, GSSAPI without a Kerberos ticket.
 */
int sasl_client_start(struct sasl_client *, int use_initial_response,
    char **wire, char **display, char **errstr);

/*
 * Answers a 334 challenge (the text after "334 ", base64).  On success
 * returns 0 and sets *wire (the base64 line to send, possibly empty) and
 * *display.  Returns -1 with *errstr when the challenge is not valid
 * base64, the mechanism has nothing more to send, or the challenge is
 * wrong for it (a SCRAM server whose signature proves it does not know
 * the password): the caller should send "*" to cancel, RFC 4954 4.
 */
int sasl_client_step(struct sasl_client *, const char *challenge, size_t len,
    char **wire, char **display, char **errstr);

/*
 * 0 when a 235 now would come too early: a SCRAM exchange whose server
 * never sent its signature (v=), so the server was not proven to know
 * the password.  1 otherwise.
 */
int sasl_client_server_proven(const struct sasl_client *);

/*
 * Display form of a line the user typed by hand while in an AUTH
 * exchange, so a pasted secret is never echoed: mech is the mechanism
 * named in the AUTH command (may be NULL), step counts the responses
 * already sent (0 = the initial response on the AUTH line itself),
 * challenge is the last 334 text (may be NULL).  Returns an allocated
 * string, e.g. "[user=alice password=•••••]".
 */
char *sasl_redact_response(
    const char *mech, int step, const char *challenge, const char *line);

/*
 * Display form of an "AUTH MECH [initial-response]" command line typed by
 * hand; the initial response is decoded and masked.  Allocated.
 */
char *sasl_redact_auth_command(const char *line);

/*
 * The user a display form names (as recorded in the history): "user=NAME"
 * ("[user=alice password=•••••]") or SCRAM's client-first
 * ("[n,,n=alice,r=...]", its =2C and =3D decoded).  Allocated, or NULL.
 */
char *sasl_display_user(const char *display);

/* Decoded text of a 334 challenge for the transcript (escaped-safe,
 * allocated), or NULL when it is not base64. */
char *sasl_decode_challenge(const char *challenge, size_t len);

/*
 * Base64 helpers (sasl_b64.c, OpenSSL EVP underneath).  Encode returns an allocated
 * NUL-terminated string.  Decode returns an allocated buffer (NUL added
 * after *outlen bytes), or NULL when the input is not valid base64.
 */
char *sasl_b64_encode(const void *, size_t);
unsigned char *sasl_b64_decode(const char *, size_t, size_t *outlen);

#endif
