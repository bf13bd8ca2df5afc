/*
 * The `/` command table and what is made from it: lookup and dispatch
 * for both front ends, the list completion offers, the help (F1, /help,
 * /help NAME) and the script summary of `ehlo run --help`.
 *
 * One entry per command, in the order completion offers them and help
 * lists them.  A command that runs in one mode only says so in the
 * other, by its own message (elsewhere) or a generic one naming what
 * that mode has.
 */
#include "tui/cmdtab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"

#define W CMD_MODE_WORKBENCH
#define L CMD_MODE_LINE

static cmd_handler cmdtab_help_cmd;

const struct cmd_entry cmdtab[] = {
    {"/connect", "[SERVER]", SMTP_COMPLETE_ARG_HOST, W,
        "Connects to SERVER (host, host:port, [v6]:port)",
        "Closes this session (QUIT when it is open) and connects to SERVER;\n"
        "no SERVER: the practice server.",
        "/connect is for the workbench; a script talks to the SERVER given "
        "to ehlo run",
        wb_connect_cmd},
    {"/starttls", "", SMTP_COMPLETE_ARG_NONE, W | L,
        "Sends STARTTLS, runs the TLS handshake, then EHLO",
        "STARTTLS, the TLS handshake (verified unless --insecure), then\n"
        "EHLO again as RFC 3207 requires.",
        NULL, cmdtab_starttls},
    {"/xclient", "NAME=VALUE...", SMTP_COMPLETE_ARG_XCLIENT, W | L,
        "Postfix XCLIENT: act as another client, EHLO again",
        "XCLIENT with the NAME=VALUE pairs (ADDR, NAME, PORT, PROTO, HELO,\n"
        "LOGIN, DESTADDR, DESTPORT; Tab offers the ones the server listed\n"
        "in its 250-XCLIENT line), values xtext-encoded; a VALUE in double\n"
        "quotes may hold blanks.  Postfix answers 220, a new greeting: the\n"
        "session starts over as that client and EHLO follows by itself.\n"
        "Only smtpd_authorized_xclient_hosts may use it.",
        NULL, cmdtab_xclient},
    {"/auth", "MECH [USER]", SMTP_COMPLETE_ARG_MECH, W | L,
        "SASL login; the secret is asked for, never stored",
        "SASL exchange with MECH as USER (default --user): PLAIN, LOGIN,\n"
        "CRAM-MD5, XOAUTH2, OAUTHBEARER, SCRAM-SHA-1, SCRAM-SHA-256 and\n"
        "their -PLUS forms (bound to the TLS connection), GSSAPI (a\n"
        "Kerberos ticket, no secret).  The secret (password or token)\n"
        "comes from EHLO_PASSWORD or is asked for without echo, and never\n"
        "reaches the screen or the history.",
        NULL, cmdtab_auth},
    {"/body", "FILE", SMTP_COMPLETE_ARG_FILE, W | L,
        "DATA, then FILE dot-stuffed, then the final \".\"",
        "DATA (unless the server already said 354), then FILE with CRLF\n"
        "line ends and dot-stuffing, then the final \".\".  In ehlo run\n"
        "with --raw-data FILE, /body alone sends that FILE as it is: no\n"
        "normalisation, no dot-stuffing (the final \".\" still added).",
        NULL, cmdtab_body},
    {"/send", "[ID] [NOTIFY=..] [RET=..] [ENVID=..] [PARTIAL]",
        SMTP_COMPLETE_ARG_DRAFT, W, "Sends the open draft, or a saved one",
        "Sends the open draft (or draft ID) in this session, built exactly\n"
        "as ehlo send --draft ID builds it: MAIL, RCPT (pipelined when\n"
        "offered), DATA, the message.  NOTIFY=SUCCESS,FAILURE, RET=HDRS and\n"
        "ENVID=X (quote a value with blanks: ENVID=\"a b\") ask for delivery\n"
        "status notifications.  A refused recipient stops the send (RSET)\n"
        "unless PARTIAL is given: then the accepted ones get the message.",
        "/send is for the workbench; in scripts use ehlo send --draft ID",
        wb_send_cmd},
    {"/draft", "SUBCOMMAND", SMTP_COMPLETE_ARG_DRAFTCMD, W,
        "Composes a draft: new, from, to, subject, body...",
        "/draft new starts a draft; /draft from|to|cc|bcc|reply-to|subject|\n"
        "header|attach VALUE sets a field, /draft clear FIELD empties it,\n"
        "/draft body types the body (\".\" ends), /draft edit opens\n"
        "$VISUAL/$EDITOR, /draft show previews the exact message,\n"
        "/draft open|dup|delete ID works on saved ones, /draft close puts it\n"
        "away.  Saved as you go.",
        NULL, wb_draft_cmd},
    {"/drafts", "", SMTP_COMPLETE_ARG_NONE, W, "Lists the saved drafts",
        "Lists the saved drafts, newest first.",
        "/drafts is for the workbench; ehlo drafts lists them", wb_drafts_cmd},
    {"/pipeline", "", SMTP_COMPLETE_ARG_NONE, W | L,
        "Collects the next lines until /end into one write",
        "Holds the commands typed after it and sends them in one write at\n"
        "/end (RFC 2920).",
        NULL, cmdtab_pipeline},
    {"/end", "", SMTP_COMPLETE_ARG_NONE, W | L,
        "Ends /pipeline and sends the group",
        "Sends the commands held since /pipeline, in one write.", NULL,
        cmdtab_end},
    {"/expect", "CODE", SMTP_COMPLETE_ARG_CODE, W | L,
        "Checks the last reply: 250, 2xx, 55x, 550 5.1.1",
        "Checks the last reply against CODE: a code (250), a class (2xx,\n"
        "55x), optionally an enhanced code (550 5.1.1, 5.1.x).  In a script\n"
        "a mismatch ends the run with exit status 1, and an expected 4xx/5xx\n"
        "does not count as a failure.",
        NULL, cmdtab_expect},
    {"/explain", "[CODE|VERB]", SMTP_COMPLETE_ARG_EXPLAIN, W | L,
        "Explains a reply code or a command",
        "Explains a reply code (550), an enhanced code (5.7.1) or a command\n"
        "(VRFY); no argument: the last reply.",
        NULL, cmdtab_explain},
    {"/save", "[LABEL]", SMTP_COMPLETE_ARG_TEXT, W,
        "Labels this session in the history",
        "Keeps this session in the history under LABEL.", NULL, wb_save_cmd},
    {"/history", "[TEXT]", SMTP_COMPLETE_ARG_TEXT, W,
        "Browses saved sessions (TEXT: search)",
        "Lists the saved sessions, newest first; TEXT searches their\n"
        "dialogue.",
        "/history is for the workbench; ehlo history lists them",
        wb_history_cmd},
    {"/open", "ID", SMTP_COMPLETE_ARG_HISTORY, W,
        "Shows a saved session read-only",
        "Shows saved session ID read-only beside its stages, for a\n"
        "lecture: F5/F8 (/step) go an exchange forward or back, F9 to the\n"
        "next failure, F6 (/play) plays it with its timing, F10 the speed;\n"
        "/close returns.",
        "/open is for the workbench; ehlo show ID prints one", wb_open_cmd},
    {"/close", "", SMTP_COMPLETE_ARG_NONE, W,
        "Returns from a saved session to the live one",
        "Closes the saved session on screen and shows the live one.", NULL,
        wb_close_cmd},
    {"/play", "[1x|2x|10x]", SMTP_COMPLETE_ARG_TEXT, W,
        "Plays the saved session with its timing; again: pause",
        "Plays the saved session on screen with its recorded timing (F6),\n"
        "at 1x, 2x or 10x (F10 changes it); again: pause, and again:\n"
        "resume.",
        NULL, wb_play_cmd},
    {"/step", "[back|failure]", SMTP_COMPLETE_ARG_TEXT, W,
        "Steps the saved session by exchange",
        "Shows the saved session's next exchange, a command and its reply\n"
        "(F5); back: the one before (F8); failure: on to the next 4xx or\n"
        "5xx reply (F9).",
        NULL, wb_step_cmd},
    {"/replay", "ID [SERVER]", SMTP_COMPLETE_ARG_HISTORY, W,
        "Re-runs a saved session and shows the diff",
        "Runs saved session ID again (against its server, or SERVER) and\n"
        "shows where the replies differ.  Its dialogue streams into the\n"
        "dialogue beside the session, the replay is saved in the history,\n"
        "and Ctrl-C cancels it while it runs.",
        "/replay is for the workbench; ehlo replay ID runs one", wb_replay_cmd},
    {"/find", "TEXT", SMTP_COMPLETE_ARG_TEXT, W, "Scrolls the dialogue to TEXT",
        "Scrolls the dialogue up to the last line above the view that\n"
        "contains TEXT (any case).",
        NULL, wb_find_cmd},
    {"/hint", "", SMTP_COMPLETE_ARG_NONE, W,
        "A hint for the lesson's next goal",
        "Gives a hint for the open lesson's next goal.", NULL, wb_hint_cmd},
    {"/theme", "[NAME]", SMTP_COMPLETE_ARG_THEME, W,
        "Switches the colour theme",
        "Switches the colour theme to NAME (Tab lists them); no NAME: says\n"
        "which is in use.",
        NULL, wb_theme_cmd},
    {"/tls", "", SMTP_COMPLETE_ARG_NONE, W,
        "Shows the TLS session and certificate details",
        "TLS details: protocol, cipher, the chain, validity, verification.",
        NULL, wb_tls_cmd},
    {"/inbox", "[N]", SMTP_COMPLETE_ARG_NUMBER, W,
        "Shows the practice server's inbox",
        "Lists what the practice server received; N shows message N.", NULL,
        wb_inbox_cmd},
    {"/lesson", "[NAME|off]", SMTP_COMPLETE_ARG_LESSON, W,
        "Lists the lessons or starts one",
        "Lists the guided lessons and what is done; NAME opens one beside\n"
        "the stages, on the practice server with the lesson's rules (a new\n"
        "session when they differ), and saves the goals met in the history\n"
        "as ehlo lesson does; off closes it.  /hint gives a hint.",
        "/lesson is for the workbench; ehlo lesson NAME runs one",
        wb_lesson_cmd},
    {"/help", "[COMMAND]", SMTP_COMPLETE_ARG_COMMAND, W | L,
        "Lists the keys and / commands",
        "Lists the / commands (in the workbench also the keys); /help\n"
        "COMMAND explains one.",
        NULL, cmdtab_help_cmd},
    {"/quit", "", SMTP_COMPLETE_ARG_NONE, W | L,
        "Sends QUIT when connected and leaves",
        "Sends QUIT (unless sent already) and leaves once it is answered.",
        NULL, cmdtab_quit},
    {"/sleep", "SECONDS", SMTP_COMPLETE_ARG_NUMBER, L,
        "Waits (greylisting retries, tarpit tests)",
        "Waits SECONDS (0 to 3600, fractions allowed) before the next line.",
        "/sleep is for scripts; in the workbench just wait", cmdtab_sleep},
    {"/mx", "DOMAIN[:PORT]", SMTP_COMPLETE_ARG_HOST, W,
        "Looks up a domain's MX hosts",
        "Looks up DOMAIN's MX hosts and connects to the first; /next goes\n"
        "on to the next candidate.",
        "/mx is for the workbench; in line mode use ehlo run --mx DOMAIN",
        wb_mx_cmd},
    {"/next", "", SMTP_COMPLETE_ARG_NONE, W,
        "Connects to the next MX candidate (after /mx)",
        "Connects to the next MX candidate of the last /mx.", NULL,
        wb_next_cmd},
    {"/probe", "NAME [SERVER]", SMTP_COMPLETE_ARG_PROBE, W,
        "Runs one diagnostic probe (never delivers mail)",
        "Runs a diagnostic probe (starttls-required, auth-before-tls,\n"
        "relay, vrfy-expn, pipelining, size) against this server or\n"
        "SERVER; it never delivers mail.  Its dialogue and verdict stream\n"
        "into the dialogue beside the session; Ctrl-C cancels it.",
        "/probe is for the workbench; ehlo probe NAME SERVER runs one",
        wb_probe_cmd},
    /* issue 22 */
    {"/raw", "TEXT", SMTP_COMPLETE_ARG_TEXT, W | L,
        "Sends the bytes of TEXT exactly (C escapes)",
        "Sends exactly the bytes of TEXT, decoded from C escapes (\\r \\n\n"
        "\\t \\\\ \\xHH; blanks at either end are dropped, write \\x20):\n"
        "no CRLF is appended, nothing is checked or dot-stuffed.  Shown as\n"
        "C: [raw] ... escaped.  It also runs after 354 and in a BDAT chunk,\n"
        "where other lines are content: /raw \\r\\n.\\r\\n ends the message,\n"
        "/raw \\n.\\n tries a bare-LF end of data (SMTP smuggling).  ehlo\n"
        "keeps track as well as it can and says when it cannot know where\n"
        "the server is.",
        NULL, cmdtab_raw},
    {"/clear", "", SMTP_COMPLETE_ARG_NONE, W, "Clears the dialogue pane",
        "Clears the dialogue pane (the history keeps the session).", NULL,
        wb_clear_cmd},
    /* issue 18 item 6 */
    {"/hexdump", "[on|off]", SMTP_COMPLETE_ARG_NONE, W,
        "Shows every byte sent and received in hex",
        "on: from now on every byte sent (C>) and received (S<) joins the\n"
        "dialogue as hex lines: offset, 16 octets, a printable column ('.'\n"
        "for anything else); TLS as the decrypted plaintext, marked, the\n"
        "handshake as one note; an AUTH line in its redacted form.  off\n"
        "stops it; no argument switches.",
        "/hexdump is for the workbench; ehlo run --hexdump shows the bytes "
        "in line mode",
        wb_hexdump_cmd},
    {NULL, NULL, SMTP_COMPLETE_ARG_NONE, 0, NULL, NULL, NULL, NULL},
};

