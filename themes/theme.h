/*
 * Colour roles of the workbench.  Theme files map roles to colours; the
 * loader and the files arrive with the workbench issue.  The role table
 * is the contract between the UI and the theme files.
 */
#ifndef EHLO_THEMES_THEME_H
#define EHLO_THEMES_THEME_H

enum theme_role {
	THEME_CLIENT, /* C: lines */
	THEME_SERVER, /* S: lines */
	THEME_NOTE, /* *: lines */
	THEME_OK, /* positive replies, finished stages */
	THEME_TEMPFAIL, /* 4xx */
	THEME_PERMFAIL, /* 5xx */
	THEME_WARNING,
	THEME_STATUS,
	THEME_ROLE_COUNT
};

/* "client", "server", ...; NULL for an out-of-range role. */
const char *theme_role_name(enum theme_role);
/* The role for a name, or -1. */
int theme_role_find(const char *name);

#endif
