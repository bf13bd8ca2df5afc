/*
 * The workbench's drawing.  Windows are plain newwin()s that never
 * overlap (title, dialogue, separator, stages, status, input), plus one
 * popup window on top when a popup or the completion list is shown.  On a
 * resize every window is deleted and rebuilt from the model.  Text given
 * here is already escaped (no control characters); widths are computed
 * from UTF-8 with wcwidth.
 */
#include "tui/wbdraw.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <readline/readline.h>

#include "core/xmalloc.h"
#include "protocol/explain.h"
#include "protocol/session.h"
#include "tui/rl.h"

#define MIN_COLS 50
#define MIN_ROWS 10

/* ---- text measuring and clipping ---------------------------------- */

/* Decodes one character; returns its byte length (>= 1) and width. */
static size_t
next_char(const char *s, wchar_t *wc, int *w)
{
	mbstate_t st;
	size_t n;

	memset(&st, 0, sizeof st);
	n = mbrtowc(wc, s, MB_CUR_MAX, &st);
	if (n == 0 || n == (size_t)-1 || n == (size_t)-2) {
		*wc = L'?';
		*w = 1;
		return 1;
	}
	*w = wcwidth(*wc);
	if (*w < 0)
		*w = 1;
	return n;
}

int
wb_text_cols(const char *s)
{
	wchar_t wc;
	int w, cols = 0;

	while (*s != '\0') {
		s += next_char(s, &wc, &w);
		cols += w;
	}
	return cols;
}

/*
 * Draws s at (y, x) using at most maxcols columns; returns the byte
 * offset where it stopped.
 */
static size_t
put_clipped(WINDOW *win, int y, int x, const char *s, int maxcols)
{
	const char *p = s;
	wchar_t wc;
	int w, used = 0;
	size_t n;

	wmove(win, y, x);
	while (*p != '\0') {
		n = next_char(p, &wc, &w);
		if (used + w > maxcols)
			break;
		if (w > 0)
			waddnwstr(win, &wc, 1);
		used += w;
		p += n;
	}
	return (size_t)(p - s);
}

/* Draws s[0..len) at (y, x) using at most maxcols columns. */
static void
put_span(WINDOW *win, int y, int x, const char *s, size_t len, int maxcols)
{
	char *row = xstrndup(s, len);

	(void)put_clipped(win, y, x, row, maxcols);
	free(row);
}

/* The columns from s to the next space or the end. */
static int
word_cols(const char *s)
{
	wchar_t wc;
	int w, cols = 0;

	while (*s != '\0' && *s != ' ') {
		s += next_char(s, &wc, &w);
		cols += w;
	}
	return cols;
}

/*
 * Splits s into rows: the first at most width columns, the others at most
 * width - indent (they are drawn indented, hanging under the first).
 * With words set, a row ends after its last space when it has one
 * (spaces may overhang the edge: they do not show), else inside a word;
 * without, every row is full.  Returns the number of rows and their byte
 * offsets in starts (at most max).
 */
static size_t
wrap_rows(
    const char *s, int width, int indent, int words, size_t *starts, size_t max)
{
	const char *p = s;
	size_t nrows = 0, brk = 0;
	wchar_t wc;
	int w, used = 0, brk_used = 0, avail;

	if (width < 1)
		width = 1;
	if (indent > width / 2)
		indent = width / 2;
	avail = width;
	if (max == 0)
		return 0;
	starts[nrows++] = 0;
	while (*p != '\0') {
		size_t n = next_char(p, &wc, &w);

		if (used + w > avail && used > 0 && (wc != L' ' || !words)) {
			if (nrows == max)
				break;
			avail = width - indent;
			/* A word that fits on a row of its own moves there;
			 * a longer one is cut where the row ends. */
			if (brk != 0 &&
			    used - brk_used + word_cols(p) <= avail) {
				starts[nrows++] = brk;
				used -= brk_used;
			} else {
				starts[nrows++] = (size_t)(p - s);
				used = 0;
			}
			brk = 0;
		}
		used += w;
		p += n;
		if (wc == L' ' && words) {
			brk = (size_t)(p - s);
			brk_used = used;
		}
	}
	return nrows;
}

/* The hanging indent of a popup line: its own indent, or the column of a
 * description after a gap of two spaces ("  F2     select a stage"). */
