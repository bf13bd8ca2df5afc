/*
 * Unit tests for protocol/txn.c (the transaction builder) and
 * protocol/xtext.c: the exact bytes of MAIL and RCPT lines for each
 * extension (SIZE, 8BITMIME, SMTPUTF8, DSN with NOTIFY, RET, ENVID in
 * xtext, ORCPT for ASCII addresses only), DSN asked of a server without
 * it, the warnings, the envelope as a list and as a cursor, DATA versus
 * BDAT and the BDAT chunk headers, the refusals, the envelope of a
 * message from the message builder (and built for the server in one
 * step), and the policy for refused recipients.
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
#include "protocol/message.h"
#include "protocol/txn.h"
#include "protocol/xtext.h"

/* ---- helpers ------------------------------------------------------- */

static void
caps_with(struct smtp_caps *caps, uint32_t flags, uint64_t size_limit)
{
	smtp_caps_reset(caps);
	caps->valid = 1;
	caps->flags = flags;
	caps->size_limit = size_limit;
}

static struct smtp_txn_msg
msg_of(const char *from, const char *const *rcpts, size_t n, uint64_t size)
{
	struct smtp_txn_msg m;

	memset(&m, 0, sizeof m);
	m.from = from;
	m.rcpts = rcpts;
	m.nrcpts = n;
	m.size = size;
	return m;
}

static struct smtp_txn *
must_new(const struct smtp_caps *caps, const struct smtp_txn_msg *m,
    const struct smtp_txn_opts *o)
{
	char *err = NULL;
	struct smtp_txn *t = smtp_txn_new(caps, m, o, &err);

	if (t == NULL)
		fail_msg("smtp_txn_new refused: %s", err);
	return t;
}

/* The envelope must be exactly want[0..n), MAIL first. */
static void
assert_envelope(const struct smtp_txn *t, const char *const *want, size_t n)
{
	const char *const *lines;
	size_t i, got;

	lines = smtp_txn_envelope(t, &got);
	assert_int_equal(got, n);
	for (i = 0; i < n; i++)
		assert_string_equal(lines[i], want[i]);
}

static const char *const one_rcpt[] = {"b@example.org"};

/* ---- xtext --------------------------------------------------------- */

static void
test_xtext_encode(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	s = smtp_xtext_encode("plain-ID.42");
	assert_string_equal(s, "plain-ID.42");
	free(s);
	s = smtp_xtext_encode("a+b=c d");
	assert_string_equal(s, "a+2Bb+3Dc+20d");
	free(s);
	s = smtp_xtext_encode("\xc3\xa9\x7f\t~!");
	assert_string_equal(s, "+C3+A9+7F+09~!");
	free(s);
	s = smtp_xtext_encode("");
	assert_string_equal(s, "");
	free(s);
	/* NUL in the middle is a byte like any other. */
	buf_init(&b, 0);
	assert_int_equal(smtp_xtext_append(&b, "a\0b", 3), 0);
	assert_int_equal(buf_used(&b), 5);
	assert_memory_equal(buf_peek(&b), "a+00b", 5);
	buf_reset(&b);
	/* A cap that cannot hold the output: -1. */
	buf_init(&b, 4);
	assert_int_equal(smtp_xtext_append(&b, "++", 2), -1);
	buf_reset(&b);
}

