/*
 * `ehlo check SERVER [-w MS] [-c MS] [--cert-days-warn N]
 * [--cert-days-crit N] [--starttls|--no-starttls|--tls]`: a monitoring
 * check in the monitoring-plugins convention (the one check_smtp
 * follows): one line "SMTP STATUS - text | perfdata" and exit 0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 *
 * The conversation: connect, greeting, EHLO, STARTTLS and EHLO again
 * when offered (unless --no-starttls; required with --starttls), QUIT.
 * Times come from the session's stages: connect, greeting (from
 * connected to the 220), tls (the handshake), total (from the start of
 * the connect to the reply to QUIT); -w/-c apply to total, in ms.
 * cert_days is the server certificate's days to expiry.  The
 * certificate is verified as everywhere else (--insecure, --cafile).
 * A stapled OCSP response is named in the text (", OCSP good"); one
 * that says the certificate is revoked is CRITICAL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/tlscheck.h"
#include "tui/cli.h"
#include "tui/host.h"

enum { CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN };

static const char *const status_names[] = {
    "OK", "WARNING", "CRITICAL", "UNKNOWN"};

struct chk {
	const struct cli_opts *o;
	struct host *host;
	struct smtp_client *client;
	struct smtp_session *session;
	int phase;
	size_t ehlo_ix, starttls_ix;
	char *failure; /* the session's failure text, if any */
	/* copied before the client is freed */
	int have_tls;
	char *tls_version;
	int verified;
	char *verify_error;
	int have_cert;
	long cert_days;
	int starttls_offered;
	enum smtp_ocsp_status ocsp; /* of a stapled response */
};

static void
on_event(struct host *h, const struct smtp_event *ev, void *arg)
{
	struct chk *c = arg;

	(void)h;
	if (ev->type == SMTP_EV_FAILURE && c->failure == NULL)
		c->failure = escape_dup(ev->text, ev->len);
}

static int
stage_code(const struct chk *c, size_t ix)
{
	const struct smtp_stage *st = smtp_session_stage(c->session, ix);

	return st != NULL ? st->code : 0;
}

static const struct smtp_stage *
find_stage(const struct smtp_session *s, enum smtp_stage_kind kind)
{
	const struct smtp_stage *st;
	size_t i;

	for (i = 0; i < smtp_session_nstages(s); i++) {
		st = smtp_session_stage(s, i);
		if (st->kind == kind)
			return st;
	}
	return NULL;
}

static size_t
send_cmd(struct chk *c, const char *line)
{
	char *err = NULL;

	if (smtp_client_send(c->client, line, strlen(line), &err) == -1) {
		free(err);
		smtp_client_close(c->client);
		return SIZE_MAX;
	}
	return smtp_session_nstages(c->session) - 1;
}

static void
quit(struct chk *c)
{
	c->phase = 9;
	(void)send_cmd(c, "QUIT");
}

static void
tick(struct host *h, void *arg)
{
	struct chk *c = arg;
	const struct smtp_stage *g;
	const struct smtp_caps *caps;
	char *line;

	if (smtp_client_is_closed(c->client)) {
		host_stop(h);
		return;
	}
	if (smtp_client_is_busy(c->client) ||
	    smtp_session_server_closing(c->session) ||
	    smtp_session_quit_sent(c->session) ||
	    smtp_session_state(c->session) == SMTP_STATE_GREETING ||
	    smtp_session_state(c->session) == SMTP_STATE_CONNECTING)
		return;
	g = find_stage(c->session, SMTP_STAGE_GREETING);
	if (g == NULL || g->code / 100 != 2) {
		quit(c);
		return;
	}
	caps = smtp_session_caps(c->session);
	switch (c->phase) {
	case 2:
		/* After the handshake the session is greeted again. */
		if (!smtp_session_is_tls(c->session)) {
			quit(c);
			break;
		}
		FALLTHROUGH;
	case 0:
		line = xasprintf("EHLO %s", host_helo(h));
		c->ehlo_ix = send_cmd(c, line);
		free(line);
		c->phase = c->phase == 0 ? 1 : 3;
		break;
	case 1:
		c->starttls_offered = smtp_caps_has(caps, SMTP_CAP_STARTTLS);
		if (stage_code(c, c->ehlo_ix) / 100 != 2 || c->o->tls ||
		    c->o->no_starttls || !c->starttls_offered) {
			quit(c);
			break;
		}
		c->starttls_ix = send_cmd(c, "STARTTLS");
		c->phase = 2;
		break;
	default:
		quit(c);
		break;
	}
}

