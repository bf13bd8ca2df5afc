/*
 * The lessons: one const table, each lesson a text, a task, goals and a
 * model answer; each goal a predicate over the session's stage list
 * (protocol/session.h) -- kinds, reply codes, enhanced codes, the command
 * as sent, transaction and pipeline group numbers.  One goal (dot-
 * stuffing) reads the practice inbox, since the session keeps no
 * message content.  Nothing here does network I/O or prints.
 *
 *   RFC 5321  the transaction (4.1.1), the order of commands (4.1.4),
 *             dot-stuffing (4.5.2), reply codes (4.2)
 *   RFC 3463  enhanced status codes
 *   RFC 3207  STARTTLS            RFC 4954  AUTH (RFC 4616 PLAIN)
 *   RFC 2920  PIPELINING
 */
#include "protocol/lesson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/practice.h"
#include "protocol/session.h"

/* ---- predicates over stages ------------------------------------------ */

static size_t
ls_n(const struct lesson_ctx *c)
{
	return c->session != NULL ? smtp_session_nstages(c->session) : 0;
}

static const struct smtp_stage *
ls_at(const struct lesson_ctx *c, size_t i)
{
	return smtp_session_stage(c->session, i);
}

/* Case-insensitive substring test (needle NULL: always true). */
static int
ls_contains(const char *hay, const char *needle)
{
	size_t n;

	if (needle == NULL)
		return 1;
	if (hay == NULL)
		return 0;
	n = strlen(needle);
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/*
 * The first stage at or after *from of that kind whose code is in
 * [lo, hi], whose enhanced code is enh (NULL: any) and whose command
 * contains needle (NULL: any); its index goes to *from.
 */
static const struct smtp_stage *
ls_find(const struct lesson_ctx *c, size_t *from, enum smtp_stage_kind kind,
    int lo, int hi, const char *enh, const char *needle)
{
	const struct smtp_stage *st;
	size_t i;

	for (i = from != NULL ? *from : 0; i < ls_n(c); i++) {
		st = ls_at(c, i);
		if (st->kind != kind || st->code < lo || st->code > hi)
			continue;
		if (enh != NULL && strcmp(st->enhanced, enh) != 0)
			continue;
		if (!ls_contains(st->command, needle))
			continue;
		if (from != NULL)
			*from = i;
		return st;
	}
	return NULL;
}

static int
ls_has(const struct lesson_ctx *c, enum smtp_stage_kind kind, int lo, int hi,
    const char *enh, const char *needle)
{
	return ls_find(c, NULL, kind, lo, hi, enh, needle) != NULL;
}

/* A RCPT for addr accepted in transaction txn. */
static int
ls_rcpt_in_txn(const struct lesson_ctx *c, unsigned txn, const char *addr)
{
	const struct smtp_stage *st;
	size_t i;

	for (i = 0; i < ls_n(c); i++) {
		st = ls_at(c, i);
		if (st->kind == SMTP_STAGE_RCPT && st->txn == txn &&
		    st->code == 250 && ls_contains(st->command, addr))
			return 1;
	}
	return 0;
}

/* 1 when a stage ends a message successfully (250 after "." or BDAT
 * LAST). */
static int
ls_is_delivery(const struct smtp_stage *st)
{
	if (st->code != 250 || st->txn == 0)
		return 0;
	return st->kind == SMTP_STAGE_MESSAGE ||
	    (st->kind == SMTP_STAGE_BDAT && ls_contains(st->command, "LAST"));
}

/* Transactions that delivered a message to addr (NULL: to anyone). */
static unsigned
ls_deliveries(const struct lesson_ctx *c, const char *addr)
{
	const struct smtp_stage *st;
	unsigned n = 0;
	size_t i;

	for (i = 0; i < ls_n(c); i++) {
		st = ls_at(c, i);
		if (ls_is_delivery(st) &&
		    (addr == NULL || ls_rcpt_in_txn(c, st->txn, addr)))
			n++;
	}
	return n;
}

/* ---- goals -------------------------------------------------------------- */

static int
g_greeting(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_GREETING, 220, 220, NULL, NULL);
}

