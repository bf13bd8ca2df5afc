/*
 * Private to history/: taking the spool files in (hist_spool_import.c),
 * which hist_open does each time it opens the database for writing.
 */
#ifndef EHLO_HISTORY_HIST_SPOOL_IMPORT_H
#define EHLO_HISTORY_HIST_SPOOL_IMPORT_H

struct hist;

/*
 * Imports the spool files waiting beside the database (their writers
 * gone) into h, opened read-write; damaged files are kept and noted in
 * h's warnings, and so is a database error, which stops the import
 * (the files wait for the next open).
 */
void hist_spool_import(struct hist *);

#endif
