/*
 * Unit tests for protocol/content.c: exact bytes for the dot-stuffing and
 * CRLF cases of RFC 5321 4.5.2 and 2.3.8, independence from how the input
 * is split into chunks, the statistics, the cap, and a large random input
 * checked against a byte-at-a-time reference written here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/content.h"

/*
 * The reference: one byte at a time, the whole input at once, the rules
 * as RFC 5321 states them.  Writes to out (at least 2n + 5 bytes) and
 * fills the same statistics the streaming code keeps.
 */
static size_t
ref_transform(const char *in, size_t n, char *out, struct smtp_dotstuff *st)
{
	size_t i, o = 0, cur = 0;
	int bol = 1;

	memset(st, 0, sizeof *st);
	for (i = 0; i < n; i++) {
		if (in[i] == '\r' || in[i] == '\n') {
			if (in[i] == '\n')
				st->bare_lf++;
			else if (i + 1 < n && in[i + 1] == '\n')
				i++;
			else
				st->bare_cr++;
			out[o++] = '\r';
			out[o++] = '\n';
			st->lines++;
			if (cur > st->longest)
				st->longest = cur;
			cur = 0;
			bol = 1;
			continue;
		}
		if (bol && in[i] == '.') {
			out[o++] = '.';
			st->stuffed++;
			cur++;
		}
		out[o++] = in[i];
		cur++;
		bol = 0;
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
		st->lines++;
		if (cur > st->longest)
			st->longest = cur;
	}
	memcpy(out + o, ".\r\n", 3);
	o += 3;
	st->in_bytes = n;
	st->out_bytes = o;
	return o;
}

/* Feeds in[0..n) in chunks at the given cut points, then finishes. */
static void
stream(const char *in, size_t n, const size_t *cuts, size_t ncuts,
    struct buf *out, struct smtp_dotstuff *st)
{
	size_t i, from = 0, before;

	smtp_dotstuff_init(st);
	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		before = buf_used(out);
		assert_int_equal(
		    smtp_dotstuff_feed(st, in + from, to - from, out), 0);
		assert_true(buf_used(out) - before <= 2 * (to - from) + 2);
		from = to;
	}
	assert_int_equal(smtp_dotstuff_finish(st, out), 0);
}

static void
assert_stats_equal(const struct smtp_dotstuff *a, const struct smtp_dotstuff *b)
{
	assert_int_equal(a->in_bytes, b->in_bytes);
	assert_int_equal(a->out_bytes, b->out_bytes);
	assert_int_equal(a->lines, b->lines);
	assert_int_equal(a->stuffed, b->stuffed);
	assert_int_equal(a->bare_cr, b->bare_cr);
	assert_int_equal(a->bare_lf, b->bare_lf);
	assert_int_equal(a->longest, b->longest);
}

/* One feed of the whole input must give exactly want. */
static void
expect_n(const char *in, size_t n, const char *want, size_t wantlen)
{
	struct smtp_dotstuff st;
	struct buf out;

	buf_init(&out, 0);
	stream(in, n, NULL, 0, &out, &st);
	assert_int_equal(buf_used(&out), wantlen);
	assert_memory_equal(buf_peek(&out), want, wantlen);
	assert_int_equal(st.out_bytes, wantlen);
	assert_int_equal(st.in_bytes, n);
	buf_reset(&out);
}

static void
expect(const char *in, const char *want)
{
	expect_n(in, strlen(in), want, strlen(want));
}

static void
test_dots(void **state)
{
	(void)state;
	expect(".hidden\r\n", "..hidden\r\n.\r\n");
	expect(".\r\n", "..\r\n.\r\n");
	expect("..\r\n", "...\r\n.\r\n");
	expect("a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n");
	expect(".", "..\r\n.\r\n");
	expect("a.b\r\n.c.\r\n", "a.b\r\n..c.\r\n.\r\n");
	/* Only the first dot of a line is doubled. */
	expect("...x", "....x\r\n.\r\n");
	/* A dot after a bare LF or bare CR starts a line too. */
	expect("a\n.b", "a\r\n..b\r\n.\r\n");
	expect("a\r.b", "a\r\n..b\r\n.\r\n");
	/* The classic smuggling attempt: every form becomes a safe line. */
	expect(
	    "x\n.\nMAIL FROM:<a@b>\r\n", "x\r\n..\r\nMAIL FROM:<a@b>\r\n.\r\n");
	expect("x\r\n.\rMAIL", "x\r\n..\r\nMAIL\r\n.\r\n");
}