static int
g_ehlo(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_EHLO, 250, 250, NULL, NULL);
}

static int
g_help(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_HELP, 214, 214, NULL, NULL);
}

static int
g_mail(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_MAIL, 250, 250, NULL, NULL);
}

static int
g_mail_null(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_MAIL, 250, 250, NULL, ":<>");
}

static int
g_rcpt_bob(const struct lesson_ctx *c)
{
	return ls_has(
	    c, SMTP_STAGE_RCPT, 250, 250, NULL, "<bob@practice.test>");
}

static int
g_rcpt_550(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_RCPT, 550, 550, NULL, NULL);
}

static int
g_data_354(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_DATA, 354, 354, NULL, NULL);
}

static int
g_deliver_bob(const struct lesson_ctx *c)
{
	return ls_deliveries(c, "<bob@practice.test>") > 0;
}

static int
g_two_messages(const struct lesson_ctx *c)
{
	return ls_deliveries(c, NULL) >= 2;
}

static int
g_quit(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_QUIT, 221, 221, NULL, NULL);
}

static int
g_vrfy(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_VRFY, 250, 252, NULL, NULL);
}

static int
g_expn_staff(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_EXPN, 250, 250, NULL, "staff");
}

static int
g_verb(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_VERB, 250, 250, NULL, NULL);
}

/* RSET answered 250 while a transaction (MAIL accepted) was open. */
static int
g_rset_txn(const struct lesson_ctx *c)
{
	const struct smtp_stage *st;
	int open = 0;
	size_t i;

	for (i = 0; i < ls_n(c); i++) {
		st = ls_at(c, i);
		if (st->kind == SMTP_STAGE_MAIL && st->code == 250)
			open = 1;
		else if (ls_is_delivery(st) || st->kind == SMTP_STAGE_EHLO ||
		    st->kind == SMTP_STAGE_HELO)
			open = 0;
		else if (st->kind == SMTP_STAGE_RSET) {
			if (open && st->code == 250)
				return 1;
			open = 0;
		}
	}
	return 0;
}

static int
g_starttls(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_STARTTLS, 220, 220, NULL, NULL);
}

static int
g_tls(const struct lesson_ctx *c)
{
	const struct smtp_stage *st;
	size_t i;

	for (i = 0; i < ls_n(c); i++) {
		st = ls_at(c, i);
		if (st->kind == SMTP_STAGE_TLS && st->state == SMTP_ST_OK)
			return 1;
	}
	return 0;
}

static int
g_ehlo_after_tls(const struct lesson_ctx *c)
{
	const struct smtp_stage *st;
	size_t i;
	int tls = 0;

	for (i = 0; i < ls_n(c); i++) {
		st = ls_at(c, i);
		if (st->kind == SMTP_STAGE_TLS && st->state == SMTP_ST_OK)
			tls = 1;
		else if (tls && st->kind == SMTP_STAGE_EHLO && st->code == 250)
			return 1;
	}
	return 0;
}

static int
g_auth(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_AUTH, 235, 235, NULL, NULL);
}

/* A RCPT outside practice.test accepted (relaying, after AUTH). */
static int
g_relay(const struct lesson_ctx *c)
{
	const struct smtp_stage *st;
	size_t i;

	for (i = 0; i < ls_n(c); i++) {
		st = ls_at(c, i);
		if (st->kind == SMTP_STAGE_RCPT && st->code == 250 &&
		    ls_contains(st->command, "@") &&
		    !ls_contains(st->command, "@practice.test>"))
			return 1;
	}
	return 0;
}

