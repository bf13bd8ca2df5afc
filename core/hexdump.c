/*
 * The hex dump of bytes on the wire (see hexdump.h): a pure formatter
 * over caller-owned offsets, so line mode, the workbench and `ehlo show`
 * print the same lines.  The printable column shows printable ASCII
 * (0x20..0x7e) and '.' for every other octet: a dump is safe to print
 * whatever the server sent.
 */
#include "core/hexdump.h"

#include <stdio.h>

#include "core/buf.h"

static size_t
line_w(char out[HEXDUMP_LINE_MAX], uint64_t off, const void *p, size_t n,
    size_t width)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = p;
	size_t i, k;
	int w;

	if (n > width)
		n = width;
	/* At most 16 digits and two blanks: it always fits. */
	w = snprintf(out, 24, "%08llx  ", (unsigned long long)off);
	k = w > 0 ? (size_t)w : 0;
	for (i = 0; i < width; i++) {
		if (i == width / 2 && width == HEXDUMP_WIDTH)
			out[k++] = ' ';
		if (i < n) {
			out[k++] = hex[u[i] >> 4];
			out[k++] = hex[u[i] & 0xf];
		} else {
			out[k++] = ' ';
			out[k++] = ' ';
		}
		out[k++] = ' ';
	}
	out[k++] = ' ';
	for (i = 0; i < n; i++)
		out[k++] = u[i] >= 0x20 && u[i] < 0x7f ? (char)u[i] : '.';
	out[k] = '\0';
	return k;
}

size_t
hexdump_line(char out[HEXDUMP_LINE_MAX], uint64_t off, const void *p, size_t n)
{
	return line_w(out, off, p, n, HEXDUMP_WIDTH);
}

int
hexdump_chunk(struct hexdump *hd, struct buf *b, int server, unsigned flags,
    const void *p, size_t n)
{
	const char *prefix = server ? "S< " : "C> ";
	const unsigned char *u = p;
	char line[HEXDUMP_LINE_MAX];
	size_t i, len, w = hd->narrow ? HEXDUMP_WIDTH / 2 : HEXDUMP_WIDTH;
	int rc = 0;

	server = server != 0;
	rc |= buf_add_printf(b, "%s%zu octet%s%s%s\n", prefix, n,
	    n == 1 ? "" : "s", flags & HEXDUMP_TLS ? " (TLS, decrypted)" : "",
	    flags & HEXDUMP_REDACTED
	        ? " (redacted: the line as the dialogue shows it, "
	          "not the octets sent)"
	        : "");
	for (i = 0; i < n; i += w) {
		len = line_w(
		    line, hd->off[server] + i, u + i, n - i < w ? n - i : w, w);
		rc |= buf_add_str(b, prefix);
		rc |= buf_add(b, line, len);
		rc |= buf_add(b, "\n", 1);
	}
	hd->off[server] += n;
	return rc != 0 ? -1 : 0;
}
