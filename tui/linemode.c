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
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/explain.h"
#include "protocol/sasl.h"
#include "protocol/tlscheck.h"
#include "tui/cli.h"
#include "tui/cmdtab.h"
#include "tui/host.h"
#include "tui/lang.h"
#include "tui/linemode.h"
#include "tui/outgate.h"
#include "tui/print.h"

/* A script line longer than this is refused (content lines included). */
#define SCRIPT_LINE_MAX (1024 * 1024)

struct lm {
	const struct cli_opts *o;
	struct host *host; /* the session, its recording and outcome */
	/* the host's, for the current session */
	struct loop *loop;
	struct smtp_client *client;
	struct smtp_session *session;
	const char *helo;
	struct record *rec; /* history, NULL with --no-history */

	/* script input */
	int fd;
	const char *name;
	int tty; /* a person types (lm_prompt set, stdin and stdout ttys) */
	uint64_t prompt_timer;
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
	/* XCLIENT (/xclient, --xclient): EHLO after its 220 */
	int ehlo_after_xclient;
	int pre_xclient_sent; /* --xclient's XCLIENT went out */

	/* SASL driven by /auth or --auth */
	struct lang lang; /* /auth and /body across replies */
	int sleeping;

	int done;
	int async; /* linemode_start: the dialogue goes to cbs */
	struct linemode_cbs cbs;
};

/* An in-process run (linemode_start) is a line mode of its own. */
struct linemode {
	struct lm lm;
};

static void lm_step(struct lm *);
/* linemode_set_lesson(): for the next linemode_run_on(). */
static linemode_reply_cb *lm_reply_hook;
static void *lm_reply_arg;
static const char *lm_prompt;

/* ---- output ------------------------------------------------------- */

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
	host_error(lm->host, status, "%s", s);
	free(s);
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

/*
 * After the host recorded, printed and counted the event (a 4xx/5xx
 * counts as failed until /expect takes it back).
 */
