/*
 * Unit tests for core/: the bounded byte buffer (cap enforcement,
 * consumption and compaction, reserve/commit, growth), the display
 * escaper (controls, backslashes, UTF-8 validity, C1 controls and bidi
 * overrides, agreement between escape_is_clean() and escape_append())
 * and the poll() loop (timer order and cancellation, fd readiness,
 * loop_stop(), signals through the self-pipe, the before-sleep hook).
 * Expected renderings are written out byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"

/* ---- buf --------------------------------------------------------- */

static void
assert_buf(const struct buf *b, const char *want, size_t n)
{
	assert_int_equal(buf_used(b), n);
	assert_memory_equal(buf_peek(b), want, n);
}

static void
test_buf_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_add(&b, "abcdef", 6), 0);
	/* 6 + 5 > 10: refused whole, nothing appended. */
	assert_int_equal(buf_add(&b, "ghijk", 5), -1);
	assert_buf(&b, "abcdef", 6);
	assert_int_equal(buf_add_str(&b, "ghijk"), -1);
	assert_int_equal(buf_add_printf(&b, "%d", 12345), -1);
	assert_buf(&b, "abcdef", 6);
	/* Exactly up to the cap is fine. */
	assert_int_equal(buf_add(&b, "ghij", 4), 0);
	assert_buf(&b, "abcdefghij", 10);
	assert_int_equal(buf_add(&b, "k", 1), -1);
	assert_null(buf_reserve(&b, 1));
	assert_buf(&b, "abcdefghij", 10);
	/* The cap is on unconsumed bytes: consuming makes room again. */
	buf_consume(&b, 3);
	assert_int_equal(buf_add(&b, "klm", 3), 0);
	assert_buf(&b, "defghijklm", 10);
	assert_int_equal(buf_add(&b, "n", 1), -1);
	/* Zero bytes always fit. */
	assert_int_equal(buf_add(&b, "", 0), 0);
	buf_reset(&b);
	assert_int_equal(buf_used(&b), 0);
	/* reset keeps the cap. */
	assert_int_equal(buf_add(&b, "0123456789x", 11), -1);
	assert_int_equal(buf_used(&b), 0);
	buf_reset(&b);
}

static void
test_buf_consume_compaction(void **state)
{
	struct buf b;
	char chunk[100];
	size_t i, maxcap = 0;

	(void)state;
	buf_init(&b, 0);
	assert_string_equal(buf_peek(&b), "");
	assert_int_equal(buf_add_str(&b, "abcdef"), 0);
	buf_consume(&b, 2);
	assert_buf(&b, "cdef", 4);
	buf_consume(&b, 0);
	assert_buf(&b, "cdef", 4);
	/* More than there is empties the buffer. */
	buf_consume(&b, 99);
	assert_int_equal(buf_used(&b), 0);
	assert_int_equal(buf_add_str(&b, "xyz"), 0);
	assert_buf(&b, "xyz", 3);

	/*
	 * Used as a FIFO that always keeps a 3-byte residue, the buffer
	 * must compact instead of growing, and the residue must be intact.
	 */
	for (i = 0; i < 2000; i++) {
		memset(chunk, 'a' + (int)(i % 26), sizeof chunk);
		assert_int_equal(buf_add(&b, chunk, sizeof chunk), 0);
		buf_consume(&b, sizeof chunk);
		if (b.cap > maxcap)
			maxcap = b.cap;
	}
	assert_true(maxcap <= 1024);
	assert_int_equal(buf_used(&b), 3);
	/* The last 3 bytes of the last chunk: i = 1999 -> 'a' + 23. */
	assert_memory_equal(buf_peek(&b), "xxx", 3);

	/* Compaction when the tail is full but the front has room. */
	buf_clear(&b);
	maxcap = b.cap;
	assert_true(maxcap > 5);
	for (i = 0; i < maxcap; i++)
		assert_int_equal(buf_add(&b, "q", 1), 0);
	assert_int_equal(b.len, b.cap); /* no room left at the tail */
	buf_consume(&b, maxcap - 5);
	assert_int_equal(buf_add_str(&b, "TAIL"), 0);
	assert_true(buf_used(&b) == 9);
	assert_memory_equal(buf_peek(&b), "qqqqqTAIL", 9);
	assert_int_equal(b.cap, maxcap);
	buf_reset(&b);
}

