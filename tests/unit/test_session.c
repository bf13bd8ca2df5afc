/*
 * Unit tests for protocol/session.c, the sans-I/O SMTP session.  Each
 * test plays the driver: it reports the connection, feeds server bytes
 * exactly as they would come off the wire, sends typed lines and reads
 * the bytes the session queued for the wire.  Every event the session
 * emits is copied into a recorder (type, text, flags, stage kind, state
 * and code) so the tests can check the dialogue, the stage list and the
 * warnings.  A fake clock makes latencies exact.
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
#include "protocol/caps.h"
#include "protocol/command.h"
#include "protocol/reply.h"
#include "protocol/sasl.h"
#include "core/buf.h"
#include "protocol/session.h"

#define GREETING "220 mx.example ESMTP ready\r\n"
#define EHLO_REPLY                                                             \
	"250-mx.example greets client.example\r\n"                             \
	"250-PIPELINING\r\n"                                                   \
	"250-SIZE 10240000\r\n"                                                \
	"250-STARTTLS\r\n"                                                     \
	"250-AUTH PLAIN LOGIN\r\n"                                             \
	"250-ENHANCEDSTATUSCODES\r\n"                                          \
	"250-8BITMIME\r\n"                                                     \
	"250 CHUNKING\r\n"
/* base64 of "\0alice\0secret" (RFC 4616 PLAIN) */
#define PLAIN_B64 "AGFsaWNlAHNlY3JldA=="

struct evrec {
	enum smtp_event_type type;
	char *text; /* NUL-terminated copy of text[0..len) */
	size_t len;
	unsigned flags;
	int has_stage;
	enum smtp_stage_kind kind;
	enum smtp_stage_state state;
	int code; /* the reply's code for REPLY, else the stage's */
	size_t stage_index;
	enum smtp_fail category;
	uint64_t t_us;
};

#define REC_MAX 512

struct fx {
	struct smtp_session *s;
	struct evrec ev[REC_MAX];
	size_t n;
};

static uint64_t fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static void
record(const struct smtp_event *ev, void *arg)
{
	struct fx *f = arg;
	struct evrec *r;

	if (f->n == REC_MAX)
		fail_msg("too many events");
	r = &f->ev[f->n++];
	memset(r, 0, sizeof *r);
	r->type = ev->type;
	r->len = ev->text != NULL ? ev->len : 0;
	r->text = xmalloc(r->len + 1);
	if (r->len > 0)
		memcpy(r->text, ev->text, r->len);
	r->text[r->len] = '\0';
	r->flags = ev->flags;
	r->stage_index = ev->stage_index;
	r->category = ev->category;
	r->t_us = ev->t_us;
	if (ev->stage != NULL) {
		r->has_stage = 1;
		r->kind = ev->stage->kind;
		r->state = ev->stage->state;
		r->code = ev->stage->code;
	}
	if (ev->type == SMTP_EV_REPLY && ev->reply != NULL)
		r->code = ev->reply->code;
}

static void
rec_clear(struct fx *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->ev[i].text);
	f->n = 0;
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	fake_now = 5000000;
	f->s = smtp_session_new(record, f);
	smtp_session_set_clock(f->s, fake_clock);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	smtp_session_free(f->s);
	rec_clear(f);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------ */

static void
feed(struct fx *f, const char *str)
{
	smtp_session_feed(f->s, str, strlen(str));
}

static void
send_ok(struct fx *f, const char *line)
{
	char *err = NULL;

	if (smtp_session_send(f->s, line, strlen(line), &err) != 0)
		fail_msg("send \"%s\" failed: %s", line, err ? err : "?");
	assert_null(err);
}

/* Checks the queued bytes are exactly want, then takes them. */
static void
expect_output(struct fx *f, const char *want)
{
	size_t len;
	const char *out = smtp_session_output(f->s, &len);

	if (len != strlen(want) || memcmp(out, want, len) != 0)
		fail_msg("output \"%.*s\", want \"%s\"", (int)len, out, want);
	smtp_session_output_consume(f->s, len);
	(void)smtp_session_output(f->s, &len);
	assert_int_equal(len, 0);
}

