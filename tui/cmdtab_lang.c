/*
 * The `/` commands of both modes, written once against struct cmd_ctx:
 * /starttls, /auth, /body, /pipeline, /end, /expect, /explain, /quit and
 * /sleep.  They parse and check their argument, act on the connection,
 * and leave to the front end (ctx->ops) only what differs by mode: how a
 * secret is asked for, how an explanation is shown, what a failed
 * /expect does to the run, how to wait.  Also the cmdtab_note() and
 * cmdtab_error() helpers every handler may use.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/explain.h"
#include "protocol/lesson.h"
#include "protocol/sasl.h"
#include "protocol/why.h"
#include "protocol/xclient.h"
#include "tui/cli.h"
#include "tui/cmdtab.h"
#include "tui/lang.h"

static void cmdtab_vsay(void (*say)(void *, const char *), struct cmd_ctx *c,
    const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

static void
cmdtab_vsay(void (*say)(void *, const char *), struct cmd_ctx *c,
    const char *fmt, va_list ap)
{
	char *s = xvasprintf(fmt, ap);

	say(c->fe, s);
	free(s);
}

void
cmdtab_note(struct cmd_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmdtab_vsay(c->ops->note, c, fmt, ap);
	va_end(ap);
}

int
cmdtab_error(struct cmd_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmdtab_vsay(c->ops->error, c, fmt, ap);
	va_end(ap);
	return -1;
}

/* Sends line; a failure becomes an error. */
static int
cmdtab_send(struct cmd_ctx *c, const char *line)
{
	char *err = NULL;

	if (smtp_client_send(c->client, line, strlen(line), &err) == -1) {
		(void)cmdtab_error(c, "%s", err);
		free(err);
		return -1;
	}
	return 0;
}

int
cmdtab_starttls(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	if (c->o->no_starttls)
		return cmdtab_error(c, "/starttls contradicts --no-starttls");
	if (smtp_session_is_tls(c->session))
		return cmdtab_error(
		    c, "/starttls: the connection already uses TLS");
	if (cmdtab_send(c, "STARTTLS") == -1)
		return -1;
	c->ops->starttls_sent(c->fe);
	return 0;
}

/* /xclient NAME=VALUE...: the line built (names upper-cased, values
 * xtext-encoded), sent as typed XCLIENT is, then EHLO after the 220. */
int
cmdtab_xclient(struct cmd_ctx *c, const char *arg)
{
	char *line, *err = NULL;
	int rc;

	if ((line = smtp_xclient_line(arg, &err)) == NULL) {
		(void)cmdtab_error(c, "/xclient NAME=VALUE...: %s", err);
		free(err);
		return -1;
	}
	rc = cmdtab_send(c, line);
	free(line);
	if (rc == 0)
		c->ops->xclient_sent(c->fe);
	return rc;
}

int
cmdtab_auth(struct cmd_ctx *c, const char *arg)
{
	char mech[32], *refusal;
	const char *user;
	size_t n = strcspn(arg, " \t");

	if (n == 0)
		return cmdtab_error(c,
		    "/auth needs a mechanism: /auth MECH [USER], MECH auto "
		    "(the best offered) or one of " SASL_MECH_NAMES);
	(void)snprintf(mech, sizeof mech, "%.*s", (int)n, arg);
	if (n >= sizeof mech ||
	    (sasl_mech_find(mech) == NULL && strcasecmp(mech, "auto") != 0)) {
		char *shown = escape_dup(arg, n < 40 ? n : 40);

		(void)cmdtab_error(c,
		    "/auth MECH [USER]: MECH is auto or one of " SASL_MECH_NAMES
		    ", not \"%s\"",
		    shown);
		free(shown);
		return -1;
	}
	user = arg + n;
	user += strspn(user, " \t");
	if (*user == '\0')
		user = c->o->user;
	if (user == NULL || *user == '\0')
		return cmdtab_error(c,
		    "/auth %s needs a user: /auth %s USER, or --user NAME",
		    mech, mech);
	/* Before the front end asks for a secret it could not send. */
	if ((refusal = smtp_session_auth_refusal(c->session)) != NULL) {
		(void)cmdtab_error(c, "/auth: %s", refusal);
		free(refusal);
		return -1;
	}
	c->ops->auth(c->fe, mech, user);
	return 0;
}

int
cmdtab_body(struct cmd_ctx *c, const char *path)
{
	char *err = NULL;
	int rc;

	/* ehlo run --raw-data FILE: /body alone sends FILE as it is. */
	if (*path == '\0' && c->o->raw_data != NULL)
		rc = lang_body_raw(c->lang, c->o->raw_data, &err);
	else
		rc = lang_body(c->lang, path, &err);
	if (rc == -1) {
		(void)cmdtab_error(c, "%s", err);
		free(err);
		return -1;
	}
	return 0;
}

int
cmdtab_pipeline(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	if (smtp_session_is_pipelining(c->session))
		return cmdtab_error(c,
		    "/pipeline inside /pipeline; end the group with /end "
		    "first");
	smtp_session_pipeline_begin(c->session);
	if (c->mode == CMD_MODE_WORKBENCH)
		cmdtab_note(c, "pipelining: commands are held until /end");
	return 0;
}

