/*
 * Unit tests for protocol/knowledge/, the knowledge base: every reply
 * code of RFC 5321 4.2.2-4.2.3 and the extensions, every enhanced code
 * of RFC 3463 and the IANA registry, every command of the command table
 * has a complete entry; lookups ignore case and fall back to classes;
 * the one-line meanings are specific where a pair is well known and
 * short; the text never exceeds its width; and every reply the real
 * servers of notes/real-servers.md send has an explanation.  The data
 * files give the same texts as the C tables they replaced, and their
 * parser (explain_load.c) copes with anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocol/command.h"
#include "protocol/explain.h"
#include "protocol/knowledge/explain_int.h"
#include "protocol/sasl.h"

static void
assert_complete(const struct smtp_explain *e, const char *what)
{
	if (e == NULL)
		fail_msg("no entry for %s", what);
	assert_non_null(e->key);
	if (e->title == NULL || e->title[0] == '\0' || e->meaning == NULL ||
	    e->meaning[0] == '\0' || e->rfc == NULL || e->rfc[0] == '\0')
		fail_msg("entry %s lacks a title, meaning or rfc", what);
}

static const int rfc5321_codes[] = {211, 214, 220, 221, 250, 251, 252, 354, 421,
    450, 451, 452, 455, 500, 501, 502, 503, 504, 550, 551, 552, 553, 554, 555};
/* RFC 4954, 3207, 1870, 7504, 1985 (ETRN). */
static const int extension_codes[] = {235, 334, 432, 454, 500, 530, 534, 535,
    538, 220, 501, 552, 555, 521, 556, 253, 458, 459};

static void
test_reply_codes(void **state)
{
	char what[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rfc5321_codes / sizeof rfc5321_codes[0]; i++) {
		(void)snprintf(what, sizeof what, "%d", rfc5321_codes[i]);
		assert_complete(smtp_explain_code(rfc5321_codes[i]), what);
		assert_string_equal(
		    smtp_explain_code(rfc5321_codes[i])->key, what);
	}
	for (i = 0; i < sizeof extension_codes / sizeof extension_codes[0];
	     i++) {
		(void)snprintf(what, sizeof what, "%d", extension_codes[i]);
		assert_complete(smtp_explain_code(extension_codes[i]), what);
	}
	assert_null(smtp_explain_code(0));
	assert_null(smtp_explain_code(999));
	assert_null(smtp_explain_code(599));
	assert_null(smtp_explain_code(-250));
}

/* Subject, highest detail: RFC 3463 and the IANA registry. */
static const struct {
	int subject, last;
} registry[] = {
    {0, 0}, {1, 10}, {2, 4}, {3, 6}, {4, 7}, {5, 6}, {6, 10}, {7, 30}};

static void
test_enhanced_codes(void **state)
{
	static const char cls[] = {'2', '4', '5', 'X', 'x'};
	char code[16], key[16];
	size_t i, c;
	int d;

	(void)state;
	for (i = 0; i < sizeof registry / sizeof registry[0]; i++)
		for (d = 0; d <= registry[i].last; d++) {
			(void)snprintf(
			    key, sizeof key, "X.%d.%d", registry[i].subject, d);
			for (c = 0; c < sizeof cls; c++) {
				const struct smtp_explain *e;

				(void)snprintf(code, sizeof code, "%c.%d.%d",
				    cls[c], registry[i].subject, d);
				e = smtp_explain_enhanced(code);
				assert_complete(e, code);
				assert_string_equal(e->key, key);
			}
		}
	/* Not registered, or not an enhanced code. */
	assert_null(smtp_explain_enhanced("5.1.11"));
	assert_null(smtp_explain_enhanced("5.7.31"));
	assert_null(smtp_explain_enhanced("5.8.0"));
	assert_null(smtp_explain_enhanced("3.1.1"));
	assert_null(smtp_explain_enhanced("1.1.1"));
	assert_null(smtp_explain_enhanced("5.1"));
	assert_null(smtp_explain_enhanced("5.1.1.1"));
	assert_null(smtp_explain_enhanced("5..1"));
	assert_null(smtp_explain_enhanced("5.1.1 "));
	assert_null(smtp_explain_enhanced("55.1.1"));
	assert_null(smtp_explain_enhanced("5.1.1111"));
	assert_null(smtp_explain_enhanced(""));
	assert_null(smtp_explain_enhanced(NULL));
	/* The registry's own titles for a few famous ones. */
	assert_string_equal(smtp_explain_enhanced("5.7.8")->title,
	    "Authentication credentials invalid");
	assert_string_equal(smtp_explain_enhanced("5.1.1")->title,
	    "Bad destination mailbox address");
	assert_string_equal(
	    smtp_explain_enhanced("5.7.23")->title, "SPF validation failed");
}

