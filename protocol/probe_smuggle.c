/*
 * The smuggling probe: how does the server read end-of-data sequences
 * other than <CR><LF>.<CR><LF>?  (SMTP smuggling, SEC Consult, December
 * 2023: CVE-2023-51764 Postfix, CVE-2023-51765 sendmail, CVE-2023-51766
 * Exim.)
 *
 * RFC 5321 2.3.8 (lines end in CRLF; a receiver must not take a bare CR
 * or LF for a line end), 4.1.1.4 (the end of mail data is
 * <CRLF>.<CRLF>), 4.5.2 (transparency).
 *
 * One connection per variant (smtp_smuggle_variants): EHLO (or the
 * runner's STARTTLS/AUTH preamble), MAIL FROM, RCPT TO the --to
 * address, DATA, then a short message whose last line runs straight
 * into the variant's bytes, sent with /raw's engine call
 * (smtp_session_send_raw).  Then a pause: the longer of 500 ms and four
 * times the DATA round trip, at most 5 s.  A reply in the pause means
 * the server took the variant for the end of data (a 2xx: "ended
 * early", usable for smuggling) or refused it (4xx/5xx: "rejected");
 * otherwise the correct end follows and its reply says whether the
 * variant was content (2xx) or rejected.  Either way a message may be
 * delivered to --to, which the probe requires and announces.  Nothing
 * is ever sent after a variant but the correct end or QUIT: the probe
 * never smuggles a command itself.
 *
 * The verdict (smtp_probe_judge_smuggling, protocol/probe_judge.c) names
 * the variants the server ended early at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/probe_int.h"

/* The pause after a variant, in ms: bounds and round trips. */
#define SMUGGLE_PAUSE_MIN 500
#define SMUGGLE_PAUSE_MAX 5000
#define SMUGGLE_PAUSE_RTTS 4

#define V(name, bytes, lf)                                                     \
	{                                                                      \
		name, bytes, sizeof(bytes) - 1, lf                             \
	}
const struct smtp_smuggle_variant smtp_smuggle_variants[] = {
    V("<LF>.<LF>", "\n.\n", 1),
    V("<LF>.<CR><LF>", "\n.\r\n", 1),
    V("<CR><LF>.<LF>", "\r\n.\n", 1),
    V("<CR>.<CR>", "\r.\r", 0),
    V("<CR>.<CR><LF>", "\r.\r\n", 0),
    V("<CR><LF>.<CR>", "\r\n.\r", 0),
    V("<CR><LF><NUL>.<CR><LF>", "\r\n\0.\r\n", 0),
    {NULL, NULL, 0, 0},
};
#undef V

const char *
smtp_smuggle_outcome_name(enum smtp_smuggle_outcome o)
{
	switch (o) {
	case SMTP_SMUGGLE_UNTESTED:
		return "not tested";
	case SMTP_SMUGGLE_EARLY:
		return "ended early";
	case SMTP_SMUGGLE_REJECTED:
		return "rejected";
	case SMTP_SMUGGLE_CONTENT:
		return "content";
	case SMTP_SMUGGLE_REFUSED:
		return "not reached";
	case SMTP_SMUGGLE_CLOSED:
		return "closed, no answer";
	}
	return "?";
}

/* The variant of the attached connection, or NULL past the last. */
static const struct smtp_smuggle_variant *
variant(const struct smtp_probe *p)
{
	return p->conn >= 1 && p->conn <= SMTP_SMUGGLE_NVARIANTS
	    ? &smtp_smuggle_variants[p->conn - 1]
	    : NULL;
}

/* The last MESSAGE stage's index, or SIZE_MAX. */
static size_t
message_stage(const struct smtp_probe *p)
{
	size_t i = smtp_session_nstages(p->session);

	while (i-- > 0)
		if (smtp_session_stage(p->session, i)->kind ==
		    SMTP_STAGE_MESSAGE)
			return i;
	return SIZE_MAX;
}

static void
pause_over(void *arg)
{
	struct smtp_probe *p = arg;

	p->timer = 0;
	p->pause_over = 1;
}

/* The message, its last line running into the variant. */
static void
send_message(struct smtp_probe *p)
{
	const struct smtp_smuggle_variant *v = variant(p);
	const struct smtp_stage *data =
	    smtp_session_stage(p->session, p->ix[IX_DATA]);
	uint64_t rtt_ms = (data->t_end_us - data->t_start_us) / 1000;
	uint64_t ms = rtt_ms * SMUGGLE_PAUSE_RTTS;
	char *text, *err = NULL;
	struct buf b;

	text = xasprintf(
	    "%s%s%sTo: <%s>\r\n"
	    "Subject: ehlo smuggling probe %u/%u: %s\r\n"
	    "\r\n"
	    "ehlo probe smuggling sent this message to learn whether the\r\n"
	    "server ends a message at %s. You may delete it.\r\n"
	    "The sequence follows this line, then the correct end.",
	    p->from != NULL ? "From: <" : "", p->from != NULL ? p->from : "",
	    p->from != NULL ? ">\r\n" : "", p->rcpt, p->conn,
	    SMTP_SMUGGLE_NVARIANTS, v->name, v->name);
	buf_init(&b, 0);
	(void)buf_add_str(&b, text);
	(void)buf_add(&b, v->bytes, v->len);
	if (smtp_session_send_raw(
	        p->session, buf_peek(&b), buf_used(&b), &err) == -1) {
		smtp_session_note(p->session, "probe: %s", err);
		free(err);
	}
	smtp_client_flush(p->client);
	buf_reset(&b);
	free(text);
	if (ms < SMUGGLE_PAUSE_MIN)
		ms = SMUGGLE_PAUSE_MIN;
	if (ms > SMUGGLE_PAUSE_MAX)
		ms = SMUGGLE_PAUSE_MAX;
	p->pause_over = 0;
	p->timer = loop_timer_add(p->loop, ms, pause_over, p);
	smtp_session_note(p->session,
	    "probe: %s sent; waiting %llu ms for an early answer", v->name,
	    (unsigned long long)ms);
}

