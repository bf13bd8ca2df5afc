/*
 * What the history subcommands (history, show, export, replay, drafts)
 * share: opening the store for reading, parsing a session id, loading a
 * session's events into memory, and rendering a session as text or
 * JSON.  Everything read from the database is untrusted and escaped
 * before it is printed.
 */
#ifndef EHLO_TUI_HISTCMD_H
#define EHLO_TUI_HISTCMD_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "history/history.h"

struct cli_opts;

/*
 * Opens the database of o (--db, EHLO_DB, default) without creating
 * it; a newer schema or a read-only file falls back to a read-only
 * open.  Returns the handle; NULL with *missing = 1 when there is no
 * database yet (nothing printed); NULL with *missing = 0 after printing
 * "ehlo: ..." for any other failure.
 */
struct hist *histcmd_open(const struct cli_opts *o, int *missing);

/*
 * Parses "12" or "#12" into *id.  Prints a message and returns -1 when
 * it is not a session number.
 */
int histcmd_parse_id(const char *arg, const char *what, int64_t *id);

/* One event, copied out of the database. */
struct histcmd_events;

/*
 * For show, export and replay: parses idarg, opens the database and
 * loads the session and its events.  Returns EXIT_OK, or EXIT_USAGE
 * after printing why (bad id, no such session, database error).
 */
int histcmd_session_load(const struct cli_opts *, const char *idarg,
    struct hist **, struct hist_session **, struct histcmd_events *);

struct histcmd_event {
	int64_t seq;
	uint64_t t_us;
	char dir;
	char *text; /* NUL-terminated copy; len may be shorter (NULs) */
	size_t len;
	char *stage; /* NULL when none */
	int code;
	char enhanced[16];
	unsigned flags;
	int stage_no;
	int group;
	int64_t latency_us;
};

struct histcmd_events {
	struct histcmd_event *v;
	size_t n;
};

/* Loads every event of a session.  Returns 0, or -1 with *errstr. */
int histcmd_events_load(
    struct hist *, int64_t id, struct histcmd_events *, char **errstr);
/* Frees the events.  */
void histcmd_events_free(struct histcmd_events *);

/*
 * The text to show for an event: the escaped text, with AUTH-stage
 * client lines that are not marked redacted replaced by a placeholder
 * (defence in depth).  Allocated.
 */
char *histcmd_event_text(const struct histcmd_event *);

/*
 * The placeholder shown instead of an event's text (a client AUTH line
 * not marked redacted: it may hold a secret), or NULL.
 */
const char *histcmd_event_hidden(const struct histcmd_event *);

/*
 * The session's outcome in words (host_outcome_words): "ok", "failed
 * 550 5.1.1", "temporary failure 451 4.7.1", "network error",
 * "aborted", ...; the reply is the session's last 4xx/5xx, taken from
 * es when not NULL, else read from h (when not NULL).  Writes into buf.
 */
const char *histcmd_outcome_words(struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es, char *buf, size_t len);

/* "2024-06-03 10:11:12" in local time (utc 0) or UTC (utc 1). */
void histcmd_time(int64_t t, int utc, char *out, size_t outlen);

/* host:port, with [] around IPv6 literals; a UNIX socket (port 0) as
 * its path.  Allocated. */
char *histcmd_server(const struct hist_session *);
/*
 * Issue 18: the SOCKS5 proxy a recorded session went through, from its
 * note "SOCKS5 via ADDR: connected to SERVER" (protocol/client.c):
 * ADDR, allocated, or NULL.
 */
char *histcmd_socks_via(const struct histcmd_events *);

/*
 * The configuration's history_retention: deletes the sessions older
 * than that age (nothing when none is set or the database is read-only).
 * Returns 0, or -1 with *errstr.
 */
int histcmd_retention(struct hist *, const struct cli_opts *, char **errstr);

/*
 * How the session trusted its TLS peer, from its recorded TLS details:
 * the CA file it was given (--cafile; allocated, NULL when none) and
 * whether verification was skipped (--insecure) into *insecure.
 */
char *histcmd_session_cafile(const struct hist_session *, int *insecure);

/*
 * The whole session as one top-level JSON object of type "session"
 * (metadata, TLS, capabilities, events, bodies without content); es
 * NULL: a listing, with events and bodies null.  Returns a new
 * reference or NULL with *errstr.
 */
json_t *histcmd_session_json(struct hist *, const struct hist_session *,
    const struct histcmd_events *, char **errstr);

/*
 * Prints the session's header (server, times, outcome, TLS,
 * capabilities, label, notes) as text; the outcome's reply comes from
 * the events.  utc selects the time zone.
 */
void histcmd_print_header(FILE *, const struct hist_session *,
    const struct histcmd_events *, int utc);

