/*
 * Unit tests for protocol/message*.c: the exact bytes of a simple
 * message, RFC 2047 encoded-words (decoded back here), quoted-printable
 * and base64 line lengths (decoded back), the 998-octet limit, Bcc kept
 * out of the headers, header injection refused, the MIME structure
 * with RFC 2231 filenames, SMTPUTF8 decisions, the exact SIZE estimate,
 * and identical output whatever the read and chunk sizes.  The draft
 * mapping of tui/draft.c is checked at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "protocol/message.h"
#include "tui/draft.h"

/* ---- helpers ------------------------------------------------------- */

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
static int
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

static char *
must_gen(const struct smtp_message *m, const struct smtp_message_opts *o)
{
	struct out out;
	char *err = NULL;

	if (gen(m, o, 4096, &out, &err) == -1)
		fail_msg("build failed: %s", err);
	return out.p;
}

static char *
must_fail(const struct smtp_message *m, const struct smtp_message_opts *o)
{
	char *err = NULL;
	struct smtp_message_build *b = smtp_message_build_new(m, o, &err);

	assert_null(b);
	assert_non_null(err);
	return err;
}

/* Every line ends in CRLF, no bare CR or LF, none over max octets. */
static void
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

static char *
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

static void
rm_tmp(char *path)
{
	char *slash = strrchr(path, '/');

	(void)unlink(path);
	*slash = '\0';
	(void)rmdir(path);
	free(path);
}

static int
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

static int
b64val(int c)
{
	const char *a =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(a, c);

	return c != '\0' && p != NULL ? (int)(p - a) : -1;
}

/* Base64 (whitespace skipped) into out; returns the length. */
static size_t
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
static size_t
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
static char *
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
static const char *
body_of(const char *msg)
{
	const char *p = strstr(msg, "\r\n\r\n");

	assert_non_null(p);
	return p + 4;
}

/* The value of header name (unfolded CRLF kept out), allocated. */
static char *
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

/* ---- tests --------------------------------------------------------- */

static void
test_exact_simple(void **state)
{
	struct smtp_message m;
	const char *to[] = {"Bob <bob@example.org>", "carol@example.org"};
	const char *cc[] = {"\"Doe, Jane\" <jane@example.org>"};
	const char *hdr[] = {"X-Mailer: ehlo test"};
	char *out;

	(void)state;
	smtp_message_init(&m);
	m.from = "Ann Example <ann@example.org>";
	m.to.v = to;
	m.to.n = 2;
	m.cc.v = cc;
	m.cc.n = 1;
	m.subject = "Hello";
	m.headers.v = hdr;
	m.headers.n = 1;
	m.body_mem = "line one\nline two\n";
	m.body_len = strlen(m.body_mem);
	out = must_gen(&m, &fixed);
	assert_string_equal(out,
	    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	    "From: Ann Example <ann@example.org>\r\n"
	    "To: Bob <bob@example.org>, carol@example.org\r\n"
	    "Cc: \"Doe, Jane\" <jane@example.org>\r\n"
	    "Subject: Hello\r\n"
	    "Message-ID: <fixed@example.org>\r\n"
	    "X-Mailer: ehlo test\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n"
	    "\r\n"
	    "line one\r\nline two\r\n");
	free(out);
}

static void
test_generated_date_and_id(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	struct smtp_message_opts o = {0};
	char *out, *id, *date;

	(void)state;
	smtp_message_init(&m);
	m.from = "ann@mail.example.org";
	m.to.v = to;
	m.to.n = 1;
	out = must_gen(&m, &o);
	id = header_of(out, "Message-ID");
	assert_non_null(id);
	assert_int_equal(id[0], '<');
	assert_non_null(strstr(id, "@mail.example.org>"));
	assert_int_equal(strlen(id), 1 + 32 + 1 + strlen("mail.example.org>"));
	date = header_of(out, "Date");
	assert_non_null(date);
	/* "Tue, 14 Nov 2023 22:13:20 +0100" */
	assert_int_equal(strlen(date), 31);
	assert_int_equal(date[3], ',');
	assert_true(date[26] == '+' || date[26] == '-');
	free(id);
	free(date);
	free(out);
}

