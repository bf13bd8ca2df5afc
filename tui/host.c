/*
 * The session host (tui/host.h): owns one watched session at a time on
 * the caller's loop, from SERVER to teardown, and reconnects on demand.
 * Its data: the options it was made with, the current client and its
 * recorder, and the outcome so far (4xx/5xx replies counted, the last
 * one and the one before it kept so /expect can take the last back, the
 * first fixed exit status, the failure category, the signal).
 *
 * Every session event goes, in this order, to the recorder, to stdout
 * (HOST_PRINT), to the outcome, then to the front end: nothing shown is
 * unrecorded.
 */
#include "tui/host.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/mx.h"
#include "protocol/transport.h"
#include "tui/cli.h"
#include "tui/print.h"
#include "tui/record.h"

enum host_rec { REC_NONE, REC_OPEN, REC_INTO };

struct host {
	struct loop *loop;
	const struct cli_opts *o;
	struct smtp_dane *dane; /* --dane: the TLSA records of the server */
	unsigned flags;
	struct host_cbs cbs;
	/* --helo, the FQDN, or (helo_literal) the local end's address
	 * literal, set for each server: callers keep the pointer */
	char helo[300];
	int helo_literal;
	struct print_opts po;

	/* how sessions are recorded */
	enum host_rec rec_mode;
	int rec_spool;
	struct hist *hist;
	int64_t replay_of;
	char *cafile, *tls_name;

	/* the current session */
	char *host, *port;
	int lmtp; /* --lmtp or an LMTP SERVER (issue 18) */
	int wire_on; /* host_set_wire */
	struct smtp_client *client;
	struct smtp_session *session;
	struct record *rec;
	int ended;
	int running;
	int64_t session_id;

	/* its outcome so far */
	int failed_replies;
	int last_counted;
	int code, prev_code;
	char enhanced[16], prev_enhanced[16];
	enum smtp_fail category;
	int signo;
	int exit_fixed;
};

static void helo_literal(struct host *);

static void
on_term_signal(int signo, void *arg)
{
	host_abort(arg, signo);
}

struct host *
host_new(struct loop *loop, const struct cli_opts *o, unsigned flags,
    const struct host_cbs *cbs)
{
	struct host *h = xcalloc(1, sizeof *h);
	char *fqdn;

	h->loop = loop;
	h->o = o;
	h->flags = flags;
	if (cbs != NULL)
		h->cbs = *cbs;
	if ((fqdn = o->helo != NULL ? xstrdup(o->helo) : cli_default_helo(o)) !=
	    NULL)
		(void)snprintf(h->helo, sizeof h->helo, "%s", fqdn);
	else {
		h->helo_literal = 1;
		(void)snprintf(h->helo, sizeof h->helo, "[127.0.0.1]");
	}
	free(fqdn);
	h->po.json = o->json;
	h->po.timing = o->timing;
	h->host = xstrdup("");
	h->port = xstrdup("");
	if (flags & HOST_SIGNALS) {
		(void)loop_signal_add(loop, SIGTERM, on_term_signal, h);
		(void)loop_signal_add(loop, SIGHUP, on_term_signal, h);
	}
	return h;
}

void
host_record_spool(struct host *h, int spool)
{
	h->rec_mode = REC_OPEN;
	h->rec_spool = spool;
}

void
host_record_into(struct host *h, struct hist *hist)
{
	h->rec_mode = hist != NULL ? REC_INTO : REC_NONE;
	h->hist = hist;
}

void
host_set_replay_of(struct host *h, int64_t id)
{
	h->replay_of = id;
}

void
host_set_tls(struct host *h, const char *cafile, const char *name)
{
	free(h->cafile);
	free(h->tls_name);
	h->cafile = cafile != NULL ? xstrdup(cafile) : NULL;
	h->tls_name = name != NULL ? xstrdup(name) : NULL;
}

/* ---- the outcome ------------------------------------------------------ */

