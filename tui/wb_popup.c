/*
 * The workbench's popups: one scrollable text over the panes (help,
 * explanations of a reply, a command, a stage or a dialogue line, and the
 * TLS details of the connection).  The popup keeps what it shows (its
 * text, or how to make it: an explanation is laid out for a width) and
 * its lines wrapped once to the width it has on screen, made again when
 * that width changes; opening one closes the last and remembers the
 * focus to give back.
 */
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/explain.h"
#include "protocol/tlscheck.h"
#include "protocol/why.h"
#include "tui/wb.h"

void
wb_popup_close(struct wb *wb)
{
	wb_strv_free(&wb->pop.lines, &wb->pop.n);
	wb->pop.top = 0;
	free(wb->pop.title);
	wb->pop.title = NULL;
	free(wb->pop.arg);
	wb->pop.arg = NULL;
	wb->pop.make = NULL;
	wb->pop.width = 0;
	if (wb->in.focus == FOCUS_POPUP)
		wb->in.focus = wb->pop.focus_before;
	wb->dirty = 1;
}

/* The width of the popup's text on the screen as it is now. */
static size_t
popup_width(void)
{
	return (size_t)wb_popup_text_cols(COLS);
}

/* Makes the text for the popup's width and wraps it to that width. */
static void
popup_lines_make(struct wb *wb)
{
	size_t width = popup_width();
	char *text =
	    wb->pop.make != NULL ? wb->pop.make(wb, wb->pop.arg, width) : NULL;

	wb_strv_free(&wb->pop.lines, &wb->pop.n);
	wb->pop.lines = wb_text_wrap(text != NULL ? text
	        : wb->pop.make != NULL            ? ""
	                                          : wb->pop.arg,
	    (int)width, &wb->pop.n);
	wb->pop.width = width;
	free(text);
	wb->dirty = 1;
}

void
wb_popup_fit(struct wb *wb)
{
	if (wb->pop.title != NULL && wb->pop.width != popup_width())
		popup_lines_make(wb);
}

/* Shows a popup: the text make(arg, width) (make NULL: arg itself). */
static void
popup_show(struct wb *wb, const char *title,
    char *(*make)(struct wb *, const char *, size_t), const char *arg)
{
	wb_popup_close(wb);
	wb->pop.title = xstrdup(title);
	wb->pop.make = make;
	wb->pop.arg = xstrdup(arg);
	popup_lines_make(wb);
	wb->pop.focus_before =
	    wb->in.focus == FOCUS_POPUP ? wb->pop.focus_before : wb->in.focus;
	wb->in.focus = FOCUS_POPUP;
}

/* Opens a popup with text split at newlines (the text is trusted or
 * already escaped). */
void
wb_popup_open(struct wb *wb, const char *title, const char *text)
{
	popup_show(wb, title, NULL, text);
}

static char *
explain_make(struct wb *wb, const char *query, size_t width)
{
	(void)wb;
	return smtp_explain_text_width(query, width);
}

void
wb_popup_explain(struct wb *wb, const char *query)
{
	char *text = smtp_explain_text(query), *title;

	if (text == NULL) {
		wb_note(wb, THEME_WARNING,
		    "no explanation for \"%s\": try a reply code like 550, an "
		    "enhanced code like 5.7.1 or a command like VRFY",
		    query);
		return;
	}
	free(text);
	title = xasprintf("explain %s", query);
	popup_show(wb, title, explain_make, query);
	free(title);
}

/* The explanation of stage arg (its index) laid out for width. */
static char *
stage_make(struct wb *wb, const char *arg, size_t width)
{
	size_t idx = (size_t)strtoul(arg, NULL, 10);
	const struct smtp_stage *st = smtp_session_stage(wb->conn.session, idx);
	struct buf b;
	char *text, *q, *cmd;

	if (st == NULL)
		return NULL;
	buf_init(&b, 0);
	cmd = escape_dup(st->command, strlen(st->command));
	(void)buf_add_printf(&b, "Stage: %s   state: %s\n",
	    smtp_stage_kind_name(st->kind), smtp_stage_state_name(st->state));
	if (*cmd != '\0')
		(void)buf_add_printf(&b, "Sent:  %s\n", cmd);
	free(cmd);
	if (st->code != 0) {
		char *t = escape_dup(st->text, st->text_len);

		(void)buf_add_printf(
		    &b, "Reply: %d %s %s\n", st->code, st->enhanced, t);
		free(t);
		(void)buf_add_printf(&b, "Time:  %.1f ms\n",
		    (double)(st->t_end_us - st->t_start_us) / 1000.0);
		(void)buf_add_printf(&b, "Meaning: %s\n\n",
		    smtp_explain_oneline(smtp_stage_kind_name(st->kind),
		        st->code, st->enhanced));
		/* This session's cause first, where ehlo can tell. */
		if ((text = smtp_why(wb->conn.session, idx)) != NULL) {
			(void)buf_add_printf(&b, "Why: %s\n\n", text);
			free(text);
		}
		q = st->enhanced[0] != '\0'
		    ? xasprintf("%d %s", st->code, st->enhanced)
		    : xasprintf("%d", st->code);
		if ((text = smtp_explain_text_width(q, width)) != NULL) {
			(void)buf_add_str(&b, text);
			free(text);
		}
		free(q);
	} else if ((text = smtp_explain_text_width(
	                smtp_stage_kind_name(st->kind), width)) != NULL) {
		(void)buf_add_str(&b, "\n");
		(void)buf_add_str(&b, text);
		free(text);
	}
	(void)buf_add(&b, "", 1);
	text = xstrdup(buf_peek(&b));
	buf_reset(&b);
	return text;
}

