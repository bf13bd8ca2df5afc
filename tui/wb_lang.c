/*
 * The workbench's side of the command language of tui/cmdtab.c: the
 * operations the commands of both modes ask of the workbench (notes, the
 * masked secret, popups for /explain and /help), the command context,
 * and the dispatch of a typed `/` line (the help page is wb_keys.c's).  The
 * handlers of workbench-only commands live in their rooms and never call
 * back here.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/client.h"
#include "tui/cmdtab.h"
#include "tui/host.h"
#include "tui/wb.h"

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
wb_op_xclient_sent(void *fe)
{
	struct wb *wb = fe;

	wb->conn.ehlo_after_xclient = 1;
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

/* /expect matched: the reply no longer counts against the outcome, as in
 * line mode. */
static void
wb_op_expect_met(void *fe, const char *text)
{
	struct wb *wb = fe;

	host_reply_expected(wb->conn.host);
	wb_note(wb, THEME_NOTE, "%s", text);
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
    .xclient_sent = wb_op_xclient_sent,
    .expect_met = wb_op_expect_met,
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

void
wb_quit(struct wb *wb)
{
	wb_conn_before_quit(wb);
	wb_do_slash(wb, "/quit");
}

void
wb_do_slash(struct wb *wb, const char *typed)
{
	struct cmd_ctx c;

	wb_cmd_ctx(wb, &c);
	(void)cmdtab_run(&c, typed);
}
