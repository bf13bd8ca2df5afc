/*
 * A recorded session's bytes as a hex dump (`ehlo show ID --hexdump`).
 */
#ifndef EHLO_TUI_SHOW_HEXDUMP_H
#define EHLO_TUI_SHOW_HEXDUMP_H

#include <stdio.h>

struct histcmd_events;

/*
 * Prints es (a session's recorded events) to f as the hex dump line
 * mode's --hexdump prints live: "C> "/"S< " chunks of consecutive lines
 * one way, the notes as "*: " lines; what the record does not keep octet
 * for octet (streamed content) is said, not dumped.
 */
void show_hexdump(FILE *f, const struct histcmd_events *es);

#endif
