/*
 * Bounded FIFO byte buffer.  See buf.h for the shape: one allocation,
 * live bytes in [off, len), compaction on demand.
 */
#include "core/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max == 0 ? SIZE_MAX : max;
}

void
buf_reset(struct buf *b)
{
	size_t max = b->max;

	free(b->data);
	buf_init(b, max);
}

size_t
buf_used(const struct buf *b)
{
	return b->len - b->off;
}

const char *
buf_peek(const struct buf *b)
{
	return b->data == NULL ? "" : b->data + b->off;
}

void
buf_clear(struct buf *b)
{
	b->off = b->len = 0;
}

char *
buf_reserve(struct buf *b, size_t n)
{
	size_t used = buf_used(b), want;

	if (n > b->max - used)
		return NULL;
	/* data is NULL before the first allocation, even for n == 0. */
	if (b->data != NULL && b->cap - b->len >= n)
		return b->data + b->len;
	if (b->off > 0 && b->data != NULL) {
		memmove(b->data, b->data + b->off, used);
		b->off = 0;
		b->len = used;
		if (b->cap - b->len >= n)
			return b->data + b->len;
	}
	want = b->cap < 256 ? 256 : b->cap;
	while (want - used < n) {
		if (want > SIZE_MAX / 2) {
			want = used + n;
			break;
		}
		want *= 2;
	}
	b->data = xreallocarray(b->data, want, 1);
	b->cap = want;
	return b->data + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	if (n > b->cap - b->len)
		fatalx("buf_commit past reservation");
	b->len += n;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	char *dst;

	if (n == 0)
		return 0;
	if ((dst = buf_reserve(b, n)) == NULL)
		return -1;
	memcpy(dst, p, n);
	b->len += n;
	return 0;
}

int
buf_add_str(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_add_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	rc = buf_add_str(b, s);
	free(s);
	return rc;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= buf_used(b))
		b->off = b->len = 0;
	else
		b->off += n;
}
