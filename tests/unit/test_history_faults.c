/*
 * Unit tests for history/ (the SQLite store) on a database that is
 * damaged or cannot be written: a corrupt file (a clear error, the file
 * untouched), a damaged page, read-only files and directories (checked
 * as an ordinary user: root ignores permissions, so the test drops to
 * nobody), and a locked database (a clear error within the busy
 * timeout).  Every test works in its own temporary directory
 * (history_fixture.h), never the user's home.
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
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "history/history.h"
#include "history_fixture.h"

static void
test_corrupt_file(void **state)
{
	struct tmp *t = *state;
	static const char garbage[] = "this is not a database, it is a note "
	                              "the user keeps here\n";
	char *err = NULL, *back, *wal;
	struct stat sb;
	size_t n;
	int fd;

	fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	for (n = 0; n < 200; n++)
		assert_int_equal(write(fd, garbage, sizeof garbage - 1),
		    (ssize_t)(sizeof garbage - 1));
	(void)close(fd);
	assert_null(hist_open(t->path, 0, &err));
	assert_non_null(strstr(err, t->path));
	assert_non_null(strstr(err, "not an SQLite database or it is damaged"));
	assert_non_null(strstr(err, "untouched"));
	free(err);
	err = NULL;
	assert_null(hist_open(t->path, HIST_OPEN_READONLY, &err));
	free(err);
	back = slurp(t->path, &n);
	assert_int_equal(n, 200 * (sizeof garbage - 1));
	assert_memory_equal(back, garbage, sizeof garbage - 1);
	free(back);
	wal = xasprintf("%s-wal", t->path);
	assert_int_equal(stat(wal, &sb), -1);
	free(wal);
}

static void
test_damaged_page(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0);
	char *err = NULL, junk[4096];
	long n;
	int64_t id;
	int fd, i;

	for (i = 0; i < 200; i++) {
		id = hist_session_begin(h, "mx", 25, "plain", 0, &err);
		(void)add_event(h, id, 'S', "250 a line of text to fill pages");
	}
	hist_close(h);
	/* Overwrite everything after the header page with junk. */
	memset(junk, 0xA5, sizeof junk);
	fd = open(t->path, O_WRONLY);
	assert_true(fd >= 0);
	for (i = 1; i < 8; i++)
		assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)i * 4096),
		    (ssize_t)sizeof junk);
	(void)close(fd);
	h = hist_open(t->path, 0, &err);
	if (h == NULL) {
		assert_non_null(strstr(err, "damaged"));
		free(err);
		return;
	}
	n = hist_session_list(h, -1, NULL, count_cb, &(long){0}, &err);
	if (n == -1) {
		assert_non_null(strstr(err, "damaged"));
		free(err);
	}
	hist_close(h);
}

/*
 * Runs fn in a child process as an ordinary user (nobody when we are
 * root: root ignores file permissions).  The child's exit status is the
 * number of the failed check, 0 on success.
 */
static void
as_user(int (*fn)(struct tmp *), struct tmp *t)
{
	pid_t pid;
	int st;

	if (geteuid() == 0 && chown(t->dir, 65534, 65534) != 0)
		fail_msg("chown: %s", strerror(errno));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 &&
		    (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(99);
		_exit(fn(t));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		fail_msg("read-only check %d failed", WEXITSTATUS(st));
}

static int
readonly_checks(struct tmp *t)
{
	char *err = NULL, *sub;
	struct hist *h;
	int64_t id;
	long n = 0;

	h = hist_open(t->path, 0, &err);
	if (h == NULL)
		return 1;
	id = hist_session_begin(h, "mx", 25, "plain", 0, &err);
	if (id <= 0)
		return 2;
	(void)add_event(h, id, 'S', "220 hi");
	hist_close(h);
	/* A read-only file: a clear refusal to write, listing still works. */
	if (chmod(t->path, 0400) != 0)
		return 3;
	if ((h = hist_open(t->path, 0, &err)) != NULL)
		return 4;
	if (strstr(err, "read-only") == NULL || strstr(err, t->path) == NULL)
		return 5;
	free(err);
	err = NULL;
	if ((h = hist_open(t->path, HIST_OPEN_READONLY, &err)) == NULL)
		return 6;
	if (hist_session_list(h, -1, NULL, count_cb, &n, &err) != 1)
		return 7;
	if (hist_session_begin(h, "mx", 25, "plain", 0, &err) != -1)
		return 8;
	if (strstr(err, "read-only") == NULL && strstr(err, "readonly") == NULL)
		return 9;
	free(err);
	err = NULL;
	hist_close(h);
	/* A read-only directory: the database cannot be created there. */
	sub = xasprintf("%s/ro", t->dir);
	if (mkdir(sub, 0500) != 0)
		return 10;
	free(sub);
	sub = xasprintf("%s/ro/ehlo.db", t->dir);
	if ((h = hist_open(sub, 0, &err)) != NULL)
		return 11;
	if (strstr(err, "cannot create") == NULL)
		return 12;
	free(err);
	free(sub);
	return 0;
}

static void
test_read_only(void **state)
{
	as_user(readonly_checks, *state);
}

static void
test_locked(void **state)
{
	struct tmp *t = *state;
	struct hist *h = must_open(t->path, 0), *h2;
	struct timespec a, b;
	sqlite3 *db;
	char *err = NULL;
	double secs;

	hist_close(h);
	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	(void)clock_gettime(CLOCK_MONOTONIC, &a);
	h2 = hist_open(t->path, 0, &err);
	if (h2 != NULL) {
		/* WAL lets it open; the first write meets the lock. */
		assert_int_equal(
		    hist_session_begin(h2, "mx", 25, "plain", 0, &err), -1);
		hist_close(h2);
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_non_null(strstr(err, "lock"));
	assert_non_null(strstr(err, t->path));
	assert_true(secs >= HIST_BUSY_TIMEOUT_MS / 1000.0 - 0.2);
	assert_true(secs < HIST_BUSY_TIMEOUT_MS / 1000.0 + 3);
	free(err);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), 0);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_corrupt_file, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_damaged_page, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_read_only, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(
	        test_locked, setup_tmp, teardown_tmp),
	};

	/* Never the user's database, whatever the environment says. */
	(void)unsetenv("EHLO_DB");
	(void)setenv("HOME", "/nonexistent", 1);
	(void)unsetenv("XDG_DATA_HOME");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
