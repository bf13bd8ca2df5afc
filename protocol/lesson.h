/*
 * Lessons: a guided tour of SMTP against the practice server, from the
 * five stages of a mail transaction to STARTTLS, AUTH, pipelining,
 * dot-stuffing, reading error codes, submission, SIZE, SMTPUTF8, BDAT,
 * DSN, greylisting, the envelope and bounces.  Each lesson is a text
 * file (docs/lessons.md: text, a task, goals with checks and hints, a
 * model answer, how the practice server behaves); the built-in ones are
 * protocol/knowledge/lessons/NN-NAME.lesson, embedded at build time, and a
 * teacher adds more with lesson_add_dir().  The checks look at a
 * session's stages, so line mode (`ehlo lesson`) and a workbench pane
 * share them: the pane calls lesson_progress() after every reply.
 */
#ifndef EHLO_PROTOCOL_LESSON_H
#define EHLO_PROTOCOL_LESSON_H

#include <stddef.h>

struct practice_opts;
struct smtp_session;

/* What a check may look at. */
struct lesson_ctx {
	const struct smtp_session *session; /* the learner's session */
	const char *datadir; /* the practice server's data directory (some
	                      * checks read the inbox), or NULL */
};

/*
 * What a goal checks, read from a lesson file's "check:" line (the
 * grammar is in docs/lessons.md).  LESSON_CHECK_STAGE: a stage of that
 * kind got a code in [lo, hi], with the enhanced code enh ("" any), a
 * command containing with (NULL any), after a TLS handshake when
 * after_tls.  The others are named checks; arg is their argument.
 */
enum lesson_check_kind {
	LESSON_CHECK_STAGE,
	LESSON_CHECK_DELIVERED, /* arg: "<addr>" or NULL for anyone */
	LESSON_CHECK_DELIVERIES, /* count: at least this many messages */
	LESSON_CHECK_TLS,
	LESSON_CHECK_RELAYED,
	LESSON_CHECK_PIPELINED,
	LESSON_CHECK_PIPELINED_DELIVERY,
	LESSON_CHECK_RSET_IN_TXN,
	LESSON_CHECK_DOT_LINE, /* arg: the inbox user */
	LESSON_CHECK_BCC, /* arg: the inbox user, absent from the headers */
	LESSON_CHECK_BARE_LF, /* arg: the inbox user; <LF>.<LF> kept as text */
};

struct lesson_check {
	enum lesson_check_kind kind;
	int stage; /* enum smtp_stage_kind */
	int lo, hi;
	char enh[16];
	char *with;
	int after_tls;
	unsigned count;
	char *arg;
};

struct lesson_goal {
	const char *text; /* "the server accepted a message for bob" */
	const char *hint; /* what to try when it is not met yet */
	struct lesson_check check;
};

/* How the lesson's practice server behaves ("server:" lines). */
struct lesson_server {
	int require_tls, require_auth;
	unsigned greet_pause_ms, greylist_ms, slow_ms; /* 0: default */
	int lmtp; /* LMTP (issue 18): the server and the learner's session */
};

struct lesson {
	const char *name; /* "data": what `ehlo lesson NAME` takes */
	const char *title; /* "DATA: the message itself" */
	const char *text; /* paragraphs separated by blank lines; each
	                    * paragraph is one unwrapped line */
	const char *task; /* one paragraph */
	const struct lesson_goal *goals;
	size_t ngoals;
	const char *answer; /* a line-mode script that passes (for "show
	                     * me" and tests) */
	struct lesson_server server;
	const char *source; /* "built-in" or the file it was read from */
};

/*
 * Parses one lesson file (len bytes at text; name is the file name for
 * messages).  Returns the lesson (free with lesson_free()), or NULL
 * with *errstr set to "FILE:LINE: what is wrong and what to write
 * instead" for the first problem found.
 */
struct lesson *lesson_parse(
    const char *file, const char *text, size_t len, char **errstr);
void lesson_free(struct lesson *);
/* lesson_parse() of the file at path (at most 64 KiB); NULL with
 * *errstr ("FILE:LINE: ...", or why it cannot be read). */
struct lesson *lesson_load_file(const char *path, char **errstr);

/*
 * Adds the lessons of every DIR/<name>.lesson (sorted by file name)
 * after the built-in ones; a lesson with the name of one already known
 * replaces it.  Returns the number added, or -1 with *errstr (a file
 * that does not parse, with its file:line; an unreadable directory).
 */
int lesson_add_dir(const char *dir, char **errstr);

/* The lessons in teaching order. */
size_t lesson_count(void);
const struct lesson *lesson_at(size_t);
/* The lesson with that name (any case), or NULL. */
const struct lesson *lesson_find(const char *name);

/*
 * Checks every goal: done (may be NULL) gets 1 or 0 per goal, in order.
 * Returns how many are met.  Safe to call at any point of a session.
 */
size_t lesson_progress(
    const struct lesson *, const struct lesson_ctx *, int *done);
/* The first goal not met yet, or NULL when the lesson is passed. */
const struct lesson_goal *lesson_next_goal(
    const struct lesson *, const struct lesson_ctx *);

/*
 * The lesson's rules for the practice server ("server:" lines) set in
 * po: TLS or AUTH required, the greet pause, the greylisting and slow@
 * delays (l NULL: none of them); the rest of po is left as it is.  How
 * `ehlo lesson` and the workbench's /lesson start their server.
 */
void lesson_practice_opts(const struct lesson *l, struct practice_opts *po);
/* 1 when a and b (NULL: no rules) make the practice server behave
 * alike, else 0. */
int lesson_server_same(const struct lesson *a, const struct lesson *b);

/*
 * Word-wraps text (paragraphs separated by "\n\n") to width columns,
 * each line prefixed with indent.  Returns an allocated string.
 */
char *lesson_wrap(const char *text, size_t width, const char *indent);

#endif
