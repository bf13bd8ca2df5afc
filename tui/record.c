/*
 * The history recorder (see record.h): one struct per recorded session,
 * holding the database handle, the session id, the seq of the last
 * server line (a REPLY event marks it as the reply's last line), and
 * the message-content accumulator.
 *
 * Message content typed after DATA is not stored one row per line: the
 * first RECORD_CONTENT_ROWS lines become dialogue rows (they are what
 * a reader wants to see), the rest are counted, and at the final "."
 * one '*' row says how many were left out and a bodies row keeps the
 * size, line count, and the content itself when it is at most
 * HIST_BODY_INLINE_MAX octets (for replay; readers digest it), its
 * SHA-256 otherwise.  The lines of BDAT chunks are the same: the chunks
 * up to the one whose command says LAST are one message, kept as the
 * octets went out (a line that ended a chunk without CRLF has none in
 * the body either); it ends when that chunk is complete, or when the
 * reply to it comes (BDAT 0 LAST, a chunk the server refused early),
 * and its body row is the '*' row, or the last content row when every
 * line was kept (there is no "." row).
 *
 * Writing is deferred and batched.  An event only queues its row
 * (numbered here: the recorder is its session's only writer); the queue
 * is written at the end of the event-loop turn (record_flush_due), after
 * the turn's commands went out, so the store's work overlaps the
 * server's instead of delaying the next command, and a server line
 * waits there for the reply it ends, which is then stored in the same
 * INSERT.  The rows join an open batch (hist_sink_tx_begin) committed
 * at most every RECORD_BATCH_MS, and always before the output they
 * belong to is flushed or drawn, so what was shown is in the database
 * (a kill -9 loses nothing on screen).  When the output is line
 * mode's stdout (record_watch_stdout), the recorder closes the output
 * gate (tui/outgate.h) with each row it takes and opens it after the
 * commit: the printed lines wait in ehlo's own buffer, never in
 * stdio's, so no buffering stdio chooses can show one early.
 *
 * Secrets: the session hands observers only the display form of AUTH
 * exchanges (SMTP_SENT_REDACTED); as a second line of defence, a client
 * line of the AUTH stage that is not marked redacted is stored as a
 * placeholder, never as typed.
 *
 * STARTTLS stripping: the capabilities of each plain-text EHLO are kept
 * apart (plain_caps); when one lacks STARTTLS although an earlier
 * session with the same server:port saw it, the recorder warns through
 * the session, so every front end shows it.  The warning repeats in
 * every such session: a downgrade that persists is still a downgrade.
 */
#include "tui/record.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "history/hist_sink.h"
#include "history/history.h"
#include "protocol/digest.h"
#include "protocol/tlscheck.h"
#include "tui/outgate.h"
#include "tui/print.h"
#include "tui/record_body.h"

/* A row waiting in the queue; its text is at off in qtext. */
struct qrow {
	int64_t seq;
	uint64_t t_us;
	size_t off, len;
	const char *stage; /* static */
	char enhanced[16];
	char dir;
	unsigned flags;
	int code;
	int stage_no;
	int group;
	int64_t latency_us;
};

/* The queue is written at once beyond these (one read's worth). */
#define RECORD_QUEUE_ROWS 512
#define RECORD_QUEUE_BYTES (256 * 1024)

struct record {
	struct hist_sink *sink; /* where the rows go */
	struct hist *own_h; /* opened by record_open: closed on free */
	int off; /* a history error stopped recording */
	int watch_stdout; /* rows are printed through the output gate */
	uint64_t tx_t0; /* loop_now_us() when the open batch began */
	struct loop *loop; /* of the pending wake-up */
	uint64_t wake; /* the wake-up's timer id, 0 when none */
	int64_t id;
	uint64_t t0; /* loop_now_us() at record_begin */
	uint64_t last_t_us;
	struct smtp_session *session;
	struct smtp_client *client;
	int tls_recorded;
	int64_t seq; /* of the last row numbered */
	int64_t last_s_seq; /* last server line not yet closed by a reply */

	/* Rows numbered but not yet written (see record_drain). */
	struct qrow *q;
	size_t nq, qcap;
	struct buf qtext; /* their texts, one after the other */

