/*
 * /replay and /probe run in-process on the workbench's loop, each on a
 * session host of its own (tui/linemode.h, tui/hostprobe.h): their
 * dialogue streams into the dialogue pane between a note that marks the
 * start and one that marks the end, and Ctrl-C cancels them.  One runs
 * at a time, beside the workbench's own session.  The run's options are
 * a copy of the workbench's, with what only the workbench's own session
 * uses taken out.  The rest of the workbench reaches this room through
 * wb_runner (tui/wb.h) only.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/practice.h"
#include "protocol/probe.h"
#include "tui/cli.h"
#include "tui/hostprobe.h"
#include "tui/linemode.h"
#include "tui/wb.h"

struct wb_run {
	struct wb *wb;
	struct cli_opts o; /* the run's options (they outlive it) */
	char *title; /* "probe vrfy-expn 127.0.0.1:2525" */
	struct linemode *replay;
	struct hostprobe *probe;
	char *server; /* what o.server points to when allocated */
	char *proxy[2]; /* what o.proxy_source, _dest point to, or NULL */
	int64_t replay_of;
	struct histcmd_events orig; /* the replayed session's events */
	int over; /* done was called: free it from the loop */
};

static void
run_free(struct wb_run *r)
{
	if (r == NULL)
		return;
	linemode_free(r->replay);
	hostprobe_free(r->probe);
	histcmd_events_free(&r->orig);
	free(r->server);
	free(r->proxy[0]);
	free(r->proxy[1]);
	free(r->title);
	free(r);
}

/* Each line of b (text, newline-terminated) as a note; empties b. */
static void
note_lines(struct wb *wb, enum theme_role role, struct buf *b)
{
	const char *p, *nl;

	(void)buf_add(b, "", 1);
	for (p = buf_peek(b); *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		wb_note(wb, role, "%.*s", (int)(nl - p + (*nl != '\n')), p);
	}
	buf_reset(b);
}

static void
on_run_event(const struct smtp_event *ev, void *arg)
{
	struct wb_run *r = arg;

	(void)wb_dlg_event(r->wb, loop_now_us() - r->wb->conn.t_start, ev);
}

static void
on_run_error(const char *msg, void *arg)
{
	struct wb_run *r = arg;

	wb_note(r->wb, THEME_ERROR, "%s: %s", r->title, msg);
}

/* A new run, unless one is running; o is the workbench's, for the
 * target's TLS: the practice server's CA unless --cafile was given. */
