/*
 * The workbench's connection, on the session host (tui/host.h): connecting
 * (to a server, the practice server, or MX candidates in turn), the
 * session's events (recorded and counted by the host) into the dialogue,
 * the exchanges that span replies (/auth with its masked secret, /body),
 * what happens by itself between turns (EHLO again after TLS, the send
 * queue, leaving after QUIT), and how a session ends: QUIT, the server,
 * a cut by the user (aborted) or a signal (aborted).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/mx.h"
#include "protocol/lesson.h"
#include "protocol/practice.h"
#include "protocol/sasl.h"
#include "protocol/why.h"
#include "tui/cli.h"
#include "tui/host.h"
#include "tui/print.h"
#include "tui/rl.h"
#include "tui/wb.h"

static void
on_reply(struct wb *wb, const struct smtp_event *ev)
{
	const struct smtp_stage *st = ev->stage;
	char *err = NULL;

	if (st == NULL)
		return;
	if (lang_on_reply(&wb->conn.lang, ev, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
	}
	if (wb->snd.tx != NULL)
		wb_send_on_reply(wb, st, ev->reply->code);
	wb_learn_help_addresses(wb, ev);
	/* A SASL exchange typed by hand (not /auth, which answers by
	 * itself): say what the mechanism wants. */
	if (st->kind == SMTP_STAGE_AUTH && ev->reply->code == 334 &&
	    !wb->in.asking_secret && wb->conn.lang.sasl == NULL) {
		const char *prompt,
		    *what = smtp_why_sasl(wb->conn.session, &prompt);

		if (what != NULL)
			wb_note(wb, THEME_NOTE, "%s", what);
	}
	if (st->kind == SMTP_STAGE_TLS || st->kind == SMTP_STAGE_STARTTLS)
		wb->dirty = 1;
}

/* After the host recorded the event and counted its outcome. */
static void
on_event(struct host *h, const struct smtp_event *ev, void *arg)
{
	struct wb *wb = arg;

	(void)h;
	if (wb_dlg_event(wb, ev->t_us, ev))
		return;
	switch (ev->type) {
	case SMTP_EV_REPLY:
		on_reply(wb, ev);
		break;
	case SMTP_EV_CLOSED:
		wb_send_end(wb);
		if (wb->conn.leaving)
			break; /* /connect: the next session follows */
		wb_note(wb, THEME_NOTE,
		    "not connected: /connect SERVER for a new session, or "
		    "/quit");
		break;
	default:
		break;
	}
	if (ev->type == SMTP_EV_STAGE)
		wb->dirty = 1;
}

/* A new session: its parts are the host's. */
static void
on_attach(struct host *h, void *arg)
{
	struct wb *wb = arg;

	wb->conn.client = host_client(h);
	wb->conn.session = host_session(h);
	wb->conn.rec = host_record(h);
	wb->conn.lang.client = wb->conn.client;
	wb->conn.lang.rec = wb->conn.rec;
	memset(&wb->conn.hd, 0, sizeof wb->conn.hd);
}

void
wb_conn_hexdump(struct wb *wb, int on)
{
	wb->conn.hexdump = on;
	/* Offsets where the connection's streams are now. */
	if (on && wb->conn.session != NULL)
		smtp_session_wire_counts(
		    wb->conn.session, &wb->conn.hd.off[0], &wb->conn.hd.off[1]);
	if (wb->conn.host != NULL)
		host_set_wire(wb->conn.host, on);
}

