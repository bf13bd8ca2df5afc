/*
 * Lesson progress (hist_lesson.h): a small table beside the sessions,
 * created on first use with CREATE TABLE IF NOT EXISTS.  One row per
 * lesson name: the best count of goals met, the goal count, the first
 * time it was passed and the last run.
 */
#include "history/hist_lesson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/xmalloc.h"
#include "history/hist_db.h"

static const char lesson_table[] =
    "CREATE TABLE IF NOT EXISTS lesson_progress ("
    " name TEXT PRIMARY KEY,"
    " goals_met INTEGER NOT NULL,"
    " goals INTEGER NOT NULL,"
    " passed_at INTEGER NOT NULL DEFAULT 0,"
    " last_at INTEGER NOT NULL)";

int
hist_lesson_record(
    struct hist *h, const char *name, int met, int goals, char **errstr)
{
	sqlite3_stmt *st;
	int64_t now = hist_now(h);
	int rc;

	if (hist_exec(h, lesson_table, "making the lesson progress table",
	        errstr) == -1)
		return -1;
	rc = sqlite3_prepare_v2(h->db,
	    "INSERT INTO lesson_progress (name, goals_met, goals, passed_at,"
	    " last_at) VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT(name) DO UPDATE SET"
	    " goals_met = max(goals_met, excluded.goals_met),"
	    " goals = excluded.goals,"
	    " passed_at = CASE WHEN passed_at = 0 THEN excluded.passed_at"
	    " ELSE passed_at END,"
	    " last_at = excluded.last_at",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		*errstr = hist_errmsg(h, "recording lesson progress");
		return -1;
	}
	(void)hist_bind_str(st, 1, name);
	(void)sqlite3_bind_int(st, 2, met);
	(void)sqlite3_bind_int(st, 3, goals);
	(void)sqlite3_bind_int64(st, 4, met == goals ? now : 0);
	(void)sqlite3_bind_int64(st, 5, now);
	rc = hist_step_done(h, st, "recording lesson progress", errstr);
	(void)sqlite3_finalize(st);
	return rc;
}

int
hist_lesson_list(
    struct hist *h, struct hist_lesson **out, size_t *n, char **errstr)
{
	sqlite3_stmt *st;
	int rc, have = 0;

	*out = NULL;
	*n = 0;
	if (hist_query_int(h,
	        "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	        " AND name = 'lesson_progress'",
	        &have, "reading lesson progress", errstr) == -1)
		return -1;
	if (!have)
		return 0;
	rc = sqlite3_prepare_v2(h->db,
	    "SELECT name, goals_met, goals, passed_at, last_at"
	    " FROM lesson_progress ORDER BY name",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		*errstr = hist_errmsg(h, "reading lesson progress");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hist_lesson *l;

		*out = xreallocarray(*out, *n + 1, sizeof **out);
		l = &(*out)[(*n)++];
		l->name = hist_col_dup(st, 0);
		if (l->name == NULL)
			l->name = xstrdup("");
		l->goals_met = sqlite3_column_int(st, 1);
		l->goals = sqlite3_column_int(st, 2);
		l->passed_at = sqlite3_column_int64(st, 3);
		l->last_at = sqlite3_column_int64(st, 4);
	}
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		hist_lesson_free(*out, *n);
		*out = NULL;
		*n = 0;
		*errstr = hist_errmsg(h, "reading lesson progress");
		return -1;
	}
	return 0;
}

void
hist_lesson_free(struct hist_lesson *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i].name);
	free(l);
}

const char *
hist_lesson_state(const struct hist_lesson *rows, size_t n, const char *name,
    size_t goals, char *buf, size_t len, int *passed)
{
	const struct hist_lesson *row = NULL;
	size_t i;

	for (i = 0; i < n && row == NULL; i++)
		if (strcmp(rows[i].name, name) == 0)
			row = &rows[i];
	if (passed != NULL)
		*passed = row != NULL && row->passed_at != 0;
	if (row != NULL && row->passed_at != 0)
		(void)snprintf(buf, len, "done");
	else if (row != NULL)
		(void)snprintf(buf, len, "%d/%zu goals", row->goals_met, goals);
	else
		(void)snprintf(buf, len, "not done");
	return buf;
}
