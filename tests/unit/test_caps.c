/*
 * Unit tests for protocol/caps.c: EHLO capabilities, from a realistic
 * Postfix reply to hostile ones.  Replies are built by feeding wire bytes
 * through the reply parser, so the caps code sees exactly what the
 * session will hand it.
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
#include "protocol/reply.h"

static const char postfix_ehlo[] = "250-mail.example\r\n"
                                   "250-PIPELINING\r\n"
                                   "250-SIZE 10240000\r\n"
                                   "250-VRFY\r\n"
                                   "250-ETRN\r\n"
                                   "250-STARTTLS\r\n"
                                   "250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
                                   "250-ENHANCEDSTATUSCODES\r\n"
                                   "250-8BITMIME\r\n"
                                   "250-DSN\r\n"
                                   "250-SMTPUTF8\r\n"
                                   "250 CHUNKING\r\n";

struct parse {
	struct smtp_caps *caps;
	int rc;
	int nreply;
};

static void
parse_cb(const struct smtp_reply_event *ev, void *arg)
{
	struct parse *ps = arg;

	if (ev->type == SMTP_REPLY_EV_REPLY) {
		ps->rc = smtp_caps_parse(ps->caps, ev->reply);
		ps->nreply++;
	}
}

/* Parses the reply in wire[0..n) into caps; returns smtp_caps_parse(). */
static int
caps_from_wire(struct smtp_caps *caps, const char *wire, size_t n)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	struct parse ps = {caps, -2, 0};

	smtp_reply_parser_feed(p, wire, n, parse_cb, &ps);
	smtp_reply_parser_free(p);
	assert_int_equal(ps.nreply, 1);
	return ps.rc;
}

static int
caps_from_str(struct smtp_caps *caps, const char *wire)
{
	return caps_from_wire(caps, wire, strlen(wire));
}

static void
test_postfix(void **state)
{
	struct smtp_caps caps;
	const struct smtp_cap *c;

	(void)state;
	assert_int_equal(caps_from_str(&caps, postfix_ehlo), 0);
	assert_int_equal(caps.valid, 1);
	assert_string_equal(caps.domain, "mail.example");
	assert_int_equal(caps.flags,
	    SMTP_CAP_PIPELINING | SMTP_CAP_SIZE | SMTP_CAP_VRFY |
	        SMTP_CAP_ETRN | SMTP_CAP_STARTTLS | SMTP_CAP_AUTH |
	        SMTP_CAP_ENHANCEDSTATUSCODES | SMTP_CAP_8BITMIME |
	        SMTP_CAP_DSN | SMTP_CAP_SMTPUTF8 | SMTP_CAP_CHUNKING);
	assert_true(caps.size_limit == 10240000);
	assert_int_equal(caps.nauth, 3);
	assert_string_equal(caps.auth[0], "PLAIN");
	assert_string_equal(caps.auth[1], "LOGIN");
	assert_string_equal(caps.auth[2], "CRAM-MD5");
	assert_int_equal(caps.ncaps, 11);
	assert_string_equal(caps.caps[0].keyword, "PIPELINING");
	assert_string_equal(caps.caps[0].params, "");
	assert_string_equal(caps.caps[10].keyword, "CHUNKING");
	assert_int_equal(caps.ignored, 0);

	c = smtp_caps_find(&caps, "auth");
	assert_non_null(c);
	assert_string_equal(c->params, "PLAIN LOGIN CRAM-MD5");
	c = smtp_caps_find(&caps, "Size");
	assert_non_null(c);
	assert_string_equal(c->params, "10240000");
	assert_null(smtp_caps_find(&caps, "BINARYMIME"));
	assert_null(smtp_caps_find(&caps, "mail.example"));

	assert_true(smtp_caps_has(&caps, SMTP_CAP_STARTTLS));
	assert_false(smtp_caps_has(&caps, SMTP_CAP_BINARYMIME));
	assert_false(smtp_caps_has(&caps, SMTP_CAP_EXPN));
	assert_true(smtp_caps_has_auth(&caps, "cram-md5"));
	assert_true(smtp_caps_has_auth(&caps, "PLAIN"));
	assert_false(smtp_caps_has_auth(&caps, "XOAUTH2"));
	assert_false(smtp_caps_has_auth(&caps, "PLAI"));
}

