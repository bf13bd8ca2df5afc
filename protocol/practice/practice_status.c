/*
 * A class server's live status, for `ehlo practice --watch`: the file
 * datadir/status (mode 0600), written whole and renamed into place a
 * tenth of a second after anything a watcher shows changes (so a
 * class of a hundred costs at most ten writes a second), and removed
 * when the server stops.  Its reader is here too, so the format lives
 * in one file:
 *
 *   ehlo-practice-status 1
 *   pid 4242
 *   listen 192.0.2.1:2525
 *   started 1765132883            (seconds since the epoch)
 *   updated 1765132890
 *   accepted 57                   (connections so far)
 *   delivered 40                  (messages accepted so far)
 *   conn<TAB>ID<TAB>ADDR<TAB>PORT<TAB>SINCE<TAB>CLOSED<TAB>STAGE<TAB>TLS
 *       <TAB>USER<TAB>HELO<TAB>DELIVERED<TAB>ERRORS<TAB>ERROR-COMMAND
 *       <TAB>ERROR-REPLY<TAB>WHY-CLOSED
 *
 * one conn line per connection, live ones first (CLOSED 0), then the
 * last PC_GONE_MAX closed ones, newest first.  Every text field is
 * escaped client or server text with no tab or newline in it.
 */
#include "protocol/practice/practice_int.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/localfile.h"
#include "core/loop.h"
#include "core/xmalloc.h"

#define PC_STATUS_DELAY_MS 100
#define PC_STATUS_MAGIC "ehlo-practice-status 1"
/* A status file is small: a thousand connections of a few hundred
 * octets each. */
#define PC_STATUS_MAX (4u << 20)
#define PC_STATUS_FIELDS 15

/* ---- the writer ---------------------------------------------------------- */

/* The furthest point of the dialogue this connection has reached. */
static void
pc_stage(const struct pconn *c, char *out, size_t n)
{
	if (c->mode == PC_DATA || c->mode == PC_BDAT)
		(void)snprintf(
		    out, n, "%s", c->mode == PC_DATA ? "DATA" : "BDAT");
	else if (c->mode == PC_AUTH)
		(void)snprintf(out, n, "AUTH (exchange)");
	else if (c->mail != NULL && c->nrcpts > 0)
		(void)snprintf(out, n, "RCPT %zu", c->nrcpts);
	else if (c->mail != NULL)
		(void)snprintf(out, n, "MAIL");
	else if (c->auth_user != NULL)
		(void)snprintf(out, n, "AUTH");
	else if (c->handshaking || c->tls_start)
		(void)snprintf(out, n, "STARTTLS");
	else if (c->helo != 0)
		(void)snprintf(out, n, "%s", c->helo == 2 ? "EHLO" : "HELO");
	else if (c->tls)
		(void)snprintf(out, n, "TLS");
	else
		(void)snprintf(
		    out, n, "%s", c->greeted ? "greeted" : "connected");
}

/* A field: tabs and line ends (never there: the texts are escaped) and
 * an empty value become something the reader splits right. */
static void
pc_field(struct buf *b, const char *s)
{
	const char *p;

	(void)buf_add(b, "\t", 1);
	if (*s == '\0') {
		(void)buf_add(b, "-", 1);
		return;
	}
	for (p = s; *p != '\0'; p++)
		(void)buf_add(
		    b, *p == '\t' || *p == '\n' || *p == '\r' ? " " : p, 1);
}

static void
pc_status_row(struct buf *b, const struct pconn *c, int64_t closed)
{
	char stage[32];

	pc_stage(c, stage, sizeof stage);
	(void)buf_add_printf(b, "conn\t%u\t%s\t%u\t%lld\t%lld", c->id, c->peer,
	    c->peer_port, (long long)c->conn_wall, (long long)closed);
	pc_field(b, stage);
	(void)buf_add_printf(b, "\t%d", c->tls);
	pc_field(b, c->auth_user != NULL ? c->auth_user : "");
	pc_field(b, c->helo_name);
	(void)buf_add_printf(b, "\t%u\t%u", c->delivered, c->errors);
	pc_field(b, c->err_cmd);
	pc_field(b, c->err_reply);
	if (closed == 0)
		pc_field(b, "");
	else if (strncasecmp(c->last_cmd, "QUIT", 4) == 0 &&
	    (c->last_cmd[4] == '\0' || c->last_cmd[4] == ' '))
		pc_field(b, "QUIT");
	else
		pc_field(b, c->end_why[0] != '\0' ? c->end_why : "closed");
	(void)buf_add(b, "\n", 1);
}

