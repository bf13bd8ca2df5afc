/*
 * The SMTP client session engine.
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
#include <strings.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/sasl.h"

/* Outgoing bytes never exceed this (a body streams through in chunks). */
#define SESSION_OUT_MAX (8u * 1024 * 1024)
/*
 * A greeting slower than this is worth a note: servers answer in
 * milliseconds unless they pause on purpose (greet pause, postscreen,
 * tarpits) or are overloaded.
 */
#define SESSION_GREETING_SLOW_US (2u * 1000 * 1000)

struct smtp_session {
	smtp_event_cb *cb;
	void *arg;
	uint64_t (*now)(void);
	uint64_t t0;

	struct smtp_reply_parser *parser;
	struct smtp_caps caps;
	enum smtp_state state;
	enum smtp_state pred; /* predicted state, see the top comment */
	int tls;
	int authenticated;
	int quit_sent;
	int server_closing;
	int closed;

	struct smtp_stage *stages;
	size_t nstages, capstages;
	size_t *waiting; /* FIFO of stage indexes */
	size_t nwaiting, capwaiting, headwaiting;
	size_t message_stage; /* open MESSAGE stage, or SIZE_MAX */
	size_t last_reply; /* stage index, or SIZE_MAX */

	unsigned txn; /* current transaction number, 0 outside one */
	unsigned ntxn; /* transactions begun on this connection */
	unsigned group, pipelining;
	unsigned line_flags_warned;
	int early_talk; /* a command left before the greeting came */
	int auth_plain_warned; /* AUTH offered without TLS: said once */

	/* SASL typed by hand: what is needed to redact the next response. */
	char auth_mech[32];
	int auth_step;
	char *auth_challenge;

	uint64_t bdat_left; /* BDAT octets the user still has to supply */
	size_t bdat_stage; /* the BDAT stage those octets belong to */

	struct buf out;
	/*
	 * Octets at the head of out up to the end of the last command line
	 * (it may hold a SASL response: wiped once sent; streamed message
	 * content after it is not).
	 */
	size_t wipe_left;
};

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
    [SMTP_STAGE_OTHER] = "other",
};

/* The stage kind each verb opens. */
static const enum smtp_stage_kind verb_kind[SMTP_VERB_COUNT] = {
    [SMTP_VERB_UNKNOWN] = SMTP_STAGE_OTHER,
    [SMTP_VERB_EHLO] = SMTP_STAGE_EHLO,
    [SMTP_VERB_HELO] = SMTP_STAGE_HELO,
    [SMTP_VERB_STARTTLS] = SMTP_STAGE_STARTTLS,
    [SMTP_VERB_AUTH] = SMTP_STAGE_AUTH,
    [SMTP_VERB_MAIL] = SMTP_STAGE_MAIL,
    [SMTP_VERB_RCPT] = SMTP_STAGE_RCPT,
    [SMTP_VERB_DATA] = SMTP_STAGE_DATA,
    [SMTP_VERB_BDAT] = SMTP_STAGE_BDAT,
    [SMTP_VERB_RSET] = SMTP_STAGE_RSET,
    [SMTP_VERB_VRFY] = SMTP_STAGE_VRFY,
    [SMTP_VERB_EXPN] = SMTP_STAGE_EXPN,
    [SMTP_VERB_HELP] = SMTP_STAGE_HELP,
    [SMTP_VERB_NOOP] = SMTP_STAGE_NOOP,
    [SMTP_VERB_QUIT] = SMTP_STAGE_QUIT,
    [SMTP_VERB_VERB] = SMTP_STAGE_VERB,
    [SMTP_VERB_ETRN] = SMTP_STAGE_ETRN,
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

static uint64_t
elapsed(const struct smtp_session *s)
{
	uint64_t now = s->now();

	return now > s->t0 ? now - s->t0 : 0;
}

static void
emit(struct smtp_session *s, struct smtp_event *ev)
{
	ev->t_us = elapsed(s);
	s->cb(ev, s->arg);
}

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
	emit(s, &ev);
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
	emit(s, &ev);
}

