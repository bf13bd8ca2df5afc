/*
 * The SMTP client session engine: its life cycle, the stage list, the
 * reply FIFO, events, the transport's progress, failure and the end of
 * the conversation.  Replies are handled in session_reply.c, sending in
 * session_send.c; the state they share is in session_int.h.
 *
 * RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 2920
 * (PIPELINING), RFC 3030 (CHUNKING), RFC 1870 (SIZE), RFC 3463 (enhanced
 * status codes).
 *
 * Shape of the data: an array of stages (one per command sent, plus
 * connect, greeting and TLS), a FIFO of indexes of stages that wait for a
 * reply (replies match commands strictly in order, which is also how
 * pipelined groups are matched), the protocol state as confirmed by
 * replies, and a predicted state (as if every outstanding command
 * succeeds) that command checks use while commands are in flight.
 * Outgoing bytes collect in one buffer so a pipelined group leaves in one
 * write.  No I/O happens here.
 */
#include "protocol/session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/session_int.h"

/* Outgoing bytes never exceed this (a body streams through in chunks). */
#define SESSION_OUT_MAX (8u * 1024 * 1024)

static const char *const kind_names[SMTP_STAGE_KIND_COUNT] = {
    [SMTP_STAGE_CONNECT] = "connect",
    [SMTP_STAGE_GREETING] = "greeting",
    [SMTP_STAGE_EHLO] = "EHLO",
    [SMTP_STAGE_HELO] = "HELO",
    [SMTP_STAGE_STARTTLS] = "STARTTLS",
    [SMTP_STAGE_TLS] = "TLS handshake",
    [SMTP_STAGE_AUTH] = "AUTH",
    [SMTP_STAGE_MAIL] = "MAIL",
    [SMTP_STAGE_RCPT] = "RCPT",
    [SMTP_STAGE_DATA] = "DATA",
    [SMTP_STAGE_MESSAGE] = "end of data",
    [SMTP_STAGE_BDAT] = "BDAT",
    [SMTP_STAGE_RSET] = "RSET",
    [SMTP_STAGE_VRFY] = "VRFY",
    [SMTP_STAGE_EXPN] = "EXPN",
    [SMTP_STAGE_HELP] = "HELP",
    [SMTP_STAGE_NOOP] = "NOOP",
    [SMTP_STAGE_VERB] = "VERB",
    [SMTP_STAGE_ETRN] = "ETRN",
    [SMTP_STAGE_QUIT] = "QUIT",
    [SMTP_STAGE_XCLIENT] = "XCLIENT",
    [SMTP_STAGE_PROXY] = "PROXY",
    [SMTP_STAGE_OTHER] = "other",
};

const char *
smtp_stage_kind_name(enum smtp_stage_kind k)
{
	if ((unsigned)k >= SMTP_STAGE_KIND_COUNT)
		return "?";
	return kind_names[k];
}

const char *
smtp_stage_state_name(enum smtp_stage_state st)
{
	switch (st) {
	case SMTP_ST_PENDING:
		return "pending";
	case SMTP_ST_OK:
		return "ok";
	case SMTP_ST_MORE:
		return "continue";
	case SMTP_ST_TEMPFAIL:
		return "temporary failure";
	case SMTP_ST_PERMFAIL:
		return "permanent failure";
	case SMTP_ST_ERROR:
		return "error";
	}
	return "?";
}

const char *
smtp_fail_name(enum smtp_fail f)
{
	switch (f) {
	case SMTP_FAIL_CONNECT:
		return "connect";
	case SMTP_FAIL_TLS:
		return "TLS";
	case SMTP_FAIL_PROTOCOL:
		return "protocol";
	case SMTP_FAIL_TIMEOUT:
		return "timeout";
	case SMTP_FAIL_CLOSED:
		return "closed";
	}
	return "?";
}

uint64_t
session_elapsed(const struct smtp_session *s)
{
	uint64_t now = s->now();

	return now > s->t0 ? now - s->t0 : 0;
}

void
session_emit(struct smtp_session *s, struct smtp_event *ev)
{
	ev->t_us = session_elapsed(s);
	s->cb(ev, s->arg);
}

static void emit_text(struct smtp_session *, enum smtp_event_type, const char *,
    va_list) __attribute__((format(printf, 3, 0)));

