/*
 * Incremental SMTP reply parser.
 *
 * RFCs: 5321 section 4.2 (reply lines, multi-line replies, codes) and
 * 4.5.3.1.5 (reply line length); 3463 (enhanced status codes); 2034
 * (enhanced codes in replies).
 *
 * The parser owns two pieces of storage.  The line under construction
 * lives in a fixed array of SMTP_REPLY_LINE_MAX bytes: bytes past it are
 * dropped until the line ends.  The reply under construction is an arena
 * of line texts (each NUL-terminated for convenience, the NUL not counted
 * in len) plus one record per line; both have hard caps, and a reply that
 * would pass them is reported as an error and then skipped up to its
 * final line without keeping anything.  A pending CR is remembered as a
 * flag so a CRLF split across two reads is still one line ending.
 */
#include "protocol/reply.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

struct reply_rec {
	size_t off; /* into text */
	size_t len;
	unsigned flags;
};

struct smtp_reply_parser {
	char line[SMTP_REPLY_LINE_MAX + 1];
	size_t linelen;
	unsigned lineflags;
	int cr_pending; /* the last byte seen was a CR */
	int skipping; /* dropping the rest of an oversized reply */

	int code; /* of the reply under construction */
	char *text; /* line texts of the reply, NUL after each */
	size_t textlen; /* bytes used in text */
	size_t textcap;
	size_t textbytes; /* sum of line lengths, checked against the cap */
	struct reply_rec *recs;
	size_t nrec;
	size_t reccap;
	struct smtp_reply_line *view; /* built for the REPLY event */
	size_t viewcap;

	unsigned gen; /* bumped by reset, so feed notices one in a callback */
	size_t feed_left; /* bytes of the current feed not parsed yet */
};

/* What a completed line says about itself. */
struct line_class {
	enum smtp_reply_error error;
	int code;
	int last;
};

struct smtp_reply_parser *
smtp_reply_parser_new(void)
{
	return xcalloc(1, sizeof(struct smtp_reply_parser));
}

void
smtp_reply_parser_free(struct smtp_reply_parser *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p->recs);
	free(p->view);
	free(p);
}

static void
reply_drop(struct smtp_reply_parser *p)
{
	p->code = 0;
	p->textlen = 0;
	p->textbytes = 0;
	p->nrec = 0;
}

static void
reply_line_clear(struct smtp_reply_parser *p)
{
	p->linelen = 0;
	p->lineflags = 0;
}

void
smtp_reply_parser_reset(struct smtp_reply_parser *p)
{
	reply_drop(p);
	reply_line_clear(p);
	p->cr_pending = 0;
	p->skipping = 0;
	p->feed_left = 0;
	p->gen++;
}

size_t
smtp_reply_parser_pending(const struct smtp_reply_parser *p)
{
	return p->linelen + (p->cr_pending ? 1 : 0) + p->textbytes +
	    p->feed_left;
}

const char *
smtp_reply_error_str(enum smtp_reply_error e)
{
	switch (e) {
	case SMTP_REPLY_OK:
		return "no error";
	case SMTP_REPLY_EBADCODE:
		return "reply code is not 3 digits";
	case SMTP_REPLY_ESEP:
		return "reply code is not followed by a space, a hyphen or "
		       "the end of the line";
	case SMTP_REPLY_ECODECHANGE:
		return "a continuation line changed the reply code";
	case SMTP_REPLY_ETOOMANY:
		return "reply has too many lines";
	case SMTP_REPLY_ETOOBIG:
		return "reply is too large";
	}
	return "unknown reply error";
}

static int
reply_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * RFC 3463 section 2: subject and detail are "0" or 1..3 digits without
 * a leading zero.  Returns the number of bytes used, or 0.
 */
static size_t
reply_enhanced_number(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && n < 4 && reply_is_digit(s[n]))
		n++;
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return 0;
	return n;
}

