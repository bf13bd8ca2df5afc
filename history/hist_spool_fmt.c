/*
 * The spool file's format, and the spool directory.
 *
 * Layout: beside the database DB, the directory DB-spool (mode 0700),
 * one file per recording process, mode 0600, named
 * <microseconds, 16 hex>-<pid>-<random>.spool so names sort by start
 * time (hist_spool_sink.c writes them, hist_spool_import.c takes them
 * in).
 *
 * Format: the magic "EHLOSPL1", then records.  Each record is a type
 * octet, the payload length (u32, little-endian), the payload, and an
 * FNV-1a check (u32) of the type, length and payload.  A payload is a
 * fixed list of fields per type: integers as 8 octets little-endian,
 * strings as a u32 length (0xffffffff: NULL) and the octets.  Every
 * record names its session by a local number (1, 2, ... in the file);
 * the importer maps it to the database's id.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "history/hist_fs.h"
#include "history/hist_spool_fmt.h"

#define HIST_SPOOL_NULL 0xffffffffu

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

void
hist_spool_put_i64(struct buf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;

	put_u32(b, (uint32_t)u);
	put_u32(b, (uint32_t)(u >> 32));
}

void
hist_spool_put_bytes(struct buf *b, const void *p, size_t len)
{
	if (p == NULL || len >= HIST_SPOOL_NULL) {
		put_u32(b, HIST_SPOOL_NULL);
		return;
	}
	put_u32(b, (uint32_t)len);
	(void)buf_add(b, p, len);
}

void
hist_spool_put_str(struct buf *b, const char *s)
{
	hist_spool_put_bytes(b, s, s != NULL ? strlen(s) : 0);
}

static uint32_t
get_u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Starts a record of type for local session lid in sp->rec. */

void
hist_spool_rec_start(struct buf *rec, enum hist_sp_rec type, int64_t lid)
{
	unsigned char t = (unsigned char)type;

	buf_clear(rec);
	(void)buf_add(rec, &t, 1);
	put_u32(rec, 0); /* the length, set by the framing */
	hist_spool_put_i64(rec, lid);
}

int
hist_spool_rec_frame(struct buf *out, struct buf *rec)
{
	unsigned char *r = (unsigned char *)buf_peek(rec);
	size_t n = buf_used(rec);
	uint32_t len = (uint32_t)(n - 5);

	if (n - 5 > HIST_SPOOL_REC_MAX)
		return -1;
	r[1] = (unsigned char)len;
	r[2] = (unsigned char)(len >> 8);
	r[3] = (unsigned char)(len >> 16);
	r[4] = (unsigned char)(len >> 24);
	(void)buf_add(out, r, n);
	put_u32(out, fnv1a(2166136261u, r, n));
	return 0;
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
	if (n == HIST_SPOOL_NULL)
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

void
hist_sprec_free(struct hist_sprec *x)
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
static const char *const layout[HIST_SP_LAST + 1] = {
    [HIST_SP_BEGIN] = "isisi", /* started server port tls_mode replay_of */
    [HIST_SP_CAPS] = "s",
    [HIST_SP_PLAIN_CAPS] = "s",
    [HIST_SP_TLS] = "s",
    [HIST_SP_LABEL] = "s",
    [HIST_SP_NOTES] = "s",
    /* seq t_us dir text stage code enhanced flags stage_no group lat */
    [HIST_SP_EVENT] = "iisssisiiii",
    /* seq stage code enhanced stage_no latency */
    [HIST_SP_REPLY] = "isisii",
    /* seq kind path size lines sha256 first_lines content print */
    [HIST_SP_BODY] = "issiissss",
    [HIST_SP_END] = "ii", /* ended exit_status */
};

/*
 * Decodes the whole record p[0..n) (hist_sfile_next checked its type
 * and length): HIST_SP_PARSE_OK with x filled, or HIST_SP_PARSE_BAD
 * (wrong check, fields that do not fill the payload exactly, no
 * session number).
 */
static enum hist_sp_parse
parse_rec(const unsigned char *p, size_t n, struct hist_sprec *x)
{
	size_t si = 0, ii = 0;
	const char *f;
	struct rd r;

	memset(x, 0, sizeof *x);
	if (fnv1a(2166136261u, p, n - 4) != get_u32le(p + n - 4))
		return HIST_SP_PARSE_BAD;
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
		hist_sprec_free(x);
		return HIST_SP_PARSE_BAD;
	}
	return HIST_SP_PARSE_OK;
}

/*
 * Opens path for reading when it is a regular file owned by this user:
 * never a FIFO (it would block) nor another user's file (not ours to
 * trust).  Returns the descriptor, or -1.
 */
int
hist_sfile_init(struct hist_sfile *sf, int fd, off_t size)
{
	unsigned char magic[HIST_SPOOL_MAGIC_LEN];

	memset(sf, 0, sizeof *sf);
	sf->fd = fd;
	sf->size = size;
	sf->pos = HIST_SPOOL_MAGIC_LEN;
	if (size == 0)
		return 0;
	if (size < HIST_SPOOL_MAGIC_LEN ||
	    hist_fs_read_at(fd, magic, sizeof magic, 0) == -1 ||
	    memcmp(magic, HIST_SPOOL_MAGIC, HIST_SPOOL_MAGIC_LEN) != 0)
		return -1;
	return 1;
}

/*
 * The next record: HIST_SP_PARSE_OK (x filled, sf->pos past it),
 * HIST_SP_PARSE_END at the end, HIST_SP_PARSE_TORN when the file ends
 * inside it, HIST_SP_PARSE_BAD.
 */
enum hist_sp_parse
hist_sfile_next(struct hist_sfile *sf, struct hist_sprec *x)
{
	unsigned char hd[5];
	off_t left = sf->size - sf->pos;
	size_t n;
	uint32_t len;
	enum hist_sp_parse rc;

	memset(x, 0, sizeof *x);
	if (left <= 0)
		return HIST_SP_PARSE_END;
	if (hist_fs_read_at(sf->fd, hd, left < 5 ? (size_t)left : 5, sf->pos) ==
	    -1)
		return HIST_SP_PARSE_BAD;
	if (hd[0] < HIST_SP_BEGIN || hd[0] > HIST_SP_LAST)
		return HIST_SP_PARSE_BAD;
	if (left < 5)
		return HIST_SP_PARSE_TORN;
	len = get_u32le(hd + 1);
	if (len > HIST_SPOOL_REC_MAX)
		return HIST_SP_PARSE_BAD;
	n = 5 + (size_t)len + 4;
	if ((uint64_t)left < n)
		return HIST_SP_PARSE_TORN;
	if (sf->cap < n) {
		free(sf->buf);
		sf->buf = xmalloc(n);
		sf->cap = n;
	}
	if (hist_fs_read_at(sf->fd, sf->buf, n, sf->pos) == -1)
		return HIST_SP_PARSE_BAD;
	rc = parse_rec(sf->buf, n, x);
	if (rc == HIST_SP_PARSE_OK)
		sf->pos += (off_t)n;
	return rc;
}

void
hist_sfile_done(struct hist_sfile *sf)
{
	free(sf->buf);
	sf->buf = NULL;
}

int
hist_spool_list(const char *dir, struct dirent ***list)
{
	int n, i, k = 0;

	*list = NULL;
	if (!hist_fs_dir_ours(dir) ||
	    (n = scandir(dir, list, NULL, alphasort)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (hist_fs_named((*list)[i]->d_name, HIST_SPOOL_SUFFIX))
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

void
hist_spool_list_free(struct dirent **list, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

char *
hist_spool_dir(const char *db)
{
	return xasprintf("%s-spool", db);
}
