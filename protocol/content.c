/*
 * DATA content transformation: CRLF normalisation and dot-stuffing in one
 * streaming pass.
 *
 *   RFC 5321  4.5.2 (transparency: dot-stuffing), 2.3.8 (lines end in
 *             CRLF; bare CR and LF must not be sent), 4.1.1.4 (the end of
 *             the data is CRLF "." CRLF)
 *
 * The state is a handful of flags and counters in struct smtp_dotstuff,
 * so a message of any size goes out chunk by chunk.  The inner loop
 * copies the run up to the next CR or LF into space reserved in the
 * output buffer up front.  With SSE2 (every x86-64) it scans and copies
 * 16 bytes per step: each block is stored whole, and the bytes past a
 * line break are overwritten by what follows (the reservation of 2n
 * leaves room); profiling showed the earlier memchr-per-line search (two
 * calls per CRLF line) plus memcpy as the largest cost of sending a big
 * message.  Elsewhere it finds the next CR and the next LF with memchr
 * (each searched once per chunk region, the positions remembered) and
 * copies the run with one memcpy.  A CR is turned into CRLF at once;
 * after_cr then swallows an LF that follows, even at the start of the
 * next chunk, so CR LF split across chunks still makes one line break.
 */
#include "protocol/content.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define CONTENT_SSE2 1
#endif

#include "core/buf.h"

void
smtp_dotstuff_init(struct smtp_dotstuff *st)
{
	memset(st, 0, sizeof *st);
	st->bol = 1;
}

#ifndef CONTENT_SSE2
/*
 * Next occurrence of c in [p, end), or end.  *next caches the previous
 * answer (NULL before the first search), still right while it is not
 * behind p.
 */
static const char *
content_next(const char **next, const char *p, const char *end, int c)
{
	const char *q;

	if (*next != NULL && *next >= p)
		return *next;
	q = memchr(p, c, (size_t)(end - p));
	*next = q == NULL ? end : q;
	return *next;
}
#endif

#ifdef CONTENT_SSE2
/*
 * Copies [p, first CR or LF in [p, end)) to d and returns where it
 * stopped.  May write bytes past the copied run, but never past
 * d + (end - p), which the caller's reservation of 2n covers.
 */
static const char *
content_copy_run(const char *p, const char *end, char *d)
{
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	__m128i v;
	unsigned m;

	while (end - p >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		_mm_storeu_si128((__m128i *)(void *)d, v);
		m = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
		if (m != 0)
			return p + __builtin_ctz(m);
		p += 16;
		d += 16;
	}
	while (p < end && *p != '\r' && *p != '\n')
		*d++ = *p++;
	return p;
}
#endif

int
smtp_dotstuff_feed(
    struct smtp_dotstuff *st, const char *in, size_t n, struct buf *out)
{
	const char *p = in, *end = in + n, *q;
#ifndef CONTENT_SSE2
	const char *next_cr = NULL, *next_lf = NULL;
#endif
	char *dst, *d;
	size_t run, cur = st->cur_line, longest = st->longest;
	uint64_t lines = 0, stuffed = 0, bare_cr = 0, bare_lf = 0;
	int bol = st->bol;

	if (n == 0)
		return 0;
	/* Every input byte yields at most two output bytes. */
	if (n > SIZE_MAX / 2 || (dst = buf_reserve(out, 2 * n)) == NULL)
		return -1;
	d = dst;

	if (st->after_cr) {
		st->after_cr = 0;
		if (*p == '\n')
			p++; /* second half of a CRLF split between chunks */
		else
			bare_cr++;
	}
	while (p < end) {
		if (bol && *p == '.') {
			*d++ = '.';
			stuffed++;
			cur++; /* lengths are as sent, for the 998 limit */
		}
#ifdef CONTENT_SSE2
		q = content_copy_run(p, end, d);
		run = (size_t)(q - p);
#else
		q = content_next(&next_cr, p, end, '\r');
		if (content_next(&next_lf, p, end, '\n') < q)
			q = next_lf;
		run = (size_t)(q - p);
		memcpy(d, p, run);
#endif
		if (run > 0) {
			d += run;
			cur += run;
			p = q;
			bol = 0;
		}
		if (p == end)
			break;

		*d++ = '\r';
		*d++ = '\n';
		lines++;
		if (cur > longest)
			longest = cur;
		cur = 0;
		bol = 1;
		if (*p++ == '\n') {
			bare_lf++;
		} else if (p == end) {
			st->after_cr = 1;
		} else if (*p == '\n') {
			p++;
		} else {
			bare_cr++;
		}
	}

	buf_commit(out, (size_t)(d - dst));
	st->bol = bol;
	st->cur_line = cur;
	st->longest = longest;
	st->in_bytes += n;
	st->out_bytes += (uint64_t)(d - dst);
	st->lines += lines;
	st->stuffed += stuffed;
	st->bare_cr += bare_cr;
	st->bare_lf += bare_lf;
	return 0;
}

int
smtp_dotstuff_finish(struct smtp_dotstuff *st, struct buf *out)
{
	char *dst, *d;

	if ((dst = buf_reserve(out, 5)) == NULL)
		return -1;
	d = dst;
	if (st->after_cr) {
		/* The CRLF went out already; it was a bare CR after all. */
		st->after_cr = 0;
		st->bare_cr++;
	}
	if (!st->bol) {
		*d++ = '\r';
		*d++ = '\n';
		st->lines++;
		if (st->cur_line > st->longest)
			st->longest = st->cur_line;
		st->cur_line = 0;
		st->bol = 1;
	}
	/* Bytes for the wire, not a C string. */
	memcpy(d, ".\r\n", 3); /* NOLINT(bugprone-not-null-terminated-result) */
	d += 3;
	buf_commit(out, (size_t)(d - dst));
	st->out_bytes += (uint64_t)(d - dst);
	return 0;
}
