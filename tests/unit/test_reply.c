/*
 * Unit tests for protocol/reply.c: the incremental reply parser.  Each
 * test feeds exact wire bytes and compares the events, recorded as text
 * in a log ("L" line, "R" reply, "E" error), against what RFC 5321 4.2
 * and the bounds in reply.h demand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/reply.h"

static const char postfix_ehlo[] = "250-mail.example\r\n"
                                   "250-PIPELINING\r\n"
                                   "250-SIZE 10240000\r\n"
                                   "250-VRFY\r\n"
                                   "250-ETRN\r\n"
                                   "250-STARTTLS\r\n"
                                   "250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
                                   "250-ENHANCEDSTATUSCODES\r\n"
                                   "250-8BITMIME\r\n"
                                   "250-DSN\r\n"
                                   "250-SMTPUTF8\r\n"
                                   "250 CHUNKING\r\n";

struct rec {
	struct smtp_reply_parser *p;
	struct buf log; /* every event, as text */
	size_t nline, nreply, nerror;
	enum smtp_reply_error error; /* the last one */
	int code; /* of the last reply */
	size_t nlines; /* of the last reply */
	unsigned flags; /* of the last reply */
	char enhanced[16]; /* of the last reply */
	unsigned lineflags; /* of the last line */
	size_t linelen; /* of the last line */
	size_t maxpending;
	size_t reply_pending; /* pending() seen in the last REPLY event */
	int reset_on_reply;
	int keep_log;
};

static void
rec_init(struct rec *r, int keep_log)
{
	memset(r, 0, sizeof *r);
	r->p = smtp_reply_parser_new();
	buf_init(&r->log, 0);
	r->keep_log = keep_log;
}

static void
rec_free(struct rec *r)
{
	smtp_reply_parser_free(r->p);
	buf_reset(&r->log);
}

static void
rec_cb(const struct smtp_reply_event *ev, void *arg)
{
	struct rec *r = arg;
	size_t i, pending = smtp_reply_parser_pending(r->p);

	if (pending > r->maxpending)
		r->maxpending = pending;
	switch (ev->type) {
	case SMTP_REPLY_EV_LINE:
		r->nline++;
		r->lineflags = ev->line->flags;
		r->linelen = ev->line->len;
		if (r->keep_log) {
			buf_add_printf(&r->log, "L%02x:", ev->line->flags);
			buf_add(&r->log, ev->line->text, ev->line->len);
			buf_add_str(&r->log, "\n");
		}
		break;
	case SMTP_REPLY_EV_REPLY:
		r->nreply++;
		r->reply_pending = pending;
		r->code = ev->reply->code;
		r->nlines = ev->reply->nlines;
		r->flags = ev->reply->flags;
		memcpy(r->enhanced, ev->reply->enhanced, sizeof r->enhanced);
		if (r->keep_log) {
			buf_add_printf(&r->log,
			    "R%d/%s/%zu/%02x:", ev->reply->code,
			    ev->reply->enhanced, ev->reply->nlines,
			    ev->reply->flags);
			for (i = 0; i < ev->reply->nlines; i++) {
				buf_add(&r->log, ev->reply->lines[i].text,
				    ev->reply->lines[i].len);
				buf_add_str(&r->log, "|");
			}
			buf_add_str(&r->log, "\n");
		}
		if (r->reset_on_reply)
			smtp_reply_parser_reset(r->p);
		break;
	case SMTP_REPLY_EV_ERROR:
		r->nerror++;
		r->error = ev->error;
		if (r->keep_log) {
			buf_add_printf(&r->log, "E%d:", (int)ev->error);
			buf_add(&r->log, ev->line->text, ev->line->len);
			buf_add_str(&r->log, "\n");
		}
		break;
	}
}

static void
rec_feed(struct rec *r, const char *s, size_t n)
{
	smtp_reply_parser_feed(r->p, s, n, rec_cb, r);
}

static void
rec_feed_str(struct rec *r, const char *s)
{
	rec_feed(r, s, strlen(s));
}

/* The log as a C string (it never holds NUL in these tests). */
static const char *
rec_log(struct rec *r)
{
	buf_add(&r->log, "", 1);
	r->log.len--;
	return buf_peek(&r->log);
}

