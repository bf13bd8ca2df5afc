/*
 * The knowledge base's lookups and text: what SMTP replies, enhanced
 * status codes and commands mean, for learners and for admins reading a
 * live session.
 *
 * RFCs: 5321 (4.2.1 reply theory, 4.2.2-4.2.5 the codes, 3.5 VRFY and
 * EXPN, 4.1.1 the commands), 3463 (enhanced status codes) and the IANA
 * "SMTP Enhanced Status Codes" registry (5248 and the extensions that
 * added to it: 3886, 4468, 4954, 6531, 6710, 7293, 7372, 7505, 8617,
 * 8689), 2034 (ENHANCEDSTATUSCODES), 3207 (STARTTLS), 4954 (AUTH), 1870
 * (SIZE), 3030 (CHUNKING/BDAT), 1985 (ETRN), 7504 (521 and 556), 2920
 * (PIPELINING).
 *
 * The data is the files protocol/knowledge/NAME.txt, embedded at build
 * time and read by explain_load.c into tables of struct smtp_explain:
 * reply codes ("550"), enhanced codes keyed by the registry's
 * class-independent form ("X.1.1"), command verbs ("VRFY"), reply
 * classes ("5xx"), enhanced classes ("5.X.X"), and the topics a learner
 * meets: EHLO keywords ("SIZE", the IANA SMTP Service Extensions
 * registry), ports ("587"), SASL mechanisms ("PLAIN") and concepts
 * ("envelope").  A port wins over a reply code only when the number is
 * not a registered code ("587" is a port, "250" a reply).  Another maps
 * (verb, code, enhanced) with a well-known meaning to the short phrase
 * the stage pane shows.  Every text is plain ASCII so a column is a
 * byte; the formatter wraps at word boundaries and never exceeds the
 * width.  Where real servers answer differently (Postfix, aiosmtpd,
 * smtp-sink, sendmail; see notes/real-servers.md) the "servers" field
 * says so.
 */
#include "protocol/knowledge/explain_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/command.h"

/* ---- tables and lookups ------------------------------------------ */

/* The entry with that key (any case) in the table of kind k, or NULL. */
static const struct smtp_explain *
table_find(enum explain_kind k, const char *key)
{
	const struct explain_table *t = &explain_kb()->t[k];
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcasecmp(t->e[i].key, key) == 0)
			return &t->e[i];
	return NULL;
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * Splits an enhanced code "c.s.d" (n bytes at s) into its class
 * character and the "s.d" part.  The class may be a digit or X; the
 * subject and detail have one to three digits (RFC 3463 2).
 */
static int
enhanced_split(const char *s, size_t n, char *cls, char *sd, size_t sdsize)
{
	const char *dot1, *dot2, *end = s + n;

	if (n < 5 || s[1] != '.')
		return -1;
	if (!isdigit((unsigned char)s[0]) && s[0] != 'X' && s[0] != 'x')
		return -1;
	dot1 = s + 1;
	dot2 = memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1));
	if (dot2 == NULL || dot2 - dot1 - 1 > 3 || end - dot2 - 1 > 3 ||
	    !all_digits(dot1 + 1, (size_t)(dot2 - dot1 - 1)) ||
	    !all_digits(dot2 + 1, (size_t)(end - dot2 - 1)))
		return -1;
	if ((size_t)(end - dot1 - 1) >= sdsize)
		return -1;
	*cls = s[0] == 'x' ? 'X' : s[0];
	memcpy(sd, dot1 + 1, (size_t)(end - dot1 - 1));
	sd[end - dot1 - 1] = '\0';
	return 0;
}

const struct smtp_explain *
smtp_explain_code(int code)
{
	char key[8];

	if (code < 100 || code > 599)
		return NULL;
	(void)snprintf(key, sizeof key, "%d", code);
	return table_find(EXPLAIN_REPLY, key);
}

