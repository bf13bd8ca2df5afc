/*
 * Completion for the command language: what may come next at the cursor.
 *
 * RFCs: 5321 sections 4.1.1 (verbs, MAIL FROM:<path>, RCPT TO:<path>) and
 * 4.1.2 (parameters after the path); 1870 (SIZE=); 6152 (BODY=8BITMIME,
 * BODY=7BIT); 3030 (BDAT LAST, BODY=BINARYMIME); 6531 (SMTPUTF8); 3461
 * (RET=, ENVID=, NOTIFY=, ORCPT=); 4954 (AUTH mechanisms, AUTH=<>); 2852
 * (BY=); 8689 (REQUIRETLS).
 *
 * The line is read once, left to right, up to the cursor: the word being
 * completed starts after the last blank or '<' (the break characters the
 * UI gives readline), the first word names an SMTP verb or a / command,
 * and the text between them says which argument the word is.  Each
 * context adds candidates to one accumulator, which keeps only
 * case-insensitive prefix matches of the word, drops duplicates and
 * bounds the count and length, so hostile or huge inputs cost time linear
 * in their size and never more memory than SMTP_COMPLETE_MAX candidates.
 * Matches are heap strings owned by the struct smtp_completion.
 */
#include "protocol/complete.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "protocol/sasl.h"
#include "protocol/xclient.h"

/* Reply classes and common codes, for /expect and /explain. */
static const char *const complete_codes[] = {"2xx", "3xx", "4xx", "5xx", "211",
    "214", "220", "221", "235", "250", "251", "252", "334", "354", "421", "432",
    "450", "451", "452", "454", "455", "500", "501", "502", "503", "504", "521",
    "523", "530", "534", "535", "538", "550", "551", "552", "553", "554", "555",
    "556"};

/*
 * ESMTP parameters, offered after the path only when the capability was
 * advertised and the keyword is not on the line yet.  Values with a
 * fixed set are offered whole ("BODY=8BITMIME"); free values stop at
 * '=' ("SIZE=").  Same order and capabilities as command.c's checker, so
 * completion never offers what the checker would warn about.
 */
struct complete_param {
	const char *text;
	size_t keylen; /* length of the keyword in text */
	enum smtp_verb verb;
	uint32_t cap;
};

static const struct complete_param complete_param_table[] = {
    {"SIZE=", 4, SMTP_VERB_MAIL, SMTP_CAP_SIZE},
    {"BODY=8BITMIME", 4, SMTP_VERB_MAIL, SMTP_CAP_8BITMIME},
    {"BODY=7BIT", 4, SMTP_VERB_MAIL, SMTP_CAP_8BITMIME},
    {"BODY=BINARYMIME", 4, SMTP_VERB_MAIL, SMTP_CAP_BINARYMIME},
    {"SMTPUTF8", 8, SMTP_VERB_MAIL, SMTP_CAP_SMTPUTF8},
    {"RET=FULL", 3, SMTP_VERB_MAIL, SMTP_CAP_DSN},
    {"RET=HDRS", 3, SMTP_VERB_MAIL, SMTP_CAP_DSN},
    {"ENVID=", 5, SMTP_VERB_MAIL, SMTP_CAP_DSN},
    {"AUTH=<>", 4, SMTP_VERB_MAIL, SMTP_CAP_AUTH},
    {"BY=", 2, SMTP_VERB_MAIL, SMTP_CAP_DELIVERBY},
    {"REQUIRETLS", 10, SMTP_VERB_MAIL, SMTP_CAP_REQUIRETLS},
    {"NOTIFY=NEVER", 6, SMTP_VERB_RCPT, SMTP_CAP_DSN},
    {"NOTIFY=SUCCESS", 6, SMTP_VERB_RCPT, SMTP_CAP_DSN},
    {"NOTIFY=FAILURE", 6, SMTP_VERB_RCPT, SMTP_CAP_DSN},
    {"NOTIFY=DELAY", 6, SMTP_VERB_RCPT, SMTP_CAP_DSN},
    {"ORCPT=rfc822;", 5, SMTP_VERB_RCPT, SMTP_CAP_DSN},
};