static void
test_single_line(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r, "220 mail.example ESMTP Postfix\r\n");
	assert_string_equal(rec_log(&r),
	    "L00:220 mail.example ESMTP Postfix\n"
	    "R220//1/00:220 mail.example ESMTP Postfix|\n");
	assert_int_equal(smtp_reply_parser_pending(r.p), 0);
	rec_free(&r);
}

static void
test_multiline_ehlo(void **state)
{
	struct rec r;
	const char *log;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r, postfix_ehlo);
	assert_int_equal(r.nline, 12);
	assert_int_equal(r.nreply, 1);
	assert_int_equal(r.nerror, 0);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 12);
	log = rec_log(&r);
	/* Every line is reported before the reply completes. */
	assert_non_null(
	    strstr(log, "L00:250-mail.example\nL00:250-PIPELINING\n"));
	assert_non_null(strstr(log,
	    "L00:250 CHUNKING\nR250//12/00:"
	    "250-mail.example|250-PIPELINING|"));
	assert_non_null(strstr(log, "|250-AUTH PLAIN LOGIN CRAM-MD5|"));
	assert_non_null(strstr(log, "|250 CHUNKING|\n"));
	assert_int_equal(smtp_reply_parser_pending(r.p), 0);
	rec_free(&r);
}

/* The same bytes, however they are cut, give the same events. */
static void
test_split_every_point(void **state)
{
	struct rec whole, r;
	size_t n = strlen(postfix_ehlo), i, j;
	char *expect;

	(void)state;
	rec_init(&whole, 1);
	rec_feed_str(&whole, postfix_ehlo);
	rec_feed_str(&whole, "550 5.1.1 <x@example.org>: no\r\n");
	expect = xstrdup(rec_log(&whole));

	/* One byte at a time. */
	rec_init(&r, 1);
	for (i = 0; i < n; i++) {
		rec_feed(&r, postfix_ehlo + i, 1);
		if (i + 1 < n)
			assert_true(smtp_reply_parser_pending(r.p) > 0);
	}
	rec_feed_str(&r, "550 5.1.1 <x@example.org>: no\r\n");
	assert_string_equal(rec_log(&r), expect);
	rec_free(&r);

	/* Every 2-way split, including between each CR and its LF. */
	for (i = 0; i <= n; i++) {
		rec_init(&r, 1);
		rec_feed(&r, postfix_ehlo, i);
		rec_feed(&r, postfix_ehlo + i, n - i);
		rec_feed_str(&r, "550 5.1.1 <x@example.org>: no\r\n");
		assert_string_equal(rec_log(&r), expect);
		rec_free(&r);
	}

	/* A sample of 3-way splits. */
	for (i = 0; i <= n; i += 7)
		for (j = i; j <= n; j += 5) {
			rec_init(&r, 1);
			rec_feed(&r, postfix_ehlo, i);
			rec_feed(&r, postfix_ehlo + i, j - i);
			rec_feed(&r, postfix_ehlo + j, n - j);
			rec_feed_str(&r, "550 5.1.1 <x@example.org>: no\r\n");
			assert_string_equal(rec_log(&r), expect);
			rec_free(&r);
		}
	free(expect);
	rec_free(&whole);
}

static void
test_code_only_line(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r, "250\r\n");
	rec_feed_str(&r, "250-first\r\n250\r\n");
	assert_string_equal(rec_log(&r),
	    "L00:250\n"
	    "R250//1/00:250|\n"
	    "L00:250-first\n"
	    "L00:250\n"
	    "R250//2/00:250-first|250|\n");
	rec_free(&r);
}

static void
test_bad_code(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r, "abc hello\r\n");
	rec_feed_str(&r, "25\r\n");
	rec_feed_str(&r, "\r\n");
	rec_feed_str(&r, "2x0 nope\r\n");
	rec_feed_str(&r, "250 ok\r\n");
	assert_string_equal(rec_log(&r),
	    "L00:abc hello\n"
	    "E1:abc hello\n"
	    "L00:25\n"
	    "E1:25\n"
	    "L00:\n"
	    "E1:\n"
	    "L00:2x0 nope\n"
	    "E1:2x0 nope\n"
	    "L00:250 ok\n"
	    "R250//1/00:250 ok|\n");
	rec_free(&r);
}

