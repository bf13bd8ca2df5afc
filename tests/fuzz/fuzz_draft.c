/*
 * Fuzz target: drafts (tui/draft.c), as the history keeps them and as
 * a damaged or hand-edited database may hold them.  The input is cut at
 * NUL bytes into the draft's envelope sender, recipient list (JSON),
 * header block and attachment list (JSON); the rest is the body (which
 * may hold NULs).  The promises:
 *
 *   - draft_msg_load() returns 0, or -1 with a message;
 *   - a loaded draft, written back as a draft (draft_hist_from_msg),
 *     loads again;
 *   - when the builder accepts the message (attachments left out: their
 *     paths name local files), every line it produces ends in CRLF, no
 *     bare CR or LF, none over 998 octets.
 */
#include <string.h>

#include "core/xmalloc.h"
#include "fuzz.h"
#include "protocol/message.h"
#include "tui/draft.h"

#define FD_NFIELDS 4 /* env_from env_to headers attachments */
#define FD_OUT_MAX (1u * 1024 * 1024)

static void
fd_check_output(struct smtp_message_build *b)
{
	char buf[4096];
	char *err = NULL;
	size_t total = 0, col = 0, i;
	int cr = 0;
	ssize_t n;

	while ((n = smtp_message_build_read(b, buf, sizeof buf, &err)) > 0) {
		for (i = 0; i < (size_t)n; i++) {
			if (cr) {
				fuzz_check(buf[i] == '\n');
				cr = 0;
				col = 0;
				continue;
			}
			if (buf[i] == '\r') {
				cr = 1;
				continue;
			}
			fuzz_check(buf[i] != '\n');
			fuzz_check(++col <= 998);
		}
		total += (size_t)n;
		if (total > FD_OUT_MAX)
			break;
	}
	fuzz_check(n >= 0 || err != NULL);
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *field[FD_NFIELDS] = {NULL};
	struct hist_draft d, back;
	struct draft_msg dm, again;
	struct smtp_message_opts mo;
	struct smtp_message_build *b;
	const uint8_t *p = data, *end = data + size, *z;
	char *err = NULL;
	size_t k;
	int rc;

	for (k = 0; k < FD_NFIELDS && p < end; k++) {
		z = memchr(p, 0, (size_t)(end - p));
		if (z == NULL)
			z = end;
		field[k] = xmalloc((size_t)(z - p) + 1);
		memcpy(field[k], p, (size_t)(z - p));
		field[k][z - p] = '\0';
		p = z < end ? z + 1 : end;
	}
	memset(&d, 0, sizeof d);
	d.env_from = field[0];
	d.env_to = field[1];
	d.headers = field[2];
	d.attachments = field[3];
	d.body = (const char *)p;
	d.body_len = (size_t)(end - p);

	rc = draft_msg_load(&dm, &d, &err);
	fuzz_check(rc == 0 || rc == -1);
	fuzz_check((rc == -1) == (err != NULL));
	free(err);
	err = NULL;
	if (rc == 0) {
		draft_hist_from_msg(&back, &dm.msg);
		if (draft_msg_load(&again, &back, &err) != 0)
			fuzz_fail(err);
		draft_msg_free(&again);
		draft_hist_free(&back);

		memset(&mo, 0, sizeof mo);
		mo.can_8bitmime = mo.can_smtputf8 = 1;
		mo.date = 1700000000;
		mo.message_id = "<fuzz@draft.invalid>";
		mo.boundary = "fuzz-boundary";
		dm.msg.attach.n = 0;
		if ((b = smtp_message_build_new(&dm.msg, &mo, &err)) != NULL) {
			fd_check_output(b);
			smtp_message_build_free(b);
		}
		free(err);
	}
	draft_msg_free(&dm);
	for (k = 0; k < FD_NFIELDS; k++)
		free(field[k]);
	return 0;
}
