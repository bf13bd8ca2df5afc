/*
 * Readline glue (docs/ARCHITECTURE.md, "readline inside ncurses"): hooks
 * set before readline initialises, no terminal preparation, no signal
 * handling, output to /dev/null, keys fed through a byte FIFO, the line
 * painted by us with correct widths for UTF-8 and control characters,
 * completion lists handed to the application to draw.
 */
#include "tui/rl.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "core/xmalloc.h"

#define FIFO_SIZE 4096

static struct rl_host host;
static unsigned char fifo[FIFO_SIZE];
static size_t fifo_head, fifo_len;
static char *prompt_text;
static int hscroll;
static FILE *devnull;
static char **pending_matches; /* from host->complete, for the generator */
static size_t pending_next;

static void
fifo_push(const char *p, size_t n)
{
	while (n-- > 0 && fifo_len < FIFO_SIZE) {
		fifo[(fifo_head + fifo_len) % FIFO_SIZE] = (unsigned char)*p++;
		fifo_len++;
	}
}

static int
getc_cb(FILE *f)
{
	unsigned char c;
	wint_t wch;
	int rc;

	(void)f;
	while (fifo_len == 0) {
		/* Not callback-aware readline code wants a byte: block. */
		rc = get_wch(&wch);
		if (rc == ERR)
			return EOF;
		rl_glue_feed_key(rc == KEY_CODE_YES, (unsigned)wch);
		if (fifo_len == 0)
			continue;
	}
	c = fifo[fifo_head];
	fifo[fifo_head] = 0; /* a secret typed here does not linger */
	fifo_head = (fifo_head + 1) % FIFO_SIZE;
	fifo_len--;
	return c;
}

static int
avail_cb(void)
{
	return fifo_len > 0;
}

static void
redisplay_cb(void)
{
	if (host.redisplay != NULL)
		host.redisplay(host.arg);
}

static void
line_cb(char *line)
{
	host.line(line, host.arg);
}

static char *
gen_cb(const char *text, int state)
{
	(void)text;
	if (state == 0)
		pending_next = 0;
	if (pending_matches == NULL || pending_matches[pending_next] == NULL)
		return NULL;
	return xstrdup(pending_matches[pending_next++]);
}

static char **
complete_cb(const char *text, int start, int end)
{
	char **m;
	size_t i;

	rl_attempted_completion_over = 1;
	rl_completion_suppress_append = 1;
	pending_matches = host.complete(rl_line_buffer, start, end, host.arg);
	if (pending_matches == NULL)
		return NULL;
	m = rl_completion_matches(text, gen_cb);
	for (i = 0; pending_matches[i] != NULL; i++)
		free(pending_matches[i]);
	free(pending_matches);
	pending_matches = NULL;
	return m;
}

static void
display_cb(char **matches, int n, int max)
{
	(void)max;
	host.show_matches(matches, n, host.arg);
	redisplay_cb();
}

char **
rl_glue_complete_files(const char *word, int len)
{
	char *prefix = xstrndup(word, (size_t)(len > 0 ? len : 0)), *m;
	char **out = NULL;
	size_t n = 0;
	int state = 0;

	while (n < 500 &&
	    (m = rl_filename_completion_function(prefix, state++)) != NULL) {
		out = xreallocarray(out, n + 2, sizeof *out);
		out[n++] = m;
	}
	free(prefix);
	if (out == NULL)
		out = xcalloc(1, sizeof *out);
	out[n] = NULL;
	/* A single directory: no space after it, so Tab can go on. */
	rl_glue_set_append(
	    n == 1 && out[0][strlen(out[0]) - 1] != '/' ? ' ' : 0);
	return out;
}

void
rl_glue_set_append(int c)
{
	if (c == 0) {
		rl_completion_suppress_append = 1;
	} else {
		rl_completion_suppress_append = 0;
		rl_completion_append_character = c;
	}
}

