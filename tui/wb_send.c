/*
 * Drafts in the workbench: /draft (compose, saved as you go), /drafts,
 * the preview of the exact message, the body in $EDITOR, and /send, which
 * runs the draft's transaction in the live session.
 *
 * /send reads the draft through its stored form and builds the message
 * and the transaction with smtp_txn_compose() (protocol/txn.h), the way
 * `ehlo send --draft ID` does, so both put the same bytes on the wire:
 * the envelope pipelined when offered, else one line per reply; then,
 * as smtp_txn_after_envelope() decides for both, DATA and the message,
 * or RSET when recipients were refused (all or nothing, unless PARTIAL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curses.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/client.h"
#include "protocol/message.h"
#include "protocol/txn.h"
#include "tui/draft.h"
#include "tui/wbdraft.h"
#include "tui/cmdtab.h"
#include "tui/wb.h"

/* A draft on its way: envelope, then DATA, then the message. */
struct wb_tx {
	struct draft_msg dm; /* the draft as sent; the builder reads it */
	struct smtp_message_build *b;
	struct smtp_txn *txn;
	int64_t draft_id;
	size_t nrcpt;
	size_t sent, replies; /* envelope lines sent and answered */
	int mail_code;
	int *rcpt_code; /* per recipient */
	int pipelined;
	int phase; /* 1 envelope, 2 DATA, 3 message */
	size_t eod_replies, eod_ok; /* LMTP: end-of-data replies so far */
};

