/*
 * The SMTP command table and the checks made on a line before it is sent.
 *
 * RFCs: 5321 sections 4.1 (commands, paths, parameters), 4.1.4 (order of
 * commands) and 4.5.3.1.4 (command line length); 3207 (STARTTLS); 4954
 * (AUTH); 3030 (CHUNKING/BDAT, BINARYMIME); 1870 (SIZE); 6152 (8BITMIME,
 * BODY=); 6531 (SMTPUTF8); 3461 (DSN: RET, ENVID, NOTIFY, ORCPT); 1985
 * (ETRN); 2852 (DELIVERBY); 8689 (REQUIRETLS).
 *
 * smtp_commands[] is a const table, one entry per verb, read by the
 * checker, /help, /explain and completion.  smtp_command_check() never
 * stops a line except for CR, LF or NUL (which would smuggle a second
 * command or break framing): everything else is a warning in a fixed
 * array of fixed-size slots in the caller's struct, since breaking rules
 * on purpose is part of troubleshooting.
 */
#include "protocol/command.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/caps.h"
#include "protocol/xclient.h"
#include "protocol/xtext.h"

/* RFC 5321 4.5.3.1.4: 512 octets including CRLF. */
#define COMMAND_LINE_MAX 512
/* RFC 4954 4: AUTH lines with an initial response may reach 12288. */
#define COMMAND_AUTH_LINE_MAX 12288
/* How much of a user's token is quoted back in a warning. */
#define COMMAND_SHOW_MAX 40

#define S(x) SMTP_STATE_BIT(SMTP_STATE_##x)
#define COMMAND_AFTER_GREETING                                                 \
	(S(GREETED) | S(READY) | S(MAIL) | S(RCPT) | S(BDAT))

const struct smtp_command smtp_commands[] = {
    {SMTP_VERB_EHLO, "EHLO", "EHLO domain",
        "Says hello and asks the server to list its ESMTP extensions",
        "RFC 5321 4.1.1.1", S(GREETED) | S(READY) | S(MAIL) | S(RCPT), 0, 1},
    {SMTP_VERB_HELO, "HELO", "HELO domain",
        "Old-style hello: no extensions are listed; prefer EHLO",
        "RFC 5321 4.1.1.1", S(GREETED) | S(READY) | S(MAIL) | S(RCPT), 0, 1},
    {SMTP_VERB_STARTTLS, "STARTTLS", "STARTTLS",
        "Upgrades the connection to TLS; send EHLO again afterwards",
        "RFC 3207 4", S(READY), SMTP_CAP_STARTTLS, 0},
    {SMTP_VERB_AUTH, "AUTH", "AUTH mechanism [initial-response]",
        "Logs in with a SASL mechanism such as PLAIN or LOGIN", "RFC 4954 4",
        S(READY), SMTP_CAP_AUTH, 1},
    {SMTP_VERB_MAIL, "MAIL", "MAIL FROM:<reverse-path> [SP params]",
        "Starts a message and names the sender (bounces go there); <> "
        "means none",
        "RFC 5321 4.1.1.2", S(READY), 0, 1},
    {SMTP_VERB_RCPT, "RCPT", "RCPT TO:<forward-path> [SP params]",
        "Names one recipient of the message; repeat for each",
        "RFC 5321 4.1.1.3", S(MAIL) | S(RCPT), 0, 1},
    {SMTP_VERB_DATA, "DATA", "DATA",
        "Starts the message content; end it with a line holding only a "
        "dot",
        "RFC 5321 4.1.1.4", S(RCPT), 0, 0},
    {SMTP_VERB_BDAT, "BDAT", "BDAT chunk-size [LAST]",
        "Sends the next chunk-size octets of the message as they are; "
        "LAST ends it",
        "RFC 3030 2", S(RCPT) | S(BDAT), SMTP_CAP_CHUNKING, 1},
    {SMTP_VERB_RSET, "RSET", "RSET",
        "Abandons the current message but keeps the connection open",
        "RFC 5321 4.1.1.5", COMMAND_AFTER_GREETING, 0, 0},
    {SMTP_VERB_VRFY, "VRFY", "VRFY string",
        "Asks whether a mailbox exists (often disabled or answered 252)",
        "RFC 5321 4.1.1.6", COMMAND_AFTER_GREETING, 0, 1},
    {SMTP_VERB_EXPN, "EXPN", "EXPN string",
        "Asks the server to list the members of a mailing list (usually "
        "disabled)",
        "RFC 5321 4.1.1.7", COMMAND_AFTER_GREETING, 0, 1},
    {SMTP_VERB_HELP, "HELP", "HELP [string]",
        "Asks the server for help text, in general or about one command",
        "RFC 5321 4.1.1.8", COMMAND_AFTER_GREETING, 0, 2},
    {SMTP_VERB_NOOP, "NOOP", "NOOP [string]",
        "Does nothing except earn a 250: checks the connection is alive",
        "RFC 5321 4.1.1.9", COMMAND_AFTER_GREETING, 0, 2},
    {SMTP_VERB_QUIT, "QUIT", "QUIT",
        "Asks the server to say goodbye (221) and close the connection",
        "RFC 5321 4.1.1.10", COMMAND_AFTER_GREETING, 0, 0},
    {SMTP_VERB_VERB, "VERB", "VERB",
        "Sendmail extension: asks for a verbose report of delivery",
        "Sendmail (no RFC)", COMMAND_AFTER_GREETING, 0, 2},
    {SMTP_VERB_ETRN, "ETRN", "ETRN [@]domain",
        "Asks the server to start delivering mail it queued for a domain",
        "RFC 1985 5", S(READY), SMTP_CAP_ETRN, 1},
    {SMTP_VERB_LHLO, "LHLO", "LHLO domain",
        "LMTP's hello: like EHLO, lists the extensions of an LMTP server",
        "RFC 2033 4.1", S(GREETED) | S(READY) | S(MAIL) | S(RCPT), 0, 1},
    {SMTP_VERB_XCLIENT, "XCLIENT", "XCLIENT NAME=VALUE [NAME=VALUE...]",
        "Postfix: speaks for another client; its 220 is a new greeting",
        "Postfix XCLIENT_README", S(GREETED) | S(READY), SMTP_CAP_XCLIENT, 1},
    {SMTP_VERB_UNKNOWN, NULL, NULL, NULL, NULL, 0, 0, 0},
};