#define COMPLETE_NPARAMS                                                       \
	(sizeof complete_param_table / sizeof complete_param_table[0])

/* The NOTIFY values that may be joined by commas (RFC 3461 4.1). */
static const char *const complete_notify[] = {"SUCCESS", "FAILURE", "DELAY"};

/* Candidates for the word line[start..cursor) are collected here. */
struct complete_acc {
	const char *word;
	size_t wlen;
	struct smtp_completion *out;
	size_t cap;
	char first_append; /* append of matches[0] */
};

static char
complete_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static int
complete_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
complete_is_break(char c)
{
	return complete_is_blank(c) || c == '<';
}

/* Case-insensitive equality of n bytes. */
static int
complete_equal_n(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (complete_upper(a[i]) != complete_upper(b[i]))
			return 0;
	return 1;
}

/* Case-insensitive: does p[0..n) start with the C string s? */
static int
complete_has_prefix(const char *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && complete_equal_n(p, s, k);
}

/* Byte k of the candidate pre[0..plen) + text[0..tlen). */
static char
complete_cand_at(const char *pre, size_t plen, const char *text, size_t k)
{
	return k < plen ? pre[k] : text[k - plen];
}

/*
 * Offers pre + text (text[0..tlen)) with the given append character if
 * it starts with the word, is printable, bounded and not offered yet.
 */
static void
complete_add_n(struct complete_acc *acc, const char *pre, size_t plen,
    const char *text, size_t tlen, char append)
{
	struct smtp_completion *out = acc->out;
	size_t total = plen + tlen, i, k;
	char *s;

	if (out->nmatches >= SMTP_COMPLETE_MAX ||
	    total > SMTP_COMPLETE_ITEM_MAX || total < acc->wlen)
		return;
	for (k = 0; k < acc->wlen; k++)
		if (complete_upper(complete_cand_at(pre, plen, text, k)) !=
		    complete_upper(acc->word[k]))
			return;
	for (k = 0; k < tlen; k++)
		if ((unsigned char)text[k] < 0x20 || text[k] == 0x7f)
			return;
	for (i = 0; i < out->nmatches; i++) {
		if (strlen(out->matches[i]) != total)
			continue;
		for (k = 0; k < total; k++)
			if (complete_upper(out->matches[i][k]) !=
			    complete_upper(
			        complete_cand_at(pre, plen, text, k)))
				break;
		if (k == total)
			return;
	}
	if (out->nmatches == acc->cap) {
		acc->cap = acc->cap == 0 ? 16 : acc->cap * 2;
		out->matches =
		    xreallocarray(out->matches, acc->cap, sizeof *out->matches);
	}
	s = xmalloc(total + 1);
	memcpy(s, pre, plen);
	memcpy(s + plen, text, tlen);
	s[total] = '\0';
	if (out->nmatches == 0)
		acc->first_append = append;
	out->matches[out->nmatches++] = s;
}

static void
complete_add(struct complete_acc *acc, const char *text, char append)
{
	if (text != NULL)
		complete_add_n(acc, "", 0, text,
		    strnlen(text, SMTP_COMPLETE_ITEM_MAX + 1), append);
}

/* Offers every string of a UI list, each after pre[0..plen). */
static void
complete_add_list(struct complete_acc *acc, const char *pre, size_t plen,
    const struct smtp_complete_list *l, char append)
{
	size_t i;

	if (l->items == NULL)
		return;
	for (i = 0; i < l->n && acc->out->nmatches < SMTP_COMPLETE_MAX; i++)
		if (l->items[i] != NULL)
			complete_add_n(acc, pre, plen, l->items[i],
			    strnlen(l->items[i], SMTP_COMPLETE_ITEM_MAX + 1),
			    append);
}