	/* message content being typed (after 354, or in BDAT chunks) */
	int in_content;
	int content_bdat; /* the content came in BDAT chunks */
	uint64_t content_lines; /* as sent: one per SENT event */
	uint64_t content_joins; /* lines that continue one cut by a chunk */
	int content_cut; /* the last line went without CRLF */
	int64_t content_last_seq; /* the last content row queued */
	size_t chunk_stage; /* the BDAT stage counted in chunk_bytes */
	uint64_t chunk_bytes; /* its octets seen so far */
	uint64_t content_bytes; /* as sent, CRLF included */
	struct smtp_sha256 *content_sha;
	struct buf content; /* the whole content while small */
	int content_too_big;
	struct buf preview; /* the first lines */

	char *body_path; /* /body FILE waiting for its summary line */
	int no_content; /* envelope and replies only (--no-content) */
	struct record_stream streamed; /* a composed message as sent */

	char *host; /* server:port as recorded, for the STARTTLS check */
	int port;
	int strip_warned;
};

static int drain(struct record *);

static void
disable(struct record *r, char *err)
{
	if (!r->off) {
		char *e2 = NULL;

		/* Keep what the batch holds: its lines are due to be shown. */
		if (hist_sink_tx_commit(r->sink, &e2) == -1)
			free(e2);
		/* Unrecorded from here on: nothing to wait for. */
		if (r->watch_stdout)
			outgate_release();
		(void)fflush(stdout);
		(void)fprintf(stderr, "ehlo: history disabled: %s\n",
		    err != NULL ? err : "unknown error");
	}
	r->off = 1;
	free(err);
}

/* A recorder writing into sink, which it closes when freed. */
static struct record *
record_on(struct hist_sink *sink)
{
	struct record *r = xcalloc(1, sizeof *r);

	r->sink = sink;
	buf_init(&r->content, HIST_BODY_INLINE_MAX + 2);
	buf_init(&r->preview, 0);
	record_stream_init(&r->streamed);
	buf_init(&r->qtext, 0);
	return r;
}

struct record *
record_new(struct hist *h)
{
	return record_on(hist_sink_store(h));
}

struct record *
record_open(const char *db, int no_history, int spool)
{
	struct record *r;
	struct hist_sink *sink = NULL;
	struct hist *h = NULL;
	char *path, *err = NULL;

	if (no_history)
		return NULL;
	if ((path = hist_db_path(db, &err)) != NULL && spool)
		sink = hist_sink_spool(path, &err);
	if (sink == NULL && err == NULL && path != NULL &&
	    (h = hist_open(path, 0, &err)) != NULL) {
		if (hist_warnings(h) != NULL)
			(void)fprintf(stderr, "ehlo: %s\n", hist_warnings(h));
		sink = hist_sink_store(h);
	}
	free(path);
	if (sink == NULL) {
		(void)fprintf(stderr, "ehlo: history disabled: %s\n", err);
		free(err);
		return NULL;
	}
	r = record_on(sink);
	r->own_h = h;
	return r;
}

static void
content_reset(struct record *r)
{
	r->in_content = r->content_bdat = r->content_cut = 0;
	r->content_lines = r->content_bytes = r->content_joins = 0;
	r->content_last_seq = 0;
	r->content_too_big = 0;
	if (r->content_sha != NULL) {
		char hex[SMTP_SHA256_HEX];

		smtp_sha256_final(r->content_sha, hex);
		r->content_sha = NULL;
	}
	buf_clear(&r->content);
	buf_clear(&r->preview);
}

void
record_free(struct record *r)
{
	char *note;

	if (r == NULL)
		return;
	if (r->client != NULL)
		smtp_client_body_tee(r->client, NULL, NULL);
	content_reset(r);
	buf_reset(&r->content);
	buf_reset(&r->preview);
	record_stream_free(&r->streamed);
	buf_reset(&r->qtext);
	free(r->q);
	free(r->body_path);
	free(r->host);
	if (r->wake != 0)
		loop_timer_del(r->loop, r->wake);
	note = hist_sink_close(r->sink);
	if (note != NULL) {
		(void)fprintf(stderr, "ehlo: %s\n", note);
		free(note);
	}
	hist_close(r->own_h);
	if (r->watch_stdout)
		outgate_release();
	free(r);
}

