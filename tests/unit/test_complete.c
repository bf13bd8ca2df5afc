/*
 * Unit tests for protocol/complete.c: one table of lines, each with the
 * session state, the server's capabilities and the lists the UI would
 * supply, and the matches expected (in order), the ones that must be
 * there and the ones that must not.  Capabilities come from real EHLO
 * replies fed through the reply parser: Postfix, and Postfix's smtp-sink
 * run with -N (no DSN), captured on loopback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "protocol/caps.h"
#include "protocol/complete.h"
#include "protocol/reply.h"

static const char postfix_ehlo[] = "250-mail.example\r\n"
                                   "250-PIPELINING\r\n"
                                   "250-SIZE 10240000\r\n"
                                   "250-VRFY\r\n"
                                   "250-ETRN\r\n"
                                   "250-STARTTLS\r\n"
                                   "250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
                                   "250-ENHANCEDSTATUSCODES\r\n"
                                   "250-8BITMIME\r\n"
                                   "250-DSN\r\n"
                                   "250-SMTPUTF8\r\n"
                                   "250 CHUNKING\r\n";

/* smtp-sink -N -h sink.example, as it answered EHLO. */
static const char sink_ehlo[] = "250-sink.example\r\n"
                                "250-PIPELINING\r\n"
                                "250-8BITMIME\r\n"
                                "250-AUTH PLAIN LOGIN\r\n"
                                "250-XCLIENT NAME HELO\r\n"
                                "250-XFORWARD NAME ADDR PROTO HELO\r\n"
                                "250-ENHANCEDSTATUSCODES\r\n"
                                "250 \r\n";

/* A server offering mechanisms ehlo speaks and some it does not. */
static const char scram_ehlo[] = "250-scram.example\r\n"
                                 "250-AUTH PLAIN NTLM SCRAM-SHA-256 "
                                 "SCRAM-SHA-256-PLUS GSSAPI X-FOO\r\n"
                                 "250 8BITMIME\r\n";

static struct smtp_caps caps_postfix, caps_sink, caps_scram;

static void
parse_cb(const struct smtp_reply_event *ev, void *arg)
{
	if (ev->type == SMTP_REPLY_EV_REPLY)
		assert_int_equal(smtp_caps_parse(arg, ev->reply), 0);
}

static void
caps_from_str(struct smtp_caps *caps, const char *wire)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();

	smtp_caps_reset(caps);
	smtp_reply_parser_feed(p, wire, strlen(wire), parse_cb, caps);
	smtp_reply_parser_free(p);
	assert_int_equal(caps->valid, 1);
}

static int
setup_caps(void **state)
{
	(void)state;
	caps_from_str(&caps_postfix, postfix_ehlo);
	caps_from_str(&caps_sink, sink_ehlo);
	caps_from_str(&caps_scram, scram_ehlo);
	return 0;
}

static const char *const addresses[] = {
    "alice@x", "alan@x", "bob@y", "ALICE@x"};
static const char *const hosts[] = {"client.example", "mx.example.org"};
static const char *const themes[] = {"dark", "light", "high-contrast"};
static const char *const lessons[] = {"first-mail", "auth"};
/* The / commands a UI hands over from its command table (tui/cmdtab.c
 * in ehlo), with every argument kind. */
static const struct smtp_complete_slash slash[] = {
    {"/connect", SMTP_COMPLETE_ARG_HOST, 1},
    {"/starttls", SMTP_COMPLETE_ARG_NONE, 0},
    {"/auth", SMTP_COMPLETE_ARG_MECH, 1},
    {"/body", SMTP_COMPLETE_ARG_FILE, 1},
    {"/send", SMTP_COMPLETE_ARG_DRAFT, 1},
    {"/draft", SMTP_COMPLETE_ARG_DRAFTCMD, 1},
    {"/expect", SMTP_COMPLETE_ARG_CODE, 1},
    {"/explain", SMTP_COMPLETE_ARG_EXPLAIN, 1},
    {"/save", SMTP_COMPLETE_ARG_TEXT, 1},
    {"/open", SMTP_COMPLETE_ARG_HISTORY, 1},
    {"/step", SMTP_COMPLETE_ARG_NONE, 0},
    {"/theme", SMTP_COMPLETE_ARG_THEME, 1},
    {"/lesson", SMTP_COMPLETE_ARG_LESSON, 1},
    {"/quit", SMTP_COMPLETE_ARG_NONE, 0},
    {"/sleep", SMTP_COMPLETE_ARG_NUMBER, 1},
    {"/mx", SMTP_COMPLETE_ARG_HOST, 1},
    {"/probe", SMTP_COMPLETE_ARG_PROBE, 1},
    {"/clear", SMTP_COMPLETE_ARG_NONE, 0},
    {"/help", SMTP_COMPLETE_ARG_COMMAND, 1},
};
static const char *const drafts[] = {"1", "2", "12"};

