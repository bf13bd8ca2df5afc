/*
 * The spool writer: the sink (hist_sink.h) through which a short-lived
 * process (`ehlo run`, `ehlo send`) records its sessions without
 * opening SQLite.  It works like a mail system's maildrop: the next
 * process that opens the database picks the file up
 * (hist_spool_import.c).  The file's format is hist_spool_fmt.c.
 *
 * Why: opening the database, writing and closing it (a WAL checkpoint
 * with its fsyncs) costs a few milliseconds per process.  That is most
 * of a small transaction's wall time against a nearby server.  A spool
 * file costs a create, a write per loop turn, and a close.
 *
 * The writer creates its file as .tmp, takes an exclusive flock, and
 * renames it: an importer never sees a file that its writer does not
 * hold locked.  The lock lasts as long as the process, and the kernel
 * drops it when the process dies, kill -9 included.
 *
 * Durability: the writer write()s each batch where the store would
 * commit it (hist_sink_tx_commit), which a recorder does before the
 * output that shows it.  So a crash or kill -9 loses nothing on
 * screen, as with the database (it is then in the kernel's page cache;
 * WAL with synchronous=NORMAL gives no more).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "history/hist_fs.h"
#include "history/hist_pin.h"
#include "history/hist_session.h"
#include "history/hist_sink.h"
#include "history/hist_sink_int.h"
#include "history/hist_spool_fmt.h"
#include "history/history.h"

struct spool_sink {
	struct hist_sink sink; /* first */
	char *db; /* the database's path */
	int fd;
	char *file; /* the spool file's path */
	struct buf out; /* records not yet written */
	struct buf rec; /* the record being built */
	int in_tx; /* hist_sink_tx_begin: write at hist_sink_tx_commit */
	int failed; /* a write failed: nothing more is written */
	int64_t nsessions; /* local numbers handed out (records need one) */
	char *server; /* the newest session's, for its STARTTLS pin */
	int port;
	int64_t pinned; /* the session whose pin this writer added, or 0 */
	off_t size; /* octets written whole: records end here */
};

static struct spool_sink *
spool(struct hist_sink *s)
{
	return (struct spool_sink *)s;
}

/* ---- writing records ------------------------------------------------ */

static int
failed_before(const struct spool_sink *sp, char **errstr)
{
	*errstr =
	    xasprintf("history spool %s: an earlier write failed", sp->file);
	return -1;
}

/*
 * Writes out what is queued; -1 with *errstr.  A write that fails part
 * way is cut back to the last whole record (ftruncate), so the file
 * stays clean; after a failure nothing more is written.
 */
static int
spool_write(struct spool_sink *sp, char **errstr)
{
	const char *p = buf_peek(&sp->out);
	size_t n = buf_used(&sp->out), done = 0;
	ssize_t w;

	if (sp->failed) {
		buf_clear(&sp->out);
		return n == 0 ? 0 : failed_before(sp, errstr);
	}
	while (done < n) {
		w = write(sp->fd, p + done, n - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			sp->failed = 1;
			*errstr =
			    xasprintf("history spool %s: %s; this session "
			              "is recorded up to here",
			        sp->file,
			        w == -1 && (errno == ENOSPC || errno == EDQUOT)
			            ? "the disk is full"
			            : w == -1 ? strerror(errno)
			                      : "short write");
			if (done > 0)
				(void)!ftruncate(sp->fd, sp->size);
			buf_clear(&sp->out);
			return -1;
		}
		done += (size_t)w;
	}
	sp->size += (off_t)n;
	buf_clear(&sp->out);
	return 0;
}

/* Starts a record of type for local session lid: the buffer to fill. */
static struct buf *
rec_start(struct spool_sink *sp, enum hist_sp_rec type, int64_t lid)
{
	hist_spool_rec_start(&sp->rec, type, lid);
	return &sp->rec;
}

/* Frames the record into the queue; written now unless a batch is open. */
static int
rec_end(struct spool_sink *sp, char **errstr)
{
	if (sp->failed)
		return failed_before(sp, errstr);
	/* The import would call it damaged: refuse it here instead. */
	if (hist_spool_rec_frame(&sp->out, &sp->rec) == -1) {
		*errstr = xasprintf("history spool %s: a record of %zu "
		                    "octets is larger than a spool takes",
		    sp->file, buf_used(&sp->rec) - 5);
		return -1;
	}
	return sp->in_tx ? 0 : spool_write(sp, errstr);
}

