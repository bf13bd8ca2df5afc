/*
 * The ground floor of themes/: the colour-role table (htop's roles x
 * schemes idea) with its names and the aliases older theme files use,
 * the rule for theme names, and the lookup of built-in themes.  The
 * parser (theme_parse.c) and the theme objects (theme.c) both stand on
 * it; it calls neither.
 */
#include "themes/theme.h"

#include <string.h>
#include <strings.h>

#include "themes/builtin.h"
#include "themes/theme_int.h"

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

int
theme_name_is_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > THEME_NAME_MAX || name[0] == '.')
		return 0;
	return strspn(name,
	           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	           "0123456789-_.") == n;
}

const struct theme_builtin *
theme_builtin_find(const char *name)
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
	const struct theme_builtin *b = theme_builtin_find(name);

	if (b == NULL)
		return NULL;
	if (len != NULL)
		*len = b->len;
	return b->text;
}