#undef COMMAND_AFTER_GREETING
#undef S

static const char *const command_state_names[SMTP_STATE_COUNT] = {
    [SMTP_STATE_CONNECTING] = "before connecting",
    [SMTP_STATE_GREETING] = "before the greeting",
    [SMTP_STATE_GREETED] = "before EHLO/HELO",
    [SMTP_STATE_READY] = "after EHLO",
    [SMTP_STATE_MAIL] = "inside a transaction (after MAIL)",
    [SMTP_STATE_RCPT] = "after RCPT",
    [SMTP_STATE_CONTENT] = "inside the message content (after DATA)",
    [SMTP_STATE_BDAT] = "inside a BDAT transfer",
    [SMTP_STATE_AUTH] = "inside an AUTH exchange",
    [SMTP_STATE_TLS] = "during the TLS handshake",
    [SMTP_STATE_CLOSED] = "after the connection closed",
};

const char *
smtp_state_name(enum smtp_state state)
{
	if ((unsigned)state >= SMTP_STATE_COUNT)
		return "in an unknown state";
	return command_state_names[state];
}

static char
command_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Case-insensitive: does p[0..n) start with the C string s? */
static int
command_prefix(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= n || command_upper(p[i]) != command_upper(s[i]))
			return 0;
	return 1;
}

static int
command_equal(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && command_prefix(p, n, s);
}

static int
command_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

const struct smtp_command *
smtp_command_find(const char *name, size_t len)
{
	const struct smtp_command *c;

	for (c = smtp_commands; c->name != NULL; c++)
		if (command_equal(name, len, c->name))
			return c;
	return NULL;
}

static size_t
command_verb_len(const char *line, size_t len)
{
	size_t n = 0;

	while (n < len && line[n] != ' ')
		n++;
	return n;
}

const struct smtp_command *
smtp_command_lookup(const char *line, size_t len)
{
	return smtp_command_find(line, command_verb_len(line, len));
}