static void
test_xtext_valid(void **state)
{
	(void)state;
	assert_true(smtp_xtext_is_valid("", 0, SMTP_XTEXT_HEX_UPPER));
	assert_true(smtp_xtext_is_valid("abc+2Bdef", 9, SMTP_XTEXT_HEX_UPPER));
	assert_true(smtp_xtext_is_valid("~!#", 3, SMTP_XTEXT_HEX_UPPER));
	/* Lower-case hex: RFC 3461 says upper; liberal readers take it. */
	assert_false(smtp_xtext_is_valid("a+2b", 4, SMTP_XTEXT_HEX_UPPER));
	assert_true(smtp_xtext_is_valid("a+2b", 4, SMTP_XTEXT_HEX_ANY));
	assert_false(smtp_xtext_is_valid("a+2", 3, SMTP_XTEXT_HEX_ANY));
	assert_false(smtp_xtext_is_valid("a+", 2, SMTP_XTEXT_HEX_ANY));
	assert_false(smtp_xtext_is_valid("+G0", 3, SMTP_XTEXT_HEX_ANY));
	assert_false(smtp_xtext_is_valid("a=b", 3, SMTP_XTEXT_HEX_ANY));
	assert_false(smtp_xtext_is_valid("a b", 3, SMTP_XTEXT_HEX_ANY));
	assert_false(smtp_xtext_is_valid("a\x7f", 2, SMTP_XTEXT_HEX_ANY));
	assert_false(smtp_xtext_is_valid("\xc3\xa9", 2, SMTP_XTEXT_HEX_ANY));
	/* Only n bytes are read: the "+" past n does not count. */
	assert_true(smtp_xtext_is_valid("ab+", 2, SMTP_XTEXT_HEX_UPPER));
	/* What the encoder writes, the validator accepts. */
	{
		char *s = smtp_xtext_encode("x+=y \x01\xff");

		assert_true(
		    smtp_xtext_is_valid(s, strlen(s), SMTP_XTEXT_HEX_UPPER));
		free(s);
	}
}

/* ---- MAIL and RCPT ------------------------------------------------- */

static void
test_no_extensions(void **state)
{
	static const char *const want[] = {
	    "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.org>"};
	struct smtp_caps caps;
	struct smtp_txn_msg m = msg_of("a@example.org", one_rcpt, 1, 1234);
	struct smtp_txn *t;
	struct smtp_txn_data_step st;
	size_t n;

	(void)state;
	caps_with(&caps, 0, 0);
	t = must_new(&caps, &m, NULL);
	assert_envelope(t, want, 2);
	(void)smtp_txn_warnings(t, &n);
	assert_int_equal(n, 0);
	assert_int_equal(smtp_txn_warned(t), 0);
	assert_false(smtp_txn_uses_bdat(t));
	assert_int_equal(smtp_txn_data_next(t, &st), 1);
	assert_string_equal(st.line, "DATA");
	assert_true(st.last);
	assert_int_equal(smtp_txn_data_next(t, &st), 0);
	smtp_txn_free(t);

	/* After HELO (no EHLO reply) and with no caps at all: the same. */
	smtp_caps_reset(&caps);
	t = must_new(&caps, &m, NULL);
	assert_envelope(t, want, 2);
	smtp_txn_free(t);
	t = must_new(NULL, &m, NULL);
	assert_envelope(t, want, 2);
	smtp_txn_free(t);

	/* The null sender. */
	m.from = "";
	t = must_new(&caps, &m, NULL);
	assert_string_equal(smtp_txn_envelope(t, &n)[0], "MAIL FROM:<>");
	smtp_txn_free(t);
}

static void
test_size_and_body(void **state)
{
	struct smtp_caps caps;
	struct smtp_txn_msg m = msg_of("a@example.org", one_rcpt, 1, 1234);
	struct smtp_txn *t;
	size_t n;

	(void)state;
	caps_with(&caps, SMTP_CAP_SIZE, 0);
	t = must_new(&caps, &m, NULL);
	assert_string_equal(
	    smtp_txn_envelope(t, &n)[0], "MAIL FROM:<a@example.org> SIZE=1234");
	smtp_txn_free(t);

	/* A size not known: no SIZE= even when offered. */
	m.size = SMTP_TXN_SIZE_UNKNOWN;
	t = must_new(&caps, &m, NULL);
	assert_string_equal(
	    smtp_txn_envelope(t, &n)[0], "MAIL FROM:<a@example.org>");
	smtp_txn_free(t);

	m.size = 1234;
	m.body = SMTP_TXN_BODY_8BITMIME;
	caps_with(&caps, SMTP_CAP_SIZE | SMTP_CAP_8BITMIME, 0);
	t = must_new(&caps, &m, NULL);
	assert_string_equal(smtp_txn_envelope(t, &n)[0],
	    "MAIL FROM:<a@example.org> SIZE=1234 BODY=8BITMIME");
	(void)smtp_txn_warnings(t, &n);
	assert_int_equal(n, 0);
	smtp_txn_free(t);

	/* 8-bit content the server did not offer for: declared, warned. */
	caps_with(&caps, SMTP_CAP_SIZE, 0);
	t = must_new(&caps, &m, NULL);
	assert_string_equal(smtp_txn_envelope(t, &n)[0],
	    "MAIL FROM:<a@example.org> SIZE=1234 BODY=8BITMIME");
	assert_int_equal(smtp_txn_warned(t), SMTP_TXN_WARN_NO_BODY);
	smtp_txn_free(t);
}

