/*
 * Unit tests for protocol/practice/ and protocol/knowledge/lesson.c.  The
 * practice server runs in-process on a loop of its own (127.0.0.1, a free
 * port, a temporary data directory, short teaching delays); the tests are its
 * clients over raw non-blocking sockets and turn the loop while they wait
 * for a reply, so every wait is bounded.  The reply table is checked for
 * shape and against the knowledge base (protocol/explain.h): every code
 * the server can send must have an explanation.  Lesson checks are
 * driven through a sans-I/O session fed by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/explain.h"
#include "protocol/lesson.h"
#include "protocol/practice.h"
#include "protocol/session.h"

#define WAIT_MS 5000

struct fx {
	struct loop *loop;
	struct practice *p;
	char dir[64];
	int port;
};

static struct fx fx;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

static int
setup(void **state)
{
	struct practice_opts o;
	char *err = NULL;
	const char *colon;

	(void)state;
	(void)signal(SIGPIPE, SIG_IGN);
	(void)snprintf(fx.dir, sizeof fx.dir, "/tmp/ehlo-practice-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	memset(&o, 0, sizeof o);
	o.listen = "127.0.0.1:0";
	o.datadir = fx.dir;
	o.greylist_ms = 300;
	o.slow_ms = 400;
	fx.loop = loop_new();
	fx.p = practice_new(fx.loop, &o, &err);
	if (fx.p == NULL) {
		print_error("practice_new: %s\n", err);
		free(err);
		return -1;
	}
	colon = strrchr(practice_address(fx.p), ':');
	fx.port = (int)strtol(colon + 1, NULL, 10);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	practice_free(fx.p);
	loop_free(fx.loop);
	(void)nftw(fx.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- a raw client -------------------------------------------------------- */

static int
cl_connect(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)fx.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void
cl_send(int fd, const char *p, size_t n)
{
	ssize_t r;
	int turns = 0;

	while (n > 0) {
		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		assert_true(r == -1 && errno == EAGAIN);
		assert_true(++turns < 10000);
		(void)loop_run_once(fx.loop, 10);
	}
}

static void
cl_str(int fd, const char *s)
{
	cl_send(fd, s, strlen(s));
}

/*
 * Reads one whole reply into out (NUL-terminated, CRLFs kept), turning
 * the loop meanwhile.  Returns 0, or -1 on EOF before any byte.
 */
static int
cl_reply(int fd, char *out, size_t outsz)
{
	size_t n = 0;
	uint64_t deadline = loop_now_us() + WAIT_MS * 1000u;
	const char *line;
	ssize_t r;

	out[0] = '\0';
	for (;;) {
		/* Complete when the last full line has a space after the code. */
		if (n >= 2 && out[n - 1] == '\n') {
			line = out + n - 1;
			while (line > out && line[-1] != '\n')
				line--;
			if (out + n - line >= 5 && line[3] == ' ')
				return 0;
		}
		r = recv(fd, out + n, 1, 0);
		if (r == 1) {
			n++;
			assert_true(n + 1 < outsz);
			out[n] = '\0';
			continue;
		}
		if (r == 0)
			return n == 0 ? -1 : 0;
		assert_true(loop_now_us() < deadline);
		(void)loop_run_once(fx.loop, 10);
	}
}

/* Sends a command and checks that the reply starts with want. */
static void
cl_expect(int fd, const char *cmd, const char *want)
{
	char buf[8192];

	if (cmd != NULL) {
		cl_str(fd, cmd);
		cl_str(fd, "\r\n");
	}
	assert_int_equal(cl_reply(fd, buf, sizeof buf), 0);
	if (strncmp(buf, want, strlen(want)) != 0)
		fail_msg("%s: want \"%s\", got \"%s\"",
		    cmd ? cmd : "(greeting)", want, buf);
}

/* 1 when the server closed the connection (within the wait). */
static int
cl_closed(int fd)
{
	uint64_t deadline = loop_now_us() + WAIT_MS * 1000u;
	char c;
	ssize_t r;

	for (;;) {
		r = recv(fd, &c, 1, 0);
		if (r == 0 || (r == -1 && errno == ECONNRESET))
			return 1;
		if (r == 1 || loop_now_us() > deadline)
			return 0;
		(void)loop_run_once(fx.loop, 10);
	}
}

static void
drive(int ms)
{
	uint64_t until = loop_now_us() + (uint64_t)ms * 1000u;

	while (loop_now_us() < until)
		(void)loop_run_once(fx.loop, 10);
}

/* ---- the reply table ------------------------------------------------------ */

