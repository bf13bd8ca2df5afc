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
#define CLI_O_PRACTICE 0x0020 /* --listen, --inbox, --watch, ... */
#define CLI_O_LIST 0x0040 /* --limit, --search */
#define CLI_O_FORMAT 0x0080 /* --format */
#define CLI_O_DIFF 0x0100 /* --diff */
#define CLI_O_DNS 0x0200 /* --dns, --mx */
#define CLI_O_SEND                                                             \
	0x0400 /* --from --to --cc --bcc --subject --body \
                           * --attach --header --partial --draft */
#define CLI_O_CHECK 0x0800 /* --warning --critical --cert-days-warn/crit */
/* issue 20 item 13, issue 17 item 8 (high bits: others append below) */
#define CLI_O_PAUSES 0x100000 /* --no-pauses (replay, export) */
#define CLI_O_PRUNE 0x200000 /* --older-than, --yes (history prune) */
/* issue 16: teaching */
#define CLI_O_TEACH_LIST 0x10000 /* --list (ehlo explain, ehlo lesson) */
#define CLI_O_LESSON 0x20000 /* --dir DIR, --check FILE (ehlo lesson) */
#define CLI_O_RAWDATA 0x1000 /* --raw-data FILE (issue 22; ehlo run) */
/* issue 18 item 6 */
#define CLI_O_HEXDUMP 0x4000000 /* --hexdump (ehlo run, ehlo show) */

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
	/* practice connection limits, 0 when not given (issue 21 item 10) */
	unsigned max_conns, max_per_addr;
	/* issue 20 items 11, 13, issue 17 item 8: history and replay */
	int no_pauses; /* replay, export: drop the user's waits */
	int exact; /* replay --diff: compare what always differs too */
	const char *older_than; /* history prune: "90d", "12h", ... */
	int yes; /* history prune, rm: act, not only count */
	int no_content; /* record envelope and replies, not the message */
	/* history_retention (configuration): sessions older than this age
	 * are pruned when the history is listed or the workbench opens it */
	const char *retention;
	/* issue 16: teaching */
	int list; /* --list */
	int require_tls, require_auth; /* practice: --require-tls/-auth */
	long greet_pause_ms; /* practice: --greet-pause MS (0: none) */
	const char *lesson_dir; /* lesson: --dir DIR; practice: --dir DATA,
	                         * its data directory */
	const char *lesson_check; /* lesson: --check FILE */
	/* issue 22: --lenient-eod (CLI_O_PRACTICE), --raw-data FILE
	 * (CLI_O_RAWDATA: /body alone sends FILE unnormalised) */
	int lenient_eod;
	const char *raw_data;
	/* TLS (issue 19, tui/cli_tls.c; config keys may fill these, then
	 * call cli_tls_prepare) */
	const char *tls_min, *tls_max; /* "1.0".."1.3" */
	const char *ciphers, *ciphersuites, *groups;
	const char *sni;
	int no_sni;
	const char *cert, *key; /* PEM files */
	const char *pin; /* "sha256//BASE64[;...]" */
	int dane;
	struct smtp_tls_identity *tls_identity; /* --cert/--key, loaded */
	struct cli_list names; /* practice: --name HOST (certificate names) */
	/* positional arguments after the subcommand, in order */
	int nargs;
	char **args;
	/* configuration file and accounts (issue 17, tui/cli_config.c) */
	const char *config; /* --config FILE */
	const char *account; /* -a, --account NAME */
	int timeout_given; /* --timeout was on the command line */
	const char *cfg_server; /* the account's host[:port], or NULL */
	int cfg_port; /* the account's port (a SERVER without one), or 0 */
	const char *passwordeval; /* the account's, run when AUTH needs it */
	unsigned cfg_applied; /* CLI_CFG_*: what the configuration set */
	/* ehlo send (issue 17): --eml FILE|-, -t, --dry-run */
	const char *eml;
	int rcpts_from_headers;
	int dry_run;
	/* issue 18: LMTP (RFC 2033), also implied by an lmtp:// SERVER or a
	 * UNIX socket path (see host_is_lmtp) */
	int lmtp; /* --lmtp */
	/* issue 16 item 6: the class server (CLI_O_PRACTICE) */
	int watch; /* --watch: show a running server's connections */
	int once; /* --once: with --watch, one snapshot */
	int quiet; /* --quiet: no connection log on stderr */
	/* issue 18: XCLIENT and the PROXY protocol (tui/cli_proxy.c) */
	struct cli_list xclient; /* --xclient: NAME=VALUE pairs, each value
	                          * one or more separated by blanks */
	int proxy_version; /* --proxy-header v1|v2: 1 or 2, 0 none */
	const char *proxy_source, *proxy_dest; /* ADDR:PORT */
	/* issue 18 item 6: --hexdump (run; show) */
	int hexdump;
	/* issue 18 items 4 and 7: the network path (tui/cli_net.c) */
	const char *socks; /* --socks, or the configuration's socks */
	const char *source; /* --source ADDR (configuration: source_ip) */
	int family; /* 0, AF_INET (-4) or AF_INET6 (-6) */
};