static void
test_buf_reserve_commit(void **state)
{
	struct buf b;
	char *p;

	(void)state;
	buf_init(&b, 16);
	p = buf_reserve(&b, 5);
	assert_non_null(p);
	memcpy(p, "hello", 5);
	/* Nothing is visible before the commit. */
	assert_int_equal(buf_used(&b), 0);
	buf_commit(&b, 5);
	assert_buf(&b, "hello", 5);
	p = buf_reserve(&b, 11);
	assert_non_null(p);
	memcpy(p, " world", 6);
	buf_commit(&b, 6); /* committing less than reserved is fine */
	assert_buf(&b, "hello world", 11);
	assert_null(buf_reserve(&b, 6)); /* 11 + 6 > 16 */
	assert_non_null(buf_reserve(&b, 5));
	buf_reset(&b);

	/* Reserving nothing is not a failure, even before any storage. */
	buf_init(&b, 16);
	assert_non_null(buf_reserve(&b, 0));
	buf_reset(&b);
}

static void
test_buf_growth(void **state)
{
	struct buf b;
	unsigned char c;
	size_t i;
	const unsigned char *p;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < 100000; i++) {
		c = (unsigned char)(i * 7 % 251);
		assert_int_equal(buf_add(&b, &c, 1), 0);
	}
	assert_int_equal(buf_used(&b), 100000);
	p = (const unsigned char *)buf_peek(&b);
	for (i = 0; i < 100000; i++)
		assert_int_equal(p[i], i * 7 % 251);
	assert_int_equal(buf_add_printf(&b, "[%s:%d]", "end", 42), 0);
	assert_memory_equal(buf_peek(&b) + 100000, "[end:42]", 8);

	/* clear keeps the storage, reset frees it. */
	p = (const unsigned char *)b.data;
	buf_clear(&b);
	assert_int_equal(buf_used(&b), 0);
	assert_ptr_equal(b.data, p);
	buf_reset(&b);
	assert_null(b.data);
	assert_string_equal(buf_peek(&b), "");
}

/* ---- escape ------------------------------------------------------ */

/* Escapes n bytes and compares with want; checks is_clean agrees. */
static void
check_escape(const char *in, size_t n, const char *want)
{
	struct buf b;
	char *dup;

	buf_init(&b, 0);
	assert_int_equal(escape_append(&b, in, n), 0);
	if (buf_used(&b) != strlen(want) ||
	    memcmp(buf_peek(&b), want, strlen(want)) != 0)
		fail_msg("escape of %zu bytes gave \"%.*s\", want \"%s\"", n,
		    (int)buf_used(&b), buf_peek(&b), want);
	dup = escape_dup(in, n);
	assert_string_equal(dup, want);
	free(dup);
	/* Clean means the rendering is the input itself. */
	assert_int_equal(escape_is_clean(in, n),
	    buf_used(&b) == n && memcmp(buf_peek(&b), in, n) == 0);
	buf_reset(&b);
}

#define CHECK_ESCAPE(lit, want) check_escape(lit, sizeof lit - 1, want)

static void
test_escape_ascii_controls(void **state)
{
	(void)state;
	CHECK_ESCAPE("250 OK", "250 OK");
	CHECK_ESCAPE("", "");
	CHECK_ESCAPE("a\r\nb", "a\\r\\nb");
	CHECK_ESCAPE("\t", "\\t");
	CHECK_ESCAPE("x\0y", "x\\0y");
	CHECK_ESCAPE("\x1b[31mred", "\\e[31mred");
	CHECK_ESCAPE("\x01\x07\x08\x1f", "\\x01\\x07\\x08\\x1F");
	CHECK_ESCAPE("del\x7f", "del\\x7F");
	/* The backslash is doubled so "\\n" and "\n" stay distinct. */
	CHECK_ESCAPE("a\\nb", "a\\\\nb");
	CHECK_ESCAPE("\\", "\\\\");
	assert_int_equal(escape_is_clean("plain text", 10), 1);
	assert_int_equal(escape_is_clean("back\\slash", 10), 0);
	assert_int_equal(escape_is_clean("x\0", 2), 0);
}