static void
test_classes(void **state)
{
	int c;

	(void)state;
	for (c = 2; c <= 5; c++)
		assert_complete(smtp_explain_reply_class(c), "reply class");
	assert_null(smtp_explain_reply_class(1));
	assert_null(smtp_explain_reply_class(6));
	assert_complete(smtp_explain_class(2), "2.X.X");
	assert_complete(smtp_explain_class(4), "4.X.X");
	assert_complete(smtp_explain_class(5), "5.X.X");
	assert_null(smtp_explain_class(3));
	assert_null(smtp_explain_class(0));
}

static void
test_verbs(void **state)
{
	const struct smtp_command *c;

	(void)state;
	for (c = smtp_commands; c->name != NULL; c++) {
		const struct smtp_explain *e = smtp_explain_verb(c->name);

		assert_complete(e, c->name);
		assert_string_equal(e->key, c->name);
		assert_non_null(e->causes);
		assert_non_null(e->action);
	}
	assert_ptr_equal(smtp_explain_verb("vrfy"), smtp_explain_verb("VRFY"));
	assert_ptr_equal(
	    smtp_explain_verb("StartTLS"), smtp_explain_verb("STARTTLS"));
	assert_null(smtp_explain_verb("FOO"));
	assert_null(smtp_explain_verb(""));
	assert_null(smtp_explain_verb(NULL));
	/* The servers' differences are spelled out where they matter. */
	assert_non_null(strstr(smtp_explain_verb("VRFY")->servers, "252"));
	assert_non_null(strstr(smtp_explain_verb("EXPN")->servers, "502"));
	assert_non_null(strstr(smtp_explain_verb("VERB")->meaning, "sendmail"));
	assert_non_null(strstr(smtp_explain_verb("MAIL")->servers, "250"));
	assert_non_null(strstr(smtp_explain_code(252)->servers, "Postfix"));
}

static void
test_every_entry(void **state)
{
	size_t i, n = smtp_explain_count();

	(void)state;
	assert_true(n > 130);
	assert_null(smtp_explain_at(n));
	for (i = 0; i < n; i++) {
		const struct smtp_explain *e = smtp_explain_at(i);
		const char *f[] = {e->title, e->meaning, e->causes, e->action,
		    e->servers, e->rfc};
		size_t k, j;

		assert_complete(e, e->key);
		assert_string_not_equal(smtp_explain_kind(e), "?");
		/* Titles double as one-line meanings in the stage pane. */
		if (strlen(e->title) > 50)
			fail_msg("title of %s is over 50 columns", e->key);
		/* Plain ASCII: a column is a byte. */
		for (k = 0; k < sizeof f / sizeof f[0]; k++)
			for (j = 0; f[k] != NULL && f[k][j] != '\0'; j++)
				if ((unsigned char)f[k][j] < 0x20 ||
				    (unsigned char)f[k][j] > 0x7e)
					fail_msg("%s: byte 0x%02x", e->key,
					    (unsigned char)f[k][j]);
		/* Keys are unique within a kind (AUTH is a command and an
		 * EHLO keyword, but one command). */
		for (j = 0; j < i; j++)
			if (strcmp(smtp_explain_at(j)->key, e->key) == 0 &&
			    strcmp(smtp_explain_kind(smtp_explain_at(j)),
			        smtp_explain_kind(e)) == 0)
				fail_msg("duplicate key %s", e->key);
	}
	assert_string_equal(smtp_explain_kind(smtp_explain_code(550)), "reply");
	assert_string_equal(
	    smtp_explain_kind(smtp_explain_enhanced("5.1.1")), "enhanced");
	assert_string_equal(
	    smtp_explain_kind(smtp_explain_verb("RSET")), "verb");
}

/* Topics by name, blanks as '-', with the RFC 5321 rules (issue 22). */
static void
test_named_topics(void **state)
{
	struct smtp_explain_hit h[2];

	(void)state;
	assert_int_equal(smtp_explain_lookup("smuggling", h), 1);
	assert_string_equal(smtp_explain_kind(h[0].entry), "topic");
	assert_non_null(strstr(h[0].entry->rfc, "4.1.1.4"));
	assert_int_equal(smtp_explain_lookup("Bare  LF", h), 1);
	assert_string_equal(h[0].entry->key, "bare-lf");
	assert_non_null(strstr(h[0].entry->rfc, "2.3.8"));
	assert_int_equal(smtp_explain_lookup("end-of-data", h), 1);
	assert_non_null(strstr(h[0].entry->meaning, "<CR><LF>.<CR><LF>"));
	assert_int_equal(smtp_explain_lookup("smuggling now", h), 0);
}

