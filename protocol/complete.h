/*
 * Completion for the command language, with no UI: given the input line
 * and the cursor, what could come next.  Driven by the command table
 * (verbs legal in the current state first), the server's EHLO reply
 * (ESMTP parameters and AUTH mechanisms only when advertised), and lists
 * the UI supplies (addresses seen, host names, drafts, themes, lessons,
 * and the / commands of its command table with their argument kinds).
 *
 * Words are split the way the workbench configures readline: a word
 * starts after the last ' ', '\t' or '<' before the cursor.
 */
#ifndef EHLO_PROTOCOL_COMPLETE_H
#define EHLO_PROTOCOL_COMPLETE_H

#include <stddef.h>

#include "protocol/caps.h"
#include "protocol/command.h"

/* At most this many matches are returned; the rest are dropped. */
#define SMTP_COMPLETE_MAX 500
/* Candidates longer than this (bytes) are never offered. */
#define SMTP_COMPLETE_ITEM_MAX 1024

/* What the argument of a / command is, for completion. */
enum smtp_complete_arg {
	SMTP_COMPLETE_ARG_NONE = 0,
	SMTP_COMPLETE_ARG_HOST, /* ctx->hosts */
	SMTP_COMPLETE_ARG_MECH, /* AUTH mechanisms */
	SMTP_COMPLETE_ARG_FILE, /* want_files: the UI lists files */
	SMTP_COMPLETE_ARG_DRAFT, /* ctx->drafts */
	SMTP_COMPLETE_ARG_THEME, /* ctx->themes */
	SMTP_COMPLETE_ARG_LESSON, /* ctx->lessons */
	SMTP_COMPLETE_ARG_PROBE, /* ctx->probes */
	SMTP_COMPLETE_ARG_CODE, /* reply codes and classes (/expect) */
	SMTP_COMPLETE_ARG_EXPLAIN, /* reply codes and verbs (/explain) */
	SMTP_COMPLETE_ARG_XCLIENT, /* NAME= of the attributes the server's
	                            * XCLIENT keyword lists, every word */
	SMTP_COMPLETE_ARG_DRAFTCMD, /* /draft: a sub-command, then its
	                             * argument (files for attach, drafts
	                             * for open/dup/delete) */
	/* Arguments the UI cannot list: nothing is offered. */
	SMTP_COMPLETE_ARG_TEXT, /* free text (a label, a search) */
	SMTP_COMPLETE_ARG_NUMBER, /* a number (seconds, a message) */
	SMTP_COMPLETE_ARG_HISTORY, /* a saved session's id */
	SMTP_COMPLETE_ARG_COMMAND, /* a / command of ctx->slash (/help) */
};

/* A / command the UI offers where the line is typed (the UI's command
 * table, for the mode it is in). */
struct smtp_complete_slash {
	const char *name; /* "/starttls" */
	enum smtp_complete_arg arg; /* what its first argument is */
	int has_args; /* a blank follows the completed name */
};

/* A list of strings the UI provides (not owned). */
struct smtp_complete_list {
	const char *const *items;
	size_t n;
};

struct smtp_complete_ctx {
	enum smtp_state state; /* where the session is */
	const struct smtp_caps *caps; /* NULL or !valid: nothing advertised */
	struct smtp_complete_list addresses; /* for MAIL/RCPT/VRFY/EXPN */
	struct smtp_complete_list hosts; /* for EHLO/HELO */
	struct smtp_complete_list drafts; /* for /send */
	struct smtp_complete_list themes; /* for /theme */
	struct smtp_complete_list lessons; /* for /lesson */
	struct smtp_complete_list probes; /* for /probe */
	/* User names for the USER of /auth MECH USER: the practice
	 * server's accounts (built in, or listed by its HELP reply). */
	struct smtp_complete_list accounts;
	/* In SMTP_STATE_AUTH, the responses offered for the line (the
	 * UI's: a practice account's user name in base64 where AUTH LOGIN
	 * asks for the user name); nothing else completes there. */
	struct smtp_complete_list sasl;
	/* The / commands offered after "/", in this order; none: nothing
	 * completes there. */
	const struct smtp_complete_slash *slash;
	size_t nslash;
	/* The session is LMTP (RFC 2033): LHLO is offered, EHLO and HELO
	 * are not; 0: SMTP, the other way round. */
	int lmtp;
};

struct smtp_completion {
	size_t start; /* byte offset where the completed word starts */
	char **matches; /* whole words replacing line[start..cursor) */
	size_t nmatches; /* unique (any case) prefix matches, ordered */
	char append; /* after a single match: '>', ' ' or 0 for none */
	int want_files; /* the word is a file name: the UI lists files */
};

/*
 * Computes the completions for the word that ends at the cursor.  line
 * is NUL-terminated (rl_line_buffer); cursor is a byte offset into it
 * (rl_point) and is clamped to its length.  Only line[0..cursor) decides
 * the context; the rest of the line is read only to leave out ESMTP
 * parameters that are already present.  The bytes may be anything (not
 * UTF-8, control characters, any length); ctx may be NULL (nothing
 * known).
 *
 * Matching is case-insensitive and a match is the canonical spelling:
 * "mai" becomes "MAIL FROM:<" (SMTP verbs and keywords are
 * case-insensitive, and upper case is how they are taught); addresses,
 * hosts and names are offered as the UI listed them.
 *
 * Order is meaningful, so the UI must not re-sort: first word, verbs
 * legal in ctx->state (and advertised, for extensions) first, then the
 * others, each group in command-table (protocol) order; AUTH mechanisms
 * in the server's order; UI lists in the UI's order; parameters in a
 * fixed order.  Duplicates (any case) are dropped; at most
 * SMTP_COMPLETE_MAX matches.
 *
 * append is what follows a single match: ' ' where something must
 * follow (a verb that needs an argument, a / command with arguments),
 * '>' after an address inside '<', and 0 where the line may end, so no
 * trailing space is ever sent on the wire.  In SMTP_STATE_CONTENT
 * nothing completes.
 *
 * Fills *out (free with smtp_completion_free, also when nothing
 * matched).  Returns out->nmatches.
 */
size_t smtp_complete(const char *line, size_t cursor,
    const struct smtp_complete_ctx *, struct smtp_completion *out);
/* Frees the matches and zeroes *out.  Safe on a zeroed struct. */
void smtp_completion_free(struct smtp_completion *);

/*
 * Finds the mail addresses a server lists in text (len bytes of a HELP
 * reply line, untrusted; may hold anything): words of the form
 * local@domain.tld, with surrounding <>()[],;:"' stripped, printable
 * ASCII, at most 254 bytes, one '@' and a dot in the domain.  Calls
 * add(addr, n, arg) for each, in order (addr is not NUL-terminated).
 * This is how a client learns the practice server's mailboxes and
 * trigger addresses from its HELP reply, on any machine, for
 * smtp_complete_ctx.addresses.  Returns the number found.
 */
size_t smtp_complete_scan_addresses(const char *text, size_t len,
    void (*add)(const char *addr, size_t n, void *arg), void *arg);

/*
 * Finds the AUTH accounts a server lists in text (len bytes of a HELP
 * reply line, untrusted): in a line that names AUTH, the word after
 * "user" (any case), 1 to 64 of letters, digits, '.', '_' and '-', as
 * the practice server's "Account for AUTH: user alice, password ...".
 * Calls add(user, n, arg) for each (not NUL-terminated), for
 * smtp_complete_ctx.accounts.  Returns the number found.
 */
size_t smtp_complete_scan_accounts(const char *text, size_t len,
    void (*add)(const char *user, size_t n, void *arg), void *arg);

#endif
