/*
 * `ehlo check`'s private header, between its rooms: check_opts.c (the
 * monitoring-plugins options check_smtp takes, beside ehlo's own),
 * check_output.c (the plugin line, its perfdata and OpenMetrics) and
 * cmd_check.c (the conversation).
 */
#ifndef EHLO_TUI_CHECK_H
#define EHLO_TUI_CHECK_H

#include <stddef.h>
#include <time.h>

#include "tui/cli.h"

struct buf;

enum { CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN };

/* Everything `ehlo check` was asked to do. */
struct check_opts {
	struct cli_opts o; /* the shared options (cli_parse) */
	char *server; /* SERVER, or built from -H and -p; allocated */
	int family; /* 0, 4 (-4) or 6 (-6) */
	const char *expect; /* -e: text the greeting must contain */
	struct cli_list cmds, resps; /* -C and -R, paired in order */
	const char *from; /* -f: MAIL FROM after EHLO (and AUTH) */
	const char *auth_mech, *auth_user; /* -A/--auth, -U/--user */
	char *auth_pass; /* -P (wiped from argv), allocated, or NULL */
	int ignore_quit_failure; /* -q */
	double warn_ms, crit_ms; /* -w/-c (seconds) or --warning/--critical
	                          * (milliseconds); -1 when not given */
	int openmetrics; /* --format openmetrics */
	int need_cert; /* -D: STARTTLS (or --tls) is required */
};

/*
 * Parses `ehlo check` argv (argv[0] is "check"): the plugin options
 * here, the rest through cli_parse.  Returns 0; 1 for --help; -1 with
 * *errstr (allocated, names the option) on bad usage.  -P's value is
 * copied and wiped in argv (ps and /proc show argv).
 */
int check_opts_parse(
    int argc, char *argv[], struct check_opts *, char **errstr);
void check_opts_free(struct check_opts *);

/*
 * Server text made safe for a plugin line (and a label): escaped
 * (control characters made visible), '|', ';' and '=' replaced by '_',
 * and cut at a space before max bytes with "..." when longer.
 * Appended to b.
 */
void check_text_add(struct buf *b, const char *text, size_t len, size_t max);

/* One measured phase for perfdata and OpenMetrics. */
struct check_phase {
	const char *name; /* "connect", "greeting", "ehlo", ... */
	double ms; /* -1: not measured */
	int code; /* its reply code, 0: none */
};

/* What a finished check found, for the printers. */
struct check_result {
	int status;
	const char *target; /* "host:port" */
	const char *message; /* the text after "SMTP STATE - " */
	double total_ms; /* wall time of the whole check, -1: none */
	struct check_phase phases[16];
	size_t nphases;
	int have_cert;
	long cert_days;
	time_t cert_not_after; /* 0: unknown */
};

/* "SMTP STATE - message | perfdata" (one line) on stdout. */
void check_print_plugin(const struct check_opts *, const struct check_result *);
/* The OpenMetrics exposition of one check, ending in "# EOF". */
void check_print_openmetrics(
    const struct check_opts *, const struct check_result *);
/* The state's name: "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *check_state_name(int status);

#endif
