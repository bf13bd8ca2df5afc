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

#include "core/buf.h"
#include "tui/cli.h"

struct loop;
struct smtp_tls_info;

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
	int json; /* --format json or --json: docs/schema.json's check */
	int need_cert; /* -D: STARTTLS (or --tls) is required */
	const char *targets; /* --targets FILE: a fleet (check_fleet.c) */
	long parallel; /* --parallel N: connections at once (fleet) */
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
/* `ehlo check --help`. */
extern const char check_opts_help[];
/*
 * -4/-6: server with its host resolved in that family ("[addr]:port"),
 * allocated; *name is the host name to verify TLS against (NULL for an
 * address).  NULL with *errstr when the host has no such address.
 */
char *check_opts_family_server(
    const struct check_opts *, const char *server, char **name, char **errstr);

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
	/* The connection's TLS details while the run lives; NULL: none. */
	const struct smtp_tls_info *tls;
};

/* "SMTP STATE - message | perfdata" (one line) on stdout. */
void check_print_plugin(const struct check_opts *, const struct check_result *);
/* The result as one JSON object on a line (docs/schema.json, "check"). */
void check_print_json(const struct check_result *);
/* The result in the format co asks for, but OpenMetrics, which gathers. */
void check_print(const struct check_opts *co, const struct check_result *);

/*
 * OpenMetrics for one check or many: the samples of each metric family
 * gathered apart (a family's samples must be together), then printed
 * with their headers and "# EOF".
 */
enum {
	CHECK_OM_UP,
	CHECK_OM_STATE,
	CHECK_OM_DURATION,
	CHECK_OM_CODE,
	CHECK_OM_CERT,
	CHECK_OM_NFAMILIES
};
struct check_om {
	struct buf fam[CHECK_OM_NFAMILIES];
};
void check_om_init(struct check_om *);
void check_om_add(struct check_om *, const struct check_result *);
/* Prints everything gathered and resets. */
void check_om_print(struct check_om *);

/*
 * One check on a loop the caller runs, so that many can share it:
 * check_run_start connects (co must outlive the run); check_runs_turn
 * steps every unfinished run of runs (NULL entries skipped) and waits
 * once for the loop; check_run_result judges a finished run (the result
 * lives until check_run_free, which is never called from a callback).
 */
struct check_run;
struct check_run *check_run_start(struct loop *, struct check_opts *co);
int check_run_done(const struct check_run *);
void check_runs_turn(struct loop *, struct check_run **runs, size_t n);
const struct check_result *check_run_result(struct check_run *);
void check_run_free(struct check_run *);

/*
 * --targets FILE: every target of FILE (one a line: SERVER and options
 * of its own, after those of the command line, argv) checked at most
 * co->parallel at once on one loop; one line per target and a summary
 * (or OpenMetrics for all).  Returns the worst state.
 */
int check_fleet(struct check_opts *co, int argc, char *argv[]);
/* The state's name: "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *check_state_name(int status);

#endif
