/*
 * `ehlo send SERVER --from A --to B ... | --draft ID`: composes one
 * message (protocol/message.h) and delivers it in one watched session,
 * printing the dialogue as line mode does (tui/print.h).
 *
 * The session is a fixed sequence of phases, each started when the
 * client is idle (every reply in, every byte written): greeting, EHLO
 * (HELO when refused), STARTTLS when offered (required by --starttls,
 * never with --no-starttls) and EHLO again, AUTH when asked, then the
 * transaction as protocol/txn.h builds it: MAIL FROM with SIZE=,
 * BODY=8BITMIME, SMTPUTF8 and DSN parameters as offered and needed, one
 * RCPT per recipient (the whole envelope in one write under PIPELINING,
 * RFC 2920, else one line per reply), DATA, the message
 * streamed through the client in constant memory, and QUIT.  DATA is
 * never pipelined: the recipients' replies decide whether it is sent.
 *
 * Exit status: 0 when the server accepted the message for every
 * recipient (with --partial: for every accepted recipient, refused ones
 * listed); 1 when the server refused what delivery needs (the sender,
 * every recipient, some recipient without --partial, DATA, the message,
 * AUTH); 2 bad usage or a message that cannot be built; 3 network, TLS
 * (including STARTTLS required but not offered) or timeout.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/localfile.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/client.h"
#include "protocol/message.h"
#include "protocol/sasl.h"
#include "protocol/txn.h"
#include "tui/cli.h"
#include "tui/draft.h"
#include "tui/histcmd.h"
#include "tui/host.h"
#include "tui/lang.h"
#include "tui/print.h"
#include "tui/send_eml.h"

enum snd_phase {
	PH_GREETING,
	PH_EHLO,
	PH_HELO,
	PH_STARTTLS,
	PH_EHLO_TLS,
	PH_XCLIENT, /* --xclient (issue 18): XCLIENT sent */
	PH_EHLO_XCLIENT, /* EHLO after its 220, a new greeting */
	PH_AUTH,
	PH_MAIL, /* MAIL (and RCPTs) sent */
	PH_DATA, /* DATA sent; the content follows its 354 */
	PH_QUIT,
};

struct snd {
	const struct cli_opts *o;
	struct host *host; /* the session, its recording and outcome */
	/* the host's, for the session */
	struct smtp_client *client;
	struct smtp_session *session;
	const char *helo;
	enum snd_phase phase;
	int xclient_sent;
	struct lang lang; /* the AUTH exchange */

	struct smtp_message *msg;
	struct smtp_message_build *build;
	const struct smtp_message_info *info;
	struct smtp_txn_opts dsn; /* checked DSN values (the options') */

	/* the transaction */
	struct smtp_txn *txn; /* its command lines */
	int pipelined;
	size_t rcpt_replies; /* their replies seen */
	int *rcpt_code; /* per recipient */
	char **rcpt_text;
	int mail_code;
	int data_code;
	int msg_code; /* LMTP: the first refusal, else the last reply */
	size_t msg_ok; /* 2xx end-of-data replies (LMTP: one per rcpt) */
	int body_started;
	int delivered;

	int done;
};

static void snd_step(struct snd *);

