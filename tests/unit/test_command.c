/*
 * Unit tests for protocol/command.c: the command table, the state x
 * command legality matrix, and every kind of warning and refusal that
 * smtp_command_check() gives for exact command lines.
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
#include "protocol/command.h"

/* A server that advertises everything, with AUTH PLAIN LOGIN. */
static void
caps_everything(struct smtp_caps *caps)
{
	smtp_caps_reset(caps);
	caps->valid = 1;
	caps->flags = 0x1ffffu;
	caps->nauth = 2;
	memcpy(caps->auth[0], "PLAIN", 6);
	memcpy(caps->auth[1], "LOGIN", 6);
}

/* A server that answered EHLO with only its name. */
static void
caps_nothing(struct smtp_caps *caps)
{
	smtp_caps_reset(caps);
	caps->valid = 1;
}

static void
check(const char *line, enum smtp_state state, const struct smtp_caps *caps,
    struct smtp_check *out)
{
	size_t i;

	smtp_command_check(line, strlen(line), state, caps, out);
	assert_true(out->nwarn <= SMTP_CHECK_MAX_WARNINGS);
	for (i = 0; i < out->nwarn; i++)
		assert_true(strlen(out->warn[i]) < sizeof out->warn[i]);
}

static int
has_warn(const struct smtp_check *out, const char *needle)
{
	size_t i;

	for (i = 0; i < out->nwarn; i++)
		if (strstr(out->warn[i], needle) != NULL)
			return 1;
	return 0;
}

/* Prints the warnings when an assertion is about to fail. */
static void
dump(const struct smtp_check *out)
{
	size_t i;

	for (i = 0; i < out->nwarn; i++)
		print_message("warning %zu: %s\n", i, out->warn[i]);
}

static void
expect_clean(
    const char *line, enum smtp_state state, const struct smtp_caps *caps)
{
	struct smtp_check out;

	check(line, state, caps, &out);
	if (out.nwarn != 0 || out.refused)
		dump(&out);
	assert_false(out.refused);
	assert_int_equal(out.nwarn, 0);
}

static void
expect_warn(const char *line, enum smtp_state state,
    const struct smtp_caps *caps, const char *needle)
{
	struct smtp_check out;

	check(line, state, caps, &out);
	assert_false(out.refused);
	if (!has_warn(&out, needle)) {
		print_message(
		    "line \"%s\": no warning with \"%s\"\n", line, needle);
		dump(&out);
	}
	assert_true(has_warn(&out, needle));
}

static void
test_table(void **state)
{
	const struct smtp_command *c;
	int seen[SMTP_VERB_COUNT] = {0};
	int v;

	(void)state;
	for (c = smtp_commands; c->name != NULL; c++) {
		assert_non_null(c->syntax);
		assert_non_null(c->help);
		assert_non_null(c->rfc);
		assert_true(strlen(c->help) > 10 && strlen(c->help) < 80);
		assert_null(strchr(c->help, '\n'));
		assert_true(strncmp(c->syntax, c->name, strlen(c->name)) == 0);
		assert_true(c->arg >= 0 && c->arg <= 2);
		assert_true(
		    c->verb > SMTP_VERB_UNKNOWN && c->verb < SMTP_VERB_COUNT);
		assert_int_equal(seen[c->verb], 0);
		seen[c->verb] = 1;
		assert_ptr_equal(
		    smtp_command_find(c->name, strlen(c->name)), c);
	}
	for (v = SMTP_VERB_EHLO; v < SMTP_VERB_COUNT; v++)
		assert_int_equal(seen[v], 1);

	c = smtp_command_find("RCPT", 4);
	assert_string_equal(
	    c->help, "Names one recipient of the message; repeat for each");
	assert_string_equal(c->rfc, "RFC 5321 4.1.1.3");
	assert_int_equal(c->arg, 1);
	c = smtp_command_find("STARTTLS", 8);
	assert_int_equal(c->cap, SMTP_CAP_STARTTLS);
	assert_int_equal(c->arg, 0);
	assert_int_equal(smtp_command_find("AUTH", 4)->cap, SMTP_CAP_AUTH);
	assert_int_equal(smtp_command_find("BDAT", 4)->cap, SMTP_CAP_CHUNKING);
	assert_int_equal(smtp_command_find("ETRN", 4)->cap, SMTP_CAP_ETRN);
	assert_int_equal(smtp_command_find("VRFY", 4)->cap, 0);
	assert_int_equal(smtp_command_find("EXPN", 4)->cap, 0);
	assert_int_equal(smtp_command_find("VERB", 4)->cap, 0);
	assert_int_equal(smtp_command_find("HELP", 4)->arg, 2);
	assert_int_equal(smtp_command_find("DATA", 4)->arg, 0);
}

