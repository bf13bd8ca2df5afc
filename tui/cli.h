/*
 * Command-line front end: the options every subcommand shares
 * (DESIGN.md section 4), one parser for all of them, and the subcommand
 * table.  Each subcommand lives in its own tui/cmd_*.c file.
 */
#ifndef EHLO_TUI_CLI_H
#define EHLO_TUI_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Option groups a subcommand accepts (cli_parse's allowed mask). */
#define CLI_O_CONN 0x0001 /* --starttls ... --timeout, --auth, --user */
#define CLI_O_JSON 0x0002 /* --json */
#define CLI_O_TIMING 0x0004 /* --timing */
#define CLI_O_HISTORY 0x0008 /* --db, --no-history */
#define CLI_O_THEME 0x0010 /* --theme */
#define CLI_O_PRACTICE 0x0020 /* --listen, --inbox */
#define CLI_O_LIST 0x0040 /* --limit, --search */
#define CLI_O_FORMAT 0x0080 /* --format */
#define CLI_O_DIFF 0x0100 /* --diff */
#define CLI_O_DNS 0x0200 /* --dns, --mx */
#define CLI_O_SEND                                                             \
	0x0400 /* --from --to --cc --bcc --subject --body \
                           * --attach --header --partial --draft */
#define CLI_O_CHECK 0x0800 /* -w -c --cert-days-warn --cert-days-crit */
/* issue 16: teaching */
#define CLI_O_TEACH_LIST 0x10000 /* --list (ehlo explain, ehlo lesson) */
#define CLI_O_LESSON 0x20000 /* --dir DIR, --check FILE (ehlo lesson) */

/* A repeatable option's values, in command-line order. */
struct cli_list {
	const char **v;
	size_t n;
};

struct cli_opts {
	/* connection (CLI_O_CONN) */
	const char *server; /* first positional for commands that connect */
	const char *script; /* run: SCRIPT, NULL or "-" for stdin */
	int starttls;
	int no_starttls;
	int tls;
	int insecure;
	const char *cafile;
	const char *helo;
	int timeout_ms; /* --timeout (seconds on the command line) */
	const char *auth;
	const char *user;
	/* credentials may cross a connection without TLS to a server that
	 * is not loopback, or after a STARTTLS downgrade */
	int allow_plaintext_auth;
	/* output */
	int json;
	int timing;
	/* history (CLI_O_HISTORY) */
	const char *db;
	int no_history;
	/* theme (CLI_O_THEME) */
	const char *theme;
	/* practice (CLI_O_PRACTICE) */
	const char *listen;
	int inbox;
	/* history listing (CLI_O_LIST, CLI_O_FORMAT, CLI_O_DIFF) */
	long limit; /* -1 when not given */
	const char *search;
	const char *format;
	int diff;
	/* --dns SERVER[:PORT], --mx DOMAIN[:PORT] (CLI_O_DNS) */
	const char *dns;
	const char *mx;
	/* the name to verify TLS against instead of the server (an MX) */
	const char *tls_name;
	/* send (CLI_O_SEND) */
	const char *from;
	struct cli_list to, cc, bcc, attach, header;
	const char *subject;
	const char *body; /* FILE or "-" */
	int partial;
	const char *draft;
	const char *notify, *ret, *envid; /* DSN (RFC 3461) */
	/* check (CLI_O_CHECK): milliseconds and days, -1 when not given */
	long warn_ms, crit_ms;
	long cert_days_warn, cert_days_crit;
	/* issue 16: teaching */
	int list; /* --list */
	int require_tls, require_auth; /* practice: --require-tls/-auth */
	long greet_pause_ms; /* practice: --greet-pause MS (0: none) */
	const char *lesson_dir; /* lesson: --dir DIR */
	const char *lesson_check; /* lesson: --check FILE */
	struct cli_list names; /* practice: --name HOST (certificate names) */
	/* positional arguments after the subcommand, in order */
	int nargs;
	char **args;
};

/*
 * Parses argv (argv[0] is the subcommand name) accepting the option
 * groups in allowed.  Fills *o (defaults first).  Returns -1 after
 * printing a clear message for bad usage, 1 when --help was given (the
 * caller prints its help), else 0.
 */
int cli_parse(int argc, char *argv[], unsigned allowed, struct cli_opts *o);

/* Prints "ehlo: message\n(try: ehlo --help)" to stderr; returns 2. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct smtp_client_opts;

/* Fills *co for host/port from the connection options (--tls, --cafile,
 * --insecure, --timeout, the MX name to verify); strings stay o's. */
void cli_client_opts(const struct cli_opts *o, const char *host,
    const char *port, struct smtp_client_opts *co);

/* The name for EHLO/HELO when --helo is not given: this host's name, or
 * "localhost".  Allocated. */
char *cli_default_helo(void);

/* Subcommands: each gets argv with argv[0] = its name. */
int cmd_run(int argc, char *argv[]);
int cmd_workbench(int argc, char *argv[]); /* ehlo [OPTIONS] [SERVER] */
int cmd_practice(int argc, char *argv[]);
int cmd_explain(int argc, char *argv[]);
int cmd_lesson(int argc, char *argv[]);
int cmd_history(int argc, char *argv[]);
int cmd_show(int argc, char *argv[]);
int cmd_export(int argc, char *argv[]);
int cmd_replay(int argc, char *argv[]);
int cmd_drafts(int argc, char *argv[]);
int cmd_send(int argc, char *argv[]);
int cmd_check(int argc, char *argv[]);
int cmd_probe(int argc, char *argv[]);

/* Frees what cli_parse allocated in *o (the lists and args). */
void cli_opts_free(struct cli_opts *);

/* Line mode (`ehlo run`); returns the exit status of the contract. */
int linemode_run(const struct cli_opts *);
/*
 * `ehlo run --mx DOMAIN[:PORT]`: looks up the domain's MX hosts (shown
 * as "*:" notes), then runs line mode against each address in turn
 * until one gives a greeting (tui/mxrun.c).
 */
int mxrun_linemode(const struct cli_opts *);
/*
 * Line mode with the script given as text (replay): records the session
 * with replay_of (0: none) and stores its history id in *session_id (0
 * when not recorded; may be NULL).  Returns the exit status.
 */
int linemode_run_script(const struct cli_opts *, const char *text, size_t len,
    int64_t replay_of, int64_t *session_id);

/* Exit statuses of the contract. */
#define EXIT_OK 0
#define EXIT_REPLY 1
#define EXIT_USAGE 2
#define EXIT_NETWORK 3

#endif