static struct wb_run *
run_new(struct wb *wb)
{
	struct wb_run *r;

	if (wb->tool.run != NULL) {
		wb_note(wb, THEME_WARNING,
		    "%s is still running (Ctrl-C cancels it)",
		    wb->tool.run->title);
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->wb = wb;
	r->o = *wb->o;
	r->o.script = NULL;
	r->o.starttls = 0;
	r->o.auth = NULL;
	r->o.user = NULL;
	r->o.json = 0;
	r->o.timing = 0;
	r->o.mx = NULL;
	r->o.tls_name = NULL;
	if (r->o.cafile == NULL && wb->conn.practice != NULL)
		r->o.cafile = practice_cafile(wb->conn.practice);
	return r;
}

/* The run started: it is the workbench's until over.  where follows
 * the title in the note; what (NULL: none) is a note of its own. */
static void
run_started(
    struct wb *wb, struct wb_run *r, const char *where, const char *what)
{
	wb->tool.run = r;
	wb_note(wb, THEME_NOTE,
	    "%s%s: running beside the session; Ctrl-C cancels it", r->title,
	    where);
	if (what != NULL)
		wb_note(wb, THEME_NOTE, "%s", what);
}

static void
replay_done(int exit_status, int64_t id, void *arg)
{
	struct wb_run *r = arg;
	struct wb *wb = r->wb;
	struct histcmd_events es;
	struct hist_session *s = NULL;
	struct buf text;
	char words[64], *err = NULL;

	r->over = 1;
	memset(&es, 0, sizeof es);
	if (id <= 0 || wb->hist == NULL) {
		wb_note(wb, THEME_NOTE, "end of the %s (not recorded): exit %d",
		    r->title, exit_status);
		return;
	}
	if (histcmd_events_load(wb->hist, id, &es, &err) == -1 ||
	    (s = hist_session_get(wb->hist, id, &err)) == NULL) {
		wb_note(wb, THEME_ERROR, "%s: %s", r->title, err);
		free(err);
		histcmd_events_free(&es);
		return;
	}
	/* The replies compared, and the exit status, as ehlo replay
	 * --diff has them; not after a cancel, which stopped it short. */
	buf_init(&text, 0);
	if (exit_status != 128 + SIGINT)
		exit_status = histcmd_replay_exit(exit_status,
		    histcmd_replay_diff(
		        &r->orig, &es, r->replay_of, id, &text));
	note_lines(wb, THEME_NOTE, &text);
	wb_note(wb, exit_status == EXIT_OK ? THEME_NOTE : THEME_WARNING,
	    "end of the %s: exit %d (session #%lld, %s)", r->title, exit_status,
	    (long long)id,
	    histcmd_outcome_words(wb->hist, s, &es, words, sizeof words));
	hist_session_free(s);
	histcmd_events_free(&es);
}

/* The replay's script, or NULL after a note saying why not. */
static char *
replay_script(struct wb *wb, struct wb_run *r, const char *idarg,
    const char *server, size_t *len)
{
	struct hist_session *s;
	struct buf warn;
	char *err = NULL, *script, *end;
	long long id = strtoll(*idarg == '#' ? idarg + 1 : idarg, &end, 10);

	if (id <= 0 || *end != '\0') {
		wb_note(
		    wb, THEME_ERROR, "/replay ID [SERVER]: ID from /history");
		return NULL;
	}
	if (wb->hist == NULL) {
		wb_note(wb, THEME_WARNING,
		    "no history in this run: nothing to replay");
		return NULL;
	}
	if ((s = hist_session_get(wb->hist, (int64_t)id, &err)) == NULL ||
	    histcmd_events_load(wb->hist, id, &r->orig, &err) == -1) {
		wb_note(wb, THEME_ERROR, "/replay: %s",
		    err != NULL ? err : "no such session");
		free(err);
		hist_session_free(s);
		return NULL;
	}
	buf_init(&warn, 0);
	script = histcmd_replay_script(wb->hist, s, &r->orig, len, &warn, &err);
	note_lines(wb, THEME_WARNING, &warn);
	if (script == NULL) {
		wb_note(wb, THEME_ERROR, "cannot replay: %s", err);
		free(err);
	} else if (lang_secret_env() == NULL &&
	    (strncmp(script, "/auth ", 6) == 0 ||
	        strstr(script, "\n/auth ") != NULL)) {
		/* The terminal is the workbench's: no prompt from a run. */
		wb_note(wb, THEME_ERROR,
		    "session #%lld authenticates: set EHLO_PASSWORD to "
		    "replay it from the workbench, or use ehlo replay %lld",
		    id, id);
		free(script);
		script = NULL;
	} else {
		r->replay_of = id;
		/* Implicit TLS as the session had it, not as this one. */
		r->o.tls = 0;
		r->server = histcmd_replay_target(s, &r->orig, server, &r->o);
		/* The header as recorded, not the workbench's own. */
		r->o.proxy_version = 0;
		if (histcmd_replay_proxy(&r->orig, &r->o, r->proxy, &err) ==
		    -1) {
			wb_note(wb, THEME_ERROR, "cannot replay: %s", err);
			free(err);
			free(script);
			script = NULL;
		}
		r->title = xasprintf("replay of session #%lld", id);
	}
	hist_session_free(s);
	return script;
}

static void
run_replay(struct wb *wb, const char *arg)
{
	struct linemode_cbs cbs;
	struct wb_run *r;
	char idarg[32], *script, *err = NULL, *what;
	size_t n = strcspn(arg, " "), len = 0;
	const char *server = arg + n + strspn(arg + n, " ");

	if (n == 0 || n >= sizeof idarg) {
		wb_note(
		    wb, THEME_ERROR, "/replay ID [SERVER]: ID from /history");
		return;
	}
	(void)snprintf(idarg, sizeof idarg, "%.*s", (int)n, arg);
	if ((r = run_new(wb)) == NULL)
		return;
	if ((script = replay_script(wb, r, idarg,
	         *server != '\0' ? server : NULL, &len)) == NULL) {
		run_free(r);
		return;
	}
	memset(&cbs, 0, sizeof cbs);
	cbs.event = on_run_event;
	cbs.error = on_run_error;
	cbs.done = replay_done;
	cbs.arg = r;
	r->replay = linemode_start(
	    wb->loop, &r->o, wb->hist, script, len, r->replay_of, &cbs, &err);
	free(script);
	if (r->replay == NULL) {
		wb_note(wb, THEME_ERROR, "/replay: %s", err);
		free(err);
		run_free(r);
		return;
	}
	what = xasprintf(" against %s", r->o.server);
	run_started(wb, r, what, NULL);
	free(what);
}

static void
probe_done(const struct smtp_probe_result *res, void *arg)
{
	struct wb_run *r = arg;
	struct wb *wb = r->wb;
	size_t i;
	int status = res->verdict == SMTP_PROBE_PROBLEM ? EXIT_REPLY
	    : res->verdict == SMTP_PROBE_FAILED         ? EXIT_NETWORK
	                                                : EXIT_OK;

	r->over = 1;
	/* As ehlo probe prints them; the server's words escaped. */
	wb_note(wb, THEME_NOTE, "verdict: %s - %s",
	    smtp_probe_verdict_name(res->verdict), res->summary);
	if (res->nevidence > 0)
		wb_note(wb, THEME_NOTE, "evidence:");
	for (i = 0; i < res->nevidence; i++)
		wb_note(wb, THEME_NOTE, "  %s", res->evidence[i]);
	wb_note(wb, THEME_NOTE, "meaning: %s", res->meaning);
	wb_note(wb, status == EXIT_OK ? THEME_NOTE : THEME_WARNING,
	    "end of the %s: exit %d (%s)", r->title, status,
	    smtp_probe_verdict_name(res->verdict));
}

static void
run_probe(struct wb *wb, const char *arg)
{
	struct hostprobe_cbs cbs;
	struct wb_run *r;
	char name[64], *err = NULL, *what;
	const char *server;
	size_t n = strcspn(arg, " ");

	if (n == 0 || n >= sizeof name) {
		wb_note(wb, THEME_ERROR,
		    "/probe NAME [SERVER]: starttls-required, "
		    "auth-before-tls, relay, vrfy-expn, pipelining, size");
		return;
	}
	(void)snprintf(name, sizeof name, "%.*s", (int)n, arg);
	server = arg + n + strspn(arg + n, " ");
	if (*server == '\0')
		server = wb->conn.server_addr;
	if (server == NULL) {
		wb_note(wb, THEME_ERROR,
		    "/probe %s SERVER: not connected, so name the server",
		    name);
		return;
	}
	if ((r = run_new(wb)) == NULL)
		return;
	r->title = xasprintf("probe %s %s", name, server);
	memset(&cbs, 0, sizeof cbs);
	cbs.event = on_run_event;
	cbs.error = on_run_error;
	cbs.done = probe_done;
	cbs.arg = r;
	r->probe = hostprobe_start(wb->loop, &r->o, name, server, &cbs, &err);
	if (r->probe == NULL) {
		wb_note(wb, THEME_ERROR, "/probe: %s", err);
		free(err);
		run_free(r);
		return;
	}
	what = xasprintf("probe %s: %s", name, smtp_probe_find(name)->question);
	run_started(wb, r, "", what);
	free(what);
}

static void
run_step(struct wb *wb)
{
	struct wb_run *r = wb->tool.run;

	if (r == NULL)
		return;
	if (!r->over && r->replay != NULL)
		linemode_before_sleep(r->replay);
	else if (!r->over && r->probe != NULL)
		hostprobe_before_sleep(r->probe);
	if (r->over) {
		/* After its done callback returned. */
		wb->tool.run = NULL;
		run_free(r);
		wb->dirty = 1;
	}
}

static int
run_cancel(struct wb *wb)
{
	struct wb_run *r = wb->tool.run;

	if (r == NULL || r->over)
		return 0;
	if (r->replay != NULL)
		linemode_cancel(r->replay);
	else
		hostprobe_cancel(r->probe);
	return 1;
}

static void
run_stop(struct wb *wb)
{
	/* A replay cut by the workbench's end is recorded as aborted. */
	(void)run_cancel(wb);
	run_free(wb->tool.run);
	wb->tool.run = NULL;
}

const struct wb_runner wb_runner = {
    .replay = run_replay,
    .probe = run_probe,
    .step = run_step,
    .cancel = run_cancel,
    .stop = run_stop,
};
