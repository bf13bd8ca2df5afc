/*
 * Unit tests for history/ (the SQLite store) and tui/record.c (the
 * recorder that maps session events onto it).  Every test works in its
 * own temporary directory (never the user's home): schema and
 * permissions of a new database, migration from a database built with
 * the first schema, events, bodies, drafts and input history round
 * trips, full-text search, a corrupt file (clear error, file
 * untouched), read-only files and directories (checked as an ordinary
 * user: root ignores permissions, so the test drops to nobody), a
 * locked database (clear error within the busy timeout), and a session
 * with AUTH driven through the recorder whose secrets must appear
 * nowhere in the database files.  The recorder tests run on both sinks
 * (one test body each): the store, as the workbench records, and the
 * spool, as `ehlo run` records, read back after the import.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/digest.h"
#include "protocol/sasl.h"
#include "protocol/session.h"
#include "tui/print.h"
#include "tui/record.h"

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

struct tmp {
	char dir[64];
	char path[128];
	int use_spool; /* the recorder's sink: 1 spool, 0 store */
};

static int
setup_tmp(void **state)
{
	struct tmp *t = xcalloc(1, sizeof *t);
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base != '/' || strlen(base) > 40)
		base = "/tmp";
	(void)snprintf(t->dir, sizeof t->dir, "%s/ehlo-hist-XXXXXX", base);
	if (mkdtemp(t->dir) == NULL)
		return -1;
	(void)snprintf(t->path, sizeof t->path, "%s/ehlo.db", t->dir);
	*state = t;
	return 0;
}

/* The recorder tests run once on each sink. */
static int
setup_spool(void **state)
{
	if (setup_tmp(state) != 0)
		return -1;
	((struct tmp *)*state)->use_spool = 1;
	return 0;
}

static int
teardown_tmp(void **state)
{
	struct tmp *t = *state;
	char *cmd = xasprintf("rm -rf '%s'", t->dir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", t->dir);
	free(cmd);
	free(t);
	return 0;
}

static struct hist *
must_open(const char *path, unsigned flags)
{
	char *err = NULL;
	struct hist *h = hist_open(path, flags, &err);

	if (h == NULL)
		fail_msg("hist_open %s: %s", path, err);
	return h;
}

/* A plain event: no stage, no reply; seq 0 lets the store number it. */
static void
event_init(struct hist_event *ev, int64_t seq, char dir, const char *text)
{
	memset(ev, 0, sizeof *ev);
	ev->seq = seq;
	ev->dir = dir;
	ev->text = text;
	ev->len = strlen(text);
	ev->stage_no = -1;
	ev->latency_us = -1;
}

static int
count_event(const struct hist_event *ev, void *arg)
{
	(void)ev;
	(*(int64_t *)arg)++;
	return 0;
}

/* Appends an event numbered after the session's rows (as a writer does). */
static int64_t
add_event(struct hist *h, int64_t id, char dir, const char *text)
{
	struct hist_event ev;
	char *err = NULL;
	int64_t seq, n = 0;

	if (hist_events_iter(h, id, count_event, &n, &err) < 0)
		fail_msg("events: %s", err);
	event_init(&ev, n + 1, dir, text);
	seq = hist_session_event(h, id, &ev, &err);
	if (seq < 0)
		fail_msg("event: %s", err);
	return seq;
}

/* Reads a whole file into a NUL-terminated buffer (*n bytes). */
static char *
slurp(const char *path, size_t *n)
{
	struct buf b;
	char tmp[4096], *out;
	ssize_t r;
	int fd = open(path, O_RDONLY);

	*n = 0;
	if (fd == -1)
		return xstrdup("");
	buf_init(&b, 0);
	while ((r = read(fd, tmp, sizeof tmp)) > 0)
		(void)buf_add(&b, tmp, (size_t)r);
	(void)close(fd);
	*n = buf_used(&b);
	out = xmalloc(*n + 1);
	memcpy(out, buf_peek(&b), *n);
	out[*n] = '\0';
	buf_reset(&b);
	return out;
}

static int
contains(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

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

static int
count_cb(const struct hist_session *s, void *arg)
{
	long *n = arg;

	(void)s;
	(*n)++;
	return 0;
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

/* ---- failures ---------------------------------------------------------- */

static void
test_corrupt_file(void **state)
{
	struct tmp *t = *state;
	static const char garbage[] = "this is not a database, it is a note "
	                              "the user keeps here\n";
	char *err = NULL, *back, *wal;
	struct stat sb;
	size_t n;
	int fd;

	fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	for (n = 0; n < 200; n++)
		assert_int_equal(write(fd, garbage, sizeof garbage - 1),
		    (ssize_t)(sizeof garbage - 1));
	(void)close(fd);
	assert_null(hist_open(t->path, 0, &err));
	assert_non_null(strstr(err, t->path));
	assert_non_null(strstr(err, "not an SQLite database or it is damaged"));
	assert_non_null(strstr(err, "untouched"));
	free(err);
	err = NULL;
	assert_null(hist_open(t->path, HIST_OPEN_READONLY, &err));
	free(err);
	back = slurp(t->path, &n);
	assert_int_equal(n, 200 * (sizeof garbage - 1));
	assert_memory_equal(back, garbage, sizeof garbage - 1);
	free(back);
	wal = xasprintf("%s-wal", t->path);
	assert_int_equal(stat(wal, &sb), -1);
	free(wal);
}

static void
test_damaged_page(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0);
	char *err = NULL, junk[4096];
	long n;
	int64_t id;
	int fd, i;

	for (i = 0; i < 200; i++) {
		id = hist_session_begin(h, "mx", 25, "plain", 0, &err);
		(void)add_event(h, id, 'S', "250 a line of text to fill pages");
	}
	hist_close(h);
	/* Overwrite everything after the header page with junk. */
	memset(junk, 0xA5, sizeof junk);
	fd = open(t->path, O_WRONLY);
	assert_true(fd >= 0);
	for (i = 1; i < 8; i++)
		assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)i * 4096),
		    (ssize_t)sizeof junk);
	(void)close(fd);
	h = hist_open(t->path, 0, &err);
	if (h == NULL) {
		assert_non_null(strstr(err, "damaged"));
		free(err);
		return;
	}
	n = hist_session_list(h, -1, NULL, count_cb, &(long){0}, &err);
	if (n == -1) {
		assert_non_null(strstr(err, "damaged"));
		free(err);
	}
	hist_close(h);
}

