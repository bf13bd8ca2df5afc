/*
 * Line mode on a loop that already carries something else (the lesson
 * runner's in-process practice server), with a look at the finished
 * session before it is freed.
 */
#ifndef EHLO_TUI_LINEMODE_H
#define EHLO_TUI_LINEMODE_H

struct cli_opts;
struct loop;
struct smtp_session;

/* Called once the dialogue is over, before the session is freed. */
typedef void linemode_done_cb(const struct smtp_session *, void *arg);

/*
 * linemode_run() on the caller's loop (which stays registered with what
 * else it holds, and is not freed); done may be NULL.  Not reentrant.
 */
int linemode_run_on(
    const struct cli_opts *, struct loop *, linemode_done_cb *done, void *arg);

#endif
