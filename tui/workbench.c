/*
 * The full-screen workbench: `ehlo [OPTIONS] [SERVER]`.
 *
 * One poll() loop drives everything: the terminal (ncurses, keys pumped
 * into readline), the SMTP connection (protocol/client.h), and, when no
 * server is given, the in-process practice server.  Event handlers only
 * change the model (dialogue lines, the session's stage list, popups)
 * and set the dirty flag; the screen is redrawn once per loop turn in the
 * before-sleep hook (wnoutrefresh of each pane, the input line last, one
 * doupdate), so a flood of server lines never starves typing.
 *
 * Screen (rows): title | dialogue beside stages | status | input.  Below
 * MIN_COLS x MIN_ROWS only a "terminal too small" notice is drawn.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <wchar.h>

#include <curses.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/complete.h"
#include "history/history.h"
#include "protocol/explain.h"
#include "protocol/lesson.h"
#include "protocol/message.h"
#include "protocol/mx.h"
#include "protocol/probe.h"
#include "protocol/tlscheck.h"
#include "protocol/practice.h"
#include "protocol/sasl.h"
#include "tui/cli.h"
#include "tui/draft.h"
#include "tui/histcmd.h"
#include "tui/lang.h"
#include "tui/record.h"
#include "tui/rl.h"
#include "tui/wbdraft.h"
#include "tui/wbdraw.h"

#define MIN_COLS 50
#define MIN_ROWS 10
#define DLG_MAX_LINES 2000000 /* oldest lines are dropped beyond this */

enum focus {
	FOCUS_INPUT,
	FOCUS_STAGES,
	FOCUS_DIALOGUE,
	FOCUS_POPUP,
};

struct dline {
	uint64_t t_us;
	char dir; /* 'C', 'S', '*' */
	enum theme_role role;
	char *text; /* escaped, printable */
};

/* A dialogue buffer: a ring of lines (first = oldest). */
struct dlg {
	struct dline *lines;
	size_t nlines, caplines, first;
	size_t scroll; /* logical lines above the tail */
};

/* A saved session shown read-only (the history browser). */
struct viewer {
	int64_t id;
	char *title;
	struct histcmd_events ev;
	size_t shown; /* events on screen (playback) */
	struct smtp_stage *stages;
	size_t nstages;
	int playing; /* timed playback running */
	uint64_t timer;
};

/* A draft on its way: envelope, then DATA, then the message. */
struct wb_send {
	struct smtp_message_build *b;
	int64_t draft_id;
	size_t nrcpt, replies, accepted;
	int mail_ok;
	int phase; /* 1 envelope, 2 DATA, 3 message */
};

struct wb {
	struct cli_opts *o;
	struct loop *loop;
	struct practice *practice;
	char *practice_dir; /* its data directory (inbox, certificate) */
	const struct lesson *lesson; /* shown beside the stages, or NULL */
	char **lesson_lines;
	size_t nlesson_lines;
	struct smtp_client *client;
	struct smtp_session *session;
	struct hist *hist; /* NULL: no history (--no-history, or failed) */
	struct record *rec; /* the current session's recorder */
	char *server_label;
	char *server_addr; /* "host:port" of the current connection */
	char *tls_name; /* name to verify instead of the host (MX) */
	char *helo;
	uint64_t t_start;

	/* dialogue: the live one, and a saved session being viewed */
	struct dlg live, saved;
	struct dlg *dlg; /* what the pane shows */
	size_t dlg_sel; /* selected line (FOCUS_DIALOGUE) */
	int show_time;

	/* stages */
	size_t stage_sel;
	int stage_follow;

	/* popup */
	char *popup_title;
	char **popup_lines;
	size_t npopup, popup_top;
	enum focus focus, focus_before_popup;

	/* completion list shown under the dialogue */
	char **matches;
	size_t nmatches;
	char *matches_line;

	/* command language state */
	char *confirm_line; /* a rule-breaking line shown once, sent on Enter */
	struct lang lang; /* /auth and /body across replies */
	char *secret_user, *secret_mech; /* asking for a secret */
	int asking_secret;
	char **addresses; /* seen in this session, for completion */
	size_t naddresses;
	size_t scan_events; /* events read of one session (completion) */
	char **draft_ids; /* "12", ... for completion */
	size_t ndraft_ids;
	char *auth_user; /* the user of the last /auth */

	struct viewer *viewer; /* a saved session on screen, or NULL */
	struct wdraft *draft; /* the draft being edited, or NULL */
	int draft_body; /* input lines go to the draft's body */
	struct wb_send *send; /* a draft being sent, or NULL */
	char **queue; /* commands sent one per reply (no PIPELINING) */
	size_t nqueue, queue_head;
	pid_t child_pid; /* a line-mode helper (replay, probe) or 0 */
	int child_fd;
	char *child_title;
	struct buf child_out;
	/* MX routing: the candidates of the last /mx, and the one in use */
	struct smtp_mx_list *mx;
	struct smtp_mx_candidate *mxc;
	size_t nmxc, mx_next;
	char *mx_port;
	struct wb_screen scr;
	int restore_line;
	int ehlo_after_tls;
	int dirty;
	int quitting;
	int done;
	int exit_status;
};

static struct wb *the_wb; /* for the fatal hook only */

static void wb_connect(struct wb *, const char *server);
static void send_end(struct wb *);
static void send_on_reply(struct wb *, const struct smtp_stage *, int);
static void send_or_note(struct wb *, const char *);

/* ---- the dialogue model ------------------------------------------- */

static struct dline *
dlg_at(struct dlg *g, size_t i)
{
	return &g->lines[(g->first + i) % g->caplines];
}

/* The line i of what the pane shows. */
static struct dline *
dline_at(struct wb *wb, size_t i)
{
	return dlg_at(wb->dlg, i);
}

static void
dlg_push(struct dlg *g, uint64_t t_us, char dir, enum theme_role role,
    const char *p, size_t n)
{
	struct dline *d;

	if (g->nlines == g->caplines) {
		if (g->caplines >= DLG_MAX_LINES) {
			d = dlg_at(g, 0);
			free(d->text);
			g->first = (g->first + 1) % g->caplines;
			g->nlines--;
		} else {
			size_t newcap = g->caplines ? g->caplines * 2 : 1024;
			struct dline *nl = xcalloc(newcap, sizeof *nl);
			size_t i;

			for (i = 0; i < g->nlines; i++)
				nl[i] = *dlg_at(g, i);
			free(g->lines);
			g->lines = nl;
			g->caplines = newcap;
			g->first = 0;
		}
	}
	d = dlg_at(g, g->nlines++);
	d->t_us = t_us;
	d->dir = dir;
	d->role = role;
	d->text = escape_dup(p, n);
	if (g->scroll > 0)
		g->scroll++; /* keep the view still while reading back */
}

static void
dlg_clear(struct dlg *g)
{
	size_t i;

	for (i = 0; i < g->nlines; i++)
		free(dlg_at(g, i)->text);
	free(g->lines);
	memset(g, 0, sizeof *g);
}

/* Adds a line of the live session. */
static void
dlg_add(struct wb *wb, uint64_t t_us, char dir, enum theme_role role,
    const char *p, size_t n)
{
	dlg_push(&wb->live, t_us, dir, role, p, n);
	wb->dirty = 1;
}

static void
wb_note(struct wb *wb, enum theme_role role, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	dlg_add(wb, loop_now_us() - wb->t_start, '*', role, s, strlen(s));
	free(s);
}

static enum theme_role
role_of_server_line(const char *p, size_t n)
{
	if (n < 1)
		return THEME_SERVER_OTHER;
	switch (p[0]) {
	case '2':
		return THEME_SERVER_2XX;
	case '3':
		return THEME_SERVER_3XX;
	case '4':
		return THEME_SERVER_4XX;
	case '5':
		return THEME_SERVER_5XX;
	default:
		return THEME_SERVER_OTHER;
	}
}

/* ---- popups ------------------------------------------------------- */

static void
popup_close(struct wb *wb)
{
	size_t i;

	for (i = 0; i < wb->npopup; i++)
		free(wb->popup_lines[i]);
	free(wb->popup_lines);
	wb->popup_lines = NULL;
	wb->npopup = wb->popup_top = 0;
	free(wb->popup_title);
	wb->popup_title = NULL;
	if (wb->focus == FOCUS_POPUP)
		wb->focus = wb->focus_before_popup;
	wb->dirty = 1;
}

/* Opens a popup with text split at newlines (the text is trusted or
 * already escaped). */
static void
popup_open(struct wb *wb, const char *title, const char *text)
{
	const char *p = text, *nl;

	popup_close(wb);
	wb->popup_title = xstrdup(title);
	while (*p != '\0' || p == text) {
		nl = strchr(p, '\n');
		wb->popup_lines = xreallocarray(
		    wb->popup_lines, wb->npopup + 1, sizeof *wb->popup_lines);
		wb->popup_lines[wb->npopup++] =
		    xstrndup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	wb->focus_before_popup =
	    wb->focus == FOCUS_POPUP ? wb->focus_before_popup : wb->focus;
	wb->focus = FOCUS_POPUP;
	wb->dirty = 1;
}

static const char help_text[] =
    "Type SMTP commands and press Enter; they go to the server as typed.\n"
    "After 354, lines are message content until a line with a single \".\"\n"
    "(type \"..\" for a line that starts with a dot).\n"
    "\n"
    "Keys\n"
    "  Tab          complete (verbs, addresses, parameters the server "
    "offers)\n"
    "  Up/Down      input history       Ctrl-R  search the history\n"
    "  Ctrl-A/E     start/end of line   Ctrl-C  cancel the line\n"
    "  PgUp/PgDn    scroll the dialogue (Home/End on an empty line: "
    "top/bottom)\n"
    "  F2           select a stage; Enter explains it, Esc returns\n"
    "  F3           show/hide time offsets in the dialogue\n"
    "  F4           select a dialogue line; Enter explains it, Esc returns\n"
    "  F1           this help          Ctrl-L  redraw\n"
    "  Ctrl-D       on an empty line: quit (sends QUIT)\n"
    "\n"
    "Workbench commands\n"
    "  /starttls            STARTTLS, TLS handshake, EHLO again\n"
    "  /auth MECH [USER]    SASL exchange (PLAIN LOGIN CRAM-MD5 XOAUTH2);\n"
    "                       the secret from EHLO_PASSWORD or asked "
    "masked\n"
    "  /body FILE           DATA, then the file dot-stuffed, then \".\"\n"
    "  /pipeline ... /end   send the commands between in one write\n"
    "  /explain [CODE|VERB] explain (no argument: the last reply)\n"
    "  /tls                 TLS details: chain, validity, verification\n"
    "  /connect SERVER      new connection (no SERVER: practice server)\n"
    "  /find TEXT           scroll the dialogue to TEXT\n"
    "  /save [LABEL]        label this session in the history\n"
    "  /inbox [N]           the practice inbox (N: show message N)\n"
    "  /lesson [NAME|off]   guided lessons, shown beside the stages;\n"
    "                       /hint gives a hint for the next goal\n"
    "  /clear               clear the dialogue pane\n"
    "  /history [TEXT]      saved sessions (TEXT: full-text search)\n"
    "  /open ID             show a saved session read-only; F5 steps\n"
    "                       through it, F6 plays it with its timing,\n"
    "                       /close returns to the live session\n"
    "  /draft new           start a draft; /draft from|to|cc|bcc|reply-to|\n"
    "                       subject|header|attach VALUE sets a field,\n"
    "                       /draft clear FIELD empties it, /draft body\n"
    "                       types the body (\".\" ends), /draft edit opens\n"
    "                       $VISUAL/$EDITOR, /draft show previews the exact\n"
    "                       message; saved as you go\n"
    "  /drafts              the saved drafts; /draft open|dup|delete ID\n"
    "  /send [ID] [NOTIFY=SUCCESS,FAILURE] [RET=HDRS] [ENVID=X]\n"
    "                       send the open draft (or draft ID) in this\n"
    "                       session: MAIL, RCPT (pipelined when offered),\n"
    "                       DATA, the message\n"
    "  /mx DOMAIN[:PORT]    look up the MX hosts and connect to the first;\n"
    "                       /next goes on to the next candidate\n"
    "  /probe NAME [SERVER] a diagnostic probe (starttls-required,\n"
    "                       auth-before-tls, relay, vrfy-expn, pipelining,\n"
    "                       size); it never delivers mail\n"
    "  /replay ID [SERVER]  run a saved session again (the same server,\n"
    "                       or SERVER) and show where the replies differ\n"
    "  /help                this help       /quit   QUIT and leave\n"
    "\n"
    "A line that breaks the rules (wrong order, an extension the server\n"
    "did not offer) shows why first; press Enter again to send it anyway.";

static void
popup_explain(struct wb *wb, const char *query)
{
	char *text = smtp_explain_text(query), *title;

	if (text == NULL) {
		wb_note(wb, THEME_WARNING,
		    "no explanation for \"%s\": try a reply code like 550, an "
		    "enhanced code like 5.7.1 or a command like VRFY",
		    query);
		return;
	}
	title = xasprintf("explain %s", query);
	popup_open(wb, title, text);
	free(title);
	free(text);
}

static void
popup_explain_stage(struct wb *wb, size_t idx)
{
	const struct smtp_stage *st = smtp_session_stage(wb->session, idx);
	struct buf b;
	char *text, *q, *title, *cmd;

	if (st == NULL)
		return;
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
		q = st->enhanced[0] != '\0'
		    ? xasprintf("%d %s", st->code, st->enhanced)
		    : xasprintf("%d", st->code);
		if ((text = smtp_explain_text(q)) != NULL) {
			(void)buf_add_str(&b, text);
			free(text);
		}
		free(q);
	} else if ((text = smtp_explain_text(smtp_stage_kind_name(st->kind))) !=
	    NULL) {
		(void)buf_add_str(&b, "\n");
		(void)buf_add_str(&b, text);
		free(text);
	}
	title =
	    xasprintf("stage %zu: %s", idx + 1, smtp_stage_kind_name(st->kind));
	(void)buf_add(&b, "", 1);
	popup_open(wb, title, buf_peek(&b));
	free(title);
	buf_reset(&b);
}