static void
test_escape_utf8(void **state)
{
	(void)state;
	/* Well-formed UTF-8 is kept: 2-, 3- and 4-byte sequences. */
	CHECK_ESCAPE("j\xc3\xbcrgen \xe6\x97\xa5\xe6\x9c\xac",
	    "j\xc3\xbcrgen \xe6\x97\xa5\xe6\x9c\xac");
	CHECK_ESCAPE("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");
	CHECK_ESCAPE("\xc2\xa0nbsp", "\xc2\xa0nbsp");
	CHECK_ESCAPE("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	CHECK_ESCAPE("\xed\x9f\xbf", "\xed\x9f\xbf"); /* U+D7FF */
	/* Invalid bytes are escaped one by one. */
	CHECK_ESCAPE("\xff", "\\xFF");
	CHECK_ESCAPE("a\x80z", "a\\x80z");
	CHECK_ESCAPE("\xc3", "\\xC3"); /* truncated at the end */
	CHECK_ESCAPE("\xc3(", "\\xC3("); /* bad continuation */
	CHECK_ESCAPE("\xe6\x97", "\\xE6\\x97");
	CHECK_ESCAPE("\xfe\xfe", "\\xFE\\xFE");
	/* Overlong encodings of "/" and of U+0000. */
	CHECK_ESCAPE("\xc0\xaf", "\\xC0\\xAF");
	CHECK_ESCAPE("\xc1\xbf", "\\xC1\\xBF");
	CHECK_ESCAPE("\xe0\x80\xaf", "\\xE0\\x80\\xAF");
	CHECK_ESCAPE("\xf0\x80\x80\xaf", "\\xF0\\x80\\x80\\xAF");
	CHECK_ESCAPE("\xc0\x80", "\\xC0\\x80");
	/* UTF-16 surrogates and code points past U+10FFFF. */
	CHECK_ESCAPE("\xed\xa0\x80", "\\xED\\xA0\\x80");
	CHECK_ESCAPE("\xed\xbf\xbf", "\\xED\\xBF\\xBF");
	CHECK_ESCAPE("\xf4\x90\x80\x80", "\\xF4\\x90\\x80\\x80");
	CHECK_ESCAPE("\xf5\x80\x80\x80", "\\xF5\\x80\\x80\\x80");
}

static void
test_escape_unsafe_codepoints(void **state)
{
	(void)state;
	/* C1 controls (U+0080..U+009F), valid UTF-8 but terminal commands. */
	CHECK_ESCAPE("\xc2\x80", "\\u{0080}");
	CHECK_ESCAPE("a\xc2\x85z", "a\\u{0085}z");
	CHECK_ESCAPE("\xc2\x9b", "\\u{009B}");
	CHECK_ESCAPE("\xc2\x9f", "\\u{009F}");
	/* Bidi controls that could reorder what the user reads. */
	CHECK_ESCAPE("abc\xe2\x80\xae"
	             "fed",
	    "abc\\u{202E}fed");
	CHECK_ESCAPE("\xe2\x80\xaa", "\\u{202A}");
	CHECK_ESCAPE("\xe2\x81\xa6", "\\u{2066}");
	CHECK_ESCAPE("\xe2\x81\xa9", "\\u{2069}");
	CHECK_ESCAPE("\xe2\x80\x8f", "\\u{200F}");
	CHECK_ESCAPE("\xd8\x9c", "\\u{061C}");
	CHECK_ESCAPE("\xef\xbb\xbf", "\\u{FEFF}");
	/* Neighbours that are harmless stay as they are. */
	CHECK_ESCAPE("\xe2\x80\xaf", "\xe2\x80\xaf"); /* U+202F */
	CHECK_ESCAPE("\xe2\x80\x94", "\xe2\x80\x94"); /* em dash */
}

static void
test_escape_clean_agrees(void **state)
{
	static const char *const samples[] = {
	    "EHLO mail.example.org",
	    "550 5.1.1 <x@y>: Recipient address rejected",
	    "j\xc3\xbcrgen",
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	    "tab\there",
	    "\xc2\x85",
	    "\xe2\x80\xae",
	    "\xc0\xaf",
	    "\xed\xa0\x80",
	    "~",
	    "\x7f",
	    "\\",
	    "\xf0\x9f\x98",
	};
	struct buf b;
	size_t i, n;
	int same;

	(void)state;
	for (i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		n = strlen(samples[i]);
		buf_init(&b, 0);
		assert_int_equal(escape_append(&b, samples[i], n), 0);
		same = buf_used(&b) == n &&
		    memcmp(buf_peek(&b), samples[i], n) == 0;
		if (escape_is_clean(samples[i], n) != same)
			fail_msg("escape_is_clean disagrees on sample %zu", i);
		buf_reset(&b);
	}

	/* Every single byte value, and every byte after a lead byte. */
	for (i = 0; i < 256 * 256; i++) {
		char two[2];

		two[0] = (char)(i >> 8);
		two[1] = (char)(i & 0xff);
		buf_init(&b, 0);
		assert_int_equal(escape_append(&b, two, 2), 0);
		same = buf_used(&b) == 2 && memcmp(buf_peek(&b), two, 2) == 0;
		if (escape_is_clean(two, 2) != same)
			fail_msg("escape_is_clean disagrees on %02zx %02zx",
			    i >> 8, i & 0xff);
		buf_reset(&b);
	}
}

static void
test_escape_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	/* "abc" + "\\r" + "\\n" = 7 bytes; the next "\\t" does not fit. */
	assert_int_equal(escape_append(&b, "abc\r\n\tzzz", 9), -1);
	assert_true(buf_used(&b) <= 8);
	assert_memory_equal(buf_peek(&b), "abc\\r\\n", 7);
	buf_reset(&b);
}