void
record_begin(struct record *r, const char *host, int port, const char *tls_mode,
    int64_t replay_of)
{
	char *err = NULL;

	if (r == NULL || r->off)
		return;
	r->t0 = loop_now_us();
	free(r->host);
	r->host = xstrdup(host);
	r->port = port;
	r->strip_warned = 0;
	r->seq = r->last_s_seq = 0;
	r->nq = 0;
	buf_clear(&r->qtext);
	r->id = hist_sink_begin(r->sink, host, port, tls_mode, replay_of, &err);
	if (r->id < 0) {
		r->id = 0;
		disable(r, err);
	}
}

void
record_attach(struct record *r, struct smtp_session *s, struct smtp_client *c)
{
	if (r == NULL)
		return;
	r->session = s;
	r->client = c;
	if (c != NULL)
		smtp_client_body_tee(c, record_stream_tee, &r->streamed);
}

void
record_no_content(struct record *r, int on)
{
	if (r != NULL)
		r->no_content = on;
}

int64_t
record_session_id(const struct record *r)
{
	/* A spooled session is numbered when imported. */
	return r != NULL && hist_sink_spool_file(r->sink) == NULL ? r->id : 0;
}

static int
active(const struct record *r)
{
	return r != NULL && !r->off && r->id > 0;
}

/* Joins (or opens) the turn's transaction; -1 when recording stopped. */
static int
tx(struct record *r)
{
	char *err = NULL;

	if (hist_sink_tx_is_open(r->sink))
		return 0;
	if (hist_sink_tx_begin(r->sink, &err) == -1) {
		disable(r, err);
		return -1;
	}
	r->tx_t0 = loop_now_us();
	return 0;
}

static void
on_wake(void *arg)
{
	struct record *r = arg;

	r->wake = 0; /* the turn it ends runs record_flush_due */
}

int
record_flush_due(struct record *r, struct loop *loop)
{
	uint64_t age;

	if (r == NULL)
		return 0;
	/*
	 * The turn's rows, written now that its commands have gone out:
	 * the store's work overlaps the server's instead of delaying the
	 * next command.
	 */
	if (!r->off && drain(r) == -1)
		return 0;
	if (!hist_sink_tx_is_open(r->sink)) {
		if (r->watch_stdout)
			outgate_release(); /* nothing waits for a commit */
		return 0;
	}
	age = loop_now_us() - r->tx_t0;
	if (r->off || age >= RECORD_BATCH_MS * 1000) {
		record_flush(r);
		return 0;
	}
	if (r->wake == 0) {
		r->loop = loop;
		r->wake = loop_timer_add(
		    loop, RECORD_BATCH_MS - age / 1000, on_wake, r);
	}
	return 1;
}

void
record_flush(struct record *r)
{
	char *err = NULL;

	if (r == NULL)
		return;
	if (!r->off && drain(r) == -1)
		return;
	if (hist_sink_tx_commit(r->sink, &err) == -1)
		disable(r, err);
	/* Committed: the lines showing the rows may go out. */
	if (r->watch_stdout)
		outgate_release();
}

void
record_watch_stdout(struct record *r)
{
	if (r != NULL)
		r->watch_stdout = 1;
}

/* Writes one numbered row; -1 when recording stopped. */
static int
write_row(struct record *r, const struct hist_event *he)
{
	char *err = NULL;

	if (tx(r) == -1)
		return -1;
	if (hist_sink_event(r->sink, r->id, he, &err) < 0) {
		disable(r, err);
		return -1;
	}
	return 0;
}

/*
 * Writes the queued rows, in seq order, into the open batch.  A server
 * line waits there for the reply it ends (normally in the same read)
 * and is written once with the reply's code instead of written and
 * then updated.
 */
static int
drain(struct record *r)
{
	struct hist_event he;
	const char *text = buf_peek(&r->qtext);
	size_t i, n = r->nq;

	r->nq = 0;
	for (i = 0; i < n; i++) {
		const struct qrow *q = &r->q[i];

		memset(&he, 0, sizeof he);
		he.seq = q->seq;
		he.t_us = q->t_us;
		he.dir = q->dir;
		he.text = text + q->off;
		he.len = q->len;
		he.flags = q->flags;
		he.stage = q->stage;
		he.code = q->code;
		he.enhanced = q->enhanced;
		he.stage_no = q->stage_no;
		he.group = q->group;
		he.latency_us = q->latency_us;
		if (write_row(r, &he) == -1)
			break;
	}
	buf_clear(&r->qtext);
	return r->off ? -1 : 0;
}