enum caps_kind { CAPS_NONE, CAPS_POSTFIX, CAPS_SINK, CAPS_SCRAM };

#define LIST(a)                                                                \
	{                                                                      \
		a, sizeof a / sizeof a[0]                                      \
	}
#define ANY ((size_t)-1)
#define NOCHECK (-1)

struct complete_case {
	const char *line;
	enum smtp_state state;
	enum caps_kind caps;
	const char *exact[16]; /* all matches in order (NULL-ended) */
	const char *has[16]; /* must be among the matches */
	const char *lacks[16]; /* must not be */
	size_t n; /* number of matches, or ANY */
	size_t start; /* expected start, or ANY */
	int append; /* expected append, or NOCHECK */
	int want_files;
};

#define R SMTP_STATE_READY
#define G SMTP_STATE_GREETED

static const struct complete_case cases[] = {
    /* First word: verbs, completed whole, in canonical case. */
    {"MAI", R, CAPS_POSTFIX, {"MAIL FROM:<"}, {0}, {0}, 1, 0, 0, 0},
    {"mai", R, CAPS_POSTFIX, {"MAIL FROM:<"}, {0}, {0}, 1, 0, 0, 0},
    {"rc", R, CAPS_POSTFIX, {"RCPT TO:<"}, {0}, {0}, 1, 0, 0, 0},
    {"  Rc", R, CAPS_NONE, {"RCPT TO:<"}, {0}, {0}, 1, 2, 0, 0},
    {"EH", G, CAPS_NONE, {"EHLO"}, {0}, {0}, 1, 0, ' ', 0},
    {"VR", R, CAPS_POSTFIX, {"VRFY"}, {0}, {0}, 1, 0, ' ', 0},
    {"HEL", R, CAPS_POSTFIX, {"HELO", "HELP"}, {0}, {0}, 2, 0, 0, 0},
    {"HELP", R, CAPS_POSTFIX, {"HELP"}, {0}, {0}, 1, 0, ' ', 0},
    {"BD", SMTP_STATE_RCPT, CAPS_POSTFIX, {"BDAT"}, {0}, {0}, 1, 0, ' ', 0},
    {"AU", R, CAPS_POSTFIX, {"AUTH"}, {0}, {0}, 1, 0, ' ', 0},
    {"da", R, CAPS_POSTFIX, {"DATA"}, {0}, {0}, 1, 0, 0, 0},
    {"rs", R, CAPS_POSTFIX, {"RSET"}, {0}, {0}, 1, 0, 0, 0},
    {"no", R, CAPS_POSTFIX, {"NOOP"}, {0}, {0}, 1, 0, 0, 0},
    {"qu", R, CAPS_POSTFIX, {"QUIT"}, {0}, {0}, 1, 0, 0, 0},
    {"st", R, CAPS_POSTFIX, {"STARTTLS"}, {0}, {0}, 1, 0, 0, 0},
    /* Legal verbs first, each group in protocol order. */
    {"", G, CAPS_NONE,
        {"EHLO", "HELO", "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT", "VERB",
            "STARTTLS", "AUTH", "MAIL FROM:<"},
        {0}, {0}, 17, 0, NOCHECK, 0},
    {"", R, CAPS_POSTFIX,
        {"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL FROM:<", "RSET", "VRFY",
            "EXPN", "HELP", "NOOP", "QUIT", "VERB"},
        {0}, {0}, 17, 0, NOCHECK, 0},
    /* After EHLO to smtp-sink STARTTLS is not legal: it comes later. */
    {"", R, CAPS_SINK, {"EHLO", "HELO", "AUTH", "MAIL FROM:<", "RSET"}, {0},
        {0}, 17, 0, NOCHECK, 0},
    {"R", SMTP_STATE_MAIL, CAPS_POSTFIX, {"RCPT TO:<", "RSET"}, {0}, {0}, 2, 0,
        0, 0},
    {"R", R, CAPS_POSTFIX, {"RSET", "RCPT TO:<"}, {0}, {0}, 2, 0, 0, 0},
    {"xyz", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 0, 0, 0},

    /* MAIL and RCPT: keyword, then addresses from the session. */
    {"MAIL ", R, CAPS_POSTFIX, {"FROM:<"}, {0}, {0}, 1, 5, 0, 0},
    {"mail f", R, CAPS_POSTFIX, {"FROM:<"}, {0}, {0}, 1, 5, 0, 0},
    {"RCPT ", SMTP_STATE_MAIL, CAPS_POSTFIX, {"TO:<"}, {0}, {0}, 1, 5, 0, 0},
    {"MAIL FROM:<al", R, CAPS_POSTFIX, {"alice@x", "alan@x"}, {0}, {0}, 2, 11,
        0, 0},
    {"mail from:<AL", R, CAPS_NONE, {"alice@x", "alan@x"}, {0}, {0}, 2, 11, 0,
        0},
    {"MAIL FROM:<", R, CAPS_POSTFIX, {"alice@x", "alan@x", "bob@y"}, {0}, {0},
        3, 11, 0, 0},
    {"RCPT TO:<b", SMTP_STATE_MAIL, CAPS_POSTFIX, {"bob@y"}, {0}, {0}, 1, 9,
        '>', 0},
    {"RCPT TO: <b", SMTP_STATE_MAIL, CAPS_POSTFIX, {"bob@y"}, {0}, {0}, 1, 10,
        '>', 0},
    {"RCPT FROM:<b", SMTP_STATE_MAIL, CAPS_POSTFIX, {0}, {0}, {0}, 0, 11, 0, 0},
    {"MAIL FROM:<bob@y", R, CAPS_POSTFIX, {"bob@y"}, {0}, {0}, 1, 11, '>', 0},
    {"MAIL FROM:<bob@y>", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 11, 0, 0},

    /* ESMTP parameters only when advertised, never twice. */
    {"MAIL FROM:<a@b> ", R, CAPS_POSTFIX,
        {"SIZE=", "BODY=8BITMIME", "BODY=7BIT", "SMTPUTF8", "RET=FULL",
            "RET=HDRS", "ENVID=", "AUTH=<>"},
        {0}, {"BODY=BINARYMIME", "NOTIFY=NEVER", "REQUIRETLS"}, 8, 16, 0, 0},
    {"MAIL FROM:<a@b> ", R, CAPS_SINK,
        {"BODY=8BITMIME", "BODY=7BIT", "AUTH=<>"}, {0},
        {"SIZE=", "RET=FULL", "RET=HDRS", "ENVID=", "SMTPUTF8"}, 3, 16, 0, 0},
    {"MAIL FROM:<a@b> ", R, CAPS_NONE, {0}, {0}, {0}, 0, 16, 0, 0},
    {"MAIL FROM:<a@b> SIZE=10 ", R, CAPS_POSTFIX, {0}, {"BODY=8BITMIME"},
        {"SIZE="}, 7, 24, NOCHECK, 0},
    {"MAIL FROM:<a@b> body=7bit RET=HDRS s", R, CAPS_POSTFIX,
        {"SIZE=", "SMTPUTF8"}, {0}, {0}, 2, 35, 0, 0},
    {"MAIL FROM:<a@b> BODY=", R, CAPS_POSTFIX, {"BODY=8BITMIME", "BODY=7BIT"},
        {0}, {0}, 2, 16, 0, 0},
    {"MAIL FROM:<a@b> ret=", R, CAPS_POSTFIX, {"RET=FULL", "RET=HDRS"}, {0},
        {0}, 2, 16, 0, 0},
    {"MAIL FROM:<a@b> SIZE=", R, CAPS_POSTFIX, {"SIZE="}, {0}, {0}, 1, 16, 0,
        0},
    {"MAIL FROM:<a@b> SIZE=1", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 16, 0, 0},
    {"MAIL FROM:<> S", R, CAPS_POSTFIX, {"SIZE=", "SMTPUTF8"}, {0}, {0}, 2, 13,
        0, 0},
    {"MAIL FROM:<\"a> b\"@c> SM", R, CAPS_POSTFIX, {"SMTPUTF8"}, {0}, {0}, 1,
        21, 0, 0},
    {"MAIL FROM:a@b S", R, CAPS_POSTFIX, {"SIZE=", "SMTPUTF8"}, {0}, {0}, 2, 14,
        0, 0},
    {"RCPT TO:<a@b> ", SMTP_STATE_MAIL, CAPS_POSTFIX,
        {"NOTIFY=NEVER", "NOTIFY=SUCCESS", "NOTIFY=FAILURE", "NOTIFY=DELAY",
            "ORCPT=rfc822;"},
        {0}, {"SIZE="}, 5, 14, 0, 0},
    {"RCPT TO:<a@b> ", SMTP_STATE_MAIL, CAPS_SINK, {0}, {0}, {0}, 0, 14, 0, 0},
    {"RCPT TO:<a@b> NOTIFY=SUCCESS,", SMTP_STATE_MAIL, CAPS_POSTFIX,
        {"NOTIFY=SUCCESS,FAILURE", "NOTIFY=SUCCESS,DELAY"}, {0}, {0}, 2, 14, 0,
        0},
    {"RCPT TO:<a@b> ORCPT=rfc822;b", SMTP_STATE_MAIL, CAPS_POSTFIX,
        {"ORCPT=rfc822;bob@y"}, {0}, {0}, 1, 14, 0, 0},

    /* AUTH: exactly the advertised mechanisms, else ehlo's own. */
    {"AUTH ", R, CAPS_POSTFIX, {"PLAIN", "LOGIN", "CRAM-MD5"}, {0}, {0}, 3, 5,
        0, 0},
    {"auth c", R, CAPS_POSTFIX, {"CRAM-MD5"}, {0}, {0}, 1, 5, 0, 0},
    {"AUTH ", R, CAPS_SINK, {"PLAIN", "LOGIN"}, {0}, {0}, 2, 5, 0, 0},
    {"AUTH ", G, CAPS_NONE, {0}, {"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"}, {0},
        ANY, 5, NOCHECK, 0},
    {"AUTH PLAIN ", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 11, 0, 0},

    /* One-argument verbs. */
    {"EHLO ", G, CAPS_NONE, {"client.example", "mx.example.org"}, {0}, {0}, 2,
        5, 0, 0},
    {"helo m", G, CAPS_NONE, {"mx.example.org"}, {0}, {0}, 1, 5, 0, 0},
    {"EHLO a b", G, CAPS_NONE, {0}, {0}, {0}, 0, 7, 0, 0},
    {"VRFY b", R, CAPS_POSTFIX, {"bob@y"}, {0}, {0}, 1, 5, 0, 0},
    {"EXPN <b", R, CAPS_POSTFIX, {"bob@y"}, {0}, {0}, 1, 6, '>', 0},
    {"HELP m", R, CAPS_POSTFIX, {"MAIL"}, {0}, {0}, 1, 5, 0, 0},
    {"BDAT ", SMTP_STATE_RCPT, CAPS_POSTFIX, {0}, {0}, {0}, 0, 5, 0, 0},
    {"BDAT 100 ", SMTP_STATE_RCPT, CAPS_POSTFIX, {"LAST"}, {0}, {0}, 1, 9, 0,
        0},
    {"DATA ", SMTP_STATE_RCPT, CAPS_POSTFIX, {0}, {0}, {0}, 0, 5, 0, 0},

    /* Workbench / commands and their arguments. */
    {"/th", R, CAPS_POSTFIX, {"/theme"}, {0}, {0}, 1, 0, ' ', 0},
    {"/TH", R, CAPS_POSTFIX, {"/theme"}, {0}, {0}, 1, 0, ' ', 0},
    {"/q", R, CAPS_POSTFIX, {"/quit"}, {0}, {0}, 1, 0, 0, 0},
    {"/s", R, CAPS_POSTFIX, {"/starttls", "/send", "/save", "/step", "/sleep"},
        {0}, {0}, 5, 0, 0, 0},
    {"/", R, CAPS_POSTFIX, {0}, {"/connect", "/clear", "/mx"}, {0}, 19, 0,
        NOCHECK, 0},
    {"/help /s", R, CAPS_POSTFIX,
        {"/starttls", "/send", "/save", "/step", "/sleep"}, {0}, {0}, 5, 6, 0,
        0},
    {"/help /clear ", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 13, 0, 0},
    {"/open ", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 6, 0, 0},
    {"/theme d", R, CAPS_POSTFIX, {"dark"}, {0}, {0}, 1, 7, 0, 0},
    {"/theme ", R, CAPS_POSTFIX, {"dark", "light", "high-contrast"}, {0}, {0},
        3, 7, 0, 0},
    {"/theme dark ", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 12, 0, 0},
    {"/body ", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 6, 0, 1},
    {"/draft at", R, CAPS_POSTFIX, {"attach"}, {0}, {0}, 1, 7, ' ', 0},
    {"/draft attach ", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 14, 0, 1},
    {"/draft open 1", R, CAPS_POSTFIX, {"1", "12"}, {0}, {0}, 2, 12, 0, 0},
    {"/body ./me", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 6, 0, 1},
    {"/auth ", R, CAPS_POSTFIX, {"PLAIN", "LOGIN", "CRAM-MD5"}, {0}, {0}, 3, 6,
        0, 0},
    {"/auth cr", R, CAPS_POSTFIX, {"CRAM-MD5"}, {0}, {0}, 1, 6, ' ', 0},
    /* /auth: what the server offers that ehlo speaks; AUTH: all of it. */
    {"/auth ", R, CAPS_SCRAM,
        {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "GSSAPI"}, {0}, {0}, 4,
        6, 0, 0},
    {"/auth sc", R, CAPS_SCRAM, {"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"}, {0},
        {0}, 2, 6, 0, 0},
    {"AUTH ", R, CAPS_SCRAM,
        {"PLAIN", "NTLM", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "GSSAPI",
            "X-FOO"},
        {0}, {0}, 6, 5, 0, 0},
    {"/auth ", G, CAPS_NONE, {0},
        {"OAUTHBEARER", "SCRAM-SHA-1", "SCRAM-SHA-256-PLUS", "GSSAPI"}, {0},
        ANY, 6, NOCHECK, 0},
    {"/send 1", R, CAPS_POSTFIX, {"1", "12"}, {0}, {0}, 2, 6, 0, 0},
    {"/lesson ", R, CAPS_POSTFIX, {"first-mail", "auth"}, {0}, {0}, 2, 8, 0, 0},
    {"/connect mx", SMTP_STATE_CONNECTING, CAPS_NONE, {"mx.example.org"}, {0},
        {0}, 1, 9, 0, 0},
    {"/explain 55", R, CAPS_POSTFIX,
        {"550", "551", "552", "553", "554", "555", "556"}, {0}, {0}, 7, 9, 0,
        0},
    {"/explain vr", R, CAPS_POSTFIX, {"VRFY"}, {0}, {0}, 1, 9, 0, 0},
    {"/expect 2", R, CAPS_POSTFIX, {0}, {"2xx", "250"}, {"VRFY"}, ANY, 8,
        NOCHECK, 0},
    {"/nosuch ", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 8, 0, 0},

    /* Message content completes nothing, not even / commands. */
    {"MAI", SMTP_STATE_CONTENT, CAPS_POSTFIX, {0}, {0}, {0}, 0, 0, 0, 0},
    {"", SMTP_STATE_CONTENT, CAPS_POSTFIX, {0}, {0}, {0}, 0, 0, 0, 0},
    {"/th", SMTP_STATE_CONTENT, CAPS_POSTFIX, {0}, {0}, {0}, 0, 0, 0, 0},

    /* Odd lines. */
    {"<MAI", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 1, 0, 0},
    {"MAIL<FROM", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 5, 0, 0},
    {"\tMAIL\tFROM:<al", R, CAPS_POSTFIX, {"alice@x", "alan@x"}, {0}, {0}, 2,
        12, 0, 0},
    {"\xff\xfe\x01 MA", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 4, 0, 0},
    {"MA\xc3\xa9", R, CAPS_POSTFIX, {0}, {0}, {0}, 0, 0, 0, 0},
};

