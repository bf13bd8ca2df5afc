/*
 * Theme loading: the colour-role table (htop's roles x schemes idea),
 * the theme-file parser, lookup of user and built-in themes, and the
 * mapping of colours down to what a terminal has (256, 16, 8, none).
 *
 * A theme is one struct theme_style per role.  While a file is parsed a
 * colour may be "unset" (COLOR_UNSET): an inherited theme fills the table
 * first, the file's lines replace whole roles, and at the end every unset
 * colour takes the "default" role's colour (and an unset default role
 * the terminal's own).  So "default = 236 on 231" in a light theme gives
 * every role that names no background the light background.
 *
 * File format (README.md, "Themes"), one setting per line:
 *
 *	# a comment (first on a line, or "# " after a blank)
 *	inherit = dark                  optional, before any role line
 *	client = 81                     foreground only
 *	selection = black on 117        foreground and background
 *	popup = #d0d0d0 on #303030      # and a trailing comment
 *	status-bar = on 24              background only
 *	server-5xx = 203, bold          attributes after the colours
 *	title = bold underline          attributes only
 *
 * Colours: default, black red green yellow blue magenta cyan white,
 * bright-NAME, 0..255, #rrggbb (nearest of xterm's 16..255).  Attributes:
 * bold, underline, reverse, dim, italic.  Names are case-insensitive.
 * Theme files are untrusted: size and line length are capped, control
 * bytes are refused, every token quoted in an error is escaped, and the
 * parser never reads outside the given bytes.
 */
#include "themes/theme.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "themes/builtin.h"

#define COLOR_UNSET (-2)
#define DEFAULT_THEME "dark"
#define MONO_THEME "monochrome"
#define THEME_SUFFIX ".theme"
#define USER_LIST_MAX 1024

static const char *const role_names[THEME_ROLE_COUNT] = {
    [THEME_DEFAULT] = "default",
    [THEME_CLIENT] = "client",
    [THEME_SERVER_2XX] = "server-2xx",
    [THEME_SERVER_3XX] = "server-3xx",
    [THEME_SERVER_4XX] = "server-4xx",
    [THEME_SERVER_5XX] = "server-5xx",
    [THEME_SERVER_OTHER] = "server-other",
    [THEME_NOTE] = "note",
    [THEME_WARNING] = "warning",
    [THEME_ERROR] = "error",
    [THEME_STAGE_PENDING] = "stage-pending",
    [THEME_STAGE_OK] = "stage-ok",
    [THEME_STAGE_TEMPFAIL] = "stage-tempfail",
    [THEME_STAGE_PERMFAIL] = "stage-permfail",
    [THEME_STAGE_ERROR] = "stage-error",
    [THEME_BORDER] = "border",
    [THEME_TITLE] = "title",
    [THEME_POPUP] = "popup",
    [THEME_POPUP_BORDER] = "popup-border",
    [THEME_SELECTION] = "selection",
    [THEME_STATUS] = "status-bar",
    [THEME_STATUS_ACCENT] = "status-accent",
    [THEME_INPUT] = "input",
    [THEME_PROMPT] = "prompt",
    [THEME_CONTENT_PROMPT] = "content-prompt",
    [THEME_COMPLETION] = "completion",
    [THEME_COMPLETION_SELECTED] = "completion-selected",
    [THEME_TIMESTAMP] = "timestamp",
};

/* Names from the first role table, so older theme files keep working. */
static const struct {
	const char *name;
	enum theme_role role;
} role_aliases[] = {
    {"server", THEME_SERVER},
    {"ok", THEME_OK},
    {"tempfail", THEME_TEMPFAIL},
    {"permfail", THEME_PERMFAIL},
    {"status", THEME_STATUS},
};