static void
test_find_lookup(void **state)
{
	(void)state;
	assert_int_equal(smtp_command_find("mail", 4)->verb, SMTP_VERB_MAIL);
	assert_int_equal(
	    smtp_command_find("StartTls", 8)->verb, SMTP_VERB_STARTTLS);
	assert_null(smtp_command_find("MAI", 3));
	assert_null(smtp_command_find("MAILX", 5));
	assert_null(smtp_command_find("", 0));
	/* The length bounds the name: "DATA" inside a longer buffer. */
	assert_int_equal(
	    smtp_command_find("DATAGRAM", 4)->verb, SMTP_VERB_DATA);
	assert_int_equal(
	    smtp_command_lookup("rcpt TO:<a@b>", 13)->verb, SMTP_VERB_RCPT);
	assert_int_equal(smtp_command_lookup("QUIT", 4)->verb, SMTP_VERB_QUIT);
	assert_null(smtp_command_lookup("", 0));
	assert_null(smtp_command_lookup(" MAIL", 5));
	assert_null(smtp_command_lookup("MAIL:FROM", 9));
}

static void
test_state_names(void **state)
{
	int s, t;

	(void)state;
	assert_string_equal(
	    smtp_state_name(SMTP_STATE_GREETING), "before the greeting");
	assert_string_equal(smtp_state_name(SMTP_STATE_READY), "after EHLO");
	assert_string_equal(smtp_state_name(SMTP_STATE_MAIL),
	    "inside a transaction (after MAIL)");
	assert_string_equal(smtp_state_name(SMTP_STATE_RCPT), "after RCPT");
	for (s = 0; s < SMTP_STATE_COUNT; s++) {
		assert_non_null(smtp_state_name((enum smtp_state)s));
		for (t = 0; t < s; t++)
			assert_string_not_equal(
			    smtp_state_name((enum smtp_state)s),
			    smtp_state_name((enum smtp_state)t));
	}
	assert_string_equal(
	    smtp_state_name(SMTP_STATE_COUNT), "in an unknown state");
}

/* Which states each command is legal in: G=GREETING, g=GREETED, R=READY,
 * M=MAIL, T=RCPT (to), B=BDAT, C=CLOSED. */
static const struct {
	const char *line;
	const char *legal;
} matrix[] = {
    {"EHLO client.example", "gRMT"},
    {"HELO client.example", "gRMT"},
    {"STARTTLS", "R"},
    {"AUTH PLAIN", "R"},
    {"MAIL FROM:<a@example.org>", "R"},
    {"RCPT TO:<b@example.org>", "MT"},
    {"DATA", "T"},
    {"BDAT 100 LAST", "TB"},
    {"RSET", "gRMTB"},
    {"VRFY postmaster", "gRMTB"},
    {"EXPN staff", "gRMTB"},
    {"HELP", "gRMTB"},
    {"HELP MAIL", "gRMTB"},
    {"NOOP", "gRMTB"},
    {"QUIT", "gRMTB"},
    {"VERB", "gRMTB"},
    {"ETRN example.org", "R"},
};

static const struct {
	char letter;
	enum smtp_state state;
} matrix_states[] = {
    {'G', SMTP_STATE_GREETING},
    {'g', SMTP_STATE_GREETED},
    {'R', SMTP_STATE_READY},
    {'M', SMTP_STATE_MAIL},
    {'T', SMTP_STATE_RCPT},
    {'B', SMTP_STATE_BDAT},
    {'C', SMTP_STATE_CLOSED},
};

static void
test_legality_matrix(void **state)
{
	struct smtp_caps caps;
	struct smtp_check out;
	size_t i, j;
	int legal;

	(void)state;
	caps_everything(&caps);
	for (i = 0; i < sizeof matrix / sizeof matrix[0]; i++)
		for (j = 0; j < sizeof matrix_states / sizeof matrix_states[0];
		     j++) {
			legal = strchr(matrix[i].legal,
			            matrix_states[j].letter) != NULL;
			check(matrix[i].line, matrix_states[j].state, &caps,
			    &out);
			if (out.nwarn != (legal ? 0u : 1u)) {
				print_message("\"%s\" %s: expected %s\n",
				    matrix[i].line,
				    smtp_state_name(matrix_states[j].state),
				    legal ? "legal" : "one warning");
				dump(&out);
			}
			assert_int_equal(out.nwarn, legal ? 0 : 1);
			assert_non_null(out.cmd);
			assert_int_equal(
			    (out.cmd->states &
			        SMTP_STATE_BIT(matrix_states[j].state)) != 0,
			    legal);
		}
}