/* A printable, bounded quote of p[0..n) for a warning. */
static void
command_show(char out[COMMAND_SHOW_MAX + 4], const char *p, size_t n)
{
	size_t i, k = n > COMMAND_SHOW_MAX ? COMMAND_SHOW_MAX : n;

	for (i = 0; i < k; i++)
		out[i] = p[i] >= 0x20 && p[i] <= 0x7e ? p[i] : '?';
	if (k < n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

static void command_warn(struct smtp_check *, const char *, ...)
    EHLO_PRINTF(2, 3);

static void
command_warn(struct smtp_check *out, const char *fmt, ...)
{
	va_list ap;
	char *slot;
	int n;

	if (out->nwarn >= SMTP_CHECK_MAX_WARNINGS)
		return;
	slot = out->warn[out->nwarn++];
	va_start(ap, fmt);
	n = vsnprintf(slot, sizeof out->warn[0], fmt, ap);
	va_end(ap);
	if (n < 0)
		slot[0] = '\0';
	else if ((size_t)n >= sizeof out->warn[0])
		memcpy(slot + sizeof out->warn[0] - 4, "...", 4);
}

static void
command_check_state(struct smtp_check *out, const struct smtp_command *cmd,
    enum smtp_state state)
{
	const char *v = cmd->name, *where = smtp_state_name(state);
	int data = cmd->verb == SMTP_VERB_DATA || cmd->verb == SMTP_VERB_BDAT;

	switch (state) {
	case SMTP_STATE_CONNECTING:
	case SMTP_STATE_CLOSED:
		command_warn(out, "%s %s: there is no connection to send it on",
		    v, where);
		return;
	case SMTP_STATE_GREETING:
		command_warn(out,
		    "%s before the greeting: the client must wait for the "
		    "server's 220 first (RFC 5321 3.1)",
		    v);
		return;
	case SMTP_STATE_TLS:
		command_warn(out,
		    "%s during the TLS handshake: wait for it to finish "
		    "(RFC 3207 4)",
		    v);
		return;
	case SMTP_STATE_AUTH:
		command_warn(out,
		    "%s inside an AUTH exchange: the server reads this line as "
		    "a SASL response (RFC 4954 4)",
		    v);
		return;
	case SMTP_STATE_CONTENT:
		command_warn(out,
		    "%s inside the message content: it is just a line of the "
		    "message",
		    v);
		return;
	case SMTP_STATE_READY:
		if (cmd->verb == SMTP_VERB_RCPT)
			where = "before MAIL FROM";
		else if (data)
			where = "before MAIL FROM and RCPT TO";
		break;
	case SMTP_STATE_MAIL:
		if (data)
			where = "before any RCPT TO was accepted";
		break;
	case SMTP_STATE_BDAT:
		if (cmd->verb == SMTP_VERB_DATA) {
			command_warn(out,
			    "DATA inside a BDAT transfer: RFC 3030 2 forbids "
			    "mixing them in one transaction");
			return;
		}
		break;
	case SMTP_STATE_GREETED:
	case SMTP_STATE_RCPT:
	case SMTP_STATE_COUNT:
		break;
	}
	command_warn(
	    out, "%s %s: most servers answer 503 (RFC 5321 4.1.4)", v, where);
}

static void
command_check_cap(struct smtp_check *out, const struct smtp_command *cmd,
    const struct smtp_caps *caps)
{
	if (cmd->cap == 0 || smtp_caps_has(caps, cmd->cap))
		return;
	if (caps == NULL || !caps->valid)
		command_warn(out,
		    "%s is an extension and no EHLO reply advertised it yet "
		    "(%s)",
		    cmd->name, cmd->rfc);
	else
		command_warn(out,
		    "%s was not advertised by the server's EHLO reply",
		    cmd->name);
}

/* RFC 3461 4, strict as a client must write it: upper-case hex. */
static int
command_is_xtext(const char *p, size_t n)
{
	return smtp_xtext_is_valid(p, n, SMTP_XTEXT_HEX_UPPER);
}

static int
command_is_number(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 20)
		return 0;
	for (i = 0; i < n; i++)
		if (!command_is_digit(p[i]))
			return 0;
	return 1;
}

/* NOTIFY=NEVER, or a comma list of SUCCESS, FAILURE and DELAY. */
static int
command_is_notify(const char *p, size_t n)
{
	size_t i = 0, start;

	if (command_equal(p, n, "NEVER"))
		return 1;
	while (i <= n) {
		start = i;
		while (i < n && p[i] != ',')
			i++;
		if (!command_equal(p + start, i - start, "SUCCESS") &&
		    !command_equal(p + start, i - start, "FAILURE") &&
		    !command_equal(p + start, i - start, "DELAY"))
			return 0;
		i++;
	}
	return 1;
}

/* ORCPT=addr-type;xtext, e.g. rfc822;user@example.org */
static int
command_is_orcpt(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] != ';')
		i++;
	if (i == 0 || i == n || i + 1 == n)
		return 0;
	return command_is_xtext(p, i) && command_is_xtext(p + i + 1, n - i - 1);
}

