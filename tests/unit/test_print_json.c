/*
 * Unit tests for the JSON shapes of tui/print_json.c: RFC 3339 UTC
 * times with milliseconds, null for what is absent (never ""), a
 * certificate from OpenSSL's time format and a SAN list, TLS details
 * read back from what older versions stored in the history, and events
 * with every key present.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/transport.h"
#include "tui/print.h"

static void
assert_json_string(json_t *j, const char *want)
{
	assert_non_null(j);
	assert_true(json_is_string(j));
	assert_string_equal(json_string_value(j), want);
}

static void
test_times(void **state)
{
	json_t *j;

	(void)state;
	j = print_json_time(1765000001);
	assert_json_string(j, "2025-12-06T05:46:41.000Z");
	json_decref(j);
	j = print_json_time_ms(1765000001042);
	assert_json_string(j, "2025-12-06T05:46:41.042Z");
	json_decref(j);
	assert_true(json_is_null(print_json_time(0)));
	assert_true(json_is_null(print_json_time_ms(-5)));
}

static void
test_absent_is_null(void **state)
{
	json_t *j;

	(void)state;
	assert_true(json_is_null(print_json_str(NULL)));
	assert_true(json_is_null(print_json_str("")));
	j = print_json_str("a\x1b[2J");
	assert_json_string(j, "a\\e[2J"); /* escaped, never raw */
	json_decref(j);
}

static void
test_certificate(void **state)
{
	struct smtp_tls_cert c = {
	    .subject = "CN=mx.example",
	    .issuer = "CN=ca",
	    .san = "DNS:mx.example, IP:127.0.0.1",
	    .not_before = "2026-01-02 03:04:05 UTC",
	    .not_after = "garbage",
	    .days_left = -3,
	    .key_type = "RSA",
	    .key_bits = 2048,
	    .sig_alg = "",
	};
	json_t *j = print_json_cert(&c), *san;

	(void)state;
	assert_json_string(
	    json_object_get(j, "not_before"), "2026-01-02T03:04:05.000Z");
	assert_true(json_is_null(json_object_get(j, "not_after")));
	assert_true(json_is_null(json_object_get(j, "sig_alg")));
	san = json_object_get(j, "san");
	assert_int_equal(json_array_size(san), 2);
	assert_json_string(json_array_get(san, 1), "IP:127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(j, "key"), "bits")),
	    2048);
	assert_int_equal(
	    json_integer_value(json_object_get(j, "days_left")), -3);
	json_decref(j);
}

static void
test_tls_stored(void **state)
{
	/* As tui/record.c stores it (and older versions did). */
	const char *stored =
	    "{\"version\":\"TLSv1.3\",\"cipher\":\"X\",\"group\":\"\","
	    "\"sni\":\"\",\"verified\":true,\"verify_error\":\"\","
	    "\"ocsp\":\"good\",\"chain\":[{\"subject\":\"CN=a\","
	    "\"san\":\"DNS:a\",\"not_after\":\"2030-01-01 00:00:00 UTC\","
	    "\"key_type\":\"EC\",\"key_bits\":256,\"days_left\":9}]}";
	json_t *j = print_json_tls_stored(stored), *c;

	(void)state;
	assert_true(json_is_object(j));
	assert_true(json_is_null(json_object_get(j, "group")));
	assert_true(json_is_null(json_object_get(j, "sni")));
	assert_true(json_is_null(json_object_get(j, "alpn")));
	assert_true(json_is_true(json_object_get(j, "verified")));
	assert_json_string(json_object_get(j, "ocsp"), "good");
	c = json_array_get(json_object_get(j, "chain"), 0);
	assert_json_string(
	    json_object_get(c, "not_after"), "2030-01-01T00:00:00.000Z");
	assert_json_string(
	    json_object_get(json_object_get(c, "key"), "type"), "EC");
	assert_json_string(
	    json_array_get(json_object_get(c, "san"), 0), "DNS:a");
	json_decref(j);
	assert_true(json_is_null(print_json_tls_stored(NULL)));
	assert_true(json_is_null(print_json_tls_stored("not json")));
}

static void
test_event_keys(void **state)
{
	struct print_json_ev e;
	json_t *j;

	(void)state;
	print_json_ev_init(&e);
	e.type = "reply";
	e.code = 250;
	e.enhanced = "";
	j = print_json_event(&e);
	assert_int_equal(json_object_size(j), 15); /* every key, always */
	assert_true(json_is_null(json_object_get(j, "dir")));
	assert_true(json_is_null(json_object_get(j, "enhanced")));
	assert_true(json_is_null(json_object_get(j, "latency_ms")));
	assert_true(json_is_null(json_object_get(j, "redacted")));
	assert_int_equal(json_integer_value(json_object_get(j, "code")), 250);
	json_decref(j);
	j = print_json_object("summary");
	assert_int_equal(json_integer_value(json_object_get(j, "schema")),
	    PRINT_JSON_SCHEMA);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_absent_is_null),
	    cmocka_unit_test(test_certificate),
	    cmocka_unit_test(test_tls_stored),
	    cmocka_unit_test(test_event_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
