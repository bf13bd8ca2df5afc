/*
 * The knowledge base: what every SMTP reply code (RFC 5321 4.2.2-4.2.3 and
 * extension codes), every enhanced status code (RFC 3463 and the IANA
 * registry) and every command means, what usually causes it, what to do
 * next, and where real servers disagree.  Pure data plus lookups; the
 * workbench, line mode and `ehlo explain` share it.  The data is the
 * files protocol/knowledge/NAME.txt, embedded at build time; the code is
 * protocol/knowledge/explain.c and explain_load.c.
 */
#ifndef EHLO_PROTOCOL_EXPLAIN_H
#define EHLO_PROTOCOL_EXPLAIN_H

#include <stddef.h>

struct smtp_explain {
	const char *key; /* "550", "5.1.1", "X.1.1" (generic), "VRFY" */
	const char *title; /* one line: "Mailbox unavailable" */
	const char *meaning; /* what it means in general */
	const char *causes; /* what usually causes it (may be NULL) */
	const char *action; /* what to do next (may be NULL) */
	const char *servers; /* how real servers differ (may be NULL) */
	const char *rfc; /* "RFC 5321 4.2.3" */
};

/* The entry for a basic reply code (100..599), or NULL when unknown. */
const struct smtp_explain *smtp_explain_code(int code);
/*
 * The entry for an enhanced code "c.s.d": the exact entry if there is
 * one, else NULL.  Class-independent subjects are matched so "4.1.1"
 * and "5.1.1" both find their text ("X.1.1" in the registry).
 */
const struct smtp_explain *smtp_explain_enhanced(const char *code);
/* The entry for a command verb (any case), or NULL. */
const struct smtp_explain *smtp_explain_verb(const char *verb);
/* The class text of an enhanced code's first digit (2, 4, 5), or NULL. */
const struct smtp_explain *smtp_explain_class(int cls);

/*
 * Looks up a query as typed by a user ("550", "5.7.1", "vrfy", "550
 * 5.1.1", a class "5xx" or "5.x.x", a pasted reply line) and writes the
 * full explanation as plain text (lines of at most SMTP_EXPLAIN_WIDTH
 * columns) into an allocated string the caller frees.  Returns NULL
 * when nothing matches (see smtp_explain_lookup()).
 */
char *smtp_explain_text(const char *query);

/*
 * A one-line meaning of a reply to a command, for the stage pane, e.g.
 * ("RCPT", 550, "5.1.1") -> "no such mailbox at the receiving server".
 * Never NULL (falls back to the code class).  verb may be NULL.
 */
const char *smtp_explain_oneline(
    const char *verb, int code, const char *enhanced);

/* Every entry, for tests and completion: codes, enhanced codes, verbs. */
size_t smtp_explain_count(void);
const struct smtp_explain *smtp_explain_at(size_t);

/* The width smtp_explain_text() wraps to. */
#define SMTP_EXPLAIN_WIDTH 78

/* The class text of a basic reply code's first digit (2..5), or NULL. */
const struct smtp_explain *smtp_explain_reply_class(int digit);

/*
 * What kind of entry e is: "reply", "enhanced", "verb", "reply class"
 * or "enhanced class" (static strings; "?" for a foreign pointer).
 */
const char *smtp_explain_kind(const struct smtp_explain *e);

/* One thing a query matched. */
struct smtp_explain_hit {
	const struct smtp_explain *entry;
	char as[24]; /* as asked, normalised: "550", "5.1.1", "VRFY" */
	int fallback; /* 1: not registered; entry is its class */
};

/*
 * Parses a query as smtp_explain_text() does and fills out[0] (and
 * out[1] for the enhanced part of "550 5.1.1").  A reply code or
 * enhanced code that is well-formed but not registered ("571",
 * "5.7.515") matches its class with fallback set.  Text after a code
 * (a pasted reply line) and after a verb (a command line) is ignored.
 * Returns the number of hits, 0 when nothing matches.
 */
size_t smtp_explain_lookup(const char *query, struct smtp_explain_hit out[2]);

/*
 * The text of n hits (blank line between them) wrapped to width columns
 * (at least 20), in an allocated string the caller frees; NULL when n is
 * 0.  Plain ASCII, each line ends in a newline.
 */
char *smtp_explain_format(
    const struct smtp_explain_hit *hits, size_t n, size_t width);

/* smtp_explain_text() with another width, e.g. a pane's or a prefixed line's. */
char *smtp_explain_text_width(const char *query, size_t width);

#endif