static const char *const color_names[8] = {
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"};

static const struct {
	const char *name;
	unsigned bit;
} attr_names[] = {
    {"bold", THEME_ATTR_BOLD},
    {"underline", THEME_ATTR_UNDERLINE},
    {"reverse", THEME_ATTR_REVERSE},
    {"dim", THEME_ATTR_DIM},
    {"italic", THEME_ATTR_ITALIC},
};

/* xterm's default RGB values for the 16 basic colours. */
static const unsigned char basic_rgb[16][3] = {{0x00, 0x00, 0x00},
    {0xcd, 0x00, 0x00}, {0x00, 0xcd, 0x00}, {0xcd, 0xcd, 0x00},
    {0x00, 0x00, 0xee}, {0xcd, 0x00, 0xcd}, {0x00, 0xcd, 0xcd},
    {0xe5, 0xe5, 0xe5}, {0x7f, 0x7f, 0x7f}, {0xff, 0x00, 0x00},
    {0x00, 0xff, 0x00}, {0xff, 0xff, 0x00}, {0x5c, 0x5c, 0xff},
    {0xff, 0x00, 0xff}, {0x00, 0xff, 0xff}, {0xff, 0xff, 0xff}};

struct theme {
	char *name;
	char *source; /* "built-in" or a path */
	struct theme_style st[THEME_ROLE_COUNT];
};

/* One theme being loaded, for inherit lookups and loop detection. */
struct link {
	const char *name;
	int user; /* 1: from the user directory, 0: built-in */
};

struct parse_ctx {
	const char *user_dir; /* NULL: inherit finds built-ins only */
	struct link chain[THEME_INHERIT_DEPTH + 1];
	size_t depth; /* entries used in chain */
};

static int load_raw(struct parse_ctx *, const char *name, int allow_user,
    struct theme_style *, char **path_out, const char *where, char **errstr);

static void set_err(char **errstr, const char *fmt, ...) EHLO_PRINTF(2, 3);

static void
set_err(char **errstr, const char *fmt, ...)
{
	va_list ap;

	if (errstr == NULL)
		return;
	free(*errstr);
	va_start(ap, fmt);
	*errstr = xvasprintf(fmt, ap);
	va_end(ap);
}

const char *
theme_role_name(enum theme_role r)
{
	if ((unsigned)r >= THEME_ROLE_COUNT)
		return NULL;
	return role_names[r];
}

int
theme_role_find(const char *name)
{
	size_t i;

	for (i = 0; i < THEME_ROLE_COUNT; i++)
		if (strcasecmp(role_names[i], name) == 0)
			return (int)i;
	for (i = 0; i < sizeof(role_aliases) / sizeof(role_aliases[0]); i++)
		if (strcasecmp(role_aliases[i].name, name) == 0)
			return (int)role_aliases[i].role;
	return -1;
}

/* ---- colours ----------------------------------------------------- */

static void
color_rgb(int c, unsigned rgb[3])
{
	static const unsigned level[6] = {0, 95, 135, 175, 215, 255};
	int i;

	if (c < 16) {
		for (i = 0; i < 3; i++)
			rgb[i] = basic_rgb[c][i];
	} else if (c < 232) {
		rgb[0] = level[(c - 16) / 36];
		rgb[1] = level[(c - 16) / 6 % 6];
		rgb[2] = level[(c - 16) % 6];
	} else {
		rgb[0] = rgb[1] = rgb[2] = (unsigned)(8 + 10 * (c - 232));
	}
}

/* The colour in lo..hi nearest to rgb (squared distance; ties: lowest). */
static int
nearest(const unsigned rgb[3], int lo, int hi)
{
	unsigned long best = (unsigned long)-1, d;
	unsigned c[3];
	int i, k, found = lo;
	long diff;

	for (i = lo; i <= hi; i++) {
		color_rgb(i, c);
		d = 0;
		for (k = 0; k < 3; k++) {
			diff = (long)rgb[k] - (long)c[k];
			d += (unsigned long)(diff * diff);
		}
		if (d < best) {
			best = d;
			found = i;
		}
	}
	return found;
}

int
theme_color_from_rgb(unsigned r, unsigned g, unsigned b)
{
	unsigned rgb[3];

	rgb[0] = r > 255 ? 255 : r;
	rgb[1] = g > 255 ? 255 : g;
	rgb[2] = b > 255 ? 255 : b;
	return nearest(rgb, 16, 255);
}

/* A grey (given its 0..255 value) as one of the 16 colours. */
static int
grey16(unsigned v)
{
	if (v < 60)
		return 0;
	if (v < 145)
		return 8;
	if (v < 215)
		return 7;
	return 15;
}

/*
 * 16..255 as one of the 16 basic colours, by hue and lightness rather
 * than RGB distance (xterm's basic colours are so saturated that plain
 * distance turns every pastel into grey).  Cube colours with little
 * saturation count as greys; otherwise the channels above the midpoint
 * of the strongest and weakest pick the colour, and a full-strength or
 * pale colour is the bright form.
 */
static int
to16(int c)
{
	int l[3], mx, mn, i, out = 0;
	unsigned rgb[3];

	if (c < 16)
		return c;
	color_rgb(c, rgb);
	if (c >= 232)
		return grey16(rgb[0]);
	l[0] = (c - 16) / 36;
	l[1] = (c - 16) / 6 % 6;
	l[2] = (c - 16) % 6;
	mx = mn = l[0];
	for (i = 1; i < 3; i++) {
		mx = l[i] > mx ? l[i] : mx;
		mn = l[i] < mn ? l[i] : mn;
	}
	if (mx - mn <= 1 || (mn >= 3 && mx - mn <= 2))
		return grey16((rgb[0] + rgb[1] + rgb[2]) / 3);
	for (i = 0; i < 3; i++)
		if (2 * l[i] > mx + mn)
			out |= 1 << i;
	return mx == 5 || mn >= 2 ? out + 8 : out;
}

/* 0..15 as one of the 8: bright-X becomes X, bright-black white. */
static int
to8(int c)
{
	if (c < 8)
		return c;
	return c == 8 ? 7 : c - 8;
}

/* Black or white, whichever is easier to read on bg. */
static int
contrast(int bg, int ncolours)
{
	unsigned rgb[3];

	color_rgb(bg, rgb);
	if (299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] > 128 * 1000)
		return 0;
	return ncolours >= 16 ? 15 : 7;
}

