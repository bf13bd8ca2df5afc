/*
 * `ehlo replay --diff`: compares the replies of a recorded session with
 * those of its replay, the way an admin reads a change of server or of
 * configuration.
 *
 *   - Exchanges are aligned by command (the longest common subsequence
 *     of the commands' texts), so one command more or less does not
 *     shift every pair after it.
 *   - EHLO capabilities are compared as sets: added, removed, and
 *     changed values (SIZE 10240000 -> 20480000); the EHLO line's own
 *     greeting text is not compared.
 *   - What always differs is ignored unless exact is asked for
 *     (--exact): the greeting's text (host name, software, time), the
 *     server's own host name in any reply, queue ids and similar tokens,
 *     dates and times, bare numbers in reply text.
 *   - Behaviour changes come first: a different reply code, a command
 *     answered on one side only; then capabilities; then replies with
 *     the same code that differ in enhanced code or wording.
 *
 * Everything read from the database is untrusted: texts are escaped
 * before they are compared or printed.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"
#include "tui/cli.h"
#include "tui/histcmd.h"
#include "tui/print.h"

struct exchange {
	int stage_no;
	char *cmd; /* escaped display of the command, or the stage name */
	int greeting; /* the connection's greeting (text never compared) */
	int ehlo; /* an EHLO: capabilities in caps, compared as a set */
	int code; /* 0: no reply */
	char enhanced[16];
	char *reply; /* escaped lines, '\n'-separated, volatile parts masked */
	char *shown; /* the same unmasked, for printing */
	char *caps; /* EHLO: "KEYWORD params" lines after the first */
};

struct exchanges {
	struct exchange *v;
	size_t n;
	char *host; /* the greeting's host name, or NULL */
};

static int
stage_is(const struct histcmd_event *e, const char *name)
{
	return e->stage != NULL && strcmp(e->stage, name) == 0;
}

static const char *const date_words[] = {"Mon", "Tue", "Wed", "Thu", "Fri",
    "Sat", "Sun", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
    "Oct", "Nov", "Dec", "UTC", "GMT"};

/*
 * 1 for a token that differs from run to run: a queue or session id
 * (letters and digits mixed, long), a time, a number, a date's words,
 * a time zone offset.
 */
static int
volatile_token(const char *w, size_t n)
{
	size_t i, digits = 0, alpha = 0, colons = 0, other = 0;

	while (n > 0 && strchr(",;()[]<>", w[n - 1]) != NULL)
		n--;
	while (n > 0 && strchr("([<", *w) != NULL) {
		w++;
		n--;
	}
	for (i = 0; i < sizeof date_words / sizeof date_words[0]; i++)
		if (n == 3 && strncmp(w, date_words[i], 3) == 0)
			return 1;
	for (i = 0; i < n; i++) {
		if (isdigit((unsigned char)w[i]))
			digits++;
		else if (isalpha((unsigned char)w[i]))
			alpha++;
		else if (w[i] == ':')
			colons++;
		else if (w[i] == '.')
			return 0; /* host names, enhanced codes, versions */
		else
			other++;
	}
	if (digits > 0 && alpha == 0 && other <= 1)
		return 1; /* 10:11:12, 2026, +0000, 42 */
	return n >= 8 && digits > 0 && alpha > 0 && colons == 0;
}

/* Masks the volatile tokens of a reply line, and the server's name. */
static void
mask_line(struct buf *out, const char *p, size_t n, const char *host)
{
	const char *end = p + n, *w;
	size_t hl = host != NULL ? strlen(host) : 0;
	int after_id = 0;

	while (p < end) {
		if (*p == ' ') {
			(void)buf_add(out, p++, 1);
			continue;
		}
		w = p;
		while (p < end && *p != ' ')
			p++;
		if (after_id || volatile_token(w, (size_t)(p - w)) ||
		    (hl > 0 && (size_t)(p - w) >= hl &&
		        strncasecmp(w, host, hl) == 0))
			(void)buf_add_str(out, "#");
		else
			(void)buf_add(out, w, (size_t)(p - w));
		/* "queued as X" */
		after_id =
		    ((size_t)(p - w) == 2 && strncasecmp(w, "as", 2) == 0);
	}
}

/* The text of a reply line after "250-" / "250 " (escaped t). */
static const char *
after_code(const char *t)
{
	size_t n = strspn(t, "0123456789");

	return n == 3 && (t[3] == '-' || t[3] == ' ') ? t + 4 : t;
}

/* The greeting's host name (its first word), allocated, or NULL. */
static char *
greeting_host(const char *line)
{
	const char *p = after_code(line);
	size_t n = strcspn(p, " ");

	return n > 0 ? xstrndup(p, n) : NULL;
}

