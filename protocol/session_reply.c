/*
 * The session engine's replies: each complete reply from the parser is
 * matched to the oldest stage still waiting (the FIFO in session.c;
 * pipelined groups match the same way), stored on that stage, and moves
 * the confirmed state (apply_reply).  Notes about what a reply reveals
 * (a greet pause, AUTH in plain text) and warnings about malformed
 * lines are emitted here.
 *
 * RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 2920
 * (PIPELINING), RFC 3030 (CHUNKING), RFC 3463 (enhanced status codes).
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/session_int.h"

/*
 * A greeting slower than this is worth a note: servers answer in
 * milliseconds unless they pause on purpose (greet pause, postscreen,
 * tarpits) or are overloaded.
 */
#define SESSION_GREETING_SLOW_US (2u * 1000 * 1000)

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
	uint64_t t = session_elapsed(s);
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

/*
 * A reply to BDAT while its chunk is still owed.  RFC 3030 2 has the
 * server read the whole chunk before it answers, so an early reply means
 * one of two things.  500/502 (BDAT unknown) and 501/504 (no size it
 * could read): the server took no chunk announcement and reads no chunk,
 * so the rest is cancelled and the next line is a command again.  Any
 * other code: the server knows the size and must still read (and may
 * discard) those octets before it takes a command, so they stay the
 * chunk.  After 421 the connection ends anyway.
 */
static void
chunk_early_reply(struct smtp_session *s, int code)
{
	unsigned long long left = s->chunk_left;

	if (code == 500 || code == 501 || code == 502 || code == 504) {
		s->chunk_left = 0;
		smtp_session_note(s,
		    "%d to BDAT: the server reads no chunk, so the %llu "
		    "octets still owed are cancelled; the next line is a "
		    "command",
		    code, left);
	} else if (code != 421)
		smtp_session_warn(s,
		    "the server answered BDAT before its chunk was complete "
		    "(RFC 3030 2); the next %llu octets still go to the chunk",
		    left);
}

