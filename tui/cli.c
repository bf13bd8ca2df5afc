/*
 * The command line: one option parser shared by every subcommand (each
 * says which option groups it accepts), and the helpers that turn the
 * options into client settings.  The subcommand table is in tui/main.c;
 * the subcommands live in tui/cmd_*.c.
 */
#include "tui/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/proxyhdr.h"
#include "protocol/sasl.h"

enum {
	OPT_STARTTLS = 256,
	OPT_NO_STARTTLS,
	OPT_TLS,
	OPT_INSECURE,
	OPT_CAFILE,
	OPT_HELO,
	OPT_TIMEOUT,
	OPT_AUTH,
	OPT_USER,
	OPT_ALLOW_PLAINTEXT_AUTH,
	OPT_JSON,
	OPT_TIMING,
	OPT_DB,
	OPT_NO_HISTORY,
	OPT_THEME,
	OPT_LISTEN,
	OPT_INBOX,
	OPT_LIMIT,
	OPT_SEARCH,
	OPT_FORMAT,
	OPT_DIFF,
	OPT_DNS,
	OPT_MX,
	OPT_FROM,
	OPT_TO,
	OPT_CC,
	OPT_BCC,
	OPT_SUBJECT,
	OPT_BODY,
	OPT_ATTACH,
	OPT_HEADER,
	OPT_PARTIAL,
	OPT_DRAFT,
	OPT_NOTIFY,
	OPT_RET,
	OPT_ENVID,
	OPT_WARN,
	OPT_CRIT,
	OPT_CERT_WARN,
	OPT_CERT_CRIT,
	OPT_HELP,
	/* issue 21 item 10: the practice server's connection limits */
	OPT_MAX_CONNS,
	OPT_MAX_PER_ADDR,
	/* issue 17: the configuration file and its accounts */
	OPT_CONFIG,
	OPT_ACCOUNT,
	/* issue 20 items 11, 13, issue 17 item 8: history and replay */
	OPT_NO_PAUSES,
	OPT_EXACT,
	OPT_OLDER_THAN,
	OPT_YES,
	OPT_NO_CONTENT,
	/* issue 16: teaching (explain --list, practice failures, lessons) */
	OPT_LIST,
	OPT_REQUIRE_TLS,
	OPT_REQUIRE_AUTH,
	OPT_GREET_PAUSE,
	OPT_LESSON_DIR,
	OPT_LESSON_CHECK,
	/* issue 22: the practice server as a receiver open to smuggling */
	OPT_LENIENT_EOD,
	OPT_RAW_DATA,
	/* issue 17: ehlo send --eml FILE|-, -t, --dry-run */
	OPT_EML,
	OPT_RCPTS_FROM_HEADERS,
	OPT_DRY_RUN,
	/* issue 19: TLS versions, algorithms, SNI, client certificate,
	 * pinning, DANE (tui/cli_tls.c) */
	OPT_TLS_MIN,
	OPT_TLS_MAX,
	OPT_CIPHERS,
	OPT_CIPHERSUITES,
	OPT_GROUPS,
	OPT_SNI,
	OPT_NO_SNI,
	OPT_CERT,
	OPT_KEY,
	OPT_PIN,
	OPT_DANE,
	OPT_NAME,
	/* issue 18: LMTP */
	OPT_LMTP,
	/* issue 16 item 6: the class server (ehlo practice) */
	OPT_WATCH,
	OPT_ONCE,
	OPT_QUIET,
	/* issue 18: XCLIENT, PROXY protocol (tui/cli_proxy.c) */
	OPT_XCLIENT,
	OPT_PROXY_HEADER,
	OPT_PROXY_SOURCE,
	OPT_PROXY_DEST,
	/* issue 18 item 6: raw bytes */
	OPT_HEXDUMP,
	/* issue 18 items 4 and 7: SOCKS5, --source, -4/-6 (cli_net.c) */
	OPT_SOCKS,
	OPT_SOURCE,
	OPT_IPV4,
	OPT_IPV6,
};

