/*
 * The colour-role table (htop's roles x schemes idea): roles are fixed
 * here, schemes come from theme files.
 */
#include "themes/theme.h"

#include <string.h>

static const char *const role_names[THEME_ROLE_COUNT] = {
    [THEME_CLIENT] = "client",
    [THEME_SERVER] = "server",
    [THEME_NOTE] = "note",
    [THEME_OK] = "ok",
    [THEME_TEMPFAIL] = "tempfail",
    [THEME_PERMFAIL] = "permfail",
    [THEME_WARNING] = "warning",
    [THEME_STATUS] = "status",
};

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
	int i;

	for (i = 0; i < THEME_ROLE_COUNT; i++)
		if (strcmp(role_names[i], name) == 0)
			return i;
	return -1;
}
