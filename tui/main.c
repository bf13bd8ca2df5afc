/*
 * ehlo's entry point: the subcommand table of the command-line contract
 * (DESIGN.md section 4), the top-level usage, and the dispatch to
 * tui/cmd_*.c (no subcommand: the workbench).
 */
#include <stdio.h>
#include <string.h>

#include "history/history.h"
#include "protocol/digest.h"
#include "protocol/client.h"
#include "protocol/version.h"
#include "tui/cli.h"
#include "tui/cmdtab.h"
#include "tui/lang.h"
#include "tui/outgate.h"

struct cli_command {
	const char *name;
	int (*fn)(int, char *[]);
	const char *synopsis; /* NULL: not in the usage (internal) */
};

static int main_complete(int argc, char *argv[]);

static const struct cli_command commands[] = {
    {"run", cmd_run,
        "run  [OPTIONS] SERVER [SCRIPT]  line mode: run a "
        "script (file or stdin), print the dialogue;\n"
        "       ehlo run  [OPTIONS] --mx DOMAIN[:PORT] [--dns SERVER[:PORT]] "
        "[SCRIPT]  the same via DOMAIN's MX hosts"},
    {"practice", cmd_practice,
        "practice [--listen ADDR:PORT] [--require-tls] [--require-auth] "
        "[--greet-pause MS] [--name HOST] [--lenient-eod] [--dir DATA] "
        "[--quiet] [--inbox]  run only the practice server;\n"
        "       ehlo practice --watch [--once] [--dir DATA]  who is "
        "connected to a class server, each one's stage and last error"},
    {"explain", cmd_explain,
        "explain TOPIC | --list  e.g. 550, "
        "5.7.1, VRFY, SIZE, 587, PLAIN, envelope"},
    {"lesson", cmd_lesson,
        "lesson [--dir DIR] [NAME [SCRIPT]] | --check FILE  list "
        "(with progress) or run the guided lessons"},
    {"history", cmd_history,
        "history [--json] [--limit N] [--search "
        "TEXT]  saved sessions; history rm ID..., history prune "
        "--older-than AGE [--yes]"},
    {"show", cmd_show, "show ID [--json|--hexdump]  one saved session"},
    {"export", cmd_export,
        "export ID [--format text|json|swaks|curl|script]  redacted "
        "transcript for a ticket, or a command that repeats it"},
    {"replay", cmd_replay,
        "replay ID [SERVER] [--diff [--exact]] [--no-pauses]  re-run "
        "a saved session's client side"},
    {"drafts", cmd_drafts, "drafts [--json]  saved drafts"},
    {"send", cmd_send,
        "send [OPTIONS] SERVER --from A --to B [--to C ...] "
        "[--cc C] [--bcc D] [--subject S] [--body FILE|-] [--attach FILE "
        "...] [--header 'Name: value'] [--partial] | --draft ID"},
    {"check", cmd_check,
        "check SERVER|-H HOST [-w S] [-c S] [-D DAYS] [-S] "
        "[--format openmetrics]  monitoring plugin"},
    {"probe", cmd_probe,
        "probe NAME SERVER  one diagnostic probe (only smuggling, "
        "which needs --to, delivers mail)"},
    {"complete", main_complete, NULL},
    {NULL, NULL, NULL},
};