static int
hang_of(const char *s, int width)
{
	const char *p = s, *gap;
	int lead = (int)strspn(s, " ");

	p += lead;
	if ((gap = strstr(p, "  ")) != NULL) {
		int col;
		char *head = xstrndup(s, (size_t)(gap - s));

		col = wb_text_cols(head) + (int)strspn(gap, " ");
		free(head);
		if (gap[strspn(gap, " ")] != '\0' && col <= width / 2)
			return col;
	}
	return lead;
}

int
wb_popup_text_cols(int screen_cols)
{
	int width = screen_cols - 4 > 84 ? 84 : screen_cols - 4;

	return width - 4 > 1 ? width - 4 : 1;
}

char **
wb_text_wrap(const char *text, int width, size_t *n)
{
	const char *p = text, *nl;
	char **rows = NULL, *line;
	size_t nrows = 0, starts[256], k, r, len;
	int hang;

	for (;;) {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		line = xstrndup(p, len);
		hang = hang_of(line, width);
		k = wrap_rows(line, width, hang, 1, starts, 256);
		rows = xreallocarray(rows, nrows + k, sizeof *rows);
		for (r = 0; r < k; r++) {
			size_t end = r + 1 < k ? starts[r + 1] : len;

			rows[nrows++] = r == 0
			    ? xstrndup(line, end)
			    : xasprintf("%*s%.*s",
			          hang > width / 2 ? width / 2 : hang, "",
			          (int)(end - starts[r]), line + starts[r]);
		}
		free(line);
		if (nl == NULL || nl[1] == '\0')
			break;
		p = nl + 1;
	}
	*n = nrows;
	return rows;
}

/* ---- colours ------------------------------------------------------ */

/* Colour pairs: one per role, numbered role + 1. */
static void
apply_theme(struct wb_screen *scr)
{
	struct theme_style st;
	attr_t a;
	int i;

	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		st = theme_role_resolve(
		    scr->theme, (enum theme_role)i, scr->ncolours);
		a = A_NORMAL;
		if (st.attrs & THEME_ATTR_BOLD)
			a |= A_BOLD;
		if (st.attrs & THEME_ATTR_UNDERLINE)
			a |= A_UNDERLINE;
		if (st.attrs & THEME_ATTR_REVERSE)
			a |= A_REVERSE;
		if (st.attrs & THEME_ATTR_DIM)
			a |= A_DIM;
		if (st.attrs & THEME_ATTR_ITALIC)
			a |= A_ITALIC;
		if (scr->ncolours > 0 && i + 1 < COLOR_PAIRS) {
			(void)init_pair(
			    (short)(i + 1), (short)st.fg, (short)st.bg);
			a |= COLOR_PAIR(i + 1);
		}
		scr->attr[i] = a;
	}
	scr->resized = 1;
}

int
wb_screen_set_theme(struct wb_screen *scr, const char *name, char **errstr)
{
	char *dir = theme_user_dir();
	struct theme *t = theme_load(name, dir, errstr);

	free(dir);
	if (t == NULL)
		return -1;
	theme_free(scr->theme);
	scr->theme = t;
	apply_theme(scr);
	return 0;
}

/* ---- layout ------------------------------------------------------- */

/* What erasing w paints: the role's colours (not its attributes, which
 * would show on every character written). */
static void
set_background(WINDOW *w, const struct wb_screen *scr, enum theme_role role)
{
	if (w != NULL)
		wbkgdset(w, (chtype)' ' | (chtype)(scr->attr[role] & A_COLOR));
}

/* Paints row y of w edge to edge in the colours of a, then leaves a set
 * for the row's text: a theme that paints backgrounds shows no stripes. */
static void
fill_row(WINDOW *w, int y, int width, attr_t a)
{
	wattrset(w, a & A_COLOR);
	mvwhline(w, y, 0, ' ', width);
	wattrset(w, a);
}

static void
del_windows(struct wb_screen *scr)
{
	WINDOW **w[] = {&scr->title, &scr->dlg, &scr->sep, &scr->stage,
	    &scr->status, &scr->input, &scr->popup};
	size_t i;

	for (i = 0; i < sizeof w / sizeof w[0]; i++) {
		if (*w[i] != NULL)
			delwin(*w[i]);
		*w[i] = NULL;
	}
}

