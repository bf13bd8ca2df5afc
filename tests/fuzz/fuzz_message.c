/*
 * Fuzz target: the MIME builder (protocol/message*.c).  The input is cut
 * into fields at NUL bytes: a flags byte, then From, To, Cc, Bcc,
 * Subject and two extra headers, and the rest is the body (which may
 * hold NULs).  The message is built with the options the flags choose
 * and read back in chunk sizes from a seeded generator; the result must
 * keep the builder's promises (protocol/message.h):
 *
 *   - lines end in CRLF (the last one only when the body ends in a line
 *     break), no bare CR or LF, none over 998 octets;
 *   - the byte count equals info->size, and the preview gives the same
 *     bytes;
 *   - no Bcc header, and a marker address given only as Bcc never
 *     appears;
 *   - a header value holding CR or LF is refused (no injection), and the
 *     header block holds only the fields the builder writes or was
 *     given.
 *
 * smtp_message_encode_words() is given the subject too: CRLF SP between
 * words, each at most 75 octets, ASCII text unchanged.
 */
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "fuzz.h"
#include "protocol/message.h"

#define FM_MARKER "fuzz-bcc-marker@bcc.invalid"
#define FM_NFIELDS 7 /* From To Cc Bcc Subject Header Header */
#define FM_OUT_MAX (4u * 1024 * 1024)

static const char *const fm_builtin[] = {"From", "To", "Cc", "Reply-To",
    "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
    "Content-Transfer-Encoding"};

/* A small generator so chunk sizes vary but replay the same way. */
static unsigned
fm_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static int
fm_has_crlf(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/*
 * Exact bytes: case-blind matching would find the marker in
 * quoted-printable ("=9Fuzz-bcc-..." holds "Fuzz-bcc-...").
 */
static int
fm_contains(const uint8_t *h, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(h + i, needle, k) == 0)
			return 1;
	return 0;
}

/*
 * Lines: CRLF only, at most 998 octets before the CRLF.  Returns the
 * length of an unterminated last line (RFC 5322 allows one; the
 * dot-stuffer ends it before the final dot).
 */
static size_t
fm_check_lines(const char *out, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if (out[i] == '\r') {
			fuzz_check(i + 1 < n && out[i + 1] == '\n');
			i++;
			col = 0;
			continue;
		}
		fuzz_check(out[i] != '\n');
		col++;
		fuzz_check(col <= 998);
	}
	return col;
}

/*
 * The header block (up to the first empty line): each field starts with
 * a name the builder writes or the caller gave; no Bcc.
 */
static void
fm_check_headers(const char *out, size_t n, const char *const *hdr, size_t nh)
{
	const char *p = out, *end = out + n, *eol, *colon;
	size_t i, len;
	int ok, from = 0;

	while (p < end) {
		eol = memchr(p, '\r', (size_t)(end - p));
		fuzz_check(eol != NULL);
		if (eol == p)
			break; /* the empty line: the body follows */
		if (*p == ' ' || *p == '\t') {
			/* A continuation is never blank (it would unfold). */
			for (i = 0; p + i < eol; i++)
				if (p[i] != ' ' && p[i] != '\t')
					break;
			fuzz_check(p + i < eol);
			p = eol + 2;
			continue;
		}
		colon = memchr(p, ':', (size_t)(eol - p));
		fuzz_check(colon != NULL);
		len = (size_t)(colon - p);
		fuzz_check(!(len == 3 && strncasecmp(p, "Bcc", 3) == 0));
		if (len == 4 && strncasecmp(p, "From", 4) == 0)
			from++;
		ok = 0;
		for (i = 0; i < sizeof fm_builtin / sizeof fm_builtin[0]; i++)
			if (strlen(fm_builtin[i]) == len &&
			    strncasecmp(p, fm_builtin[i], len) == 0)
				ok = 1;
		for (i = 0; i < nh; i++)
			if (hdr[i] != NULL && strncmp(hdr[i], p, len) == 0 &&
			    hdr[i][len] == ':')
				ok = 1;
		fuzz_check(ok);
		p = eol + 2;
	}
	fuzz_check(p < end); /* the header block ends */
	fuzz_check(from == 1);
}