struct cli_option {
	struct option opt;
	unsigned group; /* CLI_O_*, 0: always */
};

static const struct cli_option cli_options[] = {
    {{"starttls", no_argument, NULL, OPT_STARTTLS}, CLI_O_CONN},
    {{"no-starttls", no_argument, NULL, OPT_NO_STARTTLS}, CLI_O_CONN},
    {{"tls", no_argument, NULL, OPT_TLS}, CLI_O_CONN},
    {{"insecure", no_argument, NULL, OPT_INSECURE}, CLI_O_CONN},
    {{"cafile", required_argument, NULL, OPT_CAFILE}, CLI_O_CONN},
    {{"helo", required_argument, NULL, OPT_HELO}, CLI_O_CONN},
    {{"timeout", required_argument, NULL, OPT_TIMEOUT}, CLI_O_CONN},
    {{"auth", required_argument, NULL, OPT_AUTH}, CLI_O_CONN},
    {{"user", required_argument, NULL, OPT_USER}, CLI_O_CONN},
    {{"allow-plaintext-auth", no_argument, NULL, OPT_ALLOW_PLAINTEXT_AUTH},
        CLI_O_CONN},
    {{"json", no_argument, NULL, OPT_JSON}, CLI_O_JSON},
    {{"timing", no_argument, NULL, OPT_TIMING}, CLI_O_TIMING},
    {{"db", required_argument, NULL, OPT_DB}, CLI_O_HISTORY},
    {{"no-history", no_argument, NULL, OPT_NO_HISTORY}, CLI_O_HISTORY},
    {{"theme", required_argument, NULL, OPT_THEME}, CLI_O_THEME},
    {{"listen", required_argument, NULL, OPT_LISTEN}, CLI_O_PRACTICE},
    {{"inbox", no_argument, NULL, OPT_INBOX}, CLI_O_PRACTICE},
    {{"limit", required_argument, NULL, OPT_LIMIT}, CLI_O_LIST},
    {{"search", required_argument, NULL, OPT_SEARCH}, CLI_O_LIST},
    {{"format", required_argument, NULL, OPT_FORMAT}, CLI_O_FORMAT},
    {{"diff", no_argument, NULL, OPT_DIFF}, CLI_O_DIFF},
    {{"dns", required_argument, NULL, OPT_DNS}, CLI_O_DNS},
    {{"mx", required_argument, NULL, OPT_MX}, CLI_O_DNS},
    {{"from", required_argument, NULL, OPT_FROM}, CLI_O_SEND},
    {{"to", required_argument, NULL, OPT_TO}, CLI_O_SEND},
    {{"cc", required_argument, NULL, OPT_CC}, CLI_O_SEND},
    {{"bcc", required_argument, NULL, OPT_BCC}, CLI_O_SEND},
    {{"subject", required_argument, NULL, OPT_SUBJECT}, CLI_O_SEND},
    {{"body", required_argument, NULL, OPT_BODY}, CLI_O_SEND},
    {{"attach", required_argument, NULL, OPT_ATTACH}, CLI_O_SEND},
    {{"header", required_argument, NULL, OPT_HEADER}, CLI_O_SEND},
    {{"partial", no_argument, NULL, OPT_PARTIAL}, CLI_O_SEND},
    {{"draft", required_argument, NULL, OPT_DRAFT}, CLI_O_SEND},
    {{"notify", required_argument, NULL, OPT_NOTIFY}, CLI_O_SEND},
    {{"ret", required_argument, NULL, OPT_RET}, CLI_O_SEND},
    {{"envid", required_argument, NULL, OPT_ENVID}, CLI_O_SEND},
    {{"warning", required_argument, NULL, OPT_WARN}, CLI_O_CHECK},
    {{"critical", required_argument, NULL, OPT_CRIT}, CLI_O_CHECK},
    {{"cert-days-warn", required_argument, NULL, OPT_CERT_WARN}, CLI_O_CHECK},
    {{"cert-days-crit", required_argument, NULL, OPT_CERT_CRIT}, CLI_O_CHECK},
    {{"help", no_argument, NULL, OPT_HELP}, 0},
    /* issue 21 item 10 */
    {{"max-conns", required_argument, NULL, OPT_MAX_CONNS}, CLI_O_PRACTICE},
    {{"max-per-addr", required_argument, NULL, OPT_MAX_PER_ADDR},
        CLI_O_PRACTICE},
    /* issue 17: the configuration file (any command that reads it) and
     * its accounts (-a NAME for the commands that connect) */
    {{"config", required_argument, NULL, OPT_CONFIG}, 0},
    {{"account", required_argument, NULL, OPT_ACCOUNT}, CLI_O_CONN},
    /* issue 20 items 11, 13, issue 17 item 8: history and replay */
    {{"no-pauses", no_argument, NULL, OPT_NO_PAUSES}, CLI_O_PAUSES},
    {{"exact", no_argument, NULL, OPT_EXACT}, CLI_O_DIFF},
    {{"older-than", required_argument, NULL, OPT_OLDER_THAN}, CLI_O_PRUNE},
    {{"yes", no_argument, NULL, OPT_YES}, CLI_O_PRUNE},
    {{"no-content", no_argument, NULL, OPT_NO_CONTENT}, CLI_O_HISTORY},
    /* issue 16: teaching */
    {{"list", no_argument, NULL, OPT_LIST}, CLI_O_TEACH_LIST},
    {{"require-tls", no_argument, NULL, OPT_REQUIRE_TLS}, CLI_O_PRACTICE},
    {{"require-auth", no_argument, NULL, OPT_REQUIRE_AUTH}, CLI_O_PRACTICE},
    {{"greet-pause", required_argument, NULL, OPT_GREET_PAUSE}, CLI_O_PRACTICE},
    /* lesson: the teacher's lessons; practice: its data directory */
    {{"dir", required_argument, NULL, OPT_LESSON_DIR},
        CLI_O_LESSON | CLI_O_PRACTICE},
    {{"check", required_argument, NULL, OPT_LESSON_CHECK}, CLI_O_LESSON},
    /* issue 22 */
    {{"lenient-eod", no_argument, NULL, OPT_LENIENT_EOD}, CLI_O_PRACTICE},
    {{"raw-data", required_argument, NULL, OPT_RAW_DATA}, CLI_O_RAWDATA},
    /* issue 17: a prepared message, its recipients, a look first */
    {{"eml", required_argument, NULL, OPT_EML}, CLI_O_SEND},
    {{"rcpts-from-headers", no_argument, NULL, OPT_RCPTS_FROM_HEADERS},
        CLI_O_SEND},
    {{"dry-run", no_argument, NULL, OPT_DRY_RUN}, CLI_O_SEND},
    /* issue 19: TLS (tui/cli_tls.c) */
    {{"tls-min", required_argument, NULL, OPT_TLS_MIN}, CLI_O_CONN},
    {{"tls-max", required_argument, NULL, OPT_TLS_MAX}, CLI_O_CONN},
    {{"ciphers", required_argument, NULL, OPT_CIPHERS}, CLI_O_CONN},
    {{"ciphersuites", required_argument, NULL, OPT_CIPHERSUITES}, CLI_O_CONN},
    {{"groups", required_argument, NULL, OPT_GROUPS}, CLI_O_CONN},
    {{"sni", required_argument, NULL, OPT_SNI}, CLI_O_CONN},
    {{"no-sni", no_argument, NULL, OPT_NO_SNI}, CLI_O_CONN},
    {{"cert", required_argument, NULL, OPT_CERT}, CLI_O_CONN},
    {{"key", required_argument, NULL, OPT_KEY}, CLI_O_CONN},
    {{"pin", required_argument, NULL, OPT_PIN}, CLI_O_CONN},
    {{"dane", no_argument, NULL, OPT_DANE}, CLI_O_CONN},
    {{"name", required_argument, NULL, OPT_NAME}, CLI_O_PRACTICE},
    /* issue 18: LMTP */
    /* issue 16 item 6: the class server */
    {{"watch", no_argument, NULL, OPT_WATCH}, CLI_O_PRACTICE},
    {{"once", no_argument, NULL, OPT_ONCE}, CLI_O_PRACTICE},
    {{"quiet", no_argument, NULL, OPT_QUIET}, CLI_O_PRACTICE},
    /* issue 18: XCLIENT, PROXY protocol (tui/cli_proxy.c) */
    {{"xclient", required_argument, NULL, OPT_XCLIENT}, CLI_O_CONN},
    {{"proxy-header", required_argument, NULL, OPT_PROXY_HEADER}, CLI_O_CONN},
    {{"proxy-source", required_argument, NULL, OPT_PROXY_SOURCE}, CLI_O_CONN},
    {{"proxy-dest", required_argument, NULL, OPT_PROXY_DEST}, CLI_O_CONN},
    {{"lmtp", no_argument, NULL, OPT_LMTP}, CLI_O_CONN | CLI_O_PRACTICE},
    /* issue 18 item 6: raw bytes */
    {{"hexdump", no_argument, NULL, OPT_HEXDUMP}, CLI_O_HEXDUMP},
    /* issue 18 items 4 and 7: the network path (tui/cli_net.c) */
    {{"socks", required_argument, NULL, OPT_SOCKS}, CLI_O_CONN},
    {{"source", required_argument, NULL, OPT_SOURCE}, CLI_O_CONN},
    {{"ipv4", no_argument, NULL, OPT_IPV4}, CLI_O_CONN},
    {{"ipv6", no_argument, NULL, OPT_IPV6}, CLI_O_CONN},
};

