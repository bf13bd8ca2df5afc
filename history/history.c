/*
 * History store location and library facts.  Only this folder includes
 * sqlite3.h (DESIGN.md section 5).
 */
#include "history/history.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "core/xmalloc.h"

char *
hist_db_path(const char *explicit_path, char **errstr)
{
	const char *v;

	if (explicit_path != NULL && *explicit_path != '\0')
		return xstrdup(explicit_path);
	if ((v = getenv("EHLO_DB")) != NULL && *v != '\0')
		return xstrdup(v);
	if ((v = getenv("XDG_DATA_HOME")) != NULL && *v == '/')
		return xasprintf("%s/ehlo/ehlo.db", v);
	if ((v = getenv("HOME")) != NULL && *v == '/')
		return xasprintf("%s/.local/share/ehlo/ehlo.db", v);
	*errstr = xstrdup("cannot place the history database: HOME is not "
	                  "set; use --db PATH or --no-history");
	return NULL;
}

const char *
hist_sqlite_version(void)
{
	return sqlite3_libversion();
}