/*
 * Runs fn in a child process as an ordinary user (nobody when we are
 * root: root ignores file permissions).  The child's exit status is the
 * number of the failed check, 0 on success.
 */
static void
as_user(int (*fn)(struct tmp *), struct tmp *t)
{
	pid_t pid;
	int st;

	if (geteuid() == 0 && chown(t->dir, 65534, 65534) != 0)
		fail_msg("chown: %s", strerror(errno));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 &&
		    (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(99);
		_exit(fn(t));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		fail_msg("read-only check %d failed", WEXITSTATUS(st));
}

static int
readonly_checks(struct tmp *t)
{
	char *err = NULL, *sub;
	struct hist *h;
	int64_t id;
	long n = 0;

	h = hist_open(t->path, 0, &err);
	if (h == NULL)
		return 1;
	id = hist_session_begin(h, "mx", 25, "plain", 0, &err);
	if (id <= 0)
		return 2;
	(void)add_event(h, id, 'S', "220 hi");
	hist_close(h);
	/* A read-only file: a clear refusal to write, listing still works. */
	if (chmod(t->path, 0400) != 0)
		return 3;
	if ((h = hist_open(t->path, 0, &err)) != NULL)
		return 4;
	if (strstr(err, "read-only") == NULL || strstr(err, t->path) == NULL)
		return 5;
	free(err);
	err = NULL;
	if ((h = hist_open(t->path, HIST_OPEN_READONLY, &err)) == NULL)
		return 6;
	if (hist_session_list(h, -1, NULL, count_cb, &n, &err) != 1)
		return 7;
	if (hist_session_begin(h, "mx", 25, "plain", 0, &err) != -1)
		return 8;
	if (strstr(err, "read-only") == NULL && strstr(err, "readonly") == NULL)
		return 9;
	free(err);
	err = NULL;
	hist_close(h);
	/* A read-only directory: the database cannot be created there. */
	sub = xasprintf("%s/ro", t->dir);
	if (mkdir(sub, 0500) != 0)
		return 10;
	free(sub);
	sub = xasprintf("%s/ro/ehlo.db", t->dir);
	if ((h = hist_open(sub, 0, &err)) != NULL)
		return 11;
	if (strstr(err, "cannot create") == NULL)
		return 12;
	free(err);
	free(sub);
	return 0;
}

static void
test_read_only(void **state)
{
	as_user(readonly_checks, *state);
}

static void
test_locked(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0), *h2;
	struct timespec a, b;
	sqlite3 *db;
	char *err = NULL;
	double secs;

	hist_close(h);
	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	(void)clock_gettime(CLOCK_MONOTONIC, &a);
	h2 = hist_open(t->path, 0, &err);
	if (h2 != NULL) {
		/* WAL lets it open; the first write meets the lock. */
		assert_int_equal(
		    hist_session_begin(h2, "mx", 25, "plain", 0, &err), -1);
		hist_close(h2);
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_non_null(strstr(err, "lock"));
	assert_non_null(strstr(err, t->path));
	assert_true(secs >= HIST_BUSY_TIMEOUT_MS / 1000.0 - 0.2);
	assert_true(secs < HIST_BUSY_TIMEOUT_MS / 1000.0 + 3);
	free(err);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), 0);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* ---- the recorder: secrets and message content ------------------------ */