static void
layout(struct wb_screen *scr)
{
	del_windows(scr);
	scr->rows = LINES;
	scr->cols = COLS;
	scr->too_small = scr->rows < MIN_ROWS || scr->cols < MIN_COLS;
	/* The input window exists even when too small: keys come from it. */
	scr->input = newwin(1, scr->cols > 0 ? scr->cols : 1,
	    scr->rows > 0 ? scr->rows - 1 : 0, 0);
	keypad(scr->input, TRUE);
	nodelay(scr->input, TRUE);
	set_background(scr->input, scr, THEME_INPUT);
	set_background(stdscr, scr, THEME_DEFAULT);
	rl_set_screen_size(scr->rows, scr->cols);
	if (scr->too_small)
		return;
	scr->stage_cols = scr->cols * 2 / 5;
	if (scr->stage_cols < 30)
		scr->stage_cols = 30;
	if (scr->stage_cols > 72)
		scr->stage_cols = 72;
	scr->dlg_cols = scr->cols - scr->stage_cols - 1;
	scr->dlg_rows = scr->rows - 3;
	scr->title = newwin(1, scr->cols, 0, 0);
	scr->dlg = newwin(scr->dlg_rows, scr->dlg_cols, 1, 0);
	scr->sep = newwin(scr->dlg_rows, 1, 1, scr->dlg_cols);
	scr->stage =
	    newwin(scr->dlg_rows, scr->stage_cols, 1, scr->dlg_cols + 1);
	scr->status = newwin(1, scr->cols, scr->rows - 2, 0);
	set_background(scr->title, scr, THEME_TITLE);
	set_background(scr->dlg, scr, THEME_DEFAULT);
	set_background(scr->sep, scr, THEME_DEFAULT);
	set_background(scr->stage, scr, THEME_DEFAULT);
	set_background(scr->status, scr, THEME_STATUS);
}

int
wb_screen_init(struct wb_screen *scr, const char *theme, char **warning)
{
	char *dir;

	memset(scr, 0, sizeof *scr);
	dir = theme_user_dir();
	scr->theme =
	    theme_load_or_default(theme != NULL ? theme : "dark", dir, warning);
	free(dir);
	if (initscr() == NULL)
		return -1;
	raw();
	noecho();
	nonl();
	set_escdelay(25);
	(void)curs_set(1);
	scr->ncolours = 0;
	if (!theme_no_color() && has_colors()) {
		start_color();
		(void)use_default_colors();
		scr->ncolours = COLORS >= 256 ? 256 : COLORS >= 16 ? 16 : 8;
	}
	apply_theme(scr);
	layout(scr);
	scr->resized = 1;
	return 0;
}

void
wb_screen_end(struct wb_screen *scr)
{
	theme_free(scr->theme);
	scr->theme = NULL;
	if (isendwin())
		return;
	del_windows(scr);
	endwin();
}

void
wb_draw_set_mask(struct wb_screen *scr, int on)
{
	scr->mask = on;
}

/* ---- panes -------------------------------------------------------- */

static const char *
dir_prefix(char dir)
{
	/* 'x': a hex line (/hexdump), which carries its own "C> "/"S< " */
	return dir == 'C' ? "C: "
	    : dir == 'S'  ? "S: "
	    : dir == 'x'  ? ""
	                  : "*: ";
}

/*
 * The dialogue from the tail up.  A line longer than the pane wraps; its
 * later rows hang under its text (past "C: " and the time), so they
 * cannot be taken for lines of their own.
 */
static void
draw_dialogue(struct wb_screen *scr, const struct wb_view *v)
{
	WINDOW *w = scr->dlg;
	int y = scr->dlg_rows - 1, width = scr->dlg_cols, hang, x;
	size_t idx, starts[256], nrows, r, len;
	struct wb_dline d;
	char *full, *prefix;
	attr_t a;

	werase(w);
	if (v->nlines == 0)
		return;
	idx = v->scroll < v->nlines ? v->nlines - 1 - v->scroll : 0;
	for (;;) {
		if (v->get_line(v->get_line_arg, idx, &d) == -1)
			break;
		if (v->show_time)
			prefix = xasprintf("%7.3f %s", (double)d.t_us / 1e6,
			    dir_prefix(d.dir));
		else
			prefix = xstrdup(dir_prefix(d.dir));
		hang = wb_text_cols(prefix);
		if (hang > width / 2)
			hang = width / 2;
		full = xasprintf("%s%s", prefix, d.text);
		len = strlen(full);
		/* Protocol lines wrap at the column, every character where
		 * it is; the workbench's notes wrap at words. */
		nrows = wrap_rows(full, width, hang, d.dir == '*', starts, 256);
		a = scr->attr[idx == v->dlg_sel ? THEME_SELECTION : d.role];
		for (r = nrows; r-- > 0 && y >= 0; y--) {
			x = r > 0 ? hang : 0;
			fill_row(w, y, width, a);
			put_span(w, y, x, full + starts[r],
			    (r + 1 < nrows ? starts[r + 1] : len) - starts[r],
			    width - x);
		}
		free(full);
		free(prefix);
		if (y < 0 || idx == 0)
			break;
		idx--;
	}
	if (v->scroll > 0) {
		char *more =
		    xasprintf(" %zu more below (PgDn, End) ", v->scroll);

		wattrset(w, scr->attr[THEME_SELECTION]);
		(void)put_clipped(w, scr->dlg_rows - 1,
		    width > (int)strlen(more) ? width - (int)strlen(more) : 0,
		    more, width);
		free(more);
	}
	wattrset(w, A_NORMAL);
}