static const struct smtp_caps *
caps_of(enum caps_kind k)
{
	switch (k) {
	case CAPS_POSTFIX:
		return &caps_postfix;
	case CAPS_SINK:
		return &caps_sink;
	case CAPS_SCRAM:
		return &caps_scram;
	case CAPS_NONE:
		break;
	}
	return NULL;
}

static void
ctx_init(
    struct smtp_complete_ctx *ctx, enum smtp_state state, enum caps_kind caps)
{
	static const struct smtp_complete_list l_addr = LIST(addresses),
	                                       l_hosts = LIST(hosts),
	                                       l_themes = LIST(themes),
	                                       l_lessons = LIST(lessons),
	                                       l_drafts = LIST(drafts);

	memset(ctx, 0, sizeof *ctx);
	ctx->state = state;
	ctx->caps = caps_of(caps);
	ctx->addresses = l_addr;
	ctx->hosts = l_hosts;
	ctx->themes = l_themes;
	ctx->lessons = l_lessons;
	ctx->drafts = l_drafts;
	ctx->slash = slash;
	ctx->nslash = sizeof slash / sizeof slash[0];
}

static int
has_match(const struct smtp_completion *c, const char *s)
{
	size_t i;

	for (i = 0; i < c->nmatches; i++)
		if (strcmp(c->matches[i], s) == 0)
			return 1;
	return 0;
}