static void
emit_text(struct smtp_session *s, enum smtp_event_type type, const char *fmt,
    va_list ap)
{
	struct smtp_event ev;
	char *text = xvasprintf(fmt, ap);

	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.text = text;
	ev.len = strlen(text);
	session_emit(s, &ev);
	free(text);
}

void
smtp_session_note(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_text(s, SMTP_EV_NOTE, fmt, ap);
	va_end(ap);
}

void
smtp_session_warn(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_text(s, SMTP_EV_WARNING, fmt, ap);
	va_end(ap);
}

static void
emit_stage(struct smtp_session *s, size_t i)
{
	struct smtp_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_EV_STAGE;
	ev.stage = &s->stages[i];
	ev.stage_index = i;
	session_emit(s, &ev);
}

size_t
session_stage_add(
    struct smtp_session *s, enum smtp_stage_kind kind, const char *display)
{
	struct smtp_stage *st;

	if (s->nstages == s->capstages) {
		s->capstages = s->capstages ? s->capstages * 2 : 16;
		s->stages =
		    xreallocarray(s->stages, s->capstages, sizeof *s->stages);
	}
	st = &s->stages[s->nstages];
	memset(st, 0, sizeof *st);
	st->kind = kind;
	st->state = SMTP_ST_PENDING;
	st->command = xstrdup(display != NULL ? display : "");
	st->t_start_us = session_elapsed(s);
	st->txn = s->txn;
	st->group = s->pipelining ? s->group : 0;
	emit_stage(s, s->nstages);
	return s->nstages++;
}

/* The message-content stage, opened on first use. */
size_t
session_message_stage(struct smtp_session *s)
{
	if (s->message_stage == SIZE_MAX)
		s->message_stage =
		    session_stage_add(s, SMTP_STAGE_MESSAGE, "message content");
	return s->message_stage;
}

void
session_stage_finish(
    struct smtp_session *s, size_t i, enum smtp_stage_state state)
{
	s->stages[i].state = state;
	s->stages[i].t_end_us = session_elapsed(s);
	emit_stage(s, i);
}

void
session_wait_push(struct smtp_session *s, size_t idx)
{
	if (s->headwaiting > 0 && s->headwaiting == s->nwaiting)
		s->headwaiting = s->nwaiting = 0;
	if (s->nwaiting == s->capwaiting) {
		if (s->headwaiting > 0) {
			memmove(s->waiting, s->waiting + s->headwaiting,
			    (s->nwaiting - s->headwaiting) *
			        sizeof *s->waiting);
			s->nwaiting -= s->headwaiting;
			s->headwaiting = 0;
		} else {
			s->capwaiting = s->capwaiting ? s->capwaiting * 2 : 16;
			s->waiting = xreallocarray(
			    s->waiting, s->capwaiting, sizeof *s->waiting);
		}
	}
	s->waiting[s->nwaiting++] = idx;
}

int
session_wait_pop(struct smtp_session *s, size_t *idx)
{
	if (s->headwaiting == s->nwaiting)
		return -1;
	*idx = s->waiting[s->headwaiting++];
	if (s->headwaiting == s->nwaiting)
		s->headwaiting = s->nwaiting = 0;
	return 0;
}

size_t
smtp_session_pending(const struct smtp_session *s)
{
	return s->nwaiting - s->headwaiting;
}

static uint64_t
default_clock(void)
{
	return loop_now_us();
}

struct smtp_session *
smtp_session_new(smtp_event_cb *cb, void *arg)
{
	struct smtp_session *s = xcalloc(1, sizeof *s);

	s->cb = cb;
	s->arg = arg;
	s->now = default_clock;
	s->t0 = s->now();
	s->parser = smtp_reply_parser_new();
	s->state = s->pred = SMTP_STATE_CONNECTING;
	s->message_stage = s->last_reply = s->chunk_stage = SIZE_MAX;
	smtp_caps_reset(&s->caps);
	buf_init(&s->out, SESSION_OUT_MAX);
	return s;
}

