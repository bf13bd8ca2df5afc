/*
 * The workbench's side of the `/` commands (the table and the commands
 * of both modes are tui/cmdtab.c): the front-end operations the shared
 * commands call (notes, the masked secret, popups for /explain and
 * /help), the command context, and the small workbench-only commands
 * that belong to no other room (/connect, /tls, /theme, /clear, /save,
 * /open, /close, /play, /step, /next).  Larger ones live in their rooms.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/client.h"
#include "tui/cmdtab.h"
#include "tui/record.h"
#include "tui/wb.h"

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
    "  PgUp/PgDn    scroll the dialogue (Home/End on an empty line: "
    "top/bottom)\n"
    "  F2           select a stage; Enter explains it, Esc returns\n"
    "  F3           show/hide time offsets in the dialogue\n"
    "  F4           select a dialogue line; Enter explains it, Esc returns\n"
    "  F5, F6       step through, play a saved session (/open)\n"
    "  F1           this help          Ctrl-L  redraw\n"
    "  Ctrl-D       on an empty line: quit (sends QUIT)\n"
    "\n"
    "Workbench commands (/help COMMAND explains one)\n";

static const char wb_help_end[] =
    "\n"
    "A line that breaks the rules (wrong order, an extension the server\n"
    "did not offer) shows why first; press Enter again to send it anyway.";

void
wb_help_open(struct wb *wb)
{
	char *cmds = cmdtab_help(CMD_MODE_WORKBENCH, NULL), *text;

	text = xasprintf("%s%s%s", wb_help_keys, cmds, wb_help_end);
	wb_popup_open(wb, "help", text);
	free(text);
	free(cmds);
}

/* ---- what the shared commands ask of the workbench ------------------ */

static void
wb_op_note(void *fe, const char *text)
{
	wb_note(fe, THEME_NOTE, "%s", text);
}

static void
wb_op_error(void *fe, const char *text)
{
	wb_note(fe, THEME_ERROR, "%s", text);
}

static void
wb_op_show(void *fe, const char *title, const char *text)
{
	if (text == NULL)
		wb_help_open(fe);
	else
		wb_popup_open(fe, title, text);
}

static void
wb_op_auth(void *fe, const char *mech, const char *user)
{
	wb_auth_ask(fe, mech, user);
}

static void
wb_op_starttls_sent(void *fe)
{
	struct wb *wb = fe;

	wb->conn.ehlo_after_tls = 1;
}

static void
wb_op_explain(void *fe, const char *query, const struct smtp_stage *last)
{
	struct wb *wb = fe;
	size_t i = smtp_session_nstages(wb->conn.session);

	if (query != NULL) {
		wb_popup_explain(wb, query);
		return;
	}
	while (i-- > 0)
		if (smtp_session_stage(wb->conn.session, i) == last)
			break;
	wb_popup_explain_stage(wb, i);
}

static void
wb_op_quit(void *fe)
{
	struct wb *wb = fe;

	wb->quitting = 1;
}

static const struct cmd_ops wb_cmd_ops = {
    .note = wb_op_note,
    .error = wb_op_error,
    .show = wb_op_show,
    .auth = wb_op_auth,
    .starttls_sent = wb_op_starttls_sent,
    .expect_met = wb_op_note,
    .expect_failed = wb_op_error,
    .explain = wb_op_explain,
    .quit = wb_op_quit,
    .sleep = NULL, /* /sleep is for scripts */
};

void
wb_cmd_ctx(struct wb *wb, struct cmd_ctx *c)
{
	memset(c, 0, sizeof *c);
	c->mode = CMD_MODE_WORKBENCH;
	c->client = wb->conn.client;
	c->session = wb->conn.session;
	c->lang = &wb->conn.lang;
	c->o = wb->o;
	c->ops = &wb_cmd_ops;
	c->fe = wb;
}

/* ---- small workbench-only commands -------------------------------- */

int
wb_connect_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;

	free(wb->conn.tls_name);
	wb->conn.tls_name = NULL;
	wb_connect(wb, *arg != '\0' ? arg : NULL);
	return 0;
}

int
wb_tls_cmd(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	wb_popup_tls(c->fe);
	return 0;
}

int
wb_theme_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	char *err = NULL;

	if (*arg == '\0')
		wb_note(wb, THEME_NOTE,
		    "theme %s; /theme NAME switches (Tab lists the themes)",
		    theme_name(wb->scr.theme));
	else if (wb_screen_set_theme(&wb->scr, arg, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return -1;
	} else
		wb->dirty = 1;
	return 0;
}

int
wb_clear_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;

	(void)arg;
	wb_dlg_clear(wb->dia.dlg);
	wb->dirty = 1;
	return 0;
}

int
wb_save_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	char *err = NULL;
	int64_t id = record_session_id(wb->conn.rec);

	if (wb->hist == NULL || id <= 0) {
		wb_note(wb, THEME_WARNING,
		    "this session is not recorded (--no-history)");
		return -1;
	}
	if (hist_session_set_label(
	        wb->hist, id, *arg != '\0' ? arg : NULL, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return -1;
	}
	wb_note(wb, THEME_NOTE, "session #%lld %s%s%s", (long long)id,
	    *arg != '\0' ? "labelled \"" : "kept", arg,
	    *arg != '\0' ? "\"" : "");
	return 0;
}

int
wb_open_cmd(struct cmd_ctx *c, const char *arg)
{
	wb_viewer_open(c->fe, arg);
	return 0;
}

int
wb_close_cmd(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	wb_viewer_close(c->fe);
	return 0;
}

int
wb_play_cmd(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	wb_viewer_play(c->fe);
	return 0;
}

int
wb_step_cmd(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	wb_viewer_step(c->fe);
	return 0;
}

int
wb_mx_cmd(struct cmd_ctx *c, const char *arg)
{
	wb_mx_lookup(c->fe, arg);
	return 0;
}

int
wb_next_cmd(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	wb_mx_next(c->fe);
	return 0;
}