static size_t
count(const struct fx *f, enum smtp_event_type type)
{
	size_t i, c = 0;

	for (i = 0; i < f->n; i++)
		c += f->ev[i].type == type;
	return c;
}

static const struct evrec *
last(const struct fx *f, enum smtp_event_type type)
{
	size_t i = f->n;

	while (i-- > 0)
		if (f->ev[i].type == type)
			return &f->ev[i];
	return NULL;
}

/* 1 when some event of the type has text containing needle. */
static int
has_text(const struct fx *f, enum smtp_event_type type, const char *needle)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->ev[i].type == type && strstr(f->ev[i].text, needle))
			return 1;
	return 0;
}

static const struct smtp_stage *
stage(const struct fx *f, size_t i)
{
	const struct smtp_stage *st = smtp_session_stage(f->s, i);

	if (st == NULL)
		fail_msg(
		    "no stage %zu (have %zu)", i, smtp_session_nstages(f->s));
	return st;
}

static const struct smtp_stage *
last_stage(const struct fx *f)
{
	return stage(f, smtp_session_nstages(f->s) - 1);
}

static void
check_stage(const struct smtp_stage *st, enum smtp_stage_kind kind,
    enum smtp_stage_state state, int code, const char *enhanced)
{
	if (st->kind != kind || st->state != state || st->code != code ||
	    strcmp(st->enhanced, enhanced) != 0)
		fail_msg("stage %s/%s/%d/\"%s\", want %s/%s/%d/\"%s\"",
		    smtp_stage_kind_name(st->kind),
		    smtp_stage_state_name(st->state), st->code, st->enhanced,
		    smtp_stage_kind_name(kind), smtp_stage_state_name(state),
		    code, enhanced);
}

static void
connect_greet(struct fx *f)
{
	smtp_session_connecting(f->s, "mx.example:25");
	smtp_session_connected(f->s, "192.0.2.25:25");
	feed(f, GREETING);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_GREETED);
}

static void
connect_ehlo(struct fx *f)
{
	connect_greet(f);
	send_ok(f, "EHLO client.example");
	expect_output(f, "EHLO client.example\r\n");
	feed(f, EHLO_REPLY);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_int_equal(smtp_session_pending(f->s), 0);
}

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

/* Sends line, checks its exact wire form, then feeds the reply. */
static void
exchange(struct fx *f, const char *line, const char *reply)
{
	char wire[600];

	send_ok(f, line);
	(void)snprintf(wire, sizeof wire, "%s\r\n", line);
	expect_output(f, wire);
	feed(f, reply);
}

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

/* ---- STARTTLS ---------------------------------------------------------- */

