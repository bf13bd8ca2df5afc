/*
 * The theme-file parser: a theme's text (a user file or a built-in one)
 * into one unresolved struct theme_style per role, following "inherit"
 * lines to user and built-in themes with loop and depth checks.  The
 * theme objects, the role table and the lists are in theme.c, the colour
 * model in theme_color.c; what they share is in theme_int.h.
 *
 * While a file is parsed a colour may be "unset" (THEME_COLOR_UNSET): an
 * inherited theme fills the table first, the file's lines replace whole
 * roles, and at the end (theme.c) every unset colour takes the "default"
 * role's colour (and an unset default role the terminal's own).  So
 * "default = 236 on 231" in a light theme gives every role that names no
 * background the light background.
 *
 * File format (docs/themes.md), one setting per line:
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
#include "themes/theme_int.h"

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
#include "themes/theme.h"

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

void
theme_err_set(char **errstr, const char *fmt, ...)
{
	va_list ap;

	if (errstr == NULL)
		return;
	free(*errstr);
	va_start(ap, fmt);
	*errstr = xvasprintf(fmt, ap);
	va_end(ap);
}

static int
word_is(const char *tok, const char *word)
{
	return strcasecmp(tok, word) == 0;
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
			int hi = escape_hex_value(tok[1 + 2 * i]),
			    lo = escape_hex_value(tok[2 + 2 * i]);

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

/* Parses a colour token of a style; -1 with *errstr (prefixed by where). */
static int
style_color(const char *tok, int *out, const char *where, char **errstr)
{
	char *q;

	if (parse_color(tok, out) == 0)
		return 0;
	q = quote(tok);
	theme_err_set(
	    errstr, "%s: unknown colour \"%s\" %s", where, q, COLOR_HELP);
	free(q);
	return -1;
}

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

	st->fg = st->bg = THEME_COLOR_UNSET;
	st->attrs = 0;
	if (*value == '\0') {
		theme_err_set(errstr, "%s: missing style after \"=\"", where);
		return -1;
	}
	while ((tok = next_token(&tk, &comma)) != NULL) {
		seen_comma |= comma;
		if (word_is(tok, "on")) {
			if (have_bg || st->attrs != 0 || seen_comma) {
				theme_err_set(errstr,
				    "%s: \"on\" must come once, before the "
				    "attributes",
				    where);
				return -1;
			}
			tok = next_token(&tk, &comma);
			if (tok == NULL || comma) {
				theme_err_set(
				    errstr, "%s: \"on\" needs a colour", where);
				return -1;
			}
			if (style_color(tok, &c, where, errstr) == -1)
				return -1;
			st->bg = c;
			have_bg = 1;
			continue;
		}
		if ((bit = parse_attr(tok)) != 0) {
			st->attrs |= bit;
			continue;
		}
		if (!have_fg && !have_bg && !seen_comma && st->attrs == 0) {
			if (style_color(tok, &c, where, errstr) == -1)
				return -1;
			st->fg = c;
			have_fg = 1;
			continue;
		}
		q = quote(tok);
		if (seen_comma || st->attrs != 0)
			theme_err_set(errstr, "%s: unknown attribute \"%s\" %s",
			    where, q, ATTR_HELP);
		else
			theme_err_set(errstr,
			    "%s: unexpected \"%s\" (write FG on BG, then "
			    "attributes after a comma)",
			    where, q);
		free(q);
		return -1;
	}
	return 0;
}
static void
styles_init(struct theme_style *st)
{
	size_t i;

	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		st[i].fg = st[i].bg = THEME_COLOR_UNSET;
		st[i].attrs = 0;
	}
}

/* "a -> b -> c" for a loop message; the caller frees it. */
static char *
chain_text(const struct theme_parse_ctx *ctx, const char *last)
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
chain_has(const struct theme_parse_ctx *ctx, const char *name, int user)
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
do_inherit(struct theme_parse_ctx *ctx, const char *value,
    struct theme_style *st, const char *where, char **errstr)
{
	struct tokens tk;
	char *q, *loop, *tok, *copy;
	int comma, allow_user, r = -1;

	copy = xstrdup(value);
	tk.p = copy;
	tk.comma = 0;
	tok = next_token(&tk, &comma);
	if (tok == NULL || next_token(&tk, &comma) != NULL ||
	    !theme_name_is_valid(tok)) {
		q = quote(value);
		theme_err_set(errstr,
		    "%s: inherit needs one theme name, not \"%s\"", where, q);
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
	        (chain_has(ctx, tok, 1) && theme_builtin_find(tok) == NULL))) {
		loop = chain_text(ctx, tok);
		theme_err_set(errstr, "%s: inherit loop: %s", where, loop);
		free(loop);
		goto out;
	}
	if (ctx->depth > THEME_INHERIT_DEPTH) {
		theme_err_set(errstr,
		    "%s: inherit chain too deep (more than %d)", where,
		    THEME_INHERIT_DEPTH);
		goto out;
	}
	r = theme_raw_load(ctx, tok, allow_user, st, NULL, where, errstr);
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
 * Parses text into st (unresolved: unset colours stay THEME_COLOR_UNSET).
 * source names the text in messages.  Returns 0, or -1 with *errstr.
 */
int
theme_text_parse(struct theme_parse_ctx *ctx, const char *text, size_t len,
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
		theme_err_set(errstr,
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
			theme_err_set(errstr,
			    "%s: line too long (more than %d bytes)", where,
			    THEME_LINE_MAX);
			return -1;
		}
		for (i = 0; i < n; i++) {
			c = (unsigned char)p[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				theme_err_set(errstr,
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
			theme_err_set(errstr,
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
				theme_err_set(errstr,
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
			theme_err_set(errstr,
			    "%s: unknown role \"%s\" (roles are listed in "
			    "docs/themes.md)",
			    where, q);
			free(q);
			return -1;
		}
		if (set_on[role] != 0) {
			theme_err_set(errstr,
			    "%s: role \"%s\" already set on line %zu", where,
			    theme_role_name((enum theme_role)role),
			    set_on[role]);
			return -1;
		}
		if (parse_style(value, &one, where, errstr) == -1)
			return -1;
		st[role] = one;
		set_on[role] = lineno;
		settings++;
	}
	if (settings == 0) {
		theme_err_set(errstr,
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
		theme_err_set(errstr, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		theme_err_set(errstr, "%s: not a regular file", path);
		(void)close(fd);
		return -1;
	}
	buf = xmalloc(THEME_FILE_MAX + 1);
	for (;;) {
		r = read(fd, buf + n, THEME_FILE_MAX + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			theme_err_set(errstr, "%s: %s", path, strerror(errno));
			free(buf);
			(void)close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > THEME_FILE_MAX) {
			theme_err_set(errstr,
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
int
theme_raw_load(struct theme_parse_ctx *ctx, const char *name, int allow_user,
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
			r = theme_text_parse(ctx, text, len, path, st, errstr);
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
	if ((b = theme_builtin_find(name)) == NULL) {
		if (allow_user && ctx->user_dir != NULL)
			theme_err_set(errstr,
			    "%s%sunknown theme \"%s\" (neither %s/%s%s nor a "
			    "built-in theme; see /theme)",
			    where != NULL ? where : "",
			    where != NULL ? ": " : "", name, ctx->user_dir,
			    name, THEME_SUFFIX);
		else
			theme_err_set(errstr,
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
	r = theme_text_parse(ctx, b->text, b->len, source, st, errstr);
	free(source);
	ctx->depth--;
	return r;
}