/* What the configuration set (cli_opts.cfg_applied). */
#define CLI_CFG_AUTH 0x1 /* auth and user */
#define CLI_CFG_TLS_MODE 0x2 /* starttls, no_starttls or tls */

/*
 * Takes back what the configuration set in what (CLI_CFG_*), for a
 * command that does its own (check does not authenticate; replay
 * repeats the recorded STARTTLS and AUTH).
 */
void cli_config_forget(struct cli_opts *o, unsigned what);

/*
 * Parses argv (argv[0] is the subcommand name) accepting the option
 * groups in allowed.  Fills *o (defaults first).  Returns -1 after
 * printing a clear message for bad usage, 1 when --help was given (the
 * caller prints its help), else 0.
 */
int cli_parse(int argc, char *argv[], unsigned allowed, struct cli_opts *o);

/*
 * The long option names of the option table, in its order, without
 * "--": i from 0 until it returns NULL; *has_arg (when not NULL) gets 1
 * for an option that takes a value.  The shell completions read them
 * through `ehlo complete options`.
 */
const char *cli_option_name(size_t i, int *has_arg);

/*
 * For a command that connects, once o->server is known (NULL: none
 * yet): the configured secret (the account's password or passwordeval,
 * else ~/.netrc for the server's host, which may give the user too) when
 * --auth (or the account's auth) is on, then the checks that need it
 * (--auth needs a user).  Returns 0, or EXIT_USAGE after printing.
 */
int cli_connect_ready(struct cli_opts *o);

/*
 * The configuration file applied to o (tui/cli_config.c, keys in
 * docs/configuration.md): reads o->config (else
 * $XDG_CONFIG_HOME/ehlo/config, else ~/.config/ehlo/config; a missing
 * default file is no error), picks o->account (else the account
 * "default" if there is one, else the defaults) and fills in what the
 * command line left unset.  Keywords ehlo does not use are reported on
 * stderr with their file and line.  The configuration stays loaded
 * until exit (o's strings point into it); a password in it goes to the
 * secret store (lang_secret_preset) and is wiped.  Returns 0, or -1
 * after printing the problem (file, line, what).
 */
int cli_config_apply(struct cli_opts *o);

/*
 * The account names of the default configuration file, in file order,
 * NULL-terminated (free each and the array); none when there is no
 * file or it does not load.  For the shell completions.
 */
char **cli_config_account_names(void);

/* "90d", "12h", "30m", "45s", "2w" in seconds; -1 when malformed. */
int64_t cli_parse_age(const char *s);

/*
 * When o->auth is set and nothing gave a secret yet: runs the account's
 * passwordeval with /bin/sh -c (its first output line; every copy
 * wiped), else reads ~/.netrc ($NETRC) for host (NULL: only its default
 * entry), which may also give o->user.  Returns 0, or -1 with *errstr.
 */