static void
exchange_reply(
    struct exchange *x, const char *shown, const char *host, int exact)
{
	struct buf masked, caps;
	const char *p = shown, *nl;
	size_t n;
	int first = 1;

	buf_init(&masked, 0);
	buf_init(&caps, 0);
	for (; p != NULL; p = nl != NULL ? nl + 1 : NULL, first = 0) {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (x->ehlo && !first) {
			/* Capabilities, compared as a set. */
			const char *c = after_code(p);

			(void)buf_add(&caps, c, n - (size_t)(c - p));
			(void)buf_add(&caps, "\n", 1);
			continue;
		}
		if (!exact && (x->greeting || x->ehlo))
			continue; /* the greeting's text, the EHLO hello line */
		if (buf_used(&masked) > 0)
			(void)buf_add(&masked, "\n", 1);
		if (exact)
			(void)buf_add(&masked, p, n);
		else
			mask_line(&masked, p, n, host);
	}
	free(x->reply);
	free(x->caps);
	x->reply = xstrndup(buf_peek(&masked), buf_used(&masked));
	x->caps = xstrndup(buf_peek(&caps), buf_used(&caps));
	buf_reset(&masked);
	buf_reset(&caps);
}

static void
exchanges_build(
    const struct histcmd_events *es, int exact, struct exchanges *xs)
{
	struct buf lines;
	struct exchange *x;
	size_t i, k;
	char *t;

	memset(xs, 0, sizeof *xs);
	buf_init(&lines, 0);
	for (i = 0; i < es->n; i++) {
		const struct histcmd_event *e = &es->v[i];

		if (e->dir == 'S') {
			t = escape_dup(e->text, e->len);
			if (buf_used(&lines) > 0)
				(void)buf_add(&lines, "\n", 1);
			(void)buf_add_str(&lines, t);
			if (stage_is(e, "greeting") && xs->host == NULL)
				xs->host = greeting_host(t);
			free(t);
		}
		if (e->stage_no < 0 ||
		    !(e->dir == 'C' || (e->flags & HIST_EV_REPLY)))
			continue;
		for (k = 0; k < xs->n && xs->v[k].stage_no != e->stage_no; k++)
			;
		if (k == xs->n) {
			xs->v = xreallocarray(xs->v, xs->n + 1, sizeof *xs->v);
			x = &xs->v[xs->n++];
			memset(x, 0, sizeof *x);
			x->stage_no = e->stage_no;
			x->greeting = stage_is(e, "greeting");
			x->ehlo = stage_is(e, "EHLO");
			if (stage_is(e, "end of data"))
				x->cmd = xstrdup("[message content] .");
			else if (e->dir == 'C')
				x->cmd = histcmd_event_text(e);
			else
				x->cmd = xasprintf("(%s)",
				    e->stage != NULL ? e->stage : "reply");
		}
		x = &xs->v[k];
		if (e->flags & HIST_EV_REPLY) {
			x->code = e->code;
			(void)snprintf(
			    x->enhanced, sizeof x->enhanced, "%s", e->enhanced);
			free(x->shown);
			x->shown = xstrndup(buf_peek(&lines), buf_used(&lines));
			exchange_reply(
			    x, x->shown, exact ? NULL : xs->host, exact);
			buf_clear(&lines);
		}
	}
	buf_reset(&lines);
}

static void
exchanges_free(struct exchanges *xs)
{
	size_t i;

	for (i = 0; i < xs->n; i++) {
		free(xs->v[i].cmd);
		free(xs->v[i].reply);
		free(xs->v[i].shown);
		free(xs->v[i].caps);
	}
	free(xs->v);
	free(xs->host);
}

/* ---- capabilities as sets ------------------------------------------- */

/* The line of caps whose keyword is kw[0..n), or NULL; *len its length. */
static const char *
cap_find(const char *caps, const char *kw, size_t n, size_t *len)
{
	const char *p, *nl;
	size_t k;

	for (p = caps; p != NULL && *p != '\0';
	     p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		*len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		k = strcspn(p, " \n");
		if (k == n && strncasecmp(p, kw, n) == 0)
			return p;
	}
	return NULL;
}

/*
 * Compares two capability lists: removed ones into rm, added into add,
 * changed values into chg (as "KEYWORD a -> b"), each a JSON array of
 * strings.  Returns the number of changes.
 */
