/*
 * The full-screen workbench: `ehlo [OPTIONS] [SERVER]`.
 *
 * One poll() loop drives everything: the terminal (ncurses, keys pumped
 * into readline), the SMTP connection (protocol/client.h), and, when no
 * server is given, the in-process practice server.  Event handlers only
 * change the model (dialogue lines, the session's stage list, popups)
 * and set the dirty flag; the screen is redrawn once per loop turn in the
 * before-sleep hook (wnoutrefresh of each pane, the input line last, one
 * doupdate), so a flood of server lines never starves typing.  This room
 * owns the start, the loop's hooks, signals and the end; tui/wb.h lists
 * the other rooms.
 *
 * Screen (rows): title | dialogue beside stages | status | input.  Below
 * the minimum size only a "terminal too small" notice is drawn.
 */
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/client.h"
#include "protocol/practice.h"
#include "tui/cli.h"
#include "tui/cmdtab.h"
#include "tui/histcmd.h"
#include "tui/host.h"
#include "tui/record.h"
#include "tui/rl.h"
#include "tui/wbdraft.h"
#include "tui/wb.h"

static struct wb *the_wb; /* for the fatal hook only */

static const struct smtp_stage *
live_stage_at(void *arg, size_t i)
{
	return smtp_session_stage(arg, i);
}

static const struct smtp_stage *
viewer_stage_at(void *arg, size_t i)
{
	const struct viewer *v = arg;

	return i < v->nstages ? &v->stages[i] : NULL;
}

static void
fill_view(struct wb *wb, struct wb_view *v)
{
	const struct smtp_tls_info *ti = smtp_client_tls_info(wb->conn.client);

	memset(v, 0, sizeof *v);
	if (wb->viewer != NULL) {
		v->nstages = wb->viewer->nstages;
		v->stage_at = viewer_stage_at;
		v->stage_arg = wb->viewer;
		v->viewing = wb->viewer->status;
		v->keys = wb_keys_playback_hint();
	} else {
		v->nstages = smtp_session_nstages(wb->conn.session);
		v->stage_at = live_stage_at;
		v->stage_arg = wb->conn.session;
	}
	v->session_id = (long)record_session_id(wb->conn.rec);
	v->nlines = wb->dia.dlg->nlines;
	v->scroll = wb->dia.dlg->scroll;
	v->dlg_sel = wb->in.focus == FOCUS_DIALOGUE ? wb->dia.sel : SIZE_MAX;
	v->show_time = wb->dia.show_time;
	v->stage_sel = wb->in.stage_sel;
	v->stage_focus = wb->in.focus == FOCUS_STAGES;
	v->stage_follow = wb->in.stage_follow;
	v->server = wb->conn.server_label;
	v->tls = ti != NULL ? ti->version : NULL;
	v->tls_verified = ti != NULL && ti->verified;
	v->connected = !smtp_client_is_closed(wb->conn.client);
	v->elapsed_s = (loop_now_us() - wb->conn.t_start) / 1000000u;
	if (!smtp_session_is_authenticated(wb->conn.session))
		v->user = NULL;
	else
		v->user = wb->conn.auth_user != NULL ? wb->conn.auth_user
		                                     : "authenticated";
	v->theme = theme_name(wb->scr.theme);
	wb_popup_fit(wb);
	v->popup_title = wb->pop.title;
	v->popup_lines = (const char *const *)wb->pop.lines;
	v->npopup = wb->pop.n;
	v->popup_top = &wb->pop.top;
	if (wb->snd.draft != NULL) {
		/* The draft pane takes the place of the lesson pane. */
		wb_lesson_lines_free(wb);
		wb->tool.lesson_lines =
		    wdraft_describe(wb->snd.draft, &wb->tool.nlesson_lines);
	} else
		wb_lesson_refresh(wb,
		    wb->scr.stage_cols > 4 ? (size_t)wb->scr.stage_cols - 1
		                           : 30);
	v->lesson_lines = (const char *const *)wb->tool.lesson_lines;
	v->nlesson_lines = wb->tool.nlesson_lines;
	v->matches = (const char *const *)wb->cmp.matches;
	v->nmatches = wb->cmp.nmatches;
	v->confirm = wb->in.confirm_line != NULL;
	{
		size_t n = smtp_session_nstages(wb->conn.session);
		const struct smtp_stage *last =
		    n > 0 ? smtp_session_stage(wb->conn.session, n - 1) : NULL;

		v->why = last != NULL && last->code >= 400;
	}
}

static int
get_line(void *arg, size_t i, struct wb_dline *out)
{
	struct wb *wb = arg;
	struct dline *d;

	if (i >= wb->dia.dlg->nlines)
		return -1;
	d = wb_dlg_line(wb, i);
	out->t_us = d->t_us;
	out->dir = d->dir;
	out->role = d->role;
	out->text = d->text;
	return 0;
}

