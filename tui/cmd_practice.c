/*
 * `ehlo practice [--listen ADDR:PORT] [--require-tls] [--require-auth]
 * [--greet-pause MS] [--name HOST]... [--dir DATA] [--quiet] [--inbox]
 * [--watch [--once]]`: runs the practice server (protocol/practice.h)
 * alone until SIGINT or SIGTERM, printing where it listens, the
 * accounts, the triggers and the CA file first, and its log on stderr
 * (every command and reply with its timing, unless --quiet); as a class
 * server it also keeps a transcript per connection and a live status
 * in its data directory.  --inbox lists the messages it delivered;
 * --watch shows a running server's connections (tui/practice_watch.c).
 * The
 * --require-* options make it behave like a submission server (RFC 6409:
 * TLS, then AUTH, then MAIL); --greet-pause makes it wait before the
 * greeting and refuse clients that talk first, as postscreen does.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/practice.h"
#include "tui/cli.h"
#include "tui/practice_watch.h"

/* The server escapes client text in its log; a line that still holds a
 * control byte (it should not) is escaped again, whole. */
static void
practice_print_log(const char *line, void *arg)
{
	char stamp[16], *e;
	time_t now = time(NULL);
	const char *p;
	struct tm tm;

	(void)arg;
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			break;
	e = *p != '\0' ? escape_dup(line, strlen(line)) : xstrdup(line);
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	(void)fprintf(stderr, "%s practice: %s\n", stamp, e);
	free(e);
}

static void
practice_on_signal(int signo, void *arg)
{
	(void)signo;
	loop_stop(arg);
}

static int
practice_inbox(const char *datadir)
{
	struct practice_message *m;
	char *err = NULL, *subj, *path, *dir;
	size_t n, i;

	if (practice_inbox_list(datadir, &m, &n, &err) == -1) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	if (datadir != NULL)
		dir = xstrdup(datadir);
	else if ((dir = practice_default_dir(&err)) == NULL)
		free(err);
	if (n == 0)
		(void)printf("The practice inbox (%s/inbox) is empty.\n",
		    dir != NULL ? dir : "?");
	else
		(void)printf(
		    "%-10s %-34s %8s  %s\n", "USER", "FILE", "SIZE", "SUBJECT");
	for (i = 0; i < n; i++) {
		subj = escape_dup(m[i].subject, strlen(m[i].subject));
		path = escape_dup(m[i].path, strlen(m[i].path));
		(void)printf("%-10s %-34s %8llu  %s\n", m[i].user,
		    strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path,
		    (unsigned long long)m[i].size, subj);
		free(subj);
		free(path);
	}
	if (n > 0)
		(void)printf("(%zu message%s under %s/inbox/USER/)\n", n,
		    n == 1 ? "" : "s", dir != NULL ? dir : "?");
	free(dir);
	practice_inbox_free(m, n);
	return EXIT_OK;
}

static void
practice_banner(struct practice *p, const struct practice_opts *po)
{
	const struct practice_account *a;
	const struct practice_trigger *t;
	const char *addr = practice_address(p);
	size_t i;

	(void)printf("ehlo practice server for %s listening on %s\n",
	    PRACTICE_DOMAIN, addr);
	(void)printf("  mailboxes: alice bob carol postmaster; list: staff "
	             "(EXPN staff)\n");
	(void)printf("  accounts for AUTH:");
	for (i = 0; (a = practice_account_at(i)) != NULL; i++)
		(void)printf(" %s/%s", a->user, a->password);
	(void)printf("\n  triggers:\n");
	for (i = 0; (t = practice_trigger_at(i)) != NULL; i++)
		(void)printf("    %-28s %s\n", t->rcpt, t->result);
	if (po->require_tls || po->require_auth || po->greet_pause_ms > 0)
		(void)printf("  rules:    %s%s%s\n",
		    po->require_tls ? " STARTTLS before MAIL and AUTH" : "",
		    po->require_auth ? " AUTH before MAIL" : "",
		    po->greet_pause_ms > 0 ? " wait for the greeting" : "");
	(void)printf("  CA file:   %s\n", practice_cafile(p));
	(void)printf(
	    "  inbox:     %s (ehlo practice --inbox)\n", practice_inbox_dir(p));
	if (po->classroom) {
		const char *ca = practice_cafile(p), *slash = strrchr(ca, '/');
		int dl = slash != NULL ? (int)(slash - ca) : 1;

		(void)printf("  class:     a transcript per connection in "
		             "%.*s/transcripts;\n"
		             "             watch the class with: ehlo practice "
		             "--watch%s%s\n",
		    dl, slash != NULL ? ca : ".",
		    po->datadir != NULL ? " --dir " : "",
		    po->datadir != NULL ? po->datadir : "");
	}
	(void)printf("Try: ehlo run --starttls --cafile %s %s\n",
	    practice_cafile(p), addr);
	(void)printf("Stop with Ctrl-C.\n");
	(void)fflush(stdout);
}