static void
dump(const struct complete_case *tc, const struct smtp_completion *c)
{
	size_t i;

	print_message("line \"%s\" state %d: %zu matches, start %zu, append "
	              "%d, files %d:",
	    tc->line, (int)tc->state, c->nmatches, c->start, c->append,
	    c->want_files);
	for (i = 0; i < c->nmatches; i++)
		print_message(" [%s]", c->matches[i]);
	print_message("\n");
}

static void
check_case(const struct complete_case *tc)
{
	struct smtp_complete_ctx ctx;
	struct smtp_completion c;
	size_t n, i;
	int ok = 1;

	ctx_init(&ctx, tc->state, tc->caps);
	n = smtp_complete(tc->line, strlen(tc->line), &ctx, &c);
	ok = n == c.nmatches;
	for (i = 0; ok && tc->exact[i] != NULL; i++)
		ok = i < c.nmatches && strcmp(c.matches[i], tc->exact[i]) == 0;
	for (i = 0; ok && tc->has[i] != NULL; i++)
		ok = has_match(&c, tc->has[i]);
	for (i = 0; ok && tc->lacks[i] != NULL; i++)
		ok = !has_match(&c, tc->lacks[i]);
	if (ok && tc->n != ANY)
		ok = c.nmatches == tc->n;
	if (ok && tc->start != ANY)
		ok = c.start == tc->start;
	if (ok && tc->append != NOCHECK)
		ok = c.append == (char)tc->append;
	if (ok)
		ok = c.want_files == tc->want_files;
	if (!ok)
		dump(tc, &c);
	smtp_completion_free(&c);
	assert_true(ok);
}

