/*
 * Unit tests for protocol/transport*.c without TLS: SERVER argument
 * parsing; the non-blocking connect against loopback listeners made
 * here (IPv4, and IPv6 when the host has ::1, and by name); a refused
 * connection; and misuse of the API.  Every wait is a poll() with a
 * timeout (transport_fixture.h), so a broken transport fails instead of
 * hanging.  TLS: test_transport_tls.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "protocol/transport.h"
#include "transport_fixture.h"

static int
group_setup(void **state)
{
	(void)state;
	/* A dead peer must show up as EPIPE, not kill the test. */
	(void)signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* ---- SERVER parsing ------------------------------------------------ */

static void
test_parse_good(void **state)
{
	static const struct {
		const char *in;
		int def;
		const char *host, *port;
	} cases[] = {
	    {"mail.example", 25, "mail.example", "25"},
	    {"mail.example:587", 25, "mail.example", "587"},
	    {"mail.example", 465, "mail.example", "465"},
	    {"127.0.0.1:2525", 25, "127.0.0.1", "2525"},
	    {"[::1]:2525", 25, "::1", "2525"},
	    {"[::1]", 25, "::1", "25"},
	    {"::1", 25, "::1", "25"},
	    {"2001:db8::25", 465, "2001:db8::25", "465"},
	    {"[2001:db8::25]:65535", 25, "2001:db8::25", "65535"},
	    {"host:1", 25, "host", "1"},
	    {"host:00025", 25, "host", "25"},
	};
	char *host, *port, *err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err = NULL;
		if (smtp_server_parse(
		        cases[i].in, cases[i].def, &host, &port, &err) != 0)
			fail_msg("\"%s\": %s", cases[i].in, err);
		assert_null(err);
		assert_string_equal(host, cases[i].host);
		assert_string_equal(port, cases[i].port);
		free(host);
		free(port);
	}
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *in;
		const char *want; /* substring of the message */
	} cases[] = {
	    {"host:x", "bad port \"x\" in \"host:x\": expected 1-65535"},
	    {"host:0", "bad port \"0\""},
	    {"host:65536", "expected 1-65535"},
	    {"host:99999999999999999999", "bad port"},
	    {"host:", "bad port \"\""},
	    {"host:+25", "bad port"},
	    {"host:-1", "bad port"},
	    {"host: 25", "bad port"},
	    {"host:25 ", "bad port"},
	    {"host:25x", "bad port"},
	    {"[::1]:", "bad port"},
	    {"[::1]:0x19", "bad port"},
	    {"[::1", "missing \"]\""},
	    {"[::1]25", "after \"]\""},
	    {"[]:25", "empty host"},
	    {":25", "empty host"},
	    {"", "empty server"},
	};
	char *host, *port, *err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err = NULL;
		host = port = (char *)"unchanged";
		if (smtp_server_parse(cases[i].in, 25, &host, &port, &err) !=
		    -1)
			fail_msg("\"%s\" was accepted", cases[i].in);
		assert_non_null(err);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].in,
			    err, cases[i].want);
		assert_null(host);
		assert_null(port);
		free(err);
	}
	err = NULL;
	assert_int_equal(smtp_server_parse("host", 0, &host, &port, &err), -1);
	assert_non_null(err);
	free(err);
	/* Control characters in the argument are escaped in the message. */
	err = NULL;
	assert_int_equal(
	    smtp_server_parse("h:\x1b[2J", 25, &host, &port, &err), -1);
	assert_null(strchr(err, '\x1b'));
	free(err);
}

/* ---- plain TCP ----------------------------------------------------- */

/* Connects to a listener on addr, then talks both ways and sees EOF. */
static void
loopback_exchange(int family, const char *addr)
{
	struct smtp_transport *t;
	char port[16], want_peer[64], line[128], *err = NULL;
	int lfd, sfd;
	ssize_t n;

	lfd = listen_on(family, addr, port, sizeof port);
	assert_true(lfd >= 0);
	t = smtp_transport_new();
	assert_int_equal(smtp_transport_fd(t), -1);
	if (client_connect(t, addr, port, &err) != 0)
		fail_msg("connect: %s", err);
	assert_int_equal(smtp_transport_want(t), SMTP_TR_WANT_READ);
	assert_false(smtp_transport_is_tls(t));
	assert_null(smtp_transport_tls_info(t));
	(void)snprintf(want_peer, sizeof want_peer,
	    family == AF_INET6 ? "[%s]:%s" : "%s:%s", addr, port);
	assert_string_equal(smtp_transport_peer(t), want_peer);
	assert_true(wait_fd(lfd, POLLIN, WAIT_MS));
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);

	/* Nothing to read yet: AGAIN with read interest. */
	assert_int_equal(
	    smtp_transport_read(t, line, sizeof line, &err), SMTP_TR_AGAIN);
	assert_int_equal(smtp_transport_want(t), SMTP_TR_WANT_READ);

	assert_int_equal(write(sfd, "220 hi\r\n", 8), 8);
	assert_int_equal(client_read_line(t, line, sizeof line), 8);
	assert_string_equal(line, "220 hi\r\n");
	client_write_all(t, "EHLO client.example\r\n");
	assert_true(wait_fd(sfd, POLLIN, WAIT_MS));
	n = read(sfd, line, sizeof line - 1);
	assert_int_equal(n, 21);
	line[n] = '\0';
	assert_string_equal(line, "EHLO client.example\r\n");
	assert_int_equal(smtp_transport_pending(t), 0);

	/* The server hangs up: end of stream. */
	(void)close(sfd);
	assert_int_equal(client_read_line(t, line, sizeof line), 0);

	smtp_transport_close(t);
	assert_int_equal(smtp_transport_fd(t), -1);
	smtp_transport_close(t);
	smtp_transport_free(t);
	(void)close(lfd);
}

