/*
 * The history store (SQLite, DESIGN.md section 6): one database file
 * holding every recorded session with its dialogue events, message
 * bodies (a summary, the content only when small), drafts, the input
 * line's readline history, and a full-text index (FTS5) over dialogue
 * text, labels and notes.
 *
 * The API takes plain data (strings, integers) so this folder depends
 * on core/ only; tui/record.c maps session events onto it through a
 * sink (hist_sink.h): this database, or a spool file beside it that
 * the next hist_open imports.  Everything
 * read back is untrusted (the file may have been edited): callers escape
 * text before showing it.  Credentials must never be passed in: callers
 * give the redacted display form of AUTH exchanges (the store cannot
 * tell a secret from a word, so this is the caller's contract).
 *
 * Errors: functions return -1 (or NULL) and set *errstr to an allocated
 * message the caller frees.  A locked, read-only, full or damaged
 * database is reported, never "repaired": nothing here deletes or
 * rewrites user data outside the documented updates.
 */
#ifndef EHLO_HISTORY_HISTORY_H
#define EHLO_HISTORY_HISTORY_H

#include <stddef.h>
#include <stdint.h>

/*
 * The database path: explicit (--db) if non-NULL, else $EHLO_DB, else
 * $XDG_DATA_HOME/ehlo/ehlo.db, else $HOME/.local/share/ehlo/ehlo.db.
 * Returns an allocated string, or NULL with *errstr when no home is known.
 */
char *hist_db_path(const char *explicit_path, char **errstr);

/* The SQLite library version, for `ehlo --version`. */
const char *hist_sqlite_version(void);

/* ---- opening ------------------------------------------------------ */

struct hist; /* opaque: one open database */

#define HIST_OPEN_READONLY 0x1 /* never write (no migration, no create) */
#define HIST_OPEN_NOCREATE 0x2 /* fail when the file does not exist */

/* Milliseconds a statement waits for another writer before failing. */
#define HIST_BUSY_TIMEOUT_MS 2000

/* Message content kept in the database only up to this size. */
#define HIST_BODY_INLINE_MAX (64 * 1024)

/*
 * Opens (creating when allowed) the database at path.  Missing parent
 * directories are made with mode 0700 and a new file gets mode 0600;
 * existing directories and files keep their modes.  Sets WAL, a busy
 * timeout and synchronous=NORMAL, then brings the schema forward (one
 * transaction).  Returns NULL with *errstr naming the path and what to
 * do when the file is locked, read-only (without HIST_OPEN_READONLY),
 * not a database, damaged, or written by a newer ehlo.  A file that is
 * not a database is left exactly as it was.
 */
struct hist *hist_open(const char *path, unsigned flags, char **errstr);
/* Closes.  NULL is a no-op. */
void hist_close(struct hist *);

/*
 * What hist_open noticed but did not fail on (a damaged spool file kept
 * aside), one per line, or NULL.
 */
const char *hist_warnings(const struct hist *);

/*
 * How many spool files wait beside the database at path, and in *live
 * (unless NULL) how many of them are still being written (their ehlo
 * runs).
 */
int hist_spool_pending(const char *path, int *live);

/*
 * For a handle kept open (the workbench): imports the spool files
 * (hist_sink_spool) written since it was opened (hist_open imports
 * the ones waiting then), after committing an open hist_tx_begin
 * batch.  Returns what it noticed (allocated, for the user), or NULL.
 */
char *hist_spool_take(struct hist *);

/*
 * A file's SHA-256 (64 hex digits and a NUL into hex) and size; 0, or
 * -1 with *errstr.  A spooled session leaves a /body file's digest to
 * the import (OpenSSL's start-up costs a short process a millisecond),
 * which takes it only when the file is unchanged (same device, inode,
 * size and modification time); history/ has no digest of its own, so
 * tui/ gives it one.
 */
typedef int hist_file_digest_fn(
    const char *path, char *hex, uint64_t *size, char **errstr);
void hist_set_file_digest(hist_file_digest_fn *);

/* The schema version this build writes (PRAGMA user_version). */
int hist_schema_latest(void);
/* The database's schema version (after migration, unless read-only). */
int hist_schema_version(struct hist *);
/* 1 when opened read-only. */
int hist_is_readonly(const struct hist *);
/* The path given to hist_open (owned by the handle). */
const char *hist_path(const struct hist *);

