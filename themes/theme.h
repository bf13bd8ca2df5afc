/*
 * Colour themes: a fixed table of colour roles (what a piece of the
 * screen means) times schemes (theme files that give each role a
 * foreground, a background and attributes).  This layer knows nothing of
 * curses: colours are abstract numbers (-1 = the terminal's default,
 * 0..7 the basic colours, 8..15 their bright forms, 16..255 the xterm-256
 * palette) and tui/ turns a struct theme_style into a curses pair.
 *
 * Typical use in tui/:
 *
 *	char *dir = theme_user_dir(), *err = NULL;
 *	struct theme *t = theme_load_or_default(name, dir, &err);
 *	if (err != NULL) show err, free(err);
 *	ncolours = theme_no_color() || !has_colors() ? 0 : COLORS;
 *	st = theme_role_resolve(t, THEME_SERVER_5XX, ncolours);
 *	(st.fg, st.bg) -> a pair; st.attrs -> A_BOLD, A_UNDERLINE...
 *
 * The file format is described in docs/themes.md and at the top of
 * themes/theme.c.  Theme files are untrusted input.
 */
#ifndef EHLO_THEMES_THEME_H
#define EHLO_THEMES_THEME_H

#include <stddef.h>

/* Same order as tui/'s enum wb_role (MATCHES = COMPLETION). */
enum theme_role {
	THEME_DEFAULT, /* default text; unset colours of other roles */
	THEME_CLIENT, /* C: lines */
	THEME_SERVER_2XX, /* S: lines by reply class */
	THEME_SERVER_3XX,
	THEME_SERVER_4XX,
	THEME_SERVER_5XX,
	THEME_SERVER_OTHER, /* S: lines without a valid reply code */
	THEME_NOTE, /* *: lines */
	THEME_WARNING, /* rule-breaking input, soft problems */
	THEME_ERROR, /* workbench errors (connect, TLS, timeout) */
	THEME_STAGE_PENDING, /* stage pane states */
	THEME_STAGE_OK,
	THEME_STAGE_TEMPFAIL,
	THEME_STAGE_PERMFAIL,
	THEME_STAGE_ERROR,
	THEME_BORDER, /* pane borders */
	THEME_TITLE, /* pane titles */
	THEME_POPUP, /* popup body */
	THEME_POPUP_BORDER,
	THEME_SELECTION, /* the selected line or stage */
	THEME_STATUS, /* status bar */
	THEME_STATUS_ACCENT, /* highlighted fields in the status bar */
	THEME_PROMPT, /* "smtp> " */
	THEME_CONTENT_PROMPT, /* the prompt after 354 (message content) */
	THEME_COMPLETION, /* completion popup */
	THEME_COMPLETION_SELECTED,
	THEME_TIMESTAMP, /* time offsets in the dialogue */
	THEME_INPUT, /* the input line */
	THEME_ROLE_COUNT,

	/* Earlier names, kept working. */
	THEME_SERVER = THEME_SERVER_2XX,
	THEME_OK = THEME_STAGE_OK,
	THEME_TEMPFAIL = THEME_STAGE_TEMPFAIL,
	THEME_PERMFAIL = THEME_STAGE_PERMFAIL
};

/* The terminal's own colour (curses: -1 with use_default_colors()). */
#define THEME_COLOR_DEFAULT (-1)

#define THEME_ATTR_BOLD 0x01u
#define THEME_ATTR_UNDERLINE 0x02u
#define THEME_ATTR_REVERSE 0x04u
#define THEME_ATTR_DIM 0x08u
#define THEME_ATTR_ITALIC 0x10u

struct theme_style {
	int fg; /* THEME_COLOR_DEFAULT or 0..255 */
	int bg; /* THEME_COLOR_DEFAULT or 0..255 */
	unsigned attrs; /* THEME_ATTR_* bits */
};

struct theme;

/*
 * The role's name in theme files ("client", "server-5xx", "status-bar",
 * ...); NULL for an out-of-range role.  The returned string is static.
 */
const char *theme_role_name(enum theme_role);
/*
 * The role for a name as theme files spell it (case-insensitive; the
 * earlier names "server", "ok", "tempfail", "permfail" and "status" are
 * accepted too), or -1.
 */
int theme_role_find(const char *name);

/*
 * The directory of user themes: $XDG_CONFIG_HOME/ehlo/themes when
 * XDG_CONFIG_HOME is set to an absolute path, else
 * $HOME/.config/ehlo/themes.  Returns a string the caller frees, or NULL
 * when neither variable is usable.  The directory need not exist.
 */
char *theme_user_dir(void);

