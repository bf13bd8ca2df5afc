/*
 * `ehlo show ID --hexdump` (issue 18 item 6): a recorded session's
 * bytes as the hex dump line mode's --hexdump prints live
 * (core/hexdump.h, tui/print.h), rebuilt from the recorded dialogue.
 *
 * The history keeps each line as it went (a /raw line as its exact
 * octets after "[raw] ", the others without their CRLF), so a command
 * is its text and CRLF, a /raw line its octets, a server line its text
 * and CRLF.  Consecutive lines one way are one chunk, as one read or
 * write would carry them.  What the record does not hold octet for
 * octet is said instead of guessed: content streamed from a file or a
 * draft (a summary row) and typed content past the rows kept (an
 * elided row), and a server line ended by a bare LF shows as CRLF.
 * Secret lines were recorded in their redacted form only, and are
 * dumped in that form, marked.  A "TLS established" note turns on the
 * TLS mark for the rest, as live.
 */
#include "tui/show_hexdump.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/hexdump.h"
#include "history/history.h"
#include "tui/histcmd.h"

struct chunk {
	struct hexdump hd;
	struct buf pending; /* the octets of the chunk being gathered */
	int dir; /* 'C', 'S' or 0 when none */
	unsigned flags;
	FILE *f;
};

static void
chunk_flush(struct chunk *c)
{
	struct buf out;

	if (c->dir == 0)
		return;
	buf_init(&out, 0);
	(void)hexdump_chunk(&c->hd, &out, c->dir == 'S', c->flags,
	    buf_peek(&c->pending), buf_used(&c->pending));
	(void)fwrite(buf_peek(&out), 1, buf_used(&out), c->f);
	buf_reset(&out);
	buf_clear(&c->pending);
	c->dir = 0;
}

static void
chunk_add(
    struct chunk *c, int dir, unsigned flags, const char *p, size_t n, int crlf)
{
	if (c->dir != dir || c->flags != flags || (flags & HEXDUMP_REDACTED))
		chunk_flush(c);
	c->dir = dir;
	c->flags = flags;
	(void)buf_add(&c->pending, p, n);
	if (crlf)
		(void)buf_add(&c->pending, "\r\n", 2);
}

static void
note(struct chunk *c, const char *what, const char *p, size_t n)
{
	char *e = escape_dup(p, n);

	chunk_flush(c);
	(void)fprintf(c->f, "*: %s%s\n", what, e);
	free(e);
}

void
show_hexdump(FILE *f, const struct histcmd_events *es)
{
	static const char raw[] = "[raw] ", tls_up[] = "TLS established";
	struct chunk c;
	const char *hidden;
	unsigned tls = 0;
	size_t i;

	memset(&c, 0, sizeof c);
	c.f = f;
	buf_init(&c.pending, 0);
	for (i = 0; i < es->n; i++) {
		const struct histcmd_event *e = &es->v[i];

		if (e->dir == 'S') {
			chunk_add(&c, 'S', tls, e->text, e->len, 1);
			continue;
		}
		if (e->dir != 'C') {
			if (e->len >= sizeof tls_up - 1 &&
			    memcmp(e->text, tls_up, sizeof tls_up - 1) == 0) {
				note(&c, "", e->text, e->len);
				(void)fputs(
				    "*: hexdump: TLS handshake (not "
				    "dumped); from here on the octets are "
				    "the TLS plaintext, decrypted\n",
				    f);
				tls = HEXDUMP_TLS;
				continue;
			}
			note(&c,
			    e->flags & HIST_EV_FAILURE       ? "error: "
			        : e->flags & HIST_EV_WARNING ? "warning: "
			                                     : "",
			    e->text, e->len);
			continue;
		}
		if ((hidden = histcmd_event_hidden(e)) != NULL)
			chunk_add(&c, 'C', tls | HEXDUMP_REDACTED, hidden,
			    strlen(hidden), 1);
		else if (e->flags & HIST_EV_REDACTED)
			chunk_add(&c, 'C', tls | HEXDUMP_REDACTED, e->text,
			    e->len, 1);
		else if (e->flags & HIST_EV_SUMMARY)
			note(&c,
			    "hexdump: streamed content, not recorded octet "
			    "for octet: ",
			    e->text, e->len);
		else if (e->len >= sizeof raw - 1 &&
		    memcmp(e->text, raw, sizeof raw - 1) == 0)
			chunk_add(&c, 'C', tls, e->text + sizeof raw - 1,
			    e->len - (sizeof raw - 1), 0);
		else
			chunk_add(&c, 'C', tls, e->text, e->len, 1);
	}
	chunk_flush(&c);
	buf_reset(&c.pending);
}
