/*
 * Lessons: a guided tour of SMTP against the practice server, from the
 * five stages of a mail transaction to STARTTLS, AUTH, pipelining,
 * dot-stuffing and reading error codes.  Each lesson is data (text, a
 * task, goals with hints, a model answer) plus checks over a session's
 * stages, so line mode (`ehlo lesson`) and a workbench pane can share
 * them: the pane calls lesson_progress() after every reply.
 */
#ifndef EHLO_PROTOCOL_LESSON_H
#define EHLO_PROTOCOL_LESSON_H

#include <stddef.h>

struct smtp_session;

/* What a check may look at. */
struct lesson_ctx {
	const struct smtp_session *session; /* the learner's session */
	const char *datadir; /* the practice server's data directory (some
	                      * checks read the inbox), or NULL */
};

struct lesson_goal {
	const char *text; /* "the server accepted a message for bob" */
	const char *hint; /* what to try when it is not met yet */
	/* 1 when the session (so far) meets the goal. */
	int (*met)(const struct lesson_ctx *);
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
};

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
 * Word-wraps text (paragraphs separated by "\n\n") to width columns,
 * each line prefixed with indent.  Returns an allocated string.
 */
char *lesson_wrap(const char *text, size_t width, const char *indent);

#endif
