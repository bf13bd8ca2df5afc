/*
 * The socket helpers the tests of protocol/transport*.c share
 * (test_transport.c, plain TCP; test_transport_tls.c, TLS): waiting for
 * the transport's interest or a descriptor, a loopback listener on a
 * free port, and a client that connects, upgrades to TLS, reads a line
 * and writes everything, each wait a poll() bounded by WAIT_MS so a
 * broken transport fails instead of hanging.  Include after <cmocka.h>.
 */
#ifndef EHLO_TESTS_TRANSPORT_FIXTURE_H
#define EHLO_TESTS_TRANSPORT_FIXTURE_H

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "protocol/transport.h"

#define WAIT_MS 5000

/* Waits up to ms for the transport's interest; 1 ready, 0 timeout. */
static inline int
wait_want(struct smtp_transport *t, int ms)
{
	struct pollfd pfd;
	int want = smtp_transport_want(t);

	pfd.fd = smtp_transport_fd(t);
	pfd.events = (short)(((want & SMTP_TR_WANT_READ) ? POLLIN : 0) |
	    ((want & SMTP_TR_WANT_WRITE) ? POLLOUT : 0));
	pfd.revents = 0;
	return poll(&pfd, 1, ms) > 0;
}

static inline int
wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	return poll(&pfd, 1, ms) > 0;
}

/* A listening socket on addr, port 0; *port gets the chosen port. */
static inline int
listen_on(int family, const char *addr, char *port, size_t portsz)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			return -1;
		len = sizeof *sin;
	} else {
		sin6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			return -1;
		len = sizeof *sin6;
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		(void)close(fd);
		return -1;
	}
	(void)snprintf(port, portsz, "%u",
	    (unsigned)ntohs(
	        family == AF_INET ? sin->sin_port : sin6->sin6_port));
	return fd;
}

/* Connects and drives connect_finish; returns its final result. */
static inline int
client_connect(
    struct smtp_transport *t, const char *host, const char *port, char **err)
{
	int r, turns = 0;

	if (smtp_transport_connect(t, host, port, err) != 0)
		return SMTP_TR_ERROR;
	for (;;) {
		assert_true(smtp_transport_fd(t) >= 0);
		assert_true(smtp_transport_want(t) != 0);
		if (!wait_want(t, WAIT_MS))
			fail_msg("connect to %s:%s timed out", host, port);
		r = smtp_transport_connect_finish(t, err);
		if (r != SMTP_TR_AGAIN)
			return r;
		if (++turns > 64)
			fail_msg("connect_finish keeps saying AGAIN");
	}
}

/* Starts TLS and drives the handshake; returns its final result. */
static inline int
client_tls(
    struct smtp_transport *t, const struct smtp_tls_opts *opts, char **err)
{
	int r;

	if (smtp_transport_tls_start(t, opts, err) != 0)
		return SMTP_TR_ERROR;
	for (;;) {
		r = smtp_transport_tls_handshake(t, err);
		if (r != SMTP_TR_AGAIN)
			return r;
		assert_true(smtp_transport_want(t) != 0);
		if (!wait_want(t, WAIT_MS))
			fail_msg("TLS handshake hangs");
	}
}

/* Reads until a newline or end of stream; returns the length. */
static inline size_t
client_read_line(struct smtp_transport *t, char *line, size_t sz)
{
	size_t len = 0;
	ssize_t r;
	char *err = NULL;

	while (len + 1 < sz && memchr(line, '\n', len) == NULL) {
		if (smtp_transport_pending(t) == 0 && !wait_want(t, WAIT_MS))
			fail_msg("read timed out");
		r = smtp_transport_read(t, line + len, sz - 1 - len, &err);
		if (r == SMTP_TR_AGAIN)
			continue;
		if (r == SMTP_TR_ERROR)
			fail_msg("read failed: %s", err);
		if (r == 0)
			break;
		len += (size_t)r;
	}
	line[len] = '\0';
	return len;
}

static inline void
client_write_all(struct smtp_transport *t, const char *s)
{
	size_t off = 0, n = strlen(s);
	ssize_t r;
	char *err = NULL;

	while (off < n) {
		r = smtp_transport_write(t, s + off, n - off, &err);
		if (r == SMTP_TR_ERROR)
			fail_msg("write failed: %s", err);
		if (r == SMTP_TR_AGAIN) {
			if (!wait_want(t, WAIT_MS))
				fail_msg("write timed out");
			continue;
		}
		off += (size_t)r;
	}
}

#endif
