/*
 * Sequence diagrams of recorded sessions (tui/export_svg.c), for
 * `ehlo export ID --format svg|html`.
 */
#ifndef EHLO_TUI_EXPORT_SVG_H
#define EHLO_TUI_EXPORT_SVG_H

#include <stdio.h>

#include "tui/histcmd.h"

/*
 * Writes session s with its events es to f as one self-contained SVG
 * (html 0) or HTML page with the SVG inline and each reply's
 * explanation on click (html 1).  Secrets are never written: the text
 * of each event is histcmd_event_text()'s.  Returns 0, -1 on a write
 * error.
 */
int export_diagram(FILE *f, const struct hist_session *s,
    const struct histcmd_events *es, int html);

#endif