static void
test_bad_code_mid_reply(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	/* The partial reply is dropped; "250 b" then stands alone. */
	rec_feed_str(&r, "250-a\r\nxyz\r\n250 b\r\n");
	assert_string_equal(rec_log(&r),
	    "L00:250-a\n"
	    "L00:xyz\n"
	    "E1:xyz\n"
	    "L00:250 b\n"
	    "R250//1/00:250 b|\n");
	rec_free(&r);
}

static void
test_bad_separator(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r, "250x\r\n250\thello\r\n2500 big\r\n250_ok\r\n");
	assert_int_equal(r.nerror, 4);
	assert_int_equal(r.nreply, 0);
	assert_int_equal(r.error, SMTP_REPLY_ESEP);
	assert_string_equal(rec_log(&r),
	    "L00:250x\nE2:250x\n"
	    "L00:250\thello\nE2:250\thello\n"
	    "L00:2500 big\nE2:2500 big\n"
	    "L00:250_ok\nE2:250_ok\n");
	rec_free(&r);
}

static void
test_code_change(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r, "250-a\r\n251 b\r\n220 next\r\n");
	assert_string_equal(rec_log(&r),
	    "L00:250-a\n"
	    "L00:251 b\n"
	    "E3:251 b\n"
	    "L00:220 next\n"
	    "R220//1/00:220 next|\n");
	rec_free(&r);
}

static void
test_code_range(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r,
	    "199 low\r\n600 high\r\n099 zero\r\n200 ok\r\n"
	    "599 ok\r\n");
	assert_string_equal(rec_log(&r),
	    "L10:199 low\n"
	    "R199//1/10:199 low|\n"
	    "L10:600 high\n"
	    "R600//1/10:600 high|\n"
	    "L10:099 zero\n"
	    "R99//1/10:099 zero|\n"
	    "L00:200 ok\n"
	    "R200//1/00:200 ok|\n"
	    "L00:599 ok\n"
	    "R599//1/00:599 ok|\n");
	rec_free(&r);
}

static void
test_bare_lf(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r, "250-one\n250 two\r\n");
	assert_string_equal(rec_log(&r),
	    "L01:250-one\n"
	    "L00:250 two\n"
	    "R250//2/01:250-one|250 two|\n");
	rec_free(&r);
}

static void
test_nul_kept(void **state)
{
	struct rec r;
	static const char in[] = "250 a\0b\r\n";

	(void)state;
	rec_init(&r, 1);
	rec_feed(&r, in, sizeof in - 1);
	assert_int_equal(r.nreply, 1);
	assert_int_equal(r.linelen, 7);
	assert_int_equal(r.lineflags, SMTP_LINE_NUL);
	assert_int_equal(r.flags, SMTP_LINE_NUL);
	{
		static const char want[] = "L02:250 a\0b\n"
		                           "R250//1/02:250 a\0b|\n";

		assert_int_equal(buf_used(&r.log), sizeof want - 1);
		assert_memory_equal(buf_peek(&r.log), want, sizeof want - 1);
	}
	rec_free(&r);
}

static void
test_bare_cr(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r, "250 a\rb\r\n");
	/* Split right after the lone CR. */
	rec_feed_str(&r, "250 c\r");
	assert_int_equal(smtp_reply_parser_pending(r.p), 6);
	rec_feed_str(&r, "d\r\n");
	/* CR CR LF: the first CR is bare and kept. */
	rec_feed_str(&r, "250 e\r\r\n");
	assert_string_equal(rec_log(&r),
	    "L08:250 a\rb\n"
	    "R250//1/08:250 a\rb|\n"
	    "L08:250 c\rd\n"
	    "R250//1/08:250 c\rd|\n"
	    "L08:250 e\r\n"
	    "R250//1/08:250 e\r|\n");
	rec_free(&r);
}

