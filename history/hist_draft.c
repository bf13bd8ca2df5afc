/*
 * Drafts (envelope, headers, body, attachment references; saved whole
 * on every edit, newest first) and the input line's readline history
 * (one row per line typed, read back oldest first).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xmalloc.h"
#include "history/hist_db.h"
#include "history/history.h"

static void
bind_draft(sqlite3_stmt *st, const struct hist_draft *d)
{
	(void)sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	(void)hist_bind_str(st, 2, d->env_from);
	(void)hist_bind_str(st, 3, d->env_to);
	(void)hist_bind_str(st, 4, d->headers);
	if (d->body != NULL)
		(void)sqlite3_bind_blob64(st, 5, d->body,
		    (sqlite3_uint64)d->body_len, SQLITE_TRANSIENT);
	(void)hist_bind_str(st, 6, d->attachments);
}

int64_t
hist_draft_save(struct hist *h, const struct hist_draft *d, char **errstr)
{
	sqlite3_stmt *st;

	if (d->id == 0) {
		st = hist_stmt(h, HIST_ST_DRAFT_INSERT,
		    "INSERT INTO drafts (updated, env_from, env_to, headers, "
		    "body, attachments, created) VALUES (?1, ?2, ?3, ?4, ?5, "
		    "?6, ?1)",
		    errstr);
		if (st == NULL)
			return -1;
		bind_draft(st, d);
		if (hist_step_done(h, st, "saving a draft", errstr) == -1)
			return -1;
		return sqlite3_last_insert_rowid(h->db);
	}
	st = hist_stmt(h, HIST_ST_DRAFT_UPDATE,
	    "UPDATE drafts SET updated = ?1, env_from = ?2, env_to = ?3, "
	    "headers = ?4, body = ?5, attachments = ?6 WHERE id = ?7",
	    errstr);
	if (st == NULL)
		return -1;
	bind_draft(st, d);
	(void)sqlite3_bind_int64(st, 7, d->id);
	if (hist_step_done(h, st, "saving a draft", errstr) == -1)
		return -1;
	if (sqlite3_changes(h->db) == 0) {
		*errstr = xasprintf("history database %s: there is no draft "
		                    "#%lld",
		    h->path, (long long)d->id);
		return -1;
	}
	return d->id;
}

#define DRAFT_COLS "id, updated, env_from, env_to, headers, body, attachments"

/* Fills d from a row of DRAFT_COLS; pointers into the row. */
static void
draft_from_row(sqlite3_stmt *st, struct hist_draft *d)
{
	memset(d, 0, sizeof *d);
	d->id = sqlite3_column_int64(st, 0);
	d->updated = sqlite3_column_int64(st, 1);
	d->env_from = (const char *)sqlite3_column_text(st, 2);
	d->env_to = (const char *)sqlite3_column_text(st, 3);
	d->headers = (const char *)sqlite3_column_text(st, 4);
	d->body = sqlite3_column_blob(st, 5);
	d->body_len = (size_t)sqlite3_column_bytes(st, 5);
	d->attachments = (const char *)sqlite3_column_text(st, 6);
}

struct hist_draft *
hist_draft_get(struct hist *h, int64_t id, char **errstr)
{
	struct hist_draft d, *out;
	sqlite3_stmt *st;
	char *body;

	st = hist_row(h, HIST_ST_DRAFT_GET,
	    "SELECT " DRAFT_COLS " FROM drafts WHERE id = ?1", id, -1,
	    "reading a draft", errstr);
	if (st == NULL)
		return NULL;
	draft_from_row(st, &d);
	out = xmalloc(sizeof *out);
	*out = d;
	out->env_from = hist_col_dup(st, 2);
	out->env_to = hist_col_dup(st, 3);
	out->headers = hist_col_dup(st, 4);
	body = xmalloc(d.body_len + 1);
	if (d.body_len > 0)
		memcpy(body, d.body, d.body_len);
	body[d.body_len] = '\0';
	out->body = body;
	out->attachments = hist_col_dup(st, 6);
	(void)sqlite3_reset(st);
	return out;
}

void
hist_draft_free(struct hist_draft *d)
{
	if (d == NULL)
		return;
	free((char *)d->env_from);
	free((char *)d->env_to);
	free((char *)d->headers);
	free((char *)d->body);
	free((char *)d->attachments);
	free(d);
}

long
hist_draft_list(struct hist *h, hist_draft_cb *cb, void *arg, char **errstr)
{
	struct hist_draft d;
	sqlite3_stmt *st;
	long n = 0;
	int rc;

	st = hist_stmt(h, HIST_ST_DRAFT_LIST,
	    "SELECT " DRAFT_COLS " FROM drafts ORDER BY updated DESC, id DESC",
	    errstr);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		draft_from_row(st, &d);
		n++;
		if (cb(&d, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		*errstr = hist_errmsg(h, "listing drafts");
		n = -1;
	}
	(void)sqlite3_reset(st);
	return n;
}

int
hist_draft_delete(struct hist *h, int64_t id, char **errstr)
{
	sqlite3_stmt *st;

	st = hist_stmt(
	    h, HIST_ST_DRAFT_DELETE, "DELETE FROM drafts WHERE id = ?", errstr);
	if (st == NULL)
		return -1;
	(void)sqlite3_bind_int64(st, 1, id);
	if (hist_step_done(h, st, "deleting a draft", errstr) == -1)
		return -1;
	return sqlite3_changes(h->db) == 0 ? 1 : 0;
}

/* ---- input line history -------------------------------------------- */

int
hist_input_add(struct hist *h, const char *line, char **errstr)
{
	sqlite3_stmt *st;

	st = hist_stmt(h, HIST_ST_INPUT_ADD,
	    "INSERT INTO input_history (line, at) VALUES (?, ?)", errstr);
	if (st == NULL)
		return -1;
	(void)hist_bind_str(st, 1, line);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	return hist_step_done(h, st, "saving the input history", errstr);
}

long
hist_input_list(
    struct hist *h, long limit, hist_input_cb *cb, void *arg, char **errstr)
{
	sqlite3_stmt *st;
	long n = 0;
	int rc;

	st = hist_stmt(h, HIST_ST_INPUT_LIST,
	    "SELECT line, at FROM (SELECT id, line, at FROM input_history "
	    "ORDER BY id DESC LIMIT ?) ORDER BY id",
	    errstr);
	if (st == NULL)
		return -1;
	(void)sqlite3_bind_int64(st, 1, limit < 0 ? -1 : limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);

		n++;
		if (cb(line != NULL ? line : "", sqlite3_column_int64(st, 1),
		        arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		*errstr = hist_errmsg(h, "reading the input history");
		n = -1;
	}
	(void)sqlite3_reset(st);
	return n;
}
