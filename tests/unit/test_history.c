/*
 * Unit tests for history/ (the SQLite store), a healthy database: the
 * schema and permissions of a new database, migration from a database
 * built with the first schema, and round trips of events, bodies,
 * drafts and input history, with full-text search.  Every test works in
 * its own temporary directory (history_fixture.h), never the user's
 * home.  A damaged or unwritable database: test_history_faults.c; the
 * recorder: test_recorder.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "history/history.h"
#include "history_fixture.h"

/* The first released schema, as a database made by it holds it. */
static const char schema_v1[] =
    "CREATE TABLE sessions (id INTEGER PRIMARY KEY, started INTEGER NOT "
    "NULL, ended INTEGER, server TEXT NOT NULL, port INTEGER NOT NULL, "
    "tls_mode TEXT NOT NULL, tls TEXT, caps TEXT, exit_status INTEGER, "
    "label TEXT, notes TEXT);"
    "CREATE TABLE events (id INTEGER PRIMARY KEY, session_id INTEGER NOT "
    "NULL REFERENCES sessions(id), seq INTEGER NOT NULL, t_us INTEGER NOT "
    "NULL, dir TEXT NOT NULL CHECK (dir IN ('C', 'S', '*')), text TEXT NOT "
    "NULL, stage TEXT, code INTEGER, enhanced TEXT, flags INTEGER NOT NULL "
    "DEFAULT 0, UNIQUE (session_id, seq));"
    "PRAGMA user_version = 1;";

/* ---- schema, permissions, migration --------------------------------- */

static void
test_new_database(void **state)
{
	struct tmp *t = *state;
	char *path = xasprintf("%s/a/b/ehlo.db", t->dir), *sub;
	struct stat sb;
	struct hist *h;

	h = must_open(path, 0);
	assert_int_equal(hist_schema_version(h), hist_schema_latest());
	assert_false(hist_is_readonly(h));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	sub = xasprintf("%s/a/b", t->dir);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	free(sub);
	sub = xasprintf("%s/a", t->dir);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	free(sub);
	/* WAL is on: the -wal file exists while the database is open. */
	assert_int_equal(hist_session_begin(h, "mx", 25, "plain", 0, NULL), 1);
	sub = xasprintf("%s-wal", path);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	free(sub);
	hist_close(h);
	/* Reopening changes nothing. */
	h = must_open(path, 0);
	assert_int_equal(hist_schema_version(h), hist_schema_latest());
	hist_close(h);
	free(path);
}

static void
test_nocreate(void **state)
{
	struct tmp *t = *state;
	char *err = NULL;
	struct stat sb;

	assert_null(hist_open(t->path, HIST_OPEN_NOCREATE, &err));
	assert_non_null(strstr(err, "does not exist"));
	free(err);
	assert_int_equal(stat(t->path, &sb), -1);
}

static void
test_migrate_from_v1(void **state)
{
	struct tmp *t = *state;
	struct hist_session *s;
	struct hist *h;
	sqlite3 *db;
	char *err = NULL;
	int64_t seq;
	long n;

	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), 0);
	assert_int_equal(sqlite3_exec(db,
	                     "INSERT INTO sessions (id, started, server, "
	                     "port, tls_mode, exit_status, notes) VALUES "
	                     "(7, 1700000000, 'old.example', 25, 'plain', 1, "
	                     "'greylisting test');"
	                     "INSERT INTO events (session_id, seq, t_us, dir, "
	                     "text, code) VALUES (7, 1, 100, 'S', '220 old "
	                     "ESMTP', 220), (7, 2, 200, 'C', 'RCPT "
	                     "TO:<carol@old.example>', NULL), (7, 3, 300, "
	                     "'S', '450 4.7.1 try later', 450);",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);

	h = must_open(t->path, 0);
	assert_int_equal(hist_schema_version(h), hist_schema_latest());
	s = hist_session_get(h, 7, &err);
	assert_non_null(s);
	assert_string_equal(s->server, "old.example");
	assert_int_equal(s->exit_status, 1);
	assert_int_equal(s->nevents, 3);
	assert_int_equal(s->replay_of, 0);
	hist_session_free(s);
	/* The old rows are in the full-text index. */
	n = 0;
	assert_int_equal(
	    hist_session_list(h, -1, "carol@old.example", count_cb, &n, &err),
	    1);
	/* Version 2 columns and tables work on the migrated rows. */
	seq = add_event(h, 7, 'C', "QUIT");
	assert_int_equal(seq, 4);
	assert_int_equal(
	    hist_event_set_reply(h, 7, 3, "RCPT", 450, "4.7.1", 2, 10, &err),
	    0);
	assert_true(hist_draft_save(h, &(struct hist_draft){0}, &err) > 0);
	assert_int_equal(hist_input_add(h, "NOOP", &err), 0);
	hist_close(h);
}