static void
test_oneline(void **state)
{
	(void)state;
	assert_string_equal(smtp_explain_oneline("RCPT", 550, "5.1.1"),
	    "no such mailbox at the receiving server");
	assert_string_equal(smtp_explain_oneline("rcpt", 550, "5.1.1"),
	    "no such mailbox at the receiving server");
	assert_string_equal(smtp_explain_oneline("RCPT TO:<b@x>", 550, "5.1.1"),
	    "no such mailbox at the receiving server");
	assert_string_equal(smtp_explain_oneline("MAIL", 552, "5.3.4"),
	    "message too large for the server (SIZE)");
	assert_string_equal(smtp_explain_oneline("DATA", 354, ""),
	    "go ahead: send the message, end with a lone dot");
	/* After the data: a full mailbox (LMTP's reply for one recipient)
	 * is not a message too large. */
	assert_string_equal(smtp_explain_oneline("end of data", 552, "5.2.2"),
	    "mailbox full: rejected for this recipient");
	assert_string_equal(smtp_explain_oneline("end of data", 552, "5.3.4"),
	    "message too large: rejected");
	assert_string_equal(
	    smtp_explain_oneline("EHLO", 250, NULL), "capabilities listed");
	assert_string_equal(smtp_explain_oneline("STARTTLS", 220, "2.0.0"),
	    "start the TLS handshake now");
	assert_string_equal(smtp_explain_oneline("AUTH", 334, NULL),
	    "server wants the next SASL step");
	assert_string_equal(
	    smtp_explain_oneline("AUTH", 235, "2.7.0"), "authenticated");
	assert_string_equal(
	    smtp_explain_oneline("AUTH", 535, "5.7.8"), "credentials rejected");
	assert_string_equal(smtp_explain_oneline("greeting", 220, NULL),
	    "server ready: say EHLO");
	assert_string_equal(smtp_explain_oneline("RCPT", 554, "5.7.1"),
	    "relay access denied: not this server's domain");
	assert_string_equal(smtp_explain_oneline("VRFY", 252, "2.0.0"),
	    "cannot verify, but would try delivery");
	assert_string_equal(smtp_explain_oneline("end of data", 250, "2.0.0"),
	    "message accepted for delivery");
	/* Any verb: a pair that means the same everywhere. */
	assert_string_equal(smtp_explain_oneline("MAIL", 421, "4.7.0"),
	    "too many errors or policy: closing");
	/* Fallbacks: enhanced title, then code title, then class. */
	assert_string_equal(smtp_explain_oneline("end of data", 550, "5.7.26"),
	    "message rejected");
	assert_string_equal(smtp_explain_oneline("other", 550, "5.7.26"),
	    "Multiple authentication checks failed");
	assert_string_equal(
	    smtp_explain_oneline(NULL, 550, "5.7.23"), "SPF validation failed");
	assert_string_equal(smtp_explain_oneline(NULL, 451, "4.3.0"),
	    smtp_explain_code(451)->title);
	assert_string_equal(smtp_explain_oneline(NULL, 550, NULL),
	    smtp_explain_code(550)->title);
	assert_string_equal(smtp_explain_oneline(NULL, 571, "5.9.9"),
	    smtp_explain_reply_class(5)->title);
	assert_string_equal(smtp_explain_oneline("RCPT", 471, NULL),
	    smtp_explain_reply_class(4)->title);
	assert_non_null(smtp_explain_oneline(NULL, 0, NULL));
	assert_non_null(smtp_explain_oneline(NULL, 999, "x"));
	assert_non_null(smtp_explain_oneline("", 12, ""));
}

/* Every line of s is at most width columns; returns the line count. */
static size_t
check_width(const char *s, size_t width)
{
	size_t lines = 0;

	while (*s != '\0') {
		const char *nl = strchr(s, '\n');

		assert_non_null(nl);
		if ((size_t)(nl - s) > width)
			fail_msg("line over %zu columns: %.*s", width,
			    (int)(nl - s), s);
		if (nl > s && nl[-1] == ' ')
			fail_msg("trailing blank: %.*s", (int)(nl - s), s);
		lines++;
		s = nl + 1;
	}
	return lines;
}

static void
test_text_width(void **state)
{
	size_t i, n = smtp_explain_count();
	static const size_t widths[] = {78, 75, 60, 40, 20};
	size_t w;

	(void)state;
	for (i = 0; i < n; i++) {
		const struct smtp_explain *e = smtp_explain_at(i);
		char *t = smtp_explain_text(e->key);

		if (t == NULL)
			fail_msg("no text for key %s", e->key);
		assert_true(check_width(t, 78) >= 4);
		assert_non_null(strstr(t, e->title));
		free(t);
		for (w = 1; w < sizeof widths / sizeof widths[0]; w++) {
			t = smtp_explain_text_width(e->key, widths[w]);
			assert_non_null(t);
			(void)check_width(t, widths[w]);
			free(t);
		}
	}
	/* A width below the minimum is raised to 20. */
	{
		char *t = smtp_explain_text_width("550", 5);

		(void)check_width(t, 20);
		free(t);
	}
}

