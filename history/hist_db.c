/*
 * The open database's shared machinery: the statement cache, error
 * messages that say what to do, the batch transaction a recorder
 * commits once per loop turn, bringing the search index up, closing,
 * and the handle's accessors.  Opening and the schema are hist_open.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xmalloc.h"
#include "history/hist_db.h"
#include "history/history.h"

const char *
hist_sqlite_version(void)
{
	return sqlite3_libversion();
}

/* ---- errors and helpers ------------------------------------------- */

static const char *
advice(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "another program holds a lock on it; close the "
		       "other ehlo (or sqlite3) or use --db PATH";
	case SQLITE_READONLY:
		return "it is read-only; fix its permissions (and its "
		       "directory's), or use --db PATH";
	case SQLITE_FULL:
		return "the disk is full; free some space";
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return "it is not an SQLite database or it is damaged; "
		       "ehlo left it untouched: move it aside to start a "
		       "new history, or use --db PATH";
	case SQLITE_CANTOPEN:
		return "check that the file and its directory exist and "
		       "are writable, or use --db PATH";
	case SQLITE_IOERR:
		return "an input/output error: check the disk";
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return "permission denied; check the file's permissions";
	default:
		return "use --db PATH for another database or "
		       "--no-history";
	}
}

char *
hist_errmsg_rc(const char *path, int rc, const char *what, const char *detail)
{
	return xasprintf("history database %s: %s failed: %s; %s", path, what,
	    detail != NULL ? detail : sqlite3_errstr(rc), advice(rc));
}

/*
 * SQLite calls a full disk or a read-only mount "disk I/O error" when
 * it meets them in a write of the WAL or its index; the operating
 * system's errno says which, and the message names it (issue 21 item
 * 8).  NULL for any other error.
 */
static char *
errmsg_sys(const char *path, int sys, const char *what)
{
	if (sys == ENOSPC || sys == EDQUOT)
		return xasprintf("history database %s: %s failed: the disk is "
		                 "full (%s); free some space, or use --db "
		                 "PATH on another disk",
		    path, what, strerror(sys));
	if (sys == EROFS)
		return xasprintf("history database %s: %s failed: its file "
		                 "system is mounted read-only; `ehlo history` "
		                 "and `ehlo show` can still read it: use --db "
		                 "PATH to record elsewhere",
		    path, what);
	return NULL;
}

char *
hist_errmsg(struct hist *h, const char *what)
{
	int rc = sqlite3_extended_errcode(h->db);
	char *m = NULL;

	if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL ||
	    (rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY)
		m = errmsg_sys(h->path, sqlite3_system_errno(h->db), what);
	return m != NULL
	    ? m
	    : hist_errmsg_rc(h->path, rc, what, sqlite3_errmsg(h->db));
}

char *
hist_errmsg_errno(const char *path, int sys, const char *what)
{
	return errmsg_sys(path, sys, what);
}

sqlite3_stmt *
hist_stmt(struct hist *h, enum hist_st slot, const char *sql, char **errstr)
{
	sqlite3_stmt *st = h->st[slot];

	if (st != NULL) {
		(void)sqlite3_reset(st);
		(void)sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	        NULL) != SQLITE_OK) {
		*errstr = hist_errmsg(h, "preparing a statement");
		return NULL;
	}
	h->st[slot] = st;
	return st;
}

sqlite3_stmt *
hist_row(struct hist *h, enum hist_st slot, const char *sql, int64_t k1,
    int64_t k2, const char *what, char **errstr)
{
	sqlite3_stmt *st;
	int rc;

	*errstr = NULL;
	if ((st = hist_stmt(h, slot, sql, errstr)) == NULL)
		return NULL;
	(void)sqlite3_bind_int64(st, 1, k1);
	if (k2 >= 0)
		(void)sqlite3_bind_int64(st, 2, k2);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return st;
	if (rc != SQLITE_DONE)
		*errstr = hist_errmsg(h, what);
	(void)sqlite3_reset(st);
	return NULL;
}

int
hist_bind_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

char *
hist_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *p;
	char *s;
	int n;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_text(st, i);
	n = sqlite3_column_bytes(st, i);
	s = xmalloc((size_t)n + 1);
	if (n > 0)
		memcpy(s, p, (size_t)n);
	s[n] = '\0';
	return s;
}