void
rl_glue_init(const struct rl_host *h, const char *prompt)
{
	host = *h;
	/* Hooks first: rl_initialize would otherwise set up the terminal. */
	rl_getc_function = getc_cb;
	rl_input_available_hook = avail_cb;
	rl_redisplay_function = redisplay_cb;
	rl_prep_term_function = NULL;
	rl_deprep_term_function = NULL;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	rl_outstream = devnull;
	rl_instream = stdin;
	rl_readline_name = "ehlo";
	(void)rl_initialize();
	(void)rl_variable_bind("show-all-if-ambiguous", "on");
	(void)rl_variable_bind("completion-ignore-case", "on");
	(void)rl_variable_bind("enable-bracketed-paste", "off");
	(void)rl_variable_bind("bell-style", "none");
	(void)rl_bind_keyseq_if_unbound("\033[3~", rl_delete);
	(void)rl_bind_keyseq_if_unbound("\033[1~", rl_beg_of_line);
	(void)rl_bind_keyseq_if_unbound("\033[4~", rl_end_of_line);
	(void)rl_bind_keyseq_if_unbound("\033[H", rl_beg_of_line);
	(void)rl_bind_keyseq_if_unbound("\033[F", rl_end_of_line);
	rl_attempted_completion_function = complete_cb;
	rl_completer_word_break_characters = (char *)" \t<";
	rl_completion_display_matches_hook = display_cb;
	rl_sort_completion_matches = 0;
	using_history();
	stifle_history(1000);
	free(prompt_text);
	prompt_text = xstrdup(prompt);
	rl_callback_handler_install(prompt_text, line_cb);
}

void
rl_glue_end(void)
{
	rl_callback_handler_remove();
	free(prompt_text);
	prompt_text = NULL;
	if (devnull != NULL)
		(void)fclose(devnull);
	devnull = NULL;
	rl_outstream = NULL;
}

void
rl_glue_set_prompt(const char *prompt)
{
	if (prompt_text != NULL && strcmp(prompt_text, prompt) == 0)
		return;
	free(prompt_text);
	prompt_text = xstrdup(prompt);
	rl_set_prompt(prompt_text);
	redisplay_cb();
}

void
rl_glue_cancel(void)
{
	rl_callback_sigcleanup();
	rl_free_line_state();
	rl_callback_handler_remove();
	rl_callback_handler_install(prompt_text, line_cb);
	fifo_len = 0;
	redisplay_cb();
}

void
rl_glue_wipe(size_t len)
{
	/* The buffer held the line: it is at least len + 1 bytes. */
	if (rl_line_buffer != NULL)
		explicit_bzero(rl_line_buffer, len);
	rl_free_undo_list();
	explicit_bzero(fifo, sizeof fifo);
	fifo_len = 0;
}

static void
push_str(const char *s)
{
	fifo_push(s, strlen(s));
}

void
rl_glue_feed_key(int is_keycode, unsigned int key)
{
	char mb[MB_LEN_MAX];
	mbstate_t st;
	size_t n;
	const char *name;
	size_t guard;

	if (is_keycode) {
		switch (key) {
		case KEY_UP:
			push_str("\033[A");
			break;
		case KEY_DOWN:
			push_str("\033[B");
			break;
		case KEY_RIGHT:
			push_str("\033[C");
			break;
		case KEY_LEFT:
			push_str("\033[D");
			break;
		case KEY_HOME:
			push_str("\033[H");
			break;
		case KEY_END:
			push_str("\033[F");
			break;
		case KEY_DC:
			push_str("\033[3~");
			break;
		case KEY_BACKSPACE:
			push_str("\177");
			break;
		case KEY_ENTER:
			push_str("\r");
			break;
		default:
			name = keyname((int)key);
			if (name == NULL)
				break;
			if (strcmp(name, "kLFT5") == 0)
				push_str("\033[1;5D");
			else if (strcmp(name, "kRIT5") == 0)
				push_str("\033[1;5C");
			else if (strcmp(name, "kLFT3") == 0)
				push_str("\033[1;3D");
			else if (strcmp(name, "kRIT3") == 0)
				push_str("\033[1;3C");
			else if (strcmp(name, "kDC5") == 0)
				push_str("\033[3;5~");
			break;
		}
	} else {
		memset(&st, 0, sizeof st);
		n = wcrtomb(mb, (wchar_t)key, &st);
		if (n != (size_t)-1)
			fifo_push(mb, n);
	}
	for (guard = 0; fifo_len > 0 && guard < FIFO_SIZE; guard++) {
		size_t before = fifo_len;

		rl_callback_read_char();
		if (fifo_len == before)
			break;
	}
}

