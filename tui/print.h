/*
 * The dialogue as line-mode text or JSON Lines on stdout: one output
 * line per session event ("C: ", "S: ", "*: " prefixes, server text
 * escaped), shared by `ehlo run` and `ehlo send`.
 */
#ifndef EHLO_TUI_PRINT_H
#define EHLO_TUI_PRINT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/session.h"

struct print_opts {
	int json; /* JSON Lines instead of text */
	int timing; /* seconds since the start before each line; the last
	             * line of a reply also shows its round trip */
	const struct smtp_session *session; /* for the round trip */
};

/* Prints one event (STAGE and STARTTLS events print nothing). */
void print_event(const struct print_opts *, const struct smtp_event *);

struct record;
/*
 * A workbench error in line-mode output: recorded first (and committed),
 * then "ehlo: MSG" on stderr and, unless json, "*: error: MSG" on stdout,
 * escaped.  rec may be NULL.
 */
void print_workbench_error(struct record *rec, int json, const char *msg);

/* Prints prefix and the escaped text p[0..n) as one line. */
void print_text(const struct print_opts *, uint64_t t_us, const char *prefix,
    const char *p, size_t n);

/* Writes obj as one compact line and drops the reference. */
void print_json_put(json_t *obj);
/* An escaped JSON string for untrusted bytes. */
json_t *print_json_text(const char *p, size_t n);

struct smtp_tls_info;
/*
 * The TLS details of a connection as a JSON object (version, cipher,
 * group, SNI, verification, OCSP, the chain), for summaries.
 */
json_t *print_json_tls(const struct smtp_tls_info *);

#endif
