/*
 * The session engine's sending side: what the user sends becomes wire
 * bytes in the session's output buffer (one buffer, so a pipelined group
 * leaves in one write) and a SENT event.  Depending on the state a line
 * is a command (checked, then sent; a stage waits for its reply), a line
 * of message content after 354 (counted on the MESSAGE stage), a line of
 * a BDAT chunk (counted against the announced size) or a SASL response
 * (shown redacted).  Streamed bodies (/body, /send) append to the same
 * buffer through body_buf()/body_commit().
 *
 * RFC 5321 (SMTP), RFC 4954 (AUTH), RFC 2920 (PIPELINING), RFC 3030
 * (CHUNKING), RFC 5890 (IDNA 2008: a Unicode domain goes as its A-label
 * to a server without SMTPUTF8, RFC 6531; the dialogue shows it typed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/idn.h"
#include "protocol/sasl.h"
#include "protocol/session_int.h"

static int session_send_line(
    struct smtp_session *, const char *, size_t, const char *, char **);

/* The stage kind each verb opens. */
static const enum smtp_stage_kind verb_kind[SMTP_VERB_COUNT] = {
    [SMTP_VERB_UNKNOWN] = SMTP_STAGE_OTHER,
    [SMTP_VERB_EHLO] = SMTP_STAGE_EHLO,
    [SMTP_VERB_HELO] = SMTP_STAGE_HELO,
    [SMTP_VERB_STARTTLS] = SMTP_STAGE_STARTTLS,
    [SMTP_VERB_AUTH] = SMTP_STAGE_AUTH,
    [SMTP_VERB_MAIL] = SMTP_STAGE_MAIL,
    [SMTP_VERB_RCPT] = SMTP_STAGE_RCPT,
    [SMTP_VERB_DATA] = SMTP_STAGE_DATA,
    [SMTP_VERB_BDAT] = SMTP_STAGE_BDAT,
    [SMTP_VERB_RSET] = SMTP_STAGE_RSET,
    [SMTP_VERB_VRFY] = SMTP_STAGE_VRFY,
    [SMTP_VERB_EXPN] = SMTP_STAGE_EXPN,
    [SMTP_VERB_HELP] = SMTP_STAGE_HELP,
    [SMTP_VERB_NOOP] = SMTP_STAGE_NOOP,
    [SMTP_VERB_QUIT] = SMTP_STAGE_QUIT,
    [SMTP_VERB_VERB] = SMTP_STAGE_VERB,
    [SMTP_VERB_ETRN] = SMTP_STAGE_ETRN,
    [SMTP_VERB_LHLO] = SMTP_STAGE_EHLO, /* the same reply: extensions */
    [SMTP_VERB_XCLIENT] = SMTP_STAGE_XCLIENT,
};

/* Queues p and, when crlf, a CRLF: all or nothing, never half a line. */
int
session_queue_bytes(struct smtp_session *s, const char *p, size_t n, int crlf)
{
	size_t len = n + (crlf ? 2 : 0);
	char *dst;

	if (n > SIZE_MAX - 2 || (dst = buf_reserve(&s->out, len)) == NULL)
		return -1;
	memcpy(dst, p, n);
	if (crlf) {
		dst[n] = '\r';
		dst[n + 1] = '\n';
	}
	buf_commit(&s->out, len);
	s->wipe_left = buf_used(&s->out);
	return 0;
}

static int
queue_line(struct smtp_session *s, const char *p, size_t n)
{
	return session_queue_bytes(s, p, n, 1);
}

void
session_emit_sent(struct smtp_session *s, const char *text, size_t len,
    unsigned flags, size_t idx)
{
	struct smtp_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = SMTP_EV_SENT;
	ev.text = text;
	ev.len = len;
	ev.flags = flags;
	if (idx != SIZE_MAX) {
		ev.stage = &s->stages[idx];
		ev.stage_index = idx;
	} else
		ev.stage_index = SIZE_MAX;
	session_emit(s, &ev);
}