#define NOPTIONS (sizeof cli_options / sizeof cli_options[0])

const char *
cli_option_name(size_t i, int *has_arg)
{
	if (i >= NOPTIONS)
		return NULL;
	if (has_arg != NULL)
		*has_arg = cli_options[i].opt.has_arg != no_argument;
	return cli_options[i].opt.name;
}

/* Issue 19/20 (check): where usage errors go instead of stderr. */
static char **cli_usage_sink;

void
cli_usage_error_to(char **sink)
{
	cli_usage_sink = sink;
}

int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (cli_usage_sink != NULL) {
		free(*cli_usage_sink);
		*cli_usage_sink = xvasprintf(fmt, ap);
		va_end(ap);
		return EXIT_USAGE;
	}
	(void)fputs("ehlo: ", stderr);
	(void)vfprintf(stderr, fmt, ap);
	(void)fputs("\n(try: ehlo --help)\n", stderr);
	va_end(ap);
	return EXIT_USAGE;
}

static int
parse_limit(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 100000000)
		return -1;
	*out = v;
	return 0;
}

static void
list_add(struct cli_list *l, const char *v)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = v;
}

void
cli_opts_free(struct cli_opts *o)
{
	free(o->args);
	free(o->to.v);
	free(o->cc.v);
	free(o->bcc.v);
	free(o->attach.v);
	free(o->header.v);
	free(o->names.v);
	o->names.v = NULL;
	free(o->xclient.v);
	o->xclient.v = NULL;
	o->args = NULL;
	o->to.v = o->cc.v = o->bcc.v = o->attach.v = o->header.v = NULL;
	smtp_tls_identity_free(o->tls_identity);
	o->tls_identity = NULL;
}

