/*
 * The probe runner (tui/hostprobe.h): a protocol/probe.c step machine
 * driven over the session host.  The host makes each connection and
 * hands every event to the probe before the front end; once per loop
 * turn the probe sends what comes next, and when a connection has
 * closed the probe is detached and either gets a new connection (the
 * pipelining probe's early talker) or is over: the result goes to the
 * done callback.
 */
#include "tui/hostprobe.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "tui/cli.h"
#include "tui/host.h"

struct hostprobe {
	struct host *host;
	struct smtp_probe *probe;
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
}

static void
on_event(struct host *h, const struct smtp_event *ev, void *arg)
{
	struct hostprobe *hp = arg;

	(void)h;
	smtp_probe_event(hp->probe, ev);
	if (hp->cbs.event != NULL)
		hp->cbs.event(ev, hp->cbs.arg);
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
	host_free(hp->host);
	smtp_probe_free(hp->probe);
	free(hp);
}