/* /hexdump on: what the wire tap saw, as hex lines in the dialogue. */
static void
on_wire(struct host *h, const struct smtp_wire *w, void *arg)
{
	struct wb *wb = arg;
	struct buf b;
	const char *p, *nl;
	size_t left;

	(void)h;
	if (!wb->conn.hexdump)
		return;
	/* The dialogue pane is about half the screen: 8 octets a line. */
	wb->conn.hd.narrow = 1;
	buf_init(&b, 0);
	print_wire_lines(&wb->conn.hd, &b, w);
	p = buf_peek(&b);
	left = buf_used(&b);
	while (left > 0 && (nl = memchr(p, '\n', left)) != NULL) {
		wb_dlg_add(wb, w->t_us, 'x',
		    w->dir == SMTP_WIRE_OUT      ? THEME_CLIENT
		        : w->dir == SMTP_WIRE_IN ? THEME_SERVER_OTHER
		                                 : THEME_NOTE,
		    p, (size_t)(nl - p));
		left -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	buf_reset(&b);
}

/* An error the host recorded (a signal's, a cut's). */
static void
on_host_error(struct host *h, const char *msg, void *arg)
{
	(void)h;
	wb_note(arg, THEME_ERROR, "%s", msg);
}

static void
on_step(struct host *h, void *arg)
{
	(void)h;
	wb_auto_actions(arg);
}

int
wb_conn_start(struct wb *wb, const char *server, char **errstr)
{
	struct host_cbs cbs = {.attach = on_attach,
	    .event = on_event,
	    .step = on_step,
	    .wire = on_wire,
	    .error = on_host_error,
	    .arg = wb};

	wb->conn.host = host_new(wb->loop, wb->o, 0, &cbs);
	wb->conn.helo = host_helo(wb->conn.host);
	return server != NULL ? host_set_server(wb->conn.host, server, errstr)
	                      : 0;
}

/* QUIT is a command the session can take now: not during a message or
 * a BDAT chunk, a SASL exchange, a TLS handshake, or before the
 * greeting. */
static int
can_quit(const struct smtp_session *s)
{
	/* Inside a BDAT chunk QUIT would be chunk content. */
	if (smtp_session_chunk_left(s) > 0)
		return 0;
	switch (smtp_session_state(s)) {
	case SMTP_STATE_GREETED:
	case SMTP_STATE_READY:
	case SMTP_STATE_MAIL:
	case SMTP_STATE_RCPT:
	case SMTP_STATE_BDAT:
		return 1;
	default:
		return 0;
	}
}

/* 1 while the connection is open. */
static int
is_live(const struct wb *wb)
{
	return wb->conn.client != NULL &&
	    !smtp_client_is_closed(wb->conn.client);
}

void
wb_conn_abort(struct wb *wb, int signo)
{
	if (is_live(wb)) {
		host_abort(wb->conn.host, signo);
		return;
	}
	wb_note(wb, THEME_WARNING, "interrupted by %s",
	    signo == SIGTERM      ? "SIGTERM"
	        : signo == SIGHUP ? "SIGHUP"
	                          : "SIGINT");
}

void
wb_conn_cut(struct wb *wb, const char *why)
{
	char *note;

	if (!is_live(wb))
		return;
	/* As a Ctrl-C in line mode: 128 + SIGINT, "aborted"; the note
	 * that says why is recorded with the session. */
	host_fix_exit(wb->conn.host, 128 + SIGINT);
	note = xasprintf("the workbench closed the connection (%s)", why);
	smtp_session_close(wb->conn.session, note);
	free(note);
	smtp_client_close(wb->conn.client);
	wb->dirty = 1;
}

void
wb_conn_before_quit(struct wb *wb)
{
	char *why;

	if (is_live(wb) && !smtp_session_quit_sent(wb->conn.session) &&
	    !can_quit(wb->conn.session)) {
		why = xasprintf("/quit in state %s, where QUIT cannot be sent",
		    smtp_state_name(smtp_session_state(wb->conn.session)));
		wb_conn_cut(wb, why);
		free(why);
	}
}

void
wb_conn_end(struct wb *wb)
{
	if (wb->conn.client != NULL)
		host_end(wb->conn.host, host_exit_status(wb->conn.host));
	lang_reset(&wb->conn.lang);
	host_free(wb->conn.host);
	wb->conn.host = NULL;
	wb->conn.client = NULL;
	wb->conn.session = NULL;
	wb->conn.rec = NULL;
	practice_free(wb->conn.practice);
	wb->conn.practice = NULL;
}

static void
start_auth(
    struct wb *wb, const char *mech, const char *user, const char *secret)
{
	char *err = NULL;

	if (lang_auth_start(&wb->conn.lang, mech, user, secret, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
	}
}

void
wb_auth_ask(struct wb *wb, const char *mech, const char *user)
{
	const char *env;

	free(wb->conn.auth_user);
	wb->conn.auth_user = escape_dup(user, strlen(user));
	if ((env = lang_secret_env()) != NULL) {
		start_auth(wb, mech, user, env);
		return;
	}
	/* Ask for the secret on the input line, masked, not in history. */
	free(wb->in.secret_mech);
	free(wb->in.secret_user);
	wb->in.secret_mech = xstrdup(mech);
	wb->in.secret_user = xstrdup(user);
	wb->in.asking_secret = 1;
	{
		char *prompt = xasprintf("secret for %s (hidden, Enter "
		                         "sends, Ctrl-C cancels): ",
		    user);

		rl_glue_set_prompt(prompt);
		free(prompt);
	}
	wb_draw_set_mask(&wb->scr, 1);
}

void
wb_secret_entered(struct wb *wb, char *line)
{
	wb->in.asking_secret = 0;
	wb_draw_set_mask(&wb->scr, 0);
	if (line != NULL)
		start_auth(wb, wb->in.secret_mech, wb->in.secret_user, line);
	free(wb->in.secret_mech);
	free(wb->in.secret_user);
	wb->in.secret_mech = wb->in.secret_user = NULL;
}

/* Connects to server (NULL: the practice server, started on first
 * use); the host ends the last session, if any, with its outcome. */
static void
connect_now(struct wb *wb, const char *server)
{
	const char *cafile = NULL, *host, *port;
	char *err = NULL, *lmtp = NULL;

	wb->conn.on_practice = server == NULL;
	if (server == NULL) {
		/* A lesson with other server rules: a server with its rules
		 * (the old one has no session left: it was closed first). */
		if (wb->conn.practice != NULL &&
		    !lesson_server_same(
		        wb->conn.practice_lesson, wb->tool.lesson)) {
			practice_free(wb->conn.practice);
			wb->conn.practice = NULL;
		}
		if (wb->conn.practice == NULL) {
			struct practice_opts po;

			memset(&po, 0, sizeof po);
			po.listen = "127.0.0.1:0";
			po.quiet = 1;
			lesson_practice_opts(wb->tool.lesson, &po);
			wb->conn.practice_lesson = wb->tool.lesson;
			if (wb->conn.practice_dir == NULL)
				wb->conn.practice_dir =
				    practice_default_dir(&err);
			if (wb->conn.practice_dir == NULL) {
				wb_note(wb, THEME_ERROR, "%s", err);
				free(err);
				err = NULL;
			}
			po.datadir = wb->conn.practice_dir;
			wb->conn.practice = practice_new(wb->loop, &po, &err);
			if (wb->conn.practice == NULL) {
				wb_note(wb, THEME_ERROR,
				    "the practice server could not start: %s",
				    err);
				free(err);
				err = NULL;
			}
		}
		if (wb->conn.practice != NULL) {
			server = practice_address(wb->conn.practice);
			cafile = practice_cafile(wb->conn.practice);
			/* "server: lmtp": the learner speaks LMTP too. */
			if (wb->tool.lesson != NULL &&
			    wb->tool.lesson->server.lmtp)
				server = lmtp = xasprintf("lmtp://%s", server);
			wb_learn_practice_addresses(wb);
		} else
			server = "127.0.0.1:2525";
	}
	lang_reset(&wb->conn.lang);
	wb->conn.xclient_sent = wb->conn.ehlo_after_xclient = 0;
	host_set_tls(wb->conn.host, cafile, wb->conn.tls_name);
	wb->conn.t_start = loop_now_us();
	wb->in.stage_sel = 0;
	wb->in.stage_follow = 1;
	if (host_connect(wb->conn.host, server, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		free(lmtp);
		return;
	}
	free(err); /* a failure at once was an event */
	host = host_peer_host(wb->conn.host);
	port = host_peer_port(wb->conn.host);
	free(wb->conn.server_addr);
	wb->conn.server_addr = strchr(host, ':') != NULL
	    ? xasprintf("[%s]:%s", host, port)
	    : xasprintf("%s:%s", host, port);
	free(wb->conn.server_label);
	wb->conn.server_label = cafile != NULL
	    ? xasprintf("practice server %s", server)
	    : xstrdup(wb->conn.server_addr);
	free(lmtp);
	wb->dirty = 1;
}

/*
 * Leaving a live session for another (/connect): QUIT, the 221 awaited
 * (RFC 5321 4.1.1.10) at most LEAVE_WAIT_MS (or --timeout when shorter),
 * then the workbench closes the connection and says so; the next session
 * starts once the old one is closed and its record ended.
 */
#define LEAVE_WAIT_MS 3000

/* The workbench closes the connection of the session it leaves (after
 * QUIT: the session keeps its outcome). */
static void
leave_close(struct wb *wb, const char *why)
{
	char *note = xasprintf("the workbench closed the connection (%s)", why);

	smtp_session_close(wb->conn.session, note);
	free(note);
	smtp_client_close(wb->conn.client);
	wb->dirty = 1;
}

static void
on_leave_timeout(void *arg)
{
	struct wb *wb = arg;

	wb->conn.leave_timer = 0;
	if (wb->conn.leaving && !smtp_client_is_closed(wb->conn.client))
		leave_close(wb, "/connect: no reply to QUIT in time");
}

void
wb_connect(struct wb *wb, const char *server)
{
	struct smtp_session *s = wb->conn.session;
	int wait_ms = wb->o->timeout_ms > 0 && wb->o->timeout_ms < LEAVE_WAIT_MS
	    ? wb->o->timeout_ms
	    : LEAVE_WAIT_MS;
	char *err = NULL, *why;

	/* A SERVER that cannot be parsed leaves the session alone. */
	if (server != NULL &&
	    host_set_server(wb->conn.host, server, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return;
	}
	if (!is_live(wb)) {
		connect_now(wb, server);
		return;
	}
	free(wb->conn.next);
	wb->conn.next = server != NULL ? xstrdup(server) : NULL;
	if (wb->conn.leaving)
		return; /* already on its way out: only the target changes */
	wb->conn.leaving = 1;
	if (!smtp_session_quit_sent(s) && !can_quit(s)) {
		why = xasprintf("/connect, without QUIT: the session was in "
		                "state %s",
		    smtp_state_name(smtp_session_state(s)));
		wb_conn_cut(wb, why);
		free(why);
		return;
	}
	if (!smtp_session_quit_sent(s) &&
	    smtp_client_send(wb->conn.client, "QUIT", 4, &err) == -1) {
		why = xasprintf("/connect, QUIT not sent: %s", err);
		leave_close(wb, why);
		free(why);
		free(err);
		return;
	}
	wb->conn.leave_timer =
	    loop_timer_add(wb->loop, (uint64_t)wait_ms, on_leave_timeout, wb);
}

/* Once per turn while leaving: close after the 221, connect once closed. */
static void
leave_step(struct wb *wb)
{
	char *next;

	if (!smtp_client_is_closed(wb->conn.client) &&
	    smtp_session_server_closing(wb->conn.session) &&
	    smtp_session_pending(wb->conn.session) == 0)
		leave_close(wb, "/connect, after the reply to QUIT");
	if (!smtp_client_is_closed(wb->conn.client))
		return;
	if (wb->conn.leave_timer != 0)
		loop_timer_del(wb->loop, wb->conn.leave_timer);
	wb->conn.leave_timer = 0;
	wb->conn.leaving = 0;
	next = wb->conn.next;
	wb->conn.next = NULL;
	connect_now(wb, next);
	free(next);
}

/*
 * XCLIENT (issue 18): --xclient goes once, after the first EHLO that
 * offers it (after STARTTLS's with --starttls); its 220 brings EHLO
 * again (host_hello_due), as /xclient's does.
 */
static void
xclient_actions(struct wb *wb)
{
	struct smtp_session *s = wb->conn.session;
	char *cmd;

	if (s == NULL || smtp_client_is_busy(wb->conn.client))
		return;
	if (wb->o->xclient.n == 0 || wb->conn.xclient_sent ||
	    smtp_session_state(s) != SMTP_STATE_READY ||
	    !smtp_caps_has(smtp_session_caps(s), SMTP_CAP_XCLIENT) ||
	    (wb->o->starttls && !smtp_session_is_tls(s)))
		return;
	wb->conn.xclient_sent = 1;
	wb->conn.ehlo_after_xclient = 1;
	cmd = cli_xclient_line(wb->o);
	wb_send_or_note(wb, cmd);
	free(cmd);
}

/* After STARTTLS: EHLO again as soon as TLS is up (RFC 3207 4.2); after
 * XCLIENT's 220 likewise; --xclient after the first EHLO. */
void
wb_auto_actions(struct wb *wb)
{
	char *cmd;

	if (wb->conn.leaving && !wb->quitting)
		leave_step(wb);
	wb_queue_pump(wb);
	if (!smtp_client_is_busy(wb->conn.client) &&
	    (cmd = host_hello_due(wb->conn.host, &wb->conn.ehlo_after_tls,
	         &wb->conn.ehlo_after_xclient)) != NULL) {
		wb_send_or_note(wb, cmd);
		free(cmd);
	}
	xclient_actions(wb);
	if (wb->quitting &&
	    (smtp_client_is_closed(wb->conn.client) ||
	        !smtp_client_is_busy(wb->conn.client)))
		wb->done = 1;
}

/* Connects to the next MX candidate (RFC 5321 5.1 order). */
void
wb_mx_next(struct wb *wb)
{
	const struct smtp_mx_candidate *c;
	char *target;

	if (wb->conn.mxc == NULL || wb->conn.mx_next >= wb->conn.nmxc) {
		wb_note(wb, THEME_WARNING,
		    "no more MX candidates (/mx DOMAIN "
		    "looks them up again)");
		return;
	}
	c = &wb->conn.mxc[wb->conn.mx_next++];
	wb_note(wb, THEME_NOTE,
	    "MX candidate %zu of %zu: %s (preference %u) "
	    "at %s",
	    wb->conn.mx_next, wb->conn.nmxc, c->host, c->pref, c->addr);
	target = strchr(c->addr, ':') != NULL
	    ? xasprintf("[%s]:%s", c->addr, wb->conn.mx_port)
	    : xasprintf("%s:%s", c->addr, wb->conn.mx_port);
	free(wb->conn.tls_name);
	wb->conn.tls_name = xstrdup(c->host);
	wb_connect(wb, target);
	free(target);
}

void
wb_mx_free(struct wb *wb)
{
	free(wb->conn.mxc);
	wb->conn.mxc = NULL;
	smtp_mx_list_free(wb->conn.mx);
	wb->conn.mx = NULL;
	wb->conn.nmxc = wb->conn.mx_next = 0;
	free(wb->conn.mx_port);
	wb->conn.mx_port = NULL;
}

void
wb_mx_lookup(struct wb *wb, const char *arg)
{
	struct smtp_mx_resolver *r;
	char domain[256], *err = NULL;
	const char *colon = strrchr(arg, ':');
	size_t i, n = colon != NULL ? (size_t)(colon - arg) : strlen(arg);

	if (n == 0 || n >= sizeof domain) {
		wb_note(wb, THEME_ERROR, "/mx DOMAIN[:PORT]");
		return;
	}
	(void)snprintf(domain, sizeof domain, "%.*s", (int)n, arg);
	if (!smtp_mx_domain_valid(domain)) {
		wb_note(wb, THEME_ERROR, "\"%s\" is not a domain name", domain);
		return;
	}
	if ((r = smtp_mx_resolver_new(wb->o->dns, wb->o->timeout_ms, &err)) ==
	    NULL) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return;
	}
	wb_mx_free(wb);
	wb->conn.mx = smtp_mx_lookup(r, domain, &err);
	smtp_mx_resolver_free(r);
	if (wb->conn.mx == NULL) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return;
	}
	if (wb->conn.mx->null_mx) {
		wb_note(wb, THEME_WARNING,
		    "%s publishes a null MX (RFC 7505): "
		    "it accepts no mail",
		    domain);
		return;
	}
	for (i = 0; i < wb->conn.mx->nhosts; i++)
		wb_note(wb, THEME_NOTE, "MX %u %s%s%s",
		    wb->conn.mx->hosts[i].pref, wb->conn.mx->hosts[i].name,
		    wb->conn.mx->hosts[i].error ? ": " : "",
		    wb->conn.mx->hosts[i].error ? wb->conn.mx->hosts[i].error
		                                : "");
	if (wb->conn.mx->implicit)
		wb_note(wb, THEME_NOTE,
		    "no MX record: the domain's own address "
		    "is used (RFC 5321 5.1)");
	wb->conn.nmxc = smtp_mx_candidates(wb->conn.mx, &wb->conn.mxc);
	wb->conn.mx_port = xstrdup(colon != NULL ? colon + 1 : "25");
	wb_mx_next(wb);
}