static size_t
stage_add(
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
	st->t_start_us = elapsed(s);
	st->txn = s->txn;
	st->group = s->pipelining ? s->group : 0;
	emit_stage(s, s->nstages);
	return s->nstages++;
}

/* The message-content stage, opened on first use. */
static size_t
message_stage(struct smtp_session *s)
{
	if (s->message_stage == SIZE_MAX)
		s->message_stage =
		    stage_add(s, SMTP_STAGE_MESSAGE, "message content");
	return s->message_stage;
}

static void
stage_finish(struct smtp_session *s, size_t i, enum smtp_stage_state state)
{
	s->stages[i].state = state;
	s->stages[i].t_end_us = elapsed(s);
	emit_stage(s, i);
}

static void
wait_push(struct smtp_session *s, size_t idx)
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

static int
wait_pop(struct smtp_session *s, size_t *idx)
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

static void on_parser_event(const struct smtp_reply_event *, void *);
static int bdat_is_last(const char *);

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
	s->message_stage = s->last_reply = s->bdat_stage = SIZE_MAX;
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
	free(s->auth_challenge);
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

static void
set_state(struct smtp_session *s, enum smtp_state st)
{
	s->state = st;
	if (smtp_session_pending(s) == 0)
		s->pred = st;
}

void
smtp_session_connecting(struct smtp_session *s, const char *what)
{
	s->t0 = s->now();
	(void)stage_add(s, SMTP_STAGE_CONNECT, what);
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
	size_t i = find_open_stage(s, SMTP_STAGE_CONNECT);

	if (i == SIZE_MAX)
		i = stage_add(s, SMTP_STAGE_CONNECT, peer);
	s->stages[i].code = 0;
	stage_finish(s, i, SMTP_ST_OK);
	smtp_session_note(s, "connected to %s", peer);
	set_state(s, SMTP_STATE_GREETING);
	wait_push(s, stage_add(s, SMTP_STAGE_GREETING, ""));
}

void
smtp_session_tls_begin(struct smtp_session *s)
{
	(void)stage_add(s, SMTP_STAGE_TLS, "");
}

void
smtp_session_tls_done(struct smtp_session *s, const char *summary)
{
	size_t i = find_open_stage(s, SMTP_STAGE_TLS);

	if (i != SIZE_MAX) {
		free(s->stages[i].command);
		s->stages[i].command = xstrdup(summary);
		stage_finish(s, i, SMTP_ST_OK);
	}
	s->tls = 1;
	smtp_session_note(s, "TLS established: %s", summary);
	/* Anything learnt before TLS is void (RFC 3207 section 4.2). */
	if (s->state == SMTP_STATE_TLS) {
		smtp_caps_reset(&s->caps);
		smtp_reply_parser_reset(s->parser);
		set_state(s, SMTP_STATE_GREETED);
	}
}

/* ---- replies ------------------------------------------------------ */

static enum smtp_stage_state
state_of_code(int code)
{
	switch (code / 100) {
	case 2:
		return SMTP_ST_OK;
	case 3:
		return SMTP_ST_MORE;
	case 4:
		return SMTP_ST_TEMPFAIL;
	case 5:
		return SMTP_ST_PERMFAIL;
	default:
		return SMTP_ST_ERROR;
	}
}

static void
warn_line_flags(struct smtp_session *s, unsigned flags)
{
	static const struct {
		unsigned flag;
		const char *what;
	} tab[] = {
	    {SMTP_LINE_BARE_LF,
	        "ended a line with a bare LF instead of "
	        "CRLF (RFC 5321 2.3.8)"},
	    {SMTP_LINE_NUL, "sent a NUL byte inside a reply"},
	    {SMTP_LINE_TRUNCATED,
	        "sent a reply line longer than "
	        "the workbench keeps; the rest of that line was dropped"},
	    {SMTP_LINE_BARE_CR, "sent a bare CR inside a reply line"},
	    {SMTP_LINE_CODE_RANGE, "used a reply code outside 2xx-5xx"},
	};
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		if ((flags & tab[i].flag) == 0 ||
		    (s->line_flags_warned & tab[i].flag) != 0)
			continue;
		s->line_flags_warned |= tab[i].flag;
		smtp_session_warn(s, "the server %s", tab[i].what);
	}
}

