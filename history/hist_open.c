/*
 * The history database: where it lives, opening it safely, and the
 * schema with its forward migrations (the handle's shared machinery
 * is hist_db.c).  Only this folder includes sqlite3.h (DESIGN.md
 * section 5).
 *
 * The schema version is PRAGMA user_version.  schema_steps[] holds one
 * entry per version, each the SQL that takes the previous version to
 * it; hist_open() applies the missing ones in one IMMEDIATE transaction
 * so a database is never left half-migrated.  Steps are only ever
 * appended: a released step is never edited.
 *
 * Safety rules: SQLite never creates the file itself (we create it with
 * mode 0600 first, so WAL and SHM files inherit that mode); a file that
 * is not a database, or is damaged, is reported and left untouched; a
 * locked or read-only database fails with a message that says what to
 * do, and the caller carries on without history.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "history/hist_db.h"
#include "history/hist_pin.h"
#include "history/hist_spool_import.h"
#include "history/history.h"

/* Version 1: sessions and their dialogue, the first released schema. */
static const char schema_v1[] =
    "CREATE TABLE sessions ("
    " id INTEGER PRIMARY KEY,"
    " started INTEGER NOT NULL,"
    " ended INTEGER,"
    " server TEXT NOT NULL,"
    " port INTEGER NOT NULL,"
    " tls_mode TEXT NOT NULL,"
    " tls TEXT,"
    " caps TEXT,"
    " exit_status INTEGER,"
    " label TEXT,"
    " notes TEXT);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY,"
    " session_id INTEGER NOT NULL REFERENCES sessions(id),"
    " seq INTEGER NOT NULL,"
    " t_us INTEGER NOT NULL,"
    " dir TEXT NOT NULL CHECK (dir IN ('C', 'S', '*')),"
    " text TEXT NOT NULL,"
    " stage TEXT,"
    " code INTEGER,"
    " enhanced TEXT,"
    " flags INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (session_id, seq));";

/* Version 2: replay links, stage links, bodies, drafts, input history. */
static const char schema_v2[] =
    "ALTER TABLE sessions ADD COLUMN replay_of INTEGER"
    " REFERENCES sessions(id);"
    "ALTER TABLE events ADD COLUMN stage_no INTEGER;"
    "ALTER TABLE events ADD COLUMN grp INTEGER;"
    "ALTER TABLE events ADD COLUMN latency_us INTEGER;"
    "CREATE TABLE bodies ("
    " id INTEGER PRIMARY KEY,"
    " session_id INTEGER NOT NULL REFERENCES sessions(id),"
    " seq INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('inline', 'file', 'draft')),"
    " path TEXT,"
    " size INTEGER NOT NULL,"
    " lines INTEGER NOT NULL,"
    " sha256 TEXT,"
    " first_lines TEXT,"
    " content BLOB,"
    " UNIQUE (session_id, seq));"
    "CREATE TABLE drafts ("
    " id INTEGER PRIMARY KEY,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " env_from TEXT,"
    " env_to TEXT,"
    " headers TEXT,"
    " body BLOB,"
    " attachments TEXT);"
    "CREATE TABLE input_history ("
    " id INTEGER PRIMARY KEY,"
    " line TEXT NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE INDEX sessions_started ON sessions(started);";

/*
 * Version 3: full-text search.  The dialogue index (events_fts) is an
 * external-content FTS5 table filled in batches, not by a trigger:
 * indexing each row in its own autocommit transaction made FTS5 write a
 * segment per row and tripled the cost of recording.  fts_state holds
 * the highest events.id indexed; hist_fts_catch_up() indexes the rows
 * above it (at the end of a session, when a database is opened, and
 * before a search).  Event text is never updated; a deleted row is
 * removed from the index only when it was indexed.  Labels and notes
 * change rarely and keep their triggers.
 */
