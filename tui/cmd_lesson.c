/*
 * `ehlo lesson [--dir DIR] [NAME [SCRIPT]]`: lists the lessons
 * (protocol/lesson.h) with the learner's progress from the history
 * database and the next one to take, or runs one: prints its text, task
 * and goals, starts the practice server in-process on 127.0.0.1 (a free
 * port, a temporary data directory, the lesson's server rules), runs
 * line mode against it with the script (or stdin) on the same event
 * loop, then checks the finished session against the lesson's goals and
 * records the result.  --dir adds a teacher's lesson files;
 * `ehlo lesson --check FILE...` validates lesson files with FILE:LINE
 * messages.  Exit 0 when passed (or valid), 1 with what is missing and
 * a hint (or a file that does not parse), 2 for bad usage, 3 when the
 * server cannot start.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "history/hist_lesson.h"
#include "history/history.h"
#include "protocol/lesson.h"
#include "protocol/practice.h"
#include "protocol/session.h"
#include "tui/cli.h"
#include "tui/histcmd.h"
#include "tui/linemode.h"

struct lesson_run {
	const struct lesson *l;
	const char *datadir;
	int *done;
	size_t met;
};

/* The progress rows of the history database (none when it is off). */
static struct hist_lesson *
lesson_progress_load(const struct cli_opts *o, size_t *n)
{
	struct hist_lesson *rows = NULL;
	struct hist *h;
	char *err = NULL;
	int missing;

	*n = 0;
	if (o->no_history || (h = histcmd_open(o, &missing)) == NULL)
		return NULL;
	if (hist_lesson_list(h, &rows, n, &err) == -1) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
	}
	hist_close(h);
	return rows;
}

static void
lesson_list(const struct cli_opts *o)
{
	const struct lesson *l, *next = NULL;
	struct hist_lesson *rows;
	size_t i, n, done = 0;

	rows = lesson_progress_load(o, &n);
	(void)printf("Lessons (run one with: ehlo lesson NAME [SCRIPT]):\n");
	for (i = 0; (l = lesson_at(i)) != NULL; i++) {
		char state[24];
		int passed;

		(void)hist_lesson_state(
		    rows, n, l->name, l->ngoals, state, sizeof state, &passed);
		done += passed ? 1 : 0;
		if (next == NULL && !passed)
			next = l;
		(void)printf("  %-18s %-11s %s\n", l->name, state, l->title);
	}
	(void)printf("%zu of %zu done", done, lesson_count());
	if (next != NULL)
		(void)printf("; next: ehlo lesson %s\n", next->name);
	else
		(void)printf("; every lesson is done\n");
	hist_lesson_free(rows, n);
}

/* --check FILE: 0 when it parses, else 1 after printing FILE:LINE. */
static int
lesson_check_file(const char *path)
{
	struct lesson *l;
	char *err = NULL;

	if ((l = lesson_load_file(path, &err)) == NULL) {
		char *shown = escape_dup(err, strlen(err));

		(void)fprintf(stderr, "%s\n", shown);
		free(shown);
		free(err);
		return EXIT_REPLY;
	}
	(void)printf("%s: lesson %s, %zu goal%s: ok\n", path, l->name,
	    l->ngoals, l->ngoals == 1 ? "" : "s");
	lesson_free(l);
	return EXIT_OK;
}

static void
lesson_print(const struct lesson *l)
{
	char *text = lesson_wrap(l->text, 76, "  ");
	char *task = lesson_wrap(l->task, 76, "  ");
	size_t i;

	(void)printf("Lesson %s: %s\n\nGoals:\n", l->name, l->title);
	for (i = 0; i < l->ngoals; i++)
		(void)printf("  [ ] %s\n", l->goals[i].text);
	(void)printf("\n%s\nTask:\n%s\n", text, task);
	(void)fflush(stdout);
	free(text);
	free(task);
}

/*
 * After a 4xx/5xx during a lesson: what to try for the next goal not
 * met yet (a failure the lesson asked for meets its goal, so the hint
 * is the next step's).
 */
static char *
lesson_on_reply(
    const struct smtp_session *s, const struct smtp_event *ev, void *arg)
{
	struct lesson_run *r = arg;
	const struct lesson_goal *g;
	struct lesson_ctx ctx;

	if (ev->reply == NULL || ev->reply->code < 400)
		return NULL;
	ctx.session = s;
	ctx.datadir = r->datadir;
	if ((g = lesson_next_goal(r->l, &ctx)) == NULL)
		return NULL;
	return xasprintf("lesson: next goal: %s; try: %s", g->text, g->hint);
}

/* Runs with the session before line mode frees it. */
static void
lesson_on_done(const struct smtp_session *s, void *arg)
{
	struct lesson_run *r = arg;
	struct lesson_ctx ctx;

	ctx.session = s;
	ctx.datadir = r->datadir;
	r->met = lesson_progress(r->l, &ctx, r->done);
}

static int
lesson_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
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
lesson_report(const struct lesson_run *r)
{
	const struct lesson *l = r->l;
	size_t i;

	(void)printf("\n");
	for (i = 0; i < l->ngoals; i++)
		(void)printf(
		    "  [%s] %s\n", r->done[i] ? "x" : " ", l->goals[i].text);
	if (r->met == l->ngoals) {
		(void)printf("lesson passed\n");
		return EXIT_OK;
	}
	(void)printf(
	    "lesson not passed yet (%zu of %zu goals):\n", r->met, l->ngoals);
	for (i = 0; i < l->ngoals; i++)
		if (!r->done[i])
			(void)printf("  missing: %s\n", l->goals[i].text);
	for (i = 0; i < l->ngoals && r->done[i]; i++)
		;
	(void)printf("hint: %s\n", l->goals[i].hint);
	return EXIT_REPLY;
}

