/*
 * `ehlo show ID [--json]`: one recorded session: its metadata (server,
 * times, outcome, TLS, capabilities, label, notes) and the dialogue as
 * line mode prints it with --timing, each reply annotated with its
 * stage, codes and latency.  --json prints one object with everything;
 * --hexdump the dialogue's bytes in hex (tui/show_hexdump.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "tui/cli.h"
#include "tui/histcmd.h"
#include "tui/print.h"
#include "tui/show_hexdump.h"

int
cmd_show(int argc, char *argv[])
{
	struct cli_opts o;
	struct hist *h;
	struct hist_session *s;
	struct histcmd_events es;
	char *err = NULL;
	json_t *j;
	int rc;

	rc = cli_parse(
	    argc, argv, CLI_O_JSON | CLI_O_HISTORY | CLI_O_HEXDUMP, &o);
	if (rc != 0) {
		free(o.args);
		if (rc == 1) {
			(void)puts("usage: ehlo show ID [--json | --hexdump] "
			           "[--db PATH]\n"
			           "Shows one recorded session (ids: ehlo "
			           "history); --hexdump: its bytes in hex.");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.nargs != 1) {
		free(o.args);
		return cli_usage_error("ehlo show needs one session ID "
		                       "(`ehlo history` lists them)");
	}
	rc = histcmd_session_load(&o, o.args[0], &h, &s, &es);
	free(o.args);
	if (rc != EXIT_OK)
		return rc;
	if (o.json) {
		if ((j = histcmd_session_json(h, s, &es, &err)) == NULL) {
			(void)fprintf(stderr, "ehlo: %s\n", err);
			free(err);
			rc = EXIT_USAGE;
		} else {
			print_json_put(j);
		}
	} else {
		histcmd_print_header(stdout, s, &es, 0);
		(void)putchar('\n');
		if (o.hexdump)
			show_hexdump(stdout, &es);
		else
			histcmd_print_dialogue(stdout, h, s, &es, 1);
	}
	histcmd_events_free(&es);
	hist_session_free(s);
	hist_close(h);
	return rc;
}
