/*
 * The practice server's log: events ("connected", "TLS established",
 * "delivered 312 octets to bob"), every command a client sends and
 * every reply line the server queues, each with its time since the
 * connection opened and, for a reply, its latency after the command it
 * answers.  Everything goes to the log callback (the terminal's stderr
 * for `ehlo practice`; a multi-line reply there is its first line and a
 * count) and, for a class server, to one transcript file per
 * connection, datadir/transcripts/YYYYMMDD-HHMMSS-ID-ADDR.log (UTC;
 * directory 0700, files 0600) holding every line.
 *
 * What is never logged: AUTH's initial response and every SASL line
 * (only their length: a credential never reaches a log, in any
 * encoding) and message content (only its size).  Client text is
 * escaped (core/escape.h) before it is logged, so no terminal escape
 * reaches the teacher's terminal.  A transcript stops at
 * PRACTICE_TRANSCRIPT_MAX octets; old ones are pruned (practice.h says
 * how many are kept and for how long), at start and then at most once a
 * minute, never the transcript of a live connection.
 *
 *   RFC 4954 4 (the SASL exchange)   RFC 5321 4.2 (reply lines)
 */
#include "protocol/practice/practice_int.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"

/* Transcript text held between writes (flushed early when full). */
#define PC_TBUF_CAP (64 * 1024)
/* The longest command text a log line shows. */
#define PC_CMD_SHOW 300
#define PC_PRUNE_EVERY_US (60u * 1000000u)

/* ---- the log callback --------------------------------------------------- */

void
practice_log(struct practice *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (p->o.log == NULL || p->o.quiet)
		return;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	p->o.log(s, p->o.log_arg);
	free(s);
}

/* "12.345": microseconds as milliseconds. */
static void
pc_ms(char *out, size_t n, uint64_t us)
{
	(void)snprintf(out, n, "%llu.%03llu", (unsigned long long)(us / 1000u),
	    (unsigned long long)(us % 1000u));
}

/* ---- the transcript ----------------------------------------------------- */

/* Appends to the transcript: "  ms  kind text\n" (ms since the connection). */
static void
pc_tadd(struct pconn *c, const char *kind, const char *text)
{
	char ms[32], *line;
	size_t len;

	if (c->tpath == NULL)
		return;
	pc_ms(ms, sizeof ms, loop_now_us() - c->conn_us);
	line = xasprintf("%10s %s %s\n", ms, kind, text);
	len = strlen(line);
	if (buf_used(&c->tbuf) + len > PC_TBUF_CAP)
		pc_log_flush(c);
	if (c->tpath != NULL && buf_add(&c->tbuf, line, len) == 0)
		c->tsize += len;
	free(line);
	if (c->tpath != NULL && c->tsize > PRACTICE_TRANSCRIPT_MAX) {
		(void)buf_add_printf(&c->tbuf,
		    "# the transcript ends here: it reached %u octets, the "
		    "most one connection may write\n",
		    (unsigned)PRACTICE_TRANSCRIPT_MAX);
		pc_log_flush(c);
		free(c->tpath);
		c->tpath = NULL;
	}
}

void
pc_log_flush(struct pconn *c)
{
	size_t n = buf_used(&c->tbuf);
	ssize_t w;
	int fd;

	if (n == 0 || c->tpath == NULL)
		return;
	fd = open(c->tpath, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		/* Removed under us (by hand): give the transcript up. */
		free(c->tpath);
		c->tpath = NULL;
		buf_clear(&c->tbuf);
		return;
	}
	while (buf_used(&c->tbuf) > 0) {
		w = write(fd, buf_peek(&c->tbuf), buf_used(&c->tbuf));
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		buf_consume(&c->tbuf, (size_t)w);
	}
	buf_clear(&c->tbuf);
	(void)close(fd);
}

struct pc_tfile {
	char *name;
	time_t mtime;
};

static int
pc_tfile_newer_first(const void *a, const void *b)
{
	return strcmp(((const struct pc_tfile *)b)->name,
	    ((const struct pc_tfile *)a)->name);
}

/* The transcript of a live connection? */
static int
pc_tfile_live(const struct practice *p, const char *name)
{
	const struct pconn *c;
	const char *base;

	for (c = p->conns; c != NULL; c = c->next) {
		if (c->tpath == NULL)
			continue;
		base = strrchr(c->tpath, '/');
		if (strcmp(base != NULL ? base + 1 : c->tpath, name) == 0)
			return 1;
	}
	return 0;
}