static void
test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_case(&cases[i]);
}

/* Matches are unique in any case and carry the UI's spelling. */
static void
test_unique(void **state)
{
	struct smtp_complete_ctx ctx;
	struct smtp_completion c;

	(void)state;
	ctx_init(&ctx, SMTP_STATE_READY, CAPS_POSTFIX);
	assert_int_equal(smtp_complete("VRFY a", 6, &ctx, &c), 2);
	assert_string_equal(c.matches[0], "alice@x");
	assert_string_equal(c.matches[1], "alan@x");
	smtp_completion_free(&c);
	assert_null(c.matches);
	smtp_completion_free(&c);
}

/* Only line[0..cursor) is the word; later parameters still count. */
static void
test_cursor(void **state)
{
	static const char line[] = "MAIL FROM:<a@b>  SIZE=100";
	struct smtp_complete_ctx ctx;
	struct smtp_completion c;

	(void)state;
	ctx_init(&ctx, SMTP_STATE_READY, CAPS_POSTFIX);
	assert_int_equal(smtp_complete(line, 16, &ctx, &c), 7);
	assert_int_equal(c.start, 16);
	assert_false(has_match(&c, "SIZE="));
	smtp_completion_free(&c);

	assert_int_equal(smtp_complete("MAIL", 2, &ctx, &c), 1);
	assert_string_equal(c.matches[0], "MAIL FROM:<");
	smtp_completion_free(&c);

	/* A cursor past the end is clamped. */
	assert_int_equal(smtp_complete("rc", 1000, &ctx, &c), 1);
	assert_int_equal(c.start, 0);
	smtp_completion_free(&c);

	assert_int_equal(smtp_complete("", 0, NULL, &c), 17);
	smtp_completion_free(&c);
	assert_int_equal(smtp_complete(NULL, 0, &ctx, &c), 0);
	smtp_completion_free(&c);
}