static int
code_ok(int code)
{
	return code / 100 == 2;
}

int
probe_smuggle_step(struct smtp_probe *p)
{
	size_t m;
	char *err = NULL;

	if (variant(p) == NULL)
		return 0;
	if (probe_step_ehlo(p))
		return 1;
	switch (p->phase) {
	case 2:
		p->phase++;
		p->ix[IX_MAIL] =
		    probe_send(p, "MAIL FROM:<%s>", probe_sender(p));
		return 1;
	case 3:
		if (!code_ok(probe_code_at(p, p->ix[IX_MAIL])))
			return 0;
		p->phase++;
		p->ix[IX_RCPT] = probe_send(p, "RCPT TO:<%s>", p->rcpt);
		return 1;
	case 4:
		if (!code_ok(probe_code_at(p, p->ix[IX_RCPT]))) {
			(void)probe_send(p, "RSET");
			p->phase = 8;
			return 1;
		}
		p->phase++;
		p->ix[IX_DATA] = probe_send(p, "DATA");
		return 1;
	case 5:
		if (probe_code_at(p, p->ix[IX_DATA]) != 354)
			return 0;
		p->phase++;
		send_message(p);
		return 1;
	case 6:
		m = message_stage(p);
		if (m != SIZE_MAX && probe_code_at(p, m) != 0)
			return 0; /* answered early: done */
		if (!p->pause_over)
			return 1; /* waiting, nothing to send */
		p->phase++;
		p->eod_sent = 1;
		if (smtp_session_send_raw(p->session, "\r\n.\r\n", 5, &err) ==
		    -1) {
			smtp_session_note(p->session, "probe: %s", err);
			free(err);
			return 0;
		}
		smtp_client_flush(p->client);
		return 1;
	default:
		return 0;
	}
}

void
probe_smuggle_attach(struct smtp_probe *p)
{
	p->pause_over = 0;
	p->eod_sent = 0;
	p->timer = 0;
	if (p->conn == 1)
		smtp_session_note(p->session,
		    "probe: smuggling delivers a message to <%s> for each of "
		    "the %d variants it tests (one connection each)",
		    p->rcpt, SMTP_SMUGGLE_NVARIANTS);
}

void
probe_smuggle_detach(struct smtp_probe *p)
{
	if (p->timer != 0 && p->loop != NULL)
		loop_timer_del(p->loop, p->timer);
	p->timer = 0;
}

/* The first refused step before the content (MAIL, RCPT, DATA). */
static int
refused_before(const struct smtp_probe *p, struct smtp_smuggle_fact *out)
{
	static const int ix[] = {IX_MAIL, IX_RCPT, IX_DATA};
	size_t i;
	int code;

	for (i = 0; i < sizeof ix / sizeof ix[0]; i++) {
		code = probe_code_at(p, p->ix[ix[i]]);
		if (code == 0)
			return 0;
		if (code / 100 == 4 || code / 100 == 5) {
			out->outcome = SMTP_SMUGGLE_REFUSED;
			out->code = code;
			probe_enhanced_at(p, p->ix[ix[i]], out->enhanced);
			return 1;
		}
	}
	return 0;
}

void
probe_smuggle_collect(struct smtp_probe *p)
{
	struct smtp_smuggle_fact *f;
	size_t m;
	int code;

	if (variant(p) == NULL)
		return;
	f = &p->facts.smuggle[p->conn - 1];
	memset(f, 0, sizeof *f);
	if (refused_before(p, f))
		return;
	if (probe_code_at(p, p->ix[IX_DATA]) != 354)
		return; /* untested: the connection failed before */
	m = message_stage(p);
	code = m != SIZE_MAX ? probe_code_at(p, m) : 0;
	if (code == 0) {
		f->outcome = SMTP_SMUGGLE_CLOSED;
		return;
	}
	f->code = code;
	probe_enhanced_at(p, m, f->enhanced);
	if (code / 100 != 2)
		f->outcome = SMTP_SMUGGLE_REJECTED;
	else
		f->outcome =
		    p->eod_sent ? SMTP_SMUGGLE_CONTENT : SMTP_SMUGGLE_EARLY;
}

int
probe_smuggle_again(const struct smtp_probe *p)
{
	const struct smtp_smuggle_fact *f;

	if (p->conn < 1 || p->conn >= SMTP_SMUGGLE_NVARIANTS)
		return 0;
	f = &p->facts.smuggle[p->conn - 1];
	/* Refused before any data, or never got there: so will the rest. */
	return f->outcome != SMTP_SMUGGLE_UNTESTED &&
	    f->outcome != SMTP_SMUGGLE_REFUSED;
}

int
probe_smuggle_is_evidence(const struct pline *l)
{
	/* The answers; the bytes sent are in the dialogue above. */
	return (l->text[0] == 'S' &&
	           (l->kind == SMTP_STAGE_MESSAGE || l->kind == -1)) ||
	    (l->text[0] == 'S' && l->first &&
	        (l->kind == SMTP_STAGE_MAIL || l->kind == SMTP_STAGE_RCPT ||
	            l->kind == SMTP_STAGE_DATA) &&
	        (l->text[3] == '4' || l->text[3] == '5'));
}