static void
test_domain(void **state)
{
	struct smtp_caps caps;
	char *wire, *big;

	(void)state;
	caps_from_str(&caps,
	    "250-mx.example.org Hello client [192.0.2.1]\r\n"
	    "250 HELP\r\n");
	assert_string_equal(caps.domain, "mx.example.org");
	assert_true(smtp_caps_has(&caps, SMTP_CAP_HELP));

	caps_from_str(&caps, "250-mx\x1b[31m.example\x7f\r\n250 HELP\r\n");
	assert_string_equal(caps.domain, "mx?[31m.example?");

	/* A single-line reply (as to HELO) has a domain and no keywords. */
	caps_from_str(&caps, "250 mail.example\r\n");
	assert_int_equal(caps.valid, 1);
	assert_string_equal(caps.domain, "mail.example");
	assert_int_equal(caps.ncaps, 0);
	assert_int_equal(caps.flags, 0);

	big = xmalloc(2001);
	memset(big, 'd', 2000);
	big[2000] = '\0';
	wire = xasprintf("250-%s\r\n250 PIPELINING\r\n", big);
	caps_from_str(&caps, wire);
	assert_int_equal(strlen(caps.domain), sizeof caps.domain - 1);
	assert_true(smtp_caps_has(&caps, SMTP_CAP_PIPELINING));
	free(wire);
	free(big);
}

static void
test_size(void **state)
{
	struct smtp_caps caps;

	(void)state;
	caps_from_str(&caps, "250-x\r\n250 SIZE\r\n");
	assert_true(smtp_caps_has(&caps, SMTP_CAP_SIZE));
	assert_true(caps.size_limit == 0);
	caps_from_str(&caps, "250-x\r\n250 SIZE 0\r\n");
	assert_true(caps.size_limit == 0);
	caps_from_str(&caps, "250-x\r\n250 size 52428800\r\n");
	assert_true(caps.size_limit == 52428800);
	assert_string_equal(caps.caps[0].keyword, "SIZE");
	caps_from_str(&caps, "250-x\r\n250 SIZE 18446744073709551615\r\n");
	assert_true(caps.size_limit == UINT64_MAX);
	/* Absurd or malformed values mean "no limit stated". */
	caps_from_str(&caps, "250-x\r\n250 SIZE 18446744073709551616\r\n");
	assert_true(caps.size_limit == 0);
	assert_true(smtp_caps_has(&caps, SMTP_CAP_SIZE));
	caps_from_str(&caps,
	    "250-x\r\n250 SIZE 999999999999999999999999999999999999\r\n");
	assert_true(caps.size_limit == 0);
	caps_from_str(&caps, "250-x\r\n250 SIZE -5\r\n");
	assert_true(caps.size_limit == 0);
	caps_from_str(&caps, "250-x\r\n250 SIZE 12abc\r\n");
	assert_true(caps.size_limit == 0);
	caps_from_str(&caps, "250-x\r\n250 SIZE 1 2\r\n");
	assert_true(caps.size_limit == 0);
}

static void
test_auth_forms(void **state)
{
	struct smtp_caps caps;

	(void)state;
	/* The pre-RFC form alone. */
	caps_from_str(&caps, "250-x\r\n250-AUTH=LOGIN PLAIN\r\n250 HELP\r\n");
	assert_true(smtp_caps_has(&caps, SMTP_CAP_AUTH));
	assert_int_equal(caps.nauth, 2);
	assert_string_equal(caps.auth[0], "LOGIN");
	assert_string_equal(caps.auth[1], "PLAIN");
	assert_string_equal(caps.caps[0].keyword, "AUTH");
	assert_string_equal(caps.caps[0].params, "LOGIN PLAIN");
	assert_int_equal(caps.ignored, 0);

	/* Both forms, as Postfix sends with broken_sasl_auth_clients. */
	caps_from_str(&caps,
	    "250-x\r\n250-AUTH PLAIN LOGIN\r\n"
	    "250-AUTH=plain login XOAUTH2\r\n250 8BITMIME\r\n");
	assert_int_equal(caps.ncaps, 2);
	assert_int_equal(caps.nauth, 3);
	assert_string_equal(caps.auth[2], "XOAUTH2");
	assert_int_equal(caps.ignored, 0);
	assert_true(smtp_caps_has(&caps, SMTP_CAP_8BITMIME));

	/* Junk names are skipped, lower case is upper-cased. */
	caps_from_str(&caps,
	    "250-x\r\n250 AUTH plain PL@IN "
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
	    "SCRAM-SHA-256 GSS_API  \x01 digest-md5\r\n");
	assert_int_equal(caps.nauth, 4);
	assert_string_equal(caps.auth[0], "PLAIN");
	assert_string_equal(caps.auth[1], "SCRAM-SHA-256");
	assert_string_equal(caps.auth[2], "GSS_API");
	assert_string_equal(caps.auth[3], "DIGEST-MD5");

	/* AUTH with no mechanisms still advertises the extension. */
	caps_from_str(&caps, "250-x\r\n250 AUTH\r\n");
	assert_true(smtp_caps_has(&caps, SMTP_CAP_AUTH));
	assert_int_equal(caps.nauth, 0);
}