static void
test_encoded_words(void **state)
{
	const char *texts[] = {
	    "Grüße aus Köln – ein Test mit einer längeren Betreffzeile, die "
	    "gefaltet werden muss, weil sie sehr lang ist",
	    "日本語のテキストはBエンコーディングになるはずです。とても長い件名"
	    "を作って折り返しを確かめます。",
	    "a😀b😀c😀d😀e😀f😀g😀h😀i😀j😀k😀l😀m😀n😀o😀p😀q😀r😀",
	    "é",
	};
	size_t i;
	char *w, *back, *line, *nl;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		w = smtp_message_encode_words(texts[i], strlen("Subject:"));
		back = ew_decode(w);
		assert_string_equal(back, texts[i]);
		/* Lines: the first after "Subject: ", all within 76. */
		for (line = w; line != NULL; line = nl) {
			nl = strstr(line, "\r\n");
			assert_true(
			    (nl != NULL ? (size_t)(nl - line) : strlen(line)) +
			        (line == w ? strlen("Subject: ") : 0) <=
			    76);
			if (nl != NULL)
				nl += 2;
		}
		free(back);
		free(w);
	}
	w = smtp_message_encode_words("plain ascii", 9);
	assert_string_equal(w, "plain ascii");
	free(w);
	/* Mostly ASCII picks Q, mostly not picks B. */
	w = smtp_message_encode_words("hello world \xc3\xa9", 9);
	assert_string_equal(w, "=?utf-8?Q?hello_world_=C3=A9?=");
	free(w);
	w = smtp_message_encode_words("日本", 9);
	assert_string_equal(w, "=?utf-8?B?5pel5pys?=");
	free(w);
}

static void
test_subject_folded_in_message(void **state)
{
	struct smtp_message m;
	const char *to[] = {"Jörg Müller <joerg@example.org>"};
	char *out, *subj, *back, *tohdr;

	(void)state;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.subject = "Über den Wolken muss die Freiheit wohl grenzenlos sein, "
	            "singt Reinhard Mey";
	out = must_gen(&m, &fixed);
	check_lines(out, strlen(out), 78);
	subj = header_of(out, "Subject");
	back = ew_decode(subj);
	assert_string_equal(back, m.subject);
	tohdr = header_of(out, "To");
	assert_non_null(strstr(tohdr, "?= <joerg@example.org>"));
	free(back);
	free(subj);
	free(tohdr);
	free(out);
}

static void
test_long_ascii_header_folds(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	char subject[600], *out, *back;
	size_t i;

	(void)state;
	for (i = 0; i + 1 < sizeof subject; i++)
		subject[i] = i % 7 == 6 ? ' ' : (char)('a' + i % 26);
	subject[sizeof subject - 1] = '\0';
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.subject = subject;
	out = must_gen(&m, &fixed);
	check_lines(out, strlen(out), 78);
	back = header_of(out, "Subject");
	assert_string_equal(back, subject); /* unfolding gives it back */
	free(back);
	free(out);
}

static void
test_998_limit(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	char *body = xmalloc(3001), *out, *dec, *err;
	size_t n;

	(void)state;
	memset(body, 'x', 3000);
	body[1500] = '\n';
	body[3000] = '\0';
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.body_mem = body;
	m.body_len = 3000;
	out = must_gen(&m, &fixed);
	check_lines(out, strlen(out), 998);
	assert_non_null(
	    strstr(out, "Content-Transfer-Encoding: quoted-printable"));
	check_lines(body_of(out), strlen(body_of(out)), 76);
	dec = xmalloc(strlen(out));
	n = qp_decode(body_of(out), strlen(body_of(out)), dec);
	assert_int_equal(n, 3001);
	assert_memory_equal(dec, body, 1500);
	assert_memory_equal(dec + 1500, "\r\n", 2);
	free(dec);
	free(out);

	/* A word no line can hold is refused, not split. */
	memset(body, 'y', 1200);
	body[1200] = '\0';
	{
		const char *hdr[] = {NULL};
		char *line = xasprintf("X-Long: %s", body);

		hdr[0] = line;
		m.headers.v = hdr;
		m.headers.n = 1;
		m.body_mem = NULL;
		err = must_fail(&m, &fixed);
		assert_non_null(strstr(err, "998"));
		free(err);
		free(line);
	}
	free(body);
}