int
cmd_practice(int argc, char *argv[])
{
	struct practice_opts po;
	struct practice *p;
	struct cli_opts o;
	struct loop *loop;
	char *err = NULL;
	size_t i;
	int rc;

	rc = cli_parse(argc, argv, CLI_O_PRACTICE, &o);
	if (rc != 0) {
		free(o.args);
		if (rc == 1) {
			(void)puts(
			    "usage: ehlo practice [--listen ADDR:PORT] "
			    "[--require-tls] [--require-auth]\n"
			    "                     [--greet-pause MS] "
			    "[--max-conns N] [--max-per-addr N]\n"
			    "                     [--lenient-eod] [--lmtp] | --inbox\n"
			    "  runs the practice server (default "
			    "127.0.0.1:2525) until Ctrl-C;\n"
			    "  --require-tls   MAIL and AUTH before "
			    "STARTTLS get 530 5.7.0 (PLAIN, LOGIN: 538)\n"
			    "  --require-auth  MAIL before AUTH gets 530 "
			    "5.7.0 (a submission server)\n"
			    "  --greet-pause MS  wait MS before the 220; "
			    "a client that talks first gets 554\n"
			    "  --max-conns N (default 1000) and "
			    "--max-per-addr N (default 300)\n"
			    "    limit connections: past them the "
			    "stalest gives way, or 421 4.7.0\n"
			    "  --lenient-eod   plays a receiver open to SMTP "
			    "smuggling: <LF>.<LF> (a bare LF)\n"
			    "    ends the data too (try: ehlo probe smuggling)\n"
			    "  --name HOST     a name the certificate carries "
			    "(a class server; repeatable)\n"
			    "  --dir DATA      the data directory (certificate, "
			    "inbox, transcripts, status)\n"
			    "  --quiet         no connection log on stderr "
			    "(transcripts are still written)\n"
			    "  --lmtp          speaks LMTP (RFC 2033): LHLO, one "
			    "reply per recipient after\n"
			    "    the data; full@ is taken at RCPT and gets 552 "
			    "there (ehlo lesson lmtp)\n"
			    "  --inbox lists the messages it delivered\n"
			    "  --watch [--once] shows who is connected to a "
			    "running server, their stage\n"
			    "    and last error (--once: one snapshot, for "
			    "scripts)");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.nargs > 0) {
		rc = cli_usage_error("unexpected argument \"%s\": ehlo "
		                     "practice takes only options",
		    o.args[0]);
		cli_opts_free(&o);
		return rc;
	}
	free(o.args);
	o.args = NULL;
	if (o.once && !o.watch) {
		cli_opts_free(&o);
		return cli_usage_error(
		    "--once goes with --watch: ehlo practice "
		    "--watch --once");
	}
	if (o.watch &&
	    (o.inbox || o.listen != NULL || o.names.n > 0 || o.require_tls ||
	        o.require_auth || o.greet_pause_ms > 0 || o.quiet ||
	        o.lenient_eod || o.max_conns > 0 || o.max_per_addr > 0)) {
		cli_opts_free(&o);
		return cli_usage_error(
		    "--watch shows a server that is already running: it "
		    "takes only --dir DATA and --once (start the server "
		    "in another terminal)");
	}
	if (o.watch) {
		rc = practice_watch(o.lesson_dir, o.once);
		cli_opts_free(&o);
		return rc;
	}
	if (o.inbox) {
		rc = practice_inbox(o.lesson_dir);
		cli_opts_free(&o);
		return rc;
	}

	memset(&po, 0, sizeof po);
	po.listen = o.listen != NULL ? o.listen : "127.0.0.1:2525";
	for (i = 0; i < o.names.n; i++)
		if (practice_name_check(o.names.v[i], &err) == -1) {
			rc = cli_usage_error("%s", err);
			free(err);
			cli_opts_free(&o);
			return rc;
		}
	po.names = o.names.v;
	po.nnames = o.names.n;
	po.require_tls = o.require_tls;
	po.require_auth = o.require_auth;
	po.greet_pause_ms = (unsigned)o.greet_pause_ms;
	if (practice_listen_check(po.listen, &err) == -1) {
		rc = cli_usage_error("%s", err);
		free(err);
		cli_opts_free(&o);
		return rc;
	}
	po.log = practice_print_log;
	po.quiet = o.quiet;
	po.datadir = o.lesson_dir;
	po.classroom = 1;
	po.max_conns = o.max_conns;
	po.max_per_addr = o.max_per_addr;
	po.lenient_eod = o.lenient_eod;
	po.lmtp = o.lmtp; /* issue 18 */
	loop = loop_new();
	if ((p = practice_new(loop, &po, &err)) == NULL) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		loop_free(loop);
		cli_opts_free(&o);
		return EXIT_NETWORK;
	}
	practice_banner(p, &po);
	if (po.lenient_eod)
		(void)printf("  end of data: LENIENT (--lenient-eod): "
		             "<LF>.<LF> ends a message, as a receiver open to "
		             "SMTP smuggling does\n");
	if (po.lmtp)
		(void)printf("  LMTP (--lmtp, RFC 2033): greet with LHLO; one "
		             "reply per recipient after the data (full@ gets "
		             "552 there)\n");
	if (loop_signal_add(loop, SIGINT, practice_on_signal, loop) == -1 ||
	    loop_signal_add(loop, SIGTERM, practice_on_signal, loop) == -1)
		(void)fputs("ehlo: cannot catch SIGINT/SIGTERM; stop the "
		            "server with kill -9\n",
		    stderr);
	(void)signal(SIGPIPE, SIG_IGN);
	rc = loop_run(loop) == 0 ? EXIT_OK : EXIT_NETWORK;
	practice_free(p);
	loop_free(loop);
	cli_opts_free(&o);
	(void)fputs("practice server stopped\n", stderr);
	return rc;
}