static const char schema_v3[] =
    "CREATE VIRTUAL TABLE events_fts USING fts5(text,"
    " content='events', content_rowid='id');"
    "CREATE TABLE fts_state (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " last_event_id INTEGER NOT NULL);"
    "INSERT INTO fts_state VALUES (1, 0);"
    "CREATE TRIGGER events_fts_ad AFTER DELETE ON events"
    " WHEN old.id <= (SELECT last_event_id FROM fts_state) BEGIN"
    " INSERT INTO events_fts(events_fts, rowid, text)"
    "  VALUES ('delete', old.id, old.text);"
    " END;"
    "CREATE VIRTUAL TABLE sessions_fts USING fts5(label, notes,"
    " content='sessions', content_rowid='id');"
    "CREATE TRIGGER sessions_fts_ai AFTER INSERT ON sessions BEGIN"
    " INSERT INTO sessions_fts(rowid, label, notes)"
    "  VALUES (new.id, new.label, new.notes);"
    " END;"
    "CREATE TRIGGER sessions_fts_ad AFTER DELETE ON sessions BEGIN"
    " INSERT INTO sessions_fts(sessions_fts, rowid, label, notes)"
    "  VALUES ('delete', old.id, old.label, old.notes);"
    " END;"
    "CREATE TRIGGER sessions_fts_au AFTER UPDATE OF label, notes"
    " ON sessions BEGIN"
    " INSERT INTO sessions_fts(sessions_fts, rowid, label, notes)"
    "  VALUES ('delete', old.id, old.label, old.notes);"
    " INSERT INTO sessions_fts(rowid, label, notes)"
    "  VALUES (new.id, new.label, new.notes);"
    " END;"
    "INSERT INTO sessions_fts(sessions_fts) VALUES ('rebuild');";

/*
 * Version 4: the capabilities of the last EHLO before TLS (plain_caps),
 * kept apart from caps (which the EHLO after STARTTLS overwrites) so a
 * later session can tell that STARTTLS went missing.  Sessions that
 * never had TLS recorded their plain capabilities in caps already.
 */
static const char schema_v4[] =
    "ALTER TABLE sessions ADD COLUMN plain_caps TEXT;"
    "UPDATE sessions SET plain_caps = caps"
    " WHERE tls IS NULL AND tls_mode <> 'tls';"
    "CREATE INDEX sessions_server ON sessions(server, port);";

/*
 * Version 5: whether the plain-text EHLO offered STARTTLS, as a column
 * with a partial index, so the downgrade check at each session's EHLO
 * finds the newest such session of a server directly instead of reading
 * every earlier session of that server (it grew with the history).
 */
static const char schema_v5[] =
    "ALTER TABLE sessions ADD COLUMN plain_starttls INTEGER;"
    "UPDATE sessions SET plain_starttls = 1 WHERE plain_caps IS NOT NULL"
    " AND (instr(char(10) || upper(plain_caps) || char(10),"
    "  char(10) || 'STARTTLS' || char(10)) > 0"
    " OR instr(char(10) || upper(plain_caps),"
    "  char(10) || 'STARTTLS ') > 0);"
    "CREATE INDEX sessions_starttls ON sessions(server, port)"
    " WHERE plain_starttls = 1;";

/*
 * Version 6: the spool files imported (hist_spool_import.c), so a file whose
 * removal a crash prevented is not imported twice.
 */
static const char schema_v6[] = "CREATE TABLE spool_imports ("
                                " name TEXT PRIMARY KEY,"
                                " imported INTEGER NOT NULL) WITHOUT ROWID;";

/* schema_steps[v - 1] takes version v - 1 to v. */
static const char *const schema_steps[] = {
    schema_v1, schema_v2, schema_v3, schema_v4, schema_v5, schema_v6};

#define SCHEMA_LATEST ((int)(sizeof schema_steps / sizeof schema_steps[0]))

char *
hist_db_path(const char *explicit_path, char **errstr)
{
	const char *v;

	if (explicit_path != NULL && *explicit_path != '\0')
		return xstrdup(explicit_path);
	if ((v = getenv("EHLO_DB")) != NULL && *v != '\0')
		return xstrdup(v);
	if ((v = getenv("XDG_DATA_HOME")) != NULL && *v == '/')
		return xasprintf("%s/ehlo/ehlo.db", v);
	if ((v = getenv("HOME")) != NULL && *v == '/')
		return xasprintf("%s/.local/share/ehlo/ehlo.db", v);
	*errstr = xstrdup("cannot place the history database: HOME is not "
	                  "set; use --db PATH or --no-history");
	return NULL;
}

int
hist_schema_latest(void)
{
	return SCHEMA_LATEST;
}

/* ---- opening ------------------------------------------------------ */

/*
 * Makes the directories above path that are missing, mode 0700.
 * Existing directories are not touched.
 */