/* The transaction number of a MAIL and a RCPT sent in one group. */
static unsigned
ls_pipelined_txn(const struct lesson_ctx *c)
{
	const struct smtp_stage *m, *r;
	size_t i, k;

	for (i = 0; i < ls_n(c); i++) {
		m = ls_at(c, i);
		if (m->kind != SMTP_STAGE_MAIL || m->group == 0 ||
		    m->code != 250)
			continue;
		for (k = i + 1; k < ls_n(c); k++) {
			r = ls_at(c, k);
			if (r->kind == SMTP_STAGE_RCPT &&
			    r->group == m->group && r->txn == m->txn)
				return m->txn;
		}
	}
	return 0;
}

static int
g_pipelined(const struct lesson_ctx *c)
{
	return ls_pipelined_txn(c) != 0;
}

static int
g_pipelined_delivery(const struct lesson_ctx *c)
{
	unsigned txn = ls_pipelined_txn(c);
	size_t i;

	if (txn == 0)
		return 0;
	for (i = 0; i < ls_n(c); i++)
		if (ls_is_delivery(ls_at(c, i)) && ls_at(c, i)->txn == txn)
			return 1;
	return 0;
}

static int
g_deliver_carol(const struct lesson_ctx *c)
{
	return ls_deliveries(c, "<carol@practice.test>") > 0;
}

/* A body line starting with "." in a message in carol's inbox. */
static int
ls_body_has_dot_line(const char *path)
{
	char *buf = xmalloc(PRACTICE_SIZE_LIMIT + 4096);
	size_t n, i;
	int in_body = 0, found = 0;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		free(buf);
		return 0;
	}
	n = fread(buf, 1, PRACTICE_SIZE_LIMIT + 4095, f);
	(void)fclose(f);
	buf[n] = '\0';
	for (i = 0; i < n && !found; i++) {
		if (i != 0 && buf[i - 1] != '\n')
			continue;
		if (!in_body) {
			if (buf[i] == '\r' || buf[i] == '\n')
				in_body = 1;
			continue;
		}
		found = buf[i] == '.';
	}
	free(buf);
	return found;
}

static int
g_dot_line(const struct lesson_ctx *c)
{
	struct practice_message *m;
	char *err = NULL;
	size_t n, i;
	int found = 0;

	if (c->datadir == NULL || !g_deliver_carol(c))
		return 0;
	if (practice_inbox_list(c->datadir, &m, &n, &err) == -1) {
		free(err);
		return 0;
	}
	for (i = 0; i < n && !found; i++)
		if (strcmp(m[i].user, "carol") == 0)
			found = ls_body_has_dot_line(m[i].path);
	practice_inbox_free(m, n);
	return found;
}

static int
g_err_unknown(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_RCPT, 550, 550, "5.1.1", NULL);
}

static int
g_err_temp(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_RCPT, 400, 499, NULL, NULL);
}

static int
g_err_relay(const struct lesson_ctx *c)
{
	return ls_has(c, SMTP_STAGE_RCPT, 554, 554, "5.7.1", NULL);
}

/* ---- the lessons -------------------------------------------------------- */

/* ---- issue 22: the smuggling lesson's goals ------------------------ */

/* A message in bob's inbox holds <LF>.<LF> as content. */
static int
g_bare_lf_kept(const struct lesson_ctx *c)
{
	struct practice_message *m;
	char *err = NULL, *buf;
	size_t n, i, len, j;
	int found = 0;
	FILE *f;

	if (c->datadir == NULL || !g_deliver_bob(c))
		return 0;
	if (practice_inbox_list(c->datadir, &m, &n, &err) == -1) {
		free(err);
		return 0;
	}
	buf = xmalloc(PRACTICE_SIZE_LIMIT + 4096);
	for (i = 0; i < n && !found; i++) {
		if (strcmp(m[i].user, "bob") != 0 ||
		    (f = fopen(m[i].path, "rb")) == NULL)
			continue;
		len = fread(buf, 1, PRACTICE_SIZE_LIMIT + 4096, f);
		(void)fclose(f);
		for (j = 1; j + 2 < len && !found; j++)
			found = buf[j - 1] != '\r' && buf[j] == '\n' &&
			    buf[j + 1] == '.' && buf[j + 2] == '\n';
	}
	free(buf);
	practice_inbox_free(m, n);
	return found;
}

