/*
 * Fuzz target: content normalisation and dot-stuffing
 * (protocol/content.c), compared byte for byte with the obvious
 * whole-buffer reference below, while the real one is fed in chunks
 * whose sizes come from the input (a CR at the end of one chunk and an
 * LF at the start of the next must still be one line break).  The
 * output must never hold a bare CR or LF (SMTP smuggling) and must end
 * with CRLF "." CRLF.
 */
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "fuzz.h"
#include "protocol/content.h"

/* RFC 5321 4.5.2 on the whole input at once. */
static char *
reference(const uint8_t *in, size_t n, size_t *outlen)
{
	char *out = xmalloc(2 * n + 8);
	size_t i = 0, o = 0;
	int bol = 1;

	while (i < n) {
		if (in[i] == '\r' || in[i] == '\n') {
			i += in[i] == '\r' && i + 1 < n && in[i + 1] == '\n'
			    ? 2
			    : 1;
			out[o++] = '\r';
			out[o++] = '\n';
			bol = 1;
			continue;
		}
		if (bol && in[i] == '.')
			out[o++] = '.';
		out[o++] = (char)in[i++];
		bol = 0;
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	*outlen = o + 3;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_dotstuff ds;
	struct buf out;
	size_t off = 0, step, rlen, i, used;
	char *ref;
	const char *got;
	unsigned seed = size > 0 ? data[0] : 0;

	smtp_dotstuff_init(&ds);
	buf_init(&out, 0);
	while (off < size) {
		step = 1 + (seed * 31 + off) % 13;
		if (step > size - off)
			step = size - off;
		fuzz_check(smtp_dotstuff_feed(
		               &ds, (const char *)data + off, step, &out) == 0);
		off += step;
	}
	fuzz_check(smtp_dotstuff_finish(&ds, &out) == 0);
	ref = reference(data, size, &rlen);
	got = buf_peek(&out);
	used = buf_used(&out);
	if (used != rlen || memcmp(got, ref, rlen) != 0)
		fuzz_fail("dot-stuffed output differs from the reference");
	fuzz_check(ds.in_bytes == size);
	for (i = 0; i < used; i++) {
		if (got[i] == '\r')
			fuzz_check(i + 1 < used && got[i + 1] == '\n');
		if (got[i] == '\n')
			fuzz_check(i > 0 && got[i - 1] == '\r');
	}
	fuzz_check(used >= 3 && memcmp(got + used - 3, ".\r\n", 3) == 0);
	free(ref);
	buf_reset(&out);
	return 0;
}
