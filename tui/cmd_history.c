/*
 * `ehlo history [--json] [--limit N] [--search TEXT]`: the recorded
 * sessions, newest first, as a table (id, date, server, outcome, label)
 * or as JSON Lines (one session object per line, the shape of `ehlo
 * show --json` without the events).  --search keeps sessions
 * whose dialogue, label or notes contain every word (FTS5).  Without
 * --limit it shows the newest HISTORY_PAGE (--limit 0: all), so it
 * answers at once however large the database has grown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "tui/cli.h"
#include "tui/histcmd.h"
#include "tui/print.h"

#define HISTORY_PAGE 50

struct list {
	const struct cli_opts *o;
	struct hist *h; /* for a failed session's last error reply */
};

static int
print_row(const struct hist_session *s, void *arg)
{
	struct list *li = arg;
	const struct cli_opts *o = li->o;
	char when[32], *server = histcmd_server(s), *label, words[64];
	json_t *j;

	if (o->json) {
		/* The session's shape of `ehlo show --json`, without its
		 * events (null). */
		char *err = NULL;

		free(server);
		if ((j = histcmd_session_json(li->h, s, NULL, &err)) == NULL) {
			free(err);
			return 0;
		}
		print_json_put(j);
		return 0;
	}
	histcmd_time(s->started, 0, when, sizeof when);
	label = s->label != NULL ? escape_dup(s->label, strlen(s->label))
	                         : xstrdup("");
	if (s->replay_of > 0) {
		char *l = xasprintf("%s%s(replay of #%lld)", label,
		    *label ? " " : "", (long long)s->replay_of);

		free(label);
		label = l;
	}
	(void)printf("%6lld  %.16s  %-28s %-18s %s\n", (long long)s->id, when,
	    server, histcmd_outcome_words(li->h, s, NULL, words, sizeof words),
	    label);
	free(label);
	free(server);
	return 0;
}

int
cmd_history(int argc, char *argv[])
{
	struct cli_opts o;
	struct hist *h;
	struct list l;
	char *err = NULL;
	long n;
	int rc, missing;

	rc = cli_parse(argc, argv, CLI_O_JSON | CLI_O_LIST | CLI_O_HISTORY, &o);
	if (rc != 0) {
		free(o.args);
		if (rc == 1) {
			(void)puts("usage: ehlo history [--json] [--limit N] "
			           "[--search TEXT] [--db PATH]\n"
			           "Lists recorded sessions, newest first (the "
			           "last 50; --limit 0: all).");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.nargs > 0) {
		rc = cli_usage_error("ehlo history takes no arguments (got "
		                     "\"%s\"); use --search TEXT to filter",
		    o.args[0]);
		free(o.args);
		return rc;
	}
	free(o.args);
	/* A page by default: a database holds years of sessions. */
	if (o.limit < 0)
		o.limit = HISTORY_PAGE;
	else if (o.limit == 0)
		o.limit = -1;
	if ((h = histcmd_open(&o, &missing)) == NULL) {
		if (missing && !o.json)
			(void)fputs("ehlo: no sessions recorded yet\n", stderr);
		return missing ? EXIT_OK : EXIT_USAGE;
	}
	if (!o.json)
		(void)printf("%6s  %-16s  %-28s %-18s %s\n", "ID", "STARTED",
		    "SERVER", "OUTCOME", "LABEL");
	l.o = &o;
	l.h = h;
	n = hist_session_list(h, o.limit, o.search, print_row, &l, &err);
	hist_close(h);
	if (n < 0) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
