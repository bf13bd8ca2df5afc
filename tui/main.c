/*
 * ehlo's entry point: dispatches the subcommands of the command-line
 * contract (DESIGN.md section 4).
 */
#include <stdio.h>

#include "tui/cli.h"

int
main(int argc, char *argv[])
{
	return cli_main(argc, argv);
}
