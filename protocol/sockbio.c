/*
 * A source/sink BIO over a non-blocking socket (see sockbio.h).  The fd
 * is kept in the BIO's data pointer; the method is made once and shared.
 */
#include "protocol/sockbio.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

static BIO_METHOD *sockbio_method;

static int
sockbio_fd(BIO *b)
{
	return (int)(intptr_t)BIO_get_data(b);
}

static int
sockbio_write(BIO *b, const char *p, size_t n, size_t *done)
{
	ssize_t r;

	BIO_clear_retry_flags(b);
	*done = 0;
	do
		r = send(sockbio_fd(b), p, n, MSG_NOSIGNAL);
	while (r == -1 && errno == EINTR);
	if (r >= 0) {
		*done = (size_t)r;
		return 1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		BIO_set_retry_write(b);
	return 0;
}

static int
sockbio_read(BIO *b, char *p, size_t n, size_t *done)
{
	ssize_t r;

	BIO_clear_retry_flags(b);
	*done = 0;
	do
		r = recv(sockbio_fd(b), p, n, 0);
	while (r == -1 && errno == EINTR);
	if (r > 0) {
		*done = (size_t)r;
		return 1;
	}
	if (r == 0)
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		BIO_set_retry_read(b);
	return 0;
}

static int
sockbio_puts(BIO *b, const char *s)
{
	size_t done;

	if (sockbio_write(b, s, strlen(s), &done) != 1 || done > INT_MAX)
		return -1;
	return (int)done;
}

static long
sockbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
	default:
		return 0;
	}
}

static BIO_METHOD *
sockbio_method_get(void)
{
	BIO_METHOD *m;
	int idx;

	if (sockbio_method != NULL)
		return sockbio_method;
	if ((idx = BIO_get_new_index()) == -1)
		return NULL;
	if ((m = BIO_meth_new(idx | BIO_TYPE_SOURCE_SINK, "ehlo socket")) ==
	    NULL)
		return NULL;
	if (BIO_meth_set_write_ex(m, sockbio_write) != 1 ||
	    BIO_meth_set_read_ex(m, sockbio_read) != 1 ||
	    BIO_meth_set_puts(m, sockbio_puts) != 1 ||
	    BIO_meth_set_ctrl(m, sockbio_ctrl) != 1) {
		BIO_meth_free(m);
		return NULL;
	}
	sockbio_method = m;
	return m;
}

BIO *
smtp_sockbio_new(int fd)
{
	BIO_METHOD *m = sockbio_method_get();
	BIO *b;

	if (m == NULL || (b = BIO_new(m)) == NULL)
		return NULL;
	BIO_set_data(b, (void *)(intptr_t)fd);
	BIO_set_init(b, 1);
	return b;
}

void
smtp_sockbio_cleanup(void)
{
	BIO_meth_free(sockbio_method);
	sockbio_method = NULL;
}