static int
complete_caps_have(const struct smtp_complete_ctx *ctx, uint32_t flag)
{
	return ctx->caps != NULL && ctx->caps->valid &&
	    smtp_caps_has(ctx->caps, flag);
}

/*
 * AUTH mechanisms: what the server advertised (for "/auth", which runs
 * the exchange, only those ehlo speaks; for a raw AUTH all of them);
 * when it advertised none (no EHLO yet, HELO, or no AUTH line), the
 * mechanisms this workbench implements, so AUTH can still be tried on
 * purpose.
 */
static void
complete_add_mechs(struct complete_acc *acc,
    const struct smtp_complete_ctx *ctx, char append, int spoken_only)
{
	const struct sasl_mech_info *m;
	char name[sizeof ctx->caps->auth[0] + 1];
	size_t i, n;

	if (complete_caps_have(ctx, SMTP_CAP_AUTH) && ctx->caps->nauth > 0) {
		for (i = 0; i < ctx->caps->nauth && i < SMTP_AUTH_MECHS_MAX;
		     i++) {
			n = strnlen(
			    ctx->caps->auth[i], sizeof ctx->caps->auth[i]);
			memcpy(name, ctx->caps->auth[i], n);
			name[n] = '\0';
			if (spoken_only && sasl_mech_find(name) == NULL)
				continue;
			complete_add_n(acc, "", 0, name, n, append);
		}
		return;
	}
	for (m = sasl_mechs; m->name != NULL; m++)
		complete_add(acc, m->name, append);
}

/*
 * XCLIENT attributes as "NAME=": those the server's XCLIENT keyword
 * lists, in its order; when it listed none (no EHLO yet, no XCLIENT),
 * Postfix's, so XCLIENT can still be tried on purpose.
 */
static void
complete_add_xclient(
    struct complete_acc *acc, const struct smtp_complete_ctx *ctx)
{
	const struct smtp_cap *cap = complete_caps_have(ctx, SMTP_CAP_XCLIENT)
	    ? smtp_caps_find(ctx->caps, "XCLIENT")
	    : NULL;
	char word[SMTP_CAP_PARAMS_MAX + 1];
	const char *p, *w;
	size_t i, n;

	if (cap == NULL || cap->params[0] == '\0') {
		for (i = 0; smtp_xclient_attrs[i] != NULL; i++) {
			n = strlen(smtp_xclient_attrs[i]);
			memcpy(word, smtp_xclient_attrs[i], n);
			word[n] = '=';
			complete_add_n(acc, "", 0, word, n + 1, 0);
		}
		return;
	}
	for (p = cap->params; *p != '\0';) {
		while (complete_is_blank(*p))
			p++;
		w = p;
		while (*p != '\0' && !complete_is_blank(*p))
			p++;
		n = (size_t)(p - w);
		if (n == 0 || n >= sizeof word - 1)
			continue;
		memcpy(word, w, n);
		word[n] = '=';
		complete_add_n(acc, "", 0, word, n + 1, 0);
	}
}

static int
complete_verb_is_legal(
    const struct smtp_command *c, const struct smtp_complete_ctx *ctx)
{
	if ((unsigned)ctx->state >= SMTP_STATE_COUNT ||
	    (c->states & SMTP_STATE_BIT(ctx->state)) == 0)
		return 0;
	return c->cap == 0 || complete_caps_have(ctx, c->cap);
}

/* LMTP has LHLO where SMTP has EHLO and HELO (RFC 2033 4.1). */
static int
complete_verb_in_protocol(
    const struct smtp_command *c, const struct smtp_complete_ctx *ctx)
{
	if (c->verb == SMTP_VERB_LHLO)
		return ctx->lmtp;
	if (c->verb == SMTP_VERB_EHLO || c->verb == SMTP_VERB_HELO)
		return !ctx->lmtp;
	return 1;
}

/*
 * The first word: verbs as they are typed in full, legal ones first.
 * MAIL and RCPT carry their keyword up to the '<'; a verb that needs an
 * argument (and HELP, whose argument is the point) is followed by ' '.
 */
