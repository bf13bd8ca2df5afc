/*
 * The fixture the tests of protocol/session.c share (test_session.c,
 * test_session_content.c, test_session_secure.c): each test plays the
 * driver, reporting the connection, feeding server bytes exactly as
 * they would come off the wire, sending typed lines and reading the
 * bytes the session queued for the wire.  Every event the session emits
 * is copied into a recorder (type, text, flags, stage kind, state and
 * code) so the tests can check the dialogue, the stage list and the
 * warnings.  A fake clock makes latencies exact.  Include after
 * <cmocka.h>.
 */
#ifndef EHLO_TESTS_SESSION_FIXTURE_H
#define EHLO_TESTS_SESSION_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
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

static inline uint64_t
fake_clock(void)
{
	return fake_now;
}

static inline void
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

static inline void
rec_clear(struct fx *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->ev[i].text);
	f->n = 0;
}

static inline int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	fake_now = 5000000;
	f->s = smtp_session_new(record, f);
	smtp_session_set_clock(f->s, fake_clock);
	*state = f;
	return 0;
}

static inline int
teardown(void **state)
{
	struct fx *f = *state;

	smtp_session_free(f->s);
	rec_clear(f);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------ */

static inline void
feed(struct fx *f, const char *str)
{
	smtp_session_feed(f->s, str, strlen(str));
}

static inline void
send_ok(struct fx *f, const char *line)
{
	char *err = NULL;

	if (smtp_session_send(f->s, line, strlen(line), &err) != 0)
		fail_msg("send \"%s\" failed: %s", line, err ? err : "?");
	assert_null(err);
}

/* Checks the queued bytes are exactly want, then takes them. */
static inline void
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

static inline size_t
count(const struct fx *f, enum smtp_event_type type)
{
	size_t i, c = 0;

	for (i = 0; i < f->n; i++)
		c += f->ev[i].type == type;
	return c;
}

static inline const struct evrec *
last(const struct fx *f, enum smtp_event_type type)
{
	size_t i = f->n;

	while (i-- > 0)
		if (f->ev[i].type == type)
			return &f->ev[i];
	return NULL;
}

/* 1 when some event of the type has text containing needle. */
static inline int
has_text(const struct fx *f, enum smtp_event_type type, const char *needle)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->ev[i].type == type && strstr(f->ev[i].text, needle))
			return 1;
	return 0;
}

static inline const struct smtp_stage *
stage(const struct fx *f, size_t i)
{
	const struct smtp_stage *st = smtp_session_stage(f->s, i);

	if (st == NULL)
		fail_msg(
		    "no stage %zu (have %zu)", i, smtp_session_nstages(f->s));
	return st;
}

static inline const struct smtp_stage *
last_stage(const struct fx *f)
{
	return stage(f, smtp_session_nstages(f->s) - 1);
}

static inline void
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

static inline void
connect_greet(struct fx *f)
{
	smtp_session_connecting(f->s, "mx.example:25");
	smtp_session_connected(f->s, "192.0.2.25:25");
	feed(f, GREETING);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_GREETED);
}

static inline void
connect_ehlo(struct fx *f)
{
	connect_greet(f);
	send_ok(f, "EHLO client.example");
	expect_output(f, "EHLO client.example\r\n");
	feed(f, EHLO_REPLY);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_int_equal(smtp_session_pending(f->s), 0);
}
/* Sends line, checks its exact wire form, then feeds the reply. */
static inline void
exchange(struct fx *f, const char *line, const char *reply)
{
	char wire[600];

	send_ok(f, line);
	(void)snprintf(wire, sizeof wire, "%s\r\n", line);
	expect_output(f, wire);
	feed(f, reply);
}

#endif