static const struct lesson_goal goals_smuggling[] = {
    {"a message to bob@practice.test was accepted at the real end",
        "MAIL, RCPT TO:<bob@practice.test>, DATA, then end with \".\"",
        g_deliver_bob},
    {"bob's message holds <LF>.<LF> as content",
        "inside DATA type: /raw hello\\n.\\nMAIL FROM:<x@practice.test>"
        "\\r\\n then \".\"",
        g_bare_lf_kept},
};

#define GOALS(g) (g), (sizeof(g) / sizeof((g)[0]))

static const struct lesson_goal goals_greeting[] = {
    {"the server greeted you with 220",
        "nothing to type: connecting is enough; the 220 comes first",
        g_greeting},
    {"EHLO was answered with 250 and the list of extensions",
        "type: EHLO learner.example", g_ehlo},
    {"HELP was answered with 214", "type: HELP", g_help},
};

static const struct lesson_goal goals_mail[] = {
    {"MAIL FROM was accepted (250 2.1.0)",
        "after EHLO, type: MAIL FROM:<alice@practice.test>", g_mail},
    {"the null sender MAIL FROM:<> was accepted too",
        "end the first transaction with RSET, then type: MAIL FROM:<>",
        g_mail_null},
};

static const struct lesson_goal goals_rcpt[] = {
    {"RCPT TO:<bob@practice.test> was accepted (250 2.1.5)",
        "after MAIL FROM, type: RCPT TO:<bob@practice.test>", g_rcpt_bob},
    {"a recipient was refused with 550 (no such user)",
        "try a name that does not exist: RCPT TO:<nobody@practice.test>",
        g_rcpt_550},
};

static const struct lesson_goal goals_data[] = {
    {"DATA was answered with 354 (go ahead)",
        "after an accepted RCPT, type: DATA", g_data_354},
    {"a message to bob@practice.test was accepted (250 after the final "
     "dot)",
        "after the 354 type a few header lines (Subject: hello), an empty "
        "line, the body, and a line with only a dot",
        g_deliver_bob},
};

static const struct lesson_goal goals_quit[] = {
    {"two messages were delivered over the same connection",
        "after the first message's 250, start again with MAIL FROM",
        g_two_messages},
    {"QUIT was answered with 221",
        "type QUIT (ehlo also sends it at the end of a script)", g_quit},
};

static const struct lesson_goal goals_vrfy[] = {
    {"VRFY was answered (250 or 252)", "type: VRFY bob", g_vrfy},
    {"EXPN staff listed the members of the list", "type: EXPN staff",
        g_expn_staff},
};

static const struct lesson_goal goals_rset[] = {
    {"VERB was answered with 250 (as sendmail once did)", "type: VERB", g_verb},
    {"RSET abandoned an open transaction (250)",
        "type MAIL FROM:<alice@practice.test>, then RSET", g_rset_txn},
};

static const struct lesson_goal goals_starttls[] = {
    {"STARTTLS was answered with 220", "after EHLO, type: STARTTLS",
        g_starttls},
    {"the TLS handshake succeeded (certificate verified)",
        "ehlo lesson gives ehlo the practice certificate with --cafile; "
        "the handshake follows the 220 by itself",
        g_tls},
    {"EHLO was sent again inside TLS and answered 250",
        "after the handshake the server forgot everything: type EHLO "
        "learner.example again",
        g_ehlo_after_tls},
};

static const struct lesson_goal goals_auth[] = {
    {"AUTH succeeded (235 2.7.0)",
        "type: AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ= (base64 of "
        "\"\\0alice\\0wonderland\"), or /auth PLAIN alice with "
        "EHLO_PASSWORD=wonderland",
        g_auth},
    {"a recipient outside practice.test was accepted (relaying)",
        "after AUTH: MAIL FROM:<alice@practice.test>, then RCPT "
        "TO:<friend@elsewhere.example>",
        g_relay},
};

