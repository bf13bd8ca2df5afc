/*
 * Unit tests for themes/: every built-in theme parses and sets every
 * role; colours survive 256 -> 16 -> 8 -> none as the header promises
 * (nearest hue, bright forms, collisions that would hide text, the
 * monochrome fallback keeping roles apart); #rrggbb lands on the nearest
 * xterm-256 entry; every parse error names file, line and problem in
 * exactly the words tested here; NO_COLOR; user themes in a temporary
 * $XDG_CONFIG_HOME that shadow and inherit built-ins; theme_list(); and
 * a deterministic mutation run that feeds hostile bytes to the parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "themes/theme.h"

static const char *const builtins[] = {
    "dark", "light", "high-contrast", "monochrome"};
#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

/* Parses text as source and returns the error (the caller frees it). */
static char *
parse_error(const char *text, size_t len, const char *source)
{
	struct theme *t;
	char *err = NULL;

	t = theme_parse(text, len, source, &err);
	assert_null(t);
	assert_non_null(err);
	return err;
}

static void
assert_parse_error(const char *text, const char *source, const char *want)
{
	char *err = parse_error(text, strlen(text), source);

	assert_string_equal(err, want);
	free(err);
}

static struct theme *
parse_ok(const char *text)
{
	struct theme *t;
	char *err = NULL;

	t = theme_parse(text, strlen(text), "t.theme", &err);
	if (t == NULL)
		fail_msg("unexpected error: %s", err);
	assert_null(err);
	return t;
}

static struct theme_style
style(int fg, int bg, unsigned attrs)
{
	struct theme_style s;

	s.fg = fg;
	s.bg = bg;
	s.attrs = attrs;
	return s;
}

static void
assert_style(struct theme_style got, int fg, int bg, unsigned attrs)
{
	assert_int_equal(got.fg, fg);
	assert_int_equal(got.bg, bg);
	assert_int_equal(got.attrs, attrs);
}

static void
assert_same_style(struct theme_style a, struct theme_style b)
{
	assert_style(a, b.fg, b.bg, b.attrs);
}

/* ---- roles and built-ins ----------------------------------------- */

static void
test_role_names(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		assert_non_null(theme_role_name((enum theme_role)i));
		assert_int_equal(
		    theme_role_find(theme_role_name((enum theme_role)i)), i);
		for (j = 0; j < i; j++)
			assert_string_not_equal(
			    theme_role_name((enum theme_role)i),
			    theme_role_name((enum theme_role)j));
	}
	assert_null(theme_role_name(THEME_ROLE_COUNT));
	assert_null(theme_role_name((enum theme_role) - 1));
	assert_int_equal(theme_role_find("SERVER-5XX"), THEME_SERVER_5XX);
	assert_int_equal(theme_role_find("nope"), -1);
	/* The first table's names still work. */
	assert_int_equal(theme_role_find("server"), THEME_SERVER);
	assert_int_equal(theme_role_find("ok"), THEME_OK);
	assert_int_equal(theme_role_find("tempfail"), THEME_TEMPFAIL);
	assert_int_equal(theme_role_find("permfail"), THEME_PERMFAIL);
	assert_int_equal(theme_role_find("status"), THEME_STATUS);
	assert_string_equal(theme_role_name(THEME_STATUS), "status-bar");
}

static void
test_builtins_parse(void **state)
{
	struct theme *t, *u;
	const char *text;
	char *err = NULL, *src;
	size_t i, len;
	int r;

	(void)state;
	for (i = 0; i < NBUILTINS; i++) {
		t = theme_load(builtins[i], NULL, &err);
		if (t == NULL)
			fail_msg("%s: %s", builtins[i], err);
		assert_string_equal(theme_name(t), builtins[i]);
		assert_string_equal(theme_source(t), "built-in");
		text = theme_builtin_text(builtins[i], &len);
		assert_non_null(text);
		assert_int_equal(strlen(text), len);
		src = xasprintf("%s.theme", builtins[i]);
		u = theme_parse(text, len, src, &err);
		assert_non_null(u);
		assert_string_equal(theme_name(u), builtins[i]);
		for (r = 0; r < THEME_ROLE_COUNT; r++)
			assert_same_style(theme_role_get(t, (enum theme_role)r),
			    theme_role_get(u, (enum theme_role)r));
		free(src);
		theme_free(u);
		theme_free(t);
	}
	assert_null(theme_builtin_text("nope", NULL));
	t = theme_default();
	assert_string_equal(theme_name(t), "dark");
	theme_free(t);
	theme_free(NULL);
}

/*
 * Every built-in names every role on a line of its own (nothing is left
 * to chance), and no role's text vanishes at 256, 16 or 8 colours.
 */
