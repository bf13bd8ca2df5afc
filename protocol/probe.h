/*
 * Diagnostic probes: short scripted conversations that answer one
 * question about a server (is TLS required? is AUTH offered in plain
 * text? is it an open relay? do VRFY/EXPN reveal accounts? does it
 * honour PIPELINING and punish early talkers? does it enforce the SIZE
 * it advertises? does it end a message at an unusual end of data?).
 * No probe but smuggling sends DATA or BDAT, so none other can deliver
 * mail: a transaction is at most MAIL and RCPT, then RSET.  The
 * smuggling probe delivers one message per variant to the --to
 * address it requires, and says so before it starts.
 *
 * A probe runs over connections its caller makes and drives (in ehlo,
 * the session host), and the result is a verdict, the evidence (the
 * exact dialogue lines that decided it) and what it means.  The verdict logic
 * is a pure function of the facts gathered (smtp_probe_judge), so it is
 * tested without a server.
 */
#ifndef EHLO_PROTOCOL_PROBE_H
#define EHLO_PROTOCOL_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/client.h"
#include "protocol/session.h"

struct loop;

enum smtp_probe_verdict {
	SMTP_PROBE_GOOD = 0, /* the server does the right thing */
	SMTP_PROBE_NEUTRAL, /* nothing wrong found, or inconclusive */
	SMTP_PROBE_PROBLEM, /* a problem was found */
	SMTP_PROBE_FAILED, /* network, TLS or timeout: no verdict */
	SMTP_PROBE_INCONCLUSIVE, /* the step that tests was refused for
	                          * another reason (the summary says which) */
};

struct smtp_probe_info {
	const char *name; /* "starttls-required" */
	const char *question; /* what it answers, one line */
};

/* The probes, ending with a NULL name. */
extern const struct smtp_probe_info smtp_probes[];
/* The probe called name (exact), or NULL. */
const struct smtp_probe_info *smtp_probe_find(const char *name);
/* "good", "neutral", "PROBLEM", "failed", "inconclusive". */
const char *smtp_probe_verdict_name(enum smtp_probe_verdict);

/*
 * The smuggling probe: the end-of-data sequences it tries, one
 * connection each, in this order (smtp_smuggle_variants, NULL-named
 * end), and what became of each.
 */
#define SMTP_SMUGGLE_NVARIANTS 7

struct smtp_smuggle_variant {
	const char *name; /* "<LF>.<LF>" */
	const char *bytes; /* "\n.\n" */
	size_t len;
	int bare_lf; /* holds a LF without its CR */
};

extern const struct smtp_smuggle_variant smtp_smuggle_variants[];

enum smtp_smuggle_outcome {
	SMTP_SMUGGLE_UNTESTED = 0, /* no connection got that far */
	SMTP_SMUGGLE_EARLY, /* a 2xx before the correct end: ended there */
	SMTP_SMUGGLE_REJECTED, /* a 4xx/5xx (before or after the end) */
	SMTP_SMUGGLE_CONTENT, /* accepted at the correct end: content */
	SMTP_SMUGGLE_REFUSED, /* MAIL, RCPT or DATA was refused first */
	SMTP_SMUGGLE_CLOSED, /* the connection ended with no answer */
};

/* "ended early", "rejected", "content", "not reached", ... */
const char *smtp_smuggle_outcome_name(enum smtp_smuggle_outcome);

struct smtp_smuggle_fact {
	enum smtp_smuggle_outcome outcome;
	int code; /* the answer (or REFUSED: the refusal) */
	char enhanced[16];
};

/*
 * What a probe learnt.  Reply codes are 0 when the command was not sent
 * or got no reply.
 */
struct smtp_probe_facts {
	int port; /* the port probed */
	int tls; /* TLS from the first byte (implicit TLS) */
	int starttls; /* the runner upgraded with STARTTLS first */
	int authenticated; /* the runner logged in (--auth) first */
	int greeting_code; /* 0: no greeting at all */
	int ehlo_code;
	uint32_t caps; /* SMTP_CAP_* offered in EHLO */
	size_t nauth; /* AUTH mechanisms offered */
	uint64_t size_limit; /* SIZE n, 0 when absent or unlimited */
	int mail_code; /* MAIL (without SIZE) */
	int rcpt_code;
	char mail_enhanced[16], rcpt_enhanced[16]; /* "5.7.0" or "" */
	int auth_code; /* the reply to AUTH PLAIN itself */
	int vrfy_known_code, vrfy_unknown_code;
	int expn_code;
	size_t expn_lines; /* lines of the EXPN reply */
	size_t pipe_sent, pipe_answered; /* the pipelined group */
	int early_sent; /* a command left before the greeting came */
	int early_greeting_code; /* that connection's greeting, 0: none */
	int early_ehlo_code; /* its reply to the early EHLO, 0: none */
	int size_over_code; /* MAIL ... SIZE=limit+1 */
	int size_ok_code; /* MAIL ... SIZE=1024 */
	char size_over_enhanced[16], size_ok_enhanced[16];
	char greeting[128]; /* the greeting's first line (raw, for
	                     * telling the software) */
	struct smtp_smuggle_fact smuggle[SMTP_SMUGGLE_NVARIANTS];
};