/* ---- the operations ------------------------------------------------- */

static int64_t
spool_begin(struct hist_sink *s, const char *server, int port,
    const char *tls_mode, int64_t replay_of, char **errstr)
{
	struct spool_sink *sp = spool(s);
	int64_t lid = sp->nsessions + 1;
	struct buf *b = rec_start(sp, HIST_SP_BEGIN, lid);

	hist_spool_put_i64(b, (int64_t)time(NULL));
	hist_spool_put_str(b, server);
	hist_spool_put_i64(b, port);
	hist_spool_put_str(b, tls_mode);
	hist_spool_put_i64(b, replay_of);
	if (rec_end(sp, errstr) == -1)
		return -1;
	sp->nsessions = lid;
	free(sp->server);
	sp->server = xstrdup(server != NULL ? server : "");
	sp->port = port;
	return lid;
}

static int
known(struct spool_sink *sp, int64_t lid, char **errstr)
{
	if (lid >= 1 && lid <= sp->nsessions)
		return 0;
	*errstr = xasprintf("history spool %s: there is no session #%lld",
	    sp->file, (long long)lid);
	return -1;
}

static int
spool_set(
    struct hist_sink *s, int64_t lid, int what, const char *v, char **errstr)
{
	static const enum hist_sp_rec type[] = {
	    [HIST_FACT_CAPS] = HIST_SP_CAPS,
	    [HIST_FACT_PLAIN_CAPS] = HIST_SP_PLAIN_CAPS,
	    [HIST_FACT_TLS] = HIST_SP_TLS,
	    [HIST_FACT_LABEL] = HIST_SP_LABEL,
	    [HIST_FACT_NOTES] = HIST_SP_NOTES,
	};
	struct spool_sink *sp = spool(s);

	if (known(sp, lid, errstr) == -1)
		return -1;
	if (what < 0 || what > HIST_FACT_NOTES) {
		*errstr = xasprintf("history spool %s: no such fact", sp->file);
		return -1;
	}
	hist_spool_put_str(rec_start(sp, type[what], lid), v);
	if (rec_end(sp, errstr) == -1)
		return -1;
	/* Pinned now, numbered (0 to the pins) when imported. */
	if (what == HIST_FACT_PLAIN_CAPS && lid == sp->nsessions && v != NULL &&
	    hist_caps_starttls(v) &&
	    hist_pin_starttls(
	        sp->db, (int64_t)time(NULL), sp->server, sp->port, 0))
		sp->pinned = lid;
	return 0;
}

static int64_t
spool_event(struct hist_sink *s, int64_t lid, const struct hist_event *ev,
    char **errstr)
{
	struct spool_sink *sp = spool(s);
	struct buf *b;
	char dir = ev->dir;

	if (known(sp, lid, errstr) == -1)
		return -1;
	b = rec_start(sp, HIST_SP_EVENT, lid);
	hist_spool_put_i64(b, ev->seq);
	hist_spool_put_i64(b, (int64_t)ev->t_us);
	hist_spool_put_bytes(b, &dir, 1);
	hist_spool_put_bytes(b, ev->text != NULL ? ev->text : "",
	    ev->text != NULL ? ev->len : 0);
	hist_spool_put_str(b, ev->stage);
	hist_spool_put_i64(b, ev->code);
	hist_spool_put_str(b, ev->enhanced);
	hist_spool_put_i64(b, ev->flags);
	hist_spool_put_i64(b, ev->stage_no);
	hist_spool_put_i64(b, ev->group);
	hist_spool_put_i64(b, ev->latency_us);
	return rec_end(sp, errstr) == -1 ? -1 : ev->seq;
}

static int
spool_reply(struct hist_sink *s, int64_t lid, int64_t seq, const char *stage,
    int code, const char *enhanced, int stage_no, int64_t latency_us,
    char **errstr)
{
	struct spool_sink *sp = spool(s);
	struct buf *b;

	if (known(sp, lid, errstr) == -1)
		return -1;
	b = rec_start(sp, HIST_SP_REPLY, lid);
	hist_spool_put_i64(b, seq);
	hist_spool_put_str(b, stage);
	hist_spool_put_i64(b, code);
	hist_spool_put_str(b, enhanced);
	hist_spool_put_i64(b, stage_no);
	hist_spool_put_i64(b, latency_us);
	return rec_end(sp, errstr);
}

