/*
 * Unit tests for protocol/session.c, the sans-I/O SMTP session: the
 * greeting and EHLO, a mail transaction and its latencies, replies
 * split at every byte, what cannot be sent and what is sent with a
 * warning, and failures and odd replies (malformed, unasked, EOF, 421,
 * 554).  Pipelining and message content: test_session_content.c;
 * STARTTLS and AUTH: test_session_secure.c.  The fixture (a recorder of
 * every event, a fake clock): session_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/caps.h"
#include "protocol/command.h"
#include "protocol/reply.h"
#include "protocol/sasl.h"
#include "protocol/session.h"
#include "session_fixture.h"

/* ---- greeting and EHLO -------------------------------------------- */

static void
test_greeting(void **state)
{
	struct fx *f = *state;
	const struct evrec *e;

	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_CONNECTING);
	smtp_session_connecting(f->s, "mx.example:25");
	check_stage(stage(f, 0), SMTP_STAGE_CONNECT, SMTP_ST_PENDING, 0, "");
	fake_now += 2000;
	smtp_session_connected(f->s, "192.0.2.25:25");
	check_stage(stage(f, 0), SMTP_STAGE_CONNECT, SMTP_ST_OK, 0, "");
	assert_int_equal(stage(f, 0)->t_end_us - stage(f, 0)->t_start_us, 2000);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_GREETING);
	check_stage(stage(f, 1), SMTP_STAGE_GREETING, SMTP_ST_PENDING, 0, "");
	assert_int_equal(smtp_session_pending(f->s), 1);
	assert_true(has_text(f, SMTP_EV_NOTE, "192.0.2.25:25"));

	fake_now += 700;
	feed(f, GREETING);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_GREETED);
	check_stage(stage(f, 1), SMTP_STAGE_GREETING, SMTP_ST_OK, 220, "");
	assert_string_equal(stage(f, 1)->text, "mx.example ESMTP ready");
	assert_int_equal(stage(f, 1)->t_end_us - stage(f, 1)->t_start_us, 700);
	assert_int_equal(smtp_session_pending(f->s), 0);
	assert_ptr_equal(smtp_session_last_reply(f->s), stage(f, 1));

	e = last(f, SMTP_EV_LINE);
	assert_non_null(e);
	assert_string_equal(e->text, "220 mx.example ESMTP ready");
	e = last(f, SMTP_EV_REPLY);
	assert_non_null(e);
	assert_int_equal(e->code, 220);
	assert_int_equal(e->kind, SMTP_STAGE_GREETING);
	assert_int_equal(e->stage_index, 1);
	assert_int_equal(count(f, SMTP_EV_WARNING), 0);
	assert_int_equal(count(f, SMTP_EV_FAILURE), 0);
}

static void
test_ehlo_caps(void **state)
{
	struct fx *f = *state;
	const struct smtp_caps *caps;
	const struct evrec *e;

	connect_greet(f);
	assert_false(smtp_session_caps(f->s)->valid);
	send_ok(f, "EHLO client.example");
	e = last(f, SMTP_EV_SENT);
	assert_non_null(e);
	assert_string_equal(e->text, "EHLO client.example");
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->kind, SMTP_STAGE_EHLO);
	expect_output(f, "EHLO client.example\r\n");
	assert_int_equal(smtp_session_pending(f->s), 1);
	/* Until the reply the confirmed state does not move. */
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_GREETED);

	feed(f, EHLO_REPLY);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	check_stage(last_stage(f), SMTP_STAGE_EHLO, SMTP_ST_OK, 250, "");
	assert_string_equal(last_stage(f)->command, "EHLO client.example");
	assert_int_equal(count(f, SMTP_EV_LINE), 1 + 8);
	caps = smtp_session_caps(f->s);
	assert_true(caps->valid);
	assert_string_equal(caps->domain, "mx.example");
	assert_true(smtp_caps_has(caps, SMTP_CAP_PIPELINING));
	assert_true(smtp_caps_has(caps, SMTP_CAP_STARTTLS));
	assert_true(smtp_caps_has(caps, SMTP_CAP_CHUNKING));
	assert_true(smtp_caps_has(caps, SMTP_CAP_ENHANCEDSTATUSCODES));
	assert_false(smtp_caps_has(caps, SMTP_CAP_SMTPUTF8));
	assert_int_equal(caps->size_limit, 10240000);
	assert_true(smtp_caps_has_auth(caps, "plain"));
	assert_true(smtp_caps_has_auth(caps, "LOGIN"));
	assert_false(smtp_caps_has_auth(caps, "CRAM-MD5"));
	assert_int_equal(count(f, SMTP_EV_WARNING), 0);
}

