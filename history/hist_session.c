/*
 * Recorded sessions: the sessions row, its dialogue events (one row
 * per line, appended as they happen, each in its own autocommit
 * transaction so a crash loses nothing already written), the reply
 * facts set on the last line of each reply, and message bodies (a
 * summary, plus the content only when small).  Listing with search goes
 * through the FTS5 tables: labels and notes are indexed by triggers,
 * dialogue rows in batches (hist_fts_catch_up, hist_db.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "history/hist_db.h"
#include "history/hist_pin.h"
#include "history/hist_session.h"
#include "history/history.h"

#define SESSION_COLS                                                           \
	"s.id, s.started, s.ended, s.server, s.port, s.tls_mode, s.tls, "      \
	"s.caps, s.exit_status, s.label, s.notes, s.replay_of, "               \
	"(SELECT count(*) FROM events e WHERE e.session_id = s.id), "          \
	"(SELECT max(t_us) FROM events e WHERE e.session_id = s.id)"

int64_t
hist_session_begin(struct hist *h, const char *server, int port,
    const char *tls_mode, int64_t replay_of, char **errstr)
{
	sqlite3_stmt *st;

	st = hist_stmt(h, HIST_ST_SESSION_BEGIN,
	    "INSERT INTO sessions (started, server, port, tls_mode, "
	    "replay_of) VALUES (?, ?, ?, ?, ?)",
	    errstr);
	if (st == NULL)
		return -1;
	(void)sqlite3_bind_int64(st, 1, hist_now(h));
	(void)hist_bind_str(st, 2, server);
	(void)sqlite3_bind_int(st, 3, port);
	(void)hist_bind_str(st, 4, tls_mode);
	if (replay_of > 0)
		(void)sqlite3_bind_int64(st, 5, replay_of);
	if (hist_step_done(h, st, "recording a new session", errstr) == -1)
		return -1;
	return sqlite3_last_insert_rowid(h->db);
}

int
hist_session_set(struct hist *h, enum hist_fact what, int64_t id,
    const char *value, char **errstr)
{
	/* ?1 the value, ?2 the session. */
	static const struct {
		enum hist_st slot;
		const char *sql, *what;
	} set[] = {
	    [HIST_FACT_CAPS] = {HIST_ST_SET_CAPS,
	        "UPDATE sessions SET caps = ?1 WHERE id = ?2",
	        "recording capabilities"},
	    /* ?3: 1 when the value offers STARTTLS, else NULL. */
	    [HIST_FACT_PLAIN_CAPS] = {HIST_ST_SET_PLAIN_CAPS,
	        "UPDATE sessions SET plain_caps = ?1, plain_starttls = ?3 "
	        "WHERE id = ?2 RETURNING server, port",
	        "recording capabilities"},
	    [HIST_FACT_TLS] = {HIST_ST_SET_TLS,
	        "UPDATE sessions SET tls = ?1 WHERE id = ?2",
	        "recording TLS details"},
	    [HIST_FACT_LABEL] = {HIST_ST_SET_LABEL,
	        "UPDATE sessions SET label = ?1 WHERE id = ?2",
	        "saving the label"},
	    [HIST_FACT_NOTES] = {HIST_ST_SET_NOTES,
	        "UPDATE sessions SET notes = ?1 WHERE id = ?2",
	        "saving the notes"},
	};
	sqlite3_stmt *st;
	int starttls;

	st = hist_stmt(h, set[what].slot, set[what].sql, errstr);
	if (st == NULL)
		return -1;
	(void)hist_bind_str(st, 1, value);
	(void)sqlite3_bind_int64(st, 2, id);
	starttls = what == HIST_FACT_PLAIN_CAPS && value != NULL &&
	    hist_caps_starttls(value);
	if (starttls)
		(void)sqlite3_bind_int(st, 3, 1);
	if (starttls && sqlite3_step(st) == SQLITE_ROW) {
		/* The pins a spooled session's downgrade check reads. */
		char *server = hist_col_dup(st, 0);

		(void)hist_pin_starttls(h->path, hist_now(h), server,
		    sqlite3_column_int(st, 1), id);
		free(server);
	}
	if (hist_step_done(h, st, set[what].what, errstr) == -1)
		return -1;
	if (sqlite3_changes(h->db) == 0) {
		*errstr = xasprintf("history database %s: there is no session "
		                    "#%lld",
		    h->path, (long long)id);
		return -1;
	}
	return 0;
}