static void
test_smtputf8(void **state)
{
	static const char *const rcpts[] = {"ü@example.org"};
	static const char *const want[] = {
	    "MAIL FROM:<jörg@bücher.example> SIZE=99 BODY=8BITMIME SMTPUTF8",
	    "RCPT TO:<ü@example.org>"};
	struct smtp_caps caps;
	struct smtp_txn_msg m = msg_of("jörg@bücher.example", rcpts, 1, 99);
	struct smtp_txn *t;
	size_t n;

	(void)state;
	m.body = SMTP_TXN_BODY_8BITMIME;
	m.smtputf8 = 1;
	caps_with(
	    &caps, SMTP_CAP_SIZE | SMTP_CAP_8BITMIME | SMTP_CAP_SMTPUTF8, 0);
	t = must_new(&caps, &m, NULL);
	assert_envelope(t, want, 2);
	(void)smtp_txn_warnings(t, &n);
	assert_int_equal(n, 0);
	smtp_txn_free(t);

	caps_with(&caps, SMTP_CAP_SIZE | SMTP_CAP_8BITMIME, 0);
	t = must_new(&caps, &m, NULL);
	assert_envelope(t, want, 2);
	assert_int_equal(smtp_txn_warned(t), SMTP_TXN_WARN_NO_SMTPUTF8);
	smtp_txn_free(t);
}

static void
test_dsn(void **state)
{
	static const char *const rcpts[] = {"b@example.org",
	    "b+tag=x@example.org", "ü@example.org", "\"a b\"@example.org"};
	static const char *const want[] = {
	    "MAIL FROM:<a@example.org> SIZE=500 RET=HDRS ENVID=QQ+203+2B4+3D7",
	    "RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;b@example.org",
	    "RCPT TO:<b+tag=x@example.org> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;b+2Btag+3Dx@example.org",
	    /* UTF-8 and quoted addresses: no rfc822 ORCPT. */
	    "RCPT TO:<ü@example.org> NOTIFY=SUCCESS,FAILURE",
	    "RCPT TO:<\"a b\"@example.org> NOTIFY=SUCCESS,FAILURE"};
	struct smtp_caps caps;
	struct smtp_txn_msg m = msg_of("a@example.org", rcpts, 4, 500);
	struct smtp_txn_opts o;
	struct smtp_txn *t;
	size_t n;

	(void)state;
	memset(&o, 0, sizeof o);
	o.notify = "success,Failure";
	o.ret = "hdrs";
	o.envid = "QQ 3+4=7";
	caps_with(&caps, SMTP_CAP_SIZE | SMTP_CAP_DSN, 0);
	t = must_new(&caps, &m, &o);
	assert_envelope(t, want, 5);
	(void)smtp_txn_warnings(t, &n);
	assert_int_equal(n, 0);
	smtp_txn_free(t);

	/* NOTIFY=NEVER alone; RET alone gives no ORCPT (no NOTIFY). */
	m.nrcpts = 1;
	memset(&o, 0, sizeof o);
	o.notify = "never";
	t = must_new(&caps, &m, &o);
	assert_string_equal(smtp_txn_envelope(t, &n)[1],
	    "RCPT TO:<b@example.org> NOTIFY=NEVER ORCPT=rfc822;b@example.org");
	smtp_txn_free(t);
	memset(&o, 0, sizeof o);
	o.ret = "FULL";
	t = must_new(&caps, &m, &o);
	assert_string_equal(smtp_txn_envelope(t, &n)[0],
	    "MAIL FROM:<a@example.org> SIZE=500 RET=FULL");
	assert_string_equal(
	    smtp_txn_envelope(t, &n)[1], "RCPT TO:<b@example.org>");
	smtp_txn_free(t);
}

