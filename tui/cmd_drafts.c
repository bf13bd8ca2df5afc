/*
 * `ehlo drafts [--json]`: saved drafts, most recently edited first:
 * id, last change, envelope sender and recipients, and the Subject
 * header; --json prints one object per draft (JSON Lines) with the
 * headers, the body size and the attachment references.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "tui/cli.h"
#include "tui/histcmd.h"
#include "tui/print.h"

/* The Subject header's value (first line only), allocated, or NULL. */
static char *
subject_of(const char *headers)
{
	const char *p = headers, *end;

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, "Subject:", 8) == 0) {
			p += 8;
			while (*p == ' ' || *p == '\t')
				p++;
			end = p + strcspn(p, "\r\n");
			return escape_dup(p, (size_t)(end - p));
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

/* A JSON array text of recipients as "a, b", or the text escaped. */
static char *
recipients(const char *to)
{
	json_t *j, *v;
	char *out = NULL, *e, *n;
	size_t i;

	if (to == NULL)
		return xstrdup("");
	j = json_loads(to, 0, NULL);
	if (!json_is_array(j)) {
		json_decref(j);
		return escape_dup(to, strlen(to));
	}
	json_array_foreach(j, i, v)
	{
		const char *s = json_string_value(v);

		if (s == NULL)
			continue;
		e = escape_dup(s, strlen(s));
		n = out == NULL ? xstrdup(e) : xasprintf("%s, %s", out, e);
		free(out);
		free(e);
		out = n;
	}
	json_decref(j);
	return out != NULL ? out : xstrdup("");
}

static json_t *
json_or_text(const char *s)
{
	json_t *j;

	if (s == NULL || *s == '\0')
		return json_null();
	if ((j = json_loads(s, 0, NULL)) != NULL)
		return j;
	return print_json_text(s, strlen(s));
}

static int
print_draft(const struct hist_draft *d, void *arg)
{
	const struct cli_opts *o = arg;
	char when[32], *subj = subject_of(d->headers), *to, *from;
	json_t *j;

	if (o->json) {
		j = print_json_object("draft");
		(void)json_object_set_new(j, "id", json_integer(d->id));
		(void)json_object_set_new(
		    j, "updated", print_json_time(d->updated));
		(void)json_object_set_new(
		    j, "from", print_json_str(d->env_from));
		(void)json_object_set_new(j, "to", json_or_text(d->env_to));
		(void)json_object_set_new(j, "subject",
		    subj != NULL ? json_string(subj) : json_null());
		(void)json_object_set_new(
		    j, "headers", print_json_str(d->headers));
		(void)json_object_set_new(
		    j, "body_bytes", json_integer((json_int_t)d->body_len));
		(void)json_object_set_new(
		    j, "attachments", json_or_text(d->attachments));
		print_json_put(j);
		free(subj);
		return 0;
	}
	histcmd_time(d->updated, 0, when, sizeof when);
	from = d->env_from != NULL
	    ? escape_dup(d->env_from, strlen(d->env_from))
	    : xstrdup("");
	to = recipients(d->env_to);
	(void)printf("%6lld  %.16s  %-24s %-24s %s\n", (long long)d->id, when,
	    from, to, subj != NULL ? subj : "");
	free(from);
	free(to);
	free(subj);
	return 0;
}

int
cmd_drafts(int argc, char *argv[])
{
	struct cli_opts o;
	struct hist *h;
	char *err = NULL;
	long n;
	int rc, missing;

	rc = cli_parse(argc, argv, CLI_O_JSON | CLI_O_HISTORY, &o);
	if (rc != 0) {
		free(o.args);
		if (rc == 1) {
			(void)puts("usage: ehlo drafts [--json] [--db PATH]\n"
			           "Lists saved drafts, most recent first.");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.nargs > 0) {
		rc = cli_usage_error(
		    "ehlo drafts takes no arguments (got \"%s\")", o.args[0]);
		free(o.args);
		return rc;
	}
	free(o.args);
	if ((h = histcmd_open(&o, &missing)) == NULL) {
		if (missing && !o.json)
			(void)fputs("ehlo: no drafts saved yet\n", stderr);
		return missing ? EXIT_OK : EXIT_USAGE;
	}
	if (!o.json)
		(void)printf("%6s  %-16s  %-24s %-24s %s\n", "ID", "UPDATED",
		    "FROM", "TO", "SUBJECT");
	n = hist_draft_list(h, print_draft, &o, &err);
	hist_close(h);
	if (n < 0) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