void
host_fix_exit(struct host *h, int status)
{
	if (h->exit_fixed == 0)
		h->exit_fixed = status;
}

int
host_exit_fixed(const struct host *h)
{
	return h->exit_fixed;
}

int
host_failed_replies(const struct host *h)
{
	return h->failed_replies;
}

static void
count_reply(struct host *h, const struct smtp_event *ev)
{
	h->last_counted = 0;
	if (ev->reply->code < 400)
		return;
	h->failed_replies++;
	h->last_counted = 1;
	h->prev_code = h->code;
	memcpy(h->prev_enhanced, h->enhanced, sizeof h->enhanced);
	h->code = ev->reply->code;
	memcpy(h->enhanced, ev->reply->enhanced, sizeof h->enhanced);
	h->enhanced[sizeof h->enhanced - 1] = '\0';
}

void
host_reply_expected(struct host *h)
{
	if (!h->last_counted)
		return;
	h->failed_replies--;
	h->last_counted = 0;
	h->code = h->prev_code;
	memcpy(h->enhanced, h->prev_enhanced, sizeof h->enhanced);
	h->prev_code = 0;
	h->prev_enhanced[0] = '\0';
}

int
host_reply_exit(const struct host *h)
{
	return h->code / 100 == 4 ? EXIT_TEMPFAIL : EXIT_REPLY;
}

int
host_exit_status(const struct host *h)
{
	if (h->exit_fixed != 0)
		return h->exit_fixed;
	return h->failed_replies > 0 ? host_reply_exit(h) : EXIT_OK;
}

enum host_outcome
host_outcome_of(int exit_status, int code)
{
	if (exit_status == EXIT_OK)
		return HOST_OUTCOME_OK;
	if (exit_status == EXIT_TEMPFAIL)
		return HOST_OUTCOME_TEMPFAIL;
	if (exit_status == EXIT_REPLY) /* 4xx: recorded before exit 75 */
		return code / 100 == 4 ? HOST_OUTCOME_TEMPFAIL
		                       : HOST_OUTCOME_FAILED;
	if (exit_status == EXIT_USAGE)
		return HOST_OUTCOME_BAD_INPUT;
	if (exit_status == EXIT_NETWORK)
		return HOST_OUTCOME_NETWORK;
	if (exit_status > 128)
		return HOST_OUTCOME_ABORTED;
	return HOST_OUTCOME_FAILED;
}

void
host_result(const struct host *h, int exit_status, struct host_result *r)
{
	memset(r, 0, sizeof *r);
	r->exit_status = exit_status;
	r->outcome = host_outcome_of(exit_status, h->code);
	switch (r->outcome) {
	case HOST_OUTCOME_FAILED:
	case HOST_OUTCOME_TEMPFAIL:
		r->code = h->code;
		memcpy(r->enhanced, h->enhanced, sizeof r->enhanced);
		break;
	case HOST_OUTCOME_NETWORK:
		r->category = h->category;
		break;
	case HOST_OUTCOME_ABORTED:
		r->signo = h->signo != 0 ? h->signo : exit_status - 128;
		break;
	default:
		break;
	}
}

const char *
host_outcome_words(
    int exit_status, int code, const char *enhanced, char *buf, size_t len)
{
	const char *what;

	if (exit_status < 0) {
		(void)snprintf(buf, len, "unfinished");
		return buf;
	}
	if (enhanced == NULL)
		enhanced = "";
	switch (host_outcome_of(exit_status, code)) {
	case HOST_OUTCOME_OK:
		what = "ok";
		break;
	case HOST_OUTCOME_FAILED:
	case HOST_OUTCOME_TEMPFAIL:
		what = code / 100 == 4 ? "temporary failure" : "failed";
		if (code >= 400 && code <= 599)
			(void)snprintf(buf, len, "%s %d%s%s", what, code,
			    enhanced[0] != '\0' ? " " : "", enhanced);
		else
			(void)snprintf(buf, len, "%s", what);
		return buf;
	case HOST_OUTCOME_BAD_INPUT:
		what = "bad input";
		break;
	case HOST_OUTCOME_NETWORK:
		what = "network error";
		break;
	case HOST_OUTCOME_ABORTED:
		what = "aborted";
		break;
	default:
		what = "other";
		break;
	}
	(void)snprintf(buf, len, "%s", what);
	return buf;
}

