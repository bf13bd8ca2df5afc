/*
 * Playback of a recorded session for a lecture: where the next and the
 * previous exchange end, where the next failure is, and how long to wait
 * before the next event at a given speed.  Pure functions over the
 * events of tui/histcmd.h; the workbench (tui/wb_viewer.c) keeps the
 * position and the timer.
 *
 * A position is a count of events shown (0: none, ev->n: all).  An
 * exchange is what a command and its reply make on screen: every event
 * up to and including the last line of a reply (HIST_EV_REPLY), with
 * the workbench notes ('*') that follow it before the next command or
 * server line (a TLS handshake after 220 to STARTTLS, a closed
 * connection).  The greeting is the first exchange; pipelined commands
 * go with the first reply; events after the last reply make one more.
 */
#ifndef EHLO_TUI_PLAYBACK_H
#define EHLO_TUI_PLAYBACK_H

#include <stddef.h>
#include <stdint.h>

struct histcmd_events;

/* The speeds a lecture cycles through, and the number of them. */
#define PLAYBACK_NSPEEDS 3
extern const unsigned playback_speeds[PLAYBACK_NSPEEDS];

/* The position after the exchange that follows shown (shown itself
 * when it is at the end already). */
size_t playback_next(const struct histcmd_events *, size_t shown);

/* The position after the exchange before the last one shown: one
 * exchange back (0 from the first). */
size_t playback_prev(const struct histcmd_events *, size_t shown);

/* The position after the next exchange whose reply is a 4xx or 5xx
 * (a reply not on screen yet); shown itself when there is none. */
size_t playback_next_failure(const struct histcmd_events *, size_t shown);

/* The number of exchanges the session has, and the number of them
 * shown (whole or in part) at position shown. */
size_t playback_count(const struct histcmd_events *);
size_t playback_index(const struct histcmd_events *, size_t shown);

/* How long timed playback waits before showing event shown (the one
 * after the last shown): the recorded gap from the event before it,
 * at most five seconds, divided by speed (1, 2 or 10; 0 counts as 1).
 * 0 at either end. */
uint64_t playback_delay_us(
    const struct histcmd_events *, size_t shown, unsigned speed);

#endif
