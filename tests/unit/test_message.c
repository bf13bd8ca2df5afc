/*
 * Unit tests for protocol/message*.c, the headers: the exact bytes of a
 * simple message, the generated and the user's Date and Message-ID,
 * RFC 2047 encoded-words (decoded back here) and folding, Bcc kept out
 * of the headers, header injection and bad addresses refused, and the
 * preview.  The draft mapping of tui/draft.c is checked at the end.
 * Encodings and streaming: test_message_body.c; the shared helpers:
 * message_fixture.h.
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
#include "tui/draft.h"

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
	    cmocka_unit_test(test_bcc_absent),
	    cmocka_unit_test(test_injection_refused),
	    cmocka_unit_test(test_bad_addresses),
	    cmocka_unit_test(test_user_date_and_id),
	    cmocka_unit_test(test_preview),
	    cmocka_unit_test(test_draft_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