/* ---- loop -------------------------------------------------------- */

struct lrec {
	struct loop *l;
	char order[16]; /* timer tags in firing order */
	size_t norder;
	int stop_after; /* stop the loop after this many timers */
	int fd_calls, fd_events;
	char got[16];
	size_t ngot;
	int sig_calls, sig_no;
	int hook_calls, hook_stop;
	int safety;
};

struct tag {
	struct lrec *r;
	char c;
};

static void
timer_cb(void *arg)
{
	struct tag *t = arg;
	struct lrec *r = t->r;

	if (r->norder < sizeof r->order - 1)
		r->order[r->norder++] = t->c;
	if (r->stop_after > 0 && (int)r->norder == r->stop_after)
		loop_stop(r->l);
}

/* Ends a test that would otherwise hang; the test then fails. */
static void
safety_cb(void *arg)
{
	struct lrec *r = arg;

	r->safety = 1;
	loop_stop(r->l);
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1)
		continue;
}

static void
test_loop_timers_order(void **state)
{
	struct lrec r;
	struct tag a, b, c, d;
	uint64_t id;

	(void)state;
	memset(&r, 0, sizeof r);
	r.l = loop_new();
	a.r = b.r = c.r = d.r = &r;
	a.c = 'a';
	b.c = 'b';
	c.c = 'c';
	d.c = 'd';
	(void)loop_timer_add(r.l, 30, timer_cb, &c);
	(void)loop_timer_add(r.l, 10, timer_cb, &a);
	id = loop_timer_add(r.l, 15, timer_cb, &d);
	assert_true(id != 0);
	(void)loop_timer_add(r.l, 20, timer_cb, &b);
	loop_timer_del(r.l, id);
	loop_timer_del(r.l, 12345); /* unknown: ignored */
	(void)loop_timer_add(r.l, 3000, safety_cb, &r);
	r.stop_after = 3;
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.safety, 0);
	assert_int_equal(r.norder, 3);
	assert_memory_equal(r.order, "abc", 3);
	loop_free(r.l);
}

static void
test_loop_timers_order_same_turn(void **state)
{
	struct lrec r;
	struct tag a, b, c;

	(void)state;
	memset(&r, 0, sizeof r);
	r.l = loop_new();
	a.r = b.r = c.r = &r;
	a.c = 'a';
	b.c = 'b';
	c.c = 'c';
	(void)loop_timer_add(r.l, 3, timer_cb, &c);
	(void)loop_timer_add(r.l, 1, timer_cb, &a);
	(void)loop_timer_add(r.l, 2, timer_cb, &b);
	(void)loop_timer_add(r.l, 3000, safety_cb, &r);
	/* All three are due by the time the loop looks at them. */
	sleep_ms(20);
	r.stop_after = 3;
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.safety, 0);
	assert_int_equal(r.norder, 3);
	/* Due timers fire in deadline order, not insertion order. */
	assert_memory_equal(r.order, "abc", 3);
	loop_free(r.l);
}