static void
test_builtins_every_role(void **state)
{
	static const int depths[] = {256, 16, 8};
	struct theme *t;
	struct theme_style s;
	const char *text;
	char *needle;
	size_t i, d;
	int r;

	(void)state;
	for (i = 0; i < NBUILTINS; i++) {
		text = theme_builtin_text(builtins[i], NULL);
		t = theme_load(builtins[i], NULL, NULL);
		assert_non_null(t);
		for (r = 0; r < THEME_ROLE_COUNT; r++) {
			needle = xasprintf(
			    "\n%s ", theme_role_name((enum theme_role)r));
			if (strstr(text, needle) == NULL)
				fail_msg("%s does not set %s", builtins[i],
				    needle + 1);
			free(needle);
			for (d = 0; d < sizeof(depths) / sizeof(depths[0]);
			     d++) {
				s = theme_role_resolve(
				    t, (enum theme_role)r, depths[d]);
				assert_true(s.fg >= -1 && s.fg < depths[d]);
				assert_true(s.bg >= -1 && s.bg < depths[d]);
				if (s.fg >= 0 && s.fg == s.bg)
					fail_msg(
					    "%s %s at %d colours: fg == bg",
					    builtins[i],
					    theme_role_name((enum theme_role)r),
					    depths[d]);
			}
		}
		theme_free(t);
	}
}

/* Roles that must stay apart without colour. */
static void
assert_distinct(const struct theme *t, const enum theme_role *roles, size_t n)
{
	struct theme_style a, b;
	size_t i, j;

	for (i = 0; i < n; i++) {
		a = theme_role_resolve(t, roles[i], 0);
		assert_int_equal(a.fg, THEME_COLOR_DEFAULT);
		assert_int_equal(a.bg, THEME_COLOR_DEFAULT);
		for (j = 0; j < i; j++) {
			b = theme_role_resolve(t, roles[j], 0);
			if (a.attrs == b.attrs)
				fail_msg("%s and %s look the same without "
				         "colour",
				    theme_role_name(roles[i]),
				    theme_role_name(roles[j]));
		}
	}
}

static void
test_monochrome(void **state)
{
	static const enum theme_role replies[] = {THEME_CLIENT,
	    THEME_SERVER_2XX, THEME_SERVER_3XX, THEME_SERVER_4XX,
	    THEME_SERVER_5XX, THEME_SERVER_OTHER, THEME_NOTE, THEME_ERROR};
	static const enum theme_role stages[] = {THEME_STAGE_PENDING,
	    THEME_STAGE_OK, THEME_STAGE_TEMPFAIL, THEME_STAGE_PERMFAIL,
	    THEME_STAGE_ERROR};
	static const enum theme_role prompts[] = {
	    THEME_INPUT, THEME_PROMPT, THEME_CONTENT_PROMPT};
	struct theme *t;
	size_t i;

	(void)state;
	for (i = 0; i < NBUILTINS; i++) {
		/* Whatever the theme, no colour means the same attributes. */
		t = theme_load(builtins[i], NULL, NULL);
		assert_distinct(t, replies, sizeof(replies) / sizeof(*replies));
		assert_distinct(t, stages, sizeof(stages) / sizeof(*stages));
		assert_distinct(t, prompts, sizeof(prompts) / sizeof(*prompts));
		assert_style(theme_role_resolve(t, THEME_SERVER_5XX, 0), -1, -1,
		    THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE);
		assert_style(theme_role_resolve(t, THEME_SERVER_4XX, 0), -1, -1,
		    THEME_ATTR_UNDERLINE);
		assert_style(theme_role_resolve(t, THEME_SELECTION, 1), -1, -1,
		    THEME_ATTR_REVERSE);
		assert_true(theme_role_resolve(t, THEME_STATUS, 0).attrs &
		    THEME_ATTR_REVERSE);
		assert_true(
		    theme_role_resolve(t, THEME_COMPLETION_SELECTED, 0).attrs &
		    THEME_ATTR_REVERSE);
		/* Out of range: the default role. */
		assert_style(
		    theme_role_resolve(t, THEME_ROLE_COUNT, 0), -1, -1, 0);
		theme_free(t);
	}
	/* The monochrome theme has no colour even at 256. */
	t = theme_load("monochrome", NULL, NULL);
	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		assert_int_equal(theme_role_get(t, (enum theme_role)i).fg, -1);
		assert_int_equal(theme_role_get(t, (enum theme_role)i).bg, -1);
	}
	theme_free(t);
}

/* ---- colours ----------------------------------------------------- */

static void
assert_16(int c, int want)
{
	struct theme_style s = theme_degrade(style(c, -1, 0), 16);

	if (s.fg != want)
		fail_msg("%d at 16 colours: got %d, want %d", c, s.fg, want);
	assert_int_equal(s.attrs, 0);
}

