/*
 * Themes as objects: loading a theme by name from the user directory
 * or the built-in ones, the theme's resolved styles per role, the
 * monochrome fallback, and the lists of theme names.  The role table
 * and the built-in lookup are theme_role.c's; theme files are parsed by
 * theme_parse.c; colours are mapped down to a terminal by
 * theme_color.c.
 *
 * A theme is one struct theme_style per role.  The parser leaves colours
 * a file does not set as THEME_COLOR_UNSET; theme_new() gives them the
 * "default" role's colour (and an unset default role the terminal's own).
 */
#include "themes/theme.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "themes/builtin.h"
#include "themes/theme_int.h"

#define DEFAULT_THEME "dark"
#define MONO_THEME "monochrome"
#define USER_LIST_MAX 1024

struct theme {
	char *name;
	char *source; /* "built-in" or a path */
	struct theme_style st[THEME_ROLE_COUNT];
};

/* Unset colours take the default role's; an unset default is -1. */
static void
styles_resolve(struct theme_style *st)
{
	size_t i;

	if (st[THEME_DEFAULT].fg == THEME_COLOR_UNSET)
		st[THEME_DEFAULT].fg = THEME_COLOR_DEFAULT;
	if (st[THEME_DEFAULT].bg == THEME_COLOR_UNSET)
		st[THEME_DEFAULT].bg = THEME_COLOR_DEFAULT;
	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		if (st[i].fg == THEME_COLOR_UNSET)
			st[i].fg = st[THEME_DEFAULT].fg;
		if (st[i].bg == THEME_COLOR_UNSET)
			st[i].bg = st[THEME_DEFAULT].bg;
	}
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
	struct theme_parse_ctx ctx;
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
	if (theme_text_parse(&ctx, text, len, source_name, st, errstr) == -1) {
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
	struct theme_parse_ctx ctx;
	struct theme_style st[THEME_ROLE_COUNT];
	struct theme *t;
	char *path, *q;

	if (name == NULL || !theme_name_is_valid(name)) {
		q = escape_dup(
		    name != NULL ? name : "", name != NULL ? strlen(name) : 0);
		theme_err_set(errstr,
		    "invalid theme name \"%s\" (letters, digits, '-', '_' "
		    "and '.' only)",
		    q);
		free(q);
		return NULL;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.user_dir = user_dir;
	if (theme_raw_load(&ctx, name, 1, st, &path, NULL, errstr) == -1)
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
			if (!theme_name_is_valid(name)) {
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
