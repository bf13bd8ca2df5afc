/*
 * Unit tests for protocol/session.c, STARTTLS and AUTH: the upgrade, a
 * command injected after STARTTLS (also split across the CRLF), a
 * refused STARTTLS, AUTH PLAIN with an initial response and after 334,
 * LOGIN typed by hand, AUTH without a mechanism, secrets sent without
 * being shown, secrets a server echoes masked in every line and reply,
 * and when credentials are refused without TLS.  The fixture:
 * session_fixture.h.
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

/* ---- secrets a server echoes ------------------------------------------ */

#define MASKED "[secret removed]"

/* No event and no stage shows needle; "[secret removed]" was shown. */
static void
check_masked(const struct fx *f, const char *needle)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		assert_null(strstr(f->ev[i].text, needle));
	for (i = 0; i < smtp_session_nstages(f->s); i++)
		assert_null(
		    strstr(stage(f, i)->text != NULL ? stage(f, i)->text : "",
		        needle));
	assert_true(has_text(f, SMTP_EV_LINE, MASKED));
}

static void
test_echoed_secret_masked(void **state)
{
	struct fx *f = *state;
	const struct smtp_stage *st;

	connect_ehlo(f);
	send_ok(f, "AUTH PLAIN " PLAIN_B64);
	expect_output(f, "AUTH PLAIN " PLAIN_B64 "\r\n");
	feed(f,
	    "535-5.7.8 you sent AUTH PLAIN " PLAIN_B64 "\r\n"
	    "535 5.7.8 unpadded AGFsaWNlAHNlY3JldA, plain secret\r\n");
	check_masked(f, PLAIN_B64);
	check_masked(f, "AGFsaWNlAHNlY3JldA");
	check_masked(f, "secret,");
	st = last_stage(f);
	check_stage(st, SMTP_STAGE_AUTH, SMTP_ST_PERMFAIL, 535, "5.7.8");
	assert_string_equal(st->text, "you sent AUTH PLAIN " MASKED);
	/* The rest of the text, the user name included, is left alone. */
	assert_true(has_text(f, SMTP_EV_LINE, "unpadded " MASKED ", plain "));
	exchange(f, "NOOP", "250 alice is fine\r\n");
	assert_string_equal(last_stage(f)->text, "alice is fine");
}

static void
test_echoed_login_and_added_secret(void **state)
{
	struct fx *f = *state;
	char *err = NULL;

	connect_ehlo(f);
	exchange(f, "AUTH LOGIN", "334 VXNlcm5hbWU6\r\n");
	send_ok(f, "YWxpY2U="); /* "alice" */
	feed(f, "334 UGFzc3dvcmQ6\r\n");
	send_ok(f, "aHVudGVyMg=="); /* "hunter2" */
	feed(f, "535 5.7.8 user YWxpY2U= pass aHVudGVyMg== hunter2\r\n");
	check_masked(f, "YWxpY2U");
	check_masked(f, "aHVudGVyMg");
	check_masked(f, "hunter2");
	/* A secret a front end knows, and its base64, from now on. */
	smtp_session_secret_add(f->s, "Tok3n-xyz", 9);
	assert_int_equal(smtp_session_send_secret(f->s,
	                     "AUTH XOAUTH2 eA==", "AUTH XOAUTH2 [token]", &err),
	    0);
	feed(f, "535 5.7.8 Tok3n-xyz VG9rM24teHl6 VG9rM24teHl6\r\n");
	check_masked(f, "Tok3n");
	check_masked(f, "VG9rM24teHl6");
	/* The verb and the mechanism are no secrets. */
	assert_int_equal(
	    smtp_session_send_secret(f->s, "AUTH", "AUTH", &err), 0);
	feed(f, "501 5.5.4 AUTH needs PLAIN or LOGIN\r\n");
	assert_string_equal(last_stage(f)->text, "AUTH needs PLAIN or LOGIN");
}

/* ---- credentials without TLS ----------------------------------------- */

static void
ignore_event(const struct smtp_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

static void
test_auth_refusal(void **state)
{
	struct fx *f = *state;
	struct smtp_session *lo;
	char *why;

	/* Not connected: nothing to refuse yet (sending says so). */
	assert_null(smtp_session_auth_refusal(f->s));
	/* Plain text to a non-loopback address: refused, says how. */
	connect_ehlo(f);
	why = smtp_session_auth_refusal(f->s);
	assert_non_null(why);
	assert_non_null(strstr(why, "192.0.2.25:25"));
	assert_non_null(strstr(why, "--allow-plaintext-auth"));
	free(why);
	smtp_session_allow_plaintext_auth(f->s);
	assert_null(smtp_session_auth_refusal(f->s));

	/* Loopback is allowed, unless the server was seen downgraded. */
	lo = smtp_session_new(ignore_event, NULL);
	smtp_session_connected(lo, "127.0.0.1:2525");
	assert_null(smtp_session_auth_refusal(lo));
	smtp_session_set_downgraded(lo);
	why = smtp_session_auth_refusal(lo);
	assert_non_null(why);
	assert_non_null(strstr(why, "STARTTLS downgrade"));
	assert_non_null(strstr(why, "--allow-plaintext-auth"));
	free(why);
	smtp_session_allow_plaintext_auth(lo);
	assert_null(smtp_session_auth_refusal(lo));
	smtp_session_free(lo);

	lo = smtp_session_new(ignore_event, NULL);
	smtp_session_connected(lo, "[::1]:25");
	assert_null(smtp_session_auth_refusal(lo));
	smtp_session_free(lo);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_starttls),
	    T(test_starttls_injection),
	    T(test_starttls_injection_split_crlf),
	    T(test_starttls_refused),
	    T(test_auth_plain_initial_response),
	    T(test_auth_plain_after_334),
	    T(test_auth_login_by_hand),
	    T(test_auth_without_mechanism),
	    T(test_send_secret),
	    T(test_echoed_secret_masked),
	    T(test_echoed_login_and_added_secret),
	    T(test_auth_refusal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
