/*
 * Making untrusted bytes safe to show.  Everything from the network (and
 * from files and the database) passes through here before it reaches a
 * terminal, a log or line-mode output.
 */
#ifndef EHLO_CORE_ESCAPE_H
#define EHLO_CORE_ESCAPE_H

#include <stddef.h>

struct buf;

/*
 * Appends a printable rendering of p[0..n) to out: printable ASCII and
 * well-formed UTF-8 are kept; C0 controls, DEL, C1 controls, bidi
 * overrides and invalid UTF-8 become escapes (\r \n \t \0 \e \xNN, \u{NNNN})
 * and a backslash becomes "\\", so the rendering is unambiguous.  Returns
 * -1 when out's cap was reached (out then holds a prefix).
 */
int escape_append(struct buf *out, const char *p, size_t n);

/* The same into a new NUL-terminated string the caller frees. */
char *escape_dup(const char *p, size_t n);

/* Returns 1 when escape_append() would change nothing, else 0. */
int escape_is_clean(const char *p, size_t n);

/* The value of one hex digit (0-9, a-f, A-F), or -1: the one reader of
 * the hex escapes ehlo takes (=XX, \xNN, #RRGGBB, PROXY v2's display). */
int escape_hex_value(int c);

#endif