static int
spool_body(
    struct hist_sink *s, int64_t lid, const struct hist_body *bd, char **errstr)
{
	struct spool_sink *sp = spool(s);
	struct buf *b;

	if (known(sp, lid, errstr) == -1)
		return -1;
	b = rec_start(sp, HIST_SP_BODY, lid);
	hist_spool_put_i64(b, bd->seq);
	hist_spool_put_str(b, bd->kind);
	hist_spool_put_str(b, bd->path);
	hist_spool_put_i64(b, (int64_t)bd->size);
	hist_spool_put_i64(b, (int64_t)bd->lines);
	hist_spool_put_str(b, bd->sha256);
	hist_spool_put_str(b, bd->first_lines);
	/* Only what the database would keep. */
	if (hist_body_keeps(bd))
		hist_spool_put_bytes(b, bd->content, bd->content_len);
	else
		hist_spool_put_bytes(b, NULL, 0);
	/*
	 * A file sent without its digest: the importer digests it if it
	 * is still the same file (hist_set_file_digest).
	 */
	if (bd->sha256 == NULL && bd->path != NULL) {
		char *fp = hist_fs_print(bd->path);

		hist_spool_put_str(b, fp);
		free(fp);
	} else
		hist_spool_put_str(b, NULL);
	return rec_end(sp, errstr);
}

static int
spool_end(struct hist_sink *s, int64_t lid, int exit_status, char **errstr)
{
	struct spool_sink *sp = spool(s);
	struct buf *b;

	if (known(sp, lid, errstr) == -1)
		return -1;
	b = rec_start(sp, HIST_SP_END, lid);
	hist_spool_put_i64(b, (int64_t)time(NULL));
	hist_spool_put_i64(b, exit_status);
	return rec_end(sp, errstr);
}

static int
spool_tx_begin(struct hist_sink *s, char **errstr)
{
	(void)errstr;
	spool(s)->in_tx = 1;
	return 0;
}

static int
spool_tx_commit(struct hist_sink *s, char **errstr)
{
	spool(s)->in_tx = 0;
	return spool_write(spool(s), errstr);
}

static int
spool_tx_is_open(struct hist_sink *s)
{
	return spool(s)->in_tx;
}

/* ---- the STARTTLS downgrade check ----------------------------------- */

/*
 * When the pins cannot answer: the database, opened read-only, then
 * the spool files still waiting, own (this process's file) only for
 * its sessions numbered below before.
 */