static void
test_qp_rules(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	struct smtp_message_opts o = fixed;
	const char *text = "caf\xc3\xa9 = tr\xc3\xa8s bon   \n"
	                   "tab at end\t\n"
	                   "x\r\n"
	                   "trailing blank at the very end ";
	char *out, *dec;
	const char *b;
	size_t n;

	(void)state;
	o.can_8bitmime = 0;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.body_mem = text;
	m.body_len = strlen(text);
	out = must_gen(&m, &o);
	assert_non_null(strstr(out, "charset=utf-8"));
	assert_non_null(
	    strstr(out, "Content-Transfer-Encoding: quoted-printable"));
	b = body_of(out);
	assert_string_equal(b,
	    "caf=C3=A9 =3D tr=C3=A8s bon  =20\r\n"
	    "tab at end=09\r\n"
	    "x\r\n"
	    "trailing blank at the very end=20");
	dec = xmalloc(strlen(b) + 1);
	n = qp_decode(b, strlen(b), dec);
	assert_int_equal(n, strlen(text) + 2); /* two LF became CRLF */
	free(dec);
	free(out);

	/* The same text with 8BITMIME goes as 8bit. */
	out = must_gen(&m, &fixed);
	assert_non_null(strstr(out, "Content-Transfer-Encoding: 8bit"));
	free(out);
}

static void
test_qp_soft_breaks(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	struct smtp_message_opts o = fixed;
	char text[2000], *out, *dec;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof text; i++)
		text[i] = "a =\xc3\xa9\t"[i % 6];
	o.can_8bitmime = 0;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.body_mem = text;
	m.body_len = sizeof text;
	out = must_gen(&m, &o);
	check_lines(body_of(out), strlen(body_of(out)), 76);
	dec = xmalloc(strlen(out));
	n = qp_decode(body_of(out), strlen(body_of(out)), dec);
	assert_int_equal(n, sizeof text);
	assert_memory_equal(dec, text, sizeof text);
	free(dec);
	free(out);
}

static void
test_bcc_absent(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	const char *bcc[] = {
	    "Hidden Person <hidden@example.org>", "bob@example.org"};
	struct smtp_message_build *b;
	const struct smtp_message_info *info;
	char *out, *err = NULL;

	(void)state;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.bcc.v = bcc;
	m.bcc.n = 2;
	out = must_gen(&m, &fixed);
	assert_null(strstr(out, "hidden"));
	assert_null(strstr(out, "Hidden"));
	assert_null(strstr(out, "Bcc"));
	free(out);
	b = smtp_message_build_new(&m, &fixed, &err);
	assert_non_null(b);
	info = smtp_message_build_info(b);
	assert_string_equal(info->env_from, "ann@example.org");
	assert_int_equal(info->nrcpts, 2); /* bob once */
	assert_string_equal(info->rcpts[0], "bob@example.org");
	assert_string_equal(info->rcpts[1], "hidden@example.org");
	smtp_message_build_free(b);

	/* Bcc as an extra header is refused. */
	{
		const char *hdr[] = {"Bcc: x@example.org"};

		m.headers.v = hdr;
		m.headers.n = 1;
		err = must_fail(&m, &fixed);
		assert_non_null(strstr(err, "--bcc"));
		free(err);
	}
}

static void
test_injection_refused(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	const char *evil_to[] = {"Bob\r\nBcc: x@example.org <bob@example.org>"};
	const char *hdr_lf[] = {"X-Test: a\nBcc: evil@example.org"};
	const char *hdr_name[] = {"X Test: a"};
	const char *hdr_nocolon[] = {"X-Test a"};
	const char *hdr_ctl[] = {"X-Test: a\x01"};
	char *err;

	(void)state;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.subject = "hi\r\nBcc: evil@example.org";
	err = must_fail(&m, &fixed);
	assert_non_null(strstr(err, "injection"));
	free(err);
	m.subject = "hi";

	m.headers.v = hdr_lf;
	m.headers.n = 1;
	err = must_fail(&m, &fixed);
	assert_non_null(strstr(err, "injection"));
	free(err);
	m.headers.v = hdr_name;
	err = must_fail(&m, &fixed);
	free(err);
	m.headers.v = hdr_nocolon;
	err = must_fail(&m, &fixed);
	free(err);
	m.headers.v = hdr_ctl;
	err = must_fail(&m, &fixed);
	assert_non_null(strstr(err, "control"));
	free(err);
	m.headers.n = 0;

	m.to.v = evil_to;
	err = must_fail(&m, &fixed);
	assert_non_null(strstr(err, "injection"));
	free(err);
	m.to.v = to;
	m.from = "ann@example.org\n";
	err = must_fail(&m, &fixed);
	free(err);
}