static void
test_line_endings(void **state)
{
	(void)state;
	expect("a\r\nb\r\n", "a\r\nb\r\n.\r\n");
	expect("a\nb\n", "a\r\nb\r\n.\r\n");
	expect("a\rb\r", "a\r\nb\r\n.\r\n");
	expect("a\r\rb", "a\r\n\r\nb\r\n.\r\n");
	expect("a\n\rb", "a\r\n\r\nb\r\n.\r\n");
	expect("a\n\r\nb", "a\r\n\r\nb\r\n.\r\n");
	expect("a\r\r\n\nb", "a\r\n\r\n\r\nb\r\n.\r\n");
	expect("\r\n", "\r\n.\r\n");
	expect("\n", "\r\n.\r\n");
	expect("\r", "\r\n.\r\n");
	expect("\n\n", "\r\n\r\n.\r\n");
	/* No final line break: one is added before the dot. */
	expect("no newline", "no newline\r\n.\r\n");
	/* Input ending with CR: the CR is the line break. */
	expect("ends in CR\r", "ends in CR\r\n.\r\n");
	/* Empty content. */
	expect("", ".\r\n");
	/* NUL and 8-bit bytes pass through. */
	expect_n("a\0b\xff\n", 5, "a\0b\xff\r\n.\r\n", 9);
}

static void
test_stats(void **state)
{
	static const char in[] = ".a\r\nbb\nccc\rdddd\r\n..\r\r\nlast";
	struct smtp_dotstuff st;
	struct buf out;

	(void)state;
	buf_init(&out, 0);
	stream(in, sizeof in - 1, NULL, 0, &out, &st);
	assert_int_equal(st.in_bytes, sizeof in - 1);
	assert_int_equal(st.out_bytes, buf_used(&out));
	/* ".a" "bb" "ccc" "dddd" ".." "" "last" */
	assert_int_equal(st.lines, 7);
	assert_int_equal(st.stuffed, 2);
	assert_int_equal(st.bare_cr, 2);
	assert_int_equal(st.bare_lf, 1);
	assert_int_equal(st.longest, 4);
	assert_int_equal(st.cur_line, 0);
	assert_int_equal(st.after_cr, 0);
	buf_reset(&out);

	/* A CR at the very end is counted as bare at finish. */
	buf_init(&out, 0);
	stream("abc\r", 4, NULL, 0, &out, &st);
	assert_int_equal(st.bare_cr, 1);
	assert_int_equal(st.lines, 1);
	assert_int_equal(st.longest, 3);
	buf_reset(&out);

	/* A long line spread over many chunks. */
	{
		static const size_t cuts[] = {1, 2, 500, 999};
		char *big = xmalloc(1000);

		memset(big, 'x', 1000);
		buf_init(&out, 0);
		stream(big, 1000, cuts, 4, &out, &st);
		assert_int_equal(st.longest, 1000);
		assert_int_equal(st.lines, 1);
		assert_int_equal(st.out_bytes, 1005);
		buf_reset(&out);
		free(big);
	}

	/* Empty content. */
	buf_init(&out, 0);
	stream("", 0, NULL, 0, &out, &st);
	assert_int_equal(st.lines, 0);
	assert_int_equal(st.out_bytes, 3);
	buf_reset(&out);
}

static const char tricky[] =
    ".a\r\n..\r\n.\r\r\n\n\r.\r\nx\ry\nz\r\n\r\n.\n.\r..\r\r\r\n\n\n.end\r";

static void
test_every_split_point(void **state)
{
	const size_t n = sizeof tricky - 1;
	struct smtp_dotstuff whole, part, ref;
	struct buf a, b;
	char *want = xmalloc(2 * n + 5);
	size_t wantlen, i, j, cuts[2];

	(void)state;
	wantlen = ref_transform(tricky, n, want, &ref);
	buf_init(&a, 0);
	stream(tricky, n, NULL, 0, &a, &whole);
	assert_int_equal(buf_used(&a), wantlen);
	assert_memory_equal(buf_peek(&a), want, wantlen);
	assert_stats_equal(&whole, &ref);

	for (i = 0; i <= n; i++) {
		buf_init(&b, 0);
		cuts[0] = i;
		stream(tricky, n, cuts, 1, &b, &part);
		assert_int_equal(buf_used(&b), wantlen);
		assert_memory_equal(buf_peek(&b), want, wantlen);
		assert_stats_equal(&part, &ref);
		buf_reset(&b);
	}
	/* And every pair of cut points, empty chunks included. */
	for (i = 0; i <= n; i++) {
		for (j = i; j <= n; j++) {
			buf_init(&b, 0);
			cuts[0] = i;
			cuts[1] = j;
			stream(tricky, n, cuts, 2, &b, &part);
			assert_int_equal(buf_used(&b), wantlen);
			assert_memory_equal(buf_peek(&b), want, wantlen);
			assert_stats_equal(&part, &ref);
			buf_reset(&b);
		}
	}
	buf_reset(&a);
	free(want);
}