static enum theme_role
stage_role(enum smtp_stage_state st)
{
	switch (st) {
	case SMTP_ST_PENDING:
		return THEME_STAGE_PENDING;
	case SMTP_ST_OK:
	case SMTP_ST_MORE:
		return THEME_STAGE_OK;
	case SMTP_ST_TEMPFAIL:
		return THEME_STAGE_TEMPFAIL;
	case SMTP_ST_PERMFAIL:
		return THEME_STAGE_PERMFAIL;
	case SMTP_ST_ERROR:
		return THEME_STAGE_ERROR;
	}
	return THEME_DEFAULT;
}

static const char *
stage_mark(enum smtp_stage_state st)
{
	switch (st) {
	case SMTP_ST_PENDING:
		return "\xe2\x80\xa6"; /* … */
	case SMTP_ST_OK:
		return "\xe2\x9c\x93"; /* ✓ */
	case SMTP_ST_MORE:
		return "\xe2\x86\x92"; /* → */
	case SMTP_ST_TEMPFAIL:
		return "!";
	case SMTP_ST_PERMFAIL:
	case SMTP_ST_ERROR:
		return "\xe2\x9c\x97"; /* ✗ */
	}
	return "?";
}

/* One row of the stage list: a transaction header, a stage, or (in a
 * narrow pane) the meaning of the stage above on its own row. */
enum srow_kind { SROW_HEADER, SROW_STAGE, SROW_MEANING };

struct srow {
	enum srow_kind kind;
	size_t stage;
	unsigned txn;
};

/* The one-line meaning shown for a stage ("" when there is none). */
static const char *
stage_meaning(const struct smtp_stage *st)
{
	if (st->code == 0)
		return "";
	return smtp_explain_oneline(
	    smtp_stage_kind_name(st->kind), st->code, st->enhanced);
}

static size_t
stage_rows(const struct wb_view *v, int two_line, size_t from, size_t to,
    struct srow **out)
{
	size_t i, k = 0;
	unsigned txn = 0;
	struct srow *rows = xcalloc(3 * (to - from) + 1, sizeof *rows);
	const struct smtp_stage *st;

	/* Rows only for stages [from, to): a frame costs what it shows,
	 * however long the session. */
	for (i = from; i < to; i++) {
		st = v->stage_at(v->stage_arg, i);
		if (st->txn != 0 && st->txn != txn) {
			rows[k].kind = SROW_HEADER;
			rows[k++].txn = st->txn;
		}
		txn = st->txn;
		rows[k].kind = SROW_STAGE;
		rows[k].stage = i;
		rows[k++].txn = st->txn;
		if (two_line && *stage_meaning(st) != '\0') {
			rows[k].kind = SROW_MEANING;
			rows[k].stage = i;
			rows[k++].txn = st->txn;
		}
	}
	*out = rows;
	return k;
}

static void
format_latency(char *buf, size_t len, const struct smtp_stage *st)
{
	double ms;

	if (st->state == SMTP_ST_PENDING || st->t_end_us < st->t_start_us) {
		buf[0] = '\0';
		return;
	}
	ms = (double)(st->t_end_us - st->t_start_us) / 1000.0;
	if (ms < 10)
		(void)snprintf(buf, len, "%.1fms", ms);
	else if (ms < 10000)
		(void)snprintf(buf, len, "%.0fms", ms);
	else
		(void)snprintf(buf, len, "%.1fs", ms / 1000);
}