static void
test_bad_addresses(void **state)
{
	struct smtp_message m;
	const char *bad[] = {"no-at-sign"};
	const char *bad2[] = {"Bob <bob@example.org"};
	const char *bad3[] = {"two words@example.org"};
	char *err;

	(void)state;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	err = must_fail(&m, &fixed);
	assert_non_null(strstr(err, "no recipient"));
	free(err);
	m.to.n = 1;
	m.to.v = bad;
	err = must_fail(&m, &fixed);
	free(err);
	m.to.v = bad2;
	err = must_fail(&m, &fixed);
	free(err);
	m.to.v = bad3;
	err = must_fail(&m, &fixed);
	free(err);
	m.from = NULL;
	err = must_fail(&m, &fixed);
	assert_non_null(strstr(err, "--from"));
	free(err);
}

static void
test_smtputf8(void **state)
{
	struct smtp_message m;
	const char *to[] = {"jörg@bücher.example"};
	struct smtp_message_opts o = fixed;
	struct smtp_message_build *b;
	char *err = NULL, *out;

	(void)state;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.subject = "Grüße";
	err = must_fail(&m, &fixed);
	assert_non_null(strstr(err, "SMTPUTF8"));
	free(err);
	o.can_smtputf8 = 1;
	b = smtp_message_build_new(&m, &o, &err);
	assert_non_null(b);
	assert_true(smtp_message_build_info(b)->need_smtputf8);
	smtp_message_build_free(b);
	out = must_gen(&m, &o);
	/* RFC 6532: UTF-8 headers as they are. */
	assert_non_null(strstr(out, "Subject: Grüße\r\n"));
	assert_non_null(strstr(out, "To: jörg@bücher.example\r\n"));
	free(out);
}