const struct smtp_explain *
smtp_explain_enhanced(const char *code)
{
	char cls, sd[8], key[16];

	if (code == NULL ||
	    enhanced_split(code, strlen(code), &cls, sd, sizeof sd) == -1)
		return NULL;
	if (cls != 'X' && cls != '2' && cls != '4' && cls != '5')
		return NULL;
	(void)snprintf(key, sizeof key, "X.%s", sd);
	return table_find(EXPLAIN_ENHANCED, key);
}

const struct smtp_explain *
smtp_explain_verb(const char *verb)
{
	if (verb == NULL)
		return NULL;
	return table_find(EXPLAIN_VERB, verb);
}

const struct smtp_explain *
smtp_explain_class(int cls)
{
	char key[8];

	if (cls != 2 && cls != 4 && cls != 5)
		return NULL;
	(void)snprintf(key, sizeof key, "%d.X.X", cls);
	return table_find(EXPLAIN_ENHANCED_CLASS, key);
}

const struct smtp_explain *
smtp_explain_reply_class(int digit)
{
	char key[8];

	if (digit < 2 || digit > 5)
		return NULL;
	(void)snprintf(key, sizeof key, "%dxx", digit);
	return table_find(EXPLAIN_REPLY_CLASS, key);
}

size_t
smtp_explain_count(void)
{
	const struct explain_kb *kb = explain_kb();
	size_t n = 0;
	int k;

	for (k = 0; k < EXPLAIN_NKINDS; k++)
		n += kb->t[k].n;
	return n;
}

const struct smtp_explain *
smtp_explain_at(size_t idx)
{
	const struct explain_kb *kb = explain_kb();
	int k;

	for (k = 0; k < EXPLAIN_NKINDS; k++) {
		if (idx < kb->t[k].n)
			return &kb->t[k].e[idx];
		idx -= kb->t[k].n;
	}
	return NULL;
}

const char *
smtp_explain_kind(const struct smtp_explain *e)
{
	const struct explain_kb *kb = explain_kb();
	int k;

	for (k = 0; k < EXPLAIN_NKINDS; k++)
		if (e >= kb->t[k].e && e < kb->t[k].e + kb->t[k].n)
			return explain_kind_name((enum explain_kind)k);
	return "?";
}

/* ---- queries ----------------------------------------------------- */

/*
 * A topic (topics.txt): the query with its blanks as '-' ("bare LF" is
 * [bare-lf]), any case.  Returns 1 when found.
 */
static int
lookup_topic(const char *query, struct smtp_explain_hit *out)
{
	char key[32];
	size_t i, n = 0;

	query += strspn(query, " \t");
	for (i = 0; query[i] != '\0' && n + 1 < sizeof key; i++)
		if (query[i] == ' ' || query[i] == '\t') {
			if (n > 0 && key[n - 1] != '-')
				key[n++] = '-';
		} else
			key[n++] = query[i];
	while (n > 0 && key[n - 1] == '-')
		n--;
	key[n] = '\0';
	if (n == 0 || query[i] != '\0')
		return 0;
	out->entry = table_find(EXPLAIN_TOPIC, key);
	if (out->entry == NULL)
		return 0;
	(void)snprintf(out->as, sizeof out->as, "%s", out->entry->key);
	return 1;
}

/* The next word of *p (delimited by blanks), advancing *p past it. */
static size_t
next_word(const char **p, const char **word)
{
	const char *s = *p, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	w = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	*word = w;
	*p = s;
	return (size_t)(s - w);
}

/* Fills hit with an enhanced code (n bytes at w); 0 when it is not one. */
static int
lookup_enhanced(const char *w, size_t n, struct smtp_explain_hit *hit)
{
	char cls, sd[8], key[16];

	if (enhanced_split(w, n, &cls, sd, sizeof sd) == -1)
		return 0;
	memset(hit, 0, sizeof *hit);
	(void)snprintf(hit->as, sizeof hit->as, "%c.%s", cls, sd);
	(void)snprintf(key, sizeof key, "X.%s", sd);
	hit->entry = table_find(EXPLAIN_ENHANCED, key);
	if (hit->entry != NULL &&
	    (cls == 'X' || smtp_explain_class(cls - '0') != NULL))
		return 1;
	if (cls == 'X')
		return 0;
	/* Not in the registry (5.7.515, say): explain its class. */
	hit->entry = smtp_explain_class(cls - '0');
	hit->fallback = 1;
	return hit->entry != NULL;
}