static void
fm_check_words(const char *text, size_t col)
{
	char *w = smtp_message_encode_words(text, col);
	size_t i, wl = 0, n = strlen(w);
	int ascii = 1;

	for (i = 0; text[i] != '\0'; i++)
		if ((unsigned char)text[i] >= 0x80)
			ascii = 0;
	if (ascii) {
		fuzz_check(strcmp(w, text) == 0);
		free(w);
		return;
	}
	for (i = 0; i < n; i++) {
		if (w[i] == '\r') {
			fuzz_check(
			    i + 2 < n && w[i + 1] == '\n' && w[i + 2] == ' ');
			i += 2;
			wl = 0;
			continue;
		}
		fuzz_check(w[i] != '\n');
		fuzz_check(
		    (unsigned char)w[i] >= 0x21 && (unsigned char)w[i] < 0x7f);
		wl++;
		fuzz_check(wl <= 75);
	}
	free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_message m;
	struct smtp_message_opts o;
	struct smtp_message_build *b;
	const struct smtp_message_info *info;
	char *f[FM_NFIELDS] = {NULL}, *out, *errstr = NULL, *pv;
	const char *bcc[2], *hdr[2];
	const uint8_t *p, *end, *nul;
	size_t i, got = 0, cap, pvlen;
	unsigned flags, seed;
	int injected = 0, truncated;
	ssize_t r;

	if (size == 0)
		return 0;
	flags = data[0];
	seed = size > 1 ? data[1] : 0;
	p = data + 1;
	end = data + size;
	for (i = 0; i < FM_NFIELDS && p < end; i++) {
		nul = memchr(p, '\0', (size_t)(end - p));
		if (nul == NULL)
			nul = end;
		f[i] = xstrndup((const char *)p, (size_t)(nul - p));
		p = nul < end ? nul + 1 : end;
	}

	smtp_message_init(&m);
	memset(&o, 0, sizeof o);
	o.can_8bitmime = (flags & 1) != 0;
	o.can_smtputf8 = (flags & 2) != 0;
	o.date = 1700000000;
	o.date_utc = 1;
	o.message_id = "<fuzz@message.test>";
	o.boundary = "fuzz-boundary";
	o.read_chunk = 1 + (flags >> 2) * 37u;
	m.from = f[0];
	m.to.v = (const char *const *)&f[1];
	m.to.n = f[1] != NULL;
	m.cc.v = (const char *const *)&f[2];
	m.cc.n = f[2] != NULL;
	bcc[0] = f[3] != NULL ? f[3] : "";
	bcc[1] = FM_MARKER;
	m.bcc.v = bcc;
	m.bcc.n = 2;
	m.subject = f[4];
	hdr[0] = f[5];
	hdr[1] = f[6];
	m.headers.v = hdr;
	m.headers.n = f[6] != NULL ? 2 : f[5] != NULL;
	m.body_mem = (const char *)p;
	m.body_len = (size_t)(end - p);
	for (i = 0; i < FM_NFIELDS; i++)
		injected |= fm_has_crlf(f[i]);

	if (f[4] != NULL)
		fm_check_words(f[4], flags % 80);

	b = smtp_message_build_new(&m, &o, &errstr);
	if (b == NULL) {
		fuzz_check(errstr != NULL);
		free(errstr);
		goto out;
	}
	/* A line break in any header value must have been refused. */
	fuzz_check(!injected);
	info = smtp_message_build_info(b);
	fuzz_check(info->size < FM_OUT_MAX);
	out = xmalloc((size_t)info->size + 1);
	for (;;) {
		cap = 1 + fm_rand(&seed) % 700;
		if (cap > (size_t)info->size + 1 - got)
			cap = (size_t)info->size + 1 - got;
		r = smtp_message_build_read(b, out + got, cap, &errstr);
		fuzz_check(r >= 0);
		if (r == 0)
			break;
		got += (size_t)r;
		fuzz_check(got <= info->size);
	}
	fuzz_check(got == info->size);
	smtp_message_build_free(b);

	/* Only a body without a final line break leaves the last open. */
	if (fm_check_lines(out, got) != 0)
		fuzz_check(
		    m.body_len > 0 && end[-1] != '\r' && end[-1] != '\n');
	fm_check_headers(out, got, hdr, m.headers.n);
	/* The Bcc marker, when it came from nowhere else, never shows. */
	if (!fm_contains(data, size, FM_MARKER))
		fuzz_check(!fm_contains((const uint8_t *)out, got, FM_MARKER));

	pv = smtp_message_preview(&m, &o, got + 1, &pvlen, &truncated, &errstr);
	fuzz_check(pv != NULL);
	fuzz_check(pvlen == got && !truncated);
	fuzz_check(memcmp(pv, out, got) == 0);
	free(pv);
	free(out);
out:
	for (i = 0; i < FM_NFIELDS; i++)
		free(f[i]);
	return 0;
}
