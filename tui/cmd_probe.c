/*
 * `ehlo probe`: not built yet; says so instead of pretending.
 */
#include <stdio.h>

#include "tui/cli.h"

int
cmd_probe(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	(void)fputs(
	    "ehlo: probes (issue 7) is not built yet; line mode works now: "
	    "ehlo run SERVER [SCRIPT] (see ehlo --help)\n",
	    stderr);
	return EXIT_USAGE;
}
