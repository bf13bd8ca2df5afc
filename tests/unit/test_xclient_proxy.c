/*
 * Issue 18 items 2 and 3 below the front ends: the PROXY protocol
 * header builder (protocol/proxyhdr.c: the exact octets of v1 and v2
 * over IPv4 and IPv6, the display form and its reading back, the
 * ADDR:PORT parser and its refusals), the XCLIENT line builder
 * (protocol/xclient.c: upper-cased names, xtext values, quotes, the
 * refusals, attributes the server did not list), XCLIENT in the
 * session engine (a 220 is a new greeting: capabilities void, a
 * greeting stage, EHLO legal again; a refusal changes nothing; the
 * checker's warnings) and completion of the advertised attributes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "core/xmalloc.h"
#include "protocol/complete.h"
#include "protocol/explain.h"
#include "protocol/proxyhdr.h"
#include "protocol/session.h"
#include "protocol/xclient.h"
#include "session_fixture.h"

/* ---- PROXY ---------------------------------------------------------- */

static void
addr(const char *s, struct smtp_proxy_addr *a)
{
	char *err = NULL;

	if (smtp_proxy_addr_parse(s, a, &err) != 0)
		fail_msg("%s: %s", s, err);
}

static void
build(int version, const char *src, const char *dst, unsigned char *out,
    size_t *len)
{
	struct smtp_proxy_addr s, d;
	char *err = NULL;

	addr(src, &s);
	addr(dst, &d);
	if (smtp_proxy_build(version, &s, &d, out, len, &err) != 0)
		fail_msg("build: %s", err);
}

static void
test_proxy_v1_bytes(void **state)
{
	unsigned char out[SMTP_PROXY_HDR_MAX];
	size_t len;
	static const char v4[] =
	    "PROXY TCP4 192.0.2.7 203.0.113.25 4567 25\r\n";
	static const char v6[] =
	    "PROXY TCP6 2001:db8::7 2001:db8:0:1::19 65535 587\r\n";

	(void)state;
	build(1, "192.0.2.7:4567", "203.0.113.25:25", out, &len);
	assert_int_equal(len, sizeof v4 - 1);
	assert_memory_equal(out, v4, len);
	/* Addresses in their canonical text form, whatever was typed. */
	build(1, "[2001:DB8:0::7]:65535", "[2001:db8:0:1:0:0:0:19]:587", out,
	    &len);
	assert_int_equal(len, sizeof v6 - 1);
	assert_memory_equal(out, v6, len);
}

static void
test_proxy_v2_bytes(void **state)
{
	unsigned char out[SMTP_PROXY_HDR_MAX];
	size_t len;
	static const unsigned char v4[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, /* signature */
	    0x21, /* version 2, PROXY */
	    0x11, /* AF_INET, STREAM */
	    0x00, 0x0c, /* 12 octets follow */
	    192, 0, 2, 7, 203, 0, 113, 25, /* source, destination */
	    0x11, 0xd7, 0x00, 0x19}; /* 4567, 25 */
	static const unsigned char v6[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
	    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21,
	    0x21, /* AF_INET6, STREAM */
	    0x00, 0x24, /* 36 */
	    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07, 0x20,
	    0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x19, 0xff, 0xff,
	    0x02, 0x4b}; /* 65535, 587 */

	(void)state;
	build(2, "192.0.2.7:4567", "203.0.113.25:25", out, &len);
	assert_int_equal(len, sizeof v4);
	assert_memory_equal(out, v4, len);
	build(2, "[2001:db8::7]:65535", "[2001:db8::19]:587", out, &len);
	assert_int_equal(len, sizeof v6);
	assert_memory_equal(out, v6, len);
}

static void
test_proxy_display_round_trip(void **state)
{
	static const char *const cases[][2] = {
	    {"192.0.2.7:4567", "203.0.113.25:25"},
	    {"[2001:db8::7]:1", "[::1]:2525"},
	};
	unsigned char out[SMTP_PROXY_HDR_MAX];
	struct smtp_proxy_addr s, d;
	char *shown, *a, *b, *err = NULL;
	size_t len, i;
	int v, version;

	(void)state;
	build(2, "192.0.2.7:4567", "203.0.113.25:25", out, &len);
	shown = smtp_proxy_display(out, len);
	assert_string_equal(shown,
	    "PROXY v2 0d0a0d0a000d0a515549540a 21 11 "
	    "000c c0000207 cb007119 11d7 0019");
	free(shown);
	build(1, "192.0.2.7:4567", "203.0.113.25:25", out, &len);
	shown = smtp_proxy_display(out, len);
	assert_string_equal(shown, "PROXY TCP4 192.0.2.7 203.0.113.25 4567 25");
	free(shown);
	for (version = 1; version <= 2; version++)
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			build(version, cases[i][0], cases[i][1], out, &len);
			shown = smtp_proxy_display(out, len);
			assert_int_equal(
			    smtp_proxy_display_parse(shown, &v, &s, &d, &err),
			    0);
			assert_int_equal(v, version);
			a = smtp_proxy_addr_format(&s);
			b = smtp_proxy_addr_format(&d);
			assert_string_equal(a, cases[i][0]);
			assert_string_equal(b, cases[i][1]);
			free(a);
			free(b);
			free(shown);
		}
	assert_int_equal(
	    smtp_proxy_display_parse("PROXY v2 0d0a 21 11", &v, &s, &d, &err),
	    -1);
	assert_non_null(err);
	free(err);
}

