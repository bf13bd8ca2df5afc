/*
 * `ehlo practice --watch [--once] [--dir DATA]`: the teacher's view of a
 * class server.  The server publishes its connections in DATA/status
 * (protocol/practice/practice_status.c); this reads that file and shows
 * one line per student: connection id, address, for how long, the stage
 * reached (greeted, EHLO, TLS, AUTH, MAIL, RCPT n, DATA), the HELO name,
 * the AUTH user, messages delivered and the last 4xx/5xx with the
 * command that got it; then the recently closed connections and why
 * they closed.  --once prints one snapshot; on a terminal the view is
 * full screen and follows the file (q quits); piped, a snapshot is
 * printed each time the status changes.
 */
#include "tui/practice_watch.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/practice.h"
#include "tui/cli.h"

#define WATCH_POLL_MS 200

static volatile sig_atomic_t watch_stop;

static void
watch_on_signal(int signo)
{
	(void)signo;
	watch_stop = 1;
}

/* "42s", "5m07s", "2h03m". */
static void
watch_age(char *out, size_t n, int64_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		(void)snprintf(out, n, "%llds", (long long)secs);
	else if (secs < 3600)
		(void)snprintf(out, n, "%lldm%02llds", (long long)(secs / 60),
		    (long long)(secs % 60));
	else
		(void)snprintf(out, n, "%lldh%02lldm", (long long)(secs / 3600),
		    (long long)(secs % 3600 / 60));
}

/*
 * A field from the status file as it may be shown: the server escaped
 * it already; whatever a damaged file holds, no control byte gets
 * through, nor a non-ASCII byte unless the text is well-formed and
 * harmless (escape_is_clean).
 */
static void
watch_add(struct buf *b, const char *s)
{
	int clean = escape_is_clean(s, strlen(s));
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		char ch = (char)*p;

		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !clean))
			ch = '?';
		(void)buf_add(b, &ch, 1);
	}
}

/* watch_add, then spaces up to width bytes (and two more). */
static void
watch_col(struct buf *b, const char *s, size_t width)
{
	size_t before = buf_used(b);

	watch_add(b, *s != '\0' ? s : "-");
	do
		(void)buf_add(b, " ", 1);
	while (buf_used(b) - before < width + 2);
}

static void
watch_row(struct buf *b, const struct practice_status_conn *c, time_t now)
{
	char age[32], addr[80];

	(void)snprintf(addr, sizeof addr, "%s:%u", c->peer, c->port);
	watch_age(
	    age, sizeof age, (c->closed != 0 ? c->closed : now) - c->since);
	(void)buf_add_printf(b, "%5u  %-22s %7s  ", c->id, addr, age);
	if (c->closed != 0) {
		char ago[32];

		watch_age(ago, sizeof ago, now - c->closed);
		(void)buf_add_printf(b, "%-8s", ago);
	}
	(void)buf_add_printf(
	    b, "%-10s %-3s  ", c->stage, c->tls ? "yes" : "no");
	watch_col(b, c->helo, 16);
	watch_col(b, c->user, 8);
	(void)buf_add_printf(b, "%9u  ", c->delivered);
	if (c->err_cmd[0] != '\0') {
		watch_add(b, c->err_cmd);
		(void)buf_add_str(b, " -> ");
		watch_add(b, c->err_reply);
	} else
		(void)buf_add_str(b, "-");
	if (c->closed != 0) {
		(void)buf_add_str(b, "  [");
		watch_add(b, c->why[0] != '\0' ? c->why : "closed");
		(void)buf_add_str(b, "]");
	}
	(void)buf_add(b, "\n", 1);
}

/* The snapshot as text, one line per row, each ending in "\n". */
static void
watch_render(struct buf *b, const struct practice_status *st)
{
	time_t now = time(NULL);
	char up[32];
	size_t i, live = 0;

	for (i = 0; i < st->n; i++)
		live += st->v[i].closed == 0;
	watch_age(up, sizeof up, now - st->started);
	(void)buf_add_str(b, "ehlo practice server on ");
	watch_add(b, st->listen != NULL ? st->listen : "?");
	(void)buf_add_printf(b,
	    " (pid %ld, up %s): %zu connected, %lu connection%s so far, %lu "
	    "message%s delivered\n",
	    st->pid, up, live, st->accepted, st->accepted == 1 ? "" : "s",
	    st->delivered, st->delivered == 1 ? "" : "s");
	if (live == 0)
		(void)buf_add_str(b, "No one is connected.\n");
	else
		(void)buf_add_printf(b,
		    "%5s  %-22s %7s  %-10s %-3s  %-16s  %-8s  %9s  %s\n", "ID",
		    "CLIENT", "SINCE", "STAGE", "TLS", "HELO", "USER",
		    "DELIVERED", "LAST ERROR");
	for (i = 0; i < st->n; i++)
		if (st->v[i].closed == 0)
			watch_row(b, &st->v[i], now);
	if (live < st->n)
		(void)buf_add_printf(b,
		    "Recently closed:\n%5s  %-22s %7s  %-8s%-10s %-3s  %-16s  "
		    "%-8s  %9s  %s\n",
		    "ID", "CLIENT", "LASTED", "AGO", "STAGE", "TLS", "HELO",
		    "USER", "DELIVERED", "LAST ERROR  [WHY]");
	for (i = 0; i < st->n; i++)
		if (st->v[i].closed != 0)
			watch_row(b, &st->v[i], now);
}