struct rfx {
	struct smtp_session *s;
	struct record *rec;
	int print; /* as line mode: record, then print */
	struct print_opts po;
};

static void
rec_cb(const struct smtp_event *ev, void *arg)
{
	struct rfx *f = arg;

	record_event(f->rec, ev);
	if (f->print)
		print_event(&f->po, ev);
}

static void
feed(struct rfx *f, const char *s)
{
	size_t n;

	smtp_session_feed(f->s, s, strlen(s));
	(void)smtp_session_output(f->s, &n);
	smtp_session_output_consume(f->s, n);
}

static void
send_line(struct rfx *f, const char *line)
{
	char *err = NULL;
	size_t n;

	if (smtp_session_send(f->s, line, strlen(line), &err) != 0)
		fail_msg("send %s: %s", line, err);
	(void)smtp_session_output(f->s, &n);
	smtp_session_output_consume(f->s, n);
}

static int
count_ev_cb(const struct hist_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	return 0;
}

/*
 * The recorder under test, on a healthy database: record_new on the
 * open database *h (the store, as the workbench records), or
 * record_open into a spool file beside it (as `ehlo run` does; *h
 * NULL).
 */
static struct record *
recorder_open(struct tmp *t, struct hist **h)
{
	struct record *r;
	struct hist *db = must_open(t->path, 0);

	*h = NULL;
	if (!t->use_spool) {
		*h = db;
		return record_new(db);
	}
	hist_close(db);
	r = record_open(t->path, 0, 1);
	assert_non_null(r);
	return r;
}

static int
newest_cb(const struct hist_session *s, void *arg)
{
	*(int64_t *)arg = s->id;
	return 1;
}

/*
 * After record_free: the database holding what was recorded (the
 * spool imported by opening it) and the session's id there (sid: what
 * record_session_id said, 0 for a spooled session: the newest then).
 */
static struct hist *
recorder_db(struct tmp *t, struct hist *h, int64_t sid, int64_t *id)
{
	char *err = NULL;

	assert_int_equal(sid == 0, t->use_spool);
	if (h == NULL) {
		assert_int_equal(hist_spool_pending(t->path, NULL), 1);
		h = must_open(t->path, 0);
		assert_null(hist_warnings(h));
		assert_int_equal(hist_spool_pending(t->path, NULL), 0);
		assert_int_equal(
		    hist_session_list(h, 1, NULL, newest_cb, &sid, &err), 1);
	}
	*id = sid;
	return h;
}

/*
 * A session recorded into a fresh recorder (see recorder_open) up to
 * the server's greeting; returns what record_session_id says.
 */
static int64_t
recorder_start(struct tmp *t, struct rfx *f, struct hist **h)
{
	memset(f, 0, sizeof *f);
	f->rec = recorder_open(t, h);
	f->s = smtp_session_new(rec_cb, f);
	record_begin(f->rec, "mx.example", 25, "plain", 0);
	record_attach(f->rec, f->s, NULL);
	smtp_session_connected(f->s, "192.0.2.1:25");
	feed(f, "220 mx ESMTP\r\n");
	return record_session_id(f->rec);
}