#undef W
#undef L

const struct cmd_entry *
cmdtab_find(const char *name, size_t len)
{
	const struct cmd_entry *e;

	for (e = cmdtab; e->name != NULL; e++)
		if (strlen(e->name) == len &&
		    strncasecmp(e->name, name, len) == 0)
			return e;
	return NULL;
}

/* The next entry after e that runs in mode (the terminator if none). */
static const struct cmd_entry *
cmdtab_next(const struct cmd_entry *e, unsigned mode)
{
	for (e++; e->name != NULL && !(e->modes & mode); e++)
		;
	return e;
}

/* "/a, /b and /c": the names of mode's commands. */
static char *
cmdtab_names(unsigned mode)
{
	const struct cmd_entry *e;
	struct buf b;
	char *s;

	buf_init(&b, 0);
	for (e = cmdtab; e->name != NULL; e++) {
		if (!(e->modes & mode))
			continue;
		if (buf_used(&b) > 0)
			(void)buf_add_str(&b,
			    cmdtab_next(e, mode)->name == NULL ? " and "
			                                       : ", ");
		(void)buf_add_str(&b, e->name);
	}
	(void)buf_add(&b, "", 1);
	s = xstrdup(buf_peek(&b));
	buf_reset(&b);
	return s;
}

char *
cmdtab_elsewhere(const struct cmd_entry *e, unsigned mode)
{
	char *names, *s;

	if (e->elsewhere != NULL)
		return xstrdup(e->elsewhere);
	names = cmdtab_names(mode);
	s = mode == CMD_MODE_LINE
	    ? xasprintf(
	          "%s is for the workbench; scripts know %s", e->name, names)
	    : xasprintf("%s is for scripts (ehlo run); the workbench knows %s",
	          e->name, names);
	free(names);
	return s;
}