static void
before_sleep(void *arg)
{
	struct wb *wb = arg;
	struct wb_view v;

	wb_pump_keys(wb);
	/* wb_auto_actions, then the turn's rows committed before drawn. */
	host_before_sleep(wb->conn.host);
	wb->tool.runner->step(wb); /* a replay or probe beside it */
	if (wb->done) {
		loop_stop(wb->loop);
		return;
	}
	wb_prompt_for_state(wb);
	if (!wb->dirty && !wb->scr.resized)
		return;
	wb->dirty = 0;
	wb_lesson_save(wb); /* a reply marked the screen dirty */
	fill_view(wb, &v);
	v.get_line = get_line;
	v.get_line_arg = wb;
	wb_draw_all(&wb->scr, &v);
}

static void
on_term_signal(int signo, void *arg)
{
	struct wb *wb = arg;

	/* Like a shell: a session ended by a signal exits 128 + signal,
	 * and the history says it was aborted. */
	wb->exit_status = 128 + signo;
	wb_conn_abort(wb, signo);
	wb->done = 1;
	loop_stop(wb->loop);
}

static void
on_tick(void *arg)
{
	struct wb *wb = arg;

	wb->dirty = 1; /* the elapsed time in the status bar */
	(void)loop_timer_add(wb->loop, 1000, on_tick, wb);
}

static void
fatal_restore(void)
{
	if (the_wb != NULL)
		wb_screen_end(&the_wb->scr);
}

static void
crash_handler(int signo)
{
	/* Best effort: give the terminal back, then die as we would have.
	 * endwin() is not async-signal-safe, but this handler only runs
	 * for a fatal signal (SIGSEGV, SIGABRT...), when a garbled
	 * terminal is the worse outcome. */
	endwin(); /* NOLINT(bugprone-signal-handler) */
	(void)signal(signo, SIG_DFL);
	(void)raise(signo);
}

static int
load_input_line(const char *line, int64_t at, void *arg)
{
	(void)at;
	(void)arg;
	rl_glue_history_add(line);
	return 0;
}

/* History is optional: any failure is one note, and the session goes on. */
static void
open_history(struct wb *wb)
{
	char *path, *err = NULL;

	if (wb->o->no_history)
		return;
	if ((path = hist_db_path(wb->o->db, &err)) == NULL ||
	    (wb->hist = hist_open(path, 0, &err)) == NULL) {
		wb_note(wb, THEME_WARNING, "history disabled: %s", err);
		free(err);
		free(path);
		return;
	}
	free(path);
	if (hist_warnings(wb->hist) != NULL)
		wb_note(wb, THEME_WARNING, "%s", hist_warnings(wb->hist));
	if (histcmd_retention(wb->hist, wb->o, &err) == -1) {
		wb_note(wb, THEME_WARNING, "history_retention: %s", err);
		free(err);
		err = NULL;
	}
	if (hist_input_list(wb->hist, 1000, load_input_line, NULL, &err) ==
	    -1) {
		wb_note(wb, THEME_WARNING, "input history not loaded: %s", err);
		free(err);
	}
	/* Re-installing the handler moves readline past the loaded lines. */
	rl_glue_cancel();
	wb_load_draft_completions(wb);
	wb_load_history_completions(wb);
}