static void
test_degrade_16(void **state)
{
	int c;

	(void)state;
	/* 256 colours: untouched. */
	assert_style(theme_degrade(style(203, 24, THEME_ATTR_BOLD), 256), 203,
	    24, THEME_ATTR_BOLD);
	for (c = 0; c < 16; c++)
		assert_16(c, c);
	/* The cube's corners and edges. */
	assert_16(16, 0); /* #000000 */
	assert_16(196, 9); /* #ff0000 */
	assert_16(160, 1); /* #d70000 */
	assert_16(124, 1); /* #af0000 */
	assert_16(46, 10); /* #00ff00 */
	assert_16(28, 2); /* #008700 */
	assert_16(21, 12); /* #0000ff */
	assert_16(24, 4); /* #005f87: blue, not cyan */
	assert_16(51, 14); /* #00ffff */
	assert_16(201, 13); /* #ff00ff */
	assert_16(226, 11); /* #ffff00 */
	assert_16(231, 15); /* #ffffff */
	assert_16(52, 0); /* #5f0000: nearly black */
	/* Pastels keep their hue instead of turning grey. */
	assert_16(114, 10); /* #87d787 */
	assert_16(203, 9); /* #ff5f5f */
	assert_16(214, 11); /* #ffaf00 orange */
	assert_16(177, 13); /* #d787ff */
	assert_16(81, 14); /* #5fd7ff */
	/* Greys by lightness; weakly coloured entries count as grey. */
	assert_16(232, 0); /* #080808 */
	assert_16(236, 0); /* #303030 */
	assert_16(238, 8); /* #444444 */
	assert_16(244, 8); /* #808080 */
	assert_16(250, 7); /* #bcbcbc */
	assert_16(255, 15); /* #eeeeee */
	assert_16(109, 7); /* #87afaf */
	assert_16(153, 15); /* #afd7ff */
	/* Default stays default. */
	assert_style(theme_degrade(style(-1, -1, THEME_ATTR_DIM), 16), -1, -1,
	    THEME_ATTR_DIM);
	/* Backgrounds map the same way. */
	assert_style(theme_degrade(style(231, 24, 0), 16), 15, 4, 0);
}

static void
test_degrade_8(void **state)
{
	int c;

	(void)state;
	for (c = 0; c < 8; c++)
		assert_style(theme_degrade(style(c, c == 0 ? 7 : 0, 0), 8), c,
		    c == 0 ? 7 : 0, 0);
	/* bright-X -> X, and bold for a foreground (shown as bright). */
	for (c = 9; c < 16; c++)
		assert_style(theme_degrade(style(c, -1, 0), 8), c - 8, -1,
		    THEME_ATTR_BOLD);
	for (c = 9; c < 16; c++)
		assert_style(theme_degrade(style(-1, c, THEME_ATTR_ITALIC), 8),
		    -1, c - 8, THEME_ATTR_ITALIC);
	/* bright-black -> dim white; as a background, white. */
	assert_style(theme_degrade(style(8, -1, 0), 8), 7, -1, THEME_ATTR_DIM);
	assert_style(theme_degrade(style(0, 8, 0), 8), 0, 7, 0);
	/* 256 -> 16 -> 8. */
	assert_style(
	    theme_degrade(style(196, -1, 0), 8), 1, -1, THEME_ATTR_BOLD);
	assert_style(theme_degrade(style(160, -1, 0), 8), 1, -1, 0);
	assert_style(
	    theme_degrade(style(244, -1, 0), 8), 7, -1, THEME_ATTR_DIM);
	assert_style(theme_degrade(style(255, 24, THEME_ATTR_BOLD), 8), 7, 4,
	    THEME_ATTR_BOLD);
	assert_style(theme_degrade(style(232, 117, 0), 8), 0, 6, 0);
	/* Colours that do not fit a terminal of 8..15 degrade as for 8. */
	assert_style(
	    theme_degrade(style(196, -1, 0), 15), 1, -1, THEME_ATTR_BOLD);
}

static void
test_degrade_collisions(void **state)
{
	(void)state;
	/* Different colours that would collapse into one: readable text. */
	assert_style(theme_degrade(style(250, 252, 0), 16), 0, 7, 0);
	assert_style(theme_degrade(style(244, 255, 0), 8), 0, 7, 0);
	assert_style(theme_degrade(style(15, 7, THEME_ATTR_BOLD), 8), 0, 7,
	    THEME_ATTR_BOLD);
	assert_style(theme_degrade(style(233, 16, 0), 16), 15, 0, 0);
	assert_style(theme_degrade(style(233, 16, 0), 8), 7, 0, 0);
	/* The same colour on purpose is left alone. */
	assert_style(theme_degrade(style(4, 4, 0), 8), 4, 4, 0);
	/* No colours: attributes only. */
	assert_style(theme_degrade(style(196, 24, THEME_ATTR_UNDERLINE), 0), -1,
	    -1, THEME_ATTR_UNDERLINE);
	assert_style(theme_degrade(style(196, 24, 0), 2), -1, -1, 0);
}

