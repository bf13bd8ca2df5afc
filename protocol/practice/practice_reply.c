/*
 * The practice server's replies: every reply it can send is one row of
 * practice_replies[] (code, enhanced code, text with "{}" slots, whether
 * it counts as a protocol error), so the knowledge base can be checked
 * against it; every line queued is logged (practice_log.c).  Also the
 * small text helpers the other rooms share.
 *
 *   RFC 5321 4.2 (reply lines)   RFC 3463, RFC 2034 (enhanced codes)
 */
#include "protocol/practice/practice_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"

/* ---- the reply table --------------------------------------------------- */

struct pc_reply_def {
	struct practice_reply r;
	const char *text; /* "{}" is replaced by the arguments in order */
	int error; /* counts towards PRACTICE_MAX_ERRORS */
};

#define DEF(id, code, enh, text, err) [id] = {{code, enh}, text, err}

static const struct pc_reply_def practice_replies[PR_COUNT] = {
    DEF(PR_GREETING, 220, "",
        "practice.test ESMTP ehlo practice server (HELP lists accounts and "
        "triggers)",
        0),
    DEF(PR_EARLY, 554, "5.5.1",
        "practice.test: you talked before the greeting; a client must wait "
        "for the 220 (RFC 5321 4.3.1)",
        1),
    DEF(PR_EHLO, 250, "", "practice.test Hello {} [{}]", 0),
    DEF(PR_EHLO_KW, 250, "", "{}", 0),
    DEF(PR_HELO, 250, "", "practice.test Hello {} [{}] (HELO: no extensions)",
        0),
    DEF(PR_OK, 250, "2.0.0", "Ok", 0),
    DEF(PR_VERB, 250, "2.0.0",
        "Verbose mode (the historical sendmail answer; nothing changes "
        "here, and modern servers answer 500 or 502)",
        0),
    DEF(PR_BYE, 221, "2.0.0", "Bye", 0),
    DEF(PR_MAIL_OK, 250, "2.1.0", "Sender <{}> OK", 0),
    DEF(PR_RCPT_OK, 250, "2.1.5", "Recipient <{}> OK", 0),
    DEF(PR_RCPT_LIST, 250, "2.1.5",
        "Recipient <{}> OK: a list, delivered to each member", 0),
    DEF(PR_RCPT_RELAY, 250, "2.1.5",
        "Recipient <{}> OK: relaying for {} (kept in the practice inbox "
        "\"relay\", never sent out)",
        0),
    DEF(PR_RCPT_SLOW, 250, "2.1.5",
        "Recipient <{}> OK, after a {} second pause (slow@ teaches "
        "timeouts)",
        0),
    DEF(PR_RCPT_GREY_OK, 250, "2.1.5",
        "Recipient <{}> OK: greylisting passed on this retry", 0),
    DEF(PR_DATA_GO, 354, "", "End data with <CR><LF>.<CR><LF>", 0),
    DEF(PR_QUEUED, 250, "2.0.0", "Ok: queued as {}", 0),
    DEF(PR_BDAT_OK, 250, "2.0.0", "{} octets received", 0),
    DEF(PR_HELP, 214, "2.0.0", "{}", 0),
    DEF(PR_VRFY_USER, 250, "2.1.5", "{}", 0),
    DEF(PR_VRFY_LIST, 252, "2.0.0",
        "<{}> is a mailing list: EXPN {} shows its members", 0),
    DEF(PR_VRFY_REMOTE, 252, "2.0.0",
        "<{}>: not a practice.test address, cannot verify it", 0),
    DEF(PR_EXPN, 250, "2.1.5", "{}", 0),
    DEF(PR_TLS_GO, 220, "2.0.0", "Ready to start TLS", 0),
    DEF(PR_TLS_ACTIVE, 503, "5.5.1", "TLS is already active", 1),
    DEF(PR_TLS_NA, 454, "4.7.0", "TLS not available: {}", 0),
    DEF(PR_AUTH_MORE, 334, "", "{}", 0),
    DEF(PR_AUTH_OK, 235, "2.7.0", "Authentication successful", 0),
    DEF(PR_AUTH_FAIL, 535, "5.7.8",
        "Authentication credentials invalid (HELP lists the practice "
        "accounts)",
        1),
    DEF(PR_AUTH_MECH, 504, "5.5.4",
        "Unrecognized authentication type {}: use PLAIN, LOGIN, "
        "CRAM-MD5 or SCRAM-SHA-256",
        1),
    DEF(PR_AUTH_CANCEL, 501, "5.7.0", "Authentication cancelled", 0),
    DEF(PR_AUTH_B64, 501, "5.5.2",
        "Cannot decode the response: it must be base64", 1),
    DEF(PR_AUTH_AGAIN, 503, "5.5.1",
        "Already authenticated: one AUTH per session (RFC 4954 4)", 1),
    DEF(PR_AUTH_TXN, 503, "5.5.1",
        "AUTH is not allowed during a mail transaction", 1),
    DEF(PR_NEED_HELO, 503, "5.5.1", "Send HELO or EHLO first", 1),
    DEF(PR_NEED_EHLO, 503, "5.5.1",
        "{} is an ESMTP extension: greet with EHLO first", 1),
    DEF(PR_NESTED_MAIL, 503, "5.5.1",
        "Nested MAIL command: finish the transaction or RSET first", 1),
    DEF(PR_NEED_MAIL, 503, "5.5.1", "Need MAIL before {}", 1),
    DEF(PR_NEED_RCPT, 503, "5.5.1", "Need RCPT before {}", 1),
    DEF(PR_NO_VALID, 554, "5.5.1", "No valid recipients", 1),
    DEF(PR_SYNTAX, 501, "5.5.4", "Syntax: {}", 1),
    DEF(PR_BAD_SENDER, 501, "5.1.7", "Bad sender address syntax: {}", 1),
    DEF(PR_BAD_RCPT, 501, "5.1.3", "Bad recipient address syntax: {}", 1),
    DEF(PR_PARAM, 555, "5.5.4", "Unsupported parameter {}", 1),
    DEF(PR_UNKNOWN, 500, "5.5.2", "Command not recognized: {}", 1),
    DEF(PR_NOT_IMPL, 502, "5.5.1", "{} is recognised but not implemented here",
        1),
    DEF(PR_TOO_LONG, 500, "5.5.2",
        "Line too long: this server takes lines of up to 1000 octets with "
        "CRLF (RFC 5321 4.5.3.1.4 limits a command line to 512)",
        1),
    DEF(PR_HELP_UNKNOWN, 504, "5.5.4",
        "HELP topic {} unknown: HELP lists the commands", 1),
    DEF(PR_TOO_MANY_ERRORS, 421, "4.7.0",
        "practice.test Too many errors; closing the connection", 0),
    DEF(PR_IDLE, 421, "4.4.2",
        "practice.test Idle timeout; closing the connection", 0),
    DEF(PR_TOO_MANY_CONNS, 421, "4.3.2",
        "practice.test Too many connections; try again later", 0),
    DEF(PR_SHUTDOWN, 421, "4.3.2", "practice.test Shutting down", 0),
    DEF(PR_PIPE_DATA, 554, "5.5.0",
        "Improper command pipelining after DATA: wait for the 354 before "
        "sending the message",
        0),
    DEF(PR_TOO_MANY_RCPTS, 452, "4.5.3",
        "Too many recipients (100 per message)", 0),
    DEF(PR_SIZE_DECLARED, 552, "5.3.4",
        "Message size exceeds the fixed limit of {} octets", 0),
    DEF(PR_SIZE_DATA, 552, "5.3.4",
        "Message size exceeds the fixed limit of {} octets", 0),
    DEF(PR_USER_UNKNOWN, 550, "5.1.1",
        "<{}>: Recipient address rejected: User unknown in practice.test", 0),
    DEF(PR_FULL, 552, "5.2.2", "<{}>: Mailbox full", 0),
    DEF(PR_GREY, 450, "4.7.1",
        "<{}>: Recipient address rejected: Greylisted, try again in {} "
        "seconds",
        0),
    DEF(PR_TEMPFAIL, 451, "4.3.0",
        "<{}>: Temporary local problem, try again later", 0),
    DEF(PR_RELAY, 554, "5.7.1",
        "<{}>: Relay access denied (log in with AUTH to relay)", 0),
    DEF(PR_RCPT_BYE, 421, "4.3.2",
        "practice.test Service shutting down, closing the connection (the "
        "bye@ trigger)",
        0),
    DEF(PR_UTF8, 553, "5.6.7",
        "<{}>: a non-ASCII address needs the SMTPUTF8 parameter", 0),
    DEF(PR_LOCAL_ERROR, 451, "4.3.0",
        "Local error: the message could not be stored", 0),
    DEF(PR_TOO_LONG_AUTH, 500, "5.5.6",
        "Authentication exchange line is too long (RFC 4954 4)", 1),
    DEF(PR_NEED_TLS, 530, "5.7.0",
        "Must issue a STARTTLS command first (this server requires TLS)", 1),
    DEF(PR_TLS_FOR_MECH, 538, "5.7.11",
        "Encryption required for requested authentication mechanism {}: "
        "STARTTLS first",
        1),
    DEF(PR_NEED_AUTH, 530, "5.7.0",
        "Authentication required: this server takes mail only after AUTH "
        "(HELP lists the practice accounts)",
        1),
    DEF(PR_SENDER_POLICY, 550, "5.7.1",
        "<{}>: Sender address rejected: Access denied by the practice "
        "policy",
        0),
    DEF(PR_CONTENT, 554, "5.7.1",
        "Message content rejected: the content filter refused this message "
        "for badcontent@ (judged only after the final dot)",
        0),
    DEF(PR_TOO_MANY_TRIGGER, 452, "4.5.3",
        "<{}>: Too many recipients (toomany@ acts as recipient 101; the "
        "limit is 100): send the rest in another transaction",
        0),
    DEF(PR_LMTP_NO_EHLO, 500, "5.5.1",
        "This is an LMTP server (RFC 2033): greet it with LHLO, not {}", 0),
    DEF(PR_LMTP_DELIVERED, 250, "2.0.0", "<{}> delivered as {}", 0),
};

