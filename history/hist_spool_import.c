/*
 * The spool's import: how the next process that opens the database
 * for writing takes in the sessions that short-lived processes left
 * in spool files (hist_spool_sink.c writes them; hist_spool_fmt.c is
 * their format).  It works like a mail system's pickup.
 *
 * For each unlocked .spool file in name order, one transaction that
 * first notes the file's name in spool_imports (a file imported once,
 * whose unlink a crash then prevented, is not imported twice), then
 * replays its records through the store's functions, with the recorded
 * start and end times.  A record that does not parse, is cut short (a
 * writer killed inside a write looks like a changed length field),
 * makes no sense or is refused by the database stops the import there:
 * what came before is imported, and the file is kept as .damaged with
 * a warning.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "history/hist_db.h"
#include "history/hist_fs.h"
#include "history/hist_session.h"
#include "history/hist_spool_fmt.h"
#include "history/hist_spool_import.h"
#include "history/history.h"

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
apply(struct hist *h, const struct hist_sprec *x, struct imap *m, int *bad,
    char **errstr)
{
	static const enum hist_fact set_of[HIST_SP_LAST + 1] = {
	    [HIST_SP_CAPS] = HIST_FACT_CAPS,
	    [HIST_SP_PLAIN_CAPS] = HIST_FACT_PLAIN_CAPS,
	    [HIST_SP_TLS] = HIST_FACT_TLS,
	    [HIST_SP_LABEL] = HIST_FACT_LABEL,
	    [HIST_SP_NOTES] = HIST_FACT_NOTES,
	};
	struct hist_event ev;
	struct hist_body b;
	size_t l = (size_t)x->lid;
	char *now;
	int64_t id;
	int rc;

	if (x->type == HIST_SP_BEGIN) {
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
	case HIST_SP_EVENT:
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
	case HIST_SP_REPLY:
		return hist_event_set_reply(h, id, x->i[0], x->s[0],
		    (int)x->i[1], x->s[1], (int)x->i[2], x->i[3], errstr);
	case HIST_SP_BODY:
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
		now = x->s[5] != NULL ? hist_fs_print(b.path) : NULL;
		rc = hist_body_insert(h, id, &b,
		    now != NULL && strcmp(now, x->s[5]) == 0, errstr);
		free(now);
		return rc;
	case HIST_SP_END:
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

/* import_records results besides 0 (imported) and -1 (database error) */
#define IMPORT_DONE_BEFORE 1 /* the file was imported before */
#define IMPORT_REFUSED 2 /* the database refused a record (at *off) */

/*
 * One transaction: notes the file's name, replays its records up to
 * stop (an offset), and commits.  *off ends at the first record not
 * imported; *prc says why the reading stopped (HIST_SP_PARSE_END: the end, or
 * stop reached); *bad is set when a record makes no sense.
 */
