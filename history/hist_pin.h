/*
 * Private to history/: the STARTTLS pins (DB-starttls beside the
 * database, see hist_pin.c), the index of the servers seen offering
 * STARTTLS on a plain-text EHLO that a spooled session reads instead
 * of the database.
 */
#ifndef EHLO_HISTORY_HIST_PIN_H
#define EHLO_HISTORY_HIST_PIN_H

#include <stdint.h>

struct hist;

/*
 * Whether a capability list (one "KEYWORD params" per line) offers
 * STARTTLS: the rule behind sessions.plain_starttls and the pins.
 */
int hist_caps_starttls(const char *caps);

/*
 * Notes in the pins of the database at db that server:port offered
 * STARTTLS on a plain-text EHLO in session id (0: a spooled session,
 * not numbered yet), first seen at now (Unix seconds).  Returns 1 when
 * it added the line, 0 when not (pinned already, no pins file, any
 * error: the pins are an index, and the file is never created here).
 */
int hist_pin_starttls(
    const char *db, int64_t now, const char *server, int port, int64_t id);

/*
 * The pin for server:port (the last line that names it: a line with
 * the session's number may follow one with 0): 1 with *id and
 * *started, 0 when there is none, -1 when the file is missing, not
 * this user's regular file, too large, or server is not one the pins
 * hold (then ask the database).
 */
int hist_pin_find(const char *db, const char *server, int port, int64_t *id,
    int64_t *started);

/* Writes DB-starttls from the database when it is missing. */
int hist_pin_build(struct hist *, char **errstr);

#endif
