/*
 * `ehlo lesson [NAME [SCRIPT]]`: lists the lessons (protocol/lesson.h),
 * or runs one: prints its text and task, starts the practice server
 * in-process on 127.0.0.1 (a free port, a temporary data directory),
 * runs line mode against it with the script (or stdin) on the same
 * event loop, then checks the finished session against the lesson's
 * goals.  Exit 0 when passed, 1 with what is missing and a hint, 2 for
 * bad usage, 3 when the server cannot start.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/lesson.h"
#include "protocol/practice.h"
#include "tui/cli.h"
#include "tui/linemode.h"

struct lesson_run {
	const struct lesson *l;
	const char *datadir;
	int *done;
	size_t met;
};

static void
lesson_list(void)
{
	const struct lesson *l;
	size_t i;

	(void)printf("Lessons (run one with: ehlo lesson NAME [SCRIPT]):\n");
	for (i = 0; (l = lesson_at(i)) != NULL; i++)
		(void)printf("  %-11s %s\n", l->name, l->title);
}

static void
lesson_print(const struct lesson *l)
{
	char *text = lesson_wrap(l->text, 76, "  ");
	char *task = lesson_wrap(l->task, 76, "  ");
	size_t i;

	(void)printf("Lesson %s: %s\n\n%s\nTask:\n%s\nGoals:\n", l->name,
	    l->title, text, task);
	for (i = 0; i < l->ngoals; i++)
		(void)printf("  - %s\n", l->goals[i].text);
	(void)printf("\n");
	(void)fflush(stdout);
	free(text);
	free(task);
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
	for (i = 0; i < l->ngoals && r->done[i]; i++)
		;
	(void)printf("lesson not passed yet: missing: %s\nhint: %s\n",
	    l->goals[i].text, l->goals[i].hint);
	return EXIT_REPLY;
}

static int
lesson_run(const struct lesson *l, const char *script)
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
	o.timeout_ms = 30000;
	o.no_history = 1;
	o.limit = -1;
	memset(&r, 0, sizeof r);
	r.l = l;
	r.datadir = dir;
	r.done = xcalloc(l->ngoals, sizeof *r.done);
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
	free(r.done);
	return rc;
}

int
cmd_lesson(int argc, char *argv[])
{
	const struct lesson *l;
	struct cli_opts o;
	int rc;

	rc = cli_parse(argc, argv, 0, &o);
	if (rc != 0) {
		free(o.args);
		if (rc == 1) {
			(void)puts("usage: ehlo lesson [NAME [SCRIPT]]\n"
			           "  no NAME: list the lessons; NAME: run it "
			           "against the built-in practice server,\n"
			           "  reading your commands from SCRIPT or "
			           "standard input");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.nargs == 0) {
		free(o.args);
		lesson_list();
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
	rc = lesson_run(l, o.nargs == 2 ? o.args[1] : NULL);
	free(o.args);
	return rc;
}