/*
 * Fills out with a port's entry when the digits (n bytes at w) name a
 * port the knowledge base knows and are not a registered reply code:
 * "587" is a port, "250" a reply.  Returns 1 on a hit.
 */
static int
lookup_port(const char *w, size_t n, struct smtp_explain_hit *out)
{
	char key[8];

	memcpy(key, w, n);
	key[n] = '\0';
	if (n == 3 &&
	    smtp_explain_code(
	        (w[0] - '0') * 100 + (w[1] - '0') * 10 + (w[2] - '0')) != NULL)
		return 0;
	if ((out->entry = table_find(EXPLAIN_PORT, key)) == NULL)
		return 0;
	(void)snprintf(out->as, sizeof out->as, "%s", out->entry->key);
	return 1;
}

/*
 * A word (n bytes at w; a command line's first word) as a verb, an EHLO
 * keyword, a SASL mechanism or a concept.  A word can be two of them
 * ("AUTH" is a verb and a keyword): the first two kinds that know it
 * fill out, in that order.  Returns the number of hits.
 */
static size_t
lookup_word(const char *w, size_t n, struct smtp_explain_hit out[2])
{
	static const enum explain_kind kinds[] = {EXPLAIN_VERB,
	    EXPLAIN_EXTENSION, EXPLAIN_MECHANISM, EXPLAIN_CONCEPT};
	char key[sizeof out[0].as];
	size_t i, hits = 0;

	if (n >= sizeof key)
		return 0;
	memcpy(key, w, n);
	key[n] = '\0';
	for (i = 0; i < sizeof kinds / sizeof kinds[0] && hits < 2; i++) {
		const struct smtp_explain *e = table_find(kinds[i], key);

		if (e == NULL)
			continue;
		out[hits].entry = e;
		(void)snprintf(out[hits].as, sizeof out[hits].as, "%s", e->key);
		hits++;
	}
	return hits;
}

size_t
smtp_explain_lookup(const char *query, struct smtp_explain_hit out[2])
{
	const char *p = query, *w;
	size_t n;
	int code;

	if (query == NULL)
		return 0;
	memset(out, 0, 2 * sizeof *out);
	n = next_word(&p, &w);
	if (n == 0 || n > 40)
		return 0;
	/* A known port that is not also a registered reply code. */
	if (n <= 5 && all_digits(w, n) && lookup_port(w, n, &out[0]))
		return 1;
	/* "550", "550 5.1.1", a pasted reply line "550-5.1.1 text". */
	if (n >= 3 && all_digits(w, 3) && (n == 3 || (w[3] == '-' && n > 4))) {
		code = (w[0] - '0') * 100 + (w[1] - '0') * 10 + (w[2] - '0');
		(void)snprintf(out[0].as, sizeof out[0].as, "%d", code);
		out[0].entry = smtp_explain_code(code);
		if (out[0].entry == NULL) {
			out[0].entry = smtp_explain_reply_class(code / 100);
			out[0].fallback = 1;
		}
		if (out[0].entry == NULL)
			return 0;
		if (n > 4)
			return 1 +
			    (size_t)lookup_enhanced(w + 4, n - 4, &out[1]);
		n = next_word(&p, &w);
		return 1 + (size_t)lookup_enhanced(w, n, &out[1]);
	}
	/* "5xx", "5": a reply class. */
	if ((n == 3 && w[0] >= '2' && w[0] <= '5' &&
	        (w[1] == 'x' || w[1] == 'X') && (w[2] == 'x' || w[2] == 'X')) ||
	    (n == 1 && w[0] >= '2' && w[0] <= '5')) {
		out[0].entry = smtp_explain_reply_class(w[0] - '0');
		(void)snprintf(out[0].as, sizeof out[0].as, "%cxx", w[0]);
		return 1;
	}
	/* "5.x.x": an enhanced class. */
	if (n == 5 && w[0] >= '2' && w[0] <= '5' && w[1] == '.' &&
	    strncasecmp(w + 2, "x.x", 3) == 0) {
		out[0].entry = smtp_explain_class(w[0] - '0');
		(void)snprintf(out[0].as, sizeof out[0].as, "%c.X.X", w[0]);
		return out[0].entry != NULL;
	}
	if (lookup_enhanced(w, n, &out[0]))
		return 1;
	memset(out, 0, 2 * sizeof *out);
	{
		size_t hits = lookup_word(w, n, out);

		if (hits > 0)
			return hits;
	}
	memset(out, 0, 2 * sizeof *out);
	return lookup_topic(query, &out[0]);
}

