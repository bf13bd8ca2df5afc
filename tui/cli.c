/*
 * The command line: global options, the subcommand table and the shared
 * option parser.  Only subcommands that exist are listed; each parses the
 * options of the contract that apply to it and rejects the others with a
 * message that says what to do.
 */
#include "tui/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/version.h"

static void
usage(FILE *f)
{
	(void)fputs(
	    "usage: ehlo run [OPTIONS] SERVER [SCRIPT]   run a script (file, or "
	    "stdin) and print the dialogue\n"
	    "       ehlo --version | --help\n"
	    "\n"
	    "SERVER   host | host:port | [v6addr]:port   (port 25; 465 with "
	    "--tls)\n"
	    "Options:\n"
	    "  --starttls         require STARTTLS (ehlo sends EHLO, STARTTLS, "
	    "EHLO first)\n"
	    "  --no-starttls      never upgrade to TLS\n"
	    "  --tls              implicit TLS (SMTPS)\n"
	    "  --insecure         do not verify the server certificate\n"
	    "  --cafile FILE      extra trust anchors (PEM)\n"
	    "  --helo NAME        name for EHLO/HELO\n"
	    "  --timeout SECONDS  per network step (default 30)\n"
	    "  --auth MECH        authenticate (PLAIN, LOGIN, CRAM-MD5, "
	    "XOAUTH2)\n"
	    "  --user NAME        user for --auth; the secret comes from "
	    "EHLO_PASSWORD\n"
	    "                     or a prompt without echo\n"
	    "  --json             one JSON object per dialogue event\n"
	    "  --timing           prefix each line with seconds since start\n"
	    "\n"
	    "Script lines: SMTP commands as typed; after 354, message content "
	    "until \".\";\n"
	    "/starttls, /auth MECH [USER], /body FILE, /expect CODE, "
	    "/pipeline ... /end,\n"
	    "/sleep SECONDS, /quit.  Exit: 0 positive replies, 1 a 4xx/5xx, "
	    "2 bad usage,\n"
	    "3 network, TLS or timeout failure.\n",
	    f);
}

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
	OPT_JSON,
	OPT_TIMING,
	OPT_HELP,
};

static const struct option run_options[] = {
    {"starttls", no_argument, NULL, OPT_STARTTLS},
    {"no-starttls", no_argument, NULL, OPT_NO_STARTTLS},
    {"tls", no_argument, NULL, OPT_TLS},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"helo", required_argument, NULL, OPT_HELO},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"user", required_argument, NULL, OPT_USER},
    {"json", no_argument, NULL, OPT_JSON},
    {"timing", no_argument, NULL, OPT_TIMING},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Seconds with up to three decimals, 0.001 .. 86400. */
static int
parse_timeout(const char *s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.001) ||
	    v > 86400)
		return -1;
	*ms = (int)(v * 1000 + 0.5);
	return 0;
}

static int bad_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
bad_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)fputs("ehlo: ", stderr);
	(void)vfprintf(stderr, fmt, ap);
	(void)fputs("\n(try: ehlo --help)\n", stderr);
	va_end(ap);
	return EXIT_USAGE;
}

static int
cmd_run(int argc, char *argv[])
{
	struct cli_opts o;
	int ch;

	memset(&o, 0, sizeof o);
	o.timeout_ms = 30000;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", run_options, NULL)) != -1) {
		switch (ch) {
		case OPT_STARTTLS:
			o.starttls = 1;
			break;
		case OPT_NO_STARTTLS:
			o.no_starttls = 1;
			break;
		case OPT_TLS:
			o.tls = 1;
			break;
		case OPT_INSECURE:
			o.insecure = 1;
			break;
		case OPT_CAFILE:
			o.cafile = optarg;
			break;
		case OPT_HELO:
			o.helo = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &o.timeout_ms) == -1)
				return bad_usage(
				    "--timeout wants seconds "
				    "between 0.001 and 86400, not \"%s\"",
				    optarg);
			break;
		case OPT_AUTH:
			o.auth = optarg;
			break;
		case OPT_USER:
			o.user = optarg;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_TIMING:
			o.timing = 1;
			break;
		case OPT_HELP:
			usage(stdout);
			return EXIT_OK;
		case ':':
			return bad_usage(
			    "option %s needs a value", argv[optind - 1]);
		default:
			return bad_usage(
			    "unknown option %s for ehlo run", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage("%s",
		    "ehlo run needs a SERVER "
		    "(host, host:port or [v6addr]:port)");
	o.server = argv[optind++];
	if (optind < argc)
		o.script = argv[optind++];
	if (optind < argc)
		return bad_usage("unexpected argument \"%s\" after the script",
		    argv[optind]);
	if (o.starttls && o.no_starttls)
		return bad_usage("%s",
		    "--starttls and --no-starttls "
		    "contradict each other");
	if (o.starttls && o.tls)
		return bad_usage("%s",
		    "--starttls and --tls contradict each "
		    "other: --tls is TLS from the first byte, --starttls "
		    "upgrades a plain connection");
	if (o.auth != NULL && o.user == NULL)
		return bad_usage("--auth %s needs --user NAME", o.auth);
	if (o.user != NULL && o.auth == NULL)
		return bad_usage("%s", "--user is only used with --auth MECH");
	return linemode_run(&o);
}

char *
cli_read_secret(const char *user, char **errstr)
{
	const char *env = getenv("EHLO_PASSWORD");
	struct termios old, noecho;
	char buf[1024], *secret;
	size_t n = 0;
	ssize_t r;
	int fd;
	char c;

	if (env != NULL)
		return xstrdup(env);
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		*errstr = xstrdup("no secret: set EHLO_PASSWORD, or run ehlo "
		                  "from a terminal to be asked for it");
		return NULL;
	}
	if (tcgetattr(fd, &old) == -1) {
		(void)close(fd);
		*errstr = xstrdup("cannot switch off echo on the terminal; "
		                  "set EHLO_PASSWORD instead");
		return NULL;
	}
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	(void)tcsetattr(fd, TCSAFLUSH, &noecho);
	(void)dprintf(fd, "Secret for %s (not echoed): ", user);
	while ((r = read(fd, &c, 1)) == 1 && c != '\n' && c != '\r')
		if (n + 1 < sizeof buf)
			buf[n++] = c;
	buf[n] = '\0';
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)dprintf(fd, "\n");
	(void)close(fd);
	if (r != 1) {
		explicit_bzero(buf, sizeof buf);
		*errstr = xstrdup("no secret was entered");
		return NULL;
	}
	secret = xstrdup(buf);
	explicit_bzero(buf, sizeof buf);
	return secret;
}

int
cli_main(int argc, char *argv[])
{
	if (argc < 2) {
		(void)fputs(
		    "ehlo: the full-screen workbench is not built yet; "
		    "for now use line mode:\n  ehlo run SERVER [SCRIPT]\n"
		    "(see ehlo --help)\n",
		    stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		(void)printf("ehlo %s (%s, SQLite %s)\n", EHLO_VERSION,
		    smtp_openssl_version(), hist_sqlite_version());
		return EXIT_OK;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	return bad_usage("unknown command \"%s\"; this version has: run "
	                 "(see ehlo --help)",
	    argv[1]);
}
