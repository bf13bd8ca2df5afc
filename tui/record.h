/*
 * The history recorder: an observer of one SMTP session that writes it
 * into the history store as it happens (DESIGN.md section 6).  It maps
 * session events onto history/ calls: client, server and note lines, reply facts on the
 * last line of each reply, capabilities after EHLO, TLS details after
 * the handshake, message content as a summary (the first lines as rows,
 * the whole content kept only when small), /body files as path, size
 * and SHA-256, and the exit status at the end.
 *
 * A history failure never stops the session: the first one prints
 * "ehlo: history disabled: REASON" on stderr and recording stops.
 */
#ifndef EHLO_TUI_RECORD_H
#define EHLO_TUI_RECORD_H

#include <stdint.h>

#include "protocol/client.h"
#include "protocol/session.h"

struct hist;
struct record; /* opaque */

/* Content lines after DATA kept as dialogue rows; the rest is counted. */
#define RECORD_CONTENT_ROWS 20

/*
 * Opens the history database (db: --db or NULL for EHLO_DB / the XDG
 * default) for recording.  Returns NULL when no_history is set, or
 * after printing "ehlo: history disabled: REASON" when it cannot be
 * opened; every record_* function accepts NULL and does nothing.
 * With spool set (a process that records and exits: `ehlo run`,
 * `ehlo send`), a healthy database is not opened: the session goes to
 * a spool file beside it, which the next process to open the database
 * imports (hist_sink_spool); record_session_id is then 0.
 */
struct record *record_open(const char *db, int no_history, int spool);

/*
 * Records into an already open database (tests, the workbench); the
 * handle stays the caller's.
 */
struct record *record_new(struct hist *);

/* Frees (does not end the session: call record_end first).  NULL: no-op. */
void record_free(struct record *);

/*
 * Starts the session row: host and port as connected, tls_mode "plain",
 * "starttls" or "tls", replay_of the original's id or 0.
 */
void record_begin(struct record *, const char *host, int port,
    const char *tls_mode, int64_t replay_of);

/*
 * Where capabilities and TLS details come from; client may be NULL (no
 * TLS details then).  Call before the first event.
 */
void record_attach(
    struct record *, struct smtp_session *, struct smtp_client *);

/* The observer: call from the session callback, before showing ev. */
void record_event(struct record *, const struct smtp_event *ev);

/*
 * The file /body is about to stream: stored as path, size and SHA-256
 * with the summary line the session emits when the body ends.
 */
void record_body_file(struct record *, const char *path);

/* A "*:" line the front end printed itself (a script error). */
void record_error(struct record *, const char *text);

/*
 * Writes the queued rows and commits what was recorded since the last
 * call (one transaction per event-loop turn).  Call in the loop's before-sleep
 * hook before the turn's output is flushed or drawn, and before any
 * other fflush(stdout), so nothing is shown that is not yet in the
 * database.  NULL: no-op.
 */
void record_flush(struct record *);

/*
 * The events are printed on stdout through the output gate
 * (tui/outgate.h: line mode, print.c): from each row taken until the
 * commit that makes it durable (record_flush, or record_flush_due
 * returning 0), the gate is closed and the printed lines wait; the
 * commit opens it.  So no line reaches stdio before its row is durable,
 * whatever stdio's buffering, and rows are still committed once per
 * batch, not per line.
 */
void record_watch_stdout(struct record *);

/* How long line mode may hold rows (and the output showing them). */
#define RECORD_BATCH_MS 10

struct loop;

/*
 * For line mode's before-sleep hook, instead of record_flush, after the
 * turn's commands were sent: writes the turn's queued rows, commits
 * when the oldest uncommitted row is RECORD_BATCH_MS old and returns 0
 * (flush the output now); otherwise makes sure loop wakes up by then
 * and returns 1: hold the output back, it shows rows not yet committed.
 * So a fast session costs a commit per RECORD_BATCH_MS, not per turn,
 * and its lines appear at most that much later.  0 when nothing waits
 * (or r is NULL).
 */
int record_flush_due(struct record *, struct loop *);

/* Ends the session with its exit status (and commits). */
void record_end(struct record *, int exit_status);

/* The session's id, or 0 when nothing is recorded. */
int64_t record_session_id(const struct record *);

/*
 * --no-content: the envelope and the replies are recorded, the message
 * content is not (no content rows, no body content or preview; its
 * size and line count are).  Before the first message.
 */
void record_no_content(struct record *, int on);

#endif