static void
test_megabyte_line(void **state)
{
	struct rec r;
	size_t n = 1024 * 1024, i;
	char *big = xmalloc(n);

	(void)state;
	memset(big, 'x', n);
	memcpy(big, "550-", 4);
	rec_init(&r, 0);
	for (i = 0; i < n; i += 4096)
		rec_feed(&r, big + i, n - i < 4096 ? n - i : 4096);
	assert_true(smtp_reply_parser_pending(r.p) <= SMTP_REPLY_LINE_MAX);
	rec_feed_str(&r, "\r\n550 5.7.1 end\r\n");
	assert_int_equal(r.nline, 2);
	assert_int_equal(r.nerror, 0);
	assert_int_equal(r.nreply, 1);
	assert_int_equal(r.code, 550);
	assert_int_equal(r.nlines, 2);
	assert_true(r.flags & SMTP_LINE_TRUNCATED);
	assert_int_equal(r.lineflags, 0);
	/* The enhanced code comes from the first line only. */
	assert_string_equal(r.enhanced, "");
	assert_true(r.maxpending <= SMTP_REPLY_LINE_MAX + 32);

	/* A single truncated final line is still a reply. */
	memcpy(big, "250 ", 4);
	r.keep_log = 1;
	rec_feed(&r, big, n);
	rec_feed_str(&r, "\r\n");
	assert_int_equal(r.nreply, 2);
	assert_int_equal(r.linelen, SMTP_REPLY_LINE_MAX);
	assert_int_equal(r.lineflags, SMTP_LINE_TRUNCATED);
	assert_int_equal(r.code, 250);
	assert_int_equal(smtp_reply_parser_pending(r.p), 0);
	free(big);
	rec_free(&r);
}

static void
feed_lines(struct rec *r, size_t count, size_t width, int code)
{
	char *line = xmalloc(width + 3);
	size_t i;

	memset(line, 'y', width);
	for (i = 0; i < count; i++) {
		snprintf(line, 5, "%03d%c", code, i + 1 < count ? '-' : ' ');
		line[4] = 'y';
		memcpy(line + width, "\r\n", 2);
		rec_feed(r, line, width + 2);
	}
	free(line);
}

static void
test_too_many_lines(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 0);
	feed_lines(&r, 2000, 20, 250);
	assert_int_equal(r.nline, 2000);
	assert_int_equal(r.nerror, 1);
	assert_int_equal(r.error, SMTP_REPLY_ETOOMANY);
	assert_int_equal(r.nreply, 0);
	assert_int_equal(smtp_reply_parser_pending(r.p), 0);

	/* The next reply is parsed normally. */
	r.keep_log = 1;
	rec_feed_str(&r, "221 2.0.0 Bye\r\n");
	assert_string_equal(rec_log(&r),
	    "L00:221 2.0.0 Bye\n"
	    "R221/2.0.0/1/00:221 2.0.0 Bye|\n");
	rec_free(&r);
}

static void
test_line_limit_exact(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 0);
	feed_lines(&r, SMTP_REPLY_LINES_MAX, 10, 250);
	assert_int_equal(r.nerror, 0);
	assert_int_equal(r.nreply, 1);
	assert_int_equal(r.nlines, SMTP_REPLY_LINES_MAX);
	feed_lines(&r, SMTP_REPLY_LINES_MAX + 1, 10, 250);
	assert_int_equal(r.nerror, 1);
	assert_int_equal(r.nreply, 1);
	rec_free(&r);
}

static void
test_huge_reply_bounded(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 0);
	feed_lines(&r, 100000, 60, 250);
	assert_int_equal(r.nline, 100000);
	assert_int_equal(r.nerror, 1);
	assert_int_equal(r.nreply, 0);
	/* Never more held than one capped reply plus one line. */
	assert_true(r.maxpending <= SMTP_REPLY_SIZE_MAX + SMTP_REPLY_LINE_MAX);
	assert_true(r.maxpending <= (SMTP_REPLY_LINES_MAX + 1) * 60);
	rec_feed_str(&r, "250 ok\r\n");
	assert_int_equal(r.nreply, 1);
	rec_free(&r);
}

static void
test_too_big(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 0);
	/* 40 lines of 8000 bytes pass 256 KiB well before 1000 lines. */
	feed_lines(&r, 40, 8000, 250);
	assert_int_equal(r.nline, 40);
	assert_int_equal(r.nerror, 1);
	assert_int_equal(r.error, SMTP_REPLY_ETOOBIG);
	assert_int_equal(r.nreply, 0);
	assert_true(r.maxpending <= SMTP_REPLY_SIZE_MAX + SMTP_REPLY_LINE_MAX);
	assert_int_equal(smtp_reply_parser_pending(r.p), 0);
	rec_feed_str(&r, "354 go ahead\r\n");
	assert_int_equal(r.nreply, 1);
	assert_int_equal(r.code, 354);
	rec_free(&r);
}

