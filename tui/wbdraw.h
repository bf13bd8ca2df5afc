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

#include "themes/theme.h"

struct smtp_stage;

struct wb_dline {
	uint64_t t_us;
	char dir;
	enum theme_role role;
	const char *text; /* escaped */
};

/* What one frame shows. */
struct wb_view {
	/* The stages to draw: the live session's or a saved one's. */
	size_t nstages;
	const struct smtp_stage *(*stage_at)(void *, size_t);
	void *stage_arg;
	const char *viewing; /* "session #12 (read-only)" or NULL */
	size_t nlines;
	int (*get_line)(void *, size_t, struct wb_dline *);
	void *get_line_arg;
	size_t scroll;
	size_t dlg_sel; /* highlighted line, SIZE_MAX for none */
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
	const char *const *lesson_lines; /* lesson pane above the stages */
	size_t nlesson_lines;
	const char *const *matches;
	size_t nmatches;
	int confirm;
	int why; /* the last reply was 4xx/5xx: the status line offers F7 */
	const char *keys; /* the keys the status line offers instead, or
	                   * NULL (playback) */
};

struct wb_screen {
	WINDOW *title, *dlg, *sep, *stage, *status, *input, *popup;
	int rows, cols;
	int dlg_rows, dlg_cols, stage_cols;
	int resized;
	int too_small;
	int mask; /* draw the input masked (secrets) */
	int ncolours; /* colours in use: 0 (monochrome), 8, 16 or 256 */
	struct theme *theme;
	attr_t attr[THEME_ROLE_COUNT];
};

/*
 * Starts curses (after setlocale) with a theme (NULL: the default).  A
 * theme that cannot be loaded falls back to the default; *warning then
 * says why (allocated).  Returns -1 when the terminal cannot be used.
 */
int wb_screen_init(struct wb_screen *, const char *theme, char **warning);
/* Switches the theme live.  Returns -1 with *errstr (theme unchanged). */
int wb_screen_set_theme(struct wb_screen *, const char *name, char **errstr);
/* Restores the terminal; safe to call twice. */
void wb_screen_end(struct wb_screen *);
/* Draws every pane (relayout first when resized) and updates the
 * terminal once. */
void wb_draw_all(struct wb_screen *, const struct wb_view *);
/* Repaints only the input line (readline's redisplay). */
void wb_draw_input(struct wb_screen *);
void wb_draw_set_mask(struct wb_screen *, int);

/* Display columns of a UTF-8 string (escaped text: no controls). */
int wb_text_cols(const char *);

/* The width of a popup's text on a terminal screen_cols wide. */
int wb_popup_text_cols(int screen_cols);

/*
 * Wraps text (escaped; lines end at newlines) to width columns, at spaces
 * where it can: rows after the first of a line hang under it (at its own
 * indent, or under a description after a two-space gap, as in "  F2
 * select a stage").  Returns *n allocated rows the caller frees.
 */
char **wb_text_wrap(const char *text, int width, size_t *n);

#endif