/* ---- events --------------------------------------------------------- */

static void
on_event(const struct smtp_event *ev, void *arg)
{
	struct host *h = arg;
	char *e;

	record_event(h->rec, ev); /* first: nothing shown goes unrecorded */
	if (h->flags & HOST_PRINT)
		print_event(&h->po, ev);
	switch (ev->type) {
	case SMTP_EV_REPLY:
		count_reply(h, ev);
		break;
	case SMTP_EV_FAILURE:
		if (h->category == 0)
			h->category = ev->category;
		if (h->flags & HOST_PRINT) {
			record_flush(h->rec);
			(void)fflush(stdout);
			e = escape_dup(ev->text, ev->len);
			(void)fprintf(stderr, "ehlo: %s\n", e);
			free(e);
		}
		host_fix_exit(h, EXIT_NETWORK);
		break;
	default:
		break;
	}
	if (h->cbs.event != NULL)
		h->cbs.event(h, ev, h->cbs.arg);
}

/* The wire tap (--hexdump, the workbench's /hexdump). */
static void
on_wire(const struct smtp_wire *w, void *arg)
{
	struct host *h = arg;

	if ((h->flags & HOST_PRINT) && h->o->hexdump)
		print_wire(&h->po, w);
	if (h->cbs.wire != NULL)
		h->cbs.wire(h, w, h->cbs.arg);
}

/*
 * An error in line-mode output: recorded first (and committed), then
 * "ehlo: MSG" on stderr and, unless json, "*: error: MSG" on stdout,
 * escaped.  rec may be NULL.
 */
static void
line_error(struct record *rec, int json, const char *msg)
{
	char *e = escape_dup(msg, strlen(msg));

	record_error(rec, msg);
	record_flush(rec); /* what stdout holds goes out now */
	(void)fflush(stdout);
	(void)fprintf(stderr, "ehlo: %s\n", e);
	if (!json)
		(void)printf("*: error: %s\n", e);
	free(e);
}

void
host_error(struct host *h, int status, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	if (h->flags & HOST_PRINT)
		line_error(h->rec, h->o->json, m);
	else {
		record_error(h->rec, m);
		if (h->cbs.error != NULL)
			h->cbs.error(h, m, h->cbs.arg);
	}
	free(m);
	host_fix_exit(h, status);
}

void
host_abort(struct host *h, int signo)
{
	h->signo = signo;
	host_error(h, 128 + signo, "interrupted by %s: the session was closed",
	    signo == SIGHUP       ? "SIGHUP"
	        : signo == SIGINT ? "Ctrl-C"
	                          : "SIGTERM");
	if (h->session != NULL)
		smtp_session_close(
		    h->session, "the workbench closed the connection");
	if (h->client != NULL)
		smtp_client_close(h->client);
	if (h->running)
		loop_stop(h->loop);
}

/* ---- the session's life --------------------------------------------- */

static void
reset_outcome(struct host *h)
{
	h->failed_replies = h->last_counted = 0;
	h->code = h->prev_code = 0;
	h->enhanced[0] = h->prev_enhanced[0] = '\0';
	h->category = 0;
	h->signo = 0;
	h->exit_fixed = 0;
}

static void
drop_session(struct host *h)
{
	if (h->client == NULL)
		return;
	if (!h->ended)
		host_end(h, host_exit_status(h));
	smtp_client_free(h->client);
	h->client = NULL;
	h->session = NULL;
	h->po.session = NULL;
}

