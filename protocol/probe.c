/*
 * Diagnostic probes.
 *
 * RFC 5321 (3.5 VRFY/EXPN, 3.6 relaying, 4.5.1 postmaster, 7.3 VRFY and
 * EXPN security), RFC 3207 (STARTTLS; 4: a public MX must not require
 * it), RFC 4954 (AUTH; 4: mechanisms that expose the secret need TLS),
 * RFC 8314 (implicit TLS), RFC 2920 (PIPELINING), RFC 1870 (SIZE),
 * RFC 3463 (enhanced codes).
 *
 * Shape: a probe is a step function driven by its caller, who owns the
 * connections (the session host in tui/): one client at a time is
 * attached; once the client is idle after the greeting, each
 * smtp_probe_step sends the next command(s) and remembers the stage
 * index of each one it will judge, or, when the probe is done, QUIT.
 * When a connection ends (detach), the probe collects the reply codes
 * of those stages into its facts; the pipelining probe then asks for a
 * second connection.
 * Every dialogue line is kept (with its connection and stage kind) so
 * the evidence can be picked afterwards.  smtp_probe_judge()
 * (protocol/probe_judge.c, with the list of probes) turns the facts into
 * a verdict without any I/O.
 */
#include "protocol/probe.h"
#include "protocol/probe_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/caps.h"

/* An address no server has (VRFY of it must not be "yes"). */
#define PROBE_NO_SUCH_USER "ehlo-probe-no-such-user-7f3a9c"
/* A recipient in a domain no server here is responsible for. */
#define PROBE_FOREIGN_RCPT "ehlo-relay-probe@example.net"
/* Dialogue lines kept for evidence. */
#define PROBE_LINES_MAX 4096

/* A positive completion reply. */
static int
is2(int code)
{
	return code / 100 == 2;
}

/* ---- the runner --------------------------------------------------- */

static void
line_add(struct smtp_probe *p, const char *prefix, const char *t, size_t n,
    const struct smtp_stage *st)
{
	struct pline *l;
	char *e;

	if (p->nlines >= PROBE_LINES_MAX)
		return;
	p->lines = xreallocarray(p->lines, p->nlines + 1, sizeof *p->lines);
	l = &p->lines[p->nlines++];
	e = escape_dup(t, n);
	l->text = xasprintf("%s%s", prefix, e);
	free(e);
	l->conn = p->conn;
	l->kind = st != NULL ? (int)st->kind : -1;
	l->stage = SIZE_MAX;
	l->first = 0;
	if (st != NULL) {
		size_t i, ns = smtp_session_nstages(p->session);

		for (i = ns; i-- > 0;)
			if (smtp_session_stage(p->session, i) == st) {
				l->stage = i;
				break;
			}
	}
	if (*prefix == 'S' && l->stage != SIZE_MAX) {
		size_t i = p->nlines - 1;

		l->first = 1;
		while (i-- > 0)
			if (p->lines[i].conn == l->conn &&
			    p->lines[i].stage == l->stage &&
			    p->lines[i].text[0] == 'S') {
				l->first = 0;
				break;
			}
	}
}

void
smtp_probe_event(struct smtp_probe *p, const struct smtp_event *ev)
{
	if (p->session == NULL)
		return;
	if (ev->type == SMTP_EV_SENT)
		line_add(p, "C: ", ev->text, ev->len, ev->stage);
	else if (ev->type == SMTP_EV_LINE)
		line_add(p, "S: ", ev->text, ev->len,
		    smtp_session_awaiting(p->session));
}

/*
 * The steps.  Each sends what comes next in p->phase and returns 1, or
 * returns 0 when the probe is done on this connection (QUIT follows).
 */