static void
test_rgb(void **state)
{
	struct theme *t;

	(void)state;
	assert_int_equal(theme_color_from_rgb(0xff, 0x00, 0x00), 196);
	assert_int_equal(theme_color_from_rgb(0x00, 0x00, 0x00), 16);
	assert_int_equal(theme_color_from_rgb(0xff, 0xff, 0xff), 231);
	assert_int_equal(theme_color_from_rgb(0x80, 0x80, 0x80), 244);
	assert_int_equal(theme_color_from_rgb(0x5f, 0x87, 0xaf), 67);
	assert_int_equal(theme_color_from_rgb(0x08, 0x08, 0x08), 232);
	assert_int_equal(theme_color_from_rgb(0xee, 0xee, 0xee), 255);
	assert_int_equal(theme_color_from_rgb(0xd7, 0x00, 0x00), 160);
	/* Nearest, not exact. */
	assert_int_equal(theme_color_from_rgb(0xfe, 0x01, 0x02), 196);
	assert_int_equal(theme_color_from_rgb(0x30, 0x30, 0x31), 236);
	assert_int_equal(theme_color_from_rgb(0xd0, 0x70, 0x10), 166);
	assert_int_equal(theme_color_from_rgb(999, 999, 999), 231);

	t = parse_ok("client = #FF0000 on #5f87af, bold # a comment\n"
	             "note = #d07010\n");
	assert_style(theme_role_get(t, THEME_CLIENT), 196, 67, THEME_ATTR_BOLD);
	assert_style(theme_role_get(t, THEME_NOTE), 166, -1, 0);
	theme_free(t);
}

/* ---- the file format --------------------------------------------- */

static void
test_syntax(void **state)
{
	struct theme *t;

	(void)state;
	t = parse_ok("# comment\n"
	             "   # indented comment\n"
	             "\n"
	             "default = 235 on 231\r\n"
	             "client = 25\r\n"
	             "status-bar = on 24\n"
	             "title = bold underline\n"
	             "selection=Bright-White ON blue,reverse,  italic\n"
	             "\tnote\t=\tdefault on default , dim\n"
	             "server = red # alias of server-2xx\n"
	             "timestamp = 8 on 255");
	assert_string_equal(theme_name(t), "t");
	assert_string_equal(theme_source(t), "t.theme");
	/* Unset colours come from the default role. */
	assert_style(theme_role_get(t, THEME_DEFAULT), 235, 231, 0);
	assert_style(theme_role_get(t, THEME_CLIENT), 25, 231, 0);
	assert_style(theme_role_get(t, THEME_STATUS), 235, 24, 0);
	assert_style(theme_role_get(t, THEME_TITLE), 235, 231,
	    THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE);
	assert_style(theme_role_get(t, THEME_SELECTION), 15, 4,
	    THEME_ATTR_REVERSE | THEME_ATTR_ITALIC);
	assert_style(theme_role_get(t, THEME_NOTE), -1, -1, THEME_ATTR_DIM);
	assert_style(theme_role_get(t, THEME_SERVER_2XX), 1, 231, 0);
	assert_style(theme_role_get(t, THEME_TIMESTAMP), 8, 255, 0);
	/* Roles the file does not name: the default role. */
	assert_style(theme_role_get(t, THEME_POPUP), 235, 231, 0);
	assert_style(theme_role_get(t, THEME_ROLE_COUNT), 235, 231, 0);
	theme_free(t);

	/* A theme without a default role: the terminal's colours. */
	t = parse_ok("client = red");
	assert_style(theme_role_get(t, THEME_CLIENT), 1, -1, 0);
	assert_style(theme_role_get(t, THEME_DEFAULT), -1, -1, 0);
	theme_free(t);

	/* A theme name comes from the file name, path and suffix dropped. */
	t = theme_parse("client = red", 12, "/x/y/my.theme", NULL);
	assert_string_equal(theme_name(t), "my");
	assert_string_equal(theme_source(t), "/x/y/my.theme");
	theme_free(t);
	/* Text need not be NUL-terminated: len is the end. */
	t = theme_parse("client = redXX", 12, "n.theme", NULL);
	assert_style(theme_role_get(t, THEME_CLIENT), 1, -1, 0);
	theme_free(t);
}