static void
on_event(struct host *h, const struct smtp_event *ev, void *arg)
{
	struct lm *lm = arg;
	char *err = NULL, *note;

	(void)h;
	if (lm->cbs.event != NULL)
		lm->cbs.event(ev, lm->cbs.arg);
	if (ev->type != SMTP_EV_REPLY)
		return;
	if (lang_on_reply(&lm->lang, ev, &err) == -1) {
		lm_error(lm, EXIT_USAGE, "%s", err);
		free(err);
	}
	if (lm_reply_hook != NULL &&
	    (note = lm_reply_hook(lm->session, ev, lm_reply_arg)) != NULL) {
		lm_note(lm, "%s", note);
		free(note);
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

/*
 * The prompt, once what came before it is out: the output gate may
 * still hold the last replies this turn, so the prompt waits for it.
 */
static void
on_prompt_timer(void *arg)
{
	struct lm *lm = arg;

	lm->prompt_timer = 0;
	if (!lm->waiting_input)
		return;
	if (outgate_held() > 0) {
		lm->prompt_timer =
		    loop_timer_add(lm->loop, 10, on_prompt_timer, lm);
		return;
	}
	outgate_write(lm_prompt, strlen(lm_prompt));
	(void)fflush(stdout);
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
			if (lm->tty && lm->prompt_timer == 0)
				lm->prompt_timer = loop_timer_add(
				    lm->loop, 1, on_prompt_timer, lm);
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
	/* The terminal echoed "prompt> line": the dialogue shows the line
	 * as sent ("C: ..."), so the echo goes (up one line, cleared). */
	if (lm->tty && lm->line[0] != '/')
		outgate_write("\033[A\r\033[K", 7);
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
lm_op_xclient_sent(void *fe)
{
	struct lm *lm = fe;

	lm->ehlo_after_xclient = 1;
}

static void
lm_op_expect_met(void *fe, const char *text)
{
	struct lm *lm = fe;

	(void)text;
	host_reply_expected(lm->host);
}

static void
lm_op_expect_failed(void *fe, const char *text)
{
	struct lm *lm = fe;

	lm_error(lm, EXIT_REPLY, "%s:%u: %s", lm->name, lm->lineno, text);
	lm->script_over = 1;
}

/* Prints text (lines ending in '\n', allocated) as notes; frees it. */
static void
lm_notes(struct lm *lm, char *text)
{
	char *p, *nl;

	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		lm_note(lm, "%.*s", (int)(nl - p), p);
	free(text);
}

/* /explain [CODE|VERB] as "*: " notes; no query: the last reply. */
static void
lm_op_explain(void *fe, const char *query, const struct smtp_stage *st)
{
	struct lm *lm = fe;
	/* Narrower by the "*: " prefix, so output lines stay in 78. */
	char *text =
	    cmdtab_explain_text(lm->session, query, st, SMTP_EXPLAIN_WIDTH - 3);

	if (text == NULL) {
		script_error(lm,
		    "no explanation for \"%.40s\": try a reply code like 550, "
		    "an enhanced code like 5.7.1 or a command like VRFY",
		    query != NULL ? query : "");
		return;
	}
	lm_notes(lm, text);
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
    .xclient_sent = lm_op_xclient_sent,
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

	if ((lm->o->auth == NULL && !lm->o->starttls &&
	        lm->o->xclient.n == 0) ||
	    lm->preamble_done || lm->script_over)
		return 0;
	if (smtp_session_state(lm->session) == SMTP_STATE_CONTENT ||
	    smtp_session_state(lm->session) == SMTP_STATE_AUTH)
		return 0;
	if (l == NULL)
		return !lm->script_over;
	l = skip_blanks(l);
	return !(*l == '\0' || *l == '#' || word_is(l, "EHLO") ||
	    word_is(l, "HELO") || word_is(l, "LHLO") || word_is(l, "/expect") ||
	    word_is(l, "/sleep") || word_is(l, "/quit") || word_is(l, "QUIT"));
}

/* --xclient in the preamble, after EHLO (and STARTTLS's): XCLIENT,
 * whose 220 brings the EHLO again (lm_step).  1 as preamble(). */
static int
preamble_xclient(struct lm *lm)
{
	char *line, *err = NULL;
	int status =
	    host_xclient_preamble(lm->host, lm->pre_xclient_sent, &line, &err);

	if (status != 0) {
		lm_error(lm, status, "%s", err);
		free(err);
		lm->script_over = 1;
		return 1;
	}
	lm->pre_xclient_sent = lm->ehlo_after_xclient = 1;
	send_line(lm, line, strlen(line));
	free(line);
	return 1;
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
			    host_failed_replies(lm->host)
			        ? host_reply_exit(lm->host)
			        : EXIT_NETWORK,
			    "the server did not accept EHLO; "
			    "--starttls and --auth need ESMTP");
			lm->script_over = 1;
			return 1;
		}
		lm->pre_ehlo_phase = 1 + smtp_session_is_tls(lm->session);
		cmd = xasprintf("%s %s", host_hello_verb(lm->host), lm->helo);
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
	if (lm->o->xclient.n > 0 && !host_xclient_accepted(lm->host))
		return preamble_xclient(lm);
	if (lm->o->auth != NULL &&
	    !smtp_session_is_authenticated(lm->session)) {
		if (lm->pre_auth_sent) {
			lm_error(lm, host_reply_exit(lm->host),
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

	/* After 354, 334, or inside a BDAT chunk: content, not commands
	 * (but /raw, which is how unusual ends of data are sent, and
	 * /sleep to wait for the server's answer to one). */
	if ((st == SMTP_STATE_CONTENT || st == SMTP_STATE_AUTH ||
	        smtp_session_chunk_left(lm->session) > 0) &&
	    !((cmdtab_is_raw_line(l) ||
	          (smtp_session_eod_unsure(lm->session) &&
	              word_is(skip_blanks(l), "/sleep"))) &&
	        memchr(l, '\0', n) == NULL)) {
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
	int status;

	if (lm->done)
		return;
	lm->done = 1;
	host_stop(lm->host);
	if (!lm->async)
		return;
	/* In-process: the session ends here, the caller frees later. */
	status = host_exit_status(lm->host);
	host_end(lm->host, status);
	if (lm->cbs.done != NULL)
		lm->cbs.done(status, host_session_id(lm->host), lm->cbs.arg);
}

static void
lm_step(struct lm *lm)
{
	char *err = NULL, *cmd;
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
		/* EHLO again after STARTTLS's handshake or XCLIENT's 220. */
		if ((cmd = host_hello_due(lm->host, &lm->ehlo_after_tls,
		         &lm->ehlo_after_xclient)) != NULL) {
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

/* The host's step: once per loop turn, before the output is shown. */
static void
on_step(struct host *h, void *arg)
{
	(void)h;
	lm_step(arg);
}

/* Set only by linemode_run_on(), for the duration of one run. */
static struct loop *lm_shared_loop;
static linemode_done_cb *lm_done;
static void *lm_done_arg;
void
linemode_set_lesson(linemode_reply_cb *cb, void *arg, const char *prompt)
{
	lm_reply_hook = cb;
	lm_reply_arg = arg;
	lm_prompt = prompt;
}

static void
on_host_error(struct host *h, const char *msg, void *arg)
{
	struct lm *lm = arg;

	(void)h;
	if (lm->cbs.error != NULL)
		lm->cbs.error(msg, lm->cbs.arg);
}

/*
 * Makes lm's host on loop and opens the script: text[0..len) when text
 * is not NULL (replay), else o->script or stdin.  Returns -1 with
 * *errstr (a bad SERVER, a script that cannot be opened).
 */
static int
lm_open(struct lm *lm, const struct cli_opts *o, struct loop *loop,
    unsigned flags, const char *text, size_t len, char **errstr)
{
	struct host_cbs cbs = {
	    .event = on_event, .step = on_step, .error = on_host_error};

	lm->o = o;
	lm->loop = loop;
	cbs.arg = lm;
	lm->host = host_new(loop, o, flags, &cbs);
	lm->fd = -1;
	if (host_set_server(lm->host, o->server, errstr) == -1)
		return -1;
	if (text != NULL)
		lm->name = "replay script";
	else if (o->script == NULL || strcmp(o->script, "-") == 0) {
		lm->fd = STDIN_FILENO;
		lm->name = "stdin";
	} else if ((lm->fd = open(o->script, O_RDONLY | O_CLOEXEC)) == -1) {
		*errstr = xasprintf(
		    "cannot open script %s: %s", o->script, strerror(errno));
		return -1;
	} else
		lm->name = o->script;
	lm->tty = lm_prompt != NULL && lm->fd == STDIN_FILENO &&
	    isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	buf_init(&lm->in, text != NULL ? 0 : SCRIPT_LINE_MAX + 65536);
	if (text != NULL) {
		(void)buf_add(&lm->in, text, len);
		lm->eof = 1;
	}
	return 0;
}

/* Connects; returns 0 when the connection is under way. */
static int
lm_connect(struct lm *lm)
{
	char *err = NULL;
	int rc = host_connect(lm->host, NULL, &err);

	free(err); /* parsed before; a failure was an event */
	lm->helo = host_helo(lm->host);
	lm->client = host_client(lm->host);
	lm->session = host_session(lm->host);
	lm->rec = host_record(lm->host);
	lm->lang.client = lm->client;
	lm->lang.rec = lm->rec;
	return rc;
}

/* Frees what lm_open and lm_connect made (the loop stays). */
static void
lm_close(struct lm *lm)
{
	lang_reset(&lm->lang);
	free(lm->line);
	lm->line = NULL;
	buf_reset(&lm->in);
	if (lm->waiting_input)
		loop_fd_del(lm->loop, lm->fd);
	if (lm->prompt_timer != 0)
		loop_timer_del(lm->loop, lm->prompt_timer);
	lm->prompt_timer = 0;
	if (lm->fd != STDIN_FILENO && lm->fd != -1)
		(void)close(lm->fd);
	host_free(lm->host);
}

/*
 * Runs a session to its end: see lm_open for the script.  The session
 * is recorded (unless --no-history) with replay_of; *session_id gets its
 * history id (0 when not recorded) when not NULL.
 */
static int
lm_run(const struct cli_opts *o, const char *text, size_t len,
    int64_t replay_of, int64_t *session_id)
{
	struct lm lm;
	struct loop *loop =
	    lm_shared_loop != NULL ? lm_shared_loop : loop_new();
	char *err = NULL;
	int status;

	memset(&lm, 0, sizeof lm);
	/* Signals end the session only when the process is ours alone. */
	if (lm_open(&lm, o, loop,
	        HOST_PRINT | (loop != lm_shared_loop ? HOST_SIGNALS : 0), text,
	        len, &err) == -1) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		status = EXIT_USAGE;
		goto out;
	}
	host_record_spool(lm.host, session_id == NULL);
	host_set_replay_of(lm.host, replay_of);
	if (lm_connect(&lm) == 0)
		host_run(lm.host);

	status = host_exit_status(lm.host);
	host_flush(lm.host);
	if (o->json)
		host_print_json_summary(lm.host, status);
	host_end(lm.host, status);
	if (session_id != NULL)
		*session_id = host_session_id(lm.host);
	if (lm_done != NULL)
		lm_done(lm.session, lm_done_arg);
out:
	lm_close(&lm);
	if (loop != lm_shared_loop)
		loop_free(loop);
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
	lm_reply_hook = NULL;
	lm_reply_arg = NULL;
	lm_prompt = NULL;
	return rc;
}

struct linemode *
linemode_start(struct loop *loop, const struct cli_opts *o, struct hist *hist,
    const char *text, size_t len, int64_t replay_of,
    const struct linemode_cbs *cbs, char **errstr)
{
	struct linemode *l = xcalloc(1, sizeof *l);
	struct lm *lm = &l->lm;

	lm->async = 1;
	if (cbs != NULL)
		lm->cbs = *cbs;
	if (lm_open(lm, o, loop, 0, text, len, errstr) == -1) {
		lm_close(lm);
		free(l);
		return NULL;
	}
	host_record_into(lm->host, hist);
	host_set_replay_of(lm->host, replay_of);
	(void)lm_connect(lm); /* a failure: closed, over at the next step */
	return l;
}

void
linemode_before_sleep(struct linemode *l)
{
	if (!l->lm.done)
		host_before_sleep(l->lm.host);
}

void
linemode_cancel(struct linemode *l)
{
	if (l->lm.done)
		return;
	l->lm.script_over = 1;
	host_abort(l->lm.host, SIGINT);
}

int
linemode_is_done(const struct linemode *l)
{
	return l->lm.done;
}

void
linemode_free(struct linemode *l)
{
	if (l == NULL)
		return;
	lm_close(&l->lm);
	free(l);
}