static int
lookup(const char *db, const char *own_file, const char *server, int port,
    int64_t before, int64_t *id, int64_t *started, char **errstr)
{
	struct dirent **list = NULL;
	struct hist *dbh = NULL;
	char *dir, *path, *err = NULL;
	int64_t best_id = 0, best_started = 0;
	int found = 0, n, k;

	/* The database first: sessions imported so far. */
	if ((dbh = hist_open(db, HIST_OPEN_READONLY, &err)) == NULL)
		free(err);
	if (dbh != NULL) {
		found = hist_server_had_starttls(
		    dbh, server, port, 0, &best_id, &best_started, errstr);
		hist_close(dbh);
		if (found == -1)
			return -1;
	}
	/* Then the spool files waiting, this process's own included. */
	dir = hist_spool_dir(db);
	n = hist_spool_list(dir, &list);
	for (k = 0; k < n; k++) {
		struct hist_sfile sf;
		struct stat sb;
		struct hist_sprec x;
		/* per local session: its start if with this server, else 0 */
		int64_t *lstarted = NULL;
		size_t nl = 0;
		int own, fd;

		path = xasprintf("%s/%s", dir, list[k]->d_name);
		own = own_file != NULL && strcmp(path, own_file) == 0;
		fd = hist_fs_open_ours(path, &sb);
		free(path);
		if (fd == -1)
			continue;
		if (hist_sfile_init(&sf, fd, sb.st_size) == 1)
			while (hist_sfile_next(&sf, &x) == HIST_SP_PARSE_OK) {
				size_t l = (size_t)x.lid;

				if (own && before > 0 && x.lid >= before) {
					hist_sprec_free(&x);
					continue;
				}
				if (x.type == HIST_SP_BEGIN && l == nl + 1) {
					/* Only sessions with this server. */
					lstarted = xreallocarray(
					    lstarted, l, sizeof *lstarted);
					lstarted[nl++] = x.s[0] != NULL &&
					        strcmp(x.s[0], server) == 0 &&
					        x.i[1] == port
					    ? (x.i[0] > 0 ? x.i[0] : 1)
					    : 0;
				} else if (x.type == HIST_SP_PLAIN_CAPS &&
				    lstarted != NULL && l <= nl &&
				    lstarted[l - 1] != 0 &&
				    hist_caps_starttls(
				        x.s[0] != NULL ? x.s[0] : "") &&
				    (!found ||
				        lstarted[l - 1] >= best_started)) {
					found = 1;
					best_id = 0; /* not numbered yet */
					best_started = lstarted[l - 1];
				}
				hist_sprec_free(&x);
			}
		hist_sfile_done(&sf);
		free(lstarted);
		(void)close(fd);
	}
	if (n > 0)
		hist_spool_list_free(list, n);
	free(dir);
	if (found) {
		if (id != NULL)
			*id = best_id;
		if (started != NULL)
			*started = best_started;
	}
	return found;
}

static int
spool_had_starttls(struct hist_sink *s, const char *server, int port,
    int64_t before_session, int64_t *id, int64_t *started, char **errstr)
{
	struct spool_sink *sp = spool(s);
	int64_t i = 0, t = 0;
	int rc;

	/*
	 * The pins answer without opening the database, unless the pin is
	 * this writer's own for a session that does not count (the pins
	 * cannot tell its sessions apart: the spool files can).
	 */
	rc = hist_pin_find(sp->db, server, port, &i, &t);
	if (rc == 1 && i == 0 && sp->pinned != 0 && before_session > 0 &&
	    sp->pinned >= before_session && sp->port == port &&
	    strcmp(sp->server, server) == 0)
		rc = -1;
	if (rc >= 0) {
		if (rc == 1) {
			if (id != NULL)
				*id = i;
			if (started != NULL)
				*started = t;
		}
		return rc;
	}
	return lookup(sp->db, sp->file, server, port, before_session, id,
	    started, errstr);
}

/* ---- opening and closing -------------------------------------------- */

/*
 * The spool is kept short: a process that closes its file while
 * SPOOL_IMPORT_AT or more wait imports them all, its own included.
 * That process pays the database's fixed costs (open, checkpoint) once
 * for that many sessions; the others pay nothing, and a reader never
 * finds thousands of files to take in.
 */
#define SPOOL_IMPORT_AT 64

/* Whether at least n .spool files are in dir (reads no further). */
static int
spools_reach(const char *dir, int n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int k = 0;

	if (d == NULL)
		return 0;
	while (k < n && (e = readdir(d)) != NULL)
		k += hist_fs_named(e->d_name, HIST_SPOOL_SUFFIX);
	(void)closedir(d);
	return k >= n;
}

/* Closes the file; one with nothing recorded is removed. */
static void
spool_close_file(struct spool_sink *sp)
{
	char *err = NULL;

	if (sp->fd == -1)
		return;
	if (spool_write(sp, &err) == -1)
		free(err);
	if (sp->nsessions == 0 && !sp->failed)
		(void)unlink(sp->file);
	(void)close(sp->fd);
	sp->fd = -1;
}

static char *
spool_close(struct hist_sink *s)
{
	struct spool_sink *sp = spool(s);
	struct hist *db;
	char *dir, *out = NULL;
	int many = 0;

	if (sp->nsessions > 0) {
		dir = hist_spool_dir(sp->db);
		many = spools_reach(dir, SPOOL_IMPORT_AT);
		free(dir);
	}
	/* Unlocks this process's file, so an import takes it too. */
	spool_close_file(sp);
	if (many) {
		db = hist_open(sp->db, HIST_OPEN_NOCREATE, &out);
		/* Without it, the files wait for the next open. */
		if (db != NULL && hist_warnings(db) != NULL)
			out = xstrdup(hist_warnings(db));
		hist_close(db);
	}
	buf_reset(&sp->out);
	buf_reset(&sp->rec);
	free(sp->server);
	free(sp->file);
	free(sp->db);
	free(sp);
	return out;
}

