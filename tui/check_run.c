/*
 * One `ehlo check` conversation and its verdict, as a run on an event
 * loop the caller drives, so that one check (cmd_check.c) and a fleet
 * (check_fleet.c) share it.  The options are in check_opts.c, the
 * printing in check_output.c.
 *
 * The conversation: connect, greeting (which must contain -e's text),
 * EHLO, STARTTLS and EHLO again when offered (unless --no-starttls;
 * required with -S or -D), AUTH (-A), MAIL FROM (-f), each -C command
 * (its reply must match the paired -R, an extended regular expression),
 * QUIT.  --timeout (or -t) bounds each step and the whole check, so a
 * monitoring engine always gets its line in time.  A greeting other
 * than 2xx is answered with QUIT without waiting long for the reply.
 * The certificate is verified as everywhere else (--insecure,
 * --cafile); a stapled OCSP response is named in the text, and one that
 * says the certificate is revoked is CRITICAL.
 */
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/tlscheck.h"
#include "tui/check.h"
#include "tui/host.h"
#include "tui/lang.h"

/* After a refusing greeting: how long QUIT's reply may take. */
#define CHECK_QUIT_GRACE_MS 300
/* How much of the greeting the status line shows. */
#define CHECK_GREETING_MAX 100

enum chk_phase {
	PH_GREETING, /* waiting for it */
	PH_EHLO, /* EHLO sent */
	PH_STARTTLS, /* STARTTLS sent */
	PH_EHLO_TLS, /* EHLO sent again after the handshake */
	PH_AUTH, /* AUTH exchange running */
	PH_MAIL, /* MAIL FROM sent */
	PH_COMMANDS, /* the -C commands, one at a time */
	PH_QUIT, /* QUIT sent (or the end is near) */
};

struct check_run {
	struct check_opts *co;
	struct loop *loop;
	struct host *host;
	struct smtp_client *client;
	struct smtp_session *session;
	struct lang lang;
	enum chk_phase phase;
	size_t ehlo_ix, starttls_ix, mail_ix, auth_ix, quit_ix;
	size_t ncmd; /* -C commands sent */
	size_t cmd_ix[64];
	struct buf problems; /* the verdict's reasons so far */
	int status;
	char *failure; /* the session's failure text, if any */
	int failed_at_quit; /* it came while waiting for QUIT's reply */
	int deadline_hit; /* the whole-check bound ran out */
	int done; /* nothing more to do: the result can be read */
	int stuck; /* the loop had nothing left to wait for */
	uint64_t deadline_id, grace_id; /* timers (0: none) */
	char *early; /* why it never reached the network, or NULL */
	char *resolved; /* the server as -4/-6 resolved it */
	char *label; /* "host:port" */
	struct check_result result;
	uint64_t t0_us, t1_us;
	/* copied before the client is freed */
	int have_tls;
	char *tls_version;
	int verified;
	char *verify_error;
	int have_cert;
	long cert_days;
	time_t cert_not_after;
	int starttls_offered;
	enum smtp_ocsp_status ocsp; /* of a stapled response */
};