int
hist_session_set_caps(struct hist *h, int64_t id, const char *v, char **e)
{
	return hist_session_set(h, HIST_FACT_CAPS, id, v, e);
}

int
hist_session_set_plain_caps(struct hist *h, int64_t id, const char *v, char **e)
{
	return hist_session_set(h, HIST_FACT_PLAIN_CAPS, id, v, e);
}

int
hist_session_set_tls(struct hist *h, int64_t id, const char *v, char **e)
{
	return hist_session_set(h, HIST_FACT_TLS, id, v, e);
}

int
hist_session_set_label(struct hist *h, int64_t id, const char *v, char **e)
{
	return hist_session_set(h, HIST_FACT_LABEL, id, v, e);
}

int
hist_session_set_notes(struct hist *h, int64_t id, const char *v, char **e)
{
	return hist_session_set(h, HIST_FACT_NOTES, id, v, e);
}

int
hist_server_had_starttls(struct hist *h, const char *server, int port,
    int64_t before_session, int64_t *id, int64_t *started, char **errstr)
{
	sqlite3_stmt *st;
	int rc;

	/* The partial index sessions_starttls: newest first, one row read. */
	st = hist_stmt(h, HIST_ST_HAD_STARTTLS,
	    "SELECT id, started FROM sessions INDEXED BY sessions_starttls"
	    " WHERE server = ?1 AND port = ?2 AND plain_starttls = 1"
	    " AND (?3 <= 0 OR id < ?3) ORDER BY id DESC LIMIT 1",
	    errstr);
	if (st == NULL)
		return -1;
	(void)hist_bind_str(st, 1, server);
	(void)sqlite3_bind_int(st, 2, port);
	(void)sqlite3_bind_int64(st, 3, before_session);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (id != NULL)
			*id = sqlite3_column_int64(st, 0);
		if (started != NULL)
			*started = sqlite3_column_int64(st, 1);
		(void)sqlite3_reset(st);
		return 1;
	}
	if (rc == SQLITE_DONE) {
		(void)sqlite3_reset(st);
		return 0;
	}
	*errstr = hist_errmsg(h, "looking up earlier sessions");
	(void)sqlite3_reset(st);
	return -1;
}

int
hist_session_end_row(struct hist *h, int64_t id, int exit_status, char **errstr)
{
	sqlite3_stmt *st;

	st = hist_stmt(h, HIST_ST_SESSION_END,
	    "UPDATE sessions SET ended = ?, exit_status = ? WHERE id = ?",
	    errstr);
	if (st == NULL)
		return -1;
	(void)sqlite3_bind_int64(st, 1, hist_now(h));
	(void)sqlite3_bind_int(st, 2, exit_status);
	(void)sqlite3_bind_int64(st, 3, id);
	return hist_step_done(h, st, "recording the end of a session", errstr);
}

int
hist_session_end(struct hist *h, int64_t id, int exit_status, char **errstr)
{
	if (hist_session_end_row(h, id, exit_status, errstr) == -1)
		return -1;
	return hist_fts_catch_up(h, errstr);
}