static const struct cli_option *
find_option(int val)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (cli_options[i].opt.val == val)
			return &cli_options[i];
	return NULL;
}

/*
 * Issue 20 item 10: values that can be judged without the network are
 * judged before it, and the error names the option.  0, or EXIT_USAGE
 * after a message.
 */
static int
check_values(const struct cli_opts *o)
{
	struct stat st;
	int rc = 0;

	errno = 0;
	if (o->auth != NULL && strcasecmp(o->auth, "auto") != 0 &&
	    sasl_mech_find(o->auth) == NULL) {
		char *v = escape_dup(o->auth, strnlen(o->auth, 64));

		rc = cli_usage_error("--auth: unknown mechanism \"%s\"; use "
		                     "" SASL_MECH_NAMES ", or auto",
		    v);
		free(v);
	} else if (o->cafile != NULL &&
	    (stat(o->cafile, &st) == -1 || !S_ISREG(st.st_mode) ||
	        access(o->cafile, R_OK) == -1)) {
		char *v = escape_dup(o->cafile, strlen(o->cafile));

		rc = cli_usage_error("--cafile: cannot read \"%s\" (%s); "
		                     "give a PEM file of trust anchors",
		    v, errno != 0 ? strerror(errno) : "not a regular file");
		free(v);
	}
	return rc;
}