struct theme_style
theme_degrade(struct theme_style s, int ncolours)
{
	struct theme_style out = s;
	int differ, bright = 0;

	if (ncolours >= 256)
		return s;
	if (ncolours < 8) {
		out.fg = out.bg = THEME_COLOR_DEFAULT;
		return out;
	}
	differ = s.fg >= 0 && s.bg >= 0 && s.fg != s.bg;
	if (s.fg >= 0) {
		out.fg = to16(s.fg);
		if (ncolours < 16) {
			bright = out.fg >= 8;
			out.fg = to8(out.fg);
		}
	}
	if (s.bg >= 0)
		out.bg = ncolours < 16 ? to8(to16(s.bg)) : to16(s.bg);
	if (differ && out.fg == out.bg) {
		out.fg = contrast(out.bg, ncolours);
		return out;
	}
	if (bright)
		out.attrs |= to16(s.fg) == 8 ? THEME_ATTR_DIM : THEME_ATTR_BOLD;
	return out;
}

int
theme_no_color(void)
{
	const char *v = getenv("NO_COLOR");

	return v != NULL && v[0] != '\0';
}

/* ---- the parser -------------------------------------------------- */

static int
word_is(const char *tok, const char *word)
{
	return strcasecmp(tok, word) == 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses a colour token; returns 0 and *out, or -1. */
static int
parse_color(const char *tok, int *out)
{
	size_t i, n = strlen(tok);
	int v, base = 0;
	unsigned rgb[3];

	if (word_is(tok, "default")) {
		*out = THEME_COLOR_DEFAULT;
		return 0;
	}
	if (n >= 1 && n <= 3 && strspn(tok, "0123456789") == n) {
		v = 0;
		for (i = 0; i < n; i++)
			v = v * 10 + (tok[i] - '0');
		if (v > 255)
			return -1;
		*out = v;
		return 0;
	}
	if (n == 7 && tok[0] == '#') {
		for (i = 0; i < 3; i++) {
			int hi = hexval(tok[1 + 2 * i]),
			    lo = hexval(tok[2 + 2 * i]);

			if (hi < 0 || lo < 0)
				return -1;
			rgb[i] = (unsigned)(hi * 16 + lo);
		}
		*out = theme_color_from_rgb(rgb[0], rgb[1], rgb[2]);
		return 0;
	}
	if (strncasecmp(tok, "bright-", 7) == 0) {
		tok += 7;
		base = 8;
	}
	for (i = 0; i < 8; i++)
		if (word_is(tok, color_names[i])) {
			*out = base + (int)i;
			return 0;
		}
	return -1;
}

static unsigned
parse_attr(const char *tok)
{
	size_t i;

	for (i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++)
		if (word_is(tok, attr_names[i].name))
			return attr_names[i].bit;
	return 0;
}

/* The token, escaped for an error message; the caller frees it. */
static char *
quote(const char *tok)
{
	return escape_dup(tok, strlen(tok));
}

/* Splits a NUL-terminated string (modified) at blanks and commas. */
struct tokens {
	char *p;
	int comma; /* a comma ended the previous token */
};

/* The next token or NULL; *comma is set when a comma came before it. */
static char *
next_token(struct tokens *tk, int *comma)
{
	char *p = tk->p, *tok;

	*comma = tk->comma;
	tk->comma = 0;
	while (*p == ' ' || *p == '\t' || *p == ',') {
		if (*p == ',')
			*comma = 1;
		p++;
	}
	if (*p == '\0') {
		tk->p = p;
		return NULL;
	}
	tok = p;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',')
		p++;
	if (*p != '\0') {
		tk->comma = *p == ',';
		*p++ = '\0';
	}
	tk->p = p;
	return tok;
}