/* ---- batched writing ---------------------------------------------- */

/*
 * Opens a write transaction (BEGIN IMMEDIATE, waiting for another
 * writer as any write does) unless one is already open; the writes that
 * follow join it until hist_tx_commit.  A recorder calls this before
 * each write and commits once per event-loop turn, before anything it
 * recorded is shown (DESIGN.md section 6: what was on screen is in the
 * database), which costs one commit per turn instead of one per row.
 * Returns 0, or -1 with *errstr.
 */
int hist_tx_begin(struct hist *, char **errstr);

/*
 * Commits the transaction hist_tx_begin opened; a no-op (0) when none
 * is open.  On failure the transaction is rolled back (its rows are
 * lost: the caller reports that history stopped) and -1 is returned
 * with *errstr.  hist_close and the functions that need their own
 * transaction (indexing for search, hist_session_end) commit first.
 */
int hist_tx_commit(struct hist *, char **errstr);

/* 1 while a transaction opened by hist_tx_begin is waiting for commit. */
int hist_tx_is_open(struct hist *);

/* ---- sessions ----------------------------------------------------- */

struct hist_session {
	int64_t id;
	int64_t started; /* Unix seconds */
	int64_t ended; /* Unix seconds; 0 while running or after a crash */
	const char *server; /* host as given */
	int port;
	const char *tls_mode; /* "plain", "starttls" or "tls" */
	const char *tls; /* TLS details (JSON text) or NULL */
	const char *caps; /* capabilities, one "KEYWORD params" per line */
	int exit_status; /* -1 while unknown (running, crashed) */
	const char *label; /* NULL when none */
	const char *notes;
	int64_t replay_of; /* 0 when not a replay */
	int64_t nevents;
	uint64_t last_t_us; /* time offset of the last event */
};

/*
 * Starts a session record now.  tls_mode is "plain", "starttls" or
 * "tls"; replay_of is the original session's id or 0.  Returns the new
 * id (> 0) or -1 with *errstr.
 */
int64_t hist_session_begin(struct hist *, const char *server, int port,
    const char *tls_mode, int64_t replay_of, char **errstr);

/* A session's facts, by what hist_sink_set records. */
enum hist_fact {
	HIST_FACT_CAPS, /* hist_session_set_caps */
	HIST_FACT_PLAIN_CAPS, /* hist_session_set_plain_caps */
	HIST_FACT_TLS, /* hist_session_set_tls */
	HIST_FACT_LABEL, /* hist_session_set_label */
	HIST_FACT_NOTES /* hist_session_set_notes */
};

/*
 * Capabilities (one per line), TLS details (any text; tui stores JSON),
 * label and notes of a session; NULL clears.  Each returns 0, or -1 with
 * *errstr (also when the session does not exist).
 */
int hist_session_set_caps(struct hist *, int64_t id, const char *, char **);
int hist_session_set_tls(struct hist *, int64_t id, const char *, char **);
int hist_session_set_label(struct hist *, int64_t id, const char *, char **);
int hist_session_set_notes(struct hist *, int64_t id, const char *, char **);

/*
 * The capabilities of the session's last EHLO before TLS (same form as
 * hist_session_set_caps, which the EHLO after STARTTLS overwrites).
 */
int hist_session_set_plain_caps(
    struct hist *, int64_t id, const char *, char **);

/*
 * Whether an earlier session with server:port (server as given to
 * hist_session_begin) saw STARTTLS in a plain-text EHLO: a server that
 * offered it before and does not now may have it stripped on the path
 * (a STARTTLS downgrade).  Only sessions with an id below
 * before_session count (<= 0: all).  Returns 1 with the newest such
 * session's id and start time in *id and *started (either may be
 * NULL), 0 when there is none, -1 with *errstr.
 */
int hist_server_had_starttls(struct hist *, const char *server, int port,
    int64_t before_session, int64_t *id, int64_t *started, char **errstr);

/* Marks the session over with its exit status (0..255). */
int hist_session_end(struct hist *, int64_t id, int exit_status, char **);

/* Calls back for each session; return non-zero from the callback to stop. */
typedef int hist_session_cb(const struct hist_session *, void *arg);