void
wb_popup_why(struct wb *wb)
{
	const struct smtp_stage *st;
	size_t i = smtp_session_nstages(wb->conn.session);

	while (i-- > 0) {
		st = smtp_session_stage(wb->conn.session, i);
		if (st->code >= 400) {
			wb_popup_explain_stage(wb, i);
			return;
		}
	}
	wb_note(wb, THEME_NOTE,
	    "no 4xx or 5xx reply in this session to explain yet");
}

void
wb_popup_explain_stage(struct wb *wb, size_t idx)
{
	const struct smtp_stage *st = smtp_session_stage(wb->conn.session, idx);
	char *title, *arg;

	if (st == NULL)
		return;
	title =
	    xasprintf("stage %zu: %s", idx + 1, smtp_stage_kind_name(st->kind));
	arg = xasprintf("%zu", idx);
	popup_show(wb, title, stage_make, arg);
	free(arg);
	free(title);
}

/* Explains a dialogue line: a reply by its codes, a command by its verb. */
void
wb_popup_explain_line(struct wb *wb, size_t i)
{
	const struct dline *d = wb_dlg_line(wb, i);
	char q[64];
	size_t n;

	if (d->dir == 'S' && strlen(d->text) >= 3) {
		n = strcspn(d->text + 4, " ");
		(void)snprintf(q, sizeof q, "%.3s %.*s", d->text,
		    (int)(n < 20 ? n : 0), d->text + 4);
		wb_popup_explain(wb, q);
	} else if (d->dir == 'C') {
		n = strcspn(d->text, " :");
		(void)snprintf(
		    q, sizeof q, "%.*s", (int)(n < 20 ? n : 20), d->text);
		wb_popup_explain(wb, q);
	} else
		wb_popup_open(wb, "workbench note", d->text);
}

void
wb_popup_tls(struct wb *wb)
{
	const struct smtp_tls_info *ti = smtp_client_tls_info(wb->conn.client);
	struct buf b;
	size_t i;

	if (ti == NULL) {
		wb_popup_open(wb, "TLS",
		    "This connection does not use TLS.\n\nUse /starttls when "
		    "the server offers STARTTLS (see its EHLO reply),\nor "
		    "connect with --tls to a port with implicit TLS (465).");
		return;
	}
	buf_init(&b, 0);
	(void)buf_add_printf(&b,
	    "Protocol:  %s\nCipher:    %s\nKey group: %s\nSNI sent:  %s\n",
	    ti->version, ti->cipher, *ti->group ? ti->group : "(unknown)",
	    *ti->sni ? ti->sni : "(none: IP address)");
	if (ti->verified)
		(void)buf_add_str(&b, "Verified:  yes (chain and host name)\n");
	else
		(void)buf_add_printf(&b, "Verified:  NO: %s%s\n",
		    ti->verify_error,
		    ti->verify_skipped      ? " (--insecure)"
		        : ti->opportunistic ? " (opportunistic TLS)"
		                            : "");
	(void)buf_add_printf(
	    &b, "ALPN:      %s\n", *ti->alpn ? ti->alpn : "(none negotiated)");
	(void)buf_add_printf(&b,
	    "Signature: %s\nServer key: %s\nResumed:   %s\n",
	    ti->sig_alg != NULL && *ti->sig_alg ? ti->sig_alg : "(none)",
	    ti->peer_key != NULL && *ti->peer_key ? ti->peer_key : "(none)",
	    ti->resumed ? "yes" : "no (full handshake)");
	(void)buf_add_printf(&b, "OCSP:      %s%s%s\n",
	    *ti->ocsp ? smtp_tls_ocsp_name(ti->ocsp_status) : "no staple",
	    *ti->ocsp ? ": " : "", ti->ocsp);
	for (i = 0; i < ti->nchain; i++) {
		const struct smtp_tls_cert *c = &ti->chain[i];

		char days[64];

		smtp_tls_days_text(c->days_left, days, sizeof days);
		(void)buf_add_printf(&b,
		    "\nCertificate %zu%s\n  subject:  %s\n  issuer:   %s\n"
		    "  SAN:      %s\n  valid:    %s .. %s (%s)\n"
		    "  key:      %s %d bits, signed %s\n  SHA-256:  %s\n",
		    i, i == 0 ? " (server)" : "", c->subject, c->issuer,
		    *c->san ? c->san : "(none)", c->not_before, c->not_after,
		    days, c->key_type, c->key_bits, c->sig_alg,
		    c->sha256 != NULL ? c->sha256 : "");
	}
	(void)buf_add(&b, "", 1);
	wb_popup_open(wb, "TLS details", buf_peek(&b));
	buf_reset(&b);
}