static void
test_talk_before_greeting_warns(void **state)
{
	struct fx *f = *state;

	smtp_session_connecting(f->s, "mx.example:25");
	smtp_session_connected(f->s, "192.0.2.25:25");
	send_ok(f, "EHLO client.example");
	assert_true(has_text(f, SMTP_EV_WARNING, "greeting"));
	expect_output(f, "EHLO client.example\r\n");
	/* Replies still match in order: greeting first, then EHLO. */
	feed(f, GREETING EHLO_REPLY);
	check_stage(stage(f, 1), SMTP_STAGE_GREETING, SMTP_ST_OK, 220, "");
	check_stage(stage(f, 2), SMTP_STAGE_EHLO, SMTP_ST_OK, 250, "");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
}

/* ---- a mail transaction --------------------------------------------- */

static void
test_transaction(void **state)
{
	struct fx *f = *state;
	size_t first, i;
	const struct smtp_stage *st;

	connect_ehlo(f);
	first = smtp_session_nstages(f->s);
	assert_int_equal(stage(f, first - 1)->txn, 0); /* EHLO */

	exchange(f, "MAIL FROM:<a@b>", "250 2.1.0 Sender ok\r\n");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_MAIL);
	exchange(f, "RCPT TO:<c@d>", "250 2.1.5 Recipient ok\r\n");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_RCPT);
	exchange(f, "RCPT TO:<e@f>", "250 2.1.5 Recipient ok\r\n");
	exchange(f, "DATA", "354 End data with <CR><LF>.<CR><LF>\r\n");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_CONTENT);
	send_ok(f, "Subject: test");
	send_ok(f, "");
	send_ok(f, "Hello.");
	expect_output(f, "Subject: test\r\n\r\nHello.\r\n");
	send_ok(f, ".");
	expect_output(f, ".\r\n");
	assert_int_equal(smtp_session_pending(f->s), 1);
	feed(f, "250 2.0.0 Ok: queued as 4ABC\r\n");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_int_equal(smtp_session_pending(f->s), 0);
	assert_int_equal(count(f, SMTP_EV_WARNING), 0);

	assert_int_equal(smtp_session_nstages(f->s), first + 5);
	st = stage(f, first);
	check_stage(st, SMTP_STAGE_MAIL, SMTP_ST_OK, 250, "2.1.0");
	assert_string_equal(st->command, "MAIL FROM:<a@b>");
	assert_string_equal(st->text, "Sender ok");
	check_stage(
	    stage(f, first + 1), SMTP_STAGE_RCPT, SMTP_ST_OK, 250, "2.1.5");
	assert_string_equal(stage(f, first + 1)->command, "RCPT TO:<c@d>");
	check_stage(
	    stage(f, first + 2), SMTP_STAGE_RCPT, SMTP_ST_OK, 250, "2.1.5");
	check_stage(
	    stage(f, first + 3), SMTP_STAGE_DATA, SMTP_ST_MORE, 354, "");
	st = stage(f, first + 4);
	check_stage(st, SMTP_STAGE_MESSAGE, SMTP_ST_OK, 250, "2.0.0");
	assert_string_equal(st->text, "Ok: queued as 4ABC");
	/* "Subject: test\r\n" + "\r\n" + "Hello.\r\n" + ".\r\n" */
	assert_int_equal(st->bytes, 15 + 2 + 8 + 3);
	assert_string_equal(smtp_stage_kind_name(st->kind), "end of data");
	for (i = first; i < first + 5; i++) {
		assert_int_equal(stage(f, i)->txn, 1);
		assert_int_equal(stage(f, i)->group, 0);
	}

	/* A second transaction on the same connection is number 2. */
	exchange(f, "MAIL FROM:<>", "250 2.1.0 Ok\r\n");
	exchange(f, "RCPT TO:<x@y>", "250 2.1.5 Ok\r\n");
	exchange(f, "DATA", "354 go ahead\r\n");
	exchange(f, ".", "250 2.0.0 Ok: queued as 4DEF\r\n");
	assert_int_equal(smtp_session_nstages(f->s), first + 9);
	for (i = first + 5; i < first + 9; i++)
		assert_int_equal(stage(f, i)->txn, 2);
	check_stage(
	    stage(f, first + 8), SMTP_STAGE_MESSAGE, SMTP_ST_OK, 250, "2.0.0");
	assert_int_equal(stage(f, first + 8)->bytes, 3);

	/* Outside a transaction the number is 0 again (session.h). */
	exchange(f, "NOOP", "250 2.0.0 Ok\r\n");
	check_stage(last_stage(f), SMTP_STAGE_NOOP, SMTP_ST_OK, 250, "2.0.0");
	assert_int_equal(last_stage(f)->txn, 0);
	assert_int_equal(count(f, SMTP_EV_WARNING), 0);
	assert_int_equal(count(f, SMTP_EV_FAILURE), 0);
}

