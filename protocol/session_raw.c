/*
 * The session engine's way past its own guards: /raw sends bytes exactly
 * as given (CR, LF and NUL included, no CRLF appended, no dot-stuffing),
 * for reproducing what a broken client sent and for probing how a
 * server reads end-of-data sequences (SMTP smuggling).  The bytes are
 * queued once; then the engine walks them to keep track as well as it
 * can, in the state each part meets:
 *
 * - an open BDAT chunk counts them (they must fit);
 * - message content is scanned for <CR><LF>.<CR><LF>, which ends the
 *   message as a typed "." does, with the last four content octets
 *   (content_tail) as context so an end split over two /raw calls is
 *   seen; any other dot between line ends (<LF>.<LF>, <CR>.<CR>, a NUL
 *   before the dot...) is content for ehlo, but a warning says the
 *   server may end the message there, and a reply that then comes
 *   before the real end is taken as its answer to the message
 *   (session_raw_early_end);
 * - elsewhere bytes build command lines: each line ended by CRLF and
 *   free of bare CR, LF and NUL opens a stage as a typed command does;
 *   a partial line waits for its end (raw_line); a line that cannot be
 *   read as one command gets a warning that ehlo cannot know where the
 *   server is.
 *
 * RFC 5321 2.3.8 (lines end in CRLF; no bare CR or LF), 4.1.1.4 (the
 * end of mail data), 4.5.2 (transparency); RFC 3030 (BDAT).
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/session_int.h"

/* The end of mail data (RFC 5321 4.1.1.4). */
static const char eod[] = "\r\n.\r\n";

static int
is_eol(char c)
{
	return c == '\r' || c == '\n';
}

/*
 * Message content p[0..n): returns how many octets belong to the
 * message (all of them, or up to and including a CRLF.CRLF end, *ended
 * then set); *odd is set when a dot stands between line ends in another
 * way (or behind a NUL at a line start).
 */
static size_t
scan_content(
    struct smtp_session *s, const char *p, size_t n, int *ended, int *odd)
{
	char *all = xmalloc(n + 4);
	size_t i, used = n;

	memcpy(all, s->content_tail, 4);
	memcpy(all + 4, p, n);
	*ended = 0;
	for (i = 2; i + 1 < n + 4; i++) {
		/* Only a dot whose pattern reaches the new octets. */
		if (all[i] != '.' || i + 2 < 4)
			continue;
		if (i + 2 < n + 4 && memcmp(all + i - 2, eod, 5) == 0) {
			*ended = 1;
			used = i - 1; /* through the final LF at i + 2 */
			break;
		}
		if (i + 1 >= 4 &&
		    (is_eol(all[i - 1]) ||
		        (all[i - 1] == '\0' && is_eol(all[i - 2]))) &&
		    is_eol(all[i + 1]))
			*odd = 1;
	}
	/* The new tail: the last 4 octets of the content so far. */
	memcpy(s->content_tail, all + used, 4);
	free(all);
	return used;
}

/* Complete lines of raw_line become tracked commands. */
static void
track_lines(struct smtp_session *s, int *lost)
{
	struct smtp_check chk;
	char *line, *eol;
	size_t len;
	enum smtp_verb verb;

	while (s->raw_line_len > 0 && s->pred != SMTP_STATE_CONTENT &&
	    s->chunk_left == 0 &&
	    (eol = memchr(s->raw_line, '\n', s->raw_line_len)) != NULL) {
		len = (size_t)(eol - s->raw_line);
		line = xstrndup(s->raw_line, len);
		if (len == 0 || s->raw_line[len - 1] != '\r' ||
		    strlen(line) != len || memchr(line, '\r', len - 1) != NULL)
			*lost = 1; /* a bare LF, a bare CR or a NUL */
		else {
			line[len - 1] = '\0';
			smtp_command_check(line, len - 1, s->pred,
			    s->caps.valid ? &s->caps : NULL, &chk);
			verb =
			    chk.cmd != NULL ? chk.cmd->verb : SMTP_VERB_UNKNOWN;
			/* AUTH is not tracked: /auth masks its secrets. */
			if (verb == SMTP_VERB_AUTH ||
			    s->pred == SMTP_STATE_AUTH)
				*lost = 1;
			else
				session_command_track(
				    s, verb, line, NULL, SMTP_SENT_RAW);
		}
		free(line);
		s->raw_line_len -= len + 1;
		memmove(s->raw_line, eol + 1, s->raw_line_len);
	}
}