static void
fd_cb(int fd, int events, void *arg)
{
	struct lrec *r = arg;
	ssize_t n;

	r->fd_calls++;
	r->fd_events |= events;
	n = read(fd, r->got + r->ngot, sizeof r->got - 1 - r->ngot);
	if (n > 0)
		r->ngot += (size_t)n;
	loop_fd_del(r->l, fd);
	loop_stop(r->l);
}

static void
test_loop_fd(void **state)
{
	struct lrec r;
	int p[2];

	(void)state;
	memset(&r, 0, sizeof r);
	r.l = loop_new();
	assert_int_equal(pipe(p), 0);
	loop_fd_add(r.l, p[0], LOOP_READ, fd_cb, &r);
	(void)loop_timer_add(r.l, 3000, safety_cb, &r);
	assert_int_equal(write(p[1], "ping", 4), 4);
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.safety, 0);
	assert_int_equal(r.fd_calls, 1);
	assert_true((r.fd_events & LOOP_READ) != 0);
	assert_int_equal(r.ngot, 4);
	assert_memory_equal(r.got, "ping", 4);

	/* The fd was removed by its callback: more data is not seen. */
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_run_once(r.l, 20), 0);
	assert_int_equal(r.fd_calls, 1);
	loop_free(r.l);
	(void)close(p[0]);
	(void)close(p[1]);
}

/*
 * A descriptor closed by an earlier callback of the same turn, its number
 * reused at once for a new descriptor: the old one's events must not reach
 * the new one's callback (the new pipe is empty; a read would block).
 */
struct reuse {
	struct loop *l;
	int old_r, old_w, new_r, new_w;
	int first_calls, new_calls;
};

static void
reuse_new_cb(int fd, int events, void *arg)
{
	struct reuse *u = arg;

	(void)fd;
	(void)events;
	u->new_calls++;
}

static void
reuse_first_cb(int fd, int events, void *arg)
{
	struct reuse *u = arg;
	int p[2];
	char c;

	(void)events;
	u->first_calls++;
	(void)!read(fd, &c, 1);
	loop_fd_del(u->l, u->old_r);
	(void)close(u->old_r);
	assert_int_equal(pipe(p), 0);
	u->new_r = p[0];
	u->new_w = p[1];
	loop_fd_add(u->l, u->new_r, LOOP_READ, reuse_new_cb, u);
}

static void
test_loop_fd_reused_in_turn(void **state)
{
	struct reuse u;
	int first[2], old[2];

	(void)state;
	memset(&u, 0, sizeof u);
	u.l = loop_new();
	assert_int_equal(pipe(first), 0);
	assert_int_equal(pipe(old), 0);
	u.old_r = old[0];
	u.old_w = old[1];
	loop_fd_add(u.l, first[0], LOOP_READ, reuse_first_cb, &u);
	loop_fd_add(u.l, u.old_r, LOOP_READ, reuse_new_cb, &u);
	assert_int_equal(write(first[1], "a", 1), 1);
	assert_int_equal(write(u.old_w, "b", 1), 1);
	assert_int_equal(loop_run_once(u.l, 1000), 0);
	assert_int_equal(u.first_calls, 1);
	/* The lowest free number: the one just closed. */
	assert_int_equal(u.new_r, u.old_r);
	assert_int_equal(u.new_calls, 0);
	/* The new descriptor's own events arrive. */
	assert_int_equal(write(u.new_w, "c", 1), 1);
	assert_int_equal(loop_run_once(u.l, 1000), 0);
	assert_int_equal(u.new_calls, 1);
	loop_free(u.l);
	(void)close(first[0]);
	(void)close(first[1]);
	(void)close(u.old_w);
	(void)close(u.new_r);
	(void)close(u.new_w);
}

static void
sig_cb(int signo, void *arg)
{
	struct lrec *r = arg;

	r->sig_calls++;
	r->sig_no = signo;
	loop_stop(r->l);
}

/*
 * A loop with nothing that could wake it (no fd but the signal pipe, no
 * timer) never sleeps: it fails at once instead of polling forever.
 * (A debug build, without NDEBUG, ends the program instead.)
 */