static void
test_hostile_auth_count(void **state)
{
	struct smtp_caps caps;
	struct buf b;
	int i;

	(void)state;
	buf_init(&b, 0);
	buf_add_str(&b, "250-x\r\n250 AUTH");
	for (i = 0; i < 500; i++)
		buf_add_printf(&b, " MECH%d", i);
	buf_add_str(&b, "\r\n");
	caps_from_wire(&caps, buf_peek(&b), buf_used(&b));
	assert_int_equal(caps.nauth, SMTP_AUTH_MECHS_MAX);
	assert_string_equal(caps.auth[0], "MECH0");
	assert_string_equal(caps.auth[SMTP_AUTH_MECHS_MAX - 1], "MECH15");
	assert_false(smtp_caps_has_auth(&caps, "MECH16"));
	/* The parameters are kept, truncated to the slot. */
	assert_int_equal(strlen(caps.caps[0].params), SMTP_CAP_PARAMS_MAX - 1);
	assert_memory_equal(caps.caps[0].params, "MECH0 MECH1 ", 12);
	buf_reset(&b);
}

static void
test_hostile_keywords(void **state)
{
	struct smtp_caps caps;
	struct buf b;
	char kw[SMTP_CAP_KEYWORD_MAX + 1];
	int i;

	(void)state;
	buf_init(&b, 0);
	buf_add_str(&b, "250-x\r\n250-");
	for (i = 0; i < 10000; i++)
		buf_add_str(&b, "K");
	buf_add_str(&b, " param\r\n");
	/* Longest keyword that fits, and one byte more. */
	memset(kw, 'Q', sizeof kw);
	kw[SMTP_CAP_KEYWORD_MAX - 1] = '\0';
	buf_add_printf(&b, "250-%s\r\n", kw);
	kw[SMTP_CAP_KEYWORD_MAX - 1] = 'Q';
	kw[SMTP_CAP_KEYWORD_MAX] = '\0';
	buf_add_printf(&b, "250-%s\r\n", kw);
	buf_add_str(&b,
	    "250-PIPE_LINING\r\n"
	    "250--DASH\r\n"
	    "250-\r\n"
	    "250- STARTTLS\r\n"
	    "250-SIZE=100\r\n"
	    "250-8BITMIME\x01\r\n"
	    "250-x-vendor-ext some\x1b[2Jparams\x80\xff\r\n"
	    "250-PIPELINING\r\n"
	    "250-pipelining\r\n"
	    "250 DSN\r\n");
	caps_from_wire(&caps, buf_peek(&b), buf_used(&b));
	/* 10000 Ks, 64 Qs, PIPE_LINING, -DASH, empty, " STARTTLS",
	 * SIZE=100, 8BITMIME^A and the duplicate pipelining. */
	assert_int_equal(caps.ignored, 9);
	assert_int_equal(caps.ncaps, 4);
	assert_int_equal(
	    strlen(caps.caps[0].keyword), SMTP_CAP_KEYWORD_MAX - 1);
	assert_string_equal(caps.caps[1].keyword, "X-VENDOR-EXT");
	assert_string_equal(caps.caps[1].params, "some?[2Jparams??");
	assert_string_equal(caps.caps[2].keyword, "PIPELINING");
	assert_string_equal(caps.caps[3].keyword, "DSN");
	assert_int_equal(caps.flags, SMTP_CAP_PIPELINING | SMTP_CAP_DSN);
	buf_reset(&b);
}

static void
test_hostile_nul(void **state)
{
	struct smtp_caps caps;
	static const char wire[] = "250-x\0y\r\n"
	                           "250-STARTTLS\0\r\n"
	                           "250 SIZE 1\0002\r\n";

	(void)state;
	caps_from_wire(&caps, wire, sizeof wire - 1);
	assert_string_equal(caps.domain, "x?y");
	assert_false(smtp_caps_has(&caps, SMTP_CAP_STARTTLS));
	assert_true(smtp_caps_has(&caps, SMTP_CAP_SIZE));
	assert_true(caps.size_limit == 0);
	assert_string_equal(caps.caps[0].params, "1?2");
	assert_int_equal(caps.ignored, 1);
}