static void
test_mime_structure(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	unsigned char bin[10000], *dec;
	const char *att[2];
	char *p1, *p2, *out, *part, *end;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)(i * 7 + i / 251);
	p1 = tmp_file(bin, sizeof bin, "data.bin");
	p2 = tmp_file("plain text\n", 11,
	    "Prüfbericht für das Jahr 2024 – endgültige Fassung mit "
	    "sehr langem Namen.txt");
	att[0] = p1;
	att[1] = p2;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.body_mem = "see attached\n";
	m.body_len = 13;
	m.attach.v = att;
	m.attach.n = 2;
	out = must_gen(&m, &fixed);
	check_lines(out, strlen(out), 78);
	assert_non_null(strstr(out,
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed;\r\n"
	    " boundary=\"=_b\"\r\n\r\n"));
	assert_non_null(strstr(out,
	    "\r\n--=_b\r\n"
	    "Content-Type: text/plain; "
	    "charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "see attached\r\n"));
	assert_non_null(strstr(out,
	    "Content-Disposition: attachment;\r\n "
	    "filename=\"data.bin\"\r\n\r\n"));
	assert_non_null(strstr(out, " filename*0*=utf-8''Pr%C3%BCfbericht"));
	assert_non_null(strstr(out, " filename*1*="));
	assert_non_null(strstr(out, "Content-Type: text/plain\r\n"));
	n = strlen(out);
	assert_true(n > 11);
	assert_memory_equal(out + n - 11, "\r\n--=_b--\r\n", 11);
	/* The first attachment decodes to the bytes, in 76-char lines. */
	part = strstr(out, "filename=\"data.bin\"\r\n\r\n");
	part += strlen("filename=\"data.bin\"\r\n\r\n");
	end = strstr(part, "\r\n--=_b");
	for (i = 0; part + i < end; i += 78) {
		size_t len = (size_t)(end - part - (ptrdiff_t)i);

		assert_true(len <= 76 ||
		    (part[i + 76] == '\r' && part[i + 77] == '\n'));
	}
	dec = xmalloc(sizeof bin);
	n = b64_decode(part, (size_t)(end - part), dec);
	assert_int_equal(n, sizeof bin);
	assert_memory_equal(dec, bin, sizeof bin);
	free(dec);
	free(out);
	rm_tmp(p1);
	rm_tmp(p2);
}

static void
test_streaming_identical(void **state)
{
	struct smtp_message m;
	const char *to[] = {"Jörg <joerg@example.org>"};
	struct smtp_message_opts o = fixed;
	unsigned char bin[5000];
	char text[7000], *p1, *body;
	const char *att[1];
	struct out ref, got;
	size_t caps[] = {1, 2, 3, 7, 76, 77, 4096};
	size_t chunks[] = {1, 2, 3, 5, 57, 1000};
	static const char pattern[] =
	    "Zeile mit Umlaut \xc3\xa4 und = \r\n.punkt \t\n\r";
	size_t i, k, q;
	char *err = NULL;
	int qp;

	(void)state;
	for (i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)(i * 131 + 17);
	for (i = 0; i < sizeof text; i++)
		text[i] = pattern[i % (sizeof pattern - 1)];
	p1 = tmp_file(bin, sizeof bin, "b.bin");
	body = tmp_file(text, sizeof text, "body.txt");
	att[0] = p1;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.subject = "Stückweise";
	m.body_path = body;
	m.attach.v = att;
	m.attach.n = 1;
	for (qp = 0; qp < 2; qp++) {
		o.can_8bitmime = !qp;
		o.read_chunk = 0;
		assert_int_equal(gen(&m, &o, 1 << 20, &ref, &err), 0);
		check_lines(ref.p, ref.n, 998);
		for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++)
			for (q = 0; q < sizeof caps / sizeof caps[0]; q++) {
				o.read_chunk = chunks[k];
				assert_int_equal(
				    gen(&m, &o, caps[q], &got, &err), 0);
				assert_int_equal(got.n, ref.n);
				assert_memory_equal(got.p, ref.p, ref.n);
				free(got.p);
			}
		free(ref.p);
	}
	rm_tmp(p1);
	rm_tmp(body);
}

static void
test_body_fd_and_missing_files(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	const char *att[] = {"/nonexistent/ehlo-test-file"};
	char *path, *out, *err;
	FILE *f;

	(void)state;
	path = tmp_file("from a descriptor\n", 18, "fd.txt");
	f = fopen(path, "rb");
	assert_non_null(f);
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.body_fd = fileno(f);
	out = must_gen(&m, &fixed);
	assert_string_equal(body_of(out), "from a descriptor\r\n");
	free(out);
	(void)fclose(f);
	m.body_fd = -1;
	m.body_path = "/nonexistent/ehlo-body";
	err = must_fail(&m, &fixed);
	assert_non_null(strstr(err, "/nonexistent/ehlo-body"));
	free(err);
	m.body_path = NULL;
	m.attach.v = att;
	m.attach.n = 1;
	err = must_fail(&m, &fixed);
	assert_non_null(strstr(err, "/nonexistent/ehlo-test-file"));
	free(err);
	rm_tmp(path);
}

static void
test_user_date_and_id(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	const char *hdr[] = {"Date: Mon, 1 Jan 2024 00:00:00 +0000",
	    "Message-ID: <mine@example.org>", "In-Reply-To: <x@y>"};
	const char *refused[] = {"Content-Type: text/html"};
	char *out, *err;

	(void)state;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.headers.v = hdr;
	m.headers.n = 3;
	out = must_gen(&m, &fixed);
	assert_non_null(
	    strstr(out, "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"));
	assert_null(strstr(out, "Tue, 14 Nov 2023"));
	assert_non_null(strstr(out, "Message-ID: <mine@example.org>\r\n"));
	assert_null(strstr(out, "fixed@"));
	assert_non_null(strstr(out, "In-Reply-To: <x@y>\r\n"));
	free(out);
	m.headers.v = refused;
	m.headers.n = 1;
	err = must_fail(&m, &fixed);
	assert_non_null(strstr(err, "MIME"));
	free(err);
}