static void
test_proxy_refusals(void **state)
{
	static const char *const bad[] = {"192.0.2.7", "192.0.2.7:", ":25",
	    "mail.example:25", "192.0.2.7:65536", "192.0.2.7:x",
	    "2001:db8::7:25", "[2001:db8::7]", "[2001:db8::7]25", ""};
	struct smtp_proxy_addr s, d;
	unsigned char out[SMTP_PROXY_HDR_MAX];
	size_t i, len;
	char *err;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		if (smtp_proxy_addr_parse(bad[i], &s, &err) != -1)
			fail_msg("\"%s\" was taken", bad[i]);
		assert_non_null(err);
		free(err);
	}
	addr("192.0.2.7:1", &s);
	addr("[::1]:25", &d);
	err = NULL;
	assert_int_equal(smtp_proxy_build(1, &s, &d, out, &len, &err), -1);
	assert_non_null(strstr(err, "one family"));
	free(err);
	assert_int_equal(smtp_proxy_version_parse("v1"), 1);
	assert_int_equal(smtp_proxy_version_parse("2"), 2);
	assert_int_equal(smtp_proxy_version_parse("v3"), -1);
}

/* ---- XCLIENT ---------------------------------------------------------- */

static void
line_is(const char *pairs, const char *want)
{
	char *err = NULL, *line = smtp_xclient_line(pairs, &err);

	if (line == NULL)
		fail_msg("\"%s\": %s", pairs, err);
	assert_string_equal(line, want);
	free(line);
}

static void
test_xclient_line(void **state)
{
	static const char *const bad[] = {
	    "", "   ", "ADDR", "=x", "A1=x", "ADDR=1 NAME", "HELO=\"open"};
	char *err, *line;
	size_t i;

	(void)state;
	line_is("ADDR=192.0.2.7 NAME=forged.example",
	    "XCLIENT ADDR=192.0.2.7 NAME=forged.example");
	line_is("  addr=IPV6:2001:db8::7\tname=[UNAVAILABLE] ",
	    "XCLIENT ADDR=IPV6:2001:db8::7 NAME=[UNAVAILABLE]");
	/* xtext: "+" and "=" and blanks, bytes outside printable ASCII */
	line_is("LOGIN=a+b=c HELO=\"two words\" NAME=caf\xc3\xa9",
	    "XCLIENT LOGIN=a+2Bb+3Dc HELO=two+20words NAME=caf+C3+A9");
	line_is("PORT=", "XCLIENT PORT=");
	line_is("reverse_name=r.example", "XCLIENT REVERSE_NAME=r.example");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		line = smtp_xclient_line(bad[i], &err);
		if (line != NULL)
			fail_msg("\"%s\" gave \"%s\"", bad[i], line);
		assert_non_null(err);
		free(err);
	}
}

#define XCLIENT_EHLO                                                           \
	"250-mx.example\r\n"                                                   \
	"250-PIPELINING\r\n"                                                   \
	"250-XCLIENT NAME ADDR HELO\r\n"                                       \
	"250 8BITMIME\r\n"

static void
test_xclient_unlisted(void **state)
{
	struct fx *f = *state;
	char name[16];

	connect_greet(f);
	exchange(f, "EHLO client.example", XCLIENT_EHLO);
	assert_true(smtp_caps_has(smtp_session_caps(f->s), SMTP_CAP_XCLIENT));
	assert_int_equal(smtp_xclient_unlisted("ADDR=1 name=x",
	                     smtp_session_caps(f->s), name, sizeof name),
	    0);
	assert_int_equal(smtp_xclient_unlisted("ADDR=1 LOGIN=x",
	                     smtp_session_caps(f->s), name, sizeof name),
	    1);
	assert_string_equal(name, "LOGIN");
	/* The checker says so, and about a value that is no xtext. */
	rec_clear(f);
	exchange(f, "XCLIENT LOGIN=x", "501 5.5.4 Bad XCLIENT attribute\r\n");
	assert_true(has_text(f, SMTP_EV_WARNING, "does not list LOGIN"));
	rec_clear(f);
	exchange(f, "XCLIENT NAME=a=b", "501 5.5.4 bad\r\n");
	assert_true(has_text(f, SMTP_EV_WARNING, "xtext"));
}