/* The UI hands over its / commands; only they complete, with their
 * argument kinds. */
static void
test_slash_list(void **state)
{
	static const struct smtp_complete_slash mine[] = {
	    {"/theme", SMTP_COMPLETE_ARG_THEME, 1},
	    {"/tutor", SMTP_COMPLETE_ARG_NONE, 0},
	    {NULL, SMTP_COMPLETE_ARG_FILE, 1},
	};
	struct smtp_complete_ctx ctx;
	struct smtp_completion c;

	(void)state;
	ctx_init(&ctx, SMTP_STATE_READY, CAPS_NONE);
	ctx.slash = mine;
	ctx.nslash = 3;
	assert_int_equal(smtp_complete("/t", 2, &ctx, &c), 2);
	assert_string_equal(c.matches[0], "/theme");
	assert_string_equal(c.matches[1], "/tutor");
	assert_int_equal(c.append, 0);
	smtp_completion_free(&c);
	assert_int_equal(smtp_complete("/tu", 3, &ctx, &c), 1);
	assert_int_equal(c.append, 0);
	smtp_completion_free(&c);
	assert_int_equal(smtp_complete("/th", 3, &ctx, &c), 1);
	assert_int_equal(c.append, ' ');
	smtp_completion_free(&c);
	/* Only the list decides: /body is not in it, so no files. */
	assert_int_equal(smtp_complete("/b", 2, &ctx, &c), 0);
	smtp_completion_free(&c);
	assert_int_equal(smtp_complete("/body ", 6, &ctx, &c), 0);
	assert_int_equal(c.want_files, 0);
	smtp_completion_free(&c);
	/* The argument kind comes with the name, in any case. */
	assert_int_equal(smtp_complete("/THEME l", 8, &ctx, &c), 1);
	assert_string_equal(c.matches[0], "light");
	smtp_completion_free(&c);
	/* No list: nothing completes after "/". */
	ctx.slash = NULL;
	ctx.nslash = 0;
	assert_int_equal(smtp_complete("/", 1, &ctx, &c), 0);
	smtp_completion_free(&c);
	assert_int_equal(smtp_complete("/theme ", 7, &ctx, &c), 0);
	smtp_completion_free(&c);
}