static void
test_preview(void **state)
{
	struct smtp_message m;
	const char *to[] = {"bob@example.org"};
	size_t len;
	int trunc;
	char *p, *err = NULL;

	(void)state;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.body_mem = "hello\n";
	m.body_len = 6;
	p = smtp_message_preview(&m, &fixed, 16, &len, &trunc, &err);
	assert_non_null(p);
	assert_int_equal(len, 16);
	assert_true(trunc);
	assert_string_equal(p, "Date: Tue, 14 No");
	free(p);
	p = smtp_message_preview(&m, &fixed, 100000, &len, &trunc, &err);
	assert_false(trunc);
	assert_string_equal(body_of(p), "hello\r\n");
	free(p);
}

static void
test_draft_round_trip(void **state)
{
	struct smtp_message m;
	const char *to[] = {"Bob <bob@example.org>"};
	const char *bcc[] = {"hidden@example.org"};
	const char *hdr[] = {"X-Priority: 1"};
	const char *att[] = {"/tmp/a.pdf"};
	struct hist_draft d;
	struct draft_msg dm;
	char *err = NULL;

	(void)state;
	smtp_message_init(&m);
	m.from = "ann@example.org";
	m.to.v = to;
	m.to.n = 1;
	m.bcc.v = bcc;
	m.bcc.n = 1;
	m.subject = "Grüße";
	m.headers.v = hdr;
	m.headers.n = 1;
	m.attach.v = att;
	m.attach.n = 1;
	m.body_mem = "body";
	m.body_len = 4;
	draft_hist_from_msg(&d, &m);
	assert_string_equal(
	    d.env_to, "[\"Bob <bob@example.org>\",\"hidden@example.org\"]");
	assert_string_equal(d.attachments, "[\"/tmp/a.pdf\"]");
	assert_int_equal(draft_msg_load(&dm, &d, &err), 0);
	assert_string_equal(dm.msg.from, "ann@example.org");
	assert_string_equal(dm.msg.subject, "Grüße");
	assert_int_equal(dm.msg.to.n, 1);
	assert_string_equal(dm.msg.to.v[0], "Bob <bob@example.org>");
	assert_int_equal(dm.msg.bcc.n, 1);
	assert_int_equal(dm.msg.headers.n, 1);
	assert_string_equal(dm.msg.headers.v[0], "X-Priority: 1");
	assert_int_equal(dm.msg.attach.n, 1);
	assert_int_equal(dm.msg.body_len, 4);
	draft_msg_free(&dm);
	draft_hist_free(&d);

	/* Folded headers; an envelope-only recipient becomes Bcc. */
	memset(&d, 0, sizeof d);
	d.headers = "From: ann@example.org\r\nSubject: a\r\n  folded\r\n"
	            "To: bob@example.org\r\nContent-Type: text/plain\r\n";
	d.env_to = "[\"bob@example.org\", \"other@example.org\"]";
	assert_int_equal(draft_msg_load(&dm, &d, &err), 0);
	assert_string_equal(dm.msg.subject, "a  folded");
	assert_int_equal(dm.msg.bcc.n, 1);
	assert_string_equal(dm.msg.bcc.v[0], "other@example.org");
	assert_int_equal(dm.msg.headers.n, 0);
	draft_msg_free(&dm);
	d.env_to = "not json";
	assert_int_equal(draft_msg_load(&dm, &d, &err), -1);
	free(err);
	draft_msg_free(&dm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_simple),
	    cmocka_unit_test(test_generated_date_and_id),
	    cmocka_unit_test(test_encoded_words),
	    cmocka_unit_test(test_subject_folded_in_message),
	    cmocka_unit_test(test_long_ascii_header_folds),
	    cmocka_unit_test(test_998_limit),
	    cmocka_unit_test(test_qp_rules),
	    cmocka_unit_test(test_qp_soft_breaks),
	    cmocka_unit_test(test_bcc_absent),
	    cmocka_unit_test(test_injection_refused),
	    cmocka_unit_test(test_bad_addresses),
	    cmocka_unit_test(test_smtputf8),
	    cmocka_unit_test(test_mime_structure),
	    cmocka_unit_test(test_streaming_identical),
	    cmocka_unit_test(test_body_fd_and_missing_files),
	    cmocka_unit_test(test_user_date_and_id),
	    cmocka_unit_test(test_preview),
	    cmocka_unit_test(test_draft_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