/* 1 and the snapshot in b, 0 (no server: the message in b), -1 error. */
static int
watch_snapshot(const char *datadir, struct buf *b, char **errstr)
{
	struct practice_status st;
	char *path;
	int r;

	buf_clear(b);
	r = practice_status_read(datadir, &st, errstr);
	if (r == 1) {
		watch_render(b, &st);
		practice_status_free(&st);
		return 1;
	}
	if (r == 0 && (path = practice_status_path(datadir, errstr)) != NULL) {
		(void)buf_add_str(b,
		    "ehlo: no practice server is running with "
		    "its status in ");
		watch_add(b, path);
		(void)buf_add_str(b,
		    "\n(start one: ehlo practice --listen "
		    "ADDR:PORT, with the same --dir)\n");
		free(path);
	}
	return r == 0 && buf_used(b) > 0 ? 0 : -1;
}

/* The status file's identity: it changes with every write (a rename). */
static void
watch_stamp(const char *datadir, char *out, size_t n)
{
	char *err = NULL, *path = practice_status_path(datadir, &err);
	struct stat st;

	if (path == NULL || stat(path, &st) == -1)
		(void)snprintf(out, n, "none");
	else
		(void)snprintf(out, n, "%llu %lld.%09ld %lld",
		    (unsigned long long)st.st_ino, (long long)st.st_mtim.tv_sec,
		    st.st_mtim.tv_nsec, (long long)st.st_size);
	free(path);
	free(err);
}

static void
watch_sleep_ms(unsigned ms)
{
	struct timespec ts = {
	    (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

static int
watch_plain(const char *datadir, int once)
{
	char stamp[128], seen[128] = "";
	struct buf b;
	char *err = NULL;
	int r, rc = EXIT_OK;

	buf_init(&b, 0);
	while (!watch_stop) {
		watch_stamp(datadir, stamp, sizeof stamp);
		if (!once && strcmp(stamp, seen) == 0) {
			watch_sleep_ms(WATCH_POLL_MS);
			continue;
		}
		(void)snprintf(seen, sizeof seen, "%s", stamp);
		r = watch_snapshot(datadir, &b, &err);
		if (r == -1) {
			(void)fprintf(stderr, "ehlo: %s\n", err);
			free(err);
			err = NULL;
			if (once) {
				rc = EXIT_NETWORK;
				break;
			}
		} else if (r == 0 && once) {
			(void)fwrite(buf_peek(&b), 1, buf_used(&b), stderr);
			rc = EXIT_NETWORK;
			break;
		} else {
			(void)fwrite(buf_peek(&b), 1, buf_used(&b), stdout);
			if (!once)
				(void)fputs("\n", stdout);
			(void)fflush(stdout);
		}
		if (once)
			break;
	}
	buf_reset(&b);
	return rc;
}

/* Draws the snapshot, each line cut at the screen's width on a UTF-8
 * boundary. */
static void
watch_draw(const struct buf *b)
{
	const char *p = buf_peek(b), *end = p + buf_used(b), *nl;
	int y = 0, cols = COLS > 0 ? COLS : 80;
	size_t n;

	erase();
	for (; p < end && y < LINES - 1; p = nl + 1, y++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > (size_t)cols) {
			n = (size_t)cols;
			while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
				n--;
		}
		if (y == 0)
			attron(A_BOLD);
		(void)mvaddnstr(y, 0, p, (int)n);
		if (y == 0)
			attroff(A_BOLD);
	}
	attron(A_REVERSE);
	(void)mvaddnstr(LINES - 1, 0,
	    " q quits; the view follows the server's status file ", cols);
	attroff(A_REVERSE);
	refresh();
}

static int
watch_screen(const char *datadir)
{
	char stamp[128], seen[128] = "", *err = NULL;
	time_t drawn = 0;
	struct buf b;
	int ch, r;

	(void)setlocale(LC_ALL, "");
	if (initscr() == NULL) {
		(void)fputs("ehlo: cannot initialise the terminal (is TERM "
		            "set?); try --once\n",
		    stderr);
		return EXIT_USAGE;
	}
	(void)cbreak();
	(void)noecho();
	(void)curs_set(0);
	(void)keypad(stdscr, TRUE);
	timeout(WATCH_POLL_MS);
	buf_init(&b, 0);
	while (!watch_stop) {
		watch_stamp(datadir, stamp, sizeof stamp);
		/* Again when the file changes, and each second for the ages. */
		if (strcmp(stamp, seen) != 0 || time(NULL) != drawn) {
			(void)snprintf(seen, sizeof seen, "%s", stamp);
			drawn = time(NULL);
			r = watch_snapshot(datadir, &b, &err);
			if (r == -1) {
				buf_clear(&b);
				(void)buf_add_str(&b, "ehlo: ");
				watch_add(&b, err != NULL ? err : "?");
				(void)buf_add(&b, "\n", 1);
				free(err);
				err = NULL;
			}
			watch_draw(&b);
		}
		ch = getch();
		if (ch == 'q' || ch == 'Q' || ch == 27)
			break;
		if (ch == KEY_RESIZE)
			seen[0] = '\0';
	}
	buf_reset(&b);
	(void)endwin();
	return EXIT_OK;
}

int
practice_watch(const char *datadir, int once)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = watch_on_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	if (once || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return watch_plain(datadir, once);
	return watch_screen(datadir);
}
