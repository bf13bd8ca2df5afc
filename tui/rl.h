/*
 * GNU readline as a pure line-editing engine inside ncurses: ncurses
 * owns the terminal, keys are translated to bytes and fed to readline's
 * callback interface, and readline's state is painted into the input
 * window.  Readline never writes to the terminal, never changes termios,
 * never handles signals.
 */
#ifndef EHLO_TUI_RL_H
#define EHLO_TUI_RL_H

#include <stddef.h>
#include <curses.h>

/* What the host application provides. */
struct rl_host {
	/* A line was accepted (NULL: Ctrl-D on an empty line). */
	void (*line)(char *line, void *arg);
	/* Completion candidates for text[start..end) of the line. */
	char **(*complete)(const char *line, int start, int end, void *arg);
	/* Several matches: show them (matches[1..n], matches[0] is the
	 * common prefix); the list is only valid during the call. */
	void (*show_matches)(char **matches, int n, void *arg);
	/* Readline's line changed: repaint the input (rl_glue_draw). */
	void (*redisplay)(void *arg);
	void *arg;
};

/* Installs the hooks; call after setlocale and before the first key. */
void rl_glue_init(const struct rl_host *, const char *prompt);
/* Removes the callback handler (before endwin). */
void rl_glue_end(void);
/* Changes the prompt (e.g. in content mode after 354). */
void rl_glue_set_prompt(const char *prompt);

/* Queues the bytes for one key (from wget_wch) and runs readline. */
void rl_glue_feed_key(int is_keycode, unsigned int key);
/* Clears the line and the history position (Ctrl-C). */
void rl_glue_cancel(void);
/*
 * After a secret of len bytes was typed: overwrites readline's line
 * buffer and the key FIFO, and drops the undo list.
 */
void rl_glue_wipe(size_t len);
/* Paints the prompt and the line into win (each character as '*' when
 * mask is set); leaves the cursor there. */
void rl_glue_draw(WINDOW *win, attr_t prompt_attr, attr_t text_attr, int mask);
/* 1 when the input line is empty. */
int rl_glue_line_is_empty(void);
/* Replaces the line being edited (e.g. to keep a rejected line). */
void rl_glue_set_line(const char *);
/* Adds a line to readline's history. */
void rl_glue_history_add(const char *);
/* The append character for a single completion match: 0 for none. */
void rl_glue_set_append(int c);
/* File names starting with word[0..len) as a NULL-terminated list for
 * the complete hook (directories end with '/'). */
char **rl_glue_complete_files(const char *word, int len);
/* The line being edited (valid until the next key). */
const char *rl_glue_line(void);

#endif