static int
first_id_cb(const struct hist_session *s, void *arg)
{
	int64_t *id = arg;

	if (*id == 0)
		*id = s->id;
	return 0;
}

static void
test_migrate_search_old_rows(void **state)
{
	struct tmp *t = *state;
	struct hist *h;
	sqlite3 *db;
	char *err = NULL;
	int64_t id = 0;
	long n = 0;

	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), 0);
	assert_int_equal(sqlite3_exec(db,
	                     "INSERT INTO sessions (id, started, server, "
	                     "port, tls_mode, notes) VALUES (3, 1, 'a', 25, "
	                     "'plain', 'before the move'), (4, 2, 'b', 25, "
	                     "'plain', NULL);"
	                     "INSERT INTO events (session_id, seq, t_us, dir, "
	                     "text) VALUES (4, 1, 1, 'S', '550 5.1.1 "
	                     "<carol@old.example> unknown');",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	h = must_open(t->path, 0);
	assert_int_equal(hist_session_list(h, -1, "carol@old.example",
	                     first_id_cb, &id, &err),
	    1);
	assert_int_equal(id, 4);
	id = 0;
	assert_int_equal(
	    hist_session_list(h, -1, "move", first_id_cb, &id, &err), 1);
	assert_int_equal(id, 3);
	assert_int_equal(hist_session_list(h, -1, NULL, count_cb, &n, &err), 2);
	hist_close(h);
}

/* Version 4 takes the plain-text capabilities of sessions without TLS. */
static void
test_migrate_plain_caps(void **state)
{
	struct tmp *t = *state;
	struct hist *h;
	sqlite3 *db;
	char *err = NULL;
	int64_t id = 0, started = 0;

	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), 0);
	/* 5 upgraded (its caps are the ones after TLS), 6 never did. */
	assert_int_equal(sqlite3_exec(db,
	                     "INSERT INTO sessions (id, started, server, "
	                     "port, tls_mode, tls, caps) VALUES "
	                     "(5, 10, 'mx.example', 25, 'starttls', '{}', "
	                     "'PIPELINING\nAUTH PLAIN'), "
	                     "(6, 20, 'mx.example', 25, 'plain', NULL, "
	                     "'PIPELINING\nSTARTTLS\n8BITMIME'), "
	                     "(7, 30, 'mx.example', 587, 'plain', NULL, "
	                     "'PIPELINING');",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	h = must_open(t->path, 0);
	assert_int_equal(hist_server_had_starttls(
	                     h, "mx.example", 25, 0, &id, &started, &err),
	    1);
	assert_int_equal(id, 6);
	assert_int_equal(started, 20);
	assert_int_equal(
	    hist_server_had_starttls(h, "mx.example", 25, 6, &id, NULL, &err),
	    0);
	assert_int_equal(
	    hist_server_had_starttls(h, "mx.example", 587, 0, NULL, NULL, &err),
	    0);
	hist_close(h);
}

/* STARTTLS seen on a plain EHLO of an earlier session, per server:port. */
static void
test_had_starttls(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0);
	char *err = NULL;
	int64_t a, b, c, id = 0;

	a = hist_session_begin(h, "mx.example", 25, "plain", 0, &err);
	b = hist_session_begin(h, "mx.example", 25, "plain", 0, &err);
	c = hist_session_begin(h, "mx.example", 25, "plain", 0, &err);
	assert_true(a > 0 && b > a && c > b);
	assert_int_equal(
	    hist_server_had_starttls(h, "mx.example", 25, c, &id, NULL, &err),
	    0);
	/* The caps after TLS do not count, only plain_caps. */
	assert_int_equal(
	    hist_session_set_caps(h, a, "PIPELINING\nSTARTTLS", &err), 0);
	assert_int_equal(
	    hist_server_had_starttls(h, "mx.example", 25, c, &id, NULL, &err),
	    0);
	/* A keyword inside another line's parameters is not STARTTLS. */
	assert_int_equal(hist_session_set_plain_caps(
	                     h, a, "XSTARTTLS\nX-NOTE STARTTLS", &err),
	    0);
	assert_int_equal(
	    hist_server_had_starttls(h, "mx.example", 25, c, &id, NULL, &err),
	    0);
	assert_int_equal(hist_session_set_plain_caps(
	                     h, a, "PIPELINING\nstarttls\nSIZE 1000", &err),
	    0);
	assert_int_equal(
	    hist_server_had_starttls(h, "mx.example", 25, c, &id, NULL, &err),
	    1);
	assert_int_equal(id, a);
	assert_int_equal(
	    hist_session_set_plain_caps(h, b, "STARTTLS", &err), 0);
	assert_int_equal(
	    hist_server_had_starttls(h, "mx.example", 25, c, &id, NULL, &err),
	    1);
	assert_int_equal(id, b);
	/* Only earlier sessions, and only the same server and port. */
	assert_int_equal(
	    hist_server_had_starttls(h, "mx.example", 25, a, &id, NULL, &err),
	    0);
	assert_int_equal(
	    hist_server_had_starttls(h, "MX.example", 25, c, &id, NULL, &err),
	    0);
	assert_int_equal(
	    hist_server_had_starttls(h, "mx.example", 26, 0, &id, NULL, &err),
	    0);
	assert_int_equal(
	    hist_session_set_plain_caps(h, 999, "STARTTLS", &err), -1);
	free(err);
	hist_close(h);
}

