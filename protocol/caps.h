/*
 * ESMTP capabilities from an EHLO reply (RFC 5321 4.1.1.1 and the
 * extension RFCs: 1870 SIZE, 2920 PIPELINING, 3207 STARTTLS, 4954 AUTH,
 * 6152 8BITMIME, 6531 SMTPUTF8, 3461 DSN, 2034 ENHANCEDSTATUSCODES,
 * 3030 CHUNKING/BINARYMIME).  The server text is untrusted: keywords and
 * parameters are bounded and kept only when well formed.
 */
#ifndef EHLO_PROTOCOL_CAPS_H
#define EHLO_PROTOCOL_CAPS_H

#include <stddef.h>
#include <stdint.h>

struct smtp_reply;

#define SMTP_CAP_PIPELINING 0x0001u
#define SMTP_CAP_SIZE 0x0002u
#define SMTP_CAP_8BITMIME 0x0004u
#define SMTP_CAP_SMTPUTF8 0x0008u
#define SMTP_CAP_STARTTLS 0x0010u
#define SMTP_CAP_AUTH 0x0020u
#define SMTP_CAP_ENHANCEDSTATUSCODES 0x0040u
#define SMTP_CAP_DSN 0x0080u
#define SMTP_CAP_CHUNKING 0x0100u
#define SMTP_CAP_BINARYMIME 0x0200u
#define SMTP_CAP_VRFY 0x0400u
#define SMTP_CAP_ETRN 0x0800u
#define SMTP_CAP_EXPN 0x1000u
#define SMTP_CAP_HELP 0x2000u
#define SMTP_CAP_VERB 0x4000u
#define SMTP_CAP_DELIVERBY 0x8000u
#define SMTP_CAP_REQUIRETLS 0x10000u
#define SMTP_CAP_XCLIENT 0x20000u /* Postfix XCLIENT_README */

#define SMTP_CAPS_MAX 64 /* keywords kept */
#define SMTP_CAP_KEYWORD_MAX 64
#define SMTP_CAP_PARAMS_MAX 256 /* bytes of parameters kept per keyword */
#define SMTP_AUTH_MECHS_MAX 16

struct smtp_cap {
	char keyword[SMTP_CAP_KEYWORD_MAX]; /* upper-cased */
	char params[SMTP_CAP_PARAMS_MAX]; /* as sent, escaped-safe ASCII */
};

struct smtp_caps {
	int valid; /* an EHLO reply has been parsed */
	uint32_t flags; /* SMTP_CAP_* */
	char domain[256]; /* first line: the server's name (sanitised) */
	uint64_t size_limit; /* SIZE n; 0 when absent or "no limit" */
	size_t nauth;
	char auth[SMTP_AUTH_MECHS_MAX][32]; /* upper-cased mechanism names */
	size_t ncaps;
	struct smtp_cap caps[SMTP_CAPS_MAX]; /* in the order offered */
	size_t ignored; /* malformed or excess lines dropped */
};

/* Empties the set (after STARTTLS, RFC 3207 section 4.2; on reconnect). */
void smtp_caps_reset(struct smtp_caps *);

/*
 * Fills caps from a 250 reply to EHLO (lines after the first are
 * keywords).  Replaces whatever caps held.  "AUTH=LOGIN PLAIN" (the old
 * pre-RFC form) is also understood.  Returns 0, or -1 if the reply is not
 * a 2xx (caps is then reset).
 */
int smtp_caps_parse(struct smtp_caps *, const struct smtp_reply *);

/* Returns 1 if flag (one SMTP_CAP_*) was advertised. */
int smtp_caps_has(const struct smtp_caps *, uint32_t flag);
/* Returns 1 if AUTH mechanism name (any case) was advertised. */
int smtp_caps_has_auth(const struct smtp_caps *, const char *mech);
/* The keyword entry (any case), or NULL. */
const struct smtp_cap *smtp_caps_find(
    const struct smtp_caps *, const char *keyword);
/* The SMTP_CAP_* flag for a keyword (any case), or 0. */
uint32_t smtp_caps_flag(const char *keyword);

#endif