/*
 * Content typed ahead of the 354 opens the message stage; when that
 * stage is the one that makes the stage array grow, the byte count must
 * land in the moved array (ASan reports the old one's use otherwise).
 */
static void
test_content_ahead_when_stages_grow(void **state)
{
	struct fx *f = *state;
	const struct smtp_stage *st;

	connect_ehlo(f);
	while (smtp_session_nstages(f->s) < 15)
		exchange(f, "NOOP", "250 2.0.0 Ok\r\n");
	send_ok(f, "DATA");
	assert_int_equal(smtp_session_nstages(f->s), 16);
	send_ok(f, "hello");
	expect_output(f, "DATA\r\nhello\r\n");
	feed(f, "354 go ahead\r\n");
	exchange(f, ".", "250 2.0.0 Ok\r\n");
	st = last_stage(f);
	check_stage(st, SMTP_STAGE_MESSAGE, SMTP_ST_OK, 250, "2.0.0");
	assert_int_equal(st->bytes, 7 + 3);
}

static void
test_latency(void **state)
{
	struct fx *f = *state;
	const struct smtp_stage *st;
	const struct evrec *e;

	connect_ehlo(f);
	fake_now += 1000;
	send_ok(f, "NOOP");
	e = last(f, SMTP_EV_SENT);
	fake_now += 1500;
	feed(f, "250 2.0.0 Ok\r\n");
	st = last_stage(f);
	assert_int_equal(st->state, SMTP_ST_OK);
	assert_int_equal(st->t_end_us - st->t_start_us, 1500);
	/* Event times are on the same clock, from the session start. */
	assert_int_equal(last(f, SMTP_EV_REPLY)->t_us - e->t_us, 1500);
	assert_int_equal(st->t_start_us, e->t_us);
}

/* ---- split replies ---------------------------------------------------- */

struct stage_snap {
	enum smtp_stage_kind kind;
	enum smtp_stage_state state;
	int code;
	char enhanced[16];
	char text[64];
};

static const char split_replies[] = "250 2.1.0 Sender ok\r\n"
                                    "250-2.1.5 first line\r\n"
                                    "250 2.1.5 last line\r\n"
                                    "550-5.1.1 <e@f>: no such user\r\n"
                                    "550 5.1.1 really\r\n"
                                    "354 Go ahead\r\n";

/*
 * Runs MAIL, RCPT, RCPT, DATA against split_replies fed in the pieces
 * cuts[] marks, and snapshots the four stages.
 */
