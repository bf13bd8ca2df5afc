/*
 * Lesson files: the text format of docs/lessons.md parsed into a struct
 * lesson.  A file is lines of "field: text"; a line that starts with
 * blanks continues the field before it; '#' in the first column starts
 * a comment.  Fields: name, title, server (repeatable), text (one
 * paragraph each, repeatable), task, then per goal the three lines goal,
 * check and hint, then answer (one script line each, repeatable).
 * Every problem is reported as "FILE:LINE: what is wrong" with what to
 * write instead, for `ehlo lesson --check`; the built-in lessons go
 * through the same parser (a unit test keeps them valid).
 *
 * A check is one of (docs/lessons.md has the full list):
 *   STAGE CODES [ENHANCED] [with TEXT] [after tls]
 *       e.g. "rcpt 550 5.1.1", "vrfy 250-252", "mail 4xx with SIZE="
 *   delivered [<ADDR>] | deliveries N | tls | relayed | pipelined |
 *   pipelined-delivery | rset-in-transaction | dot-line USER | bcc USER |
 *   bare-lf USER
 */
#include "protocol/lesson.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/session.h"

#define LF_MAX (64 * 1024)
#define LF_MAX_GOALS 32

static const struct {
	const char *word;
	enum smtp_stage_kind kind;
} lf_stages[] = {
    {"greeting", SMTP_STAGE_GREETING},
    {"ehlo", SMTP_STAGE_EHLO},
    {"helo", SMTP_STAGE_HELO},
    {"starttls", SMTP_STAGE_STARTTLS},
    {"auth", SMTP_STAGE_AUTH},
    {"mail", SMTP_STAGE_MAIL},
    {"rcpt", SMTP_STAGE_RCPT},
    {"data", SMTP_STAGE_DATA},
    {"message", SMTP_STAGE_MESSAGE},
    {"bdat", SMTP_STAGE_BDAT},
    {"rset", SMTP_STAGE_RSET},
    {"vrfy", SMTP_STAGE_VRFY},
    {"expn", SMTP_STAGE_EXPN},
    {"help", SMTP_STAGE_HELP},
    {"noop", SMTP_STAGE_NOOP},
    {"verb", SMTP_STAGE_VERB},
    {"quit", SMTP_STAGE_QUIT},
};

static const struct {
	const char *word;
	enum lesson_check_kind kind;
	int arg; /* 0 none, 1 optional, 2 required */
} lf_named[] = {
    {"delivered", LESSON_CHECK_DELIVERED, 1},
    {"deliveries", LESSON_CHECK_DELIVERIES, 2},
    {"tls", LESSON_CHECK_TLS, 0},
    {"relayed", LESSON_CHECK_RELAYED, 0},
    {"pipelined", LESSON_CHECK_PIPELINED, 0},
    {"pipelined-delivery", LESSON_CHECK_PIPELINED_DELIVERY, 0},
    {"rset-in-transaction", LESSON_CHECK_RSET_IN_TXN, 0},
    {"dot-line", LESSON_CHECK_DOT_LINE, 2},
    {"bcc", LESSON_CHECK_BCC, 2},
    {"bare-lf", LESSON_CHECK_BARE_LF, 2},
};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The lesson being built, and where its parser is. */
struct lf {
	const char *file;
	size_t line;
	char *err;
	struct lesson *l;
	struct lesson_goal goals[LF_MAX_GOALS];
	size_t ngoals;
	struct buf text, answer;
	int goal_has_check, goal_has_hint;
};

static void lf_error(struct lf *f, const char *fmt, ...) EHLO_PRINTF(2, 3);

static void
lf_error(struct lf *f, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (f->err != NULL)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	f->err = xasprintf("%s:%zu: %s", f->file, f->line, msg);
	free(msg);
}

