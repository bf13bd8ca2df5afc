/*
 * SOCKS5 messages (RFC 1928, RFC 1929) and the --socks argument: the
 * exact bytes of every request, every reply code's meaning, replies
 * that arrive in pieces, and malformed or refusing replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/socks.h"

static void
test_parse(void **state)
{
	struct smtp_socks_spec s;
	char *err = NULL;

	(void)state;
	assert_int_equal(smtp_socks_parse("127.0.0.1:1080", &s, &err), 0);
	assert_string_equal(s.host, "127.0.0.1");
	assert_string_equal(s.port, "1080");
	assert_null(s.user);
	assert_int_equal(s.remote_dns, 1);
	smtp_socks_spec_free(&s);

	assert_int_equal(
	    smtp_socks_parse("socks5://proxy.example", &s, &err), 0);
	assert_string_equal(s.host, "proxy.example");
	assert_string_equal(s.port, "1080");
	assert_int_equal(s.remote_dns, 0);
	smtp_socks_spec_free(&s);

	assert_int_equal(
	    smtp_socks_parse("socks5h://alice@[::1]:9050/", &s, &err), 0);
	assert_string_equal(s.host, "::1");
	assert_string_equal(s.port, "9050");
	assert_string_equal(s.user, "alice");
	assert_int_equal(s.remote_dns, 1);
	smtp_socks_spec_free(&s);

	/* A password in the URL is refused, and not repeated. */
	assert_int_equal(
	    smtp_socks_parse("socks5h://alice:hunter2@h:1", &s, &err), -1);
	assert_non_null(strstr(err, "EHLO_SOCKS_PASSWORD"));
	assert_null(strstr(err, "hunter2"));
	free(err);
	err = NULL;

	assert_int_equal(smtp_socks_parse("http://h:3128", &s, &err), -1);
	assert_non_null(strstr(err, "not a SOCKS5 proxy"));
	free(err);
	err = NULL;
	assert_int_equal(smtp_socks_parse("socks5://h:99999", &s, &err), -1);
	assert_non_null(strstr(err, "bad port"));
	free(err);
	err = NULL;
	assert_int_equal(smtp_socks_parse("socks5://@h", &s, &err), -1);
	free(err);
}

static void
test_hello(void **state)
{
	unsigned char out[4];
	static const unsigned char noauth[] = {5, 1, 0};
	static const unsigned char auth[] = {5, 2, 0, 2};
	unsigned char r[2];
	int method = -1;
	char *err = NULL;

	(void)state;
	assert_int_equal(smtp_socks_hello(out, 0), 3);
	assert_memory_equal(out, noauth, 3);
	assert_int_equal(smtp_socks_hello(out, 1), 4);
	assert_memory_equal(out, auth, 4);

	r[0] = 5;
	r[1] = 2;
	assert_int_equal(smtp_socks_hello_reply(r, 1, 1, &method, &err), 0);
	assert_int_equal(smtp_socks_hello_reply(r, 2, 1, &method, &err), 2);
	assert_int_equal(method, 2);
	/* Username/password not offered: choosing it is an error. */
	assert_int_equal(smtp_socks_hello_reply(r, 2, 0, &method, &err), -1);
	free(err);
	err = NULL;
	r[1] = 0xff;
	assert_int_equal(smtp_socks_hello_reply(r, 2, 0, &method, &err), -1);
	assert_non_null(strstr(err, "wants authentication"));
	free(err);
	err = NULL;
	r[0] = 4; /* a SOCKS4 server, or an SMTP server's "2" */
	r[1] = 0;
	assert_int_equal(smtp_socks_hello_reply(r, 2, 0, &method, &err), -1);
	assert_non_null(strstr(err, "does not speak SOCKS5"));
	free(err);
}

