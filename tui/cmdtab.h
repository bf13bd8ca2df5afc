/*
 * The `/` command language, declared once (DESIGN.md section 3): every
 * command's name, synopsis, argument kind (for completion), the modes it
 * runs in, its help, what it says where it does not run, and its
 * handler.  The workbench and line mode look commands up here and
 * nothing else; completion, the F1 help, /help and the script summary
 * of `ehlo run --help` are generated from the same table.
 *
 * A handler gets a struct cmd_ctx: the mode, the connection, the /auth
 * and /body state, the options, and the front end as a small vtable
 * (struct cmd_ops) plus an opaque pointer.  A command valid in both
 * modes is written once against the vtable; a workbench-only command
 * reads the front end (struct wb) through ctx->fe.
 *
 * To add a command: one entry in tui/cmdtab.c's table and its handler.
 */
#ifndef EHLO_TUI_CMDTAB_H
#define EHLO_TUI_CMDTAB_H

#include <stddef.h>
#include <stdio.h>

#include "protocol/complete.h"

struct cli_opts;
struct lang;
struct smtp_client;
struct smtp_session;
struct smtp_stage;

/* Where a command runs (bits of struct cmd_entry's modes). */
#define CMD_MODE_WORKBENCH 0x1u /* the full-screen workbench */
#define CMD_MODE_LINE 0x2u /* line mode: `ehlo run`, scripts */

struct cmd_ctx;

/*
 * What a front end does for the commands.  fe is cmd_ctx.fe.  Text is
 * trusted (the handler escapes what came from the server or the user
 * where it matters).  note and error are required; an operation a mode
 * never needs (sleep in the workbench) may be NULL, and the table then
 * keeps the commands that need it out of that mode.
 */
struct cmd_ops {
	/* Something to know: a note in the dialogue ("*:"). */
	void (*note)(void *fe, const char *text);
	/* The command could not run (bad usage, refused, failed): an error
	 * note; line mode also ends the script with exit status 2. */
	void (*error)(void *fe, const char *text);
	/* A page of text (/help NAME): a popup, or notes.  text NULL: the
	 * front end's whole help (/help), made with cmdtab_help(). */
	void (*show)(void *fe, const char *title, const char *text);
	/* /auth MECH USER: get the secret as the front end does, start. */
	void (*auth)(void *fe, const char *mech, const char *user);
	/* STARTTLS was sent: EHLO again once TLS is up (RFC 3207 4.2). */
	void (*starttls_sent)(void *fe);
	/* XCLIENT was sent: EHLO again when its 220 (a new greeting) came;
	 * nothing when it was refused (Postfix XCLIENT_README). */
	void (*xclient_sent)(void *fe);
	/* /expect matched the last reply (it no longer counts as failed);
	 * text says so ("250 2.0.0 as expected"). */
	void (*expect_met)(void *fe, const char *text);
	/* /expect did not match: text says what came instead. */
	void (*expect_failed)(void *fe, const char *text);
	/* /explain: query is the user's (NULL: last, the last reply). */
	void (*explain)(
	    void *fe, const char *query, const struct smtp_stage *last);
	/* /quit: QUIT has been sent if it could be; leave when answered. */
	void (*quit)(void *fe);
	/* /sleep: run nothing more for ms milliseconds. */
	void (*sleep)(void *fe, unsigned long ms);
};

struct cmd_ctx {
	unsigned mode; /* CMD_MODE_WORKBENCH or CMD_MODE_LINE */
	struct smtp_client *client; /* the connection (not owned) */
	struct smtp_session *session; /* its session (not owned) */
	struct lang *lang; /* /auth and /body across replies */
	const struct cli_opts *o; /* the command line's options */
	const struct cmd_ops *ops;
	void *fe; /* the front end: struct wb * in the workbench */
};

/*
 * A handler: arg is the text after the name, blanks trimmed at both
 * ends ("" when none).  It reports through ctx->ops; returns -1 when
 * it reported an error, else 0 (front ends may ignore it: the report
 * is what counts).
 */
typedef int cmd_handler(struct cmd_ctx *, const char *arg);

