/*
 * Where a recorder writes sessions: one set of operations, two
 * implementations.
 *
 * - hist_sink_store: straight into an open database (the workbench,
 *   and any process whose database is not healthy and current);
 * - hist_sink_spool: into a spool file beside the database, for a
 *   process that records one or a few sessions and exits (`ehlo run`,
 *   `ehlo send`): a file create and a write per batch instead of
 *   opening, writing and checkpointing SQLite.  The next hist_open
 *   that may write imports the file (hist_spool_import.c), numbering
 *   its sessions then.
 *
 * The operations mean the same on both: a session begins, gets its
 * facts (capabilities, TLS details), events and bodies, and ends;
 * writes join a batch opened by hist_sink_tx_begin and are durable (in
 * the WAL, or in the spool file: in the kernel either way) when
 * hist_sink_tx_commit returns, so a recorder commits before it shows
 * what it recorded.  Outside a batch each write is durable when it
 * returns.  Errors: -1 with *errstr allocated, as in history.h.
 */
#ifndef EHLO_HISTORY_HIST_SINK_H
#define EHLO_HISTORY_HIST_SINK_H

#include <stdint.h>

#include "history/history.h"

struct hist_sink; /* opaque */

/*
 * A sink writing into h, which stays the caller's (close the sink
 * first).  Never fails.
 */
struct hist_sink *hist_sink_store(struct hist *h);

/*
 * A sink writing into a new spool file beside the database at path.
 * Returns NULL with *errstr NULL when the database does not look
 * healthy and current from its header (missing, damaged, older or
 * newer schema, not writable) or the spool directory cannot be used:
 * the caller then opens the database (hist_open creates, migrates or
 * says what is wrong) and uses hist_sink_store.
 */
struct hist_sink *hist_sink_spool(const char *path, char **errstr);

/*
 * Writes what waits and frees the sink.  A spool sink that finds many
 * spool files waiting (64) imports them all, its own included.
 * Returns what went wrong or was noticed (allocated, for the user), or
 * NULL.  NULL is a no-op.
 */
char *hist_sink_close(struct hist_sink *);

/*
 * The spool file a spool sink writes, else NULL.  A spool sink's
 * session ids are local (1, 2, ... in the file) until imported.
 */
const char *hist_sink_spool_file(const struct hist_sink *);

/* ---- the operations ------------------------------------------------ */

/* As hist_session_begin: returns the session's id (> 0) or -1. */
int64_t hist_sink_begin(struct hist_sink *, const char *server, int port,
    const char *tls_mode, int64_t replay_of, char **errstr);

/* As hist_session_set_caps and its siblings (enum hist_fact). */
int hist_sink_set(struct hist_sink *, int64_t id, enum hist_fact what,
    const char *value, char **errstr);

/* As hist_session_event: returns ev->seq or -1. */
int64_t hist_sink_event(
    struct hist_sink *, int64_t id, const struct hist_event *, char **errstr);

/* As hist_event_set_reply. */
int hist_sink_reply(struct hist_sink *, int64_t id, int64_t seq,
    const char *stage, int code, const char *enhanced, int stage_no,
    int64_t latency_us, char **errstr);

/* As hist_body_add. */
int hist_sink_body(
    struct hist_sink *, int64_t id, const struct hist_body *, char **errstr);

/* As hist_session_end. */
int hist_sink_end(
    struct hist_sink *, int64_t id, int exit_status, char **errstr);

/*
 * As hist_server_had_starttls, over the database and (for a spool
 * sink) the sessions still in the spool, this process's own below
 * before_session; a spooled session's *id is 0 (not numbered yet).
 */
int hist_sink_had_starttls(struct hist_sink *, const char *server, int port,
    int64_t before_session, int64_t *id, int64_t *started, char **errstr);

/* As hist_tx_begin, hist_tx_commit and hist_tx_is_open. */
int hist_sink_tx_begin(struct hist_sink *, char **errstr);
int hist_sink_tx_commit(struct hist_sink *, char **errstr);
int hist_sink_tx_is_open(struct hist_sink *);

#endif