/* ---- sessions, events, bodies ---------------------------------------- */

struct evcopy {
	int n;
	struct hist_event ev[8];
	char text[8][64];
	size_t len[8];
	char stage[8][16];
	char enhanced[8][16];
};

static int
copy_cb(const struct hist_event *ev, void *arg)
{
	struct evcopy *c = arg;

	if (c->n >= 8)
		return 1;
	c->ev[c->n] = *ev;
	memcpy(c->text[c->n], ev->text, ev->len < 64 ? ev->len : 64);
	c->len[c->n] = ev->len;
	(void)snprintf(c->stage[c->n], sizeof c->stage[0], "%s",
	    ev->stage != NULL ? ev->stage : "");
	(void)snprintf(c->enhanced[c->n], sizeof c->enhanced[0], "%s",
	    ev->enhanced != NULL ? ev->enhanced : "");
	c->ev[c->n].stage = c->stage[c->n];
	c->ev[c->n].enhanced = c->enhanced[c->n];
	c->ev[c->n].text = c->text[c->n];
	c->n++;
	return 0;
}

static void
test_events_round_trip(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0);
	struct hist_session *s;
	struct hist_event ev;
	struct evcopy c;
	char *err = NULL;
	int64_t id, seq;

	id = hist_session_begin(h, "mx.example", 587, "starttls", 0, &err);
	assert_true(id > 0);
	assert_int_equal(add_event(h, id, '*', "connected"), 1);
	seq = add_event(h, id, 'S', "220 mx.example ESMTP");
	assert_int_equal(seq, 2);
	assert_int_equal(hist_event_set_reply(
	                     h, id, seq, "greeting", 220, "", 0, 1234, &err),
	    0);
	memset(&ev, 0, sizeof ev);
	ev.t_us = 5000;
	ev.dir = 'C';
	ev.text = "MAIL FROM:<a@example>";
	ev.len = strlen(ev.text);
	ev.stage = "MAIL";
	ev.stage_no = 3;
	ev.group = 2;
	ev.latency_us = -1;
	ev.seq = 3;
	assert_int_equal(hist_session_event(h, id, &ev, &err), 3);
	/* Untrusted bytes, NUL included, come back exactly. */
	ev.seq = 4;
	ev.dir = 'S';
	ev.text = "550 5.1.1 a\0b\x1b[2J";
	ev.len = 18;
	ev.stage = NULL;
	ev.group = 0;
	assert_int_equal(hist_session_event(h, id, &ev, &err), 4);
	assert_int_equal(
	    hist_event_set_reply(h, id, 4, "MAIL", 550, "5.1.1", 3, 800, &err),
	    0);
	assert_int_equal(
	    hist_session_set_caps(h, id, "PIPELINING\nSIZE 10", &err), 0);
	assert_int_equal(
	    hist_session_set_tls(h, id, "{\"version\":\"TLSv1.3\"}", &err), 0);
	assert_int_equal(hist_session_set_label(h, id, "before", &err), 0);
	assert_int_equal(hist_session_set_notes(h, id, "moved MX", &err), 0);
	assert_int_equal(hist_session_end(h, id, 1, &err), 0);
	assert_int_equal(hist_session_set_label(h, 999, "x", &err), -1);
	assert_non_null(strstr(err, "no session #999"));
	free(err);
	err = NULL;

	s = hist_session_get(h, id, &err);
	assert_non_null(s);
	assert_string_equal(s->server, "mx.example");
	assert_int_equal(s->port, 587);
	assert_string_equal(s->tls_mode, "starttls");
	assert_string_equal(s->caps, "PIPELINING\nSIZE 10");
	assert_string_equal(s->tls, "{\"version\":\"TLSv1.3\"}");
	assert_string_equal(s->label, "before");
	assert_string_equal(s->notes, "moved MX");
	assert_int_equal(s->exit_status, 1);
	assert_true(s->ended >= s->started && s->started > 0);
	assert_int_equal(s->nevents, 4);
	assert_int_equal(s->last_t_us, 5000);
	hist_session_free(s);
	assert_null(hist_session_get(h, 12345, &err));
	assert_null(err);

	memset(&c, 0, sizeof c);
	assert_int_equal(hist_events_iter(h, id, copy_cb, &c, &err), 4);
	assert_int_equal(c.ev[1].flags & HIST_EV_REPLY, HIST_EV_REPLY);
	assert_int_equal(c.ev[1].code, 220);
	assert_int_equal(c.ev[1].latency_us, 1234);
	assert_int_equal(c.ev[2].dir, 'C');
	assert_int_equal(c.ev[2].stage_no, 3);
	assert_int_equal(c.ev[2].group, 2);
	assert_int_equal(c.ev[2].code, 0);
	assert_int_equal(c.ev[2].flags & HIST_EV_REPLY, 0);
	assert_int_equal(c.len[3], 18);
	assert_memory_equal(c.text[3], "550 5.1.1 a\0b\x1b[2J", 18);
	assert_int_equal(c.ev[3].code, 550);
	assert_string_equal(c.ev[3].enhanced, "5.1.1");
	assert_string_equal(c.ev[3].stage, "MAIL");

	/* The last error reply, by one query: the 550 (the 220 is no
	 * error); a later 451 takes its place; none in a new session. */
	{
		char enh[16];
		int code = -1;
		int64_t id2;

		assert_int_equal(hist_session_last_error(
		                     h, id, &code, enh, sizeof enh, &err),
		    0);
		assert_int_equal(code, 550);
		assert_string_equal(enh, "5.1.1");
		assert_int_equal(add_event(h, id, 'S', "451 4.3.0 later"), 5);
		assert_int_equal(hist_event_set_reply(h, id, 5, "RCPT", 451,
		                     "4.3.0", 4, 10, &err),
		    0);
		assert_int_equal(add_event(h, id, 'S', "250 ok"), 6);
		assert_int_equal(hist_event_set_reply(
		                     h, id, 6, "RSET", 250, "", 5, 10, &err),
		    0);
		assert_int_equal(hist_session_last_error(
		                     h, id, &code, enh, sizeof enh, &err),
		    0);
		assert_int_equal(code, 451);
		assert_string_equal(enh, "4.3.0");
		id2 = hist_session_begin(h, "mx.example", 25, "plain", 0, &err);
		assert_int_equal(hist_session_last_error(
		                     h, id2, &code, enh, sizeof enh, &err),
		    0);
		assert_int_equal(code, 0);
		assert_string_equal(enh, "");
	}
	hist_close(h);
}

