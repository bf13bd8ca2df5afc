/*
 * Diagnostic probes: the list of probes and their verdicts.
 *
 * RFC 5321 (3.5 VRFY/EXPN, 3.6 relaying, 7.3 VRFY and EXPN security),
 * RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 2920 (PIPELINING), RFC 1870
 * (SIZE).
 *
 * The smuggling verdict names the variants the server ended early at,
 * and the setting or version that closes them where the greeting names
 * the software (Postfix, Exim, sendmail).
 *
 * A verdict is a pure function of the facts a probe gathered (reply
 * codes of the steps it judges, what was offered): no I/O, so every
 * verdict can be unit-tested with a struct of codes.  The runner that
 * gathers the facts is protocol/probe.c.
 */
#include "protocol/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
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
    /* issue 22: the one probe that sends DATA (needs --to) */
    {"smuggling",
        "does the server end a message at an end-of-data other than "
        "<CR><LF>.<CR><LF> (SMTP smuggling)? (delivers a message per "
        "variant to --to)"},
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
	case SMTP_PROBE_INCONCLUSIVE:
		return "inconclusive";
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

/* 1 when enhanced is "C.sub.det" for this subject and detail. */
static int
enh_is(const char *enhanced, int sub, int det)
{
	int c, s, d;

	return sscanf(enhanced, "%d.%d.%d", &c, &s, &d) == 3 && s == sub &&
	    d == det;
}

/* A syntax or parameter error (RFC 5321 4.2.2, RFC 3463): not evidence. */
static int
syntax_error(int code, const char *enhanced)
{
	return code == 500 || code == 501 || code == 504 || code == 555 ||
	    enh_is(enhanced, 5, 2) || enh_is(enhanced, 5, 4) ||
	    enh_is(enhanced, 1, 3) || enh_is(enhanced, 1, 7);
}

/* TLS or authentication wanted first (530, x.7.0, x.7.11). */
static int
wants_tls_or_auth(int code, const char *enhanced)
{
	return code == 530 || code == 538 || enh_is(enhanced, 7, 0) ||
	    enh_is(enhanced, 7, 11);
}

char *
smtp_probe_refusal_why(int code, const char *enhanced)
{
	const char *why;

	if (wants_tls_or_auth(code, enhanced))
		why = "the server wants TLS or a login first: probe again "
		      "with --starttls, and --auth MECH --user NAME if it "
		      "wants a login";
	else if (syntax_error(code, enhanced))
		why = "a syntax or parameter error, which says nothing "
		      "about what the probe tests";
	else if (code == 503)
		why = "a bad sequence of commands";
	else if (code == 421)
		why = "the server is closing the connection";
	else if (code / 100 == 4)
		why = "a temporary refusal (greylisting, load, a lookup "
		      "that failed): try again later";
	else
		why = "a refusal for a reason of its own; the dialogue above "
		      "shows it";
	return xasprintf(
	    "%d%s%s (%s)", code, *enhanced != '\0' ? " " : "", enhanced, why);
}