static void
pc_status_write(struct practice *p)
{
	struct buf b;
	const struct pconn *c, *last = NULL;
	char *tmp;
	size_t i, k;
	int fd, ok = 0;

	buf_init(&b, 0);
	(void)buf_add_printf(&b,
	    PC_STATUS_MAGIC "\npid %ld\nlisten %s\nstarted %lld\nupdated "
	                    "%lld\naccepted %u\ndelivered %lu\n",
	    (long)getpid(), p->address != NULL ? p->address : "-",
	    (long long)p->started, (long long)time(NULL), p->next_id,
	    p->delivered);
	/* The list is newest first; the oldest live connection comes
	 * first in the file. */
	for (c = p->conns; c != NULL; c = c->next)
		last = c;
	for (c = last; c != NULL; c = c->prev)
		pc_status_row(&b, c, 0);
	for (k = 1; p->gone != NULL && k <= PC_GONE_MAX; k++) {
		i = (p->gone_next + PC_GONE_MAX - k) % PC_GONE_MAX;
		if (p->gone[i].row != NULL)
			(void)buf_add_str(&b, p->gone[i].row);
	}
	tmp = xasprintf("%s.tmp", p->status_path);
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd != -1) {
		const char *s = buf_peek(&b);
		size_t left = buf_used(&b);
		ssize_t w;

		ok = 1;
		while (left > 0) {
			w = write(fd, s, left);
			if (w == -1 && errno == EINTR)
				continue;
			if (w <= 0) {
				ok = 0;
				break;
			}
			s += w;
			left -= (size_t)w;
		}
		(void)fchmod(fd, 0600);
		if (close(fd) == -1)
			ok = 0;
		if (ok && rename(tmp, p->status_path) == -1)
			ok = 0;
		if (!ok)
			(void)unlink(tmp);
	}
	free(tmp);
	buf_reset(&b);
}

static void
pc_status_due(void *arg)
{
	struct practice *p = arg;

	p->status_timer = 0;
	pc_status_write(p);
}

void
pc_status_touch(struct practice *p)
{
	if (!p->o.classroom || p->datadir == NULL || p->status_timer != 0)
		return;
	if (p->status_path == NULL)
		p->status_path = xasprintf("%s/status", p->datadir);
	p->status_timer =
	    loop_timer_add(p->loop, PC_STATUS_DELAY_MS, pc_status_due, p);
}

void
pc_status_gone(struct pconn *c)
{
	struct practice *p = c->p;
	struct buf b;

	if (!p->o.classroom)
		return;
	if (p->gone == NULL)
		p->gone = xcalloc(PC_GONE_MAX, sizeof *p->gone);
	buf_init(&b, 0);
	pc_status_row(&b, c, (int64_t)time(NULL));
	(void)buf_add(&b, "", 1);
	free(p->gone[p->gone_next].row);
	p->gone[p->gone_next].row = xstrdup(buf_peek(&b));
	p->gone_next = (p->gone_next + 1) % PC_GONE_MAX;
	buf_reset(&b);
	pc_status_touch(p);
}

void
pc_status_free(struct practice *p)
{
	size_t i;

	if (p->status_timer != 0)
		loop_timer_del(p->loop, p->status_timer);
	p->status_timer = 0;
	if (p->status_path != NULL)
		(void)unlink(p->status_path);
	free(p->status_path);
	p->status_path = NULL;
	for (i = 0; p->gone != NULL && i < PC_GONE_MAX; i++)
		free(p->gone[i].row);
	free(p->gone);
	p->gone = NULL;
}

/* ---- the reader ---------------------------------------------------------- */

char *
practice_status_path(const char *datadir, char **errstr)
{
	char *dir, *path;

	if (datadir != NULL)
		return xasprintf("%s/status", datadir);
	if ((dir = practice_default_dir(errstr)) == NULL)
		return NULL;
	path = xasprintf("%s/status", dir);
	free(dir);
	return path;
}

static int
pc_num(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *v >= 0 ? 0 : -1;
}

static char *
pc_text(const char *s)
{
	return xstrdup(strcmp(s, "-") == 0 ? "" : s);
}

