/*
 * Standard output held back until what it shows is in the history
 * (DESIGN.md section 6: a crash loses nothing that was on screen).
 *
 * Line mode prints the dialogue through outgate_write.  The recorder
 * closes the gate (outgate_hold) when it takes a row that is not yet
 * durable and opens it (outgate_release) once the batch holding the
 * row is committed; the bytes held meanwhile then go to stdio, which
 * may write them whenever it likes.  So stdio never holds a line whose
 * row could still be lost, and nothing here needs to know how stdio
 * buffers.  One gate, for the process's one stdout.
 */
#ifndef EHLO_TUI_OUTGATE_H
#define EHLO_TUI_OUTGATE_H

#include <stddef.h>

/*
 * Once, before anything is written: a closed stdout must not kill the
 * process (SIGPIPE ignored); writes to it then fail and the gate stops
 * passing them on.
 */
void outgate_init(void);

/* Passes p[0..n) to stdout, or keeps it while the gate is closed. */
void outgate_write(const void *p, size_t n);

/* Closes the gate: writes are kept from now on. */
void outgate_hold(void);

/*
 * Opens the gate: what was kept goes to stdout (fwrite, in order), and
 * writes pass again.  Call only once what it shows is durable.
 */
void outgate_release(void);

/* Octets kept behind the closed gate. */
size_t outgate_held(void);

#endif
