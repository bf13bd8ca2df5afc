/*
 * Unit tests for tui/record.c, the recorder that maps session events
 * onto the history: a session with AUTH driven through the recorder
 * whose secrets must appear nowhere in the database files, message
 * content sent with DATA and with BDAT kept whole, a reply of hundreds
 * of lines, and line mode showing only what is durable.  Each test runs
 * on both sinks (one test body each): the store, as the workbench
 * records, and the spool, as `ehlo run` records, read back after the
 * import.  Every test works in its own temporary directory
 * (history_fixture.h), never the user's home.
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
#include <unistd.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "history_fixture.h"
#include "protocol/digest.h"
#include "protocol/sasl.h"
#include "protocol/session.h"
#include "tui/print.h"
#include "tui/record.h"

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
contains(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
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
