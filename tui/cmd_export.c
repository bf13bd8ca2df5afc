/*
 * `ehlo export ID [--format text|json]`: a recorded session as a
 * transcript to paste into a ticket: the header (server, UTC times,
 * outcome, TLS and certificate chain, capabilities) and the dialogue
 * with timing.  Secrets never reach the database (AUTH is stored
 * decoded with the secret masked; the user name is kept); AUTH client
 * lines not marked redacted are masked again here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"
#include "tui/export_svg.h"
#include "tui/histcmd.h"
#include "tui/print.h"

int
cmd_export(int argc, char *argv[])
{
	struct cli_opts o;
	struct hist *h;
	struct hist_session *s;
	struct histcmd_events es;
	char *err = NULL;
	json_t *j;
	int rc, json;

	rc = cli_parse(
	    argc, argv, CLI_O_FORMAT | CLI_O_HISTORY | CLI_O_PAUSES, &o);
	if (rc != 0) {
		free(o.args);
		if (rc == 1) {
			(void)puts(
			    "usage: ehlo export ID [--format "
			    "text|json|swaks|curl|script|svg|html] "
			    "[--no-pauses] [--db PATH]\n"
			    "Prints a redacted transcript of a recorded "
			    "session, ready for a ticket;\n"
			    "swaks, curl and script repeat it (script keeps "
			    "the user's waits as /sleep\n"
			    "unless --no-pauses); svg and html draw it as a "
			    "sequence diagram.");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.format != NULL && strcmp(o.format, "text") != 0 &&
	    strcmp(o.format, "json") != 0 && strcmp(o.format, "swaks") != 0 &&
	    strcmp(o.format, "curl") != 0 && strcmp(o.format, "script") != 0 &&
	    strcmp(o.format, "svg") != 0 && strcmp(o.format, "html") != 0) {
		free(o.args);
		return cli_usage_error("--format is text, json, swaks, curl, "
		                       "script, svg or html, not \"%s\"",
		    o.format);
	}
	json = o.format != NULL && strcmp(o.format, "json") == 0;
	if (o.nargs != 1) {
		free(o.args);
		return cli_usage_error("ehlo export needs one session ID "
		                       "(`ehlo history` lists them)");
	}
	rc = histcmd_session_load(&o, o.args[0], &h, &s, &es);
	free(o.args);
	if (rc != EXIT_OK)
		return rc;
	if (o.format != NULL &&
	    (strcmp(o.format, "svg") == 0 || strcmp(o.format, "html") == 0)) {
		/* A sequence diagram (tui/export_svg.c, issue 16). */
		if (export_diagram(stdout, s, &es, o.format[0] == 'h') == -1)
			rc = EXIT_USAGE;
	} else if (o.format != NULL && strcmp(o.format, "text") != 0 && !json) {
		/* swaks, curl, script: hand-off to automation. */
		if (histcmd_export_automation(stdout, h, s, &es, o.format,
		        !o.no_pauses, &err) == -1) {
			(void)fprintf(stderr, "ehlo: %s\n", err);
			free(err);
			rc = EXIT_USAGE;
		}
	} else if (json) {
		if ((j = histcmd_session_json(h, s, &es, &err)) == NULL) {
			(void)fprintf(stderr, "ehlo: %s\n", err);
			free(err);
			rc = EXIT_USAGE;
		} else {
			(void)json_object_set_new(j, "exported_by",
			    json_string("ehlo " EHLO_VERSION));
			print_json_put(j);
		}
	} else {
		(void)printf("SMTP session transcript (ehlo export; "
		             "credentials masked)\n\n");
		histcmd_print_header(stdout, s, &es, 1);
		(void)printf("\ndialogue (seconds since the session "
		             "started; C: client, S: server, *: ehlo):\n");
		histcmd_print_dialogue(stdout, h, s, &es, 0);
	}
	histcmd_events_free(&es);
	hist_session_free(s);
	hist_close(h);
	return rc;
}