/* Fills s from a row of SESSION_COLS; strings point into the row. */
static void
session_from_row(sqlite3_stmt *st, struct hist_session *s)
{
	memset(s, 0, sizeof *s);
	s->id = sqlite3_column_int64(st, 0);
	s->started = sqlite3_column_int64(st, 1);
	s->ended = sqlite3_column_int64(st, 2);
	s->server = (const char *)sqlite3_column_text(st, 3);
	s->port = sqlite3_column_int(st, 4);
	s->tls_mode = (const char *)sqlite3_column_text(st, 5);
	s->tls = (const char *)sqlite3_column_text(st, 6);
	s->caps = (const char *)sqlite3_column_text(st, 7);
	s->exit_status = sqlite3_column_type(st, 8) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int(st, 8);
	s->label = (const char *)sqlite3_column_text(st, 9);
	s->notes = (const char *)sqlite3_column_text(st, 10);
	s->replay_of = sqlite3_column_int64(st, 11);
	s->nevents = sqlite3_column_int64(st, 12);
	s->last_t_us = (uint64_t)sqlite3_column_int64(st, 13);
	if (s->server == NULL)
		s->server = "";
	if (s->tls_mode == NULL)
		s->tls_mode = "";
}

/*
 * The FTS5 query for the user's words: each whitespace-separated word
 * becomes a quoted phrase (inner quotes doubled), joined by AND, so
 * punctuation in addresses and codes needs no FTS syntax.  NULL when
 * there are no words.
 */
static char *
fts_query(const char *search)
{
	struct buf b;
	const char *p = search, *w;
	char *out;
	int words = 0;

	buf_init(&b, 0);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		w = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (words++ > 0)
			(void)buf_add_str(&b, " AND ");
		(void)buf_add(&b, "\"", 1);
		for (; w < p; w++) {
			if (*w == '"')
				(void)buf_add(&b, "\"", 1);
			(void)buf_add(&b, w, 1);
		}
		(void)buf_add(&b, "\"", 1);
	}
	if (words == 0) {
		buf_reset(&b);
		return NULL;
	}
	out = xstrndup(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	return out;
}

/* A growing set of session ids: open addressing, 0 marks a free slot. */
struct idset {
	int64_t *slot;
	size_t cap, n; /* cap: a power of two */
	int64_t *list; /* the ids in insertion order */
};

static void
idset_free(struct idset *set)
{
	free(set->slot);
	free(set->list);
}

/* Adds id (> 0); returns 1 when it is new. */
static int
idset_add(struct idset *set, int64_t id)
{
	size_t i;

	if (2 * (set->n + 1) > set->cap) {
		struct idset g = {NULL, set->cap ? 2 * set->cap : 256, 0, NULL};

		g.slot = xcalloc(g.cap, sizeof *g.slot);
		g.list = set->list;
		for (i = 0; i < set->n; i++) {
			size_t j = (size_t)set->list[i] & (g.cap - 1);

			while (g.slot[j] != 0)
				j = (j + 1) & (g.cap - 1);
			g.slot[j] = set->list[i];
		}
		free(set->slot);
		set->slot = g.slot;
		set->cap = g.cap;
	}
	for (i = (size_t)id & (set->cap - 1); set->slot[i] != 0;
	     i = (i + 1) & (set->cap - 1))
		if (set->slot[i] == id)
			return 0;
	set->slot[i] = id;
	set->list = xreallocarray(set->list, set->n + 1, sizeof *set->list);
	set->list[set->n++] = id;
	return 1;
}

static int
cmp_id_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * Adds to set the sessions of the rows sql yields for the match q (one
 * session id per row, newest first), stopping at limit new ones (< 0:
 * all).  Reading the match newest first and stopping there is what
 * keeps a search fast on a large database: FTS5 walks its index in
 * rowid order without collecting every hit first.
 */
static int
search_ids(struct hist *h, const char *sql, const char *q, long limit,
    struct idset *set, char **errstr)
{
	sqlite3_stmt *st;
	long added = 0;
	int rc;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
		*errstr = hist_errmsg(h, "searching");
		return -1;
	}
	(void)sqlite3_bind_text(st, 1, q, -1, SQLITE_TRANSIENT);
	while ((limit < 0 || added < limit) &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW)
		added += idset_add(set, sqlite3_column_int64(st, 0));
	if ((limit < 0 || added < limit) && rc != SQLITE_DONE) {
		*errstr = hist_errmsg(h, "searching");
		(void)sqlite3_finalize(st);
		return -1;
	}
	(void)sqlite3_finalize(st);
	return 0;
}