static void
test_loop_nothing_to_wait_for(void **state)
{
#ifdef NDEBUG
	struct lrec r;
	int fds[2];

	(void)state;
	memset(&r, 0, sizeof r);
	r.l = loop_new();
	errno = 0;
	assert_int_equal(loop_run(r.l), -1);
	assert_int_equal(errno, EDEADLK);
	assert_int_equal(loop_run_once(r.l, -1), -1);
	/* A bounded turn is fine: it has a deadline. */
	assert_int_equal(loop_run_once(r.l, 0), 0);
	/* Signals alone are nothing to wait for either. */
	assert_int_equal(loop_signal_add(r.l, SIGUSR1, sig_cb, &r), 0);
	assert_int_equal(loop_run_once(r.l, -1), -1);
	/* An fd is: its hang-up wakes the loop. */
	assert_int_equal(pipe(fds), 0);
	(void)close(fds[1]);
	loop_fd_add(r.l, fds[0], LOOP_READ, fd_cb, &r);
	assert_int_equal(loop_run_once(r.l, -1), 0);
	(void)close(fds[0]);
	loop_free(r.l);
#else
	/* The debug build stops the program loudly (fatalx: exit 70). */
	struct loop *l;
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		l = loop_new();
		(void)loop_run(l);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 70);
#endif
}

static void
test_loop_signal(void **state)
{
	struct lrec r;

	(void)state;
	memset(&r, 0, sizeof r);
	r.l = loop_new();
	assert_int_equal(loop_signal_add(r.l, SIGUSR1, sig_cb, &r), 0);
	(void)loop_timer_add(r.l, 3000, safety_cb, &r);
	assert_int_equal(raise(SIGUSR1), 0);
	/* The handler only wrote to the pipe; nothing ran yet. */
	assert_int_equal(r.sig_calls, 0);
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.safety, 0);
	assert_int_equal(r.sig_calls, 1);
	assert_int_equal(r.sig_no, SIGUSR1);
	loop_free(r.l);
}

static void
hook_cb(void *arg)
{
	struct lrec *r = arg;

	r->hook_calls++;
	if (r->hook_stop > 0 && r->hook_calls == r->hook_stop)
		loop_stop(r->l);
}

static void
test_loop_before_sleep(void **state)
{
	struct lrec r;
	struct tag a;

	(void)state;
	memset(&r, 0, sizeof r);
	r.l = loop_new();
	loop_set_before_sleep(r.l, hook_cb, &r);
	(void)loop_timer_add(r.l, 3000, safety_cb, &r);

	/* One turn: the hook runs before the sleep. */
	assert_int_equal(loop_run_once(r.l, 0), 0);
	assert_int_equal(r.hook_calls, 1);

	/* A hook that stops the loop ends loop_run before any poll. */
	r.hook_stop = 2;
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.hook_calls, 2);
	assert_int_equal(r.safety, 0);

	/* And it runs once per turn while timers fire. */
	r.hook_stop = 0;
	r.hook_calls = 0;
	a.r = &r;
	a.c = 'a';
	(void)loop_timer_add(r.l, 1, timer_cb, &a);
	r.stop_after = 1;
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.norder, 1);
	assert_true(r.hook_calls >= 1);
	assert_int_equal(r.safety, 0);
	loop_free(r.l);
}

static void
test_loop_now_monotonic(void **state)
{
	uint64_t a, b;

	(void)state;
	a = loop_now_us();
	sleep_ms(5);
	b = loop_now_us();
	assert_true(b >= a + 4000);
	assert_true(b < a + 5000000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_cap),
	    cmocka_unit_test(test_buf_consume_compaction),
	    cmocka_unit_test(test_buf_reserve_commit),
	    cmocka_unit_test(test_buf_growth),
	    cmocka_unit_test(test_escape_ascii_controls),
	    cmocka_unit_test(test_escape_utf8),
	    cmocka_unit_test(test_escape_unsafe_codepoints),
	    cmocka_unit_test(test_escape_clean_agrees),
	    cmocka_unit_test(test_escape_cap),
	    cmocka_unit_test(test_loop_timers_order),
	    cmocka_unit_test(test_loop_timers_order_same_turn),
	    cmocka_unit_test(test_loop_fd),
	    cmocka_unit_test(test_loop_fd_reused_in_turn),
	    cmocka_unit_test(test_loop_signal),
	    cmocka_unit_test(test_loop_nothing_to_wait_for),
	    cmocka_unit_test(test_loop_before_sleep),
	    cmocka_unit_test(test_loop_now_monotonic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