/* MAIL and RCPT, each accepted. */
static void
envelope(struct rfx *f)
{
	send_line(f, "MAIL FROM:<alice@example>");
	feed(f, "250 ok\r\n");
	send_line(f, "RCPT TO:<bob@example>");
	feed(f, "250 ok\r\n");
}

/* MAIL, RCPT and DATA, each accepted. */
static void
envelope_to_data(struct rfx *f)
{
	envelope(f);
	send_line(f, "DATA");
	feed(f, "354 go\r\n");
}

/*
 * A reply of 900 lines in one read: the queue is written out on the way
 * (it holds at most RECORD_QUEUE_ROWS), every line becomes a row in
 * order, and the code still lands on the last line.
 */
static int
reply_rows_cb(const struct hist_event *ev, void *arg)
{
	long *n = arg;

	if (ev->dir == 'S' && ev->seq >= 4) {
		(*n)++;
		if (ev->seq < 903)
			assert_int_equal(ev->flags & HIST_EV_REPLY, 0);
		else {
			assert_int_equal(ev->seq, 903);
			assert_int_equal(ev->code, 250);
			assert_int_equal(
			    ev->flags & HIST_EV_REPLY, HIST_EV_REPLY);
			assert_memory_equal(ev->text, "250 last", 8);
		}
	}
	return 0;
}

static void
test_recorder_long_reply(void **state)
{
	struct tmp *t = *state;
	struct hist *h;
	struct rfx f;
	struct buf b;
	char *err = NULL;
	long n = 0;
	int64_t id;
	int i;

	id = recorder_start(t, &f, &h);
	send_line(&f, "HELP");
	buf_init(&b, 0);
	for (i = 1; i < 900; i++)
		(void)buf_add_printf(&b, "250-line %d\r\n", i);
	(void)buf_add_str(&b, "250 last\r\n");
	smtp_session_feed(f.s, buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	record_end(f.rec, 0);
	smtp_session_free(f.s);
	record_free(f.rec);
	h = recorder_db(t, h, id, &id);
	/* 1 "connected" note, the greeting, HELP, then the 900 lines. */
	assert_true(hist_events_iter(h, id, reply_rows_cb, &n, &err) >= 903);
	assert_int_equal(n, 900);
	hist_close(h);
}

/*
 * The one file of the spool directory (a recorder's spool file, while
 * it waits for the import), read whole into *n octets.
 */
static char *
spool_slurp(struct tmp *t, size_t *n)
{
	char *dir = xasprintf("%s-spool", t->path), *path = NULL, *data;
	struct dirent *e;
	int files = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		free(path);
		path = xasprintf("%s/%s", dir, e->d_name);
		files++;
	}
	(void)closedir(d);
	assert_int_equal(files, 1);
	data = slurp(path, n);
	free(path);
	free(dir);
	return data;
}

/* The secrets are not in the spool file. */
static void
no_secrets_in_spool(struct tmp *t, const char *const *secrets, size_t n)
{
	size_t len, k;
	char *data = spool_slurp(t, &len);

	for (k = 0; k < n; k++)
		if (contains(data, len, secrets[k]))
			fail_msg("the spool file holds %s", secrets[k]);
	assert_true(contains(data, len, "user=alice"));
	free(data);
}

