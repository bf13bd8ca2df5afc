/*
 * Drafts <-> message descriptions.  A draft's header block is unfolded,
 * split into "Name: value" fields and sorted into the fields of struct
 * smtp_message; everything else becomes an extra header, except the MIME
 * headers the builder writes itself (a draft saved from a preview may
 * carry them).  JSON (jansson) is only read and written here.
 */
#include "tui/draft.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"

static const char *
keep(struct draft_msg *dm, char *s)
{
	dm->strs = xreallocarray(dm->strs, dm->nstr + 1, sizeof *dm->strs);
	dm->strs[dm->nstr++] = s;
	return s;
}

static void
list_add(const char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = s;
}

static int
name_is(const char *line, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(line, name, n) == 0;
}

/* One unfolded header line. */
static int
add_field(struct draft_msg *dm, const char *line, char **errstr)
{
	const char *colon = strchr(line, ':'), *v;
	size_t n;
	struct smtp_message *m = &dm->msg;

	if (colon == NULL) {
		*errstr = xasprintf("the draft's header line \"%.60s\" has no "
		                    "colon",
		    line);
		return -1;
	}
	n = (size_t)(colon - line);
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (name_is(line, n, "From")) {
		free(dm->from);
		dm->from = xstrdup(v);
	} else if (name_is(line, n, "Subject")) {
		free(dm->subject);
		dm->subject = xstrdup(v);
	} else if (name_is(line, n, "To"))
		list_add(
		    (const char ***)&dm->to, &m->to.n, keep(dm, xstrdup(v)));
	else if (name_is(line, n, "Cc"))
		list_add(
		    (const char ***)&dm->cc, &m->cc.n, keep(dm, xstrdup(v)));
	else if (name_is(line, n, "Bcc"))
		list_add(
		    (const char ***)&dm->bcc, &m->bcc.n, keep(dm, xstrdup(v)));
	else if (name_is(line, n, "Reply-To"))
		list_add((const char ***)&dm->reply_to, &m->reply_to.n,
		    keep(dm, xstrdup(v)));
	else if (name_is(line, n, "MIME-Version") ||
	    (n > 8 && strncasecmp(line, "Content-", 8) == 0))
		; /* the builder writes these */
	else
		list_add((const char ***)&dm->headers, &m->headers.n,
		    keep(dm, xstrdup(line)));
	return 0;
}

