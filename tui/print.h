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

#include "core/hexdump.h"
#include "protocol/session.h"

struct buf;

struct print_opts {
	int json; /* JSON Lines instead of text */
	int timing; /* seconds since the start before each line; the last
	             * line of a reply also shows its round trip */
	const struct smtp_session *session; /* for the round trip */
	struct hexdump hexdump; /* --hexdump: offsets of this connection */
};

/* Prints one event (STAGE and STARTTLS events print nothing). */
void print_event(const struct print_opts *, const struct smtp_event *);

/*
 * Prints what the wire tap saw (--hexdump, tui/host.c) as core/hexdump.h
 * lines ("C> ", "S< "), a handshake as one "*: " line, through the
 * output gate like the dialogue, with the time under --timing.
 */
void print_wire(struct print_opts *, const struct smtp_wire *);
/*
 * The lines of a wire chunk (or a handshake's note) appended to b, as
 * print_wire, the workbench and `ehlo show --hexdump` show them.
 */
void print_wire_lines(
    struct hexdump *, struct buf *b, const struct smtp_wire *);

/* Prints prefix and the escaped text p[0..n) as one line. */
void print_text(const struct print_opts *, uint64_t t_us, const char *prefix,
    const char *p, size_t n);

/*
 * JSON output (tui/print_json.c): one shape per kind of object, as
 * docs/schema.json documents them.  Every top-level object has
 * "schema": PRINT_JSON_SCHEMA and a "type"; times are RFC 3339 UTC with
 * milliseconds; absent values are null.
 */
#define PRINT_JSON_SCHEMA 1

/* A new top-level object {"schema": 1, "type": type}. */
json_t *print_json_object(const char *type);
/* Writes obj as one compact line (adding "schema" when it has none)
 * through the output gate and drops the reference. */
void print_json_put(json_t *obj);
/* An escaped JSON string for untrusted bytes. */
json_t *print_json_text(const char *p, size_t n);
/* print_json_text of s, or null when s is NULL or "". */
json_t *print_json_str(const char *s);
/* Unix seconds (or milliseconds) as "2026-12-07T15:45:24.000Z"; null
 * for 0 (not known). */
json_t *print_json_time(int64_t unix_seconds);
json_t *print_json_time_ms(int64_t unix_ms);
/* Lines of text ("a\nb") as an array of escaped strings. */
json_t *print_json_lines(const char *text);

struct smtp_tls_info;
struct smtp_tls_cert;
/*
 * A certificate: subject, issuer, san (array), not_before, not_after
 * (RFC 3339), days_left, key {type, bits}, sig_alg.  The one place its
 * shape is made: add a field here and in docs/schema.json.
 */
json_t *print_json_cert(const struct smtp_tls_cert *);
/*
 * The TLS details of a connection: version, cipher, group, sni, alpn,
 * verified, verify_skipped, verify_error, ocsp, ocsp_detail, chain (an
 * array of certificates, leaf first).
 */
json_t *print_json_tls(const struct smtp_tls_info *);
/*
 * Adds to o (the TLS details as the history stores them, tui/record.c)
 * (its "chain" already there) what print_json_tls_stored gives back
 * beyond version, cipher, certificates and verification: each
 * certificate's sha256 and spki_sha256, the level (opportunistic),
 * refused, the handshake's sig_alg and peer_key, resumed and --dane's
 * records.
 */
void print_json_tls_keep(json_t *o, const struct smtp_tls_info *ti);
/* The same shape from TLS details as the history stored them (older
 * rows included); null when text is NULL or not JSON. */
json_t *print_json_tls_stored(const char *text);

/* One event of a dialogue, live or recorded; zero/NULL fields (and -1
 * for latency_us, redacted, content) come out as null. */
struct print_json_ev {
	uint64_t t_us; /* since the session started */
	const char *type; /* sent, line, reply, note, warning, failure,
	                   * closed */
	char dir; /* 'C', 'S', '*', or 0 */
	const char *text; /* untrusted bytes, escaped on output */
	size_t len;
	int64_t seq; /* recorded events: position in the session */
	const char *stage;
	int64_t txn, group, code, lines;
	const char *enhanced;
	int64_t latency_us;
	const char *category; /* failures: network, tls, timeout, ... */
	int redacted, content; /* recorded events: 1/0; live: -1 */
};
/* Clears *e: every field absent. */
void print_json_ev_init(struct print_json_ev *e);
/* The event as a JSON object (not top-level: no schema). */
json_t *print_json_event(const struct print_json_ev *e);
/*
 * The end of `ehlo run` or `ehlo send`: {"type": "summary", "exit":
 * status} with failed_replies, capabilities, tls, delivered,
 * message_id, size, accepted and refused null for the caller to set.
 */
json_t *print_json_summary(int status);

#endif