int
cmdtab_run(struct cmd_ctx *c, const char *typed)
{
	const struct cmd_entry *e;
	char *line, *arg, *why, *shown, *names;
	size_t n, name_len;
	int rc;

	typed += strspn(typed, " \t");
	line = xstrdup(typed);
	/* Trailing blanks are never part of an argument (completion adds
	 * one after a file name). */
	n = strlen(line);
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	name_len = strcspn(line, " \t");
	arg = line + name_len;
	arg += strspn(arg, " \t");
	e = cmdtab_find(line, name_len);
	if (e == NULL) {
		shown = escape_dup(line, name_len < 40 ? name_len : 40);
		names = cmdtab_names(c->mode);
		rc = cmdtab_error(c, "unknown command \"%s\"; %s knows %s",
		    shown,
		    c->mode == CMD_MODE_LINE ? "line mode" : "the workbench",
		    names);
		free(names);
		free(shown);
	} else if (!(e->modes & c->mode)) {
		why = cmdtab_elsewhere(e, c->mode);
		rc = cmdtab_error(c, "%s", why);
		free(why);
	} else
		rc = e->run(c, arg);
	free(line);
	return rc;
}

const struct smtp_complete_slash *
cmdtab_complete(unsigned mode, size_t *n)
{
	/* One array per mode bit, filled on first use. */
	static struct smtp_complete_slash
	    lists[2][sizeof cmdtab / sizeof cmdtab[0]];
	static size_t counts[2];
	static int built[2];
	const struct cmd_entry *e;
	int k = mode == CMD_MODE_LINE;

	if (!built[k]) {
		for (e = cmdtab; e->name != NULL; e++) {
			if (!(e->modes & mode))
				continue;
			lists[k][counts[k]].name = e->name;
			lists[k][counts[k]].arg = e->arg;
			lists[k][counts[k]].has_args = e->synopsis[0] != '\0';
			counts[k]++;
		}
		built[k] = 1;
	}
	*n = counts[k];
	return lists[k];
}