int
cmd_workbench(int argc, char *argv[])
{
	struct cli_opts o;
	struct wb wb;
	struct rl_host rh;
	char *theme_warning = NULL, *err = NULL;
	int rc, i;

	rc = cli_parse(argc, argv,
	    CLI_O_CONN | CLI_O_HISTORY | CLI_O_THEME | CLI_O_DNS, &o);
	if (rc != 0) {
		cli_opts_free(&o);
		if (rc == 1) {
			(void)puts("usage: ehlo [OPTIONS] [SERVER]   (see ehlo "
			           "--help)");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.nargs > 1) {
		cli_opts_free(&o);
		return cli_usage_error("the workbench takes one SERVER; for "
		                       "scripts use: ehlo run SERVER SCRIPT");
	}
	/* -a ACCOUNT with a host: that server (plain ehlo: practice). */
	if (o.nargs == 0 && o.account != NULL && o.cfg_server != NULL) {
		o.args = xreallocarray(o.args, 1, sizeof *o.args);
		o.args[o.nargs++] = (char *)o.cfg_server;
	}
	o.server = o.nargs == 1 ? o.args[0] : NULL; /* for ~/.netrc */
	rc = cli_connect_ready(&o);
	o.server = NULL;
	if (rc != 0) {
		cli_opts_free(&o);
		return EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		cli_opts_free(&o);
		(void)fputs("ehlo: the workbench needs a terminal; for "
		            "scripts and pipes use: ehlo run SERVER [SCRIPT]\n",
		    stderr);
		return EXIT_USAGE;
	}
	memset(&wb, 0, sizeof wb);
	wb.o = &o;
	wb.in.stage_follow = 1;
	wb.tool.runner = &wb_runner;
	wb.dia.dlg = &wb.dia.live;
	wb.cmp.slash = cmdtab_complete(CMD_MODE_WORKBENCH, &wb.cmp.nslash);
	wb.loop = loop_new();
	if (wb_conn_start(&wb, o.nargs == 1 ? o.args[0] : NULL, &err) == -1) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		wb_conn_end(&wb);
		loop_free(wb.loop);
		cli_opts_free(&o);
		return EXIT_USAGE;
	}
	(void)setlocale(LC_ALL, "");
	/* Our handlers before initscr, so ncurses does not install its own
	 * (which would _exit without our cleanup). */
	(void)loop_signal_add(wb.loop, SIGTERM, on_term_signal, &wb);
	(void)loop_signal_add(wb.loop, SIGHUP, on_term_signal, &wb);
	(void)loop_signal_add(wb.loop, SIGINT, on_term_signal, &wb);
	(void)signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 4; i++)
		(void)signal((int[]){SIGSEGV, SIGBUS, SIGFPE, SIGABRT}[i],
		    crash_handler);
	the_wb = &wb;
	fatal_set_hook(fatal_restore);
	/* Readline's hooks before anything touches it: rl_set_screen_size
	 * (in the layout) would otherwise initialise its terminal and export
	 * LINES/COLUMNS, freezing ncurses' size on resize. */
	memset(&rh, 0, sizeof rh);
	rh.line = wb_on_line;
	rh.complete = wb_on_complete;
	rh.show_matches = wb_on_show_matches;
	rh.redisplay = wb_redraw;
	rh.arg = &wb;
	rl_glue_init(&rh, "smtp> ");
	if (wb_screen_init(&wb.scr, o.theme, &theme_warning) == -1) {
		rl_glue_end();
		(void)fputs("ehlo: cannot initialise the terminal (is TERM "
		            "set?)\n",
		    stderr);
		wb_conn_end(&wb);
		loop_free(wb.loop);
		cli_opts_free(&o);
		return EXIT_USAGE;
	}
	loop_fd_add(wb.loop, STDIN_FILENO, LOOP_READ, wb_on_stdin, &wb);
	loop_set_before_sleep(wb.loop, before_sleep, &wb);
	(void)loop_timer_add(wb.loop, 1000, on_tick, &wb);
	open_history(&wb);
	host_record_into(wb.conn.host, wb.hist);
	if (theme_warning != NULL) {
		wb_note(&wb, THEME_WARNING, "%s; using the default theme",
		    theme_warning);
		free(theme_warning);
	}
	if (o.mx != NULL)
		wb_mx_lookup(&wb, o.mx);
	if (o.mx != NULL && wb.conn.client == NULL) {
		/* Every room expects a session: rather than none, the
		 * practice server until /mx or /connect finds one. */
		wb_note(&wb, THEME_WARNING,
		    "--mx %s: nothing to connect to; the practice server "
		    "meanwhile (/mx DOMAIN, /connect SERVER)",
		    o.mx);
		wb_connect(&wb, NULL);
	} else if (o.mx == NULL)
		wb_connect(&wb, o.nargs == 1 ? o.args[0] : NULL);
	wb.dirty = 1;
	(void)loop_run(wb.loop);

	wb.tool.runner->stop(&wb);
	wb_conn_end(&wb); /* the session's real outcome */
	rl_glue_end();
	wb_screen_end(&wb.scr);
	fatal_set_hook(NULL);
	the_wb = NULL;
	hist_close(wb.hist);
	loop_free(wb.loop);
	wb_popup_close(&wb);
	wb_matches_clear(&wb);
	lang_reset(&wb.conn.lang);
	wb_strv_free(&wb.cmp.addresses, &wb.cmp.naddresses);
	wb_strv_free(&wb.cmp.accounts, &wb.cmp.naccounts);
	wb_viewer_close(&wb);
	wb_send_end(&wb);
	wdraft_free(wb.snd.draft);
	wb_dlg_clear(&wb.dia.live);
	wb_mx_free(&wb);
	free(wb.conn.tls_name);
	free(wb.conn.next);
	free(wb.conn.server_addr);
	wb_lesson_lines_free(&wb);
	free(wb.conn.practice_dir);
	free(wb.conn.server_label);
	free(wb.conn.auth_user);
	wb_strv_free(&wb.cmp.draft_ids, &wb.cmp.ndraft_ids);
	free(wb.in.confirm_line);
	free(wb.in.secret_mech);
	free(wb.in.secret_user);
	cli_opts_free(&o);
	return wb.exit_status;
}