static size_t
caps_compare(const char *a, const char *b, json_t *rm, json_t *add, json_t *chg)
{
	const char *p, *nl, *q;
	size_t n, kw, qn, count = 0;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (p = pass == 0 ? a : b; p != NULL && *p != '\0';
		     p = nl != NULL ? nl + 1 : NULL) {
			nl = strchr(p, '\n');
			n = nl != NULL ? (size_t)(nl - p) : strlen(p);
			kw = strcspn(p, " \n");
			q = cap_find(pass == 0 ? b : a, p, kw, &qn);
			if (q == NULL) {
				(void)json_array_append_new(
				    pass == 0 ? rm : add,
				    print_json_text(p, n));
				count++;
			} else if (pass == 0 &&
			    (qn != n || strncasecmp(p, q, n) != 0)) {
				char *c = xasprintf("%.*s -> %.*s", (int)n, p,
				    (int)(qn > kw ? qn - kw - 1 : 0),
				    qn > kw ? q + kw + 1 : "");

				(void)json_array_append_new(
				    chg, print_json_text(c, strlen(c)));
				free(c);
				count++;
			}
		}
	}
	return count;
}

/* ---- differences ----------------------------------------------------- */

/* What kind of difference, in the order they are listed. */
enum diff_rank {
	RANK_BEHAVIOUR, /* reply code, a command on one side only */
	RANK_CAPS, /* EHLO capabilities */
	RANK_WORDING, /* same code: enhanced code or text */
	RANK_N
};

struct diff_item {
	enum diff_rank rank;
	const struct exchange *a, *b;
	json_t *rm, *add, *chg; /* RANK_CAPS */
};

struct diff_list {
	struct diff_item *v;
	size_t n;
	long compared;
};

static void
diff_add(struct diff_list *d, enum diff_rank rank, const struct exchange *a,
    const struct exchange *b)
{
	struct diff_item *it;

	d->v = xreallocarray(d->v, d->n + 1, sizeof *d->v);
	it = &d->v[d->n++];
	memset(it, 0, sizeof *it);
	it->rank = rank;
	it->a = a;
	it->b = b;
}