/* AUTH PLAIN without credentials: offered, and cancelled if it began. */
static int
step_auth(struct smtp_probe *p)
{
	if (probe_step_ehlo(p))
		return 1;
	switch (p->phase) {
	case 2:
		p->phase = 3;
		p->ix[IX_AUTH] = probe_send(p, "AUTH PLAIN");
		return 1;
	case 3:
		p->phase = 4;
		/* "*" cancels an exchange the server began (RFC 4954). */
		if (probe_code_at(p, p->ix[IX_AUTH]) == 334) {
			(void)probe_send(p, "*");
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

/* The AUTH probe, then whether MAIL is taken before STARTTLS. */
static int
step_starttls(struct smtp_probe *p)
{
	if (step_auth(p))
		return 1;
	switch (p->phase) {
	case 4:
		p->phase = 5;
		p->ix[IX_MAIL] =
		    probe_send(p, "MAIL FROM:<%s>", probe_sender(p));
		return 1;
	case 5:
		p->phase = 6;
		if (is2(probe_code_at(p, p->ix[IX_MAIL]))) {
			(void)probe_send(p, "RSET");
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

static int
step_relay(struct smtp_probe *p)
{
	if (probe_step_ehlo(p))
		return 1;
	switch (p->phase++) {
	case 2:
		p->ix[IX_MAIL] =
		    probe_send(p, "MAIL FROM:<%s>", probe_sender(p));
		return 1;
	case 3:
		if (!is2(probe_code_at(p, p->ix[IX_MAIL])))
			return 0;
		p->ix[IX_RCPT] = probe_send(p, "RCPT TO:<%s>",
		    p->rcpt != NULL ? p->rcpt : PROBE_FOREIGN_RCPT);
		return 1;
	case 4:
		/* Never DATA: end the transaction. */
		(void)probe_send(p, "RSET");
		return 1;
	default:
		return 0;
	}
}

/*
 * The address that does not exist, in the form of the known one: its
 * local part replaced, its domain and any <> kept, so the two answers
 * differ only in whether the account exists ("alice@example.test" gives
 * "ehlo-probe-...@example.test", "postmaster" a bare name).  Allocated.
 */
static char *
unknown_like(const char *known)
{
	const char *lt = strrchr(known, '<');
	const char *start = lt != NULL ? lt + 1 : known;
	size_t local = strcspn(start, "@>");

	return xasprintf("%.*s%s%s", (int)(start - known), known,
	    PROBE_NO_SUCH_USER, start + local);
}

static int
step_vrfy(struct smtp_probe *p)
{
	const char *known = p->rcpt != NULL ? p->rcpt : "postmaster";
	char *unknown;

	if (probe_step_ehlo(p))
		return 1;
	switch (p->phase++) {
	case 2:
		p->ix[IX_VRFY_KNOWN] = probe_send(p, "VRFY %s", known);
		return 1;
	case 3:
		unknown = unknown_like(known);
		p->ix[IX_VRFY_UNKNOWN] = probe_send(p, "VRFY %s", unknown);
		free(unknown);
		return 1;
	case 4:
		p->ix[IX_EXPN] = probe_send(p, "EXPN %s", known);
		return 1;
	default:
		return 0;
	}
}

static int
step_pipelining(struct smtp_probe *p)
{
	const struct smtp_caps *caps = smtp_session_caps(p->session);

	if (p->conn == 2) {
		/* The early EHLO was sent by the runner; answered: done. */
		if (p->ix[IX_EHLO] == SIZE_MAX && p->phase == 0) {
			p->phase++;
			p->ix[IX_EHLO] = probe_send(p, "EHLO %s", p->helo);
			return 1;
		}
		return 0;
	}
	if (probe_step_ehlo(p))
		return 1;
	switch (p->phase++) {
	case 2:
		if (!smtp_caps_has(caps, SMTP_CAP_PIPELINING))
			return 0;
		/* RFC 2920 3.1: MAIL, RCPT, RSET anywhere, NOOP last. */
		smtp_session_pipeline_begin(p->session);
		p->ix[IX_PIPE_FIRST] =
		    probe_send(p, "MAIL FROM:<%s>", probe_sender(p));
		(void)probe_send(p, "RCPT TO:<postmaster>");
		(void)probe_send(p, "RSET");
		p->ix[IX_PIPE_LAST] = probe_send(p, "NOOP");
		smtp_session_pipeline_end(p->session);
		smtp_client_flush(p->client);
		return 1;
	default:
		return 0;
	}
}

static int
step_size(struct smtp_probe *p)
{
	const struct smtp_caps *caps = smtp_session_caps(p->session);

	if (probe_step_ehlo(p))
		return 1;
	if (!smtp_caps_has(caps, SMTP_CAP_SIZE) || caps->size_limit == 0)
		return 0;
	switch (p->phase++) {
	case 2:
		p->ix[IX_SIZE_OVER] = probe_send(p, "MAIL FROM:<%s> SIZE=%llu",
		    probe_sender(p), (unsigned long long)caps->size_limit + 1);
		return 1;
	case 3:
		if (is2(probe_code_at(p, p->ix[IX_SIZE_OVER]))) {
			(void)probe_send(p, "RSET");
			return 1;
		}
		p->phase++;
		FALLTHROUGH;
	case 4:
		p->ix[IX_SIZE_OK] =
		    probe_send(p, "MAIL FROM:<%s> SIZE=1024", probe_sender(p));
		return 1;
	case 5:
		if (is2(probe_code_at(p, p->ix[IX_SIZE_OK]))) {
			(void)probe_send(p, "RSET");
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

static int
step(struct smtp_probe *p)
{
	if (strcmp(p->name, "starttls-required") == 0)
		return step_starttls(p);
	if (strcmp(p->name, "auth-before-tls") == 0)
		return step_auth(p);
	if (strcmp(p->name, "relay") == 0)
		return step_relay(p);
	if (strcmp(p->name, "vrfy-expn") == 0)
		return step_vrfy(p);
	if (strcmp(p->name, "pipelining") == 0)
		return step_pipelining(p);
	if (strcmp(p->name, "smuggling") == 0)
		return probe_smuggle_step(p);
	return step_size(p);
}

static int
greeting_code(const struct smtp_probe *p)
{
	const struct smtp_stage *st;
	size_t i;

	for (i = 0; i < smtp_session_nstages(p->session); i++) {
		st = smtp_session_stage(p->session, i);
		if (st->kind == SMTP_STAGE_GREETING)
			return st->code;
	}
	return 0;
}

void
smtp_probe_step(struct smtp_probe *p)
{
	struct smtp_session *s = p->session;
	char *err = NULL;

	if (p->client == NULL || smtp_client_is_closed(p->client))
		return;
	if (p->early && !p->early_done &&
	    smtp_session_state(s) == SMTP_STATE_GREETING) {
		p->early_done = 1;
		/* Right after connect, before any greeting was read. */
		p->ix[IX_EHLO] = probe_send(p, "EHLO %s", p->helo);
		p->facts.early_sent = 1;
		return;
	}
	if (smtp_client_is_busy(p->client) || smtp_session_server_closing(s) ||
	    smtp_session_quit_sent(s))
		return;
	if (smtp_session_state(s) == SMTP_STATE_GREETING ||
	    smtp_session_state(s) == SMTP_STATE_CONNECTING)
		return;
	/* A refusing greeting (554), or the runner gave up: leave. */
	if (p->failure != NULL || !is2(greeting_code(p)) || step(p) == 0) {
		if (smtp_client_send(p->client, "QUIT", 4, &err) == -1) {
			free(err);
			smtp_client_close(p->client);
		}
	}
}

/* The greeting, EHLO and what it offered, into the facts. */
static void
collect_greeting(struct smtp_probe *p)
{
	struct smtp_probe_facts *f = &p->facts;
	const struct smtp_caps *caps = smtp_session_caps(p->session);
	const struct smtp_stage *st;
	size_t i;

	f->greeting_code = greeting_code(p);
	f->ehlo_code = probe_code_at(p, p->ix[IX_EHLO]);
	f->starttls = !f->tls && smtp_session_is_tls(p->session);
	f->authenticated = smtp_session_is_authenticated(p->session);
	if (caps->valid) {
		f->caps = caps->flags;
		f->nauth = caps->nauth;
		f->size_limit = caps->size_limit;
	}
	for (i = 0; i < smtp_session_nstages(p->session); i++) {
		st = smtp_session_stage(p->session, i);
		if (st->kind == SMTP_STAGE_GREETING && st->text != NULL) {
			(void)snprintf(f->greeting, sizeof f->greeting, "%.*s",
			    (int)st->text_len, st->text);
			break;
		}
	}
}

/* After a connection: its reply codes into the facts. */
static void
collect(struct smtp_probe *p)
{
	struct smtp_probe_facts *f = &p->facts;
	const struct smtp_stage *st;
	size_t i;

	if (strcmp(p->name, "smuggling") == 0) {
		if (p->conn == 1 || f->greeting_code == 0)
			collect_greeting(p);
		probe_smuggle_collect(p);
		return;
	}
	if (p->conn == 2) {
		f->early_greeting_code = greeting_code(p);
		f->early_ehlo_code = probe_code_at(p, p->ix[IX_EHLO]);
		return;
	}
	collect_greeting(p);
	f->mail_code = probe_code_at(p, p->ix[IX_MAIL]);
	f->rcpt_code = probe_code_at(p, p->ix[IX_RCPT]);
	f->auth_code = probe_code_at(p, p->ix[IX_AUTH]);
	f->vrfy_known_code = probe_code_at(p, p->ix[IX_VRFY_KNOWN]);
	f->vrfy_unknown_code = probe_code_at(p, p->ix[IX_VRFY_UNKNOWN]);
	f->expn_code = probe_code_at(p, p->ix[IX_EXPN]);
	f->size_over_code = probe_code_at(p, p->ix[IX_SIZE_OVER]);
	f->size_ok_code = probe_code_at(p, p->ix[IX_SIZE_OK]);
	probe_enhanced_at(p, p->ix[IX_MAIL], f->mail_enhanced);
	probe_enhanced_at(p, p->ix[IX_RCPT], f->rcpt_enhanced);
	probe_enhanced_at(p, p->ix[IX_SIZE_OVER], f->size_over_enhanced);
	probe_enhanced_at(p, p->ix[IX_SIZE_OK], f->size_ok_enhanced);
	if (p->ix[IX_PIPE_FIRST] != SIZE_MAX &&
	    p->ix[IX_PIPE_LAST] != SIZE_MAX) {
		for (i = p->ix[IX_PIPE_FIRST]; i <= p->ix[IX_PIPE_LAST]; i++) {
			st = smtp_session_stage(p->session, i);
			f->pipe_sent++;
			if (st != NULL && st->code != 0)
				f->pipe_answered++;
		}
	}
	for (i = 0; i < p->nlines; i++)
		if (p->lines[i].conn == 1 &&
		    p->lines[i].kind == SMTP_STAGE_EXPN &&
		    p->lines[i].text[0] == 'S')
			f->expn_lines++;
}

void
smtp_probe_attach(struct smtp_probe *p, struct smtp_client *c)
{
	size_t i;

	p->conn++;
	p->phase = 0;
	p->early_done = 0;
	for (i = 0; i < IX_COUNT; i++)
		p->ix[i] = SIZE_MAX;
	p->client = c;
	p->session = smtp_client_session(c);
	if (strcmp(p->name, "smuggling") == 0)
		probe_smuggle_attach(p);
	if (p->early)
		smtp_session_note(p->session,
		    "probe: connection %u talks before the greeting, as "
		    "spam bots do",
		    p->conn);
}

int
smtp_probe_detach(struct smtp_probe *p)
{
	if (p->session == NULL)
		return 0;
	collect(p);
	if (strcmp(p->name, "smuggling") == 0)
		probe_smuggle_detach(p);
	p->client = NULL;
	p->session = NULL;
	if (!p->done && !p->cancelled && p->failure == NULL &&
	    strcmp(p->name, "smuggling") == 0 && probe_smuggle_again(p))
		return 1;
	/* The pipelining probe talks early on a second connection. */
	if (!p->done && p->failure == NULL && p->conn == 1 &&
	    strcmp(p->name, "pipelining") == 0 && p->facts.greeting_code != 0) {
		p->early = 1;
		return 1;
	}
	p->done = 1;
	return 0;
}

void
smtp_probe_abandon(struct smtp_probe *p, const char *reason)
{
	if (p->failure == NULL)
		p->failure = xstrdup(reason);
}

int
smtp_probe_wants_preamble(const struct smtp_probe *p)
{
	return !p->early;
}

void
smtp_probe_cancel(struct smtp_probe *p)
{
	p->done = 1;
	p->cancelled = 1;
}

/* 1 when an EHLO reply line names one of the capabilities in want. */
static int
caps_line(const char *text, const char *const *want)
{
	const char *kw = text + 3; /* after "S: " */

	if (strlen(kw) < 4)
		return 0;
	kw += 4; /* "250-" */
	for (; *want != NULL; want++)
		if (strncasecmp(kw, *want, strlen(*want)) == 0)
			return 1;
	return 0;
}

/* Which kept lines are the evidence for this probe. */
static int
is_evidence(const struct smtp_probe *p, const struct pline *l)
{
	static const char *const tls_caps[] = {"STARTTLS", "AUTH", NULL};
	static const char *const auth_caps[] = {"AUTH", NULL};
	static const char *const pipe_caps[] = {"PIPELINING", NULL};
	static const char *const size_caps[] = {"SIZE", NULL};
	static const char *const no_caps[] = {NULL};
	const char *n = p->name;

	if (strcmp(n, "smuggling") == 0)
		return probe_smuggle_is_evidence(l);
	if (l->conn == 2)
		return l->kind == SMTP_STAGE_GREETING ||
		    (l->kind == SMTP_STAGE_EHLO &&
		        (l->text[0] == 'C' || l->first));
	if (l->kind == SMTP_STAGE_GREETING)
		return 0;
	if (l->kind == SMTP_STAGE_EHLO && l->text[0] == 'S')
		return caps_line(l->text,
		    strcmp(n, "starttls-required") == 0     ? tls_caps
		        : strcmp(n, "auth-before-tls") == 0 ? auth_caps
		        : strcmp(n, "pipelining") == 0      ? pipe_caps
		        : strcmp(n, "size") == 0            ? size_caps
		                                            : no_caps);
	if (strcmp(n, "starttls-required") == 0)
		return l->kind == SMTP_STAGE_MAIL || l->kind == SMTP_STAGE_AUTH;
	if (strcmp(n, "auth-before-tls") == 0)
		return l->kind == SMTP_STAGE_AUTH;
	if (strcmp(n, "relay") == 0)
		return l->kind == SMTP_STAGE_MAIL || l->kind == SMTP_STAGE_RCPT;
	if (strcmp(n, "vrfy-expn") == 0)
		return l->kind == SMTP_STAGE_VRFY || l->kind == SMTP_STAGE_EXPN;
	if (strcmp(n, "pipelining") == 0)
		return l->stage != SIZE_MAX && p->facts.pipe_sent > 0 &&
		    l->kind != SMTP_STAGE_EHLO && l->kind != SMTP_STAGE_QUIT;
	if (strcmp(n, "size") == 0)
		return l->kind == SMTP_STAGE_MAIL;
	return 0;
}

struct smtp_probe *
smtp_probe_new(
    const char *name, const struct smtp_probe_params *params, char **errstr)
{
	struct smtp_probe *p;

	if (smtp_probe_find(name) == NULL) {
		*errstr = xasprintf("unknown probe \"%s\"", name);
		return NULL;
	}
	if (strcmp(name, "smuggling") == 0 &&
	    (params->rcpt == NULL || params->loop == NULL)) {
		*errstr = xstrdup("the smuggling probe delivers a message for "
		                  "each variant it tests, so it needs --to "
		                  "ADDRESS: a mailbox you own");
		return NULL;
	}
	p = xcalloc(1, sizeof *p);
	p->name = xstrdup(name);
	p->helo = xstrdup(params->helo);
	p->from = params->from != NULL ? xstrdup(params->from) : NULL;
	p->rcpt = params->rcpt != NULL ? xstrdup(params->rcpt) : NULL;
	p->facts.port = params->port;
	p->facts.tls = params->tls;
	p->loop = params->loop;
	return p;
}

void
smtp_probe_result(const struct smtp_probe *p, struct smtp_probe_result *out)
{
	size_t i;

	memset(out, 0, sizeof *out);
	out->facts = p->facts;
	if (p->cancelled) {
		out->verdict = SMTP_PROBE_FAILED;
		out->summary = xstrdup("the probe was cancelled");
		out->meaning = xstrdup("No verdict: it was stopped before it "
		                       "finished; the dialogue above shows how "
		                       "far it got.");
	} else if (p->failure != NULL) {
		out->verdict = SMTP_PROBE_FAILED;
		out->summary = xstrdup(p->failure);
		out->meaning =
		    xstrdup("No verdict: the connection could not be "
		            "set up as the options ask; the dialogue "
		            "above shows what the server said.");
	} else
		out->verdict = smtp_probe_judge(
		    p->name, &p->facts, &out->summary, &out->meaning);
	for (i = 0;
	     strcmp(p->name, "smuggling") == 0 && i < SMTP_SMUGGLE_NVARIANTS;
	     i++) {
		const struct smtp_smuggle_fact *sf = &p->facts.smuggle[i];

		if (sf->outcome == SMTP_SMUGGLE_UNTESTED)
			continue;
		out->evidence = xreallocarray(
		    out->evidence, out->nevidence + 1, sizeof *out->evidence);
		out->evidence[out->nevidence++] = sf->code != 0
		    ? xasprintf("%s: %s (%d%s%s)",
		          smtp_smuggle_variants[i].name,
		          smtp_smuggle_outcome_name(sf->outcome), sf->code,
		          sf->enhanced[0] != '\0' ? " " : "", sf->enhanced)
		    : xasprintf("%s: %s", smtp_smuggle_variants[i].name,
		          smtp_smuggle_outcome_name(sf->outcome));
	}
	for (i = 0; i < p->nlines; i++) {
		if (!is_evidence(p, &p->lines[i]))
			continue;
		out->evidence = xreallocarray(
		    out->evidence, out->nevidence + 1, sizeof *out->evidence);
		out->evidence[out->nevidence++] = p->lines[i].conn > 1
		    ? xasprintf("[connection %u] %s", p->lines[i].conn,
		          p->lines[i].text)
		    : xstrdup(p->lines[i].text);
	}
}

void
smtp_probe_free(struct smtp_probe *p)
{
	size_t i;

	if (p == NULL)
		return;
	probe_smuggle_detach(p); /* its timer */
	for (i = 0; i < p->nlines; i++)
		free(p->lines[i].text);
	free(p->lines);
	free(p->name);
	free(p->helo);
	free(p->from);
	free(p->rcpt);
	free(p->failure);
	free(p);
}

void
smtp_probe_result_free(struct smtp_probe_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nevidence; i++)
		free(r->evidence[i]);
	free(r->evidence);
	free(r->summary);
	free(r->meaning);
	memset(r, 0, sizeof *r);
}