static void
test_text_queries(void **state)
{
	char *t;

	(void)state;
	t = smtp_explain_text("550");
	assert_non_null(t);
	assert_true(strncmp(t, "550: ", 5) == 0);
	assert_non_null(strstr(t, "RFC 5321"));
	free(t);

	t = smtp_explain_text("5.7.1");
	assert_non_null(t);
	assert_true(strncmp(t, "5.7.1: Delivery not authorized", 30) == 0);
	assert_non_null(strstr(t, "registry entry X.7.1"));
	free(t);

	t = smtp_explain_text("vrfy");
	assert_non_null(t);
	assert_true(strncmp(t, "VRFY: ", 6) == 0);
	assert_non_null(strstr(t, "Syntax: VRFY"));
	free(t);

	/* Both parts, in order, and pasted reply lines. */
	t = smtp_explain_text("550 5.1.1");
	assert_non_null(t);
	assert_true(strncmp(t, "550: ", 5) == 0);
	assert_non_null(strstr(t, "\n\n5.1.1: Bad destination mailbox"));
	free(t);
	t = smtp_explain_text("  550-5.1.1 <bob@example.org>: user unknown");
	assert_non_null(t);
	assert_non_null(strstr(t, "5.1.1: Bad destination mailbox"));
	free(t);
	t = smtp_explain_text("550 user unknown");
	assert_non_null(t);
	assert_null(strstr(t, "X.1.1"));
	free(t);

	/* Classes. */
	t = smtp_explain_text("5xx");
	assert_non_null(t);
	assert_true(strncmp(t, "5xx: Permanent negative", 23) == 0);
	free(t);
	t = smtp_explain_text("4XX");
	assert_non_null(t);
	free(t);
	t = smtp_explain_text("5.x.x");
	assert_non_null(t);
	assert_true(strncmp(t, "5.X.X: Permanent failure", 24) == 0);
	free(t);
	t = smtp_explain_text("X.7.8");
	assert_non_null(t);
	free(t);

	/* Unregistered codes explain their class, and say so. */
	t = smtp_explain_text("571");
	assert_non_null(t);
	assert_non_null(strstr(t, "571 is not a registered reply code"));
	assert_non_null(strstr(t, "5xx: "));
	free(t);
	t = smtp_explain_text("5.7.515");
	assert_non_null(t);
	assert_non_null(
	    strstr(t, "5.7.515 is not a registered enhanced status code"));
	free(t);

	/* A command line explains its verb. */
	t = smtp_explain_text("MAIL FROM:<a@example.org>");
	assert_non_null(t);
	assert_true(strncmp(t, "MAIL: ", 6) == 0);
	free(t);

	/* Unknown. */
	assert_null(smtp_explain_text("hello"));
	assert_null(smtp_explain_text("999"));
	assert_null(smtp_explain_text("199"));
	assert_null(smtp_explain_text("6.1.1"));
	assert_null(smtp_explain_text("3.1.1"));
	assert_null(smtp_explain_text("6xx"));
	assert_null(smtp_explain_text("55"));
	assert_null(smtp_explain_text("5501"));
	assert_null(smtp_explain_text(""));
	assert_null(smtp_explain_text("   "));
	assert_null(smtp_explain_text(NULL));
	assert_null(smtp_explain_text("\x1b[31m"));
}

static void
test_lookup(void **state)
{
	struct smtp_explain_hit h[2];

	(void)state;
	assert_int_equal(smtp_explain_lookup("550 5.1.1", h), 2);
	assert_ptr_equal(h[0].entry, smtp_explain_code(550));
	assert_ptr_equal(h[1].entry, smtp_explain_enhanced("5.1.1"));
	assert_string_equal(h[1].as, "5.1.1");
	assert_int_equal(h[0].fallback, 0);
	assert_int_equal(smtp_explain_lookup("x.1.1", h), 1);
	assert_string_equal(h[0].as, "X.1.1");
	/* The command first, then the EHLO keyword of the same name. */
	assert_int_equal(smtp_explain_lookup("etrn example.org", h), 2);
	assert_string_equal(h[0].as, "ETRN");
	assert_string_equal(smtp_explain_kind(h[0].entry), "verb");
	assert_string_equal(smtp_explain_kind(h[1].entry), "extension");
	assert_int_equal(smtp_explain_lookup("421 4.9.9", h), 2);
	assert_int_equal(h[1].fallback, 1);
	assert_ptr_equal(h[1].entry, smtp_explain_class(4));
	assert_int_equal(smtp_explain_lookup("nope", h), 0);
}

