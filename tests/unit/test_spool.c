/*
 * Unit tests for the history sinks (history/hist_sink.h) and the spool
 * (history/hist_spool_*.c).  Run on both sinks, one test body each:
 * what goes through the sink operations comes out of the database the
 * same whether the store wrote it or a spool file was imported (events
 * with NUL and escape bytes, reply facts, session columns, bodies,
 * several sessions in one file, search), and the STARTTLS downgrade
 * check.  The spool's own concerns, on the spool alone: it is only
 * used for a healthy, current database; a record cut short or damaged
 * keeps the file aside with a warning saying which, importing what
 * came before; a file imported once is never imported twice (a crash
 * between commit and unlink); a file whose writer still runs is left
 * alone; the STARTTLS pins answer the downgrade check, and without them
 * the check reads the database and the spool; a /body file is digested
 * at import only when it is unchanged; a record the database refuses
 * keeps the file aside but not the database from opening; the 64th
 * file waiting brings the import.
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
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "history/hist_sink.h"
#include "history/history.h"
#include "protocol/digest.h"

struct tmp {
	char dir[64];
	char path[128];
	char spool[160];
	int use_spool; /* the sink under test: 1 spool, 0 store */
};

static int
setup_tmp(void **state)
{
	struct tmp *t = xcalloc(1, sizeof *t);
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base != '/' || strlen(base) > 40)
		base = "/tmp";
	(void)snprintf(t->dir, sizeof t->dir, "%s/ehlo-spool-XXXXXX", base);
	if (mkdtemp(t->dir) == NULL)
		return -1;
	(void)snprintf(t->path, sizeof t->path, "%s/ehlo.db", t->dir);
	(void)snprintf(t->spool, sizeof t->spool, "%s-spool", t->path);
	*state = t;
	return 0;
}

static int
setup_store(void **state)
{
	return setup_tmp(state);
}

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
		(void)fprintf(stderr, "could not remove %s\n", t->dir);
	free(cmd);
	free(t);
	return 0;
}

static struct hist *
must_open(const char *path)
{
	char *err = NULL;
	struct hist *h = hist_open(path, 0, &err);

	if (h == NULL)
		fail_msg("hist_open %s: %s", path, err);
	return h;
}

/* A new, healthy database at path (what a first run leaves). */
static void
make_db(const char *path)
{
	hist_close(must_open(path));
}

/* Runs sql on the database at path behind ehlo's back; 0 or -1. */
static int
sqlite_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	int rc = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		rc = 0;
	(void)sqlite3_close(db);
	return rc;
}

static struct hist_sink *
must_spool(const char *path)
{
	char *err = NULL;
	struct hist_sink *s = hist_sink_spool(path, &err);

	if (s == NULL)
		fail_msg("hist_sink_spool %s: %s", path,
		    err != NULL ? err : "fell back to the database");
	return s;
}

/* Closes a sink that has nothing to say. */
static void
close_sink(struct hist_sink *s)
{
	char *note = hist_sink_close(s);

	if (note != NULL)
		fail_msg("closing the sink: %s", note);
}

static void
event(struct hist_sink *sink, int64_t id, int64_t seq, char dir,
    const char *text, size_t len, int code)
{
	struct hist_event ev;
	char *err = NULL;

	memset(&ev, 0, sizeof ev);
	ev.seq = seq;
	ev.t_us = (uint64_t)seq * 1000;
	ev.dir = dir;
	ev.text = text;
	ev.len = len;
	ev.stage_no = -1;
	ev.latency_us = -1;
	if (code > 0) {
		ev.code = code;
		ev.flags = HIST_EV_REPLY;
		ev.stage = "MAIL";
		ev.enhanced = "2.1.0";
		ev.latency_us = 777;
		ev.stage_no = 2;
	}
	if (hist_sink_event(sink, id, &ev, &err) != seq)
		fail_msg("event %lld: %s", (long long)seq, err);
}

static int
count_cb(const struct hist_session *s, void *arg)
{
	(void)s;
	(*(long *)arg)++;
	return 0;
}

