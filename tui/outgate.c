/*
 * The output gate (see outgate.h): a flag and the octets kept while it
 * is closed, in ehlo's own buffer, so that whether a line can reach
 * the terminal before its row is committed never depends on stdio's
 * buffering (a line-buffered terminal, a full buffer).
 *
 * A reader that goes away (`ehlo run ... | head -1`) must not end the
 * session: SIGPIPE is ignored (outgate_init), and once a write to
 * stdout has failed the gate drops what it is given, so the session
 * goes on, is recorded and ends with its own exit status.
 */
#include "tui/outgate.h"

#include <signal.h>
#include <stdio.h>

#include "core/buf.h"

static struct buf held; /* buf_init'ed when first closed */
static int closed;
static int gone; /* stdout failed once: nothing more goes there */

void
outgate_init(void)
{
	(void)signal(SIGPIPE, SIG_IGN);
}

/* Passes p[0..n) to stdio unless stdout has already failed. */
static void
put(const void *p, size_t n)
{
	if (!gone && ferror(stdout)) {
		gone = 1;
		(void)fprintf(stderr,
		    "ehlo: standard output was closed; the session goes on "
		    "without printing and is still recorded\n");
	}
	if (!gone)
		(void)fwrite(p, 1, n, stdout);
}

void
outgate_write(const void *p, size_t n)
{
	if (n == 0)
		return;
	if (!closed) {
		put(p, n);
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
		put(buf_peek(&held), buf_used(&held));
	buf_reset(&held);
}

size_t
outgate_held(void)
{
	return buf_used(&held);
}