static int
same_text(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* Compares one aligned pair. */
static void
diff_pair(struct diff_list *d, const struct exchange *a,
    const struct exchange *b, int exact)
{
	json_t *rm, *add, *chg;

	d->compared++;
	if (a->code != b->code) {
		diff_add(d, RANK_BEHAVIOUR, a, b);
		return;
	}
	if (a->ehlo && b->ehlo) {
		rm = json_array();
		add = json_array();
		chg = json_array();
		if (caps_compare(a->caps, b->caps, rm, add, chg) > 0) {
			diff_add(d, RANK_CAPS, a, b);
			d->v[d->n - 1].rm = rm;
			d->v[d->n - 1].add = add;
			d->v[d->n - 1].chg = chg;
		} else {
			json_decref(rm);
			json_decref(add);
			json_decref(chg);
		}
	}
	if (strcmp(a->enhanced, b->enhanced) != 0 ||
	    !same_text(a->reply, b->reply) ||
	    (exact && !same_text(a->shown, b->shown)))
		diff_add(d, RANK_WORDING, a, b);
}

/*
 * Aligns the two lists of exchanges by command (longest common
 * subsequence; beyond a size, in order) and compares the pairs.
 */
static void
diff_align(struct diff_list *d, const struct exchanges *a,
    const struct exchanges *b, int exact)
{
	size_t i, j, n = a->n, m = b->n;
	uint32_t *t = NULL;

	if (n > 0 && m > 0 && n <= 4096 && m <= 4096) {
		t = xcalloc((n + 1) * (m + 1), sizeof *t);
		for (i = n; i-- > 0;)
			for (j = m; j-- > 0;)
				t[i * (m + 1) + j] =
				    strcmp(a->v[i].cmd, b->v[j].cmd) == 0
				    ? t[(i + 1) * (m + 1) + j + 1] + 1
				    : t[(i + 1) * (m + 1) + j] >
				        t[i * (m + 1) + j + 1]
				    ? t[(i + 1) * (m + 1) + j]
				    : t[i * (m + 1) + j + 1];
	}
	i = j = 0;
	while (i < n || j < m) {
		if (i < n && j < m && strcmp(a->v[i].cmd, b->v[j].cmd) == 0) {
			diff_pair(d, &a->v[i++], &b->v[j++], exact);
		} else if (j == m ||
		    (i < n && t != NULL &&
		        t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) ||
		    (i < n && t == NULL)) {
			diff_add(d, RANK_BEHAVIOUR, &a->v[i++], NULL);
		} else {
			diff_add(d, RANK_BEHAVIOUR, NULL, &b->v[j++]);
		}
	}
	free(t);
}

static void
print_reply(struct buf *out, const char *sign, const struct exchange *x)
{
	const char *p = x != NULL && x->shown != NULL ? x->shown : NULL;
	const char *nl;

	if (p == NULL || x->code == 0) {
		(void)buf_add_printf(out, "  %s (no reply)\n", sign);
		return;
	}
	while (p != NULL) {
		nl = strchr(p, '\n');
		(void)buf_add_printf(out, "  %s %.*s\n", sign,
		    (int)(nl != NULL ? (size_t)(nl - p) : strlen(p)), p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

static void
print_caps(struct buf *out, const char *sign, json_t *arr)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		(void)buf_add_printf(out, "  %s %s\n", sign,
		    json_string_value(json_array_get(arr, i)));
}

static void
item_text(struct buf *out, const struct diff_item *it)
{
	const struct exchange *a = it->a, *b = it->b;
	const char *cmd = a != NULL ? a->cmd : b != NULL ? b->cmd : "?";

	(void)buf_add_printf(out, "diff: %s%s\n", cmd,
	    a == NULL                   ? "   (only in the replay)"
	        : b == NULL             ? "   (not sent in the replay)"
	        : it->rank == RANK_CAPS ? "   (capabilities)"
	                                : "");
	if (it->rank == RANK_CAPS) {
		print_caps(out, "-", it->rm);
		print_caps(out, "+", it->add);
		print_caps(out, "~", it->chg);
		return;
	}
	if (a != NULL)
		print_reply(out, "-", a);
	if (b != NULL)
		print_reply(out, "+", b);
}

static json_t *
exchange_json(const struct exchange *x)
{
	json_t *o;

	if (x == NULL)
		return json_null();
	o = json_object();
	(void)json_object_set_new(o, "code", json_integer(x->code));
	(void)json_object_set_new(o, "enhanced", print_json_str(x->enhanced));
	(void)json_object_set_new(
	    o, "text", x->shown != NULL ? json_string(x->shown) : json_null());
	return o;
}

static json_t *
item_json(const struct diff_item *it)
{
	static const char *const kinds[] = {
	    "behaviour", "capabilities", "wording"};
	json_t *d = json_object();

	(void)json_object_set_new(d, "command",
	    json_string(it->a != NULL ? it->a->cmd
	            : it->b != NULL   ? it->b->cmd
	                              : "?"));
	(void)json_object_set_new(d, "kind", json_string(kinds[it->rank]));
	(void)json_object_set_new(d, "original", exchange_json(it->a));
	(void)json_object_set_new(d, "replay", exchange_json(it->b));
	if (it->rank == RANK_CAPS) {
		(void)json_object_set(d, "removed", it->rm);
		(void)json_object_set(d, "added", it->add);
		(void)json_object_set(d, "changed", it->chg);
	}
	return d;
}

long
histcmd_replay_compare(const struct histcmd_events *ea,
    const struct histcmd_events *eb, int exact, json_t *arr, struct buf *text,
    long *compared)
{
	struct exchanges a, b;
	struct diff_list d;
	size_t i;
	int rank;

	memset(&d, 0, sizeof d);
	exchanges_build(ea, exact, &a);
	exchanges_build(eb, exact, &b);
	diff_align(&d, &a, &b, exact);
	for (rank = 0; rank < RANK_N; rank++)
		for (i = 0; i < d.n; i++) {
			if (d.v[i].rank != (enum diff_rank)rank)
				continue;
			if (arr != NULL)
				(void)json_array_append_new(
				    arr, item_json(&d.v[i]));
			if (text != NULL)
				item_text(text, &d.v[i]);
		}
	for (i = 0; i < d.n; i++) {
		json_decref(d.v[i].rm);
		json_decref(d.v[i].add);
		json_decref(d.v[i].chg);
	}
	free(d.v);
	exchanges_free(&a);
	exchanges_free(&b);
	*compared = d.compared;
	return (long)d.n;
}

long
histcmd_replay_diff_text(const struct histcmd_events *ea,
    const struct histcmd_events *eb, int64_t ida, int64_t idb, int exact,
    struct buf *text)
{
	long compared,
	    ndiff =
	        histcmd_replay_compare(ea, eb, exact, NULL, text, &compared);

	if (ndiff == 0)
		(void)buf_add_printf(text,
		    "diff: no differences: %ld replies of "
		    "session #%lld and #%lld match\n",
		    compared, (long long)ida, (long long)idb);
	else
		(void)buf_add_printf(text,
		    "diff: %ld difference%s between session "
		    "#%lld and its replay #%lld\n",
		    ndiff, ndiff == 1 ? "" : "s", (long long)ida,
		    (long long)idb);
	if (!exact)
		(void)buf_add_str(text,
		    "  (greeting text, server name, queue ids, dates and "
		    "numbers in replies not compared; --exact compares "
		    "them)\n");
	return ndiff;
}

long
histcmd_replay_diff(const struct histcmd_events *ea,
    const struct histcmd_events *eb, int64_t ida, int64_t idb, struct buf *text)
{
	return histcmd_replay_diff_text(ea, eb, ida, idb, 0, text);
}

int
histcmd_replay_exit(int status, long ndiff)
{
	/* A network or script failure stays the exit status. */
	if (status == EXIT_NETWORK || status == EXIT_USAGE)
		return status;
	return ndiff > 0 ? EXIT_REPLY : EXIT_OK;
}