static void
test_inherit(void **state)
{
	struct theme *t, *light;

	(void)state;
	light = theme_load("light", NULL, NULL);
	t = parse_ok("# mine\ninherit = light\nclient = red\n");
	/* The parent's default background reaches the child's roles. */
	assert_style(theme_role_get(t, THEME_CLIENT), 1, 231, 0);
	assert_style(theme_role_get(t, THEME_SERVER_5XX),
	    theme_role_get(light, THEME_SERVER_5XX).fg, 231, THEME_ATTR_BOLD);
	theme_free(t);
	/* A child's default reaches the parent's roles with unset colours. */
	t = parse_ok("inherit = light\ndefault = 0 on 15\n");
	assert_style(theme_role_get(t, THEME_TIMESTAMP), 244, 15, 0);
	theme_free(t);
	theme_free(light);
	/* Inheriting only is a whole theme. */
	t = parse_ok("inherit = high-contrast\n");
	assert_style(theme_role_get(t, THEME_DEFAULT), 15, 0, 0);
	theme_free(t);
	/* theme_parse: a theme that shadows a built-in may inherit it. */
	t = theme_parse(
	    "inherit = dark\nclient = red\n", 28, "dark.theme", NULL);
	assert_non_null(t);
	assert_style(theme_role_get(t, THEME_CLIENT), 1, -1, 0);
	theme_free(t);
}

static void
test_errors(void **state)
{
	char text[THEME_FILE_MAX + 2], *err;
	size_t i;

	(void)state;
	assert_parse_error("# one\n# two\nclinet = red\n", "x.theme",
	    "x.theme:3: unknown role \"clinet\" (roles are listed in "
	    "docs/themes.md)");
	assert_parse_error("#\n#\n#\n#\n#\n#\n#\n#\n#\n#\n\nclient = purpel\n",
	    "dark.theme",
	    "dark.theme:12: unknown colour \"purpel\" (expected default, a "
	    "colour name, bright-NAME, 0-255 or #rrggbb)");
	assert_parse_error("client = 256", "x.theme",
	    "x.theme:1: unknown colour \"256\" (expected default, a colour "
	    "name, bright-NAME, 0-255 or #rrggbb)");
	assert_parse_error("client = red on #ff00", "x.theme",
	    "x.theme:1: unknown colour \"#ff00\" (expected default, a colour "
	    "name, bright-NAME, 0-255 or #rrggbb)");
	assert_parse_error("client = bright-", "x.theme",
	    "x.theme:1: unknown colour \"bright-\" (expected default, a "
	    "colour name, bright-NAME, 0-255 or #rrggbb)");
	assert_parse_error("client = red # comment\nnote = #", "x.theme",
	    "x.theme:2: missing style after \"=\"");
	assert_parse_error("client = #gggggg", "x.theme",
	    "x.theme:1: unknown colour \"#gggggg\" (expected default, a "
	    "colour name, bright-NAME, 0-255 or #rrggbb)");
	assert_parse_error("\nclient = red, blink", "x.theme",
	    "x.theme:2: unknown attribute \"blink\" (expected bold, "
	    "underline, reverse, dim or italic)");
	assert_parse_error("client = bold red", "x.theme",
	    "x.theme:1: unknown attribute \"red\" (expected bold, underline, "
	    "reverse, dim or italic)");
	assert_parse_error("client = red blue", "x.theme",
	    "x.theme:1: unexpected \"blue\" (write FG on BG, then attributes "
	    "after a comma)");
	assert_parse_error(
	    "client = red on", "x.theme", "x.theme:1: \"on\" needs a colour");
	assert_parse_error("client = red on blue on green", "x.theme",
	    "x.theme:1: \"on\" must come once, before the attributes");
	assert_parse_error(
	    "client =   ", "x.theme", "x.theme:1: missing style after \"=\"");
	assert_parse_error("client red", "x.theme",
	    "x.theme:1: expected \"ROLE = COLOUR [on COLOUR] [, ATTRIBUTES]\" "
	    "or \"inherit = THEME\"");
	assert_parse_error("client = red\nnote = blue\nCLIENT = green\n",
	    "x.theme", "x.theme:3: role \"client\" already set on line 1");
	assert_parse_error("client = red\ninherit = dark\n", "x.theme",
	    "x.theme:2: inherit must come first, and once");
	assert_parse_error("inherit = dark\ninherit = light\n", "x.theme",
	    "x.theme:2: inherit must come first, and once");
	assert_parse_error("inherit = nosuch\n", "x.theme",
	    "x.theme:1: unknown theme \"nosuch\" (not a built-in theme; see "
	    "/theme)");
	assert_parse_error("inherit = ../../etc/passwd\n", "x.theme",
	    "x.theme:1: inherit needs one theme name, not "
	    "\"../../etc/passwd\"");
	assert_parse_error("inherit = a b\n", "x.theme",
	    "x.theme:1: inherit needs one theme name, not \"a b\"");
	/* A file that inherits itself (no built-in of that name). */
	assert_parse_error("inherit = loop\n", "loop.theme",
	    "loop.theme:1: inherit loop: loop -> loop");
	/* Escaped in messages: the terminal never sees raw bytes. */
	assert_parse_error("client = r\xc3\xa9\xff", "x.theme",
	    "x.theme:1: unknown colour \"r\xc3\xa9\\xFF\" (expected default, a "
	    "colour name, bright-NAME, 0-255 or #rrggbb)");

	/* Overlong line: 256 bytes is fine, 257 is not (CR not counted). */
	memset(text, '#', 256);
	memcpy(text + 256, "\r\nclient = red\n", 16);
	theme_free(parse_ok(text));
	memset(text, ' ', 300);
	memcpy(text, "client = red\n", 13);
	memcpy(text + 300, "\n", 2);
	assert_parse_error(
	    text, "x.theme", "x.theme:2: line too long (more than 256 bytes)");

	/* Binary garbage. */
	err = parse_error("\x7f"
	                  "ELF\x02\x01\x01\x00\x00\x00",
	    10, "x.theme");
	assert_string_equal(
	    err, "x.theme:1: control byte 0x7f (a theme is a text file)");
	free(err);
	err = parse_error("client = red\nnote = blue\0\n", 26, "x.theme");
	assert_string_equal(
	    err, "x.theme:2: control byte 0x00 (a theme is a text file)");
	free(err);
	assert_parse_error("client = red\x1b[31m\n", "x.theme",
	    "x.theme:1: control byte 0x1b (a theme is a text file)");
	assert_parse_error("client = red\rnote = blue\n", "x.theme",
	    "x.theme:1: control byte 0x0d (a theme is a text file)");

	/* Empty: an error, not a silently colourless theme. */
	assert_parse_error("", "empty.theme",
	    "empty.theme: empty theme (no settings; start from \"inherit = "
	    "dark\" and add role lines)");
	assert_parse_error("# only\n\n   \n# comments\n", "empty.theme",
	    "empty.theme: empty theme (no settings; start from \"inherit = "
	    "dark\" and add role lines)");

	/* Size cap. */
	for (i = 0; i < sizeof(text); i++)
		text[i] = i % 64 == 63 ? '\n' : '#';
	err = parse_error(text, THEME_FILE_MAX + 1, "big.theme");
	assert_string_equal(
	    err, "big.theme: file too large (65537 bytes; the limit is 65536)");
	free(err);
	/* errstr may be NULL. */
	assert_null(theme_parse("nope", 4, "x.theme", NULL));
}