static void
test_starttls(void **state)
{
	struct fx *f = *state;
	const struct smtp_caps *caps;
	const struct smtp_stage *st;
	size_t nline, nreply, i, tls;
	char *err = NULL;

	connect_ehlo(f);
	assert_false(smtp_session_is_tls(f->s));
	exchange(f, "STARTTLS", "220 2.0.0 Ready to start TLS\r\n");
	assert_int_equal(count(f, SMTP_EV_STARTTLS), 1);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_TLS);
	/* No injection here, so no warning. */
	assert_int_equal(count(f, SMTP_EV_WARNING), 0);
	/* The STARTTLS event comes after the reply that caused it. */
	for (i = 0; f->ev[i].type != SMTP_EV_STARTTLS; i++)
		continue;
	assert_true(i > 0);
	assert_non_null(last(f, SMTP_EV_REPLY));
	assert_int_equal(last(f, SMTP_EV_REPLY)->kind, SMTP_STAGE_STARTTLS);
	assert_true(last(f, SMTP_EV_REPLY) < &f->ev[i]);
	tls = smtp_session_nstages(f->s) - 1;
	check_stage(stage(f, tls), SMTP_STAGE_TLS, SMTP_ST_PENDING, 0, "");
	check_stage(
	    stage(f, tls - 1), SMTP_STAGE_STARTTLS, SMTP_ST_OK, 220, "2.0.0");

	/* Plaintext during the handshake is not SMTP and is ignored. */
	nline = count(f, SMTP_EV_LINE);
	nreply = count(f, SMTP_EV_REPLY);
	feed(f, "250 plaintext\r\n");
	assert_int_equal(count(f, SMTP_EV_LINE), nline);
	assert_int_equal(count(f, SMTP_EV_REPLY), nreply);
	/* Nothing can be sent during the handshake. */
	assert_int_equal(smtp_session_send(f->s, "NOOP", 4, &err), -1);
	assert_non_null(err);
	free(err);
	expect_output(f, "");

	smtp_session_tls_done(f->s, "TLSv1.3 TLS_AES_256_GCM_SHA384");
	assert_true(smtp_session_is_tls(f->s));
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_GREETED);
	st = stage(f, tls);
	check_stage(st, SMTP_STAGE_TLS, SMTP_ST_OK, 0, "");
	assert_string_equal(st->command, "TLSv1.3 TLS_AES_256_GCM_SHA384");
	assert_true(has_text(f, SMTP_EV_NOTE, "TLSv1.3"));
	/* RFC 3207 4.2: forget what EHLO said before TLS. */
	caps = smtp_session_caps(f->s);
	assert_false(caps->valid);
	assert_int_equal(caps->flags, 0);
	assert_int_equal(caps->nauth, 0);

	exchange(f, "EHLO client.example",
	    "250-mx.example\r\n250-AUTH PLAIN\r\n250 PIPELINING\r\n");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_true(caps->valid);
	assert_false(smtp_caps_has(caps, SMTP_CAP_STARTTLS));
	assert_true(smtp_caps_has_auth(caps, "PLAIN"));
	assert_int_equal(count(f, SMTP_EV_FAILURE), 0);
}

static void
test_starttls_injection(void **state)
{
	struct fx *f = *state;
	size_t ehlo;

	connect_ehlo(f);
	send_ok(f, "STARTTLS");
	expect_output(f, "STARTTLS\r\n");
	/* A man in the middle appends a reply to the 220 (CVE-2011-0411). */
	feed(f, "220 Ready\r\n250-evil.example\r\n250 AUTH PLAIN\r\n");
	assert_int_equal(count(f, SMTP_EV_STARTTLS), 1);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_TLS);
	assert_int_equal(count(f, SMTP_EV_WARNING), 1);
	assert_true(has_text(f, SMTP_EV_WARNING, "discarded"));
	assert_false(has_text(f, SMTP_EV_LINE, "evil.example"));

	smtp_session_tls_done(f->s, "TLSv1.3");
	send_ok(f, "EHLO client.example");
	ehlo = smtp_session_nstages(f->s) - 1;
	assert_int_equal(smtp_session_pending(f->s), 1);
	/* Only the reply read over TLS completes the EHLO. */
	feed(f, "250-mx.example\r\n250 SIZE 1000\r\n");
	check_stage(stage(f, ehlo), SMTP_STAGE_EHLO, SMTP_ST_OK, 250, "");
	assert_false(smtp_caps_has_auth(smtp_session_caps(f->s), "PLAIN"));
	assert_int_equal(smtp_session_caps(f->s)->size_limit, 1000);
}

static void
test_starttls_injection_split_crlf(void **state)
{
	struct fx *f = *state;

	connect_ehlo(f);
	send_ok(f, "STARTTLS");
	/* The 220 line ends in the second read, which also carries junk. */
	feed(f, "220 Ready\r");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	feed(f, "\n250 injected\r\n");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_TLS);
	assert_true(has_text(f, SMTP_EV_WARNING, "discarded"));
	assert_false(has_text(f, SMTP_EV_LINE, "injected"));
}