/*
 * What Postfix (and aiosmtpd, smtp-sink) send in the cases of
 * notes/real-servers.md, plus the practice server's teaching triggers:
 * each basic code and each enhanced code has its own explanation.
 */
static const struct {
	int code;
	const char *enhanced;
} real_replies[] = {{252, "2.0.0"}, {550, "5.1.1"}, {500, "5.5.2"},
    {250, "2.0.0"}, {552, "5.3.4"}, {555, "5.5.4"}, {554, "5.7.1"},
    {554, "5.5.1"}, {535, "5.7.8"}, {503, "5.5.1"}, {421, "4.7.0"}, {220, NULL},
    {221, "2.0.0"}, {235, "2.7.0"}, {334, NULL}, {354, NULL}, {250, "2.1.0"},
    {250, "2.1.5"}, {250, "2.6.0"}, {530, "5.7.0"}, {454, "4.7.0"},
    {451, "4.3.0"}, {452, "4.3.1"}, {450, "4.2.0"}, {550, "5.7.1"},
    {502, "5.5.1"}, {500, "5.5.1"}, {501, "5.1.7"}, {501, "5.5.4"},
    {504, "5.5.4"}, {452, "4.5.3"}, {553, "5.7.1"}, {552, "5.2.2"},
    {450, "4.7.1"}, {502, NULL}, {500, NULL}, {503, NULL}, {214, "2.0.0"},
    {211, NULL}, {550, "5.1.8"}, {450, "4.1.8"}};

static void
test_real_server_replies(void **state)
{
	char q[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof real_replies / sizeof real_replies[0]; i++) {
		struct smtp_explain_hit h[2];
		size_t want = real_replies[i].enhanced != NULL ? 2 : 1;
		char *t;

		(void)snprintf(q, sizeof q, "%d %s", real_replies[i].code,
		    real_replies[i].enhanced != NULL ? real_replies[i].enhanced
		                                     : "");
		assert_complete(smtp_explain_code(real_replies[i].code), q);
		if (real_replies[i].enhanced != NULL)
			assert_complete(
			    smtp_explain_enhanced(real_replies[i].enhanced), q);
		if (smtp_explain_lookup(q, h) != want || h[0].fallback ||
		    (want == 2 && h[1].fallback))
			fail_msg("\"%s\" is not fully explained", q);
		t = smtp_explain_text(q);
		assert_non_null(t);
		(void)check_width(t, 78);
		free(t);
	}
}

/*
 * Full texts as they were when the knowledge lived in C tables: the
 * data files and their parser must give the same bytes.
 */
static const struct {
	const char *query;
	const char *text;
} full_texts[] = {
    {"550",
        "550: Mailbox unavailable or action refused\n"
        "Reference: RFC 5321 4.2.2, 4.2.3\n"
        "What it means:\n"
        "  The requested action was not taken and will not be with this request.\n"
        "  Usually: the mailbox does not exist (5.1.1) or policy refuses the message or\n"
        "  the sender (5.7.1).\n"
        "Usual causes:\n"
        "  An unknown user, a typo in the address, a disabled account, relaying\n"
        "  refused, the sender or your IP on a blocklist, a failed SPF/DKIM/DMARC\n"
        "  check, content rejected as spam.\n"
        "What to do:\n"
        "  Read the enhanced code: 5.1.x means the address, 5.7.x means policy. Fix the\n"
        "  address, or contact the recipient's postmaster through another path.\n"
        "How real servers differ:\n"
        "  To VRFY: Postfix answers 550 5.1.1 for an unknown address, aiosmtpd 252 for\n"
        "  all, smtp-sink 250 for all. Some servers say 550 to RCPT only after DATA\n"
        "  (accept-then-reject).\n"},
    {"5.7.1",
        "5.7.1: Delivery not authorized, message refused\n"
        "Reference: RFC 3463 3.8 (registry entry X.7.1)\n"
        "What it means:\n"
        "  Policy forbids this: the sender may not send to this recipient through this\n"
        "  server. As 4.7.1 the refusal is temporary (often greylisting or rate\n"
        "  limiting).\n"
        "Usual causes:\n"
        "  Relaying (a recipient in a foreign domain without AUTH), a blocklisted\n"
        "  client IP, sender restrictions, spam filtering, greylisting (4.7.1).\n"
        "What to do:\n"
        "  For relaying: authenticate, or send to the recipient domain's own MX. For\n"
        "  blocklists: check your IP's reputation. For 4.7.1: retry after a few\n"
        "  minutes.\n"
        "How real servers differ:\n"
        "  Postfix: 554 5.7.1 <addr>: Relay access denied to RCPT; 553 5.7.1 for a\n"
        "  sender not owned by the user; 550 5.7.1 from access tables.\n"},
    {"VRFY",
        "VRFY: Ask whether an address exists\n"
        "Syntax: VRFY string\n"
        "Reference: RFC 5321 4.1.1.6, 3.5, 7.3\n"
        "What it does:\n"
        "  VRFY name asks the server to confirm a user or mailbox. It was meant for\n"
        "  humans; spammers used it to harvest addresses, so most servers hide the\n"
        "  answer.\n"
        "When it is legal:\n"
        "  Any time after the greeting; outside transactions is the usual place.\n"
        "Replies to expect:\n"
        "  250: verified (only allowed after a real check). 252: cannot verify, would\n"
        "  try delivery. 550: no such user. 553: ambiguous. 502: VRFY disabled.\n"
        "How real servers differ:\n"
        "  Postfix: 252 2.0.0 for a known address, 550 5.1.1 for an unknown one, 502\n"
        "  5.5.1 when disable_vrfy_command is set. aiosmtpd: 252 for any address.\n"
        "  smtp-sink: 250 for anything. Servers disagree, so only RCPT TO is a real\n"
        "  test.\n"},
};