static void
test_reply_table_shape(void **state)
{
	const struct practice_reply *r;
	size_t i;

	(void)state;
	assert_true(practice_reply_count() > 40);
	assert_null(practice_reply_at(practice_reply_count()));
	for (i = 0; i < practice_reply_count(); i++) {
		r = practice_reply_at(i);
		assert_non_null(r);
		assert_true(r->code >= 200 && r->code <= 599);
		/* RFC 3463: the class of the enhanced code is the first digit
		 * of the reply code (none on 220 greeting, EHLO, 334, 354). */
		if (r->enhanced[0] != '\0')
			assert_int_equal(r->enhanced[0] - '0', r->code / 100);
		else
			assert_true(r->code == 220 || r->code == 250 ||
			    r->code == 334 || r->code == 354);
	}
}

/*
 * Every (code, enhanced) pair the practice server can send has an
 * explanation in the knowledge base.
 */
static void
test_reply_table_explained(void **state)
{
	const struct practice_reply *r;
	size_t i, missing = 0;

	(void)state;
	for (i = 0; i < practice_reply_count(); i++) {
		r = practice_reply_at(i);
		if (smtp_explain_code(r->code) == NULL) {
			print_message(
			    "no explanation for reply code %d\n", r->code);
			missing++;
		}
		if (r->enhanced[0] != '\0' &&
		    smtp_explain_enhanced(r->enhanced) == NULL) {
			print_message("no explanation for enhanced code %s\n",
			    r->enhanced);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

/* ---- the server ------------------------------------------------------------ */

#define RECEIVED                                                               \
	"Return-Path: <alice@practice.test>\r\n"                               \
	"Received: from unit.example (127.0.0.1)\r\n"

static void
test_transaction_delivered(void **state)
{
	static const char body[] = "Subject: unit\r\n\r\n.dot line\r\nend\r\n";
	char path[256], buf[4096], *eml;
	struct dirent *e;
	DIR *d;
	FILE *f;
	size_t n;
	int fd = cl_connect();

	(void)state;
	cl_expect(fd, NULL, "220 practice.test ESMTP");
	cl_expect(fd, "EHLO unit.example", "250-practice.test Hello");
	/* ENVID is xtext (protocol/xtext.c, liberal about hex case): a bare
	 * '=' or a '+' without two hex digits is refused. */
	cl_expect(fd, "MAIL FROM:<alice@practice.test> ENVID=a=b", "501 ");
	cl_expect(fd, "MAIL FROM:<alice@practice.test> ENVID=a+4", "501 ");
	cl_expect(fd, "MAIL FROM:<alice@practice.test> ENVID=QQ+2b4+3D7",
	    "250 2.1.0");
	cl_expect(fd, "RCPT TO:<bob@practice.test>", "250 2.1.5");
	cl_expect(fd, "DATA", "354 ");
	cl_str(fd, "Subject: unit\r\n\r\n..dot line\r\nend\r\n.\r\n");
	cl_expect(fd, NULL, "250 2.0.0 Ok: queued as ");
	cl_expect(fd, "QUIT", "221 2.0.0");
	assert_true(cl_closed(fd));
	(void)close(fd);

	(void)snprintf(path, sizeof path, "%s/inbox/bob", fx.dir);
	assert_non_null(d = opendir(path));
	eml = NULL;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".eml") != NULL)
			eml = xasprintf("%s/%s", path, e->d_name);
	(void)closedir(d);
	assert_non_null(eml);
	assert_non_null(f = fopen(eml, "rb"));
	n = fread(buf, 1, sizeof buf - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	assert_true(strncmp(buf, RECEIVED, strlen(RECEIVED)) == 0);
	assert_true(n > sizeof body - 1);
	assert_memory_equal(buf + n - (sizeof body - 1), body, sizeof body - 1);
	free(eml);
	assert_int_equal(practice_connection_count(fx.p), 0);
}

/* A megabyte without a line end: input memory stays capped. */
static void
test_long_line_bounded(void **state)
{
	char chunk[8192];
	size_t sent, peak = 0;
	int fd = cl_connect();

	(void)state;
	cl_expect(fd, NULL, "220 ");
	memset(chunk, 'A', sizeof chunk);
	for (sent = 0; sent < 1024 * 1024; sent += sizeof chunk) {
		cl_send(fd, chunk, sizeof chunk);
		(void)loop_run_once(fx.loop, 0);
		if (practice_buffered(fx.p) > peak)
			peak = practice_buffered(fx.p);
	}
	drive(50);
	if (practice_buffered(fx.p) > peak)
		peak = practice_buffered(fx.p);
	print_message(
	    "peak buffer storage during a 1 MiB line: %zu octets\n", peak);
	assert_true(peak <= 48 * 1024);
	cl_expect(fd, "", "500 5.5.2 Line too long");
	cl_expect(fd, "NOOP", "250 2.0.0 Ok");
	(void)close(fd);
	drive(20);
}

static void
test_rules_and_errors(void **state)
{
	int fd = cl_connect();

	(void)state;
	cl_expect(fd, NULL, "220 ");
	cl_expect(fd, "MAIL FROM:<a@practice.test>", "503 5.5.1");
	cl_expect(fd, "HELO old.example", "250 practice.test Hello");
	cl_expect(fd, "MAIL FROM:<a@practice.test> SIZE=10", "555 5.5.4");
	cl_expect(fd, "AUTH PLAIN", "503 5.5.1");
	cl_expect(fd, "EHLO new.example", "250-practice.test");
	cl_expect(fd, "MAIL FROM:<a@practice.test> SIZE=2000000", "552 5.3.4");
	cl_expect(fd, "MAIL FROM:<j\xc3\xb6rg@practice.test>", "553 5.6.7");
	cl_expect(
	    fd, "MAIL FROM:<j\xc3\xb6rg@practice.test> SMTPUTF8", "250 2.1.0");
	cl_expect(fd, "MAIL FROM:<a@practice.test>", "503 5.5.1");
	cl_expect(fd, "RCPT TO:<>", "501 5.1.3");
	cl_expect(fd, "RCPT TO:<bob@practice.test> NOTIFY=NEVER", "250 2.1.5");
	cl_expect(fd, "AUTH LOGIN", "503 5.5.1");
	cl_expect(fd, "RSET", "250 2.0.0");
	cl_expect(fd, "AUTH LOGIN", "334 VXNlcm5hbWU6");
	cl_expect(fd, "*", "501 5.7.0");
	cl_expect(fd, "AUTH LOGIN YWxpY2U=", "334 UGFzc3dvcmQ6");
	cl_expect(fd, "d29uZGVybGFuZA==", "235 2.7.0");
	cl_expect(fd, "AUTH PLAIN", "503 5.5.1");
	cl_expect(fd, "STARTTLS now", "501 5.5.4");
	cl_expect(fd, "ETRN practice.test", "502 5.5.1");
	/* Nine protocol errors so far (503, 555, 503, 503, 501, 503, 503,
	 * 501, 502): the tenth is answered, then 421 and the close. */
	cl_expect(fd, "XYZZY", "500 5.5.2");
	cl_expect(fd, NULL, "421 4.7.0");
	assert_true(cl_closed(fd));
	(void)close(fd);
}

static void
test_greylist_slow_and_others(void **state)
{
	int a = cl_connect(), b = cl_connect();
	char buf[512];
	uint64_t t0;

	(void)state;
	cl_expect(a, NULL, "220 ");
	cl_expect(b, NULL, "220 ");
	cl_expect(a, "EHLO a.example", "250-");
	cl_expect(b, "EHLO b.example", "250-");
	cl_expect(a, "MAIL FROM:<g@sender.example>", "250 ");
	cl_expect(a, "RCPT TO:<greylist@practice.test>", "450 4.7.1");
	cl_expect(a, "RCPT TO:<greylist@practice.test>", "450 4.7.1");
	drive(320);
	cl_expect(a, "RCPT TO:<greylist@practice.test>", "250 2.1.5");

	/* slow@ holds only its own connection. */
	cl_expect(b, "MAIL FROM:<s@sender.example>", "250 ");
	t0 = loop_now_us();
	cl_str(b, "RCPT TO:<slow@practice.test>\r\nNOOP\r\n");
	cl_expect(a, "NOOP", "250 2.0.0");
	assert_true(loop_now_us() - t0 < 300000);
	assert_int_equal(cl_reply(b, buf, sizeof buf), 0);
	assert_true(strncmp(buf, "250 2.1.5", 9) == 0);
	assert_true(loop_now_us() - t0 >= 390000);
	cl_expect(b, NULL, "250 2.0.0 Ok");

	cl_expect(a, "RCPT TO:<bye@practice.test>", "421 4.3.2");
	assert_true(cl_closed(a));
	(void)close(a);
	(void)close(b);
	drive(20);
}

static void
test_early_talker(void **state)
{
	struct practice_opts o;
	struct practice *p;
	char *err = NULL, dir[128], buf[512];
	const char *colon;
	int save = fx.port, fd;
	struct practice *savep = fx.p;

	(void)state;
	(void)snprintf(dir, sizeof dir, "%s/early", fx.dir);
	memset(&o, 0, sizeof o);
	o.listen = "127.0.0.1:0";
	o.datadir = dir;
	o.greet_pause_ms = 300;
	assert_non_null(p = practice_new(fx.loop, &o, &err));
	colon = strrchr(practice_address(p), ':');
	fx.port = (int)strtol(colon + 1, NULL, 10);
	fx.p = p;
	fd = cl_connect();
	cl_str(fd, "EHLO rude.example\r\n");
	assert_int_equal(cl_reply(fd, buf, sizeof buf), 0);
	assert_true(strncmp(buf, "554 5.5.1", 9) == 0);
	assert_true(cl_closed(fd));
	(void)close(fd);
	fd = cl_connect();
	cl_expect(fd, NULL, "220 ");
	(void)close(fd);
	drive(20);
	practice_free(p);
	fx.p = savep;
	fx.port = save;
}

static void
test_inbox_list(void **state)
{
	struct practice_message *m;
	char *err = NULL;
	size_t n, i;
	int found = 0;

	(void)state;
	assert_int_equal(practice_inbox_list(fx.dir, &m, &n, &err), 0);
	for (i = 0; i < n; i++)
		if (strcmp(m[i].user, "bob") == 0 &&
		    strcmp(m[i].subject, "unit") == 0)
			found = 1;
	assert_true(found);
	practice_inbox_free(m, n);
	assert_int_equal(
	    practice_inbox_list("/nonexistent/dir", &m, &n, &err), 0);
	assert_int_equal(n, 0);
	practice_inbox_free(m, n);
}

/* ---- lessons ------------------------------------------------------------------ */

static void
ignore(const struct smtp_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

static void
s_line(struct smtp_session *s, const char *line)
{
	char *err = NULL;

	assert_int_equal(smtp_session_send(s, line, strlen(line), &err), 0);
	smtp_session_output_consume(s, SIZE_MAX);
}

static void
s_feed(struct smtp_session *s, const char *bytes)
{
	smtp_session_feed(s, bytes, strlen(bytes));
}

static void
test_lessons(void **state)
{
	const struct lesson *l;
	struct smtp_session *s;
	struct lesson_ctx ctx;
	int done[8];
	size_t i;

	(void)state;
	assert_true(lesson_count() >= 12);
	for (i = 0; (l = lesson_at(i)) != NULL; i++) {
		assert_non_null(l->name);
		assert_true(l->ngoals > 0 && l->ngoals <= 8);
		assert_ptr_equal(lesson_find(l->name), l);
		assert_non_null(strstr(l->answer, "\n"));
	}
	assert_non_null(lesson_find("VRFY"));
	assert_null(lesson_find("nope"));

	l = lesson_find("vrfy");
	s = smtp_session_new(ignore, NULL);
	ctx.session = s;
	ctx.datadir = NULL;
	assert_int_equal(lesson_progress(l, &ctx, done), 0);
	smtp_session_connected(s, "127.0.0.1:2525");
	s_feed(s, "220 practice.test ESMTP\r\n");
	s_line(s, "EHLO me");
	s_feed(s, "250-practice.test\r\n250 HELP\r\n");
	s_line(s, "EXPN staff");
	s_feed(s,
	    "250-2.1.5 Alice <alice@practice.test>\r\n"
	    "250 2.1.5 Bob <bob@practice.test>\r\n");
	assert_int_equal(lesson_progress(l, &ctx, done), 1);
	assert_false(done[0]);
	assert_true(done[1]);
	assert_ptr_equal(lesson_next_goal(l, &ctx), &l->goals[0]);
	s_line(s, "VRFY bob");
	s_feed(s, "252 2.0.0 maybe\r\n");
	assert_int_equal(lesson_progress(l, &ctx, done), 2);
	assert_null(lesson_next_goal(l, &ctx));

	/* data: a delivery to bob counts only with bob among the RCPTs. */
	l = lesson_find("data");
	s_line(s, "MAIL FROM:<a@practice.test>");
	s_feed(s, "250 2.1.0 ok\r\n");
	s_line(s, "RCPT TO:<carol@practice.test>");
	s_feed(s, "250 2.1.5 ok\r\n");
	s_line(s, "DATA");
	s_feed(s, "354 go\r\n");
	s_line(s, "hi");
	s_line(s, ".");
	s_feed(s, "250 2.0.0 queued\r\n");
	assert_int_equal(lesson_progress(l, &ctx, done), 1);
	assert_true(done[0]);
	assert_false(done[1]);
	smtp_session_free(s);
}

static void
test_lesson_wrap(void **state)
{
	char *w;

	(void)state;
	w = lesson_wrap("one two three four\n\nfive", 12, "  ");
	assert_string_equal(w, "  one two\n  three four\n\n  five\n");
	free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_table_shape),
	    cmocka_unit_test(test_transaction_delivered),
	    cmocka_unit_test(test_long_line_bounded),
	    cmocka_unit_test(test_rules_and_errors),
	    cmocka_unit_test(test_greylist_slow_and_others),
	    cmocka_unit_test(test_early_talker),
	    cmocka_unit_test(test_inbox_list),
	    cmocka_unit_test(test_lessons),
	    cmocka_unit_test(test_lesson_wrap),
	    cmocka_unit_test(test_reply_table_explained),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