static void
test_state_messages(void **state)
{
	struct smtp_caps caps;
	struct smtp_check out;

	(void)state;
	caps_everything(&caps);
	check("MAIL FROM:<a@example.org>", SMTP_STATE_GREETED, &caps, &out);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "MAIL before EHLO/HELO: most servers answer 503 (RFC 5321 4.1.4)");
	check("RCPT TO:<b@example.org>", SMTP_STATE_READY, &caps, &out);
	assert_string_equal(out.warn[0],
	    "RCPT before MAIL FROM: most servers answer 503 (RFC 5321 4.1.4)");
	check("MAIL FROM:<a@example.org>", SMTP_STATE_MAIL, &caps, &out);
	assert_string_equal(out.warn[0],
	    "MAIL inside a transaction (after MAIL): most servers answer 503 "
	    "(RFC 5321 4.1.4)");
	expect_warn("DATA", SMTP_STATE_MAIL, &caps,
	    "DATA before any RCPT TO was accepted");
	expect_warn("DATA", SMTP_STATE_READY, &caps,
	    "DATA before MAIL FROM and RCPT TO");
	expect_warn("DATA", SMTP_STATE_BDAT, &caps, "RFC 3030");
	expect_warn("STARTTLS", SMTP_STATE_RCPT, &caps, "STARTTLS after RCPT");
	expect_warn("NOOP", SMTP_STATE_GREETING, &caps, "220");
	expect_warn("NOOP", SMTP_STATE_AUTH, &caps, "SASL response");
	expect_warn("NOOP", SMTP_STATE_TLS, &caps, "TLS handshake");
	expect_warn("NOOP", SMTP_STATE_CONNECTING, &caps, "no connection");
}

static void
test_caps_warnings(void **state)
{
	struct smtp_caps caps;
	struct smtp_check out;

	(void)state;
	caps_nothing(&caps);
	check("STARTTLS", SMTP_STATE_READY, &caps, &out);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "STARTTLS was not advertised by the server's EHLO reply");
	expect_warn(
	    "AUTH PLAIN", SMTP_STATE_READY, &caps, "AUTH was not advertised");
	expect_warn(
	    "BDAT 10 LAST", SMTP_STATE_RCPT, &caps, "BDAT was not advertised");
	expect_warn("ETRN example.org", SMTP_STATE_READY, &caps,
	    "ETRN was not advertised");
	/* No EHLO reply at all (HELO, or none yet). */
	expect_warn(
	    "STARTTLS", SMTP_STATE_READY, NULL, "no EHLO reply advertised it");
	/* Commands without an extension never warn about one. */
	expect_clean("VRFY postmaster", SMTP_STATE_READY, &caps);
	expect_clean("EXPN staff", SMTP_STATE_READY, NULL);
	expect_clean("VERB", SMTP_STATE_READY, NULL);
	expect_clean("HELP", SMTP_STATE_READY, NULL);
	/* Out of order and unadvertised: both said. */
	check("STARTTLS", SMTP_STATE_GREETED, &caps, &out);
	assert_int_equal(out.nwarn, 2);
}

static void
test_unknown_verb(void **state)
{
	struct smtp_check out;
	char line[200];

	(void)state;
	check("FOO bar", SMTP_STATE_READY, NULL, &out);
	assert_null(out.cmd);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "FOO is not an SMTP command this workbench knows; the server will "
	    "probably answer 500");
	check("F\x1bO", SMTP_STATE_READY, NULL, &out);
	assert_string_equal(out.warn[0],
	    "F?O is not an SMTP command this workbench knows; the server will "
	    "probably answer 500");
	memset(line, 'Z', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	check(line, SMTP_STATE_READY, NULL, &out);
	assert_int_equal(out.nwarn, 1);
	assert_non_null(strstr(out.warn[0], "ZZZ... is not an SMTP command"));
	check("", SMTP_STATE_READY, NULL, &out);
	assert_int_equal(out.nwarn, 1);
	assert_non_null(strstr(out.warn[0], "no command verb"));
	check(" NOOP", SMTP_STATE_READY, NULL, &out);
	assert_int_equal(out.nwarn, 1);
	assert_non_null(strstr(out.warn[0], "no command verb"));
}

