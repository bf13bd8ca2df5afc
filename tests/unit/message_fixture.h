/*
 * The helpers the tests of protocol/message*.c share
 * (test_message.c, headers; test_message_body.c, encodings and
 * streaming): fixed generation options, generating a whole message into
 * memory with a given read size (or failing the test), the longest line
 * of a message, temporary attachment files, decoders for base64,
 * quoted-printable and encoded-words (the tests decode what the
 * generator encoded), and a message's body and one of its headers.
 * Include after <cmocka.h>.
 */
#ifndef EHLO_TESTS_MESSAGE_FIXTURE_H
#define EHLO_TESTS_MESSAGE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "protocol/message.h"

struct out {
	char *p;
	size_t n;
};

static const struct smtp_message_opts fixed = {
    .can_8bitmime = 1,
    .can_smtputf8 = 0,
    .date = 1700000000,
    .date_utc = 1,
    .message_id = "<fixed@example.org>",
    .boundary = "=_b",
};

/* The whole message, read cap bytes at a time. */
static inline int
gen(const struct smtp_message *m, const struct smtp_message_opts *o, size_t cap,
    struct out *out, char **err)
{
	struct smtp_message_build *b = smtp_message_build_new(m, o, err);
	char *buf;
	ssize_t r;

	out->p = NULL;
	out->n = 0;
	if (b == NULL)
		return -1;
	buf = xmalloc(cap);
	while ((r = smtp_message_build_read(b, buf, cap, err)) > 0) {
		out->p = xreallocarray(out->p, out->n + (size_t)r + 1, 1);
		memcpy(out->p + out->n, buf, (size_t)r);
		out->n += (size_t)r;
		out->p[out->n] = '\0';
	}
	assert_int_equal(r, 0);
	assert_int_equal(smtp_message_build_info(b)->size, out->n);
	free(buf);
	smtp_message_build_free(b);
	if (out->p == NULL)
		out->p = xstrdup("");
	return 0;
}

static inline char *
must_gen(const struct smtp_message *m, const struct smtp_message_opts *o)
{
	struct out out;
	char *err = NULL;

	if (gen(m, o, 4096, &out, &err) == -1)
		fail_msg("build failed: %s", err);
	return out.p;
}

static inline char *
must_fail(const struct smtp_message *m, const struct smtp_message_opts *o)
{
	char *err = NULL;
	struct smtp_message_build *b = smtp_message_build_new(m, o, &err);

	assert_null(b);
	assert_non_null(err);
	return err;
}

/* Every line ends in CRLF, no bare CR or LF, none over max octets. */
static inline void
check_lines(const char *p, size_t n, size_t max)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r') {
			assert_true(i + 1 < n && p[i + 1] == '\n');
			i++;
			col = 0;
			continue;
		}
		assert_true(p[i] != '\n');
		col++;
		if (col > max)
			fail_msg("line over %zu octets at offset %zu", max, i);
	}
}

static inline char *
tmp_file(const void *data, size_t n, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/ehlo-test-msg-XXXXXX",
	         tmp != NULL && *tmp != '\0' ? tmp : "/tmp"),
	     *path;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/%s", dir, name);
	free(dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	return path;
}

static inline void
rm_tmp(char *path)
{
	char *slash = strrchr(path, '/');

	(void)unlink(path);
	*slash = '\0';
	(void)rmdir(path);
	free(path);
}

static inline int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static inline int
b64val(int c)
{
	const char *a =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(a, c);

	return c != '\0' && p != NULL ? (int)(p - a) : -1;
}

/* Base64 (whitespace skipped) into out; returns the length. */
static inline size_t
b64_decode(const char *s, size_t n, unsigned char *out)
{
	unsigned v = 0;
	int bits = 0, d;
	size_t o = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] == '=')
			break;
		if ((d = b64val(s[i])) < 0)
			continue;
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return o;
}

/* Quoted-printable back to the text (hard breaks stay CRLF). */
static inline size_t
qp_decode(const char *s, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' &&
		    s[i + 2] == '\n') {
			i += 2;
			continue;
		}
		if (s[i] == '=' && i + 2 < n) {
			out[o++] =
			    (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
			continue;
		}
		out[o++] = s[i];
	}
	return o;
}

/* Decodes a sequence of encoded-words (folded) back to UTF-8. */
static inline char *
ew_decode(const char *s)
{
	char *out = xmalloc(strlen(s) + 1);
	size_t o = 0, k;
	const char *p = s, *end;
	char enc;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		assert_memory_equal(p, "=?utf-8?", 8);
		enc = p[8];
		assert_true(enc == 'Q' || enc == 'B');
		assert_int_equal(p[9], '?');
		p += 10;
		end = strstr(p, "?=");
		assert_non_null(end);
		if (enc == 'B')
			o += b64_decode(
			    p, (size_t)(end - p), (unsigned char *)out + o);
		else
			for (k = 0; p + k < end; k++) {
				if (p[k] == '_')
					out[o++] = ' ';
				else if (p[k] == '=') {
					out[o++] =
					    (char)(hexval(p[k + 1]) * 16 +
					        hexval(p[k + 2]));
					k += 2;
				} else
					out[o++] = p[k];
			}
		p = end + 2;
	}
	out[o] = '\0';
	return out;
}

/* The body after the blank line that ends the headers. */
static inline const char *
body_of(const char *msg)
{
	const char *p = strstr(msg, "\r\n\r\n");

	assert_non_null(p);
	return p + 4;
}

/* The value of header name (unfolded CRLF kept out), allocated. */
static inline char *
header_of(const char *msg, const char *name)
{
	const char *p = msg, *end = strstr(msg, "\r\n\r\n"), *v, *q;
	size_t n = strlen(name);
	char *out;
	size_t o = 0;

	while (p < end) {
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			v = p + n + 1;
			if (*v == ' ')
				v++;
			out = xmalloc(strlen(v) + 1);
			for (q = v; q < end; q++) {
				if (q[0] == '\r' && q[1] == '\n' &&
				    q[2] != ' ' && q[2] != '\t')
					break;
				if (q[0] == '\r' && q[1] == '\n') {
					q++;
					continue;
				}
				out[o++] = *q;
			}
			out[o] = '\0';
			return out;
		}
		p = strstr(p, "\r\n") + 2;
	}
	return NULL;
}

#endif
