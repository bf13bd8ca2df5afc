/*
 * The lessons: the registry (the built-in lesson files, embedded at
 * build time and parsed on first use by lesson_file.c, then a teacher's
 * own from lesson_add_dir()) and the checks behind their goals, each a
 * predicate over the session's stage list (protocol/session.h) -- kinds,
 * reply codes, enhanced codes, the command as sent, transaction and
 * pipeline group numbers.  Two checks (dot-stuffing, a Bcc copy) read
 * the practice inbox, since the session keeps no message content.
 * Nothing here does network I/O or prints.
 *
 *   RFC 5321  the transaction (4.1.1), the order of commands (4.1.4),
 *             dot-stuffing (4.5.2), reply codes (4.2)
 *   RFC 3463  enhanced status codes
 *   RFC 3207  STARTTLS            RFC 4954  AUTH (RFC 4616 PLAIN)
 *   RFC 2920  PIPELINING          RFC 5322  headers (Bcc, 3.6.3)
 */
#include "protocol/lesson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <dirent.h>
#include <errno.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/knowledge/files.h"
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

/* ---- checks ------------------------------------------------------------ */

/* 1 when a TLS handshake succeeded before stage i. */
static int
ls_tls_before(const struct lesson_ctx *c, size_t i)
{
	size_t k;

	for (k = 0; k < i; k++)
		if (ls_at(c, k)->kind == SMTP_STAGE_TLS &&
		    ls_at(c, k)->state == SMTP_ST_OK)
			return 1;
	return 0;
}

static int
ls_stage_check(const struct lesson_ctx *c, const struct lesson_check *k)
{
	const struct smtp_stage *st;
	size_t i;

	for (i = 0; i < ls_n(c); i++) {
		st = ls_at(c, i);
		if ((int)st->kind != k->stage || st->code < k->lo ||
		    st->code > k->hi)
			continue;
		if (k->stage == SMTP_STAGE_TLS && st->state != SMTP_ST_OK)
			continue;
		if (k->enh[0] != '\0' && strcmp(st->enhanced, k->enh) != 0)
			continue;
		if (!ls_contains(st->command, k->with))
			continue;
		if (k->after_tls && !ls_tls_before(c, i))
			continue;
		return 1;
	}
	return 0;
}

/* RSET answered 250 while a transaction (MAIL accepted) was open. */
static int
ls_rset_in_txn(const struct lesson_ctx *c)
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

/* A RCPT outside practice.test accepted (relaying, after AUTH). */
static int
ls_relayed(const struct lesson_ctx *c)
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
ls_pipelined_delivery(const struct lesson_ctx *c)
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

/*
 * Reads a stored message (at most the SIZE limit) and says whether its
 * body has a line that starts with a dot (want_dot) or whether its
 * header section lacks "user@" (want_dot 0: a Bcc copy).
 */
static int
ls_message_test(const char *path, const char *user, int want_dot)
{
	char *buf = xmalloc(PRACTICE_SIZE_LIMIT + 4096), *needle;
	size_t n, i, hdr_end = 0;
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
			if (buf[i] == '\r' || buf[i] == '\n') {
				in_body = 1;
				hdr_end = i;
			}
			continue;
		}
		found = want_dot && buf[i] == '.';
	}
	if (!want_dot) {
		/* Our Return-Path and Received lines name the recipient:
		 * look only at what the client sent, after them. */
		const char *sent = strstr(buf, "\r\n\tfor <");
		const char *start = sent != NULL ? strchr(sent + 3, '\n') : buf;

		buf[hdr_end] = '\0';
		needle = xasprintf("%s@", user);
		found = in_body && start != NULL && !ls_contains(start, needle);
		free(needle);
	}
	free(buf);
	return found;
}

/*
 * 1 when the stored message at path holds <LF>.<LF> (a dot line ended
 * by bare LFs) as content: a smuggling attempt the server kept as text.
 */
static int
ls_bare_lf_dot(const char *path)
{
	char *buf = xmalloc(PRACTICE_SIZE_LIMIT + 4096);
	size_t n, j;
	int found = 0;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		free(buf);
		return 0;
	}
	n = fread(buf, 1, PRACTICE_SIZE_LIMIT + 4096, f);
	(void)fclose(f);
	for (j = 1; j + 2 < n && !found; j++)
		found = buf[j - 1] != '\r' && buf[j] == '\n' &&
		    buf[j + 1] == '.' && buf[j + 2] == '\n';
	free(buf);
	return found;
}

/* A message in user's practice inbox passes ls_message_test() (want_dot
 * 0 or 1) or ls_bare_lf_dot() (want_dot 2). */
static int
ls_inbox_test(const struct lesson_ctx *c, const char *user, int want_dot)
{
	struct practice_message *m;
	char *err = NULL;
	size_t n, i;
	int found = 0;

	if (c->datadir == NULL || user == NULL)
		return 0;
	if (practice_inbox_list(c->datadir, &m, &n, &err) == -1) {
		free(err);
		return 0;
	}
	for (i = 0; i < n && !found; i++)
		if (strcmp(m[i].user, user) == 0)
			found = want_dot == 2
			    ? ls_bare_lf_dot(m[i].path)
			    : ls_message_test(m[i].path, user, want_dot);
	practice_inbox_free(m, n);
	return found;
}

