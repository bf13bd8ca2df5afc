/*
 * The sink operations (hist_sink.h): the dispatch through the
 * operations table, and the first implementation, the store, which
 * writes straight into an open database with the hist_* functions.
 * The second, the spool writer, is hist_spool_sink.c.
 */
#include <stdlib.h>

#include "core/xmalloc.h"
#include "history/hist_sink.h"
#include "history/hist_sink_int.h"
#include "history/history.h"

/* ---- the store ------------------------------------------------------ */

struct store_sink {
	struct hist_sink sink; /* first */
	struct hist *h;
};

static struct hist *
store(struct hist_sink *s)
{
	return ((struct store_sink *)s)->h;
}

static int64_t
store_begin(struct hist_sink *s, const char *server, int port,
    const char *tls_mode, int64_t replay_of, char **errstr)
{
	return hist_session_begin(
	    store(s), server, port, tls_mode, replay_of, errstr);
}

static int
store_set(
    struct hist_sink *s, int64_t id, int what, const char *value, char **errstr)
{
	struct hist *h = store(s);

	switch (what) {
	case HIST_FACT_CAPS:
		return hist_session_set_caps(h, id, value, errstr);
	case HIST_FACT_PLAIN_CAPS:
		return hist_session_set_plain_caps(h, id, value, errstr);
	case HIST_FACT_TLS:
		return hist_session_set_tls(h, id, value, errstr);
	case HIST_FACT_LABEL:
		return hist_session_set_label(h, id, value, errstr);
	default:
		return hist_session_set_notes(h, id, value, errstr);
	}
}

static int64_t
store_event(
    struct hist_sink *s, int64_t id, const struct hist_event *ev, char **errstr)
{
	return hist_session_event(store(s), id, ev, errstr);
}

static int
store_reply(struct hist_sink *s, int64_t id, int64_t seq, const char *stage,
    int code, const char *enhanced, int stage_no, int64_t latency_us,
    char **errstr)
{
	return hist_event_set_reply(store(s), id, seq, stage, code, enhanced,
	    stage_no, latency_us, errstr);
}

static int
store_body(
    struct hist_sink *s, int64_t id, const struct hist_body *b, char **errstr)
{
	return hist_body_add(store(s), id, b, errstr);
}

static int
store_end(struct hist_sink *s, int64_t id, int exit_status, char **errstr)
{
	return hist_session_end(store(s), id, exit_status, errstr);
}

static int
store_had_starttls(struct hist_sink *s, const char *server, int port,
    int64_t before, int64_t *id, int64_t *started, char **errstr)
{
	return hist_server_had_starttls(
	    store(s), server, port, before, id, started, errstr);
}

static int
store_tx_begin(struct hist_sink *s, char **errstr)
{
	return hist_tx_begin(store(s), errstr);
}

static int
store_tx_commit(struct hist_sink *s, char **errstr)
{
	return hist_tx_commit(store(s), errstr);
}

static int
store_tx_is_open(struct hist_sink *s)
{
	return hist_tx_is_open(store(s));
}

static char *
store_close(struct hist_sink *s)
{
	char *err = NULL;

	/* A batch still open holds rows already shown: keep them. */
	(void)hist_tx_commit(store(s), &err);
	free(s);
	return err;
}

static const struct hist_sink_ops store_ops = {
    .begin = store_begin,
    .set = store_set,
    .event = store_event,
    .reply = store_reply,
    .body = store_body,
    .end = store_end,
    .had_starttls = store_had_starttls,
    .tx_begin = store_tx_begin,
    .tx_commit = store_tx_commit,
    .tx_is_open = store_tx_is_open,
    .close = store_close,
};

struct hist_sink *
hist_sink_store(struct hist *h)
{
	struct store_sink *s = xcalloc(1, sizeof *s);

	s->sink.ops = &store_ops;
	s->h = h;
	return &s->sink;
}

/* ---- the operations ------------------------------------------------- */

char *
hist_sink_close(struct hist_sink *s)
{
	return s != NULL ? s->ops->close(s) : NULL;
}

const char *
hist_sink_spool_file(const struct hist_sink *s)
{
	return s->spool_file;
}

int64_t
hist_sink_begin(struct hist_sink *s, const char *server, int port,
    const char *tls_mode, int64_t replay_of, char **errstr)
{
	return s->ops->begin(s, server, port, tls_mode, replay_of, errstr);
}

int
hist_sink_set(struct hist_sink *s, int64_t id, enum hist_fact what,
    const char *value, char **errstr)
{
	return s->ops->set(s, id, (int)what, value, errstr);
}

int64_t
hist_sink_event(
    struct hist_sink *s, int64_t id, const struct hist_event *ev, char **errstr)
{
	if (ev->seq < 1) {
		*errstr = xstrdup("history: an event needs its row number");
		return -1;
	}
	return s->ops->event(s, id, ev, errstr);
}

int
hist_sink_reply(struct hist_sink *s, int64_t id, int64_t seq, const char *stage,
    int code, const char *enhanced, int stage_no, int64_t latency_us,
    char **errstr)
{
	return s->ops->reply(
	    s, id, seq, stage, code, enhanced, stage_no, latency_us, errstr);
}

int
hist_sink_body(
    struct hist_sink *s, int64_t id, const struct hist_body *b, char **errstr)
{
	return s->ops->body(s, id, b, errstr);
}

int
hist_sink_end(struct hist_sink *s, int64_t id, int exit_status, char **errstr)
{
	return s->ops->end(s, id, exit_status, errstr);
}

int
hist_sink_had_starttls(struct hist_sink *s, const char *server, int port,
    int64_t before_session, int64_t *id, int64_t *started, char **errstr)
{
	return s->ops->had_starttls(
	    s, server, port, before_session, id, started, errstr);
}

int
hist_sink_tx_begin(struct hist_sink *s, char **errstr)
{
	return s->ops->tx_begin(s, errstr);
}

int
hist_sink_tx_commit(struct hist_sink *s, char **errstr)
{
	return s->ops->tx_commit(s, errstr);
}

int
hist_sink_tx_is_open(struct hist_sink *s)
{
	return s->ops->tx_is_open(s);
}