int
cmdtab_end(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	if (!smtp_session_is_pipelining(c->session))
		return cmdtab_error(c, "/end without /pipeline");
	smtp_session_pipeline_end(c->session);
	smtp_client_flush(c->client);
	return 0;
}

/* Matches "250", "2xx", "25x", "5"; -1 when pat is not a pattern. */
static int
code_matches(const char *pat, size_t n, int code)
{
	char digits[4];
	size_t i;

	if (n == 0 || n > 3)
		return -1;
	(void)snprintf(digits, sizeof digits, "%03d", code);
	for (i = 0; i < n; i++) {
		if (pat[i] == 'x' || pat[i] == 'X')
			continue;
		if (pat[i] < '0' || pat[i] > '9')
			return -1;
		if (pat[i] != digits[i])
			return 0;
	}
	return 1;
}

/* "5.1.1" or with "x" parts that match anything: "5.1.x". */
static int
enhanced_matches(const char *pat, const char *got)
{
	while (*pat != '\0' && *got != '\0') {
		if (*pat == 'x' || *pat == 'X') {
			while (*got != '\0' && *got != '.')
				got++;
			pat++;
			continue;
		}
		if (*pat != *got)
			return 0;
		pat++;
		got++;
	}
	return *pat == '\0' && *got == '\0';
}

int
cmdtab_expect(struct cmd_ctx *c, const char *arg)
{
	const struct smtp_stage *st = smtp_session_last_reply(c->session);
	size_t n = strcspn(arg, " \t");
	const char *enh = arg + n + strspn(arg + n, " \t");
	char *shown, *why;
	int m;

	shown = escape_dup(arg, strlen(arg));
	if (*arg == '\0' || code_matches(arg, n, 200) == -1) {
		(void)cmdtab_error(c,
		    "/expect wants a reply code like 250, 2xx or "
		    "\"550 5.1.1\", not \"%s\"",
		    shown);
		free(shown);
		return -1;
	}
	if (st == NULL) {
		(void)cmdtab_error(
		    c, "/expect %s: no reply has arrived yet", shown);
		free(shown);
		return -1;
	}
	m = code_matches(arg, n, st->code);
	if (m == 1 && *enh != '\0')
		m = enhanced_matches(enh, st->enhanced);
	if (m == 1) {
		why = xasprintf("/expect %s: %d%s%s as expected", shown,
		    st->code, st->enhanced[0] ? " " : "", st->enhanced);
		c->ops->expect_met(c->fe, why);
		free(why);
		free(shown);
		return 0;
	}
	why = xasprintf("/expect %s failed: the reply to %s was %d%s%s", shown,
	    smtp_stage_kind_name(st->kind), st->code,
	    st->enhanced[0] ? " " : "", st->enhanced);
	c->ops->expect_failed(c->fe, why);
	free(why);
	free(shown);
	return -1;
}

int
cmdtab_explain(struct cmd_ctx *c, const char *arg)
{
	const struct smtp_stage *st = smtp_session_last_reply(c->session);

	if (*arg == '\0' && st == NULL) {
		cmdtab_note(c,
		    "/explain: no reply has arrived yet; /explain "
		    "CODE|VERB explains one");
		return 0;
	}
	c->ops->explain(c->fe, *arg != '\0' ? arg : NULL, st);
	return 0;
}

int
cmdtab_quit(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	if (!smtp_client_is_closed(c->client) &&
	    !smtp_session_quit_sent(c->session))
		(void)cmdtab_send(c, "QUIT");
	c->ops->quit(c->fe);
	return 0;
}

int
cmdtab_sleep(struct cmd_ctx *c, const char *arg)
{
	char *endp, *shown;
	double v;

	errno = 0;
	v = strtod(arg, &endp);
	if (errno != 0 || endp == arg || *endp != '\0' || v < 0 || v > 3600) {
		shown = escape_dup(arg, strlen(arg));
		(void)cmdtab_error(
		    c, "/sleep wants seconds (0 to 3600), not \"%s\"", shown);
		free(shown);
		return -1;
	}
	c->ops->sleep(c->fe, (unsigned long)(v * 1000));
	return 0;
}

char *
cmdtab_explain_text(const struct smtp_session *s, const char *query,
    const struct smtp_stage *st, int width)
{
	struct buf b;
	const char *kind;
	char *q, *text, *why;

	buf_init(&b, 0);
	if (query == NULL) {
		kind = smtp_stage_kind_name(st->kind);
		(void)buf_add_printf(&b,
		    "explaining the last reply, %d%s%s to %s:\n  %s\n",
		    st->code, st->enhanced[0] != '\0' ? " " : "", st->enhanced,
		    kind, smtp_explain_oneline(kind, st->code, st->enhanced));
		/* This session's cause first, where it can be told. */
		if ((q = smtp_why_of(s, st)) != NULL) {
			why = lesson_wrap(q, (size_t)(width - 2), "  ");
			(void)buf_add_str(&b, why);
			free(why);
			free(q);
		}
		q = xasprintf("%d %s", st->code, st->enhanced);
	} else
		q = xstrdup(query);
	text = smtp_explain_text_width(q, width);
	free(q);
	if (text == NULL) {
		buf_reset(&b);
		return NULL;
	}
	(void)buf_add_str(&b, text);
	free(text);
	(void)buf_add(&b, "", 1);
	q = xstrdup(buf_peek(&b));
	buf_reset(&b);
	return q;
}