static long
sessions(struct hist *h)
{
	char *err = NULL;
	long n = 0;

	if (hist_session_list(h, -1, NULL, count_cb, &n, &err) < 0)
		fail_msg("list: %s", err);
	return n;
}

/* The one file in dir whose name ends with suffix (allocated), or NULL. */
static char *
only_file(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *found = NULL;
	int n = 0;

	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name), s = strlen(suffix);

		if (l > s && strcmp(e->d_name + l - s, suffix) == 0) {
			free(found);
			found = xasprintf("%s/%s", dir, e->d_name);
			n++;
		}
	}
	(void)closedir(d);
	if (n != 1) {
		free(found);
		return NULL;
	}
	return found;
}

/* One whole session: what the recorder writes, with odd bytes. */
static void
record_session(struct hist_sink *h, const char *server, const char *plain_caps)
{
	static const char odd[] = "550 a\0b\x1b[2J";
	struct hist_body b;
	char *err = NULL;
	int64_t id;

	assert_int_equal(hist_sink_tx_begin(h, &err), 0);
	id = hist_sink_begin(h, server, 25, "plain", 0, &err);
	assert_true(id > 0);
	event(h, id, 1, 'S', "220 hi", 6, 0);
	event(h, id, 2, 'C', "MAIL FROM:<a@example>", 21, 0);
	event(h, id, 3, 'S', "250 2.1.0 ok", 12, 250);
	event(h, id, 4, 'S', odd, sizeof odd - 1, 0);
	assert_int_equal(
	    hist_sink_reply(h, id, 4, "RCPT", 550, "5.1.1", 3, 900, &err), 0);
	assert_int_equal(
	    hist_sink_set(h, id, HIST_FACT_CAPS, "PIPELINING", &err), 0);
	if (plain_caps != NULL)
		assert_int_equal(hist_sink_set(h, id, HIST_FACT_PLAIN_CAPS,
		                     plain_caps, &err),
		    0);
	assert_int_equal(hist_sink_set(h, id, HIST_FACT_LABEL, "lbl", &err), 0);
	memset(&b, 0, sizeof b);
	b.seq = 2;
	b.kind = "inline";
	b.size = 5;
	b.lines = 1;
	b.first_lines = "hello";
	b.content = "hi\r\n.";
	b.content_len = 5;
	assert_int_equal(hist_sink_body(h, id, &b, &err), 0);
	assert_int_equal(hist_sink_tx_commit(h, &err), 0);
	assert_int_equal(hist_sink_end(h, id, 3, &err), 0);
}

struct evs {
	int n;
	int code[8];
	size_t len[8];
	char text[8][32];
};

static int
ev_cb(const struct hist_event *ev, void *arg)
{
	struct evs *e = arg;

	if (e->n < 8) {
		e->code[e->n] = ev->code;
		e->len[e->n] = ev->len;
		memcpy(e->text[e->n], ev->text, ev->len < 32 ? ev->len : 32);
	}
	e->n++;
	return 0;
}

/*
 * The sink under test, on a healthy database: the store on the open
 * database *h, or a spool file beside it (*h NULL).
 */
static struct hist_sink *
open_sink(struct tmp *t, struct hist **h)
{
	*h = NULL;
	make_db(t->path);
	if (t->use_spool)
		return must_spool(t->path);
	*h = must_open(t->path);
	return hist_sink_store(*h);
}

/*
 * One test body, both sinks: what goes through the operations comes out
 * of the database the same, two sessions numbered in order, whether it
 * was written there or spooled and imported by the next open.
 */