static void
complete_verbs_first(
    struct complete_acc *acc, const struct smtp_complete_ctx *ctx)
{
	const struct smtp_command *c;
	const char *text;
	char append;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (c = smtp_commands; c->name != NULL; c++) {
			if (complete_verb_is_legal(c, ctx) != (pass == 0) ||
			    !complete_verb_in_protocol(c, ctx))
				continue;
			append = 0;
			if (c->verb == SMTP_VERB_MAIL)
				text = "MAIL FROM:<";
			else if (c->verb == SMTP_VERB_RCPT)
				text = "RCPT TO:<";
			else {
				text = c->name;
				if (c->arg == 1 || c->verb == SMTP_VERB_HELP)
					append = ' ';
			}
			complete_add(acc, text, append);
		}
	}
}

/* The entry of ctx's / commands named line[0..len), or NULL. */
static const struct smtp_complete_slash *
complete_slash_find(
    const struct smtp_complete_ctx *ctx, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ctx->nslash; i++)
		if (ctx->slash[i].name != NULL &&
		    strlen(ctx->slash[i].name) == len &&
		    complete_equal_n(name, ctx->slash[i].name, len))
			return &ctx->slash[i];
	return NULL;
}

static void
complete_slash_first(
    struct complete_acc *acc, const struct smtp_complete_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nslash; i++)
		if (ctx->slash[i].name != NULL)
			complete_add(acc, ctx->slash[i].name,
			    ctx->slash[i].has_args ? ' ' : 0);
}

static void
complete_add_verb_names(struct complete_acc *acc)
{
	const struct smtp_command *c;

	for (c = smtp_commands; c->name != NULL; c++)
		complete_add(acc, c->name, 0);
}

static void
complete_add_codes(struct complete_acc *acc)
{
	size_t i;

	for (i = 0; i < sizeof complete_codes / sizeof complete_codes[0]; i++)
		complete_add(acc, complete_codes[i], 0);
}

/* Number of blank-separated tokens in line[from..to). */
static size_t
complete_count_tokens(const char *line, size_t from, size_t to)
{
	size_t n = 0, i;

	for (i = from; i < to; i++)
		if (!complete_is_blank(line[i]) &&
		    (i == from || complete_is_blank(line[i - 1])))
			n++;
	return n;
}

/*
 * The word is the first argument of a one-argument context when nothing
 * but blanks separates it from the verb.
 */
static int
complete_is_first_arg(const char *line, size_t verb_end, size_t start)
{
	return start > verb_end && complete_is_blank(line[start - 1]) &&
	    complete_count_tokens(line, verb_end, start) == 0;
}

static const char *const complete_draft_cmds[] = {"new", "open", "dup",
    "delete", "show", "body", "edit", "close", "clear", "from", "to", "cc",
    "bcc", "reply-to", "subject", "header", "attach"};

/* "/draft SUB [ARG]": the sub-command, then what it takes. */
static void
complete_draft_args(struct complete_acc *acc,
    const struct smtp_complete_ctx *ctx, const char *line, size_t name_end,
    size_t start)
{
	size_t i, sub, subend;

	if (complete_is_first_arg(line, name_end, start)) {
		for (i = 0; i <
		     sizeof complete_draft_cmds / sizeof complete_draft_cmds[0];
		     i++)
			complete_add(acc, complete_draft_cmds[i], ' ');
		return;
	}
	for (sub = name_end; sub < start && complete_is_blank(line[sub]); sub++)
		;
	for (subend = sub; subend < start && !complete_is_blank(line[subend]);
	     subend++)
		;
	if (!complete_is_first_arg(line, subend, start))
		return;
	if (subend - sub == 6 && strncasecmp(line + sub, "attach", 6) == 0)
		acc->out->want_files = 1;
	else if ((subend - sub == 4 &&
	             strncasecmp(line + sub, "open", 4) == 0) ||
	    (subend - sub == 3 && strncasecmp(line + sub, "dup", 3) == 0) ||
	    (subend - sub == 6 && strncasecmp(line + sub, "delete", 6) == 0))
		complete_add_list(acc, "", 0, &ctx->drafts, 0);
	else if (subend - sub == 5 && strncasecmp(line + sub, "clear", 5) == 0)
		for (i = 9; i <
		     sizeof complete_draft_cmds / sizeof complete_draft_cmds[0];
		     i++)
			complete_add(acc, complete_draft_cmds[i], 0);
}

