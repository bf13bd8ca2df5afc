/*
 * The workbench's private header: the model every room of the workbench
 * shares, and what each room offers the others.  struct wb is made of one
 * part per concern; a room changes its own part and asks the other rooms
 * (through the functions below) for the rest.
 *
 * Rooms: wb_main.c (the loop, start and end), wb_dialogue.c (the dialogue
 * lines and notes), wb_popup.c (popups: help, explanations, TLS),
 * wb_input.c (keys, focus, the input line), wb_keys.c (the function
 * keys and F1's help), wb_complete.c (Tab completion), wb_lang.c (the
 * workbench's side of the `/` commands of tui/cmdtab.c), wb_cmds.c
 * (small workbench-only commands), wb_conn.c (the connection, its events, /auth, /body, MX routing), wb_send.c (drafts and sending
 * them), wb_viewer.c (the history browser and saved-session playback),
 * wb_tools.c (lessons, the practice inbox, /replay and /probe), wb_run.c
 * (replays and probes running in-process, through struct wb_runner).
 * Drawing is tui/wbdraw.c; the draft model is tui/wbdraft.c.
 *
 * Only the workbench's own files include this header.
 */
#ifndef EHLO_TUI_WB_H
#define EHLO_TUI_WB_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/hexdump.h"
#include "themes/theme.h"
#include "tui/histcmd.h"
#include "tui/lang.h"
#include "tui/wbdraw.h"

struct cli_opts;
struct cmd_ctx;
struct hist;
struct host;
struct lesson;
struct loop;
struct practice;
struct record;
struct smtp_client;
struct smtp_complete_slash;
struct smtp_event;
struct smtp_message_build;
struct smtp_mx_candidate;
struct smtp_mx_list;
struct smtp_session;
struct smtp_stage;
struct wdraft;
struct wb;
struct wb_run;

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
	unsigned speed; /* index into playback_speeds */
	uint64_t timer;
	char status[192]; /* the status line's words (viewer_status) */
};

/* A draft on its way (tui/wb_send.c). */
struct wb_tx;

/* The dialogue: the live one, and a saved session being viewed. */
struct wb_dialogue {
	struct dlg live, saved;
	struct dlg *dlg; /* what the pane shows */
	size_t sel; /* selected line (FOCUS_DIALOGUE) */
	int show_time;
};

/* A popup's text is made for a width (an explanation is laid out for
 * it) and wrapped once to it; again when the width changes. */
struct wb_popup {
	char *title;
	char *(*make)(struct wb *, const char *arg, size_t width);
	char *arg; /* make's argument, or the text itself (make NULL) */
	size_t width; /* the width lines were made for */
	char **lines;
	size_t n, top;
	enum focus focus_before;
};

/* Tab completion: the list shown under the dialogue, and what it offers
 * beyond the protocol (addresses seen, draft numbers). */
struct wb_complete {
	char **matches;
	size_t nmatches;
	char *line; /* the input line the matches were made for */
	char **addresses; /* seen in this session, for completion */
	size_t naddresses;
	char **accounts; /* AUTH users of the practice server (its HELP) */
	size_t naccounts;
	size_t scan_events; /* events read of one session */
	char **draft_ids; /* "12", ... */
	size_t ndraft_ids;
	/* the / commands of the workbench (tui/cmdtab.c), with their
	 * argument kinds */
	const struct smtp_complete_slash *slash;
	size_t nslash;
};

/* Focus, selection, and the input line's own states. */
struct wb_input {
	enum focus focus;
	size_t stage_sel;
	int stage_follow;
	char *confirm_line; /* a rule-breaking line shown once, sent on Enter */
	int restore_line; /* put confirm_line back after readline clears */
	int asking_secret;
	char *secret_user, *secret_mech; /* asking for a secret */
};

/* The connection and what spans its replies.  The session host
 * (tui/host.h) owns the client and its record; client, session and rec
 * are its current ones, set when it attaches a new session. */