static void
test_round_trip(void **state)
{
	struct tmp *t = *state;
	struct hist_sink *sp;
	struct hist *h;
	struct hist_session *s;
	struct hist_body *b;
	struct evs e;
	char *err = NULL;

	sp = open_sink(t, &h);
	assert_int_equal(hist_sink_spool_file(sp) != NULL, t->use_spool);
	record_session(sp, "mx.example", NULL);
	record_session(sp, "mx2.example", NULL);
	close_sink(sp);
	hist_close(h);
	assert_int_equal(hist_spool_pending(t->path, NULL), t->use_spool);

	/* Opening imports what was spooled. */
	h = must_open(t->path);
	assert_null(hist_warnings(h));
	assert_int_equal(sessions(h), 2);
	assert_int_equal(hist_spool_pending(t->path, NULL), 0);
	s = hist_session_get(h, 1, &err);
	assert_non_null(s);
	assert_string_equal(s->server, "mx.example");
	assert_string_equal(s->caps, "PIPELINING");
	assert_string_equal(s->label, "lbl");
	assert_int_equal(s->exit_status, 3);
	assert_true(s->started > 0 && s->ended >= s->started);
	hist_session_free(s);
	s = hist_session_get(h, 2, &err);
	assert_string_equal(s->server, "mx2.example");
	hist_session_free(s);

	memset(&e, 0, sizeof e);
	assert_int_equal(hist_events_iter(h, 2, ev_cb, &e, &err), 4);
	assert_int_equal(e.code[2], 250);
	assert_int_equal(e.code[3], 550);
	assert_int_equal(e.len[3], 11);
	assert_memory_equal(e.text[3], "550 a\0b\x1b[2J", 11);
	b = hist_body_get(h, 2, 2, &err);
	assert_non_null(b);
	assert_int_equal(b->content_len, 5);
	assert_memory_equal(b->content, "hi\r\n.", 5);
	hist_body_free(b);
	/* Searchable either way (the import indexes at the file's end). */
	assert_int_equal(
	    hist_session_list(h, -1, "mx2.example", count_cb, &(long){0}, &err),
	    0);
	assert_int_equal(hist_session_list(h, -1, "\"250 2.1.0 ok\"", count_cb,
	                     &(long){0}, &err),
	    2);
	hist_close(h);

	/* Nothing left to import: the same two sessions. */
	h = must_open(t->path);
	assert_int_equal(sessions(h), 2);
	hist_close(h);
}

/*
 * Both sinks: the STARTTLS downgrade check sees an earlier session of
 * the same server that offered STARTTLS on a plain-text EHLO, not the
 * current one, and not another port.
 */
static void
test_had_starttls_both(void **state)
{
	struct tmp *t = *state;
	struct hist_sink *sp;
	struct hist *h;
	char *err = NULL;
	int64_t id = -1, started = 0;

	sp = open_sink(t, &h);
	record_session(sp, "mx.example", "PIPELINING\nSTARTTLS");
	assert_int_equal(hist_sink_had_starttls(
	                     sp, "mx.example", 25, 1, &id, &started, &err),
	    0);
	assert_int_equal(hist_sink_had_starttls(
	                     sp, "mx.example", 25, 2, &id, &started, &err),
	    1);
	assert_true(started > 0);
	/* A spooled session is not numbered yet. */
	assert_int_equal(id, t->use_spool ? 0 : 1);
	assert_int_equal(hist_sink_had_starttls(
	                     sp, "mx.example", 587, 2, &id, &started, &err),
	    0);
	assert_int_equal(hist_sink_had_starttls(
	                     sp, "other.example", 25, 2, &id, &started, &err),
	    0);
	close_sink(sp);
	hist_close(h);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd != -1);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	(void)close(fd);
}