static int
import_records(struct hist *h, const char *name, struct hist_sfile *sf,
    off_t stop, off_t *off, enum hist_sp_parse *prc, int *bad, char **errstr)
{
	struct imap m;
	struct hist_sprec x;
	sqlite3_stmt *st;
	int rc;

	memset(&m, 0, sizeof m);
	sf->pos = HIST_SPOOL_MAGIC_LEN;
	*off = sf->pos;
	*prc = HIST_SP_PARSE_END;
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

		if ((*prc = hist_sfile_next(sf, &x)) != HIST_SP_PARSE_OK)
			break;
		rc = apply(h, &x, &m, bad, errstr);
		hist_sprec_free(&x);
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
	if (*prc == HIST_SP_PARSE_OK)
		*prc = HIST_SP_PARSE_END;
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
sfile_clean(struct hist_sfile *sf)
{
	struct hist_sprec x;
	enum hist_sp_parse prc;

	sf->pos = HIST_SPOOL_MAGIC_LEN;
	while ((prc = hist_sfile_next(sf, &x)) == HIST_SP_PARSE_OK)
		hist_sprec_free(&x);
	return prc == HIST_SP_PARSE_END;
}

/* Keeps the file aside as .damaged, with a warning saying why. */
static void
keep_damaged(struct hist *h, const char *path, off_t off,
    enum hist_sp_parse prc, const char *why)
{
	char *kept = xasprintf("%s.damaged", path);
	char *reason = why != NULL ? xasprintf(" (%s)", why) : xstrdup("");

	(void)rename(path, kept);
	hist_warn(h,
	    xasprintf("history spool %s: %s at octet %lld%s; what came "
	              "before it is in the history, the file is kept as %s",
	        path,
	        prc == HIST_SP_PARSE_TORN ? "a record cut short (its ehlo died "
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
	enum hist_sp_parse prc = HIST_SP_PARSE_END;
	struct hist_sfile sf;
	struct stat sb;
	off_t off = 0;
	int fd, bad = 0, rc;

	/* Gone (another importer took it), or not ours to read. */
	if ((fd = hist_fs_open_ours(path, &sb)) == -1) {
		free(path);
		return 0;
	}
	/* Locked: its writer is still running (or another importer). */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		(void)close(fd);
		free(path);
		return 0;
	}
	rc = hist_sfile_init(&sf, fd, sb.st_size);
	if (rc == 0) {
		/* Empty: a writer that died before its magic. */
		(void)unlink(path);
		rc = 0;
		goto out;
	}
	if (rc == -1) {
		keep_damaged(h, path, 0, HIST_SP_PARSE_BAD, "not a spool file");
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
		prc = HIST_SP_PARSE_BAD;
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
			keep_damaged(h, path, sf.pos, HIST_SP_PARSE_BAD, NULL);
		rc = 0;
		goto out;
	}
	if (bad || prc != HIST_SP_PARSE_END)
		keep_damaged(h, path, off,
		    bad && prc == HIST_SP_PARSE_END ? HIST_SP_PARSE_BAD : prc,
		    why);
	else
		(void)unlink(path);
	rc = 0;
out:
	hist_sfile_done(&sf);
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

		if (!hist_fs_named(e->d_name, ".tmp"))
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if ((fd = hist_fs_open_ours(path, &sb)) != -1) {
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
	char *dir = hist_spool_dir(h->path), *err = NULL;
	struct stat sb;
	int n, k, rc = 0;

	n = hist_spool_list(dir, &list);
	if (n < 0 && lstat(dir, &sb) == 0)
		hist_warn(h,
		    xasprintf("history spool %s is not a directory of "
		              "yours; nothing in it is imported",
		        dir));
	for (k = 0; k < n && rc == 0; k++)
		rc = import_file(h, dir, list[k]->d_name, &err);
	if (rc == -1) {
		/* The database is still usable: say so, and try next time. */
		hist_warn(h,
		    xasprintf("%d spool file(s) in %s not imported yet: "
		              "%s",
		        n - k + 1, dir, err != NULL ? err : "unknown error"));
		free(err);
	}
	if (n > 0)
		hist_spool_list_free(list, n);
	if (n >= 0)
		remove_stale_tmp(dir);
	free(dir);
}

char *
hist_spool_take(struct hist *h)
{
	char *kept = h->warnings, *out, *err = NULL;

	if (h->readonly)
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
	char *dir = hist_spool_dir(db);
	int n = hist_spool_list(dir, &list), k;

	if (live != NULL)
		*live = 0;
	for (k = 0; k < n && live != NULL; k++) {
		char *path = xasprintf("%s/%s", dir, list[k]->d_name);
		struct stat sb;
		int fd = hist_fs_open_ours(path, &sb);

		/* Held: the ehlo writing it still runs. */
		if (fd != -1 && flock(fd, LOCK_SH | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK)
			(*live)++;
		if (fd != -1)
			(void)close(fd);
		free(path);
	}
	if (n > 0)
		hist_spool_list_free(list, n);
	free(dir);
	return n < 0 ? 0 : n;
}
