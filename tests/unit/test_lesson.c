/*
 * Unit tests for lesson files (protocol/knowledge/lesson_file.c, the
 * registry in lesson.c) and lesson progress (history/hist_lesson.c):
 * every built-in lesson parses with complete goals, there are at least
 * twenty, each bad file is refused with its line number and what to
 * write, --dir replaces and adds lessons, and progress keeps the best
 * count and the first pass.
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
#include "history/hist_lesson.h"
#include "history/history.h"
#include "protocol/lesson.h"

static void
test_builtin_lessons(void **state)
{
	const char *want[] = {"greeting", "tls-required", "submission",
	    "size-8bitmime", "smtputf8", "bdat", "dsn", "greylisting",
	    "envelope-and-bcc", "reading-a-bounce", "timing"};
	const struct lesson *l;
	size_t i, k;

	(void)state;
	assert_true(lesson_count() >= 20);
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		if (lesson_find(want[i]) == NULL)
			fail_msg("no built-in lesson %s", want[i]);
	for (i = 0; (l = lesson_at(i)) != NULL; i++) {
		assert_non_null(l->title);
		assert_non_null(l->text);
		assert_non_null(l->task);
		assert_true(l->ngoals > 0);
		assert_non_null(strchr(l->answer, '\n'));
		assert_string_equal(l->source, "built-in");
		for (k = 0; k < l->ngoals; k++) {
			assert_non_null(l->goals[k].text);
			assert_non_null(l->goals[k].hint);
		}
	}
	l = lesson_find("greylisting");
	assert_int_equal(l->server.greylist_ms, 1500);
	assert_int_equal(lesson_find("submission")->server.require_auth, 1);
	assert_non_null(strstr(lesson_find("tls-required")->text, "\n\n"));
}

static const char good[] = "# comment\n"
                           "name: mine\n"
                           "title: My lesson\n"
                           "server: require-tls greet-pause 500\n"
                           "text: one\n"
                           "  two\n"
                           "\n"
                           "text: three\n"
                           "task: do it\n"
                           "goal: rcpt refused\n"
                           "check: rcpt 550 5.1.1 with \"<a b>\" after tls\n"
                           "hint: try\n"
                           "  harder\n"
                           "goal: two delivered\n"
                           "check: deliveries 2\n"
                           "hint: send two\n"
                           "answer: EHLO me\n"
                           "answer:\n"
                           "answer: QUIT\n";

static void
test_parse_good(void **state)
{
	struct lesson *l;
	char *err = NULL;

	(void)state;
	l = lesson_parse("mine.lesson", good, sizeof good - 1, &err);
	if (l == NULL)
		fail_msg("%s", err);
	assert_string_equal(l->name, "mine");
	assert_string_equal(l->text, "one two\n\nthree");
	assert_string_equal(l->goals[0].hint, "try harder");
	assert_int_equal(l->goals[0].check.kind, LESSON_CHECK_STAGE);
	assert_int_equal(l->goals[0].check.lo, 550);
	assert_int_equal(l->goals[0].check.hi, 550);
	assert_string_equal(l->goals[0].check.enh, "5.1.1");
	assert_string_equal(l->goals[0].check.with, "<a b>");
	assert_int_equal(l->goals[0].check.after_tls, 1);
	assert_int_equal(l->goals[1].check.kind, LESSON_CHECK_DELIVERIES);
	assert_int_equal(l->goals[1].check.count, 2);
	assert_string_equal(l->answer, "EHLO me\n\nQUIT\n");
	assert_int_equal(l->server.require_tls, 1);
	assert_int_equal(l->server.greet_pause_ms, 500);
	lesson_free(l);
}

/* Each bad file: the message names the file, the line and the fix. */
static void
test_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
	    {"name: x\ncolour: red\n", "f:2: unknown field \"colour\""},
	    {"name: Bad Name\n", "f:1: name: \"Bad Name\" must be"},
	    {"name: x\ntitle: t\ntext: a\ntask: b\ngoal: g\nhint: h\ngoal: "
	     "h\n",
	        "f:7: the goal before this one lacks its check: line"},
	    {"name: x\ncheck: rcpt 250\n", "f:2: check: before any goal"},
	    {"name: x\ntitle: t\ntext: a\ntask: b\ngoal: g\ncheck: rcpt "
	     "abc\n",
	        "f:6: check: after the stage comes a reply code"},
	    {"name: x\ntitle: t\ntext: a\ntask: b\ngoal: g\ncheck: "
	     "teleport 250\n",
	        "f:6: check: unknown stage or check \"teleport\""},
	    {"name: x\ntitle: t\ntext: a\ntask: b\ngoal: g\ncheck: dot-line\n",
	        "f:6: check: dot-line needs an argument"},
	    {"name: x\nserver: slow never\n", "f:2: server: slow wants"},
	    {"  orphan\n", "f:1: a continuation line with no field"},
	    {"name: x\ntitle: t\n\x01\n", "f:3: a control character"},
	    {"name: x\ntitle: t\ntext: a\ntask: b\ngoal: g\ncheck: tls\nhint: "
	     "h\n",
	        "no answer: lines"},
	    {"title: t\n", "no name: line"},
	};
	struct lesson *l;
	char *err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		l = lesson_parse("f", bad[i].text, strlen(bad[i].text), &err);
		if (l != NULL)
			fail_msg("case %zu parsed", i);
		if (err == NULL || strstr(err, bad[i].msg) == NULL)
			fail_msg("case %zu: \"%s\", wanted \"%s\"", i,
			    err != NULL ? err : "(null)", bad[i].msg);
		free(err);
	}
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_add_dir(void **state)
{
	char dir[] = "/tmp/ehlo-lesson-test-XXXXXX", *p, *err = NULL;
	size_t before = lesson_count();
	const char *replaced = "name: greeting\ntitle: Teacher's greeting\n"
	                       "text: t\ntask: t\ngoal: g\ncheck: greeting "
	                       "220\nhint: h\nanswer: QUIT\n";

	(void)state;
	assert_non_null(mkdtemp(dir));
	p = xasprintf("%s/a.lesson", dir);
	write_file(p, good);
	free(p);
	p = xasprintf("%s/b.lesson", dir);
	write_file(p, replaced);
	free(p);
	assert_int_equal(lesson_add_dir(dir, &err), 2);
	assert_int_equal(lesson_count(), before + 1);
	assert_string_equal(
	    lesson_find("greeting")->title, "Teacher's greeting");
	assert_non_null(strstr(lesson_find("mine")->source, "/a.lesson"));
	/* A broken file: its line, and nothing after it is read. */
	p = xasprintf("%s/c.lesson", dir);
	write_file(p, "name: broken\nwhat: ever\n");
	assert_int_equal(lesson_add_dir(dir, &err), -1);
	assert_non_null(strstr(err, "/c.lesson:2: unknown field"));
	free(err);
	(void)unlink(p);
	free(p);
	p = xasprintf("%s/a.lesson", dir);
	(void)unlink(p);
	free(p);
	p = xasprintf("%s/b.lesson", dir);
	(void)unlink(p);
	free(p);
	err = NULL;
	assert_int_equal(lesson_add_dir(dir, &err), -1);
	assert_non_null(strstr(err, "no NAME.lesson files"));
	free(err);
	(void)rmdir(dir);
}