static void
fail_pending(struct smtp_session *s)
{
	size_t idx;

	while (wait_pop(s, &idx) == 0)
		stage_finish(s, idx, SMTP_ST_ERROR);
	if (s->message_stage != SIZE_MAX) {
		stage_finish(s, s->message_stage, SMTP_ST_ERROR);
		s->message_stage = SIZE_MAX;
	}
	idx = find_open_stage(s, SMTP_STAGE_TLS);
	if (idx != SIZE_MAX)
		stage_finish(s, idx, SMTP_ST_ERROR);
	idx = find_open_stage(s, SMTP_STAGE_CONNECT);
	if (idx != SIZE_MAX)
		stage_finish(s, idx, SMTP_ST_ERROR);
}

static void
close_session(struct smtp_session *s)
{
	struct smtp_event ev;

	if (s->closed)
		return;
	s->closed = 1;
	fail_pending(s);
	s->state = s->pred = SMTP_STATE_CLOSED;
	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_EV_CLOSED;
	emit(s, &ev);
}

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
	emit(s, &ev);
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

static void fail_f(struct smtp_session *s, enum smtp_fail cat, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
fail_f(struct smtp_session *s, enum smtp_fail cat, const char *fmt, ...)
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
		fail_f(s, SMTP_FAIL_CLOSED,
		    "the server closed the connection "
		    "while the workbench waited for the reply to %s",
		    smtp_stage_kind_name(st->kind));
		return;
	}
	fail_f(s, SMTP_FAIL_CLOSED,
	    "the server closed the connection "
	    "unexpectedly (%s); reconnect to go on",
	    smtp_state_name(s->state));
}

static void
stage_store_reply(struct smtp_stage *st, const struct smtp_reply *r)
{
	const char *text;
	size_t len;

	st->code = r->code;
	memcpy(st->enhanced, r->enhanced, sizeof st->enhanced);
	st->enhanced[sizeof st->enhanced - 1] = '\0';
	free(st->text);
	text = smtp_reply_line_text(&r->lines[0], r->enhanced[0] != '\0', &len);
	st->text = xstrndup(text, len);
	/* xstrndup stops at NUL; keep the length it really copied. */
	st->text_len = strlen(st->text);
}

/*
 * A late greeting, and a greeting that answers a client which spoke
 * first: both are how greet pauses and tarpits show themselves (sendmail
 * greet_pause, Exim smtp_enforce_sync, Postfix postscreen pregreet).
 */
static void
greeting_notes(struct smtp_session *s, const struct smtp_stage *st, int code)
{
	uint64_t t = elapsed(s);
	uint64_t took = t > st->t_start_us ? t - st->t_start_us : 0;

	/* Short notes: they share the dialogue's 78 columns. */
	if (took >= SESSION_GREETING_SLOW_US)
		smtp_session_note(s,
		    "the greeting took %.1f s: greet-pause / tarpit? (or an "
		    "overloaded server)",
		    (double)took / 1e6);
	if (s->early_talk && code / 100 != 2)
		smtp_session_note(s,
		    "%d to a client that spoke before the greeting: it "
		    "punishes early talkers",
		    code);
	else if (s->early_talk)
		smtp_session_note(s,
		    "the client spoke before the greeting; the server did "
		    "not mind");
}

/*
 * What a fresh EHLO reply says about the connection's security: notes,
 * not warnings, since the client broke no rule.
 */
static void
caps_notes(struct smtp_session *s)
{
	int auth = smtp_caps_has(&s->caps, SMTP_CAP_AUTH);
	int starttls = smtp_caps_has(&s->caps, SMTP_CAP_STARTTLS);

	if (!s->tls) {
		if (auth && s->caps.nauth > 0 && !s->auth_plain_warned) {
			s->auth_plain_warned = 1;
			smtp_session_note(s, "%s",
			    starttls
			        ? "AUTH offered in plain text (use "
			          "STARTTLS first, or credentials go "
			          "unencrypted)"
			        : "AUTH offered in plain text, no STARTTLS: "
			          "credentials would go unencrypted");
		}
	} else if (starttls)
		smtp_session_note(s,
		    "STARTTLS offered again inside TLS (RFC 3207 4.2 forbids "
		    "it)");
}