/* A TLS option's message as a usage error; -1. */
static int
cli_tls_usage(char *err)
{
	(void)cli_usage_error("%s", err);
	free(err);
	return -1;
}

int
cli_parse(int argc, char *argv[], unsigned allowed, struct cli_opts *o)
{
	char *err = NULL;
	struct option longopts[NOPTIONS + 1];
	const struct cli_option *co;
	size_t i;
	int ch;

	memset(o, 0, sizeof *o);
	o->timeout_ms = 30000;
	o->limit = -1;
	o->warn_ms = o->crit_ms = -1;
	o->cert_days_warn = o->cert_days_crit = -1;
	for (i = 0; i < NOPTIONS; i++)
		longopts[i] = cli_options[i].opt;
	memset(&longopts[NOPTIONS], 0, sizeof longopts[NOPTIONS]);
	optind = 1;
	opterr = 0;
	/* "-" first: options and positionals may be mixed, in order. */
	while ((ch = getopt_long(argc, argv,
	            allowed & CLI_O_SEND ? "-:ha:t46" : "-:ha:46", longopts,
	            NULL)) != -1) {
		if (ch == 1) {
			o->args = xreallocarray(
			    o->args, (size_t)o->nargs + 1, sizeof *o->args);
			o->args[o->nargs++] = optarg;
			continue;
		}
		if (ch == 'h')
			ch = OPT_HELP;
		else if (ch == 'a')
			ch = OPT_ACCOUNT;
		else if (ch == 't')
			ch = OPT_RCPTS_FROM_HEADERS;
		else if (ch == '4' || ch == '6')
			ch = ch == '4' ? OPT_IPV4 : OPT_IPV6;
		if (ch == ':')
			return cli_usage_error(
			           "option %s needs a value", argv[optind - 1]),
			       -1;
		co = find_option(ch);
		if (co == NULL || (co->group != 0 && !(co->group & allowed)))
			return cli_usage_error("%s is not an option of "
			                       "\"ehlo %s\"",
			           argv[optind - 1], argv[0]),
			       -1;
		switch (ch) {
		case OPT_STARTTLS:
			o->starttls = 1;
			break;
		case OPT_NO_STARTTLS:
			o->no_starttls = 1;
			break;
		case OPT_TLS:
			o->tls = 1;
			break;
		case OPT_INSECURE:
			o->insecure = 1;
			break;
		case OPT_CAFILE:
			o->cafile = optarg;
			break;
		case OPT_HELO:
			o->helo = optarg;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_seconds(optarg, &o->timeout_ms) == -1)
				return cli_usage_error(
				           "--timeout wants "
				           "seconds between 0.001 and 86400, "
				           "not \"%s\"",
				           optarg),
				       -1;
			o->timeout_given = 1;
			break;
		case OPT_AUTH:
			o->auth = optarg;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_ALLOW_PLAINTEXT_AUTH:
			o->allow_plaintext_auth = 1;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_TIMING:
			o->timing = 1;
			break;
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_NO_HISTORY:
			o->no_history = 1;
			break;
		case OPT_THEME:
			o->theme = optarg;
			break;
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_INBOX:
			o->inbox = 1;
			break;
		case OPT_LENIENT_EOD:
			o->lenient_eod = 1;
			break;
		case OPT_RAW_DATA:
			o->raw_data = optarg;
			break;
		case OPT_LIMIT:
			if (parse_limit(optarg, &o->limit) == -1)
				return cli_usage_error(
				           "--limit wants a "
				           "number of sessions, not \"%s\"",
				           optarg),
				       -1;
			break;
		case OPT_SEARCH:
			o->search = optarg;
			break;
		case OPT_FORMAT:
			o->format = optarg;
			break;
		case OPT_DIFF:
			o->diff = 1;
			break;
		case OPT_DNS:
			o->dns = optarg;
			break;
		case OPT_MX:
			o->mx = optarg;
			break;
		case OPT_FROM:
			o->from = optarg;
			break;
		case OPT_TO:
			list_add(&o->to, optarg);
			break;
		case OPT_CC:
			list_add(&o->cc, optarg);
			break;
		case OPT_BCC:
			list_add(&o->bcc, optarg);
			break;
		case OPT_SUBJECT:
			o->subject = optarg;
			break;
		case OPT_BODY:
			o->body = optarg;
			break;
		case OPT_ATTACH:
			list_add(&o->attach, optarg);
			break;
		case OPT_HEADER:
			list_add(&o->header, optarg);
			break;
		case OPT_PARTIAL:
			o->partial = 1;
			break;
		case OPT_DRAFT:
			o->draft = optarg;
			break;
		case OPT_NOTIFY:
			o->notify = optarg;
			break;
		case OPT_RET:
			o->ret = optarg;
			break;
		case OPT_ENVID:
			o->envid = optarg;
			break;
		case OPT_WARN:
		case OPT_CRIT:
		case OPT_CERT_WARN:
		case OPT_CERT_CRIT: {
			long *dst = ch == OPT_WARN ? &o->warn_ms
			    : ch == OPT_CRIT       ? &o->crit_ms
			    : ch == OPT_CERT_WARN  ? &o->cert_days_warn
			                           : &o->cert_days_crit;

			if (parse_limit(optarg, dst) == -1)
				return cli_usage_error("--%s: %s is not a "
				                       "whole number of %s",
				           co->opt.name, optarg,
				           ch == OPT_WARN || ch == OPT_CRIT
				               ? "milliseconds"
				               : "days"),
				       -1;
			break;
		}
		case OPT_TLS_MIN:
		case OPT_TLS_MAX:
		case OPT_CIPHERS:
		case OPT_CIPHERSUITES:
		case OPT_GROUPS:
		case OPT_SNI:
		case OPT_NO_SNI:
		case OPT_CERT:
		case OPT_KEY:
		case OPT_PIN:
		case OPT_DANE:
			if (cli_tls_option(co->opt.name, optarg, o, &err) == -1)
				return cli_tls_usage(err);
			break;
		case OPT_HELP:
			return 1;
		case OPT_MAX_CONNS: /* issue 21 item 10 */
		case OPT_MAX_PER_ADDR: {
			long v;

			if (parse_limit(optarg, &v) == -1 || v < 1 ||
			    v > 100000)
				return cli_usage_error(
				           "%s wants a number of "
				           "connections (1-100000), "
				           "not \"%s\"",
				           argv[optind - 1], optarg),
				       -1;
			if (ch == OPT_MAX_CONNS)
				o->max_conns = (unsigned)v;
			else
				o->max_per_addr = (unsigned)v;
			break;
		}
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_ACCOUNT:
			o->account = optarg;
			break;
		/* issue 20 items 11, 13, issue 17 item 8 */
		case OPT_NO_PAUSES:
			o->no_pauses = 1;
			break;
		case OPT_EXACT:
			o->exact = 1;
			break;
		case OPT_OLDER_THAN:
			o->older_than = optarg;
			break;
		case OPT_YES:
			o->yes = 1;
			break;
		case OPT_NO_CONTENT:
			o->no_content = 1;
			break;
		/* issue 16: teaching */
		case OPT_LIST:
			o->list = 1;
			break;
		case OPT_REQUIRE_TLS:
			o->require_tls = 1;
			break;
		case OPT_REQUIRE_AUTH:
			o->require_auth = 1;
			break;
		case OPT_GREET_PAUSE:
			if (parse_limit(optarg, &o->greet_pause_ms) == -1 ||
			    o->greet_pause_ms > 60000)
				return cli_usage_error(
				           "--greet-pause wants milliseconds "
				           "between 0 and 60000, not \"%s\"",
				           optarg),
				       -1;
			break;
		case OPT_LESSON_DIR:
			o->lesson_dir = optarg;
			break;
		case OPT_LESSON_CHECK:
			o->lesson_check = optarg;
			break;
		case OPT_EML:
			o->eml = optarg;
			break;
		case OPT_RCPTS_FROM_HEADERS:
			o->rcpts_from_headers = 1;
			break;
		case OPT_DRY_RUN:
			o->dry_run = 1;
			break;
		case OPT_NAME:
			list_add(&o->names, optarg);
			break;
		case OPT_LMTP: /* issue 18 */
			o->lmtp = 1;
			break;
		case OPT_WATCH: /* issue 16 item 6 */
			o->watch = 1;
			break;
		case OPT_ONCE:
			o->once = 1;
			break;
		case OPT_QUIET:
			o->quiet = 1;
			break;
		case OPT_XCLIENT: /* issue 18 */
			list_add(&o->xclient, optarg);
			break;
		case OPT_PROXY_HEADER:
			o->proxy_version = smtp_proxy_version_parse(optarg);
			if (o->proxy_version < 0)
				return cli_usage_error(
				           "--proxy-header is v1 or v2, not "
				           "\"%.20s\"",
				           optarg),
				       -1;
			break;
		case OPT_PROXY_SOURCE:
			o->proxy_source = optarg;
			break;
		case OPT_PROXY_DEST:
			o->proxy_dest = optarg;
			break;
		case OPT_HEXDUMP: /* issue 18 item 6 */
			o->hexdump = 1;
			break;
		case OPT_SOCKS: /* issue 18 items 4 and 7 */
			o->socks = optarg;
			break;
		case OPT_SOURCE:
			o->source = optarg;
			break;
		case OPT_IPV4:
		case OPT_IPV6:
			if (o->family != 0 &&
			    o->family != (ch == OPT_IPV4 ? AF_INET : AF_INET6))
				return cli_usage_error("-4 and -6 contradict "
				                       "each other"),
				       -1;
			o->family = ch == OPT_IPV4 ? AF_INET : AF_INET6;
			break;
		default:
			return cli_usage_error(
			           "unknown option %s", argv[optind - 1]),
			       -1;
		}
	}
	if (o->starttls && o->no_starttls)
		return cli_usage_error("--starttls and --no-starttls "
		                       "contradict each other"),
		       -1;
	if (o->starttls && o->tls)
		return cli_usage_error(
		           "--starttls and --tls contradict each "
		           "other: --tls is TLS from the first byte, "
		           "--starttls upgrades a plain connection"),
		       -1;
	if (o->hexdump && o->json)
		return cli_usage_error("--hexdump is for the text output; "
		                       "leave out --json to see the bytes"),
		       -1;
	/* The configuration fills in what the command line left unset. */
	if ((allowed & (CLI_O_CONN | CLI_O_THEME | CLI_O_HISTORY)) != 0 &&
	    cli_config_apply(o) == -1)
		return -1;
	if (check_values(o) != 0)
		return -1;
	if (o->user != NULL && o->auth == NULL)
		return cli_usage_error("--user is only used with --auth MECH"),
		       -1;
	if (cli_proxy_check(o, &err) == -1) {
		(void)cli_usage_error("%s", err);
		free(err);
		return -1;
	}
	if ((allowed & CLI_O_CONN) && cli_tls_prepare(o, &err) == -1)
		return cli_tls_usage(err);
	if ((allowed & CLI_O_CONN) && cli_net_prepare(o, &err) == -1)
		return cli_tls_usage(err);
	return 0;
}