static void
test_starttls_refused(void **state)
{
	struct fx *f = *state;

	char *err = NULL;

	connect_ehlo(f);
	send_ok(f, "STARTTLS");
	/* Nothing may follow STARTTLS before its reply (RFC 3207 4.2). */
	assert_int_equal(smtp_session_send(f->s, "EHLO x", 6, &err), -1);
	assert_non_null(err);
	free(err);
	expect_output(f, "STARTTLS\r\n");
	feed(f, "454 4.7.0 TLS not available\r\n");
	assert_int_equal(count(f, SMTP_EV_STARTTLS), 0);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	check_stage(
	    last_stage(f), SMTP_STAGE_STARTTLS, SMTP_ST_TEMPFAIL, 454, "4.7.0");
	/* Caps are kept and commands go on. */
	assert_true(smtp_session_caps(f->s)->valid);
	exchange(f, "NOOP", "250 ok\r\n");
}

/* ---- AUTH ---------------------------------------------------------- */

static void
test_auth_plain_initial_response(void **state)
{
	struct fx *f = *state;
	const struct evrec *e;

	connect_ehlo(f);
	send_ok(f, "AUTH PLAIN " PLAIN_B64);
	/* The wire carries the secret... */
	expect_output(f, "AUTH PLAIN " PLAIN_B64 "\r\n");
	/* ...the transcript and the stage list never do. */
	e = last(f, SMTP_EV_SENT);
	assert_non_null(e);
	assert_true((e->flags & SMTP_SENT_REDACTED) != 0);
	assert_null(strstr(e->text, "secret"));
	assert_null(strstr(e->text, PLAIN_B64));
	assert_non_null(strstr(e->text, "AUTH PLAIN"));
	assert_non_null(strstr(e->text, "alice"));
	assert_int_equal(e->kind, SMTP_STAGE_AUTH);
	assert_null(strstr(last_stage(f)->command, "secret"));
	assert_null(strstr(last_stage(f)->command, PLAIN_B64));
	assert_false(smtp_session_is_authenticated(f->s));

	feed(f, "235 2.7.0 Authentication successful\r\n");
	assert_true(smtp_session_is_authenticated(f->s));
	check_stage(last_stage(f), SMTP_STAGE_AUTH, SMTP_ST_OK, 235, "2.7.0");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_false(has_text(f, SMTP_EV_SENT, "secret"));
}

static void
test_auth_plain_after_334(void **state)
{
	struct fx *f = *state;
	const struct evrec *e;
	size_t nstages;

	connect_ehlo(f);
	exchange(f, "AUTH PLAIN", "334 \r\n");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_AUTH);
	check_stage(last_stage(f), SMTP_STAGE_AUTH, SMTP_ST_MORE, 334, "");
	nstages = smtp_session_nstages(f->s);

	/* A hand-typed response: no command check, shown redacted. */
	send_ok(f, PLAIN_B64);
	expect_output(f, PLAIN_B64 "\r\n");
	e = last(f, SMTP_EV_SENT);
	assert_true((e->flags & SMTP_SENT_REDACTED) != 0);
	assert_string_equal(e->text, "[user=alice password=" SASL_MASK "]");
	assert_int_equal(count(f, SMTP_EV_WARNING), 0);
	assert_int_equal(smtp_session_nstages(f->s), nstages + 1);
	assert_string_equal(last_stage(f)->command, e->text);
	assert_false(smtp_session_is_authenticated(f->s));

	feed(f, "235 2.7.0 Authentication successful\r\n");
	assert_true(smtp_session_is_authenticated(f->s));
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	check_stage(last_stage(f), SMTP_STAGE_AUTH, SMTP_ST_OK, 235, "2.7.0");
	/* After the exchange lines are commands again. */
	exchange(f, "NOOP", "250 ok\r\n");
	check_stage(last_stage(f), SMTP_STAGE_NOOP, SMTP_ST_OK, 250, "");
	assert_false(has_text(f, SMTP_EV_SENT, "secret"));
	assert_false(has_text(f, SMTP_EV_SENT, PLAIN_B64));
}

