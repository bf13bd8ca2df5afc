/*
 * `ehlo practice --watch`: a running class server's connections, read
 * from the status file it keeps in its data directory (see
 * protocol/practice.h, practice_status_read()).
 */
#ifndef EHLO_TUI_PRACTICE_WATCH_H
#define EHLO_TUI_PRACTICE_WATCH_H

/*
 * Shows who is connected to the practice server whose data directory
 * is datadir (NULL: the default), the stage each has reached and its
 * last error.  once: one snapshot on stdout, then exit.  Otherwise a
 * full-screen view on a terminal (q quits), or on anything else a new
 * snapshot each time the status changes, until SIGINT/SIGTERM.
 * Returns an exit status: EXIT_OK, or EXIT_NETWORK when once finds no
 * server running (or its status file unreadable), after a message.
 */
int practice_watch(const char *datadir, int once);

#endif