/* Queues one row; returns its seq or 0 (recording then stops). */
static int64_t
add_row(struct record *r, uint64_t t_us, char dir, const char *text, size_t len,
    unsigned flags, const struct smtp_event *ev)
{
	struct qrow *q;
	size_t off = buf_used(&r->qtext);
	int64_t seq;

	if (buf_add(&r->qtext, text, len) == -1) {
		disable(r, xstrdup("out of memory for a dialogue line"));
		return 0;
	}
	if (r->nq == r->qcap) {
		r->qcap = r->qcap != 0 ? 2 * r->qcap : 64;
		r->q = xreallocarray(r->q, r->qcap, sizeof *r->q);
	}
	q = &r->q[r->nq++];
	memset(q, 0, sizeof *q);
	q->seq = seq = ++r->seq;
	q->t_us = t_us;
	q->off = off;
	q->len = len;
	q->dir = dir;
	q->flags = flags;
	q->stage_no = -1;
	q->latency_us = -1;
	if (ev != NULL && ev->stage != NULL && dir == 'C') {
		q->stage = smtp_stage_kind_name(ev->stage->kind);
		q->stage_no =
		    ev->stage_index <= INT_MAX ? (int)ev->stage_index : -1;
		q->group = (int)ev->stage->group;
	}
	if (t_us > r->last_t_us)
		r->last_t_us = t_us;
	if ((r->nq >= RECORD_QUEUE_ROWS ||
	        buf_used(&r->qtext) >= RECORD_QUEUE_BYTES) &&
	    drain(r) == -1)
		return 0;
	/* The line showing it waits until the row is committed. */
	if (r->watch_stdout)
		outgate_hold();
	return active(r) ? seq : 0;
}

/* ---- capabilities and TLS ------------------------------------------ */

static void
record_caps(struct record *r)
{
	const struct smtp_caps *caps;
	struct buf b;
	char *err = NULL, *s;
	size_t i;
	int plain;

	if (r->session == NULL)
		return;
	plain = !smtp_session_is_tls(r->session);
	caps = smtp_session_caps(r->session);
	if (!caps->valid)
		return;
	buf_init(&b, 0);
	for (i = 0; i < caps->ncaps; i++)
		(void)buf_add_printf(&b, "%s%s%s%s", i > 0 ? "\n" : "",
		    caps->caps[i].keyword, caps->caps[i].params[0] ? " " : "",
		    caps->caps[i].params);
	s = xstrndup(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	if (tx(r) == -1) {
		free(s);
		return;
	}
	if (hist_sink_set(r->sink, r->id, HIST_FACT_CAPS, s, &err) == -1)
		disable(r, err);
	else if (plain &&
	    hist_sink_set(r->sink, r->id, HIST_FACT_PLAIN_CAPS, s, &err) == -1)
		disable(r, err);
	free(s);
}

/*
 * After a plain-text EHLO without STARTTLS: did an earlier session see
 * this server offer it?  Each warning line fits 78 columns as printed.
 */
static void
check_starttls_strip(struct record *r)
{
	char *err = NULL, when[32];
	int64_t id = 0, started = 0;
	struct tm tm;
	time_t tt;
	int rc;

	if (r->strip_warned || r->session == NULL || r->host == NULL ||
	    smtp_session_is_tls(r->session) ||
	    smtp_caps_has(smtp_session_caps(r->session), SMTP_CAP_STARTTLS))
		return;
	rc = hist_sink_had_starttls(
	    r->sink, r->host, r->port, r->id, &id, &started, &err);
	if (rc == -1) {
		disable(r, err);
		return;
	}
	if (rc == 0)
		return;
	r->strip_warned = 1;
	/* From now on the session refuses to send credentials. */
	smtp_session_set_downgraded(r->session);
	tt = (time_t)started;
	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm) == 0)
		(void)snprintf(when, sizeof when, "unknown date");
	if (id > 0)
		smtp_session_warn(r->session,
		    "STARTTLS was offered here in session #%lld (%s)",
		    (long long)id, when);
	else /* a session still in the spool: not numbered yet */
		smtp_session_warn(r->session,
		    "STARTTLS was offered here in an earlier session (%s)",
		    when);
	smtp_session_warn(r->session,
	    "but not now: someone may be stripping it (STARTTLS downgrade);");
	smtp_session_warn(r->session,
	    "do not send credentials or private mail over this connection");
}