static uint64_t
command_number(const char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;
	unsigned d;

	for (i = 0; i < n; i++) {
		d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return UINT64_MAX;
		v = v * 10 + d;
	}
	return v;
}

/* What the server must have said for a parameter, and how it is spelled. */
struct command_param {
	const char *name;
	enum smtp_verb verb; /* MAIL or RCPT */
	uint32_t cap;
	const char *ext; /* the extension keyword, for messages */
	const char *rfc;
	int value; /* 1: "NAME=value", 0: bare "NAME" */
};

static const struct command_param command_params[] = {
    {"SIZE", SMTP_VERB_MAIL, SMTP_CAP_SIZE, "SIZE", "RFC 1870", 1},
    {"BODY", SMTP_VERB_MAIL, SMTP_CAP_8BITMIME, "8BITMIME", "RFC 6152", 1},
    {"SMTPUTF8", SMTP_VERB_MAIL, SMTP_CAP_SMTPUTF8, "SMTPUTF8", "RFC 6531", 0},
    {"RET", SMTP_VERB_MAIL, SMTP_CAP_DSN, "DSN", "RFC 3461", 1},
    {"ENVID", SMTP_VERB_MAIL, SMTP_CAP_DSN, "DSN", "RFC 3461", 1},
    {"AUTH", SMTP_VERB_MAIL, SMTP_CAP_AUTH, "AUTH", "RFC 4954", 1},
    {"BY", SMTP_VERB_MAIL, SMTP_CAP_DELIVERBY, "DELIVERBY", "RFC 2852", 1},
    {"REQUIRETLS", SMTP_VERB_MAIL, SMTP_CAP_REQUIRETLS, "REQUIRETLS",
        "RFC 8689", 0},
    {"NOTIFY", SMTP_VERB_RCPT, SMTP_CAP_DSN, "DSN", "RFC 3461", 1},
    {"ORCPT", SMTP_VERB_RCPT, SMTP_CAP_DSN, "DSN", "RFC 3461", 1},
};

