/*
 * The history browser: /history lists saved sessions, /open shows one
 * read-only in the dialogue pane with stages rebuilt from its replies,
 * and plays it back for a lecture: by exchange forward and back, to the
 * next failure, or timed as recorded at 1x, 2x or 10x, paused and
 * resumed (where each step lands: tui/playback.c; the keys:
 * tui/wb_input.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/session.h"
#include "tui/cmdtab.h"
#include "tui/playback.h"
#include "tui/wb.h"

struct history_rows {
	struct hist *h;
	struct buf b;
};

static int
history_row(const struct hist_session *hs, void *arg)
{
	struct history_rows *rows = arg;
	char when[32], words[64], *server = histcmd_server(hs), *label = NULL;

	histcmd_time(hs->started, 0, when, sizeof when);
	if (hs->label != NULL)
		label = escape_dup(hs->label, strlen(hs->label));
	(void)buf_add_printf(&rows->b, "#%-5lld %s  %-24s %-16s %s\n",
	    (long long)hs->id, when, server,
	    histcmd_outcome_words(rows->h, hs, NULL, words, sizeof words),
	    label != NULL ? label : "");
	free(server);
	free(label);
	return 0;
}

int
wb_history_cmd(struct cmd_ctx *c, const char *search)
{
	struct wb *wb = c->fe;
	struct history_rows rows;
	char *err = NULL, *title;
	long n;

	if (wb->hist == NULL) {
		wb_note(wb, THEME_WARNING,
		    "no history in this run (--no-history, "
		    "or the database could not be opened)");
		return 0;
	}
	/* Sessions `ehlo run` and `ehlo send` spooled meanwhile. */
	if ((err = hist_spool_take(wb->hist)) != NULL) {
		wb_note(wb, THEME_WARNING, "%s", err);
		free(err);
		err = NULL;
	}
	rows.h = wb->hist;
	buf_init(&rows.b, 0);
	n = hist_session_list(wb->hist, 200, *search != '\0' ? search : NULL,
	    history_row, &rows, &err);
	if (n == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		buf_reset(&rows.b);
		return 0;
	}
	if (n == 0)
		(void)buf_add_str(&rows.b,
		    *search != '\0' ? "No saved session matches."
		                    : "No saved sessions yet.");
	else
		(void)buf_add_str(&rows.b,
		    "\n/open ID shows one read-only beside its "
		    "stages; /history TEXT searches.");
	(void)buf_add(&rows.b, "", 1);
	title = *search != '\0' ? xasprintf("history: \"%s\"", search)
	                        : xstrdup("history (newest first)");
	wb_popup_open(wb, title, buf_peek(&rows.b));
	free(title);
	buf_reset(&rows.b);
	return 0;
}

static enum smtp_stage_kind
kind_from_name(const char *name)
{
	int k;

	for (k = 0; k < SMTP_STAGE_KIND_COUNT; k++)
		if (name != NULL &&
		    strcmp(smtp_stage_kind_name((enum smtp_stage_kind)k),
		        name) == 0)
			return (enum smtp_stage_kind)k;
	return SMTP_STAGE_OTHER;
}

/* What the status line says of the playback: the session, the
 * exchange on screen, playing or paused, the speed. */
static void
viewer_status(struct viewer *v)
{
	(void)snprintf(v->status, sizeof v->status, "%s  %zu/%zu %s %ux",
	    v->title, playback_index(&v->ev, v->shown), playback_count(&v->ev),
	    v->playing ? "playing" : "paused", playback_speeds[v->speed]);
}

/* Shows the first n events of the saved session (playback position). */
static void
viewer_show(struct wb *wb, size_t n)
{
	struct viewer *v = wb->viewer;
	const struct histcmd_event *e;
	struct smtp_stage *st;
	enum theme_role role;
	const char *hidden;
	size_t i;

	if (n > v->ev.n)
		n = v->ev.n;
	if (n < v->shown) {
		wb_dlg_clear(&wb->dia.saved);
		v->shown = v->nstages = 0;
	}
	for (i = v->shown; i < n; i++) {
		e = &v->ev.v[i];
		role = e->dir == 'C' ? THEME_CLIENT
		    : e->dir == 'S'  ? wb_role_of_server_line(e->text, e->len)
		    : (e->flags & HIST_EV_FAILURE) ? THEME_ERROR
		    : (e->flags & HIST_EV_WARNING) ? THEME_WARNING
		                                   : THEME_NOTE;
		/* An AUTH line not marked redacted is never shown as stored. */
		if ((hidden = histcmd_event_hidden(e)) != NULL)
			wb_dlg_push(&wb->dia.saved, e->t_us, e->dir, role,
			    hidden, strlen(hidden));
		else
			wb_dlg_push(&wb->dia.saved, e->t_us, e->dir, role,
			    e->text, e->len);
		if (!(e->flags & HIST_EV_REPLY))
			continue;
		v->stages =
		    xreallocarray(v->stages, v->nstages + 1, sizeof *v->stages);
		st = &v->stages[v->nstages++];
		memset(st, 0, sizeof *st);
		st->kind = kind_from_name(e->stage);
		st->code = e->code;
		(void)snprintf(
		    st->enhanced, sizeof st->enhanced, "%s", e->enhanced);
		st->state = e->code >= 500 ? SMTP_ST_PERMFAIL
		    : e->code >= 400       ? SMTP_ST_TEMPFAIL
		    : e->code >= 300       ? SMTP_ST_MORE
		                           : SMTP_ST_OK;
		st->t_start_us = 0;
		st->t_end_us = e->latency_us > 0 ? (uint64_t)e->latency_us : 0;
		st->group = e->group > 0 ? (unsigned)e->group : 0;
		st->command = (char *)"";
	}
	v->shown = n;
	viewer_status(v);
	wb->dirty = 1;
}