static void
test_full_texts(void **state)
{
	const struct smtp_explain *e;
	size_t i;
	char *t;

	(void)state;
	for (i = 0; i < sizeof full_texts / sizeof full_texts[0]; i++) {
		struct smtp_explain_hit h[2];

		/* The first meaning only (VRFY is also an EHLO keyword). */
		assert_true(smtp_explain_lookup(full_texts[i].query, h) > 0);
		t = smtp_explain_format(h,
		    strcmp(smtp_explain_kind(h[0].entry), "verb") == 0
		        ? 1
		        : smtp_explain_lookup(full_texts[i].query, h),
		    SMTP_EXPLAIN_WIDTH);
		assert_non_null(t);
		assert_string_equal(t, full_texts[i].text);
		free(t);
	}
	/* Raw fields keep their exact spacing (two after a full stop). */
	e = smtp_explain_reply_class(2);
	assert_non_null(e);
	assert_string_equal(e->meaning,
	    "The server did what was asked.  A new command may be sent.  The "
	    "second digit says what the reply is about: x0x syntax, x1x "
	    "information (status, help), x2x the connection, x5x the mail "
	    "system.");
	assert_null(e->causes);
	/* Each file gives its whole table, in file order. */
	/* ... and the topics (issue 22; issue 18: socks, happy-eyeballs). */
	assert_int_equal(
	    smtp_explain_count(), 37 + 81 + 18 + 4 + 3 + 38 + 5 + 10 + 11 + 5);
	assert_string_equal(smtp_explain_at(0)->key, "211");
	assert_string_equal(smtp_explain_kind(smtp_explain_at(0)), "reply");
	assert_string_equal(smtp_explain_at(37)->key, "X.0.0");
	assert_string_equal(smtp_explain_at(37 + 81)->key, "EHLO");
	assert_string_equal(
	    smtp_explain_kind(smtp_explain_at(37 + 81 + 18)), "reply class");
	assert_string_equal(smtp_explain_at(37 + 81 + 18 + 4)->key, "2.X.X");
	assert_string_equal(smtp_explain_at(37 + 81 + 18 + 4 + 3)->key, "SIZE");
	assert_string_equal(
	    smtp_explain_kind(smtp_explain_at(37 + 81 + 18 + 4 + 3 + 38)),
	    "port");
	assert_null(smtp_explain_at(smtp_explain_count()));
	assert_string_equal(smtp_explain_oneline("end of data", 250, NULL),
	    "message accepted for delivery");
	assert_string_equal(
	    smtp_explain_oneline("MAIL FROM:<a@b>", 421, "4.7.0"),
	    "too many errors or policy: closing");
}

/* ---- the knowledge file parser (protocol/knowledge/explain_load.c) ---- */