size_t
smtp_enhanced_parse(const char *text, size_t len, char out[16])
{
	size_t i = 0, n;

	out[0] = '\0';
	if (len < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5'))
		return 0;
	if (text[1] != '.')
		return 0;
	i = 2;
	if ((n = reply_enhanced_number(text + i, len - i)) == 0)
		return 0;
	i += n;
	if (i >= len || text[i] != '.')
		return 0;
	i++;
	if ((n = reply_enhanced_number(text + i, len - i)) == 0)
		return 0;
	i += n;
	/* "5.1.1x" or "5.1.1.2" is some other token, not a status code. */
	if (i < len && text[i] != ' ')
		return 0;
	memcpy(out, text, i);
	out[i] = '\0';
	return i;
}

const char *
smtp_reply_line_text(
    const struct smtp_reply_line *l, int skip_enhanced, size_t *lenp)
{
	const char *t = l->text;
	size_t len = l->len, skip;
	char enh[16];

	if (len >= 3 && reply_is_digit(t[0]) && reply_is_digit(t[1]) &&
	    reply_is_digit(t[2])) {
		if (len == 3) {
			t += 3;
			len = 0;
		} else if (t[3] == ' ' || t[3] == '-') {
			t += 4;
			len -= 4;
			/* The class must match the reply's (RFC 3463 2). */
			if (skip_enhanced &&
			    (skip = smtp_enhanced_parse(t, len, enh)) > 0 &&
			    enh[0] == l->text[0]) {
				t += skip;
				len -= skip;
				if (len > 0 && *t == ' ') {
					t++;
					len--;
				}
			}
		}
	}
	if (lenp != NULL)
		*lenp = len;
	return t;
}

static void
reply_classify(const char *t, size_t len, struct line_class *lc)
{
	memset(lc, 0, sizeof *lc);
	if (len < 3 || !reply_is_digit(t[0]) || !reply_is_digit(t[1]) ||
	    !reply_is_digit(t[2])) {
		lc->error = SMTP_REPLY_EBADCODE;
		return;
	}
	lc->code = (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
	if (len == 3 || t[3] == ' ')
		lc->last = 1;
	else if (t[3] != '-')
		lc->error = SMTP_REPLY_ESEP;
}

/* Calls cb; returns -1 when the callback reset the parser. */
static int
reply_emit(struct smtp_reply_parser *p, const struct smtp_reply_event *ev,
    smtp_reply_cb *cb, void *arg)
{
	unsigned gen = p->gen;

	cb(ev, arg);
	return p->gen == gen ? 0 : -1;
}

static int
reply_error(struct smtp_reply_parser *p, const struct smtp_reply_line *l,
    enum smtp_reply_error e, smtp_reply_cb *cb, void *arg)
{
	struct smtp_reply_event ev;

	reply_drop(p);
	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_REPLY_EV_ERROR;
	ev.line = l;
	ev.error = e;
	return reply_emit(p, &ev, cb, arg);
}

static void
reply_append(struct smtp_reply_parser *p, const struct smtp_reply_line *l)
{
	size_t want;
	struct reply_rec *r;

	want = p->textlen + l->len + 1;
	if (want > p->textcap) {
		p->textcap = p->textcap == 0 ? 1024 : p->textcap;
		while (p->textcap < want)
			p->textcap *= 2;
		p->text = xreallocarray(p->text, p->textcap, 1);
	}
	if (p->nrec == p->reccap) {
		p->reccap = p->reccap == 0 ? 16 : p->reccap * 2;
		p->recs = xreallocarray(p->recs, p->reccap, sizeof *p->recs);
	}
	r = &p->recs[p->nrec++];
	r->off = p->textlen;
	r->len = l->len;
	r->flags = l->flags;
	memcpy(p->text + p->textlen, l->text, l->len);
	p->text[p->textlen + l->len] = '\0';
	p->textlen = want;
	p->textbytes += l->len;
}

static int
reply_complete(struct smtp_reply_parser *p, smtp_reply_cb *cb, void *arg)
{
	struct smtp_reply reply;
	struct smtp_reply_event ev;
	size_t i, tlen;
	const char *t;

	if (p->nrec > p->viewcap) {
		p->viewcap = p->nrec;
		p->view = xreallocarray(p->view, p->viewcap, sizeof *p->view);
	}
	memset(&reply, 0, sizeof reply);
	for (i = 0; i < p->nrec; i++) {
		p->view[i].text = p->text + p->recs[i].off;
		p->view[i].len = p->recs[i].len;
		p->view[i].flags = p->recs[i].flags;
		reply.flags |= p->recs[i].flags;
	}
	reply.code = p->code;
	reply.lines = p->view;
	reply.nlines = p->nrec;
	t = smtp_reply_line_text(&p->view[0], 0, &tlen);
	if (smtp_enhanced_parse(t, tlen, reply.enhanced) > 0 &&
	    reply.enhanced[0] != p->view[0].text[0])
		reply.enhanced[0] = '\0';

	/* The view still points into text: dropping only resets counts. */
	reply_drop(p);
	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_REPLY_EV_REPLY;
	ev.reply = &reply;
	return reply_emit(p, &ev, cb, arg);
}

/* A whole line is in p->line.  Returns -1 if a callback reset us. */
static int
reply_line_end(struct smtp_reply_parser *p, smtp_reply_cb *cb, void *arg)
{
	struct smtp_reply_line l;
	struct smtp_reply_event ev;
	struct line_class lc;

	p->line[p->linelen] = '\0';
	reply_classify(p->line, p->linelen, &lc);
	if (lc.error == SMTP_REPLY_OK && (lc.code < 200 || lc.code > 599))
		p->lineflags |= SMTP_LINE_CODE_RANGE;
	l.text = p->line;
	l.len = p->linelen;
	l.flags = p->lineflags;
	/* Consumed: pending() in a callback counts only what follows. */
	reply_line_clear(p);

	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_REPLY_EV_LINE;
	ev.line = &l;
	if (reply_emit(p, &ev, cb, arg) != 0)
		return -1;

	if (p->skipping) {
		if (lc.error == SMTP_REPLY_OK && lc.last)
			p->skipping = 0;
		return 0;
	}
	if (lc.error != SMTP_REPLY_OK)
		return reply_error(p, &l, lc.error, cb, arg);
	if (p->nrec > 0 && lc.code != p->code)
		return reply_error(p, &l, SMTP_REPLY_ECODECHANGE, cb, arg);
	if (p->nrec >= SMTP_REPLY_LINES_MAX) {
		p->skipping = !lc.last;
		return reply_error(p, &l, SMTP_REPLY_ETOOMANY, cb, arg);
	}
	if (p->textbytes + l.len > SMTP_REPLY_SIZE_MAX) {
		p->skipping = !lc.last;
		return reply_error(p, &l, SMTP_REPLY_ETOOBIG, cb, arg);
	}
	p->code = lc.code;
	reply_append(p, &l);
	return lc.last ? reply_complete(p, cb, arg) : 0;
}

static void
reply_line_put(struct smtp_reply_parser *p, char c)
{
	if (p->linelen < SMTP_REPLY_LINE_MAX)
		p->line[p->linelen++] = c;
	else
		p->lineflags |= SMTP_LINE_TRUNCATED;
}

void
smtp_reply_parser_feed(struct smtp_reply_parser *p, const char *data, size_t n,
    smtp_reply_cb *cb, void *arg)
{
	size_t i;
	char c;

	for (i = 0; i < n; i++) {
		c = data[i];
		p->feed_left = n - i - 1;
		if (p->cr_pending) {
			p->cr_pending = 0;
			if (c == '\n') {
				/*
				 * A reset inside a callback (after STARTTLS)
				 * drops whatever else came in this read: it
				 * was sent before the handshake.
				 */
				if (reply_line_end(p, cb, arg) != 0)
					break;
				continue;
			}
			p->lineflags |= SMTP_LINE_BARE_CR;
			reply_line_put(p, '\r');
		}
		if (c == '\r')
			p->cr_pending = 1;
		else if (c == '\n') {
			p->lineflags |= SMTP_LINE_BARE_LF;
			if (reply_line_end(p, cb, arg) != 0)
				break;
		} else {
			if (c == '\0')
				p->lineflags |= SMTP_LINE_NUL;
			reply_line_put(p, c);
		}
	}
	p->feed_left = 0;
}