/* The next blank-separated word of *p ("quoted" words keep blanks). */
static char *
lf_word(const char **p)
{
	const char *s = *p, *e;
	char *w;

	while (*s == ' ')
		s++;
	if (*s == '\0') {
		*p = s;
		return NULL;
	}
	if (*s == '"' && (e = strchr(s + 1, '"')) != NULL) {
		w = xstrndup(s + 1, (size_t)(e - s - 1));
		*p = e + 1;
		return w;
	}
	e = s + strcspn(s, " ");
	w = xstrndup(s, (size_t)(e - s));
	*p = e;
	return w;
}

/* "250", "250-252", "4xx" into [lo, hi]; -1 when it is none of them. */
static int
lf_codes(const char *w, int *lo, int *hi)
{
	char *end;
	long a, b;

	if (strlen(w) == 3 && w[0] >= '2' && w[0] <= '5' &&
	    (w[1] == 'x' || w[1] == 'X') && (w[2] == 'x' || w[2] == 'X')) {
		*lo = (w[0] - '0') * 100;
		*hi = *lo + 99;
		return 0;
	}
	a = strtol(w, &end, 10);
	if (end == w || a < 200 || a > 599)
		return -1;
	b = a;
	if (*end == '-') {
		const char *s = end + 1;

		b = strtol(s, &end, 10);
		if (end == s || b < a || b > 599)
			return -1;
	}
	if (*end != '\0')
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

static int
lf_is_enhanced(const char *w)
{
	size_t i, dots = 0;

	if (strlen(w) < 5 || strlen(w) > 11 || w[0] < '2' || w[0] > '5' ||
	    w[1] != '.')
		return 0;
	for (i = 1; w[i] != '\0'; i++) {
		if (w[i] == '.')
			dots++;
		else if (w[i] < '0' || w[i] > '9')
			return 0;
	}
	return dots == 2 && w[strlen(w) - 1] != '.';
}

static void
lf_check(struct lf *f, const char *spec, struct lesson_check *k)
{
	const char *p = spec;
	char *w = lf_word(&p), *x;
	size_t i;

	memset(k, 0, sizeof *k);
	if (w == NULL) {
		lf_error(f,
		    "check: is empty; write e.g. \"rcpt 550 5.1.1\" "
		    "or \"delivered <bob@practice.test>\"");
		return;
	}
	for (i = 0; i < NELEMS(lf_named); i++) {
		if (strcasecmp(w, lf_named[i].word) != 0)
			continue;
		k->kind = lf_named[i].kind;
		x = lf_word(&p);
		if (x == NULL && lf_named[i].arg == 2)
			lf_error(f, "check: %s needs an argument (%s)", w,
			    k->kind == LESSON_CHECK_DELIVERIES
			        ? "a number of messages"
			        : "an inbox user like carol");
		else if (x != NULL && lf_named[i].arg == 0)
			lf_error(
			    f, "check: %s takes no argument, not \"%s\"", w, x);
		else if (x != NULL && k->kind == LESSON_CHECK_DELIVERIES) {
			char *end;
			long n = strtol(x, &end, 10);

			if (*end != '\0' || n < 1 || n > 100)
				lf_error(f,
				    "check: deliveries wants a number from 1 "
				    "to 100, not \"%s\"",
				    x);
			k->count = (unsigned)(n > 0 ? n : 1);
		} else if (x != NULL)
			k->arg = xstrdup(x);
		free(x);
		if ((x = lf_word(&p)) != NULL)
			lf_error(f, "check: unexpected \"%s\" after %s", x, w);
		free(x);
		free(w);
		return;
	}
	for (i = 0; i < NELEMS(lf_stages); i++)
		if (strcasecmp(w, lf_stages[i].word) == 0)
			break;
	if (i == NELEMS(lf_stages)) {
		lf_error(f,
		    "check: unknown stage or check \"%s\"; a stage is one of "
		    "greeting ehlo helo starttls auth mail rcpt data message "
		    "bdat rset vrfy expn help noop verb quit, a named check "
		    "one of delivered deliveries tls relayed pipelined "
		    "pipelined-delivery rset-in-transaction dot-line bcc bare-lf",
		    w);
		free(w);
		return;
	}
	free(w);
	k->kind = LESSON_CHECK_STAGE;
	k->stage = (int)lf_stages[i].kind;
	w = lf_word(&p);
	if (w == NULL || lf_codes(w, &k->lo, &k->hi) == -1) {
		lf_error(f,
		    "check: after the stage comes a reply code (250), a range "
		    "(250-252) or a class (4xx), not \"%s\"",
		    w != NULL ? w : "");
		free(w);
		return;
	}
	free(w);
	while ((w = lf_word(&p)) != NULL) {
		if (lf_is_enhanced(w) && k->enh[0] == '\0' && k->with == NULL)
			(void)snprintf(k->enh, sizeof k->enh, "%s", w);
		else if (strcasecmp(w, "with") == 0 && k->with == NULL) {
			k->with = lf_word(&p);
			if (k->with == NULL)
				lf_error(f,
				    "check: \"with\" needs the text the "
				    "command must contain");
		} else if (strcasecmp(w, "after") == 0) {
			free(w);
			w = lf_word(&p);
			if (w == NULL || strcasecmp(w, "tls") != 0)
				lf_error(f, "check: write \"after tls\"");
			k->after_tls = 1;
		} else
			lf_error(f,
			    "check: unexpected \"%s\"; after the code may come "
			    "an enhanced code (5.1.1), with TEXT, after tls",
			    w);
		free(w);
	}
}

static void
lf_check_free(struct lesson_check *k)
{
	free(k->with);
	free(k->arg);
	k->with = k->arg = NULL;
}

/* Appends a continuation or a new value to the string *dst. */
static void
lf_append(char **dst, const char *text)
{
	char *old = *dst;

	*dst = old == NULL ? xstrdup(text) : xasprintf("%s %s", old, text);
	free(old);
}

static int
lf_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 31)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static void
lf_server(struct lf *f, const char *v)
{
	struct lesson_server *sv;
	const char *p = v;
	char *w, *num, *end;
	unsigned *dst;
	long ms;

	if (f->l == NULL)
		return;
	sv = &f->l->server;
	while ((w = lf_word(&p)) != NULL) {
		dst = NULL;
		if (strcmp(w, "require-tls") == 0)
			sv->require_tls = 1;
		else if (strcmp(w, "require-auth") == 0)
			sv->require_auth = 1;
		else if (strcmp(w, "lmtp") == 0)
			sv->lmtp = 1;
		else if (strcmp(w, "greet-pause") == 0)
			dst = &sv->greet_pause_ms;
		else if (strcmp(w, "greylist") == 0)
			dst = &sv->greylist_ms;
		else if (strcmp(w, "slow") == 0)
			dst = &sv->slow_ms;
		else
			lf_error(f,
			    "server: unknown \"%s\"; write require-tls, "
			    "require-auth, lmtp, greet-pause MS, greylist MS or "
			    "slow MS",
			    w);
		if (dst != NULL) {
			num = lf_word(&p);
			ms = num != NULL ? strtol(num, &end, 10) : -1;
			if (num == NULL || *end != '\0' || ms < 1 || ms > 60000)
				lf_error(f,
				    "server: %s wants milliseconds from 1 to "
				    "60000",
				    w);
			else
				*dst = (unsigned)ms;
			free(num);
		}
		free(w);
	}
}