/* Moves the confirmed state according to a reply to a stage. */
static void
apply_reply(struct smtp_session *s, size_t idx, const struct smtp_reply *r)
{
	struct smtp_stage *st = &s->stages[idx];
	int ok = r->code / 100 == 2;
	const char *text;
	size_t len;

	switch (st->kind) {
	case SMTP_STAGE_GREETING:
		greeting_notes(s, st, r->code);
		if (r->code == 220)
			set_state(s, SMTP_STATE_GREETED);
		else if (r->code == 554) {
			/* It is a greeting all the same: QUIT may follow. */
			set_state(s, SMTP_STATE_GREETED);
			smtp_session_note(s,
			    "the server refuses this session "
			    "(554 greeting); it will answer 503 to everything "
			    "but QUIT (RFC 5321 3.1)");
		}
		break;
	case SMTP_STAGE_EHLO:
		if (ok) {
			(void)smtp_caps_parse(&s->caps, r);
			if (s->caps.ignored > 0)
				smtp_session_warn(s,
				    "ignored %zu malformed "
				    "or excess EHLO keyword line(s)",
				    s->caps.ignored);
			caps_notes(s);
			set_state(s, SMTP_STATE_READY);
		}
		break;
	case SMTP_STAGE_HELO:
		if (ok) {
			smtp_caps_reset(&s->caps);
			set_state(s, SMTP_STATE_READY);
		}
		break;
	case SMTP_STAGE_STARTTLS:
		if (r->code == 220) {
			set_state(s, SMTP_STATE_TLS);
			if (smtp_reply_parser_pending(s->parser) > 0)
				smtp_session_warn(s,
				    "the server sent data "
				    "after its 220 and before TLS; it was "
				    "discarded (a STARTTLS injection "
				    "would look like this)");
			smtp_reply_parser_reset(s->parser);
		}
		break;
	case SMTP_STAGE_AUTH:
		free(s->auth_challenge);
		s->auth_challenge = NULL;
		if (r->code == 334) {
			set_state(s, SMTP_STATE_AUTH);
			s->pred = SMTP_STATE_AUTH;
			text = smtp_reply_line_text(&r->lines[0], 0, &len);
			s->auth_challenge = xstrndup(text, len);
		} else {
			if (r->code == 235)
				s->authenticated = 1;
			s->auth_mech[0] = '\0';
			s->auth_step = 0;
			set_state(s, SMTP_STATE_READY);
		}
		break;
	case SMTP_STAGE_MAIL:
		if (ok)
			set_state(s, SMTP_STATE_MAIL);
		break;
	case SMTP_STAGE_RCPT:
		if (ok)
			set_state(s, SMTP_STATE_RCPT);
		break;
	case SMTP_STAGE_DATA:
		if (r->code == 354) {
			set_state(s, SMTP_STATE_CONTENT);
			s->pred = SMTP_STATE_CONTENT;
			(void)message_stage(s);
		}
		break;
	case SMTP_STAGE_MESSAGE:
		set_state(s, SMTP_STATE_READY);
		break;
	case SMTP_STAGE_BDAT:
		if (!ok || bdat_is_last(st->command))
			set_state(s, SMTP_STATE_READY);
		else
			set_state(s, SMTP_STATE_BDAT);
		break;
	case SMTP_STAGE_RSET:
		if (ok && s->state != SMTP_STATE_GREETED)
			set_state(s, SMTP_STATE_READY);
		break;
	case SMTP_STAGE_QUIT:
		if (r->code == 221)
			s->server_closing = 1;
		break;
	default:
		break;
	}
	if (r->code == 421) {
		s->server_closing = 1;
		smtp_session_note(s,
		    "421: the server is closing the "
		    "connection; a client should reconnect later");
	}
}