/* An inconclusive verdict: "inconclusive: WHAT was refused with WHY". */
static enum smtp_probe_verdict
inconclusive(char **s, char **m, const char *what, int code,
    const char *enhanced, const char *mean)
{
	char *why = smtp_probe_refusal_why(code, enhanced);

	*s = xasprintf("inconclusive: %s was refused with %s", what, why);
	*m = xstrdup(mean);
	free(why);
	return SMTP_PROBE_INCONCLUSIVE;
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

/*
 * A refused foreign recipient that says nothing about relaying: TLS or
 * a login wanted first, a syntax error, a bad sequence, or a temporary
 * refusal that is not the temporary form of "relay denied" (454 4.7.1).
 */
static int
relay_unrelated(const struct smtp_probe_facts *f)
{
	int c = f->rcpt_code;
	const char *e = f->rcpt_enhanced;

	if (wants_tls_or_auth(c, e) || syntax_error(c, e) || c == 503)
		return 1;
	return c / 100 == 4 && c != 454 && !enh_is(e, 7, 1);
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
		return inconclusive(s, m, "MAIL", f->mail_code,
		    f->mail_enhanced,
		    "The server refused the probe's sender, so the recipient "
		    "was never tried. If the sender itself was refused, give "
		    "an accepted one with --from ADDRESS.");
	if (f->rcpt_code == 0)
		return verdict(s, m, SMTP_PROBE_FAILED,
		    "the session ended before RCPT was tried",
		    "No verdict: the connection failed or closed early; see "
		    "the dialogue above.");
	if (!is2(f->rcpt_code) && relay_unrelated(f))
		return inconclusive(s, m, "the foreign recipient", f->rcpt_code,
		    f->rcpt_enhanced,
		    "The refusal is not about relaying, so it shows neither "
		    "that relaying is refused nor that it is allowed.");
	if (is2(f->rcpt_code) && f->authenticated)
		return verdict(s, m, SMTP_PROBE_NEUTRAL,
		    "a foreign recipient was accepted after AUTH",
		    "An authenticated client may relay: that is what a "
		    "submission server is for. Probe without --auth to learn "
		    "whether anyone else can. The probe sent RSET: nothing "
		    "was delivered.");
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
	if (f->authenticated)
		return verdict(s, m, SMTP_PROBE_NEUTRAL,
		    "the foreign recipient was refused even after AUTH",
		    "Logged in, a client of a submission server may usually "
		    "relay; this server refused the recipient all the same "
		    "(see its reply). Probe without --auth to learn whether "
		    "unauthenticated clients can relay.");
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
	/* A syntax error answers the form of the address, not whether
	 * it exists (Exim: 501 "must contain a domain"). */
	if (k == 501 || u == 501 || k == 555 || u == 555)
		return verdict(s, m, SMTP_PROBE_INCONCLUSIVE,
		    k == 501 || k == 555
		        ? "inconclusive: VRFY of the known address got a "
		          "syntax error, which is no evidence"
		        : "inconclusive: VRFY of the unknown address got a "
		          "syntax error, which is no evidence",
		    "A 501 answers how the address was written, not whether "
		    "it exists. Give the address in the form the server "
		    "wants with --to (for example a full user@domain); the "
		    "unknown address is written the same way.");
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
	if (refused(f->size_over_code) && f->size_ok_code == 0)
		return verdict(s, m, SMTP_PROBE_FAILED,
		    "the session ended before MAIL with a small SIZE was "
		    "tried",
		    "No verdict: without it a refusal of the large size "
		    "cannot be told from a refusal of any MAIL; see the "
		    "dialogue above.");
	if (refused(f->size_over_code) && !is2(f->size_ok_code))
		return inconclusive(s, m, "MAIL", f->size_over_code,
		    f->size_over_enhanced,
		    "MAIL was refused whatever the declared size, so the "
		    "refusal was not about the size and the limit was never "
		    "tested.");
	if (refused(f->size_over_code))
		return verdict(s, m, SMTP_PROBE_GOOD,
		    "the advertised SIZE is enforced at MAIL; a small size is "
		    "accepted",
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
	if (strcmp(name, "smuggling") == 0)
		return smtp_probe_judge_smuggling(f, summary, meaning);
	return verdict(
	    summary, meaning, SMTP_PROBE_FAILED, "unknown probe", "");
}

/* ---- the smuggling verdict (variants: protocol/probe_smuggle.c) ---- */

/* 1 when word (lower case) is in text, in any case. */
static int
names(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (; *text != '\0'; text++)
		if (strncasecmp(text, word, n) == 0)
			return 1;
	return 0;
}

/* Where the greeting names the software: what closes the early ends. */
static const char *
fix_for(const char *greeting)
{
	if (names(greeting, "ehlo practice"))
		return "The practice server plays this receiver when started "
		       "with --lenient-eod; without it, only "
		       "<CR><LF>.<CR><LF> ends the data.";
	if (names(greeting, "postfix"))
		return "Postfix: set smtpd_forbid_bare_newline = yes (Postfix "
		       "3.5.24, 3.6.14, 3.7.10, 3.8.5 and later; the default "
		       "from 3.9) and keep smtpd_forbid_bare_newline_exclusions "
		       "(default $mynetworks) to hosts you trust; on older "
		       "versions smtpd_data_restrictions = "
		       "reject_unauth_pipelining blocks the attack "
		       "(CVE-2023-51764).";
	if (names(greeting, "exim"))
		return "Exim: upgrade to 4.97.1 or later, which takes only "
		       "<CR><LF>.<CR><LF> as the end of data (CVE-2023-51766).";
	if (names(greeting, "sendmail"))
		return "sendmail: upgrade to 8.18.1 or later, which refuses "
		       "bare CR and LF by default (CVE-2023-51765).";
	return "The greeting does not name the software: look for its "
	       "fix for the SMTP smuggling advisories of December 2023 "
	       "(a receiver must take only <CR><LF>.<CR><LF> as the end "
	       "of data, RFC 5321 4.1.1.4, and refuse bare CR and LF, "
	       "2.3.8).";
}

enum smtp_probe_verdict
smtp_probe_judge_smuggling(
    const struct smtp_probe_facts *f, char **summary, char **meaning)
{
	struct buf early;
	const struct smtp_smuggle_fact *refused = NULL;
	size_t i, nearly = 0, ntested = 0, nrejected = 0;
	char *why;

	buf_init(&early, 0);
	for (i = 0; i < SMTP_SMUGGLE_NVARIANTS; i++) {
		switch (f->smuggle[i].outcome) {
		case SMTP_SMUGGLE_EARLY:
			if (nearly++ > 0)
				(void)buf_add_str(&early, ", ");
			(void)buf_add_str(
			    &early, smtp_smuggle_variants[i].name);
			FALLTHROUGH;
		case SMTP_SMUGGLE_CONTENT:
			ntested++;
			break;
		case SMTP_SMUGGLE_REJECTED:
			ntested++;
			nrejected++;
			break;
		case SMTP_SMUGGLE_REFUSED:
			if (refused == NULL)
				refused = &f->smuggle[i];
			break;
		default:
			break;
		}
	}
	(void)buf_add(&early, "", 1);
	if (nearly > 0) {
		*summary = xasprintf("the server ends a message early at %s: "
		                     "a smuggling attack can use %s",
		    (const char *)buf_peek(&early), nearly > 1 ? "them" : "it");
		*meaning = xasprintf(
		    "A server that takes these sequences for the end of data "
		    "lets a sender hide a second message (with a forged "
		    "sender) inside the first, where the sending server saw "
		    "only content: SMTP smuggling. %s",
		    fix_for(f->greeting));
		buf_reset(&early);
		return SMTP_PROBE_PROBLEM;
	}
	buf_reset(&early);
	if (ntested == 0 && refused != NULL) {
		why = smtp_probe_refusal_why(refused->code, refused->enhanced);
		*summary = xasprintf("inconclusive: the message was refused "
		                     "before its content with %s",
		    why);
		*meaning = xstrdup("No variant could be sent. Give an "
		                   "accepted sender and recipient with --from "
		                   "and --to (and --starttls, --auth where the "
		                   "server wants them).");
		free(why);
		return SMTP_PROBE_INCONCLUSIVE;
	}
	if (ntested == 0) {
		*summary = xstrdup("no variant got an answer");
		*meaning = xstrdup("No verdict: the connections ended before "
		                   "the server answered; see the dialogue "
		                   "above.");
		return SMTP_PROBE_FAILED;
	}
	*summary = xasprintf("no variant ended a message early (%zu of %d "
	                     "tested: %zu rejected, %zu taken as content)",
	    ntested, SMTP_SMUGGLE_NVARIANTS, nrejected, ntested - nrejected);
	*meaning = xstrdup(
	    "As a receiver this server takes only <CR><LF>.<CR><LF> for "
	    "the end of data (RFC 5321 4.1.1.4), so the smuggling variants "
	    "tried here cannot hide a second message in the first.");
	return SMTP_PROBE_GOOD;
}