static double
stage_ms(const struct smtp_stage *st)
{
	if (st == NULL || st->t_end_us < st->t_start_us || st->t_end_us == 0)
		return -1;
	return (double)(st->t_end_us - st->t_start_us) / 1000.0;
}

static void add_problem(struct buf *, int *status, int level, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
add_problem(struct buf *b, int *status, int level, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	(void)buf_add_printf(b, "%s%s", buf_used(b) > 0 ? ", " : "", s);
	free(s);
	if (level > *status)
		*status = level;
}

/* "12.3ms;W;C;0" with empty thresholds when not given. */
static void
perf(struct buf *b, const char *label, double ms, long w, long cr)
{
	if (ms < 0)
		return;
	(void)buf_add_printf(b, " %s=%.3fms;", label, ms);
	if (w >= 0)
		(void)buf_add_printf(b, "%ld", w);
	(void)buf_add_str(b, ";");
	if (cr >= 0)
		(void)buf_add_printf(b, "%ld", cr);
	(void)buf_add_str(b, ";0");
}

static int
report(struct chk *c, const char *server)
{
	const struct cli_opts *o = c->o;
	const struct smtp_session *s = c->session;
	const struct smtp_stage *conn, *greet, *tls, *q, *last;
	struct buf msg, pd;
	double total = -1;
	int status = CHECK_OK;
	size_t i;

	conn = find_stage(s, SMTP_STAGE_CONNECT);
	greet = find_stage(s, SMTP_STAGE_GREETING);
	tls = find_stage(s, SMTP_STAGE_TLS);
	q = find_stage(s, SMTP_STAGE_QUIT);
	last = NULL;
	for (i = 0; i < smtp_session_nstages(s); i++)
		if (smtp_session_stage(s, i)->t_end_us != 0)
			last = smtp_session_stage(s, i);
	if (q != NULL && q->code != 0)
		last = q;
	if (last != NULL && conn != NULL && greet != NULL && greet->code != 0)
		total = (double)(last->t_end_us - conn->t_start_us) / 1000.0;

	buf_init(&msg, 0);
	buf_init(&pd, 0);
	if (greet == NULL || greet->code == 0)
		add_problem(&msg, &status, CHECK_CRITICAL, "%s",
		    c->failure != NULL ? c->failure
		                       : "no greeting from the server");
	else {
		if (greet->code / 100 != 2)
			add_problem(&msg, &status, CHECK_CRITICAL,
			    "greeting %d %s", greet->code, greet->text);
		else if (c->ehlo_ix != SIZE_MAX &&
		    stage_code(c, c->ehlo_ix) != 0 &&
		    stage_code(c, c->ehlo_ix) / 100 != 2)
			add_problem(&msg, &status, CHECK_CRITICAL,
			    "EHLO answered %d", stage_code(c, c->ehlo_ix));
		if (c->failure != NULL)
			add_problem(
			    &msg, &status, CHECK_CRITICAL, "%s", c->failure);
		if (o->starttls && !c->have_tls && c->failure == NULL &&
		    !c->starttls_offered)
			add_problem(&msg, &status, CHECK_CRITICAL,
			    "STARTTLS not offered, which --starttls requires");
		else if (o->starttls && !c->have_tls && c->failure == NULL)
			add_problem(&msg, &status, CHECK_CRITICAL,
			    "STARTTLS refused (%d)",
			    stage_code(c, c->starttls_ix));
		else if (!o->tls && !o->no_starttls && c->starttls_offered &&
		    !c->have_tls && c->failure == NULL)
			add_problem(&msg, &status, CHECK_WARNING,
			    "STARTTLS offered but refused (%d)",
			    stage_code(c, c->starttls_ix));
	}
	if (c->have_tls && !c->verified)
		add_problem(&msg, &status, CHECK_OK, "%s", c->verify_error);
	if (c->have_tls && c->ocsp == SMTP_OCSP_REVOKED)
		add_problem(&msg, &status, CHECK_CRITICAL,
		    "the stapled OCSP response says the certificate is "
		    "revoked");
	if (c->have_cert) {
		if (c->cert_days < 0)
			add_problem(&msg, &status, CHECK_CRITICAL,
			    "certificate expired");
		else if (o->cert_days_crit >= 0 &&
		    c->cert_days < o->cert_days_crit)
			add_problem(&msg, &status, CHECK_CRITICAL,
			    "certificate expires in %ld days (critical: %ld)",
			    c->cert_days, o->cert_days_crit);
		else if (o->cert_days_warn >= 0 &&
		    c->cert_days < o->cert_days_warn)
			add_problem(&msg, &status, CHECK_WARNING,
			    "certificate expires in %ld days (warning: %ld)",
			    c->cert_days, o->cert_days_warn);
	}
	if (total >= 0 && o->crit_ms >= 0 && total > (double)o->crit_ms)
		add_problem(&msg, &status, CHECK_CRITICAL,
		    "%.1f ms > %ld ms (critical)", total, o->crit_ms);
	else if (total >= 0 && o->warn_ms >= 0 && total > (double)o->warn_ms)
		add_problem(&msg, &status, CHECK_WARNING,
		    "%.1f ms > %ld ms (warning)", total, o->warn_ms);

	/* The facts after the problems. */
	if (greet != NULL && greet->code / 100 == 2) {
		char *t = escape_dup(greet->text, greet->text_len);

		(void)buf_add_printf(&msg, "%s%s: %d %.60s",
		    buf_used(&msg) > 0 ? "; " : "", server, greet->code, t);
		free(t);
		if (c->have_tls)
			(void)buf_add_printf(&msg, ", %s%s",
			    o->tls ? "" : "STARTTLS ", c->tls_version);
		if (c->have_cert) {
			char days[64];

			smtp_tls_days_text(c->cert_days, days, sizeof days);
			(void)buf_add_printf(&msg, ", certificate %s, %s",
			    c->verified ? "verified" : "not verified", days);
		}
		if (c->have_tls && c->ocsp != SMTP_OCSP_NONE)
			(void)buf_add_printf(
			    &msg, ", OCSP %s", smtp_tls_ocsp_name(c->ocsp));
		if (total >= 0)
			(void)buf_add_printf(&msg, ", %.1f ms", total);
	}

	perf(&pd, "connect",
	    conn != NULL && conn->state == SMTP_ST_OK ? stage_ms(conn) : -1, -1,
	    -1);
	perf(&pd, "greeting", stage_ms(greet), -1, -1);
	if (c->have_tls)
		perf(&pd, "tls", stage_ms(tls), -1, -1);
	perf(&pd, "total", total, o->warn_ms, o->crit_ms);
	if (c->have_cert) {
		(void)buf_add_printf(&pd, " cert_days=%ld;", c->cert_days);
		if (o->cert_days_warn >= 0)
			(void)buf_add_printf(&pd, "%ld", o->cert_days_warn);
		(void)buf_add_str(&pd, ";");
		if (o->cert_days_crit >= 0)
			(void)buf_add_printf(&pd, "%ld", o->cert_days_crit);
		(void)buf_add_str(&pd, ";;");
	}
	(void)printf("SMTP %s - %.*s%s%.*s\n", status_names[status],
	    (int)buf_used(&msg), buf_peek(&msg), buf_used(&pd) > 0 ? " |" : "",
	    (int)buf_used(&pd), buf_peek(&pd));
	buf_reset(&msg);
	buf_reset(&pd);
	return status;
}

static int unknown(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
unknown(const char *fmt, ...)
{
	va_list ap;

	(void)fputs("SMTP UNKNOWN - ", stdout);
	va_start(ap, fmt);
	(void)vprintf(fmt, ap);
	va_end(ap);
	(void)fputc('\n', stdout);
	return CHECK_UNKNOWN;
}

static int
run_check(const struct cli_opts *o, const char *server)
{
	struct chk c;
	struct host_cbs cbs = {.event = on_event, .step = tick};
	struct loop *loop = loop_new();
	const struct smtp_tls_info *ti;
	char *err = NULL, *label;
	const char *host;
	int status;

	memset(&c, 0, sizeof c);
	c.o = o;
	c.ehlo_ix = c.starttls_ix = SIZE_MAX;
	cbs.arg = &c;
	c.host = host_new(loop, o, HOST_TLS_AHEAD, &cbs);
	if (host_connect(c.host, server, &err) != 0) {
		/* A bad SERVER, or resolution failed: nothing measured. */
		status = unknown("%s", err);
		free(err);
		goto out;
	}
	c.client = host_client(c.host);
	c.session = host_session(c.host);
	host_run(c.host);
	ti = smtp_client_tls_info(c.client);
	if (ti != NULL) {
		/* A refused certificate is shown, but no TLS was used. */
		c.have_tls = !ti->refused;
		c.tls_version = xstrdup(ti->version);
		c.verified = ti->verified;
		c.verify_error = smtp_tls_verify_summary(ti);
		c.ocsp = ti->ocsp_status;
		if (ti->nchain > 0) {
			c.have_cert = 1;
			c.cert_days = ti->chain[0].days_left;
		}
	}
	host = host_peer_host(c.host);
	label = xasprintf(strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s", host,
	    host_peer_port(c.host));
	status = report(&c, label);
	free(label);
out:
	host_free(c.host);
	loop_free(loop);
	free(c.failure);
	free(c.tls_version);
	free(c.verify_error);
	return status;
}

int
cmd_check(int argc, char *argv[])
{
	struct cli_opts o;
	int rc;

	rc = cli_parse(argc, argv, CLI_O_CONN | CLI_O_CHECK, &o);
	if (rc != 0) {
		cli_opts_free(&o);
		if (rc == 1) {
			(void)puts(
			    "usage: ehlo check SERVER [-w MS] [-c MS] "
			    "[--cert-days-warn N] [--cert-days-crit N]\n"
			    "                  [--starttls|--no-starttls|--tls] "
			    "[--insecure] [--cafile FILE] [--timeout S]\n"
			    "Monitoring-plugin check: connect, EHLO, STARTTLS "
			    "when offered, QUIT.\n"
			    "-w/-c: total time thresholds in milliseconds; "
			    "--cert-days-*: days to expiry.\n"
			    "Prints 'SMTP STATUS - text | perfdata'; exit 0 "
			    "OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.");
			return CHECK_OK;
		}
		return CHECK_UNKNOWN;
	}
	if (o.nargs != 1) {
		cli_opts_free(&o);
		return unknown("ehlo check needs exactly one SERVER (host, "
		               "host:port or [v6addr]:port)");
	}
	if (o.auth != NULL) {
		cli_opts_free(&o);
		return unknown("ehlo check does not authenticate; drop --auth");
	}
	if (o.warn_ms >= 0 && o.crit_ms >= 0 && o.warn_ms > o.crit_ms) {
		cli_opts_free(&o);
		return unknown(
		    "-w (%ld ms) is above -c (%ld ms)", o.warn_ms, o.crit_ms);
	}
	rc = run_check(&o, o.args[0]);
	cli_opts_free(&o);
	return rc;
}
