/*
 * Reads the knowledge files: the embedded protocol/knowledge/NAME.txt
 * (cmake/embed.cmake makes them a table, files.h) become the tables
 * explain.c looks things up in, once, on first use.  The format is
 * described in protocol/knowledge/README.md: comments start with '#',
 * an entry starts with "[KEY]", a field with "name: text", and a line
 * that starts with blanks continues the field after one space.
 * onelines.txt has one VERB|CODE|ENHANCED|TEXT row a line.
 *
 * The files are ours, but the parser trusts nothing about them: every
 * line is bounded by the buffer's length (no NUL needed), a line with a
 * control byte is skipped, unknown fields are ignored and an entry that
 * lacks its key, title, meaning or rfc is dropped, so the lookups can
 * rely on those four.  All texts of one file live in one allocation.
 */
#include "protocol/knowledge/explain_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/knowledge/files.h"

#define KB_KEY_MAX 31

/* Field 0 is the key ("[550]"); the rest are "name: text" lines. */
enum {
	KB_KEY,
	KB_TITLE,
	KB_MEANING,
	KB_CAUSES,
	KB_ACTION,
	KB_SERVERS,
	KB_RFC,
	KB_NFIELDS
};

static const char *const kb_fields[KB_NFIELDS] = {
    NULL, "title", "meaning", "causes", "action", "servers", "rfc"};

static const struct {
	const char *file;
	const char *name;
} kb_kinds[EXPLAIN_NKINDS] = {
    [EXPLAIN_REPLY] = {"replies", "reply"},
    [EXPLAIN_ENHANCED] = {"enhanced", "enhanced"},
    [EXPLAIN_VERB] = {"verbs", "verb"},
    [EXPLAIN_REPLY_CLASS] = {"reply-classes", "reply class"},
    [EXPLAIN_ENHANCED_CLASS] = {"enhanced-classes", "enhanced class"},
    [EXPLAIN_EXTENSION] = {"extensions", "extension"},
    [EXPLAIN_PORT] = {"ports", "port"},
    [EXPLAIN_MECHANISM] = {"mechanisms", "mechanism"},
    [EXPLAIN_CONCEPT] = {"concepts", "concept"},
    [EXPLAIN_TOPIC] = {"topics", "topic"},
};

const char *
explain_kind_file(enum explain_kind k)
{
	return k < EXPLAIN_NKINDS ? kb_kinds[k].file : NULL;
}

const char *
explain_kind_name(enum explain_kind k)
{
	return k < EXPLAIN_NKINDS ? kb_kinds[k].name : "?";
}

/* ---- lines ------------------------------------------------------- */

/*
 * The next line of [*p, end) without its LF (and a CR before it);
 * advances *p.  Returns 0 at the end.
 */
static int
kb_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *s = *p, *nl;

	if (s >= end)
		return 0;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (nl == NULL)
		nl = end;
	*line = s;
	*n = (size_t)(nl - s);
	if (*n > 0 && s[*n - 1] == '\r')
		(*n)--;
	*p = nl < end ? nl + 1 : end;
	return 1;
}

static int
kb_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Drops leading and trailing blanks of [*s, *s + *n). */
static void
kb_trim(const char **s, size_t *n)
{
	while (*n > 0 && kb_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && kb_blank((*s)[*n - 1]))
		(*n)--;
}

