/*
 * The STARTTLS pins: a small text file beside the database that lets a
 * spooled session check for a STARTTLS downgrade without opening
 * SQLite, and the rule for "this capability list offers STARTTLS".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "history/hist_db.h"
#include "history/hist_fs.h"
#include "history/hist_pin.h"

/*
 * DB-starttls lists the servers seen offering STARTTLS on a plain-text
 * EHLO, one line each: "<unix time> <session id or 0> <port> <server>"
 * (the first time seen).  It lets a spooled session check for a
 * STARTTLS downgrade without opening the database (about half a
 * millisecond: SQLite reads the whole schema first).  It is an index
 * of the database's plain_starttls column: hist_open builds it from the
 * database when it is missing, and recording appends to it but never
 * creates it, so while it exists it is complete.  Lines that do not
 * parse are skipped; a server name with spaces or control characters
 * is never pinned (the lookup then reads the database).
 */
#define PIN_FILE_MAX (4 << 20)

static char *
pin_path(const char *db)
{
	return xasprintf("%s-starttls", db);
}

static int
pinnable(const char *server)
{
	const unsigned char *p = (const unsigned char *)server;

	if (p == NULL || *p == '\0' || strlen(server) > 1024)
		return 0;
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return 0;
	return 1;
}

int
hist_pin_find(
    const char *db, const char *server, int port, int64_t *id, int64_t *started)
{
	char *path = pin_path(db), *text, *line, *next;
	struct stat sb;
	int fd, found = 0;

	if (!pinnable(server)) {
		free(path);
		return -1;
	}
	fd = hist_fs_open_ours(path, &sb);
	free(path);
	if (fd == -1)
		return -1;
	if (sb.st_size > PIN_FILE_MAX) {
		(void)close(fd);
		return -1;
	}
	text = xmalloc((size_t)sb.st_size + 1);
	if (hist_fs_read_at(fd, text, (size_t)sb.st_size, 0) == -1) {
		(void)close(fd);
		free(text);
		return -1;
	}
	(void)close(fd);
	text[sb.st_size] = '\0';
	for (line = text; line != NULL; line = next) {
		long long t, i;
		int pt, n = 0;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (sscanf(line, "%lld %lld %d %n", &t, &i, &pt, &n) == 3 &&
		    n > 0 && pt == port && strcmp(line + n, server) == 0) {
			*started = t;
			*id = i;
			found = 1;
		}
	}
	free(text);
	return found;
}

int
hist_pin_starttls(
    const char *db, int64_t now, const char *server, int port, int64_t id)
{
	char *path, *line;
	int64_t i = 0, t = 0;
	struct stat sb;
	int fd, rc, wrote = 0;

	if (!pinnable(server))
		return 0;
	/* Pinned already, with a number or with none to add. */
	rc = hist_pin_find(db, server, port, &i, &t);
	if (rc == -1 || (rc == 1 && (i != 0 || id == 0)))
		return 0;
	path = pin_path(db);
	/* Never created here: the file exists only when complete. */
	fd = open(
	    path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	free(path);
	if (fd == -1)
		return 0;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_uid == geteuid()) {
		line = xasprintf("%lld %lld %d %s\n", (long long)now,
		    (long long)id, port, server);
		/* One write: O_APPEND keeps lines whole between writers. */
		wrote = write(fd, line, strlen(line)) == (ssize_t)strlen(line);
		free(line);
	}
	(void)close(fd);
	return wrote;
}

int
hist_pin_build(struct hist *h, char **errstr)
{
	char *path = pin_path(h->path), *tmp;
	sqlite3_stmt *st;
	struct buf b;
	int fd, rc, ok;

	if (access(path, F_OK) == 0 || errno != ENOENT) {
		free(path);
		return 0;
	}
	if (sqlite3_prepare_v2(h->db,
	        "SELECT min(started), min(id), port, server FROM sessions "
	        "WHERE plain_starttls = 1 GROUP BY server, port",
	        -1, &st, NULL) != SQLITE_OK) {
		*errstr = hist_errmsg(h, "listing the STARTTLS servers");
		free(path);
		return -1;
	}
	buf_init(&b, 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *server = (const char *)sqlite3_column_text(st, 3);

		if (pinnable(server))
			(void)buf_add_printf(&b, "%lld %lld %d %s\n",
			    (long long)sqlite3_column_int64(st, 0),
			    (long long)sqlite3_column_int64(st, 1),
			    sqlite3_column_int(st, 2), server);
	}
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*errstr = hist_errmsg(h, "listing the STARTTLS servers");
		buf_reset(&b);
		free(path);
		return -1;
	}
	/* Whole or not at all: written aside, then linked into place. */
	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd != -1) {
		ok = write(fd, buf_peek(&b), buf_used(&b)) ==
		    (ssize_t)buf_used(&b);
		if (close(fd) != 0)
			ok = 0;
		/*
		 * link, not rename: a file another process built meanwhile,
		 * perhaps with lines appended since, is never replaced.
		 */
		if (ok)
			(void)link(tmp, path);
		(void)unlink(tmp);
	}
	/* Without the file, spooled sessions ask the database: slower. */
	buf_reset(&b);
	free(tmp);
	free(path);
	return 0;
}

int
hist_caps_starttls(const char *caps)
{
	const char *p = caps;
	size_t n = strlen("STARTTLS");

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, "STARTTLS", n) == 0 &&
		    (p[n] == '\0' || p[n] == '\n' || p[n] == ' '))
			return 1;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return 0;
}
