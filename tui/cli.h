/*
 * Command-line front end: the options every subcommand shares
 * (DESIGN.md section 4) and the subcommand table.
 */
#ifndef EHLO_TUI_CLI_H
#define EHLO_TUI_CLI_H

struct cli_opts {
	const char *server; /* SERVER argument */
	const char *script; /* run: SCRIPT, NULL or "-" for stdin */
	int starttls; /* --starttls */
	int no_starttls; /* --no-starttls */
	int tls; /* --tls */
	int insecure; /* --insecure */
	const char *cafile; /* --cafile */
	const char *helo; /* --helo */
	int timeout_ms; /* --timeout (seconds on the command line) */
	const char *auth; /* --auth MECH */
	const char *user; /* --user NAME */
	int json; /* --json */
	int timing; /* --timing */
};

/* Runs ehlo with the process arguments; returns the exit status. */
int cli_main(int argc, char *argv[]);

/* Line mode (`ehlo run`); returns the exit status of the contract. */
int linemode_run(const struct cli_opts *);

/*
 * The secret for --auth / /auth: $EHLO_PASSWORD, else a prompt on the
 * terminal without echo.  Returns an allocated string (free with
 * secret_free_str) or NULL with *errstr.
 */
char *cli_read_secret(const char *user, char **errstr);

/* Exit statuses of the contract. */
#define EXIT_OK 0
#define EXIT_REPLY 1
#define EXIT_USAGE 2
#define EXIT_NETWORK 3

#endif
