/*
 * The workbench's dialogue model: a ring of escaped lines per dialogue
 * (the live session, and a saved one being viewed), the workbench's own
 * notes, the colour role of a server line, and /find.  Lines are escaped
 * once, when they arrive; drawing reads them as they are.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/session.h"
#include "tui/cmdtab.h"
#include "tui/wb.h"

#define DLG_MAX_LINES 2000000 /* oldest lines are dropped beyond this */

static struct dline *
dlg_at(struct dlg *g, size_t i)
{
	return &g->lines[(g->first + i) % g->caplines];
}

/* The line i of what the pane shows. */
struct dline *
wb_dlg_line(struct wb *wb, size_t i)
{
	return dlg_at(wb->dia.dlg, i);
}

void
wb_strv_free(char ***v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

void
wb_dlg_push(struct dlg *g, uint64_t t_us, char dir, enum theme_role role,
    const char *p, size_t n)
{
	struct dline *d;

	if (g->nlines == g->caplines) {
		if (g->caplines >= DLG_MAX_LINES) {
			d = dlg_at(g, 0);
			free(d->text);
			g->first = (g->first + 1) % g->caplines;
			g->nlines--;
		} else {
			size_t newcap = g->caplines ? g->caplines * 2 : 1024;
			struct dline *nl = xcalloc(newcap, sizeof *nl);
			size_t i;

			for (i = 0; i < g->nlines; i++)
				nl[i] = *dlg_at(g, i);
			free(g->lines);
			g->lines = nl;
			g->caplines = newcap;
			g->first = 0;
		}
	}
	d = dlg_at(g, g->nlines++);
	d->t_us = t_us;
	d->dir = dir;
	d->role = role;
	d->text = escape_dup(p, n);
	if (g->scroll > 0)
		g->scroll++; /* keep the view still while reading back */
}

void
wb_dlg_clear(struct dlg *g)
{
	size_t i;

	for (i = 0; i < g->nlines; i++)
		free(dlg_at(g, i)->text);
	free(g->lines);
	memset(g, 0, sizeof *g);
}

/* Adds a line of the live session. */
void
wb_dlg_add(struct wb *wb, uint64_t t_us, char dir, enum theme_role role,
    const char *p, size_t n)
{
	wb_dlg_push(&wb->dia.live, t_us, dir, role, p, n);
	wb->dirty = 1;
}

void
wb_note(struct wb *wb, enum theme_role role, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	wb_dlg_add(
	    wb, loop_now_us() - wb->conn.t_start, '*', role, s, strlen(s));
	free(s);
}

int
wb_dlg_event(struct wb *wb, uint64_t t_us, const struct smtp_event *ev)
{
	char dir = '*';
	enum theme_role role;

	switch (ev->type) {
	case SMTP_EV_SENT:
		dir = 'C';
		role = THEME_CLIENT;
		break;
	case SMTP_EV_LINE:
		dir = 'S';
		role = wb_role_of_server_line(ev->text, ev->len);
		break;
	case SMTP_EV_NOTE:
		role = THEME_NOTE;
		break;
	case SMTP_EV_WARNING:
		role = THEME_WARNING;
		break;
	case SMTP_EV_FAILURE:
		role = THEME_ERROR;
		break;
	default:
		return 0;
	}
	wb_dlg_add(wb, t_us, dir, role, ev->text, ev->len);
	return 1;
}

enum theme_role
wb_role_of_server_line(const char *p, size_t n)
{
	if (n < 1)
		return THEME_SERVER_OTHER;
	switch (p[0]) {
	case '2':
		return THEME_SERVER_2XX;
	case '3':
		return THEME_SERVER_3XX;
	case '4':
		return THEME_SERVER_4XX;
	case '5':
		return THEME_SERVER_5XX;
	default:
		return THEME_SERVER_OTHER;
	}
}

static int
contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

int
wb_find_cmd(struct cmd_ctx *c, const char *text)
{
	struct wb *wb = c->fe;
	size_t i, from;

	if (*text == '\0') {
		wb_note(wb, THEME_ERROR, "/find TEXT: the text to look for");
		return -1;
	}
	if (wb->dia.dlg->nlines == 0)
		return 0;
	from = wb->dia.dlg->nlines - 1 -
	    (wb->dia.dlg->scroll < wb->dia.dlg->nlines ? wb->dia.dlg->scroll
	                                               : 0);
	for (i = from; i-- > 0;) {
		if (contains_ci(wb_dlg_line(wb, i)->text, text)) {
			wb->dia.dlg->scroll = wb->dia.dlg->nlines - 1 - i;
			wb->dirty = 1;
			return 0;
		}
	}
	wb_note(wb, THEME_WARNING, "\"%s\" not found above this point", text);
	return 0;
}