/* Explains a dialogue line: a reply by its codes, a command by its verb. */
static void
popup_explain_line(struct wb *wb, size_t i)
{
	const struct dline *d = dline_at(wb, i);
	char q[64];
	size_t n;

	if (d->dir == 'S' && strlen(d->text) >= 3) {
		n = strcspn(d->text + 4, " ");
		(void)snprintf(q, sizeof q, "%.3s %.*s", d->text,
		    (int)(n < 20 ? n : 0), d->text + 4);
		popup_explain(wb, q);
	} else if (d->dir == 'C') {
		n = strcspn(d->text, " :");
		(void)snprintf(
		    q, sizeof q, "%.*s", (int)(n < 20 ? n : 20), d->text);
		popup_explain(wb, q);
	} else
		popup_open(wb, "workbench note", d->text);
}

static void
popup_tls(struct wb *wb)
{
	const struct smtp_tls_info *ti = smtp_client_tls_info(wb->client);
	struct buf b;
	size_t i;

	if (ti == NULL) {
		popup_open(wb, "TLS",
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
		    ti->verify_skipped ? " (--insecure)" : "");
	(void)buf_add_printf(
	    &b, "ALPN:      %s\n", *ti->alpn ? ti->alpn : "(none negotiated)");
	(void)buf_add_printf(&b, "OCSP:      %s%s%s\n",
	    *ti->ocsp ? smtp_tls_ocsp_name(ti->ocsp_status) : "no staple",
	    *ti->ocsp ? ": " : "", ti->ocsp);
	for (i = 0; i < ti->nchain; i++) {
		const struct smtp_tls_cert *c = &ti->chain[i];

		(void)buf_add_printf(&b,
		    "\nCertificate %zu%s\n  subject:  %s\n  issuer:   %s\n"
		    "  SAN:      %s\n  valid:    %s .. %s (%ld days left)\n"
		    "  key:      %s %d bits, signed %s\n",
		    i, i == 0 ? " (server)" : "", c->subject, c->issuer,
		    *c->san ? c->san : "(none)", c->not_before, c->not_after,
		    c->days_left, c->key_type, c->key_bits, c->sig_alg);
	}
	(void)buf_add(&b, "", 1);
	popup_open(wb, "TLS details", buf_peek(&b));
	buf_reset(&b);
}

/* ---- completion --------------------------------------------------- */

static void
matches_clear(struct wb *wb)
{
	size_t i;

	for (i = 0; i < wb->nmatches; i++)
		free(wb->matches[i]);
	free(wb->matches);
	wb->matches = NULL;
	wb->nmatches = 0;
	free(wb->matches_line);
	wb->matches_line = NULL;
	wb->dirty = 1;
}

static char **
on_complete(const char *line, int start, int end, void *arg)
{
	struct wb *wb = arg;
	struct smtp_complete_ctx ctx;
	struct smtp_completion c;
	char **out, **themes;
	size_t i, nthemes = 0;

	memset(&ctx, 0, sizeof ctx);
	ctx.state = smtp_session_state(wb->session);
	ctx.caps = smtp_session_caps(wb->session);
	ctx.addresses.items = (const char *const *)wb->addresses;
	ctx.addresses.n = wb->naddresses;
	ctx.hosts.items = (const char *const *)&wb->helo;
	ctx.hosts.n = 1;
	{
		char *dir = theme_user_dir();

		themes = theme_list(dir, &nthemes);
		free(dir);
	}
	ctx.themes.items = (const char *const *)themes;
	ctx.themes.n = nthemes;
	ctx.drafts.items = (const char *const *)wb->draft_ids;
	ctx.drafts.n = wb->ndraft_ids;
	{
		static const char *lessons[64], *probes[32];
		size_t k, nl = 0, np = 0;

		for (k = 0; k < lesson_count() && nl < 64; k++)
			lessons[nl++] = lesson_at(k)->name;
		for (k = 0; smtp_probes[k].name != NULL && np < 32; k++)
			probes[np++] = smtp_probes[k].name;
		ctx.lessons.items = lessons;
		ctx.lessons.n = nl;
		ctx.probes.items = probes;
		ctx.probes.n = np;
	}
	(void)smtp_complete(line, (size_t)end, &ctx, &c);
	theme_list_free(themes);
	if (c.want_files) {
		smtp_completion_free(&c);
		return rl_glue_complete_files(line + start, end - start);
	}
	out = xcalloc(c.nmatches + 1, sizeof *out);
	for (i = 0; i < c.nmatches; i++)
		out[i] = xstrdup(c.matches[i]);
	rl_glue_set_append(c.nmatches == 1 ? c.append : 0);
	smtp_completion_free(&c);
	return out;
}

static void
on_show_matches(char **matches, int n, void *arg)
{
	struct wb *wb = arg;
	int i;

	matches_clear(wb);
	wb->matches = xcalloc((size_t)n, sizeof *wb->matches);
	for (i = 1; i <= n; i++)
		wb->matches[wb->nmatches++] =
		    escape_dup(matches[i], strlen(matches[i]));
	wb->matches_line = xstrdup(rl_glue_line());
}

static void
remember_address(struct wb *wb, const char *line)
{
	const char *lt = strchr(line, '<'), *gt;
	size_t i, n;

	if (lt == NULL || (gt = strchr(lt, '>')) == NULL || gt == lt + 1)
		return;
	n = (size_t)(gt - lt - 1);
	if (n > 254)
		return;
	for (i = 0; i < wb->naddresses; i++)
		if (strlen(wb->addresses[i]) == n &&
		    strncasecmp(wb->addresses[i], lt + 1, n) == 0)
			return;
	if (wb->naddresses >= 200)
		return;
	wb->addresses = xreallocarray(
	    wb->addresses, wb->naddresses + 1, sizeof *wb->addresses);
	wb->addresses[wb->naddresses++] = xstrndup(lt + 1, n);
}

static void
remember_plain_address(struct wb *wb, const char *addr)
{
	char *line;

	/* "Name <a@b>" or "a@b": the part remember_address() reads. */
	line =
	    strchr(addr, '<') != NULL ? xstrdup(addr) : xasprintf("<%s>", addr);
	remember_address(wb, line);
	free(line);
}

static int
draft_ids_row(const struct hist_draft *d, void *arg)
{
	struct wb *wb = arg;
	struct draft_msg dm;
	char *err = NULL;
	size_t i;

	if (wb->ndraft_ids < 500) {
		wb->draft_ids = xreallocarray(
		    wb->draft_ids, wb->ndraft_ids + 1, sizeof *wb->draft_ids);
		wb->draft_ids[wb->ndraft_ids++] =
		    xasprintf("%lld", (long long)d->id);
	}
	if (draft_msg_load(&dm, d, &err) == -1) {
		free(err);
		return 0;
	}
	if (dm.msg.from != NULL)
		remember_plain_address(wb, dm.msg.from);
	for (i = 0; i < dm.msg.to.n; i++)
		remember_plain_address(wb, dm.msg.to.v[i]);
	for (i = 0; i < dm.msg.cc.n; i++)
		remember_plain_address(wb, dm.msg.cc.v[i]);
	draft_msg_free(&dm);
	return 0;
}

static int
history_addr_event(const struct hist_event *e, void *arg)
{
	struct wb *wb = arg;
	char *line;

	/* Envelopes come early in a session: do not read a long one whole. */
	if (++wb->scan_events > 2000)
		return 1;
	if (e->dir != 'C' || e->len < 10 || (e->flags & HIST_EV_CONTENT))
		return 0;
	if (strncasecmp(e->text, "MAIL FROM:", 10) != 0 &&
	    strncasecmp(e->text, "RCPT TO:", 8) != 0)
		return 0;
	line = xstrndup(e->text, e->len);
	remember_address(wb, line);
	free(line);
	return 0;
}

static int
history_addr_session(const struct hist_session *hs, void *arg)
{
	struct wb *wb = arg;
	char *err = NULL;

	wb->scan_events = 0;
	if (hist_events_iter(wb->hist, hs->id, history_addr_event, wb, &err) ==
	    -1)
		free(err);
	return 0;
}

/* Draft numbers and the drafts' addresses, for completion. */
static void
load_draft_completions(struct wb *wb)
{
	char *err = NULL;
	size_t i;

	for (i = 0; i < wb->ndraft_ids; i++)
		free(wb->draft_ids[i]);
	free(wb->draft_ids);
	wb->draft_ids = NULL;
	wb->ndraft_ids = 0;
	if (wb->hist == NULL)
		return;
	if (hist_draft_list(wb->hist, draft_ids_row, wb, &err) == -1)
		free(err);
}

/* Addresses from the envelopes of the last sessions (once, at start). */
static void
load_history_completions(struct wb *wb)
{
	char *err = NULL;

	if (wb->hist != NULL &&
	    hist_session_list(
	        wb->hist, 20, NULL, history_addr_session, wb, &err) == -1)
		free(err);
}

/* ---- session events ----------------------------------------------- */

static void
on_reply(struct wb *wb, const struct smtp_event *ev)
{
	const struct smtp_stage *st = ev->stage;
	char *err = NULL;

	if (st == NULL)
		return;
	if (lang_on_reply(&wb->lang, ev, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
	}
	if (wb->send != NULL)
		send_on_reply(wb, st, ev->reply->code);
	if (st->kind == SMTP_STAGE_TLS || st->kind == SMTP_STAGE_STARTTLS)
		wb->dirty = 1;
}

static void
on_event(const struct smtp_event *ev, void *arg)
{
	struct wb *wb = arg;

	/* Stored before it is shown: a crash loses nothing on screen. */
	record_event(wb->rec, ev);
	switch (ev->type) {
	case SMTP_EV_SENT:
		dlg_add(wb, ev->t_us, 'C', THEME_CLIENT, ev->text, ev->len);
		break;
	case SMTP_EV_LINE:
		dlg_add(wb, ev->t_us, 'S',
		    role_of_server_line(ev->text, ev->len), ev->text, ev->len);
		break;
	case SMTP_EV_NOTE:
		dlg_add(wb, ev->t_us, '*', THEME_NOTE, ev->text, ev->len);
		break;
	case SMTP_EV_WARNING:
		dlg_add(wb, ev->t_us, '*', THEME_WARNING, ev->text, ev->len);
		break;
	case SMTP_EV_FAILURE:
		dlg_add(wb, ev->t_us, '*', THEME_ERROR, ev->text, ev->len);
		break;
	case SMTP_EV_REPLY:
		on_reply(wb, ev);
		break;
	case SMTP_EV_CLOSED:
		send_end(wb);
		wb_note(wb, THEME_NOTE,
		    "not connected: /connect SERVER for a new session, or "
		    "/quit");
		break;
	default:
		break;
	}
	if (ev->type == SMTP_EV_STAGE)
		wb->dirty = 1;
}

/* ---- the command language ----------------------------------------- */

static void
send_or_note(struct wb *wb, const char *line)
{
	char *err = NULL;

	if (smtp_client_send(wb->client, line, strlen(line), &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
	}
}

static void
start_auth(
    struct wb *wb, const char *mech, const char *user, const char *secret)
{
	char *err = NULL;

	if (lang_auth_start(&wb->lang, mech, user, secret, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
	}
}

static void
cmd_auth(struct wb *wb, const char *arg)
{
	char mech[32];
	const char *user, *env;
	size_t i = 0;

	while (arg[i] != '\0' && arg[i] != ' ' && i + 1 < sizeof mech) {
		mech[i] = arg[i];
		i++;
	}
	mech[i] = '\0';
	user = arg + i;
	while (*user == ' ')
		user++;
	if (*user == '\0')
		user = wb->o->user;
	free(wb->auth_user);
	wb->auth_user = user != NULL ? escape_dup(user, strlen(user)) : NULL;
	if (mech[0] == '\0' || sasl_mech_find(mech) == NULL) {
		wb_note(wb, THEME_ERROR,
		    "/auth MECH [USER]: MECH is one of PLAIN, LOGIN, "
		    "CRAM-MD5, XOAUTH2");
		return;
	}
	if (user == NULL || *user == '\0') {
		wb_note(wb, THEME_ERROR, "/auth %s needs a USER", mech);
		return;
	}
	if ((env = getenv("EHLO_PASSWORD")) != NULL) {
		start_auth(wb, mech, user, env);
		return;
	}
	/* Ask for the secret on the input line, masked, not in history. */
	free(wb->secret_mech);
	free(wb->secret_user);
	wb->secret_mech = xstrdup(mech);
	wb->secret_user = xstrdup(user);
	wb->asking_secret = 1;
	{
		char *prompt = xasprintf("secret for %s (hidden, Enter "
		                         "sends, Ctrl-C cancels): ",
		    user);

		rl_glue_set_prompt(prompt);
		free(prompt);
	}
	wb_draw_set_mask(&wb->scr, 1);
}

static void
secret_entered(struct wb *wb, char *line)
{
	wb->asking_secret = 0;
	wb_draw_set_mask(&wb->scr, 0);
	if (line != NULL)
		start_auth(wb, wb->secret_mech, wb->secret_user, line);
	free(wb->secret_mech);
	free(wb->secret_user);
	wb->secret_mech = wb->secret_user = NULL;
}

static void
cmd_body(struct wb *wb, const char *path)
{
	char *err = NULL;

	if (lang_body(&wb->lang, path, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
	}
}

static int
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

static void
cmd_find(struct wb *wb, const char *text)
{
	size_t i, from;

	if (*text == '\0' || wb->dlg->nlines == 0)
		return;
	from = wb->dlg->nlines - 1 -
	    (wb->dlg->scroll < wb->dlg->nlines ? wb->dlg->scroll : 0);
	for (i = from; i-- > 0;) {
		if (contains_ci(dline_at(wb, i)->text, text)) {
			wb->dlg->scroll = wb->dlg->nlines - 1 - i;
			wb->dirty = 1;
			return;
		}
	}
	wb_note(wb, THEME_WARNING, "\"%s\" not found above this point", text);
}

static void
wb_inbox_cmd(struct wb *wb, const char *arg)
{
	struct practice_message *m = NULL;
	size_t n = 0, i;
	char *err = NULL, *subj, *title;
	struct buf b;
	long want = -1;

	if (practice_inbox_list(wb->practice_dir, &m, &n, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return;
	}
	if (*arg != '\0') {
		char *end;

		want = strtol(arg, &end, 10);
		if (*end != '\0' || want < 1 || (size_t)want > n) {
			wb_note(wb, THEME_ERROR,
			    "/inbox N: N is a message number from 1 to %zu", n);
			practice_inbox_free(m, n);
			return;
		}
	}
	buf_init(&b, 0);
	if (want > 0) {
		FILE *f = fopen(m[want - 1].path, "r");
		char line[1024];
		int count = 0;

		if (f == NULL)
			(void)buf_add_printf(&b, "cannot open %s: %s",
			    m[want - 1].path, strerror(errno));
		while (f != NULL && count++ < 2000 &&
		    fgets(line, sizeof line, f) != NULL) {
			line[strcspn(line, "\r\n")] = '\0';
			(void)escape_append(&b, line, strlen(line));
			(void)buf_add(&b, "\n", 1);
		}
		if (f != NULL)
			(void)fclose(f);
		title = xasprintf("practice inbox: message %ld for %s", want,
		    m[want - 1].user);
	} else {
		if (n == 0)
			(void)buf_add_str(&b,
			    "The practice inbox is empty: "
			    "deliver a message to alice, bob or carol "
			    "@practice.test first.");
		for (i = 0; i < n; i++) {
			subj = escape_dup(m[i].subject, strlen(m[i].subject));
			(void)buf_add_printf(&b, "%3zu  %-6s %8llu bytes  %s\n",
			    i + 1, m[i].user, (unsigned long long)m[i].size,
			    subj);
			free(subj);
		}
		if (n > 0)
			(void)buf_add_str(&b, "\n/inbox N shows message N.");
		title = xstrdup("practice inbox");
	}
	(void)buf_add(&b, "", 1);
	popup_open(wb, title, buf_peek(&b));
	free(title);
	buf_reset(&b);
	practice_inbox_free(m, n);
}

static void
lesson_lines_free(struct wb *wb)
{
	size_t i;

	for (i = 0; i < wb->nlesson_lines; i++)
		free(wb->lesson_lines[i]);
	free(wb->lesson_lines);
	wb->lesson_lines = NULL;
	wb->nlesson_lines = 0;
}

static void
lesson_add_text(
    struct wb *wb, const char *text, size_t width, const char *indent)
{
	char *wrapped = lesson_wrap(text, width, indent), *p, *nl;

	for (p = wrapped; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		wb->lesson_lines = xreallocarray(wb->lesson_lines,
		    wb->nlesson_lines + 1, sizeof *wb->lesson_lines);
		wb->lesson_lines[wb->nlesson_lines++] =
		    xstrndup(p, (size_t)(nl - p));
		if (*nl == '\0')
			break;
	}
	free(wrapped);
}

/* Rebuilds the lesson pane: the task, each goal with its state, a hint. */
static void
lesson_refresh(struct wb *wb, size_t width)
{
	struct lesson_ctx ctx;
	int done[32];
	size_t i, met;
	char *line;
	const struct lesson_goal *next;

	lesson_lines_free(wb);
	if (wb->lesson == NULL)
		return;
	memset(&ctx, 0, sizeof ctx);
	ctx.session = wb->session;
	ctx.datadir = wb->practice_dir;
	met = lesson_progress(wb->lesson, &ctx, done);
	line = xasprintf(
	    "lesson: %s (%zu/%zu)", wb->lesson->title, met, wb->lesson->ngoals);
	lesson_add_text(wb, line, width, "");
	free(line);
	lesson_add_text(wb, wb->lesson->task, width, "  ");
	for (i = 0; i < wb->lesson->ngoals && i < 32; i++) {
		line = xasprintf("%s %s", done[i] ? "\xe2\x9c\x93" : "\xc2\xb7",
		    wb->lesson->goals[i].text);
		lesson_add_text(wb, line, width, "  ");
		free(line);
	}
	next = lesson_next_goal(wb->lesson, &ctx);
	lesson_add_text(wb,
	    next == NULL ? "Lesson passed. /lesson lists the next ones."
	                 : "/hint for a hint, /lesson off to close",
	    width, "");
}

static void
wb_lesson_cmd(struct wb *wb, const char *arg)
{
	struct buf b;
	size_t i;
	char *text;

	if (*arg == '\0') {
		buf_init(&b, 0);
		for (i = 0; i < lesson_count(); i++)
			(void)buf_add_printf(&b, "%-12s %s\n",
			    lesson_at(i)->name, lesson_at(i)->title);
		(void)buf_add_str(&b,
		    "\n/lesson NAME opens a lesson beside "
		    "the stages.");
		(void)buf_add(&b, "", 1);
		popup_open(wb, "lessons", buf_peek(&b));
		buf_reset(&b);
		return;
	}
	if (strcasecmp(arg, "off") == 0) {
		wb->lesson = NULL;
		lesson_lines_free(wb);
		wb->dirty = 1;
		return;
	}
	if ((wb->lesson = lesson_find(arg)) == NULL) {
		wb_note(wb, THEME_ERROR, "no lesson \"%s\": /lesson lists them",
		    arg);
		return;
	}
	text = lesson_wrap(wb->lesson->text, 76, "");
	popup_open(wb, wb->lesson->title, text);
	free(text);
	wb->dirty = 1;
}

static void
wb_hint_cmd(struct wb *wb)
{
	struct lesson_ctx ctx;
	const struct lesson_goal *g;

	if (wb->lesson == NULL) {
		wb_note(wb, THEME_NOTE, "no lesson open: /lesson lists them");
		return;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.session = wb->session;
	ctx.datadir = wb->practice_dir;
	g = lesson_next_goal(wb->lesson, &ctx);
	wb_note(wb, THEME_NOTE, "hint: %s",
	    g != NULL ? g->hint : "the lesson is passed");
}

/* ---- drafts: composing and sending -------------------------------- */

static void
queue_free(struct wb *wb)
{
	size_t i;

	for (i = wb->queue_head; i < wb->nqueue; i++)
		free(wb->queue[i]);
	free(wb->queue);
	wb->queue = NULL;
	wb->nqueue = wb->queue_head = 0;
}

static void
queue_add(struct wb *wb, char *line)
{
	wb->queue = xreallocarray(wb->queue, wb->nqueue + 1, sizeof *wb->queue);
	wb->queue[wb->nqueue++] = line;
}

/* Sends the next queued command once the previous one is answered. */
static void
queue_pump(struct wb *wb)
{
	char *line;

	if (wb->queue_head >= wb->nqueue || smtp_client_is_busy(wb->client))
		return;
	line = wb->queue[wb->queue_head++];
	send_or_note(wb, line);
	free(line);
	if (wb->queue_head >= wb->nqueue)
		queue_free(wb);
}

static void
send_end(struct wb *wb)
{
	if (wb->send == NULL)
		return;
	smtp_message_build_free(wb->send->b);
	free(wb->send);
	wb->send = NULL;
	queue_free(wb);
	wb->dirty = 1;
}

static ssize_t
send_read(void *arg, char *buf, size_t cap, char **errstr)
{
	return smtp_message_build_read(arg, buf, cap, errstr);
}

/* Follows the replies of a draft's transaction. */
static void
send_on_reply(struct wb *wb, const struct smtp_stage *st, int code)
{
	struct wb_send *sd = wb->send;
	char *err = NULL;

	if (sd->phase == 1 &&
	    (st->kind == SMTP_STAGE_MAIL || st->kind == SMTP_STAGE_RCPT)) {
		sd->replies++;
		if (st->kind == SMTP_STAGE_MAIL)
			sd->mail_ok = code / 100 == 2;
		else if (code / 100 == 2)
			sd->accepted++;
		if (sd->replies < sd->nrcpt + 1)
			return;
		if (!sd->mail_ok || sd->accepted == 0) {
			wb_note(wb, THEME_ERROR,
			    "draft #%lld not sent: the "
			    "server refused the %s; the transaction is reset",
			    (long long)sd->draft_id,
			    sd->mail_ok ? "recipients" : "sender");
			queue_free(wb);
			send_or_note(wb, "RSET");
			send_end(wb);
			return;
		}
		if (sd->accepted < sd->nrcpt)
			wb_note(wb, THEME_WARNING,
			    "%zu of %zu recipients "
			    "refused (see the stages); sending to the %zu "
			    "accepted",
			    sd->nrcpt - sd->accepted, sd->nrcpt, sd->accepted);
		sd->phase = 2;
		send_or_note(wb, "DATA");
	} else if (sd->phase == 2 && st->kind == SMTP_STAGE_DATA) {
		if (code != 354) {
			wb_note(wb, THEME_ERROR,
			    "the server refused DATA: the "
			    "draft was not sent");
			send_end(wb);
			return;
		}
		if (smtp_client_body_source(wb->client, send_read, sd->b,
		        "the draft", &err) == -1) {
			wb_note(wb, THEME_ERROR, "%s", err);
			free(err);
			send_end(wb);
			return;
		}
		sd->phase = 3;
	} else if (sd->phase == 3 && st->kind == SMTP_STAGE_MESSAGE) {
		wb_note(wb, code / 100 == 2 ? THEME_NOTE : THEME_ERROR,
		    "draft #%lld %s", (long long)sd->draft_id,
		    code / 100 == 2 ? "sent" : "refused at the end of data");
		send_end(wb);
	}
}

static void
wb_send_cmd(struct wb *wb, const char *arg)
{
	const struct smtp_caps *caps = smtp_session_caps(wb->session);
	const struct smtp_message_info *info;
	struct smtp_message_opts mo;
	struct smtp_message m;
	struct wdraft *d = wb->draft, *tmp = NULL;
	struct buf b;
	char *err = NULL, notify[64] = "", ret[16] = "", envid[101] = "";
	size_t i;

	if (wb->send != NULL) {
		wb_note(wb, THEME_WARNING, "a draft is being sent already");
		return;
	}
	/* Words: an optional draft number, then DSN parameters (RFC 3461)
	 * NOTIFY=..., RET=FULL|HDRS, ENVID=... */
	while (*arg != '\0') {
		size_t n = strcspn(arg, " \t");
		char *end;

		if (strncasecmp(arg, "NOTIFY=", 7) == 0)
			(void)snprintf(notify, sizeof notify, "%.*s",
			    (int)(n - 7), arg + 7);
		else if (strncasecmp(arg, "RET=", 4) == 0)
			(void)snprintf(
			    ret, sizeof ret, "%.*s", (int)(n - 4), arg + 4);
		else if (strncasecmp(arg, "ENVID=", 6) == 0)
			(void)snprintf(
			    envid, sizeof envid, "%.*s", (int)(n - 6), arg + 6);
		else {
			long long id =
			    strtoll(*arg == '#' ? arg + 1 : arg, &end, 10);

			if (wb->hist == NULL || id <= 0 || (end != arg + n) ||
			    tmp != NULL) {
				wb_note(wb, THEME_ERROR,
				    "/send [ID] [NOTIFY=...] [RET=FULL|HDRS] "
				    "[ENVID=...]: ID is a draft number from "
				    "/drafts");
				wdraft_free(tmp);
				return;
			}
			tmp = d = wdraft_new();
			if (wdraft_load(d, wb->hist, id, &err) == -1) {
				wb_note(wb, THEME_ERROR, "%s", err);
				free(err);
				wdraft_free(tmp);
				return;
			}
		}
		arg += n;
		arg += strspn(arg, " \t");
	}
	if ((notify[0] || ret[0] || envid[0]) &&
	    !smtp_caps_has(caps, SMTP_CAP_DSN))
		wb_note(wb, THEME_WARNING,
		    "the server did not offer DSN: "
		    "its parameters are sent anyway");
	if (d == NULL) {
		wb_note(
		    wb, THEME_ERROR, "no draft open: /draft new, or /send ID");
		return;
	}
	if (smtp_session_state(wb->session) != SMTP_STATE_READY) {
		wb_note(wb, THEME_ERROR,
		    "/send needs a session after EHLO and "
		    "outside a transaction (now: %s)",
		    smtp_state_name(smtp_session_state(wb->session)));
		wdraft_free(tmp);
		return;
	}
	memset(&mo, 0, sizeof mo);
	mo.can_8bitmime = smtp_caps_has(caps, SMTP_CAP_8BITMIME);
	mo.can_smtputf8 = smtp_caps_has(caps, SMTP_CAP_SMTPUTF8);
	wdraft_message(d, &m);
	wb->send = xcalloc(1, sizeof *wb->send);
	wb->send->draft_id = wdraft_id(d);
	wb->send->b = smtp_message_build_new(&m, &mo, &err);
	wdraft_free(tmp);
	if (wb->send->b == NULL) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		send_end(wb);
		return;
	}
	info = smtp_message_build_info(wb->send->b);
	wb->send->nrcpt = info->nrcpts;
	wb->send->phase = 1;
	buf_init(&b, 0);
	(void)buf_add_printf(&b, "MAIL FROM:<%s>", info->env_from);
	if (smtp_caps_has(caps, SMTP_CAP_SIZE))
		(void)buf_add_printf(
		    &b, " SIZE=%llu", (unsigned long long)info->size);
	if (info->need_8bitmime)
		(void)buf_add_str(&b, " BODY=8BITMIME");
	if (info->need_smtputf8)
		(void)buf_add_str(&b, " SMTPUTF8");
	if (ret[0] != '\0')
		(void)buf_add_printf(&b, " RET=%s", ret);
	if (envid[0] != '\0')
		(void)buf_add_printf(&b, " ENVID=%s", envid);
	(void)buf_add(&b, "", 1);
	queue_add(wb, xstrdup(buf_peek(&b)));
	buf_reset(&b);
	for (i = 0; i < info->nrcpts; i++)
		queue_add(wb,
		    notify[0] != '\0'
		        ? xasprintf(
		              "RCPT TO:<%s> NOTIFY=%s", info->rcpts[i], notify)
		        : xasprintf("RCPT TO:<%s>", info->rcpts[i]));
	if (smtp_caps_has(caps, SMTP_CAP_PIPELINING)) {
		/* The whole envelope in one write (RFC 2920). */
		smtp_session_pipeline_begin(wb->session);
		for (i = wb->queue_head; i < wb->nqueue; i++)
			send_or_note(wb, wb->queue[i]);
		smtp_session_pipeline_end(wb->session);
		smtp_client_flush(wb->client);
		queue_free(wb);
	} else
		queue_pump(wb);
}

static void
draft_changed(struct wb *wb)
{
	char *err = NULL;

	if (wb->hist != NULL && wdraft_save(wb->draft, wb->hist, &err) == -1) {
		wb_note(wb, THEME_ERROR, "draft not saved: %s", err);
		free(err);
	}
	load_draft_completions(wb);
	wb->dirty = 1;
}

static int
drafts_row(const struct hist_draft *d, void *arg)
{
	struct buf *b = arg;
	struct draft_msg dm;
	char when[32], *subj, *to, *err = NULL;

	histcmd_time(d->updated, 0, when, sizeof when);
	if (draft_msg_load(&dm, d, &err) == -1) {
		(void)buf_add_printf(b, "#%-5lld %s  (unreadable: %s)\n",
		    (long long)d->id, when, err);
		free(err);
		return 0;
	}
	subj = dm.msg.subject != NULL
	    ? escape_dup(dm.msg.subject, strlen(dm.msg.subject))
	    : xstrdup("");
	to = dm.msg.to.n > 0
	    ? escape_dup(dm.msg.to.v[0], strlen(dm.msg.to.v[0]))
	    : xstrdup("(no To)");
	(void)buf_add_printf(
	    b, "#%-5lld %s  %-28s %s\n", (long long)d->id, when, to, subj);
	free(subj);
	free(to);
	draft_msg_free(&dm);
	return 0;
}

static void
wb_drafts_cmd(struct wb *wb)
{
	struct buf b;
	char *err = NULL;
	long n;

	if (wb->hist == NULL) {
		wb_note(wb, THEME_WARNING,
		    "drafts live in the history database, "
		    "which this run does not use");
		return;
	}
	buf_init(&b, 0);
	if ((n = hist_draft_list(wb->hist, drafts_row, &b, &err)) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		buf_reset(&b);
		return;
	}
	(void)buf_add_str(&b,
	    n == 0 ? "No drafts yet: /draft new starts one."
	           : "\n/draft open ID, /draft dup ID, /draft "
	             "delete ID, /send ID");
	(void)buf_add(&b, "", 1);
	popup_open(wb, "drafts", buf_peek(&b));
	buf_reset(&b);
}

/* $VISUAL or $EDITOR on the body, curses suspended; no shell involved. */
static void
draft_edit_body(struct wb *wb)
{
	const char *ed = getenv("VISUAL");
	char path[] = "/tmp/ehlo-draft-XXXXXX", *copy, *argv[16], *tok;
	const char *body;
	size_t len, n = 0;
	int fd, status = 0;
	pid_t pid;
	FILE *f;
	struct buf in;

	if (ed == NULL || *ed == '\0')
		ed = getenv("EDITOR");
	if (ed == NULL || *ed == '\0')
		ed = "vi";
	if ((fd = mkstemp(path)) == -1) {
		wb_note(wb, THEME_ERROR, "cannot make a temporary file: %s",
		    strerror(errno));
		return;
	}
	body = wdraft_body(wb->draft, &len);
	if (write(fd, body, len) != (ssize_t)len) {
		wb_note(wb, THEME_ERROR, "cannot write %s: %s", path,
		    strerror(errno));
		(void)close(fd);
		(void)unlink(path);
		return;
	}
	(void)close(fd);
	copy = xstrdup(ed);
	for (tok = copy; n + 2 < sizeof argv / sizeof argv[0];) {
		tok += strspn(tok, " \t");
		if (*tok == '\0')
			break;
		argv[n++] = tok;
		tok += strcspn(tok, " \t");
		if (*tok != '\0')
			*tok++ = '\0';
	}
	argv[n++] = path;
	argv[n] = NULL;
	def_prog_mode();
	endwin();
	if ((pid = fork()) == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	reset_prog_mode();
	clearok(curscr, TRUE);
	wb->scr.resized = 1;
	free(copy);
	if (pid == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		wb_note(wb, THEME_ERROR,
		    "the editor \"%s\" did not finish "
		    "cleanly; the body is unchanged",
		    ed);
		(void)unlink(path);
		return;
	}
	buf_init(&in, 64u * 1024 * 1024);
	if ((f = fopen(path, "r")) != NULL) {
		char chunk[8192];
		size_t got;

		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			if (buf_add(&in, chunk, got) == -1)
				break;
		(void)fclose(f);
		wdraft_body_set(wb->draft, buf_peek(&in), buf_used(&in));
		draft_changed(wb);
	}
	buf_reset(&in);
	(void)unlink(path);
}

static void
draft_preview(struct wb *wb)
{
	const struct smtp_caps *caps = smtp_session_caps(wb->session);
	struct smtp_message_opts mo;
	struct smtp_message m;
	char *text, *err = NULL, *shown;
	size_t len;
	int truncated = 0;

	memset(&mo, 0, sizeof mo);
	/* Not connected yet: preview as for a modern server. */
	mo.can_8bitmime =
	    !caps->valid || smtp_caps_has(caps, SMTP_CAP_8BITMIME);
	mo.can_smtputf8 =
	    !caps->valid || smtp_caps_has(caps, SMTP_CAP_SMTPUTF8);
	wdraft_message(wb->draft, &m);
	text = smtp_message_preview(&m, &mo, 64 * 1024, &len, &truncated, &err);
	if (text == NULL) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return;
	}
	/* Exact bytes, made visible: CR LF ends lines, other controls escaped. */
	{
		struct buf b;
		size_t i = 0, j;

		buf_init(&b, 0);
		while (i < len) {
			for (j = i; j < len && text[j] != '\n'; j++)
				;
			(void)escape_append(&b, text + i,
			    j > i && text[j - 1] == '\r' ? j - i - 1 : j - i);
			(void)buf_add(&b, "\n", 1);
			i = j + 1;
		}
		if (truncated)
			(void)buf_add_str(&b, "[... the rest is not shown]");
		(void)buf_add(&b, "", 1);
		shown = xstrdup(buf_peek(&b));
		buf_reset(&b);
	}
	popup_open(wb, "the message as it will be sent", shown);
	free(shown);
	free(text);
}

static void
wb_draft_cmd(struct wb *wb, const char *arg)
{
	char word[32], *err = NULL;
	const char *rest;
	size_t n = strcspn(arg, " \t");
	long long id = 0;
	char *end;

	(void)snprintf(word, sizeof word, "%.*s", (int)(n < 31 ? n : 31), arg);
	rest = arg + n;
	rest += strspn(rest, " \t");
	if (strcmp(word, "open") == 0 || strcmp(word, "dup") == 0 ||
	    strcmp(word, "delete") == 0) {
		id = strtoll(*rest == '#' ? rest + 1 : rest, &end, 10);
		if (wb->hist == NULL || id <= 0 || *end != '\0') {
			wb_note(wb, THEME_ERROR,
			    "/draft %s ID: ID from /drafts", word);
			return;
		}
	}
	if (word[0] == '\0' || strcmp(word, "new") == 0) {
		wdraft_free(wb->draft);
		wb->draft = wdraft_new();
		draft_changed(wb);
		wb_note(wb, THEME_NOTE,
		    "new draft: /draft from ADDR, /draft to "
		    "ADDR, /draft subject TEXT, /draft body (or edit), "
		    "/draft show, /send");
	} else if (strcmp(word, "open") == 0 || strcmp(word, "dup") == 0) {
		struct wdraft *d = wdraft_new();

		if (wdraft_load(d, wb->hist, (int64_t)id, &err) == -1) {
			wb_note(wb, THEME_ERROR, "%s", err);
			free(err);
			wdraft_free(d);
			return;
		}
		wdraft_free(wb->draft);
		wb->draft = d;
		if (strcmp(word, "dup") == 0) {
			wdraft_detach(d);
			draft_changed(wb);
		}
		wb->dirty = 1;
	} else if (strcmp(word, "delete") == 0) {
		if (hist_draft_delete(wb->hist, (int64_t)id, &err) == -1) {
			wb_note(wb, THEME_ERROR, "%s", err);
			free(err);
			return;
		}
		if (wb->draft != NULL && wdraft_id(wb->draft) == (int64_t)id) {
			wdraft_free(wb->draft);
			wb->draft = NULL;
		}
		wb_note(wb, THEME_NOTE, "draft #%lld deleted", id);
	} else if (wb->draft == NULL)
		wb_note(wb, THEME_ERROR,
		    "no draft open: /draft new or /draft "
		    "open ID");
	else if (strcmp(word, "close") == 0) {
		wdraft_free(wb->draft);
		wb->draft = NULL;
		wb->dirty = 1;
	} else if (strcmp(word, "show") == 0)
		draft_preview(wb);
	else if (strcmp(word, "body") == 0) {
		wb->draft_body = 1;
		wb_note(wb, THEME_NOTE,
		    "type the body; a line with a single "
		    "\".\" ends it (/draft edit uses $EDITOR)");
	} else if (strcmp(word, "edit") == 0)
		draft_edit_body(wb);
	else if (strcmp(word, "clear") == 0) {
		if (wdraft_set(wb->draft, rest, NULL, &err) == -1) {
			wb_note(wb, THEME_ERROR, "%s", err);
			free(err);
		} else
			draft_changed(wb);
	} else if (wdraft_set(wb->draft, word, rest, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
	} else
		draft_changed(wb);
}

/* ---- the history browser ---------------------------------------- */

static int
history_row(const struct hist_session *hs, void *arg)
{
	struct buf *b = arg;
	char when[32], *server = histcmd_server(hs), *label = NULL;

	histcmd_time(hs->started, 0, when, sizeof when);
	if (hs->label != NULL)
		label = escape_dup(hs->label, strlen(hs->label));
	(void)buf_add_printf(b, "#%-5lld %s  %-24s %-16s %s\n",
	    (long long)hs->id, when, server, histcmd_outcome(hs->exit_status),
	    label != NULL ? label : "");
	free(server);
	free(label);
	return 0;
}

static void
wb_history_cmd(struct wb *wb, const char *search)
{
	struct buf b;
	char *err = NULL, *title;
	long n;

	if (wb->hist == NULL) {
		wb_note(wb, THEME_WARNING,
		    "no history in this run (--no-history, "
		    "or the database could not be opened)");
		return;
	}
	/* Sessions `ehlo run` and `ehlo send` spooled meanwhile. */
	if ((err = hist_spool_take(wb->hist)) != NULL) {
		wb_note(wb, THEME_WARNING, "%s", err);
		free(err);
		err = NULL;
	}
	buf_init(&b, 0);
	n = hist_session_list(wb->hist, 200, *search != '\0' ? search : NULL,
	    history_row, &b, &err);
	if (n == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		buf_reset(&b);
		return;
	}
	if (n == 0)
		(void)buf_add_str(&b,
		    *search != '\0' ? "No saved session matches."
		                    : "No saved sessions yet.");
	else
		(void)buf_add_str(&b,
		    "\n/open ID shows one read-only beside its "
		    "stages; /history TEXT searches.");
	(void)buf_add(&b, "", 1);
	title = *search != '\0' ? xasprintf("history: \"%s\"", search)
	                        : xstrdup("history (newest first)");
	popup_open(wb, title, buf_peek(&b));
	free(title);
	buf_reset(&b);
}

static enum smtp_stage_kind
kind_from_name(const char *name)
{
	int k;

	for (k = 0; k < SMTP_STAGE_KIND_COUNT; k++)
		if (name != NULL &&
		    strcmp(smtp_stage_kind_name((enum smtp_stage_kind)k),
		        name) == 0)
			return (enum smtp_stage_kind)k;
	return SMTP_STAGE_OTHER;
}

/* Shows the first n events of the saved session (playback position). */
static void
viewer_show(struct wb *wb, size_t n)
{
	struct viewer *v = wb->viewer;
	const struct histcmd_event *e;
	struct smtp_stage *st;
	enum theme_role role;
	const char *hidden;
	size_t i;

	if (n > v->ev.n)
		n = v->ev.n;
	if (n < v->shown) {
		dlg_clear(&wb->saved);
		v->shown = v->nstages = 0;
	}
	for (i = v->shown; i < n; i++) {
		e = &v->ev.v[i];
		role = e->dir == 'C' ? THEME_CLIENT
		    : e->dir == 'S'  ? role_of_server_line(e->text, e->len)
		    : (e->flags & HIST_EV_FAILURE) ? THEME_ERROR
		    : (e->flags & HIST_EV_WARNING) ? THEME_WARNING
		                                   : THEME_NOTE;
		/* An AUTH line not marked redacted is never shown as stored. */
		if ((hidden = histcmd_event_hidden(e)) != NULL)
			dlg_push(&wb->saved, e->t_us, e->dir, role, hidden,
			    strlen(hidden));
		else
			dlg_push(
			    &wb->saved, e->t_us, e->dir, role, e->text, e->len);
		if (!(e->flags & HIST_EV_REPLY))
			continue;
		v->stages =
		    xreallocarray(v->stages, v->nstages + 1, sizeof *v->stages);
		st = &v->stages[v->nstages++];
		memset(st, 0, sizeof *st);
		st->kind = kind_from_name(e->stage);
		st->code = e->code;
		(void)snprintf(
		    st->enhanced, sizeof st->enhanced, "%s", e->enhanced);
		st->state = e->code >= 500 ? SMTP_ST_PERMFAIL
		    : e->code >= 400       ? SMTP_ST_TEMPFAIL
		    : e->code >= 300       ? SMTP_ST_MORE
		                           : SMTP_ST_OK;
		st->t_start_us = 0;
		st->t_end_us = e->latency_us > 0 ? (uint64_t)e->latency_us : 0;
		st->group = e->group > 0 ? (unsigned)e->group : 0;
		st->command = (char *)"";
	}
	v->shown = n;
	wb->dirty = 1;
}

static void
viewer_close(struct wb *wb)
{
	struct viewer *v = wb->viewer;

	if (v == NULL)
		return;
	if (v->timer != 0)
		loop_timer_del(wb->loop, v->timer);
	histcmd_events_free(&v->ev);
	free(v->stages);
	free(v->title);
	free(v);
	wb->viewer = NULL;
	dlg_clear(&wb->saved);
	wb->dlg = &wb->live;
	wb->dirty = 1;
}

static void
viewer_open(struct wb *wb, const char *arg)
{
	struct hist_session *hs;
	char *err = NULL, *server;
	int64_t id;
	char *end;
	long long v;

	v = strtoll(*arg == '#' ? arg + 1 : arg, &end, 10);
	if (wb->hist == NULL || *arg == '\0' || *end != '\0' || v <= 0) {
		wb_note(wb, THEME_ERROR,
		    wb->hist == NULL
		        ? "no history in this run"
		        : "/open ID: ID is a session number from /history");
		return;
	}
	id = (int64_t)v;
	if ((hs = hist_session_get(wb->hist, id, &err)) == NULL) {
		wb_note(wb, THEME_ERROR, "%s",
		    err != NULL ? err : "no such session: /history lists them");
		free(err);
		return;
	}
	viewer_close(wb);
	wb->viewer = xcalloc(1, sizeof *wb->viewer);
	wb->viewer->id = id;
	server = histcmd_server(hs);
	wb->viewer->title = xasprintf("session #%lld %s (read-only: F5 step, "
	                              "F6 play, /close)",
	    (long long)id, server);
	free(server);
	hist_session_free(hs);
	if (histcmd_events_load(wb->hist, id, &wb->viewer->ev, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		viewer_close(wb);
		return;
	}
	wb->dlg = &wb->saved;
	viewer_show(wb, wb->viewer->ev.n);
}

static void
viewer_step(struct wb *wb)
{
	if (wb->viewer == NULL)
		return;
	if (wb->viewer->shown >= wb->viewer->ev.n)
		viewer_show(wb, 0);
	viewer_show(wb, wb->viewer->shown + 1);
}

/* Timed playback: each event at its original offset from the previous. */
static void
on_play_tick(void *arg)
{
	struct wb *wb = arg;
	struct viewer *v = wb->viewer;
	uint64_t gap;

	if (v == NULL)
		return;
	v->timer = 0;
	viewer_show(wb, v->shown + 1);
	if (v->shown >= v->ev.n) {
		v->playing = 0;
		return;
	}
	gap = v->ev.v[v->shown].t_us - v->ev.v[v->shown - 1].t_us;
	if (gap > 5000000)
		gap = 5000000; /* a long pause in the original: 5 s at most */
	v->timer = loop_timer_add(wb->loop, gap / 1000, on_play_tick, wb);
}

static void
viewer_play(struct wb *wb)
{
	struct viewer *v = wb->viewer;

	if (v == NULL) {
		wb_note(wb, THEME_NOTE, "/open ID first (/history lists them)");
		return;
	}
	if (v->playing) {
		v->playing = 0;
		if (v->timer != 0)
			loop_timer_del(wb->loop, v->timer);
		v->timer = 0;
		return;
	}
	if (v->shown >= v->ev.n)
		viewer_show(wb, 0);
	v->playing = 1;
	v->timer = loop_timer_add(wb->loop, 0, on_play_tick, wb);
}

/*
 * Line-mode helpers run as children (execv of this very program, no
 * shell): `replay ID --diff` (it records the new session linked to the
 * old one) and `probe NAME SERVER`.  Their output arrives through a pipe
 * and is shown in a popup when they end; the workbench never blocks.
 */
static void
on_child_output(int fd, int events, void *arg)
{
	struct wb *wb = arg;
	char buf[4096], *title, *text, *p, *q;
	ssize_t n;
	int status = 0;

	(void)events;
	n = read(fd, buf, sizeof buf);
	if (n > 0) {
		if (buf_used(&wb->child_out) < 4u * 1024 * 1024)
			(void)buf_add(&wb->child_out, buf, (size_t)n);
		return;
	}
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	loop_fd_del(wb->loop, fd);
	(void)close(fd);
	(void)waitpid(wb->child_pid, &status, 0);
	wb->child_pid = 0;
	text = escape_dup(buf_peek(&wb->child_out), buf_used(&wb->child_out));
	/* Keep the line structure: escaped newlines become real ones. */
	for (p = q = text; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			*q++ = '\n';
			p++;
		} else
			*q++ = *p;
	}
	*q = '\0';
	title = xasprintf("%s: exit %d", wb->child_title,
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	popup_open(wb, title, text);
	free(title);
	free(text);
	free(wb->child_title);
	wb->child_title = NULL;
	buf_reset(&wb->child_out);
}

static void
child_run(struct wb *wb, const char *const *args, const char *title)
{
	char self[4096];
	const char *argv[16];
	int p[2], devnull;
	size_t i = 0, j;
	ssize_t n;

	if (wb->child_pid != 0) {
		wb_note(
		    wb, THEME_WARNING, "%s is still running", wb->child_title);
		return;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0) {
		wb_note(wb, THEME_ERROR, "cannot find the ehlo program: %s",
		    strerror(errno));
		return;
	}
	self[n] = '\0';
	argv[i++] = self;
	for (j = 0; args[j] != NULL && i < 13; j++)
		argv[i++] = args[j];
	if (wb->o->db != NULL) {
		argv[i++] = "--db";
		argv[i++] = wb->o->db;
	}
	argv[i] = NULL;
	if (pipe(p) == -1) {
		wb_note(wb, THEME_ERROR, "pipe: %s", strerror(errno));
		return;
	}
	wb->child_pid = fork();
	if (wb->child_pid == -1) {
		wb->child_pid = 0;
		(void)close(p[0]);
		(void)close(p[1]);
		wb_note(wb, THEME_ERROR, "fork: %s", strerror(errno));
		return;
	}
	if (wb->child_pid == 0) {
		/* The child never touches the terminal: no secret prompt
		 * (EHLO_PASSWORD is used when AUTH must be redone). */
		devnull = open("/dev/null", O_RDONLY);
		(void)dup2(devnull, 0);
		(void)dup2(p[1], 1);
		(void)dup2(p[1], 2);
		(void)close(p[0]);
		(void)setsid();
		execv(self, (char *const *)argv);
		_exit(127);
	}
	(void)close(p[1]);
	(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(p[0], F_SETFD, FD_CLOEXEC);
	wb->child_fd = p[0];
	wb->child_title = xstrdup(title);
	buf_init(&wb->child_out, 0);
	loop_fd_add(wb->loop, p[0], LOOP_READ, on_child_output, wb);
	wb_note(wb, THEME_NOTE, "%s: running; the result appears when it ends",
	    title);
}

static void
wb_replay_cmd(struct wb *wb, const char *arg)
{
	char idbuf[32], server[256] = "", *title;
	const char *args[6];
	size_t i = 0;
	long long id;
	char *end;

	id = strtoll(*arg == '#' ? arg + 1 : arg, &end, 10);
	if (id <= 0 || (*end != '\0' && *end != ' ')) {
		wb_note(
		    wb, THEME_ERROR, "/replay ID [SERVER]: ID from /history");
		return;
	}
	end += strspn(end, " ");
	(void)snprintf(server, sizeof server, "%s", end);
	(void)snprintf(idbuf, sizeof idbuf, "%lld", id);
	args[i++] = "replay";
	args[i++] = idbuf;
	if (server[0] != '\0')
		args[i++] = server;
	args[i++] = "--diff";
	args[i] = NULL;
	title = xasprintf("replay of session #%lld", id);
	child_run(wb, args, title);
	free(title);
}

static void
wb_probe_cmd(struct wb *wb, const char *arg)
{
	char name[64], *title;
	const char *args[8], *server;
	size_t n = strcspn(arg, " ");
	size_t i = 0;

	if (n == 0 || n >= sizeof name) {
		wb_note(wb, THEME_ERROR,
		    "/probe NAME [SERVER]: starttls-required, "
		    "auth-before-tls, relay, vrfy-expn, pipelining, size");
		return;
	}
	(void)snprintf(name, sizeof name, "%.*s", (int)n, arg);
	server = arg + n + strspn(arg + n, " ");
	if (*server == '\0')
		server = wb->server_addr;
	args[i++] = "probe";
	args[i++] = name;
	args[i++] = server;
	if (wb->o->cafile != NULL && wb->practice == NULL) {
		args[i++] = "--cafile";
		args[i++] = wb->o->cafile;
	} else if (wb->practice != NULL) {
		args[i++] = "--cafile";
		args[i++] = practice_cafile(wb->practice);
	}
	args[i] = NULL;
	title = xasprintf("probe %s %s", name, server);
	child_run(wb, args, title);
	free(title);
}

/* Connects to the next MX candidate (RFC 5321 5.1 order). */
static void
mx_connect_next(struct wb *wb)
{
	const struct smtp_mx_candidate *c;
	char *target;

	if (wb->mxc == NULL || wb->mx_next >= wb->nmxc) {
		wb_note(wb, THEME_WARNING,
		    "no more MX candidates (/mx DOMAIN "
		    "looks them up again)");
		return;
	}
	c = &wb->mxc[wb->mx_next++];
	wb_note(wb, THEME_NOTE,
	    "MX candidate %zu of %zu: %s (preference %u) "
	    "at %s",
	    wb->mx_next, wb->nmxc, c->host, c->pref, c->addr);
	target = strchr(c->addr, ':') != NULL
	    ? xasprintf("[%s]:%s", c->addr, wb->mx_port)
	    : xasprintf("%s:%s", c->addr, wb->mx_port);
	free(wb->tls_name);
	wb->tls_name = xstrdup(c->host);
	wb_connect(wb, target);
	free(target);
}

static void
mx_free(struct wb *wb)
{
	free(wb->mxc);
	wb->mxc = NULL;
	smtp_mx_list_free(wb->mx);
	wb->mx = NULL;
	wb->nmxc = wb->mx_next = 0;
	free(wb->mx_port);
	wb->mx_port = NULL;
}

static void
wb_mx_cmd(struct wb *wb, const char *arg)
{
	struct smtp_mx_resolver *r;
	char domain[256], *err = NULL;
	const char *colon = strrchr(arg, ':');
	size_t i, n = colon != NULL ? (size_t)(colon - arg) : strlen(arg);

	if (n == 0 || n >= sizeof domain) {
		wb_note(wb, THEME_ERROR, "/mx DOMAIN[:PORT]");
		return;
	}
	(void)snprintf(domain, sizeof domain, "%.*s", (int)n, arg);
	if (!smtp_mx_domain_valid(domain)) {
		wb_note(wb, THEME_ERROR, "\"%s\" is not a domain name", domain);
		return;
	}
	if ((r = smtp_mx_resolver_new(wb->o->dns, wb->o->timeout_ms, &err)) ==
	    NULL) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return;
	}
	mx_free(wb);
	wb->mx = smtp_mx_lookup(r, domain, &err);
	smtp_mx_resolver_free(r);
	if (wb->mx == NULL) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return;
	}
	if (wb->mx->null_mx) {
		wb_note(wb, THEME_WARNING,
		    "%s publishes a null MX (RFC 7505): "
		    "it accepts no mail",
		    domain);
		return;
	}
	for (i = 0; i < wb->mx->nhosts; i++)
		wb_note(wb, THEME_NOTE, "MX %u %s%s%s", wb->mx->hosts[i].pref,
		    wb->mx->hosts[i].name, wb->mx->hosts[i].error ? ": " : "",
		    wb->mx->hosts[i].error ? wb->mx->hosts[i].error : "");
	if (wb->mx->implicit)
		wb_note(wb, THEME_NOTE,
		    "no MX record: the domain's own address "
		    "is used (RFC 5321 5.1)");
	wb->nmxc = smtp_mx_candidates(wb->mx, &wb->mxc);
	wb->mx_port = xstrdup(colon != NULL ? colon + 1 : "25");
	mx_connect_next(wb);
}

static void
do_slash(struct wb *wb, const char *typed)
{
	/* Trailing blanks are never part of an argument (completion adds
	 * one after a file name). */
	char *line = xstrdup(typed);
	size_t n = strlen(line);
	const char *arg;

	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	arg = line + strcspn(line, " \t");
	arg += strspn(arg, " \t");
#define IS(w)                                                                  \
	(strncasecmp(line, w, strlen(w)) == 0 &&                               \
	    (line[strlen(w)] == '\0' || line[strlen(w)] == ' '))
	if (IS("/help"))
		popup_open(wb, "help", help_text);
	else if (IS("/quit")) {
		wb->quitting = 1;
		if (!smtp_client_is_closed(wb->client) &&
		    !smtp_session_quit_sent(wb->session))
			send_or_note(wb, "QUIT");
	} else if (IS("/explain")) {
		if (*arg != '\0')
			popup_explain(wb, arg);
		else if (smtp_session_last_reply(wb->session) != NULL) {
			size_t i = smtp_session_nstages(wb->session);

			while (i-- > 0)
				if (smtp_session_stage(wb->session, i) ==
				    smtp_session_last_reply(wb->session))
					break;
			popup_explain_stage(wb, i);
		} else
			wb_note(wb, THEME_WARNING,
			    "no reply yet: /explain CODE|VERB");
	} else if (IS("/tls"))
		popup_tls(wb);
	else if (IS("/starttls")) {
		if (wb->o->no_starttls)
			wb_note(wb, THEME_ERROR,
			    "/starttls contradicts --no-starttls");
		else {
			send_or_note(wb, "STARTTLS");
			wb->ehlo_after_tls = 1;
		}
	} else if (IS("/auth"))
		cmd_auth(wb, arg);
	else if (IS("/body"))
		cmd_body(wb, arg);
	else if (IS("/pipeline")) {
		smtp_session_pipeline_begin(wb->session);
		wb_note(
		    wb, THEME_NOTE, "pipelining: commands are held until /end");
	} else if (IS("/end")) {
		smtp_session_pipeline_end(wb->session);
		smtp_client_flush(wb->client);
	} else if (IS("/theme")) {
		char *err = NULL;

		if (*arg == '\0')
			wb_note(wb, THEME_NOTE,
			    "theme %s; /theme NAME switches "
			    "(Tab lists the themes)",
			    theme_name(wb->scr.theme));
		else if (wb_screen_set_theme(&wb->scr, arg, &err) == -1) {
			wb_note(wb, THEME_ERROR, "%s", err);
			free(err);
		} else
			wb->dirty = 1;
	} else if (IS("/inbox"))
		wb_inbox_cmd(wb, arg);
	else if (IS("/lesson"))
		wb_lesson_cmd(wb, arg);
	else if (IS("/hint"))
		wb_hint_cmd(wb);
	else if (IS("/connect")) {
		free(wb->tls_name);
		wb->tls_name = NULL;
		wb_connect(wb, *arg != '\0' ? arg : NULL);
	} else if (IS("/find"))
		cmd_find(wb, arg);
	else if (IS("/clear")) {
		dlg_clear(wb->dlg);
		wb->dirty = 1;
	} else if (IS("/history"))
		wb_history_cmd(wb, arg);
	else if (IS("/open"))
		viewer_open(wb, arg);
	else if (IS("/close"))
		viewer_close(wb);
	else if (IS("/save")) {
		char *err = NULL;
		int64_t id = record_session_id(wb->rec);

		if (wb->hist == NULL || id <= 0)
			wb_note(wb, THEME_WARNING,
			    "this session is not recorded "
			    "(--no-history)");
		else if (hist_session_set_label(wb->hist, id,
		             *arg != '\0' ? arg : NULL, &err) == -1) {
			wb_note(wb, THEME_ERROR, "%s", err);
			free(err);
		} else
			wb_note(wb, THEME_NOTE, "session #%lld %s%s%s",
			    (long long)id,
			    *arg != '\0' ? "labelled \"" : "kept", arg,
			    *arg != '\0' ? "\"" : "");
	} else if (IS("/drafts"))
		wb_drafts_cmd(wb);
	else if (IS("/draft"))
		wb_draft_cmd(wb, arg);
	else if (IS("/send"))
		wb_send_cmd(wb, arg);
	else if (IS("/replay"))
		wb_replay_cmd(wb, arg);
	else if (IS("/probe"))
		wb_probe_cmd(wb, arg);
	else if (IS("/mx"))
		wb_mx_cmd(wb, arg);
	else if (IS("/next"))
		mx_connect_next(wb);
	else if (IS("/play"))
		viewer_play(wb);
	else if (IS("/step"))
		viewer_step(wb);
	else
		wb_note(wb, THEME_ERROR,
		    "unknown workbench command \"%.40s\": /help lists them",
		    line);
#undef IS
	free(line);
}

static int
same_line(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void
on_line(char *line, void *arg)
{
	struct wb *wb = arg;
	enum smtp_state st;
	struct smtp_check chk;
	size_t i;

	matches_clear(wb);
	if (wb->asking_secret) {
		secret_entered(wb, line);
		if (line != NULL) {
			explicit_bzero(line, strlen(line));
			free(line);
		}
		return;
	}
	if (line == NULL) {
		do_slash(wb, "/quit");
		return;
	}
	if (wb->draft_body && wb->draft != NULL) {
		if (strcmp(line, ".") == 0) {
			wb->draft_body = 0;
			draft_changed(wb);
		} else
			wdraft_body_append(wb->draft, line);
		free(line);
		wb->dirty = 1;
		return;
	}
	st = smtp_session_state(wb->session);
	if (line[0] != '\0' && st != SMTP_STATE_AUTH &&
	    st != SMTP_STATE_CONTENT) {
		char *err = NULL;

		rl_glue_history_add(line);
		if (wb->hist != NULL &&
		    hist_input_add(wb->hist, line, &err) == -1)
			free(err);
	}
	wb->dlg->scroll = 0;
	if (st != SMTP_STATE_CONTENT && st != SMTP_STATE_AUTH &&
	    line[0] == '/') {
		do_slash(wb, line);
		free(line);
		return;
	}
	if (st != SMTP_STATE_CONTENT && st != SMTP_STATE_AUTH &&
	    line[0] == '\0') {
		free(line);
		return;
	}
	if (st != SMTP_STATE_CONTENT && st != SMTP_STATE_AUTH &&
	    !smtp_client_is_closed(wb->client)) {
		smtp_command_check(line, strlen(line),
		    smtp_session_state(wb->session),
		    smtp_session_caps(wb->session)->valid
		        ? smtp_session_caps(wb->session)
		        : NULL,
		    &chk);
		if (!chk.refused && chk.nwarn > 0 &&
		    !same_line(line, wb->confirm_line)) {
			for (i = 0; i < chk.nwarn; i++)
				wb_note(wb, THEME_WARNING, "%s", chk.warn[i]);
			wb_note(wb, THEME_WARNING,
			    "press Enter again to send it anyway");
			free(wb->confirm_line);
			wb->confirm_line = xstrdup(line);
			/* Readline clears the line after this handler: put
			 * it back once it has. */
			wb->restore_line = 1;
			free(line);
			return;
		}
	}
	free(wb->confirm_line);
	wb->confirm_line = NULL;
	remember_address(wb, line);
	send_or_note(wb, line);
	free(line);
}

/* ---- connection --------------------------------------------------- */

static void
wb_connect(struct wb *wb, const char *server)
{
	struct smtp_client_opts co;
	char *host = NULL, *port = NULL, *err = NULL;
	const char *cafile = wb->o->cafile;

	if (wb->client != NULL && !smtp_client_is_closed(wb->client))
		smtp_client_close(wb->client);
	record_end(wb->rec, 0);
	record_free(wb->rec);
	wb->rec = NULL;
	smtp_client_free(wb->client);
	wb->client = NULL;
	lang_reset(&wb->lang);
	if (server == NULL) {
		if (wb->practice == NULL) {
			struct practice_opts po;

			memset(&po, 0, sizeof po);
			po.listen = "127.0.0.1:0";
			po.quiet = 1;
			if (wb->practice_dir == NULL)
				wb->practice_dir = practice_default_dir(&err);
			if (wb->practice_dir == NULL) {
				wb_note(wb, THEME_ERROR, "%s", err);
				free(err);
				err = NULL;
			}
			po.datadir = wb->practice_dir;
			wb->practice = practice_new(wb->loop, &po, &err);
			if (wb->practice == NULL) {
				wb_note(wb, THEME_ERROR,
				    "the practice server could not start: %s",
				    err);
				free(err);
				err = NULL;
			}
		}
		if (wb->practice != NULL) {
			server = practice_address(wb->practice);
			cafile = practice_cafile(wb->practice);
		} else
			server = "127.0.0.1:2525";
	}
	if (smtp_server_parse(
	        server, wb->o->tls ? 465 : 25, &host, &port, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		host = xstrdup("127.0.0.1");
		port = xstrdup("25");
	}
	free(wb->server_addr);
	wb->server_addr = strchr(host, ':') != NULL
	    ? xasprintf("[%s]:%s", host, port)
	    : xasprintf("%s:%s", host, port);
	free(wb->server_label);
	wb->server_label = wb->practice != NULL &&
	        strcmp(server, practice_address(wb->practice)) == 0
	    ? xasprintf("practice server %s", server)
	    : xasprintf("%s:%s", host, port);
	cli_client_opts(wb->o, host, port, &co);
	co.tls.cafile = cafile;
	co.tls.verify_name = wb->tls_name;
	wb->client = smtp_client_new(wb->loop, &co, on_event, wb);
	wb->session = smtp_client_session(wb->client);
	wb->lang.client = wb->client;
	if (wb->hist != NULL) {
		char *endp;
		long portnum = strtol(port, &endp, 10);

		wb->rec = record_new(wb->hist);
		record_begin(wb->rec, host, *endp == '\0' ? (int)portnum : 0,
		    wb->o->tls ? "implicit" : "plain", 0);
		record_attach(wb->rec, wb->session, wb->client);
	}
	wb->lang.rec = wb->rec;
	wb->t_start = loop_now_us();
	wb->stage_sel = 0;
	wb->stage_follow = 1;
	if (smtp_client_connect(wb->client, &err) == -1)
		free(err);
	free(host);
	free(port);
	wb->dirty = 1;
}

/* After STARTTLS: EHLO again as soon as TLS is up (RFC 3207 4.2). */
static void
auto_actions(struct wb *wb)
{
	char *cmd;

	queue_pump(wb);
	if (wb->ehlo_after_tls && smtp_session_is_tls(wb->session) &&
	    smtp_session_state(wb->session) == SMTP_STATE_GREETED &&
	    !smtp_client_is_busy(wb->client)) {
		wb->ehlo_after_tls = 0;
		cmd = xasprintf("EHLO %s", wb->helo);
		send_or_note(wb, cmd);
		free(cmd);
	}
	if (wb->quitting &&
	    (smtp_client_is_closed(wb->client) ||
	        !smtp_client_is_busy(wb->client)))
		wb->done = 1;
}

/* ---- keys and the loop -------------------------------------------- */

static void
stage_move(struct wb *wb, long delta)
{
	size_t n = smtp_session_nstages(wb->session);
	long v = (long)wb->stage_sel + delta;

	if (n == 0)
		return;
	if (v < 0)
		v = 0;
	if (v >= (long)n)
		v = (long)n - 1;
	wb->stage_sel = (size_t)v;
	wb->stage_follow = wb->stage_sel == n - 1;
	wb->dirty = 1;
}

static void
handle_key(struct wb *wb, int is_code, wint_t wch)
{
	int page = wb->scr.dlg_rows > 2 ? wb->scr.dlg_rows - 1 : 1;

	if (is_code && wch == KEY_RESIZE) {
		wb->scr.resized = 1;
		wb->dirty = 1;
		return;
	}
	if (!is_code && wch == 12) { /* Ctrl-L */
		clearok(curscr, TRUE);
		wb->dirty = 1;
		return;
	}
	if (wb->focus == FOCUS_POPUP) {
		if (!is_code &&
		    (wch == 27 || wch == 'q' || wch == '\r' || wch == '\n' ||
		        wch == 3))
			popup_close(wb);
		else if (is_code && (wch == KEY_DOWN || wch == KEY_NPAGE)) {
			wb->popup_top += wch == KEY_DOWN ? 1 : (size_t)page;
			wb->dirty = 1;
		} else if (is_code && (wch == KEY_UP || wch == KEY_PPAGE)) {
			size_t d = wch == KEY_UP ? 1 : (size_t)page;

			wb->popup_top =
			    wb->popup_top > d ? wb->popup_top - d : 0;
			wb->dirty = 1;
		} else if (is_code && wch == KEY_F(1))
			popup_close(wb);
		return;
	}
	if (wb->focus == FOCUS_DIALOGUE) {
		long delta = 0;

		if (!is_code && (wch == 27 || wch == 3)) {
			wb->focus = FOCUS_INPUT;
			wb->dlg->scroll = 0;
		} else if (!is_code && (wch == '\r' || wch == '\n'))
			popup_explain_line(wb, wb->dlg_sel);
		else if (is_code && wch == KEY_UP)
			delta = -1;
		else if (is_code && wch == KEY_DOWN)
			delta = 1;
		else if (is_code && wch == KEY_PPAGE)
			delta = -page;
		else if (is_code && wch == KEY_NPAGE)
			delta = page;
		else if (is_code && wch == KEY_HOME)
			delta = -(long)wb->dlg->nlines;
		else if (is_code && wch == KEY_END)
			delta = (long)wb->dlg->nlines;
		else if (is_code && wch == KEY_F(4))
			wb->focus = FOCUS_INPUT;
		if (delta != 0 && wb->dlg->nlines > 0) {
			long v = (long)wb->dlg_sel + delta;

			if (v < 0)
				v = 0;
			if (v >= (long)wb->dlg->nlines)
				v = (long)wb->dlg->nlines - 1;
			wb->dlg_sel = (size_t)v;
			/* Keep the selection on screen. */
			if (wb->dlg->nlines - 1 - wb->dlg_sel < wb->dlg->scroll)
				wb->dlg->scroll =
				    wb->dlg->nlines - 1 - wb->dlg_sel;
			else if (wb->dlg->nlines - 1 - wb->dlg_sel >=
			    wb->dlg->scroll + (size_t)page)
				wb->dlg->scroll = wb->dlg->nlines - 1 -
				    wb->dlg_sel - (size_t)page + 1;
		}
		wb->dirty = 1;
		return;
	}
	if (wb->focus == FOCUS_STAGES) {
		if (!is_code && (wch == 27 || wch == 3)) {
			wb->focus = FOCUS_INPUT;
			wb->stage_follow = 1;
			wb->dirty = 1;
		} else if (!is_code && (wch == '\r' || wch == '\n'))
			popup_explain_stage(wb, wb->stage_sel);
		else if (is_code && wch == KEY_UP)
			stage_move(wb, -1);
		else if (is_code && wch == KEY_DOWN)
			stage_move(wb, 1);
		else if (is_code && wch == KEY_PPAGE)
			stage_move(wb, -page);
		else if (is_code && wch == KEY_NPAGE)
			stage_move(wb, page);
		else if (is_code && wch == KEY_HOME)
			stage_move(wb, -1000000);
		else if (is_code && wch == KEY_END)
			stage_move(wb, 1000000);
		else if (is_code && wch == KEY_F(2)) {
			wb->focus = FOCUS_INPUT;
			wb->dirty = 1;
		}
		return;
	}
	/* FOCUS_INPUT */
	if (is_code) {
		switch (wch) {
		case KEY_F(1):
			popup_open(wb, "help", help_text);
			return;
		case KEY_F(2):
			if (smtp_session_nstages(wb->session) > 0) {
				wb->focus = FOCUS_STAGES;
				wb->stage_follow = 0;
				wb->dirty = 1;
			}
			return;
		case KEY_F(3):
			wb->show_time = !wb->show_time;
			wb->dirty = 1;
			return;
		case KEY_F(5):
			viewer_step(wb);
			return;
		case KEY_F(6):
			viewer_play(wb);
			return;
		case KEY_F(4):
			if (wb->dlg->nlines > 0) {
				wb->focus = FOCUS_DIALOGUE;
				wb->dlg_sel = wb->dlg->nlines - 1 -
				    (wb->dlg->scroll < wb->dlg->nlines
				            ? wb->dlg->scroll
				            : 0);
				wb->dirty = 1;
			}
			return;
		case KEY_PPAGE:
			wb->dlg->scroll += (size_t)page;
			if (wb->dlg->scroll >= wb->dlg->nlines)
				wb->dlg->scroll = wb->dlg->nlines > 0
				    ? wb->dlg->nlines - 1
				    : 0;
			wb->dirty = 1;
			return;
		case KEY_NPAGE:
			wb->dlg->scroll = wb->dlg->scroll > (size_t)page
			    ? wb->dlg->scroll - (size_t)page
			    : 0;
			wb->dirty = 1;
			return;
		case KEY_HOME:
		case KEY_END:
			if (rl_glue_line_is_empty()) {
				wb->dlg->scroll =
				    wch == KEY_HOME && wb->dlg->nlines > 0
				    ? wb->dlg->nlines - 1
				    : 0;
				wb->dirty = 1;
				return;
			}
			break;
		default:
			break;
		}
	} else if (wch == 3) { /* Ctrl-C */
		if (wb->asking_secret)
			secret_entered(wb, NULL);
		free(wb->confirm_line);
		wb->confirm_line = NULL;
		matches_clear(wb);
		rl_glue_cancel();
		wb->dirty = 1;
		return;
	}
	rl_glue_feed_key(is_code, (unsigned)wch);
	if (wb->restore_line) {
		wb->restore_line = 0;
		rl_glue_set_line(wb->confirm_line);
	}
	if (wb->matches_line != NULL &&
	    strcmp(wb->matches_line, rl_glue_line()) != 0)
		matches_clear(wb);
	wb->dirty = 1;
}

static void
pump_keys(struct wb *wb)
{
	wint_t wch;
	int rc, n = 0;

	while (n++ < 4096 && (rc = wget_wch(wb->scr.input, &wch)) != ERR)
		handle_key(wb, rc == KEY_CODE_YES, wch);
}

static void
on_stdin(int fd, int events, void *arg)
{
	(void)fd;
	(void)events;
	pump_keys(arg);
}

static void
prompt_for_state(struct wb *wb)
{
	if (wb->asking_secret)
		return;
	if (wb->draft_body)
		rl_glue_set_prompt("body> ");
	else if (smtp_session_state(wb->session) == SMTP_STATE_CONTENT)
		rl_glue_set_prompt("data> ");
	else if (smtp_session_state(wb->session) == SMTP_STATE_AUTH)
		rl_glue_set_prompt("sasl> ");
	else if (smtp_session_is_pipelining(wb->session))
		rl_glue_set_prompt("pipe> ");
	else
		rl_glue_set_prompt("smtp> ");
}

static void
wb_redraw(void *arg)
{
	struct wb *wb = arg;

	wb_draw_input(&wb->scr);
}

static const struct smtp_stage *
live_stage_at(void *arg, size_t i)
{
	return smtp_session_stage(arg, i);
}

static const struct smtp_stage *
viewer_stage_at(void *arg, size_t i)
{
	const struct viewer *v = arg;

	return i < v->nstages ? &v->stages[i] : NULL;
}

static void
fill_view(struct wb *wb, struct wb_view *v)
{
	const struct smtp_tls_info *ti = smtp_client_tls_info(wb->client);

	memset(v, 0, sizeof *v);
	if (wb->viewer != NULL) {
		v->nstages = wb->viewer->nstages;
		v->stage_at = viewer_stage_at;
		v->stage_arg = wb->viewer;
		v->viewing = wb->viewer->title;
	} else {
		v->nstages = smtp_session_nstages(wb->session);
		v->stage_at = live_stage_at;
		v->stage_arg = wb->session;
	}
	v->session_id = (long)record_session_id(wb->rec);
	v->nlines = wb->dlg->nlines;
	v->scroll = wb->dlg->scroll;
	v->dlg_sel = wb->focus == FOCUS_DIALOGUE ? wb->dlg_sel : SIZE_MAX;
	v->show_time = wb->show_time;
	v->stage_sel = wb->stage_sel;
	v->stage_focus = wb->focus == FOCUS_STAGES;
	v->stage_follow = wb->stage_follow;
	v->server = wb->server_label;
	v->tls = ti != NULL ? ti->version : NULL;
	v->tls_verified = ti != NULL && ti->verified;
	v->connected = !smtp_client_is_closed(wb->client);
	v->elapsed_s = (loop_now_us() - wb->t_start) / 1000000u;
	if (!smtp_session_is_authenticated(wb->session))
		v->user = NULL;
	else
		v->user =
		    wb->auth_user != NULL ? wb->auth_user : "authenticated";
	v->theme = theme_name(wb->scr.theme);
	v->popup_title = wb->popup_title;
	v->popup_lines = (const char *const *)wb->popup_lines;
	v->npopup = wb->npopup;
	v->popup_top = &wb->popup_top;
	if (wb->draft != NULL) {
		/* The draft pane takes the place of the lesson pane. */
		lesson_lines_free(wb);
		wb->lesson_lines =
		    wdraft_describe(wb->draft, &wb->nlesson_lines);
	} else
		lesson_refresh(wb,
		    wb->scr.stage_cols > 4 ? (size_t)wb->scr.stage_cols - 1
		                           : 30);
	v->lesson_lines = (const char *const *)wb->lesson_lines;
	v->nlesson_lines = wb->nlesson_lines;
	v->matches = (const char *const *)wb->matches;
	v->nmatches = wb->nmatches;
	v->confirm = wb->confirm_line != NULL;
}

static int
get_line(void *arg, size_t i, struct wb_dline *out)
{
	struct wb *wb = arg;
	struct dline *d;

	if (i >= wb->dlg->nlines)
		return -1;
	d = dline_at(wb, i);
	out->t_us = d->t_us;
	out->dir = d->dir;
	out->role = d->role;
	out->text = d->text;
	return 0;
}

static void
before_sleep(void *arg)
{
	struct wb *wb = arg;
	struct wb_view v;

	pump_keys(wb);
	auto_actions(wb);
	record_flush(wb->rec);
	if (wb->done) {
		loop_stop(wb->loop);
		return;
	}
	prompt_for_state(wb);
	if (!wb->dirty && !wb->scr.resized)
		return;
	wb->dirty = 0;
	fill_view(wb, &v);
	v.get_line = get_line;
	v.get_line_arg = wb;
	wb_draw_all(&wb->scr, &v);
}

static void
on_term_signal(int signo, void *arg)
{
	struct wb *wb = arg;

	/* Like a shell: a session ended by a signal exits 128 + signal,
	 * and the history says so. */
	wb->exit_status = 128 + signo;
	wb_note(wb, THEME_WARNING, "interrupted by %s: the session is closed",
	    signo == SIGTERM      ? "SIGTERM"
	        : signo == SIGHUP ? "SIGHUP"
	                          : "SIGINT");
	wb->done = 1;
	loop_stop(wb->loop);
}

static void
on_tick(void *arg)
{
	struct wb *wb = arg;

	wb->dirty = 1; /* the elapsed time in the status bar */
	(void)loop_timer_add(wb->loop, 1000, on_tick, wb);
}

static void
fatal_restore(void)
{
	if (the_wb != NULL)
		wb_screen_end(&the_wb->scr);
}

static void
crash_handler(int signo)
{
	/* Best effort: give the terminal back, then die as we would have.
	 * endwin() is not async-signal-safe, but this handler only runs
	 * for a fatal signal (SIGSEGV, SIGABRT...), when a garbled
	 * terminal is the worse outcome. */
	endwin(); /* NOLINT(bugprone-signal-handler) */
	(void)signal(signo, SIG_DFL);
	(void)raise(signo);
}

static int
load_input_line(const char *line, int64_t at, void *arg)
{
	(void)at;
	(void)arg;
	rl_glue_history_add(line);
	return 0;
}

/* History is optional: any failure is one note, and the session goes on. */
static void
open_history(struct wb *wb)
{
	char *path, *err = NULL;

	if (wb->o->no_history)
		return;
	if ((path = hist_db_path(wb->o->db, &err)) == NULL ||
	    (wb->hist = hist_open(path, 0, &err)) == NULL) {
		wb_note(wb, THEME_WARNING, "history disabled: %s", err);
		free(err);
		free(path);
		return;
	}
	free(path);
	if (hist_warnings(wb->hist) != NULL)
		wb_note(wb, THEME_WARNING, "%s", hist_warnings(wb->hist));
	if (hist_input_list(wb->hist, 1000, load_input_line, NULL, &err) ==
	    -1) {
		wb_note(wb, THEME_WARNING, "input history not loaded: %s", err);
		free(err);
	}
	/* Re-installing the handler moves readline past the loaded lines. */
	rl_glue_cancel();
	load_draft_completions(wb);
	load_history_completions(wb);
}

int
cmd_workbench(int argc, char *argv[])
{
	struct cli_opts o;
	struct wb wb;
	struct rl_host rh;
	char *theme_warning = NULL;
	int rc, i;

	rc = cli_parse(argc, argv,
	    CLI_O_CONN | CLI_O_HISTORY | CLI_O_THEME | CLI_O_DNS, &o);
	if (rc != 0) {
		free(o.args);
		if (rc == 1) {
			(void)puts("usage: ehlo [OPTIONS] [SERVER]   (see ehlo "
			           "--help)");
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (o.nargs > 1) {
		free(o.args);
		return cli_usage_error("the workbench takes one SERVER; for "
		                       "scripts use: ehlo run SERVER SCRIPT");
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		free(o.args);
		(void)fputs("ehlo: the workbench needs a terminal; for "
		            "scripts and pipes use: ehlo run SERVER [SCRIPT]\n",
		    stderr);
		return EXIT_USAGE;
	}
	memset(&wb, 0, sizeof wb);
	wb.o = &o;
	wb.helo = o.helo != NULL ? xstrdup(o.helo) : cli_default_helo();
	wb.stage_follow = 1;
	wb.dlg = &wb.live;
	wb.loop = loop_new();
	(void)setlocale(LC_ALL, "");
	/* Our handlers before initscr, so ncurses does not install its own
	 * (which would _exit without our cleanup). */
	(void)loop_signal_add(wb.loop, SIGTERM, on_term_signal, &wb);
	(void)loop_signal_add(wb.loop, SIGHUP, on_term_signal, &wb);
	(void)loop_signal_add(wb.loop, SIGINT, on_term_signal, &wb);
	(void)signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 4; i++)
		(void)signal((int[]){SIGSEGV, SIGBUS, SIGFPE, SIGABRT}[i],
		    crash_handler);
	the_wb = &wb;
	fatal_set_hook(fatal_restore);
	/* Readline's hooks before anything touches it: rl_set_screen_size
	 * (in the layout) would otherwise initialise its terminal and export
	 * LINES/COLUMNS, freezing ncurses' size on resize. */
	memset(&rh, 0, sizeof rh);
	rh.line = on_line;
	rh.complete = on_complete;
	rh.show_matches = on_show_matches;
	rh.redisplay = wb_redraw;
	rh.arg = &wb;
	rl_glue_init(&rh, "smtp> ");
	if (wb_screen_init(&wb.scr, o.theme, &theme_warning) == -1) {
		rl_glue_end();
		(void)fputs("ehlo: cannot initialise the terminal (is TERM "
		            "set?)\n",
		    stderr);
		loop_free(wb.loop);
		free(wb.helo);
		free(o.args);
		return EXIT_USAGE;
	}
	loop_fd_add(wb.loop, STDIN_FILENO, LOOP_READ, on_stdin, &wb);
	loop_set_before_sleep(wb.loop, before_sleep, &wb);
	(void)loop_timer_add(wb.loop, 1000, on_tick, &wb);
	open_history(&wb);
	if (theme_warning != NULL) {
		wb_note(&wb, THEME_WARNING, "%s; using the default theme",
		    theme_warning);
		free(theme_warning);
	}
	if (o.mx != NULL)
		wb_mx_cmd(&wb, o.mx);
	else
		wb_connect(&wb, o.nargs == 1 ? o.args[0] : NULL);
	wb.dirty = 1;
	(void)loop_run(wb.loop);

	record_end(wb.rec, wb.exit_status);
	record_free(wb.rec);
	rl_glue_end();
	wb_screen_end(&wb.scr);
	fatal_set_hook(NULL);
	the_wb = NULL;
	smtp_client_free(wb.client);
	hist_close(wb.hist);
	practice_free(wb.practice);
	loop_free(wb.loop);
	popup_close(&wb);
	matches_clear(&wb);
	lang_reset(&wb.lang);
	{
		size_t k;

		for (k = 0; k < wb.naddresses; k++)
			free(wb.addresses[k]);
	}
	viewer_close(&wb);
	send_end(&wb);
	wdraft_free(wb.draft);
	dlg_clear(&wb.live);
	if (wb.child_pid != 0) {
		(void)kill(-wb.child_pid, SIGTERM);
		(void)waitpid(wb.child_pid, NULL, 0);
		(void)close(wb.child_fd);
	}
	buf_reset(&wb.child_out);
	free(wb.child_title);
	mx_free(&wb);
	free(wb.tls_name);
	free(wb.server_addr);
	free(wb.addresses);
	lesson_lines_free(&wb);
	free(wb.practice_dir);
	free(wb.server_label);
	free(wb.helo);
	free(wb.auth_user);
	{
		size_t k;

		for (k = 0; k < wb.ndraft_ids; k++)
			free(wb.draft_ids[k]);
		free(wb.draft_ids);
	}
	free(wb.confirm_line);
	free(wb.secret_mech);
	free(wb.secret_user);
	free(o.args);
	return wb.exit_status;
}