/* Checks one "KEY[=value]" token after the address. */
static void
command_check_param(struct smtp_check *out, enum smtp_verb verb,
    const char *tok, size_t n, const struct smtp_caps *caps, int *saw_utf8)
{
	const struct command_param *pp = NULL;
	char show[COMMAND_SHOW_MAX + 4], key[SMTP_CAP_KEYWORD_MAX];
	size_t klen = 0, vlen = 0, i;
	const char *val = NULL;
	uint32_t cap;
	const char *ext, *want = NULL;
	int ok = 1;

	while (klen < n && tok[klen] != '=')
		klen++;
	if (klen < n) {
		val = tok + klen + 1;
		vlen = n - klen - 1;
	}
	command_show(show, tok, n);
	for (i = 0; i < sizeof command_params / sizeof command_params[0]; i++)
		if (command_equal(tok, klen, command_params[i].name))
			pp = &command_params[i];
	if (pp == NULL) {
		/* An extension this table lacks may still be advertised. */
		if (klen == 0 || klen >= sizeof key) {
			command_warn(out,
			    "%s is not a valid ESMTP parameter (RFC 5321 "
			    "4.1.2)",
			    show);
			return;
		}
		memcpy(key, tok, klen);
		key[klen] = '\0';
		if (smtp_caps_find(caps, key) == NULL)
			command_warn(out,
			    "%s is not a parameter this workbench knows and "
			    "the server did not advertise it; expect 555",
			    show);
		return;
	}
	if (pp->verb != verb) {
		command_warn(out, "%s belongs on %s, not %s (%s)", show,
		    pp->verb == SMTP_VERB_MAIL ? "MAIL FROM" : "RCPT TO",
		    verb == SMTP_VERB_MAIL ? "MAIL FROM" : "RCPT TO", pp->rfc);
		return;
	}

	cap = pp->cap;
	ext = pp->ext;
	if (pp->value && val == NULL) {
		ok = 0;
		want = "a value after '='";
	} else if (!pp->value && val != NULL) {
		ok = 0;
		want = "no value";
	} else if (strcmp(pp->name, "SIZE") == 0) {
		ok = command_is_number(val, vlen);
		want = "a size in octets";
	} else if (strcmp(pp->name, "BODY") == 0) {
		want = "7BIT, 8BITMIME or BINARYMIME";
		if (command_equal(val, vlen, "BINARYMIME")) {
			cap = SMTP_CAP_BINARYMIME;
			ext = "BINARYMIME";
		} else
			ok = command_equal(val, vlen, "8BITMIME") ||
			    command_equal(val, vlen, "7BIT");
	} else if (strcmp(pp->name, "RET") == 0) {
		ok = command_equal(val, vlen, "FULL") ||
		    command_equal(val, vlen, "HDRS");
		want = "FULL or HDRS";
	} else if (strcmp(pp->name, "ENVID") == 0) {
		ok = vlen > 0 && vlen <= 100 && command_is_xtext(val, vlen);
		want = "up to 100 characters of xtext";
	} else if (strcmp(pp->name, "AUTH") == 0) {
		ok = command_equal(val, vlen, "<>") ||
		    (vlen > 0 && command_is_xtext(val, vlen));
		want = "<> or an xtext mailbox";
	} else if (strcmp(pp->name, "NOTIFY") == 0) {
		ok = command_is_notify(val, vlen);
		want = "NEVER, or SUCCESS, FAILURE and DELAY joined by commas";
	} else if (strcmp(pp->name, "ORCPT") == 0) {
		ok = command_is_orcpt(val, vlen);
		want = "type;address in xtext, e.g. rfc822;user@example.org";
	}

	if (strcmp(pp->name, "SMTPUTF8") == 0)
		*saw_utf8 = 1;
	if (!ok)
		command_warn(out, "%s is malformed: expected %s (%s)", show,
		    want, pp->rfc);
	if (!smtp_caps_has(caps, cap))
		command_warn(out,
		    "%s needs the %s extension, which the server did not "
		    "advertise (%s)",
		    show, ext, pp->rfc);
	else if (ok && strcmp(pp->name, "SIZE") == 0 && caps->size_limit > 0 &&
	    command_number(val, vlen) > caps->size_limit)
		command_warn(out,
		    "%s is larger than the server's limit of %llu octets; "
		    "expect 552 (RFC 1870)",
		    show, (unsigned long long)caps->size_limit);
}

/*
 * End of an angle-bracketed path starting at p[0] == '<': the index of
 * the matching '>', skipping quoted strings, or n if there is none.
 */
static size_t
command_path_end(const char *p, size_t n)
{
	size_t i;
	int quoted = 0;

	for (i = 1; i < n; i++) {
		if (quoted && p[i] == '\\' && i + 1 < n)
			i++;
		else if (p[i] == '"')
			quoted = !quoted;
		else if (!quoted && p[i] == '>')
			return i;
	}
	return n;
}

