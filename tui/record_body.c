/*
 * The bodies the recorder does not see as lines: a composed message
 * (ehlo send, /send) that the client streams as it builds it reaches
 * the recorder through the client's tee (smtp_client_body_tee) and is
 * kept here, like typed content, up to HIST_BODY_INLINE_MAX octets, so
 * that an export or a replay can send it again; and the preview of a
 * /body file; whether a BDAT command ends the message.
 */
#include "tui/record_body.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "history/history.h"

void
record_stream_init(struct record_stream *rs)
{
	buf_init(&rs->kept, 0);
	rs->bytes = 0;
}

void
record_stream_clear(struct record_stream *rs)
{
	buf_clear(&rs->kept);
	rs->bytes = 0;
}

void
record_stream_free(struct record_stream *rs)
{
	buf_reset(&rs->kept);
	rs->bytes = 0;
}

void
record_stream_tee(void *arg, const char *p, size_t n)
{
	struct record_stream *rs = arg;

	/* ".\r\n" ends it: 3 octets more than the content. */
	if (rs->bytes + n <= HIST_BODY_INLINE_MAX + 3)
		(void)buf_add(&rs->kept, p, n);
	else
		buf_clear(&rs->kept);
	rs->bytes += n;
}

/* The first rows lines of p[0..n). */
static char *
preview(const char *p, size_t n, size_t rows)
{
	size_t i, lines = 0;

	for (i = 0; i < n && lines < rows; i++)
		if (p[i] == '\n')
			lines++;
	return xstrndup(p, i);
}

char *
record_stream_body(struct record_stream *rs, struct hist_body *b,
    int keep_content, size_t rows)
{
	const char *c = buf_peek(&rs->kept);
	size_t n = buf_used(&rs->kept);

	b->kind = "inline";
	b->size = rs->bytes >= 3 ? rs->bytes - 3 : 0;
	if (keep_content && n == rs->bytes && n >= 3) {
		b->content = c;
		b->content_len = n - 3;
	}
	b->first_lines = preview(c, keep_content ? n : 0, rows);
	return (char *)b->first_lines;
}

char *
record_file_preview(const char *path, size_t rows)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	(void)fclose(f);
	return preview(buf, n, rows);
}

int
record_bdat_is_last(const char *command)
{
	const char *p;

	for (p = command; p != NULL && (p = strchr(p, ' ')) != NULL; p++)
		if (strncasecmp(p + 1, "LAST", 4) == 0 &&
		    (p[5] == '\0' || p[5] == ' '))
			return 1;
	return 0;
}