struct wb_conn {
	struct practice *practice;
	char *practice_dir; /* its data directory (inbox, certificate) */
	/* the lesson whose server rules it runs with (NULL: none), and
	 * whether the current session is on it */
	const struct lesson *practice_lesson;
	int on_practice;
	struct host *host;
	struct smtp_client *client;
	struct smtp_session *session;
	struct record *rec; /* the current session's recorder */
	struct lang lang; /* /auth and /body across replies */
	char *server_label;
	char *server_addr; /* "host:port" of the current connection */
	char *tls_name; /* name to verify instead of the host (MX) */
	const char *helo; /* the host's */
	char *auth_user; /* the user of the last /auth */
	uint64_t t_start;
	int ehlo_after_tls;
	/* XCLIENT (issue 18): EHLO after its 220; --xclient's went out */
	int ehlo_after_xclient;
	int xclient_sent;
	/* MX routing: the candidates of the last /mx, and the one in use */
	struct smtp_mx_list *mx;
	struct smtp_mx_candidate *mxc;
	size_t nmxc, mx_next;
	char *mx_port;
	/* /connect on a live session: QUIT first, then connect to next
	 * (NULL: the practice server) once the old session has closed. */
	int leaving;
	char *next;
	uint64_t leave_timer; /* closes it when QUIT is not answered */
	/* /hexdump on (issue 18 item 6): the wire's bytes go into the
	 * dialogue as hex lines (dir 'x'), with this connection's offsets */
	int hexdump;
	struct hexdump hd;
};

/* Drafts: the one being edited, and the one being sent. */
struct wb_send {
	struct wdraft *draft; /* the draft being edited, or NULL */
	int draft_body; /* input lines go to the draft's body */
	struct wb_tx *tx; /* a draft being sent, or NULL */
};

/*
 * /replay and /probe run in-process (tui/wb_run.c).  The workbench
 * reaches them through this table, set at its start, and not by name:
 * a run is line mode, which dispatches through the command table, whose
 * handlers are the workbench's; linked by name, the files would call
 * each other in a circle.
 */
struct wb_runner {
	/* /replay ID [SERVER], /probe NAME [SERVER]: start one (one at a
	 * time), or say why not. */
	void (*replay)(struct wb *, const char *arg);
	void (*probe)(struct wb *, const char *arg);
	/* Once per loop turn: drives the run, frees it once over. */
	void (*step)(struct wb *);
	/* Ctrl-C: cancels a run (returns 1), else 0. */
	int (*cancel)(struct wb *);
	/* The workbench's end: a run still going is cancelled and freed. */
	void (*stop)(struct wb *);
};
extern const struct wb_runner wb_runner;

/* Lessons, and a /replay or /probe running in-process beside the
 * session: one at a time. */
struct wb_tools {
	const struct lesson *lesson; /* shown beside the stages, or NULL */
	size_t lesson_saved; /* goals met as last saved in the history */
	char **lesson_lines;
	size_t nlesson_lines;
	const struct wb_runner *runner; /* NULL: no runs (tests) */
	struct wb_run *run; /* a replay or probe running, or NULL */
};

struct wb {
	struct cli_opts *o;
	struct loop *loop;
	struct hist *hist; /* NULL: no history (--no-history, or failed) */
	struct wb_screen scr;
	struct wb_dialogue dia;
	struct wb_popup pop;
	struct wb_complete cmp;
	struct wb_input in;
	struct wb_conn conn;
	struct wb_send snd;
	struct wb_tools tool;
	struct viewer *viewer; /* a saved session on screen, or NULL */
	int dirty;
	int quitting;
	int done;
	int exit_status;
};

/* ---- wb_dialogue.c: the dialogue model ---------------------------- */

/* Frees n strings of *v and *v itself; leaves *v NULL and *n 0. */
void wb_strv_free(char ***v, size_t *n);

/* Appends a line (escaped on the way in) to a dialogue buffer. */
void wb_dlg_push(struct dlg *, uint64_t t_us, char dir, enum theme_role,
    const char *p, size_t n);
