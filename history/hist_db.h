/*
 * Private to history/: the open-database handle and what the rooms
 * that use SQLite share (statement cache, error messages, the batch
 * transaction, the search index catch-up).  Nothing outside this
 * folder includes it; it depends on nothing of history/ but the
 * public header.
 */
#ifndef EHLO_HISTORY_HIST_DB_H
#define EHLO_HISTORY_HIST_DB_H

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

struct hist {
	sqlite3 *db;
	char *path;
	int readonly;
	sqlite3_stmt *st[HIST_ST_COUNT];
	/* The time stamped on sessions (Unix seconds); 0: now. */
	int64_t now;
	/* Warnings from opening (a damaged spool file), or NULL. */
	char *warnings;
};

/* h->now, or the time now. */
int64_t hist_now(const struct hist *);

/* Adds msg (allocated, taken) to h's warnings, one per line. */
void hist_warn(struct hist *, char *msg);

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

/*
 * For an operating-system error that has words of its own (a full disk,
 * a read-only file system): the message, or NULL for any other errno.
 */
char *hist_errmsg_errno(const char *path, int sys, const char *what);

/* Same for an explicit result code (when no handle message applies). */
char *hist_errmsg_rc(
    const char *path, int rc, const char *what, const char *detail);

/* Runs SQL text (several statements); -1 with *errstr. */
int hist_exec(struct hist *, const char *sql, const char *what, char **errstr);

/* An integer-returning pragma or query into *out; -1 with *errstr. */
int hist_query_int(
    struct hist *, const char *sql, int *out, const char *what, char **errstr);

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

#endif
