/*
 * The workbench's draft: each field is an owned string or an owned list
 * of strings; smtp_message views point into them.  Storage goes through
 * tui/draft.h, which defines the stored layout, so drafts made here and
 * by `ehlo send --draft` are the same thing.
 */
#include "tui/wbdraft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "tui/draft.h"

struct slist {
	char **v;
	size_t n;
};

struct wdraft {
	int64_t id;
	char *from, *subject;
	char *body;
	size_t body_len;
	struct slist to, cc, bcc, reply_to, headers, attach;
};

const char *const wdraft_fields[] = {
    "from", "to", "cc", "bcc", "reply-to", "subject", "header", "attach", NULL};

static void
slist_add(struct slist *l, const char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

static void
slist_clear(struct slist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
clear_all(struct wdraft *d)
{
	free(d->from);
	free(d->subject);
	free(d->body);
	slist_clear(&d->to);
	slist_clear(&d->cc);
	slist_clear(&d->bcc);
	slist_clear(&d->reply_to);
	slist_clear(&d->headers);
	slist_clear(&d->attach);
	memset(d, 0, sizeof *d);
}

struct wdraft *
wdraft_new(void)
{
	return xcalloc(1, sizeof(struct wdraft));
}

void
wdraft_free(struct wdraft *d)
{
	if (d == NULL)
		return;
	clear_all(d);
	free(d);
}

int64_t
wdraft_id(const struct wdraft *d)
{
	return d->id;
}

void
wdraft_detach(struct wdraft *d)
{
	d->id = 0;
}

static void
copy_list(struct slist *dst, const struct smtp_message_list *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		slist_add(dst, src->v[i]);
}

int
wdraft_load(struct wdraft *d, struct hist *h, int64_t id, char **errstr)
{
	struct draft_msg dm;

	if (draft_msg_get(&dm, h, id, errstr) == -1) {
		if (*errstr == NULL)
			*errstr = xasprintf("there is no draft %lld: /drafts "
			                    "lists them",
			    (long long)id);
		draft_msg_free(&dm);
		return -1;
	}
	clear_all(d);
	d->id = id;
	if (dm.msg.from != NULL)
		d->from = xstrdup(dm.msg.from);
	if (dm.msg.subject != NULL)
		d->subject = xstrdup(dm.msg.subject);
	copy_list(&d->to, &dm.msg.to);
	copy_list(&d->cc, &dm.msg.cc);
	copy_list(&d->bcc, &dm.msg.bcc);
	copy_list(&d->reply_to, &dm.msg.reply_to);
	copy_list(&d->headers, &dm.msg.headers);
	copy_list(&d->attach, &dm.msg.attach);
	if (dm.msg.body_mem != NULL)
		wdraft_body_set(d, dm.msg.body_mem, dm.msg.body_len);
	draft_msg_free(&dm);
	return 0;
}

static void
view_list(struct smtp_message_list *dst, const struct slist *src)
{
	dst->v = (const char *const *)src->v;
	dst->n = src->n;
}

void
wdraft_message(const struct wdraft *d, struct smtp_message *m)
{
	smtp_message_init(m);
	m->from = d->from;
	m->subject = d->subject;
	view_list(&m->to, &d->to);
	view_list(&m->cc, &d->cc);
	view_list(&m->bcc, &d->bcc);
	view_list(&m->reply_to, &d->reply_to);
	view_list(&m->headers, &d->headers);
	view_list(&m->attach, &d->attach);
	m->body_mem = d->body != NULL ? d->body : "";
	m->body_len = d->body_len;
}

/* The stored form of d (free with draft_hist_free()). */
static void
wdraft_hist(const struct wdraft *d, struct hist_draft *hd)
{
	struct smtp_message m;

	wdraft_message(d, &m);
	memset(hd, 0, sizeof *hd);
	draft_hist_from_msg(hd, &m);
	hd->id = d->id;
}

int
wdraft_stored(const struct wdraft *d, struct draft_msg *dm, char **errstr)
{
	struct hist_draft hd;
	int rc;

	wdraft_hist(d, &hd);
	rc = draft_msg_load(dm, &hd, errstr);
	draft_hist_free(&hd);
	return rc;
}

int64_t
wdraft_save(struct wdraft *d, struct hist *h, char **errstr)
{
	struct hist_draft hd;
	int64_t id;

	wdraft_hist(d, &hd);
	id = hist_draft_save(h, &hd, errstr);
	draft_hist_free(&hd);
	if (id > 0)
		d->id = id;
	return id;
}

int
wdraft_set(
    struct wdraft *d, const char *field, const char *value, char **errstr)
{
	int clear = value == NULL || *value == '\0';

	if (!clear && strpbrk(value, "\r\n") != NULL) {
		*errstr = xstrdup("a draft field cannot contain a line break");
		return -1;
	}
	if (strcasecmp(field, "from") == 0) {
		free(d->from);
		d->from = clear ? NULL : xstrdup(value);
	} else if (strcasecmp(field, "subject") == 0) {
		free(d->subject);
		d->subject = clear ? NULL : xstrdup(value);
	} else if (strcasecmp(field, "attach") == 0 && !clear &&
	    access(value, R_OK) == -1) {
		*errstr = xasprintf(
		    "cannot read %s: attach a file that exists", value);
		return -1;
	} else {
		struct slist *l = strcasecmp(field, "to") == 0 ? &d->to
		    : strcasecmp(field, "cc") == 0             ? &d->cc
		    : strcasecmp(field, "bcc") == 0            ? &d->bcc
		    : strcasecmp(field, "reply-to") == 0       ? &d->reply_to
		    : strcasecmp(field, "header") == 0         ? &d->headers
		    : strcasecmp(field, "attach") == 0         ? &d->attach
		                                               : NULL;

		if (l == NULL) {
			*errstr =
			    xasprintf("no draft field \"%s\": from, to, "
			              "cc, bcc, reply-to, subject, header, "
			              "attach",
			        field);
			return -1;
		}
		if (clear)
			slist_clear(l);
		else
			slist_add(l, value);
	}
	return 0;
}

void
wdraft_body_append(struct wdraft *d, const char *line)
{
	size_t n = strlen(line);

	d->body = xreallocarray(d->body, d->body_len + n + 3, 1);
	memcpy(d->body + d->body_len, line, n);
	d->body_len += n;
	memcpy(d->body + d->body_len, "\r\n", 3);
	d->body_len += 2;
}

void
wdraft_body_set(struct wdraft *d, const char *text, size_t len)
{
	free(d->body);
	d->body = xmalloc(len + 1);
	memcpy(d->body, text, len);
	d->body[len] = '\0';
	d->body_len = len;
}

const char *
wdraft_body(const struct wdraft *d, size_t *len)
{
	*len = d->body_len;
	return d->body != NULL ? d->body : "";
}

static void
describe_add(char ***v, size_t *n, const char *label, const char *value)
{
	char *e = escape_dup(value, strlen(value));

	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = xasprintf("%-8s %s", label, e);
	free(e);
}

static void
describe_list(char ***v, size_t *n, const char *label, const struct slist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		describe_add(v, n, label, l->v[i]);
}

char **
wdraft_describe(const struct wdraft *d, size_t *n)
{
	char **v = NULL, *title, lines[64];
	size_t i, nl = 0;

	*n = 0;
	title = d->id > 0 ? xasprintf("draft #%lld", (long long)d->id)
	                  : xstrdup("draft (not saved)");
	describe_add(&v, n, title, "");
	free(title);
	describe_add(&v, n, "From:", d->from != NULL ? d->from : "(none)");
	describe_list(&v, n, "To:", &d->to);
	describe_list(&v, n, "Cc:", &d->cc);
	describe_list(&v, n, "Bcc:", &d->bcc);
	describe_list(&v, n, "Reply-To", &d->reply_to);
	describe_add(&v, n, "Subject:", d->subject != NULL ? d->subject : "");
	describe_list(&v, n, "Header:", &d->headers);
	describe_list(&v, n, "Attach:", &d->attach);
	for (i = 0; i < d->body_len; i++)
		if (d->body[i] == '\n')
			nl++;
	(void)snprintf(
	    lines, sizeof lines, "%zu lines, %zu octets", nl, d->body_len);
	describe_add(&v, n, "Body:", lines);
	return v;
}