/*
 * Search: the sessions with a matching dialogue line, read from the
 * newest line back until limit sessions are found, and those whose
 * label or notes match (newest first, at most limit), merged newest
 * first.  Event ids grow with time, so "the newest lines" are the
 * newest sessions' unless sessions were recorded at the same time:
 * then a page holds the sessions with the most recent matching lines.
 */
static long
list_search(struct hist *h, long limit, const char *q, hist_session_cb *cb,
    void *arg, char **errstr)
{
	struct idset set = {NULL, 0, 0, NULL};
	struct hist_session s;
	sqlite3_stmt *st;
	size_t i, want;
	long n = 0;
	int rc;

	if (search_ids(h,
	        "SELECT e.session_id FROM events_fts f JOIN events e "
	        "ON e.id = f.rowid WHERE events_fts MATCH ?1 "
	        "ORDER BY f.rowid DESC",
	        q, limit, &set, errstr) == -1 ||
	    search_ids(h,
	        "SELECT rowid FROM sessions_fts WHERE sessions_fts "
	        "MATCH ?1 ORDER BY rowid DESC",
	        q, limit, &set, errstr) == -1) {
		idset_free(&set);
		return -1;
	}
	if (set.n > 0)
		qsort(set.list, set.n, sizeof *set.list, cmp_id_desc);
	want = limit < 0 || (size_t)limit > set.n ? set.n : (size_t)limit;
	/* Not cached: the callback may read sessions meanwhile. */
	if (sqlite3_prepare_v2(h->db,
	        "SELECT " SESSION_COLS " FROM sessions s WHERE s.id = ?", -1,
	        &st, NULL) != SQLITE_OK) {
		*errstr = hist_errmsg(h, "listing sessions");
		idset_free(&set);
		return -1;
	}
	for (i = 0; i < want; i++) {
		(void)sqlite3_bind_int64(st, 1, set.list[i]);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			(void)sqlite3_reset(st);
			continue; /* an index row without its session */
		}
		if (rc != SQLITE_ROW) {
			*errstr = hist_errmsg(h, "listing sessions");
			(void)sqlite3_reset(st);
			n = -1;
			break;
		}
		session_from_row(st, &s);
		n++;
		rc = cb(&s, arg);
		(void)sqlite3_reset(st);
		if (rc != 0)
			break;
	}
	(void)sqlite3_finalize(st);
	idset_free(&set);
	return n;
}