static void
test_progress(void **state)
{
	char dir[] = "/tmp/ehlo-lesson-db-XXXXXX", *path, *err = NULL;
	struct hist_lesson *rows;
	struct hist *h;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/h.db", dir);
	h = hist_open(path, 0, &err);
	if (h == NULL)
		fail_msg("%s", err);
	assert_int_equal(hist_lesson_list(h, &rows, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(hist_lesson_record(h, "data", 1, 2, &err), 0);
	assert_int_equal(hist_lesson_record(h, "data", 2, 2, &err), 0);
	assert_int_equal(hist_lesson_record(h, "data", 0, 2, &err), 0);
	assert_int_equal(hist_lesson_record(h, "mail", 1, 2, &err), 0);
	assert_int_equal(hist_lesson_list(h, &rows, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].name, "data");
	assert_int_equal(rows[0].goals_met, 2); /* the best run */
	assert_true(rows[0].passed_at > 0); /* passed once stays passed */
	assert_string_equal(rows[1].name, "mail");
	assert_int_equal(rows[1].passed_at, 0);
	hist_lesson_free(rows, n);
	hist_close(h);
	(void)unlink(path);
	free(path);
	path = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(path), 0);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_builtin_lessons),
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_add_dir),
	    cmocka_unit_test(test_progress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
