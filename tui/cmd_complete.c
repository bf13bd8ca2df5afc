/*
 * `ehlo complete KIND`: the dynamic lists the shell completions
 * (completions/) ask for, one name per line, read from the same tables
 * the program uses: the long options and those of them that take a
 * value (tui/cli.c), the themes
 * (themes/, built-in and the user's), the probes (protocol/probe.c),
 * the lessons (protocol/knowledge/lesson.c), the recorded session ids
 * (history/, newest first) and the configuration file's accounts.  The
 * subcommands are main.c's table and printed there.  Nothing is printed
 * on error: a shell offers no candidates rather than a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"
#include "protocol/lesson.h"
#include "protocol/probe.h"
#include "themes/theme.h"
#include "tui/cli.h"
#include "tui/histcmd.h"

/* How many session ids a shell is offered, newest first. */
#define COMPLETE_HISTORY_MAX 200

static int
complete_history_row(const struct hist_session *s, void *arg)
{
	(void)arg;
	(void)printf("%lld\n", (long long)s->id);
	return 0;
}

static void
complete_history(const struct cli_opts *o)
{
	struct hist *h;
	char *err = NULL;
	int missing;

	if ((h = histcmd_open(o, &missing)) == NULL)
		return;
	(void)hist_session_list(
	    h, COMPLETE_HISTORY_MAX, NULL, complete_history_row, NULL, &err);
	free(err);
	hist_close(h);
}

/* The account names of the default configuration file, in file order. */
static void
complete_accounts(void)
{
	char **v = cli_config_account_names();
	size_t i;

	for (i = 0; v[i] != NULL; i++) {
		(void)printf("%s\n", v[i]);
		free(v[i]);
	}
	free(v);
}

static void
complete_themes(void)
{
	char *dir = theme_user_dir(), **names;
	size_t i;

	names = theme_list(dir, NULL);
	for (i = 0; names[i] != NULL; i++)
		(void)printf("%s\n", names[i]);
	theme_list_free(names);
	free(dir);
}

int
cmd_complete(int argc, char *argv[])
{
	struct cli_opts o;
	const char *kind, *name;
	size_t i;
	int rc, has_arg;

	rc = cli_parse(argc, argv, CLI_O_HISTORY, &o);
	if (rc != 0 || o.nargs != 1) {
		free(o.args);
		if (rc == 1) {
			(void)puts("usage: ehlo complete "
			           "commands|options|value-options|themes|"
			           "probes|lessons|history|accounts [--db "
			           "PATH]\n"
			           "One name per line, for the shell "
			           "completions.");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	kind = o.args[0];
	if (strcmp(kind, "options") == 0 ||
	    strcmp(kind, "value-options") == 0) {
		/* value-options: those that take a value (the word after
		 * one is not a positional argument). */
		for (i = 0; (name = cli_option_name(i, &has_arg)) != NULL; i++)
			if (kind[0] == 'o' || has_arg)
				(void)printf("--%s\n", name);
	} else if (strcmp(kind, "themes") == 0) {
		complete_themes();
	} else if (strcmp(kind, "probes") == 0) {
		for (i = 0; smtp_probes[i].name != NULL; i++)
			(void)printf("%s\n", smtp_probes[i].name);
	} else if (strcmp(kind, "lessons") == 0) {
		for (i = 0; i < lesson_count(); i++)
			(void)printf("%s\n", lesson_at(i)->name);
	} else if (strcmp(kind, "history") == 0) {
		complete_history(&o);
	} else if (strcmp(kind, "accounts") == 0) {
		complete_accounts();
	} else {
		free(o.args);
		return EXIT_USAGE;
	}
	free(o.args);
	return EXIT_OK;
}