static int
has_forbidden(const char *p, size_t n, char **errstr)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0') {
			*errstr = xasprintf(
			    "the line contains a %s at "
			    "position %zu; SMTP lines cannot carry one (it "
			    "would end the command early), so nothing was sent",
			    p[i] == '\r'       ? "CR"
			        : p[i] == '\n' ? "LF"
			                       : "NUL",
			    i + 1);
			return 1;
		}
	}
	return 0;
}

/* The hello that does not fit the protocol (RFC 2033 4.1). */
static void
lmtp_hello_check(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (cmd == NULL)
		return;
	if (s->lmtp &&
	    (cmd->verb == SMTP_VERB_EHLO || cmd->verb == SMTP_VERB_HELO))
		smtp_session_warn(s,
		    "this is an LMTP session: an LMTP server refuses %s "
		    "(RFC 2033 4.1); send LHLO instead (sent anyway)",
		    cmd->name);
	else if (!s->lmtp && cmd->verb == SMTP_VERB_LHLO)
		smtp_session_warn(s,
		    "LHLO is LMTP's hello (RFC 2033); an SMTP server does not "
		    "know it: send EHLO, or connect with --lmtp (sent anyway)");
}

static void
predict(struct smtp_session *s, enum smtp_verb verb, const char *line)
{
	switch (verb) {
	case SMTP_VERB_EHLO:
	case SMTP_VERB_HELO:
	case SMTP_VERB_LHLO:
	case SMTP_VERB_RSET:
		s->pred = SMTP_STATE_READY;
		break;
	case SMTP_VERB_MAIL:
		s->pred = SMTP_STATE_MAIL;
		break;
	case SMTP_VERB_RCPT:
		s->pred = SMTP_STATE_RCPT;
		break;
	case SMTP_VERB_DATA:
		s->pred = SMTP_STATE_CONTENT;
		/* The DATA line's CRLF: a "." next ends an empty message. */
		memcpy(s->content_tail, "xx\r\n", 4);
		break;
	case SMTP_VERB_STARTTLS:
		s->pred = SMTP_STATE_TLS;
		break;
	case SMTP_VERB_XCLIENT:
		/* Accepted, it is a new greeting: EHLO comes next. */
		s->pred = SMTP_STATE_GREETED;
		break;
	case SMTP_VERB_BDAT:
		s->pred = session_bdat_is_last(line) ? SMTP_STATE_READY
		                                     : SMTP_STATE_BDAT;
		break;
	default:
		break;
	}
}

/* 1 when a BDAT command line carries the LAST keyword. */
int
session_bdat_is_last(const char *line)
{
	const char *p;

	for (p = line; (p = strchr(p, ' ')) != NULL; p++)
		if (strncasecmp(p + 1, "LAST", 4) == 0 &&
		    (p[5] == '\0' || p[5] == ' '))
			return 1;
	return 0;
}

/*
 * The size of "BDAT n [LAST]", or 0 when it is absent or not a plain
 * number ("BDAT 12x"): a server cannot read a chunk it cannot size, so
 * it answers 501 and takes what follows as commands.
 */
