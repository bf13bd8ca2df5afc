/*
 * The workbench's tools: guided lessons beside the stages (/lesson,
 * /hint), the practice inbox (/inbox), and the commands /replay and
 * /probe, whose runs are tui/wb_run.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "history/hist_lesson.h"
#include "protocol/lesson.h"
#include "protocol/practice.h"
#include "tui/cli.h"
#include "tui/cmdtab.h"
#include "tui/wb.h"

int
wb_inbox_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	struct practice_message *m = NULL;
	size_t n = 0, i;
	char *err = NULL, *subj, *title;
	struct buf b;
	long want = -1;

	if (practice_inbox_list(wb->conn.practice_dir, &m, &n, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return 0;
	}
	if (*arg != '\0') {
		char *end;

		want = strtol(arg, &end, 10);
		if (*end != '\0' || want < 1 || (size_t)want > n) {
			wb_note(wb, THEME_ERROR,
			    "/inbox N: N is a message number from 1 to %zu", n);
			practice_inbox_free(m, n);
			return 0;
		}
	}
	buf_init(&b, 0);
	if (want > 0) {
		FILE *f = fopen(m[want - 1].path, "r");
		char line[1024];
		int count = 0;

		if (f == NULL)
			(void)buf_add_printf(&b, "cannot open %s: %s",
			    m[want - 1].path, strerror(errno));
		while (f != NULL && count++ < 2000 &&
		    fgets(line, sizeof line, f) != NULL) {
			line[strcspn(line, "\r\n")] = '\0';
			(void)escape_append(&b, line, strlen(line));
			(void)buf_add(&b, "\n", 1);
		}
		if (f != NULL)
			(void)fclose(f);
		title = xasprintf("practice inbox: message %ld for %s", want,
		    m[want - 1].user);
	} else {
		if (n == 0)
			(void)buf_add_str(&b,
			    "The practice inbox is empty: "
			    "deliver a message to alice, bob or carol "
			    "@practice.test first.");
		for (i = 0; i < n; i++) {
			subj = escape_dup(m[i].subject, strlen(m[i].subject));
			(void)buf_add_printf(&b, "%3zu  %-6s %8llu bytes  %s\n",
			    i + 1, m[i].user, (unsigned long long)m[i].size,
			    subj);
			free(subj);
		}
		if (n > 0)
			(void)buf_add_str(&b, "\n/inbox N shows message N.");
		title = xstrdup("practice inbox");
	}
	(void)buf_add(&b, "", 1);
	wb_popup_open(wb, title, buf_peek(&b));
	free(title);
	buf_reset(&b);
	practice_inbox_free(m, n);
	return 0;
}

void
wb_lesson_lines_free(struct wb *wb)
{
	wb_strv_free(&wb->tool.lesson_lines, &wb->tool.nlesson_lines);
}

static void
lesson_add_text(
    struct wb *wb, const char *text, size_t width, const char *indent)
{
	char *wrapped = lesson_wrap(text, width, indent), *p, *nl;

	for (p = wrapped; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		wb->tool.lesson_lines = xreallocarray(wb->tool.lesson_lines,
		    wb->tool.nlesson_lines + 1, sizeof *wb->tool.lesson_lines);
		wb->tool.lesson_lines[wb->tool.nlesson_lines++] =
		    xstrndup(p, (size_t)(nl - p));
		if (*nl == '\0')
			break;
	}
	free(wrapped);
}

/* Rebuilds the lesson pane: the task, each goal with its state, a hint. */
void
wb_lesson_refresh(struct wb *wb, size_t width)
{
	struct lesson_ctx ctx;
	int done[32];
	size_t i, met;
	char *line;
	const struct lesson_goal *next;

	wb_lesson_lines_free(wb);
	if (wb->tool.lesson == NULL)
		return;
	memset(&ctx, 0, sizeof ctx);
	ctx.session = wb->conn.session;
	ctx.datadir = wb->conn.practice_dir;
	met = lesson_progress(wb->tool.lesson, &ctx, done);
	line = xasprintf("lesson: %s (%zu/%zu)", wb->tool.lesson->title, met,
	    wb->tool.lesson->ngoals);
	lesson_add_text(wb, line, width, "");
	free(line);
	lesson_add_text(wb, wb->tool.lesson->task, width, "  ");
	for (i = 0; i < wb->tool.lesson->ngoals && i < 32; i++) {
		line = xasprintf("%s %s", done[i] ? "\xe2\x9c\x93" : "\xc2\xb7",
		    wb->tool.lesson->goals[i].text);
		lesson_add_text(wb, line, width, "  ");
		free(line);
	}
	next = lesson_next_goal(wb->tool.lesson, &ctx);
	lesson_add_text(wb,
	    next != NULL ? "/hint for a hint, /lesson off to close"
	        : wb->hist != NULL
	        ? "Lesson passed and saved. /lesson lists the next ones."
	        : "Lesson passed. /lesson lists the next ones.",
	    width, "");
}