static void
test_connect_loopback_v4(void **state)
{
	(void)state;
	loopback_exchange(AF_INET, "127.0.0.1");
}

static void
test_connect_loopback_v6(void **state)
{
	char port[16];
	int fd;

	(void)state;
	fd = listen_on(AF_INET6, "::1", port, sizeof port);
	if (fd == -1) {
		/* This host has no IPv6 loopback; nothing to test. */
		skip();
	}
	(void)close(fd);
	loopback_exchange(AF_INET6, "::1");
}

/* A name may resolve to addresses with no listener first: moves on. */
static void
test_connect_by_name(void **state)
{
	struct addrinfo hints, *res, *ai;
	struct smtp_transport *t;
	char port[16], want_peer[64], *err = NULL;
	int lfd, has_v4 = 0;

	(void)state;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("localhost", NULL, &hints, &res) != 0)
		skip();
	for (ai = res; ai != NULL; ai = ai->ai_next)
		has_v4 |= ai->ai_family == AF_INET;
	freeaddrinfo(res);
	if (!has_v4)
		skip();
	lfd = listen_on(AF_INET, "127.0.0.1", port, sizeof port);
	assert_true(lfd >= 0);
	t = smtp_transport_new();
	if (client_connect(t, "localhost", port, &err) != 0)
		fail_msg("connect: %s", err);
	(void)snprintf(want_peer, sizeof want_peer, "127.0.0.1:%s", port);
	assert_string_equal(smtp_transport_peer(t), want_peer);
	smtp_transport_free(t);
	(void)close(lfd);
}

static void
test_connect_refused(void **state)
{
	struct smtp_transport *t;
	char port[16], addr[64], *err = NULL;
	int fd;

	(void)state;
	/* A port that was just free: nothing listens there now. */
	fd = listen_on(AF_INET, "127.0.0.1", port, sizeof port);
	assert_true(fd >= 0);
	(void)close(fd);
	t = smtp_transport_new();
	assert_int_equal(
	    client_connect(t, "127.0.0.1", port, &err), SMTP_TR_ERROR);
	assert_non_null(err);
	(void)snprintf(addr, sizeof addr, "127.0.0.1:%s", port);
	if (strstr(err, addr) == NULL || strstr(err, "refused") == NULL ||
	    strstr(err, "Is a server listening on") == NULL)
		fail_msg("unhelpful message: %s", err);
	print_message("%s\n", err);
	assert_int_equal(smtp_transport_fd(t), -1);
	free(err);

	/* A finish with nothing in progress is an error, not a crash. */
	err = NULL;
	assert_int_equal(smtp_transport_connect_finish(t, &err), SMTP_TR_ERROR);
	free(err);
	smtp_transport_free(t);
}

static void
test_misuse(void **state)
{
	struct smtp_transport *t;
	char buf[8], *err = NULL;

	(void)state;
	smtp_transport_free(NULL);
	t = smtp_transport_new();
	assert_int_equal(smtp_transport_tls_start(t, NULL, &err), -1);
	assert_non_null(strstr(err, "not connected"));
	free(err);
	err = NULL;
	assert_int_equal(
	    smtp_transport_read(t, buf, sizeof buf, &err), SMTP_TR_ERROR);
	free(err);
	err = NULL;
	assert_int_equal(smtp_transport_write(t, "x", 1, &err), SMTP_TR_ERROR);
	free(err);
	err = NULL;
	assert_int_equal(smtp_transport_tls_handshake(t, &err), SMTP_TR_ERROR);
	free(err);
	smtp_transport_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_connect_loopback_v4),
	    cmocka_unit_test(test_connect_loopback_v6),
	    cmocka_unit_test(test_connect_by_name),
	    cmocka_unit_test(test_connect_refused),
	    cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