static void
test_parse_entries(void **state)
{
	static const char text[] = "# a comment\r\n"
	                           "[ 550 ]\r\n"
	                           "title: Mailbox   unavailable  \r\n"
	                           "meaning: one\n"
	                           "  two  three\n"
	                           "\tfour\n"
	                           "\n"
	                           "# comments do not end a field\n"
	                           "  five\n"
	                           "color: ignored\n"
	                           "  ignored too\n"
	                           "rfc: RFC 5321\n"
	                           "[no-title]\n"
	                           "meaning: dropped: no title\n"
	                           "rfc: x\n"
	                           "title: bad\001byte, line skipped\n"
	                           "[0123456789012345678901234567890123]\n"
	                           "title: key too long\n"
	                           "[VRFY\n"
	                           "title: not a key line\n"
	                           "meaning: m\n"
	                           "rfc: r\n"
	                           "[X.1.1]\n"
	                           "title: t\n"
	                           "meaning: m\n"
	                           "rfc: r\n"
	                           "servers: last line without newline";
	struct explain_table t;

	(void)state;
	explain_table_parse(&t, text, sizeof text - 1);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.e[0].key, "550");
	assert_string_equal(t.e[0].title, "Mailbox   unavailable");
	assert_string_equal(t.e[0].meaning, "one two  three four five");
	assert_string_equal(t.e[0].rfc, "RFC 5321");
	assert_null(t.e[0].causes);
	assert_null(t.e[0].servers);
	assert_string_equal(t.e[1].key, "X.1.1");
	assert_string_equal(t.e[1].servers, "last line without newline");
	explain_table_free(&t);
	assert_null(t.e);

	/* Not NUL-terminated, empty, or only noise: no entry, no crash. */
	explain_table_parse(&t, "[5", 2);
	assert_int_equal(t.n, 0);
	explain_table_free(&t);
	explain_table_parse(&t, "", 0);
	assert_int_equal(t.n, 0);
	explain_table_free(&t);
	explain_table_parse(&t, "\0\0[1]\ntitle:\0\n", 12);
	assert_int_equal(t.n, 0);
	explain_table_free(&t);
}

static void
test_parse_onelines(void **state)
{
	static const char text[] = "# VERB|CODE|ENHANCED|TEXT\n"
	                           "greeting|220|*|server ready: say EHLO\n"
	                           "*|421|4.7.0|a|b\r\n"
	                           "RCPT|1234|*|code too long\n"
	                           "RCPT|55x|*|not digits\n"
	                           "RCPT||*|no code\n"
	                           "RCPT|550|*|\n"
	                           "|550|*|no verb\n"
	                           "RCPT|550\n"
	                           "RCPT|550|5.1.1|no such user";
	struct explain_onelines o;

	(void)state;
	explain_onelines_parse(&o, text, sizeof text - 1);
	assert_int_equal(o.n, 3);
	assert_string_equal(o.o[0].verb, "greeting");
	assert_int_equal(o.o[0].code, 220);
	assert_null(o.o[0].enhanced);
	assert_string_equal(o.o[0].text, "server ready: say EHLO");
	assert_null(o.o[1].verb);
	assert_string_equal(o.o[1].enhanced, "4.7.0");
	assert_string_equal(o.o[1].text, "a|b");
	assert_string_equal(o.o[2].enhanced, "5.1.1");
	assert_string_equal(o.o[2].text, "no such user");
	explain_onelines_free(&o);
	explain_onelines_parse(&o, "a|1|b", 5);
	assert_int_equal(o.n, 0);
	explain_onelines_free(&o);
}

/*
 * Issue 16: the topics a learner meets.  Every EHLO keyword of the IANA
 * SMTP Service Extensions registry a server may advertise, the common
 * ports, every mechanism of protocol/sasl.c and the concepts answers
 * point to have an entry of the right kind with all four parts (what it
 * is, the RFC, what a server does, how to try it here).
 */
static const char *const iana_keywords[] = {"SIZE", "PIPELINING", "DSN",
    "8BITMIME", "CHUNKING", "BINARYMIME", "SMTPUTF8", "STARTTLS", "AUTH",
    "ENHANCEDSTATUSCODES", "DELIVERBY", "ETRN", "ATRN", "BURL", "CHECKPOINT",
    "CONNEG", "CONPERM", "EXPN", "VRFY", "HELP", "MT-PRIORITY", "MTRK",
    "NO-SOLICITING", "RRVS", "REQUIRETLS", "FUTURERELEASE", "LIMITS",
    "SUBMITTER", "VERB", "ONEX", "SEND", "SOML", "SAML", "TURN", "UTF8SMTP",
    "XCLIENT", "XFORWARD"};
static const char *const ports[] = {"25", "465", "587", "2525", "24"};
static const char *const concepts[] = {
    "envelope", "headers", "bounce", "greylisting", "relay", "MX"};

/* The hit of kind among what query finds, or NULL. */
static const struct smtp_explain *
find_kind(const char *query, const char *kind)
{
	struct smtp_explain_hit hits[2];
	size_t n = smtp_explain_lookup(query, hits), i;

	for (i = 0; i < n; i++)
		if (strcmp(smtp_explain_kind(hits[i].entry), kind) == 0)
			return hits[i].entry;
	return NULL;
}

