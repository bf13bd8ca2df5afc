/*
 * Private to history/: the open-database handle and the helpers the
 * store's files share (statement cache, error messages).  Nothing
 * outside this folder includes it.
 */
#ifndef EHLO_HISTORY_HIST_INT_H
#define EHLO_HISTORY_HIST_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "history/history.h"

/* Cached prepared statements, one slot each. */
enum hist_st {
	HIST_ST_SESSION_BEGIN,
	HIST_ST_SESSION_END,
	HIST_ST_SET_CAPS,
	HIST_ST_SET_PLAIN_CAPS,
	HIST_ST_HAD_STARTTLS,
	HIST_ST_SET_TLS,
	HIST_ST_SET_LABEL,
	HIST_ST_SET_NOTES,
	HIST_ST_SESSION_GET,
	HIST_ST_EVENT_ADD,
	HIST_ST_EVENT_REPLY,
	HIST_ST_EVENTS,
	HIST_ST_BODY_ADD,
	HIST_ST_BODY_GET,
	HIST_ST_DRAFT_INSERT,
	HIST_ST_DRAFT_UPDATE,
	HIST_ST_DRAFT_GET,
	HIST_ST_DRAFT_LIST,
	HIST_ST_DRAFT_DELETE,
	HIST_ST_INPUT_ADD,
	HIST_ST_INPUT_LIST,
	HIST_ST_SPOOL_MARK,
	HIST_ST_COUNT
};

/* The session columns hist_session_set writes. */
enum hist_set {
	HIST_SET_CAPS,
	HIST_SET_PLAIN_CAPS,
	HIST_SET_TLS,
	HIST_SET_LABEL,
	HIST_SET_NOTES
};

struct hist_spool; /* hist_spool.c */

struct hist {
	sqlite3 *db; /* NULL on a spool handle */
	char *path;
	int readonly;
	sqlite3_stmt *st[HIST_ST_COUNT];
	/* hist_open_spool: records go to a spool file, not to db. */
	struct hist_spool *spool;
	/* The time stamped on sessions (Unix seconds); 0: now. */
	int64_t now;
	/* Warnings from opening (a damaged spool file), or NULL. */
	char *warnings;
};

/* h->now, or the time now. */
int64_t hist_now(const struct hist *);

/*
 * The statement for slot, prepared from sql on first use and reset for
 * reuse.  Returns NULL with *errstr.
 */
sqlite3_stmt *hist_stmt(
    struct hist *, enum hist_st slot, const char *sql, char **errstr);

/*
 * An allocated message for the database's last error: the path, what
 * was being done, SQLite's words, and what the user can do about it.
 */
char *hist_errmsg(struct hist *, const char *what);

/* Same for an explicit result code (when no handle message applies). */
char *hist_errmsg_rc(
    const char *path, int rc, const char *what, const char *detail);

/* Binds a C string or NULL (as SQL NULL). */
int hist_bind_str(sqlite3_stmt *, int, const char *);

/* A column as an allocated C string, NULL for SQL NULL. */
char *hist_col_dup(sqlite3_stmt *, int);

/*
 * Indexes for search the events recorded since the last call (a no-op
 * on a read-only handle) and commits, an open batch (hist_tx_begin)
 * included, in one transaction.  Returns 0 or -1 with *errstr.
 */
int hist_fts_catch_up(struct hist *, char **errstr);

/*
 * The one row a cached SELECT finds for its keys (?1 = k1, and ?2 = k2
 * when k2 >= 0): the statement stands on it, to be read and then
 * sqlite3_reset.  NULL when there is no such row (*errstr NULL) or on
 * an error (*errstr says, with what).
 */
sqlite3_stmt *hist_row(struct hist *, enum hist_st slot, const char *sql,
    int64_t k1, int64_t k2, const char *what, char **errstr);

/* Steps a statement expected to be done (INSERT/UPDATE/DELETE). */
int hist_step_done(
    struct hist *, sqlite3_stmt *, const char *what, char **errstr);

/*
 * Whether a capability list (one "KEYWORD params" per line) offers
 * STARTTLS: the rule behind sessions.plain_starttls and the pins.
 */
int hist_caps_starttls(const char *caps);

/*
 * Notes in the pins (DB-starttls, hist_spool.c) that server:port
 * offered STARTTLS on a plain-text EHLO in session id (0: a spooled
 * session, not numbered yet); hist_session_set does it for
 * HIST_SET_PLAIN_CAPS.  Never fails: the pins are an index.
 */
void hist_pin_starttls(struct hist *, const char *server, int port, int64_t id);

/* A session column, by enum hist_set (plain caps also pin). */
int hist_session_set(
    struct hist *, int what, int64_t id, const char *value, char **errstr);

/* The end of a session without bringing the search index up. */
int hist_session_end_row(
    struct hist *, int64_t id, int exit_status, char **errstr);

/* Whether hist_body_add keeps the content itself. */
int hist_body_keeps(const struct hist_body *);

/*
 * hist_body_add on the database; with digest_file, a /body file's
 * SHA-256 is taken now when b has none (hist_set_file_digest).
 */
int hist_body_insert(struct hist *, int64_t id, const struct hist_body *,
    int digest_file, char **errstr);

/* ---- the spool (hist_spool.c): the hist_* functions on a spool handle */

int64_t hist_spool_begin(struct hist *, const char *server, int port,
    const char *tls_mode, int64_t replay_of, char **errstr);
int hist_spool_set(
    struct hist *, int what, int64_t id, const char *value, char **errstr);
int64_t hist_spool_event(
    struct hist *, int64_t id, const struct hist_event *, char **errstr);
int hist_spool_reply(struct hist *, int64_t id, int64_t seq, const char *stage,
    int code, const char *enhanced, int stage_no, int64_t latency_us,
    char **errstr);
int hist_spool_body(
    struct hist *, int64_t id, const struct hist_body *, char **errstr);
int hist_spool_end(struct hist *, int64_t id, int exit_status, char **errstr);
int hist_spool_had_starttls(struct hist *, const char *server, int port,
    int64_t before_session, int64_t *id, int64_t *started, char **errstr);
int hist_spool_tx_begin(struct hist *);
int hist_spool_tx_commit(struct hist *, char **errstr);
int hist_spool_tx_is_open(const struct hist *);
void hist_spool_close(struct hist *);

/* Writes DB-starttls from the database when it is missing. */
int hist_pin_build(struct hist *, char **errstr);

/*
 * Imports the spool files waiting beside the database (their writers
 * gone) into h, opened read-write; damaged files are kept and noted in
 * h->warnings, and so is a database error, which stops the import (the
 * files wait for the next open).
 */
void hist_spool_import(struct hist *);

#endif