static void
test_recorder_secrets_and_content(void **state)
{
	static const char *const secrets[] = {
	    "s3cret-Passw0rd", /* the secrets themselves */
	    "l0gin-pa55word",
	    /* and their base64 forms */
	    "AGFsaWNlAHMzY3JldC1QYXNzdzByZA==",
	    "bDBnaW4tcGE1NXdvcmQ=",
	};
	struct tmp *t = *state;
	struct hist *h;
	struct rfx f;
	struct hist_body *b;
	struct smtp_sha256 *big_sha;
	char *err = NULL, *data, *p64, line[64], *walpath;
	char big_hex[SMTP_SHA256_HEX];
	size_t n, i;
	int64_t id;

	id = recorder_start(t, &f, &h);
	send_line(&f, "EHLO me");
	feed(&f, "250-mx\r\n250-AUTH PLAIN LOGIN\r\n250 PIPELINING\r\n");
	/* AUTH PLAIN typed by hand with the initial response. */
	p64 = sasl_b64_encode("\0alice\0s3cret-Passw0rd", 22);
	assert_string_equal(p64, secrets[2]);
	(void)snprintf(line, sizeof line, "AUTH PLAIN %s", p64);
	send_line(&f, line);
	free(p64);
	feed(&f, "535 5.7.8 no\r\n");
	/* AUTH LOGIN typed step by step. */
	send_line(&f, "AUTH LOGIN");
	feed(&f, "334 VXNlcm5hbWU6\r\n");
	p64 = sasl_b64_encode("alice", 5);
	send_line(&f, p64);
	free(p64);
	feed(&f, "334 UGFzc3dvcmQ6\r\n");
	p64 = sasl_b64_encode("l0gin-pa55word", 14);
	assert_string_equal(p64, secrets[3]);
	send_line(&f, p64);
	free(p64);
	feed(&f, "235 2.7.0 ok\r\n");
	/* A message of 30 lines: 20 rows, one note, the body kept. */
	envelope_to_data(&f);
	for (i = 1; i <= 30; i++) {
		(void)snprintf(line, sizeof line, "content line %zu", i);
		send_line(&f, line);
	}
	send_line(&f, ".");
	feed(&f, "250 2.0.0 queued as ABC123XYZ\r\n");
	/*
	 * A message over HIST_BODY_INLINE_MAX: not kept, its SHA-256 (over
	 * the lines buffered before it grew too big as well) is stored.
	 */
	envelope_to_data(&f);
	big_sha = smtp_sha256_new();
	for (i = 1; i <= 1000; i++) {
		char big[128];

		(void)snprintf(
		    big, sizeof big, "big line %04zu %0*d", i, 100, 0);
		send_line(&f, big);
		smtp_sha256_update(big_sha, big, strlen(big));
		smtp_sha256_update(big_sha, "\r\n", 2);
	}
	smtp_sha256_final(big_sha, big_hex);
	send_line(&f, ".");
	feed(&f, "250 2.0.0 queued as DEF456\r\n");
	send_line(&f, "QUIT");
	feed(&f, "221 bye\r\n");
	record_end(f.rec, 1);
	smtp_session_free(f.s);
	record_free(f.rec);
	/* Not in the spool file either, while it waits. */
	if (t->use_spool)
		no_secrets_in_spool(
		    t, secrets, sizeof secrets / sizeof secrets[0]);
	h = recorder_db(t, h, id, &id);

	/* Content: rows for the first 20 lines only. */
	{
		struct hist_session *s = hist_session_get(h, id, &err);

		assert_non_null(s);
		assert_int_equal(s->exit_status, 1);
		assert_non_null(strstr(s->caps, "AUTH PLAIN LOGIN"));
		hist_session_free(s);
	}
	n = (size_t)hist_events_iter(h, id, count_ev_cb, NULL, &err);
	assert_true(n > 40 && n < 100);
	hist_close(h);

	/* The secrets are in no file of the database. */
	h = must_open(t->path, 0);
	hist_close(h);
	for (i = 0; i < 2; i++) {
		walpath =
		    i == 0 ? xstrdup(t->path) : xasprintf("%s-wal", t->path);
		data = slurp(walpath, &n);
		for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++)
			if (contains(data, n, secrets[k]))
				fail_msg("%s holds %s", walpath, secrets[k]);
		if (i == 0) {
			assert_true(contains(data, n, "user=alice"));
			assert_true(contains(data, n, "content line 20"));
		}
		free(data);
		free(walpath);
	}
	h = must_open(t->path, 0);
	/*
	 * The "." rows carry the bodies: 30 lines kept whole (readers digest
	 * the content), 1000 lines as size and SHA-256.
	 */
	{
		struct hist_session *s = hist_session_get(h, id, &err);
		int64_t seq;
		long found = 0;

		for (seq = 1; seq <= s->nevents; seq++) {
			b = hist_body_get(h, id, seq, &err);
			if (b == NULL)
				continue;
			found++;
			assert_string_equal(b->kind, "inline");
			if (found == 1) {
				assert_int_equal(b->lines, 30);
				assert_non_null(b->content);
				assert_true(contains(b->content, b->content_len,
				    "content line 30\r\n"));
				assert_null(b->sha256);
			} else {
				assert_int_equal(b->lines, 1000);
				assert_int_equal(b->size, 1000 * 116);
				assert_null(b->content);
				assert_non_null(b->sha256);
				assert_string_equal(b->sha256, big_hex);
			}
			hist_body_free(b);
		}
		assert_int_equal(found, 2);
		hist_session_free(s);
	}
	assert_int_equal(hist_session_list(h, -1, "content line 25", count_cb,
	                     &(long){0}, &err),
	    0);
	assert_int_equal(hist_session_list(h, -1, "\"content line 20\"",
	                     count_cb, &(long){0}, &err),
	    1);
	hist_close(h);
}