void
smtp_session_free(struct smtp_session *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nstages; i++) {
		free(s->stages[i].command);
		free(s->stages[i].text);
	}
	free(s->stages);
	free(s->waiting);
	free(s->lmtp_accepted);
	free(s->auth_challenge);
	free(s->peer);
	session_secret_free(s);
	session_wire_free(s);
	free(s->raw_line);
	smtp_reply_parser_free(s->parser);
	/* The buffer may have held SASL responses. */
	if (s->out.data != NULL)
		secret_free(s->out.data, s->out.cap);
	free(s);
}

void
smtp_session_set_clock(struct smtp_session *s, uint64_t (*now)(void))
{
	s->now = now;
	s->t0 = now();
}

void
session_set_state(struct smtp_session *s, enum smtp_state st)
{
	s->state = st;
	if (smtp_session_pending(s) == 0)
		s->pred = st;
}

void
smtp_session_connecting(struct smtp_session *s, const char *what)
{
	s->t0 = s->now();
	(void)session_stage_add(s, SMTP_STAGE_CONNECT, what);
}

static size_t
find_open_stage(struct smtp_session *s, enum smtp_stage_kind kind)
{
	size_t i = s->nstages;

	while (i-- > 0)
		if (s->stages[i].kind == kind &&
		    s->stages[i].state == SMTP_ST_PENDING)
			return i;
	return SIZE_MAX;
}

void
smtp_session_connected(struct smtp_session *s, const char *peer)
{
	smtp_session_connected_proxy(s, peer, NULL);
}

void
smtp_session_connected_proxy(
    struct smtp_session *s, const char *peer, const char *proxy)
{
	size_t i = find_open_stage(s, SMTP_STAGE_CONNECT);

	if (i == SIZE_MAX)
		i = session_stage_add(s, SMTP_STAGE_CONNECT, peer);
	s->stages[i].code = 0;
	free(s->peer);
	s->peer = xstrdup(peer);
	session_stage_finish(s, i, SMTP_ST_OK);
	smtp_session_note(s, "connected to %s", peer);
	if (proxy != NULL) {
		/* Sent already, before anything else: no reply is awaited. */
		struct smtp_event ev;

		i = session_stage_add(s, SMTP_STAGE_PROXY, proxy);
		memset(&ev, 0, sizeof ev);
		ev.type = SMTP_EV_SENT;
		ev.text = proxy;
		ev.len = strlen(proxy);
		ev.stage = &s->stages[i];
		ev.stage_index = i;
		session_emit(s, &ev);
		session_stage_finish(s, i, SMTP_ST_OK);
	}
	session_set_state(s, SMTP_STATE_GREETING);
	session_wait_push(s, session_stage_add(s, SMTP_STAGE_GREETING, ""));
}

void
smtp_session_tls_begin(struct smtp_session *s)
{
	(void)session_stage_add(s, SMTP_STAGE_TLS, "");
}

void
smtp_session_tls_done(struct smtp_session *s, const char *summary)
{
	size_t i = find_open_stage(s, SMTP_STAGE_TLS);

	if (i != SIZE_MAX) {
		free(s->stages[i].command);
		s->stages[i].command = xstrdup(summary);
		session_stage_finish(s, i, SMTP_ST_OK);
	}
	s->tls = 1;
	session_wire_tls(s, summary);
	smtp_session_note(s, "TLS established: %s", summary);
	/* Anything learnt before TLS is void (RFC 3207 section 4.2). */
	if (s->state == SMTP_STATE_TLS) {
		smtp_caps_reset(&s->caps);
		smtp_reply_parser_reset(s->parser);
		session_set_state(s, SMTP_STATE_GREETED);
	}
}

static void
fail_pending(struct smtp_session *s)
{
	size_t idx;

	while (session_wait_pop(s, &idx) == 0)
		session_stage_finish(s, idx, SMTP_ST_ERROR);
	if (s->message_stage != SIZE_MAX) {
		session_stage_finish(s, s->message_stage, SMTP_ST_ERROR);
		s->message_stage = SIZE_MAX;
	}
	idx = find_open_stage(s, SMTP_STAGE_TLS);
	if (idx != SIZE_MAX)
		session_stage_finish(s, idx, SMTP_ST_ERROR);
	idx = find_open_stage(s, SMTP_STAGE_CONNECT);
	if (idx != SIZE_MAX)
		session_stage_finish(s, idx, SMTP_ST_ERROR);
}

