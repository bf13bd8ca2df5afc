/*
 * Fuzz target: the header reader of a prepared message
 * (protocol/message_eml.c, ehlo send --eml [-t]).  The input is the
 * message file; it is read with and without drop_bcc, and the reader
 * must keep its promises (protocol/message_int.h):
 *
 *   - it fails, with a message, exactly when the header block (through
 *     the first empty line, else the whole input) holds a NUL byte, or
 *     (with drop_bcc, where the block is rewritten) a bare CR;
 *   - the body starts where that block ends;
 *   - the unfolded values hold no CR or LF, a Bcc value exactly when a
 *     Bcc field was seen, and both reads agree on them;
 *   - the rewritten block has CRLF line ends only, and with drop_bcc no
 *     field named Bcc; without drop_bcc it is the block itself with its
 *     line ends normalised.
 */
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"
#include "fuzz.h"
#include "protocol/message_int.h"

/* The reference: where the header block ends (as RFC 5322 reads it). */
static size_t
fe_head_end(const uint8_t *p, size_t n)
{
	size_t i;

	if (n >= 1 && p[0] == '\n')
		return 1;
	if (n >= 2 && p[0] == '\r' && p[1] == '\n')
		return 2;
	for (i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return n;
}

static int
fe_bare_cr(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return 1;
	return 0;
}

static void
fe_clean(const char *v)
{
	if (v != NULL)
		fuzz_check(strchr(v, '\r') == NULL && strchr(v, '\n') == NULL);
}

/* CRLF line ends only; with drop_bcc, no line that starts a Bcc field. */
static void
fe_check_block(const struct message_eml_head *h, int drop_bcc)
{
	const char *p = h->without_bcc;
	size_t i, n = h->without_bcc_len;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			fuzz_check(i > 0 && p[i - 1] == '\r');
		if (p[i] == '\r')
			fuzz_check(i + 1 < n && p[i + 1] == '\n');
		if (drop_bcc && (i == 0 || p[i - 1] == '\n'))
			fuzz_check(
			    n - i < 4 || strncasecmp(p + i, "Bcc:", 4) != 0);
	}
}

static int
fe_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct message_eml_head h[2];
	size_t end = fe_head_end(data, size);
	int nul = memchr(data, '\0', end) != NULL, drop, rc;
	char *err;
	struct buf want;
	struct message_norm norm;

	if (fd == -1) {
		FILE *f = tmpfile();

		fuzz_check(f != NULL);
		fd = fileno(f);
	}
	fuzz_check(ftruncate(fd, 0) == 0);
	fuzz_check(pwrite(fd, data, size, 0) == (ssize_t)size);
	for (drop = 0; drop <= 1; drop++) {
		err = NULL;
		rc = message_eml_head_read(fd, drop, &h[drop], &err);
		if (nul || (drop && fe_bare_cr(data, end))) {
			fuzz_check(rc == -1 && err != NULL);
			free(err);
			if (drop)
				message_eml_head_free(&h[0]);
			return 0;
		}
		fuzz_check(rc == 0 && err == NULL);
		fuzz_check(h[drop].body_off == end);
		fe_clean(h[drop].from);
		fe_clean(h[drop].to);
		fe_clean(h[drop].cc);
		fe_clean(h[drop].bcc);
		fe_clean(h[drop].message_id);
		fe_clean(h[drop].date);
		fuzz_check((h[drop].bcc != NULL) == (h[drop].had_bcc != 0));
		fe_check_block(&h[drop], drop);
	}
	fuzz_check(fe_same(h[0].from, h[1].from) && fe_same(h[0].to, h[1].to));
	fuzz_check(fe_same(h[0].cc, h[1].cc) && fe_same(h[0].bcc, h[1].bcc));
	fuzz_check(fe_same(h[0].date, h[1].date));
	fuzz_check(fe_same(h[0].message_id, h[1].message_id));
	buf_init(&want, 0);
	memset(&norm, 0, sizeof norm);
	message_norm_feed(&norm, data, end, &want);
	fuzz_check(h[0].without_bcc_len == buf_used(&want) &&
	    memcmp(h[0].without_bcc, buf_peek(&want), buf_used(&want)) == 0);
	buf_reset(&want);
	message_eml_head_free(&h[0]);
	message_eml_head_free(&h[1]);
	return 0;
}
