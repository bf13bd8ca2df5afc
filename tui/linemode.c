/*
 * Line mode: `ehlo run SERVER [SCRIPT]`.  Reads the command language of
 * DESIGN.md section 3 from a script (or stdin), drives one SMTP session
 * through the client driver, and prints the dialogue as "C:", "S:" and "*:" lines
 * (or JSON objects, one per line).
 *
 * The script is read through the event loop, so a script typed at a
 * terminal and a server line arriving meanwhile are both handled.  One
 * script line runs at a time: the next runs only when the client is idle
 * (every reply in, every byte written), except inside /pipeline ... /end
 * where commands are queued and leave in one write.  With --starttls or
 * --auth, a preamble (EHLO, STARTTLS, EHLO, AUTH) runs before the first
 * line that is not EHLO or HELO.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/explain.h"
#include "protocol/sasl.h"
#include "protocol/tlscheck.h"
#include "tui/cli.h"
#include "tui/cmdtab.h"
#include "tui/lang.h"
#include "tui/linemode.h"
#include "tui/print.h"
#include "tui/record.h"

/* A script line longer than this is refused (content lines included). */
#define SCRIPT_LINE_MAX (1024 * 1024)

struct lm {
	const struct cli_opts *o;
	struct loop *loop;
	struct smtp_client *client;
	struct smtp_session *session;
	char *helo;
	struct record *rec; /* history, NULL with --no-history */

	/* script input */
	int fd;
	const char *name;
	struct buf in;
	int eof;
	int waiting_input;
	unsigned lineno;
	char *line; /* the current (peeked) line, or NULL */
	size_t linelen;
	int script_over; /* /quit or a fatal error: no more lines */

	/* preamble (--starttls, --auth) */
	int pre_ehlo_phase; /* 1: EHLO sent in plain text, 2: after TLS */
	int pre_tls_sent;
	int pre_auth_sent;
	int preamble_done;
	int ehlo_after_tls;

	/* SASL driven by /auth or --auth */
	struct lang lang; /* /auth and /body across replies */
	int sleeping;

	/* outcome */
	int failed_replies; /* 4xx/5xx not answered by /expect */
	int last_counted; /* the last reply was counted in failed */
	int exit_fixed; /* an exit status decided by an error */
	int done;
};

static void lm_step(struct lm *);

static void
fix_exit(struct lm *lm, int status)
{
	if (lm->exit_fixed == 0)
		lm->exit_fixed = status;
}

/* ---- output ------------------------------------------------------- */

/* The dialogue as text or JSON Lines (tui/print.c, shared with send). */
static void
lm_print_event(struct lm *lm, const struct smtp_event *ev)
{
	struct print_opts po;

	po.json = lm->o->json;
	po.timing = lm->o->timing;
	po.session = lm->session;
	print_event(&po, ev);
}

