/*
 * Drawing the workbench: window layout, the dialogue pane (wrapped,
 * scrolled from the tail), the stage pane, the status bar, the input line,
 * popups and the completion list.  It reads a view of the model and never
 * changes it (except the popup scroll position it clamps).
 */
#ifndef EHLO_TUI_WBDRAW_H
#define EHLO_TUI_WBDRAW_H

#include <stddef.h>
#include <stdint.h>

#include <curses.h>

struct smtp_session;

/* Colour roles of the screen; themes map them to colours. */
enum wb_role {
	WB_ROLE_DEFAULT = 0,
	WB_ROLE_CLIENT,
	WB_ROLE_SERVER_2XX,
	WB_ROLE_SERVER_3XX,
	WB_ROLE_SERVER_4XX,
	WB_ROLE_SERVER_5XX,
	WB_ROLE_SERVER_OTHER,
	WB_ROLE_NOTE,
	WB_ROLE_WARNING,
	WB_ROLE_ERROR,
	WB_ROLE_STAGE_PENDING,
	WB_ROLE_STAGE_OK,
	WB_ROLE_STAGE_TEMPFAIL,
	WB_ROLE_STAGE_PERMFAIL,
	WB_ROLE_STAGE_ERROR,
	WB_ROLE_BORDER,
	WB_ROLE_TITLE,
	WB_ROLE_POPUP,
	WB_ROLE_POPUP_BORDER,
	WB_ROLE_SELECTION,
	WB_ROLE_STATUS,
	WB_ROLE_STATUS_ACCENT,
	WB_ROLE_PROMPT,
	WB_ROLE_CONTENT_PROMPT,
	WB_ROLE_MATCHES,
	WB_ROLE_MATCHES_SELECTED,
	WB_ROLE_TIMESTAMP,
	WB_ROLE_INPUT,
	WB_ROLE_COUNT
};

struct wb_dline {
	uint64_t t_us;
	char dir;
	enum wb_role role;
	const char *text; /* escaped */
};

/* What one frame shows. */
struct wb_view {
	const struct smtp_session *session;
	size_t nlines;
	int (*get_line)(void *, size_t, struct wb_dline *);
	void *get_line_arg;
	size_t scroll;
	int show_time;
	size_t stage_sel;
	int stage_focus;
	int stage_follow;
	const char *server;
	const char *tls; /* version, NULL for plain */
	int tls_verified;
	int connected;
	uint64_t elapsed_s;
	const char *user;
	const char *theme;
	long session_id; /* 0: not recorded */
	const char *popup_title;
	const char *const *popup_lines;
	size_t npopup;
	size_t *popup_top;
	const char *const *matches;
	size_t nmatches;
	int confirm;
};

struct wb_screen {
	WINDOW *title, *dlg, *sep, *stage, *status, *input, *popup;
	int rows, cols;
	int dlg_rows, dlg_cols, stage_cols;
	int resized;
	int too_small;
	int mask; /* draw the input masked (secrets) */
	int colors; /* colours in use */
	attr_t attr[WB_ROLE_COUNT];
};

/* Starts curses (after setlocale); theme may be NULL.  -1 on failure. */
int wb_screen_init(struct wb_screen *, const char *theme);
/* Restores the terminal; safe to call twice. */
void wb_screen_end(struct wb_screen *);
/* Draws every pane (relayout first when resized) and updates the
 * terminal once. */
void wb_draw_all(struct wb_screen *, const struct wb_view *);
/* Repaints only the input line (readline's redisplay). */
void wb_draw_input(struct wb_screen *);
void wb_draw_set_mask(struct wb_screen *, int);
/* Applies colours for the roles (from a theme, or the built-in). */
void wb_screen_set_attrs(struct wb_screen *, const attr_t attrs[WB_ROLE_COUNT]);

/* Display columns of a UTF-8 string (escaped text: no controls). */
int wb_text_cols(const char *);

#endif