/*
 * Loads theme `name`: first user_dir/NAME.theme (when user_dir is not
 * NULL and the file exists), then the built-in theme of that name.  The
 * name may hold letters, digits, '-', '_' and '.' (not first), at most
 * 64 bytes: anything else is refused, so a name never walks out of
 * user_dir.  "inherit = X" in a user file is looked up the same way (a
 * user theme that inherits its own name gets the built-in one).
 * Returns a theme the caller frees with theme_free(), or NULL and an
 * allocated *errstr (file, line and problem) the caller frees; errstr
 * may be NULL.
 */
struct theme *theme_load(const char *name, const char *user_dir, char **errstr);

/*
 * Like theme_load(), but never fails: on any problem *errstr is set (as
 * above; errstr may be NULL) and the built-in default theme ("dark") is
 * returned instead.  The caller frees the theme.
 */
struct theme *theme_load_or_default(
    const char *name, const char *user_dir, char **errstr);

/* The built-in default theme ("dark").  Never NULL; the caller frees it. */
struct theme *theme_default(void);

/*
 * Parses theme text (untrusted; need not be NUL-terminated; at most
 * THEME_FILE_MAX bytes).  source_name names the text in messages, e.g.
 * "dark.theme" or a path; the theme's name is source_name without its
 * directory and ".theme".  "inherit = X" is looked up among the built-in
 * themes only.  Returns a theme the caller frees, or NULL and an
 * allocated *errstr such as
 *   dark.theme:12: unknown colour "purpel" (expected default, a colour
 *   name, bright-NAME, 0-255 or #rrggbb)
 * errstr may be NULL.  Never reads past len, whatever the bytes.
 */
struct theme *theme_parse(
    const char *text, size_t len, const char *source_name, char **errstr);

/* Frees a theme; NULL is a no-op. */
void theme_free(struct theme *);

/* The theme's name ("dark", or a user file's stem).  Owned by the theme. */
const char *theme_name(const struct theme *);
/*
 * Where it came from: "built-in" or the user file's path.  Owned by the
 * theme.
 */
const char *theme_source(const struct theme *);

/*
 * The role's style as the theme file gives it, at full colour (256).
 * Colours a theme leaves unset come from the "default" role.  An
 * out-of-range role gets the default role's style.
 */
struct theme_style theme_role_get(const struct theme *, enum theme_role);

/*
 * Maps a style to a terminal with ncolours colours (curses COLORS):
 *   >= 256      unchanged;
 *   16..255     16..255 become the nearest of the 16 basic colours by
 *               hue and lightness: greys and weakly coloured entries
 *               become black, bright-black, white or bright-white by
 *               lightness; others take the hue of their strongest
 *               channels, bright when full-strength or pale;
 *   8..15       as 16, then bright-X becomes X and bright-black white
 *               (a bright foreground also gets bold, which 8-colour
 *               terminals show as bright; bright-black gets dim);
 *   < 8         no colours: both become THEME_COLOR_DEFAULT, attributes
 *               are kept (use theme_role_resolve() for monochrome, which
 *               picks attributes that keep roles apart).
 * When two different colours collapse into one (text would vanish), the
 * foreground becomes black or white, whichever contrasts with the
 * background.
 */
struct theme_style theme_degrade(struct theme_style, int ncolours);

/*
 * What to draw a role with on a terminal with ncolours colours: the
 * theme's style degraded as theme_degrade() says when ncolours >= 8;
 * otherwise (monochrome, NO_COLOR) the built-in "monochrome" theme's
 * attributes for the role, whatever the theme, so 4xx, 5xx, selection
 * and the stage states stay distinguishable without colour.
 */
struct theme_style theme_role_resolve(
    const struct theme *, enum theme_role, int ncolours);

/*
 * 1 when the NO_COLOR environment variable is set to a non-empty value
 * (no-color.org): the caller then draws with ncolours = 0.  Else 0.
 */
int theme_no_color(void);

/*
 * The nearest xterm-256 colour (16..255: the 6x6x6 cube and the grey
 * ramp, whose RGB values do not depend on the terminal) to r, g, b.
 */
int theme_color_from_rgb(unsigned r, unsigned g, unsigned b);

/*
 * Names of the built-in themes and of user_dir/ *.theme files with valid
 * names (user_dir may be NULL), sorted, each once.  Returns a
 * NULL-terminated array the caller frees with theme_list_free(); *count
 * (when count is not NULL) gets the number of names.  Never NULL.
 */
char **theme_list(const char *user_dir, size_t *count);
/* Frees theme_list()'s result; NULL is a no-op. */
void theme_list_free(char **);

/*
 * The text of a built-in theme file (NUL-terminated; *len, when len is
 * not NULL, gets its length), or NULL when there is none of that name.
 * Static storage.
 */
const char *theme_builtin_text(const char *name, size_t *len);

/* Limits on theme files (untrusted input). */
#define THEME_FILE_MAX 65536 /* bytes */
#define THEME_LINE_MAX 256
#define THEME_INHERIT_DEPTH 8
#define THEME_NAME_MAX 64

#endif