/*
 * Prints the dialogue as line mode does with --timing; annotate adds the
 * stage, codes and latency to each reply and a line per message body.
 */
void histcmd_print_dialogue(FILE *, struct hist *, const struct hist_session *,
    const struct histcmd_events *, int annotate);

/*
 * The line-mode script that repeats the session's client side (what
 * `ehlo replay` runs; tui/cmd_replay.c).  Returns it (allocated, *len
 * set) or NULL with *errstr when the session cannot be repeated.
 * Warnings (a /body file changed since) are appended to warnings as
 * lines, or printed on stderr when it is NULL.
 */
char *histcmd_replay_script(struct hist *, const struct hist_session *,
    const struct histcmd_events *, size_t *len, struct buf *warnings,
    char **errstr);
/*
 * The same; pauses 1 turns the user's waits of a second or more before
 * a command into "/sleep SECONDS" lines (histcmd_replay_script does),
 * 0 drops them (--no-pauses).  A failed AUTH exchange is never repeated
 * (a "#" line marks it).
 */
char *histcmd_replay_script_pauses(struct hist *, const struct hist_session *,
    const struct histcmd_events *, size_t *len, struct buf *warnings,
    int pauses, char **errstr);

/*
 * Compares the replies of session ida (es_a, the original) with those
 * of its replay idb (es_b), command by command (volatile parts such as
 * queue ids and times masked), and appends the differences and a
 * summary as text lines ("diff: ...") to text.  Returns the number of
 * differences.
 */
long histcmd_replay_diff(const struct histcmd_events *es_a,
    const struct histcmd_events *es_b, int64_t ida, int64_t idb,
    struct buf *text);
/*
 * The same with --exact (exact 1: the greeting's text, the server's
 * name, queue ids, dates and numbers in replies compared too).
 */
long histcmd_replay_diff_text(const struct histcmd_events *es_a,
    const struct histcmd_events *es_b, int64_t ida, int64_t idb, int exact,
    struct buf *text);
/*
 * The comparison itself (tui/replay_diff.c): exchanges aligned by
 * command, capabilities compared as sets, behaviour changes (reply
 * codes, commands on one side only) first, then capabilities, then
 * wording.  Each difference is appended to arr (JSON objects: command,
 * kind, original, replay; removed/added/changed for capabilities) when
 * not NULL and to text when not NULL.  Returns their number; *compared
 * gets the number of reply pairs compared.
 */
long histcmd_replay_compare(const struct histcmd_events *es_a,
    const struct histcmd_events *es_b, int exact, json_t *arr, struct buf *text,
    long *compared);
/*
 * The exit status of a replay compared with --diff: the replay's own
 * status when the network or the script failed, else 1 when ndiff
 * replies differ, else 0.
 */
int histcmd_replay_exit(int status, long ndiff);

/*
 * Where a replay goes: server when not NULL, else the recorded server
 * (with implicit TLS when it had it), set in o; LMTP (o->lmtp) when the
 * session was LMTP (histcmd_events_lmtp), whatever the server.  Returns
 * the string o now points to when it was allocated (free it after the
 * run), or NULL.  With histcmd_replay_script and linemode_start, a
 * replay in-process.
 */
char *histcmd_replay_target(const struct hist_session *,
    const struct histcmd_events *, const char *server, struct cli_opts *o);

/*
 * 1 when a recorded session spoke LMTP (issue 18): the record says so
 * by its greeting, since ehlo greets with LHLO exactly when it speaks
 * LMTP (--lmtp, lmtp://, a socket) -- the first greeting command row
 * (LHLO, EHLO or HELO) is LHLO.
 */
int histcmd_events_lmtp(const struct histcmd_events *);
/*
 * The PROXY protocol header the session sent (its PROXY row), set in o
 * as --proxy-header, --proxy-source and --proxy-dest so a replay sends
 * it again (tui/replay_proxy.c); nothing when o has its own
 * --proxy-header or the session sent none.  own[0] and own[1] get the
 * strings o now points to (free them after the run; NULL when none).
 * Returns 0, or -1 with *errstr when the row cannot be read back.
 */
int histcmd_replay_proxy(const struct histcmd_events *, struct cli_opts *o,
    char *own[2], char **errstr);

/*
 * `ehlo export --format swaks|curl|script` (tui/export_fmt.c): prints
 * a shell command (swaks, curl) or an `ehlo run` script that repeats
 * the session; what the tool cannot express is listed as comments.
 * Secrets are never included.  pauses as histcmd_replay_script_pauses
 * (script only).  Returns 0, or -1 with *errstr.
 */
int histcmd_export_automation(FILE *, struct hist *,
    const struct hist_session *, const struct histcmd_events *,
    const char *format, int pauses, char **errstr);

#endif