#define COLOR_HELP                                                             \
	"(expected default, a colour name, bright-NAME, 0-255 or #rrggbb)"
#define ATTR_HELP "(expected bold, underline, reverse, dim or italic)"

/*
 * Parses "[FG] [on BG] [, ATTR ...]" into *st.  Returns 0, or -1 with
 * *errstr set (prefixed by where).
 */
static int
parse_style(
    char *value, struct theme_style *st, const char *where, char **errstr)
{
	struct tokens tk = {value, 0};
	char *tok, *q;
	int comma, seen_comma = 0, have_fg = 0, have_bg = 0, c;
	unsigned bit;

	st->fg = st->bg = COLOR_UNSET;
	st->attrs = 0;
	if (*value == '\0') {
		set_err(errstr, "%s: missing style after \"=\"", where);
		return -1;
	}
	while ((tok = next_token(&tk, &comma)) != NULL) {
		seen_comma |= comma;
		if (word_is(tok, "on")) {
			if (have_bg || st->attrs != 0 || seen_comma) {
				set_err(errstr,
				    "%s: \"on\" must come once, before the "
				    "attributes",
				    where);
				return -1;
			}
			tok = next_token(&tk, &comma);
			if (tok == NULL || comma) {
				set_err(
				    errstr, "%s: \"on\" needs a colour", where);
				return -1;
			}
			if (parse_color(tok, &c) == -1) {
				q = quote(tok);
				set_err(errstr, "%s: unknown colour \"%s\" %s",
				    where, q, COLOR_HELP);
				free(q);
				return -1;
			}
			st->bg = c;
			have_bg = 1;
			continue;
		}
		if ((bit = parse_attr(tok)) != 0) {
			st->attrs |= bit;
			continue;
		}
		if (!have_fg && !have_bg && !seen_comma && st->attrs == 0) {
			if (parse_color(tok, &c) == -1) {
				q = quote(tok);
				set_err(errstr, "%s: unknown colour \"%s\" %s",
				    where, q, COLOR_HELP);
				free(q);
				return -1;
			}
			st->fg = c;
			have_fg = 1;
			continue;
		}
		q = quote(tok);
		if (seen_comma || st->attrs != 0)
			set_err(errstr, "%s: unknown attribute \"%s\" %s",
			    where, q, ATTR_HELP);
		else
			set_err(errstr,
			    "%s: unexpected \"%s\" (write FG on BG, then "
			    "attributes after a comma)",
			    where, q);
		free(q);
		return -1;
	}
	return 0;
}

/* 1 when name is a valid theme name (it becomes part of a path). */
static int
name_is_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > THEME_NAME_MAX || name[0] == '.')
		return 0;
	return strspn(name,
	           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	           "0123456789-_.") == n;
}

