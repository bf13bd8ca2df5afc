/*
 * The built-in themes, compiled into the binary so ehlo never depends on
 * an install path.  The table is generated at build time by
 * cmake/embed.cmake from themes/NAME.theme, which stay the source of
 * truth.  Private to themes/.
 */
#ifndef EHLO_THEMES_BUILTIN_H
#define EHLO_THEMES_BUILTIN_H

#include <stddef.h>

struct theme_builtin {
	const char *name; /* file stem: "dark" */
	const char *text; /* the file's bytes, NUL-terminated */
	size_t len; /* without the NUL */
};

/* Sorted by name; theme_builtin_count entries. */
extern const struct theme_builtin theme_builtins[];
extern const size_t theme_builtin_count;

#endif