/* ---- the recorder: BDAT chunks --------------------------------------- */

/* The client rows of a session, as read back. */
struct crow {
	int64_t seq;
	char dir;
	unsigned flags;
	char *stage;
	char *text;
};

struct crows {
	struct crow v[128];
	size_t n;
};

static int
crows_cb(const struct hist_event *ev, void *arg)
{
	struct crows *c = arg;
	struct crow *w;

	assert_true(c->n < sizeof c->v / sizeof c->v[0]);
	w = &c->v[c->n++];
	w->seq = ev->seq;
	w->dir = ev->dir;
	w->flags = ev->flags;
	w->stage = ev->stage != NULL ? xstrdup(ev->stage) : NULL;
	w->text = xstrndup(ev->text, ev->len);
	return 0;
}

/* The index of the row with text (from row at on), or fails. */
static size_t
crow_find(const struct crows *c, size_t at, const char *text)
{
	for (; at < c->n; at++)
		if (strcmp(c->v[at].text, text) == 0)
			return at;
	fail_msg("no row \"%s\"", text);
	return 0;
}

/* The body on row i: its content must be want (size and lines too). */
static void
body_is(struct hist *h, int64_t id, const struct crows *c, size_t i,
    const char *want, uint64_t lines)
{
	char *err = NULL;
	struct hist_body *b = hist_body_get(h, id, c->v[i].seq, &err);

	if (b == NULL)
		fail_msg("no body on row %lld \"%s\"", (long long)c->v[i].seq,
		    c->v[i].text);
	assert_string_equal(b->kind, "inline");
	assert_int_equal(b->size, strlen(want));
	assert_int_equal(b->lines, lines);
	assert_non_null(b->content);
	assert_int_equal(b->content_len, strlen(want));
	assert_memory_equal(b->content, want, strlen(want));
	hist_body_free(b);
}

/*
 * Lines in BDAT chunks are message content like lines after DATA: the
 * chunks up to LAST are one message whose body (as sent: a line that
 * ended a chunk without CRLF has none) is kept on the last content row,
 * and past RECORD_CONTENT_ROWS lines the rest are counted, not rows.
 */