static void
test_case_insensitive(void **state)
{
	struct smtp_caps caps;
	struct smtp_check out;

	(void)state;
	caps_everything(&caps);
	check("mail from:<a@example.org> size=100 body=8bitmime",
	    SMTP_STATE_READY, &caps, &out);
	assert_int_equal(out.nwarn, 0);
	assert_int_equal(out.cmd->verb, SMTP_VERB_MAIL);
	expect_clean("Rcpt To:<b@example.org> Notify=success,delay",
	    SMTP_STATE_MAIL, &caps);
	expect_clean("starttls", SMTP_STATE_READY, &caps);
	expect_clean("ehlo client.example", SMTP_STATE_GREETED, &caps);
}

static void
test_arguments(void **state)
{
	struct smtp_caps caps;
	struct smtp_check out;

	(void)state;
	caps_everything(&caps);
	check("MAIL", SMTP_STATE_READY, &caps, &out);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "MAIL needs an argument: MAIL FROM:<reverse-path> [SP params] "
	    "(RFC 5321 4.1.1.2)");
	expect_warn("MAIL   ", SMTP_STATE_READY, &caps, "needs an argument");
	expect_warn(
	    "EHLO", SMTP_STATE_GREETED, &caps, "EHLO needs an argument");
	expect_warn("VRFY", SMTP_STATE_READY, &caps, "VRFY needs an argument");
	expect_warn("AUTH", SMTP_STATE_READY, &caps, "AUTH needs an argument");
	expect_warn("BDAT", SMTP_STATE_RCPT, &caps, "BDAT needs an argument");
	check("DATA now", SMTP_STATE_RCPT, &caps, &out);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "DATA takes no argument; the server will probably answer 501 "
	    "(RFC 5321 4.1.1.4)");
	expect_warn(
	    "QUIT please", SMTP_STATE_READY, &caps, "QUIT takes no argument");
	expect_warn("STARTTLS now", SMTP_STATE_READY, &caps,
	    "STARTTLS takes no argument");
	expect_clean("NOOP hello there", SMTP_STATE_READY, &caps);
	expect_clean("QUIT ", SMTP_STATE_READY, &caps);
}

static void
test_path_syntax(void **state)
{
	struct smtp_caps caps;
	struct smtp_check out;

	(void)state;
	caps_everything(&caps);
	expect_clean("MAIL FROM:<>", SMTP_STATE_READY, &caps);
	expect_clean("MAIL FROM:<a@example.org>", SMTP_STATE_READY, &caps);
	expect_clean(
	    "MAIL FROM:<\"odd>local\"@example.org>", SMTP_STATE_READY, &caps);
	expect_clean("RCPT TO:<Postmaster>", SMTP_STATE_MAIL, &caps);

	check("MAIL FROM: <a@example.org>", SMTP_STATE_READY, &caps, &out);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "no space is allowed after FROM: before the '<' (RFC 5321 4.1.2); "
	    "some servers reject it");
	expect_warn("RCPT TO: <b@example.org>", SMTP_STATE_MAIL, &caps,
	    "no space is allowed after TO:");
	check("MAIL FROM:a@example.org", SMTP_STATE_READY, &caps, &out);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "the address must be in angle brackets: MAIL FROM:<address> "
	    "(RFC 5321 4.1.1.2)");
	expect_warn("RCPT TO:b@example.org", SMTP_STATE_MAIL, &caps,
	    "angle brackets: RCPT TO:<address>");
	expect_warn("MAIL FROM :<a@example.org>", SMTP_STATE_READY, &caps,
	    "no space is allowed between FROM and the colon");
	expect_warn("MAIL FROM <a@example.org>", SMTP_STATE_READY, &caps,
	    "MAIL needs FROM:<address>");
	expect_warn("MAIL TO:<a@example.org>", SMTP_STATE_READY, &caps,
	    "MAIL needs FROM:<address>");
	expect_warn("RCPT FROM:<a@example.org>", SMTP_STATE_MAIL, &caps,
	    "RCPT needs TO:<address>");
	expect_warn("MAIL FROMX:<a@example.org>", SMTP_STATE_READY, &caps,
	    "MAIL needs FROM:<address>");
	expect_warn("MAIL FROM:<a@example.org", SMTP_STATE_READY, &caps,
	    "no closing '>'");
	expect_warn("MAIL FROM:", SMTP_STATE_READY, &caps, "has no address");
	expect_warn("RCPT TO:<>", SMTP_STATE_MAIL, &caps, "names no recipient");
	expect_warn("MAIL FROM:<a@example.org>SIZE=10", SMTP_STATE_READY, &caps,
	    "separated from the address by a space");
}