static void
run_split(const size_t *cuts, size_t ncuts, struct stage_snap out[4])
{
	struct fx *f = xcalloc(1, sizeof *f);
	size_t i, from = 0, first, to;
	const struct smtp_stage *st;

	f->s = smtp_session_new(record, f);
	smtp_session_set_clock(f->s, fake_clock);
	connect_ehlo(f);
	first = smtp_session_nstages(f->s);
	send_ok(f, "MAIL FROM:<a@b>");
	send_ok(f, "RCPT TO:<c@d>");
	send_ok(f, "RCPT TO:<e@f>");
	send_ok(f, "DATA");
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : sizeof split_replies - 1;
		smtp_session_feed(f->s, split_replies + from, to - from);
		from = to;
	}
	assert_int_equal(smtp_session_pending(f->s), 0);
	assert_int_equal(count(f, SMTP_EV_FAILURE), 0);
	for (i = 0; i < 4; i++) {
		st = stage(f, first + i);
		memset(&out[i], 0, sizeof out[i]);
		out[i].kind = st->kind;
		out[i].state = st->state;
		out[i].code = st->code;
		memcpy(out[i].enhanced, st->enhanced, sizeof out[i].enhanced);
		(void)snprintf(out[i].text, sizeof out[i].text, "%s",
		    st->text != NULL ? st->text : "(null)");
	}
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_CONTENT);
	smtp_session_free(f->s);
	rec_clear(f);
	free(f);
}

static void
test_split_every_byte(void **state)
{
	struct stage_snap whole[4], split[4];
	size_t cut[2], i, n = sizeof split_replies - 1, all[256];

	(void)state;
	run_split(NULL, 0, whole);
	assert_int_equal(whole[0].kind, SMTP_STAGE_MAIL);
	assert_int_equal(whole[0].state, SMTP_ST_OK);
	assert_int_equal(whole[0].code, 250);
	assert_string_equal(whole[0].enhanced, "2.1.0");
	assert_int_equal(whole[1].state, SMTP_ST_OK);
	assert_string_equal(whole[1].text, "first line");
	assert_int_equal(whole[2].state, SMTP_ST_PERMFAIL);
	assert_int_equal(whole[2].code, 550);
	assert_string_equal(whole[2].enhanced, "5.1.1");
	assert_string_equal(whole[2].text, "<e@f>: no such user");
	assert_int_equal(whole[3].kind, SMTP_STAGE_DATA);
	assert_int_equal(whole[3].state, SMTP_ST_MORE);

	/* One cut at every position, and two cuts around every CRLF. */
	for (i = 0; i <= n; i++) {
		cut[0] = i;
		run_split(cut, 1, split);
		if (memcmp(whole, split, sizeof whole) != 0)
			fail_msg("a cut at %zu changed the stages", i);
	}
	for (i = 1; i + 1 <= n; i++) {
		if (split_replies[i] != '\n')
			continue;
		cut[0] = i - 1;
		cut[1] = i;
		run_split(cut, 2, split);
		assert_memory_equal(whole, split, sizeof whole);
	}
	/* One byte at a time. */
	assert_true(n < sizeof all / sizeof all[0]);
	for (i = 0; i < n; i++)
		all[i] = i + 1;
	run_split(all, n, split);
	assert_memory_equal(whole, split, sizeof whole);
}

/* ---- what cannot be sent, and what is sent with a warning ----------- */

static void
test_refuse_forbidden(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *line;
		size_t len;
		const char *what;
	} bad[] = {
	    {"MAIL FROM:<a@b>\r", 16, "CR"},
	    {"RCPT TO:<a@b>\nQUIT", 18, "LF"},
	    {"NOOP\0x", 6, "NUL"},
	};
	size_t i, nstages, nev;
	char *err;

	connect_ehlo(f);
	nstages = smtp_session_nstages(f->s);
	nev = f->n;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		assert_int_equal(
		    smtp_session_send(f->s, bad[i].line, bad[i].len, &err), -1);
		assert_non_null(err);
		assert_non_null(strstr(err, bad[i].what));
		free(err);
	}
	expect_output(f, "");
	assert_int_equal(smtp_session_nstages(f->s), nstages);
	assert_int_equal(smtp_session_pending(f->s), 0);
	assert_int_equal(f->n, nev);

	/* Inside DATA content the same rule holds. */
	exchange(f, "MAIL FROM:<a@b>", "250 ok\r\n");
	exchange(f, "RCPT TO:<c@d>", "250 ok\r\n");
	exchange(f, "DATA", "354 go\r\n");
	err = NULL;
	assert_int_equal(smtp_session_send(f->s, "a\rb", 3, &err), -1);
	assert_non_null(err);
	free(err);
	expect_output(f, "");
}