static void snd_error(struct snd *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* stderr, the dialogue ("*: error:"), the history, the exit status. */
static void
snd_error(struct snd *s, int status, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	host_error(s->host, status, "%s", m);
	free(m);
}

static void
send_cmd(struct snd *s, const char *line)
{
	char *err = NULL;

	if (smtp_client_send(s->client, line, strlen(line), &err) == -1) {
		snd_error(s, EXIT_USAGE, "%s", err);
		free(err);
	}
}

static void
send_quit(struct snd *s)
{
	s->phase = PH_QUIT;
	if (!smtp_session_quit_sent(s->session) &&
	    !smtp_client_is_closed(s->client))
		send_cmd(s, "QUIT");
}

/* ---- AUTH ----------------------------------------------------------- */

static int
start_auth(struct snd *s)
{
	char *err = NULL;
	int rc = lang_auth_prompt(&s->lang, s->o->auth, s->o->user, &err);

	if (rc == -1) {
		snd_error(s, EXIT_USAGE, "%s", err);
		free(err);
	}
	return rc;
}

/* ---- the message ----------------------------------------------------- */

static ssize_t
message_read(void *arg, char *buf, size_t cap, char **errstr)
{
	return smtp_message_build_read(arg, buf, cap, errstr);
}

/* Sends the next envelope line (MAIL, then RCPTs); 0 when all went. */
static int
send_envelope_line(struct snd *s)
{
	const char *line = smtp_txn_next_envelope(s->txn, NULL);

	if (line == NULL)
		return 0;
	send_cmd(s, line);
	return 1;
}

/* Builds the message and the envelope for this server and sends it. */
static void
begin_txn(struct snd *s)
{
	const struct smtp_caps *caps = smtp_session_caps(s->session);
	const struct smtp_txn_warning *w;
	char *err = NULL;
	size_t i, nw;

	s->txn = smtp_txn_compose(caps, s->msg, &s->dsn, &s->build, &err);
	if (s->txn == NULL) {
		snd_error(s, EXIT_USAGE, "%s; nothing was sent", err);
		free(err);
		send_quit(s);
		return;
	}
	s->info = smtp_message_build_info(s->build);
	s->rcpt_code = xcalloc(s->info->nrcpts, sizeof *s->rcpt_code);
	s->rcpt_text = xcalloc(s->info->nrcpts, sizeof *s->rcpt_text);
	smtp_session_note(s->session,
	    "message: %llu octets, text %s, %zu attachment(s), %zu "
	    "recipient(s), Message-ID %s",
	    (unsigned long long)s->info->size,
	    smtp_message_cte_name(s->info->body_cte), s->info->nattach,
	    s->info->nrcpts, s->info->message_id);
	w = smtp_txn_warnings(s->txn, &nw);
	for (i = 0; i < nw; i++)
		smtp_session_warn(s->session, "%s",
		    w[i].kind == SMTP_TXN_WARN_NO_DSN
		        ? "the server does not offer DSN (RFC 3461): "
		          "--notify, --ret and --envid are left out"
		        : w[i].text);
	s->pipelined = smtp_caps_has(caps, SMTP_CAP_PIPELINING);
	s->phase = PH_MAIL;
	if (s->pipelined) {
		smtp_session_pipeline_begin(s->session);
		while (send_envelope_line(s))
			;
		smtp_session_pipeline_end(s->session);
		smtp_client_flush(s->client);
	} else
		(void)send_envelope_line(s);
}

/* Every envelope reply is in: DATA, or why not (smtp_txn_after_envelope). */
static void
envelope_done(struct snd *s)
{
	struct smtp_txn_data_step step;
	enum smtp_txn_next next;
	size_t i, ok;

	next = smtp_txn_after_envelope(s->txn, s->mail_code, s->rcpt_code, &ok);
	if (next == SMTP_TXN_NEXT_NO_SENDER) {
		snd_error(s, host_reply_exit(s->host),
		    "the server refused the sender (MAIL FROM, %d); the "
		    "message was not sent",
		    s->mail_code);
		send_quit(s);
		return;
	}
	for (i = 0; i < s->info->nrcpts; i++)
		if (s->rcpt_code[i] / 100 != 2)
			smtp_session_note(s->session, "refused: <%s> (%d %s)",
			    s->info->rcpts[i], s->rcpt_code[i],
			    s->rcpt_text[i] != NULL ? s->rcpt_text[i] : "");
	if (next == SMTP_TXN_NEXT_NO_RCPT) {
		snd_error(s, host_reply_exit(s->host),
		    "the server accepted none of the %zu recipient(s); the "
		    "message was not sent",
		    s->info->nrcpts);
		send_cmd(s, "RSET");
		send_quit(s);
		return;
	}
	if (next == SMTP_TXN_NEXT_REFUSED) {
		snd_error(s, host_reply_exit(s->host),
		    "%zu of %zu recipient(s) refused (listed above); the "
		    "message was not sent to anyone (--partial sends it to "
		    "the accepted ones)",
		    s->info->nrcpts - ok, s->info->nrcpts);
		send_cmd(s, "RSET");
		send_quit(s);
		return;
	}
	if (ok < s->info->nrcpts)
		smtp_session_note(s->session,
		    "--partial: sending to the %zu accepted recipient(s) "
		    "only; %zu refused",
		    ok, s->info->nrcpts - ok);
	s->phase = PH_DATA;
	(void)smtp_txn_data_next(s->txn, &step); /* DATA: never BDAT here */
	send_cmd(s, step.line);
}

static void
data_done(struct snd *s)
{
	size_t i, ok = 0;

	if (!s->body_started) {
		snd_error(s, host_reply_exit(s->host),
		    "the server refused DATA (%d); the message was not sent",
		    s->data_code);
		send_cmd(s, "RSET");
		send_quit(s);
		return;
	}
	if (s->msg_code / 100 != 2 && s->msg_ok > 0) {
		/* LMTP: each recipient answered the data on its own. */
		s->delivered = 1;
		snd_error(s, host_reply_exit(s->host),
		    "the server delivered the message to %zu recipient(s) and "
		    "refused it for the others after it was sent (%d)",
		    s->msg_ok, s->msg_code);
		send_quit(s);
		return;
	}
	if (s->msg_code / 100 != 2) {
		snd_error(s, host_reply_exit(s->host),
		    "the server refused the message after it was sent (%d); "
		    "it was not delivered",
		    s->msg_code);
		send_quit(s);
		return;
	}
	for (i = 0; i < s->info->nrcpts; i++)
		if (s->rcpt_code[i] / 100 == 2)
			ok++;
	s->delivered = 1;
	smtp_session_note(s->session,
	    "the server accepted the message for %zu recipient(s)", ok);
	send_quit(s);
}

/* ---- events --------------------------------------------------------- */

static void
on_reply(struct snd *s, const struct smtp_event *ev)
{
	const struct smtp_stage *st = ev->stage;
	int code = ev->reply->code;
	char *err = NULL;
	const char *text;
	size_t len;

	if (st == NULL)
		return;
	switch (st->kind) {
	case SMTP_STAGE_AUTH:
		if (lang_on_reply(&s->lang, ev, &err) == -1) {
			snd_error(s, EXIT_USAGE, "%s", err);
			free(err);
		}
		break;
	case SMTP_STAGE_MAIL:
		if (s->phase == PH_MAIL)
			s->mail_code = code;
		break;
	case SMTP_STAGE_RCPT:
		if (s->phase != PH_MAIL || s->info == NULL ||
		    s->rcpt_replies >= s->info->nrcpts)
			break;
		text = smtp_reply_line_text(&ev->reply->lines[0], 0, &len);
		s->rcpt_code[s->rcpt_replies] = code;
		s->rcpt_text[s->rcpt_replies] = escape_dup(text, len);
		s->rcpt_replies++;
		break;
	case SMTP_STAGE_DATA:
		if (s->phase != PH_DATA)
			break;
		s->data_code = code;
		if (code != 354)
			break;
		if (smtp_client_body_source(s->client, message_read, s->build,
		        "the composed message", &err) == -1) {
			snd_error(s, EXIT_USAGE, "%s", err);
			free(err);
			smtp_client_close(s->client);
			break;
		}
		s->body_started = 1;
		break;
	case SMTP_STAGE_MESSAGE:
		if (code / 100 == 2)
			s->msg_ok++;
		if (s->msg_code == 0 || s->msg_code / 100 == 2)
			s->msg_code = code;
		break;
	default:
		break;
	}
}

/* After the host recorded, printed and counted the event. */
static void
on_event(struct host *h, const struct smtp_event *ev, void *arg)
{
	(void)h;
	if (ev->type == SMTP_EV_REPLY)
		on_reply(arg, ev);
}

/* ---- the phases ------------------------------------------------------ */

static int
last_code(struct snd *s)
{
	const struct smtp_stage *st = smtp_session_last_reply(s->session);

	return st != NULL ? st->code : 0;
}

/*
 * The session ended before the message was accepted and nothing said
 * why yet: a 4xx/5xx (a 421 and the connection closed) is a refusal
 * (exit 1), anything else a connection that went away (exit 3).
 */
static void
closed_early(struct snd *s)
{
	struct host_result r;

	if (host_exit_fixed(s->host) != 0)
		return;
	host_result(s->host, host_exit_status(s->host), &r);
	if (r.code != 0)
		snd_error(s, host_reply_exit(s->host),
		    "the server ended the session with %d%s%s; nothing was "
		    "delivered",
		    r.code, r.enhanced[0] != '\0' ? " " : "", r.enhanced);
	else
		snd_error(s, EXIT_NETWORK,
		    "the connection closed before the server accepted the "
		    "message; nothing was delivered");
}

static void
send_ehlo(struct snd *s, enum snd_phase next)
{
	char *cmd = xasprintf("%s %s", host_hello_verb(s->host), s->helo);

	s->phase = next;
	send_cmd(s, cmd);
	free(cmd);
}

/* --xclient: XCLIENT when offered (its 220 brings EHLO again). */
static void
send_xclient(struct snd *s, const struct smtp_caps *caps)
{
	char *line, *err = NULL;
	int status = host_xclient_preamble(s->host, 0, &line, &err);

	(void)caps;
	if (status != 0) {
		snd_error(s, status, "%s", err);
		free(err);
		send_quit(s);
		return;
	}
	s->xclient_sent = 1;
	s->phase = PH_XCLIENT;
	send_cmd(s, line);
	free(line);
}

/* After a successful EHLO: STARTTLS, XCLIENT, AUTH or the transaction. */
static void
after_ehlo(struct snd *s)
{
	const struct smtp_caps *caps = smtp_session_caps(s->session);
	int tls = smtp_session_is_tls(s->session);

	if (!tls && !s->o->no_starttls && s->phase != PH_STARTTLS &&
	    !s->xclient_sent && smtp_caps_has(caps, SMTP_CAP_STARTTLS)) {
		s->phase = PH_STARTTLS;
		send_cmd(s, "STARTTLS");
		return;
	}
	if (!tls && s->o->starttls) {
		snd_error(s, EXIT_NETWORK,
		    "the server did not offer STARTTLS, which --starttls "
		    "requires; nothing else was sent (drop --starttls to send "
		    "in plain text)");
		send_quit(s);
		return;
	}
	if (s->o->xclient.n > 0 && !s->xclient_sent) {
		send_xclient(s, caps);
		return;
	}
	if (s->o->auth != NULL && !smtp_session_is_authenticated(s->session)) {
		s->phase = PH_AUTH;
		if (start_auth(s) == -1)
			send_quit(s);
		return;
	}
	begin_txn(s);
}

static void
phase_step(struct snd *s)
{
	enum smtp_state st = smtp_session_state(s->session);
	const struct smtp_caps *caps = smtp_session_caps(s->session);

	switch (s->phase) {
	case PH_GREETING:
		if (st != SMTP_STATE_GREETED)
			return;
		if (last_code(s) != 220) {
			snd_error(s, host_reply_exit(s->host),
			    "the server refused the session in its greeting "
			    "(%d); nothing was sent",
			    last_code(s));
			send_quit(s);
			return;
		}
		send_ehlo(s, PH_EHLO);
		return;
	case PH_XCLIENT:
		if (last_code(s) == 220 && st == SMTP_STATE_GREETED) {
			send_ehlo(s, PH_EHLO_XCLIENT);
			return;
		}
		snd_error(s, host_reply_exit(s->host),
		    "the server refused XCLIENT (%d), which --xclient asks "
		    "for; nothing was sent",
		    last_code(s));
		send_quit(s);
		return;
	case PH_EHLO:
	case PH_EHLO_TLS:
	case PH_EHLO_XCLIENT:
		if (caps->valid) {
			after_ehlo(s);
			return;
		}
		if (host_is_lmtp(s->host)) { /* LMTP has no HELO */
			snd_error(s, host_reply_exit(s->host),
			    "the server did not accept LHLO: is it an LMTP "
			    "server? (without --lmtp, lmtp:// or a socket path "
			    "ehlo speaks SMTP)");
			send_quit(s);
			return;
		}
		if (s->phase == PH_EHLO_TLS || s->phase == PH_EHLO_XCLIENT ||
		    s->o->starttls || s->o->auth != NULL ||
		    s->o->xclient.n > 0) {
			snd_error(s, host_reply_exit(s->host),
			    "the server did not accept EHLO; %s needs ESMTP",
			    s->phase == PH_EHLO_TLS   ? "sending after STARTTLS"
			        : s->o->xclient.n > 0 ? "--xclient"
			        : s->o->starttls      ? "--starttls"
			                              : "--auth");
			send_quit(s);
			return;
		}
		s->phase = PH_HELO;
		{
			char *cmd = xasprintf("HELO %s", s->helo);

			send_cmd(s, cmd);
			free(cmd);
		}
		return;
	case PH_HELO:
		if (last_code(s) / 100 != 2) {
			snd_error(s, host_reply_exit(s->host),
			    "the server accepted neither EHLO nor HELO; "
			    "nothing was sent");
			send_quit(s);
			return;
		}
		begin_txn(s);
		return;
	case PH_STARTTLS:
		if (smtp_session_is_tls(s->session)) {
			send_ehlo(s, PH_EHLO_TLS);
			return;
		}
		if (s->o->starttls) {
			snd_error(s, EXIT_NETWORK,
			    "the server refused STARTTLS (%d), which "
			    "--starttls requires; nothing else was sent",
			    last_code(s));
			send_quit(s);
			return;
		}
		smtp_session_note(s->session,
		    "STARTTLS was refused; going on without TLS "
		    "(--starttls makes this an error)");
		after_ehlo(s);
		return;
	case PH_AUTH:
		if (smtp_session_is_authenticated(s->session)) {
			begin_txn(s);
			return;
		}
		snd_error(s, host_reply_exit(s->host),
		    "authentication as %s failed; nothing else was sent",
		    s->o->user);
		send_quit(s);
		return;
	case PH_MAIL:
		if (!s->pipelined && s->mail_code / 100 == 2 &&
		    send_envelope_line(s))
			return;
		envelope_done(s);
		return;
	case PH_DATA:
		data_done(s);
		return;
	case PH_QUIT:
		if (!smtp_session_quit_sent(s->session))
			send_quit(s);
		return;
	}
}

static void
snd_step(struct snd *s)
{
	enum snd_phase before;
	size_t guard = 0;

	while (!s->done) {
		if (smtp_client_is_closed(s->client)) {
			s->done = 1;
			host_stop(s->host);
			return;
		}
		if (smtp_client_is_busy(s->client) ||
		    smtp_session_server_closing(s->session) ||
		    smtp_session_quit_sent(s->session))
			return;
		before = s->phase;
		phase_step(s);
		/* Nothing sent and no phase change: wait for the network. */
		if (!smtp_client_is_busy(s->client) && s->phase == before &&
		    ++guard > 1)
			return;
	}
}

/* The host's step: once per loop turn, before the output is shown. */
static void
on_step(struct host *h, void *arg)
{
	(void)h;
	snd_step(arg);
}

/* ---- setting up ------------------------------------------------------ */

/* The DSN options, checked before anything is sent (RFC 3461 4). */
static int
check_dsn(struct snd *s)
{
	const struct cli_opts *o = s->o;

	s->dsn.notify = o->notify;
	s->dsn.ret = o->ret;
	s->dsn.envid = o->envid;
	s->dsn.partial = o->partial;
	switch (smtp_txn_opts_check(&s->dsn)) {
	case SMTP_TXN_BAD_NOTIFY:
		return cli_usage_error("--notify wants NEVER or a list of "
		                       "SUCCESS, FAILURE and DELAY, e.g. "
		                       "--notify SUCCESS,FAILURE; not \"%s\"",
		    o->notify);
	case SMTP_TXN_BAD_RET:
		return cli_usage_error(
		    "--ret wants FULL or HDRS, not \"%s\"", o->ret);
	case SMTP_TXN_BAD_ENVID_EMPTY:
	case SMTP_TXN_BAD_ENVID_CHARS:
		return cli_usage_error("--envid wants printable ASCII");
	case SMTP_TXN_BAD_ENVID_LONG:
		return cli_usage_error("--envid is at most 100 characters "
		                       "(RFC 3461)");
	case SMTP_TXN_OK:
		break;
	}
	return 0;
}

static int
load_draft(const struct cli_opts *o, struct draft_msg *dm)
{
	struct hist *h;
	struct hist_draft *d;
	int64_t id;
	int missing;
	char *err = NULL, *end;

	errno = 0;
	id = strtoll(o->draft[0] == '#' ? o->draft + 1 : o->draft, &end, 10);
	if (errno != 0 || *end != '\0' || id <= 0)
		return cli_usage_error("--draft wants a draft number (see ehlo "
		                       "drafts), not \"%s\"",
		    o->draft);
	if ((h = histcmd_open(o, &missing)) == NULL) {
		if (missing)
			(void)fputs("ehlo: there are no drafts yet (no history "
			            "database)\n",
			    stderr);
		return EXIT_USAGE;
	}
	d = hist_draft_get(h, id, &err);
	hist_close(h);
	if (d == NULL) {
		if (err != NULL)
			(void)fprintf(stderr, "ehlo: %s\n", err);
		else
			(void)fprintf(stderr,
			    "ehlo: there is no draft #%lld (see ehlo drafts)\n",
			    (long long)id);
		free(err);
		return EXIT_USAGE;
	}
	if (draft_msg_load(dm, d, &err) == -1) {
		(void)fprintf(
		    stderr, "ehlo: draft #%lld: %s\n", (long long)id, err);
		free(err);
		hist_draft_free(d);
		return EXIT_USAGE;
	}
	hist_draft_free(d);
	return 0;
}

static void
print_summary(struct snd *s, int status)
{
	json_t *o = print_json_summary(status), *acc = json_array(),
	       *ref = json_array(), *r;
	size_t i;

	(void)json_object_set_new(o, "delivered", json_boolean(s->delivered));
	if (s->info != NULL) {
		(void)json_object_set_new(
		    o, "message_id", print_json_str(s->info->message_id));
		(void)json_object_set_new(
		    o, "size", json_integer((json_int_t)s->info->size));
		for (i = 0; i < s->info->nrcpts && i < s->rcpt_replies; i++) {
			const char *a = s->info->rcpts[i];

			if (s->rcpt_code[i] / 100 == 2) {
				(void)json_array_append_new(
				    acc, print_json_text(a, strlen(a)));
				continue;
			}
			r = json_object();
			(void)json_object_set_new(
			    r, "rcpt", print_json_text(a, strlen(a)));
			(void)json_object_set_new(
			    r, "code", json_integer(s->rcpt_code[i]));
			(void)json_array_append_new(ref, r);
		}
	}
	(void)json_object_set_new(o, "accepted", acc);
	(void)json_object_set_new(o, "refused", ref);
	print_json_put(o);
}

static int
snd_run(const struct cli_opts *o, struct smtp_message *msg)
{
	struct snd s;
	struct host_cbs cbs = {.event = on_event, .step = on_step};
	struct loop *loop = NULL;
	struct smtp_message_opts mo;
	struct smtp_message_build *probe;
	char *err = NULL;
	size_t i;
	int status, rc;

	memset(&s, 0, sizeof s);
	s.o = o;
	s.msg = msg;
	cbs.arg = &s;
	if (check_dsn(&s) != 0) {
		status = EXIT_USAGE;
		goto out;
	}
	/* Everything that can be checked without the server, first. */
	memset(&mo, 0, sizeof mo);
	mo.can_8bitmime = mo.can_smtputf8 = 1;
	if ((probe = smtp_message_build_new(msg, &mo, &err)) == NULL) {
		(void)fprintf(stderr, "ehlo: %s; nothing was sent\n", err);
		free(err);
		status = EXIT_USAGE;
		goto out;
	}
	smtp_message_build_free(probe);
	if (o->dry_run) {
		status = send_eml_dry_run(msg, o->json);
		goto out;
	}
	loop = loop_new();
	s.host =
	    host_new(loop, o, HOST_PRINT | HOST_SIGNALS | HOST_TLS_AHEAD, &cbs);
	host_record_spool(s.host, 1);
	if ((rc = host_connect(s.host, o->server, &err)) == -1) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		status = EXIT_USAGE;
		goto out;
	}
	free(err); /* a failure to connect was an event */
	s.helo = host_helo(s.host);
	s.client = host_client(s.host);
	s.session = host_session(s.host);
	s.lang.client = s.client;
	if (rc == 0)
		host_run(s.host);
	if (!s.delivered)
		closed_early(&s); /* said why, or the session ended early */
	status = host_exit_fixed(s.host);
	host_flush(s.host);
	if (o->json)
		print_summary(&s, status);
	host_end(s.host, status);
	lang_reset(&s.lang);
out:
	if (s.rcpt_text != NULL && s.info != NULL)
		for (i = 0; i < s.info->nrcpts; i++)
			free(s.rcpt_text[i]);
	smtp_message_build_free(s.build);
	free(s.rcpt_text);
	free(s.rcpt_code);
	smtp_txn_free(s.txn);
	host_free(s.host);
	if (loop != NULL)
		loop_free(loop);
	return status;
}