static const struct theme_builtin *
builtin_find(const char *name)
{
	size_t i;

	for (i = 0; i < theme_builtin_count; i++)
		if (strcmp(theme_builtins[i].name, name) == 0)
			return &theme_builtins[i];
	return NULL;
}

const char *
theme_builtin_text(const char *name, size_t *len)
{
	const struct theme_builtin *b = builtin_find(name);

	if (b == NULL)
		return NULL;
	if (len != NULL)
		*len = b->len;
	return b->text;
}

static void
styles_init(struct theme_style *st)
{
	size_t i;

	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		st[i].fg = st[i].bg = COLOR_UNSET;
		st[i].attrs = 0;
	}
}

/* Unset colours take the default role's; an unset default is -1. */
static void
styles_resolve(struct theme_style *st)
{
	size_t i;

	if (st[THEME_DEFAULT].fg == COLOR_UNSET)
		st[THEME_DEFAULT].fg = THEME_COLOR_DEFAULT;
	if (st[THEME_DEFAULT].bg == COLOR_UNSET)
		st[THEME_DEFAULT].bg = THEME_COLOR_DEFAULT;
	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		if (st[i].fg == COLOR_UNSET)
			st[i].fg = st[THEME_DEFAULT].fg;
		if (st[i].bg == COLOR_UNSET)
			st[i].bg = st[THEME_DEFAULT].bg;
	}
}

/* "a -> b -> c" for a loop message; the caller frees it. */
static char *
chain_text(const struct parse_ctx *ctx, const char *last)
{
	char *s = xstrdup(""), *t;
	size_t i;

	for (i = 0; i < ctx->depth; i++) {
		t = xasprintf("%s%s -> ", s, ctx->chain[i].name);
		free(s);
		s = t;
	}
	t = xasprintf("%s%s", s, last);
	free(s);
	return t;
}

/* 1 when (name, user) is already being loaded. */
static int
chain_has(const struct parse_ctx *ctx, const char *name, int user)
{
	size_t i;

	for (i = 0; i < ctx->depth; i++)
		if (ctx->chain[i].user == user &&
		    strcmp(ctx->chain[i].name, name) == 0)
			return 1;
	return 0;
}

/* Handles "inherit = NAME" at where; fills st from the parent. */
static int
do_inherit(struct parse_ctx *ctx, const char *value, struct theme_style *st,
    const char *where, char **errstr)
{
	struct tokens tk;
	char *q, *loop, *tok, *copy;
	int comma, allow_user, r = -1;

	copy = xstrdup(value);
	tk.p = copy;
	tk.comma = 0;
	tok = next_token(&tk, &comma);
	if (tok == NULL || next_token(&tk, &comma) != NULL ||
	    !name_is_valid(tok)) {
		q = quote(value);
		set_err(errstr, "%s: inherit needs one theme name, not \"%s\"",
		    where, q);
		free(q);
		goto out;
	}
	/*
	 * A user file first, unless it is already being loaded (a user
	 * theme that inherits its own name means the built-in one) or
	 * the inheriting theme is built-in (built-ins are self-contained).
	 */
	allow_user = ctx->user_dir != NULL && ctx->chain[ctx->depth - 1].user &&
	    !chain_has(ctx, tok, 1);
	if (!allow_user &&
	    (chain_has(ctx, tok, 0) ||
	        (chain_has(ctx, tok, 1) && builtin_find(tok) == NULL))) {
		loop = chain_text(ctx, tok);
		set_err(errstr, "%s: inherit loop: %s", where, loop);
		free(loop);
		goto out;
	}
	if (ctx->depth > THEME_INHERIT_DEPTH) {
		set_err(errstr, "%s: inherit chain too deep (more than %d)",
		    where, THEME_INHERIT_DEPTH);
		goto out;
	}
	r = load_raw(ctx, tok, allow_user, st, NULL, where, errstr);
out:
	free(copy);
	return r;
}

/*
 * Cuts a comment off line: '#' as the first non-blank character, or a
 * '#' after a blank and before a blank or the end ("# ..."), so that
 * "#rrggbb" stays a colour and a mistyped one is reported.
 */
