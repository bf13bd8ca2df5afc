/*
 * Unit tests for protocol/sasl.c: the exact bytes each mechanism sends,
 * checked against the RFCs' own examples (RFC 2195 CRAM-MD5, RFC 4616
 * PLAIN) and known XOAUTH2/LOGIN encodings; the display forms, which must
 * never carry a secret or its base64; the redaction of hand-typed lines;
 * and base64 edge cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "protocol/sasl.h"

#define M SASL_MASK

/* Runs sasl_client_step on a C-string challenge; expects success. */
static void
step_ok(struct sasl_client *c, const char *challenge, const char *wire_want,
    const char *display_want)
{
	char *wire = NULL, *display = NULL, *err = NULL;

	assert_int_equal(sasl_client_step(c, challenge, strlen(challenge),
	                     &wire, &display, &err),
	    0);
	assert_null(err);
	assert_string_equal(wire, wire_want);
	assert_string_equal(display, display_want);
	secret_free_str(wire);
	free(display);
}

/* Expects sasl_client_step to fail with a message. */
static void
step_fails(struct sasl_client *c, const char *challenge)
{
	char *wire = NULL, *display = NULL, *err = NULL;

	assert_int_equal(sasl_client_step(c, challenge, strlen(challenge),
	                     &wire, &display, &err),
	    -1);
	assert_non_null(err);
	assert_true(strlen(err) > 0);
	assert_null(wire);
	assert_null(display);
	free(err);
}

static void
start_ok(struct sasl_client *c, int ir, const char *wire_want,
    const char *display_want)
{
	char *wire = NULL, *display = NULL;

	assert_int_equal(sasl_client_start(c, ir, &wire, &display, NULL), 0);
	assert_string_equal(wire, wire_want);
	assert_string_equal(display, display_want);
	secret_free_str(wire);
	free(display);
}

static struct sasl_client *
client(const char *mech, const char *user, const char *secret)
{
	char *err = NULL;
	struct sasl_client *c = sasl_client_new(mech, user, secret, &err);

	assert_non_null(c);
	assert_null(err);
	return c;
}

static void
test_mech_table(void **state)
{
	const struct sasl_mech_info *m;
	size_t n = 0;

	(void)state;
	for (m = sasl_mechs; m->name != NULL; m++) {
		assert_non_null(m->help);
		assert_non_null(m->rfc);
		assert_ptr_equal(sasl_mech_find(m->name), m);
		n++;
	}
	assert_int_equal(n, 10);
	assert_string_equal(sasl_mech_find("cram-md5")->name, "CRAM-MD5");
	assert_string_equal(sasl_mech_find("Plain")->name, "PLAIN");
	assert_string_equal(sasl_mech_find("xoauth2")->name, "XOAUTH2");
	assert_int_equal(sasl_mech_find("CRAM-MD5")->initial_response, 0);
	assert_int_equal(sasl_mech_find("PLAIN")->initial_response, 1);
	assert_null(sasl_mech_find("DIGEST-MD5"));
	assert_null(sasl_mech_find(""));
	assert_null(sasl_mech_find(NULL));
}

static void
test_client_new_errors(void **state)
{
	char *err = NULL;

	(void)state;
	assert_null(sasl_client_new("NTLM", "alice", "x", &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "NTLM"));
	free(err);
	err = NULL;
	assert_null(sasl_client_new("PLAIN", NULL, "x", &err));
	assert_non_null(err);
	free(err);
	err = NULL;
	assert_null(sasl_client_new("LOGIN", "", "x", &err));
	assert_non_null(err);
	free(err);
	err = NULL;
	/* The name is escaped before it reaches a message. */
	assert_null(sasl_client_new("X\033[2J", "alice", "x", &err));
	assert_null(strchr(err, '\033'));
	free(err);
	sasl_client_free(NULL);
}