/* "✓ RCPT 550 5.1.1 0.4ms" (+ the meaning when the pane is wide). */
static char *
stage_line(const struct smtp_stage *st, int with_meaning)
{
	char lat[16], code[32] = "";
	const char *detail = "";

	format_latency(lat, sizeof lat, st);
	if (st->code != 0)
		(void)snprintf(code, sizeof code, " %d%s%s", st->code,
		    st->enhanced[0] ? " " : "", st->enhanced);
	if (st->code == 0 &&
	    (st->kind == SMTP_STAGE_CONNECT ||
	        (st->kind == SMTP_STAGE_TLS && st->state == SMTP_ST_OK)))
		detail = st->command;
	else if (with_meaning)
		detail = stage_meaning(st);
	return xasprintf("%s%s %s%s%s%s%s%s", st->group ? "\xe2\x94\x83" : " ",
	    stage_mark(st->state), smtp_stage_kind_name(st->kind), code,
	    *lat ? " " : "", lat, *detail ? "  " : "", detail);
}

/* The lesson pane: the top of the stage window, at most half of it. */
static int
draw_lesson(struct wb_screen *scr, const struct wb_view *v)
{
	WINDOW *w = scr->stage;
	int rows = scr->dlg_rows / 2, y;
	size_t i;

	if (v->nlesson_lines == 0)
		return 0;
	for (y = 0, i = 0; i < v->nlesson_lines && y < rows - 1; i++, y++) {
		wattrset(w, scr->attr[i == 0 ? THEME_TITLE : THEME_DEFAULT]);
		if (i == 0)
			mvwhline(w, y, 0, ' ', scr->stage_cols);
		(void)put_clipped(w, y, 0, v->lesson_lines[i], scr->stage_cols);
	}
	wattrset(w, scr->attr[THEME_BORDER]);
	mvwhline(w, y, 0, ACS_HLINE, scr->stage_cols);
	wattrset(w, A_NORMAL);
	return y + 1;
}

static void
draw_stages(struct wb_screen *scr, const struct wb_view *v)
{
	WINDOW *w = scr->stage;
	int width = scr->stage_cols, two_line = width < 56, y, y0, avail;
	struct srow *rows;
	size_t nrows, target = 0, top = 0, i, want, from, to;
	const struct smtp_stage *st;
	char *line;

	werase(w);
	y0 = draw_lesson(scr, v);
	avail = scr->dlg_rows - y0;
	/* The stage to keep in view, and a window of stages around it
	 * large enough to fill the pane. */
	want = v->stage_follow || v->stage_sel >= v->nstages
	    ? (v->nstages > 0 ? v->nstages - 1 : 0)
	    : v->stage_sel;
	from = want > (size_t)avail ? want - (size_t)avail : 0;
	to = want + (size_t)avail + 1 < v->nstages ? want + (size_t)avail + 1
	                                           : v->nstages;
	nrows = stage_rows(v, two_line, from, to, &rows);
	for (i = 0; i < nrows; i++)
		if (rows[i].kind != SROW_HEADER && rows[i].stage <= want)
			target = i;
	if (target >= (size_t)avail)
		top = target - (size_t)avail + 1;
	for (y = y0, i = top; i < nrows && y < scr->dlg_rows; i++, y++) {
		if (rows[i].kind == SROW_HEADER) {
			line = xasprintf("\xe2\x94\x80 transaction %u "
			                 "\xe2\x94\x80",
			    rows[i].txn);
			fill_row(w, y, width, scr->attr[THEME_BORDER]);
			(void)put_clipped(w, y, 0, line, width);
			free(line);
			continue;
		}
		st = v->stage_at(v->stage_arg, rows[i].stage);
		if (rows[i].kind == SROW_MEANING)
			line = xasprintf("    %s", stage_meaning(st));
		else
			line = stage_line(st, !two_line);
		if (v->stage_focus && rows[i].stage == v->stage_sel)
			fill_row(w, y, width, scr->attr[THEME_SELECTION]);
		else if (rows[i].kind == SROW_MEANING)
			fill_row(w, y, width, scr->attr[THEME_NOTE]);
		else
			fill_row(w, y, width, scr->attr[stage_role(st->state)]);
		(void)put_clipped(w, y, 0, line, width);
		free(line);
	}
	free(rows);
	wattrset(w, A_NORMAL);
}

