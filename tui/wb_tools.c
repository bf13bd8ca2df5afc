/*
 * The workbench's tools: guided lessons beside the stages (/lesson,
 * /hint), the practice inbox (/inbox), and /replay and /probe, which run
 * as line-mode children whose output is shown when they end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
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
	    next == NULL ? "Lesson passed. /lesson lists the next ones."
	                 : "/hint for a hint, /lesson off to close",
	    width, "");
}

int
wb_lesson_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	struct buf b;
	size_t i;
	char *text;

	if (*arg == '\0') {
		buf_init(&b, 0);
		for (i = 0; i < lesson_count(); i++)
			(void)buf_add_printf(&b, "%-12s %s\n",
			    lesson_at(i)->name, lesson_at(i)->title);
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
	if ((wb->tool.lesson = lesson_find(arg)) == NULL) {
		wb_note(wb, THEME_ERROR, "no lesson \"%s\": /lesson lists them",
		    arg);
		return 0;
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
 * Line-mode helpers run as children (execv of this very program, no
 * shell): `replay ID --diff` (it records the new session linked to the
 * old one) and `probe NAME SERVER`.  Their output arrives through a pipe
 * and is shown in a popup when they end; the workbench never blocks.
 */
static void
on_child_output(int fd, int events, void *arg)
{
	struct wb *wb = arg;
	char buf[4096], *title, *text, *p, *q;
	ssize_t n;
	int status = 0;

	(void)events;
	n = read(fd, buf, sizeof buf);
	if (n > 0) {
		if (buf_used(&wb->tool.child_out) < 4u * 1024 * 1024)
			(void)buf_add(&wb->tool.child_out, buf, (size_t)n);
		return;
	}
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	loop_fd_del(wb->loop, fd);
	(void)close(fd);
	(void)waitpid(wb->tool.child_pid, &status, 0);
	wb->tool.child_pid = 0;
	text = escape_dup(
	    buf_peek(&wb->tool.child_out), buf_used(&wb->tool.child_out));
	/* Keep the line structure: escaped newlines become real ones. */
	for (p = q = text; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			*q++ = '\n';
			p++;
		} else
			*q++ = *p;
	}
	*q = '\0';
	title = xasprintf("%s: exit %d", wb->tool.child_title,
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	wb_popup_open(wb, title, text);
	free(title);
	free(text);
	free(wb->tool.child_title);
	wb->tool.child_title = NULL;
	buf_reset(&wb->tool.child_out);
}

static void
child_run(struct wb *wb, const char *const *args, const char *title)
{
	char self[4096];
	const char *argv[16];
	int p[2], devnull;
	size_t i = 0, j;
	ssize_t n;

	if (wb->tool.child_pid != 0) {
		wb_note(wb, THEME_WARNING, "%s is still running",
		    wb->tool.child_title);
		return;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0) {
		wb_note(wb, THEME_ERROR, "cannot find the ehlo program: %s",
		    strerror(errno));
		return;
	}
	self[n] = '\0';
	argv[i++] = self;
	for (j = 0; args[j] != NULL && i < 13; j++)
		argv[i++] = args[j];
	if (wb->o->db != NULL) {
		argv[i++] = "--db";
		argv[i++] = wb->o->db;
	}
	argv[i] = NULL;
	if (pipe(p) == -1) {
		wb_note(wb, THEME_ERROR, "pipe: %s", strerror(errno));
		return;
	}
	wb->tool.child_pid = fork();
	if (wb->tool.child_pid == -1) {
		wb->tool.child_pid = 0;
		(void)close(p[0]);
		(void)close(p[1]);
		wb_note(wb, THEME_ERROR, "fork: %s", strerror(errno));
		return;
	}
	if (wb->tool.child_pid == 0) {
		/* The child never touches the terminal: no secret prompt
		 * (EHLO_PASSWORD is used when AUTH must be redone). */
		lang_secret_env_restore();
		devnull = open("/dev/null", O_RDONLY);
		(void)dup2(devnull, 0);
		(void)dup2(p[1], 1);
		(void)dup2(p[1], 2);
		(void)close(p[0]);
		(void)setsid();
		execv(self, (char *const *)argv);
		_exit(127);
	}
	(void)close(p[1]);
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(p[0], F_SETFD, FD_CLOEXEC);
	wb->tool.child_fd = p[0];
	wb->tool.child_title = xstrdup(title);
	buf_init(&wb->tool.child_out, 0);
	loop_fd_add(wb->loop, p[0], LOOP_READ, on_child_output, wb);
	wb_note(wb, THEME_NOTE, "%s: running; the result appears when it ends",
	    title);
}

int
wb_replay_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	char idbuf[32], server[256] = "", *title;
	const char *args[6];
	size_t i = 0;
	long long id;
	char *end;

	id = strtoll(*arg == '#' ? arg + 1 : arg, &end, 10);
	if (id <= 0 || (*end != '\0' && *end != ' ')) {
		wb_note(
		    wb, THEME_ERROR, "/replay ID [SERVER]: ID from /history");
		return 0;
	}
	end += strspn(end, " ");
	(void)snprintf(server, sizeof server, "%s", end);
	(void)snprintf(idbuf, sizeof idbuf, "%lld", id);
	args[i++] = "replay";
	args[i++] = idbuf;
	if (server[0] != '\0')
		args[i++] = server;
	args[i++] = "--diff";
	args[i] = NULL;
	title = xasprintf("replay of session #%lld", id);
	child_run(wb, args, title);
	free(title);
	return 0;
}

int
wb_probe_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	char name[64], *title;
	const char *args[8], *server;
	size_t n = strcspn(arg, " ");
	size_t i = 0;

	if (n == 0 || n >= sizeof name) {
		wb_note(wb, THEME_ERROR,
		    "/probe NAME [SERVER]: starttls-required, "
		    "auth-before-tls, relay, vrfy-expn, pipelining, size");
		return 0;
	}
	(void)snprintf(name, sizeof name, "%.*s", (int)n, arg);
	server = arg + n + strspn(arg + n, " ");
	if (*server == '\0')
		server = wb->conn.server_addr;
	args[i++] = "probe";
	args[i++] = name;
	args[i++] = server;
	if (wb->o->cafile != NULL && wb->conn.practice == NULL) {
		args[i++] = "--cafile";
		args[i++] = wb->o->cafile;
	} else if (wb->conn.practice != NULL) {
		args[i++] = "--cafile";
		args[i++] = practice_cafile(wb->conn.practice);
	}
	args[i] = NULL;
	title = xasprintf("probe %s %s", name, server);
	child_run(wb, args, title);
	free(title);
	return 0;
}

void
wb_child_stop(struct wb *wb)
{
	if (wb->tool.child_pid != 0) {
		(void)kill(-wb->tool.child_pid, SIGTERM);
		(void)waitpid(wb->tool.child_pid, NULL, 0);
		(void)close(wb->tool.child_fd);
		wb->tool.child_pid = 0;
	}
	buf_reset(&wb->tool.child_out);
	free(wb->tool.child_title);
	wb->tool.child_title = NULL;
}
