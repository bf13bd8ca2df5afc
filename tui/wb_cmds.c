/*
 * The workbench's `/` commands: the dispatcher that maps a typed command
 * to the room that runs it, and the help text.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/client.h"
#include "tui/cli.h"
#include "tui/record.h"
#include "tui/wb.h"

const char wb_help_text[] =
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

void
wb_do_slash(struct wb *wb, const char *typed)
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
		wb_popup_open(wb, "help", wb_help_text);
	else if (IS("/quit")) {
		wb->quitting = 1;
		if (!smtp_client_is_closed(wb->conn.client) &&
		    !smtp_session_quit_sent(wb->conn.session))
			wb_send_or_note(wb, "QUIT");
	} else if (IS("/explain")) {
		if (*arg != '\0')
			wb_popup_explain(wb, arg);
		else if (smtp_session_last_reply(wb->conn.session) != NULL) {
			size_t i = smtp_session_nstages(wb->conn.session);

			while (i-- > 0)
				if (smtp_session_stage(wb->conn.session, i) ==
				    smtp_session_last_reply(wb->conn.session))
					break;
			wb_popup_explain_stage(wb, i);
		} else
			wb_note(wb, THEME_WARNING,
			    "no reply yet: /explain CODE|VERB");
	} else if (IS("/tls"))
		wb_popup_tls(wb);
	else if (IS("/starttls")) {
		if (wb->o->no_starttls)
			wb_note(wb, THEME_ERROR,
			    "/starttls contradicts --no-starttls");
		else {
			wb_send_or_note(wb, "STARTTLS");
			wb->conn.ehlo_after_tls = 1;
		}
	} else if (IS("/auth"))
		wb_auth_cmd(wb, arg);
	else if (IS("/body"))
		wb_body_cmd(wb, arg);
	else if (IS("/pipeline")) {
		smtp_session_pipeline_begin(wb->conn.session);
		wb_note(
		    wb, THEME_NOTE, "pipelining: commands are held until /end");
	} else if (IS("/end")) {
		smtp_session_pipeline_end(wb->conn.session);
		smtp_client_flush(wb->conn.client);
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
		free(wb->conn.tls_name);
		wb->conn.tls_name = NULL;
		wb_connect(wb, *arg != '\0' ? arg : NULL);
	} else if (IS("/find"))
		wb_find_cmd(wb, arg);
	else if (IS("/clear")) {
		wb_dlg_clear(wb->dia.dlg);
		wb->dirty = 1;
	} else if (IS("/history"))
		wb_history_cmd(wb, arg);
	else if (IS("/open"))
		wb_viewer_open(wb, arg);
	else if (IS("/close"))
		wb_viewer_close(wb);
	else if (IS("/save")) {
		char *err = NULL;
		int64_t id = record_session_id(wb->conn.rec);

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
		wb_mx_next(wb);
	else if (IS("/play"))
		wb_viewer_play(wb);
	else if (IS("/step"))
		wb_viewer_step(wb);
	else
		wb_note(wb, THEME_ERROR,
		    "unknown workbench command \"%.40s\": /help lists them",
		    line);
#undef IS
	free(line);
}