static void
complete_slash_args(struct complete_acc *acc,
    const struct smtp_complete_ctx *ctx, const char *line, size_t name_at,
    size_t name_end, size_t start)
{
	const struct smtp_complete_slash *s;
	size_t i;

	s = complete_slash_find(ctx, line + name_at, name_end - name_at);
	if (s != NULL && s->arg == SMTP_COMPLETE_ARG_DRAFTCMD) {
		complete_draft_args(acc, ctx, line, name_end, start);
		return;
	}
	/* "/auth MECH USER": the accounts the server has. */
	if (s != NULL && s->arg == SMTP_COMPLETE_ARG_MECH && start > name_end &&
	    complete_is_blank(line[start - 1]) &&
	    complete_count_tokens(line, name_end, start) == 1) {
		complete_add_list(acc, "", 0, &ctx->accounts, 0);
		return;
	}
	if (s != NULL && s->arg == SMTP_COMPLETE_ARG_XCLIENT) {
		complete_add_xclient(acc, ctx); /* every word is a pair */
		return;
	}
	if (s == NULL || !complete_is_first_arg(line, name_end, start))
		return;
	switch (s->arg) {
	case SMTP_COMPLETE_ARG_HOST:
		complete_add_list(acc, "", 0, &ctx->hosts, 0);
		break;
	case SMTP_COMPLETE_ARG_MECH:
		/* "/auth MECH [USER]": a user name may follow. */
		complete_add_mechs(acc, ctx, ' ', 1);
		break;
	case SMTP_COMPLETE_ARG_FILE:
		acc->out->want_files = 1;
		break;
	case SMTP_COMPLETE_ARG_DRAFT:
		complete_add_list(acc, "", 0, &ctx->drafts, 0);
		break;
	case SMTP_COMPLETE_ARG_THEME:
		complete_add_list(acc, "", 0, &ctx->themes, 0);
		break;
	case SMTP_COMPLETE_ARG_LESSON:
		complete_add_list(acc, "", 0, &ctx->lessons, 0);
		break;
	case SMTP_COMPLETE_ARG_PROBE:
		complete_add_list(acc, "", 0, &ctx->probes, 0);
		break;
	case SMTP_COMPLETE_ARG_EXPLAIN:
		complete_add_verb_names(acc);
		FALLTHROUGH;
	case SMTP_COMPLETE_ARG_CODE:
		complete_add_codes(acc);
		break;
	case SMTP_COMPLETE_ARG_COMMAND:
		for (i = 0; i < ctx->nslash; i++)
			complete_add(acc, ctx->slash[i].name, 0);
		break;
	case SMTP_COMPLETE_ARG_DRAFTCMD:
	case SMTP_COMPLETE_ARG_XCLIENT:
	case SMTP_COMPLETE_ARG_NONE:
	case SMTP_COMPLETE_ARG_TEXT:
	case SMTP_COMPLETE_ARG_NUMBER:
	case SMTP_COMPLETE_ARG_HISTORY:
		break;
	}
}

/*
 * Index just past the path of MAIL/RCPT that starts at line[p] ('<' or
 * the first byte of a bare address), looking no further than lim; 0 when
 * the path does not end before lim.  Quoted local parts may hold '>'.
 */
static size_t
complete_path_end(const char *line, size_t p, size_t lim)
{
	size_t i;
	int quoted = 0;

	if (line[p] != '<') {
		for (i = p; i < lim; i++)
			if (complete_is_blank(line[i]))
				return i;
		return 0;
	}
	for (i = p + 1; i < lim; i++) {
		if (quoted && line[i] == '\\' && i + 1 < lim)
			i++;
		else if (line[i] == '"')
			quoted = !quoted;
		else if (!quoted && line[i] == '>')
			return i + 1;
	}
	return 0;
}

