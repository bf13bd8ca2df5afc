/*
 * Private to history/: what the spool's writer and import need of the
 * sessions room beyond history.h (hist_session.c).
 */
#ifndef EHLO_HISTORY_HIST_SESSION_H
#define EHLO_HISTORY_HIST_SESSION_H

#include <stdint.h>

#include "history/history.h"

/* A session's fact (plain capabilities also pin STARTTLS). */
int hist_session_set(struct hist *, enum hist_fact what, int64_t id,
    const char *value, char **errstr);

/* The end of a session without bringing the search index up. */
int hist_session_end_row(
    struct hist *, int64_t id, int exit_status, char **errstr);

/* Whether hist_body_add keeps the content itself. */
int hist_body_keeps(const struct hist_body *);

/*
 * hist_body_add on the database; with digest_file, a /body file's
 * SHA-256 is taken now when b has none (hist_set_file_digest).
 */
int hist_body_insert(struct hist *, int64_t id, const struct hist_body *,
    int digest_file, char **errstr);

#endif