int
rl_glue_line_is_empty(void)
{
	return rl_end == 0;
}

const char *
rl_glue_line(void)
{
	return rl_line_buffer != NULL ? rl_line_buffer : "";
}

void
rl_glue_set_line(const char *s)
{
	rl_replace_line(s, 0);
	rl_point = rl_end;
	redisplay_cb();
}

void
rl_glue_history_add(const char *s)
{
	add_history(s);
}

/* One drawable cell of the line: a character or an escape for a byte. */
struct cell {
	size_t off, len; /* bytes in rl_line_buffer */
	int width;
	wchar_t wc; /* 0: draw esc instead */
	char esc[8];
};

void
rl_glue_draw(WINDOW *win, attr_t prompt_attr, attr_t text_attr, int mask)
{
	const char *pr = rl_display_prompt != NULL ? rl_display_prompt : "";
	const char *buf = rl_line_buffer != NULL ? rl_line_buffer : "";
	int width = getmaxx(win), pw, avail, x, cur = 0, col = 0;
	size_t i = 0, end = (size_t)rl_end;
	mbstate_t st;
	wchar_t wc;
	size_t n;
	struct cell c;
	int cursor_seen = 0;

	werase(win);
	wmove(win, 0, 0);
	wattrset(win, prompt_attr);
	for (; *pr != '\0'; pr++)
		if (*pr != RL_PROMPT_START_IGNORE &&
		    *pr != RL_PROMPT_END_IGNORE && getcurx(win) < width - 8)
			waddnstr(win, pr, 1);
	pw = getcurx(win);
	wattrset(win, text_attr);
	avail = width - pw - 1;
	if (avail < 4)
		avail = 4;

	/* Column of the cursor (rl_point is a byte offset). */
	memset(&st, 0, sizeof st);
	for (i = 0; i < end && i < (size_t)rl_point;) {
		n = mbrtowc(&wc, buf + i, end - i, &st);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof st);
			cur += mask ? 1 : 4;
			i++;
			continue;
		}
		cur += mask ? 1
		    : wc < 0x20 || wc == 0x7f
		    ? 2
		    : (wcwidth(wc) > 0 ? wcwidth(wc) : 1);
		i += n;
	}
	if (cur < hscroll)
		hscroll = cur;
	if (cur >= hscroll + avail)
		hscroll = cur - avail + 1;

	memset(&st, 0, sizeof st);
	for (i = 0, col = 0; i < end;) {
		memset(&c, 0, sizeof c);
		c.off = i;
		n = mbrtowc(&wc, buf + i, end - i, &st);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof st);
			(void)snprintf(c.esc, sizeof c.esc, "\\x%02X",
			    (unsigned char)buf[i]);
			c.width = 4;
			c.len = 1;
		} else if (wc < 0x20 || wc == 0x7f) {
			c.esc[0] = '^';
			c.esc[1] = wc == 0x7f ? '?' : (char)(wc + '@');
			c.width = 2;
			c.len = n;
		} else {
			c.wc = wc;
			c.width = wcwidth(wc) > 0 ? wcwidth(wc) : 1;
			c.len = n;
		}
		if (mask) {
			c.wc = L'*';
			c.width = 1;
		}
		i += c.len;
		if (col < hscroll) {
			col += c.width;
			continue;
		}
		if (col + c.width - hscroll > avail)
			break;
		x = pw + col - hscroll;
		if (c.wc != 0)
			mvwaddnwstr(win, 0, x, &c.wc, 1);
		else {
			wattron(win, A_REVERSE);
			mvwaddstr(win, 0, x, c.esc);
			wattroff(win, A_REVERSE);
		}
		col += c.width;
	}
	if (hscroll > 0) {
		wattrset(win, prompt_attr);
		mvwaddch(win, 0, pw > 0 ? pw - 1 : 0, '<');
	}
	cursor_seen = pw + cur - hscroll;
	if (cursor_seen >= width)
		cursor_seen = width - 1;
	wattrset(win, A_NORMAL);
	wmove(win, 0, cursor_seen);
}