/*
 * The writer numbers its rows (the recorder): it may insert them out of
 * order and give a reply's code in the INSERT; a number already used,
 * or none, is refused.
 */
static void
test_events_numbered_by_caller(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0);
	struct hist_event ev;
	struct evcopy c;
	char *err = NULL;
	int64_t id;

	id = hist_session_begin(h, "mx.example", 25, "plain", 0, &err);
	assert_true(id > 0);
	event_init(&ev, 2, 'S', "250 2.1.0 Ok");
	ev.flags = HIST_EV_REPLY;
	ev.stage = "MAIL";
	ev.code = 250;
	ev.enhanced = "2.1.0";
	ev.stage_no = 2;
	ev.latency_us = 321;
	assert_int_equal(hist_session_event(h, id, &ev, &err), 2);
	event_init(&ev, 1, 'C', "MAIL FROM:<>");
	assert_int_equal(hist_session_event(h, id, &ev, &err), 1);
	/* A number used already, or none at all, is refused. */
	assert_int_equal(hist_session_event(h, id, &ev, &err), -1);
	assert_non_null(err);
	free(err);
	err = NULL;
	event_init(&ev, 0, 'C', "NOOP");
	assert_int_equal(hist_session_event(h, id, &ev, &err), -1);
	assert_non_null(strstr(err, "row number"));
	free(err);
	err = NULL;
	assert_int_equal(add_event(h, id, '*', "after"), 3);

	memset(&c, 0, sizeof c);
	assert_int_equal(hist_events_iter(h, id, copy_cb, &c, &err), 3);
	assert_int_equal(c.ev[0].dir, 'C');
	assert_memory_equal(c.text[0], "MAIL FROM:<>", 12);
	assert_int_equal(c.ev[1].seq, 2);
	assert_int_equal(c.ev[1].code, 250);
	assert_int_equal(c.ev[1].flags, HIST_EV_REPLY);
	assert_string_equal(c.ev[1].enhanced, "2.1.0");
	assert_string_equal(c.ev[1].stage, "MAIL");
	assert_int_equal(c.ev[1].stage_no, 2);
	assert_int_equal(c.ev[1].latency_us, 321);
	assert_int_equal(c.ev[2].dir, '*');
	hist_close(h);
}