struct smtp_probe_result {
	enum smtp_probe_verdict verdict;
	char *summary; /* one line */
	char *meaning; /* a few sentences */
	size_t nevidence;
	char **evidence; /* "C: ...", "S: ..." (escaped, printable) */
	struct smtp_probe_facts facts;
};

struct smtp_probe_params {
	const char *helo; /* name for EHLO */
	const char *from; /* MAIL FROM address, NULL: the null sender */
	const char *rcpt; /* relay: a foreign recipient; vrfy-expn: an
	                   * address that exists; NULL: defaults */
	int port; /* the port probed (25 is judged as a public MX) */
	int tls; /* implicit TLS from the first byte */
	struct loop *loop; /* the caller's loop (the smuggling probe's
	                    * pause); needed by that probe only */
};

/*
 * Why a refusal is no evidence about what a probe tests: "530 5.7.0
 * (TLS or authentication required first: probe again with --starttls,
 * and --auth ...)", allocated.  code is the refusal, enhanced its
 * enhanced code ("" when none).  Pure.
 */
char *smtp_probe_refusal_why(int code, const char *enhanced);

/*
 * The verdict for probe name from facts; *summary and *meaning are
 * allocated.  Pure: no I/O.
 */
enum smtp_probe_verdict smtp_probe_judge(const char *name,
    const struct smtp_probe_facts *, char **summary, char **meaning);

/* The smuggling probe's verdict (protocol/probe_smuggle.c).  Pure. */
enum smtp_probe_verdict smtp_probe_judge_smuggling(
    const struct smtp_probe_facts *, char **summary, char **meaning);

struct smtp_probe; /* one probe in progress */

/*
 * A probe called name with params (strings copied).  Returns NULL with
 * *errstr for an unknown name.  The caller runs it: it makes a client,
 * attaches it before connecting, passes every session event to
 * smtp_probe_event, calls smtp_probe_step once per loop turn, and when
 * the client has closed calls smtp_probe_detach, which asks for
 * another connection (1) or says the probe is over (0).
 */
struct smtp_probe *smtp_probe_new(
    const char *name, const struct smtp_probe_params *, char **errstr);
/* NULL is a no-op. */
void smtp_probe_free(struct smtp_probe *);
/* A new connection for the probe (not connected yet); not owned. */
void smtp_probe_attach(struct smtp_probe *, struct smtp_client *);
/* An event of the attached connection's session (kept for evidence). */
void smtp_probe_event(struct smtp_probe *, const struct smtp_event *);
/*
 * Sends what the probe needs next when the client is idle (QUIT once
 * the probe is done with this connection, or when the greeting refused);
 * the early talker's EHLO goes before the greeting.
 */
void smtp_probe_step(struct smtp_probe *);
/*
 * The attached connection is over (the client is closed, still alive):
 * collects its facts and detaches.  Returns 1 when the probe wants
 * another connection, 0 when it is over.
 */
int smtp_probe_detach(struct smtp_probe *);
/*
 * No further connection: the next detach ends the probe, and its
 * result is "failed" (cancelled, no verdict).
 */
void smtp_probe_cancel(struct smtp_probe *);
/*
 * The probe cannot go on for a reason of its runner (--starttls refused,
 * --auth failed): the result is "failed" with reason as its summary.
 * The first reason given stays.
 */
void smtp_probe_abandon(struct smtp_probe *, const char *reason);
/*
 * 1 when the runner should set the connection up first (EHLO, then
 * STARTTLS and AUTH as the options ask) before smtp_probe_step: not on
 * a connection that talks before the greeting.  The probe then reuses
 * that EHLO.
 */
int smtp_probe_wants_preamble(const struct smtp_probe *);
/* The verdict, evidence and meaning from what was gathered so far. */
void smtp_probe_result(const struct smtp_probe *, struct smtp_probe_result *);
void smtp_probe_result_free(struct smtp_probe_result *);

#endif
