/*
 * Unit tests for tui/cmdtab.c: a walk over the whole / command table.
 * Every entry has its help; completes, in each mode it claims and in no
 * other; reaches its own handler through cmdtab_run() in each mode it
 * claims (line mode through a fake front end that records what it was
 * asked, the workbench through a real struct wb on an unconnected
 * client); and is refused with its own message, not "unknown command",
 * in a mode it does not claim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/complete.h"
#include "protocol/practice.h"
#include "themes/theme.h"
#include "tui/cli.h"
#include "tui/cmdtab.h"
#include "tui/lang.h"
#include "tui/wb.h"
#include "tui/wbdraft.h"

static const unsigned modes[] = {CMD_MODE_WORKBENCH, CMD_MODE_LINE};

/* ---- a fake front end for line mode -------------------------------- */

struct fake {
	char log[8192]; /* "op: text" lines */
	char last_error[1024];
	int calls, errors;
};

static void
fake_log(void *fe, const char *op, const char *text)
{
	struct fake *f = fe;
	size_t n = strlen(f->log);

	(void)snprintf(f->log + n, sizeof f->log - n, "%s: %s\n", op,
	    text != NULL ? text : "");
	f->calls++;
}

static void
fake_note(void *fe, const char *text)
{
	fake_log(fe, "note", text);
}

static void
fake_error(void *fe, const char *text)
{
	struct fake *f = fe;

	fake_log(fe, "error", text);
	f->errors++;
	(void)snprintf(f->last_error, sizeof f->last_error, "%s", text);
}

static void
fake_show(void *fe, const char *title, const char *text)
{
	(void)text;
	fake_log(fe, "show", title);
}

static void
fake_auth(void *fe, const char *mech, const char *user)
{
	(void)user;
	fake_log(fe, "auth", mech);
}

static void
fake_starttls_sent(void *fe)
{
	fake_log(fe, "starttls", NULL);
}

static void
fake_xclient_sent(void *fe)
{
	fake_log(fe, "xclient", NULL);
}

static void
fake_expect_met(void *fe, const char *text)
{
	fake_log(fe, "expect-met", text);
}

static void
fake_expect_failed(void *fe, const char *text)
{
	fake_log(fe, "expect-failed", text);
}

static void
fake_explain(void *fe, const char *query, const struct smtp_stage *last)
{
	(void)last;
	fake_log(fe, "explain", query);
}

static void
fake_quit(void *fe)
{
	fake_log(fe, "quit", NULL);
}

static void
fake_sleep(void *fe, unsigned long ms)
{
	(void)ms;
	fake_log(fe, "sleep", NULL);
}

static const struct cmd_ops fake_ops = {
    .note = fake_note,
    .error = fake_error,
    .show = fake_show,
    .auth = fake_auth,
    .starttls_sent = fake_starttls_sent,
    .xclient_sent = fake_xclient_sent,
    .expect_met = fake_expect_met,
    .expect_failed = fake_expect_failed,
    .explain = fake_explain,
    .quit = fake_quit,
    .sleep = fake_sleep,
};

