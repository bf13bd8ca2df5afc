/*
 * The spool: how a short-lived process (`ehlo run`, `ehlo send`)
 * records a session without opening SQLite, and how the next process
 * that opens the database takes those records in.  It works like a
 * mail system's maildrop and pickup.
 *
 * Why: opening the database, writing and closing it (a WAL checkpoint
 * with its fsyncs) costs a few milliseconds per process.  That is most
 * of a small transaction's wall time against a nearby server.  A spool
 * file costs a create, a write per loop turn, and a close.
 *
 * Layout: beside the database DB, the directory DB-spool (mode 0700),
 * one file per recording process, mode 0600, named
 * <microseconds, 16 hex>-<pid>-<random>.spool so names sort by start
 * time.  The writer creates it as .tmp, takes an exclusive flock, and
 * renames it: an importer never sees a file that its writer does not
 * hold locked.  The lock lasts as long as the process, and the kernel
 * drops it when the process dies, kill -9 included.
 *
 * Format: the magic "EHLOSPL1", then records.  Each record is a type
 * octet, the payload length (u32, little-endian), the payload, and an
 * FNV-1a check (u32) of the type, length and payload.  A payload is a
 * fixed list of fields per type: integers as 8 octets little-endian,
 * strings as a u32 length (0xffffffff: NULL) and the octets.  Every
 * record names its session by a local number (1, 2, ... in the file);
 * the importer maps it to the database's id.
 *
 * Durability: the writer write()s each batch where the recorder would
 * have committed it: before the output that shows it.  So a crash or
 * kill -9 loses nothing on screen, as with the database (it is then in
 * the kernel's page cache; WAL with synchronous=NORMAL gives no more).
 *
 * Import (hist_spool_import, from hist_open): for each unlocked .spool
 * file in name order, one transaction that first notes the file's name
 * in spool_imports (a file imported once, whose unlink a crash then
 * prevented, is not imported twice), then replays its records through
 * the ordinary functions, with the recorded start and end times.  A
 * record that does not parse, is cut short (a writer killed inside a
 * write looks like a changed length field), makes no sense or is
 * refused by the database stops the import there: what came before is
 * imported, and the file is kept as .damaged with a warning.
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
#include "history/hist_int.h"
#include "history/history.h"

#define SPOOL_MAGIC "EHLOSPL1"
#define SPOOL_MAGIC_LEN 8
#define SPOOL_SUFFIX ".spool"
/* One record's payload at most (a body's content is up to 64 KiB). */
#define SPOOL_REC_MAX (16u << 20)
#define SPOOL_NULL 0xffffffffu

enum spool_rec {
	SP_BEGIN = 1,
	SP_CAPS,
	SP_PLAIN_CAPS,
	SP_TLS,
	SP_LABEL,
	SP_NOTES,
	SP_EVENT,
	SP_REPLY,
	SP_BODY,
	SP_END,
	SP_LAST = SP_END
};

struct hist_spool {
	int fd;
	char *file; /* the spool file's path */
	struct buf out; /* records not yet written */
	struct buf rec; /* the record being built */
	int in_tx; /* hist_tx_begin: write at hist_tx_commit */
	int failed; /* a write failed: nothing more is written */
	int64_t nsessions; /* local numbers handed out (records need one) */
	char *server; /* the newest session's, for its STARTTLS pin */
	int port;
	off_t size; /* octets written whole: records end here */
};

/* ---- encoding ------------------------------------------------------ */

static uint32_t
fnv1a(uint32_t h, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static void
put_u32(struct buf *b, uint32_t v)
{
	unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 24)};

	(void)buf_add(b, c, sizeof c);
}

static void
put_i64(struct buf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;

	put_u32(b, (uint32_t)u);
	put_u32(b, (uint32_t)(u >> 32));
}

static void
put_bytes(struct buf *b, const void *p, size_t len)
{
	if (p == NULL || len >= SPOOL_NULL) {
		put_u32(b, SPOOL_NULL);
		return;
	}
	put_u32(b, (uint32_t)len);
	(void)buf_add(b, p, len);
}

static void
put_str(struct buf *b, const char *s)
{
	put_bytes(b, s, s != NULL ? strlen(s) : 0);
}

static uint32_t
get_u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Starts a record of type for local session lid in sp->rec. */
static struct buf *
rec_start(struct hist_spool *sp, enum spool_rec type, int64_t lid)
{
	unsigned char t = (unsigned char)type;

	buf_clear(&sp->rec);
	(void)buf_add(&sp->rec, &t, 1);
	put_u32(&sp->rec, 0); /* the length, set by rec_end */
	put_i64(&sp->rec, lid);
	return &sp->rec;
}

static int
failed_before(const struct hist_spool *sp, char **errstr)
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
spool_write(struct hist *h, char **errstr)
{
	struct hist_spool *sp = h->spool;
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
			        w == -1 ? strerror(errno) : "short write");
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