static void
test_only_a_healthy_current_database(void **state)
{
	struct tmp *t = *state;
	char *err = NULL, *path;
	struct hist_sink *sp;

	/* No database yet: the caller creates it with hist_open. */
	assert_null(hist_sink_spool(t->path, &err));
	assert_null(err);
	/* Not a database; a header then garbage; a truncated one. */
	write_file(t->path, "not a database\n", 15);
	assert_null(hist_sink_spool(t->path, &err));
	assert_null(err);
	/* A directory is not a database either. */
	assert_null(hist_sink_spool(t->dir, &err));
	assert_null(err);
	path = xasprintf("%s/x.db", t->dir);
	make_db(path);
	sp = hist_sink_spool(path, &err);
	assert_non_null(sp);
	close_sink(sp);
	{
		struct stat sb;

		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(truncate(path, sb.st_size / 2), 0);
	}
	assert_null(hist_sink_spool(path, &err));
	assert_null(err);
	free(path);

	/* An SQLite header, then garbage. */
	path = xasprintf("%s/g.db", t->dir);
	{
		char g[4 * 4096];
		size_t i;

		for (i = 0; i < sizeof g; i++)
			g[i] = (char)(i * 131 + 7);
		memcpy(g, "SQLite format 3", 16);
		write_file(path, g, sizeof g);
	}
	assert_null(hist_sink_spool(path, &err));
	assert_null(err);
	free(path);

	/* An older schema (migrated by hist_open), and no WAL. */
	path = xasprintf("%s/o.db", t->dir);
	make_db(path);
	assert_int_equal(sqlite_exec(path, "PRAGMA user_version = 5"), 0);
	assert_null(hist_sink_spool(path, &err));
	assert_null(err);
	{
		char *v =
		    xasprintf("PRAGMA user_version = %d", hist_schema_latest());

		assert_int_equal(sqlite_exec(path, v), 0);
		free(v);
	}
	sp = hist_sink_spool(path, &err);
	assert_non_null(sp);
	close_sink(sp);
	assert_int_equal(sqlite_exec(path, "PRAGMA journal_mode = DELETE"), 0);
	assert_null(hist_sink_spool(path, &err));
	assert_null(err);
	free(path);
}

/* The spool file's bytes, and the file's path (allocated). */
static char *
spool_bytes(struct tmp *t, size_t *n, char **file)
{
	char *p = NULL;
	struct stat sb;
	int fd;

	*file = only_file(t->spool, ".spool");
	assert_non_null(*file);
	fd = open(*file, O_RDONLY);
	assert_true(fd != -1);
	assert_int_equal(fstat(fd, &sb), 0);
	p = xmalloc((size_t)sb.st_size + 1);
	assert_int_equal(read(fd, p, (size_t)sb.st_size), sb.st_size);
	(void)close(fd);
	*n = (size_t)sb.st_size;
	return p;
}

static void
test_torn_and_damaged(void **state)
{
	struct tmp *t = *state;
	struct hist_sink *sp;
	struct hist *h;
	char *p, *file, *kept;
	size_t n, one;

	make_db(t->path);
	sp = must_spool(t->path);
	record_session(sp, "a.example", NULL);
	close_sink(sp);
	p = spool_bytes(t, &n, &file);
	one = n;

	/*
	 * A last record cut short (the writer died in a write, or an
	 * octet of a length field changed: the two look alike): what came
	 * before comes in, and the file is kept, with a warning.
	 */
	sp = must_spool(t->path);
	close_sink(sp); /* an empty spool leaves no file */
	{
		char *torn = xmalloc(n + 6);

		memcpy(torn, p, n);
		memcpy(torn + n, p + 8, 6); /* a record's first 6 octets */
		write_file(file, torn, n + 6);
		free(torn);
	}
	h = must_open(t->path);
	assert_non_null(hist_warnings(h));
	assert_non_null(strstr(hist_warnings(h), "cut short"));
	assert_int_equal(sessions(h), 1);
	assert_int_equal(hist_spool_pending(t->path, NULL), 0);
	hist_close(h);
	kept = xasprintf("%s.damaged", file);
	assert_int_equal(access(kept, F_OK), 0);
	assert_int_equal(unlink(kept), 0);
	free(kept);
	free(file);
	free(p);

	/* Two sessions, one octet of the second changed: the first comes
	 * in, the file is kept as .damaged and the warning says where. */
	sp = must_spool(t->path);
	record_session(sp, "b.example", NULL);
	record_session(sp, "c.example", NULL);
	close_sink(sp);
	p = spool_bytes(t, &n, &file);
	p[one + (n - one) / 2] ^= 0x5a;
	write_file(file, p, n);
	h = must_open(t->path);
	assert_non_null(hist_warnings(h));
	assert_non_null(strstr(hist_warnings(h), "a damaged record at octet "));
	assert_non_null(strstr(hist_warnings(h), ".damaged"));
	/* a and b, and c up to the damaged record. */
	assert_int_equal(sessions(h), 3);
	hist_close(h);
	kept = xasprintf("%s.damaged", file);
	assert_int_equal(access(kept, F_OK), 0);
	assert_int_equal(hist_spool_pending(t->path, NULL), 0);
	/* Kept, not imported again. */
	h = must_open(t->path);
	assert_null(hist_warnings(h));
	assert_int_equal(sessions(h), 3);
	hist_close(h);
	free(kept);
	free(file);
	free(p);
}