static void
draw_title(struct wb_screen *scr, const struct wb_view *v)
{
	WINDOW *w = scr->title;

	wattrset(w, scr->attr[THEME_TITLE]);
	mvwhline(w, 0, 0, ' ', scr->cols);
	(void)put_clipped(w, 0, 1,
	    v->dlg_sel != SIZE_MAX ? "dialogue: Up/Down, Enter explains, Esc"
	                           : "dialogue (PgUp/PgDn, F4 to select)",
	    scr->dlg_cols - 1);
	(void)put_clipped(w, 0, scr->dlg_cols + 2,
	    v->stage_focus ? "stages: Up/Down, Enter explains, Esc"
	                   : "stages (F2 to select)",
	    scr->stage_cols - 2);
	wattrset(w, A_NORMAL);
}

static void
draw_sep(struct wb_screen *scr)
{
	wattrset(scr->sep, scr->attr[THEME_BORDER]);
	werase(scr->sep);
	mvwvline(scr->sep, 0, 0, ACS_VLINE, scr->dlg_rows);
	wattrset(scr->sep, A_NORMAL);
}

static void
draw_status(struct wb_screen *scr, const struct wb_view *v)
{
	WINDOW *w = scr->status;
	char *s, sess[32] = "";

	if (v->session_id > 0)
		(void)snprintf(
		    sess, sizeof sess, "session #%ld  ", v->session_id);
	/* Playback: the saved session, where it is, and its keys. */
	if (v->viewing != NULL && v->keys != NULL)
		s = xasprintf(" %s  %s", v->viewing, v->keys);
	else
		s = xasprintf(" %s  %s%s  %s%s%s%02llu:%02llu  theme %s  %s",
		    v->viewing != NULL      ? v->viewing
		        : v->server != NULL ? v->server
		                            : "",
		    !v->connected ? "not connected"
		        : v->tls  ? v->tls
		                  : "plain",
		    v->tls != NULL
		        ? (v->tls_verified ? " verified" : " UNVERIFIED")
		        : "",
		    v->user != NULL ? v->user : "", v->user != NULL ? "  " : "",
		    sess, (unsigned long long)(v->elapsed_s / 60),
		    (unsigned long long)(v->elapsed_s % 60), v->theme,
		    v->confirm   ? "Enter sends anyway, Ctrl-C drops"
		        : v->why ? "F7 why?  F1 help"
		                 : "F1 help");
	wattrset(w, scr->attr[THEME_STATUS]);
	mvwhline(w, 0, 0, ' ', scr->cols);
	(void)put_clipped(w, 0, 0, s, scr->cols);
	free(s);
	wattrset(w, A_NORMAL);
}

/* The popup's lines are wrapped to its width already (wb_text_wrap):
 * one row each, clipped. */
static void
draw_popup(struct wb_screen *scr, const struct wb_view *v)
{
	int width = scr->cols - 4 > 84 ? 84 : scr->cols - 4;
	int inner = wb_popup_text_cols(scr->cols), height, y;
	size_t total = v->npopup, i;
	WINDOW *w;

	height = (int)total + 2;
	if (height > scr->rows - 3)
		height = scr->rows - 3;
	if (total > (size_t)(height - 2) &&
	    *v->popup_top > total - (size_t)(height - 2))
		*v->popup_top = total - (size_t)(height - 2);
	if (total <= (size_t)(height - 2))
		*v->popup_top = 0;
	w = newwin(height, width, (scr->rows - 2 - height) / 2 + 1,
	    (scr->cols - width) / 2);
	scr->popup = w;
	wbkgdset(w, ' ' | scr->attr[THEME_POPUP]);
	werase(w);
	wattrset(w, scr->attr[THEME_POPUP_BORDER]);
	box(w, 0, 0);
	(void)put_clipped(w, 0, 2, v->popup_title, width - 12);
	(void)put_clipped(
	    w, height - 1, width - 20 > 2 ? width - 20 : 2, " Esc closes ", 12);
	wattrset(w, scr->attr[THEME_POPUP]);
	for (i = *v->popup_top, y = 1; i < total && y < height - 1; i++, y++)
		(void)put_clipped(w, y, 2, v->popup_lines[i], inner);
	if (total > (size_t)(height - 2)) {
		wattrset(w, scr->attr[THEME_POPUP_BORDER]);
		(void)put_clipped(w, height - 1, 2, " Up/Down PgUp/PgDn ", 20);
	}
	wnoutrefresh(w);
}