static json_t *
jstr(const char *s)
{
	json_t *j = json_string(s != NULL ? s : "");

	/* Non-UTF-8 text (it came from a certificate) is dropped. */
	return j != NULL ? j : json_string("");
}

/*
 * The CA file the session trusted (--cafile), as an absolute path, so
 * that an export repeats the session from any directory.
 */
static void
record_cafile(struct record *r, json_t *o)
{
	const char *ca = smtp_client_opts(r->client)->tls.cafile;
	char *abs;

	if (ca == NULL || *ca == '\0')
		return;
	abs = realpath(ca, NULL);
	(void)json_object_set_new(o, "cafile", jstr(abs != NULL ? abs : ca));
	free(abs);
}

static void
record_tls(struct record *r)
{
	const struct smtp_tls_info *ti;
	json_t *o, *chain, *c;
	char *err = NULL, *s;
	size_t i;

	if (r->client == NULL || r->tls_recorded ||
	    !smtp_session_is_tls(r->session) ||
	    (ti = smtp_client_tls_info(r->client)) == NULL)
		return;
	r->tls_recorded = 1;
	o = json_object();
	(void)json_object_set_new(o, "version", jstr(ti->version));
	(void)json_object_set_new(o, "cipher", jstr(ti->cipher));
	(void)json_object_set_new(o, "group", jstr(ti->group));
	(void)json_object_set_new(o, "sni", jstr(ti->sni));
	(void)json_object_set_new(o, "alpn", jstr(ti->alpn));
	(void)json_object_set_new(o, "verified", json_boolean(ti->verified));
	(void)json_object_set_new(
	    o, "verify_skipped", json_boolean(ti->verify_skipped));
	(void)json_object_set_new(o, "verify_error", jstr(ti->verify_error));
	(void)json_object_set_new(
	    o, "ocsp", jstr(smtp_tls_ocsp_name(ti->ocsp_status)));
	(void)json_object_set_new(o, "ocsp_detail", jstr(ti->ocsp));
	chain = json_array();
	for (i = 0; i < ti->nchain; i++) {
		const struct smtp_tls_cert *ct = &ti->chain[i];

		c = json_object();
		(void)json_object_set_new(c, "subject", jstr(ct->subject));
		(void)json_object_set_new(c, "issuer", jstr(ct->issuer));
		(void)json_object_set_new(c, "san", jstr(ct->san));
		(void)json_object_set_new(
		    c, "not_before", jstr(ct->not_before));
		(void)json_object_set_new(c, "not_after", jstr(ct->not_after));
		(void)json_object_set_new(
		    c, "days_left", json_integer(ct->days_left));
		(void)json_object_set_new(c, "key_type", jstr(ct->key_type));
		(void)json_object_set_new(
		    c, "key_bits", json_integer(ct->key_bits));
		(void)json_object_set_new(c, "sig_alg", jstr(ct->sig_alg));
		(void)json_array_append_new(chain, c);
	}
	(void)json_object_set_new(o, "chain", chain);
	print_json_tls_keep(o, ti);
	record_cafile(r, o);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s != NULL && tx(r) == 0 &&
	    hist_sink_set(r->sink, r->id, HIST_FACT_TLS, s, &err) == -1)
		disable(r, err);
	free(s);
}

/* ---- message content ----------------------------------------------- */

/*
 * One line of content as sent: with its CRLF (crlf) or without (the
 * line that ended a BDAT chunk; the next line continues it).
 */