static void
test_enhanced_in_reply(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r,
	    "550 5.1.1 <nobody@example.org>: Recipient address "
	    "rejected\r\n");
	assert_string_equal(r.enhanced, "5.1.1");
	rec_feed_str(&r, "250 2.0.0 Ok: queued as 4F3A2\r\n");
	assert_string_equal(r.enhanced, "2.0.0");
	/* RFC 3463: the class must match the reply code's class. */
	rec_feed_str(&r, "550 2.1.1 mismatched\r\n");
	assert_string_equal(r.enhanced, "");
	rec_feed_str(&r, "250 5.1.1 mismatched\r\n");
	assert_string_equal(r.enhanced, "");
	rec_feed_str(&r, "354 3.0.0 no class 3\r\n");
	assert_string_equal(r.enhanced, "");
	rec_feed_str(&r, "550 5.1.1x not a code\r\n");
	assert_string_equal(r.enhanced, "");
	/* Only the first line counts. */
	rec_feed_str(&r, "451-first\r\n451 4.3.0 second\r\n");
	assert_string_equal(r.enhanced, "");
	rec_feed_str(&r, "421-4.7.0 first\r\n421 4.7.0 second\r\n");
	assert_string_equal(r.enhanced, "4.7.0");
	rec_feed_str(&r, "250 2.0.0\r\n");
	assert_string_equal(r.enhanced, "2.0.0");
	rec_free(&r);
}

static void
test_enhanced_parse(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(smtp_enhanced_parse("5.7.1 Denied", 12, out), 5);
	assert_string_equal(out, "5.7.1");
	assert_int_equal(smtp_enhanced_parse("4.4.2", 5, out), 5);
	assert_string_equal(out, "4.4.2");
	assert_int_equal(smtp_enhanced_parse("5.123.456 x", 11, out), 9);
	assert_string_equal(out, "5.123.456");
	assert_int_equal(smtp_enhanced_parse("2.0.0", 5, out), 5);
	assert_int_equal(smtp_enhanced_parse("3.1.1 x", 7, out), 0);
	assert_string_equal(out, "");
	assert_int_equal(smtp_enhanced_parse("5.01.1 x", 8, out), 0);
	assert_int_equal(smtp_enhanced_parse("5.1 x", 5, out), 0);
	assert_int_equal(smtp_enhanced_parse("5.1234.1", 8, out), 0);
	assert_int_equal(smtp_enhanced_parse("5.1.1234", 8, out), 0);
	assert_int_equal(smtp_enhanced_parse("5..1", 4, out), 0);
	assert_int_equal(smtp_enhanced_parse("5.1.1.1", 7, out), 0);
	assert_int_equal(smtp_enhanced_parse("", 0, out), 0);
	/* The length given is respected: "5.1.1" is cut to "5.1.". */
	assert_int_equal(smtp_enhanced_parse("5.1.1", 4, out), 0);
}

static void
test_line_text(void **state)
{
	struct smtp_reply_line l;
	const char *t;
	size_t n;

	(void)state;
	l.flags = 0;
	l.text = "250-PIPELINING";
	l.len = strlen(l.text);
	t = smtp_reply_line_text(&l, 1, &n);
	assert_int_equal(n, 10);
	assert_memory_equal(t, "PIPELINING", 10);

	l.text = "250";
	l.len = 3;
	t = smtp_reply_line_text(&l, 1, &n);
	assert_int_equal(n, 0);

	l.text = "550 5.1.1 User unknown";
	l.len = strlen(l.text);
	t = smtp_reply_line_text(&l, 0, &n);
	assert_int_equal(n, 18);
	assert_memory_equal(t, "5.1.1 User unknown", n);
	t = smtp_reply_line_text(&l, 1, &n);
	assert_int_equal(n, 12);
	assert_memory_equal(t, "User unknown", n);

	/* A code of another class is part of the text. */
	l.text = "250 5.1.1 odd";
	l.len = strlen(l.text);
	t = smtp_reply_line_text(&l, 1, &n);
	assert_memory_equal(t, "5.1.1 odd", n);

	l.text = "550 5.1.1";
	l.len = strlen(l.text);
	t = smtp_reply_line_text(&l, 1, &n);
	assert_int_equal(n, 0);

	l.text = "garbage";
	l.len = strlen(l.text);
	t = smtp_reply_line_text(&l, 1, &n);
	assert_int_equal(n, 7);
	assert_memory_equal(t, "garbage", 7);
}