/* One "field: value" line; *cur is where continuations go. */
static void
lf_field(struct lf *f, const char *name, const char *v, char ***cur)
{
	struct lesson *l = f->l;
	struct lesson_goal *g = f->ngoals > 0 ? &f->goals[f->ngoals - 1] : NULL;

	*cur = NULL;
	if (strcmp(name, "name") == 0) {
		if (l->name != NULL)
			lf_error(f, "a second name:; a file holds one lesson");
		else if (!lf_name_ok(v))
			lf_error(f,
			    "name: \"%s\" must be 1 to 31 of a-z, 0-9 and -",
			    v);
		else
			l->name = xstrdup(v);
	} else if (strcmp(name, "title") == 0 || strcmp(name, "task") == 0) {
		char **dst = (char **)(name[1] == 'i' ? &l->title : &l->task);

		if (*dst != NULL)
			lf_error(f, "a second %s:", name);
		else {
			*dst = xstrdup(v);
			*cur = dst;
		}
	} else if (strcmp(name, "text") == 0) {
		if (buf_used(&f->text) > 0)
			(void)buf_add_str(&f->text, "\n\n");
		(void)buf_add_str(&f->text, v);
	} else if (strcmp(name, "server") == 0)
		lf_server(f, v);
	else if (strcmp(name, "goal") == 0) {
		if (g != NULL && (!f->goal_has_check || !f->goal_has_hint))
			lf_error(f,
			    "the goal before this one lacks its %s: line",
			    f->goal_has_check ? "hint" : "check");
		else if (f->ngoals == LF_MAX_GOALS)
			lf_error(f, "more than %d goals", LF_MAX_GOALS);
		else {
			g = &f->goals[f->ngoals++];
			g->text = xstrdup(v);
			*cur = (char **)&g->text;
			f->goal_has_check = f->goal_has_hint = 0;
		}
	} else if (strcmp(name, "check") == 0 || strcmp(name, "hint") == 0) {
		int check = name[0] == 'c';

		if (g == NULL)
			lf_error(f, "%s: before any goal: line", name);
		else if (check ? f->goal_has_check : f->goal_has_hint)
			lf_error(f, "a second %s: for one goal", name);
		else if (check) {
			lf_check(f, v, &g->check);
			f->goal_has_check = 1;
		} else {
			g->hint = xstrdup(v);
			*cur = (char **)&g->hint;
			f->goal_has_hint = 1;
		}
	} else if (strcmp(name, "answer") == 0) {
		(void)buf_add_str(&f->answer, v);
		(void)buf_add(&f->answer, "\n", 1);
	} else
		lf_error(f,
		    "unknown field \"%s\"; the fields are name, title, server, "
		    "text, task, goal, check, hint, answer",
		    name);
}