struct cmd_entry {
	const char *name; /* "/starttls" */
	const char *synopsis; /* "MECH [USER]", "" for none */
	enum smtp_complete_arg arg; /* what the first argument is */
	unsigned modes; /* CMD_MODE_* bits where it runs */
	const char *help; /* one line */
	const char *long_help; /* /help NAME: lines without a final newline */
	const char *elsewhere; /* said in the other mode; NULL: generic */
	cmd_handler *run;
};

/* The table, terminated by an entry with name == NULL. */
extern const struct cmd_entry cmdtab[];

/* The entry named name[0..len) (any case, with the '/'), or NULL. */
const struct cmd_entry *cmdtab_find(const char *name, size_t len);

/*
 * Runs one `/` line as typed (leading blanks allowed, trailing ones
 * ignored): the command's handler when it runs in ctx->mode; else the
 * entry's own message ("/sleep is for scripts...") or, for a name the
 * table does not know, one that lists the commands of this mode, both
 * through ctx->ops->error.  Returns the handler's result, or -1.
 */
int cmdtab_run(struct cmd_ctx *, const char *line);

/* Why name cannot run in mode (the entry's message or a generic one).
 * Allocated. */
char *cmdtab_elsewhere(const struct cmd_entry *, unsigned mode);

/*
 * The commands that run in mode, for smtp_complete_ctx.slash: a static
 * array (built once per mode) of *n entries in table order.
 */
const struct smtp_complete_slash *cmdtab_complete(unsigned mode, size_t *n);

/*
 * Help generated from the table, allocated: cmdtab_help() the list of
 * mode's commands, one line each ("  /auth MECH [USER]  ..."), or, when
 * name is not NULL, that command's synopsis and long help (NULL for a
 * name the table does not know).  cmdtab_summary() the commands of mode
 * as "/starttls, /auth MECH [USER], ..." wrapped at width columns.
 */
char *cmdtab_help(unsigned mode, const char *name);
char *cmdtab_summary(unsigned mode, size_t width);
/* The "Script lines:" paragraph of ehlo --help and ehlo run --help: what
 * a script line may be, the commands of line mode, the exit statuses. */
void cmdtab_script_help(FILE *);

/* Helpers for handlers (tui/cmdtab_lang.c): a formatted note or error
 * through ctx->ops.  cmdtab_error returns -1. */
void cmdtab_note(struct cmd_ctx *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cmdtab_error(struct cmd_ctx *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Shared handlers (tui/cmdtab_lang.c): the commands of both modes. */
cmd_handler cmdtab_starttls, cmdtab_xclient, cmdtab_auth, cmdtab_body,
    cmdtab_expect, cmdtab_pipeline, cmdtab_end, cmdtab_explain, cmdtab_quit,
    cmdtab_sleep;

/* /raw (tui/cmdtab_raw.c, issue 22): the handler; TEXT decoded from C
 * escapes (\r \n \t \\ \xHH) into *n bytes, allocated, or NULL with
 * *errstr naming the bad escape; 1 when a line typed as message content
 * is a /raw command all the same (/raw runs after 354 and in a chunk). */
cmd_handler cmdtab_raw;
char *cmdtab_raw_decode(const char *text, size_t *n, char **errstr);
int cmdtab_is_raw_line(const char *line);

/* Workbench handlers (tui/wb_*.c); ctx->fe is the struct wb. */
cmd_handler wb_connect_cmd, wb_hexdump_cmd, wb_tls_cmd, wb_theme_cmd,
    wb_find_cmd, wb_clear_cmd, wb_save_cmd, wb_inbox_cmd, wb_lesson_cmd,
    wb_hint_cmd, wb_history_cmd, wb_open_cmd, wb_close_cmd, wb_play_cmd,
    wb_step_cmd, wb_draft_cmd, wb_drafts_cmd, wb_send_cmd, wb_replay_cmd,
    wb_probe_cmd, wb_mx_cmd, wb_next_cmd;

/*
 * The text of /explain in line mode (lines of at most width columns,
 * each ended by '\n'): query explained, or with query NULL the last
 * reply st of session s, its one-line meaning and this session's cause
 * (protocol/why.h) first.  Allocated; NULL when nothing explains query.
 */
char *cmdtab_explain_text(const struct smtp_session *s, const char *query,
    const struct smtp_stage *st, int width);

#endif