/* Does the parameter table entry's keyword equal tok[0..klen)? */
static int
complete_param_is(const struct complete_param *pp, const char *tok, size_t klen)
{
	return pp->keylen == klen && complete_equal_n(tok, pp->text, klen);
}

/*
 * Marks in present[] the parameters whose keyword appears among the
 * tokens of line[from..end), except the one the cursor is inside (the
 * word being completed).  A keyword counts whatever its value, so BODY=
 * anything removes every BODY= candidate.
 */
static void
complete_params_present(const char *line, size_t from, size_t end,
    size_t cursor, int present[COMPLETE_NPARAMS])
{
	size_t i = from, t, klen, k;

	while (i < end) {
		while (i < end && complete_is_blank(line[i]))
			i++;
		t = i;
		while (i < end && !complete_is_blank(line[i]))
			i++;
		if (i == t || (t < cursor && cursor <= i))
			continue;
		for (klen = 0; t + klen < i && line[t + klen] != '='; klen++)
			;
		for (k = 0; k < COMPLETE_NPARAMS; k++)
			if (complete_param_is(
			        &complete_param_table[k], line + t, klen))
				present[k] = 1;
	}
}

/* NOTIFY=SUCCESS,F -> NOTIFY=SUCCESS,FAILURE: values not listed yet. */
static void
complete_notify_list(struct complete_acc *acc)
{
	const char *w = acc->word, *v;
	size_t comma = acc->wlen, i, k, vlen;
	int seen;

	while (comma > 0 && w[comma - 1] != ',')
		comma--;
	for (i = 0; i < sizeof complete_notify / sizeof complete_notify[0];
	     i++) {
		vlen = strlen(complete_notify[i]);
		seen = 0;
		for (k = 7; k + vlen < comma && !seen; k++) {
			v = w + k;
			seen = (k == 7 || w[k - 1] == ',') &&
			    (v[vlen] == ',') &&
			    complete_equal_n(v, complete_notify[i], vlen);
		}
		if (!seen)
			complete_add_n(
			    acc, w, comma, complete_notify[i], vlen, 0);
	}
}

/*
 * The word is a parameter after the path (which ends at path_end).
 * Parameters already on the line, after the cursor too, are left out:
 * the line is NUL-terminated (see complete.h).
 */
static void
complete_params(struct complete_acc *acc, const struct smtp_complete_ctx *ctx,
    enum smtp_verb verb, const char *line, size_t path_end, size_t cursor)
{
	int present[COMPLETE_NPARAMS] = {0};
	const struct complete_param *pp;
	size_t k, end = strlen(line);

	if (verb == SMTP_VERB_RCPT && complete_caps_have(ctx, SMTP_CAP_DSN)) {
		if (complete_has_prefix(acc->word, acc->wlen, "NOTIFY=") &&
		    memchr(acc->word, ',', acc->wlen) != NULL) {
			complete_notify_list(acc);
			return;
		}
		if (complete_has_prefix(
		        acc->word, acc->wlen, "ORCPT=rfc822;")) {
			complete_add_list(
			    acc, acc->word, 13, &ctx->addresses, 0);
			return;
		}
	}
	complete_params_present(line, path_end, end, cursor, present);
	for (k = 0; k < COMPLETE_NPARAMS; k++) {
		pp = &complete_param_table[k];
		if (pp->verb == verb && !present[k] &&
		    complete_caps_have(ctx, pp->cap))
			complete_add(acc, pp->text, 0);
	}
}

/*
 * MAIL FROM:<path> [params] and RCPT TO:<path> [params]; blanks around
 * the colon are tolerated here (the checker warns about them).
 */