/* Walks the queued bytes p[0..n) through the states they meet. */
static void
track(struct smtp_session *s, const char *p, size_t n, int *lost, int *odd)
{
	size_t used, i;
	int ended;

	while (n > 0) {
		if (s->chunk_left > 0) {
			used = n < s->chunk_left ? n : (size_t)s->chunk_left;
			s->chunk_left -= used;
			s->stages[s->chunk_stage].bytes += used;
		} else if (s->pred == SMTP_STATE_CONTENT) {
			used = scan_content(s, p, n, &ended, odd);
			i = session_message_stage(s);
			s->stages[i].bytes += used;
			if (ended)
				session_content_end(s);
		} else {
			s->raw_line =
			    xreallocarray(s->raw_line, s->raw_line_len + n, 1);
			memcpy(s->raw_line + s->raw_line_len, p, n);
			s->raw_line_len += n;
			used = n;
			track_lines(s, lost);
			/* DATA or BDAT ended the command part: what is
			 * left of the line is content or chunk. */
			if (s->raw_line_len > 0 &&
			    (s->pred == SMTP_STATE_CONTENT ||
			        s->chunk_left > 0)) {
				used = n -
				    (n < s->raw_line_len ? n : s->raw_line_len);
				s->raw_line_len = 0;
			}
		}
		p += used;
		n -= used;
	}
}

int
smtp_session_send_raw(
    struct smtp_session *s, const char *p, size_t n, char **errstr)
{
	char *text;
	int lost = 0, odd = 0;

	if (s->closed || s->state == SMTP_STATE_CONNECTING) {
		*errstr = xstrdup("not connected: nothing was sent (connect "
		                  "first)");
		return -1;
	}
	if (s->state == SMTP_STATE_TLS || s->pred == SMTP_STATE_TLS) {
		*errstr = xstrdup("STARTTLS was accepted: nothing can be sent "
		                  "until the TLS handshake is done");
		return -1;
	}
	if (s->chunk_left > 0 && n > s->chunk_left) {
		*errstr = xasprintf("%zu octets do not fit the %llu left in "
		                    "the BDAT chunk; nothing was sent",
		    n, (unsigned long long)s->chunk_left);
		return -1;
	}
	if (session_queue_bytes(s, p, n, 0) == -1) {
		*errstr = xstrdup("too much unsent output is queued; wait for "
		                  "the server to read it");
		return -1;
	}
	text = xmalloc(n + 7);
	(void)snprintf(text, 7, "[raw] ");
	memcpy(text + 6, p, n);
	text[n + 6] = '\0';
	session_emit_sent(s, text, n + 6, SMTP_SENT_RAW, SIZE_MAX);
	free(text);
	track(s, p, n, &lost, &odd);
	if (odd) {
		s->raw_eod_unsure = 1;
		smtp_session_warn(s,
		    "the raw bytes hold a dot between line ends other than "
		    "<CR><LF>.<CR><LF>; ehlo takes it as content, but a server "
		    "that reads it as the end of data (SMTP smuggling) answers "
		    "now: a reply before the message's end is its answer to "
		    "the message");
	}
	if (lost)
		smtp_session_warn(s,
		    "the raw bytes are not one command line each (a bare CR "
		    "or LF, a NUL, or AUTH): ehlo cannot know where the "
		    "server is; replies are shown but may match no command");
	else if (s->raw_line_len > 0 && s->pred != SMTP_STATE_CONTENT)
		smtp_session_note(s,
		    "raw: %zu octets of a command line sent; the server waits "
		    "for the rest of it (a CR LF ends it)",
		    s->raw_line_len);
	return 0;
}

int
smtp_session_eod_unsure(const struct smtp_session *s)
{
	return s->raw_eod_unsure && s->message_stage != SIZE_MAX;
}

int
session_raw_early_end(struct smtp_session *s, size_t *idx)
{
	if (!s->raw_eod_unsure || s->message_stage == SIZE_MAX)
		return 0;
	*idx = s->message_stage;
	s->message_stage = SIZE_MAX;
	s->raw_eod_unsure = 0;
	s->pred = SMTP_STATE_READY;
	s->txn = 0;
	smtp_session_note(s,
	    "the server answered before the message's end: it took the "
	    "raw bytes for the end of data");
	return 1;
}