int
host_set_server(struct host *h, const char *server, char **errstr)
{
	char *host = NULL, *port = NULL;

	if (server == NULL)
		server = h->o->server;
	h->lmtp = h->o->lmtp || smtp_server_is_lmtp(server);
	if (smtp_server_parse(server,
	        h->o->cfg_port != 0 ? h->o->cfg_port
	            : h->o->tls     ? 465
	            : h->lmtp       ? 24 /* LMTP's usual port */
	                            : 25,
	        &host, &port, errstr) == -1)
		return -1;
	free(h->host);
	free(h->port);
	h->host = host;
	h->port = port;
	if (h->helo_literal)
		helo_literal(h);
	return 0;
}

/* --dane: the TLSA records of _PORT._tcp.HOST, before connecting. */
static int
host_dane_lookup(struct host *h, char **errstr)
{
	struct smtp_mx_resolver *r;

	smtp_dane_free(h->dane);
	h->dane = NULL;
	if (!h->o->dane)
		return 0;
	if ((r = smtp_mx_resolver_new(h->o->dns, h->o->timeout_ms, errstr)) ==
	    NULL)
		return -1;
	h->dane = smtp_dane_lookup(
	    r, h->tls_name != NULL ? h->tls_name : h->host, h->port, errstr);
	smtp_mx_resolver_free(r);
	return h->dane != NULL ? 0 : -1;
}

int
host_connect(struct host *h, const char *server, char **errstr)
{
	struct smtp_client_opts co;
	const struct cli_opts *o = h->o;

	if ((server != NULL || h->host[0] == '\0') &&
	    host_set_server(h, server, errstr) == -1)
		return -1;
	drop_session(h);
	reset_outcome(h);
	h->session_id = 0;
	if (host_dane_lookup(h, errstr) == -1)
		return -1;
	cli_client_opts(o, h->host, h->port, &co);
	co.tls.dane = h->dane;
	if (h->flags & HOST_TLS_AHEAD) {
		co.tls_ahead = !o->no_starttls; /* upgraded when offered */
		/* Not asked for: Postfix's "may" level (issue 20). */
		co.tls.opportunistic = !o->starttls && !o->tls;
	}
	if (h->cafile != NULL)
		co.tls.cafile = h->cafile;
	if (h->tls_name != NULL)
		co.tls.verify_name = h->tls_name;
	h->client = smtp_client_new(h->loop, &co, on_event, h);
	h->session = smtp_client_session(h->client);
	smtp_session_set_lmtp(h->session, h->lmtp);
	h->po.session = h->session;
	memset(&h->po.hexdump, 0, sizeof h->po.hexdump);
	if (((h->flags & HOST_PRINT) && o->hexdump) || h->wire_on)
		smtp_session_wire_tap(h->session, on_wire, h);
	if (h->rec_mode == REC_OPEN) {
		h->rec = record_open(o->db, o->no_history, h->rec_spool);
		if (h->flags & HOST_PRINT)
			record_watch_stdout(h->rec);
	} else if (h->rec_mode == REC_INTO)
		h->rec = record_new(h->hist);
	record_begin(h->rec, h->host, (int)strtol(h->port, NULL, 10),
	    o->tls            ? "tls"
	        : o->starttls ? "starttls"
	                      : "plain",
	    h->replay_of);
	record_attach(h->rec, h->session, h->client);
	record_no_content(h->rec, o->no_content);
	h->ended = 0;
	if (h->cbs.attach != NULL)
		h->cbs.attach(h, h->cbs.arg);
	if (smtp_client_connect(h->client, errstr) == -1)
		return 1; /* a FAILURE event told too */
	return 0;
}

void
host_flush(struct host *h)
{
	record_flush(h->rec);
}

/*
 * Once per loop turn: run what became runnable, then show it, but only
 * once what it shows is committed (a crash loses nothing that was
 * shown); printed rows are committed every RECORD_BATCH_MS at most.
 */
void
host_before_sleep(struct host *h)
{
	if (h->cbs.step != NULL)
		h->cbs.step(h, h->cbs.arg);
	if (!(h->flags & HOST_PRINT)) {
		record_flush(h->rec);
		return;
	}
	if (record_flush_due(h->rec, h->loop))
		return;
	(void)fflush(stdout);
}