/* A note of the workbench itself, on stdout (*:) in the dialogue. */
static void lm_note(struct lm *lm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lm_note(struct lm *lm, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	smtp_session_note(lm->session, "%s", s);
	free(s);
}

/* An error: stderr (escaped), the dialogue, and an exit status. */
static void lm_error(struct lm *lm, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
lm_error(struct lm *lm, int status, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	print_workbench_error(lm->rec, lm->o->json, s);
	free(s);
	fix_exit(lm, status);
}

static void script_error(struct lm *lm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
script_error(struct lm *lm, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	lm_error(lm, EXIT_USAGE, "%s:%u: %s", lm->name, lm->lineno, s);
	free(s);
	lm->script_over = 1;
}

/* ---- SASL --------------------------------------------------------- */

static int
start_auth(struct lm *lm, const char *mech, const char *user)
{
	char *err = NULL;
	int rc = lang_auth_prompt(&lm->lang, mech, user, &err);

	if (rc == -1) {
		script_error(lm, "%s", err);
		free(err);
	}
	return rc;
}

/* ---- session events ----------------------------------------------- */

static void
on_reply(struct lm *lm, const struct smtp_event *ev)
{
	int code = ev->reply->code;
	char *err = NULL;

	lm->last_counted = 0;
	if (code >= 400) {
		lm->failed_replies++;
		lm->last_counted = 1;
	}
	if (lang_on_reply(&lm->lang, ev, &err) == -1) {
		lm_error(lm, EXIT_USAGE, "%s", err);
		free(err);
	}
}

static void
on_event(const struct smtp_event *ev, void *arg)
{
	struct lm *lm = arg;

	record_event(lm->rec, ev); /* first: nothing shown goes unrecorded */
	lm_print_event(lm, ev);
	switch (ev->type) {
	case SMTP_EV_REPLY:
		on_reply(lm, ev);
		break;
	case SMTP_EV_FAILURE:
		record_flush(lm->rec);
		(void)fflush(stdout);
		{
			char *e = escape_dup(ev->text, ev->len);

			(void)fprintf(stderr, "ehlo: %s\n", e);
			free(e);
		}
		fix_exit(lm, EXIT_NETWORK);
		break;
	default:
		break;
	}
}

/* ---- script input ------------------------------------------------- */

static void
on_script_readable(int fd, int events, void *arg)
{
	struct lm *lm = arg;
	char *dst;
	ssize_t n;

	(void)events;
	if ((dst = buf_reserve(&lm->in, 65536)) == NULL) {
		script_error(
		    lm, "a line is longer than %d bytes", SCRIPT_LINE_MAX);
		lm->eof = 1;
	} else {
		n = read(fd, dst, 65536);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n <= 0) {
			if (n == -1)
				lm_error(lm, EXIT_USAGE, "reading %s: %s",
				    lm->name, strerror(errno));
			lm->eof = 1;
		} else
			buf_commit(&lm->in, (size_t)n);
	}
	lm->waiting_input = 0;
	loop_fd_del(lm->loop, fd);
	lm_step(lm);
}

static void
drop_line(struct lm *lm)
{
	free(lm->line);
	lm->line = NULL;
	lm->linelen = 0;
}

/*
 * Makes lm->line the next script line.  Returns 1 when a line is ready,
 * 0 at the end of the script, -1 when input must be waited for.
 */
static int
next_line(struct lm *lm)
{
	const char *p, *nl;
	size_t n;

	if (lm->script_over) {
		drop_line(lm);
		return 0;
	}
	if (lm->line != NULL)
		return 1;
	p = buf_peek(&lm->in);
	n = buf_used(&lm->in);
	nl = memchr(p, '\n', n);
	if (nl == NULL && !lm->eof) {
		if (n > SCRIPT_LINE_MAX) {
			lm->lineno++;
			script_error(
			    lm, "line longer than %d bytes", SCRIPT_LINE_MAX);
			return 0;
		}
		if (!lm->waiting_input) {
			lm->waiting_input = 1;
			loop_fd_add(lm->loop, lm->fd, LOOP_READ,
			    on_script_readable, lm);
		}
		return -1;
	}
	if (nl == NULL && n == 0)
		return 0;
	lm->linelen = nl != NULL ? (size_t)(nl - p) : n;
	lm->line = xstrndup(p, lm->linelen);
	if (memchr(p, '\0', lm->linelen) != NULL) {
		/* xstrndup stopped at the NUL; keep the real length. */
		free(lm->line);
		lm->line = xmalloc(lm->linelen + 1);
		memcpy(lm->line, p, lm->linelen);
		lm->line[lm->linelen] = '\0';
	}
	buf_consume(&lm->in, lm->linelen + (nl != NULL ? 1 : 0));
	if (lm->linelen > 0 && lm->line[lm->linelen - 1] == '\r')
		lm->line[--lm->linelen] = '\0';
	lm->lineno++;
	return 1;
}

/* ---- slash commands ----------------------------------------------- */

static int
word_is(const char *line, const char *word)
{
	size_t n = strlen(word);

	return strncasecmp(line, word, n) == 0 &&
	    (line[n] == '\0' || line[n] == ' ' || line[n] == '\t');
}

/* Skips blanks; returns a pointer to the next word. */
static const char *
skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static void
send_line(struct lm *lm, const char *p, size_t n)
{
	char *err = NULL;

	if (smtp_client_send(lm->client, p, n, &err) == -1) {
		script_error(lm, "%s", err);
		free(err);
	}
}

static void
on_sleep_done(void *arg)
{
	struct lm *lm = arg;

	lm->sleeping = 0;
	lm_step(lm);
}

/* What the commands of tui/cmdtab.c ask of line mode. */
static void
lm_op_note(void *fe, const char *text)
{
	lm_note(fe, "%s", text);
}

static void
lm_op_error(void *fe, const char *text)
{
	script_error(fe, "%s", text);
}

/* A page of text as "*: " notes (the text names what it is, so the
 * title is left out); NULL: the commands of line mode. */
static void
lm_op_show(void *fe, const char *title, const char *text)
{
	char *own = NULL;
	const char *p, *nl;

	(void)title;
	if (text == NULL) {
		lm_note(fe,
		    "/ commands of line mode and scripts "
		    "(/help COMMAND explains one):");
		text = own = cmdtab_help(CMD_MODE_LINE, NULL);
	}
	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		lm_note(fe, "%.*s", (int)(nl - p), p);
	if (*p != '\0')
		lm_note(fe, "%s", p);
	free(own);
}

static void
lm_op_auth(void *fe, const char *mech, const char *user)
{
	(void)start_auth(fe, mech, user);
}

static void
lm_op_starttls_sent(void *fe)
{
	struct lm *lm = fe;

	lm->ehlo_after_tls = 1;
}

static void
lm_op_expect_met(void *fe, const char *text)
{
	struct lm *lm = fe;

	(void)text;
	if (lm->last_counted) {
		lm->failed_replies--;
		lm->last_counted = 0;
	}
}

static void
lm_op_expect_failed(void *fe, const char *text)
{
	struct lm *lm = fe;

	lm_error(lm, EXIT_REPLY, "%s:%u: %s", lm->name, lm->lineno, text);
	lm->script_over = 1;
}

/* /explain [CODE|VERB] as "*: " notes; no query: the last reply. */
static void
lm_op_explain(void *fe, const char *query, const struct smtp_stage *st)
{
	struct lm *lm = fe;
	const char *kind;
	char *q, *text, *p, *nl;

	if (query == NULL) {
		kind = smtp_stage_kind_name(st->kind);
		lm_note(lm,
		    "explaining the last reply, %d%s%s to %s:", st->code,
		    st->enhanced[0] != '\0' ? " " : "", st->enhanced, kind);
		lm_note(lm, "  %s",
		    smtp_explain_oneline(kind, st->code, st->enhanced));
		q = xasprintf("%d %s", st->code, st->enhanced);
	} else
		q = xstrdup(query);
	/* Narrower by the "*: " prefix, so output lines stay in 78. */
	text = smtp_explain_text_width(q, SMTP_EXPLAIN_WIDTH - 3);
	free(q);
	if (text == NULL) {
		script_error(lm,
		    "no explanation for \"%.40s\": try a reply code like 550, "
		    "an enhanced code like 5.7.1 or a command like VRFY",
		    query != NULL ? query : "");
		return;
	}
	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		lm_note(lm, "%.*s", (int)(nl - p), p);
	free(text);
}

static void
lm_op_quit(void *fe)
{
	struct lm *lm = fe;

	lm->script_over = 1;
}

static void
lm_op_sleep(void *fe, unsigned long ms)
{
	struct lm *lm = fe;

	lm->sleeping = 1;
	(void)loop_timer_add(lm->loop, ms, on_sleep_done, lm);
}

static const struct cmd_ops lm_cmd_ops = {
    .note = lm_op_note,
    .error = lm_op_error,
    .show = lm_op_show,
    .auth = lm_op_auth,
    .starttls_sent = lm_op_starttls_sent,
    .expect_met = lm_op_expect_met,
    .expect_failed = lm_op_expect_failed,
    .explain = lm_op_explain,
    .quit = lm_op_quit,
    .sleep = lm_op_sleep,
};

static void
lm_cmd_ctx(struct lm *lm, struct cmd_ctx *c)
{
	memset(c, 0, sizeof *c);
	c->mode = CMD_MODE_LINE;
	c->client = lm->client;
	c->session = lm->session;
	c->lang = &lm->lang;
	c->o = lm->o;
	c->ops = &lm_cmd_ops;
	c->fe = lm;
}

/* STARTTLS for the preamble (--starttls), as /starttls does it. */
static void
do_starttls(struct lm *lm)
{
	struct cmd_ctx c;

	lm_cmd_ctx(lm, &c);
	(void)cmdtab_starttls(&c, "");
}

/* A / line: the table decides (tui/cmdtab.c). */
static void
do_slash(struct lm *lm, const char *line)
{
	struct cmd_ctx c;

	lm_cmd_ctx(lm, &c);
	(void)cmdtab_run(&c, line);
}

/* ---- the step machine --------------------------------------------- */

/* 1 when the line (or end of script) needs the preamble done first. */
static int
wants_preamble(struct lm *lm)
{
	const char *l = lm->line;

	if ((lm->o->auth == NULL && !lm->o->starttls) || lm->preamble_done ||
	    lm->script_over)
		return 0;
	if (smtp_session_state(lm->session) == SMTP_STATE_CONTENT ||
	    smtp_session_state(lm->session) == SMTP_STATE_AUTH)
		return 0;
	if (l == NULL)
		return !lm->script_over;
	l = skip_blanks(l);
	return !(*l == '\0' || *l == '#' || word_is(l, "EHLO") ||
	    word_is(l, "HELO") || word_is(l, "/expect") ||
	    word_is(l, "/sleep") || word_is(l, "/quit") || word_is(l, "QUIT"));
}

/*
 * Runs the next preamble action.  Returns 1 when it did something (or
 * failed), 0 when the preamble is complete.
 */
static int
preamble(struct lm *lm)
{
	enum smtp_state st = smtp_session_state(lm->session);
	const struct smtp_caps *caps = smtp_session_caps(lm->session);
	char *cmd;

	if (lm->preamble_done)
		return 0;
	if (st == SMTP_STATE_GREETED) {
		/* One EHLO per TLS phase; still GREETED after it: refused. */
		if (lm->pre_ehlo_phase ==
		    1 + smtp_session_is_tls(lm->session)) {
			lm_error(lm,
			    lm->failed_replies ? EXIT_REPLY : EXIT_NETWORK,
			    "the server did not accept EHLO; "
			    "--starttls and --auth need ESMTP");
			lm->script_over = 1;
			return 1;
		}
		lm->pre_ehlo_phase = 1 + smtp_session_is_tls(lm->session);
		cmd = xasprintf("EHLO %s", lm->helo);
		send_line(lm, cmd, strlen(cmd));
		free(cmd);
		return 1;
	}
	if (lm->o->starttls && !smtp_session_is_tls(lm->session)) {
		if (lm->pre_tls_sent ||
		    !smtp_caps_has(caps, SMTP_CAP_STARTTLS)) {
			lm_error(lm, EXIT_NETWORK,
			    lm->pre_tls_sent
			        ? "the server refused STARTTLS, which --starttls "
			          "requires; nothing else was sent"
			        : "the server did not offer STARTTLS, which "
			          "--starttls requires; nothing else was sent "
			          "(drop --starttls to talk in plain text)");
			lm->script_over = 1;
			return 1;
		}
		lm->pre_tls_sent = 1;
		do_starttls(lm);
		return 1;
	}
	if (lm->o->auth != NULL &&
	    !smtp_session_is_authenticated(lm->session)) {
		if (lm->pre_auth_sent) {
			lm_error(lm, EXIT_REPLY,
			    "authentication as %s "
			    "failed; nothing else was sent",
			    lm->o->user);
			lm->script_over = 1;
			return 1;
		}
		lm->pre_auth_sent = 1;
		if (start_auth(lm, lm->o->auth, lm->o->user) == -1)
			lm->script_over = 1;
		return 1;
	}
	lm->preamble_done = 1;
	return 0;
}

static void
run_line(struct lm *lm)
{
	const char *l = lm->line;
	size_t n = lm->linelen;
	enum smtp_state st = smtp_session_state(lm->session);

	/* After 354, 334, or inside a BDAT chunk: content, not commands. */
	if (st == SMTP_STATE_CONTENT || st == SMTP_STATE_AUTH ||
	    smtp_session_chunk_left(lm->session) > 0) {
		send_line(lm, l, n);
		return;
	}
	if (memchr(l, '\0', n) != NULL) {
		script_error(lm,
		    "the line contains a NUL byte; SMTP lines "
		    "cannot carry one, so nothing was sent");
		return;
	}
	l = skip_blanks(l);
	if (*l == '\0' || *l == '#')
		return;
	if (*l == '/') {
		/* As in the workbench: trailing blanks are not part of an
		 * argument.  lm->line is ours; NULs were refused above. */
		while (n > 0 &&
		    (lm->line[n - 1] == ' ' || lm->line[n - 1] == '\t'))
			lm->line[--n] = '\0';
		do_slash(lm, l);
		return;
	}
	send_line(lm, lm->line, lm->linelen);
}

static void
finish(struct lm *lm)
{
	if (lm->done)
		return;
	lm->done = 1;
	loop_stop(lm->loop);
}

static void
lm_step(struct lm *lm)
{
	char *err = NULL;
	int r;

	while (!lm->done) {
		if (smtp_client_is_closed(lm->client)) {
			finish(lm);
			return;
		}
		if (lm->sleeping)
			return;
		if (smtp_client_is_busy(lm->client) &&
		    !smtp_session_is_pipelining(lm->session))
			return;
		if (smtp_session_server_closing(lm->session))
			return; /* wait for the close */
		if (lm->ehlo_after_tls && smtp_session_is_tls(lm->session) &&
		    smtp_session_state(lm->session) == SMTP_STATE_GREETED) {
			char *cmd = xasprintf("EHLO %s", lm->helo);

			lm->ehlo_after_tls = 0;
			send_line(lm, cmd, strlen(cmd));
			free(cmd);
			continue;
		}
		if (smtp_session_state(lm->session) == SMTP_STATE_GREETING)
			return;
		r = next_line(lm);
		if (r == -1)
			return;
		if (wants_preamble(lm) && preamble(lm))
			continue;
		if (r == 0) {
			if (smtp_session_is_pipelining(lm->session)) {
				smtp_session_pipeline_end(lm->session);
				smtp_client_flush(lm->client);
				lm_note(lm,
				    "end of script inside /pipeline: "
				    "the group was sent");
				continue;
			}
			if (smtp_session_chunk_left(lm->session) > 0) {
				/* A QUIT now would be read as chunk content. */
				lm_error(lm, EXIT_USAGE,
				    "%s: the script stopped %llu octets short of "
				    "the BDAT chunk's end; the connection was "
				    "closed",
				    lm->name,
				    (unsigned long long)smtp_session_chunk_left(
				        lm->session));
				smtp_session_close(lm->session,
				    "the workbench closed the connection");
				smtp_client_close(lm->client);
				continue;
			}
			if (!smtp_session_quit_sent(lm->session)) {
				if (smtp_client_send(
				        lm->client, "QUIT", 4, &err) == -1) {
					free(err);
					smtp_client_close(lm->client);
				}
				continue;
			}
			/* QUIT answered and the server keeps the line. */
			return;
		}
		run_line(lm);
		drop_line(lm);
	}
}

/*
 * SIGTERM or SIGHUP (through the loop's self-pipe): the session ends like
 * any other, recorded and closed, with exit status 128 + the signal.
 */
static void
on_term_signal(int signo, void *arg)
{
	struct lm *lm = arg;

	lm->script_over = 1;
	lm_error(lm, 128 + signo, "interrupted by %s: the session was closed",
	    signo == SIGHUP ? "SIGHUP" : "SIGTERM");
	smtp_session_close(lm->session, "the workbench closed the connection");
	smtp_client_close(lm->client);
	loop_stop(lm->loop);
}

/*
 * Once per loop turn: run what became runnable, then show it, but only
 * once what it shows is committed (a crash loses nothing that was
 * shown); rows are committed every RECORD_BATCH_MS at most.
 */
static void
before_sleep(void *arg)
{
	struct lm *lm = arg;

	lm_step(lm);
	if (record_flush_due(lm->rec, lm->loop))
		return;
	(void)fflush(stdout);
}

static int
exit_status(struct lm *lm)
{
	if (lm->exit_fixed != 0)
		return lm->exit_fixed;
	return lm->failed_replies > 0 ? EXIT_REPLY : EXIT_OK;
}

static void
print_summary(struct lm *lm, int status)
{
	json_t *o, *t, *chain, *c;
	const struct smtp_tls_info *ti = smtp_client_tls_info(lm->client);
	const struct smtp_caps *caps = smtp_session_caps(lm->session);
	size_t i;

	o = json_object();
	(void)json_object_set_new(o, "type", json_string("summary"));
	(void)json_object_set_new(o, "exit", json_integer(status));
	(void)json_object_set_new(
	    o, "failed_replies", json_integer(lm->failed_replies));
	if (caps->valid) {
		t = json_array();
		for (i = 0; i < caps->ncaps; i++)
			(void)json_array_append_new(t,
			    print_json_text(caps->caps[i].keyword,
			        strlen(caps->caps[i].keyword)));
		(void)json_object_set_new(o, "capabilities", t);
	}
	if (ti != NULL) {
		t = json_object();
		(void)json_object_set_new(t, "version",
		    print_json_text(ti->version, strlen(ti->version)));
		(void)json_object_set_new(t, "cipher",
		    print_json_text(ti->cipher, strlen(ti->cipher)));
		(void)json_object_set_new(
		    t, "group", print_json_text(ti->group, strlen(ti->group)));
		(void)json_object_set_new(
		    t, "sni", print_json_text(ti->sni, strlen(ti->sni)));
		(void)json_object_set_new(
		    t, "verified", json_boolean(ti->verified));
		(void)json_object_set_new(t, "verify_error",
		    print_json_text(
		        ti->verify_error, strlen(ti->verify_error)));
		(void)json_object_set_new(t, "ocsp",
		    json_string(smtp_tls_ocsp_name(ti->ocsp_status)));
		(void)json_object_set_new(t, "ocsp_detail",
		    print_json_text(ti->ocsp, strlen(ti->ocsp)));
		chain = json_array();
		for (i = 0; i < ti->nchain; i++) {
			c = json_object();
			(void)json_object_set_new(c, "subject",
			    print_json_text(ti->chain[i].subject,
			        strlen(ti->chain[i].subject)));
			(void)json_object_set_new(c, "issuer",
			    print_json_text(ti->chain[i].issuer,
			        strlen(ti->chain[i].issuer)));
			(void)json_object_set_new(c, "san",
			    print_json_text(
			        ti->chain[i].san, strlen(ti->chain[i].san)));
			(void)json_object_set_new(c, "not_before",
			    print_json_text(ti->chain[i].not_before,
			        strlen(ti->chain[i].not_before)));
			(void)json_object_set_new(c, "not_after",
			    print_json_text(ti->chain[i].not_after,
			        strlen(ti->chain[i].not_after)));
			(void)json_object_set_new(c, "key",
			    json_pack("{s:s, s:i}", "type",
			        ti->chain[i].key_type, "bits",
			        ti->chain[i].key_bits));
			(void)json_object_set_new(c, "sig_alg",
			    print_json_text(ti->chain[i].sig_alg,
			        strlen(ti->chain[i].sig_alg)));
			(void)json_object_set_new(c, "days_left",
			    json_integer(ti->chain[i].days_left));
			(void)json_array_append_new(chain, c);
		}
		(void)json_object_set_new(t, "chain", chain);
		(void)json_object_set_new(o, "tls", t);
	}
	print_json_put(o);
}

/* Set only by linemode_run_on(), for the duration of one run. */
static struct loop *lm_shared_loop;
static linemode_done_cb *lm_done;
static void *lm_done_arg;

/*
 * Runs a session: the script is text[0..len) when text is not NULL
 * (replay), else o->script or stdin.  The session is recorded (unless
 * --no-history) with replay_of; *session_id gets its history id (0
 * when not recorded) when not NULL.
 */
static int
lm_run(const struct cli_opts *o, const char *text, size_t len,
    int64_t replay_of, int64_t *session_id)
{
	struct lm lm;
	struct smtp_client_opts co;
	char *host = NULL, *port = NULL, *err = NULL;
	int status;

	memset(&lm, 0, sizeof lm);
	lm.o = o;
	if (smtp_server_parse(
	        o->server, o->tls ? 465 : 25, &host, &port, &err) == -1) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	if (text != NULL) {
		lm.fd = -1;
		lm.name = "replay script";
	} else if (o->script == NULL || strcmp(o->script, "-") == 0) {
		lm.fd = STDIN_FILENO;
		lm.name = "stdin";
	} else if ((lm.fd = open(o->script, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)fprintf(stderr, "ehlo: cannot open script %s: %s\n",
		    o->script, strerror(errno));
		free(host);
		free(port);
		return EXIT_USAGE;
	} else
		lm.name = o->script;
	buf_init(&lm.in, text != NULL ? 0 : SCRIPT_LINE_MAX + 65536);
	if (text != NULL) {
		(void)buf_add(&lm.in, text, len);
		lm.eof = 1;
	}
	lm.helo = o->helo != NULL ? xstrdup(o->helo) : cli_default_helo();

	cli_client_opts(o, host, port, &co);
	lm.loop = lm_shared_loop != NULL ? lm_shared_loop : loop_new();
	loop_set_before_sleep(lm.loop, before_sleep, &lm);
	lm.client = smtp_client_new(lm.loop, &co, on_event, &lm);
	lm.session = smtp_client_session(lm.client);
	lm.rec = record_open(o->db, o->no_history, session_id == NULL);
	lm.lang.client = lm.client;
	lm.lang.rec = lm.rec;
	record_watch_stdout(lm.rec);
	record_begin(lm.rec, host, (int)strtol(port, NULL, 10),
	    o->tls            ? "tls"
	        : o->starttls ? "starttls"
	                      : "plain",
	    replay_of);
	record_attach(lm.rec, lm.session, lm.client);
	if (lm.loop != lm_shared_loop) {
		(void)loop_signal_add(lm.loop, SIGTERM, on_term_signal, &lm);
		(void)loop_signal_add(lm.loop, SIGHUP, on_term_signal, &lm);
	}
	if (smtp_client_connect(lm.client, &err) == 0)
		(void)loop_run(lm.loop);
	free(err);

	status = exit_status(&lm);
	record_flush(lm.rec);
	if (o->json)
		print_summary(&lm, status);
	(void)fflush(stdout);
	record_end(lm.rec, status);
	if (session_id != NULL)
		*session_id = record_session_id(lm.rec);
	record_free(lm.rec);

	if (lm_done != NULL)
		lm_done(lm.session, lm_done_arg);
	lang_reset(&lm.lang);
	smtp_client_free(lm.client);
	if (lm.loop == lm_shared_loop)
		loop_set_before_sleep(lm.loop, NULL, NULL);
	else
		loop_free(lm.loop);
	free(lm.line);
	free(lm.helo);
	buf_reset(&lm.in);
	if (lm.fd != STDIN_FILENO && lm.fd != -1)
		(void)close(lm.fd);
	free(host);
	free(port);
	return status;
}

int
linemode_run(const struct cli_opts *o)
{
	return lm_run(o, NULL, 0, 0, NULL);
}

int
linemode_run_script(const struct cli_opts *o, const char *text, size_t len,
    int64_t replay_of, int64_t *session_id)
{
	return lm_run(o, text, len, replay_of, session_id);
}

int
linemode_run_on(const struct cli_opts *o, struct loop *loop,
    linemode_done_cb *done, void *arg)
{
	int rc;

	lm_shared_loop = loop;
	lm_done = done;
	lm_done_arg = arg;
	rc = linemode_run(o);
	lm_shared_loop = NULL;
	lm_done = NULL;
	lm_done_arg = NULL;
	return rc;
}