void
wb_lesson_save(struct wb *wb)
{
	const struct lesson *l = wb->tool.lesson;
	struct lesson_ctx ctx;
	char *err = NULL;
	size_t met;

	if (l == NULL || !wb->conn.on_practice)
		return;
	memset(&ctx, 0, sizeof ctx);
	ctx.session = wb->conn.session;
	ctx.datadir = wb->conn.practice_dir;
	met = lesson_progress(l, &ctx, NULL);
	if (met <= wb->tool.lesson_saved)
		return;
	wb->tool.lesson_saved = met;
	if (met == l->ngoals)
		wb_note(wb, THEME_NOTE, "lesson %s passed%s", l->name,
		    wb->hist != NULL ? "; ehlo lesson shows it done" : "");
	if (wb->hist == NULL)
		return;
	if (hist_lesson_record(
	        wb->hist, l->name, (int)met, (int)l->ngoals, &err) == -1) {
		wb_note(
		    wb, THEME_WARNING, "lesson progress not saved: %s", err);
		free(err);
	}
}

int
wb_lesson_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	const struct lesson *l;
	struct buf b;
	size_t i;
	char *text;

	if (*arg == '\0') {
		struct hist_lesson *rows = NULL;
		size_t nrows = 0;
		char *err = NULL;

		/* With each lesson's state, as `ehlo lesson` lists them. */
		if (wb->hist != NULL &&
		    hist_lesson_list(wb->hist, &rows, &nrows, &err) == -1) {
			wb_note(wb, THEME_WARNING, "%s", err);
			free(err);
		}
		buf_init(&b, 0);
		for (i = 0; i < lesson_count(); i++) {
			char state[24];

			(void)hist_lesson_state(rows, nrows, lesson_at(i)->name,
			    lesson_at(i)->ngoals, state, sizeof state, NULL);
			(void)buf_add_printf(&b, "%-18s %-11s %s\n",
			    lesson_at(i)->name, state, lesson_at(i)->title);
		}
		hist_lesson_free(rows, nrows);
		(void)buf_add_str(&b,
		    "\n/lesson NAME opens a lesson beside "
		    "the stages.");
		(void)buf_add(&b, "", 1);
		wb_popup_open(wb, "lessons", buf_peek(&b));
		buf_reset(&b);
		return 0;
	}
	if (strcasecmp(arg, "off") == 0) {
		wb->tool.lesson = NULL;
		wb_lesson_lines_free(wb);
		wb->dirty = 1;
		return 0;
	}
	if ((l = lesson_find(arg)) == NULL) {
		wb_note(wb, THEME_ERROR, "no lesson \"%s\": /lesson lists them",
		    arg);
		return 0;
	}
	wb->tool.lesson = l;
	wb->tool.lesson_saved = 0;
	/* The lesson's own server, as `ehlo lesson` starts it: the
	 * practice server with the lesson's rules, a new session on it. */
	if (!wb->conn.on_practice ||
	    !lesson_server_same(wb->conn.practice_lesson, l)) {
		wb_note(wb, THEME_NOTE,
		    "lesson %s: a new session on the practice server%s",
		    l->name,
		    lesson_server_same(NULL, l) ? ""
		                                : " with the lesson's rules");
		wb_connect(wb, NULL);
	}
	text = lesson_wrap(wb->tool.lesson->text, 76, "");
	wb_popup_open(wb, wb->tool.lesson->title, text);
	free(text);
	wb->dirty = 1;
	return 0;
}

int
wb_hint_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	struct lesson_ctx ctx;
	const struct lesson_goal *g;

	(void)arg;
	if (wb->tool.lesson == NULL) {
		wb_note(wb, THEME_NOTE, "no lesson open: /lesson lists them");
		return 0;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.session = wb->conn.session;
	ctx.datadir = wb->conn.practice_dir;
	g = lesson_next_goal(wb->tool.lesson, &ctx);
	wb_note(wb, THEME_NOTE, "hint: %s",
	    g != NULL ? g->hint : "the lesson is passed");
	return 0;
}

/*
 * /replay and /probe: the runs themselves are tui/wb_run.c's, reached
 * through the workbench's runner table (see tui/wb.h).
 */
int
wb_replay_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;

	if (wb->tool.runner == NULL)
		wb_note(wb, THEME_ERROR, "/replay cannot run here");
	else
		wb->tool.runner->replay(wb, arg);
	return 0;
}

int
wb_probe_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;

	if (wb->tool.runner == NULL)
		wb_note(wb, THEME_ERROR, "/probe cannot run here");
	else
		wb->tool.runner->probe(wb, arg);
	return 0;
}