static void
complete_path_args(struct complete_acc *acc,
    const struct smtp_complete_ctx *ctx, const struct smtp_command *cmd,
    const char *line, size_t verb_end, size_t start)
{
	const char *kw = cmd->verb == SMTP_VERB_MAIL ? "FROM" : "TO";
	size_t p = verb_end, end;

	while (p < start && complete_is_blank(line[p]))
		p++;
	if (p == start) {
		if (p > verb_end)
			complete_add(acc,
			    cmd->verb == SMTP_VERB_MAIL ? "FROM:<" : "TO:<", 0);
		return;
	}
	if (!complete_has_prefix(line + p, start - p, kw))
		return;
	p += strlen(kw);
	while (p < start && complete_is_blank(line[p]))
		p++;
	if (p == start || line[p] != ':')
		return;
	p++;
	while (p < start && complete_is_blank(line[p]))
		p++;
	if (p == start)
		return;
	if (line[p] == '<' && p + 1 == start) {
		complete_add_list(acc, "", 0, &ctx->addresses, '>');
		return;
	}
	end = complete_path_end(line, p, start);
	if (end == 0 || end >= start || !complete_is_blank(line[start - 1]))
		return;
	complete_params(acc, ctx, cmd->verb, line, end, start + acc->wlen);
}

static void
complete_verb_args(struct complete_acc *acc,
    const struct smtp_complete_ctx *ctx, const struct smtp_command *cmd,
    const char *line, size_t verb_end, size_t start)
{
	size_t p;

	switch (cmd->verb) {
	case SMTP_VERB_MAIL:
	case SMTP_VERB_RCPT:
		complete_path_args(acc, ctx, cmd, line, verb_end, start);
		return;
	case SMTP_VERB_XCLIENT:
		complete_add_xclient(acc, ctx);
		return;
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
		/* "VRFY <al" is allowed too, and then wants its '>'. */
		p = verb_end;
		while (p < start && complete_is_blank(line[p]))
			p++;
		if (p > verb_end && p + 1 == start && line[p] == '<')
			complete_add_list(acc, "", 0, &ctx->addresses, '>');
		else if (complete_is_first_arg(line, verb_end, start))
			complete_add_list(acc, "", 0, &ctx->addresses, 0);
		return;
	default:
		break;
	}
	if (complete_is_first_arg(line, verb_end, start)) {
		switch (cmd->verb) {
		case SMTP_VERB_EHLO:
		case SMTP_VERB_HELO:
		case SMTP_VERB_LHLO:
		case SMTP_VERB_ETRN:
			complete_add_list(acc, "", 0, &ctx->hosts, 0);
			break;
		case SMTP_VERB_AUTH:
			complete_add_mechs(acc, ctx, 0, 0);
			break;
		case SMTP_VERB_HELP:
			complete_add_verb_names(acc);
			break;
		default:
			break;
		}
		return;
	}
	/* BDAT chunk-size [LAST] */
	if (cmd->verb == SMTP_VERB_BDAT && complete_is_blank(line[start - 1]) &&
	    complete_count_tokens(line, verb_end, start) == 1)
		complete_add(acc, "LAST", 0);
}