/*
 * A file the database refuses part of (here a row number used twice,
 * which the spool writer does not check): the records before it are
 * imported, the file is kept, and the database still opens.
 */
static void
test_refused_record(void **state)
{
	struct tmp *t = *state;
	struct hist_sink *sp;
	struct hist *h;
	char *err = NULL;
	int64_t id;

	make_db(t->path);
	sp = must_spool(t->path);
	record_session(sp, "a.example", NULL);
	id = hist_sink_begin(sp, "b.example", 25, "plain", 0, &err);
	event(sp, id, 1, 'S', "220 hi", 6, 0);
	event(sp, id, 2, 'C', "NOOP", 4, 0);
	event(sp, id, 2, 'S', "250 again", 9, 0);
	event(sp, id, 3, 'S', "250 after", 9, 0);
	close_sink(sp);
	h = must_open(t->path);
	assert_non_null(hist_warnings(h));
	assert_non_null(strstr(hist_warnings(h), "kept as"));
	assert_non_null(strstr(hist_warnings(h), "UNIQUE"));
	assert_int_equal(sessions(h), 2);
	{
		struct hist_session *s = hist_session_get(h, 2, &err);

		assert_non_null(s);
		assert_string_equal(s->server, "b.example");
		assert_int_equal(s->nevents, 2);
		hist_session_free(s);
	}
	hist_close(h);
	assert_int_equal(hist_spool_pending(t->path, NULL), 0);
}

/* The spool stays short: the 64th file waiting brings the import. */
static void
test_settle(void **state)
{
	struct tmp *t = *state;
	struct hist_sink *sp;
	struct hist *h;
	char *err = NULL;
	int i;

	make_db(t->path);
	for (i = 0; i < 63; i++) {
		sp = must_spool(t->path);
		assert_true(hist_sink_begin(
		                sp, "s.example", 25, "plain", 0, &err) == 1);
		/* Fewer than 64 waiting (this one included): nothing. */
		assert_null(hist_sink_close(sp));
	}
	assert_int_equal(hist_spool_pending(t->path, NULL), 63);
	/* Nothing recorded: no file, so no import either. */
	sp = must_spool(t->path);
	assert_null(hist_sink_close(sp));
	assert_int_equal(hist_spool_pending(t->path, NULL), 63);
	sp = must_spool(t->path);
	assert_true(
	    hist_sink_begin(sp, "last.example", 25, "plain", 0, &err) == 1);
	assert_null(hist_sink_close(sp));
	assert_int_equal(hist_spool_pending(t->path, NULL), 0);
	h = must_open(t->path);
	assert_int_equal(sessions(h), 64);
	hist_close(h);
}

static void
test_never_twice(void **state)
{
	struct tmp *t = *state;
	struct hist_sink *sp;
	struct hist *h;
	char *p, *file;
	size_t n;

	make_db(t->path);
	sp = must_spool(t->path);
	record_session(sp, "a.example", NULL);
	close_sink(sp);
	p = spool_bytes(t, &n, &file);
	h = must_open(t->path);
	assert_int_equal(sessions(h), 1);
	hist_close(h);
	/* As if a crash had come between the commit and the unlink. */
	write_file(file, p, n);
	assert_int_equal(hist_spool_pending(t->path, NULL), 1);
	h = must_open(t->path);
	assert_int_equal(sessions(h), 1);
	hist_close(h);
	assert_int_equal(hist_spool_pending(t->path, NULL), 0);
	free(file);
	free(p);
}

