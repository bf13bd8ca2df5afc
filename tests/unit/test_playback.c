/*
 * Unit tests for tui/playback.c: stepping through a recorded session
 * by exchange, back, to the next failure, and the timing at each speed,
 * over events built as the recorder stores them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "history/history.h"
#include "tui/histcmd.h"
#include "tui/playback.h"

#define EV(t, d, txt, code, fl)                                                \
	{                                                                      \
		0, (t), (d), (char *)(txt), sizeof(txt) - 1, NULL, (code), "", \
		    (fl), 0, 0, 0                                              \
	}

/*
 * 0 note, 1 greeting (reply end), 2 EHLO, 3-4 its multi-line reply,
 * 5 STARTTLS, 6 220, 7 note (TLS), 8 MAIL, 9 RCPT (pipelined), 10 250,
 * 11 550 (a failure), 12 RSET, 13 250, 14 RCPT, 15 451 (a failure),
 * 16 QUIT (never answered), 17 note.
 */
static struct histcmd_event session[] = {
    EV(0, '*', "connected", 0, 0),
    EV(1000, 'S', "220 mx ESMTP", 220, HIST_EV_REPLY),
    EV(2000, 'C', "EHLO me", 0, 0),
    EV(3000, 'S', "250-mx", 0, 0),
    EV(3500, 'S', "250 STARTTLS", 250, HIST_EV_REPLY),
    EV(4000, 'C', "STARTTLS", 0, 0),
    EV(5000, 'S', "220 go ahead", 220, HIST_EV_REPLY),
    EV(6000, '*', "TLS established", 0, 0),
    EV(7000, 'C', "MAIL FROM:<a@b.example>", 0, 0),
    EV(7001, 'C', "RCPT TO:<x@b.example>", 0, 0),
    EV(8000, 'S', "250 ok", 250, HIST_EV_REPLY),
    EV(9000, 'S', "550 5.1.1 no such user", 550, HIST_EV_REPLY),
    EV(10000, 'C', "RSET", 0, 0),
    EV(11000, 'S', "250 ok", 250, HIST_EV_REPLY),
    EV(12000, 'C', "RCPT TO:<y@b.example>", 0, 0),
    EV(9000000, 'S', "451 4.7.1 later", 451, HIST_EV_REPLY),
    EV(9001000, 'C', "QUIT", 0, 0),
    EV(9002000, '*', "connection closed", 0, 0),
};

static struct histcmd_events es = {session, sizeof session / sizeof session[0]};

static void
test_next_by_exchange(void **state)
{
	(void)state;
	/* The greeting with the note before it. */
	assert_int_equal(playback_next(&es, 0), 2);
	/* EHLO and its whole multi-line reply. */
	assert_int_equal(playback_next(&es, 2), 5);
	/* STARTTLS, 220 and the TLS note after it. */
	assert_int_equal(playback_next(&es, 5), 8);
	/* Pipelined MAIL and RCPT go with the first reply... */
	assert_int_equal(playback_next(&es, 8), 11);
	/* ...and the second reply is an exchange of its own. */
	assert_int_equal(playback_next(&es, 11), 12);
	/* From the middle of an exchange: to its end. */
	assert_int_equal(playback_next(&es, 3), 5);
	/* The unanswered QUIT and the last note make the last one. */
	assert_int_equal(playback_next(&es, 16), 18);
	assert_int_equal(playback_next(&es, 18), 18);
	assert_int_equal(playback_count(&es), 8);
	assert_int_equal(playback_index(&es, 0), 0);
	assert_int_equal(playback_index(&es, 5), 2);
	assert_int_equal(playback_index(&es, 18), 8);
}

static void
test_prev_by_exchange(void **state)
{
	(void)state;
	assert_int_equal(playback_prev(&es, 18), 16);
	assert_int_equal(playback_prev(&es, 12), 11);
	assert_int_equal(playback_prev(&es, 11), 8);
	assert_int_equal(playback_prev(&es, 8), 5);
	assert_int_equal(playback_prev(&es, 2), 0);
	assert_int_equal(playback_prev(&es, 0), 0);
	/* From the middle of an exchange: to the start of it. */
	assert_int_equal(playback_prev(&es, 4), 2);
	/* Forward then back lands where it started. */
	assert_int_equal(playback_prev(&es, playback_next(&es, 5)), 5);
}

static void
test_next_failure(void **state)
{
	(void)state;
	/* The 550 of the pipelined RCPT. */
	assert_int_equal(playback_next_failure(&es, 0), 12);
	assert_int_equal(playback_next_failure(&es, 8), 12);
	/* Past it: the 451. */
	assert_int_equal(playback_next_failure(&es, 12), 16);
	/* None after the last: the position stays. */
	assert_int_equal(playback_next_failure(&es, 16), 16);
}

static void
test_delay_by_speed(void **state)
{
	(void)state;
	/* The gap before event 2 was 1 ms. */
	assert_int_equal(playback_delay_us(&es, 2, 1), 1000);
	assert_int_equal(playback_delay_us(&es, 2, 2), 500);
	assert_int_equal(playback_delay_us(&es, 2, 10), 100);
	assert_int_equal(playback_delay_us(&es, 2, 0), 1000);
	/* A gap of almost 9 s is shortened to 5 s, then divided. */
	assert_int_equal(playback_delay_us(&es, 15, 1), 5000000);
	assert_int_equal(playback_delay_us(&es, 15, 10), 500000);
	assert_int_equal(playback_delay_us(&es, 0, 1), 0);
	assert_int_equal(playback_delay_us(&es, 18, 1), 0);
	assert_int_equal(playback_speeds[0], 1);
	assert_int_equal(playback_speeds[1], 2);
	assert_int_equal(playback_speeds[2], 10);
}

static void
test_empty_and_no_reply(void **state)
{
	static struct histcmd_event only_client[] = {
	    EV(0, 'C', "EHLO me", 0, 0),
	    EV(10, '*', "timeout", 0, 0),
	};
	struct histcmd_events none = {NULL, 0};
	struct histcmd_events oc = {only_client, 2};

	(void)state;
	assert_int_equal(playback_next(&none, 0), 0);
	assert_int_equal(playback_prev(&none, 0), 0);
	assert_int_equal(playback_next_failure(&none, 0), 0);
	assert_int_equal(playback_count(&none), 0);
	assert_int_equal(playback_next(&oc, 0), 2);
	assert_int_equal(playback_count(&oc), 1);
	assert_int_equal(playback_next_failure(&oc, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_next_by_exchange),
	    cmocka_unit_test(test_prev_by_exchange),
	    cmocka_unit_test(test_next_failure),
	    cmocka_unit_test(test_delay_by_speed),
	    cmocka_unit_test(test_empty_and_no_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
