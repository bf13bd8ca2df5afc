/*
 * Private to themes/: what the theme objects (theme.c) and the
 * theme-file parser (theme_parse.c) share.  Nothing outside themes/
 * includes this header.
 */
#ifndef EHLO_THEMES_THEME_INT_H
#define EHLO_THEMES_THEME_INT_H

#include <stddef.h>

#include "core/xmalloc.h"
#include "themes/theme.h"

/* A colour a theme file has not set yet (resolved by theme.c). */
#define THEME_COLOR_UNSET (-2)
#define THEME_SUFFIX ".theme"

struct theme_builtin;

/* One theme being loaded, for inherit lookups and loop detection. */
struct theme_link {
	const char *name;
	int user; /* 1: from the user directory, 0: built-in */
};

/* The themes being loaded, outermost first. */
struct theme_parse_ctx {
	const char *user_dir; /* NULL: inherit finds built-ins only */
	struct theme_link chain[THEME_INHERIT_DEPTH + 1];
	size_t depth; /* entries used in chain */
};

/*
 * Replaces *errstr (when errstr is not NULL) with the formatted
 * message; an earlier message is freed.
 */
void theme_err_set(char **errstr, const char *fmt, ...) EHLO_PRINTF(2, 3);

/* 1 when name is a valid theme name (it becomes part of a path). */
int theme_name_is_valid(const char *name);

/* The built-in theme of that name, or NULL. */
const struct theme_builtin *theme_builtin_find(const char *name);

/*
 * Parses text into st (THEME_ROLE_COUNT entries, unresolved: colours the
 * text leaves unset stay THEME_COLOR_UNSET).  ctx->chain holds the theme
 * being parsed as its last entry.  source names the text in messages.
 * Returns 0, or -1 with *errstr.
 */
int theme_text_parse(struct theme_parse_ctx *ctx, const char *text, size_t len,
    const char *source, struct theme_style *st, char **errstr);

/*
 * Loads theme name (user file when allow_user, else or then built-in)
 * into st, unresolved.  *path_out (when not NULL) gets the user file's
 * path, or NULL for a built-in.  where (or NULL) prefixes "unknown theme"
 * (the inherit line that asked for it).  Returns 0, or -1 with *errstr.
 */
int theme_raw_load(struct theme_parse_ctx *ctx, const char *name,
    int allow_user, struct theme_style *st, char **path_out, const char *where,
    char **errstr);

#endif