static void
test_bodies(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0);
	struct hist_body b, *g;
	char *err = NULL, *big;
	int64_t id = hist_session_begin(h, "mx", 25, "plain", 0, &err);

	memset(&b, 0, sizeof b);
	b.seq = 9;
	b.kind = "inline";
	b.size = 7;
	b.lines = 1;
	b.sha256 = "ab";
	b.first_lines = "hello\n";
	b.content = "hello\r\n";
	b.content_len = 7;
	assert_int_equal(hist_body_add(h, id, &b, &err), 0);
	big = xcalloc(1, HIST_BODY_INLINE_MAX + 1);
	b.seq = 10;
	b.content = big;
	b.content_len = HIST_BODY_INLINE_MAX + 1;
	b.size = b.content_len;
	assert_int_equal(hist_body_add(h, id, &b, &err), 0);
	b.seq = 11;
	b.kind = "file";
	b.path = "/srv/mail/test.eml";
	b.content = NULL;
	assert_int_equal(hist_body_add(h, id, &b, &err), 0);
	free(big);

	g = hist_body_get(h, id, 9, &err);
	assert_non_null(g);
	assert_string_equal(g->kind, "inline");
	assert_int_equal(g->content_len, 7);
	assert_memory_equal(g->content, "hello\r\n", 7);
	hist_body_free(g);
	g = hist_body_get(h, id, 10, &err);
	assert_non_null(g);
	assert_null(g->content); /* too big to keep */
	assert_int_equal(g->size, HIST_BODY_INLINE_MAX + 1);
	hist_body_free(g);
	g = hist_body_get(h, id, 11, &err);
	assert_string_equal(g->path, "/srv/mail/test.eml");
	hist_body_free(g);
	assert_null(hist_body_get(h, id, 12, &err));
	assert_null(err);
	hist_close(h);
}