static const struct lesson_goal goals_pipelining[] = {
    {"MAIL and RCPT went out in one pipelined group",
        "put /pipeline before MAIL FROM and /end after DATA", g_pipelined},
    {"the pipelined transaction delivered its message",
        "after the 354 send the content and the final dot as usual",
        g_pipelined_delivery},
};

static const struct lesson_goal goals_dotstuff[] = {
    {"a message to carol@practice.test was accepted",
        "MAIL FROM, RCPT TO:<carol@practice.test>, DATA, content, \".\"",
        g_deliver_carol},
    {"carol's message has a body line that starts with a dot",
        "type that line with the dot doubled, e.g. \"..signature\"; the "
        "server removes one dot",
        g_dot_line},
};

static const struct lesson_goal goals_errors[] = {
    {"550 5.1.1: a permanent failure, no such mailbox",
        "RCPT TO:<nobody@practice.test>", g_err_unknown},
    {"4xx: a temporary failure (try again later)",
        "RCPT TO:<tempfail@practice.test> or RCPT "
        "TO:<greylist@practice.test>",
        g_err_temp},
    {"554 5.7.1: relaying refused for an outside domain",
        "without AUTH, RCPT TO:<someone@elsewhere.example>", g_err_relay},
};

static const struct lesson lessons[] = {
    {"greeting", "Connect: the greeting and EHLO",
        "An SMTP conversation starts when the client connects: the server "
        "speaks first, with a 220 greeting that names it. The client then "
        "introduces itself with EHLO (or the older HELO). The server's "
        "answer to EHLO is a multi-line 250 reply: the first line greets "
        "you back, every further line names an extension it supports, "
        "such as PIPELINING, SIZE, STARTTLS or AUTH.\n\n"
        "Every reply starts with a three-digit code. The first digit is "
        "what matters most: 2 means done, 3 means go on, 4 means try "
        "again later, 5 means no.",
        "Connect to the practice server, read its greeting, say EHLO and "
        "read the extensions it offers, then ask it for HELP.",
        GOALS(goals_greeting), "EHLO learner.example\nHELP\nQUIT\n"},
    {"mail", "MAIL FROM: who is sending",
        "A mail transaction begins with MAIL FROM:<address>, the "
        "envelope sender (the reverse-path). It is where bounces go, and "
        "it need not match the From: line people see. The server answers "
        "250 2.1.0 when it accepts it.\n\n"
        "The null sender <> means \"send no bounce\": servers use it for "
        "bounces themselves, so that two servers never bounce bounces at "
        "each other forever. MAIL is refused with 503 before EHLO, and "
        "while another transaction is open: RSET ends one.",
        "Start a transaction as alice@practice.test; then abandon it with "
        "RSET and start one with the null sender.",
        GOALS(goals_mail),
        "EHLO learner.example\nMAIL FROM:<alice@practice.test>\nRSET\n"
        "MAIL FROM:<>\nQUIT\n"},
    {"rcpt", "RCPT TO: who receives",
        "Each recipient is named with its own RCPT TO:<address>, and each "
        "gets its own reply: some may be accepted (250 2.1.5) and others "
        "refused, in the same transaction. A refused recipient does not "
        "end the transaction; the message goes to the accepted ones.\n\n"
        "The envelope recipients decide where the message goes; the To: "
        "and Cc: lines inside the message are only text for people. That "
        "is how Bcc works.",
        "In one transaction, name bob@practice.test as a recipient, and "
        "also someone who does not exist, and read both replies.",
        GOALS(goals_rcpt),
        "EHLO learner.example\nMAIL FROM:<alice@practice.test>\n"
        "RCPT TO:<bob@practice.test>\nRCPT TO:<nobody@practice.test>\n"
        "/expect 550\nRSET\nQUIT\n"},
    {"data", "DATA: the message itself",
        "DATA asks to send the message. The server answers 354: from now "
        "on every line is content, not a command. The content is the "
        "message as RFC 5322 describes it: header lines (From:, To:, "
        "Subject:), an empty line, then the body.\n\n"
        "A line holding only a dot ends the content. The server then "
        "answers once for the whole message: 250 means it has taken "
        "responsibility for delivering it.",
        "Deliver a message to bob@practice.test (with a Subject:), and "
        "read the 250 that accepts it.",
        GOALS(goals_data),
        "EHLO learner.example\nMAIL FROM:<alice@practice.test>\n"
        "RCPT TO:<bob@practice.test>\nDATA\nFrom: alice@practice.test\n"
        "To: bob@practice.test\nSubject: hello Bob\n\n"
        "Hi Bob, this came through the practice server.\n.\nQUIT\n"},
    {"quit", "QUIT: ending the session",
        "One connection can carry many transactions: after the 250 that "
        "accepts a message, the next MAIL FROM starts a new one. When the "
        "client is done it sends QUIT; the server answers 221 and closes "
        "the connection.\n\n"
        "Closing without QUIT works too, but a polite client says goodbye "
        "and waits for the 221, so both sides know nothing was lost.",
        "Send two messages over the same connection, then QUIT.",
        GOALS(goals_quit),
        "EHLO learner.example\nMAIL FROM:<alice@practice.test>\n"
        "RCPT TO:<bob@practice.test>\nDATA\nSubject: one\n\nfirst\n.\n"
        "MAIL FROM:<alice@practice.test>\nRCPT TO:<carol@practice.test>\n"
        "DATA\nSubject: two\n\nsecond\n.\nQUIT\n"},
    {"vrfy", "VRFY and EXPN: asking about addresses",
        "VRFY asks whether an address exists; EXPN asks who is on a "
        "mailing list. Spammers used both to harvest addresses, so most "
        "real servers switch them off: EXPN gets 500 or 502, and VRFY "
        "often gets 252 (\"cannot verify, but will try to deliver\").\n\n"
        "The practice server answers both: VRFY with 250 for a mailbox, "
        "252 for a list, 550 5.1.1 for an unknown name; EXPN with one 250 "
        "line per member.",
        "Find out whether bob exists, and who is on the staff list.",
        GOALS(goals_vrfy),
        "EHLO learner.example\nVRFY bob\nEXPN staff\nQUIT\n"},
    {"rset", "VERB and RSET",
        "RSET abandons the current transaction (sender, recipients, any "
        "content) but keeps the connection and what EHLO established. "
        "Use it when something went wrong half-way.\n\n"
        "VERB is a relic: sendmail answered it with \"250 2.0.0 Verbose "
        "mode\" and then reported each delivery step. The practice server "
        "answers the same way (and says so); modern servers answer 500 or "
        "502.",
        "Say VERB and read the answer; then start a transaction and "
        "abandon it with RSET.",
        GOALS(goals_rset),
        "EHLO learner.example\nVERB\nMAIL FROM:<alice@practice.test>\n"
        "RSET\nQUIT\n"},
    {"starttls", "STARTTLS: encrypting the connection",
        "SMTP starts in plain text. If EHLO lists STARTTLS, the client may "
        "send STARTTLS; after the server's 220 both sides run a TLS "
        "handshake on the same connection, and the client checks the "
        "server's certificate.\n\n"
        "After the handshake the session starts over: the server forgets "
        "EHLO and anything before it, and may now offer other extensions "
        "(often AUTH). So the client sends EHLO again.",
        "Upgrade the connection with STARTTLS, and greet the server again "
        "inside TLS.",
        GOALS(goals_starttls),
        "EHLO learner.example\nSTARTTLS\nEHLO learner.example\nQUIT\n"},
    {"auth", "AUTH: logging in",
        "AUTH logs in with a SASL mechanism. PLAIN sends "
        "\"authorization-id NUL user NUL password\" in base64, in one "
        "line; LOGIN asks for the user and the password in two 334 "
        "prompts; CRAM-MD5 proves the password without sending it. "
        "Success is 235 2.7.0, a wrong password 535 5.7.8.\n\n"
        "Base64 is not encryption: use AUTH only inside TLS on real "
        "servers. Logging in is what lets a server relay mail to other "
        "domains for you. The practice accounts are alice/wonderland, "
        "bob/builder and carol/christmas.",
        "Log in as alice, then send mail to an address outside "
        "practice.test (the practice server keeps it instead of sending "
        "it out).",
        GOALS(goals_auth),
        "EHLO learner.example\nAUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\n"
        "MAIL FROM:<alice@practice.test>\n"
        "RCPT TO:<friend@elsewhere.example>\nDATA\nSubject: relayed\n\n"
        "Sent after logging in.\n.\nQUIT\n"},
    {"pipelining", "PIPELINING: fewer round trips",
        "Normally the client waits for each reply before the next "
        "command. When EHLO lists PIPELINING, the client may send MAIL, "
        "all the RCPTs and DATA in one go, and read the replies after: "
        "they come back in the same order. On a slow link that saves a "
        "round trip per command.\n\n"
        "DATA must be the last command of a group: the content may only "
        "follow the 354. The practice server hangs up (554 5.5.0) on a "
        "client that sends it earlier.",
        "Send MAIL, two RCPTs and DATA as one pipelined group (/pipeline "
        "... /end), then the message.",
        GOALS(goals_pipelining),
        "EHLO learner.example\n/pipeline\nMAIL FROM:<alice@practice.test>\n"
        "RCPT TO:<bob@practice.test>\nRCPT TO:<carol@practice.test>\nDATA\n"
        "/end\nSubject: pipelined\n\nAll at once.\n.\nQUIT\n"},
    {"dotstuff", "Dot-stuffing: a line that starts with a dot",
        "A line with only a dot ends the content. So how do you send a "
        "line that starts with a dot? The client doubles the dot; the "
        "server removes one. This is dot-stuffing (RFC 5321 4.5.2), and "
        "mail programs do it for you. Typing by hand, you do it "
        "yourself.\n\n"
        "Forgetting it loses the dot, or worse: a line \".\" ends the "
        "message early, and the rest is read as commands.",
        "Send carol@practice.test a message with a body line that starts "
        "with a dot (like \"..signature\" for \".signature\").",
        GOALS(goals_dotstuff),
        "EHLO learner.example\nMAIL FROM:<alice@practice.test>\n"
        "RCPT TO:<carol@practice.test>\nDATA\nSubject: dots\n\n"
        "..signature starts with a dot\n.\nQUIT\n"},
    {"errors", "Reading error codes",
        "A reply code has three digits. The first says what to do: 2 "
        "done, 3 go on, 4 temporary (keep the message, try later), 5 "
        "permanent (give up, bounce). The second says about what: 0 "
        "syntax, 1 information, 2 the connection, 5 the mail system.\n\n"
        "The enhanced code after it (RFC 3463) is more precise: 5.1.1 is "
        "a bad mailbox, 4.7.1 or 5.7.1 a policy (greylisting, relaying), "
        "5.2.2 a full mailbox. `ehlo explain CODE` explains any of them.",
        "Make the practice server refuse a recipient permanently as "
        "unknown, temporarily, and as a relay attempt.",
        GOALS(goals_errors),
        "EHLO learner.example\nMAIL FROM:<alice@practice.test>\n"
        "RCPT TO:<nobody@practice.test>\nRCPT TO:<tempfail@practice.test>\n"
        "RCPT TO:<someone@elsewhere.example>\nRSET\nQUIT\n"},
    /* issue 22 */
    {"smuggling", "SMTP smuggling: where does a message end?",
        "Only <CR><LF>.<CR><LF> ends a message's data (RFC 5321 4.1.1.4), "
        "and lines end in CR LF, never in a bare LF (2.3.8). Some servers "
        "were lenient and also ended the data at <LF>.<LF>. An attacker "
        "can then hide a second message, with a forged sender, after "
        "<LF>.<LF> inside the first: the sending server sees content, "
        "the lenient receiver sees two messages. That is SMTP smuggling "
        "(December 2023).\n\n"
        "/raw sends bytes exactly, with \\n for a bare LF and \\r\\n "
        "for CR LF. The practice server of this lesson is strict: what "
        "follows <LF>.<LF> stays content, and only the real end gets the "
        "250. Side by side: run ehlo practice --lenient-eod and try the "
        "same there, or let ehlo probe smuggling 127.0.0.1:2525 --to "
        "bob@practice.test compare both (ehlo explain smuggling).",
        "Send bob@practice.test a message whose content holds <LF>.<LF> "
        "and a smuggled MAIL FROM line after it, then end it properly "
        "and read the one 250.",
        GOALS(goals_smuggling),
        "EHLO learner.example\nMAIL FROM:<alice@practice.test>\n"
        "RCPT TO:<bob@practice.test>\nDATA\nSubject: smuggling\n\n"
        "/raw hello\\n.\\nMAIL FROM:<mallory@practice.test>\\r\\n\n"
        ".\nQUIT\n"},
};