char *
cmdtab_help(unsigned mode, const char *name)
{
	const struct cmd_entry *e;
	struct buf b;
	char *s, *use;

	buf_init(&b, 0);
	if (name != NULL) {
		/* "/help send" and "/help /send" alike. */
		use = *name == '/' ? xstrdup(name) : xasprintf("/%s", name);
		e = cmdtab_find(use, strlen(use));
		free(use);
		if (e == NULL) {
			buf_reset(&b);
			return NULL;
		}
		(void)buf_add_printf(&b, "%s%s%s\n\n%s\n", e->name,
		    e->synopsis[0] != '\0' ? " " : "", e->synopsis,
		    e->long_help);
		if (!(e->modes & mode)) {
			s = cmdtab_elsewhere(e, mode);
			(void)buf_add_printf(&b, "\n(%s.)\n", s);
			free(s);
		}
	} else
		for (e = cmdtab; e->name != NULL; e++) {
			if (!(e->modes & mode))
				continue;
			s = xasprintf("%s%s%s", e->name,
			    e->synopsis[0] != '\0' ? " " : "", e->synopsis);
			(void)buf_add_printf(&b, "  %-20s %s%s\n", s,
			    strlen(s) > 20 ? "\n                       " : "",
			    e->help);
			free(s);
		}
	(void)buf_add(&b, "", 1);
	s = xstrdup(buf_peek(&b));
	buf_reset(&b);
	return s;
}