/* Huge, binary and hostile inputs: bounded, no crash, no over-read. */
static void
test_hostile(void **state)
{
	struct smtp_complete_ctx ctx;
	struct smtp_completion c;
	char *line, **many, big[SMTP_COMPLETE_ITEM_MAX + 10];
	const char *bad[] = {"evil\r\nQUIT", big, "bob@y"};
	struct smtp_complete_list lbad = {bad, 3}, lmany;
	size_t i, n = (size_t)10 * 1024;

	(void)state;
	ctx_init(&ctx, SMTP_STATE_READY, CAPS_POSTFIX);

	line = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		line[i] = (char)('a' + i % 26);
	line[n] = '\0';
	assert_int_equal(smtp_complete(line, n, &ctx, &c), 0);
	smtp_completion_free(&c);
	memcpy(line, "MAIL FROM:<", 11);
	assert_int_equal(smtp_complete(line, n, &ctx, &c), 0);
	assert_int_equal(c.start, 11);
	smtp_completion_free(&c);
	for (i = 0; i < n; i++)
		line[i] = (char)(i % 5 == 0 ? ' ' : i % 7 == 0 ? '<' : 'S');
	memcpy(line, "MAIL FROM:<a@b> ", 16);
	assert_int_equal(smtp_complete(line, n, &ctx, &c), 0);
	smtp_completion_free(&c);
	for (i = 0; i < n; i++)
		line[i] = (char)(1 + (i * 131) % 255);
	assert_int_equal(smtp_complete(line, n, &ctx, &c), 0);
	smtp_completion_free(&c);
	for (i = 0; i < n; i++)
		line[i] = (char)(1 + (i * 7) % 255);
	memcpy(line + n - 16, "MAIL FROM:<a@b> ", 16);
	(void)smtp_complete(line, n, &ctx, &c);
	smtp_completion_free(&c);
	free(line);

	/* Candidates with control characters or over the bound: dropped. */
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ctx.addresses = lbad;
	assert_int_equal(smtp_complete("RCPT TO:<", 9, &ctx, &c), 1);
	assert_string_equal(c.matches[0], "bob@y");
	smtp_completion_free(&c);

	/* More candidates than the bound. */
	many = xcalloc(2000, sizeof *many);
	for (i = 0; i < 2000; i++)
		many[i] = xasprintf("user%zu@example.org", i);
	lmany.items = (const char *const *)many;
	lmany.n = 2000;
	ctx.addresses = lmany;
	assert_int_equal(
	    smtp_complete("RCPT TO:<u", 10, &ctx, &c), SMTP_COMPLETE_MAX);
	smtp_completion_free(&c);
	for (i = 0; i < 2000; i++)
		free(many[i]);
	free(many);

	/* An out-of-range state is treated as "nothing legal". */
	ctx_init(&ctx, (enum smtp_state)77, CAPS_POSTFIX);
	assert_int_equal(smtp_complete("", 0, &ctx, &c), 17);
	smtp_completion_free(&c);
}

/* ---- addresses a server lists (issue 16) -------------------------- */

struct scan_acc {
	char got[8][64];
	size_t n;
};

static void
scan_add(const char *a, size_t n, void *arg)
{
	struct scan_acc *acc = arg;

	assert_true(n < sizeof acc->got[0]);
	if (acc->n < 8) {
		memcpy(acc->got[acc->n], a, n);
		acc->got[acc->n++][n] = '\0';
	}
}