static void
test_auth(void **state)
{
	unsigned char out[SMTP_SOCKS_MSG_MAX], r[2];
	static const unsigned char want[] = {
	    1, 5, 'a', 'l', 'i', 'c', 'e', 3, 'p', 'w', '!'};
	char *err = NULL, longname[300];

	(void)state;
	assert_int_equal(
	    smtp_socks_auth_request(out, "alice", "pw!", &err), sizeof want);
	assert_memory_equal(out, want, sizeof want);
	memset(longname, 'x', 256);
	longname[256] = '\0';
	assert_int_equal(smtp_socks_auth_request(out, longname, "p", &err), -1);
	assert_non_null(strstr(err, "user name"));
	free(err);
	err = NULL;
	assert_int_equal(smtp_socks_auth_request(out, "a", "", &err), -1);
	assert_non_null(strstr(err, "password"));
	free(err);
	err = NULL;

	r[0] = 1;
	r[1] = 0;
	assert_int_equal(smtp_socks_auth_reply(r, 1, "alice", &err), 0);
	assert_int_equal(smtp_socks_auth_reply(r, 2, "alice", &err), 2);
	r[1] = 1;
	assert_int_equal(smtp_socks_auth_reply(r, 2, "alice", &err), -1);
	assert_non_null(strstr(err, "refused the user name \"alice\""));
	free(err);
}

static void
test_connect_request(void **state)
{
	unsigned char out[SMTP_SOCKS_MSG_MAX];
	static const unsigned char v4[] = {5, 1, 0, 1, 127, 0, 0, 1, 0, 25};
	static const unsigned char name[] = {5, 1, 0, 3, 9, 'l', 'o', 'c', 'a',
	    'l', 'h', 'o', 's', 't', 2, 0x1b};
	char *err = NULL;
	char big[300];

	(void)state;
	assert_int_equal(
	    smtp_socks_connect_request(out, "127.0.0.1", "25", &err),
	    sizeof v4);
	assert_memory_equal(out, v4, sizeof v4);
	assert_int_equal(
	    smtp_socks_connect_request(out, "localhost", "539", &err),
	    sizeof name);
	assert_memory_equal(out, name, sizeof name);
	assert_int_equal(
	    smtp_socks_connect_request(out, "::1", "587", &err), 4 + 16 + 2);
	assert_int_equal(out[3], 4);
	assert_int_equal(out[19], 1);
	assert_int_equal(out[20], 587 >> 8);
	assert_int_equal(out[21], 587 & 0xff);
	memset(big, 'a', 256);
	big[256] = '\0';
	assert_int_equal(smtp_socks_connect_request(out, big, "25", &err), -1);
	free(err);
}

static void
test_connect_reply(void **state)
{
	unsigned char ok4[] = {5, 0, 0, 1, 192, 0, 2, 1, 0x9c, 0x40};
	unsigned char okname[] = {5, 0, 0, 3, 2, 'p', 'x', 0, 80};
	unsigned char bad[] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	char bound[64], *err = NULL;
	int rep;

	(void)state;
	assert_int_equal(
	    smtp_socks_connect_reply(ok4, 4, bound, sizeof bound, &err), 0);
	assert_int_equal(
	    smtp_socks_connect_reply(ok4, 9, bound, sizeof bound, &err), 0);
	assert_int_equal(smtp_socks_connect_reply(
	                     ok4, sizeof ok4, bound, sizeof bound, &err),
	    sizeof ok4);
	assert_string_equal(bound, "192.0.2.1:40000");
	assert_int_equal(smtp_socks_connect_reply(
	                     okname, sizeof okname, bound, sizeof bound, &err),
	    sizeof okname);
	assert_string_equal(bound, "px:80");

	/* Every reply code of RFC 1928 section 6 has its own words. */
	for (rep = 1; rep <= 9; rep++) {
		bad[1] = (unsigned char)rep;
		assert_int_equal(
		    smtp_socks_connect_reply(bad, 5, bound, sizeof bound, &err),
		    -1);
		assert_non_null(strstr(err, smtp_socks_reply_text(rep)));
		free(err);
		err = NULL;
	}
	assert_string_equal(smtp_socks_reply_text(5), "connection refused");
	assert_string_equal(smtp_socks_reply_text(2),
	    "connection not allowed by the proxy's "
	    "rules");
	assert_string_equal(
	    smtp_socks_reply_text(9), "an unassigned reply code");
	bad[1] = 0;
	bad[3] = 7; /* no such address type */
	assert_int_equal(
	    smtp_socks_connect_reply(bad, 5, bound, sizeof bound, &err), -1);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_hello),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_connect_request),
	    cmocka_unit_test(test_connect_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
