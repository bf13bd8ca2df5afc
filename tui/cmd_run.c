/*
 * `ehlo run [OPTIONS] SERVER [SCRIPT]`: argument checks, then line mode.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tui/cli.h"
#include "tui/cmdtab.h"

int
cmd_run(int argc, char *argv[])
{
	struct cli_opts o;
	int rc;

	rc = cli_parse(argc, argv,
	    CLI_O_CONN | CLI_O_JSON | CLI_O_TIMING | CLI_O_HISTORY | CLI_O_DNS |
	        CLI_O_HEXDUMP | CLI_O_RAWDATA,
	    &o);
	if (rc != 0) {
		cli_opts_free(&o);
		if (rc == 1) {
			(void)puts("usage: ehlo run [OPTIONS] SERVER [SCRIPT]"
			           "  (see ehlo --help)\n");
			cmdtab_script_help(stdout);
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.mx != NULL) {
		if (o.nargs > 1) {
			cli_opts_free(&o);
			return cli_usage_error(
			    "with --mx DOMAIN, ehlo run takes "
			    "at most a SCRIPT");
		}
		o.script = o.nargs == 1 ? o.args[0] : NULL;
		rc = cli_connect_ready(&o);
		if (rc == 0)
			rc = mxrun_linemode(&o);
		cli_opts_free(&o);
		return rc;
	}
	/* The account's host: with -a a lone argument is the SCRIPT. */
	if (o.cfg_server != NULL &&
	    (o.nargs == 0 || (o.nargs == 1 && o.account != NULL))) {
		o.server = o.cfg_server;
		o.script = o.nargs == 1 ? o.args[0] : NULL;
		rc = cli_connect_ready(&o);
		if (rc == 0)
			rc = linemode_run(&o);
		cli_opts_free(&o);
		return rc;
	}
	if (o.nargs < 1 || o.nargs > 2) {
		/* The message names o.args[2]: free only after it. */
		rc = o.nargs < 1
		    ? cli_usage_error("ehlo run needs a SERVER (host, "
		                      "host:port or [v6addr]:port), or -a "
		                      "ACCOUNT with a host")
		    : cli_usage_error("unexpected argument \"%s\" after the "
		                      "script",
		          o.args[2]);
		cli_opts_free(&o);
		return rc;
	}
	o.server = o.args[0];
	o.script = o.nargs == 2 ? o.args[1] : NULL;
	rc = cli_connect_ready(&o);
	if (rc == 0)
		rc = linemode_run(&o);
	cli_opts_free(&o);
	return rc;
}