static void
test_params_unadvertised(void **state)
{
	struct smtp_caps caps;
	struct smtp_check out;

	(void)state;
	caps_nothing(&caps);
	check("MAIL FROM:<a@example.org> SIZE=1000", SMTP_STATE_READY, &caps,
	    &out);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "SIZE=1000 needs the SIZE extension, which the server did not "
	    "advertise (RFC 1870)");
	expect_warn("MAIL FROM:<a@example.org> BODY=8BITMIME", SMTP_STATE_READY,
	    &caps, "needs the 8BITMIME extension");
	expect_warn("MAIL FROM:<a@example.org> SMTPUTF8", SMTP_STATE_READY,
	    &caps, "SMTPUTF8 needs the SMTPUTF8 extension");
	expect_warn("MAIL FROM:<a@example.org> RET=HDRS", SMTP_STATE_READY,
	    &caps, "RET=HDRS needs the DSN extension");
	expect_warn("MAIL FROM:<a@example.org> ENVID=QQ314159",
	    SMTP_STATE_READY, &caps, "needs the DSN extension");
	expect_warn("RCPT TO:<b@example.org> NOTIFY=FAILURE", SMTP_STATE_MAIL,
	    &caps, "NOTIFY=FAILURE needs the DSN extension");
	expect_warn("RCPT TO:<b@example.org> ORCPT=rfc822;b@example.org",
	    SMTP_STATE_MAIL, &caps, "needs the DSN extension");

	/* 8BITMIME is not enough for BINARYMIME. */
	caps.flags = SMTP_CAP_8BITMIME;
	expect_clean(
	    "MAIL FROM:<a@example.org> BODY=8BITMIME", SMTP_STATE_READY, &caps);
	expect_clean(
	    "MAIL FROM:<a@example.org> BODY=7BIT", SMTP_STATE_READY, &caps);
	expect_warn("MAIL FROM:<a@example.org> BODY=BINARYMIME",
	    SMTP_STATE_READY, &caps, "needs the BINARYMIME extension");

	/* Too many problems: the slots fill up and the rest is dropped. */
	caps_nothing(&caps);
	check("MAIL FROM:<a@example.org> SIZE=1 BODY=8BITMIME SMTPUTF8 "
	      "RET=FULL ENVID=x",
	    SMTP_STATE_READY, &caps, &out);
	assert_int_equal(out.nwarn, SMTP_CHECK_MAX_WARNINGS);
	assert_non_null(strstr(out.warn[0], "SIZE=1 needs"));
	assert_non_null(strstr(out.warn[3], "RET=FULL needs"));
}