static void
content_line(struct record *r, const struct smtp_event *ev, int crlf)
{
	const char *eol = crlf ? "\r\n" : "";
	size_t eol_len = crlf ? 2 : 0;

	if (!r->in_content) {
		content_reset(r);
		r->in_content = 1;
	}
	r->content_lines++;
	if (r->content_cut)
		r->content_joins++;
	r->content_cut = !crlf;
	r->content_bytes += ev->len + eol_len;
	/*
	 * Content of at most HIST_BODY_INLINE_MAX octets is kept, and its
	 * SHA-256 is worked out when shown (a digest's first use costs
	 * OpenSSL's initialisation, a millisecond); beyond, a running
	 * digest replaces it.
	 */
	if (!r->content_too_big &&
	    buf_used(&r->content) + ev->len + eol_len <= HIST_BODY_INLINE_MAX) {
		(void)buf_add(&r->content, ev->text, ev->len);
		(void)buf_add(&r->content, eol, eol_len);
	} else {
		if (!r->content_too_big) {
			r->content_too_big = 1;
			r->content_sha = smtp_sha256_new();
			smtp_sha256_update(r->content_sha,
			    buf_peek(&r->content), buf_used(&r->content));
			buf_clear(&r->content);
		}
		smtp_sha256_update(r->content_sha, ev->text, ev->len);
		smtp_sha256_update(r->content_sha, eol, eol_len);
	}
	if (r->content_lines <= RECORD_CONTENT_ROWS && !r->no_content) {
		(void)buf_add(&r->preview, ev->text, ev->len);
		(void)buf_add(&r->preview, "\n", crlf ? 1 : 0);
		r->content_last_seq = add_row(
		    r, ev->t_us, 'C', ev->text, ev->len, HIST_EV_CONTENT, ev);
	}
}

/*
 * The message ended (the final "." was sent, the last BDAT chunk is
 * complete (complete set), or the session ended in the middle): a '*'
 * row for the lines not kept, the "." row when there is one, and the
 * body row, on the "." row, else the '*' row, else (complete) the last
 * content row.
 */
static void
content_end(struct record *r, const struct smtp_event *dot, int complete)
{
	struct hist_body b;
	char hex[SMTP_SHA256_HEX], *note, *err = NULL, *preview;
	uint64_t t = dot != NULL ? dot->t_us : r->last_t_us;
	int64_t seq = 0;

	if (r->in_content &&
	    (r->content_lines > RECORD_CONTENT_ROWS || r->no_content)) {
		note = xasprintf("[%llu %scontent lines not kept as rows; %llu "
		                 "octets in all, %s]",
		    (unsigned long long)(r->content_lines -
		        (r->no_content ? 0 : RECORD_CONTENT_ROWS)),
		    r->no_content ? "" : "more ",
		    (unsigned long long)r->content_bytes,
		    r->no_content ? "not kept (--no-content)"
		                  : "kept as the message body");
		seq = add_row(
		    r, t, '*', note, strlen(note), HIST_EV_ELIDED, NULL);
		free(note);
	}
	if (dot != NULL)
		seq = add_row(r, dot->t_us, 'C', dot->text, dot->len,
		    HIST_EV_CONTENT, dot);
	else if (seq == 0 && complete)
		seq = r->content_last_seq;
	if (!r->in_content || seq == 0 || !active(r)) {
		content_reset(r);
		return;
	}
	preview = xstrndup(buf_peek(&r->preview), buf_used(&r->preview));
	memset(&b, 0, sizeof b);
	if (r->content_sha != NULL) {
		smtp_sha256_final(r->content_sha, hex);
		r->content_sha = NULL;
		b.sha256 = hex;
	}
	b.seq = seq;
	b.kind = "inline";
	b.size = r->content_bytes;
	b.lines = r->content_lines - r->content_joins;
	b.first_lines = r->no_content ? NULL : preview;
	if (!r->content_too_big && !r->no_content) {
		b.content = buf_peek(&r->content);
		b.content_len = buf_used(&r->content);
	}
	if (tx(r) == 0 && hist_sink_body(r->sink, r->id, &b, &err) == -1)
		disable(r, err);
	free(preview);
	content_reset(r);
}

void
record_body_file(struct record *r, const char *path)
{
	char *abs;

	if (!active(r))
		return;
	free(r->body_path);
	abs = realpath(path, NULL);
	r->body_path = abs != NULL ? abs : xstrdup(path);
}