/* ---- text -------------------------------------------------------- */

/*
 * Appends text to b wrapped to width columns.  The current line already
 * holds col columns; continuation lines start with indent spaces.  A
 * newline in text starts a new line.  Words longer than a line are cut,
 * so no line ever exceeds width.  Ends without a newline.
 */
static void
wrap(struct buf *b, const char *text, size_t col, size_t indent, size_t width)
{
	const char *p = text;
	int fresh = 1;

	while (*p != '\0') {
		size_t n;

		if (*p == ' ') {
			p++;
			continue;
		}
		if (*p == '\n') {
			(void)buf_add_printf(b, "\n%*s", (int)indent, "");
			col = indent;
			fresh = 1;
			p++;
			continue;
		}
		n = strcspn(p, " \n");
		if (!fresh && col + 1 + n > width) {
			(void)buf_add_printf(b, "\n%*s", (int)indent, "");
			col = indent;
			fresh = 1;
		}
		if (!fresh) {
			(void)buf_add(b, " ", 1);
			col++;
		}
		while (col + n > width) {
			size_t room = width > col ? width - col : 0;

			if (room == 0) {
				(void)buf_add_printf(
				    b, "\n%*s", (int)indent, "");
				col = indent;
				continue;
			}
			(void)buf_add(b, p, room);
			p += room;
			n -= room;
			(void)buf_add_printf(b, "\n%*s", (int)indent, "");
			col = indent;
		}
		(void)buf_add(b, p, n);
		col += n;
		p += n;
		fresh = 0;
	}
}

static void
section(struct buf *b, const char *heading, const char *text, size_t width)
{
	if (text == NULL || *text == '\0')
		return;
	wrap(b, heading, 0, 2, width);
	(void)buf_add(b, "\n  ", 3);
	wrap(b, text, 2, 2, width);
	(void)buf_add(b, "\n", 1);
}

/* Extensions, ports, mechanisms and concepts: things, not replies. */
static int
is_topic(const char *kind)
{
	return strcmp(kind, "extension") == 0 || strcmp(kind, "port") == 0 ||
	    strcmp(kind, "mechanism") == 0 || strcmp(kind, "concept") == 0;
}