static void
handle_reply(struct smtp_session *s, const struct smtp_reply *r)
{
	struct smtp_event ev;
	size_t idx;

	if (wait_pop(s, &idx) == -1) {
		smtp_session_warn(s,
		    "the server sent a reply (%d) to no "
		    "command; it is shown but matched to nothing",
		    r->code);
		memset(&ev, 0, sizeof ev);
		ev.type = SMTP_EV_REPLY;
		ev.reply = r;
		ev.stage_index = SIZE_MAX;
		emit(s, &ev);
		if (r->code == 421)
			s->server_closing = 1;
		return;
	}
	stage_store_reply(&s->stages[idx], r);
	s->last_reply = idx;
	apply_reply(s, idx, r);
	if (smtp_session_pending(s) == 0 && s->state != SMTP_STATE_CLOSED)
		s->pred = s->state;
	stage_finish(s, idx, state_of_code(r->code));
	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_EV_REPLY;
	ev.reply = r;
	ev.stage = &s->stages[idx];
	ev.stage_index = idx;
	emit(s, &ev);
	if (s->stages[idx].kind == SMTP_STAGE_STARTTLS && r->code == 220) {
		memset(&ev, 0, sizeof ev);
		ev.type = SMTP_EV_STARTTLS;
		(void)stage_add(s, SMTP_STAGE_TLS, "");
		emit(s, &ev);
	}
}

static void
on_parser_event(const struct smtp_reply_event *pe, void *arg)
{
	struct smtp_session *s = arg;
	struct smtp_event ev;

	if (s->closed)
		return;
	switch (pe->type) {
	case SMTP_REPLY_EV_LINE:
		memset(&ev, 0, sizeof ev);
		ev.type = SMTP_EV_LINE;
		ev.text = pe->line->text;
		ev.len = pe->line->len;
		ev.flags = pe->line->flags;
		emit(s, &ev);
		if (pe->line->flags != 0)
			warn_line_flags(s, pe->line->flags);
		break;
	case SMTP_REPLY_EV_REPLY:
		handle_reply(s, pe->reply);
		break;
	case SMTP_REPLY_EV_ERROR:
		if (s->quit_sent && s->server_closing &&
		    smtp_session_pending(s) == 0) {
			/* QUIT was answered: the session is over and
			 * nothing the server sends now can be misread. */
			smtp_session_warn(s,
			    "the server sent a malformed reply (%s) after "
			    "answering QUIT",
			    smtp_reply_error_str(pe->error));
			smtp_session_close(
			    s, "the workbench closed the connection");
			break;
		}
		fail_f(s, SMTP_FAIL_PROTOCOL,
		    "the server sent a malformed "
		    "reply (%s); replies can no longer be matched to "
		    "commands, so the session is closed",
		    smtp_reply_error_str(pe->error));
		break;
	}
}

void
smtp_session_feed(struct smtp_session *s, const char *p, size_t n)
{
	if (s->closed || n == 0)
		return;
	if (s->state == SMTP_STATE_TLS) {
		/* Plaintext after 220 to STARTTLS is never SMTP. */
		return;
	}
	smtp_reply_parser_feed(s->parser, p, n, on_parser_event, s);
}

/* ---- sending ------------------------------------------------------ */

static int
queue_line(struct smtp_session *s, const char *p, size_t n)
{
	char *dst;

	/* All or nothing: never half a line queued. */
	if (n > SIZE_MAX - 2 || (dst = buf_reserve(&s->out, n + 2)) == NULL)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\r';
	dst[n + 1] = '\n';
	buf_commit(&s->out, n + 2);
	s->wipe_left = buf_used(&s->out);
	return 0;
}

static void
emit_sent(struct smtp_session *s, const char *text, size_t len, unsigned flags,
    size_t idx)
{
	struct smtp_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_EV_SENT;
	ev.text = text;
	ev.len = len;
	ev.flags = flags;
	if (idx != SIZE_MAX) {
		ev.stage = &s->stages[idx];
		ev.stage_index = idx;
	} else
		ev.stage_index = SIZE_MAX;
	emit(s, &ev);
}

static int
has_forbidden(const char *p, size_t n, char **errstr)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0') {
			*errstr = xasprintf(
			    "the line contains a %s at "
			    "position %zu; SMTP lines cannot carry one (it "
			    "would end the command early), so nothing was sent",
			    p[i] == '\r'       ? "CR"
			        : p[i] == '\n' ? "LF"
			                       : "NUL",
			    i + 1);
			return 1;
		}
	}
	return 0;
}

