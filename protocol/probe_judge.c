/*
 * Diagnostic probes: the list of probes and their verdicts.
 *
 * RFC 5321 (3.5 VRFY/EXPN, 3.6 relaying, 7.3 VRFY and EXPN security),
 * RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 2920 (PIPELINING), RFC 1870
 * (SIZE).
 *
 * A verdict is a pure function of the facts a probe gathered (reply
 * codes of the steps it judges, what was offered): no I/O, so every
 * verdict can be unit-tested with a struct of codes.  The runner that
 * gathers the facts is protocol/probe.c.
 */
#include "protocol/probe.h"

#include <string.h>

#include "core/xmalloc.h"

const struct smtp_probe_info smtp_probes[] = {
    {"starttls-required", "are MAIL or AUTH accepted before STARTTLS?"},
    {"auth-before-tls", "is AUTH offered or accepted in plain text?"},
    {"relay",
        "is mail to a foreign domain accepted without AUTH? (stops at "
        "RCPT, then RSET)"},
    {"vrfy-expn", "do VRFY and EXPN reveal which accounts exist?"},
    {"pipelining",
        "does the server honour PIPELINING, and does it punish clients "
        "that talk before the greeting?"},
    {"size",
        "does the server enforce the SIZE it advertises? (declared size "
        "only, no data)"},
    /* issue 19: its own runner, tui/probe_tls.c (protocol/tls_survey.c) */
    {"tls",
        "which TLS versions and cipher suites does it accept, in whose "
        "order, and which are weak? (one handshake each)"},
    {NULL, NULL},
};