/* RFC 4616 section 4 examples. */
static void
test_plain_rfc4616(void **state)
{
	struct sasl_client *c;

	(void)state;
	c = client("PLAIN", "tim", "tanstaaftanstaaf");
	start_ok(c, 1, "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm",
	    "AUTH PLAIN [user=tim password=" M "]");
	step_fails(c, "");
	sasl_client_free(c);

	/* Without an initial response: AUTH PLAIN, 334, then the answer. */
	c = client("plain", "tim", "tanstaaftanstaaf");
	start_ok(c, 0, "AUTH PLAIN", "AUTH PLAIN");
	step_ok(
	    c, "", "AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "[user=tim password=" M "]");
	step_fails(c, "");
	sasl_client_free(c);
}

static void
test_login_sequence(void **state)
{
	struct sasl_client *c;

	(void)state;
	c = client("LOGIN", "alice", "secret");
	start_ok(c, 0, "AUTH LOGIN", "AUTH LOGIN");
	step_ok(c, "VXNlcm5hbWU6", "YWxpY2U=", "[user=alice]");
	step_ok(c, "UGFzc3dvcmQ6", "c2VjcmV0", "[password=" M "]");
	step_fails(c, "");
	sasl_client_free(c);

	/* "AUTH LOGIN <b64 user>" as the initial response. */
	c = client("login", "alice", "secret");
	start_ok(c, 1, "AUTH LOGIN YWxpY2U=", "AUTH LOGIN [user=alice]");
	step_ok(c, "UGFzc3dvcmQ6", "c2VjcmV0", "[password=" M "]");
	step_fails(c, "UGFzc3dvcmQ6");
	sasl_client_free(c);

	/* aiosmtpd's prompts, with trailing whitespace around the text. */
	c = client("LOGIN", "alice", "secret");
	start_ok(c, 0, "AUTH LOGIN", "AUTH LOGIN");
	step_ok(c, "VXNlciBOYW1lAA== ", "YWxpY2U=", "[user=alice]");
	step_ok(c, "UGFzc3dvcmQA\r\n", "c2VjcmV0", "[password=" M "]");
	sasl_client_free(c);
}

/* RFC 2195 section 2 example. */
static void
test_cram_md5_rfc2195(void **state)
{
	struct sasl_client *c;
	char *wire, *display;

	(void)state;
	c = client("CRAM-MD5", "tim", "tanstaaftanstaaf");
	/* No initial response even when asked for one. */
	start_ok(c, 1, "AUTH CRAM-MD5", "AUTH CRAM-MD5");
	step_ok(c, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
	    "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	    "[user=tim digest=" M "]");
	step_fails(
	    c, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+");
	sasl_client_free(c);

	/* An empty challenge cannot be answered. */
	c = client("CRAM-MD5", "tim", "tanstaaftanstaaf");
	assert_int_equal(sasl_client_start(c, 0, &wire, &display, NULL), 0);
	secret_free_str(wire);
	free(display);
	step_fails(c, "");
	sasl_client_free(c);
}

static void
test_xoauth2(void **state)
{
	static const char token[] =
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";
	static const char want[] =
	    "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOW"
	    "RmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==";
	static const char error_json[] =
	    "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHR"
	    "wczovL21haWwuZ29vZ2xlLmNvbS8ifQ==";
	struct sasl_client *c;
	char *cmd;

	(void)state;
	c = client("XOAUTH2", "someuser@example.com", token);
	cmd = xasprintf("AUTH XOAUTH2 %s", want);
	start_ok(
	    c, 1, cmd, "AUTH XOAUTH2 [user=someuser@example.com token=" M "]");
	free(cmd);
	/* The server's 334 error challenge is answered with an empty line. */
	step_ok(c, error_json, "", "[empty response]");
	step_fails(c, "");
	sasl_client_free(c);

	c = client("XOAUTH2", "someuser@example.com", token);
	start_ok(c, 0, "AUTH XOAUTH2", "AUTH XOAUTH2");
	step_ok(c, "", want, "[user=someuser@example.com token=" M "]");
	sasl_client_free(c);
}

static void
test_invalid_challenge(void **state)
{
	static const char *bad[] = {
	    "not base64!", "QQ", "QUJD=", "QU JD", "Q===", "=QUJ", "QQ=A"};
	const char *mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"};
	struct sasl_client *c;
	size_t i, j;

	(void)state;
	for (j = 0; j < sizeof mechs / sizeof mechs[0]; j++) {
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			c = client(mechs[j], "alice", "secret");
			step_fails(c, bad[i]);
			sasl_client_free(c);
		}
	}
}

/* A display form must hold neither the secret nor the base64 of any
 * message that carries it. */
static void
assert_clean(const char *display, const char *secret, const char *b64)
{
	assert_null(strstr(display, secret));
	if (b64 != NULL)
		assert_null(strstr(display, b64));
}

static void
test_display_never_holds_secret(void **state)
{
	static const char secret[] = "Sup3rS3cret";
	const char *mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"};
	char *wire, *display, *err = NULL, *b64_secret;
	struct sasl_client *c;
	size_t i;
	int ir, k;

	(void)state;
	b64_secret = sasl_b64_encode(secret, strlen(secret));
	for (i = 0; i < sizeof mechs / sizeof mechs[0]; i++) {
		for (ir = 0; ir <= 1; ir++) {
			c = client(mechs[i], "alice", secret);
			assert_int_equal(
			    sasl_client_start(c, ir, &wire, &display, NULL), 0);
			assert_clean(display, secret, b64_secret);
			/* Nor the initial response as sent. */
			if (strchr(wire + 5, ' ') != NULL)
				assert_clean(
				    display, strchr(wire + 5, ' ') + 1, NULL);
			secret_free_str(wire);
			free(display);
			for (k = 0; k < 3; k++) {
				if (sasl_client_step(c, "PDE+", 4, &wire,
				        &display, &err) == -1) {
					free(err);
					err = NULL;
					break;
				}
				assert_clean(display, secret, b64_secret);
				if (*wire != '\0')
					assert_clean(display, wire, NULL);
				secret_free_str(wire);
				free(display);
			}
			sasl_client_free(c);
		}
	}
	free(b64_secret);

	/* The PLAIN response's base64 in particular. */
	c = client("PLAIN", "alice", "secret");
	assert_int_equal(sasl_client_start(c, 1, &wire, &display, NULL), 0);
	assert_string_equal(wire, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
	assert_clean(display, "secret", "AGFsaWNlAHNlY3JldA==");
	assert_non_null(strstr(display, "user=alice"));
	secret_free_str(wire);
	free(display);
	sasl_client_free(c);
}

static void
redact_is(const char *mech, int step, const char *challenge, const char *line,
    const char *want)
{
	char *s = sasl_redact_response(mech, step, challenge, line);

	assert_string_equal(s, want);
	free(s);
}

static void
test_redact_response(void **state)
{
	(void)state;
	/* PLAIN: RFC 4616 examples, with and without an authzid. */
	redact_is("PLAIN", 0, NULL, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm",
	    "[user=tim password=" M "]");
	redact_is("plain", 1, "", "VXJzZWwAS3VydAB4aXBqM3BsbXE=",
	    "[authzid=Ursel user=Kurt password=" M "]");
	/* Not the PLAIN shape: a pasted password in base64. */
	redact_is("PLAIN", 1, "", "c2VjcmV0", "[response " M "]");

	/* LOGIN: the prompt decides what the answer is. */
	redact_is("LOGIN", 1, "VXNlcm5hbWU6", "YWxpY2U=", "[user=alice]");
	redact_is("LOGIN", 1, "VXNlciBOYW1lAA==", "YWxpY2U=", "[user=alice]");
	redact_is("LOGIN", 1, "dXNlcm5hbWU6", "YWxpY2U=", "[user=alice]");
	redact_is("LOGIN", 2, "UGFzc3dvcmQ6", "c2VjcmV0", "[response " M "]");
	redact_is("LOGIN", 1, "UGFzc3dvcmQ6", "c2VjcmV0", "[response " M "]");
	redact_is("LOGIN", 1, NULL, "c2VjcmV0", "[response " M "]");
	redact_is("LOGIN", 1, "!!", "c2VjcmV0", "[response " M "]");
	redact_is("LOGIN", 0, NULL, "YWxpY2U=", "[user=alice]");

	/* CRAM-MD5 (RFC 2195) and XOAUTH2. */
	redact_is("CRAM-MD5", 1,
	    "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
	    "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	    "[user=tim digest=" M "]");
	redact_is("XOAUTH2", 0, NULL,
	    "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOW"
	    "RmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==",
	    "[user=someuser@example.com token=" M "]");
	redact_is("XOAUTH2", 1, "e30=", "", "[empty response]");

	/* Unknown mechanism, no mechanism, not base64, cancel. */
	redact_is("NTLM", 1, NULL, "YWxpY2U=", "[response " M "]");
	redact_is("GSSAPI", 1, NULL, "YWxpY2U=", "[GSSAPI token, 5 bytes]");
	redact_is(NULL, 1, NULL, "YWxpY2U=", "[response " M "]");
	redact_is("PLAIN", 1, NULL, "my password", "[response " M "]");
	redact_is("LOGIN", 1, "VXNlcm5hbWU6", "hunter2", "[response " M "]");
	redact_is("PLAIN", 1, NULL, "*", "*");
	redact_is(NULL, 1, NULL, "*", "*");

	/* A decoded user with control characters is escaped. */
	redact_is("LOGIN", 0, NULL, "YRtbMko=", "[user=a\\e[2J]");
}

static void
auth_cmd_is(const char *line, const char *want)
{
	char *s = sasl_redact_auth_command(line);

	assert_string_equal(s, want);
	free(s);
}

static void
test_redact_auth_command(void **state)
{
	(void)state;
	auth_cmd_is("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm",
	    "AUTH PLAIN [user=tim password=" M "]");
	auth_cmd_is("auth plain   AHRpbQB0YW5zdGFhZnRhbnN0YWFm  ",
	    "auth plain [user=tim password=" M "]");
	auth_cmd_is("AUTH LOGIN YWxpY2U=", "AUTH LOGIN [user=alice]");
	auth_cmd_is("AUTH LOGIN", "AUTH LOGIN");
	auth_cmd_is("AUTH CRAM-MD5", "AUTH CRAM-MD5");
	auth_cmd_is("AUTH PLAIN =", "AUTH PLAIN =");
	auth_cmd_is("AUTH", "AUTH");
	auth_cmd_is("AUTH NTLM YIIB", "AUTH NTLM [response " M "]");
	auth_cmd_is("AUTH GSSAPI YIIB", "AUTH GSSAPI [GSSAPI token, 3 bytes]");
	auth_cmd_is("AUTH PLAIN c2VjcmV0", "AUTH PLAIN [response " M "]");
	/* Something pasted where the mechanism goes is not shown either. */
	auth_cmd_is("AUTH c2VjcmV0cw==", "AUTH [response " M "]");
	auth_cmd_is(
	    "AUTH XOAUTH2 "
	    "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5Ln"
	    "ZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==",
	    "AUTH XOAUTH2 [user=someuser@example.com token=" M "]");
}

static void
test_decode_challenge(void **state)
{
	char *s;

	(void)state;
	s = sasl_decode_challenge("VXNlcm5hbWU6", 12);
	assert_string_equal(s, "Username:");
	free(s);
	s = sasl_decode_challenge("VXNlciBOYW1lAA==", 16);
	assert_string_equal(s, "User Name\\0");
	free(s);
	s = sasl_decode_challenge("", 0);
	assert_string_equal(s, "");
	free(s);
	/* Escape sequences from the server are made harmless. */
	s = sasl_decode_challenge("G1sySgo=", 8);
	assert_string_equal(s, "\\e[2J\\n");
	free(s);
	/* len is honoured: the text need not be NUL-terminated. */
	s = sasl_decode_challenge("VXNlcm5hbWU6XXXX", 12);
	assert_string_equal(s, "Username:");
	free(s);
	assert_null(sasl_decode_challenge("VXNlcm5hbWU", 11));
	assert_null(sasl_decode_challenge("VXNl cm5hbWU6", 13));
	assert_null(sasl_decode_challenge("****", 4));
	assert_null(sasl_decode_challenge(NULL, 0));
}

static void
decode_is(const char *in, const char *want, size_t wantlen)
{
	size_t len = 12345;
	unsigned char *d = sasl_b64_decode(in, strlen(in), &len);

	assert_non_null(d);
	assert_int_equal(len, wantlen);
	assert_memory_equal(d, want, wantlen);
	assert_int_equal(d[len], 0);
	free(d);
}

static void
test_base64(void **state)
{
	static const char *bad[] = {"Q", "QQ", "QQ=", "QUJDR",
	    "Q===", "====", "QQ=A", "=QUJ", "QU=D", "QU JD", " QUJD", "QUJD ",
	    "QUJD\n", "QU\nJD", "QUJ-", "QUJ_", "QUJ.", "QQ==QUJD", "QUJD===="};
	char *s;
	size_t i, len;

	(void)state;
	/* RFC 4648 section 10 test vectors. */
	decode_is("", "", 0);
	decode_is("Zg==", "f", 1);
	decode_is("Zm8=", "fo", 2);
	decode_is("Zm9v", "foo", 3);
	decode_is("Zm9vYg==", "foob", 4);
	decode_is("Zm9vYmE=", "fooba", 5);
	decode_is("Zm9vYmFy", "foobar", 6);
	decode_is(
	    "AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "\0tim\0tanstaaftanstaaf", 21);
	decode_is("+/+/", "\xfb\xff\xbf", 3);

	s = sasl_b64_encode("", 0);
	assert_string_equal(s, "");
	free(s);
	s = sasl_b64_encode("f", 1);
	assert_string_equal(s, "Zg==");
	free(s);
	s = sasl_b64_encode("fo", 2);
	assert_string_equal(s, "Zm8=");
	free(s);
	s = sasl_b64_encode("foobar", 6);
	assert_string_equal(s, "Zm9vYmFy");
	free(s);
	s = sasl_b64_encode("\0tim\0tanstaaftanstaaf", 21);
	assert_string_equal(s, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
	free(s);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		len = 99;
		assert_null(sasl_b64_decode(bad[i], strlen(bad[i]), &len));
		assert_int_equal(len, 99);
	}
	/* A NUL inside the input is invalid, not the end. */
	assert_null(sasl_b64_decode("QU\0D", 4, &len));
	/* outlen may be NULL. */
	s = (char *)sasl_b64_decode("Zm9v", 4, NULL);
	assert_string_equal(s, "foo");
	free(s);
}

/* Round trip over every length and byte value. */
static void
test_base64_roundtrip(void **state)
{
	unsigned char in[300], *out;
	char *enc;
	size_t n, len;

	(void)state;
	for (n = 0; n < sizeof in; n++)
		in[n] = (unsigned char)(n * 7 + 3);
	for (n = 0; n <= sizeof in; n++) {
		enc = sasl_b64_encode(in, n);
		assert_int_equal(strlen(enc), (n + 2) / 3 * 4);
		out = sasl_b64_decode(enc, strlen(enc), &len);
		assert_non_null(out);
		assert_int_equal(len, n);
		assert_memory_equal(out, in, n);
		free(out);
		free(enc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mech_table),
	    cmocka_unit_test(test_client_new_errors),
	    cmocka_unit_test(test_plain_rfc4616),
	    cmocka_unit_test(test_login_sequence),
	    cmocka_unit_test(test_cram_md5_rfc2195),
	    cmocka_unit_test(test_xoauth2),
	    cmocka_unit_test(test_invalid_challenge),
	    cmocka_unit_test(test_display_never_holds_secret),
	    cmocka_unit_test(test_redact_response),
	    cmocka_unit_test(test_redact_auth_command),
	    cmocka_unit_test(test_decode_challenge),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_base64_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
