/*
 * The session's wire tap (session.h, smtp_session_wire_tap): the octets
 * that really leave (as the driver consumes them from the output
 * buffer) and arrive (as they are fed in), for --hexdump.
 *
 * Output holds secret lines (SASL responses, an AUTH command's initial
 * response) among ordinary ones.  Each is noted as a span of the output
 * stream (octets counted from the first one ever queued) with the form
 * the dialogue shows for it; when the driver consumes octets, the tap
 * gets the plain stretches as they are and, for a span, that display
 * form and CRLF instead, marked redacted, once, at the span's first
 * octet (a span written in two pieces is shown once).  As a second
 * line of defence every stretch and every read passes through the
 * session's secret mask (session_secret.c), as server lines do.  A
 * secret split between two reads by a server is not caught; the
 * dialogue, which sees whole lines, still masks it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/session_int.h"

void
smtp_session_wire_tap(struct smtp_session *s, smtp_wire_cb *cb, void *arg)
{
	s->wire_cb = cb;
	s->wire_arg = arg;
}

static void
tap(struct smtp_session *s, enum smtp_wire_dir dir, unsigned flags,
    const char *p, size_t n)
{
	struct smtp_wire w;
	char *masked;
	size_t mn;
	uint64_t now;

	if (n == 0 && dir != SMTP_WIRE_HANDSHAKE)
		return;
	memset(&w, 0, sizeof w);
	w.dir = dir;
	w.flags = flags | (s->tls ? SMTP_WIRE_TLS : 0);
	w.p = p;
	w.n = n;
	/* session_elapsed's sum: this file calls nothing of session.c. */
	now = s->now();
	w.t_us = now > s->t0 ? now - s->t0 : 0;
	masked = dir != SMTP_WIRE_HANDSHAKE && !(flags & SMTP_WIRE_REDACTED)
	    ? session_secret_mask(s, p, n, &mn)
	    : NULL;
	if (masked != NULL) {
		w.p = masked;
		w.n = mn;
	}
	s->wire_cb(&w, s->wire_arg);
	free(masked);
}

void
session_wire_secret(struct smtp_session *s, size_t n, const char *display)
{
	struct session_wire_span *sp;

	if (s->wire_cb == NULL)
		return;
	if (s->nspans == s->capspans) {
		s->capspans = s->capspans == 0 ? 4 : s->capspans * 2;
		s->spans =
		    xreallocarray(s->spans, s->capspans, sizeof *s->spans);
	}
	sp = &s->spans[s->nspans++];
	sp->start = s->out_done + buf_used(&s->out) - n;
	sp->len = n;
	sp->display = xasprintf("%s\r\n", display);
}

/* Drops the spans that end at or before pos. */
static void
spans_drop(struct smtp_session *s, uint64_t pos)
{
	size_t i, k = 0;

	for (i = 0; i < s->nspans; i++) {
		if (s->spans[i].start + s->spans[i].len <= pos) {
			free(s->spans[i].display);
			continue;
		}
		s->spans[k++] = s->spans[i];
	}
	s->nspans = k;
}

void
session_wire_out(struct smtp_session *s, const char *p, size_t n)
{
	uint64_t pos = s->out_done, end = s->out_done + n, upto;
	const struct session_wire_span *sp;
	size_t i;

	if (s->wire_cb == NULL)
		return;
	while (pos < end) {
		sp = NULL;
		for (i = 0; i < s->nspans; i++)
			if (s->spans[i].start + s->spans[i].len > pos &&
			    s->spans[i].start < end &&
			    (sp == NULL || s->spans[i].start < sp->start))
				sp = &s->spans[i];
		if (sp == NULL || sp->start > pos) {
			upto = sp == NULL ? end : sp->start;
			tap(s, SMTP_WIRE_OUT, 0, p + (pos - s->out_done),
			    (size_t)(upto - pos));
			pos = upto;
			continue;
		}
		if (sp->start == pos)
			tap(s, SMTP_WIRE_OUT, SMTP_WIRE_REDACTED, sp->display,
			    strlen(sp->display));
		pos = sp->start + sp->len < end ? sp->start + sp->len : end;
	}
	spans_drop(s, end);
}

void
smtp_session_wire_counts(
    const struct smtp_session *s, uint64_t *out, uint64_t *in)
{
	*out = s->out_done;
	*in = s->in_done;
}

void
session_wire_in(struct smtp_session *s, const char *p, size_t n)
{
	s->in_done += n;
	if (s->wire_cb != NULL)
		tap(s, SMTP_WIRE_IN, 0, p, n);
}

void
session_wire_tls(struct smtp_session *s, const char *summary)
{
	if (s->wire_cb != NULL)
		tap(s, SMTP_WIRE_HANDSHAKE, 0, summary, strlen(summary));
}

void
session_wire_free(struct smtp_session *s)
{
	spans_drop(s, UINT64_MAX);
	free(s->spans);
	s->spans = NULL;
	s->capspans = 0;
}