static void
test_scan_addresses(void **state)
{
	static const char line[] = "214-2.0.0 Addresses: alice@practice.test "
	                           "<bob@practice.test>, (carol@x.example); "
	                           "@practice.test nobody@ a@b bad@@x.y "
	                           "tab\tsep@ok.example. \x01ctl@x.y";
	struct scan_acc acc;

	(void)state;
	memset(&acc, 0, sizeof acc);
	assert_int_equal(
	    smtp_complete_scan_addresses(line, sizeof line - 1, scan_add, &acc),
	    4);
	assert_string_equal(acc.got[0], "alice@practice.test");
	assert_string_equal(acc.got[1], "bob@practice.test");
	assert_string_equal(acc.got[2], "carol@x.example");
	assert_string_equal(acc.got[3], "sep@ok.example");
	/* Only len bytes are read: no NUL needed. */
	memset(&acc, 0, sizeof acc);
	assert_int_equal(
	    smtp_complete_scan_addresses("a@b.c d@e.f", 5, scan_add, &acc), 1);
	assert_int_equal(
	    smtp_complete_scan_addresses("", 0, scan_add, &acc), 0);
}

static void
test_scan_accounts(void **state)
{
	static const char line[] = "214-2.0.0 Account for AUTH: user alice, "
	                           "password wonderland; superuser x "
	                           "user bob.b user bad! user ";
	struct scan_acc acc;

	(void)state;
	memset(&acc, 0, sizeof acc);
	assert_int_equal(
	    smtp_complete_scan_accounts(line, sizeof line - 1, scan_add, &acc),
	    2);
	assert_string_equal(acc.got[0], "alice");
	assert_string_equal(acc.got[1], "bob.b");
	/* A line that does not name AUTH lists no account. */
	memset(&acc, 0, sizeof acc);
	assert_int_equal(smtp_complete_scan_accounts("550 5.1.1 user bob, "
	                                             "unknown",
	                     22, scan_add, &acc),
	    0);
}

/* /auth MECH USER offers the accounts; in a SASL exchange only what the
 * UI offers for the line. */
static void
test_accounts(void **state)
{
	static const char *const accounts[] = {"alice", "bob", "carol"};
	static const char *const sasl[] = {"YWxpY2U=", "Ym9i"};
	struct smtp_complete_ctx ctx;
	struct smtp_completion c;

	(void)state;
	ctx_init(&ctx, SMTP_STATE_GREETED, CAPS_POSTFIX);
	ctx.accounts.items = accounts;
	ctx.accounts.n = 3;
	ctx.sasl.items = sasl;
	ctx.sasl.n = 2;
	assert_int_equal(smtp_complete("/auth PLAIN ", 12, &ctx, &c), 3);
	assert_string_equal(c.matches[0], "alice");
	assert_int_equal(c.start, 12);
	smtp_completion_free(&c);
	assert_int_equal(smtp_complete("/auth LOGIN b", 13, &ctx, &c), 1);
	assert_string_equal(c.matches[0], "bob");
	smtp_completion_free(&c);
	/* The mechanism first, as before; nothing after the user. */
	assert_true(smtp_complete("/auth P", 7, &ctx, &c) >= 1);
	assert_string_equal(c.matches[0], "PLAIN");
	smtp_completion_free(&c);
	assert_int_equal(smtp_complete("/auth PLAIN alice ", 18, &ctx, &c), 0);
	smtp_completion_free(&c);
	/* A typed AUTH line offers no accounts (verbs' arguments only). */
	assert_false(smtp_complete("AUTH PLAIN ", 11, &ctx, &c) > 0 &&
	    has_match(&c, "alice"));
	smtp_completion_free(&c);
	/* In the SASL exchange: the UI's responses, no verbs. */
	ctx.state = SMTP_STATE_AUTH;
	assert_int_equal(smtp_complete("", 0, &ctx, &c), 2);
	assert_string_equal(c.matches[0], "YWxpY2U=");
	smtp_completion_free(&c);
	assert_int_equal(smtp_complete("Ym", 2, &ctx, &c), 1);
	assert_string_equal(c.matches[0], "Ym9i");
	smtp_completion_free(&c);
	assert_int_equal(smtp_complete("MA", 2, &ctx, &c), 0);
	smtp_completion_free(&c);
	ctx.sasl.n = 0;
	assert_int_equal(smtp_complete("", 0, &ctx, &c), 0);
	smtp_completion_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_unique),
	    cmocka_unit_test(test_cursor),
	    cmocka_unit_test(test_slash_list),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_scan_addresses),
	    cmocka_unit_test(test_scan_accounts),
	    cmocka_unit_test(test_accounts),
	};

	return cmocka_run_group_tests(tests, setup_caps, NULL);
}