void
wb_viewer_close(struct wb *wb)
{
	struct viewer *v = wb->viewer;

	if (v == NULL)
		return;
	if (v->timer != 0)
		loop_timer_del(wb->loop, v->timer);
	histcmd_events_free(&v->ev);
	free(v->stages);
	free(v->title);
	free(v);
	wb->viewer = NULL;
	wb_dlg_clear(&wb->dia.saved);
	wb->dia.dlg = &wb->dia.live;
	wb->dirty = 1;
}

void
wb_viewer_open(struct wb *wb, const char *arg)
{
	struct hist_session *hs;
	char *err = NULL, *server;
	int64_t id;
	char *end;
	long long v;

	v = strtoll(*arg == '#' ? arg + 1 : arg, &end, 10);
	if (wb->hist == NULL || *arg == '\0' || *end != '\0' || v <= 0) {
		wb_note(wb, THEME_ERROR,
		    wb->hist == NULL
		        ? "no history in this run"
		        : "/open ID: ID is a session number from /history");
		return;
	}
	id = (int64_t)v;
	if ((hs = hist_session_get(wb->hist, id, &err)) == NULL) {
		wb_note(wb, THEME_ERROR, "%s",
		    err != NULL ? err : "no such session: /history lists them");
		free(err);
		return;
	}
	wb_viewer_close(wb);
	wb->viewer = xcalloc(1, sizeof *wb->viewer);
	wb->viewer->id = id;
	server = histcmd_server(hs);
	wb->viewer->title =
	    xasprintf("session #%lld %s read-only", (long long)id, server);
	free(server);
	hist_session_free(hs);
	if (histcmd_events_load(wb->hist, id, &wb->viewer->ev, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		wb_viewer_close(wb);
		return;
	}
	wb->dia.dlg = &wb->dia.saved;
	viewer_show(wb, wb->viewer->ev.n);
}

/* The saved session on screen, or NULL after saying how to open one. */
static struct viewer *
viewer_or_note(struct wb *wb)
{
	if (wb->viewer == NULL)
		wb_note(wb, THEME_NOTE, "/open ID first (/history lists them)");
	return wb->viewer;
}

static void
viewer_pause(struct wb *wb, struct viewer *v)
{
	v->playing = 0;
	if (v->timer != 0)
		loop_timer_del(wb->loop, v->timer);
	v->timer = 0;
	viewer_status(v);
	wb->dirty = 1;
}

void
wb_viewer_step(struct wb *wb)
{
	struct viewer *v;

	if ((v = viewer_or_note(wb)) == NULL)
		return;
	viewer_pause(wb, v);
	if (v->shown >= v->ev.n)
		viewer_show(wb, 0);
	viewer_show(wb, playback_next(&v->ev, v->shown));
}

void
wb_viewer_back(struct wb *wb)
{
	struct viewer *v;

	if ((v = viewer_or_note(wb)) == NULL)
		return;
	viewer_pause(wb, v);
	viewer_show(wb, playback_prev(&v->ev, v->shown));
}

void
wb_viewer_failure(struct wb *wb)
{
	struct viewer *v;
	size_t to;

	if ((v = viewer_or_note(wb)) == NULL)
		return;
	viewer_pause(wb, v);
	if ((to = playback_next_failure(&v->ev, v->shown)) == v->shown &&
	    (to = playback_next_failure(&v->ev, 0)) == 0) {
		wb_note(wb, THEME_NOTE, "session #%lld has no 4xx or 5xx reply",
		    (long long)v->id);
		return;
	}
	/* After the last failure: the first one again. */
	if (to <= v->shown)
		viewer_show(wb, 0);
	viewer_show(wb, to);
}

void
wb_viewer_speed(struct wb *wb)
{
	struct viewer *v;

	if ((v = viewer_or_note(wb)) == NULL)
		return;
	v->speed = (v->speed + 1) % PLAYBACK_NSPEEDS;
	viewer_status(v);
	wb->dirty = 1;
}

int
wb_viewer_set_speed(struct wb *wb, unsigned speed)
{
	size_t i;

	for (i = 0; i < PLAYBACK_NSPEEDS; i++)
		if (playback_speeds[i] == speed) {
			if (wb->viewer != NULL) {
				wb->viewer->speed = (unsigned)i;
				viewer_status(wb->viewer);
				wb->dirty = 1;
			}
			return 0;
		}
	return -1;
}

/* Timed playback: each event at its original offset from the previous,
 * divided by the speed. */
static void
on_play_tick(void *arg)
{
	struct wb *wb = arg;
	struct viewer *v = wb->viewer;

	if (v == NULL)
		return;
	v->timer = 0;
	viewer_show(wb, v->shown + 1);
	if (v->shown >= v->ev.n) {
		viewer_pause(wb, v);
		return;
	}
	v->timer = loop_timer_add(wb->loop,
	    playback_delay_us(&v->ev, v->shown, playback_speeds[v->speed]) /
	        1000,
	    on_play_tick, wb);
}

void
wb_viewer_play(struct wb *wb)
{
	struct viewer *v;

	if ((v = viewer_or_note(wb)) == NULL)
		return;
	if (v->playing) {
		viewer_pause(wb, v);
		return;
	}
	if (v->shown >= v->ev.n)
		viewer_show(wb, 0);
	v->playing = 1;
	viewer_status(v);
	v->timer = loop_timer_add(wb->loop, 0, on_play_tick, wb);
}