static void
close_session(struct smtp_session *s)
{
	struct smtp_event ev;

	if (s->closed)
		return;
	s->closed = 1;
	s->chunk_left = 0; /* nobody reads the rest now */
	fail_pending(s);
	s->state = s->pred = SMTP_STATE_CLOSED;
	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_EV_CLOSED;
	session_emit(s, &ev);
}

static void fail_v(struct smtp_session *, enum smtp_fail, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
fail_v(struct smtp_session *s, enum smtp_fail cat, const char *fmt, va_list ap)
{
	struct smtp_event ev;
	char *text;

	if (s->closed)
		return;
	text = xvasprintf(fmt, ap);
	fail_pending(s);
	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_EV_FAILURE;
	ev.category = cat;
	ev.text = text;
	ev.len = strlen(text);
	session_emit(s, &ev);
	free(text);
	close_session(s);
}

void
smtp_session_fail(
    struct smtp_session *s, enum smtp_fail cat, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_v(s, cat, fmt, ap);
	va_end(ap);
}

void
session_fail_f(struct smtp_session *s, enum smtp_fail cat, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_v(s, cat, fmt, ap);
	va_end(ap);
}

void
smtp_session_close(struct smtp_session *s, const char *note)
{
	if (s->closed)
		return;
	smtp_session_note(s, "%s", note);
	close_session(s);
}

void
smtp_session_eof(struct smtp_session *s)
{
	size_t idx;
	const struct smtp_stage *st;

	if (s->closed)
		return;
	if (smtp_reply_parser_pending(s->parser) > 0)
		smtp_session_warn(s,
		    "the server closed the connection in the "
		    "middle of a reply line; the partial line was dropped");
	if (smtp_session_pending(s) == 0 &&
	    (s->quit_sent || s->server_closing)) {
		smtp_session_note(s, "connection closed by the server");
		close_session(s);
		return;
	}
	if (smtp_session_pending(s) > 0) {
		idx = s->waiting[s->headwaiting];
		st = &s->stages[idx];
		if (st->kind == SMTP_STAGE_QUIT) {
			/* Closing without a 221 is rude but harmless. */
			smtp_session_note(s,
			    "the server closed the connection "
			    "without answering QUIT");
			close_session(s);
			return;
		}
		session_fail_f(s, SMTP_FAIL_CLOSED,
		    "the server closed the connection "
		    "while ehlo waited for the reply to %s",
		    smtp_stage_kind_name(st->kind));
		return;
	}
	session_fail_f(s, SMTP_FAIL_CLOSED,
	    "the server closed the connection "
	    "unexpectedly (%s); reconnect to go on",
	    smtp_state_name(s->state));
}

/* ---- accessors ---------------------------------------------------- */

enum smtp_state
smtp_session_state(const struct smtp_session *s)
{
	return s->state;
}

const struct smtp_caps *
smtp_session_caps(const struct smtp_session *s)
{
	return &s->caps;
}

int
smtp_session_is_tls(const struct smtp_session *s)
{
	return s->tls;
}

uint64_t
smtp_session_chunk_left(const struct smtp_session *s)
{
	return s->chunk_left;
}

int
smtp_session_is_closed(const struct smtp_session *s)
{
	return s->closed;
}

int
smtp_session_is_authenticated(const struct smtp_session *s)
{
	return s->authenticated;
}

int
smtp_session_quit_sent(const struct smtp_session *s)
{
	return s->quit_sent;
}

int
smtp_session_server_closing(const struct smtp_session *s)
{
	return s->server_closing;
}

size_t
smtp_session_nstages(const struct smtp_session *s)
{
	return s->nstages;
}

const struct smtp_stage *
smtp_session_stage(const struct smtp_session *s, size_t i)
{
	return i < s->nstages ? &s->stages[i] : NULL;
}

const struct smtp_stage *
smtp_session_awaiting(const struct smtp_session *s)
{
	if (smtp_session_pending(s) == 0)
		return NULL;
	return &s->stages[s->waiting[s->headwaiting]];
}

const struct smtp_stage *
smtp_session_last_reply(const struct smtp_session *s)
{
	return s->last_reply == SIZE_MAX ? NULL : &s->stages[s->last_reply];
}