/* Empties a dialogue buffer. */
void wb_dlg_clear(struct dlg *);
/* The line i of what the pane shows. */
struct dline *wb_dlg_line(struct wb *, size_t i);
/* Adds a line of the live session. */
void wb_dlg_add(struct wb *, uint64_t t_us, char dir, enum theme_role,
    const char *p, size_t n);
/* Adds the line of a session event (sent, received, note, warning,
 * failure) to the live dialogue at t_us; returns 0 for other events. */
int wb_dlg_event(struct wb *, uint64_t t_us, const struct smtp_event *);
/* Adds a workbench note ('*') to the live session. */
void wb_note(struct wb *, enum theme_role, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The colour role of a server line, by its reply class. */
enum theme_role wb_role_of_server_line(const char *p, size_t n);

/* ---- wb_popup.c: popups ------------------------------------------- */

void wb_popup_close(struct wb *);
/* Opens a popup with text split at newlines (trusted or escaped text),
 * wrapped to the popup's width. */
void wb_popup_open(struct wb *, const char *title, const char *text);
/* Makes the popup's lines again when its width on screen has changed
 * (a resize); before each frame. */
void wb_popup_fit(struct wb *);
void wb_popup_explain(struct wb *, const char *query);
void wb_popup_explain_stage(struct wb *, size_t idx);
/* F7, "why?": the stage view of the last 4xx/5xx, this session's cause
 * first (protocol/why.h). */
void wb_popup_why(struct wb *);
void wb_popup_explain_line(struct wb *, size_t i);
void wb_popup_tls(struct wb *);

/* ---- wb_complete.c: Tab completion -------------------------------- */

void wb_matches_clear(struct wb *);
char **wb_on_complete(const char *line, int start, int end, void *arg);
void wb_on_show_matches(char **matches, int n, void *arg);
/* Remembers the <address> of a typed line for completion. */
void wb_remember_address(struct wb *, const char *line);
/* The addresses and AUTH accounts a server's HELP reply lists (ev is
 * its REPLY event), or those of the built-in practice server, become
 * completion candidates. */
void wb_learn_help_addresses(struct wb *, const struct smtp_event *ev);
void wb_learn_practice_addresses(struct wb *);
/* Draft numbers and the drafts' addresses, for completion. */
void wb_load_draft_completions(struct wb *);
/* Addresses from the envelopes of the last sessions (once, at start). */
void wb_load_history_completions(struct wb *);

/* ---- wb_conn.c: the connection ------------------------------------ */

/* Makes the session host on the workbench's loop, recording into
 * wb->hist; before the first wb_connect.  Returns -1 with *errstr when
 * server (the command line's SERVER, NULL: none) cannot be parsed. */
int wb_conn_start(struct wb *, const char *server, char **errstr);
/* /hexdump on or off: the session's bytes as hex lines in the dialogue
 * from now on, offsets where the connection is (tui/wb_conn.c). */
void wb_conn_hexdump(struct wb *, int on);
/* Ends the current session with its real outcome and frees the host
 * and the practice server (the workbench's end). */
void wb_conn_end(struct wb *);
/* A signal (SIGTERM, SIGHUP, SIGINT) ends the workbench: a live session
 * is closed and recorded as aborted; one already over keeps its
 * outcome. */
void wb_conn_abort(struct wb *, int signo);
/* The user cuts a live session the workbench cannot QUIT (in a BDAT
 * chunk, a message, a SASL exchange): the connection is closed, why is
 * noted and recorded, and the session counts as aborted by the user. */
void wb_conn_cut(struct wb *, const char *why);
/* Before /quit: a session that cannot take QUIT now (a chunk, a
 * message, a SASL exchange) is cut (wb_conn_cut), so that QUIT does not
 * become content. */
void wb_conn_before_quit(struct wb *);

/* /auth MECH USER: the secret from EHLO_PASSWORD, else asked for on
 * the input line, masked. */
void wb_auth_ask(struct wb *, const char *mech, const char *user);
/* The masked secret line ended (line NULL: cancelled). */
void wb_secret_entered(struct wb *, char *line);
/* Ends the current session (QUIT, its reply awaited briefly) and
 * connects to server (NULL: the practice server, started on first use). */
void wb_connect(struct wb *, const char *server);
/* Once per loop turn: the send queue, EHLO after TLS, quitting. */
void wb_auto_actions(struct wb *);
/* /mx DOMAIN[:PORT], --mx: looks the MX hosts up, connects to the
 * first candidate. */
void wb_mx_lookup(struct wb *, const char *arg);
/* Connects to the next MX candidate (RFC 5321 5.1 order). */
void wb_mx_next(struct wb *);
void wb_mx_free(struct wb *);

/* ---- wb_send.c: drafts and sending them --------------------------- */

/* Sends a line on the connection; a failure becomes an error note. */
void wb_send_or_note(struct wb *, const char *line);
/*
 * Without PIPELINING: sends a draft's next envelope line once the
 * previous one is answered (none after a refused MAIL).  Called every
 * turn; a no-op when no draft is on its way.
 */
void wb_queue_pump(struct wb *);
/* Forgets a draft being sent.  No draft on its way: a no-op. */
void wb_send_end(struct wb *);
/* Follows the replies of a draft's transaction. */
void wb_send_on_reply(struct wb *, const struct smtp_stage *, int code);
/* Saves the open draft and refreshes what completion offers. */
void wb_draft_changed(struct wb *);

/* ---- wb_viewer.c: history browser and playback -------------------- */

void wb_viewer_open(struct wb *, const char *arg);
void wb_viewer_close(struct wb *);
/* Playback (tui/playback.h): the next exchange (from the start again at
 * the end), the one before, the next 4xx/5xx (the first again after the
 * last); each pauses timed playback.  With no saved session open, a
 * note says how to open one. */
void wb_viewer_step(struct wb *);
void wb_viewer_back(struct wb *);
void wb_viewer_failure(struct wb *);
/* Timed playback: starts (from the start at the end) or pauses. */
void wb_viewer_play(struct wb *);
/* The next speed of 1x, 2x, 10x; or speed itself (-1: not one of them). */
void wb_viewer_speed(struct wb *);
int wb_viewer_set_speed(struct wb *, unsigned speed);

/* ---- wb_tools.c: lessons, inbox, replay, probe -------------------- */

void wb_lesson_lines_free(struct wb *);
/* Rebuilds the lesson pane: the task, each goal with its state, a hint. */
void wb_lesson_refresh(struct wb *, size_t width);
/* Before each frame: the open lesson's progress, saved in the history
 * (as `ehlo lesson` saves it) when more goals are met than before. */
void wb_lesson_save(struct wb *);

/* ---- wb_keys.c: the function keys and the help page --------------- */

/* 1 when key (a curses KEY_ code) is one of the function keys. */
int wb_key_is_bound(int key);
/* Does what key does and returns 1, or returns 0 when it is not one. */
int wb_key_run(struct wb *, int key);
/* The function keys, a line each, for F1's help (allocated); their
 * words for the status line during playback (static). */
char *wb_keys_help(void);
const char *wb_keys_playback_hint(void);
/* F1 and /help: the keys, then the commands (from the table). */
void wb_help_open(struct wb *);

/* ---- wb_lang.c: the workbench's side of tui/cmdtab.c -------------- */

/* The command context for the workbench (tui/cmdtab.h). */
void wb_cmd_ctx(struct wb *, struct cmd_ctx *);
/* Runs one `/` command line as typed (tui/cmdtab.c decides). */
void wb_do_slash(struct wb *, const char *typed);
/* Ctrl-D, and /quit in a BDAT chunk: /quit, after wb_conn_before_quit. */
void wb_quit(struct wb *);

/* ---- wb_input.c: keys and the input line -------------------------- */

void wb_on_line(char *line, void *arg);

/* Reads every key waiting and handles it. */
void wb_pump_keys(struct wb *);
void wb_on_stdin(int fd, int events, void *arg);
/* The prompt that says what Enter will do. */
void wb_prompt_for_state(struct wb *);
void wb_redraw(void *arg);

#endif