static void
test_send_not_connected(void **state)
{
	struct fx *f = *state;
	char *err = NULL;

	assert_int_equal(smtp_session_send(f->s, "NOOP", 4, &err), -1);
	assert_non_null(err);
	free(err);
	expect_output(f, "");
	assert_int_equal(smtp_session_nstages(f->s), 0);
}

static void
test_out_of_order_warns(void **state)
{
	struct fx *f = *state;
	size_t w, s;

	connect_ehlo(f);
	send_ok(f, "RCPT TO:<c@d>");
	/* The warning comes first, then the line goes out anyway. */
	assert_int_equal(count(f, SMTP_EV_WARNING), 1);
	for (w = 0; f->ev[w].type != SMTP_EV_WARNING; w++)
		continue;
	for (s = w; s < f->n && f->ev[s].type != SMTP_EV_SENT; s++)
		continue;
	assert_true(s < f->n);
	assert_string_equal(f->ev[s].text, "RCPT TO:<c@d>");
	assert_true(has_text(f, SMTP_EV_WARNING, "sent anyway"));
	expect_output(f, "RCPT TO:<c@d>\r\n");
	feed(f, "503 5.5.1 Error: need MAIL command\r\n");
	check_stage(
	    last_stage(f), SMTP_STAGE_RCPT, SMTP_ST_PERMFAIL, 503, "5.5.1");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);

	/* An unknown verb is a warning too, and an "other" stage. */
	send_ok(f, "XYZZY plugh");
	expect_output(f, "XYZZY plugh\r\n");
	assert_int_equal(count(f, SMTP_EV_WARNING), 2);
	feed(f, "502 5.5.2 Error: command not recognized\r\n");
	check_stage(
	    last_stage(f), SMTP_STAGE_OTHER, SMTP_ST_PERMFAIL, 502, "5.5.2");
}

/* ---- failures and odd replies ------------------------------------------ */

static void
test_malformed_reply(void **state)
{
	struct fx *f = *state;
	const struct evrec *e;
	char *err = NULL;
	size_t noop;

	connect_ehlo(f);
	send_ok(f, "NOOP");
	noop = smtp_session_nstages(f->s) - 1;
	feed(f, "abc\r\n250 too late\r\n");
	assert_int_equal(count(f, SMTP_EV_FAILURE), 1);
	e = last(f, SMTP_EV_FAILURE);
	assert_int_equal(e->category, SMTP_FAIL_PROTOCOL);
	assert_non_null(strstr(e->text, "malformed"));
	assert_true(smtp_session_is_closed(f->s));
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_CLOSED);
	assert_int_equal(count(f, SMTP_EV_CLOSED), 1);
	/* The CLOSED event comes after the FAILURE. */
	assert_true(last(f, SMTP_EV_CLOSED) > e);
	check_stage(stage(f, noop), SMTP_STAGE_NOOP, SMTP_ST_ERROR, 0, "");
	assert_int_equal(smtp_session_pending(f->s), 0);
	/* What came after the garbage is not matched to anything. */
	assert_false(has_text(f, SMTP_EV_LINE, "too late"));
	assert_int_equal(smtp_session_send(f->s, "NOOP", 4, &err), -1);
	free(err);
	/* Closing twice or more input does nothing. */
	smtp_session_eof(f->s);
	feed(f, "250 ok\r\n");
	assert_int_equal(count(f, SMTP_EV_CLOSED), 1);
	assert_int_equal(count(f, SMTP_EV_FAILURE), 1);
}

static void
test_reply_to_nothing(void **state)
{
	struct fx *f = *state;
	const struct evrec *e;

	connect_ehlo(f);
	feed(f, "250 unsolicited\r\n");
	assert_int_equal(count(f, SMTP_EV_WARNING), 1);
	assert_true(has_text(f, SMTP_EV_WARNING, "250"));
	e = last(f, SMTP_EV_REPLY);
	assert_int_equal(e->code, 250);
	assert_false(e->has_stage);
	assert_int_equal(e->stage_index, SIZE_MAX);
	assert_false(smtp_session_is_closed(f->s));
	assert_int_equal(count(f, SMTP_EV_FAILURE), 0);
	/* The session goes on. */
	exchange(f, "NOOP", "250 ok\r\n");
	check_stage(last_stage(f), SMTP_STAGE_NOOP, SMTP_ST_OK, 250, "");
}

