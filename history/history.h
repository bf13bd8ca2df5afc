/*
 * The history store (SQLite): where it lives.  Sessions, events and
 * drafts arrive with the history issue; this is the path contract of
 * DESIGN.md section 6 that every part already relies on.
 */
#ifndef EHLO_HISTORY_HISTORY_H
#define EHLO_HISTORY_HISTORY_H

/*
 * The database path: explicit (--db) if non-NULL, else $EHLO_DB, else
 * $XDG_DATA_HOME/ehlo/ehlo.db, else $HOME/.local/share/ehlo/ehlo.db.
 * Returns an allocated string, or NULL with *errstr when no home is known.
 */
char *hist_db_path(const char *explicit_path, char **errstr);

/* The SQLite library version, for `ehlo --version`. */
const char *hist_sqlite_version(void);

#endif