static void
on_event(const struct smtp_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

/* A client that never connects (nothing listens; connect is not called). */
static struct smtp_client *
client_new(struct loop *loop)
{
	struct smtp_client_opts co;

	memset(&co, 0, sizeof co);
	co.host = "127.0.0.1";
	co.port = "9";
	co.timeout_ms = 1000;
	return smtp_client_new(loop, &co, on_event, NULL);
}

/* ---- the table itself ---------------------------------------------- */

static void
test_every_entry_has_help(void **state)
{
	const struct cmd_entry *e, *o;
	char *h;
	size_t k;

	(void)state;
	for (e = cmdtab; e->name != NULL; e++) {
		assert_int_equal(e->name[0], '/');
		assert_non_null(e->synopsis);
		assert_non_null(e->run);
		assert_true(e->modes != 0);
		assert_true(
		    (e->modes & ~(CMD_MODE_WORKBENCH | CMD_MODE_LINE)) == 0);
		/* One line that fits the help popup beside the synopsis. */
		assert_non_null(e->help);
		assert_true(strlen(e->help) > 0 && strlen(e->help) <= 54);
		assert_null(strchr(e->help, '\n'));
		assert_non_null(e->long_help);
		assert_true(strlen(e->long_help) > strlen(e->help) / 2);
		assert_ptr_equal(cmdtab_find(e->name, strlen(e->name)), e);
		for (o = cmdtab; o != e; o++)
			assert_true(strcasecmp(o->name, e->name) != 0);
		/* /help NAME shows the synopsis and the long help. */
		for (k = 0; k < 2; k++) {
			h = cmdtab_help(modes[k], e->name + (k == 1));
			assert_non_null(h);
			assert_non_null(strstr(h, e->long_help));
			assert_int_equal(
			    strncmp(h, e->name, strlen(e->name)), 0);
			free(h);
		}
	}
}

/* The lists of each mode (help, summary) hold exactly its commands. */
static void
test_help_lists_each_mode(void **state)
{
	const struct cmd_entry *e;
	char *list, *summary, *needle;
	size_t k;

	(void)state;
	for (k = 0; k < 2; k++) {
		list = cmdtab_help(modes[k], NULL);
		summary = cmdtab_summary(modes[k], 78);
		for (e = cmdtab; e->name != NULL; e++) {
			needle = xasprintf("  %s ", e->name);
			assert_int_equal(strstr(list, needle) != NULL,
			    (e->modes & modes[k]) != 0);
			assert_int_equal(strstr(list, e->help) != NULL,
			    (e->modes & modes[k]) != 0);
			free(needle);
		}
		assert_non_null(strstr(summary, "/quit"));
		free(list);
		free(summary);
	}
	summary = cmdtab_summary(CMD_MODE_LINE, 78);
	assert_non_null(strstr(summary, "/sleep SECONDS"));
	assert_null(strstr(summary, "/theme"));
	free(summary);
	assert_null(cmdtab_help(CMD_MODE_WORKBENCH, "/nosuch"));
}

static int
has_match(const struct smtp_completion *c, const char *s)
{
	size_t i;

	for (i = 0; i < c->nmatches; i++)
		if (strcmp(c->matches[i], s) == 0)
			return 1;
	return 0;
}

/* Tab offers a command exactly where Enter runs it. */
static void
test_every_entry_completes_where_it_runs(void **state)
{
	const struct cmd_entry *e;
	struct smtp_complete_ctx ctx;
	struct smtp_completion c;
	size_t k, len;

	(void)state;
	for (k = 0; k < 2; k++) {
		memset(&ctx, 0, sizeof ctx);
		ctx.state = SMTP_STATE_READY;
		ctx.slash = cmdtab_complete(modes[k], &ctx.nslash);
		for (e = cmdtab; e->name != NULL; e++) {
			/* The name without its last letter, as typed. */
			len = strlen(e->name) - 1;
			(void)smtp_complete(e->name, len, &ctx, &c);
			assert_int_equal(
			    has_match(&c, e->name), (e->modes & modes[k]) != 0);
			smtp_completion_free(&c);
			(void)smtp_complete(e->name, len + 1, &ctx, &c);
			if (e->modes & modes[k]) {
				assert_true(has_match(&c, e->name));
				/* A space follows when arguments do. */
				if (c.nmatches == 1)
					assert_int_equal(c.append,
					    e->synopsis[0] != '\0' ? ' ' : 0);
			} else
				assert_false(has_match(&c, e->name));
			smtp_completion_free(&c);
		}
	}
}

/* ---- dispatch in line mode ----------------------------------------- */

static void
test_line_mode_dispatch(void **state)
{
	const struct cmd_entry *e;
	struct loop *loop = loop_new();
	struct smtp_client *client = client_new(loop);
	struct cli_opts o;
	struct lang lang;
	struct cmd_ctx c;
	struct fake f;
	char *why;
	int was_pipelining;

	(void)state;
	memset(&o, 0, sizeof o);
	memset(&lang, 0, sizeof lang);
	lang.client = client;
	for (e = cmdtab; e->name != NULL; e++) {
		memset(&f, 0, sizeof f);
		memset(&c, 0, sizeof c);
		c.mode = CMD_MODE_LINE;
		c.client = client;
		c.session = smtp_client_session(client);
		c.lang = &lang;
		c.o = &o;
		c.ops = &fake_ops;
		c.fe = &f;
		was_pipelining = smtp_session_is_pipelining(c.session);
		(void)cmdtab_run(&c, e->name);
		why = cmdtab_elsewhere(e, CMD_MODE_LINE);
		if (e->modes & CMD_MODE_LINE) {
			/* The handler ran: it said something, or it changed
			 * the session (/pipeline says nothing in scripts). */
			assert_true(f.calls > 0 ||
			    smtp_session_is_pipelining(c.session) !=
			        was_pipelining);
			assert_null(strstr(f.log, "unknown command"));
			assert_null(strstr(f.log, why));
		} else {
			assert_int_equal(f.calls, 1);
			assert_int_equal(f.errors, 1);
			assert_string_equal(f.last_error, why);
			assert_null(strstr(f.log, "unknown"));
		}
		free(why);
	}
	/* An unknown name lists the commands of the mode. */
	memset(&f, 0, sizeof f);
	c.fe = &f;
	assert_int_equal(cmdtab_run(&c, "/nosuch arg"), -1);
	assert_non_null(strstr(f.last_error, "unknown command \"/nosuch\""));
	assert_non_null(strstr(f.last_error, "/sleep"));
	assert_null(strstr(f.last_error, "/theme"));
	lang_reset(&lang);
	smtp_client_free(client);
	loop_free(loop);
}

/* ---- dispatch in the workbench ------------------------------------- */

/* The text of the last line of the live dialogue, or "". */
static const char *
last_line(struct wb *wb)
{
	return wb->dia.live.nlines > 0
	    ? wb_dlg_line(wb, wb->dia.live.nlines - 1)->text
	    : "";
}

static void
test_workbench_dispatch(void **state)
{
	const struct cmd_entry *e;
	struct cli_opts o;
	struct wb wb;
	struct cmd_ctx c;
	char home[] = "/tmp/ehlo-cmdtab-XXXXXX", *why, *cmd = NULL;
	struct smtp_client *fake;
	int was_pipelining;

	(void)state;
	/* /connect with no SERVER starts the practice server: keep its
	 * data in a directory of our own. */
	assert_non_null(mkdtemp(home));
	assert_int_equal(setenv("XDG_DATA_HOME", home, 1), 0);
	memset(&o, 0, sizeof o);
	memset(&wb, 0, sizeof wb);
	wb.o = &o;
	wb.loop = loop_new();
	wb.scr.theme = theme_default();
	wb.dia.dlg = &wb.dia.live;
	o.helo = "client.example";
	assert_int_equal(wb_conn_start(&wb, NULL, &cmd), 0);
	/* A session of its own, not the host's: freed at the end. */
	fake = wb.conn.client = client_new(wb.loop);
	wb.conn.session = smtp_client_session(wb.conn.client);
	wb.conn.lang.client = wb.conn.client;
	for (e = cmdtab; e->name != NULL; e++) {
		wb_cmd_ctx(&wb, &c);
		wb.dirty = 0;
		wb.quitting = 0;
		was_pipelining = smtp_session_is_pipelining(wb.conn.session);
		(void)cmdtab_run(&c, e->name);
		why = cmdtab_elsewhere(e, CMD_MODE_WORKBENCH);
		if (e->modes & CMD_MODE_WORKBENCH) {
			assert_true(wb.dirty || wb.quitting ||
			    smtp_session_is_pipelining(wb.conn.session) !=
			        was_pipelining);
			assert_null(strstr(last_line(&wb), "unknown command"));
			assert_string_not_equal(last_line(&wb), why);
		} else {
			assert_true(wb.dirty);
			assert_string_equal(last_line(&wb), why);
			assert_int_equal(
			    wb_dlg_line(&wb, wb.dia.live.nlines - 1)->role,
			    THEME_ERROR);
		}
		free(why);
	}
	/* The message a user meets after Tab offered nothing better. */
	wb_cmd_ctx(&wb, &c);
	(void)cmdtab_run(&c, "/sleep 2");
	assert_string_equal(last_line(&wb),
	    "/sleep is for scripts; in the workbench just wait");
	/* /expect runs in the workbench too. */
	(void)cmdtab_run(&c, "/expect 250");
	assert_non_null(strstr(last_line(&wb), "no reply has arrived yet"));
	wb_popup_close(&wb);
	wb_matches_clear(&wb);
	wb_strv_free(&wb.cmp.draft_ids, &wb.cmp.ndraft_ids);
	wb_viewer_close(&wb);
	wb_send_end(&wb);
	wdraft_free(wb.snd.draft);
	wb_mx_free(&wb);
	wb_lesson_lines_free(&wb);
	wb_conn_end(&wb); /* the host's sessions, the practice server */
	smtp_client_free(fake);
	loop_free(wb.loop);
	wb_dlg_clear(&wb.dia.live);
	theme_free(wb.scr.theme);
	free(wb.conn.practice_dir);
	free(wb.conn.server_addr);
	free(wb.conn.server_label);
	free(wb.conn.auth_user);
	cmd = xasprintf("rm -rf '%s'", home);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_entry_has_help),
	    cmocka_unit_test(test_help_lists_each_mode),
	    cmocka_unit_test(test_every_entry_completes_where_it_runs),
	    cmocka_unit_test(test_line_mode_dispatch),
	    cmocka_unit_test(test_workbench_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