long
hist_session_list(struct hist *h, long limit, const char *search,
    hist_session_cb *cb, void *arg, char **errstr)
{
	struct hist_session s;
	sqlite3_stmt *st;
	char *q = search != NULL ? fts_query(search) : NULL;
	long n = 0;
	int rc;

	if (q != NULL) {
		n = hist_fts_catch_up(h, errstr) == -1
		    ? -1
		    : list_search(h, limit, q, cb, arg, errstr);
		free(q);
		return n;
	}
	rc = sqlite3_prepare_v2(h->db,
	    "SELECT " SESSION_COLS " FROM sessions s "
	    "ORDER BY s.id DESC LIMIT ?",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		*errstr = hist_errmsg(h, "listing sessions");
		return -1;
	}
	(void)sqlite3_bind_int64(st, 1, limit < 0 ? -1 : limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		session_from_row(st, &s);
		n++;
		if (cb(&s, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		*errstr = hist_errmsg(h, "listing sessions");
		n = -1;
	}
	(void)sqlite3_finalize(st);
	return n;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct hist_session *
hist_session_get(struct hist *h, int64_t id, char **errstr)
{
	struct hist_session s, *out;
	sqlite3_stmt *st;

	st = hist_row(h, HIST_ST_SESSION_GET,
	    "SELECT " SESSION_COLS " FROM sessions s WHERE s.id = ?1", id, -1,
	    "reading a session", errstr);
	if (st == NULL)
		return NULL;
	session_from_row(st, &s);
	out = xmalloc(sizeof *out);
	*out = s;
	out->server = xstrdup(s.server);
	out->tls_mode = xstrdup(s.tls_mode);
	out->tls = dup_or_null(s.tls);
	out->caps = dup_or_null(s.caps);
	out->label = dup_or_null(s.label);
	out->notes = dup_or_null(s.notes);
	(void)sqlite3_reset(st);
	return out;
}

void
hist_session_free(struct hist_session *s)
{
	if (s == NULL)
		return;
	free((char *)s->server);
	free((char *)s->tls_mode);
	free((char *)s->tls);
	free((char *)s->caps);
	free((char *)s->label);
	free((char *)s->notes);
	free(s);
}

/* ---- events ------------------------------------------------------- */

int64_t
hist_session_event(
    struct hist *h, int64_t id, const struct hist_event *ev, char **errstr)
{
	sqlite3_stmt *st;
	char dir[2] = {ev->dir, '\0'};

	if (ev->seq < 1) {
		*errstr = xasprintf(
		    "history %s: an event needs its row number", h->path);
		return -1;
	}
	st = hist_stmt(h, HIST_ST_EVENT_ADD,
	    "INSERT INTO events (session_id, seq, t_us, dir, text, stage, "
	    "code, enhanced, flags, stage_no, grp, latency_us) VALUES (?1, "
	    "?12, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	    errstr);
	if (st == NULL)
		return -1;
	(void)sqlite3_bind_int64(st, 1, id);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)ev->t_us);
	(void)sqlite3_bind_text(st, 3, dir, 1, SQLITE_STATIC);
	/* STATIC: the statement is stepped and reset before returning. */
	(void)sqlite3_bind_text(st, 4, ev->text != NULL ? ev->text : "",
	    ev->text != NULL ? (int)ev->len : 0, SQLITE_STATIC);
	if (ev->stage != NULL)
		(void)sqlite3_bind_text(st, 5, ev->stage, -1, SQLITE_STATIC);
	if (ev->code > 0)
		(void)sqlite3_bind_int(st, 6, ev->code);
	if (ev->enhanced != NULL && ev->enhanced[0] != '\0')
		(void)sqlite3_bind_text(st, 7, ev->enhanced, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int(st, 8, (int)ev->flags);
	if (ev->stage_no >= 0)
		(void)sqlite3_bind_int(st, 9, ev->stage_no);
	if (ev->group > 0)
		(void)sqlite3_bind_int(st, 10, ev->group);
	if (ev->latency_us >= 0)
		(void)sqlite3_bind_int64(st, 11, ev->latency_us);
	(void)sqlite3_bind_int64(st, 12, ev->seq);
	if (hist_step_done(h, st, "recording an event", errstr) == -1)
		return -1;
	return ev->seq;
}

int
hist_event_set_reply(struct hist *h, int64_t id, int64_t seq, const char *stage,
    int code, const char *enhanced, int stage_no, int64_t latency_us,
    char **errstr)
{
	sqlite3_stmt *st;

	st = hist_stmt(h, HIST_ST_EVENT_REPLY,
	    "UPDATE events SET flags = flags | ?1, stage = ?2, code = ?3, "
	    "enhanced = ?4, stage_no = ?5, latency_us = ?6 WHERE "
	    "session_id = ?7 AND seq = ?8",
	    errstr);
	if (st == NULL)
		return -1;
	(void)sqlite3_bind_int(st, 1, HIST_EV_REPLY);
	(void)hist_bind_str(st, 2, stage);
	(void)sqlite3_bind_int(st, 3, code);
	if (enhanced != NULL && enhanced[0] != '\0')
		(void)hist_bind_str(st, 4, enhanced);
	if (stage_no >= 0)
		(void)sqlite3_bind_int(st, 5, stage_no);
	if (latency_us >= 0)
		(void)sqlite3_bind_int64(st, 6, latency_us);
	(void)sqlite3_bind_int64(st, 7, id);
	(void)sqlite3_bind_int64(st, 8, seq);
	return hist_step_done(h, st, "recording a reply", errstr);
}

long
hist_events_iter(
    struct hist *h, int64_t id, hist_event_cb *cb, void *arg, char **errstr)
{
	struct hist_event ev;
	sqlite3_stmt *st;
	const char *dir;
	long n = 0;
	int rc;

	/* Not cached: callbacks may iterate another session meanwhile. */
	if (sqlite3_prepare_v2(h->db,
	        "SELECT seq, t_us, dir, text, stage, code, enhanced, flags, "
	        "stage_no, grp, latency_us FROM events WHERE session_id = ? "
	        "ORDER BY seq",
	        -1, &st, NULL) != SQLITE_OK) {
		*errstr = hist_errmsg(h, "reading events");
		return -1;
	}
	(void)sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&ev, 0, sizeof ev);
		ev.seq = sqlite3_column_int64(st, 0);
		ev.t_us = (uint64_t)sqlite3_column_int64(st, 1);
		dir = (const char *)sqlite3_column_text(st, 2);
		ev.dir =
		    dir != NULL && (*dir == 'C' || *dir == 'S') ? *dir : '*';
		ev.text = (const char *)sqlite3_column_text(st, 3);
		ev.len = (size_t)sqlite3_column_bytes(st, 3);
		if (ev.text == NULL)
			ev.text = "";
		ev.stage = (const char *)sqlite3_column_text(st, 4);
		ev.code = sqlite3_column_int(st, 5);
		ev.enhanced = (const char *)sqlite3_column_text(st, 6);
		if (ev.enhanced == NULL)
			ev.enhanced = "";
		ev.flags = (unsigned)sqlite3_column_int(st, 7);
		ev.stage_no = sqlite3_column_type(st, 8) == SQLITE_NULL
		    ? -1
		    : sqlite3_column_int(st, 8);
		ev.group = sqlite3_column_int(st, 9);
		ev.latency_us = sqlite3_column_type(st, 10) == SQLITE_NULL
		    ? -1
		    : sqlite3_column_int64(st, 10);
		n++;
		if (cb(&ev, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		*errstr = hist_errmsg(h, "reading events");
		n = -1;
	}
	(void)sqlite3_finalize(st);
	return n;
}

int
hist_session_last_error(struct hist *h, int64_t id, int *code, char *enhanced,
    size_t len, char **errstr)
{
	sqlite3_stmt *st;
	const char *enh;
	int rc;

	*code = 0;
	if (len > 0)
		enhanced[0] = '\0';
	/* (session_id, seq) is unique, so this walks that index backwards
	 * from the session's last row and stops at the first error. */
	if (sqlite3_prepare_v2(h->db,
	        "SELECT code, enhanced FROM events WHERE session_id = ? "
	        "AND flags & ? != 0 AND code BETWEEN 400 AND 599 "
	        "ORDER BY seq DESC LIMIT 1",
	        -1, &st, NULL) != SQLITE_OK) {
		*errstr = hist_errmsg(h, "reading events");
		return -1;
	}
	(void)sqlite3_bind_int64(st, 1, id);
	(void)sqlite3_bind_int(st, 2, HIST_EV_REPLY);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*code = sqlite3_column_int(st, 0);
		enh = (const char *)sqlite3_column_text(st, 1);
		if (len > 0)
			(void)snprintf(
			    enhanced, len, "%s", enh != NULL ? enh : "");
	} else if (rc != SQLITE_DONE) {
		*errstr = hist_errmsg(h, "reading events");
		(void)sqlite3_finalize(st);
		return -1;
	}
	(void)sqlite3_finalize(st);
	return 0;
}

/* ---- bodies ------------------------------------------------------- */

int
hist_body_keeps(const struct hist_body *b)
{
	return b->content != NULL &&
	    (b->content_len <= HIST_BODY_INLINE_MAX ||
	        (b->kind != NULL && strcmp(b->kind, "draft") == 0));
}

static hist_file_digest_fn *file_digest;

void
hist_set_file_digest(hist_file_digest_fn *fn)
{
	file_digest = fn;
}

int
hist_body_add(
    struct hist *h, int64_t id, const struct hist_body *b, char **errstr)
{
	return hist_body_insert(h, id, b, 1, errstr);
}

int
hist_body_insert(struct hist *h, int64_t id, const struct hist_body *b,
    int digest_file, char **errstr)
{
	char hex[65], *e = NULL;
	sqlite3_stmt *st;
	uint64_t size;
	int keep;

	st = hist_stmt(h, HIST_ST_BODY_ADD,
	    "INSERT INTO bodies (session_id, seq, kind, path, size, lines, "
	    "sha256, first_lines, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
	    "?)",
	    errstr);
	if (st == NULL)
		return -1;
	keep = hist_body_keeps(b);
	(void)sqlite3_bind_int64(st, 1, id);
	(void)sqlite3_bind_int64(st, 2, b->seq);
	(void)hist_bind_str(st, 3, b->kind);
	(void)hist_bind_str(st, 4, b->path);
	(void)sqlite3_bind_int64(st, 5, (sqlite3_int64)b->size);
	(void)sqlite3_bind_int64(st, 6, (sqlite3_int64)b->lines);
	/* A file sent (/body): its digest, if it is still that size. */
	if (b->sha256 == NULL && b->path != NULL && digest_file &&
	    file_digest != NULL && file_digest(b->path, hex, &size, &e) == 0 &&
	    size == b->size)
		(void)hist_bind_str(st, 7, hex);
	else
		(void)hist_bind_str(st, 7, b->sha256);
	free(e);
	(void)hist_bind_str(st, 8, b->first_lines);
	if (keep)
		(void)sqlite3_bind_blob64(st, 9, b->content,
		    (sqlite3_uint64)b->content_len, SQLITE_TRANSIENT);
	return hist_step_done(h, st, "recording a message body", errstr);
}

struct hist_body *
hist_body_get(struct hist *h, int64_t id, int64_t seq, char **errstr)
{
	struct hist_body *b;
	sqlite3_stmt *st;
	const void *p;

	st = hist_row(h, HIST_ST_BODY_GET,
	    "SELECT seq, kind, path, size, lines, sha256, first_lines, "
	    "content FROM bodies WHERE session_id = ?1 AND seq = ?2",
	    id, seq < 0 ? 0 : seq, "reading a message body", errstr);
	if (st == NULL)
		return NULL;
	b = xcalloc(1, sizeof *b);
	b->seq = sqlite3_column_int64(st, 0);
	b->kind = hist_col_dup(st, 1);
	if (b->kind == NULL)
		b->kind = xstrdup("inline");
	b->path = hist_col_dup(st, 2);
	b->size = (uint64_t)sqlite3_column_int64(st, 3);
	b->lines = (uint64_t)sqlite3_column_int64(st, 4);
	b->sha256 = hist_col_dup(st, 5);
	b->first_lines = hist_col_dup(st, 6);
	if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
		p = sqlite3_column_blob(st, 7);
		b->content_len = (size_t)sqlite3_column_bytes(st, 7);
		b->content = xmalloc(b->content_len + 1);
		if (b->content_len > 0)
			memcpy((void *)b->content, p, b->content_len);
		((char *)b->content)[b->content_len] = '\0';
	}
	(void)sqlite3_reset(st);
	return b;
}

void
hist_body_free(struct hist_body *b)
{
	if (b == NULL)
		return;
	free((char *)b->kind);
	free((char *)b->path);
	free((char *)b->sha256);
	free((char *)b->first_lines);
	free((void *)b->content);
	free(b);
}