static void
test_live_writer_left_alone(void **state)
{
	struct tmp *t = *state;
	struct hist_sink *sp;
	struct hist *h;
	char *err = NULL;
	int64_t id;

	make_db(t->path);
	sp = must_spool(t->path);
	id = hist_sink_begin(sp, "live.example", 25, "plain", 0, &err);
	assert_int_equal(id, 1);
	event(sp, id, 1, 'S', "220 hi", 6, 0);
	/* The writer runs on (holds its lock): not imported yet. */
	h = must_open(t->path);
	assert_int_equal(sessions(h), 0);
	hist_close(h);
	assert_int_equal(hist_spool_pending(t->path, NULL), 1);
	close_sink(sp);
	/* Gone without an end (a crash): imported as unfinished. */
	h = must_open(t->path);
	assert_int_equal(sessions(h), 1);
	{
		struct hist_session *s = hist_session_get(h, 1, &err);

		assert_non_null(s);
		assert_int_equal(s->exit_status, -1);
		assert_int_equal(s->ended, 0);
		assert_int_equal(s->nevents, 1);
		hist_session_free(s);
	}
	hist_close(h);
}

static void
test_starttls_pins(void **state)
{
	struct tmp *t = *state;
	struct hist_sink *sp;
	struct hist *h;
	char *err = NULL, *pins = xasprintf("%s-starttls", t->path);
	int64_t id = -1, started = 0, sid;

	/* A session in the database that saw STARTTLS: the pins file is
	 * built from the database when missing. */
	h = must_open(t->path);
	sid = hist_session_begin(h, "mx.example", 25, "plain", 0, &err);
	assert_int_equal(
	    hist_session_set_plain_caps(h, sid, "PIPELINING\nSTARTTLS", &err),
	    0);
	hist_close(h);
	assert_int_equal(unlink(pins), 0);
	make_db(t->path);
	assert_int_equal(access(pins, F_OK), 0);

	sp = must_spool(t->path);
	assert_int_equal(hist_sink_had_starttls(
	                     sp, "mx.example", 25, 1, &id, &started, &err),
	    1);
	assert_int_equal(id, sid);
	assert_true(started > 0);
	assert_int_equal(hist_sink_had_starttls(
	                     sp, "mx.example", 587, 1, &id, &started, &err),
	    0);
	/* The answer comes from the pins file itself. */
	{
		char *line = xasprintf("1700000000 42 25 pin.example\n");
		int fd = open(pins, O_WRONLY | O_APPEND);

		assert_true(fd != -1);
		assert_int_equal(
		    write(fd, line, strlen(line)), (ssize_t)strlen(line));
		(void)close(fd);
		free(line);
	}
	assert_int_equal(hist_sink_had_starttls(
	                     sp, "pin.example", 25, 1, &id, &started, &err),
	    1);
	assert_int_equal(id, 42);
	assert_int_equal(started, 1700000000);
	/* A spooled session pins its server, not numbered yet. */
	record_session(sp, "b.example", "SIZE 10\nSTARTTLS");
	assert_int_equal(
	    hist_sink_had_starttls(sp, "b.example", 25, 9, &id, &started, &err),
	    1);
	assert_int_equal(id, 0);
	close_sink(sp);

	/* Without the pins: the database, then the spool files. */
	assert_int_equal(unlink(pins), 0);
	sp = must_spool(t->path);
	record_session(sp, "c.example", "STARTTLS");
	id = -1;
	assert_int_equal(hist_sink_had_starttls(
	                     sp, "mx.example", 25, 1, &id, &started, &err),
	    1);
	assert_int_equal(id, sid);
	assert_int_equal(
	    hist_sink_had_starttls(sp, "b.example", 25, 1, &id, &started, &err),
	    1);
	assert_int_equal(id, 0);
	/* Its own current session does not count; an earlier one does. */
	assert_int_equal(
	    hist_sink_had_starttls(sp, "c.example", 25, 1, &id, &started, &err),
	    0);
	assert_int_equal(
	    hist_sink_had_starttls(sp, "c.example", 25, 2, &id, &started, &err),
	    1);
	close_sink(sp);

	/*
	 * A run still going while the pins are rebuilt (it could not pin:
	 * no file) gets its pin when imported; a pin written with 0 gets
	 * the session's number then.
	 */
	sp = must_spool(t->path);
	record_session(sp, "e.example", "STARTTLS");
	make_db(t->path); /* imports b and c, rebuilds the pins */
	assert_int_equal(access(pins, F_OK), 0);
	close_sink(sp);
	sp = must_spool(t->path);
	record_session(sp, "f.example", "STARTTLS");
	close_sink(sp);
	make_db(t->path); /* imports e and f */
	sp = must_spool(t->path);
	id = 0;
	assert_int_equal(
	    hist_sink_had_starttls(sp, "e.example", 25, 1, &id, &started, &err),
	    1);
	assert_true(id > 0);
	id = 0;
	assert_int_equal(
	    hist_sink_had_starttls(sp, "f.example", 25, 1, &id, &started, &err),
	    1);
	assert_true(id > 0);
	close_sink(sp);
	free(pins);
}

