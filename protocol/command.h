/*
 * The SMTP command table (RFC 5321 section 4.1 and extensions) and the
 * checks made on a line before it is sent.  One table drives validation
 * warnings, /help, /explain and completion: each entry has the verb, its
 * syntax, the protocol states where it is legal, the capability it needs,
 * one line of help and the RFC section.
 */
#ifndef EHLO_PROTOCOL_COMMAND_H
#define EHLO_PROTOCOL_COMMAND_H

#include <stddef.h>
#include <stdint.h>

struct smtp_caps;

/* Where the conversation is, as far as command legality goes. */
enum smtp_state {
	SMTP_STATE_CONNECTING = 0, /* no connection yet */
	SMTP_STATE_GREETING, /* connected, waiting for the 220 */
	SMTP_STATE_GREETED, /* greeting received, no EHLO/HELO yet */
	SMTP_STATE_READY, /* after EHLO/HELO, no transaction */
	SMTP_STATE_MAIL, /* MAIL accepted, no recipient yet */
	SMTP_STATE_RCPT, /* at least one RCPT accepted */
	SMTP_STATE_CONTENT, /* after 354: lines are message content */
	SMTP_STATE_BDAT, /* inside a BDAT transaction */
	SMTP_STATE_AUTH, /* inside a SASL exchange (334 pending) */
	SMTP_STATE_TLS, /* STARTTLS accepted, handshake running */
	SMTP_STATE_CLOSED, /* connection gone */
	SMTP_STATE_COUNT
};

#define SMTP_STATE_BIT(s) (1u << (s))

/* Which kind of stage a command opens. */
enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_EHLO,
	SMTP_VERB_HELO,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VERB,
	SMTP_VERB_ETRN,
	SMTP_VERB_LHLO, /* LMTP's EHLO (RFC 2033 4.1) */
	SMTP_VERB_XCLIENT, /* Postfix XCLIENT_README */
	SMTP_VERB_COUNT
};

struct smtp_command {
	enum smtp_verb verb;
	const char *name; /* "MAIL" */
	const char *syntax; /* "MAIL FROM:<reverse-path> [SP params]" */
	const char *help; /* one line */
	const char *rfc; /* "RFC 5321 4.1.1.2" */
	uint32_t states; /* SMTP_STATE_BIT() set where it is legal */
	uint32_t cap; /* SMTP_CAP_* it needs, 0 for none */
	int arg; /* 0 none allowed, 1 required, 2 optional */
};

/* All entries, terminated by an entry with name == NULL. */
extern const struct smtp_command smtp_commands[];

/* The entry for a verb name (any case), or NULL. */
const struct smtp_command *smtp_command_find(const char *name, size_t len);
/* The entry for the first word of a command line, or NULL. */
const struct smtp_command *smtp_command_lookup(const char *line, size_t len);
/* Name of a protocol state for messages, e.g. "after MAIL". */
const char *smtp_state_name(enum smtp_state);

/* Result of checking a line. */
#define SMTP_CHECK_MAX_WARNINGS 4
struct smtp_check {
	int refused; /* 1: must not be sent (CR, LF or NUL inside) */
	const char *reason; /* why it was refused */
	size_t nwarn;
	char warn[SMTP_CHECK_MAX_WARNINGS][160]; /* rule breaks; sent anyway */
	const struct smtp_command *cmd; /* the verb's entry, or NULL */
};

/*
 * Checks an SMTP command line (without CRLF) against the table for the
 * given state and capabilities.  Fills *out.  A line with CR, LF or NUL
 * is refused; unknown verbs, out-of-order commands, missing arguments,
 * bad address syntax, unadvertised extensions and ESMTP parameters the
 * server did not advertise produce warnings only.  Lines over 512 octets
 * (RFC 5321 4.5.3.1.4) also warn.  caps may be NULL (nothing advertised).
 */
void smtp_command_check(const char *line, size_t len, enum smtp_state,
    const struct smtp_caps *, struct smtp_check *out);

#endif
