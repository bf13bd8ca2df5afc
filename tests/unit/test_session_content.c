/*
 * Unit tests for protocol/session.c, the commands that carry a
 * transaction in a group and the message itself: pipelined groups (and
 * the warning when the server did not offer PIPELINING), raw content
 * after 354, the body writer, and BDAT chunks (content, not commands;
 * pipelined; a line must fit; the empty last chunk; a reply ahead of
 * the chunk).  The fixture: session_fixture.h.
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

/* ---- pipelining ----------------------------------------------------- */

static void
test_pipeline_group(void **state)
{
	struct fx *f = *state;
	size_t first, nsent;

	connect_ehlo(f);
	first = smtp_session_nstages(f->s);
	assert_false(smtp_session_is_pipelining(f->s));
	smtp_session_pipeline_begin(f->s);
	assert_true(smtp_session_is_pipelining(f->s));
	nsent = count(f, SMTP_EV_SENT);
	send_ok(f, "MAIL FROM:<a@b>");
	send_ok(f, "RCPT TO:<c@d>");
	send_ok(f, "RCPT TO:<e@f>");
	smtp_session_pipeline_end(f->s);
	assert_false(smtp_session_is_pipelining(f->s));
	assert_int_equal(count(f, SMTP_EV_SENT), nsent + 3);
	/* RCPT after an unanswered MAIL is fine: no warning. */
	assert_int_equal(count(f, SMTP_EV_WARNING), 0);
	assert_int_equal(smtp_session_pending(f->s), 3);
	/* One contiguous write. */
	expect_output(
	    f, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\n");

	feed(f,
	    "250 2.1.0 Ok\r\n"
	    "550 5.1.1 <c@d>: Recipient address rejected\r\n"
	    "250 2.1.5 Ok\r\n");
	assert_int_equal(smtp_session_pending(f->s), 0);
	check_stage(stage(f, first), SMTP_STAGE_MAIL, SMTP_ST_OK, 250, "2.1.0");
	check_stage(stage(f, first + 1), SMTP_STAGE_RCPT, SMTP_ST_PERMFAIL, 550,
	    "5.1.1");
	assert_string_equal(stage(f, first + 1)->command, "RCPT TO:<c@d>");
	check_stage(
	    stage(f, first + 2), SMTP_STAGE_RCPT, SMTP_ST_OK, 250, "2.1.5");
	assert_string_equal(stage(f, first + 2)->command, "RCPT TO:<e@f>");
	assert_int_equal(stage(f, first)->group, 1);
	assert_int_equal(stage(f, first + 1)->group, 1);
	assert_int_equal(stage(f, first + 2)->group, 1);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_RCPT);

	/* A command outside a group has group 0, the next group is 2. */
	exchange(f, "RSET", "250 2.0.0 Ok\r\n");
	assert_int_equal(last_stage(f)->group, 0);
	/* RSET ended transaction 1; the next MAIL begins number 2. */
	assert_int_equal(stage(f, first)->txn, 1);
	assert_int_equal(stage(f, first + 2)->txn, 1);
	assert_int_equal(last_stage(f)->txn, 0);
	smtp_session_pipeline_begin(f->s);
	send_ok(f, "MAIL FROM:<a@b>");
	send_ok(f, "RCPT TO:<c@d>");
	smtp_session_pipeline_end(f->s);
	expect_output(f, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
	feed(f, "451 4.3.0 try later\r\n503 5.5.1 need MAIL\r\n");
	check_stage(stage(f, first + 4), SMTP_STAGE_MAIL, SMTP_ST_TEMPFAIL, 451,
	    "4.3.0");
	check_stage(stage(f, first + 5), SMTP_STAGE_RCPT, SMTP_ST_PERMFAIL, 503,
	    "5.5.1");
	assert_int_equal(stage(f, first + 4)->group, 2);
	assert_int_equal(stage(f, first + 5)->group, 2);
	assert_int_equal(stage(f, first + 4)->txn, 2);
	assert_int_equal(stage(f, first + 5)->txn, 2);
	/* Both failed: the confirmed state did not move. */
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
}

static void
test_pipeline_unadvertised_warns(void **state)
{
	struct fx *f = *state;

	connect_greet(f);
	exchange(
	    f, "EHLO client.example", "250-mx.example\r\n250 8BITMIME\r\n");
	smtp_session_pipeline_begin(f->s);
	send_ok(f, "MAIL FROM:<a@b>");
	send_ok(f, "RCPT TO:<c@d>");
	smtp_session_pipeline_end(f->s);
	/* Warned once for the group, and still sent. */
	assert_int_equal(count(f, SMTP_EV_WARNING), 1);
	assert_true(has_text(f, SMTP_EV_WARNING, "PIPELINING"));
	expect_output(f, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
}

/* ---- content ---------------------------------------------------------- */

static void
test_content_raw(void **state)
{
	struct fx *f = *state;
	size_t nstages, nwarn;
	const struct evrec *e;

	connect_ehlo(f);
	exchange(f, "MAIL FROM:<a@b>", "250 ok\r\n");
	exchange(f, "RCPT TO:<c@d>", "250 ok\r\n");
	exchange(f, "DATA", "354 go\r\n");
	nstages = smtp_session_nstages(f->s);
	check_stage(last_stage(f), SMTP_STAGE_MESSAGE, SMTP_ST_PENDING, 0, "");
	nwarn = count(f, SMTP_EV_WARNING);

	/* Lines that look like commands are content now. */
	send_ok(f, "QUIT");
	send_ok(f, "RCPT TO:<x@y>");
	send_ok(f, "..leading dot, stuffed by hand");
	assert_int_equal(count(f, SMTP_EV_WARNING), nwarn);
	send_ok(f, ".oops");
	assert_int_equal(count(f, SMTP_EV_WARNING), nwarn + 1);
	e = last(f, SMTP_EV_SENT);
	assert_string_equal(e->text, ".oops");
	assert_true((e->flags & SMTP_SENT_CONTENT) != 0);
	assert_int_equal(e->kind, SMTP_STAGE_MESSAGE);
	expect_output(f,
	    "QUIT\r\nRCPT TO:<x@y>\r\n"
	    "..leading dot, stuffed by hand\r\n.oops\r\n");
	assert_false(smtp_session_quit_sent(f->s));
	assert_int_equal(smtp_session_nstages(f->s), nstages);
	assert_int_equal(smtp_session_pending(f->s), 0);

	send_ok(f, ".");
	expect_output(f, ".\r\n");
	assert_int_equal(smtp_session_pending(f->s), 1);
	assert_int_equal(smtp_session_nstages(f->s), nstages);
	feed(f, "250 2.0.0 Ok: queued\r\n");
	check_stage(
	    last_stage(f), SMTP_STAGE_MESSAGE, SMTP_ST_OK, 250, "2.0.0");
	assert_int_equal(last_stage(f)->bytes, 6 + 15 + 32 + 7 + 3);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_int_equal(last(f, SMTP_EV_REPLY)->kind, SMTP_STAGE_MESSAGE);

	/* And after the dot, lines are commands again. */
	exchange(f, "QUIT", "221 2.0.0 Bye\r\n");
	check_stage(last_stage(f), SMTP_STAGE_QUIT, SMTP_ST_OK, 221, "2.0.0");
	assert_true(smtp_session_quit_sent(f->s));
}

/* Appends content the way the client streams it; -1 outside content. */
static int
body_append(struct fx *f, const char *p, size_t n)
{
	struct buf *out = smtp_session_body_buf(f->s);

	if (out == NULL)
		return -1;
	assert_int_equal(buf_add(out, p, n), 0);
	smtp_session_body_commit(f->s, n);
	return 0;
}

static void
test_body_write(void **state)
{
	static const char body[] = "Subject: hi\r\n\r\n..dot\r\n.\r\n";
	struct fx *f = *state;
	const struct evrec *e;

	connect_ehlo(f);
	/* Not in content state: refused. */
	assert_int_equal(body_append(f, "x\r\n", 3), -1);
	expect_output(f, "");
	exchange(f, "MAIL FROM:<a@b>", "250 ok\r\n");
	exchange(f, "RCPT TO:<c@d>", "250 ok\r\n");
	exchange(f, "DATA", "354 go\r\n");
	assert_int_equal(body_append(f, body, 10), 0);
	assert_int_equal(body_append(f, body + 10, sizeof body - 1 - 10), 0);
	smtp_session_body_end(f->s, "[message: 3 lines, 22 octets]");
	expect_output(f, body);
	e = last(f, SMTP_EV_SENT);
	assert_string_equal(e->text, "[message: 3 lines, 22 octets]");
	assert_true((e->flags & SMTP_SENT_SUMMARY) != 0);
	assert_int_equal(smtp_session_pending(f->s), 1);
	feed(f, "250 2.0.0 Ok: queued as X\r\n");
	check_stage(
	    last_stage(f), SMTP_STAGE_MESSAGE, SMTP_ST_OK, 250, "2.0.0");
	assert_string_equal(
	    last_stage(f)->command, "[message: 3 lines, 22 octets]");
	assert_int_equal(last_stage(f)->bytes, sizeof body - 1);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	exchange(f, "NOOP", "250 ok\r\n");
	check_stage(last_stage(f), SMTP_STAGE_NOOP, SMTP_ST_OK, 250, "");
}

static void
test_bdat(void **state)
{
	struct fx *f = *state;
	const struct evrec *e;
	size_t bdat;
	char *err = NULL;

	connect_ehlo(f);
	exchange(f, "MAIL FROM:<a@b>", "250 ok\r\n");
	exchange(f, "RCPT TO:<c@d>", "250 ok\r\n");
	send_ok(f, "BDAT 5 LAST");
	bdat = smtp_session_nstages(f->s) - 1;
	check_stage(stage(f, bdat), SMTP_STAGE_BDAT, SMTP_ST_PENDING, 0, "");
	/* A line longer than the chunk is refused. */
	assert_int_equal(smtp_session_send(f->s, "abcd", 4, &err), -1);
	assert_non_null(err);
	free(err);
	/* "abc" + CRLF is the 5 octets announced: sent raw, no stage. */
	send_ok(f, "abc");
	e = last(f, SMTP_EV_SENT);
	assert_string_equal(e->text, "abc");
	assert_true((e->flags & SMTP_SENT_CONTENT) != 0);
	assert_int_equal(e->kind, SMTP_STAGE_BDAT);
	assert_int_equal(e->stage_index, bdat);
	assert_int_equal(smtp_session_nstages(f->s), bdat + 1);
	expect_output(f, "BDAT 5 LAST\r\nabc\r\n");
	assert_int_equal(smtp_session_pending(f->s), 1);
	feed(f, "250 2.0.0 Ok: 5 octets, queued as Y\r\n");
	check_stage(stage(f, bdat), SMTP_STAGE_BDAT, SMTP_ST_OK, 250, "2.0.0");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_int_equal(stage(f, bdat)->txn, 1);
	/* The chunk is complete: the next line is a command. */
	exchange(f, "NOOP", "250 ok\r\n");
	check_stage(last_stage(f), SMTP_STAGE_NOOP, SMTP_ST_OK, 250, "");
	/* BDAT ... LAST ended the transaction. */
	assert_int_equal(last_stage(f)->txn, 0);
}

/* Opens a transaction MAIL, RCPT after EHLO; the output is taken. */
static void
connect_rcpt(struct fx *f)
{
	connect_ehlo(f);
	exchange(f, "MAIL FROM:<a@b>", "250 2.1.0 ok\r\n");
	exchange(f, "RCPT TO:<c@d>", "250 2.1.5 ok\r\n");
}

/*
 * After "BDAT 12 LAST" the next 12 octets are the chunk: lines go out as
 * typed plus CRLF, counted, never command-checked or dot-stuffed; the
 * reply comes after the chunk and finishes the stage and the message.
 */
static void
test_bdat_chunk_is_content(void **state)
{
	struct fx *f = *state;
	const struct evrec *e;
	size_t bdat, nstages, nwarn;

	connect_rcpt(f);
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
	send_ok(f, "BDAT 27 LAST");
	bdat = smtp_session_nstages(f->s) - 1;
	nstages = bdat + 1;
	assert_int_equal(smtp_session_chunk_left(f->s), 27);
	assert_true(has_text(f, SMTP_EV_NOTE, "next 27 octets"));
	nwarn = count(f, SMTP_EV_WARNING);
	fake_now += 5000000; /* the user takes five seconds to type */
	send_ok(f, "Subject: x");
	assert_int_equal(smtp_session_chunk_left(f->s), 15);
	e = last(f, SMTP_EV_SENT);
	assert_string_equal(e->text, "Subject: x");
	assert_true((e->flags & SMTP_SENT_CONTENT) != 0);
	assert_int_equal(e->kind, SMTP_STAGE_BDAT);
	assert_int_equal(e->stage_index, bdat);
	/* A command word, a slash and a lone dot are content here. */
	send_ok(f, "QUIT");
	send_ok(f, "/x");
	send_ok(f, ".");
	send_ok(f, "");
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
	assert_true(
	    has_text(f, SMTP_EV_NOTE, "BDAT chunk complete (27 octets)"));
	/* No stage, no check, no warning, no dot-stuffing, no QUIT. */
	assert_int_equal(smtp_session_nstages(f->s), nstages);
	assert_int_equal(count(f, SMTP_EV_WARNING), nwarn);
	assert_false(smtp_session_quit_sent(f->s));
	expect_output(
	    f, "BDAT 27 LAST\r\nSubject: x\r\nQUIT\r\n/x\r\n.\r\n\r\n");
	assert_int_equal(stage(f, bdat)->bytes, 27);
	check_stage(stage(f, bdat), SMTP_STAGE_BDAT, SMTP_ST_PENDING, 0, "");
	assert_int_equal(smtp_session_pending(f->s), 1);
	fake_now += 3000;
	feed(f, "250 2.0.0 Ok: 27 bytes queued as Y\r\n");
	check_stage(stage(f, bdat), SMTP_STAGE_BDAT, SMTP_ST_OK, 250, "2.0.0");
	/* Latency from the end of the chunk, not from the command. */
	assert_int_equal(
	    stage(f, bdat)->t_end_us - stage(f, bdat)->t_start_us, 3000);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_int_equal(smtp_session_pending(f->s), 0);
	/* The chunk is over: QUIT is a command again. */
	exchange(f, "QUIT", "221 bye\r\n");
	check_stage(last_stage(f), SMTP_STAGE_QUIT, SMTP_ST_OK, 221, "");
}

/* Two chunks and their BDATs in one pipelined write (RFC 2920, 3030). */
static void
test_bdat_pipelined(void **state)
{
	struct fx *f = *state;
	size_t first;

	connect_rcpt(f);
	first = smtp_session_nstages(f->s);
	smtp_session_pipeline_begin(f->s);
	send_ok(f, "BDAT 5");
	send_ok(f, "abc");
	send_ok(f, "BDAT 3 LAST");
	send_ok(f, "x");
	smtp_session_pipeline_end(f->s);
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
	assert_int_equal(smtp_session_nstages(f->s), first + 2);
	assert_int_equal(smtp_session_pending(f->s), 2);
	expect_output(f, "BDAT 5\r\nabc\r\nBDAT 3 LAST\r\nx\r\n");
	/* Each chunk is counted on its own BDAT stage. */
	assert_int_equal(stage(f, first)->bytes, 5);
	assert_int_equal(stage(f, first + 1)->bytes, 3);
	feed(f, "250 2.0.0 Ok: 5 bytes\r\n");
	check_stage(stage(f, first), SMTP_STAGE_BDAT, SMTP_ST_OK, 250, "2.0.0");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_BDAT);
	feed(f, "250 2.0.0 Ok: 8 bytes queued as Z\r\n");
	check_stage(
	    stage(f, first + 1), SMTP_STAGE_BDAT, SMTP_ST_OK, 250, "2.0.0");
	assert_int_equal(stage(f, first)->group, stage(f, first + 1)->group);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_int_equal(smtp_session_pending(f->s), 0);
}

/*
 * A line that does not fit the rest of the chunk is refused and nothing
 * is sent; a line of exactly the rest ends the chunk without CRLF.
 */
static void
test_bdat_line_must_fit(void **state)
{
	struct fx *f = *state;
	char *err = NULL;
	size_t nsent;

	connect_rcpt(f);
	send_ok(f, "BDAT 9");
	expect_output(f, "BDAT 9\r\n");
	nsent = count(f, SMTP_EV_SENT);
	/* 8 octets + CRLF = 10 > 9; 8 != 9: neither fits. */
	assert_int_equal(smtp_session_send(f->s, "abcdefgh", 8, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "needs 10 octets with its CRLF"));
	assert_non_null(strstr(err, "has 9 left"));
	assert_non_null(strstr(err, "at most 7 octets, or exactly 9"));
	free(err);
	err = NULL;
	assert_int_equal(smtp_session_chunk_left(f->s), 9);
	assert_int_equal(count(f, SMTP_EV_SENT), nsent);
	expect_output(f, "");
	send_ok(f, "abcde"); /* 7 with CRLF: 2 left */
	assert_int_equal(smtp_session_chunk_left(f->s), 2);
	send_ok(f, "fg"); /* exactly 2: no CRLF */
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
	assert_true(has_text(f, SMTP_EV_NOTE, "sent without CRLF"));
	expect_output(f, "abcde\r\nfg");
	assert_string_equal(last(f, SMTP_EV_SENT)->text, "fg");

	/* One octet left: no line with a CRLF fits it. */
	feed(f, "250 2.0.0 Ok: 9 bytes\r\n");
	send_ok(f, "BDAT 3 LAST");
	send_ok(f, "h");
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
	feed(f, "250 ok\r\n");
	send_ok(f, "BDAT 3 LAST"); /* a second LAST: the server says 503 */
	send_ok(f, "");
	assert_int_equal(smtp_session_chunk_left(f->s), 1);
	assert_int_equal(smtp_session_send(f->s, "", 0, &err), -1);
	assert_non_null(strstr(err, "1 octet left"));
	free(err);
	send_ok(f, "i");
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
	expect_output(f, "BDAT 3 LAST\r\nh\r\nBDAT 3 LAST\r\n\r\ni");
}

/* BDAT 0 LAST opens no chunk: the next line is a command. */
static void
test_bdat_empty_chunk(void **state)
{
	struct fx *f = *state;
	size_t bdat;

	connect_rcpt(f);
	send_ok(f, "BDAT 0 LAST");
	bdat = smtp_session_nstages(f->s) - 1;
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
	assert_false(has_text(f, SMTP_EV_NOTE, "BDAT chunk"));
	assert_int_equal(smtp_session_pending(f->s), 1);
	send_ok(f, "NOOP");
	check_stage(last_stage(f), SMTP_STAGE_NOOP, SMTP_ST_PENDING, 0, "");
	expect_output(f, "BDAT 0 LAST\r\nNOOP\r\n");
	feed(f, "250 2.0.0 Ok: queued\r\n250 ok\r\n");
	check_stage(stage(f, bdat), SMTP_STAGE_BDAT, SMTP_ST_OK, 250, "2.0.0");
	/* A size that is not a plain number announces no chunk either. */
	exchange(f, "MAIL FROM:<a@b>", "250 ok\r\n");
	exchange(f, "RCPT TO:<c@d>", "250 ok\r\n");
	send_ok(f, "BDAT 12x");
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
}

/*
 * A reply to BDAT before its chunk: 500 (the server does not know BDAT)
 * cancels the chunk; anything else leaves it owed, with a warning.
 */
static void
test_bdat_early_reply(void **state)
{
	struct fx *f = *state;
	char *err = NULL;

	connect_rcpt(f);
	send_ok(f, "BDAT 10");
	feed(f, "500 5.5.1 Error: command not recognized\r\n");
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
	assert_true(has_text(f, SMTP_EV_NOTE, "reads no chunk"));
	send_ok(f, "RSET");
	check_stage(last_stage(f), SMTP_STAGE_RSET, SMTP_ST_PENDING, 0, "");
	expect_output(f, "BDAT 10\r\nRSET\r\n");
	feed(f, "250 ok\r\n");

	exchange(f, "MAIL FROM:<a@b>", "250 ok\r\n");
	send_ok(f, "BDAT 4 LAST");
	feed(f, "554 5.5.1 no valid recipients\r\n");
	assert_int_equal(smtp_session_chunk_left(f->s), 4);
	assert_true(has_text(f, SMTP_EV_WARNING, "before its chunk"));
	/* Still owed: a secret cannot go now, the content can. */
	assert_int_equal(
	    smtp_session_send_secret(f->s, "AGEAYg==", "[hidden]", &err), -1);
	assert_non_null(strstr(err, "BDAT chunk is open"));
	free(err);
	send_ok(f, "ab");
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
	expect_output(f, "BDAT 4 LAST\r\nab\r\n");
	/* A closed session owes nothing. */
	send_ok(f, "BDAT 4 LAST");
	smtp_session_close(f->s, "bye");
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_pipeline_group),
	    T(test_pipeline_unadvertised_warns),
	    T(test_content_raw),
	    T(test_body_write),
	    T(test_bdat),
	    T(test_bdat_chunk_is_content),
	    T(test_bdat_pipelined),
	    T(test_bdat_line_must_fit),
	    T(test_bdat_empty_chunk),
	    T(test_bdat_early_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