static void
test_eof_while_pending(void **state)
{
	struct fx *f = *state;
	const struct evrec *e;
	size_t mail;

	connect_ehlo(f);
	send_ok(f, "MAIL FROM:<a@b>");
	mail = smtp_session_nstages(f->s) - 1;
	smtp_session_eof(f->s);
	assert_int_equal(count(f, SMTP_EV_FAILURE), 1);
	e = last(f, SMTP_EV_FAILURE);
	assert_int_equal(e->category, SMTP_FAIL_CLOSED);
	assert_non_null(strstr(e->text, "MAIL"));
	check_stage(stage(f, mail), SMTP_STAGE_MAIL, SMTP_ST_ERROR, 0, "");
	assert_int_equal(count(f, SMTP_EV_CLOSED), 1);
	assert_true(smtp_session_is_closed(f->s));
}

static void
test_eof_mid_line(void **state)
{
	struct fx *f = *state;

	connect_ehlo(f);
	send_ok(f, "NOOP");
	feed(f, "250 partial");
	smtp_session_eof(f->s);
	assert_true(has_text(f, SMTP_EV_WARNING, "partial"));
	assert_int_equal(last(f, SMTP_EV_FAILURE)->category, SMTP_FAIL_CLOSED);
	assert_non_null(strstr(last(f, SMTP_EV_FAILURE)->text, "NOOP"));
}

static void
test_eof_idle_is_failure(void **state)
{
	struct fx *f = *state;

	connect_ehlo(f);
	smtp_session_eof(f->s);
	assert_int_equal(count(f, SMTP_EV_FAILURE), 1);
	assert_int_equal(last(f, SMTP_EV_FAILURE)->category, SMTP_FAIL_CLOSED);
	assert_int_equal(count(f, SMTP_EV_CLOSED), 1);
}

static void
test_eof_after_quit(void **state)
{
	struct fx *f = *state;

	connect_ehlo(f);
	exchange(f, "QUIT", "221 2.0.0 Bye\r\n");
	assert_true(smtp_session_quit_sent(f->s));
	assert_true(smtp_session_server_closing(f->s));
	assert_false(smtp_session_is_closed(f->s));
	smtp_session_eof(f->s);
	assert_int_equal(count(f, SMTP_EV_FAILURE), 0);
	assert_int_equal(count(f, SMTP_EV_CLOSED), 1);
	assert_true(smtp_session_is_closed(f->s));
	check_stage(last_stage(f), SMTP_STAGE_QUIT, SMTP_ST_OK, 221, "2.0.0");
}

static void
test_eof_quit_unanswered(void **state)
{
	struct fx *f = *state;

	connect_ehlo(f);
	send_ok(f, "QUIT");
	smtp_session_eof(f->s);
	assert_int_equal(count(f, SMTP_EV_FAILURE), 0);
	assert_int_equal(count(f, SMTP_EV_CLOSED), 1);
}

static void
test_421(void **state)
{
	struct fx *f = *state;

	connect_ehlo(f);
	assert_false(smtp_session_server_closing(f->s));
	exchange(f, "MAIL FROM:<a@b>", "421 4.3.2 Service shutting down\r\n");
	check_stage(
	    last_stage(f), SMTP_STAGE_MAIL, SMTP_ST_TEMPFAIL, 421, "4.3.2");
	assert_true(smtp_session_server_closing(f->s));
	assert_true(has_text(f, SMTP_EV_NOTE, "421"));
	/* The server then hangs up: expected, not a failure. */
	smtp_session_eof(f->s);
	assert_int_equal(count(f, SMTP_EV_FAILURE), 0);
	assert_int_equal(count(f, SMTP_EV_CLOSED), 1);
}