static void
test_recorder_bdat_content(void **state)
{
	struct tmp *t = *state;
	struct hist *h;
	struct rfx f;
	struct crows c;
	struct buf want;
	char *err = NULL, line[64];
	size_t i, at, rows;
	int64_t id;

	memset(&c, 0, sizeof c);
	id = recorder_start(t, &f, &h);
	send_line(&f, "EHLO me");
	feed(&f, "250-mx\r\n250 CHUNKING\r\n");
	/* Two chunks, one message. */
	envelope(&f);
	send_line(&f, "BDAT 12");
	send_line(&f, "Subject: x");
	feed(&f, "250 2.0.0 12 octets\r\n");
	send_line(&f, "BDAT 40 LAST");
	send_line(&f, "");
	send_line(&f, "first line");
	send_line(&f, "other line");
	send_line(&f, "final line!!");
	feed(&f, "250 2.0.0 queued as A1\r\n");
	/* A chunk ending inside a line: 11 octets, no CRLF. */
	envelope(&f);
	send_line(&f, "BDAT 11");
	send_line(&f, "Subject: sp");
	feed(&f, "250 2.0.0 11 octets\r\n");
	send_line(&f, "BDAT 13 LAST");
	send_line(&f, "lit");
	send_line(&f, "");
	send_line(&f, "body");
	feed(&f, "250 2.0.0 queued as A2\r\n");
	/* BDAT 0 LAST ends the message at its reply. */
	envelope(&f);
	send_line(&f, "BDAT 7");
	send_line(&f, "hello");
	feed(&f, "250 2.0.0 7 octets\r\n");
	send_line(&f, "BDAT 0 LAST");
	feed(&f, "250 2.0.0 queued as A3\r\n");
	/* 30 lines in one chunk: 20 rows, a note, the body whole. */
	envelope(&f);
	send_line(&f, "BDAT 450 LAST");
	buf_init(&want, 0);
	for (i = 1; i <= 30; i++) {
		(void)snprintf(line, sizeof line, "chunk line %02zu", i);
		send_line(&f, line);
		(void)buf_add_printf(&want, "%s\r\n", line);
	}
	assert_int_equal(buf_used(&want), 450);
	assert_int_equal(smtp_session_chunk_left(f.s), 0);
	feed(&f, "250 2.0.0 queued as A4\r\n");
	send_line(&f, "QUIT");
	feed(&f, "221 bye\r\n");
	record_end(f.rec, 0);
	smtp_session_free(f.s);
	record_free(f.rec);
	h = recorder_db(t, h, id, &id);
	assert_true(hist_events_iter(h, id, crows_cb, &c, &err) > 0);

	/* The first message: every line a content row of the BDAT stage. */
	at = crow_find(&c, 0, "BDAT 12");
	assert_int_equal(c.v[at].flags & HIST_EV_CONTENT, 0);
	at = crow_find(&c, at, "Subject: x");
	assert_int_equal(c.v[at].flags & HIST_EV_CONTENT, HIST_EV_CONTENT);
	assert_string_equal(c.v[at].stage, "BDAT");
	at = crow_find(&c, at, "final line!!");
	assert_int_equal(c.v[at].flags & HIST_EV_CONTENT, HIST_EV_CONTENT);
	body_is(h, id, &c, at,
	    "Subject: x\r\n\r\nfirst line\r\nother line\r\nfinal line!!\r\n",
	    5);
	/* The second: 24 octets in 3 lines, not 26 in 4. */
	at = crow_find(&c, at, "body");
	body_is(h, id, &c, at, "Subject: split\r\n\r\nbody\r\n", 3);
	/* The third: the body on its only content row. */
	at = crow_find(&c, at, "hello");
	body_is(h, id, &c, at, "hello\r\n", 1);
	/* The fourth: capped like DATA content, the body on the note. */
	at = crow_find(&c, at, "chunk line 20");
	assert_int_equal(c.v[at].flags & HIST_EV_CONTENT, HIST_EV_CONTENT);
	assert_int_equal(c.v[at + 1].dir, '*');
	assert_int_equal(c.v[at + 1].flags & HIST_EV_ELIDED, HIST_EV_ELIDED);
	assert_non_null(strstr(c.v[at + 1].text, "10 more content lines"));
	assert_non_null(strstr(c.v[at + 1].text, "450 octets"));
	(void)buf_add(&want, "", 1);
	body_is(h, id, &c, at + 1, buf_peek(&want), 30);
	for (i = 0, rows = 0; i < c.n; i++) {
		assert_null(strstr(c.v[i].text, "chunk line 21"));
		if (c.v[i].flags & HIST_EV_CONTENT)
			rows++;
	}
	assert_int_equal(rows, 5 + 4 + 1 + RECORD_CONTENT_ROWS);
	for (i = 0; i < c.n; i++) {
		free(c.v[i].stage);
		free(c.v[i].text);
	}
	buf_reset(&want);
	hist_close(h);
}

/* ---- the recorder and the screen ------------------------------------ */

/*
 * Whether a dialogue row with text is durable: committed to the
 * database (read through a connection of its own, which sees only
 * committed rows), or written to the spool file.
 */
static int
durable(struct tmp *t, const char *text, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = 0;

	if (t->use_spool) {
		size_t dn;
		char *data = spool_slurp(t, &dn), *needle = xstrndup(text, len);

		n = contains(data, dn, needle);
		free(needle);
		free(data);
		return n;
	}
	assert_int_equal(
	    sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM events WHERE text = ?",
	        -1, &st, NULL),
	    SQLITE_OK);
	(void)sqlite3_bind_text(st, 1, text, (int)len, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	(void)sqlite3_finalize(st);
	(void)sqlite3_close(db);
	return n > 0;
}