static void
strip_comment(char *line)
{
	char *p = line + strspn(line, " \t");

	if (*p == '#') {
		*p = '\0';
		return;
	}
	for (; *p != '\0'; p++)
		if (*p == '#' && (p[-1] == ' ' || p[-1] == '\t') &&
		    (p[1] == '\0' || p[1] == ' ' || p[1] == '\t')) {
			*p = '\0';
			return;
		}
}

/*
 * Parses text into st (unresolved: unset colours stay COLOR_UNSET).
 * source names the text in messages.  Returns 0, or -1 with *errstr.
 */
static int
parse_raw(struct parse_ctx *ctx, const char *text, size_t len,
    const char *source, struct theme_style *st, char **errstr)
{
	char line[THEME_LINE_MAX + 1], where[THEME_NAME_MAX + 4096];
	char *key, *value, *eq, *end, *q;
	const char *p = text, *nl;
	size_t lineno = 0, n, i, set_on[THEME_ROLE_COUNT] = {0};
	int role, settings = 0;
	unsigned char c;
	struct theme_style one;

	if (len > THEME_FILE_MAX) {
		set_err(errstr,
		    "%s: file too large (%zu bytes; the limit is %d)", source,
		    len, THEME_FILE_MAX);
		return -1;
	}
	styles_init(st);
	while (p < text + len) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(text + len - p));
		n = (nl != NULL ? nl : text + len) - p;
		(void)snprintf(where, sizeof(where), "%s:%zu", source, lineno);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > THEME_LINE_MAX) {
			set_err(errstr,
			    "%s: line too long (more than %d bytes)", where,
			    THEME_LINE_MAX);
			return -1;
		}
		for (i = 0; i < n; i++) {
			c = (unsigned char)p[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				set_err(errstr,
				    "%s: control byte 0x%02x (a theme is a "
				    "text file)",
				    where, c);
				return -1;
			}
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl != NULL ? nl + 1 : text + len;

		strip_comment(line);
		key = line + strspn(line, " \t");
		if (*key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			set_err(errstr,
			    "%s: expected \"ROLE = COLOUR [on COLOUR] "
			    "[, ATTRIBUTES]\" or \"inherit = THEME\"",
			    where);
			return -1;
		}
		value = eq + 1 + strspn(eq + 1, " \t");
		end = eq;
		while (end > key && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';
		end = value + strlen(value);
		while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';

		if (word_is(key, "inherit")) {
			if (settings > 0) {
				set_err(errstr,
				    "%s: inherit must come first, and once",
				    where);
				return -1;
			}
			if (do_inherit(ctx, value, st, where, errstr) == -1)
				return -1;
			settings++;
			continue;
		}
		if ((role = theme_role_find(key)) == -1) {
			q = quote(key);
			set_err(errstr,
			    "%s: unknown role \"%s\" (roles are listed in "
			    "README.md, Themes)",
			    where, q);
			free(q);
			return -1;
		}
		if (set_on[role] != 0) {
			set_err(errstr,
			    "%s: role \"%s\" already set on line %zu", where,
			    role_names[role], set_on[role]);
			return -1;
		}
		if (parse_style(value, &one, where, errstr) == -1)
			return -1;
		st[role] = one;
		set_on[role] = lineno;
		settings++;
	}
	if (settings == 0) {
		set_err(errstr,
		    "%s: empty theme (no settings; start from \"inherit = "
		    "dark\" and add role lines)",
		    source);
		return -1;
	}
	return 0;
}

/*
 * Reads path into a new buffer (at most THEME_FILE_MAX bytes).  Returns
 * 1 and the text (*text, *len), 0 when the file does not exist, -1 with *errstr.
 */
static int
read_file(const char *path, char **text, size_t *len, char **errstr)
{
	struct stat sb;
	char *buf;
	size_t n = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		set_err(errstr, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		set_err(errstr, "%s: not a regular file", path);
		(void)close(fd);
		return -1;
	}
	buf = xmalloc(THEME_FILE_MAX + 1);
	for (;;) {
		r = read(fd, buf + n, THEME_FILE_MAX + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			set_err(errstr, "%s: %s", path, strerror(errno));
			free(buf);
			(void)close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > THEME_FILE_MAX) {
			set_err(errstr,
			    "%s: file too large (more than %d bytes)", path,
			    THEME_FILE_MAX);
			free(buf);
			(void)close(fd);
			return -1;
		}
	}
	(void)close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 1;
}