static void
test_554_greeting(void **state)
{
	struct fx *f = *state;
	size_t nwarn;

	smtp_session_connecting(f->s, "mx.example:25");
	smtp_session_connected(f->s, "192.0.2.25:25");
	feed(f, "554 5.7.1 No SMTP service here\r\n");
	check_stage(
	    stage(f, 1), SMTP_STAGE_GREETING, SMTP_ST_PERMFAIL, 554, "5.7.1");
	assert_true(has_text(f, SMTP_EV_NOTE, "554"));
	assert_false(smtp_session_is_closed(f->s));
	/* The greeting has come (a refusal): QUIT is the polite answer. */
	nwarn = count(f, SMTP_EV_WARNING);
	exchange(f, "QUIT", "221 2.0.0 Bye\r\n");
	assert_int_equal(count(f, SMTP_EV_WARNING), nwarn);
	check_stage(last_stage(f), SMTP_STAGE_QUIT, SMTP_ST_OK, 221, "2.0.0");
}

static void
test_helo_resets_caps(void **state)
{
	struct fx *f = *state;

	connect_ehlo(f);
	assert_true(smtp_session_caps(f->s)->valid);
	exchange(f, "HELO client.example", "250 mx.example\r\n");
	check_stage(last_stage(f), SMTP_STAGE_HELO, SMTP_ST_OK, 250, "");
	assert_false(smtp_session_caps(f->s)->valid);
	assert_false(
	    smtp_caps_has(smtp_session_caps(f->s), SMTP_CAP_PIPELINING));
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
}

static void
test_ehlo_refused_keeps_state(void **state)
{
	struct fx *f = *state;

	connect_greet(f);
	exchange(f, "EHLO client.example", "502 5.5.2 EHLO not supported\r\n");
	check_stage(
	    last_stage(f), SMTP_STAGE_EHLO, SMTP_ST_PERMFAIL, 502, "5.5.2");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_GREETED);
	assert_false(smtp_session_caps(f->s)->valid);
	exchange(f, "HELO client.example", "250 mx.example\r\n");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
}

static void
test_close_and_fail(void **state)
{
	struct fx *f = *state;

	connect_ehlo(f);
	send_ok(f, "NOOP");
	smtp_session_fail(f->s, SMTP_FAIL_TIMEOUT, "no reply in %d s", 30);
	assert_int_equal(last(f, SMTP_EV_FAILURE)->category, SMTP_FAIL_TIMEOUT);
	assert_string_equal(last(f, SMTP_EV_FAILURE)->text, "no reply in 30 s");
	check_stage(last_stage(f), SMTP_STAGE_NOOP, SMTP_ST_ERROR, 0, "");
	assert_int_equal(count(f, SMTP_EV_CLOSED), 1);
	smtp_session_close(f->s, "bye");
	assert_int_equal(count(f, SMTP_EV_CLOSED), 1);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(smtp_stage_kind_name(SMTP_STAGE_MAIL), "MAIL");
	assert_string_equal(
	    smtp_stage_kind_name(SMTP_STAGE_MESSAGE), "end of data");
	assert_string_equal(smtp_stage_kind_name(SMTP_STAGE_KIND_COUNT), "?");
	assert_string_equal(smtp_stage_state_name(SMTP_ST_OK), "ok");
	assert_string_equal(
	    smtp_stage_state_name(SMTP_ST_TEMPFAIL), "temporary failure");
	assert_string_equal(smtp_fail_name(SMTP_FAIL_PROTOCOL), "protocol");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_greeting),
	    T(test_ehlo_caps),
	    T(test_talk_before_greeting_warns),
	    T(test_transaction),
	    T(test_content_ahead_when_stages_grow),
	    T(test_latency),
	    cmocka_unit_test(test_split_every_byte),
	    T(test_refuse_forbidden),
	    T(test_send_not_connected),
	    T(test_out_of_order_warns),
	    T(test_malformed_reply),
	    T(test_reply_to_nothing),
	    T(test_eof_while_pending),
	    T(test_eof_mid_line),
	    T(test_eof_idle_is_failure),
	    T(test_eof_after_quit),
	    T(test_eof_quit_unanswered),
	    T(test_421),
	    T(test_554_greeting),
	    T(test_helo_resets_caps),
	    T(test_ehlo_refused_keeps_state),
	    T(test_close_and_fail),
	    T(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