/* Stores the run in the history database; a failure is only a note. */
static void
lesson_record(const struct cli_opts *co, const struct lesson_run *r)
{
	struct hist *h;
	char *path, *err = NULL;

	if (co->no_history)
		return;
	if ((path = hist_db_path(co->db, &err)) == NULL ||
	    (h = hist_open(path, 0, &err)) == NULL) {
		(void)fprintf(stderr, "ehlo: progress not saved: %s\n", err);
		free(err);
		free(path);
		return;
	}
	if (hist_lesson_record(
	        h, r->l->name, (int)r->met, (int)r->l->ngoals, &err) == -1) {
		(void)fprintf(stderr, "ehlo: progress not saved: %s\n", err);
		free(err);
	}
	hist_close(h);
	free(path);
}

static int
lesson_run(
    const struct cli_opts *co, const struct lesson *l, const char *script)
{
	char tmpl[] = "/tmp/ehlo-lesson-XXXXXX";
	const char *tmp = getenv("TMPDIR");
	struct practice_opts po;
	struct lesson_run r;
	struct cli_opts o;
	struct practice *p;
	struct loop *loop;
	char *dir, *err = NULL;
	int rc;

	if (tmp != NULL && tmp[0] == '/')
		dir = xasprintf("%s/ehlo-lesson-XXXXXX", tmp);
	else
		dir = xstrdup(tmpl);
	if (mkdtemp(dir) == NULL) {
		(void)fprintf(stderr,
		    "ehlo: cannot make a temporary directory %s for the "
		    "practice server; set TMPDIR to a writable directory\n",
		    dir);
		free(dir);
		return EXIT_USAGE;
	}
	lesson_print(l);
	memset(&po, 0, sizeof po);
	po.listen = "127.0.0.1:0";
	po.datadir = dir;
	po.quiet = 1;
	lesson_practice_opts(l, &po);
	loop = loop_new();
	if ((p = practice_new(loop, &po, &err)) == NULL) {
		(void)fprintf(stderr,
		    "ehlo: the practice server did not start: "
		    "%s\n",
		    err);
		free(err);
		loop_free(loop);
		(void)nftw(dir, lesson_rm, 16, FTW_DEPTH | FTW_PHYS);
		free(dir);
		return EXIT_NETWORK;
	}
	(void)printf(
	    "*: practice server on %s; your session:\n", practice_address(p));
	(void)fflush(stdout);

	memset(&o, 0, sizeof o);
	o.server = practice_address(p);
	o.script = script;
	o.cafile = practice_cafile(p);
	o.helo = "learner.example";
	o.lmtp = l->server.lmtp; /* the learner speaks LMTP to it */
	o.timeout_ms = 30000;
	o.no_history = 1;
	o.limit = -1;
	memset(&r, 0, sizeof r);
	r.l = l;
	r.datadir = dir;
	r.done = xcalloc(l->ngoals, sizeof *r.done);
	linemode_set_lesson(lesson_on_reply, &r, "lesson> ");
	rc = linemode_run_on(&o, loop, lesson_on_done, &r);
	(void)fflush(stdout);
	practice_free(p);
	loop_free(loop);
	(void)nftw(dir, lesson_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	if (rc == EXIT_USAGE) {
		free(r.done);
		return EXIT_USAGE;
	}
	rc = lesson_report(&r);
	lesson_record(co, &r);
	free(r.done);
	return rc;
}

int
cmd_lesson(int argc, char *argv[])
{
	const struct lesson *l;
	struct cli_opts o;
	char *err = NULL;
	int rc, i;

	rc = cli_parse(argc, argv, CLI_O_LESSON | CLI_O_HISTORY, &o);
	if (rc != 0) {
		free(o.args);
		if (rc == 1) {
			(void)puts("usage: ehlo lesson [--dir DIR] [NAME "
			           "[SCRIPT]]\n"
			           "       ehlo lesson --check FILE [FILE...]\n"
			           "  no NAME: list the lessons, what is done "
			           "and the next one; NAME: run it\n"
			           "  against the built-in practice server, "
			           "reading your commands from SCRIPT\n"
			           "  or standard input; progress is kept in "
			           "the history database (--db,\n"
			           "  --no-history).  --dir DIR adds the "
			           "lessons DIR/*.lesson; --check\n"
			           "  validates lesson files (format: "
			           "docs/lessons.md)");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.lesson_check != NULL) {
		rc = lesson_check_file(o.lesson_check);
		for (i = 0; i < o.nargs; i++)
			if (lesson_check_file(o.args[i]) != EXIT_OK)
				rc = EXIT_REPLY;
		free(o.args);
		return rc;
	}
	if (o.lesson_dir != NULL && lesson_add_dir(o.lesson_dir, &err) == -1) {
		rc = cli_usage_error("%s", err);
		free(err);
		free(o.args);
		return rc;
	}
	if (o.nargs == 0) {
		free(o.args);
		lesson_list(&o);
		return EXIT_OK;
	}
	if (o.nargs > 2) {
		rc = cli_usage_error("unexpected argument \"%s\" after the "
		                     "script",
		    o.args[2]);
		free(o.args);
		return rc;
	}
	if ((l = lesson_find(o.args[0])) == NULL) {
		rc = cli_usage_error("no lesson called \"%s\"; \"ehlo lesson\" "
		                     "lists them",
		    o.args[0]);
		free(o.args);
		return rc;
	}
	rc = lesson_run(&o, l, o.nargs == 2 ? o.args[1] : NULL);
	free(o.args);
	return rc;
}