/* The retention rule: past the newest PRACTICE_TRANSCRIPTS_KEEP, or
 * older than PRACTICE_TRANSCRIPTS_MAX_AGE, a transcript is removed. */
static void
pc_log_prune(struct practice *p)
{
	struct pc_tfile *v = NULL;
	size_t n = 0, cap = 0, i;
	time_t cutoff = time(NULL) - PRACTICE_TRANSCRIPTS_MAX_AGE;
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *path;
	int dfd;

	p->pruned_us = loop_now_us();
	if ((d = opendir(p->tdir)) == NULL)
		return;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".log") != 0 ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap)
			v = xreallocarray(
			    v, cap = cap ? cap * 2 : 64, sizeof *v);
		v[n].name = xstrdup(de->d_name);
		v[n++].mtime = st.st_mtime;
	}
	if (n > 0)
		qsort(v, n, sizeof *v, pc_tfile_newer_first);
	for (i = 0; i < n; i++) {
		if ((i >= PRACTICE_TRANSCRIPTS_KEEP || v[i].mtime < cutoff) &&
		    !pc_tfile_live(p, v[i].name)) {
			path = xasprintf("%s/%s", p->tdir, v[i].name);
			(void)unlink(path);
			free(path);
		}
		free(v[i].name);
	}
	free(v);
	(void)closedir(d);
}

int
pc_log_init(struct practice *p, char **errstr)
{
	if (!p->o.classroom)
		return 0;
	p->tdir = xasprintf("%s/transcripts", p->datadir);
	if (practice_mkdirs(p->tdir, errstr) == -1)
		return -1;
	/* Made earlier with other modes: transcripts are the class's. */
	(void)chmod(p->tdir, 0700);
	pc_log_prune(p);
	return 0;
}

void
practice_log_free(struct practice *p)
{
	free(p->tdir);
	p->tdir = NULL;
}

