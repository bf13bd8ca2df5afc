/*
 * `ehlo explain TOPIC [--json]`: prints what a reply code ("550"), an
 * enhanced status code ("5.7.1"), both ("550 5.1.1"), a class ("5xx"),
 * a command ("VRFY"), an EHLO keyword ("SIZE"), a port ("587"), a SASL
 * mechanism ("PLAIN") or a concept ("envelope") means, from the
 * knowledge base in protocol/explain.h.  The arguments are joined with
 * spaces, so `ehlo explain 550 5.1.1` and `ehlo explain "550 5.1.1"`
 * agree.  With --json the entry's fields come out as one JSON object;
 * the enhanced part of a combined query is nested under "enhanced", a
 * second meaning of the same word ("AUTH": command and keyword) under
 * "also".  `ehlo explain --list` lists every topic, grouped by kind.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/command.h"
#include "protocol/explain.h"
#include "tui/cli.h"
#include "tui/print.h"

static json_t *
hit_json(const struct smtp_explain_hit *hit)
{
	const struct smtp_explain *e = hit->entry;
	const struct smtp_command *cmd;
	json_t *o = json_object();

	(void)json_object_set_new(o, "key", json_string(e->key));
	(void)json_object_set_new(o, "query", json_string(hit->as));
	(void)json_object_set_new(o, "kind", json_string(smtp_explain_kind(e)));
	(void)json_object_set_new(o, "fallback", json_boolean(hit->fallback));
	(void)json_object_set_new(o, "title", json_string(e->title));
	(void)json_object_set_new(o, "meaning", print_json_str(e->meaning));
	(void)json_object_set_new(o, "causes", print_json_str(e->causes));
	(void)json_object_set_new(o, "action", print_json_str(e->action));
	(void)json_object_set_new(o, "servers", print_json_str(e->servers));
	(void)json_object_set_new(o, "rfc", print_json_str(e->rfc));
	cmd = strcmp(smtp_explain_kind(e), "verb") == 0
	    ? smtp_command_find(e->key, strlen(e->key))
	    : NULL;
	(void)json_object_set_new(o, "syntax",
	    cmd != NULL ? print_json_str(cmd->syntax) : json_null());
	(void)json_object_set_new(o, "enhanced", json_null());
	return o;
}

static char *
join_args(int n, char **args)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < n; i++)
		len += strlen(args[i]) + 1;
	s = xmalloc(len);
	s[0] = '\0';
	len = 0;
	for (i = 0; i < n; i++) {
		size_t k = strlen(args[i]);

		if (i > 0)
			s[len++] = ' ';
		memcpy(s + len, args[i], k);
		len += k;
		s[len] = '\0';
	}
	return s;
}

/* Every entry, grouped by kind in the knowledge base's order (--json:
 * one explanation_list object whose entries are kind, key, title). */
static int
explain_list(int json)
{
	const struct smtp_explain *e;
	const char *kind, *last = "";
	json_t *arr = json ? json_array() : NULL;
	size_t i;

	for (i = 0; (e = smtp_explain_at(i)) != NULL; i++) {
		kind = smtp_explain_kind(e);
		if (json) {
			json_t *o = json_object();

			(void)json_object_set_new(o, "kind", json_string(kind));
			(void)json_object_set_new(
			    o, "key", json_string(e->key));
			(void)json_object_set_new(
			    o, "title", json_string(e->title));
			(void)json_array_append_new(arr, o);
			continue;
		}
		if (strcmp(kind, last) != 0)
			(void)printf(
			    "%s%s:\n", *last != '\0' ? "\n" : "", kind);
		last = kind;
		(void)printf("  %-20s %s\n", e->key, e->title);
	}
	if (json) {
		/* One object, as every --json output (docs/schema.json). */
		json_t *top = print_json_object("explanation_list");

		(void)json_object_set_new(top, "entries", arr);
		print_json_put(top);
	} else
		(void)puts("\n(ehlo explain KEY prints one of them)");
	return EXIT_OK;
}

int
cmd_explain(int argc, char *argv[])
{
	struct smtp_explain_hit hits[2];
	struct cli_opts o;
	char *query, *text;
	size_t n;
	int rc;

	rc = cli_parse(argc, argv, CLI_O_JSON | CLI_O_TEACH_LIST, &o);
	if (rc != 0) {
		free(o.args);
		if (rc == 1) {
			(void)puts("usage: ehlo explain [--json] TOPIC\n"
			           "       ehlo explain --list [--json]\n"
			           "  TOPIC: a reply code (550), an enhanced "
			           "code (5.7.1), both (\"550 5.1.1\"),\n"
			           "  a class (5xx), a command (VRFY), an EHLO "
			           "keyword (SIZE), a port (587),\n"
			           "  a SASL mechanism (PLAIN) or a concept "
			           "(envelope); --list shows them all");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.list) {
		if (o.nargs > 0) {
			free(o.args);
			return cli_usage_error("ehlo explain --list takes no "
			                       "topic");
		}
		free(o.args);
		return explain_list(o.json);
	}
	if (o.nargs < 1) {
		free(o.args);
		return cli_usage_error("ehlo explain needs a reply code like "
		                       "550, an enhanced code like 5.7.1, a "
		                       "command like VRFY or a keyword like "
		                       "SIZE (ehlo explain --list shows them "
		                       "all)");
	}
	query = join_args(o.nargs, o.args);
	free(o.args);
	n = smtp_explain_lookup(query, hits);
	if (n == 0) {
		char *shown = escape_dup(query, strlen(query));

		(void)fprintf(stderr,
		    "ehlo: no explanation for \"%.60s\": try a reply code like "
		    "550, an enhanced code like 5.7.1 or a command like VRFY; "
		    "ehlo explain --list shows every topic\n",
		    shown);
		free(shown);
		free(query);
		return EXIT_USAGE;
	}
	free(query);
	if (o.json) {
		json_t *j = print_json_object("explanation"),
		       *h = hit_json(&hits[0]);

		(void)json_object_update(j, h);
		json_decref(h);
		if (n > 1)
			(void)json_object_set_new(j,
			    strcmp(smtp_explain_kind(hits[1].entry),
			        "enhanced") == 0
			        ? "enhanced"
			        : "also",
			    hit_json(&hits[1]));
		print_json_put(j);
		(void)fflush(stdout);
		return EXIT_OK;
	}
	text = smtp_explain_format(hits, n, SMTP_EXPLAIN_WIDTH);
	(void)fputs(text, stdout);
	free(text);
	return EXIT_OK;
}
