/*
 * Unit tests for protocol/session_raw.c (/raw, issue 22): the bytes go
 * out exactly, and the engine keeps track as well as it can: complete
 * command lines open stages, a partial line waits for its end, an end of
 * data split over two calls is seen, an unusual end of data warns and an
 * early reply is taken as the message's, a chunk counts the octets.  The
 * fixture: session_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "protocol/session.h"
#include "session_fixture.h"

static void
send_raw(struct fx *f, const char *p, size_t n)
{
	char *err = NULL;

	if (smtp_session_send_raw(f->s, p, n, &err) != 0)
		fail_msg("raw send failed: %s", err != NULL ? err : "?");
}

/* Into DATA, 354 answered, output taken. */
static void
into_data(struct fx *f)
{
	connect_ehlo(f);
	send_ok(f, "MAIL FROM:<a@b>");
	feed(f, "250 2.1.0 Ok\r\n");
	send_ok(f, "RCPT TO:<c@d>");
	feed(f, "250 2.1.5 Ok\r\n");
	send_ok(f, "DATA");
	feed(f, "354 go ahead\r\n");
	expect_output(f, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
}

static void
test_raw_command_lines(void **state)
{
	struct fx *f = *state;
	size_t first;

	connect_ehlo(f);
	first = smtp_session_nstages(f->s);
	send_raw(f, "NOOP\r\nMAIL FROM:<a", 18);
	/* One event, marked raw, the bytes after "[raw] ". */
	assert_int_equal(last(f, SMTP_EV_SENT)->flags, SMTP_SENT_RAW);
	assert_int_equal(last(f, SMTP_EV_SENT)->len, 6 + 18);
	assert_memory_equal(
	    last(f, SMTP_EV_SENT)->text, "[raw] NOOP\r\nMAIL FROM:<a", 24);
	/* NOOP is tracked; the partial MAIL waits. */
	assert_int_equal(smtp_session_pending(f->s), 1);
	assert_true(has_text(f, SMTP_EV_NOTE, "command line sent"));
	send_raw(f, "@b>\r\n", 5);
	assert_int_equal(smtp_session_pending(f->s), 2);
	expect_output(f, "NOOP\r\nMAIL FROM:<a@b>\r\n");
	feed(f, "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n");
	assert_int_equal(stage(f, first)->kind, SMTP_STAGE_NOOP);
	assert_int_equal(stage(f, first + 1)->kind, SMTP_STAGE_MAIL);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_MAIL);
	assert_int_equal(count(f, SMTP_EV_WARNING), 0);
	/* A bare LF: ehlo cannot know what the server made of it. */
	send_raw(f, "RSET\n", 5);
	assert_true(has_text(f, SMTP_EV_WARNING, "cannot know where the"));
}

static void
test_raw_end_of_data(void **state)
{
	struct fx *f = *state;

	into_data(f);
	send_ok(f, "Subject: x");
	/* The end split over two calls is still the end. */
	send_raw(f, "body\r\n.", 7);
	assert_int_equal(smtp_session_pending(f->s), 0);
	send_raw(f, "\r\nQUIT\r\n", 8);
	assert_int_equal(smtp_session_pending(f->s), 2);
	expect_output(f, "Subject: x\r\nbody\r\n.\r\nQUIT\r\n");
	feed(f, "250 2.0.0 queued\r\n221 bye\r\n");
	assert_int_equal(count(f, SMTP_EV_WARNING), 0);
	assert_int_equal(last(f, SMTP_EV_REPLY)->kind, SMTP_STAGE_QUIT);
}

static void
test_raw_bare_lf_end_answered_early(void **state)
{
	struct fx *f = *state;

	into_data(f);
	send_raw(f, "hi\n.\n", 5);
	assert_true(has_text(f, SMTP_EV_WARNING, "SMTP smuggling"));
	assert_true(smtp_session_eod_unsure(f->s));
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_CONTENT);
	/* A lenient server answers now: the answer is the message's. */
	feed(f, "250 2.0.0 queued\r\n");
	assert_true(has_text(f, SMTP_EV_NOTE, "answered before the message"));
	assert_int_equal(last(f, SMTP_EV_REPLY)->kind, SMTP_STAGE_MESSAGE);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_false(smtp_session_eod_unsure(f->s));
	assert_false(has_text(f, SMTP_EV_WARNING, "to no command"));
}

static void
test_raw_nul_dot_and_chunk(void **state)
{
	struct fx *f = *state;
	char *err = NULL;

	into_data(f);
	/* A NUL before the dot at a line start is odd too. */
	send_raw(f, "x\r\n\0.\r\n", 7);
	assert_true(smtp_session_eod_unsure(f->s));
	send_raw(f, "\r\n.\r\n", 5);
	assert_false(smtp_session_eod_unsure(f->s));
	feed(f, "250 2.0.0 queued\r\n");
	assert_int_equal(last(f, SMTP_EV_REPLY)->kind, SMTP_STAGE_MESSAGE);
	/* A BDAT chunk counts raw octets; more than fit is refused. */
	send_ok(f, "MAIL FROM:<a@b>");
	feed(f, "250 2.1.0 Ok\r\n");
	send_ok(f, "BDAT 4 LAST");
	assert_int_equal(smtp_session_send_raw(f->s, "12345", 5, &err), -1);
	assert_non_null(strstr(err, "do not fit"));
	free(err);
	send_raw(f, "1\n\r2", 4);
	assert_int_equal(smtp_session_chunk_left(f->s), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_raw_command_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_raw_end_of_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_raw_bare_lf_end_answered_early, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_raw_nul_dot_and_chunk, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