static int
make_parents(const char *path, char **errstr)
{
	char *dir = xstrdup(path), *p;
	struct stat sb;

	p = strrchr(dir, '/');
	if (p == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	if (stat(dir, &sb) == 0) {
		free(dir);
		return 0;
	}
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		goto fail;
	free(dir);
	return 0;
fail:
	*errstr = xasprintf("history database %s: cannot create the "
	                    "directory %s: %s; use --db PATH or --no-history",
	    path, dir, strerror(errno));
	free(dir);
	return -1;
}

/* Creates an empty file with mode 0600 unless it exists. */
static int
create_file(const char *path, char **errstr)
{
	int fd;

	fd = open(
	    path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1 && errno == EEXIST)
		return 0;
	if (fd == -1) {
		*errstr = xasprintf("history database %s: cannot create it: "
		                    "%s; use --db PATH or --no-history",
		    path, strerror(errno));
		return -1;
	}
	(void)close(fd);
	return 0;
}

/*
 * Steps from the database's version up to `to`, in one IMMEDIATE
 * transaction (BUSY waits for other writers up to the timeout).  The
 * database is unchanged on failure.
 */
static int
hist_migrate(struct hist *h, int to, char **errstr)
{
	char *setv;
	int v, rc;

	if (to > SCHEMA_LATEST)
		to = SCHEMA_LATEST;
	if (hist_exec(h, "BEGIN IMMEDIATE", "locking for the schema update",
	        errstr) == -1)
		return -1;
	/* Read inside the lock: another ehlo may have just migrated. */
	if (hist_query_int(h, "PRAGMA user_version", &v,
	        "reading the schema "
	        "version",
	        errstr) == -1)
		goto fail;
	for (; v < to; v++)
		if (hist_exec(h, schema_steps[v], "updating the schema",
		        errstr) == -1)
			goto fail;
	setv = xasprintf("PRAGMA user_version = %d", v);
	rc = hist_exec(h, setv, "updating the schema version", errstr);
	free(setv);
	if (rc == -1)
		goto fail;
	if (hist_exec(h, "COMMIT", "committing the schema update", errstr) ==
	    -1)
		goto fail;
	return 0;
fail:
	(void)sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * A WAL database is read through its index file (-shm), which SQLite
 * creates beside it even to read; on a read-only mount or a full disk
 * it cannot, and even `ehlo history` failed.  When there is no WAL
 * content to miss (no -wal file, or an empty one), the file is read
 * as immutable instead: no index, no locks (issue 21 item 8).  0, or -1
 * leaving h->db closed.
 */
static int
reopen_immutable(struct hist *h)
{
	struct buf uri;
	struct stat sb;
	char *wal = xasprintf("%s-wal", h->path);
	const char *p;
	int rc;

	rc = stat(wal, &sb);
	free(wal);
	if (rc == 0 && sb.st_size > 0)
		return -1;
	buf_init(&uri, 0);
	(void)buf_add_str(&uri, "file:");
	for (p = h->path; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("/-._~", c) != NULL)
			(void)buf_add(&uri, p, 1);
		else
			(void)buf_add_printf(&uri, "%%%02X", c);
	}
	(void)buf_add_str(&uri, "?immutable=1");
	(void)buf_add(&uri, "", 1);
	(void)sqlite3_close(h->db);
	h->db = NULL;
	rc = sqlite3_open_v2(buf_peek(&uri), &h->db,
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
	buf_reset(&uri);
	if (rc != SQLITE_OK) {
		(void)sqlite3_close(h->db);
		h->db = NULL;
		return -1;
	}
	(void)sqlite3_extended_result_codes(h->db, 1);
	return 0;
}

/* The file cannot be written: because of its file system? */
static char *
why_not_writable(const char *path)
{
	char *m = NULL;

	if (access(path, W_OK) == -1)
		m = hist_errmsg_errno(path, errno, "opening");
	return m != NULL ? m
	                 : hist_errmsg_rc(path, SQLITE_READONLY, "opening",
	                       "the file is not writable");
}

struct hist *
hist_open(const char *path, unsigned flags, char **errstr)
{
	struct hist *h;
	struct stat sb;
	int ro = (flags & HIST_OPEN_READONLY) != 0, rc, v;
	const char *mode;

	if (stat(path, &sb) == -1) {
		if (errno != ENOENT || ro || (flags & HIST_OPEN_NOCREATE)) {
			*errstr = errno == ENOENT
			    ? xasprintf(
			          "no history yet: %s does not exist", path)
			    : xasprintf("history database %s: %s", path,
			          strerror(errno));
			return NULL;
		}
		if (make_parents(path, errstr) == -1 ||
		    create_file(path, errstr) == -1)
			return NULL;
	} else if (!S_ISREG(sb.st_mode)) {
		*errstr = xasprintf("history database %s is not a regular "
		                    "file; use --db PATH or --no-history",
		    path);
		return NULL;
	}

	/*
	 * No allocation statistics: they take a global mutex around every
	 * SQLite malloc and free, a cost on each row recorded.  Only
	 * possible before SQLite initialises (later calls fail harmlessly).
	 */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	h = xcalloc(1, sizeof *h);
	h->path = xstrdup(path);
	h->readonly = ro;
	/* No SQLITE_OPEN_CREATE: the file exists, with our mode. */
	rc = sqlite3_open_v2(path, &h->db,
	    (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
	        SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		*errstr = h->db != NULL
		    ? hist_errmsg(h, "opening")
		    : hist_errmsg_rc(path, rc, "opening", NULL);
		goto fail;
	}
	(void)sqlite3_extended_result_codes(h->db, 1);
	(void)sqlite3_busy_timeout(h->db, HIST_BUSY_TIMEOUT_MS);
	if (!ro && sqlite3_db_readonly(h->db, "main") == 1) {
		*errstr = why_not_writable(path);
		goto fail;
	}
	/* The first read: a file that is not a database fails here. */
	if (hist_query_int(h, "SELECT count(*) FROM sqlite_schema", &v,
	        "reading", errstr) == -1) {
		int erc = sqlite3_errcode(h->db) & 0xff;

		/* Only where the file system is to blame: never around a lock
		 * (another writer) or a damaged file. */
		if (!ro ||
		    (erc != SQLITE_IOERR && erc != SQLITE_CANTOPEN &&
		        erc != SQLITE_READONLY && erc != SQLITE_FULL) ||
		    reopen_immutable(h) == -1)
			goto fail;
		free(*errstr);
		*errstr = NULL;
		if (hist_query_int(h, "SELECT count(*) FROM sqlite_schema", &v,
		        "reading", errstr) == -1)
			goto fail;
	}
	if (hist_query_int(h, "PRAGMA user_version", &v,
	        "reading the schema "
	        "version",
	        errstr) == -1)
		goto fail;
	if (v > SCHEMA_LATEST && !ro) {
		*errstr = xasprintf(
		    "history database %s has schema version %d, "
		    "newer than this ehlo knows (%d); ehlo will not change it: "
		    "use a newer ehlo, or --db PATH",
		    path, v, SCHEMA_LATEST);
		goto fail;
	}
	if (ro)
		return h;
	{
		sqlite3_stmt *st;

		if (sqlite3_prepare_v2(h->db, "PRAGMA journal_mode = WAL", -1,
		        &st, NULL) != SQLITE_OK) {
			*errstr = hist_errmsg(h, "switching to WAL");
			goto fail;
		}
		rc = sqlite3_step(st);
		mode = rc == SQLITE_ROW
		    ? (const char *)sqlite3_column_text(st, 0)
		    : NULL;
		if (mode == NULL || strcmp(mode, "wal") != 0) {
			*errstr = rc == SQLITE_ROW
			    ? xasprintf("history database %s: cannot use "
			                "WAL journaling (got %s); use --db "
			                "PATH on a local disk",
			          path, mode != NULL ? mode : "nothing")
			    : hist_errmsg(h, "switching to WAL");
			(void)sqlite3_finalize(st);
			goto fail;
		}
		(void)sqlite3_finalize(st);
	}
	if (hist_exec(h,
	        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
	        "setting options", errstr) == -1)
		goto fail;
	if (v < SCHEMA_LATEST && hist_migrate(h, SCHEMA_LATEST, errstr) == -1)
		goto fail;
	/* Rows of sessions that crashed (or of older versions). */
	if (hist_fts_catch_up(h, errstr) == -1)
		goto fail;
	/* Sessions that short-lived processes left in the spool. */
	hist_spool_import(h);
	if (hist_pin_build(h, errstr) == -1)
		goto fail;
	return h;
fail:
	hist_close(h);
	return NULL;
}
