/*
 * The probe runner (tui/hostprobe.h): a protocol/probe.c step machine
 * driven over the session host.  The host makes each connection and
 * hands every event to the probe before the front end; once per loop
 * turn the probe sends what comes next, and when a connection has
 * closed the probe is detached and either gets a new connection (the
 * pipelining probe's early talker) or is over: the result goes to the
 * done callback.
 *
 * With --starttls or --auth a preamble sets each connection up first,
 * as line mode's does: EHLO, STARTTLS and EHLO again, AUTH (through
 * tui/lang.c, the secret from EHLO_PASSWORD or the terminal); the probe
 * then reuses that EHLO.  A step of it that fails ends the probe with
 * "failed" and the reason, after QUIT.
 */
#include "tui/hostprobe.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/caps.h"
#include "tui/cli.h"
#include "tui/host.h"
#include "tui/lang.h"

/* Where the preamble of the current connection is. */
enum pre_phase {
	PRE_START, /* nothing sent */
	PRE_EHLO, /* EHLO sent in plain text */
	PRE_STARTTLS, /* STARTTLS sent */
	PRE_EHLO_TLS, /* EHLO sent after TLS */
	PRE_AUTH, /* AUTH begun */
	PRE_DONE, /* over (or not wanted): the probe's turn */
};

struct hostprobe {
	struct host *host;
	struct smtp_probe *probe;
	const struct cli_opts *o;
	struct lang lang; /* --auth's exchange */
	enum pre_phase pre;
	struct hostprobe_cbs cbs;
	int started; /* the first connection was made */
	int attached;
	int done;
};

static void
on_attach(struct host *h, void *arg)
{
	struct hostprobe *hp = arg;

	hp->attached = 1;
	smtp_probe_attach(hp->probe, host_client(h));
	lang_reset(&hp->lang);
	hp->lang.client = host_client(h);
	hp->pre = (hp->o->starttls || hp->o->auth != NULL) &&
	        smtp_probe_wants_preamble(hp->probe)
	    ? PRE_START
	    : PRE_DONE;
}

static void
on_event(struct host *h, const struct smtp_event *ev, void *arg)
{
	struct hostprobe *hp = arg;
	char *err = NULL;

	(void)h;
	smtp_probe_event(hp->probe, ev);
	if (hp->cbs.event != NULL)
		hp->cbs.event(ev, hp->cbs.arg);
	if (hp->pre == PRE_AUTH && ev->type == SMTP_EV_REPLY &&
	    lang_on_reply(&hp->lang, ev, &err) == -1) {
		smtp_probe_abandon(hp->probe, err);
		free(err);
	}
}

static void
on_error(struct host *h, const char *msg, void *arg)
{
	struct hostprobe *hp = arg;

	(void)h;
	if (hp->cbs.error != NULL)
		hp->cbs.error(msg, hp->cbs.arg);
}

static void
finish(struct hostprobe *hp)
{
	struct smtp_probe_result r;

	hp->done = 1;
	host_stop(hp->host);
	smtp_probe_result(hp->probe, &r);
	if (hp->cbs.done != NULL)
		hp->cbs.done(&r, hp->cbs.arg);
	smtp_probe_result_free(&r);
}

/* Connects to the server parsed at the start. */
static void
connect_again(struct hostprobe *hp)
{
	char *err = NULL;

	if (host_connect(hp->host, NULL, &err) != 0)
		free(err); /* the failure was an event; the client is closed */
}

/* The preamble cannot go on: no verdict, and QUIT. */
static void
pre_abandon(struct hostprobe *hp, const char *reason)
{
	smtp_probe_abandon(hp->probe, reason);
	hp->pre = PRE_DONE;
}

static void
pre_send(struct hostprobe *hp, enum pre_phase next, const char *line)
{
	char *err = NULL;

	hp->pre = next;
	if (smtp_client_send(host_client(hp->host), line, strlen(line), &err) ==
	    -1) {
		pre_abandon(hp, err);
		free(err);
	}
}

/* After an EHLO: STARTTLS, AUTH, or the probe's turn. */
static void
pre_after_ehlo(struct hostprobe *hp)
{
	struct smtp_session *s = host_session(hp->host);
	char *err = NULL;

	if (!smtp_session_caps(s)->valid) {
		pre_abandon(hp,
		    "the server did not accept EHLO; --starttls and --auth "
		    "need ESMTP");
		return;
	}
	if (hp->o->starttls && !smtp_session_is_tls(s)) {
		if (!smtp_caps_has(smtp_session_caps(s), SMTP_CAP_STARTTLS))
			pre_abandon(hp,
			    "the server did not offer STARTTLS, which "
			    "--starttls requires; nothing was tested");
		else
			pre_send(hp, PRE_STARTTLS, "STARTTLS");
		return;
	}
	if (hp->o->auth != NULL && !smtp_session_is_authenticated(s)) {
		hp->pre = PRE_AUTH;
		if (lang_auth_prompt(
		        &hp->lang, hp->o->auth, hp->o->user, &err) == -1) {
			pre_abandon(hp, err);
			free(err);
		}
		return;
	}
	hp->pre = PRE_DONE;
}

/*
 * The next preamble action when the connection is idle; 1 while the
 * preamble is not over.
 */
