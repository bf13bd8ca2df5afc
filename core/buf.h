/*
 * A growable byte buffer with a hard cap.  Data lives in data[off..len):
 * consuming from the front only advances off, and the gap is reclaimed
 * when more room is needed, so a buffer used as a FIFO does not grow
 * without bound.  Callers own the struct; buf_reset() frees the storage.
 */
#ifndef EHLO_CORE_BUF_H
#define EHLO_CORE_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t off; /* first unconsumed byte */
	size_t len; /* one past the last byte */
	size_t cap;
	size_t max; /* hard cap on len - off; 0 means SIZE_MAX */
};

/* Initialises an empty buffer that never holds more than max bytes. */
void buf_init(struct buf *, size_t max);
/* Frees the storage; the buffer is empty and usable again. */
void buf_reset(struct buf *);
/* Number of unconsumed bytes. */
size_t buf_used(const struct buf *);
/* Pointer to the first unconsumed byte (valid until the next change). */
const char *buf_peek(const struct buf *);
/* Appends n bytes; returns -1 (and appends nothing) past the cap. */
int buf_add(struct buf *, const void *, size_t);
/* Appends a C string; same result as buf_add(). */
int buf_add_str(struct buf *, const char *);
/* Appends printf-formatted text; same result as buf_add(). */
int buf_add_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Drops n bytes (at most buf_used()) from the front. */
void buf_consume(struct buf *, size_t);
/* Makes room for n more bytes and returns where they go (commit after). */
char *buf_reserve(struct buf *, size_t);
/* Marks n bytes written into the area buf_reserve() returned. */
void buf_commit(struct buf *, size_t);
/* Empties the buffer but keeps its storage. */
void buf_clear(struct buf *);

#endif
