/*
 * Command-line front end: option parsing shared by every subcommand and
 * the subcommand table.
 */
#ifndef EHLO_TUI_CLI_H
#define EHLO_TUI_CLI_H

/* Runs ehlo with the process arguments; returns the exit status. */
int cli_main(int argc, char *argv[]);

#endif