/* Checks what the whole file must have. */
static void
lf_finish(struct lf *f)
{
	struct lesson *l = f->l;

	if (f->ngoals > 0 && (!f->goal_has_check || !f->goal_has_hint))
		lf_error(f, "the last goal lacks its %s: line",
		    f->goal_has_check ? "hint" : "check");
	else if (l->name == NULL)
		lf_error(f, "no name: line (e.g. \"name: my-lesson\")");
	else if (l->title == NULL)
		lf_error(f, "no title: line");
	else if (buf_used(&f->text) == 0)
		lf_error(f, "no text: line (what the lesson teaches)");
	else if (l->task == NULL)
		lf_error(f, "no task: line (what the learner should do)");
	else if (f->ngoals == 0)
		lf_error(f,
		    "no goal: (each goal: a goal:, a check: and a "
		    "hint: line)");
	else if (buf_used(&f->answer) == 0)
		lf_error(f, "no answer: lines (a script that passes)");
}

struct lesson *
lesson_parse(const char *file, const char *text, size_t len, char **errstr)
{
	const char *p = text, *end = text + len;
	char **cur = NULL, *line;
	struct lesson *l;
	struct lf f;
	size_t i;
	int in_text = 0;

	memset(&f, 0, sizeof f);
	f.file = file;
	f.l = l = xcalloc(1, sizeof *l);
	buf_init(&f.text, LF_MAX);
	buf_init(&f.answer, LF_MAX);
	if (len > LF_MAX)
		lf_error(&f, "over %d bytes", LF_MAX);
	while (p < end && f.err == NULL) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);
		const char *colon;

		f.line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		/* The raw bytes: a NUL would end the copy below early. */
		for (i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
				lf_error(&f,
				    "a control character (byte 0x%02x)",
				    (unsigned char)p[i]);
		line = xstrndup(p, n);
		p = nl != NULL ? nl + 1 : end;
		if (f.err != NULL || n == 0 || line[0] == '#') {
			if (n == 0) {
				cur = NULL;
				in_text = 0;
			}
			free(line);
			continue;
		}
		if (line[0] == ' ' || line[0] == '\t') {
			const char *t = line + strspn(line, " \t");

			if (in_text) {
				(void)buf_add(&f.text, " ", 1);
				(void)buf_add_str(&f.text, t);
			} else if (cur == NULL)
				lf_error(&f,
				    "a continuation line with no field "
				    "before it (only title, task, goal, "
				    "hint and text continue)");
			else
				lf_append(cur, t);
		} else if ((colon = strchr(line, ':')) == NULL ||
		    colon == line) {
			lf_error(&f, "expected \"field: text\"");
		} else {
			char *name = xstrndup(line, (size_t)(colon - line));
			const char *v = colon + 1 + strspn(colon + 1, " \t");

			lf_field(&f, name, v, &cur);
			/* text continues into its paragraph in f.text */
			in_text = strcmp(name, "text") == 0;
			free(name);
		}
		free(line);
	}
	if (f.err == NULL)
		lf_finish(&f);
	if (f.err != NULL) {
		*errstr = f.err;
		for (i = 0; i < f.ngoals; i++) {
			free((char *)f.goals[i].text);
			free((char *)f.goals[i].hint);
			lf_check_free(&f.goals[i].check);
		}
		buf_reset(&f.text);
		buf_reset(&f.answer);
		l->ngoals = 0;
		lesson_free(l);
		return NULL;
	}
	l->text = xstrndup(buf_peek(&f.text), buf_used(&f.text));
	l->answer = xstrndup(buf_peek(&f.answer), buf_used(&f.answer));
	buf_reset(&f.text);
	buf_reset(&f.answer);
	l->goals = xcalloc(f.ngoals, sizeof f.goals[0]);
	memcpy((void *)l->goals, f.goals, f.ngoals * sizeof f.goals[0]);
	l->ngoals = f.ngoals;
	l->source = xstrdup(file);
	return l;
}

