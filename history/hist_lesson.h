/*
 * Lesson progress in the history database: one row per lesson a learner
 * has run, with how many of its goals were met the best time and when
 * it was first passed.  The table (lesson_progress) is created on first
 * use, so it needs no schema step and an older ehlo ignores it.
 */
#ifndef EHLO_HISTORY_HIST_LESSON_H
#define EHLO_HISTORY_HIST_LESSON_H

#include <stddef.h>
#include <stdint.h>

struct hist;

struct hist_lesson {
	char *name; /* "greeting" */
	int goals_met; /* the best run's count */
	int goals; /* the lesson's goal count at that run */
	int64_t passed_at; /* Unix seconds of the first pass; 0: not passed */
	int64_t last_at; /* Unix seconds of the last run */
};

/*
 * Records a run of lesson name with met of goals goals done (passed when
 * met == goals).  Keeps the best count and the first pass.  Returns 0,
 * or -1 with *errstr (read-only database, disk full...).
 */
int hist_lesson_record(
    struct hist *, const char *name, int met, int goals, char **errstr);

/*
 * Every lesson run so far, by name, into an allocated array (*out,
 * *n); 0, or -1 with *errstr.  A database without the table yet has
 * none.  Free with hist_lesson_free().
 */
int hist_lesson_list(
    struct hist *, struct hist_lesson **out, size_t *n, char **errstr);
void hist_lesson_free(struct hist_lesson *, size_t n);

/*
 * The state of lesson name (goals goals) among the n rows, in words as
 * `ehlo lesson` and the workbench's /lesson list it: "done", "2/3
 * goals" or "not done", written into buf.  Returns buf; *passed gets 1
 * when done (passed may be NULL).
 */
const char *hist_lesson_state(const struct hist_lesson *rows, size_t n,
    const char *name, size_t goals, char *buf, size_t len, int *passed);

#endif