static void
test_auth_login_by_hand(void **state)
{
	struct fx *f = *state;

	connect_ehlo(f);
	exchange(f, "AUTH LOGIN", "334 VXNlcm5hbWU6\r\n"); /* "Username:" */
	send_ok(f, "YWxpY2U="); /* "alice" */
	expect_output(f, "YWxpY2U=\r\n");
	assert_string_equal(last(f, SMTP_EV_SENT)->text, "[user=alice]");
	feed(f, "334 UGFzc3dvcmQ6\r\n"); /* "Password:" */
	send_ok(f, "c2VjcmV0"); /* "secret" */
	expect_output(f, "c2VjcmV0\r\n");
	assert_null(strstr(last(f, SMTP_EV_SENT)->text, "c2VjcmV0"));
	assert_null(strstr(last(f, SMTP_EV_SENT)->text, "secret"));
	assert_true((last(f, SMTP_EV_SENT)->flags & SMTP_SENT_REDACTED) != 0);
	feed(f, "535 5.7.8 Authentication credentials invalid\r\n");
	assert_false(smtp_session_is_authenticated(f->s));
	check_stage(
	    last_stage(f), SMTP_STAGE_AUTH, SMTP_ST_PERMFAIL, 535, "5.7.8");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
}

static void
test_auth_without_mechanism(void **state)
{
	struct fx *f = *state;

	connect_ehlo(f);
	/* "AUTH" alone: a warning for the missing argument, sent anyway. */
	send_ok(f, "AUTH");
	expect_output(f, "AUTH\r\n");
	assert_true(count(f, SMTP_EV_WARNING) >= 1);
	assert_string_equal(last(f, SMTP_EV_SENT)->text, "AUTH");
	feed(f, "501 5.5.4 Syntax: AUTH mechanism\r\n");
	check_stage(
	    last_stage(f), SMTP_STAGE_AUTH, SMTP_ST_PERMFAIL, 501, "5.5.4");
}

static void
test_send_secret(void **state)
{
	struct fx *f = *state;
	const struct evrec *e;
	const char *display = "AUTH PLAIN [user=alice password=" SASL_MASK "]";
	const char *out;
	char *err = NULL;
	size_t len, i;

	connect_ehlo(f);
	assert_int_equal(smtp_session_send_secret(
	                     f->s, "AUTH PLAIN " PLAIN_B64, display, &err),
	    0);
	/* What was sent is wiped from the buffer, even when sent in parts. */
	out = smtp_session_output(f->s, &len);
	assert_int_equal(len, sizeof("AUTH PLAIN " PLAIN_B64 "\r\n") - 1);
	assert_memory_equal(out, "AUTH PLAIN " PLAIN_B64 "\r\n", len);
	smtp_session_output_consume(f->s, 13);
	assert_memory_equal(out + 13, &PLAIN_B64[2], 4);
	smtp_session_output_consume(f->s, len - 13);
	for (i = 0; i < len; i++)
		assert_int_equal(out[i], 0);
	expect_output(f, "");
	e = last(f, SMTP_EV_SENT);
	assert_string_equal(e->text, display);
	assert_true((e->flags & SMTP_SENT_REDACTED) != 0);
	assert_int_equal(e->kind, SMTP_STAGE_AUTH);
	assert_string_equal(last_stage(f)->command, display);
	feed(f, "235 2.7.0 ok\r\n");
	assert_true(smtp_session_is_authenticated(f->s));

	/* The wire form is checked like any line. */
	assert_int_equal(smtp_session_send_secret(
	                     f->s, "AUTH PLAIN a\r\nQUIT", "AUTH PLAIN", &err),
	    -1);
	assert_non_null(err);
	free(err);
	expect_output(f, "");
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
	    T(test_pipeline_group),
	    T(test_pipeline_unadvertised_warns),
	    T(test_starttls),
	    T(test_starttls_injection),
	    T(test_starttls_injection_split_crlf),
	    T(test_starttls_refused),
	    T(test_auth_plain_initial_response),
	    T(test_auth_plain_after_334),
	    T(test_auth_login_by_hand),
	    T(test_auth_without_mechanism),
	    T(test_send_secret),
	    T(test_refuse_forbidden),
	    T(test_send_not_connected),
	    T(test_out_of_order_warns),
	    T(test_content_raw),
	    T(test_body_write),
	    T(test_bdat),
	    T(test_bdat_chunk_is_content),
	    T(test_bdat_pipelined),
	    T(test_bdat_line_must_fit),
	    T(test_bdat_empty_chunk),
	    T(test_bdat_early_reply),
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