size_t
smtp_complete(const char *line, size_t cursor,
    const struct smtp_complete_ctx *ctx, struct smtp_completion *out)
{
	static const struct smtp_complete_ctx empty;
	struct complete_acc acc;
	const struct smtp_command *cmd;
	size_t start, i, ve;

	memset(out, 0, sizeof *out);
	if (line == NULL)
		return 0;
	if (ctx == NULL)
		ctx = &empty;
	cursor = strnlen(line, cursor);
	start = cursor;
	while (start > 0 && !complete_is_break(line[start - 1]))
		start--;
	out->start = start;
	if (ctx->state == SMTP_STATE_CONTENT)
		return 0;

	memset(&acc, 0, sizeof acc);
	acc.word = line + start;
	acc.wlen = cursor - start;
	acc.out = out;
	/* A SASL response: one word, only what the UI offers. */
	if (ctx->state == SMTP_STATE_AUTH) {
		if (start == 0)
			complete_add_list(&acc, "", 0, &ctx->sasl, 0);
		return out->nmatches;
	}

	for (i = 0; i < start && complete_is_blank(line[i]); i++)
		;
	if (i == start) {
		if (acc.wlen > 0 && acc.word[0] == '/')
			complete_slash_first(&acc, ctx);
		else
			complete_verbs_first(&acc, ctx);
	} else {
		for (ve = i; ve < start && !complete_is_blank(line[ve]); ve++)
			;
		/* A word after a '<' inside the first token: nothing. */
		if (ve < start) {
			if (line[i] == '/')
				complete_slash_args(
				    &acc, ctx, line, i, ve, start);
			else if ((cmd = smtp_command_find(line + i, ve - i)) !=
			    NULL)
				complete_verb_args(
				    &acc, ctx, cmd, line, ve, start);
		}
	}
	if (out->nmatches == 1)
		out->append = acc.first_append;
	return out->nmatches;
}

void
smtp_completion_free(struct smtp_completion *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nmatches; i++)
		free(c->matches[i]);
	free(c->matches);
	memset(c, 0, sizeof *c);
}

/* ---- addresses in server text ------------------------------------ */

static int
scan_is_trim(char ch)
{
	return ch != '\0' && strchr("<>()[],;:\"'.", ch) != NULL;
}

/* 1 when [w, w+n) is local@domain.tld in printable ASCII. */
static int
scan_is_address(const char *w, size_t n)
{
	const char *at = memchr(w, '@', n);
	size_t i;

	if (n == 0 || n > 254 || at == NULL || at == w || at == w + n - 1 ||
	    memchr(at + 1, '@', (size_t)(w + n - at - 1)) != NULL ||
	    memchr(at + 1, '.', (size_t)(w + n - at - 1)) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)w[i] <= 0x20 ||
		    (unsigned char)w[i] >= 0x7f ||
		    strchr("<>()[],;:\"\\", w[i]) != NULL)
			return 0;
	return 1;
}

size_t
smtp_complete_scan_addresses(const char *text, size_t len,
    void (*add)(const char *addr, size_t n, void *arg), void *arg)
{
	size_t i = 0, found = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		start = i;
		while (i < len && text[i] != ' ' && text[i] != '\t')
			i++;
		end = i;
		while (start < end && scan_is_trim(text[start]))
			start++;
		while (end > start && scan_is_trim(text[end - 1]))
			end--;
		if (scan_is_address(text + start, end - start)) {
			add(text + start, end - start, arg);
			found++;
		}
	}
	return found;
}

/* ---- accounts in server text ------------------------------------- */

static int
scan_is_user_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/* 1 when text[0..len) holds "AUTH" (any case). */
static int
scan_names_auth(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i++)
		if (strncasecmp(text + i, "AUTH", 4) == 0)
			return 1;
	return 0;
}

size_t
smtp_complete_scan_accounts(const char *text, size_t len,
    void (*add)(const char *user, size_t n, void *arg), void *arg)
{
	size_t i, j, found = 0;

	if (!scan_names_auth(text, len))
		return 0;
	for (i = 0; i + 5 < len; i++) {
		/* "user" as a word of its own, then blanks, then the name */
		if (strncasecmp(text + i, "user", 4) != 0 ||
		    (i > 0 && scan_is_user_char(text[i - 1])) ||
		    (text[i + 4] != ' ' && text[i + 4] != '\t'))
			continue;
		for (j = i + 4; j < len && (text[j] == ' ' || text[j] == '\t');
		     j++)
			;
		i = j;
		while (j < len && scan_is_user_char(text[j]))
			j++;
		/* a word of its own: what ends it is not part of a name */
		if (j == i || j - i > 64 ||
		    (j < len && text[j] != ',' && text[j] != ';' &&
		        text[j] != ' ' && text[j] != '\t'))
			continue;
		add(text + i, j - i, arg);
		found++;
		i = j;
	}
	return found;
}
