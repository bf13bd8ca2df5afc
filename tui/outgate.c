/*
 * The output gate (see outgate.h): a flag and the octets kept while it
 * is closed, in ehlo's own buffer, so that whether a line can reach
 * the terminal before its row is committed never depends on stdio's
 * buffering (a line-buffered terminal, a full buffer).
 */
#include "tui/outgate.h"

#include <stdio.h>

#include "core/buf.h"

static struct buf held; /* buf_init'ed when first closed */
static int closed;

void
outgate_write(const void *p, size_t n)
{
	if (n == 0)
		return;
	if (!closed) {
		(void)fwrite(p, 1, n, stdout);
		return;
	}
	(void)buf_add(&held, p, n); /* no cap: it cannot refuse */
}

void
outgate_hold(void)
{
	if (held.max == 0)
		buf_init(&held, 0);
	closed = 1;
}

void
outgate_release(void)
{
	closed = 0;
	if (buf_used(&held) > 0)
		(void)fwrite(buf_peek(&held), 1, buf_used(&held), stdout);
	buf_reset(&held);
}

size_t
outgate_held(void)
{
	return buf_used(&held);
}