static void
before_sleep(void *arg)
{
	host_before_sleep(arg);
}

void
host_run(struct host *h)
{
	h->running = 1;
	loop_set_before_sleep(h->loop, before_sleep, h);
	if (loop_run(h->loop) == -1) {
		/* Nothing left to wait for, or poll() failed: never hang. */
		if (h->client != NULL)
			smtp_client_close(h->client);
		host_fix_exit(h, EXIT_NETWORK);
	}
	loop_set_before_sleep(h->loop, NULL, NULL);
	h->running = 0;
}

void
host_stop(struct host *h)
{
	if (h->running)
		loop_stop(h->loop);
}

void
host_end(struct host *h, int exit_status)
{
	if (h->client == NULL || h->ended)
		return;
	h->ended = 1;
	record_flush(h->rec);
	if (h->flags & HOST_PRINT)
		(void)fflush(stdout);
	record_end(h->rec, exit_status);
	h->session_id = record_session_id(h->rec);
	record_free(h->rec);
	h->rec = NULL;
}

void
host_free(struct host *h)
{
	if (h == NULL)
		return;
	drop_session(h);
	smtp_dane_free(h->dane);
	free(h->host);
	free(h->port);
	free(h->cafile);
	free(h->tls_name);
	free(h);
}

/* ---- accessors -------------------------------------------------------- */

struct smtp_client *
host_client(struct host *h)
{
	return h->client;
}

struct smtp_session *
host_session(struct host *h)
{
	return h->session;
}

struct record *
host_record(struct host *h)
{
	return h->rec;
}

const char *
host_helo(const struct host *h)
{
	return h->helo;
}

void
host_set_wire(struct host *h, int on)
{
	h->wire_on = on && h->cbs.wire != NULL;
	if (h->session != NULL && !((h->flags & HOST_PRINT) && h->o->hexdump))
		smtp_session_wire_tap(
		    h->session, h->wire_on ? on_wire : NULL, h);
}

int
host_is_lmtp(const struct host *h)
{
	return h->lmtp;
}

const char *
host_hello_verb(const struct host *h)
{
	return h->lmtp ? "LHLO" : "EHLO";
}

/*
 * The address literal of the local end towards host:port: "[192.0.2.1]"
 * or "[IPv6:2001:db8::1]".  A UDP socket connected there asks the
 * kernel for the source address it would use; nothing is sent.
 */
static void
helo_literal(struct host *h)
{
	struct sockaddr_storage ss, dst;
	socklen_t len = sizeof ss, dlen = 0;
	char addr[INET6_ADDRSTRLEN];
	const char *to = h->host, *port = h->port;
	int fd = -1;

	if (h->o->source != NULL) { /* --source: that is the local end */
		(void)snprintf(h->helo, sizeof h->helo,
		    strchr(h->o->source, ':') != NULL ? "[IPv6:%s]" : "[%s]",
		    h->o->source);
		return;
	}
	/* Through a proxy the local end faces the proxy, and the server's
	 * name is not looked up here. */
	(void)cli_net_proxy(&to, &port);
	/* Bounded like every lookup: a dead resolver must not hang ehlo. */
	if (smtp_dns_first_addr(
	        to, port, h->o->dns, h->o->timeout_ms, &dst, &dlen) == -1)
		return;
	if ((fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1 &&
	    connect(fd, (struct sockaddr *)&dst, dlen) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET &&
		    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		        addr, sizeof addr) != NULL)
			(void)snprintf(h->helo, sizeof h->helo, "[%s]", addr);
		else if (ss.ss_family == AF_INET6 &&
		    inet_ntop(AF_INET6,
		        &((struct sockaddr_in6 *)&ss)->sin6_addr, addr,
		        sizeof addr) != NULL)
			(void)snprintf(
			    h->helo, sizeof h->helo, "[IPv6:%s]", addr);
	}
	if (fd != -1)
		(void)close(fd);
}