static void
test_envid_outside_the_rules(void **state)
{
	struct smtp_caps caps;
	struct smtp_txn_msg m = msg_of("a@example.org", one_rcpt, 1, 10);
	struct smtp_txn_opts o;
	struct smtp_txn *t;
	const struct smtp_txn_warning *w;
	size_t n;

	(void)state;
	memset(&o, 0, sizeof o);
	o.envid = "caf\xc3\xa9=1";
	caps_with(&caps, SMTP_CAP_DSN, 0);
	t = must_new(&caps, &m, &o);
	assert_string_equal(smtp_txn_envelope(t, &n)[0],
	    "MAIL FROM:<a@example.org> ENVID=caf+C3+A9+3D1");
	w = smtp_txn_warnings(t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(w[0].kind, SMTP_TXN_WARN_ENVID);
	assert_non_null(strstr(w[0].text, "RFC 3461"));
	smtp_txn_free(t);
}

static void
test_dsn_not_offered(void **state)
{
	static const char *const want[] = {
	    "MAIL FROM:<a@example.org> SIZE=10", "RCPT TO:<b@example.org>"};
	struct smtp_caps caps;
	struct smtp_txn_msg m = msg_of("a@example.org", one_rcpt, 1, 10);
	struct smtp_txn_opts o;
	struct smtp_txn *t;
	const struct smtp_txn_warning *w;
	size_t n;

	(void)state;
	memset(&o, 0, sizeof o);
	o.notify = "SUCCESS";
	o.ret = "FULL";
	o.envid = "x y";
	caps_with(&caps, SMTP_CAP_SIZE, 0);
	t = must_new(&caps, &m, &o);
	assert_envelope(t, want, 2);
	w = smtp_txn_warnings(t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(w[0].kind, SMTP_TXN_WARN_NO_DSN);
	assert_string_equal(w[0].text,
	    "the server does not offer DSN (RFC 3461): NOTIFY, RET and "
	    "ENVID are left out");
	smtp_txn_free(t);
}

static void
test_size_limit_warning(void **state)
{
	struct smtp_caps caps;
	struct smtp_txn_msg m = msg_of("a@example.org", one_rcpt, 1, 2001);
	struct smtp_txn *t;
	const struct smtp_txn_warning *w;
	size_t n;

	(void)state;
	caps_with(&caps, SMTP_CAP_SIZE, 2000);
	t = must_new(&caps, &m, NULL);
	assert_string_equal(
	    smtp_txn_envelope(t, &n)[0], "MAIL FROM:<a@example.org> SIZE=2001");
	w = smtp_txn_warnings(t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(w[0].kind, SMTP_TXN_WARN_SIZE);
	assert_string_equal(w[0].text,
	    "the message (2001 octets) is larger than the server's SIZE "
	    "limit (2000); it will probably be refused");
	smtp_txn_free(t);
	m.size = 2000; /* at the limit: fine */
	t = must_new(&caps, &m, NULL);
	assert_int_equal(smtp_txn_warned(t), 0);
	smtp_txn_free(t);
}

/* ---- the two ways to walk the envelope ----------------------------- */

static void
test_cursor_and_list(void **state)
{
	static const char *const rcpts[] = {"b@example.org", "c@example.org"};
	struct smtp_caps caps;
	struct smtp_txn_msg m = msg_of("a@example.org", rcpts, 2, 10);
	struct smtp_txn *t;
	const char *const *lines;
	size_t n, idx = 7;

	(void)state;
	caps_with(&caps, SMTP_CAP_PIPELINING, 0);
	t = must_new(&caps, &m, NULL);
	lines = smtp_txn_envelope(t, &n);
	assert_int_equal(n, 3);
	assert_ptr_equal(smtp_txn_next_envelope(t, &idx), lines[0]);
	assert_int_equal(idx, SIZE_MAX);
	assert_string_equal(
	    smtp_txn_next_envelope(t, &idx), "RCPT TO:<b@example.org>");
	assert_int_equal(idx, 0);
	/* Asking for the list does not move the cursor. */
	(void)smtp_txn_envelope(t, &n);
	assert_string_equal(
	    smtp_txn_next_envelope(t, NULL), "RCPT TO:<c@example.org>");
	assert_null(smtp_txn_next_envelope(t, &idx));
	assert_int_equal(idx, 0); /* untouched at the end */
	assert_null(smtp_txn_next_envelope(t, NULL));
	smtp_txn_free(t);
}

/* ---- DATA or BDAT -------------------------------------------------- */

static void
expect_steps(struct smtp_txn *t, const char *const *want, size_t n)
{
	struct smtp_txn_data_step st;
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(smtp_txn_data_next(t, &st), 1);
		assert_string_equal(st.line, want[i]);
		assert_int_equal(st.last, i + 1 == n);
	}
	assert_int_equal(smtp_txn_data_next(t, &st), 0);
	assert_int_equal(smtp_txn_data_next(t, &st), 0);
}

static void
test_bdat(void **state)
{
	static const char *const s250[] = {
	    "BDAT 100", "BDAT 100", "BDAT 50 LAST"};
	static const char *const s200[] = {"BDAT 100", "BDAT 100 LAST"};
	static const char *const s0[] = {"BDAT 0 LAST"};
	static const char *const s7[] = {"BDAT 7 LAST"};
	static const char *const data[] = {"DATA"};
	struct smtp_caps caps;
	struct smtp_txn_msg m = msg_of("a@example.org", one_rcpt, 1, 250);
	struct smtp_txn_opts o;
	struct smtp_txn_data_step st;
	struct smtp_txn *t;
	char line[32];
	size_t n;

	(void)state;
	memset(&o, 0, sizeof o);
	o.bdat = 1;
	o.chunk = 100;
	caps_with(&caps, SMTP_CAP_CHUNKING, 0);
	t = must_new(&caps, &m, &o);
	assert_true(smtp_txn_uses_bdat(t));
	assert_int_equal(smtp_txn_data_next(t, &st), 1);
	assert_string_equal(st.line, "BDAT 100");
	assert_int_equal(st.octets, 100);
	assert_int_equal(smtp_txn_data_next(t, &st), 1);
	assert_int_equal(smtp_txn_data_next(t, &st), 1);
	assert_string_equal(st.line, "BDAT 50 LAST");
	assert_int_equal(st.octets, 50);
	assert_true(st.last);
	smtp_txn_free(t);
	t = must_new(&caps, &m, &o);
	expect_steps(t, s250, 3);
	smtp_txn_free(t);
	m.size = 200;
	t = must_new(&caps, &m, &o);
	expect_steps(t, s200, 2);
	smtp_txn_free(t);
	m.size = 0;
	t = must_new(&caps, &m, &o);
	expect_steps(t, s0, 1);
	smtp_txn_free(t);
	/* The default chunk is 64 KiB. */
	m.size = 7;
	o.chunk = 0;
	t = must_new(&caps, &m, &o);
	expect_steps(t, s7, 1);
	smtp_txn_free(t);
	m.size = 70000;
	t = must_new(&caps, &m, &o);
	assert_int_equal(smtp_txn_data_next(t, &st), 1);
	assert_string_equal(st.line, "BDAT 65536");
	assert_int_equal(smtp_txn_data_next(t, &st), 1);
	assert_string_equal(st.line, "BDAT 4464 LAST");
	smtp_txn_free(t);
	/* Size not known: no plan; the caller measures its chunks. */
	m.size = SMTP_TXN_SIZE_UNKNOWN;
	t = must_new(&caps, &m, &o);
	assert_true(smtp_txn_uses_bdat(t));
	assert_int_equal(smtp_txn_data_next(t, &st), 0);
	smtp_txn_free(t);
	assert_string_equal(
	    smtp_txn_bdat_line(line, sizeof line, 4096, 0), "BDAT 4096");
	assert_string_equal(
	    smtp_txn_bdat_line(line, sizeof line, 12, 1), "BDAT 12 LAST");

	/* BDAT asked, CHUNKING not offered: DATA, with a warning. */
	m.size = 250;
	caps_with(&caps, 0, 0);
	t = must_new(&caps, &m, &o);
	assert_false(smtp_txn_uses_bdat(t));
	assert_int_equal(smtp_txn_warned(t), SMTP_TXN_WARN_NO_CHUNKING);
	expect_steps(t, data, 1);
	smtp_txn_free(t);
	/* CHUNKING offered but not asked: DATA, no warning. */
	caps_with(&caps, SMTP_CAP_CHUNKING, 0);
	o.bdat = 0;
	t = must_new(&caps, &m, &o);
	assert_false(smtp_txn_uses_bdat(t));
	assert_int_equal(smtp_txn_warned(t), 0);
	smtp_txn_free(t);

	/* BINARYMIME: BODY=BINARYMIME and BDAT even when not asked. */
	m.body = SMTP_TXN_BODY_BINARYMIME;
	caps_with(&caps, SMTP_CAP_CHUNKING | SMTP_CAP_BINARYMIME, 0);
	t = must_new(&caps, &m, &o);
	assert_string_equal(smtp_txn_envelope(t, &n)[0],
	    "MAIL FROM:<a@example.org> BODY=BINARYMIME");
	assert_true(smtp_txn_uses_bdat(t));
	assert_int_equal(smtp_txn_warned(t), 0);
	smtp_txn_free(t);
	caps_with(&caps, 0, 0);
	t = must_new(&caps, &m, &o);
	assert_true(smtp_txn_uses_bdat(t));
	assert_int_equal(smtp_txn_warned(t),
	    SMTP_TXN_WARN_NO_BODY | SMTP_TXN_WARN_NO_CHUNKING);
	smtp_txn_free(t);
}

/* ---- refusals ------------------------------------------------------ */

static void
expect_refused(const struct smtp_txn_msg *m, const struct smtp_txn_opts *o,
    const char *needle)
{
	struct smtp_caps caps;
	char *err = NULL;

	caps_with(&caps, SMTP_CAP_DSN, 0);
	assert_null(smtp_txn_new(&caps, m, o, &err));
	assert_non_null(err);
	if (strstr(err, needle) == NULL)
		fail_msg("\"%s\" not in \"%s\"", needle, err);
	free(err);
}

static void
test_refusals(void **state)
{
	static const char *const crlf[] = {"b@example.org\r\nDATA"};
	static const char *const angle[] = {"b@example.org> NOTIFY=NEVER"};
	static const char *const empty[] = {""};
	struct smtp_txn_msg m = msg_of("a@example.org", one_rcpt, 0, 10);
	struct smtp_txn_opts o;

	(void)state;
	memset(&o, 0, sizeof o);
	expect_refused(&m, &o, "no recipient");
	m.nrcpts = 1;
	m.from = NULL;
	expect_refused(&m, &o, "no sender");
	m.from = "a@example.org\r\nRSET";
	expect_refused(&m, &o, "sender address holds a control");
	m.from = "a@example.org";
	m.rcpts = crlf;
	expect_refused(&m, &o, "recipient address holds a control");
	m.rcpts = angle;
	expect_refused(&m, &o, "angle bracket");
	m.rcpts = empty;
	expect_refused(&m, &o, "no recipient address");
	m.rcpts = one_rcpt;
	o.notify = "SOMETIMES";
	expect_refused(&m, &o, "NOTIFY wants");
	o.notify = "SUCCESS NOTIFY=NEVER";
	expect_refused(&m, &o, "NOTIFY wants");
	o.notify = NULL;
	o.ret = "ALL";
	expect_refused(&m, &o, "RET wants FULL or HDRS");
}

static void
test_opts_check(void **state)
{
	struct smtp_txn_opts o;
	char longid[102];

	(void)state;
	memset(&o, 0, sizeof o);
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_OK);
	o.notify = "NEVER";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_OK);
	o.notify = "delay,SUCCESS,failure";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_OK);
	o.notify = "SUCCESS,";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_BAD_NOTIFY);
	o.notify = ",SUCCESS";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_BAD_NOTIFY);
	o.notify = "";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_BAD_NOTIFY);
	o.notify = "NEVER,SUCCESS";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_BAD_NOTIFY);
	o.notify = NULL;
	o.ret = "hdrs";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_OK);
	o.ret = "HEADERS";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_BAD_RET);
	o.ret = NULL;
	o.envid = "";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_BAD_ENVID_EMPTY);
	o.envid = "caf\xc3\xa9";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_BAD_ENVID_CHARS);
	o.envid = "a\tb";
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_BAD_ENVID_CHARS);
	memset(longid, 'x', 101);
	longid[101] = '\0';
	o.envid = longid;
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_BAD_ENVID_LONG);
	longid[100] = '\0';
	assert_int_equal(smtp_txn_opts_check(&o), SMTP_TXN_OK);
}

