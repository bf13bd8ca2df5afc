/*
 * /raw TEXT: the one command that sends bytes exactly as given, for
 * reproducing what a broken client sent and for probing how a server
 * reads unusual line ends (SMTP smuggling).  TEXT is decoded from C
 * escapes (\r \n \t \\ \xHH; nothing else is an escape, so a mistyped
 * one is refused rather than guessed) and handed to the session engine
 * (smtp_session_send_raw), which appends nothing, keeps track as well as
 * it can and says when it cannot know where the server is.
 *
 * /raw runs where typed lines are message content too (after 354, in a
 * BDAT chunk), since that is where unusual end-of-data sequences go:
 * cmdtab_is_raw_line() tells the front ends which content lines are
 * /raw commands.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "tui/cmdtab.h"

char *
cmdtab_raw_decode(const char *text, size_t *n, char **errstr)
{
	size_t len = strlen(text), i, o = 0;
	char *out = xmalloc(len + 1), *shown;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (text[i] != '\\') {
			out[o++] = text[i];
			continue;
		}
		switch (i + 1 < len ? text[i + 1] : '\0') {
		case 'r':
			out[o++] = '\r';
			i++;
			continue;
		case 'n':
			out[o++] = '\n';
			i++;
			continue;
		case 't':
			out[o++] = '\t';
			i++;
			continue;
		case '\\':
			out[o++] = '\\';
			i++;
			continue;
		case 'x':
			hi = i + 2 < len ? escape_hex_value(text[i + 2]) : -1;
			lo = i + 3 < len ? escape_hex_value(text[i + 3]) : -1;
			if (hi >= 0 && lo >= 0) {
				out[o++] = (char)(hi * 16 + lo);
				i += 3;
				continue;
			}
			break;
		default:
			break;
		}
		/* Words, not backslashes: error text is shown escaped. */
		if (i + 1 < len && text[i + 1] > ' ' && text[i + 1] < 0x7f)
			shown = xasprintf("\"%c\" after", text[i + 1]);
		else
			shown = xstrdup(i + 1 < len ? "a blank or control "
			                              "character after"
			                            : "nothing after");
		*errstr = xasprintf("/raw: %s the backslash at position %zu "
		                    "is no escape ehlo knows: after a "
		                    "backslash write r, n, t, x and two hex "
		                    "digits, or a second backslash; nothing "
		                    "was sent",
		    shown, i + 1);
		free(shown);
		free(out);
		return NULL;
	}
	*n = o;
	return out;
}

int
cmdtab_is_raw_line(const char *line)
{
	line += strspn(line, " \t");
	return strncasecmp(line, "/raw", 4) == 0 &&
	    (line[4] == '\0' || line[4] == ' ' || line[4] == '\t');
}

int
cmdtab_raw(struct cmd_ctx *c, const char *arg)
{
	char *bytes, *err = NULL;
	size_t n;

	if (*arg == '\0')
		return cmdtab_error(c,
		    "/raw needs TEXT: the bytes to send, written with C "
		    "escapes for CR, LF, tab, backslash and hex (see /help "
		    "/raw); nothing is appended, so end a command with CR LF");
	if ((bytes = cmdtab_raw_decode(arg, &n, &err)) == NULL) {
		(void)cmdtab_error(c, "%s", err);
		free(err);
		return -1;
	}
	if (smtp_session_send_raw(c->session, bytes, n, &err) == -1) {
		(void)cmdtab_error(c, "/raw: %s", err);
		free(err);
		free(bytes);
		return -1;
	}
	free(bytes);
	smtp_client_flush(c->client);
	return 0;
}