/* One conn line split at its tabs (changed in place); -1 if malformed. */
static int
pc_status_conn(char *line, struct practice_status_conn *sc)
{
	char *f[PC_STATUS_FIELDS], *save = line;
	long long v[6];
	size_t n = 0;

	while (n < PC_STATUS_FIELDS) {
		f[n++] = save;
		if ((save = strchr(save, '\t')) == NULL)
			break;
		*save++ = '\0';
	}
	if (n != PC_STATUS_FIELDS || save != NULL ||
	    strcmp(f[0], "conn") != 0 || pc_num(f[1], &v[0]) == -1 ||
	    pc_num(f[3], &v[1]) == -1 || pc_num(f[4], &v[2]) == -1 ||
	    pc_num(f[5], &v[3]) == -1 || pc_num(f[10], &v[4]) == -1 ||
	    pc_num(f[11], &v[5]) == -1)
		return -1;
	memset(sc, 0, sizeof *sc);
	sc->id = (unsigned)v[0];
	sc->peer = pc_text(f[2]);
	sc->port = (unsigned)v[1];
	sc->since = v[2];
	sc->closed = v[3];
	sc->stage = pc_text(f[6]);
	sc->tls = strcmp(f[7], "1") == 0;
	sc->user = pc_text(f[8]);
	sc->helo = pc_text(f[9]);
	sc->delivered = (unsigned)v[4];
	sc->errors = (unsigned)v[5];
	sc->err_cmd = pc_text(f[12]);
	sc->err_reply = pc_text(f[13]);
	sc->why = pc_text(f[14]);
	return 0;
}

/* The header's "key value" lines; -1 when one is malformed. */
static int
pc_status_head(char *line, struct practice_status *st)
{
	char *val = strchr(line, ' ');
	long long v;

	if (val == NULL)
		return -1;
	*val++ = '\0';
	if (strcmp(line, "listen") == 0) {
		free(st->listen);
		st->listen = xstrdup(val);
		return 0;
	}
	if (pc_num(val, &v) == -1)
		return -1;
	if (strcmp(line, "pid") == 0)
		st->pid = (long)v;
	else if (strcmp(line, "started") == 0)
		st->started = v;
	else if (strcmp(line, "updated") == 0)
		st->updated = v;
	else if (strcmp(line, "accepted") == 0)
		st->accepted = (unsigned long)v;
	else if (strcmp(line, "delivered") == 0)
		st->delivered = (unsigned long)v;
	/* Unknown keys: a newer server; ignored. */
	return 0;
}

static int
pc_status_parse(char *text, struct practice_status *st)
{
	char *line = text, *nl;
	size_t cap = 0;
	int first = 1;

	for (; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			return -1; /* cut short */
		*nl = '\0';
		if (first) {
			if (strcmp(line, PC_STATUS_MAGIC) != 0)
				return -1;
			first = 0;
			continue;
		}
		if (strncmp(line, "conn\t", 5) != 0) {
			if (pc_status_head(line, st) == -1)
				return -1;
			continue;
		}
		if (st->n == cap)
			st->v = xreallocarray(
			    st->v, cap = cap ? cap * 2 : 16, sizeof *st->v);
		if (pc_status_conn(line, &st->v[st->n]) == -1)
			return -1;
		st->n++;
	}
	return first || st->pid <= 0 ? -1 : 0;
}

int
practice_status_read(
    const char *datadir, struct practice_status *st, char **errstr)
{
	char *path, *text = NULL, *lerr = NULL;
	uint64_t size = 0;
	size_t got = 0;
	ssize_t r;
	int fd, rc = -1;

	memset(st, 0, sizeof *st);
	if ((path = practice_status_path(datadir, errstr)) == NULL)
		return -1;
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		free(path);
		return 0;
	}
	fd = localfile_open(
	    path, "the status file", PC_STATUS_MAX, &size, &lerr);
	if (fd == -1 && access(path, F_OK) == -1 && errno == ENOENT) {
		/* Removed just now: the server stopped. */
		free(lerr);
		free(path);
		return 0;
	}
	if (fd == -1) {
		*errstr = lerr;
		free(path);
		return -1;
	}
	text = xmalloc((size_t)size + 1);
	while (got < size) {
		r = read(fd, text + got, (size_t)size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	(void)close(fd);
	text[got] = '\0';
	if (got != size || memchr(text, '\0', got) != NULL ||
	    pc_status_parse(text, st) == -1) {
		*errstr = xasprintf("%s is not a practice server's status "
		                    "file (or was cut short); remove it",
		    path);
		practice_status_free(st);
	} else if (kill((pid_t)st->pid, 0) == -1 && errno == ESRCH) {
		/* Its server was killed without cleaning up. */
		practice_status_free(st);
		rc = 0;
	} else
		rc = 1;
	free(text);
	free(path);
	return rc;
}

void
practice_status_free(struct practice_status *st)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		struct practice_status_conn *c = &st->v[i];

		free(c->peer);
		free(c->stage);
		free(c->user);
		free(c->helo);
		free(c->err_cmd);
		free(c->err_reply);
		free(c->why);
	}
	free(st->v);
	free(st->listen);
	memset(st, 0, sizeof *st);
}