/* ---- from the message builder -------------------------------------- */

static void
test_from_message_info(void **state)
{
	static const char *const to[] = {"Bea <b@example.org>"};
	static const char *const bcc[] = {"c@example.org, b@example.org"};
	struct smtp_message msg;
	struct smtp_message_opts mo;
	struct smtp_message_build *b;
	const struct smtp_message_info *info;
	struct smtp_txn_msg m;
	struct smtp_txn_opts o;
	struct smtp_caps caps;
	struct smtp_txn *t;
	char *err = NULL, want[128];
	size_t n;

	(void)state;
	smtp_message_init(&msg);
	msg.from = "Ann <a@example.org>";
	msg.to.v = to;
	msg.to.n = 1;
	msg.bcc.v = bcc;
	msg.bcc.n = 1;
	msg.body_mem = "gr\xc3\xbc\xc3\x9f dich\n";
	msg.body_len = strlen(msg.body_mem);
	memset(&mo, 0, sizeof mo);
	mo.can_8bitmime = 1;
	mo.date = 1700000000;
	mo.date_utc = 1;
	mo.message_id = "<fixed@example.org>";
	b = smtp_message_build_new(&msg, &mo, &err);
	assert_non_null(b);
	info = smtp_message_build_info(b);
	smtp_txn_msg_from_info(&m, info);
	memset(&o, 0, sizeof o);
	o.notify = "FAILURE";
	caps_with(&caps, SMTP_CAP_SIZE | SMTP_CAP_8BITMIME | SMTP_CAP_DSN, 0);
	t = must_new(&caps, &m, &o);
	(void)snprintf(want, sizeof want,
	    "MAIL FROM:<a@example.org> SIZE=%llu BODY=8BITMIME",
	    (unsigned long long)info->size);
	assert_string_equal(smtp_txn_envelope(t, &n)[0], want);
	assert_int_equal(n, 3); /* b once, then c */
	assert_string_equal(smtp_txn_envelope(t, &n)[1],
	    "RCPT TO:<b@example.org> NOTIFY=FAILURE "
	    "ORCPT=rfc822;b@example.org");
	assert_string_equal(smtp_txn_envelope(t, &n)[2],
	    "RCPT TO:<c@example.org> NOTIFY=FAILURE "
	    "ORCPT=rfc822;c@example.org");
	smtp_txn_free(t);
	smtp_message_build_free(b);
}