void
cli_config_forget(struct cli_opts *o, unsigned what)
{
	if (what & o->cfg_applied & CLI_CFG_AUTH)
		o->auth = o->user = NULL;
	if (what & o->cfg_applied & CLI_CFG_TLS_MODE)
		o->starttls = o->no_starttls = o->tls = 0;
	o->cfg_applied &= ~what;
}

int
cli_connect_ready(struct cli_opts *o)
{
	char *host = NULL, *port = NULL, *err = NULL;

	if (o->auth == NULL)
		return 0;
	if (o->server != NULL &&
	    smtp_server_parse(o->server, 25, &host, &port, &err) == -1) {
		free(err); /* the host says so when it connects */
		err = NULL;
	}
	if (cli_config_secret(o, host, &err) == -1) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		free(host);
		free(port);
		return EXIT_USAGE;
	}
	free(host);
	free(port);
	if (o->user == NULL)
		return cli_usage_error("--auth %s needs a user: --user NAME, "
		                       "or user in the account, or a login "
		                       "in ~/.netrc",
		    o->auth);
	return 0;
}

void
cli_client_opts(const struct cli_opts *o, const char *host, const char *port,
    struct smtp_client_opts *co)
{
	memset(co, 0, sizeof *co);
	co->host = host;
	co->port = port;
	co->implicit_tls = o->tls;
	co->tls_ahead = o->starttls;
	co->tls.cafile = o->cafile;
	co->tls.insecure = o->insecure;
	co->tls.verify_name = o->tls_name;
	co->timeout_ms = o->timeout_ms;
	co->allow_plaintext_auth = o->allow_plaintext_auth;
	co->proxy_version = o->proxy_version;
	co->proxy_source = o->proxy_source;
	co->proxy_dest = o->proxy_dest;
	cli_tls_client_opts(o, &co->tls);
	cli_net_client_opts(o, &co->net);
}

char *
cli_default_helo(const struct cli_opts *o)
{
	char name[256], *fqdn = NULL, *canon;

	if (gethostname(name, sizeof name) != 0 || name[0] == '\0')
		return NULL;
	name[sizeof name - 1] = '\0';
	/* Bounded: a dead resolver must not hang ehlo past --timeout. */
	canon = smtp_dns_canonname(name, o->dns, o->timeout_ms);
	if (canon != NULL && strchr(canon, '.') != NULL)
		fqdn = canon;
	else {
		free(canon);
		if (strchr(name, '.') != NULL)
			fqdn = xstrdup(name);
	}
	/* A trailing dot is DNS syntax, not part of the EHLO name. */
	if (fqdn != NULL && fqdn[strlen(fqdn) - 1] == '.')
		fqdn[strlen(fqdn) - 1] = '\0';
	return fqdn;
}

/* Issue 19 (check): the value parsers tui/check_opts.c shares. */
void
cli_list_add(struct cli_list *l, const char *v)
{
	list_add(l, v);
}

int
cli_parse_count(const char *s, long *out)
{
	return parse_limit(s, out);
}