char *
cmdtab_summary(unsigned mode, size_t width)
{
	const struct cmd_entry *e;
	struct buf b;
	size_t col = 0, len;
	char *s;

	buf_init(&b, 0);
	for (e = cmdtab; e->name != NULL; e++) {
		if (!(e->modes & mode))
			continue;
		s = xasprintf("%s%s%s%c", e->name,
		    e->synopsis[0] != '\0' ? " " : "", e->synopsis,
		    cmdtab_next(e, mode)->name == NULL ? '.' : ',');
		len = strlen(s);
		if (col > 0 && col + 1 + len > width) {
			(void)buf_add_str(&b, "\n");
			col = 0;
		} else if (col > 0) {
			(void)buf_add_str(&b, " ");
			col++;
		}
		(void)buf_add_str(&b, s);
		col += len;
		free(s);
	}
	(void)buf_add(&b, "", 1);
	s = xstrdup(buf_peek(&b));
	buf_reset(&b);
	return s;
}

void
cmdtab_script_help(FILE *f)
{
	char *list = cmdtab_summary(CMD_MODE_LINE, 78);

	(void)fprintf(f,
	    "Script lines: SMTP commands as typed; after 354, message "
	    "content until \".\";\n"
	    "%s\n"
	    "Exit: 0 positive replies, 1 ended on a 5xx, 75 ended on a 4xx, "
	    "2 bad usage,\n"
	    "3 network, TLS or timeout failure.\n",
	    list);
	free(list);
}

/* /help [COMMAND]: the list (the workbench adds its keys), or one. */
static int
cmdtab_help_cmd(struct cmd_ctx *c, const char *arg)
{
	char *text, *title;

	if (*arg != '\0') {
		if ((text = cmdtab_help(c->mode, arg)) == NULL) {
			title = escape_dup(arg, strlen(arg));
			(void)cmdtab_error(
			    c, "no command \"%.40s\": /help lists them", title);
			free(title);
			return -1;
		}
		title = xasprintf(
		    "help: %s", cmdtab_find(text, strcspn(text, " \n"))->name);
		c->ops->show(c->fe, title, text);
		free(title);
		free(text);
		return 0;
	}
	c->ops->show(c->fe, "help", NULL);
	return 0;
}