/*
 * smtp_txn_compose: the message is built for the server (8-bit text
 * only with 8BITMIME) and the envelope follows from it.
 */
static void
test_compose(void **state)
{
	static const char *const to[] = {"b@example.org"};
	struct smtp_message msg;
	struct smtp_message_build *b = NULL;
	const struct smtp_message_info *info;
	struct smtp_caps caps;
	struct smtp_txn *t;
	char *err = NULL, want[96];
	size_t n;

	(void)state;
	smtp_message_init(&msg);
	msg.from = "a@example.org";
	msg.to.v = to;
	msg.to.n = 1;
	msg.body_mem = "gr\xc3\xbc\xc3\x9f\n";
	msg.body_len = strlen(msg.body_mem);
	caps_with(&caps, SMTP_CAP_8BITMIME | SMTP_CAP_SIZE, 0);
	t = smtp_txn_compose(&caps, &msg, NULL, &b, &err);
	assert_non_null(t);
	info = smtp_message_build_info(b);
	assert_int_equal(info->body_cte, SMTP_CTE_8BIT);
	(void)snprintf(want, sizeof want,
	    "MAIL FROM:<a@example.org> SIZE=%llu BODY=8BITMIME",
	    (unsigned long long)info->size);
	assert_string_equal(smtp_txn_envelope(t, &n)[0], want);
	smtp_txn_free(t);
	smtp_message_build_free(b);
	/* No 8BITMIME: quoted-printable, no BODY=. */
	caps_with(&caps, 0, 0);
	t = smtp_txn_compose(&caps, &msg, NULL, &b, &err);
	assert_non_null(t);
	assert_int_equal(smtp_message_build_info(b)->body_cte, SMTP_CTE_QP);
	assert_string_equal(
	    smtp_txn_envelope(t, &n)[0], "MAIL FROM:<a@example.org>");
	smtp_txn_free(t);
	smtp_message_build_free(b);
	/* A message that cannot be built: NULL, no builder, why. */
	msg.from = NULL;
	assert_null(smtp_txn_compose(&caps, &msg, NULL, &b, &err));
	assert_null(b);
	assert_non_null(err);
	free(err);
}

