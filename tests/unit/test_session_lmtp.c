/*
 * LMTP in the session engine (protocol/session_lmtp.c, RFC 2033): LHLO
 * reads the extensions as EHLO does; after the final dot, and after
 * BDAT ... LAST, one reply per accepted recipient lands on its own
 * end-of-data stage named after the recipient, ahead of a command
 * pipelined after the data; EHLO in LMTP and LHLO in SMTP warn.
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
connect_lhlo(struct fx *f)
{
	smtp_session_set_lmtp(f->s, 1);
	connect_greet(f);
	exchange(f, "LHLO client.example", EHLO_REPLY);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_true(smtp_caps_has(smtp_session_caps(f->s), SMTP_CAP_CHUNKING));
	exchange(f, "MAIL FROM:<a@b>", "250 ok\r\n");
	exchange(f, "RCPT TO:<one@x>", "250 ok\r\n");
	exchange(f, "RCPT TO:<gone@x>", "550 no\r\n");
	exchange(f, "RCPT TO:<two@x>", "250 ok\r\n");
}

static void
test_data_one_reply_per_recipient(void **state)
{
	struct fx *f = *state;
	size_t n;

	connect_lhlo(f);
	exchange(f, "DATA", "354 go\r\n");
	send_ok(f, "hi");
	smtp_session_pipeline_begin(f->s);
	send_ok(f, ".");
	send_ok(f, "QUIT");
	smtp_session_pipeline_end(f->s);
	expect_output(f, "hi\r\n.\r\nQUIT\r\n");
	n = smtp_session_nstages(f->s);
	/* Both replies to the data, then QUIT's, in one read. */
	feed(f, "250 2.0.0 one ok\r\n452 4.2.2 two full\r\n221 bye\r\n");
	assert_int_equal(smtp_session_nstages(f->s), n + 1);
	check_stage(
	    stage(f, n - 2), SMTP_STAGE_MESSAGE, SMTP_ST_OK, 250, "2.0.0");
	assert_string_equal(
	    stage(f, n - 2)->command, "message content for <one@x>");
	check_stage(stage(f, n - 1), SMTP_STAGE_QUIT, SMTP_ST_OK, 221, "");
	check_stage(
	    stage(f, n), SMTP_STAGE_MESSAGE, SMTP_ST_TEMPFAIL, 452, "4.2.2");
	assert_string_equal(stage(f, n)->command, "reply for <two@x>");
	assert_int_equal(stage(f, n)->txn, stage(f, n - 2)->txn);
	assert_int_equal(smtp_session_pending(f->s), 0);
	assert_false(has_text(f, SMTP_EV_WARNING, "no command"));
}

static void
test_bdat_last(void **state)
{
	struct fx *f = *state;
	size_t n;

	connect_lhlo(f);
	send_ok(f, "BDAT 4 LAST");
	send_ok(f, "hi");
	expect_output(f, "BDAT 4 LAST\r\nhi\r\n");
	n = smtp_session_nstages(f->s);
	feed(f, "250 one ok\r\n");
	/* BDAT keeps its command; the second recipient's stage waits. */
	assert_string_equal(stage(f, n - 1)->command, "BDAT 4 LAST");
	assert_int_equal(smtp_session_pending(f->s), 1);
	feed(f, "550 two refused\r\n");
	check_stage(stage(f, n), SMTP_STAGE_MESSAGE, SMTP_ST_PERMFAIL, 550, "");
	assert_string_equal(stage(f, n)->command, "reply for <two@x>");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	/* The next transaction starts from no recipient. */
	exchange(f, "MAIL FROM:<a@b>", "250 ok\r\n");
	exchange(f, "RCPT TO:<three@x>", "250 ok\r\n");
	exchange(f, "DATA", "354 go\r\n");
	send_ok(f, ".");
	n = smtp_session_nstages(f->s);
	feed(f, "250 three ok\r\n");
	assert_int_equal(smtp_session_nstages(f->s), n);
	assert_int_equal(smtp_session_pending(f->s), 0);
}

static void
test_hello_warnings(void **state)
{
	struct fx *f = *state;

	smtp_session_set_lmtp(f->s, 1);
	connect_greet(f);
	send_ok(f, "EHLO client.example");
	assert_true(has_text(f, SMTP_EV_WARNING, "send LHLO instead"));
	smtp_session_set_lmtp(f->s, 0);
	send_ok(f, "LHLO client.example");
	assert_true(has_text(f, SMTP_EV_WARNING, "connect with --lmtp"));
}

static void
test_smtp_unchanged(void **state)
{
	struct fx *f = *state;
	size_t n;

	connect_ehlo(f);
	exchange(f, "MAIL FROM:<a@b>", "250 ok\r\n");
	exchange(f, "RCPT TO:<one@x>", "250 ok\r\n");
	exchange(f, "RCPT TO:<two@x>", "250 ok\r\n");
	exchange(f, "DATA", "354 go\r\n");
	send_ok(f, ".");
	n = smtp_session_nstages(f->s);
	feed(f, "250 queued\r\n");
	assert_int_equal(smtp_session_nstages(f->s), n);
	assert_int_equal(smtp_session_pending(f->s), 0);
	assert_string_equal(stage(f, n - 1)->command, "message content");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_data_one_reply_per_recipient),
	    T(test_bdat_last),
	    T(test_hello_warnings),
	    T(test_smtp_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