static void
test_reset_discards_partial(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	rec_feed_str(&r, "250-a\r\n250 par");
	assert_int_equal(smtp_reply_parser_pending(r.p), 5 + 7);
	smtp_reply_parser_reset(r.p);
	assert_int_equal(smtp_reply_parser_pending(r.p), 0);
	rec_feed_str(&r, "220 ok\r\n");
	assert_int_equal(r.nreply, 1);
	assert_int_equal(r.nlines, 1);
	assert_int_equal(r.code, 220);

	/* A pending CR is forgotten too. */
	rec_feed_str(&r, "250 x\r");
	smtp_reply_parser_reset(r.p);
	rec_feed_str(&r, "\n");
	assert_int_equal(r.nerror, 1);
	assert_int_equal(r.error, SMTP_REPLY_EBADCODE);
	rec_free(&r);
}

/* Bytes after a reply that caused a reset (STARTTLS) are not replies. */
static void
test_reset_in_callback(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 1);
	r.reset_on_reply = 1;
	rec_feed_str(&r, "220 2.0.0 Ready to start TLS\r\n250 injected\r\n");
	assert_int_equal(r.nreply, 1);
	/* The handler could see that more followed the 220. */
	assert_int_equal(r.reply_pending, strlen("250 injected\r\n"));
	assert_int_equal(r.nline, 1);
	assert_int_equal(smtp_reply_parser_pending(r.p), 0);
	r.reset_on_reply = 0;
	rec_feed_str(&r, "250 after\r\n");
	assert_int_equal(r.nreply, 2);
	assert_string_equal(rec_log(&r),
	    "L00:220 2.0.0 Ready to start TLS\n"
	    "R220/2.0.0/1/00:220 2.0.0 Ready to start TLS|\n"
	    "L00:250 after\n"
	    "R250//1/00:250 after|\n");
	rec_free(&r);
}

/* Inside a callback, pending() counts only what follows the event. */
static void
test_pending_in_callback(void **state)
{
	struct rec r;

	(void)state;
	rec_init(&r, 0);
	rec_feed_str(&r, "250 ok\r\n");
	assert_int_equal(r.reply_pending, 0);
	assert_int_equal(r.maxpending, 0);
	rec_feed_str(&r, "250-a\r\n250 b\r\n220 x");
	assert_int_equal(r.reply_pending, 5);
	/* The LINE event for "250-a" saw the 12 bytes after it. */
	assert_int_equal(r.maxpending, 12);
	assert_int_equal(smtp_reply_parser_pending(r.p), 5);
	rec_free(&r);
}

static void
test_error_str(void **state)
{
	int e;

	(void)state;
	for (e = SMTP_REPLY_OK; e <= SMTP_REPLY_ETOOBIG; e++)
		assert_true(strlen(smtp_reply_error_str(e)) > 5);
	assert_string_equal(smtp_reply_error_str(SMTP_REPLY_EBADCODE),
	    "reply code is not 3 digits");
	smtp_reply_parser_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_line),
	    cmocka_unit_test(test_multiline_ehlo),
	    cmocka_unit_test(test_split_every_point),
	    cmocka_unit_test(test_code_only_line),
	    cmocka_unit_test(test_bad_code),
	    cmocka_unit_test(test_bad_code_mid_reply),
	    cmocka_unit_test(test_bad_separator),
	    cmocka_unit_test(test_code_change),
	    cmocka_unit_test(test_code_range),
	    cmocka_unit_test(test_bare_lf),
	    cmocka_unit_test(test_nul_kept),
	    cmocka_unit_test(test_bare_cr),
	    cmocka_unit_test(test_megabyte_line),
	    cmocka_unit_test(test_too_many_lines),
	    cmocka_unit_test(test_line_limit_exact),
	    cmocka_unit_test(test_huge_reply_bounded),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_enhanced_in_reply),
	    cmocka_unit_test(test_enhanced_parse),
	    cmocka_unit_test(test_line_text),
	    cmocka_unit_test(test_reset_discards_partial),
	    cmocka_unit_test(test_reset_in_callback),
	    cmocka_unit_test(test_pending_in_callback),
	    cmocka_unit_test(test_error_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