static void
test_body_file_digest(void **state)
{
	struct tmp *t = *state;
	struct hist_sink *sp;
	struct hist *h;
	struct hist_body b, *got;
	char *err = NULL, *same = xasprintf("%s/same.txt", t->dir),
	     *changed = xasprintf("%s/changed.txt", t->dir);
	char want[SMTP_SHA256_HEX];
	uint64_t size;
	int64_t id;

	hist_set_file_digest(smtp_sha256_file);
	write_file(same, "line one\nline two\n", 18);
	write_file(changed, "first\n", 6);
	make_db(t->path);
	sp = must_spool(t->path);
	id = hist_sink_begin(sp, "mx.example", 25, "plain", 0, &err);
	event(sp, id, 1, 'C', "[content]", 9, 0);
	event(sp, id, 2, 'C', "[content]", 9, 0);
	memset(&b, 0, sizeof b);
	b.seq = 1;
	b.kind = "file";
	b.path = same;
	b.size = 18;
	assert_int_equal(hist_sink_body(sp, id, &b, &err), 0);
	b.seq = 2;
	b.path = changed;
	b.size = 6;
	assert_int_equal(hist_sink_body(sp, id, &b, &err), 0);
	close_sink(sp);
	/*
	 * Changed after it was sent, same size (only its identity tells):
	 * its digest now would be a lie.
	 */
	write_file(changed, "FIRST\n", 6);
	{
		struct timespec later[2] = {{0, UTIME_OMIT}, {2000000000, 0}};

		/* A new modification time even on a coarse clock. */
		assert_int_equal(utimensat(AT_FDCWD, changed, later, 0), 0);
	}

	h = must_open(t->path);
	assert_int_equal(smtp_sha256_file(same, want, &size, &err), 0);
	got = hist_body_get(h, 1, 1, &err);
	assert_non_null(got);
	assert_non_null(got->sha256);
	assert_string_equal(got->sha256, want);
	hist_body_free(got);
	got = hist_body_get(h, 1, 2, &err);
	assert_non_null(got);
	assert_null(got->sha256);
	assert_int_equal(got->size, 6);
	hist_body_free(got);
	hist_close(h);
	free(same);
	free(changed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_round_trip, setup_store, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_round_trip, setup_spool, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_had_starttls_both, setup_store, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_had_starttls_both, setup_spool, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_only_a_healthy_current_database, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_torn_and_damaged, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_never_twice, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_refused_record, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_settle, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_live_writer_left_alone, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_starttls_pins, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_body_file_digest, setup_tmp, teardown_tmp),
	};

	(void)unsetenv("EHLO_DB");
	(void)setenv("HOME", "/nonexistent", 1);
	(void)unsetenv("XDG_DATA_HOME");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
