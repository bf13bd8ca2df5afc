/*
 * `ehlo history [--json] [--limit N] [--search TEXT]`: the recorded
 * sessions, newest first, as a table (id, date, server, outcome, label)
 * or as JSON Lines (one session object per line, the shape of `ehlo
 * show --json` without the events).  --search keeps sessions
 * whose dialogue, label or notes contain every word (FTS5).  Without
 * --limit it shows the newest HISTORY_PAGE (--limit 0: all), so it
 * answers at once however large the database has grown.
 *
 * Housekeeping: `ehlo history rm ID...` deletes sessions;
 * `ehlo history prune --older-than AGE` counts the sessions older than
 * AGE (90d, 12h, 2w, ...) and deletes them with --yes (history/
 * hist_prune.c; VACUUM after a large prune).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static long long
file_kib(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)(sb.st_size / 1024) : 0;
}

/* ehlo history rm ID...: every id, then the exit status (--json: one
 * history_rm object with the ids deleted and those not found). */
static int
history_rm(struct hist *h, const struct cli_opts *o)
{
	json_t *j = o->json ? print_json_object("history_rm") : NULL,
	       *gone = json_array(), *missing = json_array();
	int64_t id;
	char *err = NULL;
	int i, rc = EXIT_OK, r;

	for (i = 1; i < o->nargs; i++) {
		if (histcmd_parse_id(o->args[i], "session", &id) == -1) {
			rc = EXIT_USAGE;
			continue;
		}
		if ((r = hist_session_delete(h, id, &err)) == -1) {
			(void)fprintf(stderr, "ehlo: %s\n", err);
			free(err);
			rc = EXIT_USAGE;
			break;
		}
		if (r == 1) {
			(void)fprintf(stderr,
			    "ehlo: there is no session #%lld (ehlo history "
			    "lists them)\n",
			    (long long)id);
			(void)json_array_append_new(missing, json_integer(id));
			rc = EXIT_USAGE;
		} else if (j != NULL)
			(void)json_array_append_new(gone, json_integer(id));
		else
			(void)printf("deleted session #%lld\n", (long long)id);
	}
	if (j != NULL) {
		(void)json_object_set(j, "deleted", gone);
		(void)json_object_set(j, "missing", missing);
		print_json_put(j);
	}
	json_decref(gone);
	json_decref(missing);
	return rc;
}

/* ehlo history prune --older-than AGE [--yes]. */
static int
history_prune(struct hist *h, const struct cli_opts *o, int64_t age)
{
	struct hist_prune_count c;
	char *err = NULL, when[32];
	long long before = file_kib(hist_path(h));

	if (hist_prune(h, age, !o->yes, &c, &err) == -1) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	if (o->json) {
		json_t *j = print_json_object("history_prune");

		(void)json_object_set_new(j, "deleted", json_boolean(o->yes));
		(void)json_object_set_new(
		    j, "sessions", json_integer(c.sessions));
		(void)json_object_set_new(j, "events", json_integer(c.events));
		(void)json_object_set_new(j, "bodies", json_integer(c.bodies));
		(void)json_object_set_new(
		    j, "before", print_json_time(c.cutoff));
		(void)json_object_set_new(j, "vacuum",
		    c.vacuumed ? json_pack("{s:I, s:I}", "kib_before",
		                     (json_int_t)before, "kib_after",
		                     (json_int_t)file_kib(hist_path(h)))
		               : json_null());
		print_json_put(j);
		return EXIT_OK;
	}
	histcmd_time(c.cutoff, 0, when, sizeof when);
	(void)printf("%s %lld session%s (%lld events, %lld message "
	             "bodies) started before %s\n",
	    o->yes ? "deleted" : "would delete", (long long)c.sessions,
	    c.sessions == 1 ? "" : "s", (long long)c.events,
	    (long long)c.bodies, when);
	if (!o->yes && c.sessions > 0)
		(void)printf("run it again with --yes to delete them\n");
	if (c.vacuumed)
		(void)printf("compacted the database (VACUUM): %lld KiB -> "
		             "%lld KiB\n",
		    before, file_kib(hist_path(h)));
	return EXIT_OK;
}

/* rm and prune: their arguments checked before the database is opened. */
static int
history_housekeeping(struct cli_opts *o)
{
	struct hist *h;
	int64_t age = 0;
	int rc, missing, rm = strcmp(o->args[0], "rm") == 0;

	if (rm && (o->nargs < 2 || o->older_than != NULL))
		return cli_usage_error(o->nargs < 2
		        ? "ehlo history rm needs session IDs (ehlo history "
		          "lists them)"
		        : "--older-than goes with ehlo history prune");
	if (!rm && (o->nargs > 1 || o->older_than == NULL))
		return cli_usage_error("usage: ehlo history prune --older-than "
		                       "AGE [--yes] (AGE like 90d, 12h, 2w)");
	if (!rm && (age = cli_parse_age(o->older_than)) < 0)
		return cli_usage_error("--older-than wants an age such as 90d, "
		                       "12h, 30m or 2w, not \"%s\"",
		    o->older_than);
	if ((h = histcmd_open(o, &missing)) == NULL) {
		if (missing)
			(void)fputs("ehlo: no sessions recorded yet\n", stderr);
		return missing && !rm ? EXIT_OK : EXIT_USAGE;
	}
	rc = rm ? history_rm(h, o) : history_prune(h, o, age);
	hist_close(h);
	return rc;
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

	rc = cli_parse(argc, argv,
	    CLI_O_JSON | CLI_O_LIST | CLI_O_HISTORY | CLI_O_PRUNE, &o);
	if (rc != 0) {
		free(o.args);
		if (rc == 1) {
			(void)puts("usage: ehlo history [--json] [--limit N] "
			           "[--search TEXT] [--db PATH]\n"
			           "       ehlo history rm ID...\n"
			           "       ehlo history prune --older-than AGE "
			           "[--yes]\n"
			           "Lists recorded sessions, newest first (the "
			           "last 50; --limit 0: all).\n"
			           "rm deletes sessions; prune counts the "
			           "sessions older than AGE (90d, 12h, 2w)\n"
			           "and deletes them with --yes.");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.nargs > 0 &&
	    (strcmp(o.args[0], "rm") == 0 || strcmp(o.args[0], "prune") == 0)) {
		rc = history_housekeeping(&o);
		free(o.args);
		return rc;
	}
	if (o.older_than != NULL || o.yes) {
		free(o.args);
		return cli_usage_error("%s goes with ehlo history prune",
		    o.yes ? "--yes" : "--older-than");
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
	if (histcmd_retention(h, &o, &err) == -1) {
		(void)fprintf(stderr, "ehlo: history_retention: %s\n", err);
		free(err);
		err = NULL;
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
