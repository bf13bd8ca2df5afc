/*
 * Dialogue printing for the line-oriented commands.  Text mode writes
 * each event as one line, escaping whatever came from the network
 * (core/escape.h); JSON mode writes one object per event with its type,
 * direction, text, reply facts and stage (tui/print_json.c builds
 * every JSON object).  Lines go to stdout through
 * the output gate (tui/outgate.h), which keeps them while the rows
 * they show are not committed; callers flush stdout once per loop
 * turn.
 */
#include "tui/print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "tui/outgate.h"

static double
secs(uint64_t us)
{
	return (double)us / 1e6;
}

static void
print_text_sfx(const struct print_opts *po, uint64_t t_us, const char *prefix,
    const char *p, size_t n, const char *suffix)
{
	struct buf b;

	buf_init(&b, 0);
	if (po->timing)
		(void)buf_add_printf(&b, "%8.3f ", secs(t_us));
	(void)buf_add_str(&b, prefix);
	(void)escape_append(&b, p, n);
	if (suffix != NULL)
		(void)buf_add_str(&b, suffix);
	(void)buf_add(&b, "\n", 1);
	outgate_write(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
}

void
print_text(const struct print_opts *po, uint64_t t_us, const char *prefix,
    const char *p, size_t n)
{
	print_text_sfx(po, t_us, prefix, p, n, NULL);
}

/* --timing: the last line of a reply shows its round trip. */
static void
print_server_line(const struct print_opts *po, const struct smtp_event *ev)
{
	const struct smtp_stage *st =
	    po->session != NULL ? smtp_session_awaiting(po->session) : NULL;
	char sfx[48];

	if (!po->timing || st == NULL || (ev->len > 3 && ev->text[3] != ' ')) {
		print_text(po, ev->t_us, "S: ", ev->text, ev->len);
		return;
	}
	(void)snprintf(sfx, sizeof sfx, "   (+%.1f ms)",
	    (double)(ev->t_us - st->t_start_us) / 1000.0);
	print_text_sfx(po, ev->t_us, "S: ", ev->text, ev->len, sfx);
}

static const char *
event_name(enum smtp_event_type t)
{
	switch (t) {
	case SMTP_EV_SENT:
		return "sent";
	case SMTP_EV_LINE:
		return "line";
	case SMTP_EV_REPLY:
		return "reply";
	case SMTP_EV_NOTE:
		return "note";
	case SMTP_EV_WARNING:
		return "warning";
	case SMTP_EV_STAGE:
		return "stage";
	case SMTP_EV_STARTTLS:
		return "starttls";
	case SMTP_EV_FAILURE:
		return "failure";
	case SMTP_EV_CLOSED:
		return "closed";
	}
	return "?";
}

static void
print_json(const struct smtp_event *ev)
{
	const struct smtp_stage *st = ev->stage;
	struct print_json_ev e;

	if (ev->type == SMTP_EV_STAGE || ev->type == SMTP_EV_STARTTLS)
		return;
	print_json_ev_init(&e);
	e.t_us = ev->t_us;
	e.type = event_name(ev->type);
	e.dir = ev->type == SMTP_EV_SENT ? 'C'
	    : ev->type == SMTP_EV_LINE   ? 'S'
	    : ev->type == SMTP_EV_REPLY  ? '\0'
	                                 : '*';
	e.text = ev->text;
	e.len = ev->len;
	if (ev->type == SMTP_EV_FAILURE)
		e.category = smtp_fail_name(ev->category);
	if (ev->type == SMTP_EV_REPLY) {
		e.code = ev->reply->code;
		e.enhanced = ev->reply->enhanced;
		e.lines = (int64_t)ev->reply->nlines;
	}
	if (st != NULL && ev->type != SMTP_EV_LINE) {
		e.stage = smtp_stage_kind_name(st->kind);
		e.txn = st->txn;
		e.group = st->group;
		if (ev->type == SMTP_EV_REPLY)
			e.latency_us = (int64_t)(st->t_end_us - st->t_start_us);
	}
	print_json_put(print_json_event(&e));
}

void
print_event(const struct print_opts *po, const struct smtp_event *ev)
{
	if (po->json) {
		print_json(ev);
		return;
	}
	switch (ev->type) {
	case SMTP_EV_SENT:
		print_text(po, ev->t_us, "C: ", ev->text, ev->len);
		break;
	case SMTP_EV_LINE:
		print_server_line(po, ev);
		break;
	case SMTP_EV_NOTE:
		print_text(po, ev->t_us, "*: ", ev->text, ev->len);
		break;
	case SMTP_EV_WARNING:
		print_text(po, ev->t_us, "*: warning: ", ev->text, ev->len);
		break;
	case SMTP_EV_FAILURE:
		print_text(po, ev->t_us, "*: error: ", ev->text, ev->len);
		break;
	default:
		break;
	}
}

void
print_wire_lines(struct hexdump *hd, struct buf *b, const struct smtp_wire *w)
{
	if (w->dir == SMTP_WIRE_HANDSHAKE) {
		/* The dialogue's next note gives the handshake's facts. */
		(void)buf_add_str(b,
		    "*: hexdump: TLS handshake (not dumped); "
		    "from here on the octets are the TLS "
		    "plaintext, decrypted\n");
		return;
	}
	(void)hexdump_chunk(hd, b, w->dir == SMTP_WIRE_IN,
	    (w->flags & SMTP_WIRE_TLS ? HEXDUMP_TLS : 0) |
	        (w->flags & SMTP_WIRE_REDACTED ? HEXDUMP_REDACTED : 0),
	    w->p, w->n);
}

void
print_wire(struct print_opts *po, const struct smtp_wire *w)
{
	struct buf b, out;
	const char *p, *nl;
	size_t left;

	buf_init(&b, 0);
	buf_init(&out, 0);
	print_wire_lines(&po->hexdump, &b, w);
	p = buf_peek(&b);
	left = buf_used(&b);
	while (left > 0 && (nl = memchr(p, '\n', left)) != NULL) {
		if (po->timing)
			(void)buf_add_printf(&out, "%8.3f ", secs(w->t_us));
		(void)buf_add(&out, p, (size_t)(nl - p) + 1);
		left -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	outgate_write(buf_peek(&out), buf_used(&out));
	buf_reset(&out);
	buf_reset(&b);
}