static const char send_usage[] =
    "usage: ehlo send [OPTIONS] SERVER --from A --to B [--to C ...] "
    "[--cc C]\n"
    "                 [--bcc D] [--subject S] [--body FILE|-] [--attach "
    "FILE ...]\n"
    "                 [--header 'Name: value'] [--partial] [--notify "
    "LIST]\n"
    "                 [--ret FULL|HDRS] [--envid ID]\n"
    "       ehlo send [OPTIONS] SERVER --draft ID\n"
    "       ehlo send [OPTIONS] SERVER --eml FILE|- [-t] [--from A] [--to B "
    "...]\n"
    "--eml sends a prepared RFC 5322 message as it is (line ends made "
    "CRLF); -t takes\n"
    "the recipients from its To, Cc and Bcc (Bcc removed); --dry-run "
    "prints the\n"
    "envelope and the message and connects to nothing (SERVER may be "
    "left out).\n"
    "Composes one message and delivers it, printing the dialogue.  "
    "Exit: 0 delivered,\n"
    "1 refused by the server (5xx), 75 refused for now (4xx), 2 bad usage "
    "or message,\n"
    "3 network or TLS failure.\n";

int
cmd_send(int argc, char *argv[])
{
	struct cli_opts o;
	struct smtp_message msg;
	struct draft_msg dm;
	int rc, body_fd = -1, have_draft = 0;

	rc = cli_parse(argc, argv,
	    CLI_O_CONN | CLI_O_JSON | CLI_O_TIMING | CLI_O_HISTORY | CLI_O_SEND,
	    &o);
	if (rc != 0) {
		cli_opts_free(&o);
		if (rc == 1) {
			(void)fputs(send_usage, stdout);
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.nargs == 0 && o.cfg_server != NULL)
		o.server = o.cfg_server; /* the account's host */
	else if (o.nargs == 0 && o.dry_run)
		o.server = NULL; /* nothing connects */
	else if (o.nargs != 1) {
		rc = o.nargs < 1 ? cli_usage_error("ehlo send needs a SERVER "
		                                   "(host, host:port or "
		                                   "[v6addr]:port, or -a "
		                                   "ACCOUNT with a host)")
		                 : cli_usage_error("unexpected argument \"%s\" "
		                                   "after the server",
		                       o.args[1]);
		cli_opts_free(&o);
		return rc;
	} else
		o.server = o.args[0];
	if (!o.dry_run && (rc = cli_connect_ready(&o)) != 0) {
		cli_opts_free(&o);
		return rc;
	}
	smtp_message_init(&msg);
	memset(&dm, 0, sizeof dm);
	/* The envelope's options (a draft brings its own). */
	msg.from = o.from;
	msg.to.v = o.to.v;
	msg.to.n = o.to.n;
	msg.cc.v = o.cc.v;
	msg.cc.n = o.cc.n;
	msg.bcc.v = o.bcc.v;
	msg.bcc.n = o.bcc.n;
	if (o.eml != NULL) {
		char *err = NULL;

		/* The one opener of local input (core/localfile.c). */
		if (strcmp(o.eml, "-") != 0)
			body_fd = localfile_open(
			    o.eml, "the message (--eml)", 0, NULL, &err);
		else if ((body_fd = localfile_spool(STDIN_FILENO,
		              "the message from standard input", 0, &err)) !=
		    -1)
			(void)lseek(body_fd, 0, SEEK_SET);
		if (body_fd == -1) {
			(void)fprintf(stderr, "ehlo: %s\n", err);
			free(err);
		}
		if (body_fd == -1 ||
		    (rc = send_eml_message(&o, &msg, body_fd)) != 0) {
			if (body_fd != -1)
				(void)close(body_fd);
			cli_opts_free(&o);
			return body_fd == -1 ? EXIT_USAGE : rc;
		}
	} else if (o.rcpts_from_headers) {
		cli_opts_free(&o);
		return cli_usage_error("-t takes the recipients from the "
		                       "message: use it with --eml FILE|-");
	} else if (o.draft != NULL) {
		if (o.from != NULL || o.to.n + o.cc.n + o.bcc.n > 0 ||
		    o.subject != NULL || o.body != NULL || o.attach.n > 0 ||
		    o.header.n > 0) {
			cli_opts_free(&o);
			return cli_usage_error(
			    "--draft takes the whole message from the draft; "
			    "leave out --from, --to, --cc, --bcc, --subject, "
			    "--body, --attach and --header");
		}
		if ((rc = load_draft(&o, &dm)) != 0) {
			draft_msg_free(&dm);
			cli_opts_free(&o);
			return rc;
		}
		have_draft = 1;
		msg = dm.msg;
	} else {
		if (o.from == NULL || o.to.n + o.cc.n + o.bcc.n == 0) {
			cli_opts_free(&o);
			return cli_usage_error(
			    "ehlo send needs --from ADDRESS and at least one "
			    "--to, --cc or --bcc (or --draft ID)");
		}
		msg.subject = o.subject;
		msg.headers.v = o.header.v;
		msg.headers.n = o.header.n;
		msg.attach.v = o.attach.v;
		msg.attach.n = o.attach.n;
		if (o.body != NULL && strcmp(o.body, "-") == 0) {
			char *err = NULL;

			body_fd = localfile_spool(STDIN_FILENO,
			    "the body from standard input", 0, &err);
			if (body_fd == -1) {
				(void)fprintf(stderr, "ehlo: %s\n", err);
				free(err);
				cli_opts_free(&o);
				return EXIT_USAGE;
			}
			msg.body_fd = body_fd;
		} else
			msg.body_path = o.body;
	}
	rc = snd_run(&o, &msg);
	if (body_fd != -1)
		(void)close(body_fd);
	if (have_draft)
		draft_msg_free(&dm);
	cli_opts_free(&o);
	return rc;
}
