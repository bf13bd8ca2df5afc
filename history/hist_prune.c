/*
 * History housekeeping: deleting sessions one by one (`ehlo history rm`)
 * or by age (`ehlo history prune`, and a retention setting), with their
 * dialogue, message bodies and search index entries; a replay of a
 * deleted session keeps its own record (its replay_of is cleared).
 * After a prune that freed more than a quarter of the file, VACUUM
 * gives the space back to the file system.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "core/xmalloc.h"
#include "history/hist_db.h"
#include "history/history.h"

#define IN_SESSIONS " IN (SELECT id FROM sessions WHERE "

/* Statements around a WHERE clause on sessions with ?1 (fixed text). */
struct around {
	const char *pre, *post;
};

static const struct around del_sql[] = {
    {"UPDATE sessions SET replay_of = NULL WHERE replay_of" IN_SESSIONS, ")"},
    {"DELETE FROM bodies WHERE session_id" IN_SESSIONS, ")"},
    {"DELETE FROM events WHERE session_id" IN_SESSIONS, ")"},
    {"DELETE FROM sessions WHERE ", ""},
};

/* Runs pre where post binding ?1 = v; *count gets a COUNT. */
static int
run(struct hist *h, struct around a, const char *where, int64_t v,
    int64_t *count, const char *what, char **errstr)
{
	char *sql = xasprintf("%s%s%s", a.pre, where, a.post);
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(h->db, sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		*errstr = hist_errmsg(h, what);
		return -1;
	}
	(void)sqlite3_bind_int64(st, 1, v);
	rc = sqlite3_step(st);
	if (count != NULL && rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*errstr = hist_errmsg(h, what);
		(void)sqlite3_finalize(st);
		return -1;
	}
	(void)sqlite3_finalize(st);
	return 0;
}

static int
count_where(struct hist *h, const char *where, int64_t v,
    struct hist_prune_count *c, char **errstr)
{
	const char *what = "counting the sessions to delete";

	static const struct around n_sessions = {
	    "SELECT count(*) FROM sessions WHERE ", ""};
	static const struct around n_events = {
	    "SELECT count(*) FROM events WHERE session_id" IN_SESSIONS, ")"};
	static const struct around n_bodies = {
	    "SELECT count(*) FROM bodies WHERE session_id" IN_SESSIONS, ")"};

	if (run(h, n_sessions, where, v, &c->sessions, what, errstr) == -1 ||
	    run(h, n_events, where, v, &c->events, what, errstr) == -1 ||
	    run(h, n_bodies, where, v, &c->bodies, what, errstr) == -1)
		return -1;
	return 0;
}

static int
delete_where(struct hist *h, const char *where, int64_t v, char **errstr)
{
	const char *what = "deleting sessions";
	size_t i;

	if (h->readonly) {
		*errstr = xasprintf(
		    "%s is open read-only: nothing was deleted", h->path);
		return -1;
	}
	if (hist_tx_commit(h, errstr) == -1 ||
	    hist_exec(h, "BEGIN IMMEDIATE", what, errstr) == -1)
		return -1;
	for (i = 0; i < sizeof del_sql / sizeof del_sql[0]; i++)
		if (run(h, del_sql[i], where, v, NULL, what, errstr) == -1) {
			(void)sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	return hist_exec(h, "COMMIT", what, errstr);
}

int
hist_session_delete(struct hist *h, int64_t id, char **errstr)
{
	struct hist_prune_count c;

	memset(&c, 0, sizeof c);
	if (count_where(h, "id = ?1", id, &c, errstr) == -1)
		return -1;
	if (c.sessions == 0)
		return 1;
	return delete_where(h, "id = ?1", id, errstr);
}

/* VACUUM when more than a quarter of the file is free pages. */
static int
vacuum_if_large(struct hist *h, int *vacuumed, char **errstr)
{
	int free_pages, pages;

	if (hist_query_int(h, "PRAGMA freelist_count", &free_pages,
	        "reading the free space", errstr) == -1 ||
	    hist_query_int(h, "PRAGMA page_count", &pages,
	        "reading the free space", errstr) == -1)
		return -1;
	if (free_pages * 4 <= pages)
		return 0;
	if (hist_exec(h, "VACUUM", "compacting the database", errstr) == -1 ||
	    hist_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)",
	        "compacting the database", errstr) == -1)
		return -1;
	if (vacuumed != NULL)
		*vacuumed = 1;
	return 0;
}

int
hist_prune(struct hist *h, int64_t older_than_seconds, int dry_run,
    struct hist_prune_count *count, char **errstr)
{
	struct hist_prune_count c;
	int64_t cutoff = hist_now(h) - older_than_seconds;
	const char *where = "started < ?1";

	if (count == NULL)
		count = &c;
	count->sessions = count->events = count->bodies = 0;
	count->cutoff = cutoff;
	count->vacuumed = 0;
	if (older_than_seconds < 0) {
		*errstr = xstrdup("a negative age for pruning");
		return -1;
	}
	if (count_where(h, where, cutoff, count, errstr) == -1)
		return -1;
	if (dry_run || count->sessions == 0)
		return 0;
	if (delete_where(h, where, cutoff, errstr) == -1)
		return -1;
	return vacuum_if_large(h, &count->vacuumed, errstr);
}