static void
test_search(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0);
	char *err = NULL;
	int64_t a, b, got = 0;
	long n = 0;
	int i;

	a = hist_session_begin(h, "a.example", 25, "plain", 0, &err);
	(void)add_event(h, a, 'S', "550 5.1.1 <bob@example.org>: unknown");
	b = hist_session_begin(h, "b.example", 25, "plain", a, &err);
	(void)add_event(h, b, 'S', "250 2.1.5 Ok");
	assert_int_equal(
	    hist_session_set_notes(h, b, "the \"quoted\" one", &err), 0);
	assert_int_equal(
	    hist_session_list(h, -1, "5.1.1", first_id_cb, &got, &err), 1);
	assert_int_equal(got, a);
	got = 0;
	assert_int_equal(hist_session_list(h, -1, "bob@example.org unknown",
	                     first_id_cb, &got, &err),
	    1);
	assert_int_equal(got, a);
	got = 0;
	assert_int_equal(
	    hist_session_list(h, -1, "\"quoted\"", first_id_cb, &got, &err), 1);
	assert_int_equal(got, b);
	assert_int_equal(
	    hist_session_list(h, -1, "nothing-like-it", count_cb, &n, &err), 0);
	/* Newest first, limit. */
	for (i = 0; i < 5; i++)
		(void)hist_session_begin(h, "c.example", 25, "tls", 0, &err);
	got = 0;
	assert_int_equal(
	    hist_session_list(h, 3, "", first_id_cb, &got, &err), 3);
	assert_int_equal(got, b + 5);
	/* A label set later is found too. */
	assert_int_equal(hist_session_set_label(h, a, "migration", &err), 0);
	got = 0;
	assert_int_equal(
	    hist_session_list(h, -1, "migration", first_id_cb, &got, &err), 1);
	assert_int_equal(got, a);
	hist_close(h);
}

/* ---- drafts, input history ------------------------------------------- */

static int
draft_ids_cb(const struct hist_draft *d, void *arg)
{
	int64_t *ids = arg;
	int i;

	for (i = 0; ids[i] != 0; i++)
		;
	ids[i] = d->id;
	return 0;
}

static void
test_drafts(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0);
	struct hist_draft d, *g;
	char *err = NULL;
	int64_t a, b, ids[4] = {0};

	memset(&d, 0, sizeof d);
	d.env_from = "alice@example.org";
	d.env_to = "[\"bob@example.org\"]";
	d.headers = "Subject: hello\n";
	d.body = "line 1\n\0binary";
	d.body_len = 14;
	d.attachments = "[\"/tmp/a.pdf\"]";
	a = hist_draft_save(h, &d, &err);
	assert_true(a > 0);
	d.headers = "Subject: second\n";
	b = hist_draft_save(h, &d, &err);
	assert_true(b > a);
	g = hist_draft_get(h, a, &err);
	assert_non_null(g);
	assert_string_equal(g->env_from, "alice@example.org");
	assert_string_equal(g->headers, "Subject: hello\n");
	assert_int_equal(g->body_len, 14);
	assert_memory_equal(g->body, "line 1\n\0binary", 14);
	hist_draft_free(g);
	/*
	 * Edit a: it becomes the most recent.  updated has whole seconds,
	 * so b is made older first (else the edit could tie with it).
	 */
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db,
		                     "UPDATE drafts SET created = created - 10,"
		                     " updated = updated - 10",
		                     NULL, NULL, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
	}
	d.id = a;
	d.headers = "Subject: edited\n";
	assert_int_equal(hist_draft_save(h, &d, &err), a);
	g = hist_draft_get(h, a, &err);
	assert_string_equal(g->headers, "Subject: edited\n");
	hist_draft_free(g);
	assert_int_equal(hist_draft_list(h, draft_ids_cb, ids, &err), 2);
	assert_int_equal(ids[0], a);
	assert_int_equal(ids[1], b);
	assert_int_equal(hist_draft_delete(h, b, &err), 0);
	assert_int_equal(hist_draft_delete(h, b, &err), 1);
	assert_null(hist_draft_get(h, b, &err));
	assert_null(err);
	d.id = 4242;
	assert_int_equal(hist_draft_save(h, &d, &err), -1);
	assert_non_null(strstr(err, "no draft #4242"));
	free(err);
	hist_close(h);
}

struct lines {
	int n;
	char v[8][32];
};

static int
line_cb(const char *line, int64_t at, void *arg)
{
	struct lines *l = arg;

	assert_true(at > 0);
	(void)snprintf(l->v[l->n++], sizeof l->v[0], "%s", line);
	return 0;
}