/*
 * Lists sessions newest first: at most limit (< 0: all); search, when
 * not NULL or empty, keeps sessions whose dialogue, label or notes hold
 * every word of it (each word matched as an FTS5 phrase, so "5.1.1" or
 * "bob@example.org" need no quoting).  Dialogue is indexed at the end of
 * each session and before each search (not on a read-only handle).  The struct and its strings are
 * valid during the callback only.  Returns the number listed, or -1 with
 * *errstr.
 */
long hist_session_list(struct hist *, long limit, const char *search,
    hist_session_cb *, void *arg, char **errstr);

/*
 * One session, allocated (free with hist_session_free).  Returns NULL
 * with *errstr NULL when there is no such session, or NULL with *errstr
 * on a database error.
 */
struct hist_session *hist_session_get(struct hist *, int64_t id, char **);
/* NULL is a no-op. */
void hist_session_free(struct hist_session *);

/* ---- housekeeping --------------------------------------------------- */

/*
 * Deletes session id with its events, bodies and search index entries;
 * a replay of it keeps its own record (replay_of cleared).  Returns 0,
 * 1 when there is no such session, or -1 with *errstr (a read-only
 * database, a lock).
 */
int hist_session_delete(struct hist *, int64_t id, char **errstr);

/* What a prune counts (and deleted unless dry_run). */
struct hist_prune_count {
	int64_t sessions, events, bodies;
	int64_t cutoff; /* Unix seconds: sessions started before it */
	int vacuumed; /* the file was compacted afterwards */
};

/*
 * Sessions that started more than older_than_seconds ago (before
 * hist_now - older_than_seconds): counted into *count (may be NULL),
 * and deleted as hist_session_delete does unless dry_run.  A prune
 * that leaves more than a quarter of the file free is followed by
 * VACUUM (count->vacuumed).  For `ehlo history prune --older-than` and
 * a configured retention: hist_prune(h, 90 * 86400, 0, NULL, &err).
 * Returns 0, or -1 with *errstr.
 */
int hist_prune(struct hist *, int64_t older_than_seconds, int dry_run,
    struct hist_prune_count *count, char **errstr);

/* ---- events ------------------------------------------------------- */

/* Event flags (stored; stable values). */
#define HIST_EV_REDACTED 0x01 /* text is the redacted form of what was sent */
#define HIST_EV_CONTENT 0x02 /* a line of message content */
#define HIST_EV_SUMMARY 0x04 /* one row standing for streamed content */
#define HIST_EV_WARNING 0x08 /* '*' row: a warning */
#define HIST_EV_FAILURE 0x10 /* '*' row: the failure that ended it */
#define HIST_EV_ELIDED 0x20 /* '*' row: content lines not kept as rows */
#define HIST_EV_REPLY 0x40 /* 'S' row: the last line of a reply */

struct hist_event {
	int64_t seq; /* 1, 2, ... per session, numbered by the writer */
	uint64_t t_us; /* since the session began */
	char dir; /* 'C' client, 'S' server, '*' workbench */
	const char *text; /* raw bytes, may hold NUL: use len */
	size_t len;
	const char *stage; /* "MAIL", "end of data", ... or NULL */
	int code; /* reply code on HIST_EV_REPLY rows, else 0 */
	const char *enhanced; /* "5.1.1", "" or NULL */
	unsigned flags; /* HIST_EV_* */
	int stage_no; /* the session's stage index, -1 when none */
	int group; /* pipelined group, 0 when none */
	int64_t latency_us; /* on reply rows: command to reply, else -1 */
};

/*
 * Appends one event (on disk, in the WAL, when this returns, unless a
 * hist_tx_begin transaction is open: then at hist_tx_commit).  The
 * writer, the session's only one, numbers the rows: ev->seq > 0 and new
 * for the session (no lookup of the last one per row).  A reply's last
 * line can carry its code, enhanced code, stage and latency
 * (HIST_EV_REPLY), or get them later with hist_event_set_reply().
 * Returns ev->seq, or -1 with *errstr.
 */
int64_t hist_session_event(
    struct hist *, int64_t id, const struct hist_event *, char **errstr);

/*
 * Marks event seq as the last line of a reply: sets HIST_EV_REPLY, the
 * stage name, reply code, enhanced code, stage number and latency.
 */