#undef DEF

size_t
practice_reply_count(void)
{
	return PR_COUNT;
}

const struct practice_reply *
practice_reply_at(size_t i)
{
	return i < PR_COUNT ? &practice_replies[i].r : NULL;
}

/* ---- small helpers ----------------------------------------------------- */

/*
 * Client text to echo in a reply: printable ASCII only (anything else
 * becomes '?'), at most PC_ARG_MAX octets, so a reply stays one line.
 */
void
pc_safe(char *out, size_t outsz, const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 4 < outsz && k < PC_ARG_MAX; i++) {
		/* Every caller passes n bytes that lie inside s (a key=value
		 * span of the client's line); the analyser cannot see that. */
		// NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign)
		unsigned char ch = (unsigned char)s[i];

		out[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (i < n && k + 3 < outsz) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

char
pc_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

int
pc_word_is(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

/* ---- replies ------------------------------------------------------------ */

/*
 * Appends one reply line: the code, '-' or ' ', the enhanced code and the
 * table's text with each "{}" replaced by the next argument (NULL ends).
 */
static void
pc_line_v(struct pconn *c, enum pc_reply_id id, int last, va_list ap)
{
	const struct pc_reply_def *d = &practice_replies[id];
	const char *t = d->text, *slot, *arg;
	struct buf *b = &c->out;
	size_t before = buf_used(b);
	int r;

	r = buf_add_printf(b, "%03d%c", d->r.code, last ? ' ' : '-');
	if (d->r.enhanced[0] != '\0')
		r |= buf_add_printf(b, "%s ", d->r.enhanced);
	while ((slot = strstr(t, "{}")) != NULL) {
		r |= buf_add(b, t, (size_t)(slot - t));
		arg = va_arg(ap, const char *);
		r |= buf_add_str(b, arg != NULL ? arg : "");
		t = slot + 2;
	}
	r |= buf_add_str(b, t);
	r |= buf_add(b, "\r\n", 2);
	if (r == 0)
		pc_log_reply(c, id, d->r.code, buf_peek(b) + before,
		    buf_used(b) - before - 2, last);
	if (r != 0) {
		/* A client that reads nothing while sending commands. */
		pc_log(c, "output buffer full; dropping the connection");
		c->dead = 1;
	}
}

void
pc_line(struct pconn *c, enum pc_reply_id id, int last, ...)
{
	va_list ap;

	va_start(ap, last);
	pc_line_v(c, id, last, ap);
	va_end(ap);
}

/* A single-line reply; protocol errors are counted (RFC 5321 4.1.4 leaves
 * the limit to the server; Postfix's is 20, ours 10). */
void
pc_reply(struct pconn *c, enum pc_reply_id id, ...)
{
	va_list ap;

	va_start(ap, id);
	pc_line_v(c, id, 1, ap);
	va_end(ap);
	if (practice_replies[id].error && ++c->errors >= PRACTICE_MAX_ERRORS &&
	    !c->closing) {
		pc_log(c, "too many errors");
		pc_close_with(c, PR_TOO_MANY_ERRORS);
	}
}

void
pc_close_with(struct pconn *c, enum pc_reply_id id)
{
	pc_line(c, id, 1, (const char *)NULL);
	c->closing = 1;
}