static void
usage(FILE *f)
{
	const struct cli_command *c;

	(void)fputs("usage: ehlo [OPTIONS] [SERVER]   the workbench; no "
	            "SERVER: the practice server\n",
	    f);
	for (c = commands; c->name != NULL; c++)
		if (c->synopsis != NULL)
			(void)fprintf(f, "       ehlo %s\n", c->synopsis);
	(void)fputs(
	    "       ehlo -V | --version | --help\n"
	    "\n"
	    "SERVER   host | host:port | [v6addr]:port   (port 25; 465 with "
	    "--tls)\n"
	    "         lmtp://host[:port] (port 24) | unix:/path | /path   "
	    "LMTP\n"
	    "Connection options:\n"
	    "  --starttls         require STARTTLS and a verified certificate "
	    "(without it,\n"
	    "                     send and check use STARTTLS when offered "
	    "and go on\n"
	    "                     unverified, as Postfix's \"may\")\n"
	    "  --no-starttls      never upgrade to TLS\n"
	    "  --tls              implicit TLS (SMTPS)\n"
	    "  --insecure         do not verify the server certificate\n"
	    "  --cafile FILE      extra trust anchors (PEM)\n"
	    "  --helo NAME        name for EHLO/HELO\n"
	    "  --timeout SECONDS  per network step (default 30)\n"
	    "  --auth MECH        authenticate: PLAIN, LOGIN, CRAM-MD5, "
	    "XOAUTH2,\n"
	    "                     OAUTHBEARER, SCRAM-SHA-1, SCRAM-SHA-256 "
	    "(and -PLUS),\n"
	    "                     GSSAPI\n"
	    "  --user NAME        user for --auth; the secret comes from "
	    "EHLO_PASSWORD\n"
	    "                     or a prompt without echo\n"
	    "  --allow-plaintext-auth  send credentials without TLS to a "
	    "server that is\n"
	    "                     not loopback, or after a STARTTLS "
	    "downgrade\n",
	    f);
	/* Two strings: C99 promises no more than 4095 octets in one. */
	(void)fputs(
	    "TLS options (docs/tls.md):\n"
	    "  --tls-min V, --tls-max V  TLS versions 1.0 .. 1.3 (default "
	    "1.2 .. 1.3)\n"
	    "  --ciphers LIST     TLS 1.2 ciphers;  --ciphersuites LIST  "
	    "TLS 1.3 suites\n"
	    "  --groups LIST      key exchange groups (X25519:P-256)\n"
	    "  --sni NAME         send NAME as SNI;  --no-sni  send none\n"
	    "  --cert FILE [--key FILE]  client certificate (PEM); an "
	    "encrypted key's\n"
	    "                     passphrase: EHLO_KEY_PASSPHRASE or a "
	    "prompt\n"
	    "  --pin sha256//B64  the server's public key must match (as "
	    "curl)\n"
	    "  --lmtp             speak LMTP (RFC 2033): LHLO, one reply per "
	    "recipient\n"
	    "                     after the data (default port 24)\n"
	    "  --xclient NAME=VALUE  Postfix XCLIENT after EHLO (and "
	    "STARTTLS's), then\n"
	    "                     EHLO again; repeat it, or give several "
	    "pairs in one\n"
	    "                     (\"ADDR=192.0.2.7 NAME=client.example\")\n"
	    "  --proxy-header v1|v2  send a PROXY protocol header first "
	    "(HAProxy), from\n"
	    "  --proxy-source ADDR:PORT  this client, to --proxy-dest "
	    "ADDR:PORT (default:\n"
	    "                     the address connected to)\n"
	    "Network path (docs/troubleshooting.md):\n"
	    "  --socks PROXY      through a SOCKS5 proxy: HOST:PORT or "
	    "socks5h://[USER@]HOST:PORT\n"
	    "                     (the proxy resolves the name), "
	    "socks5://... (ehlo does);\n"
	    "                     the password: EHLO_SOCKS_PASSWORD or "
	    "~/.netrc, never the URL\n"
	    "  --source ADDR      bind the local end to ADDR\n"
	    "  -4, --ipv4 / -6, --ipv6  only IPv4 / only IPv6 (default "
	    "both: IPv6 first,\n"
	    "                     IPv4 250 ms later, the first to connect "
	    "wins)\n"
	    "  --dns SERVER[:PORT]  (run) the resolver for the server's "
	    "name, MX and TLSA;\n"
	    "                     every lookup counts within --timeout\n"
	    "  --json             machine-readable output\n"
	    "  --timing           prefix each line with seconds since start\n"
	    "  --hexdump          (run, replay, show) every byte sent (C>) and "
	    "received (S<)\n"
	    "                     in hex, TLS as decrypted plaintext, AUTH "
	    "redacted\n"
	    "  --raw-data FILE    (run) /body alone sends FILE as it is: no "
	    "normalisation,\n"
	    "                     no dot-stuffing\n"
	    "  --db PATH          history database (also EHLO_DB)\n"
	    "  --no-history       record nothing\n"
	    "  --no-content       record the envelope and replies, not the "
	    "message\n"
	    "  --theme NAME       colour theme (NO_COLOR is honoured)\n"
	    "  -a, --account NAME use the account NAME of the configuration "
	    "file\n"
	    "  --config FILE      configuration file (default "
	    "$XDG_CONFIG_HOME/ehlo/config,\n"
	    "                     else ~/.config/ehlo/config; msmtp's format, "
	    "so --config\n"
	    "                     ~/.msmtprc works); the command line "
	    "overrides it\n"
	    "\n"
	    "Workbench keys: F1 lists every key and / command; a saved "
	    "session (/open ID)\n"
	    "plays back by exchange: F5 next, F8 back, F9 next failure, F6 "
	    "play/pause,\n"
	    "F10 speed 1x/2x/10x.\n"
	    "\n"
	    "Exit status (run, send, replay, the workbench; probe: see ehlo "
	    "probe --help):\n"
	    "  0   success\n"
	    "  1   the session ended on a permanent failure (5xx)\n"
	    "  2   usage: bad options, configuration or input\n"
	    "  3   network, TLS or timeout failure\n"
	    "  75  the session ended on a temporary failure (4xx): try "
	    "again later\n"
	    "  ehlo check exits as a monitoring plugin: 0 OK, 1 WARNING, 2 "
	    "CRITICAL, 3 UNKNOWN\n"
	    "\n",
	    f);
	cmdtab_script_help(f);
}

/* `ehlo complete commands` lists this table; other kinds are
 * tui/cmd_complete.c's. */
static int
main_complete(int argc, char *argv[])
{
	const struct cli_command *c;

	if (argc == 2 && strcmp(argv[1], "commands") == 0) {
		for (c = commands; c->name != NULL; c++)
			if (c->synopsis != NULL)
				(void)printf("%s\n", c->name);
		return EXIT_OK;
	}
	return cmd_complete(argc, argv);
}

int
main(int argc, char *argv[])
{
	const struct cli_command *c;

	outgate_init();
	/* Read once, then gone from the environment (and from cores). */
	lang_secret_env_take();
	cli_net_env_take();
	/* Imports of spooled sessions digest their /body files with it. */
	hist_set_file_digest(smtp_sha256_file);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	        strcmp(argv[1], "help") == 0)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc >= 2 &&
	    (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		(void)printf("ehlo %s (%s, SQLite %s)\n", EHLO_VERSION,
		    smtp_openssl_version(), hist_sqlite_version());
		return EXIT_OK;
	}
	if (argc >= 2)
		for (c = commands; c->name != NULL; c++)
			if (strcmp(argv[1], c->name) == 0)
				return c->fn(argc - 1, argv + 1);
	/* ehlo [OPTIONS] [SERVER]: the workbench. */
	argv[0] = (char *)"ehlo";
	return cmd_workbench(argc, argv);
}