static void
test_one_byte_at_a_time(void **state)
{
	const size_t n = sizeof tricky - 1;
	struct smtp_dotstuff st, ref;
	struct buf out;
	char *want = xmalloc(2 * n + 5);
	size_t wantlen, i;

	(void)state;
	wantlen = ref_transform(tricky, n, want, &ref);
	buf_init(&out, 0);
	smtp_dotstuff_init(&st);
	for (i = 0; i < n; i++)
		assert_int_equal(
		    smtp_dotstuff_feed(&st, tricky + i, 1, &out), 0);
	assert_int_equal(smtp_dotstuff_finish(&st, &out), 0);
	assert_int_equal(buf_used(&out), wantlen);
	assert_memory_equal(buf_peek(&out), want, wantlen);
	assert_stats_equal(&st, &ref);
	buf_reset(&out);
	free(want);
}

/* A full buffer refuses the whole chunk and nothing changes, so the
 * caller can drain it and feed the same chunk again. */
static void
test_cap(void **state)
{
	struct smtp_dotstuff st;
	struct buf out;

	(void)state;
	buf_init(&out, 16);
	smtp_dotstuff_init(&st);
	assert_int_equal(smtp_dotstuff_feed(&st, ".abc\r", 5, &out), 0);
	assert_int_equal(buf_used(&out), 7);
	assert_int_equal(smtp_dotstuff_feed(&st, "\n.defgh", 7, &out), -1);
	assert_int_equal(buf_used(&out), 7);
	assert_int_equal(st.in_bytes, 5);
	assert_int_equal(st.after_cr, 1);
	buf_consume(&out, 7);
	assert_int_equal(smtp_dotstuff_feed(&st, "\n.defgh", 7, &out), 0);
	assert_int_equal(buf_used(&out), 7);
	assert_memory_equal(buf_peek(&out), "..defgh", 7);
	buf_consume(&out, 7);
	assert_int_equal(smtp_dotstuff_feed(&st, "12345678", 8, &out), 0);
	assert_int_equal(smtp_dotstuff_feed(&st, "9abc", 4, &out), 0);
	assert_int_equal(smtp_dotstuff_finish(&st, &out), -1);
	assert_int_equal(buf_used(&out), 12);
	assert_int_equal(st.lines, 1);
	buf_consume(&out, 12);
	assert_int_equal(smtp_dotstuff_finish(&st, &out), 0);
	assert_int_equal(buf_used(&out), 5);
	assert_memory_equal(buf_peek(&out), "\r\n.\r\n", 5);
	assert_int_equal(st.out_bytes, 7 + 7 + 8 + 4 + 5);
	/* Lengths are as sent: the stuffed dot counts. */
	assert_int_equal(st.longest, 19);
	assert_int_equal(st.lines, 2);
	buf_reset(&out);
}

/* xorshift64: reproducible without touching the libc generator. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_large_random(void **state)
{
	/* Line breaks of every kind, leading dots, NUL, among letters. */
	static const char special[] = "..\r\r\n\n\nabcdefghij \0\t";
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
	/* One byte in 8 is special, then one in 512 for long lines. */
	static const unsigned density[] = {8, 8, 512};
	const size_t n = (size_t)4 << 20;
	struct smtp_dotstuff st, ref;
	struct buf out;
	uint64_t seed = 0x9e3779b97f4a7c15u, r;
	char *in = xmalloc(n), *want = xmalloc(2 * n + 5);
	size_t i, wantlen, from, len, round;

	(void)state;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < n; i++) {
			r = rng_next(&seed);
			if ((r >> 32) % density[round] == 0)
				in[i] =
				    special[(r >> 8) % (sizeof special - 1)];
			else
				in[i] = letters[(r >> 16) % 26];
		}
		wantlen = ref_transform(in, n, want, &ref);

		buf_init(&out, 0);
		smtp_dotstuff_init(&st);
		for (from = 0; from < n; from += len) {
			len = (size_t)(rng_next(&seed) % 70000);
			if (len > n - from)
				len = n - from;
			assert_int_equal(
			    smtp_dotstuff_feed(&st, in + from, len, &out), 0);
		}
		assert_int_equal(smtp_dotstuff_finish(&st, &out), 0);
		assert_int_equal(buf_used(&out), wantlen);
		assert_memory_equal(buf_peek(&out), want, wantlen);
		assert_stats_equal(&st, &ref);
		buf_reset(&out);
	}
	free(in);
	free(want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dots),
	    cmocka_unit_test(test_line_endings),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_every_split_point),
	    cmocka_unit_test(test_one_byte_at_a_time),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_large_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
