/*
 * Input in the workbench: every key (pumped from curses into readline
 * unless a pane or popup has the focus), a finished input line (a secret,
 * a draft's body, a `/` command, or a line for the server after the
 * rule check), and the prompt that says which of these Enter will do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <curses.h>

#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/client.h"
#include "protocol/why.h"
#include "tui/cmdtab.h"
#include "tui/rl.h"
#include "tui/wbdraft.h"
#include "tui/wb.h"

static int
same_line(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*
 * Content, not commands: message content after 354, a SASL response
 * after 334, or a line of an open BDAT chunk.  It is sent as typed: no
 * `/` command, no rule check, not kept in the input history.
 */
static int
line_is_content(struct wb *wb)
{
	enum smtp_state st = smtp_session_state(wb->conn.session);

	return st == SMTP_STATE_CONTENT || st == SMTP_STATE_AUTH ||
	    smtp_session_chunk_left(wb->conn.session) > 0;
}

void
wb_on_line(char *line, void *arg)
{
	struct wb *wb = arg;
	struct smtp_check chk;
	size_t i;
	int content;
	uint64_t chunk = smtp_session_chunk_left(wb->conn.session);

	wb_matches_clear(wb);
	if (wb->in.asking_secret) {
		size_t len = line != NULL ? strlen(line) : 0;

		wb_secret_entered(wb, line);
		if (line != NULL) {
			explicit_bzero(line, len);
			free(line);
		}
		rl_glue_wipe(len);
		return;
	}
	/* Ctrl-D, and /quit in a chunk (where no other command runs). */
	if (line == NULL || (chunk > 0 && strcmp(line, "/quit") == 0)) {
		free(line);
		wb_quit(wb);
		return;
	}
	if (wb->snd.draft_body && wb->snd.draft != NULL) {
		if (strcmp(line, ".") == 0) {
			wb->snd.draft_body = 0;
			wb_draft_changed(wb);
		} else
			wdraft_body_append(wb->snd.draft, line);
		free(line);
		wb->dirty = 1;
		return;
	}
	/* /raw runs in content too: unusual ends of data go there. */
	content = line_is_content(wb) && !cmdtab_is_raw_line(line);
	if (line[0] != '\0' && !content) {
		char *err = NULL;

		rl_glue_history_add(line);
		if (wb->hist != NULL &&
		    hist_input_add(wb->hist, line, &err) == -1)
			free(err);
	}
	wb->dia.dlg->scroll = 0;
	if (!content && line[0] == '/') {
		wb_do_slash(wb, line);
		free(line);
		return;
	}
	if (!content && line[0] == '\0') {
		free(line);
		return;
	}
	if (!content && !smtp_client_is_closed(wb->conn.client)) {
		smtp_command_check(line, strlen(line),
		    smtp_session_state(wb->conn.session),
		    smtp_session_caps(wb->conn.session)->valid
		        ? smtp_session_caps(wb->conn.session)
		        : NULL,
		    &chk);
		if (!chk.refused && chk.nwarn > 0 &&
		    !same_line(line, wb->in.confirm_line)) {
			for (i = 0; i < chk.nwarn; i++)
				wb_note(wb, THEME_WARNING, "%s", chk.warn[i]);
			wb_note(wb, THEME_WARNING,
			    "press Enter again to send it anyway");
			free(wb->in.confirm_line);
			wb->in.confirm_line = xstrdup(line);
			/* Readline clears the line after this handler: put
			 * it back once it has. */
			wb->in.restore_line = 1;
			free(line);
			return;
		}
	}
	free(wb->in.confirm_line);
	wb->in.confirm_line = NULL;
	wb_remember_address(wb, line);
	wb_send_or_note(wb, line);
	free(line);
	if (chunk == 0 && smtp_session_chunk_left(wb->conn.session) > 0)
		wb_note(wb, THEME_NOTE,
		    "each line you type now is chunk content, counted at the "
		    "prompt; /quit closes the connection");
}

static void
stage_move(struct wb *wb, long delta)
{
	size_t n = smtp_session_nstages(wb->conn.session);
	long v = (long)wb->in.stage_sel + delta;

	if (n == 0)
		return;
	if (v < 0)
		v = 0;
	if (v >= (long)n)
		v = (long)n - 1;
	wb->in.stage_sel = (size_t)v;
	wb->in.stage_follow = wb->in.stage_sel == n - 1;
	wb->dirty = 1;
}

/*
 * Keys that belong to the input line wherever the focus is: characters
 * and readline's editing keys.  Esc, Ctrl-C, Enter and the pane keys
 * (arrows up and down, pages, Home, End) keep their meaning in a pane.
 */