/*
 * Loads theme name (user file when allow_user, else or then built-in)
 * into st, unresolved.  *path_out (when not NULL) gets the user file's
 * path, or NULL for a built-in.  where (or NULL) prefixes "unknown theme"
 * (the inherit line that asked for it).
 */
static int
load_raw(struct parse_ctx *ctx, const char *name, int allow_user,
    struct theme_style *st, char **path_out, const char *where, char **errstr)
{
	const struct theme_builtin *b;
	char *path, *text, *source;
	size_t len;
	int r;

	if (path_out != NULL)
		*path_out = NULL;
	if (allow_user && ctx->user_dir != NULL) {
		path = xasprintf("%s/%s%s", ctx->user_dir, name, THEME_SUFFIX);
		r = read_file(path, &text, &len, errstr);
		if (r == -1) {
			free(path);
			return -1;
		}
		if (r == 1) {
			ctx->chain[ctx->depth].name = name;
			ctx->chain[ctx->depth].user = 1;
			ctx->depth++;
			r = parse_raw(ctx, text, len, path, st, errstr);
			ctx->depth--;
			free(text);
			if (r == 0 && path_out != NULL)
				*path_out = path;
			else
				free(path);
			return r;
		}
		free(path);
	}
	if ((b = builtin_find(name)) == NULL) {
		if (allow_user && ctx->user_dir != NULL)
			set_err(errstr,
			    "%s%sunknown theme \"%s\" (neither %s/%s%s nor a "
			    "built-in theme; see /theme)",
			    where != NULL ? where : "",
			    where != NULL ? ": " : "", name, ctx->user_dir,
			    name, THEME_SUFFIX);
		else
			set_err(errstr,
			    "%s%sunknown theme \"%s\" (not a built-in theme; "
			    "see /theme)",
			    where != NULL ? where : "",
			    where != NULL ? ": " : "", name);
		return -1;
	}
	ctx->chain[ctx->depth].name = name;
	ctx->chain[ctx->depth].user = 0;
	ctx->depth++;
	source = xasprintf("%s%s", name, THEME_SUFFIX);
	r = parse_raw(ctx, b->text, b->len, source, st, errstr);
	free(source);
	ctx->depth--;
	return r;
}

static struct theme *
theme_new(const char *name, const char *source, struct theme_style *st)
{
	struct theme *t = xcalloc(1, sizeof(*t));

	styles_resolve(st);
	memcpy(t->st, st, sizeof(t->st));
	t->name = xstrdup(name);
	t->source = xstrdup(source);
	return t;
}

struct theme *
theme_parse(
    const char *text, size_t len, const char *source_name, char **errstr)
{
	struct parse_ctx ctx;
	struct theme_style st[THEME_ROLE_COUNT];
	const char *base;
	char *name;
	size_t n;
	struct theme *t;

	if (source_name == NULL)
		source_name = "theme";
	base = strrchr(source_name, '/');
	base = base != NULL ? base + 1 : source_name;
	n = strlen(base);
	if (n > strlen(THEME_SUFFIX) &&
	    strcmp(base + n - strlen(THEME_SUFFIX), THEME_SUFFIX) == 0)
		n -= strlen(THEME_SUFFIX);
	name = xstrndup(base, n);
	memset(&ctx, 0, sizeof(ctx));
	ctx.chain[0].name = name;
	ctx.chain[0].user = 1;
	ctx.depth = 1;
	if (parse_raw(&ctx, text, len, source_name, st, errstr) == -1) {
		free(name);
		return NULL;
	}
	t = theme_new(name, source_name, st);
	free(name);
	return t;
}

