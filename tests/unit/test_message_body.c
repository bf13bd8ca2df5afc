/*
 * Unit tests for protocol/message*.c, the body: the 998-octet limit,
 * quoted-printable and base64 line lengths (decoded back), SMTPUTF8
 * decisions, the MIME structure with RFC 2231 filenames, identical
 * output whatever the read and chunk sizes, and bodies read from a
 * descriptor or from missing files.  Headers: test_message.c; the
 * shared helpers: message_fixture.h.
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
#include "message_fixture.h"
#include "protocol/message.h"

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
	/* A text attachment carries its charset (issue 20 item 12). */
	assert_non_null(strstr(out,
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "Content-Transfer-Encoding: base64\r\n"));
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_998_limit),
	    cmocka_unit_test(test_qp_rules),
	    cmocka_unit_test(test_qp_soft_breaks),
	    cmocka_unit_test(test_smtputf8),
	    cmocka_unit_test(test_mime_structure),
	    cmocka_unit_test(test_streaming_identical),
	    cmocka_unit_test(test_body_fd_and_missing_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