static void
predict(struct smtp_session *s, enum smtp_verb verb, const char *line)
{
	switch (verb) {
	case SMTP_VERB_EHLO:
	case SMTP_VERB_HELO:
	case SMTP_VERB_RSET:
		s->pred = SMTP_STATE_READY;
		break;
	case SMTP_VERB_MAIL:
		s->pred = SMTP_STATE_MAIL;
		break;
	case SMTP_VERB_RCPT:
		s->pred = SMTP_STATE_RCPT;
		break;
	case SMTP_VERB_DATA:
		s->pred = SMTP_STATE_CONTENT;
		break;
	case SMTP_VERB_STARTTLS:
		s->pred = SMTP_STATE_TLS;
		break;
	case SMTP_VERB_BDAT:
		s->pred =
		    bdat_is_last(line) ? SMTP_STATE_READY : SMTP_STATE_BDAT;
		break;
	default:
		break;
	}
}

/* 1 when a BDAT command line carries the LAST keyword. */
static int
bdat_is_last(const char *line)
{
	const char *p;

	for (p = line; (p = strchr(p, ' ')) != NULL; p++)
		if (strncasecmp(p + 1, "LAST", 4) == 0 &&
		    (p[5] == '\0' || p[5] == ' '))
			return 1;
	return 0;
}