/* ---- environment and files --------------------------------------- */

static void
test_no_color(void **state)
{
	(void)state;
	assert_int_equal(unsetenv("NO_COLOR"), 0);
	assert_int_equal(theme_no_color(), 0);
	assert_int_equal(setenv("NO_COLOR", "", 1), 0);
	assert_int_equal(theme_no_color(), 0);
	assert_int_equal(setenv("NO_COLOR", "1", 1), 0);
	assert_int_equal(theme_no_color(), 1);
	assert_int_equal(setenv("NO_COLOR", "0", 1), 0);
	assert_int_equal(theme_no_color(), 1);
	assert_int_equal(unsetenv("NO_COLOR"), 0);
}

struct tmp {
	char root[64];
	char *dir; /* root/ehlo/themes */
};

static void
write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(path);
}

static int
tmp_setup(void **state)
{
	struct tmp *t = xcalloc(1, sizeof(*t));
	char *p;

	(void)snprintf(t->root, sizeof(t->root), "/tmp/ehlo-theme-XXXXXX");
	if (mkdtemp(t->root) == NULL)
		return -1;
	if (setenv("XDG_CONFIG_HOME", t->root, 1) != 0)
		return -1;
	t->dir = theme_user_dir();
	p = xasprintf("%s/ehlo", t->root);
	if (mkdir(p, 0700) != 0 || mkdir(t->dir, 0700) != 0)
		return -1;
	free(p);
	*state = t;
	return 0;
}

/* Removes dir and what the tests put in it (files and empty dirs). */
static int
remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *p;
	int rc = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (unlink(p) != 0 && remove_tree(p) != 0)
			rc = -1;
		free(p);
	}
	(void)closedir(d);
	return rmdir(dir) == 0 ? rc : -1;
}

static int
tmp_teardown(void **state)
{
	struct tmp *t = *state;
	int rc;

	rc = remove_tree(t->root);
	free(t->dir);
	free(t);
	(void)unsetenv("XDG_CONFIG_HOME");
	return rc;
}

