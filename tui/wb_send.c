/*
 * Drafts in the workbench: /draft (compose, saved as you go), /drafts,
 * the preview of the exact message, the body in $EDITOR, and /send, which
 * runs the draft's transaction in the live session (the envelope
 * pipelined when offered, else one command per reply through a queue;
 * then DATA and the message).  Every line the workbench sends goes out
 * through wb_send_or_note().
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
#include "tui/draft.h"
#include "tui/wbdraft.h"
#include "tui/cmdtab.h"
#include "tui/wb.h"

void
wb_send_or_note(struct wb *wb, const char *line)
{
	char *err = NULL;

	if (smtp_client_send(wb->conn.client, line, strlen(line), &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
	}
}

static void
queue_free(struct wb *wb)
{
	size_t i;

	for (i = wb->snd.queue_head; i < wb->snd.nqueue; i++)
		free(wb->snd.queue[i]);
	free(wb->snd.queue);
	wb->snd.queue = NULL;
	wb->snd.nqueue = wb->snd.queue_head = 0;
}

static void
queue_add(struct wb *wb, char *line)
{
	wb->snd.queue = xreallocarray(
	    wb->snd.queue, wb->snd.nqueue + 1, sizeof *wb->snd.queue);
	wb->snd.queue[wb->snd.nqueue++] = line;
}

/* Sends the next queued command once the previous one is answered. */
void
wb_queue_pump(struct wb *wb)
{
	char *line;

	if (wb->snd.queue_head >= wb->snd.nqueue ||
	    smtp_client_is_busy(wb->conn.client))
		return;
	line = wb->snd.queue[wb->snd.queue_head++];
	wb_send_or_note(wb, line);
	free(line);
	if (wb->snd.queue_head >= wb->snd.nqueue)
		queue_free(wb);
}

void
wb_send_end(struct wb *wb)
{
	if (wb->snd.tx == NULL)
		return;
	smtp_message_build_free(wb->snd.tx->b);
	free(wb->snd.tx);
	wb->snd.tx = NULL;
	queue_free(wb);
	wb->dirty = 1;
}

static ssize_t
send_read(void *arg, char *buf, size_t cap, char **errstr)
{
	return smtp_message_build_read(arg, buf, cap, errstr);
}

/* Follows the replies of a draft's transaction. */
void
wb_send_on_reply(struct wb *wb, const struct smtp_stage *st, int code)
{
	struct wb_tx *sd = wb->snd.tx;
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
			wb_send_or_note(wb, "RSET");
			wb_send_end(wb);
			return;
		}
		if (sd->accepted < sd->nrcpt)
			wb_note(wb, THEME_WARNING,
			    "%zu of %zu recipients "
			    "refused (see the stages); sending to the %zu "
			    "accepted",
			    sd->nrcpt - sd->accepted, sd->nrcpt, sd->accepted);
		sd->phase = 2;
		wb_send_or_note(wb, "DATA");
	} else if (sd->phase == 2 && st->kind == SMTP_STAGE_DATA) {
		if (code != 354) {
			wb_note(wb, THEME_ERROR,
			    "the server refused DATA: the "
			    "draft was not sent");
			wb_send_end(wb);
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
	} else if (sd->phase == 3 && st->kind == SMTP_STAGE_MESSAGE) {
		wb_note(wb, code / 100 == 2 ? THEME_NOTE : THEME_ERROR,
		    "draft #%lld %s", (long long)sd->draft_id,
		    code / 100 == 2 ? "sent" : "refused at the end of data");
		wb_send_end(wb);
	}
}

int
wb_send_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	const struct smtp_caps *caps = smtp_session_caps(wb->conn.session);
	const struct smtp_message_info *info;
	struct smtp_message_opts mo;
	struct smtp_message m;
	struct wdraft *d = wb->snd.draft, *tmp = NULL;
	struct buf b;
	char *err = NULL, notify[64] = "", ret[16] = "", envid[101] = "";
	size_t i;

	if (wb->snd.tx != NULL) {
		wb_note(wb, THEME_WARNING, "a draft is being sent already");
		return 0;
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
				return 0;
			}
			tmp = d = wdraft_new();
			if (wdraft_load(d, wb->hist, id, &err) == -1) {
				wb_note(wb, THEME_ERROR, "%s", err);
				free(err);
				wdraft_free(tmp);
				return 0;
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
		return 0;
	}
	if (smtp_session_state(wb->conn.session) != SMTP_STATE_READY) {
		wb_note(wb, THEME_ERROR,
		    "/send needs a session after EHLO and "
		    "outside a transaction (now: %s)",
		    smtp_state_name(smtp_session_state(wb->conn.session)));
		wdraft_free(tmp);
		return 0;
	}
	memset(&mo, 0, sizeof mo);
	mo.can_8bitmime = smtp_caps_has(caps, SMTP_CAP_8BITMIME);
	mo.can_smtputf8 = smtp_caps_has(caps, SMTP_CAP_SMTPUTF8);
	wdraft_message(d, &m);
	wb->snd.tx = xcalloc(1, sizeof *wb->snd.tx);
	wb->snd.tx->draft_id = wdraft_id(d);
	wb->snd.tx->b = smtp_message_build_new(&m, &mo, &err);
	wdraft_free(tmp);
	if (wb->snd.tx->b == NULL) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		wb_send_end(wb);
		return 0;
	}
	info = smtp_message_build_info(wb->snd.tx->b);
	wb->snd.tx->nrcpt = info->nrcpts;
	wb->snd.tx->phase = 1;
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
		smtp_session_pipeline_begin(wb->conn.session);
		for (i = wb->snd.queue_head; i < wb->snd.nqueue; i++)
			wb_send_or_note(wb, wb->snd.queue[i]);
		smtp_session_pipeline_end(wb->conn.session);
		smtp_client_flush(wb->conn.client);
		queue_free(wb);
	} else
		wb_queue_pump(wb);
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