static void
body_summary(struct record *r, const struct smtp_event *ev)
{
	const struct smtp_body_stats *bs;
	struct hist_body b;
	struct stat sb;
	char *err = NULL, *preview;
	int64_t seq;

	seq = add_row(r, ev->t_us, 'C', ev->text, ev->len,
	    HIST_EV_SUMMARY |
	        (ev->flags & SMTP_SENT_REDACTED ? HIST_EV_REDACTED : 0),
	    ev);
	memset(&b, 0, sizeof b);
	b.seq = seq;
	if (r->client != NULL && (bs = smtp_client_body_stats(r->client)))
		b.lines = bs->lines;
	if (seq == 0 || (r->body_path == NULL && r->streamed.bytes == 0)) {
		record_stream_clear(&r->streamed);
		return;
	}
	if (r->body_path == NULL) /* composed: kept like typed content */
		preview = record_stream_body(
		    &r->streamed, &b, !r->no_content, RECORD_CONTENT_ROWS);
	else {
		b.kind = "file";
		b.path = r->body_path;
		/* The store digests the file (hist_set_file_digest). */
		if (stat(r->body_path, &sb) == 0)
			b.size = (uint64_t)sb.st_size;
		b.first_lines = preview =
		    record_file_preview(r->body_path, RECORD_CONTENT_ROWS);
	}
	if (tx(r) == 0 && hist_sink_body(r->sink, r->id, &b, &err) == -1)
		disable(r, err);
	record_stream_clear(&r->streamed);
	free(preview);
	free(r->body_path);
	r->body_path = NULL;
}

/*
 * One line of a BDAT chunk: content like a line after DATA.  The octets
 * it put on the wire (the stage's bytes grew by them) tell whether it
 * went with its CRLF; when it completes the chunk of a BDAT ... LAST,
 * the message is over.
 */
static void
chunk_line(struct record *r, const struct smtp_event *ev)
{
	const struct smtp_stage *st = ev->stage;
	uint64_t sent;

	if (ev->stage_index != r->chunk_stage || !r->in_content) {
		r->chunk_stage = ev->stage_index;
		r->chunk_bytes = 0;
	}
	sent = st->bytes - r->chunk_bytes;
	r->chunk_bytes = st->bytes;
	content_line(r, ev, sent > ev->len);
	r->content_bdat = 1;
	if (r->session != NULL && smtp_session_chunk_left(r->session) == 0 &&
	    record_bdat_is_last(st->command))
		content_end(r, NULL, 1);
}

/* ---- events --------------------------------------------------------- */

static void
on_sent(struct record *r, const struct smtp_event *ev)
{
	const struct smtp_stage *st = ev->stage;
	unsigned flags = 0;

	if (ev->flags & SMTP_SENT_SUMMARY) {
		content_end(r, NULL, 0);
		body_summary(r, ev);
		return;
	}
	if ((ev->flags & SMTP_SENT_CONTENT) && st != NULL &&
	    st->kind == SMTP_STAGE_MESSAGE) {
		if (ev->len == 1 && ev->text[0] == '.')
			content_end(r, ev, 1);
		else
			content_line(r, ev, 1);
		return;
	}
	if ((ev->flags & SMTP_SENT_CONTENT) && st != NULL &&
	    st->kind == SMTP_STAGE_BDAT) {
		chunk_line(r, ev);
		return;
	}
	/* A command between chunks (RSET, MAIL): that message is over. */
	if (r->in_content && r->content_bdat &&
	    (st == NULL || st->kind != SMTP_STAGE_BDAT))
		content_end(r, NULL, 0);
	if (ev->flags & SMTP_SENT_REDACTED)
		flags |= HIST_EV_REDACTED;
	if (ev->flags & SMTP_SENT_CONTENT)
		flags |= HIST_EV_CONTENT;
	if (st != NULL && st->kind == SMTP_STAGE_AUTH &&
	    !(ev->flags & SMTP_SENT_REDACTED)) {
		static const char hidden[] = "[AUTH line not recorded]";

		(void)add_row(r, ev->t_us, 'C', hidden, sizeof hidden - 1,
		    HIST_EV_REDACTED, ev);
		return;
	}
	(void)add_row(r, ev->t_us, 'C', ev->text, ev->len, flags, ev);
}