static int
is_input_key(int is_code, wint_t wch)
{
	if (!is_code)
		return wch != 27 && wch != 3 && wch != '\r' && wch != '\n';
	switch (wch) {
	case KEY_LEFT:
	case KEY_RIGHT:
	case KEY_BACKSPACE:
	case KEY_DC:
	case KEY_IC:
		return 1;
	default:
		return 0;
	}
}

/* Function keys that work from any pane (the input line's switch). */
static int
is_pane_switch_key(int is_code, wint_t wch)
{
	return is_code && wb_key_is_bound((int)wch);
}

/*
 * A key while a pane has the focus that is not the pane's own: typing
 * gives the focus back to the input line (the key goes on there), as
 * Esc would; a function key goes on to the input line's switch.
 * Returns 1 when the key goes on.
 */
static int
pane_passes_key(struct wb *wb, int is_code, wint_t wch)
{
	if (is_input_key(is_code, wch)) {
		if (wb->in.focus == FOCUS_DIALOGUE)
			wb->dia.dlg->scroll = 0;
		wb->in.stage_follow = 1;
		wb->in.focus = FOCUS_INPUT;
		wb->dirty = 1;
		return 1;
	}
	return is_pane_switch_key(is_code, wch);
}

/* Keys while a popup is shown.  Returns 1 when the key was used. */
static int
popup_key(struct wb *wb, int is_code, wint_t wch, int page)
{
	if (!is_code &&
	    (wch == 27 || wch == 'q' || wch == '\r' || wch == '\n' || wch == 3))
		wb_popup_close(wb);
	else if (is_code && (wch == KEY_DOWN || wch == KEY_NPAGE)) {
		wb->pop.top += wch == KEY_DOWN ? 1 : (size_t)page;
		wb->dirty = 1;
	} else if (is_code && (wch == KEY_UP || wch == KEY_PPAGE)) {
		size_t d = wch == KEY_UP ? 1 : (size_t)page;

		wb->pop.top = wb->pop.top > d ? wb->pop.top - d : 0;
		wb->dirty = 1;
	} else if (is_code && wch == KEY_F(1))
		wb_popup_close(wb);
	else if (is_input_key(is_code, wch)) {
		/* Typing closes the popup; the key is not lost. */
		wb_popup_close(wb);
		return 0;
	}
	return 1;
}

/* Keys while the dialogue has the focus.  Returns 1 when used. */
static int
dialogue_key(struct wb *wb, int is_code, wint_t wch, int page)
{
	long delta = 0;

	if (!is_code && (wch == 27 || wch == 3)) {
		wb->in.focus = FOCUS_INPUT;
		wb->dia.dlg->scroll = 0;
	} else if (!is_code && (wch == '\r' || wch == '\n'))
		wb_popup_explain_line(wb, wb->dia.sel);
	else if (is_code && wch == KEY_UP)
		delta = -1;
	else if (is_code && wch == KEY_DOWN)
		delta = 1;
	else if (is_code && wch == KEY_PPAGE)
		delta = -page;
	else if (is_code && wch == KEY_NPAGE)
		delta = page;
	else if (is_code && wch == KEY_HOME)
		delta = -(long)wb->dia.dlg->nlines;
	else if (is_code && wch == KEY_END)
		delta = (long)wb->dia.dlg->nlines;
	else if (is_code && wch == KEY_F(4))
		wb->in.focus = FOCUS_INPUT;
	else if (pane_passes_key(wb, is_code, wch))
		return 0;
	if (delta != 0 && wb->dia.dlg->nlines > 0) {
		long v = (long)wb->dia.sel + delta;

		if (v < 0)
			v = 0;
		if (v >= (long)wb->dia.dlg->nlines)
			v = (long)wb->dia.dlg->nlines - 1;
		wb->dia.sel = (size_t)v;
		/* Keep the selection on screen. */
		if (wb->dia.dlg->nlines - 1 - wb->dia.sel < wb->dia.dlg->scroll)
			wb->dia.dlg->scroll =
			    wb->dia.dlg->nlines - 1 - wb->dia.sel;
		else if (wb->dia.dlg->nlines - 1 - wb->dia.sel >=
		    wb->dia.dlg->scroll + (size_t)page)
			wb->dia.dlg->scroll = wb->dia.dlg->nlines - 1 -
			    wb->dia.sel - (size_t)page + 1;
	}
	wb->dirty = 1;
	return 1;
}