/* The refused-recipient policy: all or nothing unless partial. */
static void
test_after_envelope(void **state)
{
	static const char *const three[] = {
	    "a@example.org", "b@example.org", "c@example.org"};
	static const int all_ok[] = {250, 251, 250};
	static const int one_bad[] = {250, 550, 250};
	static const int none[] = {550, 450, 553};
	static const int unsent[] = {0, 0, 0};
	struct smtp_txn_msg m = msg_of("s@example.org", three, 3, 10);
	struct smtp_txn_opts o;
	struct smtp_txn *t;
	size_t ok = 99;

	(void)state;
	memset(&o, 0, sizeof o);
	t = must_new(NULL, &m, &o);
	assert_int_equal(
	    smtp_txn_after_envelope(t, 250, all_ok, &ok), SMTP_TXN_NEXT_DATA);
	assert_int_equal(ok, 3);
	assert_int_equal(smtp_txn_after_envelope(t, 250, one_bad, &ok),
	    SMTP_TXN_NEXT_REFUSED);
	assert_int_equal(ok, 2);
	assert_int_equal(
	    smtp_txn_after_envelope(t, 250, none, &ok), SMTP_TXN_NEXT_NO_RCPT);
	assert_int_equal(ok, 0);
	assert_int_equal(smtp_txn_after_envelope(t, 550, unsent, &ok),
	    SMTP_TXN_NEXT_NO_SENDER);
	assert_int_equal(
	    smtp_txn_after_envelope(t, 250, all_ok, NULL), SMTP_TXN_NEXT_DATA);
	smtp_txn_free(t);
	o.partial = 1;
	t = must_new(NULL, &m, &o);
	assert_int_equal(
	    smtp_txn_after_envelope(t, 250, one_bad, &ok), SMTP_TXN_NEXT_DATA);
	assert_int_equal(ok, 2);
	assert_int_equal(
	    smtp_txn_after_envelope(t, 250, none, &ok), SMTP_TXN_NEXT_NO_RCPT);
	assert_int_equal(smtp_txn_after_envelope(t, 503, one_bad, &ok),
	    SMTP_TXN_NEXT_NO_SENDER);
	smtp_txn_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xtext_encode),
	    cmocka_unit_test(test_xtext_valid),
	    cmocka_unit_test(test_no_extensions),
	    cmocka_unit_test(test_size_and_body),
	    cmocka_unit_test(test_smtputf8),
	    cmocka_unit_test(test_dsn),
	    cmocka_unit_test(test_envid_outside_the_rules),
	    cmocka_unit_test(test_dsn_not_offered),
	    cmocka_unit_test(test_size_limit_warning),
	    cmocka_unit_test(test_cursor_and_list),
	    cmocka_unit_test(test_bdat),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_opts_check),
	    cmocka_unit_test(test_from_message_info),
	    cmocka_unit_test(test_compose),
	    cmocka_unit_test(test_after_envelope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