/* MAIL FROM:<path> [params] and RCPT TO:<path> [params]. */
static void
command_check_path(struct smtp_check *out, const struct smtp_command *cmd,
    const char *arg, size_t n, const struct smtp_caps *caps)
{
	const char *kw = cmd->verb == SMTP_VERB_MAIL ? "FROM" : "TO";
	size_t i, klen = strlen(kw), addr, alen, end;
	int nonascii = 0, saw_utf8 = 0;

	if (!command_prefix(arg, n, kw)) {
		command_warn(
		    out, "%s needs %s:<address> (%s)", cmd->name, kw, cmd->rfc);
		return;
	}
	i = klen;
	if (i < n && arg[i] == ' ') {
		while (i < n && arg[i] == ' ')
			i++;
		if (i < n && arg[i] == ':')
			command_warn(out,
			    "no space is allowed between %s and the colon: "
			    "%s %s:<address> (%s)",
			    kw, cmd->name, kw, cmd->rfc);
	}
	if (i >= n || arg[i] != ':') {
		command_warn(
		    out, "%s needs %s:<address> (%s)", cmd->name, kw, cmd->rfc);
		return;
	}
	i++;
	if (i < n && arg[i] == ' ') {
		command_warn(out,
		    "no space is allowed after %s: before the '<' (RFC 5321 "
		    "4.1.2); some servers reject it",
		    kw);
		while (i < n && arg[i] == ' ')
			i++;
	}
	if (i >= n) {
		command_warn(out, "%s %s: has no address; write %s:<address>%s",
		    cmd->name, kw, kw,
		    cmd->verb == SMTP_VERB_MAIL ? " or FROM:<> for no sender"
		                                : "");
		return;
	}
	if (arg[i] == '<') {
		end = command_path_end(arg + i, n - i);
		if (end == n - i) {
			command_warn(out, "the address has no closing '>' (%s)",
			    cmd->rfc);
			return;
		}
		addr = i + 1;
		alen = end - 1;
		i += end + 1;
	} else {
		command_warn(out,
		    "the address must be in angle brackets: %s %s:<address> "
		    "(%s)",
		    cmd->name, kw, cmd->rfc);
		addr = i;
		while (i < n && arg[i] != ' ')
			i++;
		alen = i - addr;
	}
	if (alen == 0 && cmd->verb == SMTP_VERB_RCPT)
		command_warn(out,
		    "RCPT TO:<> names no recipient; expect 501 or 553 (%s)",
		    cmd->rfc);
	for (end = addr; end < addr + alen; end++)
		if ((unsigned char)arg[end] >= 0x80)
			nonascii = 1;
	if (nonascii && !smtp_caps_has(caps, SMTP_CAP_SMTPUTF8))
		command_warn(out,
		    "the address has non-ASCII characters but the server did "
		    "not advertise SMTPUTF8 (RFC 6531)");

	if (i < n && arg[i] != ' ')
		command_warn(out,
		    "the parameters must be separated from the address by a "
		    "space (%s)",
		    cmd->rfc);
	while (i < n) {
		while (i < n && arg[i] == ' ')
			i++;
		end = i;
		while (end < n && arg[end] != ' ')
			end++;
		if (end > i)
			command_check_param(
			    out, cmd->verb, arg + i, end - i, caps, &saw_utf8);
		i = end;
	}
	if (nonascii && cmd->verb == SMTP_VERB_MAIL && !saw_utf8 &&
	    smtp_caps_has(caps, SMTP_CAP_SMTPUTF8))
		command_warn(out,
		    "a non-ASCII address needs the SMTPUTF8 parameter on MAIL "
		    "FROM (RFC 6531 3.4)");
}

/* XCLIENT: NAME=VALUE pairs, names the server listed, xtext values. */
static void
command_check_xclient(struct smtp_check *out, const char *arg, size_t n,
    const struct smtp_caps *caps)
{
	char name[COMMAND_SHOW_MAX], *line = xstrndup(arg, n);
	const char *p = line, *eq, *end;

	for (;;) {
		p += strspn(p, " ");
		if (*p == '\0')
			break;
		end = p + strcspn(p, " ");
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL || eq == p ||
		    !smtp_xtext_is_valid(
		        eq + 1, (size_t)(end - eq - 1), SMTP_XTEXT_HEX_UPPER)) {
			command_warn(out,
			    "XCLIENT takes NAME=VALUE pairs with xtext values "
			    "(RFC 3461 4: + and = as +2B and +3D); the server "
			    "will probably answer 501 (/xclient encodes them)");
			break;
		}
		p = end;
	}
	if (smtp_xclient_unlisted(line, caps, name, sizeof name) == 1)
		command_warn(out,
		    "the server's XCLIENT line does not list %s; Postfix "
		    "answers 501 to an attribute it does not know",
		    name);
	free(line);
}