const struct smtp_probe_info *
smtp_probe_find(const char *name)
{
	const struct smtp_probe_info *p;

	for (p = smtp_probes; p->name != NULL; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

const char *
smtp_probe_verdict_name(enum smtp_probe_verdict v)
{
	switch (v) {
	case SMTP_PROBE_GOOD:
		return "good";
	case SMTP_PROBE_NEUTRAL:
		return "neutral";
	case SMTP_PROBE_PROBLEM:
		return "PROBLEM";
	case SMTP_PROBE_FAILED:
		return "failed";
	}
	return "?";
}

/* ---- verdicts ----------------------------------------------------- */

static int
is2(int code)
{
	return code / 100 == 2;
}

static int
refused(int code)
{
	return code / 100 == 4 || code / 100 == 5;
}

/* AUTH accepted to begin: a challenge, or success at once. */
static int
auth_accepted(int code)
{
	return code / 100 == 2 || code / 100 == 3;
}

static enum smtp_probe_verdict
verdict(char **summary, char **meaning, enum smtp_probe_verdict v,
    const char *sum, const char *mean)
{
	*summary = xstrdup(sum);
	*meaning = xstrdup(mean);
	return v;
}

static enum smtp_probe_verdict
judge_starttls(const struct smtp_probe_facts *f, char **s, char **m)
{
	int mail = is2(f->mail_code), auth = auth_accepted(f->auth_code);

	if (f->tls)
		return verdict(s, m, SMTP_PROBE_NEUTRAL,
		    "the connection used TLS from the first byte (implicit "
		    "TLS): nothing travels in plain text here",
		    "Probe the STARTTLS port (25 or 587) without --tls to "
		    "learn whether plain-text sessions are allowed there.");
	if (f->mail_code == 0 || f->auth_code == 0)
		return verdict(s, m, SMTP_PROBE_FAILED,
		    "the session ended before MAIL and AUTH were tried",
		    "No verdict: the connection failed or closed early; see "
		    "the dialogue above.");
	if (auth)
		return verdict(s, m, SMTP_PROBE_PROBLEM,
		    "AUTH is accepted before STARTTLS",
		    "A client can send its credentials before TLS is up, so "
		    "a password may cross the network readable by anyone on "
		    "the path (RFC 4954 section 4). Require TLS before AUTH "
		    "(Postfix: smtpd_tls_auth_only = yes).");
	if (mail && f->port == 25)
		return verdict(s, m, SMTP_PROBE_NEUTRAL,
		    "MAIL is accepted without STARTTLS on port 25, AUTH is "
		    "not",
		    "Expected for a public MX: RFC 3207 section 4 says a "
		    "publicly referenced server must not require STARTTLS, "
		    "or mail from servers without TLS would bounce. Protect "
		    "submission (587/465) instead, and consider MTA-STS or "
		    "DANE for server-to-server TLS.");
	if (mail)
		return verdict(s, m, SMTP_PROBE_PROBLEM,
		    "MAIL is accepted before STARTTLS",
		    "Messages can be submitted here in plain text, readable "
		    "and alterable on the path. On a submission port require "
		    "TLS (Postfix: smtpd_tls_security_level = encrypt); on a "
		    "public MX (port 25) this is expected instead.");
	return verdict(s, m, SMTP_PROBE_GOOD,
	    "MAIL and AUTH are refused until STARTTLS",
	    "The server requires TLS before a transaction or a login: "
	    "credentials and messages never travel in plain text.");
}

static enum smtp_probe_verdict
judge_auth(const struct smtp_probe_facts *f, char **s, char **m)
{
	int offered = (f->caps & SMTP_CAP_AUTH) != 0 && f->nauth > 0;

	if (f->tls)
		return verdict(s, m, SMTP_PROBE_NEUTRAL,
		    "the connection used TLS from the first byte (implicit "
		    "TLS): AUTH cannot be in plain text here",
		    "Probe the STARTTLS port without --tls to check AUTH "
		    "before STARTTLS.");
	if (f->auth_code == 0)
		return verdict(s, m, SMTP_PROBE_FAILED,
		    "the session ended before AUTH was tried",
		    "No verdict: the connection failed or closed early; see "
		    "the dialogue above.");
	if (auth_accepted(f->auth_code))
		return verdict(s, m, SMTP_PROBE_PROBLEM,
		    offered ? "AUTH is offered and accepted in plain text"
		            : "AUTH is accepted in plain text although EHLO "
		              "does not offer it",
		    "A client may send its user name and password before "
		    "TLS, readable by anyone on the path (RFC 4954 section "
		    "4). Offer AUTH only after STARTTLS (Postfix: "
		    "smtpd_tls_auth_only = yes).");
	if (offered)
		return verdict(s, m, SMTP_PROBE_PROBLEM,
		    "AUTH is offered in plain text (but refused when tried)",
		    "EHLO lists AUTH before TLS, which invites clients to "
		    "send credentials unencrypted; offer it only after "
		    "STARTTLS.");
	return verdict(s, m, SMTP_PROBE_GOOD,
	    "AUTH is neither offered nor accepted in plain text",
	    "Credentials can only be sent after TLS is up (check the EHLO "
	    "reply after STARTTLS with: ehlo run --starttls SERVER).");
}

static enum smtp_probe_verdict
judge_relay(const struct smtp_probe_facts *f, char **s, char **m)
{
	if (f->mail_code == 0)
		return verdict(s, m, SMTP_PROBE_FAILED,
		    "the session ended before MAIL was tried",
		    "No verdict: the connection failed or closed early; see "
		    "the dialogue above.");
	if (!is2(f->mail_code))
		return verdict(s, m, SMTP_PROBE_NEUTRAL,
		    "inconclusive: the sender was refused at MAIL",
		    "The server refused the probe's sender, so the recipient "
		    "was never tried. Give an accepted sender with --from "
		    "ADDRESS.");
	if (f->rcpt_code == 0)
		return verdict(s, m, SMTP_PROBE_FAILED,
		    "the session ended before RCPT was tried",
		    "No verdict: the connection failed or closed early; see "
		    "the dialogue above.");
	if (is2(f->rcpt_code))
		return verdict(s, m, SMTP_PROBE_PROBLEM,
		    "OPEN RELAY: a foreign recipient was accepted without AUTH",
		    "Anyone can send mail through this server to any domain; "
		    "spammers find open relays within hours and the server "
		    "ends up on block lists. Allow relaying only for "
		    "authenticated clients and your own networks (Postfix: "
		    "smtpd_relay_restrictions = permit_mynetworks "
		    "permit_sasl_authenticated reject_unauth_destination). "
		    "The probe sent RSET: nothing was delivered.");
	return verdict(s, m, SMTP_PROBE_GOOD,
	    "relaying is refused: the foreign recipient was rejected",
	    "Without authentication the server accepts only mail for its "
	    "own domains. (From a network it trusts, such as localhost, a "
	    "server may still relay: probe from outside to be sure.)");
}

static enum smtp_probe_verdict
judge_vrfy(const struct smtp_probe_facts *f, char **s, char **m)
{
	int k = f->vrfy_known_code, u = f->vrfy_unknown_code;
	int vrfy_reveals, expn_reveals;

	if (k == 0 || u == 0 || f->expn_code == 0)
		return verdict(s, m, SMTP_PROBE_FAILED,
		    "the session ended before VRFY and EXPN were tried",
		    "No verdict: the connection failed or closed early; see "
		    "the dialogue above.");
	/* Different answers for an address that exists and one that
	 * does not tell the two apart, whatever the codes. */
	vrfy_reveals = is2(k) && refused(u) && u != 502 && u != 500;
	expn_reveals = f->expn_code == 250;
	if (vrfy_reveals && expn_reveals)
		return verdict(s, m, SMTP_PROBE_PROBLEM,
		    "VRFY tells existing addresses from unknown ones, and EXPN "
		    "lists members",
		    "Anyone can harvest valid addresses and mailing-list "
		    "members for spam or password guessing (RFC 5321 7.3). "
		    "Disable both (Postfix: disable_vrfy_command = yes).");
	if (vrfy_reveals)
		return verdict(s, m, SMTP_PROBE_PROBLEM,
		    "VRFY tells existing addresses from unknown ones",
		    "Anyone can test which addresses exist here and harvest "
		    "them (RFC 5321 7.3). Disable VRFY or answer 252 for "
		    "every address (Postfix: disable_vrfy_command = yes).");
	if (expn_reveals)
		return verdict(s, m, SMTP_PROBE_PROBLEM,
		    "EXPN reveals the members of a list",
		    "EXPN shows who is behind an address; disable it (RFC "
		    "5321 7.3).");
	if (is2(k) && is2(u) && k == 250 && u == 250)
		return verdict(s, m, SMTP_PROBE_NEUTRAL,
		    "VRFY answers 250 for any address, EXPN reveals nothing",
		    "A server that says yes to everything reveals nothing, "
		    "but its 250 is meaningless; 252 (cannot verify) is the "
		    "honest answer.");
	if (refused(k) && refused(u) && k == u && k != 502 && k != 500 &&
	    k != 252)
		return verdict(s, m, SMTP_PROBE_NEUTRAL,
		    "VRFY refused both addresses the same way",
		    "Either VRFY is restricted, or the address assumed to "
		    "exist does not exist here: give a real one with --to "
		    "ADDRESS to be sure.");
	return verdict(s, m, SMTP_PROBE_GOOD, "VRFY and EXPN reveal nothing",
	    "The answers do not tell existing addresses from unknown ones "
	    "(252, or the commands are disabled), as RFC 5321 7.3 "
	    "recommends.");
}

static enum smtp_probe_verdict
judge_pipelining(const struct smtp_probe_facts *f, char **s, char **m)
{
	const char *early;
	int offered = (f->caps & SMTP_CAP_PIPELINING) != 0;
	enum smtp_probe_verdict v;
	const char *sum, *mean;

	if (f->greeting_code == 0)
		return verdict(s, m, SMTP_PROBE_FAILED,
		    "no greeting: the server could not be reached",
		    "No verdict: see the error above.");
	if (!f->early_sent)
		early = "early talk not tested (the greeting came at once)";
	else if (f->early_greeting_code == 0 || refused(f->early_greeting_code))
		early = "it punishes clients that talk before the greeting";
	else if (f->early_ehlo_code != 0 && refused(f->early_ehlo_code))
		early = "it refuses commands sent before the greeting";
	else
		early = "it tolerates clients that talk before the greeting";

	if (!offered) {
		v = SMTP_PROBE_NEUTRAL;
		sum = "PIPELINING is not advertised";
		mean = "Clients must then wait for each reply (RFC 2920); the "
		       "probe did not pipeline.";
	} else if (f->pipe_sent > 0 && f->pipe_answered == f->pipe_sent) {
		v = SMTP_PROBE_GOOD;
		sum = "PIPELINING is advertised and honoured";
		mean = "A group of commands sent in one write got every reply, "
		       "in order (RFC 2920).";
	} else {
		v = SMTP_PROBE_PROBLEM;
		sum = "PIPELINING is advertised but a pipelined group lost "
		      "replies";
		mean = "The server offers PIPELINING yet did not answer every "
		       "command of a group: clients that trust the "
		       "advertisement will stall or fail. Fix the server or "
		       "stop advertising it.";
	}
	*s = xasprintf("%s; %s", sum, early);
	*m = xasprintf("%s Talking before the greeting is a spam-bot trait: "
	               "servers with a greet pause (sendmail greet_pause, "
	               "Exim smtp_enforce_sync, Postfix postscreen) reject "
	               "such clients, which is a defence, not a fault.",
	    mean);
	return v;
}

static enum smtp_probe_verdict
judge_size(const struct smtp_probe_facts *f, char **s, char **m)
{
	if (f->ehlo_code == 0)
		return verdict(s, m, SMTP_PROBE_FAILED,
		    "the session ended before EHLO was answered",
		    "No verdict: see the dialogue above.");
	if ((f->caps & SMTP_CAP_SIZE) == 0)
		return verdict(s, m, SMTP_PROBE_NEUTRAL,
		    "SIZE is not advertised",
		    "A client cannot learn the limit in advance: a message "
		    "that is too big is refused only after it was sent in "
		    "full (RFC 1870).");
	if (f->size_limit == 0)
		return verdict(s, m, SMTP_PROBE_NEUTRAL,
		    "SIZE is advertised without a limit",
		    "The server declares no fixed maximum message size.");
	if (f->size_over_code == 0)
		return verdict(s, m, SMTP_PROBE_FAILED,
		    "the session ended before MAIL with SIZE was tried",
		    "No verdict: see the dialogue above.");
	if (refused(f->size_over_code))
		return verdict(s, m, SMTP_PROBE_GOOD,
		    f->size_ok_code != 0 && is2(f->size_ok_code)
		        ? "the advertised SIZE is enforced at MAIL; a small "
		          "size is accepted"
		        : "the advertised SIZE is enforced at MAIL",
		    "A client that declares a message over the limit is "
		    "refused before sending any data (RFC 1870: 552, or 452 "
		    "for lack of space), saving the transfer.");
	return verdict(s, m, SMTP_PROBE_PROBLEM,
	    "MAIL with a declared SIZE over the advertised limit was accepted",
	    "The limit is only enforced after the whole message was sent "
	    "(or not at all): clients waste the transfer and get a late "
	    "failure. RFC 1870 wants 552 at MAIL.");
}

enum smtp_probe_verdict
smtp_probe_judge(const char *name, const struct smtp_probe_facts *f,
    char **summary, char **meaning)
{
	if (f->greeting_code == 0 && strcmp(name, "pipelining") != 0)
		return verdict(summary, meaning, SMTP_PROBE_FAILED,
		    "no greeting: the server could not be reached",
		    "No verdict: see the error above.");
	if (f->greeting_code != 0 && !is2(f->greeting_code))
		/* Not probed at all: exit 3, as docs/troubleshooting.md promises. */
		return verdict(summary, meaning, SMTP_PROBE_FAILED,
		    "the server refused the session at the greeting",
		    "No verdict: a 554 (or 421) greeting means the server "
		    "does not talk to this client at all; nothing could be "
		    "tested.");
	if (strcmp(name, "starttls-required") == 0)
		return judge_starttls(f, summary, meaning);
	if (strcmp(name, "auth-before-tls") == 0)
		return judge_auth(f, summary, meaning);
	if (strcmp(name, "relay") == 0)
		return judge_relay(f, summary, meaning);
	if (strcmp(name, "vrfy-expn") == 0)
		return judge_vrfy(f, summary, meaning);
	if (strcmp(name, "pipelining") == 0)
		return judge_pipelining(f, summary, meaning);
	if (strcmp(name, "size") == 0)
		return judge_size(f, summary, meaning);
	return verdict(
	    summary, meaning, SMTP_PROBE_FAILED, "unknown probe", "");
}