/* The queued row seq, or NULL once written. */
static struct qrow *
queued(struct record *r, int64_t seq)
{
	size_t i;

	for (i = r->nq; i-- > 0;)
		if (r->q[i].seq == seq)
			return &r->q[i];
	return NULL;
}

static void
on_reply(struct record *r, const struct smtp_event *ev)
{
	const struct smtp_stage *st = ev->stage;
	struct qrow *q;
	char *err = NULL;
	int64_t lat = -1;
	int stage_no = -1;

	if (st != NULL) {
		if (st->t_end_us >= st->t_start_us)
			lat = (int64_t)(st->t_end_us - st->t_start_us);
		if (ev->stage_index <= INT_MAX)
			stage_no = (int)ev->stage_index;
		if (st->kind == SMTP_STAGE_EHLO && ev->reply->code / 100 == 2)
			record_caps(r);
	}
	if (r->last_s_seq != 0 && active(r) &&
	    (q = queued(r, r->last_s_seq)) != NULL) {
		q->flags |= HIST_EV_REPLY;
		q->stage = st != NULL ? smtp_stage_kind_name(st->kind) : NULL;
		q->code = ev->reply->code;
		(void)snprintf(
		    q->enhanced, sizeof q->enhanced, "%s", ev->reply->enhanced);
		q->stage_no = stage_no;
		q->latency_us = lat;
		r->last_s_seq = 0;
	} else if (r->last_s_seq != 0 && active(r) && tx(r) == 0) {
		if (hist_sink_reply(r->sink, r->id, r->last_s_seq,
		        st != NULL ? smtp_stage_kind_name(st->kind) : NULL,
		        ev->reply->code, ev->reply->enhanced, stage_no, lat,
		        &err) == -1)
			disable(r, err);
		r->last_s_seq = 0;
	}
	/* BDAT 0 LAST, or a last chunk the server answered early. */
	if (st != NULL && st->kind == SMTP_STAGE_BDAT && r->in_content &&
	    r->content_bdat && record_bdat_is_last(st->command))
		content_end(r, NULL, 1);
	/* Last: the warnings re-enter record_event. */
	if (st != NULL && st->kind == SMTP_STAGE_EHLO &&
	    ev->reply->code / 100 == 2 && active(r))
		check_starttls_strip(r);
}

void
record_event(struct record *r, const struct smtp_event *ev)
{
	if (!active(r))
		return;
	if (!r->tls_recorded && r->session != NULL)
		record_tls(r);
	switch (ev->type) {
	case SMTP_EV_SENT:
		on_sent(r, ev);
		break;
	case SMTP_EV_LINE:
		r->last_s_seq =
		    add_row(r, ev->t_us, 'S', ev->text, ev->len, 0, NULL);
		break;
	case SMTP_EV_REPLY:
		on_reply(r, ev);
		break;
	case SMTP_EV_NOTE:
		(void)add_row(r, ev->t_us, '*', ev->text, ev->len, 0, NULL);
		break;
	case SMTP_EV_WARNING:
		(void)add_row(
		    r, ev->t_us, '*', ev->text, ev->len, HIST_EV_WARNING, NULL);
		break;
	case SMTP_EV_FAILURE:
		(void)add_row(
		    r, ev->t_us, '*', ev->text, ev->len, HIST_EV_FAILURE, NULL);
		break;
	default:
		break;
	}
}

void
record_error(struct record *r, const char *text)
{
	uint64_t t;

	if (!active(r))
		return;
	t = loop_now_us() - r->t0;
	if (t < r->last_t_us)
		t = r->last_t_us;
	(void)add_row(r, t, '*', text, strlen(text), HIST_EV_FAILURE, NULL);
}

void
record_end(struct record *r, int exit_status)
{
	char *err = NULL;

	if (!active(r))
		return;
	if (drain(r) == -1)
		return;
	if (r->in_content)
		content_end(r, NULL, 0);
	if (!r->tls_recorded && r->session != NULL)
		record_tls(r);
	if (active(r) && hist_sink_end(r->sink, r->id, exit_status, &err) == -1)
		disable(r, err);
}
