/*
 * The recorder's message bodies that never pass as lines (tui/record.c):
 * a streamed body kept while small, and the preview of a /body file.
 * Private to the recorder.
 */
#ifndef EHLO_TUI_RECORD_BODY_H
#define EHLO_TUI_RECORD_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct hist_body;

/* A body as it went on the wire (CRLF, dot-stuffed, the final "."). */
struct record_stream {
	struct buf kept; /* the octets while at most HIST_BODY_INLINE_MAX */
	uint64_t bytes; /* all octets seen */
};

void record_stream_init(struct record_stream *);
/* Forgets what was seen (the buffer stays allocated). */
void record_stream_clear(struct record_stream *);
/* Frees the buffer. */
void record_stream_free(struct record_stream *);

/* smtp_body_tee_cb: arg is the struct record_stream. */
void record_stream_tee(void *arg, const char *p, size_t n);

/*
 * Fills b's kind ("inline"), size (without the final ".\r\n") and, when
 * keep_content and the body was small, content (pointing into rs: use b
 * before clearing rs).  Returns the preview that b->first_lines points
 * to: the first rows lines, allocated.
 */
char *record_stream_body(struct record_stream *rs, struct hist_body *b,
    int keep_content, size_t rows);

/* The first rows lines of a file, or NULL.  Allocated. */
char *record_file_preview(const char *path, size_t rows);

/* 1 when a BDAT command line carries the LAST keyword. */
int record_bdat_is_last(const char *command);

#endif