char *
host_hello_after_xclient(const struct host *h)
{
	const struct smtp_stage *st =
	    h->session != NULL ? smtp_session_last_reply(h->session) : NULL;
	char *name, *cmd;

	if (st == NULL || st->kind != SMTP_STAGE_XCLIENT || st->code != 220 ||
	    smtp_session_state(h->session) != SMTP_STATE_GREETED)
		return NULL;
	name = host_helo_again(h);
	cmd = xasprintf("%s %s", host_hello_verb(h), name);
	free(name);
	return cmd;
}

char *
host_hello_due(const struct host *h, int *after_tls, int *after_xclient)
{
	char *name, *cmd;

	if (*after_tls && smtp_session_is_tls(h->session) &&
	    smtp_session_state(h->session) == SMTP_STATE_GREETED) {
		*after_tls = 0;
		name = host_helo_again(h);
		cmd = xasprintf("%s %s", host_hello_verb(h), name);
		free(name);
		return cmd;
	}
	if (!*after_xclient)
		return NULL;
	*after_xclient = 0;
	return host_hello_after_xclient(h);
}

int
host_xclient_accepted(const struct host *h)
{
	const struct smtp_stage *st;
	size_t i;

	for (i = 0; h->session != NULL && i < smtp_session_nstages(h->session);
	     i++) {
		st = smtp_session_stage(h->session, i);
		if (st->kind == SMTP_STAGE_XCLIENT && st->code == 220)
			return 1;
	}
	return 0;
}

int
host_xclient_preamble(
    const struct host *h, int sent, char **line, char **errstr)
{
	*line = NULL;
	if (sent) {
		*errstr = xstrdup("the server refused XCLIENT, which "
		                  "--xclient asks for; nothing else was sent");
		return host_reply_exit(h);
	}
	if (!smtp_caps_has(smtp_session_caps(h->session), SMTP_CAP_XCLIENT)) {
		*errstr = xstrdup("the server did not offer XCLIENT, which "
		                  "--xclient needs; nothing else was sent "
		                  "(Postfix offers it only to "
		                  "smtpd_authorized_xclient_hosts)");
		return EXIT_NETWORK;
	}
	*line = cli_xclient_line(h->o);
	return 0;
}

void
host_print_json_summary(const struct host *h, int status)
{
	json_t *o, *t;
	const struct smtp_tls_info *ti = smtp_client_tls_info(h->client);
	const struct smtp_caps *caps = smtp_session_caps(h->session);
	size_t i;

	o = print_json_summary(status);
	(void)json_object_set_new(
	    o, "failed_replies", json_integer(host_failed_replies(h)));
	if (caps->valid) {
		t = json_array();
		for (i = 0; i < caps->ncaps; i++)
			(void)json_array_append_new(t,
			    print_json_text(caps->caps[i].keyword,
			        strlen(caps->caps[i].keyword)));
		(void)json_object_set_new(o, "capabilities", t);
	}
	if (ti != NULL)
		(void)json_object_set_new(o, "tls", print_json_tls(ti));
	print_json_put(o);
}

char *
host_helo_again(const struct host *h)
{
	const struct smtp_stage *st;
	const char *p;
	size_t i, n;

	for (i = h->session != NULL ? smtp_session_nstages(h->session) : 0;
	     i-- > 0;) {
		st = smtp_session_stage(h->session, i);
		if ((st->kind != SMTP_STAGE_EHLO &&
		        st->kind != SMTP_STAGE_HELO) ||
		    st->command == NULL)
			continue;
		p = st->command + strcspn(st->command, " \t");
		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n > 0)
			return xstrndup(p, n);
	}
	return xstrdup(h->helo);
}

const char *
host_peer_host(const struct host *h)
{
	return h->host;
}

const char *
host_peer_port(const struct host *h)
{
	return h->port;
}

int64_t
host_session_id(const struct host *h)
{
	return h->session_id;
}
