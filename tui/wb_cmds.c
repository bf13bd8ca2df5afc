/*
 * The small workbench-only `/` commands that belong to no other room:
 * /connect, /tls, /theme, /clear, /save, /open, /close, /play, /step,
 * /mx and /next (tui/cmdtab.c declares them; larger ones live in their
 * rooms).  Handlers only: nothing here calls back into the table.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/client.h"
#include "tui/cmdtab.h"
#include "tui/record.h"
#include "tui/wb.h"

int
wb_connect_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;

	free(wb->conn.tls_name);
	wb->conn.tls_name = NULL;
	wb_connect(wb, *arg != '\0' ? arg : NULL);
	return 0;
}

int
wb_hexdump_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;

	if (strcasecmp(arg, "on") == 0)
		wb_conn_hexdump(wb, 1);
	else if (strcasecmp(arg, "off") == 0)
		wb_conn_hexdump(wb, 0);
	else if (*arg == '\0')
		wb_conn_hexdump(wb, !wb->conn.hexdump);
	else {
		wb_note(wb, THEME_ERROR,
		    "/hexdump takes on or off (or nothing, to switch), not "
		    "\"%s\"",
		    arg);
		return -1;
	}
	wb_note(wb, THEME_NOTE,
	    wb->conn.hexdump
	        ? "hexdump on: every byte sent (C>) and received (S<) "
	          "from now on is shown in hex (TLS decrypted, AUTH "
	          "redacted); /hexdump off stops it"
	        : "hexdump off");
	return 0;
}

int
wb_tls_cmd(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	wb_popup_tls(c->fe);
	return 0;
}

int
wb_theme_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	char *err = NULL;

	if (*arg == '\0')
		wb_note(wb, THEME_NOTE,
		    "theme %s; /theme NAME switches (Tab lists the themes)",
		    theme_name(wb->scr.theme));
	else if (wb_screen_set_theme(&wb->scr, arg, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return -1;
	} else
		wb->dirty = 1;
	return 0;
}

int
wb_clear_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;

	(void)arg;
	wb_dlg_clear(wb->dia.dlg);
	wb->dirty = 1;
	return 0;
}

int
wb_save_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	char *err = NULL;
	int64_t id = record_session_id(wb->conn.rec);

	if (wb->hist == NULL || id <= 0) {
		wb_note(wb, THEME_WARNING,
		    "this session is not recorded (--no-history)");
		return -1;
	}
	if (hist_session_set_label(
	        wb->hist, id, *arg != '\0' ? arg : NULL, &err) == -1) {
		wb_note(wb, THEME_ERROR, "%s", err);
		free(err);
		return -1;
	}
	wb_note(wb, THEME_NOTE, "session #%lld %s%s%s", (long long)id,
	    *arg != '\0' ? "labelled \"" : "kept", arg,
	    *arg != '\0' ? "\"" : "");
	return 0;
}

int
wb_open_cmd(struct cmd_ctx *c, const char *arg)
{
	wb_viewer_open(c->fe, arg);
	return 0;
}

int
wb_close_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;

	(void)arg;
	if (wb->viewer == NULL)
		wb_note(wb, THEME_NOTE, "no saved session is open (/open ID)");
	wb_viewer_close(wb);
	return 0;
}

int
wb_play_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;
	char *end;
	unsigned long speed;

	if (*arg != '\0') {
		speed = strtoul(arg, &end, 10);
		if (end == arg || (*end != '\0' && strcmp(end, "x") != 0) ||
		    wb_viewer_set_speed(wb, (unsigned)speed) == -1) {
			wb_note(wb, THEME_ERROR,
			    "/play [1x|2x|10x]: the speed is 1x, 2x or 10x");
			return 0;
		}
		if (wb->viewer != NULL && wb->viewer->playing)
			return 0; /* a new speed for the playback going on */
	}
	wb_viewer_play(wb);
	return 0;
}

int
wb_step_cmd(struct cmd_ctx *c, const char *arg)
{
	struct wb *wb = c->fe;

	if (*arg == '\0')
		wb_viewer_step(wb);
	else if (strcasecmp(arg, "back") == 0)
		wb_viewer_back(wb);
	else if (strcasecmp(arg, "failure") == 0)
		wb_viewer_failure(wb);
	else
		wb_note(wb, THEME_ERROR,
		    "/step [back|failure]: nothing, back or failure");
	return 0;
}

int
wb_mx_cmd(struct cmd_ctx *c, const char *arg)
{
	wb_mx_lookup(c->fe, arg);
	return 0;
}

int
wb_next_cmd(struct cmd_ctx *c, const char *arg)
{
	(void)arg;
	wb_mx_next(c->fe);
	return 0;
}
