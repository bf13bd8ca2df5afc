/*
 * Line mode on a loop that already carries something else (the lesson
 * runner's in-process practice server), with a look at the finished
 * session before it is freed; and line mode in-process (a replay in the
 * workbench): a script run on the caller's loop with its dialogue
 * reported through callbacks instead of stdout, cancellable.
 */
#ifndef EHLO_TUI_LINEMODE_H
#define EHLO_TUI_LINEMODE_H

#include <stddef.h>
#include <stdint.h>

struct cli_opts;
struct hist;
struct loop;
struct smtp_event;
struct smtp_session;

/* Called once the dialogue is over, before the session is freed. */
typedef void linemode_done_cb(const struct smtp_session *, void *arg);

/*
 * linemode_run() on the caller's loop (which stays registered with what
 * else it holds, and is not freed); done may be NULL.  Not reentrant.
 */
int linemode_run_on(
    const struct cli_opts *, struct loop *, linemode_done_cb *done, void *arg);

/*
 * For the next linemode_run_on() only (a lesson): reply is called after
 * each complete reply, and the text it returns (allocated, or NULL) is
 * printed as "*: " notes in order with the dialogue; when a person
 * types (stdin and stdout are terminals), prompt shows while input is
 * awaited and the terminal's echo of each typed line gives way to the
 * dialogue's own "C: " line, so nothing shows twice.
 */
typedef char *linemode_reply_cb(
    const struct smtp_session *, const struct smtp_event *, void *arg);
void linemode_set_lesson(
    linemode_reply_cb *reply, void *arg, const char *prompt);

/*
 * In-process line mode.  The dialogue is reported as it happens; errors
 * of the script (recorded, with the exit status they set) go to error.
 */
struct linemode; /* opaque */

struct linemode_cbs {
	/* Every dialogue event (after it was recorded); may be NULL. */
	void (*event)(const struct smtp_event *, void *arg);
	/* A script or workbench error ("/expect 250 failed: ..."). */
	void (*error)(const char *msg, void *arg);
	/*
	 * Once, from the loop, when the session is over: its exit status
	 * (the contract's, 130 when cancelled) and history id (0: not
	 * recorded).  Free the run after the callback returns.
	 */
	void (*done)(int exit_status, int64_t session_id, void *arg);
	void *arg;
};

/*
 * Runs the script text[0..len) (copied; a replay's: the history's
 * replay script) against o->server with o's connection options (o must
 * outlive the run) on loop, recorded into hist (an open database that
 * stays the caller's; NULL: not recorded) with replay_of.  Nothing is
 * printed.  Returns NULL with *errstr when o->server cannot be parsed.
 * /auth in the script asks EHLO_PASSWORD, else the terminal.
 */
struct linemode *linemode_start(struct loop *, const struct cli_opts *o,
    struct hist *hist, const char *text, size_t len, int64_t replay_of,
    const struct linemode_cbs *, char **errstr);
/* From the caller's before-sleep hook, once per loop turn. */
void linemode_before_sleep(struct linemode *);
/* As Ctrl-C: the session is closed (exit 130); done follows. */
void linemode_cancel(struct linemode *);
/* 1 once done was called. */
int linemode_is_done(const struct linemode *);
/* Closes what is still open and frees.  NULL: no-op. */
void linemode_free(struct linemode *);

#endif