/* Keys while the stage list has the focus.  Returns 1 when used. */
static int
stages_key(struct wb *wb, int is_code, wint_t wch, int page)
{
	if (!is_code && (wch == 27 || wch == 3)) {
		wb->in.focus = FOCUS_INPUT;
		wb->in.stage_follow = 1;
		wb->dirty = 1;
	} else if (!is_code && (wch == '\r' || wch == '\n'))
		wb_popup_explain_stage(wb, wb->in.stage_sel);
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
		wb->in.focus = FOCUS_INPUT;
		wb->dirty = 1;
	} else if (pane_passes_key(wb, is_code, wch))
		return 0;
	return 1;
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
	/* While a replay or probe runs, Ctrl-C cancels it, wherever the
	 * focus is (the masked secret prompt keeps its own Ctrl-C). */
	if (!is_code && wch == 3 && !wb->in.asking_secret &&
	    wb->tool.runner != NULL && wb->tool.runner->cancel(wb)) {
		wb->dirty = 1;
		return;
	}
	if (!is_code && wch == 12) { /* Ctrl-L */
		clearok(curscr, TRUE);
		wb->dirty = 1;
		return;
	}
	/* A pane that does not use a key passes it on: a popup to the pane
	 * below it, a pane to the input line. */
	if (wb->in.focus == FOCUS_POPUP && popup_key(wb, is_code, wch, page))
		return;
	if (wb->in.focus == FOCUS_DIALOGUE &&
	    dialogue_key(wb, is_code, wch, page))
		return;
	if (wb->in.focus == FOCUS_STAGES && stages_key(wb, is_code, wch, page))
		return;
	/* The input line, and keys a pane passed on. */
	if (is_code && wb_key_run(wb, (int)wch))
		return;
	if (is_code) {
		switch (wch) {
		case KEY_PPAGE:
			wb->dia.dlg->scroll += (size_t)page;
			if (wb->dia.dlg->scroll >= wb->dia.dlg->nlines)
				wb->dia.dlg->scroll = wb->dia.dlg->nlines > 0
				    ? wb->dia.dlg->nlines - 1
				    : 0;
			wb->dirty = 1;
			return;
		case KEY_NPAGE:
			wb->dia.dlg->scroll = wb->dia.dlg->scroll > (size_t)page
			    ? wb->dia.dlg->scroll - (size_t)page
			    : 0;
			wb->dirty = 1;
			return;
		case KEY_HOME:
		case KEY_END:
			if (rl_glue_line_is_empty()) {
				wb->dia.dlg->scroll =
				    wch == KEY_HOME && wb->dia.dlg->nlines > 0
				    ? wb->dia.dlg->nlines - 1
				    : 0;
				wb->dirty = 1;
				return;
			}
			break;
		default:
			break;
		}
	} else if (wch == 3) { /* Ctrl-C */
		if (wb->in.asking_secret)
			wb_secret_entered(wb, NULL);
		free(wb->in.confirm_line);
		wb->in.confirm_line = NULL;
		wb_matches_clear(wb);
		rl_glue_cancel();
		wb->dirty = 1;
		return;
	}
	rl_glue_feed_key(is_code, (unsigned)wch);
	if (wb->in.restore_line) {
		wb->in.restore_line = 0;
		rl_glue_set_line(wb->in.confirm_line);
	}
	if (wb->cmp.line != NULL && strcmp(wb->cmp.line, rl_glue_line()) != 0)
		wb_matches_clear(wb);
	wb->dirty = 1;
}

void
wb_pump_keys(struct wb *wb)
{
	wint_t wch;
	int rc, n = 0;

	while (n++ < 4096 && (rc = wget_wch(wb->scr.input, &wch)) != ERR)
		handle_key(wb, rc == KEY_CODE_YES, wch);
}

void
wb_on_stdin(int fd, int events, void *arg)
{
	(void)fd;
	(void)events;
	wb_pump_keys(arg);
}

void
wb_prompt_for_state(struct wb *wb)
{
	if (wb->in.asking_secret)
		return;
	if (wb->snd.draft_body)
		rl_glue_set_prompt("body> ");
	else if (smtp_session_chunk_left(wb->conn.session) > 0) {
		char prompt[48];

		(void)snprintf(prompt, sizeof prompt, "chunk %llu left> ",
		    (unsigned long long)smtp_session_chunk_left(
		        wb->conn.session));
		rl_glue_set_prompt(prompt);
	} else if (smtp_session_state(wb->conn.session) == SMTP_STATE_CONTENT)
		rl_glue_set_prompt("data> ");
	else if (smtp_session_state(wb->conn.session) == SMTP_STATE_AUTH) {
		const char *prompt;

		/* What the mechanism expects next (protocol/why.c). */
		(void)smtp_why_sasl(wb->conn.session, &prompt);
		rl_glue_set_prompt(prompt);
	} else if (smtp_session_is_pipelining(wb->conn.session))
		rl_glue_set_prompt("pipe> ");
	else
		rl_glue_set_prompt("smtp> ");
}

void
wb_redraw(void *arg)
{
	struct wb *wb = arg;

	wb_draw_input(&wb->scr);
}