static void
format_hit(struct buf *b, const struct smtp_explain_hit *hit, size_t width)
{
	const struct smtp_explain *e = hit->entry;
	const char *kind = smtp_explain_kind(e);
	int verb = strcmp(kind, "verb") == 0;
	int topic = is_topic(kind);
	const struct smtp_command *cmd;
	char *head;

	if (hit->fallback) {
		head = xasprintf("%s is not a registered %s; what its class "
		                 "means:",
		    hit->as,
		    strchr(hit->as, '.') ? "enhanced status code"
		                         : "reply code");
		wrap(b, head, 0, 2, width);
		(void)buf_add(b, "\n", 1);
		free(head);
	}
	if (strcmp(kind, "port") == 0)
		head = xasprintf("Port %s: %s", e->key, e->title);
	else
		head = xasprintf("%s: %s",
		    hit->fallback || hit->as[0] == '\0' ? e->key : hit->as,
		    e->title);
	wrap(b, head, 0, 2, width);
	(void)buf_add(b, "\n", 1);
	free(head);
	if (verb && (cmd = smtp_command_find(e->key, strlen(e->key))) != NULL &&
	    cmd->syntax != NULL) {
		head = xasprintf("Syntax: %s", cmd->syntax);
		wrap(b, head, 0, 2, width);
		(void)buf_add(b, "\n", 1);
		free(head);
	}
	if (!hit->fallback && hit->as[0] != '\0' &&
	    strcasecmp(hit->as, e->key) != 0)
		head = xasprintf(
		    "Reference: %s (registry entry %s)", e->rfc, e->key);
	else
		head = xasprintf("Reference: %s", e->rfc);
	wrap(b, head, 0, 2, width);
	(void)buf_add(b, "\n", 1);
	free(head);
	section(b,
	    verb        ? "What it does:"
	        : topic ? "What it is:"
	                : "What it means:",
	    e->meaning, width);
	section(b,
	    verb                            ? "When it is legal:"
	        : strcmp(kind, "port") == 0 ? "What a server does there:"
	        : topic                     ? "What a server does with it:"
	                                    : "Usual causes:",
	    e->causes, width);
	section(b,
	    verb        ? "Replies to expect:"
	        : topic ? "How to try it here:"
	                : "What to do:",
	    e->action, width);
	section(b, "How real servers differ:", e->servers, width);
}

char *
smtp_explain_format(const struct smtp_explain_hit *hits, size_t n, size_t width)
{
	struct buf b;
	char *s;
	size_t i;

	if (n == 0)
		return NULL;
	if (width < 20)
		width = 20;
	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			(void)buf_add(&b, "\n", 1);
		format_hit(&b, &hits[i], width);
	}
	s = xstrndup(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	return s;
}

char *
smtp_explain_text_width(const char *query, size_t width)
{
	struct smtp_explain_hit hits[2];
	size_t n = smtp_explain_lookup(query, hits);

	return n == 0 ? NULL : smtp_explain_format(hits, n, width);
}

char *
smtp_explain_text(const char *query)
{
	return smtp_explain_text_width(query, SMTP_EXPLAIN_WIDTH);
}

/* ---- one line ---------------------------------------------------- */

/* 1 when verb (a command line, a verb or a stage name) names want. */
static int
verb_is(const char *verb, const char *want)
{
	size_t n = strlen(want);

	return strncasecmp(verb, want, n) == 0 &&
	    (verb[n] == '\0' || verb[n] == ' ' || verb[n] == '\t');
}

const char *
smtp_explain_oneline(const char *verb, int code, const char *enhanced)
{
	const struct explain_onelines *ol = &explain_kb()->onelines;
	const struct smtp_explain *e;
	char cls, sd[8];
	size_t i;

	if (enhanced != NULL && *enhanced == '\0')
		enhanced = NULL;
	for (i = 0; i < ol->n; i++) {
		const struct explain_oneline *o = &ol->o[i];

		if (o->code != code)
			continue;
		if (o->verb != NULL &&
		    (verb == NULL || !verb_is(verb, o->verb)))
			continue;
		if (o->enhanced != NULL &&
		    (enhanced == NULL || strcmp(o->enhanced, enhanced) != 0))
			continue;
		return o->text;
	}
	/* X.s.0 titles ("Other ... status") say less than the code's. */
	if (enhanced != NULL &&
	    enhanced_split(enhanced, strlen(enhanced), &cls, sd, sizeof sd) ==
	        0 &&
	    strcmp(strchr(sd, '.') + 1, "0") != 0 &&
	    (e = smtp_explain_enhanced(enhanced)) != NULL)
		return e->title;
	if ((e = smtp_explain_code(code)) != NULL)
		return e->title;
	if ((e = smtp_explain_reply_class(code / 100)) != NULL)
		return e->title;
	return code == 0 ? "no reply yet" : "not a valid SMTP reply code";
}
