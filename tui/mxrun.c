/*
 * `ehlo run --mx DOMAIN[:PORT] [SCRIPT]`: line mode through a domain's
 * mail routing (RFC 5321 section 5.1).  The MX hosts are looked up
 * (protocol/mx.h), shown as "*:" notes in preference order, and tried
 * address by address: when a connection gives no greeting at all
 * (refused, unreachable, timed out, closed first) the next address is
 * tried; once a server has greeted, its session is the result, as a
 * client would deliver there.  TLS is verified against the MX host's
 * name, not the address connected to.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/mx.h"
#include "protocol/session.h"
#include "protocol/transport.h"
#include "tui/cli.h"
#include "tui/linemode.h"
#include "tui/print.h"

static void mx_note(const struct cli_opts *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* A "*:" line (or a JSON note) outside any session. */
static void
mx_note(const struct cli_opts *o, const char *fmt, ...)
{
	va_list ap;
	char *s, *e;
	struct print_json_ev ev;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	e = escape_dup(s, strlen(s));
	if (o->json) {
		print_json_ev_init(&ev);
		ev.type = "note";
		ev.dir = '*';
		ev.text = s;
		ev.len = strlen(s);
		print_json_put(print_json_event(&ev));
	} else
		(void)printf("%s*: %s\n", o->timing ? "   0.000 " : "", e);
	(void)fflush(stdout);
	free(e);
	free(s);
}

static void
show_list(const struct cli_opts *o, const struct smtp_mx_list *l)
{
	const struct smtp_mx_host *h;
	struct buf b;
	size_t i, j;

	if (l->implicit)
		mx_note(o,
		    "%s has no MX record: its own address is the implicit "
		    "MX (RFC 5321 5.1)",
		    l->domain);
	for (i = 0; i < l->nhosts; i++) {
		h = &l->hosts[i];
		buf_init(&b, 0);
		for (j = 0; j < h->naddrs; j++)
			(void)buf_add_printf(
			    &b, "%s%s", j > 0 ? ", " : "", h->addrs[j]);
		if (h->naddrs == 0)
			(void)buf_add_printf(&b, "no address: %s",
			    h->error != NULL ? h->error : "unknown");
		mx_note(o, "MX %u %s: %.*s", h->pref, h->name,
		    (int)buf_used(&b), buf_peek(&b));
		buf_reset(&b);
	}
}

/* linemode_done_cb: did this connection get a greeting? */
static void
on_done(const struct smtp_session *s, void *arg)
{
	const struct smtp_stage *st;
	int *greeted = arg;
	size_t i;

	for (i = 0; i < smtp_session_nstages(s); i++) {
		st = smtp_session_stage(s, i);
		if (st->kind == SMTP_STAGE_GREETING && st->code != 0)
			*greeted = 1;
	}
}

static int
try_candidates(const struct cli_opts *o, const char *port,
    const struct smtp_mx_candidate *c, size_t n)
{
	struct cli_opts o2;
	struct loop *loop = loop_new();
	char *server;
	int rc = EXIT_NETWORK, greeted;
	size_t i;

	for (i = 0; i < n; i++) {
		mx_note(o, "trying MX %u %s at %s port %s (%zu of %zu)",
		    c[i].pref, c[i].host, c[i].addr, port, i + 1, n);
		o2 = *o;
		o2.mx = NULL;
		server = xasprintf(
		    strchr(c[i].addr, ':') != NULL ? "[%s]:%s" : "%s:%s",
		    c[i].addr, port);
		o2.server = server;
		o2.tls_name = c[i].host;
		greeted = 0;
		rc = linemode_run_on(&o2, loop, on_done, &greeted);
		free(server);
		if (greeted)
			break;
		if (i + 1 < n)
			mx_note(o,
			    "no greeting from %s at %s: trying the next MX "
			    "address",
			    c[i].host, c[i].addr);
		else
			mx_note(o, "no MX host of %s answered", o->mx);
	}
	loop_free(loop);
	return rc;
}

int
mxrun_linemode(const struct cli_opts *o)
{
	struct smtp_mx_resolver *r;
	struct smtp_mx_list *l;
	struct smtp_mx_candidate *c;
	char *domain = NULL, *port = NULL, *err = NULL;
	size_t n;
	int rc;

	if (smtp_server_parse(o->mx, o->tls ? 465 : 25, &domain, &port, &err) ==
	    -1) {
		(void)fprintf(stderr, "ehlo: --mx: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	if (!smtp_mx_domain_valid(domain)) {
		free(domain);
		free(port);
		return cli_usage_error("--mx wants a domain name (DOMAIN or "
		                       "DOMAIN:PORT), not \"%s\"",
		    o->mx);
	}
	r = smtp_mx_resolver_new(
	    o->dns, o->timeout_ms < 5000 ? o->timeout_ms : 5000, &err);
	if (r == NULL) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		free(domain);
		free(port);
		return EXIT_USAGE;
	}
	mx_note(o, "MX lookup for %s via %s", domain, smtp_mx_resolver_name(r));
	l = smtp_mx_lookup(r, domain, &err);
	smtp_mx_resolver_free(r);
	if (l == NULL) {
		mx_note(o, "error: %s", err);
		(void)fprintf(stderr,
		    "ehlo: %s; check the name, or the resolver "
		    "(--dns SERVER[:PORT])\n",
		    err);
		free(err);
		free(domain);
		free(port);
		return EXIT_NETWORK;
	}
	if (l->null_mx) {
		mx_note(o,
		    "%s publishes a null MX (RFC 7505): it accepts no mail",
		    domain);
		rc = EXIT_REPLY;
	} else {
		show_list(o, l);
		n = smtp_mx_candidates(l, &c);
		if (n == 0) {
			mx_note(o, "error: no MX host of %s has an address",
			    domain);
			(void)fprintf(stderr,
			    "ehlo: no MX host of %s has an "
			    "address; nothing to connect to\n",
			    domain);
			rc = EXIT_NETWORK;
		} else
			rc = try_candidates(o, port, c, n);
		free(c);
	}
	smtp_mx_list_free(l);
	free(domain);
	free(port);
	return rc;
}