/* 1 when the line has no control byte (leading blanks aside). */
static int
kb_clean(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && kb_blank(s[i]))
		i++;
	for (; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* The arena's bytes in one allocation the caller frees (NULL if none). */
static char *
kb_arena_take(struct buf *a)
{
	char *s = NULL;

	if (buf_used(a) > 0) {
		s = xmalloc(buf_used(a));
		memcpy(s, buf_peek(a), buf_used(a));
	}
	buf_reset(a);
	return s;
}

/* ---- entries ----------------------------------------------------- */

struct kb_pending {
	size_t off[KB_NFIELDS]; /* offsets into the arena */
	int set[KB_NFIELDS];
};

struct kb_parse {
	struct buf arena; /* texts, each ended by a NUL once closed */
	struct kb_pending *v; /* complete entries */
	size_t n;
	struct kb_pending cur;
	int in_entry;
	int open; /* the field whose text ends the arena, or -1 */
};

static void
kb_close_field(struct kb_parse *k)
{
	if (k->open >= 0)
		(void)buf_add(&k->arena, "", 1);
	k->open = -1;
}

static void
kb_end_entry(struct kb_parse *k)
{
	const struct kb_pending *c = &k->cur;

	kb_close_field(k);
	if (k->in_entry && c->set[KB_KEY] && c->set[KB_TITLE] &&
	    c->set[KB_MEANING] && c->set[KB_RFC]) {
		k->v = xreallocarray(k->v, k->n + 1, sizeof *k->v);
		k->v[k->n++] = *c;
	}
	k->in_entry = 0;
}

/* Starts field f with n bytes of text at s. */
static void
kb_field(struct kb_parse *k, int f, const char *s, size_t n)
{
	kb_close_field(k);
	k->cur.off[f] = buf_used(&k->arena);
	k->cur.set[f] = 1;
	(void)buf_add(&k->arena, s, n);
	k->open = f;
}

/* One line that is not a comment: an entry, a field or a continuation. */
static void
kb_entry_line(struct kb_parse *k, const char *s, size_t n)
{
	const char *colon;
	size_t i, len;

	if (kb_blank(s[0])) {
		kb_trim(&s, &n);
		if (n > 0 && k->open >= 0) {
			(void)buf_add(&k->arena, " ", 1);
			(void)buf_add(&k->arena, s, n);
		}
		return;
	}
	kb_trim(&s, &n);
	if (s[0] == '[') {
		kb_end_entry(k);
		if (n < 3 || s[n - 1] != ']')
			return;
		s++;
		n -= 2;
		kb_trim(&s, &n);
		if (n == 0 || n > KB_KEY_MAX)
			return;
		memset(&k->cur, 0, sizeof k->cur);
		k->in_entry = 1;
		kb_field(k, KB_KEY, s, n);
		kb_close_field(k);
		return;
	}
	kb_close_field(k);
	colon = memchr(s, ':', n);
	if (!k->in_entry || colon == NULL)
		return;
	len = (size_t)(colon - s);
	for (i = 1; i < KB_NFIELDS; i++)
		if (strlen(kb_fields[i]) == len &&
		    memcmp(kb_fields[i], s, len) == 0)
			break;
	if (i == KB_NFIELDS)
		return;
	s = colon + 1;
	n -= len + 1;
	kb_trim(&s, &n);
	kb_field(k, (int)i, s, n);
}

void
explain_table_parse(struct explain_table *t, const char *text, size_t len)
{
	struct kb_parse k;
	const char *p = text, *end = text + len, *s;
	const char **dst;
	size_t n, i;
	int f;

	memset(t, 0, sizeof *t);
	memset(&k, 0, sizeof k);
	buf_init(&k.arena, 0);
	k.open = -1;
	while (kb_line(&p, end, &s, &n)) {
		if (n == 0 || s[0] == '#' || !kb_clean(s, n))
			continue;
		kb_entry_line(&k, s, n);
	}
	kb_end_entry(&k);
	t->strings = kb_arena_take(&k.arena);
	t->n = k.n;
	t->e = k.n > 0 ? xcalloc(k.n, sizeof *t->e) : NULL;
	for (i = 0; i < k.n; i++) {
		struct smtp_explain *e = &t->e[i];
		const char **fields[KB_NFIELDS] = {&e->key, &e->title,
		    &e->meaning, &e->causes, &e->action, &e->servers, &e->rfc};

		for (f = 0; f < KB_NFIELDS; f++) {
			dst = fields[f];
			*dst =
			    k.v[i].set[f] ? t->strings + k.v[i].off[f] : NULL;
		}
	}
	free(k.v);
}

void
explain_table_free(struct explain_table *t)
{
	free(t->e);
	free(t->strings);
	memset(t, 0, sizeof *t);
}

/* ---- one-line meanings -------------------------------------------- */

struct kb_row {
	size_t verb, enhanced, text; /* offsets; SIZE_MAX: "*" (any) */
	int code;
};

/* Parses "VERB|CODE|ENHANCED|TEXT" into r, copying the texts to a. */
static int
kb_row(struct buf *a, struct kb_row *r, const char *s, size_t n)
{
	const char *end = s + n, *bar[3], *q = s;
	size_t i, part[3];
	int code = 0;

	for (i = 0; i < 3; i++) {
		bar[i] = memchr(q, '|', (size_t)(end - q));
		if (bar[i] == NULL || bar[i] == q)
			return -1;
		q = bar[i] + 1;
	}
	if (q == end || bar[1] - bar[0] - 1 > 3)
		return -1;
	for (q = bar[0] + 1; q < bar[1]; q++) {
		if (*q < '0' || *q > '9')
			return -1;
		code = code * 10 + (*q - '0');
	}
	r->code = code;
	{
		const char *from[3] = {s, bar[1] + 1, bar[2] + 1};
		const char *to[3] = {bar[0], bar[2], end};

		for (i = 0; i < 3; i++) {
			size_t len = (size_t)(to[i] - from[i]);

			if (i < 2 && len == 1 && from[i][0] == '*') {
				part[i] = SIZE_MAX;
				continue;
			}
			part[i] = buf_used(a);
			(void)buf_add(a, from[i], len);
			(void)buf_add(a, "", 1);
		}
	}
	r->verb = part[0];
	r->enhanced = part[1];
	r->text = part[2];
	return 0;
}

void
explain_onelines_parse(struct explain_onelines *o, const char *text, size_t len)
{
	struct buf a;
	struct kb_row *rows = NULL, r;
	const char *p = text, *end = text + len, *s;
	size_t n, nrows = 0, i;

	memset(o, 0, sizeof *o);
	buf_init(&a, 0);
	while (kb_line(&p, end, &s, &n)) {
		if (n == 0 || s[0] == '#' || !kb_clean(s, n))
			continue;
		kb_trim(&s, &n);
		if (n == 0 || kb_row(&a, &r, s, n) == -1)
			continue;
		rows = xreallocarray(rows, nrows + 1, sizeof *rows);
		rows[nrows++] = r;
	}
	o->strings = kb_arena_take(&a);
	o->n = nrows;
	o->o = nrows > 0 ? xcalloc(nrows, sizeof *o->o) : NULL;
	for (i = 0; i < nrows; i++) {
		o->o[i].verb =
		    rows[i].verb == SIZE_MAX ? NULL : o->strings + rows[i].verb;
		o->o[i].enhanced = rows[i].enhanced == SIZE_MAX
		    ? NULL
		    : o->strings + rows[i].enhanced;
		o->o[i].text = o->strings + rows[i].text;
		o->o[i].code = rows[i].code;
	}
	free(rows);
}

void
explain_onelines_free(struct explain_onelines *o)
{
	free(o->o);
	free(o->strings);
	memset(o, 0, sizeof *o);
}

/* ---- the embedded files -------------------------------------------- */

static const struct knowledge_file *
kb_file(const char *name)
{
	size_t i;

	for (i = 0; i < knowledge_file_count; i++)
		if (strcmp(knowledge_files[i].name, name) == 0)
			return &knowledge_files[i];
	return NULL;
}

const struct explain_kb *
explain_kb(void)
{
	static struct explain_kb kb;
	static int loaded;
	const struct knowledge_file *f;
	int k;

	if (loaded)
		return &kb;
	loaded = 1;
	for (k = 0; k < EXPLAIN_NKINDS; k++)
		if ((f = kb_file(kb_kinds[k].file)) != NULL)
			explain_table_parse(&kb.t[k], f->text, f->len);
	if ((f = kb_file("onelines")) != NULL)
		explain_onelines_parse(&kb.onelines, f->text, f->len);
	return &kb;
}