static void
test_too_many_keywords(void **state)
{
	struct smtp_caps caps;
	struct buf b;
	int i;

	(void)state;
	buf_init(&b, 0);
	buf_add_str(&b, "250-x\r\n");
	for (i = 0; i < 100; i++)
		buf_add_printf(&b, "250-X-EXT%d\r\n", i);
	buf_add_str(&b, "250 STARTTLS\r\n");
	caps_from_wire(&caps, buf_peek(&b), buf_used(&b));
	assert_int_equal(caps.ncaps, SMTP_CAPS_MAX);
	assert_int_equal(caps.ignored, 101 - SMTP_CAPS_MAX);
	assert_string_equal(caps.caps[SMTP_CAPS_MAX - 1].keyword, "X-EXT63");
	/* Dropped means dropped: the flag and the entry agree. */
	assert_false(smtp_caps_has(&caps, SMTP_CAP_STARTTLS));
	assert_null(smtp_caps_find(&caps, "STARTTLS"));
	buf_reset(&b);
}

static void
test_not_2xx(void **state)
{
	struct smtp_caps caps;

	(void)state;
	assert_int_equal(caps_from_str(&caps, postfix_ehlo), 0);
	assert_int_equal(caps_from_str(&caps,
	                     "502 5.5.2 Error: command not "
	                     "recognized\r\n"),
	    -1);
	assert_int_equal(caps.valid, 0);
	assert_int_equal(caps.flags, 0);
	assert_int_equal(caps.ncaps, 0);
	assert_int_equal(caps.nauth, 0);
	assert_string_equal(caps.domain, "");

	assert_int_equal(caps_from_str(&caps, "421-x\r\n421 STARTTLS\r\n"), -1);
	assert_false(smtp_caps_has(&caps, SMTP_CAP_STARTTLS));
	assert_int_equal(smtp_caps_parse(&caps, NULL), -1);
}

static void
test_replace_and_reset(void **state)
{
	struct smtp_caps caps;

	(void)state;
	caps_from_str(&caps, postfix_ehlo);
	/* After STARTTLS the new EHLO reply replaces the old set. */
	caps_from_str(&caps, "250-mail.example\r\n250 SIZE 100\r\n");
	assert_int_equal(caps.flags, SMTP_CAP_SIZE);
	assert_int_equal(caps.ncaps, 1);
	assert_int_equal(caps.nauth, 0);
	assert_true(caps.size_limit == 100);
	smtp_caps_reset(&caps);
	assert_int_equal(caps.valid, 0);
	assert_int_equal(caps.flags, 0);
	assert_int_equal(caps.ncaps, 0);
	assert_true(caps.size_limit == 0);
}

static void
test_flag_names(void **state)
{
	(void)state;
	assert_int_equal(smtp_caps_flag("STARTTLS"), SMTP_CAP_STARTTLS);
	assert_int_equal(smtp_caps_flag("starttls"), SMTP_CAP_STARTTLS);
	assert_int_equal(smtp_caps_flag("8BITMIME"), SMTP_CAP_8BITMIME);
	assert_int_equal(smtp_caps_flag("EnhancedStatusCodes"),
	    SMTP_CAP_ENHANCEDSTATUSCODES);
	assert_int_equal(smtp_caps_flag("BINARYMIME"), SMTP_CAP_BINARYMIME);
	assert_int_equal(smtp_caps_flag("DELIVERBY"), SMTP_CAP_DELIVERBY);
	assert_int_equal(smtp_caps_flag("REQUIRETLS"), SMTP_CAP_REQUIRETLS);
	assert_int_equal(smtp_caps_flag("X-UNKNOWN"), 0);
	assert_int_equal(smtp_caps_flag("STARTTLSX"), 0);
	assert_int_equal(smtp_caps_flag("START"), 0);
	assert_int_equal(smtp_caps_flag(""), 0);
	assert_int_equal(smtp_caps_flag(NULL), 0);
	assert_false(smtp_caps_has(NULL, SMTP_CAP_SIZE));
	assert_false(smtp_caps_has_auth(NULL, "PLAIN"));
	assert_null(smtp_caps_find(NULL, "SIZE"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_postfix),
	    cmocka_unit_test(test_domain),
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_auth_forms),
	    cmocka_unit_test(test_hostile_auth_count),
	    cmocka_unit_test(test_hostile_keywords),
	    cmocka_unit_test(test_hostile_nul),
	    cmocka_unit_test(test_too_many_keywords),
	    cmocka_unit_test(test_not_2xx),
	    cmocka_unit_test(test_replace_and_reset),
	    cmocka_unit_test(test_flag_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