int hist_event_set_reply(struct hist *, int64_t id, int64_t seq,
    const char *stage, int code, const char *enhanced, int stage_no,
    int64_t latency_us, char **errstr);

typedef int hist_event_cb(const struct hist_event *, void *arg);

/*
 * The last 4xx or 5xx reply of session id (an HIST_EV_REPLY row): its
 * code into *code and its enhanced code into enhanced[0..len) (both 0
 * and "" when there is none).  One indexed query, for listings that name
 * a failed session's reply without reading all its events.  Returns 0,
 * or -1 with *errstr.
 */
int hist_session_last_error(struct hist *, int64_t id, int *code,
    char *enhanced, size_t len, char **errstr);

/*
 * Calls back for each event of a session in order (valid during the
 * callback).  Returns the number of events, or -1 with *errstr.
 */
long hist_events_iter(
    struct hist *, int64_t id, hist_event_cb *, void *arg, char **errstr);

/* ---- bodies ------------------------------------------------------- */

struct hist_body {
	int64_t seq; /* the event row the body belongs to (the "." or the
	              * summary row) */
	const char *kind; /* "inline" (typed after DATA), "file" (/body),
	                   * "draft" (/send) */
	const char *path; /* kind "file": the path as given, else NULL */
	uint64_t size; /* octets (file: on disk; inline: as sent) */
	uint64_t lines;
	const char *sha256; /* 64 hex digits, or NULL (the recorder
	                     * leaves it NULL when the content is
	                     * kept: readers digest the content) */
	const char *first_lines; /* a preview, or NULL */
	const void *content; /* the content itself, or NULL */
	size_t content_len;
};

/*
 * Records a message body of a session.  The content is stored only
 * when it is at most HIST_BODY_INLINE_MAX octets or kind is "draft";
 * otherwise only the summary fields are.  Returns 0 or -1 with *errstr.
 */
int hist_body_add(
    struct hist *, int64_t id, const struct hist_body *, char **errstr);

/*
 * The body attached to event seq of a session, allocated (free with
 * hist_body_free); NULL with *errstr NULL when there is none.
 */
struct hist_body *hist_body_get(
    struct hist *, int64_t id, int64_t seq, char **errstr);
/* NULL is a no-op. */
void hist_body_free(struct hist_body *);

/* ---- drafts ------------------------------------------------------- */

struct hist_draft {
	int64_t id; /* 0: a new draft */
	int64_t updated; /* Unix seconds (set by the store) */
	const char *env_from; /* envelope sender, or NULL */
	const char *env_to; /* envelope recipients, a JSON array, or NULL */
	const char *headers; /* header block, CRLF or LF lines, or NULL */
	const char *body; /* may hold NUL: use body_len */
	size_t body_len;
	const char *attachments; /* JSON array of file references, or NULL */
};

/*
 * Inserts (id 0) or replaces draft id, stamping the time.  Returns the
 * draft's id, or -1 with *errstr (also when id does not exist).
 */
int64_t hist_draft_save(struct hist *, const struct hist_draft *, char **);
/* One draft, allocated; NULL with *errstr NULL when there is none. */
struct hist_draft *hist_draft_get(struct hist *, int64_t id, char **);
/* NULL is a no-op. */
void hist_draft_free(struct hist_draft *);

typedef int hist_draft_cb(const struct hist_draft *, void *arg);

/* Drafts, most recently updated first.  Returns the count or -1. */
long hist_draft_list(struct hist *, hist_draft_cb *, void *, char **);
/* Deletes draft id.  Returns 0, 1 when there was none, -1 on error. */
int hist_draft_delete(struct hist *, int64_t id, char **errstr);

/* ---- input line history -------------------------------------------- */

/*
 * Appends a line the user typed on the input line.  The caller must not
 * pass lines typed during an AUTH exchange (they may be secrets).
 */
int hist_input_add(struct hist *, const char *line, char **errstr);

typedef int hist_input_cb(const char *line, int64_t at, void *arg);

/* The last limit lines (< 0: all), oldest first.  Returns count or -1. */
long hist_input_list(
    struct hist *, long limit, hist_input_cb *, void *arg, char **errstr);

#endif