/* Parses the size of "BDAT n [LAST]"; 0 when absent or bad. */
static uint64_t
bdat_size(const char *line)
{
	const char *p = line + 4;
	uint64_t v = 0;

	while (*p == ' ')
		p++;
	while (*p >= '0' && *p <= '9') {
		if (v > UINT64_MAX / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	return v;
}

static int
send_content_line(
    struct smtp_session *s, const char *p, size_t n, char **errstr)
{
	size_t i;

	if (n == 1 && p[0] == '.') {
		if (queue_line(s, p, n) == -1)
			goto full;
		/*
		 * The index first: message_stage() may add a stage, which
		 * moves s->stages.
		 */
		i = message_stage(s);
		s->stages[i].bytes += 3;
		/* The reply's latency counts from the end of the content. */
		s->stages[i].t_start_us = elapsed(s);
		emit_sent(s, p, n, SMTP_SENT_CONTENT, s->message_stage);
		wait_push(s, s->message_stage);
		s->message_stage = SIZE_MAX;
		s->pred = SMTP_STATE_READY;
		s->txn = 0;
		return 0;
	}
	if (n > 1 && p[0] == '.' && p[1] != '.')
		smtp_session_warn(s,
		    "this content line starts with \".\": the "
		    "server removes that dot (RFC 5321 4.5.2); type \"..\" "
		    "to send a literal dot");
	if (n > 998)
		smtp_session_warn(s,
		    "content line of %zu octets: RFC 5322 "
		    "allows at most 998",
		    n);
	if (queue_line(s, p, n) == -1)
		goto full;
	i = message_stage(s);
	s->stages[i].bytes += n + 2;
	emit_sent(s, p, n, SMTP_SENT_CONTENT, s->message_stage);
	return 0;
full:
	*errstr = xstrdup("too much unsent output is queued; wait for the "
	                  "server to read it");
	return -1;
}

static int
send_bdat_line(struct smtp_session *s, const char *p, size_t n, char **errstr)
{
	size_t idx = s->bdat_stage;

	if (n + 2 > s->bdat_left) {
		*errstr = xasprintf(
		    "this line (%zu octets with CRLF) is "
		    "longer than the %llu octets the BDAT command announced; "
		    "nothing was sent",
		    n + 2, (unsigned long long)s->bdat_left);
		return -1;
	}
	if (queue_line(s, p, n) == -1) {
		*errstr = xstrdup("too much unsent output is queued");
		return -1;
	}
	s->bdat_left -= n + 2;
	emit_sent(s, p, n, SMTP_SENT_CONTENT, idx);
	if (s->bdat_left == 0)
		smtp_session_note(s, "BDAT chunk complete");
	return 0;
}

static int
send_sasl_line(struct smtp_session *s, const char *p, size_t n, char **errstr)
{
	char *line = xstrndup(p, n), *display;
	size_t idx;

	display = sasl_redact_response(s->auth_mech[0] ? s->auth_mech : NULL,
	    ++s->auth_step, s->auth_challenge, line);
	if (queue_line(s, p, n) == -1) {
		secret_free_str(line);
		free(display);
		*errstr = xstrdup("too much unsent output is queued");
		return -1;
	}
	secret_free_str(line);
	idx = stage_add(s, SMTP_STAGE_AUTH, display);
	emit_sent(s, display, strlen(display), SMTP_SENT_REDACTED, idx);
	wait_push(s, idx);
	s->pred = SMTP_STATE_READY;
	free(display);
	return 0;
}

int
smtp_session_send(
    struct smtp_session *s, const char *p, size_t n, char **errstr)
{
	struct smtp_check chk;
	enum smtp_verb verb;
	char *line, *display = NULL;
	size_t i, idx;
	unsigned flags = 0;

	if (s->closed || s->state == SMTP_STATE_CONNECTING) {
		*errstr = xstrdup("not connected: nothing was sent (connect "
		                  "first)");
		return -1;
	}
	if (has_forbidden(p, n, errstr))
		return -1;
	if (s->pred == SMTP_STATE_CONTENT)
		return send_content_line(s, p, n, errstr);
	if (s->pred == SMTP_STATE_AUTH)
		return send_sasl_line(s, p, n, errstr);
	if (s->bdat_left > 0)
		return send_bdat_line(s, p, n, errstr);
	if (s->state == SMTP_STATE_TLS || s->pred == SMTP_STATE_TLS) {
		*errstr = xstrdup("STARTTLS was accepted: nothing can be sent "
		                  "until the TLS handshake is done");
		return -1;
	}

	smtp_command_check(
	    p, n, s->pred, s->caps.valid ? &s->caps : NULL, &chk);
	if (chk.refused) {
		*errstr =
		    xstrdup(chk.reason != NULL ? chk.reason
		                               : "the line cannot be sent");
		return -1;
	}
	if (s->state == SMTP_STATE_GREETING)
		s->early_talk = 1;
	if (s->pred == SMTP_STATE_GREETING)
		smtp_session_warn(s,
		    "the server has not sent its greeting "
		    "yet; servers with a greet pause reject clients that talk "
		    "first");
	for (i = 0; i < chk.nwarn; i++)
		smtp_session_warn(s, "%s (sent anyway)", chk.warn[i]);
	if (s->pipelining && !smtp_caps_has(&s->caps, SMTP_CAP_PIPELINING) &&
	    s->pipelining == 1) {
		s->pipelining = 2;
		smtp_session_warn(s,
		    "the server did not advertise PIPELINING "
		    "(RFC 2920); it may lose or reject commands sent in one "
		    "group");
	}
	verb = chk.cmd != NULL ? chk.cmd->verb : SMTP_VERB_UNKNOWN;

	line = xstrndup(p, n);
	if (verb == SMTP_VERB_AUTH) {
		display = sasl_redact_auth_command(line);
		flags |= SMTP_SENT_REDACTED;
		/*
		 * Remember the mechanism to redact later responses: the
		 * word after the verb ("AUTH" alone has none).
		 */
		i = strspn(line, " \t");
		i += strcspn(line + i, " \t");
		i += strspn(line + i, " \t");
		for (idx = 0; line[i] != '\0' && line[i] != ' ' &&
		     line[i] != '\t' && idx + 1 < sizeof s->auth_mech;
		     i++)
			s->auth_mech[idx++] = line[i];
		s->auth_mech[idx] = '\0';
		s->auth_step = 0;
	}
	if (queue_line(s, p, n) == -1) {
		secret_free_str(line);
		free(display);
		*errstr = xstrdup("too much unsent output is queued; wait for "
		                  "the server to read it");
		return -1;
	}
	if (verb == SMTP_VERB_MAIL)
		s->txn = ++s->ntxn;
	/* These end any transaction (RFC 5321 4.1.1.1, 4.1.1.5). */
	if (verb == SMTP_VERB_RSET || verb == SMTP_VERB_EHLO ||
	    verb == SMTP_VERB_HELO || verb == SMTP_VERB_QUIT)
		s->txn = 0;
	if (verb == SMTP_VERB_QUIT)
		s->quit_sent = 1;
	idx = stage_add(s, verb_kind[verb], display != NULL ? display : line);
	emit_sent(s, display != NULL ? display : line,
	    strlen(display != NULL ? display : line), flags, idx);
	if (verb == SMTP_VERB_BDAT) {
		s->bdat_left = bdat_size(line);
		s->bdat_stage = idx;
		wait_push(s, idx);
		if (bdat_is_last(line))
			s->txn = 0;
		if (s->bdat_left > 0)
			smtp_session_note(s,
			    "the next %llu octets you type "
			    "(each line counts its CRLF) are the BDAT chunk",
			    (unsigned long long)s->bdat_left);
	} else
		wait_push(s, idx);
	predict(s, verb, line);
	secret_free_str(line);
	free(display);
	return 0;
}

int
smtp_session_send_secret(struct smtp_session *s, const char *wire,
    const char *display, char **errstr)
{
	size_t idx, n = strlen(wire);

	if (s->closed || s->state == SMTP_STATE_CONNECTING) {
		*errstr = xstrdup("not connected: nothing was sent");
		return -1;
	}
	if (has_forbidden(wire, n, errstr))
		return -1;
	if (queue_line(s, wire, n) == -1) {
		*errstr = xstrdup("too much unsent output is queued");
		return -1;
	}
	/* The AUTH command itself counts as the start of an exchange. */
	if (strncasecmp(wire, "AUTH ", 5) == 0) {
		s->auth_step = 0;
		s->auth_mech[0] = '\0';
	}
	idx = stage_add(s, SMTP_STAGE_AUTH, display);
	emit_sent(s, display, strlen(display), SMTP_SENT_REDACTED, idx);
	wait_push(s, idx);
	s->pred = SMTP_STATE_READY;
	return 0;
}

struct buf *
smtp_session_body_buf(struct smtp_session *s)
{
	return s->state == SMTP_STATE_CONTENT ? &s->out : NULL;
}

void
smtp_session_body_commit(struct smtp_session *s, size_t n)
{
	size_t i = message_stage(s); /* may move s->stages */

	s->stages[i].bytes += n;
}

void
smtp_session_body_end(struct smtp_session *s, const char *summary)
{
	size_t idx = s->message_stage;

	if (idx == SIZE_MAX)
		idx = stage_add(s, SMTP_STAGE_MESSAGE, summary);
	free(s->stages[idx].command);
	s->stages[idx].command = xstrdup(summary);
	s->stages[idx].t_start_us = elapsed(s);
	emit_sent(s, summary, strlen(summary), SMTP_SENT_SUMMARY, idx);
	wait_push(s, idx);
	s->message_stage = SIZE_MAX;
	s->pred = SMTP_STATE_READY;
	s->txn = 0;
}

void
smtp_session_pipeline_begin(struct smtp_session *s)
{
	s->group++;
	s->pipelining = 1;
}

void
smtp_session_pipeline_end(struct smtp_session *s)
{
	s->pipelining = 0;
}

int
smtp_session_is_pipelining(const struct smtp_session *s)
{
	return s->pipelining != 0;
}

const char *
smtp_session_output(const struct smtp_session *s, size_t *len)
{
	*len = buf_used(&s->out);
	return buf_peek(&s->out);
}

void
smtp_session_output_consume(struct smtp_session *s, size_t n)
{
	size_t used = buf_used(&s->out), w;

	if (n > used)
		n = used;
	/*
	 * Wipe what leaves the buffer up to the end of the last command
	 * line (a SASL response, maybe); bulk message content is not
	 * wiped, so a large message is not written over twice.
	 */
	w = s->wipe_left < n ? s->wipe_left : n;
	if (w > 0)
		memset(s->out.data + s->out.off, 0, w);
	s->wipe_left -= w;
	buf_consume(&s->out, n);
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
