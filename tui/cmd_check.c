/*
 * `ehlo check`: not built yet; says so instead of pretending.
 */
#include <stdio.h>

#include "tui/cli.h"

int
cmd_check(int argc, char *argv[])
{
	(void)argc;
	(void)argv;
	(void)fputs(
	    "ehlo: ehlo check (issue 7) is not built yet; line mode works now: "
	    "ehlo run SERVER [SCRIPT] (see ehlo --help)\n",
	    stderr);
	return EXIT_USAGE;
}