static void
draw_matches(struct wb_screen *scr, const struct wb_view *v)
{
	int colw = 0, ncols, nrows, height, width, y, x;
	size_t i;
	WINDOW *w;

	for (i = 0; i < v->nmatches; i++) {
		int c = wb_text_cols(v->matches[i]);

		if (c > colw)
			colw = c;
	}
	colw += 2;
	if (colw > scr->dlg_cols - 2)
		colw = scr->dlg_cols - 2;
	ncols = (scr->dlg_cols - 2) / colw;
	if (ncols < 1)
		ncols = 1;
	nrows = (int)((v->nmatches + (size_t)ncols - 1) / (size_t)ncols);
	height = nrows + 2;
	if (height > scr->dlg_rows)
		height = scr->dlg_rows;
	width = ncols * colw + 2;
	if ((size_t)ncols > v->nmatches)
		width = (int)v->nmatches * colw + 2;
	if (width < 24)
		width = 24;
	if (width > scr->dlg_cols)
		width = scr->dlg_cols;
	w = newwin(height, width, 1 + scr->dlg_rows - height, 0);
	scr->popup = w;
	wbkgdset(w, ' ' | scr->attr[THEME_COMPLETION]);
	werase(w);
	box(w, 0, 0);
	{
		char *t = xasprintf(" %zu matches ", v->nmatches);

		(void)put_clipped(w, 0, 2, t, width - 4);
		free(t);
	}
	for (i = 0; i < v->nmatches; i++) {
		/* Column-major, like a shell's completion listing. */
		y = 1 + (int)(i % (size_t)nrows);
		x = 1 + (int)(i / (size_t)nrows) * colw;
		if (y >= height - 1)
			continue;
		(void)put_clipped(w, y, x, v->matches[i], colw - 1);
	}
	wnoutrefresh(w);
}

void
wb_draw_input(struct wb_screen *scr)
{
	attr_t pa = scr->attr[THEME_PROMPT];
	const char *pr = rl_display_prompt != NULL ? rl_display_prompt : "";

	if (scr->input == NULL)
		return;
	if (strncmp(pr, "data>", 5) == 0 || strncmp(pr, "sasl>", 5) == 0 ||
	    strncmp(pr, "secret", 6) == 0)
		pa = scr->attr[THEME_CONTENT_PROMPT];
	rl_glue_draw(scr->input, pa, scr->attr[THEME_INPUT], scr->mask);
	wnoutrefresh(scr->input);
	doupdate();
}

static void
draw_too_small(struct wb_screen *scr)
{
	char msg[96];
	int len;

	werase(stdscr);
	len = snprintf(msg, sizeof msg,
	    "terminal too small: %dx%d, ehlo "
	    "needs at least %dx%d",
	    scr->cols, scr->rows, MIN_COLS, MIN_ROWS);
	if (len < 0)
		len = 0;
	mvaddnstr(scr->rows / 2 > 0 ? scr->rows / 2 - 1 : 0,
	    scr->cols > len ? (scr->cols - len) / 2 : 0, msg, scr->cols);
	wnoutrefresh(stdscr);
}

void
wb_draw_all(struct wb_screen *scr, const struct wb_view *v)
{
	if (scr->resized || scr->rows != LINES || scr->cols != COLS) {
		scr->resized = 0;
		layout(scr);
		clearok(curscr, TRUE);
	}
	if (scr->popup != NULL) {
		delwin(scr->popup);
		scr->popup = NULL;
		/* What the popup covered must be drawn again. */
		touchwin(stdscr);
	}
	if (scr->too_small) {
		draw_too_small(scr);
		wb_draw_input(scr);
		return;
	}
	draw_title(scr, v);
	draw_dialogue(scr, v);
	draw_sep(scr);
	draw_stages(scr, v);
	draw_status(scr, v);
	touchwin(scr->title);
	touchwin(scr->dlg);
	touchwin(scr->sep);
	touchwin(scr->stage);
	wnoutrefresh(scr->title);
	wnoutrefresh(scr->dlg);
	wnoutrefresh(scr->sep);
	wnoutrefresh(scr->stage);
	wnoutrefresh(scr->status);
	if (v->npopup > 0)
		draw_popup(scr, v);
	else if (v->nmatches > 0)
		draw_matches(scr, v);
	wb_draw_input(scr);
}