void
pc_log_open(struct pconn *c)
{
	struct practice *p = c->p;
	char stamp[32], when[64];
	time_t now = (time_t)c->conn_wall;
	struct tm tm;
	char *path = NULL;
	int fd = -1, i;

	buf_init(&c->tbuf, PC_TBUF_CAP);
	if (p->tdir == NULL)
		return;
	if (loop_now_us() - p->pruned_us > PC_PRUNE_EVERY_US)
		pc_log_prune(p);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm) == 0 ||
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return;
	for (i = 0; i < 10 && fd == -1; i++) {
		free(path);
		path = i == 0 ? xasprintf("%s/%s-%u-%s.log", p->tdir, stamp,
		                    c->id, c->peer)
		              : xasprintf("%s/%s-%u-%s-%d.log", p->tdir, stamp,
		                    c->id, c->peer, i + 1);
		fd = open(path,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	if (fd == -1) {
		pc_log(c, "cannot create a transcript: %s", strerror(errno));
		free(path);
		return;
	}
	(void)fchmod(fd, 0600);
	(void)close(fd);
	c->tpath = path;
	(void)buf_add_printf(&c->tbuf,
	    "# ehlo practice server transcript: connection #%u from %s port "
	    "%u to %s, opened %s\n"
	    "# each line: milliseconds since the connection opened, then C: "
	    "(client), S: (server) or -- (event);\n"
	    "# a reply's last line ends with its latency after the command; "
	    "SASL secrets and message content are never written\n",
	    c->id, c->peer, c->peer_port, p->address, when);
}

void
pc_log_close(struct pconn *c)
{
	pc_tadd(c, "--", "closed");
	pc_log_flush(c);
	buf_reset(&c->tbuf);
	free(c->tpath);
	c->tpath = NULL;
}

/* ---- the lines ---------------------------------------------------------- */

/* The log callback's line "#ID ADDR [ms] text"; the transcript's line. */
static void
pc_emit(struct pconn *c, const char *kind, const char *text, const char *tail)
{
	char ms[32];

	if (c->p->o.log != NULL && !c->p->o.quiet) {
		pc_ms(ms, sizeof ms, loop_now_us() - c->conn_us);
		practice_log(c->p, "#%u %s [%s ms] %s %s%s", c->id, c->peer, ms,
		    kind, text, tail);
	}
	pc_status_touch(c->p);
}

void
pc_log(struct pconn *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	(void)snprintf(c->end_why, sizeof c->end_why, "%s", s);
	pc_tadd(c, "--", s);
	if (c->p->o.log != NULL && !c->p->o.quiet)
		practice_log(c->p, "#%u %s: %s", c->id, c->peer, s);
	pc_status_touch(c->p);
	free(s);
}

/* Escaped client text, at most PC_CMD_SHOW octets of it. */
static void
pc_escape_into(struct buf *b, const char *s, size_t n)
{
	if (n > PC_CMD_SHOW) {
		(void)escape_append(b, s, PC_CMD_SHOW);
		(void)buf_add_printf(b, "... (%zu octets)", n);
	} else
		(void)escape_append(b, s, n);
}

void
pc_log_command(struct pconn *c, const char *line, size_t n)
{
	struct buf b;
	size_t vn, mn;
	const char *arg;

	c->cmd_us = loop_now_us();
	buf_init(&b, 0);
	vn = strcspn(line, " ");
	if (vn > n)
		vn = n;
	if (c->mode == PC_AUTH) {
		/* RFC 4954 4: every line of the exchange may carry a secret
		 * (a "*" only cancels it). */
		if (n == 1 && line[0] == '*')
			(void)buf_add_str(&b, "* (cancels the exchange)");
		else
			(void)buf_add_printf(
			    &b, "[SASL response: %zu octets, not logged]", n);
	} else if (vn == 4 && strncasecmp(line, "AUTH", 4) == 0) {
		arg = line + vn;
		while (arg < line + n && *arg == ' ')
			arg++;
		mn = strcspn(arg, " ");
		if (mn > (size_t)(line + n - arg))
			mn = (size_t)(line + n - arg);
		pc_escape_into(&b, line, (size_t)(arg - line) + mn);
		if (arg + mn < line + n)
			(void)buf_add_printf(&b,
			    " [initial response: %zu octets, not logged]",
			    (size_t)(line + n - arg - mn));
	} else
		pc_escape_into(&b, line, n);
	(void)buf_add(&b, "", 1);
	(void)snprintf(
	    c->last_cmd, sizeof c->last_cmd, "%s", (const char *)buf_peek(&b));
	pc_tadd(c, "C:", buf_peek(&b));
	pc_emit(c, "C:", buf_peek(&b), "");
	buf_reset(&b);
}

void
pc_log_content(struct pconn *c, uint64_t octets)
{
	char s[96];

	c->cmd_us = loop_now_us();
	(void)snprintf(s, sizeof s,
	    "[message content: %llu octets and the final dot, not logged]",
	    (unsigned long long)octets);
	pc_tadd(c, "C:", s);
	pc_emit(c, "C:", s, "");
}

void
pc_log_reply(struct pconn *c, enum pc_reply_id id, int code, const char *line,
    size_t n, int last)
{
	char lat[32], tail[96];
	struct buf b;
	char *t, *tl;

	buf_init(&b, 0);
	(void)escape_append(&b, line, n);
	(void)buf_add(&b, "", 1);
	t = (char *)buf_peek(&b);
	if (c->reply_lines == 0 && code >= 400) {
		(void)snprintf(c->err_cmd, sizeof c->err_cmd, "%s",
		    c->last_cmd[0] != '\0' ? c->last_cmd : "(on connecting)");
		(void)snprintf(c->err_reply, sizeof c->err_reply, "%s", t);
	}
	if (last && id == PR_QUEUED) {
		c->delivered++;
		c->p->delivered++;
	}
	pc_ms(lat, sizeof lat,
	    loop_now_us() - (c->cmd_us != 0 ? c->cmd_us : c->conn_us));
	if (last) {
		tl = xasprintf("%s   (%s ms)", t, lat);
		pc_tadd(c, "S:", tl);
		free(tl);
	} else
		pc_tadd(c, "S:", t);
	if (!last) {
		if (c->reply_lines++ == 0)
			(void)snprintf(
			    c->reply_first, sizeof c->reply_first, "%s", t);
	} else if (c->reply_lines > 0) {
		(void)snprintf(tail, sizeof tail, " (+%u more lines; %s ms)",
		    c->reply_lines, lat);
		pc_emit(c, "S:", c->reply_first, tail);
		c->reply_lines = 0;
	} else {
		(void)snprintf(tail, sizeof tail, " (%s ms)", lat);
		pc_emit(c, "S:", t, tail);
	}
	buf_reset(&b);
}