static void
command_check_args(struct smtp_check *out, const struct smtp_command *cmd,
    const char *arg, size_t n, const struct smtp_caps *caps)
{
	char show[COMMAND_SHOW_MAX + 4];
	size_t w;

	switch (cmd->verb) {
	case SMTP_VERB_MAIL:
	case SMTP_VERB_RCPT:
		command_check_path(out, cmd, arg, n, caps);
		break;
	case SMTP_VERB_AUTH:
		w = command_verb_len(arg, n);
		command_show(show, arg, w);
		if (smtp_caps_has(caps, SMTP_CAP_AUTH) && caps->nauth > 0 &&
		    w < 32 && w > 0) {
			char mech[32];

			memcpy(mech, arg, w);
			mech[w] = '\0';
			if (!smtp_caps_has_auth(caps, mech))
				command_warn(out,
				    "the server did not offer the %s mechanism "
				    "in its AUTH line",
				    show);
		}
		break;
	case SMTP_VERB_XCLIENT:
		command_check_xclient(out, arg, n, caps);
		break;
	case SMTP_VERB_BDAT:
		w = command_verb_len(arg, n);
		if (!command_is_number(arg, w) ||
		    (w < n && !command_equal(arg + w, n - w, " LAST")))
			command_warn(out,
			    "BDAT needs the chunk size in octets, optionally "
			    "followed by LAST (RFC 3030 2)");
		break;
	default:
		break;
	}
}

void
smtp_command_check(const char *line, size_t len, enum smtp_state state,
    const struct smtp_caps *caps, struct smtp_check *out)
{
	const struct smtp_command *cmd;
	char show[COMMAND_SHOW_MAX + 4];
	size_t i, vlen, max;
	const char *arg;
	size_t alen;

	memset(out, 0, sizeof *out);
	out->cmd = cmd = smtp_command_lookup(line, len);
	for (i = 0; i < len; i++) {
		if (line[i] == '\r')
			out->reason =
			    "the line contains a CR (carriage return, "
			    "\\r); it would end the command early";
		else if (line[i] == '\n')
			out->reason =
			    "the line contains an LF (line feed, \\n); "
			    "it would start a second command";
		else if (line[i] == '\0')
			out->reason =
			    "the line contains a NUL byte (\\0), which "
			    "SMTP does not allow";
		else
			continue;
		out->refused = 1;
		return;
	}

	max = cmd != NULL && cmd->verb == SMTP_VERB_AUTH ? COMMAND_AUTH_LINE_MAX
	                                                 : COMMAND_LINE_MAX;
	if (len > max - 2)
		command_warn(out,
		    "the line is %zu octets with CRLF, over the %zu allowed "
		    "(%s); servers may answer 500",
		    len + 2, max,
		    max == COMMAND_LINE_MAX ? "RFC 5321 4.5.3.1.4"
		                            : "RFC 4954 4");

	vlen = command_verb_len(line, len);
	if (vlen == 0) {
		command_warn(out,
		    "the line has no command verb; the server will probably "
		    "answer 500");
		return;
	}
	if (cmd == NULL) {
		command_show(show, line, vlen);
		command_warn(out,
		    "%s is not an SMTP command this workbench knows; the "
		    "server will probably answer 500",
		    show);
		return;
	}

	if (!(cmd->states & SMTP_STATE_BIT(state)))
		command_check_state(out, cmd, state);
	command_check_cap(out, cmd, caps);

	arg = line + vlen;
	alen = len - vlen;
	while (alen > 0 && *arg == ' ') {
		arg++;
		alen--;
	}
	while (alen > 0 && arg[alen - 1] == ' ')
		alen--;
	if (cmd->arg == 1 && alen == 0)
		command_warn(out, "%s needs an argument: %s (%s)", cmd->name,
		    cmd->syntax, cmd->rfc);
	else if (cmd->arg == 0 && alen > 0)
		command_warn(out,
		    "%s takes no argument; the server will probably answer "
		    "501 (%s)",
		    cmd->name, cmd->rfc);
	else if (alen > 0)
		command_check_args(out, cmd, arg, alen, caps);
}