static void
test_user_dir(void **state)
{
	struct tmp *tmp = *state;
	char *d, *want;

	want = xasprintf("%s/ehlo/themes", tmp->root);
	assert_string_equal(tmp->dir, want);
	free(want);
	/* XDG_CONFIG_HOME must be absolute; else ~/.config. */
	assert_int_equal(setenv("XDG_CONFIG_HOME", "relative", 1), 0);
	assert_int_equal(setenv("HOME", "/home/u", 1), 0);
	d = theme_user_dir();
	assert_string_equal(d, "/home/u/.config/ehlo/themes");
	free(d);
	assert_int_equal(unsetenv("XDG_CONFIG_HOME"), 0);
	d = theme_user_dir();
	assert_string_equal(d, "/home/u/.config/ehlo/themes");
	free(d);
	assert_int_equal(unsetenv("HOME"), 0);
	assert_null(theme_user_dir());
	assert_int_equal(setenv("XDG_CONFIG_HOME", tmp->root, 1), 0);
}

static void
test_user_override(void **state)
{
	struct tmp *tmp = *state;
	struct theme *t, *dark;
	char *err = NULL, *want, *path;

	dark = theme_load("dark", NULL, NULL);
	/* A user file shadows the built-in and may inherit it. */
	write_file(tmp->dir, "dark.theme", "inherit = dark\nclient = red\n");
	t = theme_load("dark", tmp->dir, &err);
	assert_non_null(t);
	assert_null(err);
	path = xasprintf("%s/dark.theme", tmp->dir);
	assert_string_equal(theme_source(t), path);
	assert_string_equal(theme_name(t), "dark");
	assert_style(theme_role_get(t, THEME_CLIENT), 1, -1, 0);
	assert_same_style(theme_role_get(t, THEME_SERVER_5XX),
	    theme_role_get(dark, THEME_SERVER_5XX));
	theme_free(t);
	/* Without the user dir, the built-in. */
	t = theme_load("dark", NULL, NULL);
	assert_string_equal(theme_source(t), "built-in");
	theme_free(t);

	/* A user theme inheriting another user theme. */
	write_file(tmp->dir, "mine.theme", "inherit = dark\nnote = blue\n");
	t = theme_load("mine", tmp->dir, NULL);
	assert_style(theme_role_get(t, THEME_CLIENT), 1, -1, 0);
	assert_style(theme_role_get(t, THEME_NOTE), 4, -1, 0);
	theme_free(t);

	/* A bad user file: the error, then the built-in default. */
	write_file(tmp->dir, "dark.theme", "inherit = dark\nclient = purpel\n");
	t = theme_load_or_default("dark", tmp->dir, &err);
	want = xasprintf("%s:2: unknown colour \"purpel\" (expected default, a "
	                 "colour name, bright-NAME, 0-255 or #rrggbb)",
	    path);
	assert_string_equal(err, want);
	free(want);
	free(err);
	err = NULL;
	assert_string_equal(theme_name(t), "dark");
	assert_string_equal(theme_source(t), "built-in");
	assert_same_style(theme_role_get(t, THEME_CLIENT),
	    theme_role_get(dark, THEME_CLIENT));
	theme_free(t);
	/* An error in an inherited user file names that file. */
	t = theme_load("mine", tmp->dir, &err);
	assert_null(t);
	want = xasprintf("%s:2: unknown colour \"purpel\" (expected default, a "
	                 "colour name, bright-NAME, 0-255 or #rrggbb)",
	    path);
	assert_string_equal(err, want);
	free(want);
	free(err);
	err = NULL;
	free(path);

	/* Inherit loops between user files. */
	write_file(tmp->dir, "a.theme", "# a\ninherit = b\n");
	write_file(tmp->dir, "b.theme", "inherit = a\n");
	assert_null(theme_load("a", tmp->dir, &err));
	want = xasprintf("%s/b.theme:1: inherit loop: a -> b -> a", tmp->dir);
	assert_string_equal(err, want);
	free(want);
	free(err);
	err = NULL;
	/* dark (user) -> light (user) -> dark: the built-in dark, no loop. */
	write_file(tmp->dir, "dark.theme", "inherit = light\n");
	write_file(tmp->dir, "light.theme", "inherit = dark\nclient = red\n");
	t = theme_load("dark", tmp->dir, &err);
	assert_non_null(t);
	assert_style(theme_role_get(t, THEME_CLIENT), 1, -1, 0);
	theme_free(t);

	/* Names never leave the directory. */
	assert_null(theme_load("../dark", tmp->dir, &err));
	assert_string_equal(err,
	    "invalid theme name \"../dark\" (letters, "
	    "digits, '-', '_' and '.' only)");
	free(err);
	err = NULL;
	assert_null(theme_load(".hidden", tmp->dir, &err));
	free(err);
	err = NULL;
	assert_null(theme_load("", tmp->dir, NULL));
	/* Unknown. */
	assert_null(theme_load("nosuch", tmp->dir, &err));
	want = xasprintf("unknown theme \"nosuch\" (neither %s/nosuch.theme "
	                 "nor a built-in theme; see /theme)",
	    tmp->dir);
	assert_string_equal(err, want);
	free(want);
	free(err);
	err = NULL;
	t = theme_load_or_default("nosuch", NULL, &err);
	assert_string_equal(err,
	    "unknown theme \"nosuch\" (not a built-in "
	    "theme; see /theme)");
	assert_string_equal(theme_name(t), "dark");
	free(err);
	theme_free(t);
	/* A directory where a file should be. */
	path = xasprintf("%s/dir.theme", tmp->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	err = NULL;
	assert_null(theme_load("dir", tmp->dir, &err));
	want = xasprintf("%s: not a regular file", path);
	assert_string_equal(err, want);
	free(want);
	free(err);
	free(path);
	theme_free(dark);
}

static void
test_list(void **state)
{
	struct tmp *tmp = *state;
	char **v;
	size_t n;

	v = theme_list(NULL, &n);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "dark");
	assert_string_equal(v[1], "high-contrast");
	assert_string_equal(v[2], "light");
	assert_string_equal(v[3], "monochrome");
	assert_null(v[4]);
	theme_list_free(v);

	write_file(tmp->dir, "zz-mine.theme", "inherit = dark\n");
	write_file(tmp->dir, "dark.theme", "inherit = dark\n");
	write_file(tmp->dir, "abc.theme", "inherit = dark\n");
	write_file(tmp->dir, "bad name.theme", "inherit = dark\n");
	write_file(tmp->dir, ".hidden.theme", "inherit = dark\n");
	write_file(tmp->dir, "notes.txt", "hello\n");
	write_file(tmp->dir, ".theme", "inherit = dark\n");
	v = theme_list(tmp->dir, &n);
	assert_int_equal(n, 6);
	assert_string_equal(v[0], "abc");
	assert_string_equal(v[1], "dark");
	assert_string_equal(v[2], "high-contrast");
	assert_string_equal(v[3], "light");
	assert_string_equal(v[4], "monochrome");
	assert_string_equal(v[5], "zz-mine");
	assert_null(v[6]);
	theme_list_free(v);
	/* A missing directory: the built-ins. */
	v = theme_list("/nonexistent/ehlo", NULL);
	assert_string_equal(v[0], "dark");
	assert_null(v[4]);
	theme_list_free(v);
	theme_list_free(NULL);
}