/* Moves the confirmed state according to a reply to a stage. */
static void
apply_reply(struct smtp_session *s, size_t idx, const struct smtp_reply *r)
{
	struct smtp_stage *st = &s->stages[idx];
	int ok = r->code / 100 == 2, last;
	const char *text;
	size_t len;

	switch (st->kind) {
	case SMTP_STAGE_GREETING:
		greeting_notes(s, st, r->code);
		if (r->code == 220)
			session_set_state(s, SMTP_STATE_GREETED);
		else if (r->code == 554) {
			/* It is a greeting all the same: QUIT may follow. */
			session_set_state(s, SMTP_STATE_GREETED);
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
			session_set_state(s, SMTP_STATE_READY);
		}
		break;
	case SMTP_STAGE_HELO:
		if (ok) {
			smtp_caps_reset(&s->caps);
			session_set_state(s, SMTP_STATE_READY);
		}
		break;
	case SMTP_STAGE_STARTTLS:
		if (r->code == 220) {
			session_set_state(s, SMTP_STATE_TLS);
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
			session_set_state(s, SMTP_STATE_AUTH);
			s->pred = SMTP_STATE_AUTH;
			text = smtp_reply_line_text(&r->lines[0], 0, &len);
			s->auth_challenge = xstrndup(text, len);
		} else {
			if (r->code == 235)
				s->authenticated = 1;
			s->auth_mech[0] = '\0';
			s->auth_step = 0;
			session_set_state(s, SMTP_STATE_READY);
		}
		break;
	case SMTP_STAGE_MAIL:
		session_lmtp_reset(s);
		if (ok)
			session_set_state(s, SMTP_STATE_MAIL);
		break;
	case SMTP_STAGE_RCPT:
		if (ok) {
			session_set_state(s, SMTP_STATE_RCPT);
			session_lmtp_rcpt(s, idx);
		}
		break;
	case SMTP_STAGE_DATA:
		if (r->code == 354) {
			session_set_state(s, SMTP_STATE_CONTENT);
			s->pred = SMTP_STATE_CONTENT;
			(void)session_message_stage(s);
		}
		break;
	case SMTP_STAGE_MESSAGE:
		session_set_state(s, SMTP_STATE_READY);
		session_lmtp_end_reply(s, idx);
		break;
	case SMTP_STAGE_BDAT:
		if (idx == s->chunk_stage && s->chunk_left > 0)
			chunk_early_reply(s, r->code);
		last = session_bdat_is_last(st->command);
		if (last) /* LMTP: every recipient answers, ok or not */
			session_lmtp_end_reply(s, idx); /* moves s->stages */
		if (!ok || last)
			session_set_state(s, SMTP_STATE_READY);
		else
			session_set_state(s, SMTP_STATE_BDAT);
		break;
	case SMTP_STAGE_RSET:
		session_lmtp_reset(s);
		if (ok && s->state != SMTP_STATE_GREETED)
			session_set_state(s, SMTP_STATE_READY);
		break;
	case SMTP_STAGE_QUIT:
		if (r->code == 221)
			s->server_closing = 1;
		break;
	case SMTP_STAGE_XCLIENT:
		if (r->code == 220) {
			/* Postfix starts the session over: what EHLO said
			 * no longer counts, and EHLO must come again. */
			smtp_caps_reset(&s->caps);
			session_lmtp_reset(s);
			s->txn = 0;
			session_set_state(s, SMTP_STATE_GREETED);
			smtp_session_note(s,
			    "XCLIENT accepted: the 220 is a new greeting and "
			    "the session starts over as the client it names; "
			    "send EHLO again");
		}
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

	if (session_wait_pop(s, &idx) == -1 &&
	    !session_raw_early_end(s, &idx)) {
		smtp_session_warn(s,
		    "the server sent a reply (%d) to no "
		    "command; it is shown but matched to nothing",
		    r->code);
		memset(&ev, 0, sizeof ev);
		ev.type = SMTP_EV_REPLY;
		ev.reply = r;
		ev.stage_index = SIZE_MAX;
		session_emit(s, &ev);
		if (r->code == 421)
			s->server_closing = 1;
		return;
	}
	stage_store_reply(&s->stages[idx], r);
	s->last_reply = idx;
	apply_reply(s, idx, r);
	if (smtp_session_pending(s) == 0 && s->state != SMTP_STATE_CLOSED)
		s->pred = s->state;
	session_stage_finish(s, idx, state_of_code(r->code));
	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_EV_REPLY;
	ev.reply = r;
	ev.stage = &s->stages[idx];
	ev.stage_index = idx;
	session_emit(s, &ev);
	if (s->stages[idx].kind == SMTP_STAGE_GREETING &&
	    (r->code < 200 || r->code > 599)) {
		/*
		 * Only 220 and 554 (and 421) open SMTP (RFC 5321 3.1, 4.2):
		 * anything outside 2xx-5xx is no SMTP server, and waiting
		 * for a real greeting after it would only wait out the
		 * timeout.
		 */
		session_fail_f(s, SMTP_FAIL_PROTOCOL,
		    "the server greeted with %d, a code outside 2xx-5xx: it "
		    "does not speak SMTP (or is broken), so the session is "
		    "closed",
		    r->code);
		return;
	}
	if (s->stages[idx].kind == SMTP_STAGE_XCLIENT && r->code == 220) {
		/* The stage view shows the reset: a greeting row again. */
		idx =
		    session_stage_add(s, SMTP_STAGE_GREETING, "after XCLIENT");
		stage_store_reply(&s->stages[idx], r);
		session_stage_finish(s, idx, SMTP_ST_OK);
		return;
	}
	if (s->stages[idx].kind == SMTP_STAGE_STARTTLS && r->code == 220) {
		memset(&ev, 0, sizeof ev);
		ev.type = SMTP_EV_STARTTLS;
		(void)session_stage_add(s, SMTP_STAGE_TLS, "");
		session_emit(s, &ev);
	}
}

/*
 * handle_reply on r with every secret the session sent masked in its
 * lines (session_secret.c), so no observer and no stage sees an echo.
 */
static void
handle_reply_masked(struct smtp_session *s, const struct smtp_reply *r)
{
	struct smtp_reply_line *lines;
	struct smtp_reply copy;
	char **texts;
	size_t i, n;
	int found = 0;

	if (s->nsecrets == 0) {
		handle_reply(s, r);
		return;
	}
	lines = xcalloc(r->nlines, sizeof *lines);
	texts = xcalloc(r->nlines, sizeof *texts);
	for (i = 0; i < r->nlines; i++) {
		lines[i] = r->lines[i];
		texts[i] = session_secret_mask(
		    s, r->lines[i].text, r->lines[i].len, &n);
		if (texts[i] != NULL) {
			lines[i].text = texts[i];
			lines[i].len = n;
			found = 1;
		}
	}
	copy = *r;
	copy.lines = lines;
	handle_reply(s, found ? &copy : r);
	for (i = 0; i < r->nlines; i++)
		free(texts[i]);
	free(texts);
	free(lines);
}

static void
on_parser_event(const struct smtp_reply_event *pe, void *arg)
{
	struct smtp_session *s = arg;
	struct smtp_event ev;
	char *masked;
	size_t n;

	if (s->closed)
		return;
	switch (pe->type) {
	case SMTP_REPLY_EV_LINE:
		memset(&ev, 0, sizeof ev);
		ev.type = SMTP_EV_LINE;
		ev.text = pe->line->text;
		ev.len = pe->line->len;
		ev.flags = pe->line->flags;
		masked = session_secret_mask(s, ev.text, ev.len, &n);
		if (masked != NULL) {
			ev.text = masked;
			ev.len = n;
		}
		session_emit(s, &ev);
		free(masked);
		if (pe->line->flags != 0)
			warn_line_flags(s, pe->line->flags);
		break;
	case SMTP_REPLY_EV_REPLY:
		handle_reply_masked(s, pe->reply);
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
		session_fail_f(s, SMTP_FAIL_PROTOCOL,
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
	if (n == 0)
		return;
	session_wire_in(s, p, n); /* what came, whether read or not */
	if (s->closed)
		return;
	if (s->state == SMTP_STATE_TLS) {
		/* Plaintext after 220 to STARTTLS is never SMTP. */
		return;
	}
	smtp_reply_parser_feed(s->parser, p, n, on_parser_event, s);
}