static void problem(struct check_run *, int level, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
problem(struct check_run *c, int level, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	(void)buf_add_printf(
	    &c->problems, "%s%s", buf_used(&c->problems) > 0 ? ", " : "", s);
	free(s);
	if (level > c->status)
		c->status = level;
}

static const struct smtp_stage *
stage_at(const struct check_run *c, size_t ix)
{
	return ix == SIZE_MAX ? NULL : smtp_session_stage(c->session, ix);
}

static int
stage_code(const struct check_run *c, size_t ix)
{
	const struct smtp_stage *st = stage_at(c, ix);

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

/* "CODE text" of a reply's first line, made safe for the status line. */
static void
reply_add(struct buf *b, const struct smtp_stage *st, size_t max)
{
	(void)buf_add_printf(b, "%d ", st->code);
	if (st->enhanced[0] != '\0')
		(void)buf_add_printf(b, "%s ", st->enhanced);
	check_text_add(b, st->text != NULL ? st->text : "", st->text_len, max);
}

static void
on_event(struct host *h, const struct smtp_event *ev, void *arg)
{
	struct check_run *c = arg;
	char *err = NULL;

	(void)h;
	if (ev->type == SMTP_EV_FAILURE && c->failure == NULL) {
		struct buf b;

		buf_init(&b, 0);
		check_text_add(&b, ev->text, ev->len, 400);
		c->failure = xstrndup(buf_peek(&b), buf_used(&b));
		buf_reset(&b);
		c->failed_at_quit = smtp_session_quit_sent(c->session);
	}
	if (ev->type == SMTP_EV_REPLY && c->phase == PH_AUTH &&
	    lang_on_reply(&c->lang, ev, &err) == -1) {
		problem(c, CHECK_CRITICAL, "AUTH could not go on");
		free(err);
	}
}

static void
run_done(struct check_run *c)
{
	c->done = 1;
}

static size_t
send_cmd(struct check_run *c, const char *line)
{
	char *err = NULL;

	/* The server said it is closing (421): nothing more to send. */
	if (smtp_session_server_closing(c->session) ||
	    smtp_client_is_closed(c->client)) {
		run_done(c);
		return SIZE_MAX;
	}
	if (smtp_client_send(c->client, line, strlen(line), &err) == -1) {
		free(err);
		smtp_client_close(c->client);
		return SIZE_MAX;
	}
	return smtp_session_nstages(c->session) - 1;
}

static void
quit_grace_over(void *arg)
{
	struct check_run *c = arg;

	c->grace_id = 0;
	run_done(c);
}

static void
quit(struct check_run *c)
{
	c->phase = PH_QUIT;
	c->quit_ix = send_cmd(c, "QUIT");
}

/* The verdict on a -C command's reply against its -R. */
static void
judge_command(struct check_run *c, size_t i)
{
	const struct smtp_stage *st = stage_at(c, c->cmd_ix[i]);
	struct buf line;
	regex_t re;
	int rc;

	if (i >= c->co->resps.n || st == NULL || st->code == 0)
		return;
	buf_init(&line, 0);
	(void)buf_add_printf(&line, "%d %.*s", st->code, (int)st->text_len,
	    st->text != NULL ? st->text : "");
	(void)buf_add(&line, "", 1);
	rc = regcomp(&re, c->co->resps.v[i], REG_EXTENDED | REG_NOSUB);
	if (rc != 0)
		problem(c, CHECK_UNKNOWN, "-R %s is not a regular expression",
		    c->co->resps.v[i]);
	else {
		if (regexec(&re, buf_peek(&line), 0, NULL, 0) != 0) {
			struct buf t;

			buf_init(&t, 0);
			reply_add(&t, st, 80);
			problem(c, CHECK_WARNING,
			    "-C %s answered \"%.*s\", not -R %s",
			    c->co->cmds.v[i], (int)buf_used(&t), buf_peek(&t),
			    c->co->resps.v[i]);
			buf_reset(&t);
		}
		regfree(&re);
	}
	buf_reset(&line);
}

/* After EHLO (and STARTTLS): AUTH, MAIL FROM, the commands, QUIT. */
static void
after_hello(struct check_run *c)
{
	char *line, *err = NULL;

	if (c->phase < PH_AUTH && c->co->auth_mech != NULL) {
		c->phase = PH_AUTH;
		c->auth_ix = smtp_session_nstages(c->session);
		if ((c->co->auth_pass != NULL
		            ? lang_auth_start(&c->lang, c->co->auth_mech,
		                  c->co->auth_user, c->co->auth_pass, &err)
		            : lang_auth_prompt(&c->lang, c->co->auth_mech,
		                  c->co->auth_user, &err)) == -1) {
			problem(c, CHECK_CRITICAL, "AUTH %s not sent: %s",
			    c->co->auth_mech, err);
			free(err);
			quit(c);
		}
		return;
	}
	if (c->phase == PH_AUTH && !smtp_session_is_authenticated(c->session)) {
		const struct smtp_stage *st =
		    find_stage(c->session, SMTP_STAGE_AUTH);
		struct buf t;

		buf_init(&t, 0);
		if (st != NULL)
			reply_add(&t, st, 80);
		problem(c, CHECK_CRITICAL, "AUTH %s as %s failed: %.*s",
		    c->co->auth_mech, c->co->auth_user, (int)buf_used(&t),
		    buf_peek(&t));
		buf_reset(&t);
		quit(c);
		return;
	}
	if (c->phase < PH_MAIL && c->co->from != NULL) {
		c->phase = PH_MAIL;
		line = xasprintf("MAIL FROM:<%s>", c->co->from);
		c->mail_ix = send_cmd(c, line);
		free(line);
		return;
	}
	if (c->phase == PH_MAIL && stage_code(c, c->mail_ix) / 100 != 2) {
		struct buf t;

		buf_init(&t, 0);
		if (stage_at(c, c->mail_ix) != NULL)
			reply_add(&t, stage_at(c, c->mail_ix), 80);
		problem(c, CHECK_WARNING, "MAIL FROM:<%s> answered %.*s",
		    c->co->from, (int)buf_used(&t), buf_peek(&t));
		buf_reset(&t);
	}
	if (c->phase == PH_COMMANDS && c->ncmd > 0)
		judge_command(c, c->ncmd - 1);
	c->phase = PH_COMMANDS;
	if (c->ncmd < c->co->cmds.n &&
	    c->ncmd < sizeof c->cmd_ix / sizeof c->cmd_ix[0]) {
		c->cmd_ix[c->ncmd] = send_cmd(c, c->co->cmds.v[c->ncmd]);
		c->ncmd++;
		return;
	}
	quit(c);
}

static void
tick(struct host *h, void *arg)
{
	struct check_run *c = arg;
	const struct smtp_stage *g;
	const struct smtp_caps *caps;
	const struct cli_opts *o = &c->co->o;
	char *line;

	if (smtp_client_is_closed(c->client)) {
		/* A reply the server gave before it hung up still counts. */
		size_t ix = c->phase == PH_EHLO || c->phase == PH_EHLO_TLS
		    ? c->ehlo_ix
		    : c->phase == PH_STARTTLS ? c->starttls_ix
		                              : SIZE_MAX;

		run_done(c);
		if (c->phase == PH_QUIT ||
		    (c->phase != PH_GREETING && stage_code(c, ix) == 0))
			return;
	} else if (c->phase == PH_QUIT || smtp_client_is_busy(c->client) ||
	    smtp_session_quit_sent(c->session) ||
	    smtp_session_state(c->session) == SMTP_STATE_CONNECTING)
		return;
	g = find_stage(c->session, SMTP_STAGE_GREETING);
	if (g == NULL || g->code == 0)
		return;
	if (g->code / 100 != 2) {
		/* A refusal: say goodbye, but do not wait on it. */
		c->phase = PH_QUIT;
		if (g->code == 421 || smtp_session_server_closing(c->session)) {
			run_done(c);
			return;
		}
		c->quit_ix = send_cmd(c, "QUIT");
		c->grace_id = loop_timer_add(
		    c->loop, CHECK_QUIT_GRACE_MS, quit_grace_over, c);
		return;
	}
	caps = smtp_session_caps(c->session);
	switch (c->phase) {
	case PH_GREETING:
		if (c->co->expect != NULL) {
			struct buf t;

			buf_init(&t, 0);
			(void)buf_add_printf(
			    &t, "%d %.*s", g->code, (int)g->text_len, g->text);
			(void)buf_add(&t, "", 1);
			if (strstr(buf_peek(&t), c->co->expect) == NULL) {
				buf_reset(&t);
				check_text_add(&t, c->co->expect,
				    strlen(c->co->expect), 80);
				problem(c, CHECK_WARNING,
				    "the greeting lacks -e \"%.*s\"",
				    (int)buf_used(&t), buf_peek(&t));
				buf_reset(&t);
				quit(c);
				return;
			}
			buf_reset(&t);
		}
		line = xasprintf("EHLO %s", host_helo(h));
		c->ehlo_ix = send_cmd(c, line);
		free(line);
		c->phase = PH_EHLO;
		break;
	case PH_EHLO:
		if (stage_code(c, c->ehlo_ix) / 100 != 2) {
			struct buf t;

			buf_init(&t, 0);
			if (stage_at(c, c->ehlo_ix) != NULL)
				reply_add(&t, stage_at(c, c->ehlo_ix), 80);
			problem(c, CHECK_CRITICAL, "EHLO answered %.*s",
			    (int)buf_used(&t), buf_peek(&t));
			buf_reset(&t);
			quit(c);
			break;
		}
		c->starttls_offered = smtp_caps_has(caps, SMTP_CAP_STARTTLS);
		if (o->tls || o->no_starttls || !c->starttls_offered) {
			if (o->starttls && !c->starttls_offered) {
				problem(c, CHECK_CRITICAL,
				    "STARTTLS not offered, which %s requires",
				    c->co->need_cert ? "-D" : "--starttls");
				quit(c);
				break;
			}
			after_hello(c);
			break;
		}
		c->starttls_ix = send_cmd(c, "STARTTLS");
		c->phase = PH_STARTTLS;
		break;
	case PH_STARTTLS:
		/* After the handshake the session is greeted again. */
		if (!smtp_session_is_tls(c->session) &&
		    stage_code(c, c->starttls_ix) / 100 == 2) {
			quit(c); /* the handshake failed: a FAILURE said so */
			break;
		}
		if (!smtp_session_is_tls(c->session)) {
			problem(c, o->starttls ? CHECK_CRITICAL : CHECK_WARNING,
			    "STARTTLS %s (%d)",
			    o->starttls ? "refused" : "offered but refused",
			    stage_code(c, c->starttls_ix));
			quit(c);
			break;
		}
		line = xasprintf("EHLO %s", host_helo(h));
		c->ehlo_ix = send_cmd(c, line);
		free(line);
		c->phase = PH_EHLO_TLS;
		break;
	default:
		after_hello(c);
		break;
	}
}

/* The step the check was waiting for, in words. */
static char *
pending_step(const struct check_run *c)
{
	const struct smtp_stage *st;
	size_t i = smtp_session_nstages(c->session);

	while (i-- > 0) {
		st = smtp_session_stage(c->session, i);
		if (st->state != SMTP_ST_PENDING && st->state != SMTP_ST_ERROR)
			continue;
		if (st->kind == SMTP_STAGE_CONNECT)
			return xstrdup("connecting");
		if (st->kind == SMTP_STAGE_GREETING)
			return xstrdup("waiting for the greeting");
		if (st->kind == SMTP_STAGE_TLS)
			return xstrdup("in the TLS handshake");
		return xasprintf("waiting for the reply to %s",
		    st->command != NULL ? st->command
		                        : smtp_stage_kind_name(st->kind));
	}
	return xstrdup("at the end");
}

static void
deadline(void *arg)
{
	struct check_run *c = arg;

	/* With -q, a QUIT left unanswered is no problem. */
	c->deadline_id = 0;
	c->deadline_hit =
	    !(smtp_session_quit_sent(c->session) && c->co->ignore_quit_failure);
	run_done(c);
}

static double
stage_ms(const struct smtp_stage *st)
{
	if (st == NULL || st->t_end_us < st->t_start_us || st->t_end_us == 0)
		return -1;
	return (double)(st->t_end_us - st->t_start_us) / 1000.0;
}

static void
add_phase(struct check_result *r, const char *name, double ms, int code)
{
	if (r->nphases >= sizeof r->phases / sizeof r->phases[0])
		return;
	r->phases[r->nphases].name = name;
	r->phases[r->nphases].ms = ms;
	r->phases[r->nphases].code = code;
	r->nphases++;
}

/* Phases for perfdata and OpenMetrics, each name once. */
static void
collect_phases(const struct check_run *c, struct check_result *r)
{
	static const char *const cmd_names[] = {"command1", "command2",
	    "command3", "command4", "command5", "command6", "command7",
	    "command8"};
	const struct smtp_stage *st;
	size_t i, ncmd = 0;
	int ehlos = 0;

	for (i = 0; i < smtp_session_nstages(c->session); i++) {
		st = smtp_session_stage(c->session, i);
		switch (st->kind) {
		case SMTP_STAGE_CONNECT:
			add_phase(r, "connect",
			    st->state == SMTP_ST_OK ? stage_ms(st) : -1, 0);
			break;
		case SMTP_STAGE_GREETING:
			add_phase(r, "greeting", stage_ms(st), st->code);
			break;
		case SMTP_STAGE_EHLO:
			add_phase(r, ehlos++ == 0 ? "ehlo" : "ehlo_tls",
			    stage_ms(st), st->code);
			break;
		case SMTP_STAGE_STARTTLS:
			add_phase(r, "starttls", stage_ms(st), st->code);
			break;
		case SMTP_STAGE_TLS:
			add_phase(r, "tls", stage_ms(st), 0);
			break;
		case SMTP_STAGE_MAIL:
			if (i == c->mail_ix) {
				add_phase(r, "mail", stage_ms(st), st->code);
				break;
			}
			FALLTHROUGH;
		default:
			if (i == c->quit_ix)
				add_phase(r, "quit", stage_ms(st), st->code);
			else if (ncmd < c->ncmd && i == c->cmd_ix[ncmd] &&
			    ncmd < sizeof cmd_names / sizeof cmd_names[0])
				add_phase(r, cmd_names[ncmd++], stage_ms(st),
				    st->code);
			else if (st->kind == SMTP_STAGE_AUTH && st->code != 0 &&
			    st->code != 334)
				add_phase(r, "auth", -1, st->code);
			break;
		}
	}
}

static void
judge(struct check_run *c, const char *target, struct check_result *r)
{
	const struct cli_opts *o = &c->co->o;
	const struct smtp_stage *greet;
	struct buf facts;
	double total = r->total_ms;

	greet = find_stage(c->session, SMTP_STAGE_GREETING);
	if (c->deadline_hit) {
		char *step = pending_step(c);

		problem(c, CHECK_CRITICAL,
		    "timed out after %g s %s (--timeout bounds the whole check)",
		    o->timeout_ms / 1000.0, step);
		free(step);
	} else if (greet == NULL || greet->code == 0)
		problem(c, CHECK_CRITICAL, "%s",
		    c->failure != NULL ? c->failure
		                       : "no greeting from the server");
	else if (greet->code / 100 != 2) {
		struct buf t;

		buf_init(&t, 0);
		reply_add(&t, greet, CHECK_GREETING_MAX);
		problem(c, CHECK_CRITICAL, "greeting %.*s", (int)buf_used(&t),
		    buf_peek(&t));
		buf_reset(&t);
	}
	if (!c->deadline_hit && greet != NULL && greet->code != 0 &&
	    c->failure != NULL &&
	    !(c->failed_at_quit && c->co->ignore_quit_failure))
		problem(c, CHECK_CRITICAL, "%s", c->failure);
	if (c->have_tls && !c->verified)
		problem(c, CHECK_OK, "%s", c->verify_error);
	if (c->have_tls && c->ocsp == SMTP_OCSP_REVOKED)
		problem(c, CHECK_CRITICAL,
		    "the stapled OCSP response says the certificate is "
		    "revoked");
	if (c->have_cert) {
		if (c->cert_days < 0)
			problem(c, CHECK_CRITICAL, "certificate expired");
		else if (o->cert_days_crit >= 0 &&
		    c->cert_days < o->cert_days_crit)
			problem(c, CHECK_CRITICAL,
			    "certificate expires in %ld days (critical: %ld)",
			    c->cert_days, o->cert_days_crit);
		else if (o->cert_days_warn >= 0 &&
		    c->cert_days < o->cert_days_warn)
			problem(c, CHECK_WARNING,
			    "certificate expires in %ld days (warning: %ld)",
			    c->cert_days, o->cert_days_warn);
	} else if (c->co->need_cert && c->status != CHECK_CRITICAL)
		problem(c, CHECK_CRITICAL, "no certificate to check (-D)");
	if (total >= 0 && c->co->crit_ms >= 0 && total > c->co->crit_ms)
		problem(c, CHECK_CRITICAL, "%.3f s > %g s (critical)",
		    total / 1000, c->co->crit_ms / 1000);
	else if (total >= 0 && c->co->warn_ms >= 0 && total > c->co->warn_ms)
		problem(c, CHECK_WARNING, "%.3f s > %g s (warning)",
		    total / 1000, c->co->warn_ms / 1000);

	/* The facts after the problems. */
	buf_init(&facts, 0);
	(void)buf_add(&facts, buf_peek(&c->problems), buf_used(&c->problems));
	if (greet != NULL && greet->code / 100 == 2) {
		(void)buf_add_printf(
		    &facts, "%s%s: ", buf_used(&facts) > 0 ? "; " : "", target);
		reply_add(&facts, greet, CHECK_GREETING_MAX);
		if (c->have_tls)
			(void)buf_add_printf(&facts, ", %s%s",
			    o->tls ? "" : "STARTTLS ", c->tls_version);
		if (c->have_cert) {
			char days[64];

			smtp_tls_days_text(c->cert_days, days, sizeof days);
			(void)buf_add_printf(&facts, ", certificate %s, %s",
			    c->verified ? "verified" : "not verified", days);
		}
		if (c->have_tls && c->ocsp != SMTP_OCSP_NONE)
			(void)buf_add_printf(
			    &facts, ", OCSP %s", smtp_tls_ocsp_name(c->ocsp));
		if (smtp_session_is_authenticated(c->session))
			(void)buf_add_printf(&facts, ", AUTH %s as %s",
			    c->co->auth_mech, c->co->auth_user);
		if (total >= 0)
			(void)buf_add_printf(&facts, ", %.3f s", total / 1000);
	}
	(void)buf_add(&facts, "", 1);
	r->message = xstrdup(buf_peek(&facts));
	buf_reset(&facts);
	r->status = c->status;
	r->have_cert = c->have_cert;
	r->cert_days = c->cert_days;
	r->cert_not_after = c->cert_not_after;
	collect_phases(c, r);
}

/* "2026-01-01 00:00:00 UTC" as Unix time, 0 when unreadable. */
static time_t
utc_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (s == NULL ||
	    sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	        &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static void
copy_tls(struct check_run *c)
{
	const struct smtp_tls_info *ti = smtp_client_tls_info(c->client);

	if (ti == NULL)
		return;
	/* A refused certificate is shown, but no TLS was used. */
	c->have_tls = !ti->refused;
	c->tls_version = xstrdup(ti->version);
	c->verified = ti->verified;
	c->verify_error = smtp_tls_verify_summary(ti);
	c->ocsp = ti->ocsp_status;
	c->result.tls = ti;
	if (ti->nchain > 0) {
		c->have_cert = 1;
		c->cert_days = ti->chain[0].days_left;
		c->cert_not_after = utc_time(ti->chain[0].not_after);
	}
}

struct check_run *
check_run_start(struct loop *loop, struct check_opts *co)
{
	struct check_run *c = xcalloc(1, sizeof *c);
	struct host_cbs cbs = {.event = on_event, .step = tick};
	const char *server = co->server;
	char *err = NULL;

	c->co = co;
	c->loop = loop;
	c->ehlo_ix = c->starttls_ix = c->mail_ix = c->auth_ix = c->quit_ix =
	    SIZE_MAX;
	buf_init(&c->problems, 0);
	cbs.arg = c;
	c->host = host_new(loop, &co->o, HOST_TLS_AHEAD, &cbs);
	c->t0_us = loop_now_us();
	if (co->family != 0) {
		char *name = NULL;

		c->resolved = check_opts_family_server(co, server, &name, &err);
		if (c->resolved != NULL) {
			if (name != NULL)
				host_set_tls(c->host, NULL, name);
			free(name);
			server = c->resolved;
		}
	}
	if (err != NULL || host_connect(c->host, server, &err) != 0) {
		/* A bad SERVER, or resolution failed: nothing measured. */
		struct buf t;

		buf_init(&t, 0);
		check_text_add(&t, err, strlen(err), 400);
		c->early = xstrndup(buf_peek(&t), buf_used(&t));
		buf_reset(&t);
		free(err);
		c->done = 1;
		return c;
	}
	c->client = host_client(c->host);
	c->session = host_session(c->host);
	c->lang.client = c->client;
	c->deadline_id =
	    loop_timer_add(loop, (uint64_t)co->o.timeout_ms, deadline, c);
	return c;
}

int
check_run_done(const struct check_run *c)
{
	return c->done;
}

void
check_runs_turn(struct loop *loop, struct check_run **runs, size_t n)
{
	size_t i;
	int active = 0;

	for (i = 0; i < n; i++)
		if (runs[i] != NULL && !runs[i]->done)
			host_before_sleep(runs[i]->host);
	for (i = 0; i < n; i++)
		if (runs[i] != NULL && !runs[i]->done)
			active = 1;
	if (active && loop_run_once(loop, -1) == -1)
		/* Nothing left to wait for: never hang. */
		for (i = 0; i < n; i++)
			if (runs[i] != NULL && !runs[i]->done) {
				runs[i]->stuck = 1;
				runs[i]->done = 1;
			}
}

const struct check_result *
check_run_result(struct check_run *c)
{
	struct check_result *r = &c->result;
	const char *host;

	if (r->message != NULL)
		return r;
	if (c->early != NULL) {
		r->status = CHECK_UNKNOWN;
		r->target = c->co->server;
		r->message = xstrdup(c->early);
		r->total_ms = -1;
		return r;
	}
	c->t1_us = loop_now_us();
	if (c->stuck)
		problem(c, CHECK_CRITICAL, "nothing left to wait for");
	copy_tls(c);
	host = host_peer_host(c->host);
	c->label = xasprintf(strchr(host, ':') != NULL ? "[%s]:%s" : "%s:%s",
	    host, host_peer_port(c->host));
	r->target = c->label;
	r->total_ms = (double)(c->t1_us - c->t0_us) / 1000.0;
	judge(c, c->label, r);
	return r;
}

void
check_run_free(struct check_run *c)
{
	if (c == NULL)
		return;
	if (c->deadline_id != 0)
		loop_timer_del(c->loop, c->deadline_id);
	if (c->grace_id != 0)
		loop_timer_del(c->loop, c->grace_id);
	lang_reset(&c->lang);
	host_free(c->host);
	buf_reset(&c->problems);
	free(c->failure);
	free(c->tls_version);
	free(c->verify_error);
	free(c->resolved);
	free(c->early);
	free(c->label);
	free((char *)c->result.message);
	free(c);
}