/* Frames sp->rec into the queue; written now unless a batch is open. */
static int
rec_end(struct hist *h, char **errstr)
{
	struct hist_spool *sp = h->spool;
	unsigned char *r = (unsigned char *)buf_peek(&sp->rec);
	size_t n = buf_used(&sp->rec);
	uint32_t len = (uint32_t)(n - 5);

	if (sp->failed)
		return failed_before(sp, errstr);
	/* The import would call it damaged: refuse it here instead. */
	if (n - 5 > SPOOL_REC_MAX) {
		*errstr = xasprintf("history spool %s: a record of %zu "
		                    "octets is larger than a spool takes",
		    sp->file, n - 5);
		return -1;
	}
	r[1] = (unsigned char)len;
	r[2] = (unsigned char)(len >> 8);
	r[3] = (unsigned char)(len >> 16);
	r[4] = (unsigned char)(len >> 24);
	(void)buf_add(&sp->out, r, n);
	put_u32(&sp->out, fnv1a(2166136261u, r, n));
	return sp->in_tx ? 0 : spool_write(h, errstr);
}

/* ---- writing (the hist_* functions call these on a spool handle) ---- */

/*
 * What identifies a file's version without reading it (device, inode,
 * size, modification time), or NULL when it cannot be stat'ed.
 */