/* ---- hostile input ----------------------------------------------- */

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Mutated built-ins and random bytes: every call returns a theme or an
 * error, never both, never a crash (ASan/UBSan builds check the rest).
 */
static void
test_fuzz(void **state)
{
	static const char alphabet[] = "= ,#\n\r\t0123456789abcdefonbright-"
	                               "\x80\xff\x01";
	char buf[4096], *err;
	const char *src;
	size_t len, i, k, nmut;
	uint32_t seed = 0x9e3779b9u;
	struct theme *t;
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		if (round % 4 == 0) {
			len = rnd(&seed) % 300;
			for (i = 0; i < len; i++)
				buf[i] = (char)(rnd(&seed) & 0xff);
		} else {
			src = theme_builtin_text(
			    builtins[rnd(&seed) % NBUILTINS], &len);
			if (len > sizeof(buf))
				len = sizeof(buf);
			memcpy(buf, src, len);
			nmut = 1 + rnd(&seed) % 8;
			for (k = 0; k < nmut && len > 0; k++) {
				i = rnd(&seed) % len;
				buf[i] = alphabet[rnd(&seed) %
				    (sizeof(alphabet) - 1)];
			}
			if (round % 7 == 0)
				len = rnd(&seed) % (len + 1);
		}
		err = NULL;
		t = theme_parse(buf, len, "fuzz.theme", &err);
		assert_true((t == NULL) != (err == NULL));
		if (t != NULL) {
			for (i = 0; i < THEME_ROLE_COUNT; i++) {
				struct theme_style s =
				    theme_role_get(t, (enum theme_role)i);

				assert_true(s.fg >= -1 && s.fg <= 255);
				assert_true(s.bg >= -1 && s.bg <= 255);
			}
		} else {
			assert_int_equal(strncmp(err, "fuzz.theme", 10), 0);
		}
		theme_free(t);
		free(err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_role_names),
	    cmocka_unit_test(test_builtins_parse),
	    cmocka_unit_test(test_builtins_every_role),
	    cmocka_unit_test(test_monochrome),
	    cmocka_unit_test(test_degrade_16),
	    cmocka_unit_test(test_degrade_8),
	    cmocka_unit_test(test_degrade_collisions),
	    cmocka_unit_test(test_rgb),
	    cmocka_unit_test(test_syntax),
	    cmocka_unit_test(test_inherit),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_no_color),
	    cmocka_unit_test_setup_teardown(
	        test_user_dir, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_user_override, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_list, tmp_setup, tmp_teardown),
	    cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