static void
test_params_values(void **state)
{
	struct smtp_caps caps;
	struct smtp_check out;

	(void)state;
	caps_everything(&caps);
	caps.size_limit = 10240000;
	expect_clean(
	    "MAIL FROM:<a@example.org> SIZE=10240000", SMTP_STATE_READY, &caps);
	check("MAIL FROM:<a@example.org> SIZE=10240001", SMTP_STATE_READY,
	    &caps, &out);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "SIZE=10240001 is larger than the server's limit of 10240000 "
	    "octets; expect 552 (RFC 1870)");
	expect_warn("MAIL FROM:<a@example.org> SIZE=99999999999999999999999",
	    SMTP_STATE_READY, &caps, "malformed");
	caps.size_limit = 0;
	expect_clean("MAIL FROM:<a@example.org> SIZE=99999999999",
	    SMTP_STATE_READY, &caps);
	check("MAIL FROM:<a@example.org> SIZE=abc", SMTP_STATE_READY, &caps,
	    &out);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "SIZE=abc is malformed: expected a size in octets (RFC 1870)");
	expect_warn("MAIL FROM:<a@example.org> SIZE", SMTP_STATE_READY, &caps,
	    "SIZE is malformed: expected a value after '='");
	expect_warn("MAIL FROM:<a@example.org> SIZE=", SMTP_STATE_READY, &caps,
	    "malformed");
	expect_warn("MAIL FROM:<a@example.org> BODY=9BIT", SMTP_STATE_READY,
	    &caps, "expected 7BIT, 8BITMIME or BINARYMIME");
	expect_warn("MAIL FROM:<a@example.org> SMTPUTF8=yes", SMTP_STATE_READY,
	    &caps, "SMTPUTF8=yes is malformed: expected no value");
	expect_clean("MAIL FROM:<a@example.org> RET=FULL ENVID=abc+2Bdef",
	    SMTP_STATE_READY, &caps);
	expect_warn("MAIL FROM:<a@example.org> RET=ALL", SMTP_STATE_READY,
	    &caps, "expected FULL or HDRS");
	expect_warn("MAIL FROM:<a@example.org> ENVID=a=b", SMTP_STATE_READY,
	    &caps, "ENVID=a=b is malformed");
	expect_warn("MAIL FROM:<a@example.org> ENVID=a+2", SMTP_STATE_READY,
	    &caps, "malformed");
	expect_clean(
	    "MAIL FROM:<a@example.org> AUTH=<>", SMTP_STATE_READY, &caps);

	expect_clean(
	    "RCPT TO:<b@example.org> NOTIFY=NEVER", SMTP_STATE_MAIL, &caps);
	expect_clean("RCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE,DELAY "
	             "ORCPT=rfc822;b@example.org",
	    SMTP_STATE_RCPT, &caps);
	expect_warn("RCPT TO:<b@example.org> NOTIFY=NEVER,SUCCESS",
	    SMTP_STATE_MAIL, &caps, "NOTIFY=NEVER,SUCCESS is malformed");
	expect_warn("RCPT TO:<b@example.org> NOTIFY=SOMETIMES", SMTP_STATE_MAIL,
	    &caps, "malformed");
	expect_warn("RCPT TO:<b@example.org> NOTIFY=SUCCESS,", SMTP_STATE_MAIL,
	    &caps, "malformed");
	expect_warn("RCPT TO:<b@example.org> ORCPT=b@example.org",
	    SMTP_STATE_MAIL, &caps, "ORCPT=b@example.org is malformed");

	/* A parameter on the wrong command. */
	expect_warn("MAIL FROM:<a@example.org> NOTIFY=NEVER", SMTP_STATE_READY,
	    &caps, "NOTIFY=NEVER belongs on RCPT TO, not MAIL FROM");
	expect_warn("RCPT TO:<b@example.org> SIZE=10", SMTP_STATE_MAIL, &caps,
	    "SIZE=10 belongs on MAIL FROM, not RCPT TO");
}

static void
test_params_unknown(void **state)
{
	struct smtp_caps caps;

	(void)state;
	caps_everything(&caps);
	expect_warn("MAIL FROM:<a@example.org> FOO=1", SMTP_STATE_READY, &caps,
	    "FOO=1 is not a parameter this workbench knows and the server "
	    "did not advertise it");
	expect_warn("MAIL FROM:<a@example.org> =1", SMTP_STATE_READY, &caps,
	    "=1 is not a valid ESMTP parameter");
	/* An extension the server advertised may bring its own parameter. */
	caps.ncaps = 1;
	memcpy(caps.caps[0].keyword, "MT-PRIORITY", 12);
	expect_clean(
	    "MAIL FROM:<a@example.org> MT-PRIORITY=3", SMTP_STATE_READY, &caps);
}

static void
test_non_ascii(void **state)
{
	struct smtp_caps caps;

	(void)state;
	caps_nothing(&caps);
	expect_warn("MAIL FROM:<j\xc3\xb6ran@example.org>", SMTP_STATE_READY,
	    &caps,
	    "the address has non-ASCII characters but the server did not "
	    "advertise SMTPUTF8 (RFC 6531)");
	expect_warn("RCPT TO:<\xe5\xbc\xa0@example.org>", SMTP_STATE_MAIL,
	    &caps, "non-ASCII");
	caps.flags = SMTP_CAP_SMTPUTF8;
	expect_warn("MAIL FROM:<j\xc3\xb6ran@example.org>", SMTP_STATE_READY,
	    &caps, "needs the SMTPUTF8 parameter on MAIL FROM");
	expect_clean("MAIL FROM:<j\xc3\xb6ran@example.org> SMTPUTF8",
	    SMTP_STATE_READY, &caps);
	expect_clean(
	    "RCPT TO:<\xe5\xbc\xa0@example.org>", SMTP_STATE_MAIL, &caps);
}