static void
assert_topic(const char *query, const char *kind)
{
	const struct smtp_explain *e = find_kind(query, kind);
	char *text;

	if (e == NULL)
		fail_msg("no %s entry for %s", kind, query);
	assert_complete(e, query);
	if (e->causes == NULL || e->action == NULL)
		fail_msg("%s %s lacks what a server does or how to try it",
		    kind, query);
	if (strstr(e->rfc, "RFC") == NULL && strstr(e->rfc, "IANA") == NULL &&
	    strstr(e->rfc, "Postfix") == NULL &&
	    strstr(e->rfc, "draft") == NULL && strstr(e->rfc, "none") == NULL &&
	    strstr(e->rfc, "Google") == NULL)
		fail_msg("%s %s cites no source: %s", kind, query, e->rfc);
	text = smtp_explain_text(query);
	assert_non_null(text);
	assert_non_null(strstr(text, e->title));
	assert_non_null(strstr(text, "How to try it here:"));
	free(text);
}

static void
test_topics(void **state)
{
	const struct sasl_mech_info *m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof iana_keywords / sizeof iana_keywords[0]; i++)
		assert_topic(iana_keywords[i], "extension");
	for (i = 0; i < sizeof ports / sizeof ports[0]; i++)
		assert_topic(ports[i], "port");
	for (m = sasl_mechs; m->name != NULL; m++)
		assert_topic(m->name, "mechanism");
	for (i = 0; i < sizeof concepts / sizeof concepts[0]; i++)
		assert_topic(concepts[i], "concept");
	/* Case does not matter; a command and a keyword both answer. */
	assert_non_null(find_kind("size", "extension"));
	assert_non_null(find_kind("AUTH", "verb"));
	assert_non_null(find_kind("AUTH", "extension"));
	assert_non_null(find_kind("cram-md5", "mechanism"));
}

/* A port wins only where the number is not a registered reply code. */
static void
test_ports_and_codes(void **state)
{
	struct smtp_explain_hit hits[2];
	char *text;

	(void)state;
	assert_int_equal(smtp_explain_lookup("587", hits), 1);
	assert_string_equal(smtp_explain_kind(hits[0].entry), "port");
	assert_int_equal(hits[0].fallback, 0);
	assert_int_equal(smtp_explain_lookup("465", hits), 1);
	assert_string_equal(smtp_explain_kind(hits[0].entry), "port");
	assert_int_equal(smtp_explain_lookup("25", hits), 1);
	assert_string_equal(smtp_explain_kind(hits[0].entry), "port");
	assert_int_equal(smtp_explain_lookup("250", hits), 1);
	assert_string_equal(smtp_explain_kind(hits[0].entry), "reply");
	/* Not a known port: still a reply class fallback. */
	assert_int_equal(smtp_explain_lookup("571", hits), 1);
	assert_int_equal(hits[0].fallback, 1);
	text = smtp_explain_text("587");
	assert_non_null(text);
	assert_true(strncmp(text, "Port 587: ", 10) == 0);
	assert_non_null(strstr(text, "What a server does there:"));
	free(text);
}

/* Every listed entry is found by its own key and explains itself. */
static void
test_every_key_found(void **state)
{
	const struct smtp_explain *e;
	size_t i, n = smtp_explain_count();

	(void)state;
	for (i = 0; i < n; i++) {
		struct smtp_explain_hit hits[2];
		size_t k, nh;
		char *text;

		e = smtp_explain_at(i);
		nh = smtp_explain_lookup(e->key, hits);
		for (k = 0; k < nh; k++)
			if (hits[k].entry == e)
				break;
		if (k == nh)
			fail_msg("%s %s is listed but not found by its key",
			    smtp_explain_kind(e), e->key);
		text = smtp_explain_text(e->key);
		assert_non_null(text);
		assert_non_null(strstr(text, e->title));
		free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_codes),
	    cmocka_unit_test(test_topics),
	    cmocka_unit_test(test_ports_and_codes),
	    cmocka_unit_test(test_every_key_found),
	    cmocka_unit_test(test_enhanced_codes),
	    cmocka_unit_test(test_classes),
	    cmocka_unit_test(test_verbs),
	    cmocka_unit_test(test_named_topics),
	    cmocka_unit_test(test_every_entry),
	    cmocka_unit_test(test_oneline),
	    cmocka_unit_test(test_text_width),
	    cmocka_unit_test(test_text_queries),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_real_server_replies),
	    cmocka_unit_test(test_full_texts),
	    cmocka_unit_test(test_parse_entries),
	    cmocka_unit_test(test_parse_onelines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
