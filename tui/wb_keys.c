/*
 * The workbench's keys: one table of the function keys (what each does
 * from any pane, its line in F1's help, its word in the status line
 * during playback), read by the key switch of tui/wb_input.c, by the
 * help page (F1, /help: the keys, then the / commands of tui/cmdtab.c)
 * and by the status line.
 */
#include <stdio.h>
#include <stdlib.h>

#include <curses.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/session.h"
#include "tui/cmdtab.h"
#include "tui/wb.h"

static void
key_stages(struct wb *wb)
{
	if (smtp_session_nstages(wb->conn.session) > 0) {
		wb->in.focus = FOCUS_STAGES;
		wb->in.stage_follow = 0;
		wb->dirty = 1;
	}
}

static void
key_times(struct wb *wb)
{
	wb->dia.show_time = !wb->dia.show_time;
	wb->dirty = 1;
}

static void
key_dialogue(struct wb *wb)
{
	if (wb->dia.dlg->nlines > 0) {
		wb->in.focus = FOCUS_DIALOGUE;
		wb->dia.sel = wb->dia.dlg->nlines - 1 -
		    (wb->dia.dlg->scroll < wb->dia.dlg->nlines
		            ? wb->dia.dlg->scroll
		            : 0);
		wb->dirty = 1;
	}
}

struct wb_key {
	int key; /* KEY_F(n) */
	const char *name; /* "F5" */
	const char *help; /* its line in F1's help */
	const char *hint; /* its word in the status line during playback */
	void (*run)(struct wb *);
};

static const struct wb_key wb_keys[] = {
    {KEY_F(1), "F1", "this help", NULL, wb_help_open},
    {KEY_F(2), "F2", "select a stage; Enter explains it, Esc returns", NULL,
        key_stages},
    {KEY_F(3), "F3", "show/hide time offsets in the dialogue", NULL, key_times},
    {KEY_F(4), "F4", "select a dialogue line; Enter explains it, Esc returns",
        NULL, key_dialogue},
    {KEY_F(7), "F7", "why? the last 4xx/5xx: this session's cause first", NULL,
        wb_popup_why},
    {KEY_F(5), "F5",
        "saved session (/open): the next exchange (a command "
        "and its reply)",
        "F5/F8 step", wb_viewer_step},
    {KEY_F(8), "F8", "saved session: the exchange before", NULL,
        wb_viewer_back},
    {KEY_F(9), "F9", "saved session: the next failure (4xx/5xx)", "F9 fail",
        wb_viewer_failure},
    {KEY_F(6), "F6",
        "saved session: play with its recorded timing, pause, "
        "resume",
        "F6 play", wb_viewer_play},
    {KEY_F(10), "F10", "saved session: speed 1x, 2x, 10x", "F10 speed",
        wb_viewer_speed},
};

static const struct wb_key *
wb_key_find(int key)
{
	size_t i;

	for (i = 0; i < sizeof wb_keys / sizeof wb_keys[0]; i++)
		if (wb_keys[i].key == key)
			return &wb_keys[i];
	return NULL;
}

int
wb_key_is_bound(int key)
{
	return wb_key_find(key) != NULL;
}

int
wb_key_run(struct wb *wb, int key)
{
	const struct wb_key *k = wb_key_find(key);

	if (k == NULL)
		return 0;
	k->run(wb);
	return 1;
}

char *
wb_keys_help(void)
{
	struct buf b;
	char *text;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof wb_keys / sizeof wb_keys[0]; i++)
		(void)buf_add_printf(
		    &b, "  %-12s %s\n", wb_keys[i].name, wb_keys[i].help);
	(void)buf_add(&b, "", 1);
	text = xstrdup(buf_peek(&b));
	buf_reset(&b);
	return text;
}

const char *
wb_keys_playback_hint(void)
{
	static char hint[128];
	size_t i, at = 0;

	if (hint[0] != '\0')
		return hint;
	for (i = 0; i < sizeof wb_keys / sizeof wb_keys[0]; i++)
		if (wb_keys[i].hint != NULL && at < sizeof hint)
			at += (size_t)snprintf(hint + at, sizeof hint - at,
			    "%s%s", at > 0 ? "  " : "", wb_keys[i].hint);
	return hint;
}

static const char wb_help_keys[] =
    "Type SMTP commands and press Enter; they go to the server as typed.\n"
    "After 354, lines are message content until a line with a single \".\"\n"
    "(type \"..\" for a line that starts with a dot).\n"
    "\n"
    "Keys\n"
    "  Tab          complete (verbs, addresses, parameters the server "
    "offers)\n"
    "  Up/Down      input history       Ctrl-R  search the history\n"
    "  Ctrl-A/E     start/end of line   Ctrl-C  cancel the line\n"
    "  PgUp/PgDn    scroll the dialogue; Home/End on an empty line: the\n"
    "               top, the bottom\n"
    "  Ctrl-L       redraw\n"
    "  Ctrl-D       on an empty line: quit (sends QUIT)\n";

static const char wb_help_end[] =
    "\n"
    "A line that breaks the rules (wrong order, an extension the server\n"
    "did not offer) shows why first; press Enter again to send it anyway.";

void
wb_help_open(struct wb *wb)
{
	char *cmds = cmdtab_help(CMD_MODE_WORKBENCH, NULL), *text;
	char *fkeys = wb_keys_help();

	text = xasprintf("%s%s\nWorkbench commands (/help COMMAND explains "
	                 "one)\n%s%s",
	    wb_help_keys, fkeys, cmds, wb_help_end);
	free(fkeys);
	wb_popup_open(wb, "help", text);
	free(text);
	free(cmds);
}