#define NLESSONS (sizeof lessons / sizeof lessons[0])

size_t
lesson_count(void)
{
	return NLESSONS;
}

const struct lesson *
lesson_at(size_t i)
{
	return i < NLESSONS ? &lessons[i] : NULL;
}

const struct lesson *
lesson_find(const char *name)
{
	size_t i;

	for (i = 0; i < NLESSONS; i++)
		if (strcasecmp(lessons[i].name, name) == 0)
			return &lessons[i];
	return NULL;
}

size_t
lesson_progress(const struct lesson *l, const struct lesson_ctx *c, int *done)
{
	size_t i, n = 0;
	int ok;

	for (i = 0; i < l->ngoals; i++) {
		ok = c->session != NULL && l->goals[i].met(c);
		if (done != NULL)
			done[i] = ok;
		n += ok != 0;
	}
	return n;
}

const struct lesson_goal *
lesson_next_goal(const struct lesson *l, const struct lesson_ctx *c)
{
	size_t i;

	for (i = 0; i < l->ngoals; i++)
		if (c->session == NULL || !l->goals[i].met(c))
			return &l->goals[i];
	return NULL;
}

char *
lesson_wrap(const char *text, size_t width, const char *indent)
{
	struct buf b;
	const char *p = text, *w, *we;
	size_t col, ind = strlen(indent), wl;
	char *out;

	buf_init(&b, 0);
	while (*p != '\0') {
		/* one paragraph: up to "\n\n" or the end */
		col = 0;
		for (;;) {
			while (*p == ' ' || (*p == '\n' && p[1] != '\n'))
				p++;
			if (*p == '\0' || (*p == '\n' && p[1] == '\n'))
				break;
			w = p;
			while (*p != '\0' && *p != ' ' && *p != '\n')
				p++;
			we = p;
			wl = (size_t)(we - w);
			if (col > 0 && col + 1 + wl > width) {
				(void)buf_add(&b, "\n", 1);
				col = 0;
			}
			if (col == 0) {
				(void)buf_add_str(&b, indent);
				col = ind;
			} else {
				(void)buf_add(&b, " ", 1);
				col++;
			}
			(void)buf_add(&b, w, wl);
			col += wl;
		}
		if (col > 0)
			(void)buf_add(&b, "\n", 1);
		if (*p == '\n') {
			p += 2;
			if (*p != '\0')
				(void)buf_add(&b, "\n", 1);
		}
	}
	out = xstrndup(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	return out;
}