static void
test_line_length(void **state)
{
	struct smtp_caps caps;
	struct smtp_check out;
	char line[13000];

	(void)state;
	caps_everything(&caps);
	/* 510 octets + CRLF = 512: the limit itself is fine. */
	memset(line, 'x', sizeof line);
	memcpy(line, "NOOP ", 5);
	line[510] = '\0';
	expect_clean(line, SMTP_STATE_READY, &caps);
	line[510] = 'x';
	line[511] = '\0';
	check(line, SMTP_STATE_READY, &caps, &out);
	assert_int_equal(out.nwarn, 1);
	assert_string_equal(out.warn[0],
	    "the line is 513 octets with CRLF, over the 512 allowed "
	    "(RFC 5321 4.5.3.1.4); servers may answer 500");

	/* AUTH with an initial response may be longer (RFC 4954 4). */
	memset(line, 'x', sizeof line);
	memcpy(line, "AUTH PLAIN ", 11);
	line[2000] = '\0';
	expect_clean(line, SMTP_STATE_READY, &caps);
	line[2000] = 'x';
	line[12290] = '\0';
	expect_warn(line, SMTP_STATE_READY, &caps, "over the 12288 allowed");
}

static void
test_refusal(void **state)
{
	struct smtp_check out;
	static const char nul[] = "NOOP a\0b";

	(void)state;
	check("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>",
	    SMTP_STATE_READY, NULL, &out);
	assert_int_equal(out.refused, 1);
	assert_non_null(strstr(out.reason, "CR (carriage return"));
	assert_int_equal(out.nwarn, 0);
	assert_int_equal(out.cmd->verb, SMTP_VERB_MAIL);

	check("NOOP\nQUIT", SMTP_STATE_READY, NULL, &out);
	assert_int_equal(out.refused, 1);
	assert_non_null(strstr(out.reason, "LF (line feed"));

	check("NOOP\r", SMTP_STATE_READY, NULL, &out);
	assert_int_equal(out.refused, 1);
	assert_non_null(strstr(out.reason, "CR"));

	smtp_command_check(nul, sizeof nul - 1, SMTP_STATE_READY, NULL, &out);
	assert_int_equal(out.refused, 1);
	assert_non_null(strstr(out.reason, "NUL"));

	/* Refusal wins over every warning an unknown verb would give. */
	check("FOO\n", SMTP_STATE_GREETING, NULL, &out);
	assert_int_equal(out.refused, 1);
	assert_int_equal(out.nwarn, 0);

	check("NOOP", SMTP_STATE_READY, NULL, &out);
	assert_int_equal(out.refused, 0);
	assert_null(out.reason);
}

static void
test_auth_and_bdat_args(void **state)
{
	struct smtp_caps caps;

	(void)state;
	caps_everything(&caps);
	expect_clean(
	    "auth plain AGFsaWNlAHNlY3JldA==", SMTP_STATE_READY, &caps);
	expect_warn("AUTH CRAM-MD5", SMTP_STATE_READY, &caps,
	    "the server did not offer the CRAM-MD5 mechanism in its AUTH line");
	expect_clean("BDAT 100", SMTP_STATE_RCPT, &caps);
	expect_clean("BDAT 0 last", SMTP_STATE_BDAT, &caps);
	expect_warn("BDAT lots", SMTP_STATE_RCPT, &caps,
	    "BDAT needs the chunk size in octets");
	expect_warn("BDAT 100 FIRST", SMTP_STATE_RCPT, &caps,
	    "optionally followed by LAST");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_find_lookup),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_legality_matrix),
	    cmocka_unit_test(test_state_messages),
	    cmocka_unit_test(test_caps_warnings),
	    cmocka_unit_test(test_unknown_verb),
	    cmocka_unit_test(test_case_insensitive),
	    cmocka_unit_test(test_arguments),
	    cmocka_unit_test(test_path_syntax),
	    cmocka_unit_test(test_params_unadvertised),
	    cmocka_unit_test(test_params_values),
	    cmocka_unit_test(test_params_unknown),
	    cmocka_unit_test(test_non_ascii),
	    cmocka_unit_test(test_line_length),
	    cmocka_unit_test(test_refusal),
	    cmocka_unit_test(test_auth_and_bdat_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