struct theme *
theme_load(const char *name, const char *user_dir, char **errstr)
{
	struct parse_ctx ctx;
	struct theme_style st[THEME_ROLE_COUNT];
	struct theme *t;
	char *path, *q;

	if (name == NULL || !name_is_valid(name)) {
		q = quote(name != NULL ? name : "");
		set_err(errstr,
		    "invalid theme name \"%s\" (letters, digits, '-', '_' "
		    "and '.' only)",
		    q);
		free(q);
		return NULL;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.user_dir = user_dir;
	if (load_raw(&ctx, name, 1, st, &path, NULL, errstr) == -1)
		return NULL;
	t = theme_new(name, path != NULL ? path : "built-in", st);
	free(path);
	return t;
}

struct theme *
theme_default(void)
{
	struct theme *t = theme_load(DEFAULT_THEME, NULL, NULL);

	if (t == NULL)
		fatalx("built-in theme \"%s\" does not parse", DEFAULT_THEME);
	return t;
}

struct theme *
theme_load_or_default(const char *name, const char *user_dir, char **errstr)
{
	struct theme *t = theme_load(name, user_dir, errstr);

	return t != NULL ? t : theme_default();
}

void
theme_free(struct theme *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->source);
	free(t);
}

const char *
theme_name(const struct theme *t)
{
	return t->name;
}

const char *
theme_source(const struct theme *t)
{
	return t->source;
}

struct theme_style
theme_role_get(const struct theme *t, enum theme_role r)
{
	if ((unsigned)r >= THEME_ROLE_COUNT)
		r = THEME_DEFAULT;
	return t->st[r];
}

/* The monochrome theme, parsed once from the built-in file. */
static struct theme_style
mono_style(enum theme_role r)
{
	static struct theme_style mono[THEME_ROLE_COUNT];
	static int ready;
	struct theme *t;
	size_t i;

	if (!ready) {
		t = theme_load(MONO_THEME, NULL, NULL);
		if (t == NULL)
			fatalx(
			    "built-in theme \"%s\" does not parse", MONO_THEME);
		else {
			for (i = 0; i < THEME_ROLE_COUNT; i++) {
				mono[i] = t->st[i];
				mono[i].fg = mono[i].bg = THEME_COLOR_DEFAULT;
			}
			theme_free(t);
		}
		ready = 1;
	}
	if ((unsigned)r >= THEME_ROLE_COUNT)
		r = THEME_DEFAULT;
	return mono[r];
}

struct theme_style
theme_role_resolve(const struct theme *t, enum theme_role r, int ncolours)
{
	if (ncolours < 8)
		return mono_style(r);
	return theme_degrade(theme_role_get(t, r), ncolours);
}

/* ---- locations and lists ----------------------------------------- */

char *
theme_user_dir(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home;

	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/ehlo/themes", xdg);
	home = getenv("HOME");
	if (home != NULL && home[0] != '\0')
		return xasprintf("%s/.config/ehlo/themes", home);
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
theme_list(const char *user_dir, size_t *count)
{
	char **v, *name;
	size_t n = 0, cap, i, j, len, slen = strlen(THEME_SUFFIX);
	DIR *d;
	struct dirent *de;

	cap = theme_builtin_count + 1;
	v = xreallocarray(NULL, cap, sizeof(*v));
	for (i = 0; i < theme_builtin_count; i++)
		v[n++] = xstrdup(theme_builtins[i].name);
	if (user_dir != NULL && (d = opendir(user_dir)) != NULL) {
		while ((de = readdir(d)) != NULL &&
		    n < theme_builtin_count + USER_LIST_MAX) {
			len = strlen(de->d_name);
			if (len <= slen ||
			    strcmp(de->d_name + len - slen, THEME_SUFFIX) != 0)
				continue;
			name = xstrndup(de->d_name, len - slen);
			if (!name_is_valid(name)) {
				free(name);
				continue;
			}
			if (n + 1 >= cap) {
				cap *= 2;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n++] = name;
		}
		(void)closedir(d);
	}
	qsort(v, n, sizeof(*v), cmp_str);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && strcmp(v[j - 1], v[i]) == 0) {
			free(v[i]);
			continue;
		}
		v[j++] = v[i];
	}
	v[j] = NULL;
	if (count != NULL)
		*count = j;
	return v;
}

void
theme_list_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}
