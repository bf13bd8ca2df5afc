/*
 * Private to history/: the spool file's format (see hist_spool_fmt.c)
 * and where the spool files live, shared by the writer
 * (hist_spool_sink.c) and the import (hist_spool_import.c).
 */
#ifndef EHLO_HISTORY_HIST_SPOOL_FMT_H
#define EHLO_HISTORY_HIST_SPOOL_FMT_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

#define HIST_SPOOL_MAGIC "EHLOSPL1"
#define HIST_SPOOL_MAGIC_LEN 8
#define HIST_SPOOL_SUFFIX ".spool"
/* One record's payload at most (a body's content is up to 64 KiB). */
#define HIST_SPOOL_REC_MAX (16u << 20)

/* Record types (stored: stable values). */
enum hist_sp_rec {
	HIST_SP_BEGIN = 1,
	HIST_SP_CAPS,
	HIST_SP_PLAIN_CAPS,
	HIST_SP_TLS,
	HIST_SP_LABEL,
	HIST_SP_NOTES,
	HIST_SP_EVENT,
	HIST_SP_REPLY,
	HIST_SP_BODY,
	HIST_SP_END,
	HIST_SP_LAST = HIST_SP_END
};

/* ---- writing ------------------------------------------------------- */

/* Starts a record of type for local session lid in rec (emptied). */
void hist_spool_rec_start(struct buf *rec, enum hist_sp_rec type, int64_t lid);

/* Fields, appended in the order of the type's layout. */
void hist_spool_put_i64(struct buf *, int64_t);
void hist_spool_put_bytes(struct buf *, const void *p, size_t len);
void hist_spool_put_str(struct buf *, const char *s); /* NULL: NULL */

/*
 * Sets rec's length and appends it, with its check, to out.  Returns 0,
 * or -1 when the payload is larger than HIST_SPOOL_REC_MAX (the import
 * would call it damaged): nothing is appended then.
 */
int hist_spool_rec_frame(struct buf *out, struct buf *rec);

/* ---- reading ------------------------------------------------------- */

/* One parsed record: its fields in layout order, strings allocated. */
struct hist_sprec {
	int type;
	int64_t lid;
	int64_t i[8];
	char *s[7];
	size_t slen[7];
};

void hist_sprec_free(struct hist_sprec *);

enum hist_sp_parse {
	HIST_SP_PARSE_OK,
	HIST_SP_PARSE_END, /* no more records */
	HIST_SP_PARSE_TORN, /* the file ends inside a record */
	HIST_SP_PARSE_BAD /* a record that does not parse */
};

/* A spool file read one record at a time (never whole: no size cap). */
struct hist_sfile {
	int fd;
	off_t size, pos; /* pos: where the next record starts */
	unsigned char *buf;
	size_t cap;
};

/* 1 when fd holds a spool (its magic), 0 when empty, -1 otherwise. */
int hist_sfile_init(struct hist_sfile *, int fd, off_t size);

/*
 * The next record: HIST_SP_PARSE_OK (x filled, pos past it), or why
 * there is none.
 */
enum hist_sp_parse hist_sfile_next(struct hist_sfile *, struct hist_sprec *x);

void hist_sfile_done(struct hist_sfile *);

/* ---- the spool directory ------------------------------------------- */

/* The spool directory of the database at db, allocated. */
char *hist_spool_dir(const char *db);

/*
 * The .spool files of dir, sorted (start order); the count, or -1 when
 * dir is missing or not this user's directory (nothing in it is read:
 * another user could plant records there).
 */
int hist_spool_list(const char *dir, struct dirent ***list);
void hist_spool_list_free(struct dirent **list, int n);

#endif
