/*
 * Fuzz target: the SMTP reply parser (protocol/reply.c).  The input is
 * fed twice, whole and in pieces whose sizes come from the input itself;
 * both runs must report the same events (the parser is incremental and
 * promises that splitting changes nothing), and every event must respect
 * the parser's bounds.  Each line also goes through the helpers that
 * read it (enhanced code, text after the code).
 */
#include <string.h>

#include "fuzz.h"
#include "protocol/reply.h"

/* A running digest of the events, so two runs can be compared. */
struct trace {
	uint64_t hash;
	size_t events;
};

static void
mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		t->hash = (t->hash ^ b[i]) * 1099511628211u;
}

static void
check_line(const struct smtp_reply_line *l)
{
	char enh[16];
	const char *text;
	size_t len, elen;

	fuzz_check(l->len <= SMTP_REPLY_LINE_MAX);
	fuzz_check(l->len == 0 || l->text != NULL);
	text = smtp_reply_line_text(l, 1, &len);
	fuzz_check(len <= l->len);
	fuzz_check(
	    len == 0 || (text >= l->text && text + len <= l->text + l->len));
	text = smtp_reply_line_text(l, 0, &len);
	fuzz_check(len <= l->len);
	elen = smtp_enhanced_parse(text, len, enh);
	fuzz_check(elen < sizeof enh);
	fuzz_check(elen == 0 || strlen(enh) == elen);
}

static void
on_event(const struct smtp_reply_event *ev, void *arg)
{
	struct trace *t = arg;
	const struct smtp_reply *r;
	size_t i, total = 0;

	t->events++;
	mix(t, &ev->type, sizeof ev->type);
	switch (ev->type) {
	case SMTP_REPLY_EV_LINE:
		check_line(ev->line);
		mix(t, ev->line->text, ev->line->len);
		mix(t, &ev->line->flags, sizeof ev->line->flags);
		break;
	case SMTP_REPLY_EV_REPLY:
		r = ev->reply;
		fuzz_check(r->code >= 0 && r->code <= 999);
		fuzz_check((r->code >= 200 && r->code <= 599) ||
		    (r->flags & SMTP_LINE_CODE_RANGE));
		fuzz_check(
		    memchr(r->enhanced, '\0', sizeof r->enhanced) != NULL);
		fuzz_check(r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX);
		for (i = 0; i < r->nlines; i++) {
			check_line(&r->lines[i]);
			total += r->lines[i].len;
		}
		fuzz_check(total <= SMTP_REPLY_SIZE_MAX);
		mix(t, &r->code, sizeof r->code);
		mix(t, &r->nlines, sizeof r->nlines);
		break;
	case SMTP_REPLY_EV_ERROR:
		fuzz_check(smtp_reply_error_str(ev->error) != NULL);
		mix(t, &ev->error, sizeof ev->error);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply_parser *p;
	struct trace whole = {14695981039346656037u, 0};
	struct trace split = {14695981039346656037u, 0};
	const char *in = (const char *)data;
	size_t off = 0, step, seed;

	p = smtp_reply_parser_new();
	smtp_reply_parser_feed(p, in, size, on_event, &whole);
	smtp_reply_parser_free(p);

	p = smtp_reply_parser_new();
	seed = size > 0 ? data[0] : 1;
	while (off < size) {
		step = 1 + (seed + off) % 7;
		if (step > size - off)
			step = size - off;
		smtp_reply_parser_feed(p, in + off, step, on_event, &split);
		off += step;
	}
	fuzz_check(smtp_reply_parser_pending(p) <= size);
	smtp_reply_parser_reset(p);
	fuzz_check(smtp_reply_parser_pending(p) == 0);
	smtp_reply_parser_free(p);

	if (whole.events != split.events || whole.hash != split.hash)
		fuzz_fail("split input gave other events than whole input");
	return 0;
}
