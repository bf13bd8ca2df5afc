/*
 * The fixture the history tests share (test_history.c, the store;
 * test_history_faults.c, a damaged or unwritable database;
 * test_recorder.c, the recorder on both sinks): a temporary folder per
 * test holding the database (never the user's home), opening it or
 * failing the test, appending plain events, reading a file whole, and
 * counting listed sessions.  Include after <cmocka.h>.
 */
#ifndef EHLO_TESTS_HISTORY_FIXTURE_H
#define EHLO_TESTS_HISTORY_FIXTURE_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "history/history.h"

struct tmp {
	char dir[64];
	char path[128];
	int use_spool; /* the recorder's sink: 1 spool, 0 store */
};

static inline int
setup_tmp(void **state)
{
	struct tmp *t = xcalloc(1, sizeof *t);
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base != '/' || strlen(base) > 40)
		base = "/tmp";
	(void)snprintf(t->dir, sizeof t->dir, "%s/ehlo-hist-XXXXXX", base);
	if (mkdtemp(t->dir) == NULL)
		return -1;
	(void)snprintf(t->path, sizeof t->path, "%s/ehlo.db", t->dir);
	*state = t;
	return 0;
}

static inline int
teardown_tmp(void **state)
{
	struct tmp *t = *state;
	char *cmd = xasprintf("rm -rf '%s'", t->dir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", t->dir);
	free(cmd);
	free(t);
	return 0;
}

static inline struct hist *
must_open(const char *path, unsigned flags)
{
	char *err = NULL;
	struct hist *h = hist_open(path, flags, &err);

	if (h == NULL)
		fail_msg("hist_open %s: %s", path, err);
	return h;
}

/* A plain event: no stage, no reply; seq 0 lets the store number it. */
static inline void
event_init(struct hist_event *ev, int64_t seq, char dir, const char *text)
{
	memset(ev, 0, sizeof *ev);
	ev->seq = seq;
	ev->dir = dir;
	ev->text = text;
	ev->len = strlen(text);
	ev->stage_no = -1;
	ev->latency_us = -1;
}

static inline int
count_event(const struct hist_event *ev, void *arg)
{
	(void)ev;
	(*(int64_t *)arg)++;
	return 0;
}

/* Appends an event numbered after the session's rows (as a writer does). */
static inline int64_t
add_event(struct hist *h, int64_t id, char dir, const char *text)
{
	struct hist_event ev;
	char *err = NULL;
	int64_t seq, n = 0;

	if (hist_events_iter(h, id, count_event, &n, &err) < 0)
		fail_msg("events: %s", err);
	event_init(&ev, n + 1, dir, text);
	seq = hist_session_event(h, id, &ev, &err);
	if (seq < 0)
		fail_msg("event: %s", err);
	return seq;
}

/* Reads a whole file into a NUL-terminated buffer (*n bytes). */
static inline char *
slurp(const char *path, size_t *n)
{
	struct buf b;
	char tmp[4096], *out;
	ssize_t r;
	int fd = open(path, O_RDONLY);

	*n = 0;
	if (fd == -1)
		return xstrdup("");
	buf_init(&b, 0);
	while ((r = read(fd, tmp, sizeof tmp)) > 0)
		(void)buf_add(&b, tmp, (size_t)r);
	(void)close(fd);
	*n = buf_used(&b);
	out = xmalloc(*n + 1);
	memcpy(out, buf_peek(&b), *n);
	out[*n] = '\0';
	buf_reset(&b);
	return out;
}
static inline int
count_cb(const struct hist_session *s, void *arg)
{
	long *n = arg;

	(void)s;
	(*n)++;
	return 0;
}

#endif