int
hist_step_done(
    struct hist *h, sqlite3_stmt *st, const char *what, char **errstr)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		*errstr = hist_errmsg(h, what);
		(void)sqlite3_reset(st);
		return -1;
	}
	(void)sqlite3_reset(st);
	return 0;
}

int
hist_exec(struct hist *h, const char *sql, const char *what, char **errstr)
{
	if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		*errstr = hist_errmsg(h, what);
		return -1;
	}
	return 0;
}

int
hist_query_int(
    struct hist *h, const char *sql, int *out, const char *what, char **errstr)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
		*errstr = hist_errmsg(h, what);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		*errstr = hist_errmsg(h, what);
		(void)sqlite3_finalize(st);
		return -1;
	}
	*out = sqlite3_column_int(st, 0);
	(void)sqlite3_finalize(st);
	return 0;
}

int64_t
hist_now(const struct hist *h)
{
	return h->now != 0 ? h->now : (int64_t)time(NULL);
}

int
hist_tx_begin(struct hist *h, char **errstr)
{
	if (!sqlite3_get_autocommit(h->db))
		return 0;
	return hist_exec(h, "BEGIN IMMEDIATE", "starting to record", errstr);
}

int
hist_tx_commit(struct hist *h, char **errstr)
{
	if (sqlite3_get_autocommit(h->db))
		return 0;
	if (hist_exec(h, "COMMIT", "recording", errstr) == -1) {
		(void)sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

int
hist_tx_is_open(struct hist *h)
{
	return !sqlite3_get_autocommit(h->db);
}

int
hist_fts_catch_up(struct hist *h, char **errstr)
{
	int behind;

	if (h->readonly)
		return 0;
	/* Usually nothing to do when opening: no write then. */
	if (hist_query_int(h,
	        "SELECT (SELECT last_event_id FROM fts_state) < "
	        "(SELECT coalesce(max(id), 0) FROM events)",
	        &behind, "reading the search index state", errstr) == -1)
		return -1;
	if (!behind)
		return hist_tx_commit(h, errstr);
	/*
	 * Joins an open batch: one commit for the rows and their index.  A
	 * failure undoes the indexing only (the rows were shown: kept).
	 */
	if (sqlite3_get_autocommit(h->db) &&
	    hist_exec(h, "BEGIN IMMEDIATE", "updating the search index",
	        errstr) == -1)
		return -1;
	if (hist_exec(h,
	        "SAVEPOINT fts;"
	        "INSERT INTO events_fts(rowid, text) SELECT id, text FROM "
	        "events WHERE id > (SELECT last_event_id FROM fts_state) "
	        "ORDER BY id;"
	        "UPDATE fts_state SET last_event_id = (SELECT "
	        "coalesce(max(id), 0) FROM events);"
	        "RELEASE fts",
	        "updating the search index", errstr) == -1) {
		char *e2 = NULL;

		(void)sqlite3_exec(
		    h->db, "ROLLBACK TO fts; RELEASE fts", NULL, NULL, NULL);
		if (hist_tx_commit(h, &e2) == -1)
			free(e2);
		return -1;
	}
	return hist_tx_commit(h, errstr);
}

void
hist_warn(struct hist *h, char *msg)
{
	char *w;

	if (h->warnings == NULL) {
		h->warnings = msg;
		return;
	}
	w = xasprintf("%s\n%s", h->warnings, msg);
	free(h->warnings);
	free(msg);
	h->warnings = w;
}

void
hist_close(struct hist *h)
{
	size_t i;

	if (h == NULL)
		return;
	/* A batch still open holds rows already shown: keep them. */
	if (!sqlite3_get_autocommit(h->db) &&
	    sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		(void)sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	for (i = 0; i < HIST_ST_COUNT; i++)
		(void)sqlite3_finalize(h->st[i]);
	(void)sqlite3_close(h->db);
	free(h->warnings);
	free(h->path);
	free(h);
}

int
hist_schema_version(struct hist *h)
{
	char *err = NULL;
	int v;

	if (hist_query_int(h, "PRAGMA user_version", &v, "reading", &err) ==
	    -1) {
		free(err);
		return -1;
	}
	return v;
}

const char *
hist_warnings(const struct hist *h)
{
	return h->warnings;
}

int
hist_is_readonly(const struct hist *h)
{
	return h->readonly;
}

const char *
hist_path(const struct hist *h)
{
	return h->path;
}