static const struct hist_sink_ops spool_ops = {
    .begin = spool_begin,
    .set = spool_set,
    .event = spool_event,
    .reply = spool_reply,
    .body = spool_body,
    .end = spool_end,
    .had_starttls = spool_had_starttls,
    .tx_begin = spool_tx_begin,
    .tx_commit = spool_tx_commit,
    .tx_is_open = spool_tx_is_open,
    .close = spool_close,
};

/*
 * Whether the database file at path looks healthy and current from its
 * header alone: an SQLite file in WAL mode, as large as its header
 * says, at this build's schema version, and writable.  Anything else
 * goes through hist_open, which says what is wrong or migrates.
 */
static int
db_looks_current(const char *path)
{
	unsigned char hd[100];
	struct stat sb;
	uint32_t page, pages;
	int fd, ok;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return 0;
	ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    pread(fd, hd, sizeof hd, 0) == (ssize_t)sizeof hd;
	(void)close(fd);
	if (!ok || memcmp(hd, "SQLite format 3", 16) != 0)
		return 0;
	/* Write and read versions 2: WAL. */
	if (hd[18] != 2 || hd[19] != 2)
		return 0;
	page = (uint32_t)hd[16] << 8 | hd[17];
	if (page == 1)
		page = 65536;
	if (page < 512 || (page & (page - 1)) != 0)
		return 0;
	/* The page count is valid when "version valid for" matches. */
	if (memcmp(hd + 92, hd + 24, 4) != 0)
		return 0;
	pages = (uint32_t)hd[28] << 24 | (uint32_t)hd[29] << 16 |
	    (uint32_t)hd[30] << 8 | hd[31];
	if (pages == 0 || (uint64_t)sb.st_size < (uint64_t)pages * page)
		return 0;
	if ((int)((uint32_t)hd[60] << 24 | (uint32_t)hd[61] << 16 |
	        (uint32_t)hd[62] << 8 | hd[63]) != hist_schema_latest())
		return 0;
	return access(path, R_OK | W_OK) == 0;
}

struct hist_sink *
hist_sink_spool(const char *path, char **errstr)
{
	struct spool_sink *sp;
	char *dir, *tmp = NULL, *file = NULL;
	uint32_t rnd = 0;
	struct timespec ts;
	int fd = -1;

	*errstr = NULL;
	if (!db_looks_current(path))
		return NULL;
	dir = hist_spool_dir(path);
	if ((mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    !hist_fs_dir_ours(dir))
		goto fail;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
		rnd = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 16;
	file = xasprintf("%s/%016llx-%ld-%08x" HIST_SPOOL_SUFFIX, dir,
	    (unsigned long long)ts.tv_sec * 1000000ull +
	        (unsigned long long)ts.tv_nsec / 1000,
	    (long)getpid(), rnd);
	tmp = xasprintf(
	    "%.*s.tmp", (int)(strlen(file) - strlen(HIST_SPOOL_SUFFIX)), file);
	fd = open(tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    write(fd, HIST_SPOOL_MAGIC, HIST_SPOOL_MAGIC_LEN) !=
	        HIST_SPOOL_MAGIC_LEN ||
	    rename(tmp, file) == -1)
		goto fail;
	free(tmp);
	free(dir);
	sp = xcalloc(1, sizeof *sp);
	sp->sink.ops = &spool_ops;
	sp->sink.spool_file = file;
	sp->db = xstrdup(path);
	sp->fd = fd;
	sp->file = file;
	sp->size = HIST_SPOOL_MAGIC_LEN;
	buf_init(&sp->out, 0);
	buf_init(&sp->rec, 0);
	return &sp->sink;
fail:
	/* Not an error: hist_open then says what is wrong, if anything. */
	if (fd != -1) {
		(void)unlink(tmp);
		(void)close(fd);
	}
	free(tmp);
	free(file);
	free(dir);
	return NULL;
}