static void
test_xclient_220_is_a_new_greeting(void **state)
{
	struct fx *f = *state;
	size_t n;

	connect_greet(f);
	exchange(f, "EHLO client.example", XCLIENT_EHLO);
	rec_clear(f);
	send_ok(f, "XCLIENT ADDR=192.0.2.7");
	assert_false(has_text(f, SMTP_EV_WARNING, ""));
	expect_output(f, "XCLIENT ADDR=192.0.2.7\r\n");
	n = smtp_session_nstages(f->s);
	check_stage(
	    stage(f, n - 1), SMTP_STAGE_XCLIENT, SMTP_ST_PENDING, 0, "");
	feed(f, "220 mx.example ESMTP as 192.0.2.7\r\n");
	/* The XCLIENT stage got its 220; a greeting row follows it. */
	assert_int_equal(smtp_session_nstages(f->s), n + 1);
	check_stage(stage(f, n - 1), SMTP_STAGE_XCLIENT, SMTP_ST_OK, 220, "");
	check_stage(stage(f, n), SMTP_STAGE_GREETING, SMTP_ST_OK, 220, "");
	assert_string_equal(stage(f, n)->command, "after XCLIENT");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_GREETED);
	assert_false(smtp_session_caps(f->s)->valid);
	/* The stage pane's meanings of the two rows. */
	assert_string_equal(
	    smtp_explain_oneline(stage(f, n - 1)->command, 220, NULL),
	    "accepted: a new greeting, EHLO again");
	assert_string_equal(smtp_explain_oneline("greeting", 220, NULL),
	    "server ready: say EHLO");
	assert_true(has_text(f, SMTP_EV_NOTE, "new greeting"));
	/* EHLO again, without a warning; MAIL before it warns. */
	rec_clear(f);
	send_ok(f, "MAIL FROM:<a@b>");
	assert_true(has_text(f, SMTP_EV_WARNING, "EHLO"));
	feed(f, "503 5.5.1 send HELO/EHLO first\r\n");
	expect_output(f, "MAIL FROM:<a@b>\r\n");
	rec_clear(f);
	exchange(f, "EHLO client.example", "250 mx.example\r\n");
	assert_int_equal(count(f, SMTP_EV_WARNING), 0);
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
}

static void
test_xclient_refused_changes_nothing(void **state)
{
	struct fx *f = *state;
	size_t n;

	connect_greet(f);
	exchange(f, "EHLO client.example", XCLIENT_EHLO);
	n = smtp_session_nstages(f->s);
	exchange(f, "XCLIENT ADDR=192.0.2.7",
	    "550 5.7.0 Authentication "
	    "required\r\n");
	assert_int_equal(smtp_session_nstages(f->s), n + 1);
	check_stage(
	    stage(f, n), SMTP_STAGE_XCLIENT, SMTP_ST_PERMFAIL, 550, "5.7.0");
	assert_int_equal(smtp_session_state(f->s), SMTP_STATE_READY);
	assert_true(smtp_session_caps(f->s)->valid);
}

/* ---- completion --------------------------------------------------------- */

static void
completes(const char *line, const struct smtp_complete_ctx *ctx,
    const char *const *want, size_t nwant)
{
	struct smtp_completion c;
	size_t i;

	smtp_complete(line, strlen(line), ctx, &c);
	if (c.nmatches != nwant)
		fail_msg(
		    "\"%s\": %zu matches, want %zu", line, c.nmatches, nwant);
	for (i = 0; i < nwant; i++)
		assert_string_equal(c.matches[i], want[i]);
	if (nwant == 1)
		assert_int_equal(c.append, 0);
	smtp_completion_free(&c);
}

static void
test_xclient_completion(void **state)
{
	struct fx *f = *state;
	struct smtp_complete_ctx ctx;
	static const struct smtp_complete_slash slash[] = {
	    {"/xclient", SMTP_COMPLETE_ARG_XCLIENT, 1}};
	static const char *const all[] = {"NAME=", "ADDR=", "HELO="};
	static const char *const a[] = {"ADDR="};
	static const char *const postfix[] = {"NAME=", "ADDR=", "PORT=",
	    "PROTO=", "HELO=", "LOGIN=", "DESTADDR=", "DESTPORT="};

	connect_greet(f);
	memset(&ctx, 0, sizeof ctx);
	ctx.slash = slash;
	ctx.nslash = 1;
	ctx.state = SMTP_STATE_GREETED;
	/* Nothing advertised yet: Postfix's attributes. */
	completes("/xclient ", &ctx, postfix, 8);
	exchange(f, "EHLO client.example", XCLIENT_EHLO);
	ctx.caps = smtp_session_caps(f->s);
	ctx.state = SMTP_STATE_READY;
	completes("/xclient ", &ctx, all, 3);
	completes("/xclient a", &ctx, a, 1);
	completes("/xclient ADDR=192.0.2.7 a", &ctx, a, 1);
	completes("XCLIENT NAME=x a", &ctx, a, 1);
	completes("xclient ", &ctx, all, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_proxy_v1_bytes),
	    cmocka_unit_test(test_proxy_v2_bytes),
	    cmocka_unit_test(test_proxy_display_round_trip),
	    cmocka_unit_test(test_proxy_refusals),
	    cmocka_unit_test(test_xclient_line),
	    cmocka_unit_test_setup_teardown(
	        test_xclient_unlisted, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_xclient_220_is_a_new_greeting, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_xclient_refused_changes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_xclient_completion, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