int cli_config_secret(struct cli_opts *o, const char *host, char **errstr);

/* Seconds (up to three decimals, 0.001 .. 86400) into *ms; -1 if bad. */
int cli_parse_seconds(const char *s, int *ms);

/* Prints "ehlo: message\n(try: ehlo --help)" to stderr; returns 2. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Issue 19/20 (check): while sink is set, cli_usage_error stores its
 * message in *sink (allocated, replacing) instead of printing it, for a
 * front end that reports usage errors its own way; NULL: stderr again.
 */
void cli_usage_error_to(char **sink);
/* Appends v (kept, not copied) to a repeatable option's list. */
void cli_list_add(struct cli_list *, const char *v);
/* A whole number 0..100000000 into *out; -1 when s is not one. */
int cli_parse_count(const char *s, long *out);

struct smtp_client_opts;

/* Fills *co for host/port from the connection options (--tls, --cafile,
 * --insecure, --timeout, the MX name to verify); strings stay o's. */
void cli_client_opts(const struct cli_opts *o, const char *host,
    const char *port, struct smtp_client_opts *co);

/*
 * The name for EHLO/HELO when --helo is not given: this host's fully
 * qualified name (its canonical name from /etc/hosts or DNS, through
 * --dns when given, waiting at most --timeout; a name with a dot), or
 * NULL when there is none: then the host uses the address literal of the
 * connection's local end (RFC 5321 section 4.1.4).  Allocated.
 */
char *cli_default_helo(const struct cli_opts *o);

/* tui/cli_net.c (issue 18): --socks, --source, -4/-6 */
/* Takes EHLO_SOCKS_PASSWORD out of the environment (once, at start). */
void cli_net_env_take(void);
/*
 * Checks --source and -4/-6, parses --socks and finds the proxy user's
 * password (EHLO_SOCKS_PASSWORD, else ~/.netrc).  0, or -1 with
 * *errstr naming the option.
 */
int cli_net_prepare(struct cli_opts *o, char **errstr);
struct smtp_net_opts;
/* The client's network options from o (after cli_net_prepare). */
void cli_net_client_opts(const struct cli_opts *o, struct smtp_net_opts *net);
/* With --socks: 1 and the proxy's host and port (owned), else 0. */
int cli_net_proxy(const char **host, const char **port);
/* A configuration key of the network path: socks, proxy_host,
 * proxy_port, source_ip.  0, or -1 with *why. */
int cli_net_config_key(
    struct cli_opts *o, const char *key, const char *value, char **why);

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
/* `ehlo complete KIND`: names for the shell completions, one a line. */
int cmd_complete(int argc, char *argv[]);

/* tui/cli_tls.c (issue 19) */
/* One TLS option (long name without "--"); -1 with *err (allocated). */
int cli_tls_option(
    const char *name, const char *arg, struct cli_opts *o, char **err);
/*
 * Checks the TLS options together with OpenSSL and loads --cert/--key
 * (asking for an encrypted key's passphrase: EHLO_KEY_PASSPHRASE or the
 * terminal), before any network work.  -1 with *err (allocated).
 */
int cli_tls_prepare(struct cli_opts *o, char **err);
struct smtp_tls_opts;
/* Copies the TLS options into *t (strings stay o's). */
void cli_tls_client_opts(const struct cli_opts *o, struct smtp_tls_opts *t);

/* tui/cli_proxy.c (issue 18) */
/*
 * Checks --xclient, --proxy-header, --proxy-source and --proxy-dest
 * together: 0, or -1 with *errstr (allocated) naming what is wrong.
 */
int cli_proxy_check(const struct cli_opts *o, char **errstr);
/* The XCLIENT line --xclient asks for (allocated), or NULL for none. */
char *cli_xclient_line(const struct cli_opts *o);

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
#define EXIT_TEMPFAIL 75 /* the session ended on a 4xx (EX_TEMPFAIL) */

#endif