void
wb_send_or_note(struct wb *wb, const char *line)
{
	char *err = NULL;

	if (smtp_client_send(wb->conn.client, line, strlen(line), &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
	}
}

/* What /send was asked: the words after it. */
struct send_args {
	long long id; /* 0: the open draft */
	char *notify, *ret, *envid;
	int partial;
};

void
wb_queue_pump(struct wb *wb)
{
	struct wb_tx *sd = wb->snd.tx;
	const char *line;

	if (sd == NULL || sd->pipelined || sd->phase != 1 ||
	    sd->replies < sd->sent || smtp_client_is_busy(wb->conn.client) ||
	    (sd->replies > 0 && sd->mail_code / 100 != 2))
		return;
	if ((line = smtp_txn_next_envelope(sd->txn, NULL)) == NULL)
		return;
	sd->sent++;
	wb_send_or_note(wb, line);
}

void
wb_send_end(struct wb *wb)
{
	struct wb_tx *sd = wb->snd.tx;

	if (sd == NULL)
		return;
	smtp_txn_free(sd->txn);
	smtp_message_build_free(sd->b);
	draft_msg_free(&sd->dm);
	free(sd->rcpt_code);
	free(sd);
	wb->snd.tx = NULL;
	wb->dirty = 1;
}

static ssize_t
send_read(void *arg, char *buf, size_t cap, char **errstr)
{
	return smtp_message_build_read(arg, buf, cap, errstr);
}

/* Ends a draft's transaction that will not be sent; RSET when open. */
static void
send_give_up(struct wb *wb, int rset)
{
	if (rset)
		wb_send_or_note(wb, "RSET");
	wb_send_end(wb);
}

/* Every envelope reply is in: DATA, or why not (the builder's policy). */
static void
send_envelope_done(struct wb *wb)
{
	struct wb_tx *sd = wb->snd.tx;
	struct smtp_txn_data_step step;
	long long id = (long long)sd->draft_id;
	size_t ok;

	switch (smtp_txn_after_envelope(
	    sd->txn, sd->mail_code, sd->rcpt_code, &ok)) {
	case SMTP_TXN_NEXT_NO_SENDER:
		wb_note(wb, THEME_ERROR,
		    "draft #%lld not sent: the server refused the sender "
		    "(MAIL FROM, %d)",
		    id, sd->mail_code);
		send_give_up(wb, 0);
		return;
	case SMTP_TXN_NEXT_NO_RCPT:
		wb_note(wb, THEME_ERROR,
		    "draft #%lld not sent: the server refused every "
		    "recipient; the transaction is reset",
		    id);
		send_give_up(wb, 1);
		return;
	case SMTP_TXN_NEXT_REFUSED:
		wb_note(wb, THEME_ERROR,
		    "draft #%lld not sent: %zu of %zu recipients refused "
		    "(see the stages); the transaction is reset (/send ... "
		    "PARTIAL sends it to the accepted ones)",
		    id, sd->nrcpt - ok, sd->nrcpt);
		send_give_up(wb, 1);
		return;
	case SMTP_TXN_NEXT_DATA:
		break;
	}
	if (ok < sd->nrcpt)
		wb_note(wb, THEME_WARNING,
		    "%zu of %zu recipients refused (see the stages); "
		    "PARTIAL: sending to the %zu accepted",
		    sd->nrcpt - ok, sd->nrcpt, ok);
	sd->phase = 2;
	(void)smtp_txn_data_next(sd->txn, &step); /* DATA: never BDAT here */
	wb_send_or_note(wb, step.line);
}

/*
 * LMTP (RFC 2033 4.2): after the data each accepted recipient answers
 * on its own stage, named after it ("... for <a@x>", "reply for
 * <b@x>"); each is noted, and the draft is done after the last.
 */
static void
send_lmtp_reply(struct wb *wb, const struct smtp_stage *st, int code)
{
	struct wb_tx *sd = wb->snd.tx;
	const char *lt = strchr(st->command, '<'),
	           *gt = lt != NULL ? strchr(lt, '>') : NULL;
	size_t i, accepted = 0;

	for (i = 0; i < sd->nrcpt; i++)
		if (sd->rcpt_code[i] / 100 == 2)
			accepted++;
	sd->eod_replies++;
	if (code / 100 == 2)
		sd->eod_ok++;
	wb_note(wb, code / 100 == 2 ? THEME_NOTE : THEME_ERROR,
	    "draft #%lld for %.*s: %d, %s (reply %zu of %zu)",
	    (long long)sd->draft_id,
	    lt != NULL && gt != NULL ? (int)(gt - lt + 1) : 11,
	    lt != NULL && gt != NULL ? lt : "a recipient", code,
	    code / 100 == 2 ? "delivered" : "refused at the end of data",
	    sd->eod_replies, accepted);
	if (sd->eod_replies < accepted)
		return;
	wb_note(wb, sd->eod_ok == accepted ? THEME_NOTE : THEME_ERROR,
	    "draft #%lld sent over LMTP: delivered to %zu of %zu recipients",
	    (long long)sd->draft_id, sd->eod_ok, accepted);
	wb_send_end(wb);
}

/* Follows the replies of a draft's transaction. */
void
wb_send_on_reply(struct wb *wb, const struct smtp_stage *st, int code)
{
	struct wb_tx *sd = wb->snd.tx;
	char *err = NULL;

	if (sd->phase == 1 &&
	    (st->kind == SMTP_STAGE_MAIL || st->kind == SMTP_STAGE_RCPT)) {
		if (st->kind == SMTP_STAGE_MAIL)
			sd->mail_code = code;
		else if (sd->replies >= 1 && sd->replies <= sd->nrcpt)
			sd->rcpt_code[sd->replies - 1] = code;
		sd->replies++;
		/* One line at a time, nothing follows a refused MAIL. */
		if (!sd->pipelined && sd->mail_code / 100 != 2)
			sd->replies = sd->nrcpt + 1;
		if (sd->replies >= sd->nrcpt + 1)
			send_envelope_done(wb);
	} else if (sd->phase == 2 && st->kind == SMTP_STAGE_DATA) {
		if (code != 354) {
			wb_note(wb, THEME_ERROR,
			    "the server refused DATA (%d): draft #%lld was "
			    "not sent; the transaction is reset",
			    code, (long long)sd->draft_id);
			send_give_up(wb, 1);
			return;
		}
		if (smtp_client_body_source(wb->conn.client, send_read, sd->b,
		        "the draft", &err) == -1) {
			wb_note(wb, THEME_ERROR, "%s", err);
			free(err);
			wb_send_end(wb);
			return;
		}
		sd->phase = 3;
	} else if (sd->phase == 3 && st->kind == SMTP_STAGE_MESSAGE &&
	    smtp_session_is_lmtp(wb->conn.session)) {
		send_lmtp_reply(wb, st, code);
	} else if (sd->phase == 3 && st->kind == SMTP_STAGE_MESSAGE) {
		wb_note(wb, code / 100 == 2 ? THEME_NOTE : THEME_ERROR,
		    "draft #%lld %s", (long long)sd->draft_id,
		    code / 100 == 2 ? "sent" : "refused at the end of data");
		wb_send_end(wb);
	}
}

/*
 * The next word of a /send line into *word (allocated), a double-quoted
 * part kept whole without its quotes (ENVID="a b"; \" and \\ inside).
 * Returns 1, 0 at the end, -1 (*word NULL) for a quote not closed.
 */
static int
send_word(const char **p, char **word)
{
	const char *s = *p + strspn(*p, " \t");
	struct buf b;
	int quoted = 0;

	*word = NULL;
	if (*s == '\0')
		return 0;
	buf_init(&b, 0);
	for (; *s != '\0' && (quoted || (*s != ' ' && *s != '\t')); s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (quoted && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
			(void)buf_add(&b, ++s, 1);
		else
			(void)buf_add(&b, s, 1);
	}
	(void)buf_add(&b, "", 1);
	if (!quoted)
		*word = xstrdup(buf_peek(&b));
	buf_reset(&b);
	*p = s;
	return quoted ? -1 : 1;
}

static void
send_args_free(struct send_args *a)
{
	free(a->notify);
	free(a->ret);
	free(a->envid);
}

/* The value of word when it is "NAME=value" (any case), else NULL. */
static const char *
send_param(const char *word, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(word, name, n) == 0 && word[n] == '=' ? word + n + 1
	                                                         : NULL;
}

/* Parses the words after /send; -1 after saying what is wrong. */
static int
send_args_parse(struct wb *wb, const char *arg, struct send_args *a)
{
	struct smtp_txn_opts o;
	const char *v;
	char *w, *end, *shown;
	int rc;

	memset(a, 0, sizeof *a);
	while ((rc = send_word(&arg, &w)) == 1) {
		char **slot = NULL;

		if ((v = send_param(w, "NOTIFY")) != NULL)
			slot = &a->notify;
		else if ((v = send_param(w, "RET")) != NULL)
			slot = &a->ret;
		else if ((v = send_param(w, "ENVID")) != NULL)
			slot = &a->envid;
		else if (strcasecmp(w, "PARTIAL") == 0)
			a->partial = 1;
		else {
			a->id = strtoll(*w == '#' ? w + 1 : w, &end, 10);
			if (wb->hist == NULL || a->id <= 0 || *end != '\0')
				rc = -1;
		}
		if (slot != NULL) {
			free(*slot);
			*slot = xstrdup(v);
		}
		free(w);
		if (rc == -1)
			break;
	}
	if (rc == -1) {
		wb_note(wb, THEME_ERROR,
		    "/send [ID] [NOTIFY=...] [RET=FULL|HDRS] [ENVID=...] "
		    "[PARTIAL]: ID is a draft number from /drafts; quote a "
		    "value with blanks (ENVID=\"a b\")");
		send_args_free(a);
		return -1;
	}
	memset(&o, 0, sizeof o);
	o.notify = a->notify;
	o.ret = a->ret;
	o.envid = a->envid;
	switch (smtp_txn_opts_check(&o)) {
	case SMTP_TXN_BAD_NOTIFY:
		shown = escape_dup(a->notify != NULL ? a->notify : "",
		    a->notify != NULL ? strlen(a->notify) : 0);
		wb_note(wb, THEME_ERROR,
		    "NOTIFY= wants NEVER or a list of SUCCESS, FAILURE and "
		    "DELAY, e.g. NOTIFY=SUCCESS,FAILURE; not \"%s\"",
		    shown);
		free(shown);
		break;
	case SMTP_TXN_BAD_RET:
		shown = escape_dup(a->ret != NULL ? a->ret : "",
		    a->ret != NULL ? strlen(a->ret) : 0);
		wb_note(wb, THEME_ERROR, "RET= wants FULL or HDRS, not \"%s\"",
		    shown);
		free(shown);
		break;
	case SMTP_TXN_BAD_ENVID_EMPTY:
	case SMTP_TXN_BAD_ENVID_CHARS:
		wb_note(wb, THEME_ERROR, "ENVID= wants printable ASCII");
		break;
	case SMTP_TXN_BAD_ENVID_LONG:
		wb_note(wb, THEME_ERROR,
		    "ENVID= is at most 100 characters (RFC 3461)");
		break;
	case SMTP_TXN_OK:
		return 0;
	}
	send_args_free(a);
	return -1;
}

/* The draft to send, as `ehlo send --draft` reads it; -1 when none. */
static int
send_draft_load(struct wb *wb, const struct send_args *a, struct draft_msg *dm)
{
	char *err = NULL;
	int rc;

	memset(dm, 0, sizeof *dm);
	if (a->id > 0)
		rc = draft_msg_get(dm, wb->hist, (int64_t)a->id, &err);
	else if (wb->snd.draft != NULL)
		rc = wdraft_stored(wb->snd.draft, dm, &err);
	else {
		wb_note(
		    wb, THEME_ERROR, "no draft open: /draft new, or /send ID");
		return -1;
	}
	if (rc == 0)
		return 0;
	if (err != NULL)
		wb_note(wb, THEME_ERROR, "%s", err);
	else
		wb_note(wb, THEME_ERROR,
		    "there is no draft %lld: /drafts lists them", a->id);
	free(err);
	draft_msg_free(dm);
	return -1;
}

int
wb_send_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	const struct smtp_caps *caps = smtp_session_caps(wb->conn.session);
	const struct smtp_txn_warning *w;
	struct smtp_txn_opts o;
	struct send_args a;
	struct wb_tx *sd;
	char *err = NULL;
	size_t i, nw;
	const char *line;

	if (wb->snd.tx != NULL) {
		wb_note(wb, THEME_WARNING, "a draft is being sent already");
		return 0;
	}
	if (send_args_parse(wb, arg, &a) == -1)
		return 0;
	sd = xcalloc(1, sizeof *sd);
	if (send_draft_load(wb, &a, &sd->dm) == -1) {
		send_args_free(&a);
		free(sd);
		return 0;
	}
	if (smtp_session_state(wb->conn.session) != SMTP_STATE_READY) {
		wb_note(wb, THEME_ERROR,
		    "/send needs a session after EHLO and "
		    "outside a transaction (now: %s)",
		    smtp_state_name(smtp_session_state(wb->conn.session)));
		draft_msg_free(&sd->dm);
		send_args_free(&a);
		free(sd);
		return 0;
	}
	sd->draft_id = a.id > 0 ? (int64_t)a.id : wdraft_id(wb->snd.draft);
	memset(&o, 0, sizeof o);
	o.notify = a.notify;
	o.ret = a.ret;
	o.envid = a.envid;
	o.partial = a.partial;
	wb->snd.tx = sd;
	sd->txn = smtp_txn_compose(caps, &sd->dm.msg, &o, &sd->b, &err);
	send_args_free(&a);
	if (sd->txn == NULL) {
		wb_note(wb, THEME_ERROR, "%s; nothing was sent", err);
		free(err);
		wb_send_end(wb);
		return 0;
	}
	sd->nrcpt = smtp_message_build_info(sd->b)->nrcpts;
	sd->rcpt_code = xcalloc(sd->nrcpt, sizeof *sd->rcpt_code);
	sd->phase = 1;
	w = smtp_txn_warnings(sd->txn, &nw);
	for (i = 0; i < nw; i++)
		smtp_session_warn(wb->conn.session, "%s", w[i].text);
	sd->pipelined = smtp_caps_has(caps, SMTP_CAP_PIPELINING);
	if (!sd->pipelined) {
		wb_queue_pump(wb);
		return 0;
	}
	/* The whole envelope in one write (RFC 2920). */
	smtp_session_pipeline_begin(wb->conn.session);
	while ((line = smtp_txn_next_envelope(sd->txn, NULL)) != NULL) {
		sd->sent++;
		wb_send_or_note(wb, line);
	}
	smtp_session_pipeline_end(wb->conn.session);
	smtp_client_flush(wb->conn.client);
	return 0;
}

void
wb_draft_changed(struct wb *wb)
{
	char *err = NULL;

	if (wb->hist != NULL &&
	    wdraft_save(wb->snd.draft, wb->hist, &err) == -1) {
		wb_note(wb, THEME_ERROR, "draft not saved: %s", err);
		free(err);
	}
	wb_load_draft_completions(wb);
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

int
wb_drafts_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	struct buf b;
	char *err = NULL;
	long n;

	(void)arg;
	if (wb->hist == NULL) {
		wb_note(wb, THEME_WARNING,
		    "drafts live in the history database, "
		    "which this run does not use");
		return 0;
	}
	buf_init(&b, 0);
	if ((n = hist_draft_list(wb->hist, drafts_row, &b, &err)) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		buf_reset(&b);
		return 0;
	}
	(void)buf_add_str(&b,
	    n == 0 ? "No drafts yet: /draft new starts one."
	           : "\n/draft open ID, /draft dup ID, /draft "
	             "delete ID, /send ID");
	(void)buf_add(&b, "", 1);
	wb_popup_open(wb, "drafts", buf_peek(&b));
	buf_reset(&b);
	return 0;
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
	body = wdraft_body(wb->snd.draft, &len);
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
		wdraft_body_set(wb->snd.draft, buf_peek(&in), buf_used(&in));
		wb_draft_changed(wb);
	}
	buf_reset(&in);
	(void)unlink(path);
}