/*
 * Every line on the "terminal" (the file standing for stdout) shows a
 * durable row.  Returns how many lines it holds.
 */
static long
shown_all_durable(struct tmp *t, const char *out)
{
	static const char *const prefix[] = {
	    "*: warning: ", "*: error: ", "C: ", "S: ", "*: "};
	size_t n, k;
	char *data = slurp(out, &n), *line = data, *end;
	long lines = 0;

	while ((end = memchr(line, '\n', n - (size_t)(line - data))) != NULL) {
		const char *text = line;

		for (k = 0; k < sizeof prefix / sizeof prefix[0]; k++)
			if (strncmp(line, prefix[k], strlen(prefix[k])) == 0) {
				text = line + strlen(prefix[k]);
				break;
			}
		if (!durable(t, text, (size_t)(end - text)))
			fail_msg("shown before it was recorded: %.*s",
			    (int)(end - line), line);
		lines++;
		line = end + 1;
	}
	free(data);
	return lines;
}

/*
 * Line mode's promise, on both sinks: a crash loses nothing that was
 * already shown.  stdout is unbuffered here (main), the most eager
 * stdio there is: whatever reaches stdio reaches the file at once.
 * After each burst of events, with the batch still open, every line on
 * the file must show a durable row; after record_flush (the commit
 * line mode does at most every RECORD_BATCH_MS) the lines are there.
 */
static void
test_recorder_shows_only_durable(void **state)
{
	struct tmp *t = *state;
	struct hist *h;
	struct rfx f;
	struct buf b;
	char *out = xasprintf("%s/stdout", t->dir), *err = NULL;
	int64_t id;
	int saved, fd, i;

	memset(&f, 0, sizeof f);
	f.rec = recorder_open(t, &h);
	record_watch_stdout(f.rec);
	f.s = smtp_session_new(rec_cb, &f);
	f.print = 1;
	f.po.session = f.s;
	record_begin(f.rec, "mx.example", 25, "plain", 0);
	record_attach(f.rec, f.s, NULL);
	(void)fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved != -1 && fd != -1);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	(void)close(fd);

	smtp_session_connected(f.s, "192.0.2.1:25");
	feed(&f, "220 mx ESMTP\r\n");
	assert_int_equal(shown_all_durable(t, out), 0);
	record_flush(f.rec);
	assert_int_equal(shown_all_durable(t, out), 2);
	/* A long reply in one read: more rows than the queue holds. */
	send_line(&f, "HELP");
	buf_init(&b, 0);
	for (i = 1; i < 700; i++)
		(void)buf_add_printf(&b, "214-help line %d\r\n", i);
	(void)buf_add_str(&b, "214 end\r\n");
	smtp_session_feed(f.s, buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	assert_int_equal(shown_all_durable(t, out), 2);
	record_flush(f.rec);
	assert_int_equal(shown_all_durable(t, out), 2 + 1 + 700);
	send_line(&f, "QUIT");
	feed(&f, "221 bye\r\n");
	assert_int_equal(shown_all_durable(t, out), 2 + 1 + 700);
	record_end(f.rec, 0);
	id = record_session_id(f.rec);
	smtp_session_free(f.s);
	record_free(f.rec);
	(void)fflush(stdout);
	assert_int_equal(shown_all_durable(t, out), 2 + 1 + 700 + 2);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	(void)close(saved);
	h = recorder_db(t, h, id, &id);
	assert_true(hist_events_iter(h, id, count_ev_cb, NULL, &err) >= 705);
	hist_close(h);
	free(out);
}

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
	        test_corrupt_file, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_damaged_page, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_read_only, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_locked, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_recorder_secrets_and_content, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_recorder_secrets_and_content, setup_spool, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_recorder_bdat_content, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_recorder_bdat_content, setup_spool, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_recorder_long_reply, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_recorder_long_reply, setup_spool, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_recorder_shows_only_durable, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_recorder_shows_only_durable, setup_spool, teardown_tmp),
	};

	/* The most eager stdio: anything it is given is written at once. */
	(void)setvbuf(stdout, NULL, _IONBF, 0);
	/* Never the user's database, whatever the environment says. */
	(void)unsetenv("EHLO_DB");
	(void)setenv("HOME", "/nonexistent", 1);
	(void)unsetenv("XDG_DATA_HOME");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
