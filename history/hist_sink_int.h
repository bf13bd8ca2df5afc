/*
 * Private to history/: the operations table behind struct hist_sink
 * (hist_sink.h), which each implementation fills: the store in
 * hist_sink.c, the spool writer in hist_spool_sink.c.  An
 * implementation's struct starts with a struct hist_sink.
 */
#ifndef EHLO_HISTORY_HIST_SINK_INT_H
#define EHLO_HISTORY_HIST_SINK_INT_H

#include <stdint.h>

struct hist_sink;
struct hist_event;
struct hist_body;

struct hist_sink_ops {
	int64_t (*begin)(struct hist_sink *, const char *server, int port,
	    const char *tls_mode, int64_t replay_of, char **errstr);
	int (*set)(struct hist_sink *, int64_t id, int what, const char *value,
	    char **errstr);
	int64_t (*event)(struct hist_sink *, int64_t id,
	    const struct hist_event *, char **errstr);
	int (*reply)(struct hist_sink *, int64_t id, int64_t seq,
	    const char *stage, int code, const char *enhanced, int stage_no,
	    int64_t latency_us, char **errstr);
	int (*body)(struct hist_sink *, int64_t id, const struct hist_body *,
	    char **errstr);
	int (*end)(
	    struct hist_sink *, int64_t id, int exit_status, char **errstr);
	int (*had_starttls)(struct hist_sink *, const char *server, int port,
	    int64_t before_session, int64_t *id, int64_t *started,
	    char **errstr);
	int (*tx_begin)(struct hist_sink *, char **errstr);
	int (*tx_commit)(struct hist_sink *, char **errstr);
	int (*tx_is_open)(struct hist_sink *);
	/* Writes what waits and frees; returns a note or NULL. */
	char *(*close)(struct hist_sink *);
};

struct hist_sink {
	const struct hist_sink_ops *ops;
	const char *spool_file; /* a spool sink's file, else NULL */
};

#endif