static void
draft_preview(struct wb *wb)
{
	const struct smtp_caps *caps = smtp_session_caps(wb->conn.session);
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
	wdraft_message(wb->snd.draft, &m);
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
	wb_popup_open(wb, "the message as it will be sent", shown);
	free(shown);
	free(text);
}

int
wb_draft_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
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
			return 0;
		}
	}
	if (word[0] == '\0' || strcmp(word, "new") == 0) {
		wdraft_free(wb->snd.draft);
		wb->snd.draft = wdraft_new();
		wb_draft_changed(wb);
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
			return 0;
		}
		wdraft_free(wb->snd.draft);
		wb->snd.draft = d;
		if (strcmp(word, "dup") == 0) {
			wdraft_detach(d);
			wb_draft_changed(wb);
		}
		wb->dirty = 1;
	} else if (strcmp(word, "delete") == 0) {
		if (hist_draft_delete(wb->hist, (int64_t)id, &err) == -1) {
			wb_note(wb, THEME_ERROR, "%s", err);
			free(err);
			return 0;
		}
		if (wb->snd.draft != NULL &&
		    wdraft_id(wb->snd.draft) == (int64_t)id) {
			wdraft_free(wb->snd.draft);
			wb->snd.draft = NULL;
		}
		wb_note(wb, THEME_NOTE, "draft #%lld deleted", id);
	} else if (wb->snd.draft == NULL)
		wb_note(wb, THEME_ERROR,
		    "no draft open: /draft new or /draft "
		    "open ID");
	else if (strcmp(word, "close") == 0) {
		wdraft_free(wb->snd.draft);
		wb->snd.draft = NULL;
		wb->dirty = 1;
	} else if (strcmp(word, "show") == 0)
		draft_preview(wb);
	else if (strcmp(word, "body") == 0) {
		wb->snd.draft_body = 1;
		wb_note(wb, THEME_NOTE,
		    "type the body; a line with a single "
		    "\".\" ends it (/draft edit uses $EDITOR)");
	} else if (strcmp(word, "edit") == 0)
		draft_edit_body(wb);
	else if (strcmp(word, "clear") == 0) {
		if (wdraft_set(wb->snd.draft, rest, NULL, &err) == -1) {
			wb_note(wb, THEME_ERROR, "%s", err);
			free(err);
		} else
			wb_draft_changed(wb);
	} else if (wdraft_set(wb->snd.draft, word, rest, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
	} else
		wb_draft_changed(wb);
	return 0;
}