static int
lesson_check_met(const struct lesson_check *k, const struct lesson_ctx *c)
{
	switch (k->kind) {
	case LESSON_CHECK_STAGE:
		return ls_stage_check(c, k);
	case LESSON_CHECK_DELIVERED:
		return ls_deliveries(c, k->arg) > 0;
	case LESSON_CHECK_DELIVERIES:
		return ls_deliveries(c, NULL) >= k->count;
	case LESSON_CHECK_TLS: {
		struct lesson_check t = {.kind = LESSON_CHECK_STAGE,
		    .stage = SMTP_STAGE_TLS,
		    .lo = 0,
		    .hi = 999};

		return ls_stage_check(c, &t);
	}
	case LESSON_CHECK_RELAYED:
		return ls_relayed(c);
	case LESSON_CHECK_PIPELINED:
		return ls_pipelined_txn(c) != 0;
	case LESSON_CHECK_PIPELINED_DELIVERY:
		return ls_pipelined_delivery(c);
	case LESSON_CHECK_RSET_IN_TXN:
		return ls_rset_in_txn(c);
	case LESSON_CHECK_DOT_LINE:
		return ls_inbox_test(c, k->arg, 1);
	case LESSON_CHECK_BCC:
		return ls_inbox_test(c, k->arg, 0);
	case LESSON_CHECK_BARE_LF:
		return ls_inbox_test(c, k->arg, 2);
	}
	return 0;
}

/* ---- the lessons -------------------------------------------------------- */

static struct lesson **lessons;
static size_t nlessons;
static int lessons_loaded;

/* Adds l (owned), replacing a lesson of the same name. */
static void
lesson_register(struct lesson *l)
{
	size_t i;

	for (i = 0; i < nlessons; i++)
		if (strcasecmp(lessons[i]->name, l->name) == 0) {
			lesson_free(lessons[i]);
			lessons[i] = l;
			return;
		}
	/* An array of pointers to lessons, not of lessons. */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	lessons = xreallocarray(lessons, nlessons + 1, sizeof(struct lesson *));
	lessons[nlessons++] = l;
}

/* The built-in lessons, parsed on first use (a test proves they all
 * parse, so one that does not is left out rather than fatal). */
static void
lessons_load(void)
{
	struct lesson *l;
	char *err = NULL;
	size_t i;

	if (lessons_loaded)
		return;
	lessons_loaded = 1;
	for (i = 0; i < lesson_file_count; i++) {
		l = lesson_parse(lesson_files[i].name, lesson_files[i].text,
		    lesson_files[i].len, &err);
		if (l == NULL) {
			free(err);
			err = NULL;
			continue;
		}
		free((char *)l->source);
		l->source = xstrdup("built-in");
		lesson_register(l);
	}
}

size_t
lesson_count(void)
{
	lessons_load();
	return nlessons;
}

const struct lesson *
lesson_at(size_t i)
{
	lessons_load();
	return i < nlessons ? lessons[i] : NULL;
}

const struct lesson *
lesson_find(const char *name)
{
	size_t i;

	lessons_load();
	for (i = 0; i < nlessons; i++)
		if (strcasecmp(lessons[i]->name, name) == 0)
			return lessons[i];
	return NULL;
}

static int
lesson_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
lesson_add_dir(const char *dir, char **errstr)
{
	struct dirent *de;
	char **names = NULL, *path;
	size_t n = 0, i;
	struct lesson *l;
	DIR *d;
	int added = 0;

	lessons_load();
	if ((d = opendir(dir)) == NULL) {
		*errstr = xasprintf("cannot read the lesson directory %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t k = strlen(de->d_name);

		if (k > 7 && strcmp(de->d_name + k - 7, ".lesson") == 0) {
			names = xreallocarray(names, n + 1, sizeof *names);
			names[n++] = xstrdup(de->d_name);
		}
	}
	(void)closedir(d);
	if (n > 1) /* qsort wants an array, even for none */
		qsort(names, n, sizeof *names, lesson_name_cmp);
	for (i = 0; i < n && added >= 0; i++) {
		path = xasprintf("%s/%s", dir, names[i]);
		if ((l = lesson_load_file(path, errstr)) == NULL)
			added = -1;
		else {
			lesson_register(l);
			added++;
		}
		free(path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (added == 0 && n == 0) {
		*errstr = xasprintf("no NAME.lesson files in %s", dir);
		return -1;
	}
	return added;
}

size_t
lesson_progress(const struct lesson *l, const struct lesson_ctx *c, int *done)
{
	size_t i, n = 0;
	int ok;

	for (i = 0; i < l->ngoals; i++) {
		ok = c->session != NULL &&
		    lesson_check_met(&l->goals[i].check, c);
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
		if (c->session == NULL ||
		    !lesson_check_met(&l->goals[i].check, c))
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

void
lesson_practice_opts(const struct lesson *l, struct practice_opts *po)
{
	static const struct lesson_server none;
	const struct lesson_server *r = l != NULL ? &l->server : &none;

	po->require_tls = r->require_tls;
	po->require_auth = r->require_auth;
	po->greet_pause_ms = r->greet_pause_ms;
	po->greylist_ms = r->greylist_ms;
	po->slow_ms = r->slow_ms;
	po->lmtp = r->lmtp;
}

int
lesson_server_same(const struct lesson *a, const struct lesson *b)
{
	struct practice_opts pa, pb;

	memset(&pa, 0, sizeof pa);
	memset(&pb, 0, sizeof pb);
	lesson_practice_opts(a, &pa);
	lesson_practice_opts(b, &pb);
	return pa.require_tls == pb.require_tls &&
	    pa.require_auth == pb.require_auth &&
	    pa.greet_pause_ms == pb.greet_pause_ms &&
	    pa.greylist_ms == pb.greylist_ms && pa.slow_ms == pb.slow_ms &&
	    pa.lmtp == pb.lmtp;
}