void
lesson_free(struct lesson *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->ngoals; i++) {
		struct lesson_goal *g = (struct lesson_goal *)&l->goals[i];

		free((char *)g->text);
		free((char *)g->hint);
		lf_check_free(&g->check);
	}
	free((void *)l->goals);
	free((char *)l->name);
	free((char *)l->title);
	free((char *)l->text);
	free((char *)l->task);
	free((char *)l->answer);
	free((char *)l->source);
	free(l);
}

/* The bytes of the file at path, NUL-terminated, or NULL with *errstr. */
static char *
lesson_read_file(const char *path, size_t *len, char **errstr)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	if (fp == NULL) {
		*errstr =
		    xasprintf("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc(LF_MAX + 2);
	n = fread(buf, 1, LF_MAX + 1, fp);
	if (ferror(fp)) {
		*errstr =
		    xasprintf("cannot read %s: %s", path, strerror(errno));
		(void)fclose(fp);
		free(buf);
		return NULL;
	}
	(void)fclose(fp);
	if (n > LF_MAX) {
		*errstr = xasprintf("%s: over %d bytes; a lesson file is "
		                    "smaller",
		    path, LF_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

struct lesson *
lesson_load_file(const char *path, char **errstr)
{
	struct lesson *l;
	size_t len;
	char *text = lesson_read_file(path, &len, errstr);

	if (text == NULL)
		return NULL;
	l = lesson_parse(path, text, len, errstr);
	free(text);
	return l;
}