static char *
file_print(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == -1 || !S_ISREG(sb.st_mode))
		return NULL;
	return xasprintf("%llu:%llu:%lld:%lld.%09ld",
	    (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino,
	    (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
	    (long)sb.st_mtim.tv_nsec);
}

int64_t
hist_spool_begin(struct hist *h, const char *server, int port,
    const char *tls_mode, int64_t replay_of, char **errstr)
{
	struct hist_spool *sp = h->spool;
	int64_t lid = sp->nsessions + 1;
	struct buf *b = rec_start(sp, SP_BEGIN, lid);

	put_i64(b, (int64_t)time(NULL));
	put_str(b, server);
	put_i64(b, port);
	put_str(b, tls_mode);
	put_i64(b, replay_of);
	if (rec_end(h, errstr) == -1)
		return -1;
	sp->nsessions = lid;
	free(sp->server);
	sp->server = xstrdup(server != NULL ? server : "");
	sp->port = port;
	return lid;
}

static int
known(struct hist *h, int64_t lid, char **errstr)
{
	if (lid >= 1 && lid <= h->spool->nsessions)
		return 0;
	*errstr = xasprintf("history spool %s: there is no session #%lld",
	    h->spool->file, (long long)lid);
	return -1;
}

int
hist_spool_set(
    struct hist *h, int what, int64_t lid, const char *v, char **errstr)
{
	static const enum spool_rec type[] = {
	    [HIST_SET_CAPS] = SP_CAPS,
	    [HIST_SET_PLAIN_CAPS] = SP_PLAIN_CAPS,
	    [HIST_SET_TLS] = SP_TLS,
	    [HIST_SET_LABEL] = SP_LABEL,
	    [HIST_SET_NOTES] = SP_NOTES,
	};

	if (known(h, lid, errstr) == -1)
		return -1;
	put_str(rec_start(h->spool, type[what], lid), v);
	if (rec_end(h, errstr) == -1)
		return -1;
	/* Pinned now, numbered (0 to the pins) when imported. */
	if (what == HIST_SET_PLAIN_CAPS && lid == h->spool->nsessions &&
	    v != NULL && hist_caps_starttls(v))
		hist_pin_starttls(h, h->spool->server, h->spool->port, 0);
	return 0;
}

int64_t
hist_spool_event(
    struct hist *h, int64_t lid, const struct hist_event *ev, char **errstr)
{
	struct buf *b;
	char dir = ev->dir;

	if (known(h, lid, errstr) == -1)
		return -1;
	b = rec_start(h->spool, SP_EVENT, lid);
	put_i64(b, ev->seq);
	put_i64(b, (int64_t)ev->t_us);
	put_bytes(b, &dir, 1);
	put_bytes(b, ev->text != NULL ? ev->text : "",
	    ev->text != NULL ? ev->len : 0);
	put_str(b, ev->stage);
	put_i64(b, ev->code);
	put_str(b, ev->enhanced);
	put_i64(b, ev->flags);
	put_i64(b, ev->stage_no);
	put_i64(b, ev->group);
	put_i64(b, ev->latency_us);
	return rec_end(h, errstr) == -1 ? -1 : ev->seq;
}

int
hist_spool_reply(struct hist *h, int64_t lid, int64_t seq, const char *stage,
    int code, const char *enhanced, int stage_no, int64_t latency_us,
    char **errstr)
{
	struct buf *b;

	if (known(h, lid, errstr) == -1)
		return -1;
	b = rec_start(h->spool, SP_REPLY, lid);
	put_i64(b, seq);
	put_str(b, stage);
	put_i64(b, code);
	put_str(b, enhanced);
	put_i64(b, stage_no);
	put_i64(b, latency_us);
	return rec_end(h, errstr);
}

int
hist_spool_body(
    struct hist *h, int64_t lid, const struct hist_body *bd, char **errstr)
{
	struct buf *b;

	if (known(h, lid, errstr) == -1)
		return -1;
	b = rec_start(h->spool, SP_BODY, lid);
	put_i64(b, bd->seq);
	put_str(b, bd->kind);
	put_str(b, bd->path);
	put_i64(b, (int64_t)bd->size);
	put_i64(b, (int64_t)bd->lines);
	put_str(b, bd->sha256);
	put_str(b, bd->first_lines);
	/* Only what the database would keep. */
	if (hist_body_keeps(bd))
		put_bytes(b, bd->content, bd->content_len);
	else
		put_bytes(b, NULL, 0);
	/*
	 * A file sent without its digest: the importer digests it if it
	 * is still the same file (hist_set_file_digest).
	 */
	if (bd->sha256 == NULL && bd->path != NULL) {
		char *fp = file_print(bd->path);

		put_str(b, fp);
		free(fp);
	} else
		put_str(b, NULL);
	return rec_end(h, errstr);
}

int
hist_spool_end(struct hist *h, int64_t lid, int exit_status, char **errstr)
{
	struct buf *b;

	if (known(h, lid, errstr) == -1)
		return -1;
	b = rec_start(h->spool, SP_END, lid);
	put_i64(b, (int64_t)time(NULL));
	put_i64(b, exit_status);
	return rec_end(h, errstr);
}

int
hist_spool_tx_begin(struct hist *h)
{
	h->spool->in_tx = 1;
	return 0;
}

int
hist_spool_tx_commit(struct hist *h, char **errstr)
{
	h->spool->in_tx = 0;
	return spool_write(h, errstr);
}

int
hist_spool_tx_is_open(const struct hist *h)
{
	return h->spool->in_tx;
}

/* ---- opening and closing a spool ----------------------------------- */

static char *
spool_dir(const char *db)
{
	return xasprintf("%s-spool", db);
}

/* Whether dir is a directory (not a link to one) of this user's. */
static int
dir_ours(const char *dir)
{
	struct stat sb;

	return lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    sb.st_uid == geteuid();
}

/* Whether a directory entry's name ends with suffix (no dot files). */
static int
named(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return name[0] != '.' && n > k && strcmp(name + n - k, suffix) == 0;
}

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

struct hist *
hist_open_spool(const char *path, char **errstr)
{
	struct hist_spool *sp;
	struct hist *h;
	char *dir, *tmp = NULL, *file = NULL;
	uint32_t rnd = 0;
	struct timespec ts;
	int fd = -1;

	*errstr = NULL;
	if (!db_looks_current(path))
		return NULL;
	dir = spool_dir(path);
	if ((mkdir(dir, 0700) == -1 && errno != EEXIST) || !dir_ours(dir))
		goto fail;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
		rnd = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 16;
	file = xasprintf("%s/%016llx-%ld-%08x" SPOOL_SUFFIX, dir,
	    (unsigned long long)ts.tv_sec * 1000000ull +
	        (unsigned long long)ts.tv_nsec / 1000,
	    (long)getpid(), rnd);
	tmp = xasprintf(
	    "%.*s.tmp", (int)(strlen(file) - strlen(SPOOL_SUFFIX)), file);
	fd = open(tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    write(fd, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != SPOOL_MAGIC_LEN ||
	    rename(tmp, file) == -1)
		goto fail;
	free(tmp);
	free(dir);
	h = xcalloc(1, sizeof *h);
	h->path = xstrdup(path);
	h->spool = sp = xcalloc(1, sizeof *sp);
	sp->fd = fd;
	sp->file = file;
	sp->size = SPOOL_MAGIC_LEN;
	buf_init(&sp->out, 0);
	buf_init(&sp->rec, 0);
	return h;
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

void
hist_spool_close(struct hist *h)
{
	struct hist_spool *sp = h->spool;
	char *err = NULL;

	if (spool_write(h, &err) == -1)
		free(err);
	/* Nothing recorded: no file left behind. */
	if (sp->nsessions == 0 && !sp->failed)
		(void)unlink(sp->file);
	(void)close(sp->fd);
	buf_reset(&sp->out);
	buf_reset(&sp->rec);
	free(sp->server);
	free(sp->file);
	free(sp);
	h->spool = NULL;
}

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
		k += named(e->d_name, SPOOL_SUFFIX);
	(void)closedir(d);
	return k >= n;
}

char *
hist_spool_settle(struct hist *h)
{
	struct hist *db;
	char *dir, *err = NULL, *out = NULL;
	int many;

	if (h->spool == NULL || h->spool->nsessions == 0)
		return NULL;
	dir = spool_dir(h->path);
	many = spools_reach(dir, SPOOL_IMPORT_AT);
	free(dir);
	if (!many)
		return NULL;
	/* Unlocks this process's file, so the import takes it too. */
	hist_spool_close(h);
	if ((db = hist_open(h->path, HIST_OPEN_NOCREATE, &err)) == NULL)
		return err; /* the files wait for the next open */
	if (hist_warnings(db) != NULL)
		out = xstrdup(hist_warnings(db));
	hist_close(db);
	return out;
}

const char *
hist_spool_file(const struct hist *h)
{
	return h->spool != NULL ? h->spool->file : NULL;
}

/* ---- reading ------------------------------------------------------- */

struct rd {
	const unsigned char *p, *end;
	int bad;
};

static int64_t
get_i64(struct rd *r)
{
	uint64_t v;

	if (r->bad || r->end - r->p < 8) {
		r->bad = 1;
		return 0;
	}
	v = (uint64_t)get_u32le(r->p) | (uint64_t)get_u32le(r->p + 4) << 32;
	r->p += 8;
	return (int64_t)v;
}

/* A field as an allocated NUL-terminated copy (NULL for NULL). */
static char *
get_str(struct rd *r, size_t *lenp)
{
	uint32_t n;
	char *s;

	if (lenp != NULL)
		*lenp = 0;
	if (r->bad || r->end - r->p < 4) {
		r->bad = 1;
		return NULL;
	}
	n = get_u32le(r->p);
	r->p += 4;
	if (n == SPOOL_NULL)
		return NULL;
	if ((size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	s = xmalloc((size_t)n + 1);
	memcpy(s, r->p, n);
	s[n] = '\0';
	r->p += n;
	if (lenp != NULL)
		*lenp = n;
	return s;
}

/* One parsed record: its fields, strings allocated. */
struct sprec {
	int type;
	int64_t lid;
	int64_t i[8];
	char *s[7];
	size_t slen[7];
};

static void
sprec_free(struct sprec *x)
{
	size_t k;

	for (k = 0; k < sizeof x->s / sizeof x->s[0]; k++)
		free(x->s[k]);
	memset(x, 0, sizeof *x);
}

/*
 * Field layout per type: 'i' an integer into i[], 's' a string into
 * s[], in order (after the local session number).
 */
static const char *const layout[SP_LAST + 1] = {
    [SP_BEGIN] = "isisi", /* started server port tls_mode replay_of */
    [SP_CAPS] = "s",
    [SP_PLAIN_CAPS] = "s",
    [SP_TLS] = "s",
    [SP_LABEL] = "s",
    [SP_NOTES] = "s",
    /* seq t_us dir text stage code enhanced flags stage_no group lat */
    [SP_EVENT] = "iisssisiiii",
    /* seq stage code enhanced stage_no latency */
    [SP_REPLY] = "isisii",
    /* seq kind path size lines sha256 first_lines content print */
    [SP_BODY] = "issiissss",
    [SP_END] = "ii", /* ended exit_status */
};

enum parse_rc { PARSE_OK, PARSE_END, PARSE_TORN, PARSE_BAD };

/*
 * Decodes the whole record p[0..n) (sfile_next checked its type and
 * length): PARSE_OK with x filled, or PARSE_BAD (wrong check, fields
 * that do not fill the payload exactly, no session number).
 */
static enum parse_rc
parse_rec(const unsigned char *p, size_t n, struct sprec *x)
{
	size_t si = 0, ii = 0;
	const char *f;
	struct rd r;

	memset(x, 0, sizeof *x);
	if (fnv1a(2166136261u, p, n - 4) != get_u32le(p + n - 4))
		return PARSE_BAD;
	x->type = p[0];
	r.p = p + 5;
	r.end = p + n - 4;
	r.bad = 0;
	x->lid = get_i64(&r);
	for (f = layout[x->type]; *f != '\0'; f++) {
		if (*f == 'i')
			x->i[ii++] = get_i64(&r);
		else {
			x->s[si] = get_str(&r, &x->slen[si]);
			si++;
		}
	}
	if (r.bad || r.p != r.end || x->lid < 1) {
		sprec_free(x);
		return PARSE_BAD;
	}
	return PARSE_OK;
}

/*
 * Opens path for reading when it is a regular file owned by this user:
 * never a FIFO (it would block) nor another user's file (not ours to
 * trust).  Returns the descriptor, or -1.
 */
static int
open_ours(const char *path, struct stat *sb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd == -1)
		return -1;
	if (fstat(fd, sb) == -1 || !S_ISREG(sb->st_mode) ||
	    sb->st_uid != geteuid()) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Reads n octets at offset at; 0, or -1 when they are not all there. */
static int
read_at(int fd, void *p, size_t n, off_t at)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(fd, (char *)p + got, n - got, at + (off_t)got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* A spool file read one record at a time (never whole: no size cap). */
struct sfile {
	int fd;
	off_t size, pos; /* pos: where the next record starts */
	unsigned char *buf;
	size_t cap;
};

/* 1 when fd holds a spool (its magic), 0 when empty, -1 otherwise. */
static int
sfile_init(struct sfile *sf, int fd, off_t size)
{
	unsigned char magic[SPOOL_MAGIC_LEN];

	memset(sf, 0, sizeof *sf);
	sf->fd = fd;
	sf->size = size;
	sf->pos = SPOOL_MAGIC_LEN;
	if (size == 0)
		return 0;
	if (size < SPOOL_MAGIC_LEN ||
	    read_at(fd, magic, sizeof magic, 0) == -1 ||
	    memcmp(magic, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != 0)
		return -1;
	return 1;
}

/*
 * The next record: PARSE_OK (x filled, sf->pos past it), PARSE_END at
 * the end, PARSE_TORN when the file ends inside it, PARSE_BAD.
 */
static enum parse_rc
sfile_next(struct sfile *sf, struct sprec *x)
{
	unsigned char hd[5];
	off_t left = sf->size - sf->pos;
	size_t n;
	uint32_t len;
	enum parse_rc rc;

	memset(x, 0, sizeof *x);
	if (left <= 0)
		return PARSE_END;
	if (read_at(sf->fd, hd, left < 5 ? (size_t)left : 5, sf->pos) == -1)
		return PARSE_BAD;
	if (hd[0] < SP_BEGIN || hd[0] > SP_LAST)
		return PARSE_BAD;
	if (left < 5)
		return PARSE_TORN;
	len = get_u32le(hd + 1);
	if (len > SPOOL_REC_MAX)
		return PARSE_BAD;
	n = 5 + (size_t)len + 4;
	if ((uint64_t)left < n)
		return PARSE_TORN;
	if (sf->cap < n) {
		free(sf->buf);
		sf->buf = xmalloc(n);
		sf->cap = n;
	}
	if (read_at(sf->fd, sf->buf, n, sf->pos) == -1)
		return PARSE_BAD;
	rc = parse_rec(sf->buf, n, x);
	if (rc == PARSE_OK)
		sf->pos += (off_t)n;
	return rc;
}

static void
sfile_done(struct sfile *sf)
{
	free(sf->buf);
	sf->buf = NULL;
}

/*
 * The .spool files of dir, sorted (start order); the count, or -1 when
 * dir is missing or not this user's directory (nothing in it is read:
 * another user could plant records there).
 */
static int
list_spools(const char *dir, struct dirent ***list)
{
	int n, i, k = 0;

	*list = NULL;
	if (!dir_ours(dir) || (n = scandir(dir, list, NULL, alphasort)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (named((*list)[i]->d_name, SPOOL_SUFFIX))
			(*list)[k++] = (*list)[i];
		else
			free((*list)[i]);
	}
	if (k == 0) {
		free(*list);
		*list = NULL;
	}
	return k;
}

static void
free_list(struct dirent **list, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/*
 * The STARTTLS-downgrade lookup on a spool handle (see
 * hist_server_had_starttls): the database, opened read-only, then the
 * spool files still waiting, own (this process's file) only for its
 * sessions numbered below before.  Used when the pins cannot answer.
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
	dir = spool_dir(db);
	n = list_spools(dir, &list);
	for (k = 0; k < n; k++) {
		struct sfile sf;
		struct stat sb;
		struct sprec x;
		/* per local session: its start if with this server, else 0 */
		int64_t *lstarted = NULL;
		size_t nl = 0;
		int own, fd;

		path = xasprintf("%s/%s", dir, list[k]->d_name);
		own = own_file != NULL && strcmp(path, own_file) == 0;
		fd = open_ours(path, &sb);
		free(path);
		if (fd == -1)
			continue;
		if (sfile_init(&sf, fd, sb.st_size) == 1)
			while (sfile_next(&sf, &x) == PARSE_OK) {
				size_t l = (size_t)x.lid;

				if (own && before > 0 && x.lid >= before) {
					sprec_free(&x);
					continue;
				}
				if (x.type == SP_BEGIN && l == nl + 1) {
					/* Only sessions with this server. */
					lstarted = xreallocarray(
					    lstarted, l, sizeof *lstarted);
					lstarted[nl++] = x.s[0] != NULL &&
					        strcmp(x.s[0], server) == 0 &&
					        x.i[1] == port
					    ? (x.i[0] > 0 ? x.i[0] : 1)
					    : 0;
				} else if (x.type == SP_PLAIN_CAPS &&
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
				sprec_free(&x);
			}
		sfile_done(&sf);
		free(lstarted);
		(void)close(fd);
	}
	if (n > 0)
		free_list(list, n);
	free(dir);
	if (found) {
		if (id != NULL)
			*id = best_id;
		if (started != NULL)
			*started = best_started;
	}
	return found;
}

/* ---- the STARTTLS pins ---------------------------------------------- */

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

/*
 * The pin for server:port (the last line that names it: a line with
 * the session's number may follow one with 0): 1 with *id and
 * *started, 0 when there is none, -1 when the file is missing, not
 * this user's regular file, or too large (then ask the database).
 */
static int
pin_find(
    const char *db, const char *server, int port, int64_t *id, int64_t *started)
{
	char *path = pin_path(db), *text, *line, *next;
	struct stat sb;
	int fd, found = 0;

	fd = open_ours(path, &sb);
	free(path);
	if (fd == -1)
		return -1;
	if (sb.st_size > PIN_FILE_MAX) {
		(void)close(fd);
		return -1;
	}
	text = xmalloc((size_t)sb.st_size + 1);
	if (read_at(fd, text, (size_t)sb.st_size, 0) == -1) {
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

void
hist_pin_starttls(struct hist *h, const char *server, int port, int64_t id)
{
	char *path, *line;
	int64_t i = 0, t = 0;
	struct stat sb;
	int fd, rc;

	if (!pinnable(server))
		return;
	/* Pinned already, with a number or with none to add. */
	rc = pin_find(h->path, server, port, &i, &t);
	if (rc == -1 || (rc == 1 && (i != 0 || id == 0)))
		return;
	path = pin_path(h->path);
	/* Never created here: the file exists only when complete. */
	fd = open(
	    path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	free(path);
	if (fd == -1)
		return;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_uid == geteuid()) {
		line = xasprintf("%lld %lld %d %s\n", (long long)hist_now(h),
		    (long long)id, port, server);
		/* One write: O_APPEND keeps lines whole between writers. */
		(void)!write(fd, line, strlen(line));
		free(line);
	}
	(void)close(fd);
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
hist_spool_had_starttls(struct hist *h, const char *server, int port,
    int64_t before_session, int64_t *id, int64_t *started, char **errstr)
{
	int64_t i = 0, t = 0;
	int rc;

	if (pinnable(server) &&
	    (rc = pin_find(h->path, server, port, &i, &t)) >= 0) {
		if (rc == 1) {
			if (id != NULL)
				*id = i;
			if (started != NULL)
				*started = t;
		}
		return rc;
	}
	return lookup(h->path, h->spool->file, server, port, before_session, id,
	    started, errstr);
}

/* ---- import -------------------------------------------------------- */

/* The sessions of the file being imported, by local number - 1. */
struct imap {
	size_t n;
	int64_t *id; /* the database's */
	int64_t *started;
};

static void
imap_free(struct imap *m)
{
	free(m->id);
	free(m->started);
	memset(m, 0, sizeof *m);
}

/* Replays one record on h; -1 with *errstr (a database error). */
static int
apply(struct hist *h, const struct sprec *x, struct imap *m, int *bad,
    char **errstr)
{
	static const int set_of[SP_LAST + 1] = {
	    [SP_CAPS] = HIST_SET_CAPS,
	    [SP_PLAIN_CAPS] = HIST_SET_PLAIN_CAPS,
	    [SP_TLS] = HIST_SET_TLS,
	    [SP_LABEL] = HIST_SET_LABEL,
	    [SP_NOTES] = HIST_SET_NOTES,
	};
	struct hist_event ev;
	struct hist_body b;
	size_t l = (size_t)x->lid;
	char *now;
	int64_t id;
	int rc;

	if (x->type == SP_BEGIN) {
		/* Sessions are numbered 1, 2, ... in a file, in order. */
		if (l != m->n + 1 || x->s[0] == NULL || x->s[1] == NULL) {
			*bad = 1;
			return 0;
		}
		h->now = x->i[0];
		id = hist_session_begin(
		    h, x->s[0], (int)x->i[1], x->s[1], x->i[2], errstr);
		h->now = 0;
		if (id < 0)
			return -1;
		m->id = xreallocarray(m->id, l, sizeof *m->id);
		m->started = xreallocarray(m->started, l, sizeof *m->started);
		m->id[m->n] = id;
		m->started[m->n] = x->i[0];
		m->n = l;
		return 0;
	}
	if (l > m->n || m->id == NULL) {
		*bad = 1;
		return 0;
	}
	id = m->id[l - 1];
	switch (x->type) {
	case SP_EVENT:
		if (x->slen[0] != 1 || x->s[1] == NULL || x->i[0] < 1) {
			*bad = 1;
			return 0;
		}
		memset(&ev, 0, sizeof ev);
		ev.seq = x->i[0];
		ev.t_us = (uint64_t)x->i[1];
		ev.dir = x->s[0][0];
		ev.text = x->s[1];
		ev.len = x->slen[1];
		ev.stage = x->s[2];
		ev.code = (int)x->i[2];
		ev.enhanced = x->s[3];
		ev.flags = (unsigned)x->i[3];
		ev.stage_no = (int)x->i[4];
		ev.group = (int)x->i[5];
		ev.latency_us = x->i[6];
		return hist_session_event(h, id, &ev, errstr) < 0 ? -1 : 0;
	case SP_REPLY:
		return hist_event_set_reply(h, id, x->i[0], x->s[0],
		    (int)x->i[1], x->s[1], (int)x->i[2], x->i[3], errstr);
	case SP_BODY:
		memset(&b, 0, sizeof b);
		b.seq = x->i[0];
		b.kind = x->s[0];
		b.path = x->s[1];
		b.size = (uint64_t)x->i[1];
		b.lines = (uint64_t)x->i[2];
		b.sha256 = x->s[2];
		b.first_lines = x->s[3];
		b.content = x->s[4];
		b.content_len = x->slen[4];
		/* The file is digested only if it is the one sent. */
		now = x->s[5] != NULL ? file_print(b.path) : NULL;
		rc = hist_body_insert(h, id, &b,
		    now != NULL && strcmp(now, x->s[5]) == 0, errstr);
		free(now);
		return rc;
	case SP_END:
		h->now = x->i[0];
		/* The search index is brought up once, at the file's end. */
		rc = hist_session_end_row(h, id, (int)x->i[1], errstr);
		h->now = 0;
		return rc;
	default:
		/*
		 * Stamped with the session's start: a STARTTLS pin is
		 * written (or numbered) with it.
		 */
		h->now = m->started[l - 1];
		rc = hist_session_set(h, set_of[x->type], id, x->s[0], errstr);
		h->now = 0;
		return rc;
	}
}

/* Notes a warning for the caller of hist_open (hist_warnings). */
static void
warn(struct hist *h, char *msg)
{
	char *w;

	if (h->warnings == NULL) {
		h->warnings = msg;
		return;
	}
	w = xasprintf("%s\n%s", h->warnings, msg);
	free(h->warnings);
	free(msg);
	h->warnings = w;
}

/* import_records results besides 0 (imported) and -1 (database error) */
#define IMPORT_DONE_BEFORE 1 /* the file was imported before */
#define IMPORT_REFUSED 2 /* the database refused a record (at *off) */

/*
 * One transaction: notes the file's name, replays its records up to
 * stop (an offset), and commits.  *off ends at the first record not
 * imported; *prc says why the reading stopped (PARSE_END: the end, or
 * stop reached); *bad is set when a record makes no sense.
 */
static int
import_records(struct hist *h, const char *name, struct sfile *sf, off_t stop,
    off_t *off, enum parse_rc *prc, int *bad, char **errstr)
{
	struct imap m;
	struct sprec x;
	sqlite3_stmt *st;
	int rc;

	memset(&m, 0, sizeof m);
	sf->pos = SPOOL_MAGIC_LEN;
	*off = sf->pos;
	*prc = PARSE_END;
	if (hist_tx_begin(h, errstr) == -1)
		return -1;
	st = hist_stmt(h, HIST_ST_SPOOL_MARK,
	    "INSERT OR IGNORE INTO spool_imports (name, imported) "
	    "VALUES (?, ?)",
	    errstr);
	if (st == NULL)
		goto rollback;
	(void)hist_bind_str(st, 1, name);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	if (hist_step_done(h, st, "importing the spool", errstr) == -1)
		goto rollback;
	if (sqlite3_changes(h->db) == 0) {
		(void)sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
		return IMPORT_DONE_BEFORE;
	}
	while (sf->pos < stop) {
		off_t at = sf->pos;

		if ((*prc = sfile_next(sf, &x)) != PARSE_OK)
			break;
		rc = apply(h, &x, &m, bad, errstr);
		sprec_free(&x);
		if (rc == -1) {
			/* The file's fault (a duplicate row, a value out of
			 * range), or the database's (full, locked)? */
			int refused = (sqlite3_extended_errcode(h->db) &
			                  0xff) == SQLITE_CONSTRAINT;

			*off = at;
			imap_free(&m);
			(void)sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
			return refused ? IMPORT_REFUSED : -1;
		}
		if (*bad) {
			sf->pos = at; /* the record that made no sense */
			break;
		}
	}
	if (*prc == PARSE_OK)
		*prc = PARSE_END;
	*off = sf->pos;
	imap_free(&m);
	if (hist_fts_catch_up(h, errstr) == -1)
		goto rollback;
	return 0;
rollback:
	imap_free(&m);
	(void)sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Whether the whole file parses, to its last octet. */
static int
sfile_clean(struct sfile *sf)
{
	struct sprec x;
	enum parse_rc prc;

	sf->pos = SPOOL_MAGIC_LEN;
	while ((prc = sfile_next(sf, &x)) == PARSE_OK)
		sprec_free(&x);
	return prc == PARSE_END;
}

/* Keeps the file aside as .damaged, with a warning saying why. */
static void
keep_damaged(struct hist *h, const char *path, off_t off, enum parse_rc prc,
    const char *why)
{
	char *kept = xasprintf("%s.damaged", path);
	char *reason = why != NULL ? xasprintf(" (%s)", why) : xstrdup("");

	(void)rename(path, kept);
	warn(h,
	    xasprintf("history spool %s: %s at octet %lld%s; what came "
	              "before it is in the history, the file is kept as %s",
	        path,
	        prc == PARSE_TORN ? "a record cut short (its ehlo died "
	                            "while writing it?)"
	                          : "a damaged record",
	        (long long)off, reason, kept));
	free(reason);
	free(kept);
}

/*
 * Imports the file name of dir.  Returns 0 (imported, skipped, or kept
 * with a warning), or -1 with *errstr when the database failed.
 */
static int
import_file(struct hist *h, const char *dir, const char *name, char **errstr)
{
	char *path = xasprintf("%s/%s", dir, name), *why = NULL;
	enum parse_rc prc = PARSE_END;
	struct sfile sf;
	struct stat sb;
	off_t off = 0;
	int fd, bad = 0, rc;

	/* Gone (another importer took it), or not ours to read. */
	if ((fd = open_ours(path, &sb)) == -1) {
		free(path);
		return 0;
	}
	/* Locked: its writer is still running (or another importer). */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		(void)close(fd);
		free(path);
		return 0;
	}
	rc = sfile_init(&sf, fd, sb.st_size);
	if (rc == 0) {
		/* Empty: a writer that died before its magic. */
		(void)unlink(path);
		rc = 0;
		goto out;
	}
	if (rc == -1) {
		keep_damaged(h, path, 0, PARSE_BAD, "not a spool file");
		rc = 0;
		goto out;
	}
	rc = import_records(h, name, &sf, sb.st_size, &off, &prc, &bad, errstr);
	if (rc == IMPORT_REFUSED) {
		/* Again, up to the record the database refused. */
		why = *errstr;
		*errstr = NULL;
		rc =
		    import_records(h, name, &sf, off, &off, &prc, &bad, errstr);
		bad = 1;
		prc = PARSE_BAD;
	}
	if (rc == -1 || rc == IMPORT_REFUSED)
		goto out;
	if (rc == IMPORT_DONE_BEFORE) {
		/*
		 * A crash kept its removal from happening; if it was kept
		 * for damage, keep it still.
		 */
		if (sfile_clean(&sf))
			(void)unlink(path);
		else
			keep_damaged(h, path, sf.pos, PARSE_BAD, NULL);
		rc = 0;
		goto out;
	}
	if (bad || prc != PARSE_END)
		keep_damaged(h, path, off,
		    bad && prc == PARSE_END ? PARSE_BAD : prc, why);
	else
		(void)unlink(path);
	rc = 0;
out:
	sfile_done(&sf);
	free(why);
	(void)close(fd);
	free(path);
	return rc;
}

/*
 * Removes the .tmp files of writers that died between creating their
 * file and naming it (unlocked, and older than a minute).
 */
static void
remove_stale_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	time_t now = time(NULL);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *path;
		int fd;

		if (!named(e->d_name, ".tmp"))
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if ((fd = open_ours(path, &sb)) != -1) {
			if (now - sb.st_mtime > 60 &&
			    flock(fd, LOCK_EX | LOCK_NB) == 0)
				(void)unlink(path);
			(void)close(fd);
		}
		free(path);
	}
	(void)closedir(d);
}

void
hist_spool_import(struct hist *h)
{
	struct dirent **list = NULL;
	char *dir = spool_dir(h->path), *err = NULL;
	struct stat sb;
	int n, k, rc = 0;

	n = list_spools(dir, &list);
	if (n < 0 && lstat(dir, &sb) == 0)
		warn(h,
		    xasprintf("history spool %s is not a directory of "
		              "yours; nothing in it is imported",
		        dir));
	for (k = 0; k < n && rc == 0; k++)
		rc = import_file(h, dir, list[k]->d_name, &err);
	if (rc == -1) {
		/* The database is still usable: say so, and try next time. */
		warn(h,
		    xasprintf("%d spool file(s) in %s not imported yet: "
		              "%s",
		        n - k + 1, dir, err != NULL ? err : "unknown error"));
		free(err);
	}
	if (n > 0)
		free_list(list, n);
	if (n >= 0)
		remove_stale_tmp(dir);
	free(dir);
}

char *
hist_spool_take(struct hist *h)
{
	char *kept = h->warnings, *out, *err = NULL;

	if (h->db == NULL || h->readonly)
		return NULL;
	/* The import's own transactions must not take the batch along. */
	if (hist_tx_commit(h, &err) == -1)
		return err;
	h->warnings = NULL;
	hist_spool_import(h);
	out = h->warnings;
	h->warnings = kept;
	return out;
}

int
hist_spool_pending(const char *db, int *live)
{
	struct dirent **list = NULL;
	char *dir = spool_dir(db);
	int n = list_spools(dir, &list), k;

	if (live != NULL)
		*live = 0;
	for (k = 0; k < n && live != NULL; k++) {
		char *path = xasprintf("%s/%s", dir, list[k]->d_name);
		struct stat sb;
		int fd = open_ours(path, &sb);

		/* Held: the ehlo writing it still runs. */
		if (fd != -1 && flock(fd, LOCK_SH | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK)
			(*live)++;
		if (fd != -1)
			(void)close(fd);
		free(path);
	}
	if (n > 0)
		free_list(list, n);
	free(dir);
	return n < 0 ? 0 : n;
}