static void
test_input_history(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0);
	struct lines l;
	char *err = NULL, line[16];
	int i;

	for (i = 1; i <= 5; i++) {
		(void)snprintf(line, sizeof line, "NOOP %d", i);
		assert_int_equal(hist_input_add(h, line, &err), 0);
	}
	memset(&l, 0, sizeof l);
	assert_int_equal(hist_input_list(h, 3, line_cb, &l, &err), 3);
	assert_string_equal(l.v[0], "NOOP 3");
	assert_string_equal(l.v[2], "NOOP 5");
	memset(&l, 0, sizeof l);
	assert_int_equal(hist_input_list(h, -1, line_cb, &l, &err), 5);
	hist_close(h);
}

/* ---- housekeeping (hist_prune.c) ----------------------------------------- */

static int
replay_of_cb(const struct hist_session *s, void *arg)
{
	*(int64_t *)arg = s->replay_of;
	return 1;
}

static void
test_prune_and_delete(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0);
	struct hist_prune_count c;
	struct hist_body b;
	sqlite3 *db;
	char *err = NULL;
	int64_t a, d, r, got = -1;
	long n = 0;

	a = hist_session_begin(h, "old.example", 25, "plain", 0, &err);
	d = hist_session_begin(h, "old.example", 25, "plain", 0, &err);
	r = hist_session_begin(h, "new.example", 25, "plain", a, &err);
	assert_int_equal(add_event(h, a, 'S', "550 5.1.1 oldword unknown"), 1);
	assert_int_equal(add_event(h, d, 'C', "NOOP"), 1);
	assert_int_equal(add_event(h, r, 'C', "NOOP"), 1);
	memset(&b, 0, sizeof b);
	b.seq = 1;
	b.kind = "inline";
	b.size = 5;
	b.content = "hello";
	b.content_len = 5;
	assert_int_equal(hist_body_add(h, a, &b, &err), 0);
	assert_int_equal(hist_session_end(h, a, 0, &err), 0);
	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                     "UPDATE sessions SET started = started - 8640000 "
	                     "WHERE server = 'old.example'",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	/* Counted, not deleted. */
	assert_int_equal(hist_prune(h, 90 * 86400, 1, &c, &err), 0);
	assert_int_equal(c.sessions, 2);
	assert_int_equal(c.events, 2);
	assert_int_equal(c.bodies, 1);
	assert_int_equal(hist_session_list(h, -1, NULL, count_cb, &n, &err), 3);
	/* Deleted: the replay keeps its record, without the link. */
	assert_int_equal(hist_prune(h, 90 * 86400, 0, &c, &err), 0);
	assert_int_equal(c.sessions, 2);
	assert_null(hist_session_get(h, a, &err));
	assert_null(err);
	assert_null(hist_body_get(h, a, 1, &err));
	assert_int_equal(
	    hist_session_list(h, -1, "oldword", count_cb, &n, &err), 0);
	assert_int_equal(
	    hist_session_list(h, -1, NULL, replay_of_cb, &got, &err), 1);
	assert_int_equal(got, 0);
	/* Nothing left that old. */
	assert_int_equal(hist_prune(h, 90 * 86400, 0, &c, &err), 0);
	assert_int_equal(c.sessions, 0);
	assert_int_equal(hist_session_delete(h, r, &err), 0);
	assert_int_equal(hist_session_delete(h, r, &err), 1);
	assert_int_equal(hist_prune(h, -1, 1, &c, &err), -1);
	assert_non_null(err);
	free(err);
	hist_close(h);
}

/* ---- failures ---------------------------------------------------------- */
int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_new_database, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_nocreate, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_events_numbered_by_caller, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_migrate_from_v1, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_migrate_search_old_rows, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_migrate_plain_caps, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_had_starttls, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_events_round_trip, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_bodies, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_search, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_drafts, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_input_history, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_prune_and_delete, setup_tmp, teardown_tmp),
	};

	/* Never the user's database, whatever the environment says. */
	(void)unsetenv("EHLO_DB");
	(void)setenv("HOME", "/nonexistent", 1);
	(void)unsetenv("XDG_DATA_HOME");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
