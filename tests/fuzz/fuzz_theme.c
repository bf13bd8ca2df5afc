/*
 * Fuzz target: the theme file parser (themes/theme.c).  Any input must
 * give either a theme whose every role resolves to a valid style, or
 * NULL with a message; never both, never neither.  "inherit" only
 * reaches the built-in themes here (no user folder).
 */
#include <string.h>

#include "fuzz.h"
#include "themes/theme.h"

static int
valid_colour(int c)
{
	return c == THEME_COLOR_DEFAULT || (c >= 0 && c <= 255);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int depths[] = {0, 8, 16, 256};
	struct theme *t;
	struct theme_style st;
	char *err = NULL;
	size_t i, d;

	t = theme_parse((const char *)data, size, "fuzz.theme", &err);
	if (t == NULL) {
		fuzz_check(err != NULL && err[0] != '\0');
		free(err);
		return 0;
	}
	fuzz_check(err == NULL);
	fuzz_check(theme_name(t) != NULL);
	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		st = theme_role_get(t, (enum theme_role)i);
		fuzz_check(valid_colour(st.fg) && valid_colour(st.bg));
		for (d = 0; d < sizeof depths / sizeof depths[0]; d++) {
			st = theme_role_resolve(
			    t, (enum theme_role)i, depths[d]);
			fuzz_check(valid_colour(st.fg) && valid_colour(st.bg));
			if (depths[d] > 0)
				fuzz_check(
				    st.fg < depths[d] && st.bg < depths[d]);
		}
	}
	theme_free(t);
	return 0;
}