static uint64_t
bdat_size(const char *line)
{
	const char *p = line + 4;
	uint64_t v = 0;

	while (*p == ' ')
		p++;
	while (*p >= '0' && *p <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	return *p == '\0' || *p == ' ' ? v : 0;
}

void
session_content_end(struct smtp_session *s)
{
	size_t i = session_message_stage(s);

	/* The reply's latency counts from the end of the content. */
	s->stages[i].t_start_us = session_elapsed(s);
	session_wait_push(s, i);
	s->message_stage = SIZE_MAX;
	s->pred = SMTP_STATE_READY;
	s->txn = 0;
	s->raw_eod_unsure = 0;
}

static int
send_content_line(
    struct smtp_session *s, const char *p, size_t n, char **errstr)
{
	size_t i;

	if (n == 1 && p[0] == '.') {
		if (queue_line(s, p, n) == -1)
			goto full;
		/*
		 * The index first: session_message_stage() may add a
		 * stage, which moves s->stages.
		 */
		i = session_message_stage(s);
		s->stages[i].bytes += 3;
		session_emit_sent(s, p, n, SMTP_SENT_CONTENT, s->message_stage);
		session_content_end(s);
		return 0;
	}
	if (n > 1 && p[0] == '.' && p[1] != '.')
		smtp_session_warn(s,
		    "this content line starts with \".\": the "
		    "server removes that dot (RFC 5321 4.5.2); type \"..\" "
		    "to send a literal dot");
	if (n > 998)
		smtp_session_warn(s,
		    "content line of %zu octets: RFC 5322 "
		    "allows at most 998",
		    n);
	if (queue_line(s, p, n) == -1)
		goto full;
	i = session_message_stage(s);
	s->stages[i].bytes += n + 2;
	memcpy(s->content_tail + 2, "\r\n", 2);
	session_emit_sent(s, p, n, SMTP_SENT_CONTENT, s->message_stage);
	return 0;
full:
	*errstr = xstrdup("too much unsent output is queued; wait for the "
	                  "server to read it");
	return -1;
}

/*
 * One line of a BDAT chunk (RFC 3030 2): sent as typed, never
 * dot-stuffed (the count ends a chunk, not a "."), counted against the
 * size the BDAT command announced.  A line that does not fit is refused,
 * not sent with a warning: the octets past the count would reach the
 * server as the start of a command, every later reply would answer
 * something other than what the dialogue shows, and an admin who
 * miscounted wants to retype the line, not to untangle a desynchronised
 * session.  A line of exactly the octets left is sent without its CRLF
 * and ends the chunk in mid-line: chunks may split a line anywhere (the
 * next chunk continues it), and with one octet left it is the only way
 * to finish.
 */
static int
send_chunk_line(struct smtp_session *s, const char *p, size_t n, char **errstr)
{
	uint64_t left = s->chunk_left;
	size_t idx = s->chunk_stage, len;
	int crlf;

	if (n <= SIZE_MAX - 2 && n + 2 <= left)
		crlf = 1;
	else if (n == left)
		crlf = 0;
	else if (left == 1) {
		*errstr =
		    xstrdup("the BDAT chunk has 1 octet left, which no "
		            "line with its CRLF fits: type exactly one "
		            "octet to end the chunk without CRLF; nothing "
		            "was sent");
		return -1;
	} else {
		*errstr = xasprintf("this line needs %zu octets with its CRLF "
		                    "but the BDAT chunk has %llu left: type at "
		                    "most %llu octets, or exactly %llu to end "
		                    "the chunk without CRLF; nothing was sent",
		    n + 2, (unsigned long long)left,
		    (unsigned long long)(left - 2), (unsigned long long)left);
		return -1;
	}
	if (session_queue_bytes(s, p, n, crlf) == -1) {
		*errstr = xstrdup("too much unsent output is queued; wait for "
		                  "the server to read it");
		return -1;
	}
	len = n + (crlf ? 2 : 0);
	s->chunk_left -= len;
	s->stages[idx].bytes += len;
	session_emit_sent(s, p, n, SMTP_SENT_CONTENT, idx);
	if (s->chunk_left > 0)
		return 0;
	/* As after ".": the reply's latency counts from the chunk's end. */
	if (s->stages[idx].state == SMTP_ST_PENDING)
		s->stages[idx].t_start_us = session_elapsed(s);
	if (crlf)
		smtp_session_note(s,
		    "BDAT chunk complete (%llu octets); now its reply",
		    (unsigned long long)s->stages[idx].bytes);
	else
		smtp_session_note(s,
		    "BDAT chunk complete (%llu octets), its last line sent "
		    "without CRLF: the next chunk continues that line",
		    (unsigned long long)s->stages[idx].bytes);
	return 0;
}

static int
send_sasl_line(struct smtp_session *s, const char *p, size_t n, char **errstr)
{
	char *line = xstrndup(p, n), *display;
	size_t idx;

	display = sasl_redact_response(s->auth_mech[0] ? s->auth_mech : NULL,
	    ++s->auth_step, s->auth_challenge, line);
	if (queue_line(s, p, n) == -1) {
		secret_free_str(line);
		free(display);
		*errstr = xstrdup("too much unsent output is queued");
		return -1;
	}
	session_wire_secret(s, n + 2, display);
	session_secret_wire(s, line,
	    strcasecmp(s->auth_mech, "LOGIN") == 0 && s->auth_step >= 2);
	secret_free_str(line);
	idx = session_stage_add(s, SMTP_STAGE_AUTH, display);
	session_emit_sent(s, display, strlen(display), SMTP_SENT_REDACTED, idx);
	session_wait_push(s, idx);
	s->pred = SMTP_STATE_READY;
	free(display);
	return 0;
}

/*
 * A command naming a Unicode domain, to a server that did not offer
 * SMTPUTF8: the line with the A-label in *wire (and a note), the line as
 * typed in *shown; both NULL when nothing changes.  -1 with *errstr for
 * a domain IDNA 2008 refuses (nothing is sent).
 */
static int
idn_rewrite(struct smtp_session *s, const char *p, size_t n, char **wire,
    char **shown, char **errstr)
{
	struct smtp_idn_change *ch;
	size_t nch;

	*wire = *shown = NULL;
	if (s->caps.valid && smtp_caps_has(&s->caps, SMTP_CAP_SMTPUTF8))
		return 0;
	/* The first EHLO goes before the server said: an A-label then. */
	*wire = smtp_idn_line(p, n, !s->caps.valid, &ch, &nch, errstr);
	if (*wire == NULL) {
		if (*errstr == NULL)
			return 0;
		{
			char *e = xasprintf("%s; nothing was sent", *errstr);

			free(*errstr);
			*errstr = e;
		}
		return -1;
	}
	*shown = xstrndup(p, n);
	smtp_session_note(s,
	    s->caps.valid ? "%s is sent as its A-label %s: the server did "
	                    "not offer SMTPUTF8 (IDNA 2008, RFC 5890)"
	                  : "%s is sent as its A-label %s: the server has "
	                    "not said whether it offers SMTPUTF8 (IDNA "
	                    "2008, RFC 5890)",
	    ch[0].ulabel, ch[0].alabel);
	smtp_idn_changes_free(ch, nch);
	return 0;
}

int
smtp_session_send(
    struct smtp_session *s, const char *p, size_t n, char **errstr)
{
	char *idn_wire = NULL, *idn_shown = NULL;
	int rc;

	/* Only commands name domains. */
	if (s->closed || s->state == SMTP_STATE_CONNECTING ||
	    s->chunk_left > 0 || s->pred == SMTP_STATE_CONTENT ||
	    s->pred == SMTP_STATE_AUTH)
		return session_send_line(s, p, n, NULL, errstr);
	if (has_forbidden(p, n, errstr))
		return -1;
	if (idn_rewrite(s, p, n, &idn_wire, &idn_shown, errstr) == -1)
		return -1;
	if (idn_wire == NULL)
		return session_send_line(s, p, n, NULL, errstr);
	rc =
	    session_send_line(s, idn_wire, strlen(idn_wire), idn_shown, errstr);
	free(idn_wire);
	free(idn_shown);
	return rc;
}

/* smtp_session_send after IDN: shown, when not NULL, is what the dialogue
 * shows instead of the line (the Unicode form). */
static int
session_send_line(struct smtp_session *s, const char *p, size_t n,
    const char *shown, char **errstr)
{
	struct smtp_check chk;
	enum smtp_verb verb;
	char *line, *display = NULL;
	size_t i, idx;
	unsigned flags = 0;

	if (s->closed || s->state == SMTP_STATE_CONNECTING) {
		*errstr = xstrdup("not connected: nothing was sent (connect "
		                  "first)");
		return -1;
	}
	if (has_forbidden(p, n, errstr))
		return -1;
	if (s->raw_line_len > 0) {
		smtp_session_warn(s,
		    "this line ends the partial line sent with /raw: the "
		    "server reads the two as one line");
		s->raw_line_len = 0;
	}
	/* While a chunk is open the server reads octets, not commands. */
	if (s->chunk_left > 0)
		return send_chunk_line(s, p, n, errstr);
	if (s->pred == SMTP_STATE_CONTENT)
		return send_content_line(s, p, n, errstr);
	if (s->pred == SMTP_STATE_AUTH)
		return send_sasl_line(s, p, n, errstr);
	if (s->state == SMTP_STATE_TLS || s->pred == SMTP_STATE_TLS) {
		*errstr = xstrdup("STARTTLS was accepted: nothing can be sent "
		                  "until the TLS handshake is done");
		return -1;
	}

	smtp_command_check(
	    p, n, s->pred, s->caps.valid ? &s->caps : NULL, &chk);
	if (chk.refused) {
		*errstr =
		    xstrdup(chk.reason != NULL ? chk.reason
		                               : "the line cannot be sent");
		return -1;
	}
	if (s->state == SMTP_STATE_GREETING)
		s->early_talk = 1;
	if (s->pred == SMTP_STATE_GREETING)
		smtp_session_warn(s,
		    "the server has not sent its greeting "
		    "yet; servers with a greet pause reject clients that talk "
		    "first");
	for (i = 0; i < chk.nwarn; i++)
		smtp_session_warn(s, "%s (sent anyway)", chk.warn[i]);
	lmtp_hello_check(s, chk.cmd);
	if (s->pipelining && !smtp_caps_has(&s->caps, SMTP_CAP_PIPELINING) &&
	    s->pipelining == 1) {
		s->pipelining = 2;
		smtp_session_warn(s,
		    "the server did not advertise PIPELINING "
		    "(RFC 2920); it may lose or reject commands sent in one "
		    "group");
	}
	verb = chk.cmd != NULL ? chk.cmd->verb : SMTP_VERB_UNKNOWN;

	line = xstrndup(p, n);
	if (verb == SMTP_VERB_AUTH) {
		display = sasl_redact_auth_command(line);
		flags |= SMTP_SENT_REDACTED;
		/*
		 * Remember the mechanism to redact later responses: the
		 * word after the verb ("AUTH" alone has none).
		 */
		i = strspn(line, " \t");
		i += strcspn(line + i, " \t");
		i += strspn(line + i, " \t");
		for (idx = 0; line[i] != '\0' && line[i] != ' ' &&
		     line[i] != '\t' && idx + 1 < sizeof s->auth_mech;
		     i++)
			s->auth_mech[idx++] = line[i];
		s->auth_mech[idx] = '\0';
		s->auth_step = 0;
		session_secret_wire(s, line, 0);
	}
	if (queue_line(s, p, n) == -1) {
		secret_free_str(line);
		free(display);
		*errstr = xstrdup("too much unsent output is queued; wait for "
		                  "the server to read it");
		return -1;
	}
	if (flags & SMTP_SENT_REDACTED)
		session_wire_secret(s, n + 2, display != NULL ? display : "");
	if (display == NULL && shown != NULL)
		display = xstrdup(shown);
	session_command_track(s, verb, line, display, flags);
	secret_free_str(line);
	free(display);
	return 0;
}

void
session_command_track(struct smtp_session *s, enum smtp_verb verb,
    const char *line, const char *display, unsigned flags)
{
	size_t idx;

	if (verb == SMTP_VERB_MAIL)
		s->txn = ++s->ntxn;
	/* These end any transaction (RFC 5321 4.1.1.1, 4.1.1.5). */
	if (verb == SMTP_VERB_RSET || verb == SMTP_VERB_EHLO ||
	    verb == SMTP_VERB_HELO || verb == SMTP_VERB_LHLO ||
	    verb == SMTP_VERB_QUIT)
		s->txn = 0;
	if (verb == SMTP_VERB_QUIT)
		s->quit_sent = 1;
	idx = session_stage_add(
	    s, verb_kind[verb], display != NULL ? display : line);
	if (!(flags & SMTP_SENT_RAW))
		session_emit_sent(s, display != NULL ? display : line,
		    strlen(display != NULL ? display : line), flags, idx);
	session_wait_push(s, idx);
	if (verb == SMTP_VERB_BDAT) {
		/* BDAT 0 opens no chunk: its reply is awaited at once. */
		s->chunk_left = bdat_size(line);
		s->chunk_stage = idx;
		if (session_bdat_is_last(line))
			s->txn = 0;
		if (s->chunk_left > 0)
			smtp_session_note(s,
			    "the next %llu octets you type "
			    "(each line counts its CRLF) are the BDAT chunk",
			    (unsigned long long)s->chunk_left);
	}
	predict(s, verb, line);
}

int
smtp_session_send_secret(struct smtp_session *s, const char *wire,
    const char *display, char **errstr)
{
	size_t idx, n = strlen(wire);

	if (s->closed || s->state == SMTP_STATE_CONNECTING) {
		*errstr = xstrdup("not connected: nothing was sent");
		return -1;
	}
	if (has_forbidden(wire, n, errstr))
		return -1;
	if (s->chunk_left > 0) {
		*errstr =
		    xasprintf("a BDAT chunk is open (%llu octets left): "
		              "a secret would become part of the message; "
		              "nothing was sent",
		        (unsigned long long)s->chunk_left);
		return -1;
	}
	if (queue_line(s, wire, n) == -1) {
		*errstr = xstrdup("too much unsent output is queued");
		return -1;
	}
	session_wire_secret(s, n + 2, display);
	session_secret_wire(s, wire, 0);
	/* The AUTH command itself counts as the start of an exchange. */
	if (strncasecmp(wire, "AUTH ", 5) == 0) {
		s->auth_step = 0;
		s->auth_mech[0] = '\0';
	}
	idx = session_stage_add(s, SMTP_STAGE_AUTH, display);
	session_emit_sent(s, display, strlen(display), SMTP_SENT_REDACTED, idx);
	session_wait_push(s, idx);
	s->pred = SMTP_STATE_READY;
	return 0;
}

struct buf *
smtp_session_body_buf(struct smtp_session *s)
{
	return s->state == SMTP_STATE_CONTENT ? &s->out : NULL;
}

void
smtp_session_body_commit(struct smtp_session *s, size_t n)
{
	size_t i = session_message_stage(s); /* may move s->stages */

	s->stages[i].bytes += n;
}

void
smtp_session_body_end(struct smtp_session *s, const char *summary)
{
	size_t idx = s->message_stage;

	if (idx == SIZE_MAX)
		idx = session_stage_add(s, SMTP_STAGE_MESSAGE, summary);
	free(s->stages[idx].command);
	s->stages[idx].command = xstrdup(summary);
	s->stages[idx].t_start_us = session_elapsed(s);
	session_emit_sent(s, summary, strlen(summary), SMTP_SENT_SUMMARY, idx);
	session_wait_push(s, idx);
	s->message_stage = SIZE_MAX;
	s->pred = SMTP_STATE_READY;
	s->txn = 0;
}

void
smtp_session_pipeline_begin(struct smtp_session *s)
{
	s->group++;
	s->pipelining = 1;
}

void
smtp_session_pipeline_end(struct smtp_session *s)
{
	s->pipelining = 0;
}

int
smtp_session_is_pipelining(const struct smtp_session *s)
{
	return s->pipelining != 0;
}

const char *
smtp_session_output(const struct smtp_session *s, size_t *len)
{
	*len = buf_used(&s->out);
	return buf_peek(&s->out);
}

void
smtp_session_output_consume(struct smtp_session *s, size_t n)
{
	size_t used = buf_used(&s->out), w;

	if (n > used)
		n = used;
	session_wire_out(s, buf_peek(&s->out), n);
	s->out_done += n;
	/*
	 * Wipe what leaves the buffer up to the end of the last command
	 * line (a SASL response, maybe); bulk message content is not
	 * wiped, so a large message is not written over twice.
	 */
	w = s->wipe_left < n ? s->wipe_left : n;
	if (w > 0)
		memset(s->out.data + s->out.off, 0, w);
	s->wipe_left -= w;
	buf_consume(&s->out, n);
}
