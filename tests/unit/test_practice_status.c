/*
 * Unit tests for the reader of a class server's status file
 * (protocol/practice/practice_status.c, practice_status_read()): a good
 * file is read field by field; no file, and a file whose server process
 * is gone, mean "no server"; a file that is not a status file (wrong
 * first line, a row with too few fields, cut short, a NUL) is refused
 * with a message naming it.  The writer is covered end to end by
 * tests/integration/test_practice_class.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/types.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "protocol/practice.h"

static char dir[] = "/tmp/ehlo-status-XXXXXX";

static void
put(const char *text, size_t n)
{
	char *path = xasprintf("%s/status", dir);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	free(path);
}

static char *
good(long pid)
{
	return xasprintf("ehlo-practice-status 1\npid %ld\nlisten "
	                 "127.0.0.1:2525\nstarted 100\nupdated 160\n"
	                 "accepted 3\ndelivered 2\nfuture-key 7\n"
	                 "conn\t3\t192.0.2.7\t40000\t150\t0\tRCPT 2\t1\t"
	                 "alice\tanna.student\t1\t2\tRCPT TO:<ghost@practice."
	                 "test>\t550 5.1.1 <ghost@practice.test>: User "
	                 "unknown\t-\n"
	                 "conn\t1\t192.0.2.8\t40001\t110\t140\tEHLO\t0\t-\t"
	                 "bo\t0\t0\t-\t-\tQUIT\n",
	    pid);
}

static void
test_good_file(void **state)
{
	struct practice_status st;
	char *err = NULL, *text = good((long)getpid());

	(void)state;
	put(text, strlen(text));
	assert_int_equal(practice_status_read(dir, &st, &err), 1);
	assert_int_equal(st.pid, (long)getpid());
	assert_string_equal(st.listen, "127.0.0.1:2525");
	assert_int_equal(st.started, 100);
	assert_int_equal(st.accepted, 3);
	assert_int_equal(st.delivered, 2);
	assert_int_equal(st.n, 2);
	assert_int_equal(st.v[0].id, 3);
	assert_string_equal(st.v[0].peer, "192.0.2.7");
	assert_int_equal(st.v[0].port, 40000);
	assert_int_equal(st.v[0].closed, 0);
	assert_string_equal(st.v[0].stage, "RCPT 2");
	assert_true(st.v[0].tls);
	assert_string_equal(st.v[0].user, "alice");
	assert_string_equal(st.v[0].helo, "anna.student");
	assert_int_equal(st.v[0].errors, 2);
	assert_string_equal(st.v[0].err_cmd, "RCPT TO:<ghost@practice.test>");
	assert_string_equal(st.v[0].why, "");
	assert_int_equal(st.v[1].closed, 140);
	assert_string_equal(st.v[1].user, "");
	assert_string_equal(st.v[1].err_cmd, "");
	assert_string_equal(st.v[1].why, "QUIT");
	practice_status_free(&st);
	free(text);
}

static void
test_no_server(void **state)
{
	struct practice_status st;
	char *err = NULL, *path = xasprintf("%s/status", dir), *text;
	pid_t pid;

	(void)state;
	(void)unlink(path);
	assert_int_equal(practice_status_read(dir, &st, &err), 0);
	/* A server killed without cleaning up: its pid is gone. */
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	text = good((long)pid);
	put(text, strlen(text));
	assert_int_equal(practice_status_read(dir, &st, &err), 0);
	assert_null(err);
	free(text);
	free(path);
}

static void
test_not_a_status_file(void **state)
{
	struct practice_status st;
	char *err, *text = good((long)getpid()), *bad;
	size_t n = strlen(text);
	static const char *const wrong[] = {
	    "ehlo-practice-status 2\npid 1\n",
	    "ehlo-practice-status 1\npid 1\nconn\t1\t2\n",
	    "ehlo-practice-status 1\npid x\n",
	    "ehlo-practice-status 1\nlisten a\n", /* no pid */
	    "",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
		err = NULL;
		put(wrong[i], strlen(wrong[i]));
		assert_int_equal(practice_status_read(dir, &st, &err), -1);
		assert_non_null(strstr(err,
		    "/status is not a practice server's "
		    "status file"));
		free(err);
	}
	/* Cut short, and a NUL inside. */
	err = NULL;
	put(text, n - 3);
	assert_int_equal(practice_status_read(dir, &st, &err), -1);
	free(err);
	bad = xstrdup(text);
	bad[40] = '\0';
	err = NULL;
	put(bad, n);
	assert_int_equal(practice_status_read(dir, &st, &err), -1);
	free(err);
	free(bad);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_file),
	    cmocka_unit_test(test_no_server),
	    cmocka_unit_test(test_not_a_status_file),
	};
	char *path;
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	path = xasprintf("%s/status", dir);
	(void)unlink(path);
	free(path);
	(void)rmdir(dir);
	return rc;
}