static int
preamble(struct hostprobe *hp)
{
	struct smtp_client *c = host_client(hp->host);
	struct smtp_session *s = host_session(hp->host);
	const struct smtp_stage *last = smtp_session_last_reply(s);
	char *line;

	if (hp->pre == PRE_DONE)
		return 0;
	if (smtp_client_is_closed(c))
		return 1;
	if (smtp_client_is_busy(c) ||
	    smtp_session_state(s) < SMTP_STATE_GREETED ||
	    smtp_session_state(s) == SMTP_STATE_TLS ||
	    smtp_session_state(s) == SMTP_STATE_AUTH)
		return 1;
	switch (hp->pre) {
	case PRE_START:
		if (last == NULL || last->code / 100 != 2) {
			/* A refusing greeting: the probe leaves. */
			hp->pre = PRE_DONE;
			return 0;
		}
		line = xasprintf("EHLO %s", host_helo(hp->host));
		pre_send(hp, PRE_EHLO, line);
		free(line);
		break;
	case PRE_EHLO:
	case PRE_EHLO_TLS:
		pre_after_ehlo(hp);
		break;
	case PRE_STARTTLS:
		if (!smtp_session_is_tls(s)) {
			line = xasprintf("the server refused STARTTLS (%d), "
			                 "which --starttls requires; nothing "
			                 "was tested",
			    last != NULL ? last->code : 0);
			pre_abandon(hp, line);
			free(line);
			break;
		}
		line = xasprintf("EHLO %s", host_helo(hp->host));
		pre_send(hp, PRE_EHLO_TLS, line);
		free(line);
		break;
	case PRE_AUTH:
		if (smtp_session_is_authenticated(s))
			hp->pre = PRE_DONE;
		else {
			line = xasprintf("authentication as %s failed; "
			                 "nothing was tested",
			    hp->o->user != NULL ? hp->o->user : "?");
			pre_abandon(hp, line);
			free(line);
		}
		break;
	case PRE_DONE:
		break;
	}
	return hp->pre != PRE_DONE;
}

static void
on_step(struct host *h, void *arg)
{
	struct hostprobe *hp = arg;

	if (hp->done)
		return;
	if (!hp->started) {
		/* The first connection, from the loop: the front end has
		 * had its say before the dialogue begins. */
		hp->started = 1;
		connect_again(hp);
	}
	/* Closed: the next connection, or the end (a connection that
	 * failed at once leaves nothing for the loop to wait for). */
	while (
	    host_client(h) == NULL || smtp_client_is_closed(host_client(h))) {
		hp->attached = 0;
		if (smtp_probe_detach(hp->probe) == 0) {
			finish(hp);
			return;
		}
		connect_again(hp);
	}
	if (preamble(hp))
		return;
	smtp_probe_step(hp->probe);
}

struct hostprobe *
hostprobe_start(struct loop *loop, const struct cli_opts *o, const char *name,
    const char *server, const struct hostprobe_cbs *cbs, char **errstr)
{
	struct host_cbs hc = {.attach = on_attach,
	    .event = on_event,
	    .step = on_step,
	    .error = on_error};
	struct smtp_probe_params pp;
	struct hostprobe *hp = xcalloc(1, sizeof *hp);

	if (cbs != NULL)
		hp->cbs = *cbs;
	hp->o = o;
	hp->pre = PRE_DONE;
	hc.arg = hp;
	hp->host = host_new(loop, o, 0, &hc);
	if (host_set_server(hp->host, server, errstr) == -1) {
		hostprobe_free(hp);
		return NULL;
	}
	memset(&pp, 0, sizeof pp);
	pp.helo = host_helo(hp->host);
	pp.from = o->from;
	pp.rcpt = o->to.n > 0 ? o->to.v[0] : NULL;
	pp.port = (int)strtol(host_peer_port(hp->host), NULL, 10);
	pp.tls = o->tls;
	pp.loop = loop;
	if ((hp->probe = smtp_probe_new(name, &pp, errstr)) == NULL) {
		hostprobe_free(hp);
		return NULL;
	}
	return hp;
}

void
hostprobe_before_sleep(struct hostprobe *hp)
{
	if (!hp->done)
		host_before_sleep(hp->host);
}

void
hostprobe_run(struct hostprobe *hp)
{
	while (!hp->done) /* a cancel stops the loop before the end */
		host_run(hp->host);
}

void
hostprobe_cancel(struct hostprobe *hp)
{
	if (hp->done)
		return;
	smtp_probe_cancel(hp->probe);
	if (!hp->started) {
		hp->started = 1; /* nothing to close: over next turn */
		return;
	}
	host_abort(hp->host, SIGINT);
}

int
hostprobe_is_done(const struct hostprobe *hp)
{
	return hp->done;
}

void
hostprobe_result(const struct hostprobe *hp, struct smtp_probe_result *out)
{
	smtp_probe_result(hp->probe, out);
}

void
hostprobe_free(struct hostprobe *hp)
{
	if (hp == NULL)
		return;
	if (hp->attached)
		(void)smtp_probe_detach(hp->probe);
	lang_reset(&hp->lang);
	host_free(hp->host);
	smtp_probe_free(hp->probe);
	free(hp);
}