static int
load_headers(struct draft_msg *dm, const char *block, char **errstr)
{
	struct buf cur;
	const char *p = block, *nl;
	size_t n;
	int rc = 0;

	buf_init(&cur, 0);
	while (p != NULL && *p != '\0' && rc == 0) {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && (p[0] == ' ' || p[0] == '\t') &&
		    buf_used(&cur) > 0)
			(void)buf_add(&cur, p, n); /* unfold */
		else {
			if (buf_used(&cur) > 0) {
				(void)buf_add(&cur, "", 1);
				rc = add_field(dm, buf_peek(&cur), errstr);
				buf_clear(&cur);
			}
			(void)buf_add(&cur, p, n);
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	if (rc == 0 && buf_used(&cur) > 0) {
		(void)buf_add(&cur, "", 1);
		rc = add_field(dm, buf_peek(&cur), errstr);
	}
	buf_reset(&cur);
	return rc;
}

/* 1 when addr appears in one of the header values of list. */
static int
named_in(const char **v, size_t n, const char *addr)
{
	size_t i, k = strlen(addr), j;
	const char *s;

	for (i = 0; i < n; i++)
		for (s = v[i]; *s != '\0'; s++) {
			for (j = 0; j < k && s[j] != '\0'; j++)
				if (s[j] != addr[j] &&
				    (s[j] | 0x20) != (addr[j] | 0x20))
					break;
			if (j == k)
				return 1;
		}
	return 0;
}

static json_t *
load_array(const char *text, const char *what, char **errstr)
{
	json_t *j = json_loads(text, 0, NULL);

	if (!json_is_array(j)) {
		json_decref(j);
		*errstr = xasprintf("the draft's %s is not a JSON array", what);
		return NULL;
	}
	return j;
}

int
draft_msg_load(struct draft_msg *dm, const struct hist_draft *d, char **errstr)
{
	struct smtp_message *m = &dm->msg;
	json_t *j, *v;
	const char *s;
	size_t i;

	memset(dm, 0, sizeof *dm);
	smtp_message_init(m);
	if (d->headers != NULL && load_headers(dm, d->headers, errstr) == -1)
		return -1;
	if (dm->from == NULL && d->env_from != NULL)
		dm->from = xstrdup(d->env_from);
	if (d->env_to != NULL) {
		if ((j = load_array(d->env_to, "recipient list", errstr)) ==
		    NULL)
			return -1;
		json_array_foreach(j, i, v)
		{
			if ((s = json_string_value(v)) == NULL || *s == '\0')
				continue;
			if (named_in(dm->to, m->to.n, s) ||
			    named_in(dm->cc, m->cc.n, s) ||
			    named_in(dm->bcc, m->bcc.n, s))
				continue;
			list_add(&dm->bcc, &m->bcc.n, keep(dm, xstrdup(s)));
		}
		json_decref(j);
	}
	if (d->attachments != NULL) {
		if ((j = load_array(
		         d->attachments, "attachment list", errstr)) == NULL)
			return -1;
		json_array_foreach(j, i, v)
		{
			s = json_is_object(v)
			    ? json_string_value(json_object_get(v, "path"))
			    : json_string_value(v);
			if (s != NULL && *s != '\0')
				list_add(&dm->attach, &m->attach.n,
				    keep(dm, xstrdup(s)));
		}
		json_decref(j);
	}
	if (d->body != NULL) {
		dm->body = xmalloc(d->body_len + 1);
		memcpy(dm->body, d->body, d->body_len);
		dm->body[d->body_len] = '\0';
		m->body_mem = dm->body;
		m->body_len = d->body_len;
	}
	m->from = dm->from;
	m->subject = dm->subject;
	m->to.v = dm->to;
	m->cc.v = dm->cc;
	m->bcc.v = dm->bcc;
	m->reply_to.v = dm->reply_to;
	m->headers.v = dm->headers;
	m->attach.v = dm->attach;
	return 0;
}

int
draft_msg_get(struct draft_msg *dm, struct hist *h, int64_t id, char **errstr)
{
	struct hist_draft *d;
	int rc;

	memset(dm, 0, sizeof *dm);
	*errstr = NULL;
	if ((d = hist_draft_get(h, id, errstr)) == NULL)
		return -1;
	rc = draft_msg_load(dm, d, errstr);
	hist_draft_free(d);
	return rc;
}

void
draft_msg_free(struct draft_msg *dm)
{
	size_t i;

	for (i = 0; i < dm->nstr; i++)
		free(dm->strs[i]);
	free(dm->strs);
	free(dm->from);
	free(dm->subject);
	free(dm->body);
	free(dm->to);
	free(dm->cc);
	free(dm->bcc);
	free(dm->reply_to);
	free(dm->headers);
	free(dm->attach);
	memset(dm, 0, sizeof *dm);
}

/*
 * One line of the header block: "Name: value" (name NULL: the value is
 * a whole line).  A CR or LF inside the value would end the line early
 * and make the rest a line of its own, which the draft then cannot load
 * (found by tests/fuzz/fuzz_draft.c): they become spaces.
 */
static void
put_line(struct buf *b, const char *name, const char *value)
{
	size_t start = buf_used(b), i;
	char *p;

	if (name != NULL)
		(void)buf_add_printf(b, "%s: ", name);
	(void)buf_add_str(b, value);
	p = (char *)buf_peek(b);
	for (i = start; i < buf_used(b); i++)
		if (p[i] == '\r' || p[i] == '\n')
			p[i] = ' ';
	(void)buf_add(b, "\n", 1);
}

static void
put_list(struct buf *b, const char *name, const struct smtp_message_list *l,
    json_t *env)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		put_line(b, name, l->v[i]);
		if (env != NULL)
			(void)json_array_append_new(env, json_string(l->v[i]));
	}
}

void
draft_hist_from_msg(struct hist_draft *d, const struct smtp_message *m)
{
	struct buf b;
	json_t *env = json_array(), *att = json_array();
	size_t i;
	char *body;

	memset(d, 0, sizeof *d);
	buf_init(&b, 0);
	if (m->from != NULL)
		put_line(&b, "From", m->from);
	put_list(&b, "To", &m->to, env);
	put_list(&b, "Cc", &m->cc, env);
	put_list(&b, "Bcc", &m->bcc, env);
	put_list(&b, "Reply-To", &m->reply_to, NULL);
	if (m->subject != NULL)
		put_line(&b, "Subject", m->subject);
	for (i = 0; i < m->headers.n; i++)
		put_line(&b, NULL, m->headers.v[i]);
	(void)buf_add(&b, "", 1);
	for (i = 0; i < m->attach.n; i++)
		(void)json_array_append_new(att, json_string(m->attach.v[i]));
	d->env_from = m->from != NULL ? xstrdup(m->from) : NULL;
	d->env_to = json_dumps(env, JSON_COMPACT);
	d->headers = xstrdup(buf_peek(&b));
	d->attachments = json_dumps(att, JSON_COMPACT);
	if (m->body_mem != NULL) {
		body = xmalloc(m->body_len + 1);
		memcpy(body, m->body_mem, m->body_len);
		body[m->body_len] = '\0';
		d->body = body;
		d->body_len = m->body_len;
	}
	json_decref(env);
	json_decref(att);
	buf_reset(&b);
}

void
draft_hist_free(struct hist_draft *d)
{
	free((char *)d->env_from);
	free((char *)d->env_to);
	free((char *)d->headers);
	free((char *)d->attachments);
	free((char *)d->body);
	memset(d, 0, sizeof *d);
}
