/*
 * The practice server: a small, strict ESMTP server for learners.
 *
 *   RFC 5321  SMTP (commands, replies, order, limits, dot-stuffing)
 *   RFC 3463  Enhanced status codes; RFC 2034 ENHANCEDSTATUSCODES
 *   RFC 2920  PIPELINING          RFC 1870  SIZE
 *   RFC 6152  8BITMIME            RFC 6531  SMTPUTF8
 *   RFC 3461  DSN (parameters)    RFC 3030  CHUNKING (BDAT)
 *   RFC 3207  STARTTLS            RFC 4954  AUTH
 *   RFC 4616  PLAIN               RFC 2195  CRAM-MD5 (and LOGIN, a draft)
 *   RFC 3848  "with" protocol types in Received:
 *   RFC 5322  the Date in Received:
 *
 * A struct practice owns the listening socket, the TLS context (made from
 * a self-signed certificate kept in the data directory), a small
 * greylisting table and a list of connections.  Each connection is a
 * struct pconn with a bounded input buffer, a bounded output buffer and a
 * mode: command lines, message content after DATA (dot-unstuffed as it
 * streams), a BDAT chunk (counted octets) or a SASL exchange.  Input is
 * read only while the output is small and the connection is not waiting
 * on a teaching delay, so one slow or hostile client never holds up the
 * others and memory per connection has a fixed ceiling (input 16 KiB,
 * output 1 MiB, message at most the SIZE limit).
 *
 * Every reply the server can send is one row of practice_replies[]
 * (code, enhanced code, text with "{}" slots, whether it counts as a
 * protocol error), so the knowledge base can be checked against it.
 * Nothing here prints: the optional log callback gets one line per
 * event with client text already escaped.
 */
#include "protocol/practice.h"
#include "protocol/sockbio.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/command.h"
#include "protocol/sasl.h"

/* A command or SASL line, CRLF included (RFC 5321 4.5.3.1.6 text line). */
#define PC_LINE_MAX 1000
#define PC_IN_CAP (16 * 1024)
#define PC_OUT_CAP (1024 * 1024)
/* Above this much unsent output the connection is not read. */
#define PC_OUT_HIGH (64 * 1024)
#define PC_MAX_RCPTS 100
#define PC_MAX_CONNS 1000
#define PC_GREY_MAX 256
/* Reads per wake-up, so a flood on one connection cannot starve others. */
#define PC_READS_PER_WAKE 32
#define PC_ARG_MAX 200

#define PC_DEF_GREYLIST_MS 5000u
#define PC_DEF_SLOW_MS 10000u
#define PC_DEF_IDLE_MS 300000u

/* ---- the reply table --------------------------------------------------- */

enum pc_reply_id {
	PR_GREETING,
	PR_EARLY,
	PR_EHLO,
	PR_EHLO_KW,
	PR_HELO,
	PR_OK,
	PR_VERB,
	PR_BYE,
	PR_MAIL_OK,
	PR_RCPT_OK,
	PR_RCPT_LIST,
	PR_RCPT_RELAY,
	PR_RCPT_SLOW,
	PR_RCPT_GREY_OK,
	PR_DATA_GO,
	PR_QUEUED,
	PR_BDAT_OK,
	PR_HELP,
	PR_VRFY_USER,
	PR_VRFY_LIST,
	PR_VRFY_REMOTE,
	PR_EXPN,
	PR_TLS_GO,
	PR_TLS_ACTIVE,
	PR_TLS_NA,
	PR_AUTH_MORE,
	PR_AUTH_OK,
	PR_AUTH_FAIL,
	PR_AUTH_MECH,
	PR_AUTH_CANCEL,
	PR_AUTH_B64,
	PR_AUTH_AGAIN,
	PR_AUTH_TXN,
	PR_NEED_HELO,
	PR_NEED_EHLO,
	PR_NESTED_MAIL,
	PR_NEED_MAIL,
	PR_NEED_RCPT,
	PR_NO_VALID,
	PR_SYNTAX,
	PR_BAD_SENDER,
	PR_BAD_RCPT,
	PR_PARAM,
	PR_UNKNOWN,
	PR_NOT_IMPL,
	PR_TOO_LONG,
	PR_HELP_UNKNOWN,
	PR_TOO_MANY_ERRORS,
	PR_IDLE,
	PR_TOO_MANY_CONNS,
	PR_SHUTDOWN,
	PR_PIPE_DATA,
	PR_TOO_MANY_RCPTS,
	PR_SIZE_DECLARED,
	PR_SIZE_DATA,
	PR_USER_UNKNOWN,
	PR_FULL,
	PR_GREY,
	PR_TEMPFAIL,
	PR_RELAY,
	PR_RCPT_BYE,
	PR_UTF8,
	PR_LOCAL_ERROR,
	PR_COUNT
};

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
        "Unrecognized authentication type {}: use PLAIN, LOGIN or "
        "CRAM-MD5",
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
    DEF(PR_TOO_LONG, 500, "5.5.6", "Line too long (over 1000 octets)", 1),
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

/* ---- mailboxes, accounts, triggers ------------------------------------- */

static const struct practice_account practice_accounts[] = {
    {"alice", "wonderland", "Alice Liddell"},
    {"bob", "builder", "Bob the Builder"},
    {"carol", "christmas", "Carol Singer"},
};
#define PC_NACCOUNTS (sizeof practice_accounts / sizeof practice_accounts[0])

size_t
practice_account_count(void)
{
	return PC_NACCOUNTS;
}

const struct practice_account *
practice_account_at(size_t i)
{
	return i < PC_NACCOUNTS ? &practice_accounts[i] : NULL;
}

/* The list staff@ and its members (in order). */
static const char *const practice_staff[] = {"alice", "bob", "carol"};

enum pc_kind {
	K_MAILBOX,
	K_LIST,
	K_UNKNOWN,
	K_FULL,
	K_GREY,
	K_TEMPFAIL,
	K_SLOW,
	K_BYE,
};

struct pc_local {
	const char *name;
	enum pc_kind kind;
	const char *result; /* for HELP and practice_trigger_at() */
};

static const struct pc_local practice_locals[] = {
    {"alice", K_MAILBOX, NULL},
    {"bob", K_MAILBOX, NULL},
    {"carol", K_MAILBOX, NULL},
    {"postmaster", K_MAILBOX, NULL},
    {"staff", K_LIST, NULL},
    {"unknown", K_UNKNOWN, "550 5.1.1 user unknown (so does any other name)"},
    {"full", K_FULL, "552 5.2.2 mailbox full"},
    {"greylist", K_GREY,
        "450 4.7.1 greylisted; the same client and sender are accepted "
        "when they retry after 5 seconds"},
    {"tempfail", K_TEMPFAIL, "451 4.3.0 temporary local problem"},
    {"slow", K_SLOW, "250, but only after 10 seconds (try --timeout)"},
    {"bye", K_BYE, "421 4.3.2 and the server hangs up"},
};
#define PC_NLOCALS (sizeof practice_locals / sizeof practice_locals[0])

static const struct practice_trigger practice_triggers[] = {
    {"unknown@practice.test", "550 5.1.1 user unknown (any unknown name)"},
    {"full@practice.test", "552 5.2.2 mailbox full"},
    {"greylist@practice.test",
        "450 4.7.1 greylisted; accepted when the same client and sender "
        "retry after 5 seconds"},
    {"tempfail@practice.test", "451 4.3.0 temporary local problem"},
    {"slow@practice.test", "250 only after 10 seconds (for timeouts)"},
    {"bye@practice.test", "421 4.3.2 and the server hangs up"},
    {"anyone@other.example",
        "554 5.7.1 relay access denied (accepted after AUTH; kept in "
        "inbox/relay, never sent out)"},
    {"MAIL FROM:<...> SIZE=2000000",
        "552 5.3.4 over the 1048576-octet limit (so is a longer message)"},
};
#define PC_NTRIGGERS (sizeof practice_triggers / sizeof practice_triggers[0])

size_t
practice_trigger_count(void)
{
	return PC_NTRIGGERS;
}

const struct practice_trigger *
practice_trigger_at(size_t i)
{
	return i < PC_NTRIGGERS ? &practice_triggers[i] : NULL;
}

/* ---- state ------------------------------------------------------------- */

enum pc_mode {
	PC_CMD,
	PC_DATA, /* after 354, until CRLF "." CRLF */
	PC_BDAT, /* inside a counted BDAT chunk */
	PC_AUTH, /* a 334 was sent; the next line is a SASL response */
};

enum pc_auth_step {
	PA_NONE,
	PA_PLAIN,
	PA_LOGIN_USER,
	PA_LOGIN_PASS,
	PA_CRAM,
};

struct pc_grey {
	char *key; /* "ip sender rcpt" */
	uint64_t first_us;
};

struct pconn;

struct practice {
	struct loop *loop;
	int lfd;
	uint64_t accept_timer; /* re-enables accept() after EMFILE */
	char *address;
	char *datadir;
	char *inbox;
	char *cafile;
	char *keyfile;
	SSL_CTX *ssl_ctx;
	struct practice_opts o;
	struct pconn *conns;
	size_t nconns;
	unsigned next_id;
	unsigned next_msg;
	struct pc_grey grey[PC_GREY_MAX];
	size_t grey_next;
};

struct pconn {
	struct practice *p;
	struct pconn *prev, *next;
	int fd;
	unsigned id;
	char peer[INET6_ADDRSTRLEN];
	SSL *ssl;
	int tls; /* TLS is up */
	int tls_start; /* 220 queued: handshake once it is written */
	int handshaking;
	int ssl_want_write; /* the last TLS operation needs the socket writable */
	struct buf in, out;
	enum pc_mode mode;
	int greeted;
	uint64_t greet_timer;
	uint64_t idle_timer;
	uint64_t last_us;
	uint64_t slow_timer;
	char *slow_rcpt; /* accepted when slow_timer fires */
	int paused; /* waiting for a teaching delay: no input processed */
	int closing; /* close once the output is written */
	int dead; /* free at the end of the current callback */
	int discarding; /* inside an over-long line */
	unsigned errors;
	/* session */
	int helo; /* 0 none, 1 HELO, 2 EHLO */
	char helo_name[256];
	char *auth_user;
	enum pc_auth_step auth_step;
	char *login_user;
	char cram_challenge[128];
	/* transaction */
	char *mail; /* reverse path ("" for <>); NULL outside a transaction */
	int smtputf8;
	char **rcpts;
	size_t nrcpts;
	unsigned rcpt_tries;
	struct buf msg;
	int msg_over;
	uint64_t msg_bytes;
	int data_bol;
	uint64_t bdat_left;
	int bdat_last;
	enum pc_reply_id bdat_reject; /* PR_COUNT when the chunk is good */
};

static void pc_pump(struct pconn *);
static void pc_settle(struct pconn *);

/* ---- small helpers ----------------------------------------------------- */

static void practice_log(struct practice *, const char *, ...)
    EHLO_PRINTF(2, 3);

static void
practice_log(struct practice *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (p->o.log == NULL || p->o.quiet)
		return;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	p->o.log(s, p->o.log_arg);
	free(s);
}

static void pc_log(struct pconn *, const char *, ...) EHLO_PRINTF(2, 3);

static void
pc_log(struct pconn *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (c->p->o.log == NULL || c->p->o.quiet)
		return;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	practice_log(c->p, "#%u %s: %s", c->id, c->peer, s);
	free(s);
}

/*
 * Client text to echo in a reply: printable ASCII only (anything else
 * becomes '?'), at most PC_ARG_MAX octets, so a reply stays one line.
 */
static void
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

static char
pc_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static int
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
	if (r != 0) {
		/* A client that reads nothing while sending commands. */
		pc_log(c, "output buffer full; dropping the connection");
		c->dead = 1;
	}
}

static void
pc_line(struct pconn *c, enum pc_reply_id id, int last, ...)
{
	va_list ap;

	va_start(ap, last);
	pc_line_v(c, id, last, ap);
	va_end(ap);
}

static void pc_close_with(struct pconn *, enum pc_reply_id);

/* A single-line reply; protocol errors are counted (RFC 5321 4.1.4 leaves
 * the limit to the server; Postfix's is 20, ours 10). */
static void
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

static void
pc_close_with(struct pconn *c, enum pc_reply_id id)
{
	pc_line(c, id, 1, (const char *)NULL);
	c->closing = 1;
}

/* ---- transactions --------------------------------------------------------- */

static void
pc_txn_reset(struct pconn *c)
{
	size_t i;

	free(c->mail);
	c->mail = NULL;
	for (i = 0; i < c->nrcpts; i++)
		free(c->rcpts[i]);
	free(c->rcpts);
	c->rcpts = NULL;
	c->nrcpts = 0;
	c->rcpt_tries = 0;
	c->smtputf8 = 0;
	buf_reset(&c->msg);
	c->msg_over = 0;
	c->msg_bytes = 0;
}

static void
pc_auth_reset(struct pconn *c)
{
	c->auth_step = PA_NONE;
	free(c->login_user);
	c->login_user = NULL;
	OPENSSL_cleanse(c->cram_challenge, sizeof c->cram_challenge);
	if (c->mode == PC_AUTH)
		c->mode = PC_CMD;
}

static void
pc_msg_add(struct pconn *c, const char *p, size_t n)
{
	c->msg_bytes += n;
	if (c->msg_over)
		return;
	if (c->msg_bytes > PRACTICE_SIZE_LIMIT || buf_add(&c->msg, p, n) != 0) {
		c->msg_over = 1;
		buf_reset(&c->msg);
	}
}

/* ---- delivery ----------------------------------------------------------- */

static const char *const pc_days[] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const pc_months[] = {"Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* RFC 5322 date-time in UTC, independent of the locale. */
static void
pc_date(char *out, size_t n, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	(void)snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    pc_days[tm.tm_wday % 7], tm.tm_mday, pc_months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Header-safe copy of client text: no control characters. */
static void
pc_header_safe(char *out, size_t outsz, const char *s)
{
	size_t k = 0;

	for (; *s != '\0' && k + 1 < outsz; s++)
		out[k++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	out[k] = '\0';
}

static int
pc_mkdir(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
pc_write_all(int fd, const char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Writes one copy into inbox/<folder>/<time>.<n>.eml (via a temp name). */
static int
pc_store(struct pconn *c, const char *folder, const char *rcpt, const char *qid,
    char **where)
{
	struct practice *p = c->p;
	char date[64], helo[256], from[520], to[520];
	char *dir, *tmp, *final = NULL, *head;
	const char *with;
	time_t now = time(NULL);
	int fd, rc = -1;
	unsigned tries;

	dir = xasprintf("%s/%s", p->inbox, folder);
	if (pc_mkdir(p->inbox) == -1 || pc_mkdir(dir) == -1) {
		free(dir);
		return -1;
	}
	tmp = xasprintf("%s/.tmp.%ld.%u", dir, (long)getpid(), p->next_msg);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		free(tmp);
		free(dir);
		return -1;
	}
	pc_date(date, sizeof date, now);
	pc_header_safe(helo, sizeof helo, c->helo_name);
	pc_header_safe(from, sizeof from, c->mail);
	pc_header_safe(to, sizeof to, rcpt);
	if (c->smtputf8)
		with = c->tls ? (c->auth_user ? "UTF8SMTPSA" : "UTF8SMTPS")
		              : (c->auth_user ? "UTF8SMTPA" : "UTF8SMTP");
	else if (c->helo == 1)
		with = "SMTP";
	else
		with = c->tls ? (c->auth_user ? "ESMTPSA" : "ESMTPS")
		              : (c->auth_user ? "ESMTPA" : "ESMTP");
	head = xasprintf("Return-Path: <%s>\r\n"
	                 "Received: from %s (%s)\r\n"
	                 "\tby practice.test (ehlo practice server) with %s "
	                 "id %s%s%s%s\r\n"
	                 "\tfor <%s>; %s\r\n",
	    from, helo, c->peer, with, qid, c->tls ? "\r\n\t(using " : "",
	    c->tls ? SSL_get_version(c->ssl) : "", c->tls ? ")" : "", to, date);
	if (pc_write_all(fd, head, strlen(head)) == 0 &&
	    pc_write_all(fd, buf_peek(&c->msg), buf_used(&c->msg)) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		for (tries = 0; tries < 1000; tries++) {
			free(final);
			final = xasprintf("%s/%lld.%u.eml", dir, (long long)now,
			    p->next_msg++);
			if (link(tmp, final) == 0) {
				rc = 0;
				break;
			}
			if (errno != EEXIST)
				break;
		}
	}
	if (fd != -1)
		(void)close(fd);
	(void)unlink(tmp);
	free(head);
	free(tmp);
	free(dir);
	if (rc == 0)
		*where = final;
	else
		free(final);
	return rc;
}

/* The inbox folder of an accepted recipient, or NULL for a list. */
static const char *
pc_folder(const char *rcpt, char *out, size_t outsz)
{
	const char *at = strrchr(rcpt, '@');
	size_t n = at != NULL ? (size_t)(at - rcpt) : strlen(rcpt), i;

	if (at != NULL && strcasecmp(at + 1, PRACTICE_DOMAIN) != 0)
		return "relay";
	if (n >= outsz)
		n = outsz - 1;
	for (i = 0; i < n; i++)
		out[i] = pc_lower(rcpt[i]);
	out[n] = '\0';
	if (strcmp(out, "staff") == 0)
		return NULL;
	return out;
}

/*
 * Delivers one copy per inbox folder (a list expands to its members; a
 * member named twice gets one copy); -1 if any copy failed.
 */
static int
pc_deliver(struct pconn *c, const char *qid)
{
	char folder[64], *where, **done = NULL;
	const char *f, *dest;
	size_t i, k, d, ndone = 0;
	int rc = 0;

	for (i = 0; i < c->nrcpts; i++) {
		f = pc_folder(c->rcpts[i], folder, sizeof folder);
		for (k = 0; k < (f == NULL ? 3 : 1); k++) {
			dest = f != NULL ? f : practice_staff[k];
			for (d = 0; d < ndone; d++)
				if (strcmp(done[d], dest) == 0)
					break;
			if (d < ndone && strcmp(dest, "relay") != 0)
				continue;
			done = xreallocarray(done, ndone + 1, sizeof *done);
			done[ndone++] = xstrdup(dest);
			if (pc_store(c, dest, c->rcpts[i], qid, &where) == -1) {
				pc_log(c, "cannot store a copy for %s: %s",
				    dest, strerror(errno));
				rc = -1;
				continue;
			}
			pc_log(c, "delivered %llu octets to %s",
			    (unsigned long long)buf_used(&c->msg), where);
			free(where);
		}
	}
	for (d = 0; d < ndone; d++)
		free(done[d]);
	free(done);
	return rc;
}

static void
pc_finish_message(struct pconn *c)
{
	char qid[32], lim[32];

	(void)snprintf(lim, sizeof lim, "%u", PRACTICE_SIZE_LIMIT);
	if (c->msg_over) {
		pc_log(c, "message of %llu octets refused (over the limit)",
		    (unsigned long long)c->msg_bytes);
		pc_reply(c, PR_SIZE_DATA, lim);
	} else {
		(void)snprintf(qid, sizeof qid, "P%08llX%04X",
		    (unsigned long long)time(NULL) & 0xffffffffull,
		    c->p->next_msg & 0xffffu);
		if (pc_deliver(c, qid) == 0)
			pc_reply(c, PR_QUEUED, qid);
		else
			pc_reply(c, PR_LOCAL_ERROR);
	}
	pc_txn_reset(c);
}

/* ---- addresses and parameters ------------------------------------------- */

/*
 * Parses "<path>" at s (after "FROM:" or "TO:", blanks allowed before
 * it).  On success *path is the allocated address (source route
 * dropped) and *rest points after '>'.  Returns -1 on bad syntax.
 */
static int
pc_path_parse(const char *s, char **path, const char **rest, int *nonascii)
{
	const char *p, *start, *at = NULL;
	int quoted = 0;

	while (*s == ' ')
		s++;
	if (*s != '<')
		return -1;
	start = ++s;
	if (*start == '@') { /* obsolete source route "@a,@b:" */
		while (*s != '\0' && *s != ':' && *s != '>')
			s++;
		if (*s != ':')
			return -1;
		start = ++s;
	}
	*nonascii = 0;
	for (p = start; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (quoted) {
			if (ch == '\\' && p[1] != '\0')
				p++;
			else if (ch == '"')
				quoted = 0;
			continue;
		}
		if (ch == '"')
			quoted = 1;
		else if (ch == '>')
			break;
		else if (ch == '@')
			at = p;
		else if (ch <= ' ' || ch == 0x7f || ch == '<' || ch == '(' ||
		    ch == ')' || ch == ',' || ch == ';' || ch == ':' ||
		    ch == '\\' || ch == '[' || ch == ']')
			if (!(at != NULL &&
			        (ch == '[' || ch == ']' || ch == ':')))
				return -1;
		if (ch >= 0x80)
			*nonascii = 1;
	}
	if (*p != '>' || (size_t)(p - start) > 256)
		return -1;
	if (p > start) {
		/* local@domain, both non-empty; "postmaster" alone is legal. */
		if (at == NULL) {
			if (!pc_word_is(
			        start, (size_t)(p - start), "postmaster"))
				return -1;
		} else if (at == start || at + 1 == p || at[1] == '.' ||
		    p[-1] == '.')
			return -1;
	}
	*path = xstrndup(start, (size_t)(p - start));
	*rest = p + 1;
	return 0;
}

/* Next " KEY[=VALUE]" parameter; returns 0 at the end, -1 on junk. */
static int
pc_param_next(const char **s, const char **key, size_t *klen, const char **val,
    size_t *vlen)
{
	const char *p = *s;

	if (*p == '\0')
		return 0;
	if (*p != ' ')
		return -1;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 0;
	*key = p;
	while (*p != '\0' && *p != ' ' && *p != '=')
		p++;
	*klen = (size_t)(p - *key);
	*val = NULL;
	*vlen = 0;
	if (*p == '=') {
		*val = ++p;
		while (*p != '\0' && *p != ' ')
			p++;
		*vlen = (size_t)(p - *val);
	}
	*s = p;
	return *klen > 0 ? 1 : -1;
}

static int
pc_value_in(const char *v, size_t n, const char *const *set)
{
	for (; *set != NULL; set++)
		if (pc_word_is(v, n, *set))
			return 1;
	return 0;
}

/* xtext (RFC 3461 4): printable ASCII except '+' and '=', or "+XX". */
static int
pc_is_xtext(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] == '+') {
			if (i + 2 >= n || !isxdigit((unsigned char)v[i + 1]) ||
			    !isxdigit((unsigned char)v[i + 2]))
				return 0;
			i += 2;
			continue;
		}
		if (v[i] < '!' || v[i] > '~' || v[i] == '=')
			return 0;
	}
	return 1;
}

static int
pc_digits(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* ---- greylisting ---------------------------------------------------------- */

/* Returns 0 when accepted, else the seconds still to wait. */
static unsigned
pc_greylist(struct pconn *c, const char *rcpt)
{
	struct practice *p = c->p;
	uint64_t now = loop_now_us(), delay, waited;
	char *key = xasprintf("%s %s %s", c->peer, c->mail, rcpt);
	struct pc_grey *g;
	size_t i;

	delay = (uint64_t)(p->o.greylist_ms ? p->o.greylist_ms
	                                    : PC_DEF_GREYLIST_MS) *
	    1000u;
	for (i = 0; i < PC_GREY_MAX; i++) {
		g = &p->grey[i];
		if (g->key == NULL || strcasecmp(g->key, key) != 0)
			continue;
		free(key);
		waited = now - g->first_us;
		if (waited >= delay)
			return 0;
		return (unsigned)((delay - waited + 999999u) / 1000000u);
	}
	g = &p->grey[p->grey_next];
	p->grey_next = (p->grey_next + 1) % PC_GREY_MAX;
	free(g->key);
	g->key = key;
	g->first_us = now;
	return (unsigned)((delay + 999999u) / 1000000u);
}

/* ---- commands ------------------------------------------------------------- */

static void
pc_cmd_ehlo(struct pconn *c, const char *arg, int ehlo)
{
	char safe[PC_ARG_MAX + 8], size[64];
	const char *kw;
	static const char *const kws[] = {"PIPELINING", "SIZE", "8BITMIME",
	    "SMTPUTF8", "ENHANCEDSTATUSCODES", "DSN", "CHUNKING", "VRFY",
	    "STARTTLS", "AUTH PLAIN LOGIN CRAM-MD5", "HELP", NULL};
	size_t i, last;

	if (*arg == '\0') {
		pc_reply(
		    c, PR_SYNTAX, ehlo ? "EHLO hostname" : "HELO hostname");
		return;
	}
	pc_txn_reset(c);
	pc_safe(c->helo_name, sizeof c->helo_name, arg, strlen(arg));
	pc_safe(safe, sizeof safe, arg, strlen(arg));
	c->helo = ehlo ? 2 : 1;
	if (!ehlo) {
		pc_reply(c, PR_HELO, safe, c->peer);
		return;
	}
	pc_line(c, PR_EHLO, 0, safe, c->peer);
	for (last = 0; kws[last + 1] != NULL; last++)
		;
	for (i = 0; kws[i] != NULL; i++) {
		if (strcmp(kws[i], "STARTTLS") == 0 &&
		    (c->tls || c->p->ssl_ctx == NULL))
			continue;
		if (strcmp(kws[i], "SIZE") == 0) {
			(void)snprintf(
			    size, sizeof size, "SIZE %u", PRACTICE_SIZE_LIMIT);
			kw = size;
		} else
			kw = kws[i];
		pc_line(c, PR_EHLO_KW, i == last, kw);
	}
}

static void
pc_cmd_mail(struct pconn *c, const char *arg)
{
	static const char *const bodies[] = {"7BIT", "8BITMIME", NULL};
	static const char *const rets[] = {"FULL", "HDRS", NULL};
	const char *rest, *k, *v;
	char safe[PC_ARG_MAX + 8], lim[32];
	size_t kn, vn;
	uint64_t size;
	char *path;
	int r, nonascii, utf8 = 0;

	if (c->helo == 0) {
		pc_reply(c, PR_NEED_HELO);
		return;
	}
	if (c->mail != NULL) {
		pc_reply(c, PR_NESTED_MAIL);
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0) {
		pc_reply(c, PR_SYNTAX, "MAIL FROM:<address>");
		return;
	}
	if (pc_path_parse(arg + 5, &path, &rest, &nonascii) == -1) {
		pc_safe(safe, sizeof safe, arg + 5, strlen(arg + 5));
		pc_reply(c, PR_BAD_SENDER, safe);
		return;
	}
	pc_safe(safe, sizeof safe, path, strlen(path));
	while ((r = pc_param_next(&rest, &k, &kn, &v, &vn)) == 1) {
		char ks[PC_ARG_MAX + 8];

		pc_safe(ks, sizeof ks, k, kn + (v != NULL ? vn + 1 : 0));
		if (c->helo != 2) {
			pc_reply(c, PR_PARAM, ks);
			goto fail;
		}
		if (pc_word_is(k, kn, "SIZE")) {
			if (v == NULL || pc_digits(v, vn, &size) == -1) {
				pc_reply(c, PR_SYNTAX, "SIZE=octets");
				goto fail;
			}
			if (size > PRACTICE_SIZE_LIMIT) {
				(void)snprintf(
				    lim, sizeof lim, "%u", PRACTICE_SIZE_LIMIT);
				pc_reply(c, PR_SIZE_DECLARED, lim);
				goto fail;
			}
		} else if (pc_word_is(k, kn, "BODY")) {
			if (v == NULL || !pc_value_in(v, vn, bodies)) {
				pc_reply(c, PR_PARAM, ks);
				goto fail;
			}
		} else if (pc_word_is(k, kn, "SMTPUTF8") && v == NULL)
			utf8 = 1;
		else if (pc_word_is(k, kn, "RET")) {
			if (v == NULL || !pc_value_in(v, vn, rets)) {
				pc_reply(c, PR_SYNTAX, "RET=FULL or RET=HDRS");
				goto fail;
			}
		} else if (pc_word_is(k, kn, "ENVID") ||
		    pc_word_is(k, kn, "AUTH")) {
			if (v == NULL || !pc_is_xtext(v, vn)) {
				pc_reply(
				    c, PR_SYNTAX, "ENVID=xtext, AUTH=xtext");
				goto fail;
			}
		} else {
			pc_reply(c, PR_PARAM, ks);
			goto fail;
		}
	}
	if (r == -1) {
		pc_reply(c, PR_SYNTAX, "MAIL FROM:<address> [SP parameters]");
		goto fail;
	}
	if (nonascii && !utf8) {
		pc_reply(c, PR_UTF8, safe);
		goto fail;
	}
	c->mail = path;
	c->smtputf8 = utf8;
	pc_reply(c, PR_MAIL_OK, safe);
	return;
fail:
	free(path);
}

static const struct pc_local *
pc_local_find(const char *local, size_t n)
{
	size_t i;

	for (i = 0; i < PC_NLOCALS; i++)
		if (pc_word_is(local, n, practice_locals[i].name))
			return &practice_locals[i];
	return NULL;
}

static void
pc_rcpt_add(struct pconn *c, char *path)
{
	c->rcpts = xreallocarray(c->rcpts, c->nrcpts + 1, sizeof *c->rcpts);
	c->rcpts[c->nrcpts++] = path;
}

static void
pc_slow_done(void *arg)
{
	struct pconn *c = arg;
	char safe[PC_ARG_MAX + 8], secs[16];
	struct practice *p = c->p;

	c->slow_timer = 0;
	c->paused = 0;
	pc_safe(safe, sizeof safe, c->slow_rcpt, strlen(c->slow_rcpt));
	(void)snprintf(secs, sizeof secs, "%u",
	    (p->o.slow_ms ? p->o.slow_ms : PC_DEF_SLOW_MS) / 1000u);
	pc_rcpt_add(c, c->slow_rcpt);
	c->slow_rcpt = NULL;
	pc_reply(c, PR_RCPT_SLOW, safe, secs);
	pc_pump(c);
	pc_settle(c);
}

static void
pc_cmd_rcpt(struct pconn *c, const char *arg)
{
	static const char *const notify[] = {
	    "NEVER", "SUCCESS", "FAILURE", "DELAY", NULL};
	const char *rest, *k, *v, *at;
	char safe[PC_ARG_MAX + 8], secs[16];
	const struct pc_local *loc;
	size_t kn, vn, i;
	char *path = NULL;
	int r, nonascii;
	unsigned wait;

	if (c->helo == 0) {
		pc_reply(c, PR_NEED_HELO);
		return;
	}
	if (c->mail == NULL) {
		pc_reply(c, PR_NEED_MAIL, "RCPT");
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0) {
		pc_reply(c, PR_SYNTAX, "RCPT TO:<address>");
		return;
	}
	if (pc_path_parse(arg + 3, &path, &rest, &nonascii) == -1 ||
	    path[0] == '\0') {
		free(path);
		pc_safe(safe, sizeof safe, arg + 3, strlen(arg + 3));
		pc_reply(c, PR_BAD_RCPT, safe);
		return;
	}
	pc_safe(safe, sizeof safe, path, strlen(path));
	while ((r = pc_param_next(&rest, &k, &kn, &v, &vn)) == 1) {
		char ks[PC_ARG_MAX + 8];

		pc_safe(ks, sizeof ks, k, kn + (v != NULL ? vn + 1 : 0));
		if (c->helo != 2) {
			pc_reply(c, PR_PARAM, ks);
			goto fail;
		}
		if (pc_word_is(k, kn, "NOTIFY")) {
			/* a comma list; checked word by word */
			const char *w = v, *e = v != NULL ? v + vn : NULL;

			while (w != NULL && w < e) {
				const char *comma =
				    memchr(w, ',', (size_t)(e - w));
				size_t wn = (size_t)((comma ? comma : e) - w);

				if (!pc_value_in(w, wn, notify)) {
					w = NULL;
					break;
				}
				w = comma ? comma + 1 : e;
			}
			if (w == NULL) {
				pc_reply(c, PR_SYNTAX,
				    "NOTIFY=NEVER or NOTIFY=SUCCESS,FAILURE,"
				    "DELAY");
				goto fail;
			}
		} else if (pc_word_is(k, kn, "ORCPT")) {
			if (v == NULL || memchr(v, ';', vn) == NULL) {
				pc_reply(c, PR_SYNTAX, "ORCPT=rfc822;address");
				goto fail;
			}
		} else {
			pc_reply(c, PR_PARAM, ks);
			goto fail;
		}
	}
	if (r == -1) {
		pc_reply(c, PR_SYNTAX, "RCPT TO:<address> [SP parameters]");
		goto fail;
	}
	c->rcpt_tries++;
	if (nonascii && !c->smtputf8) {
		pc_reply(c, PR_UTF8, safe);
		goto fail;
	}
	if (c->nrcpts >= PC_MAX_RCPTS) {
		pc_reply(c, PR_TOO_MANY_RCPTS);
		goto fail;
	}
	at = strrchr(path, '@');
	if (at != NULL && strcasecmp(at + 1, PRACTICE_DOMAIN) != 0) {
		if (c->auth_user == NULL) {
			pc_log(c, "relay denied for %s", safe);
			pc_reply(c, PR_RELAY, safe);
			goto fail;
		}
		pc_reply(c, PR_RCPT_RELAY, safe, c->auth_user);
		pc_rcpt_add(c, path);
		return;
	}
	loc = pc_local_find(
	    path, at != NULL ? (size_t)(at - path) : strlen(path));
	for (i = 0; i < c->nrcpts && loc != NULL; i++)
		if (strcasecmp(c->rcpts[i], path) == 0) {
			/* the same recipient twice gets one copy */
			pc_reply(c, PR_RCPT_OK, safe);
			goto fail;
		}
	switch (loc != NULL ? loc->kind : K_UNKNOWN) {
	case K_MAILBOX:
		pc_reply(c, PR_RCPT_OK, safe);
		pc_rcpt_add(c, path);
		return;
	case K_LIST:
		pc_reply(c, PR_RCPT_LIST, safe);
		pc_rcpt_add(c, path);
		return;
	case K_UNKNOWN:
		pc_reply(c, PR_USER_UNKNOWN, safe);
		break;
	case K_FULL:
		pc_reply(c, PR_FULL, safe);
		break;
	case K_GREY:
		if ((wait = pc_greylist(c, path)) == 0) {
			pc_log(c, "greylisting passed for %s", safe);
			pc_reply(c, PR_RCPT_GREY_OK, safe);
			pc_rcpt_add(c, path);
			return;
		}
		(void)snprintf(secs, sizeof secs, "%u", wait);
		pc_reply(c, PR_GREY, safe, secs);
		break;
	case K_TEMPFAIL:
		pc_reply(c, PR_TEMPFAIL, safe);
		break;
	case K_SLOW:
		pc_log(c, "slow@: replying in %u ms",
		    c->p->o.slow_ms ? c->p->o.slow_ms : PC_DEF_SLOW_MS);
		c->paused = 1;
		c->slow_rcpt = path;
		c->slow_timer = loop_timer_add(c->p->loop,
		    c->p->o.slow_ms ? c->p->o.slow_ms : PC_DEF_SLOW_MS,
		    pc_slow_done, c);
		return;
	case K_BYE:
		pc_log(c, "bye@: hanging up");
		pc_close_with(c, PR_RCPT_BYE);
		break;
	}
fail:
	free(path);
}

static void
pc_cmd_data(struct pconn *c, const char *arg)
{
	if (*arg != '\0') {
		pc_reply(c, PR_SYNTAX, "DATA (no arguments)");
		return;
	}
	if (c->helo == 0) {
		pc_reply(c, PR_NEED_HELO);
		return;
	}
	if (c->mail == NULL) {
		pc_reply(c, PR_NEED_MAIL, "DATA");
		return;
	}
	if (c->nrcpts == 0) {
		if (c->rcpt_tries > 0)
			pc_reply(c, PR_NO_VALID);
		else
			pc_reply(c, PR_NEED_RCPT, "DATA");
		return;
	}
	if (buf_used(&c->in) > 0) {
		/* RFC 2920 3.1: DATA must be the last command of a group. */
		pc_log(c, "pipelining after DATA; hanging up");
		pc_close_with(c, PR_PIPE_DATA);
		buf_clear(&c->in);
		return;
	}
	buf_reset(&c->msg);
	c->msg_over = 0;
	c->msg_bytes = 0;
	c->data_bol = 1;
	c->mode = PC_DATA;
	pc_reply(c, PR_DATA_GO);
}

static void
pc_cmd_bdat(struct pconn *c, const char *arg)
{
	const char *sp = strchr(arg, ' ');
	size_t n = sp != NULL ? (size_t)(sp - arg) : strlen(arg);
	uint64_t size;

	if (pc_digits(arg, n, &size) == -1 ||
	    (sp != NULL && strcasecmp(sp + 1, "LAST") != 0)) {
		/* The chunk size is unknown: its octets will look like
		 * commands, as on any server. */
		pc_reply(c, PR_SYNTAX, "BDAT octets [LAST]");
		return;
	}
	c->bdat_left = size;
	c->bdat_last = sp != NULL;
	c->bdat_reject = PR_COUNT;
	/* RFC 3030 2: the chunk is read even when the command fails. */
	if (c->helo != 2)
		c->bdat_reject = c->helo == 0 ? PR_NEED_HELO : PR_NEED_EHLO;
	else if (c->mail == NULL)
		c->bdat_reject = PR_NEED_MAIL;
	else if (c->nrcpts == 0)
		c->bdat_reject = c->rcpt_tries > 0 ? PR_NO_VALID : PR_NEED_RCPT;
	if (c->bdat_reject == PR_COUNT && c->msg_bytes == 0 && !c->msg_over)
		buf_reset(&c->msg);
	c->mode = PC_BDAT;
}

static void
pc_bdat_done(struct pconn *c)
{
	char n[32], lim[32];

	c->mode = PC_CMD;
	if (c->bdat_reject != PR_COUNT) {
		pc_reply(c, c->bdat_reject, "BDAT", (const char *)NULL);
		return;
	}
	if (c->msg_over) {
		(void)snprintf(lim, sizeof lim, "%u", PRACTICE_SIZE_LIMIT);
		pc_reply(c, PR_SIZE_DATA, lim);
		pc_txn_reset(c);
		return;
	}
	if (c->bdat_last) {
		pc_finish_message(c);
		return;
	}
	(void)snprintf(n, sizeof n, "%llu", (unsigned long long)c->msg_bytes);
	pc_reply(c, PR_BDAT_OK, n);
}

static void pc_help_line(struct pconn *c, int last, const char *fmt, ...)
    EHLO_PRINTF(3, 4);

static void
pc_help_line(struct pconn *c, int last, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	pc_line(c, PR_HELP, last, s);
	free(s);
}

static void
pc_cmd_help(struct pconn *c, const char *arg)
{
	const struct smtp_command *cmd;
	char safe[PC_ARG_MAX + 8];
	size_t i;

	if (*arg != '\0') {
		if ((cmd = smtp_command_find(arg, strlen(arg))) == NULL) {
			pc_safe(safe, sizeof safe, arg, strlen(arg));
			pc_reply(c, PR_HELP_UNKNOWN, safe);
			return;
		}
		pc_help_line(c, 0, "%s", cmd->syntax);
		if (cmd->verb == SMTP_VERB_AUTH)
			for (i = 0; i < PC_NACCOUNTS; i++)
				pc_help_line(c, 0,
				    "practice account: %s, password %s",
				    practice_accounts[i].user,
				    practice_accounts[i].password);
		if (cmd->verb == SMTP_VERB_VERB)
			pc_help_line(c, 0,
			    "(this server answers as historical sendmail "
			    "did: 250 Verbose mode)");
		pc_help_line(c, 1, "%s (%s)", cmd->help, cmd->rfc);
		return;
	}
	pc_help_line(c, 0,
	    "This is the ehlo practice server for "
	    "practice.test (RFC 5321).");
	pc_help_line(c, 0,
	    "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET VRFY EXPN HELP "
	    "NOOP QUIT VERB STARTTLS AUTH");
	pc_help_line(c, 0,
	    "Mailboxes: alice bob carol postmaster "
	    "@practice.test; the list staff (EXPN staff).");
	for (i = 0; i < PC_NACCOUNTS; i++)
		pc_help_line(c, 0, "Account for AUTH: user %s, password %s",
		    practice_accounts[i].user, practice_accounts[i].password);
	pc_help_line(c, 0, "Teaching triggers:");
	for (i = 0; i < PC_NTRIGGERS; i++)
		pc_help_line(c, 0, "  %s -> %s", practice_triggers[i].rcpt,
		    practice_triggers[i].result);
	pc_help_line(c, 0,
	    "Accepted mail lands in the practice inbox (ehlo practice "
	    "--inbox).");
	pc_help_line(c, 1, "HELP <command> explains one command.");
}

/* Splits a VRFY/EXPN argument into local part and domain ("" if none). */
static void
pc_target(const char *arg, char *local, size_t ln, char *dom, size_t dn)
{
	const char *s = arg, *e, *at;
	size_t n;

	while (*s == ' ')
		s++;
	if (*s == '<')
		s++;
	e = s + strcspn(s, ">");
	at = memchr(s, '@', (size_t)(e - s));
	n = (size_t)((at != NULL ? at : e) - s);
	pc_safe(local, ln, s, n);
	if (at != NULL)
		pc_safe(dom, dn, at + 1, (size_t)(e - at - 1));
	else
		dom[0] = '\0';
}

static void
pc_cmd_vrfy(struct pconn *c, const char *arg, int expn)
{
	char local[PC_ARG_MAX + 8], dom[PC_ARG_MAX + 8], *s;
	const struct pc_local *loc;
	size_t i, k;

	if (*arg == '\0') {
		pc_reply(c, PR_SYNTAX, expn ? "EXPN list" : "VRFY address");
		return;
	}
	pc_target(arg, local, sizeof local, dom, sizeof dom);
	if (dom[0] != '\0' && strcasecmp(dom, PRACTICE_DOMAIN) != 0) {
		s = xasprintf("%s@%s", local, dom);
		pc_reply(c, expn ? PR_USER_UNKNOWN : PR_VRFY_REMOTE, s);
		free(s);
		return;
	}
	loc = pc_local_find(local, strlen(local));
	if (loc == NULL || loc->kind == K_UNKNOWN) {
		s = xasprintf("%s@%s", local, PRACTICE_DOMAIN);
		pc_reply(c, PR_USER_UNKNOWN, s);
		free(s);
		return;
	}
	if (loc->kind == K_LIST && expn) {
		for (i = 0; i < 3; i++) {
			for (k = 0; k < PC_NACCOUNTS; k++)
				if (strcmp(practice_accounts[k].user,
				        practice_staff[i]) == 0)
					break;
			s = k < PC_NACCOUNTS
			    ? xasprintf("%s <%s@%s>", practice_accounts[k].name,
			          practice_staff[i], PRACTICE_DOMAIN)
			    : xasprintf("<%s@%s>", practice_staff[i],
			          PRACTICE_DOMAIN);
			pc_line(c, PR_EXPN, i == 2, s);
			free(s);
		}
		return;
	}
	if (loc->kind == K_LIST) {
		s = xasprintf("%s@%s", loc->name, PRACTICE_DOMAIN);
		pc_reply(c, PR_VRFY_LIST, s, loc->name);
		free(s);
		return;
	}
	for (k = 0; k < PC_NACCOUNTS; k++)
		if (strcmp(practice_accounts[k].user, loc->name) == 0)
			break;
	if (k < PC_NACCOUNTS)
		s = xasprintf("%s <%s@%s>", practice_accounts[k].name,
		    loc->name, PRACTICE_DOMAIN);
	else if (loc->result != NULL)
		s = xasprintf("<%s@%s> (a teaching trigger: RCPT TO it gives "
		              "%s)",
		    loc->name, PRACTICE_DOMAIN, loc->result);
	else
		s = xasprintf("<%s@%s>", loc->name, PRACTICE_DOMAIN);
	pc_reply(c, expn ? PR_EXPN : PR_VRFY_USER, s);
	free(s);
}

static void
pc_cmd_starttls(struct pconn *c, const char *arg)
{
	if (*arg != '\0') {
		pc_reply(c, PR_SYNTAX, "STARTTLS (no arguments)");
		return;
	}
	if (c->tls) {
		pc_reply(c, PR_TLS_ACTIVE);
		return;
	}
	if (c->helo != 2) {
		pc_reply(
		    c, c->helo == 0 ? PR_NEED_HELO : PR_NEED_EHLO, "STARTTLS");
		return;
	}
	if (c->p->ssl_ctx == NULL) {
		pc_reply(c, PR_TLS_NA, "no certificate could be made");
		return;
	}
	pc_reply(c, PR_TLS_GO);
	/* Plain text sent after STARTTLS must not survive the upgrade
	 * (RFC 3207 6, the command injection attack). */
	if (buf_used(&c->in) > 0)
		pc_log(c, "discarding %zu octets sent after STARTTLS",
		    buf_used(&c->in));
	buf_clear(&c->in);
	c->tls_start = 1;
}

/* ---- AUTH ----------------------------------------------------------------- */

static const struct practice_account *
pc_account(const char *user, size_t n)
{
	size_t i;

	for (i = 0; i < PC_NACCOUNTS; i++)
		if (strlen(practice_accounts[i].user) == n &&
		    memcmp(practice_accounts[i].user, user, n) == 0)
			return &practice_accounts[i];
	return NULL;
}

static int
pc_password_ok(const struct practice_account *a, const char *pw, size_t n)
{
	return a != NULL && strlen(a->password) == n &&
	    CRYPTO_memcmp(a->password, pw, n) == 0;
}

static void
pc_auth_success(struct pconn *c, const struct practice_account *a)
{
	pc_auth_reset(c);
	c->auth_user = xstrdup(a->user);
	pc_log(c, "authenticated as %s", a->user);
	pc_reply(c, PR_AUTH_OK);
}

static void
pc_auth_failure(struct pconn *c)
{
	pc_auth_reset(c);
	pc_log(c, "authentication failed");
	pc_reply(c, PR_AUTH_FAIL);
}

static void
pc_auth_prompt(struct pconn *c, enum pc_auth_step step, const char *text)
{
	char *b64 = sasl_b64_encode(text, strlen(text));

	c->auth_step = step;
	c->mode = PC_AUTH;
	pc_reply(c, PR_AUTH_MORE, b64);
	free(b64);
}

/* One SASL message (decoded) for the current step. */
static void
pc_auth_step(struct pconn *c, const unsigned char *m, size_t n)
{
	const struct practice_account *a;
	const unsigned char *z1, *z2;
	unsigned char mac[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	size_t maclen = 0, i, ulen;
	const char *sp;

	switch (c->auth_step) {
	case PA_PLAIN:
		/* authzid NUL authcid NUL passwd (RFC 4616 2) */
		z1 = memchr(m, '\0', n);
		z2 = z1 != NULL ? memchr(z1 + 1, '\0', n - (size_t)(z1 - m) - 1)
		                : NULL;
		if (z2 == NULL) {
			pc_auth_failure(c);
			return;
		}
		a = pc_account((const char *)z1 + 1, (size_t)(z2 - z1 - 1));
		if (z1 != m &&
		    (a == NULL || (size_t)(z1 - m) != strlen(a->user) ||
		        memcmp(m, a->user, strlen(a->user)) != 0))
			a = NULL; /* may act only as oneself */
		if (a != NULL &&
		    pc_password_ok(
		        a, (const char *)z2 + 1, n - (size_t)(z2 - m) - 1))
			pc_auth_success(c, a);
		else
			pc_auth_failure(c);
		return;
	case PA_LOGIN_USER:
		free(c->login_user);
		c->login_user = xstrndup((const char *)m, n);
		pc_auth_prompt(c, PA_LOGIN_PASS, "Password:");
		return;
	case PA_LOGIN_PASS:
		a = pc_account(c->login_user, strlen(c->login_user));
		if (pc_password_ok(a, (const char *)m, n))
			pc_auth_success(c, a);
		else
			pc_auth_failure(c);
		return;
	case PA_CRAM:
		/* user SP lowercase-hex(HMAC-MD5(password, challenge)) */
		sp = memchr(m, ' ', n);
		ulen = sp != NULL ? (size_t)(sp - (const char *)m) : 0;
		a = sp != NULL ? pc_account((const char *)m, ulen) : NULL;
		if (a == NULL ||
		    EVP_Q_mac(NULL, "HMAC", NULL, "MD5", NULL, a->password,
		        strlen(a->password),
		        (const unsigned char *)c->cram_challenge,
		        strlen(c->cram_challenge), mac, sizeof mac,
		        &maclen) == NULL) {
			pc_auth_failure(c);
			return;
		}
		for (i = 0; i < maclen; i++)
			(void)snprintf(hex + 2 * i, 3, "%02x", mac[i]);
		if (n - ulen - 1 == 2 * maclen &&
		    CRYPTO_memcmp(hex, sp + 1, 2 * maclen) == 0)
			pc_auth_success(c, a);
		else
			pc_auth_failure(c);
		OPENSSL_cleanse(mac, sizeof mac);
		OPENSSL_cleanse(hex, sizeof hex);
		return;
	case PA_NONE:
		break;
	}
	pc_auth_failure(c);
}

/* A base64 line from the client: "*" cancels (RFC 4954 4). */
static void
pc_auth_line(struct pconn *c, const char *line, size_t n)
{
	unsigned char *m;
	size_t mlen;

	if (n == 1 && line[0] == '*') {
		pc_auth_reset(c);
		pc_reply(c, PR_AUTH_CANCEL);
		return;
	}
	if (n == 1 && line[0] == '=')
		n = 0; /* an empty initial response */
	if ((m = sasl_b64_decode(line, n, &mlen)) == NULL) {
		pc_auth_reset(c);
		pc_reply(c, PR_AUTH_B64);
		return;
	}
	pc_auth_step(c, m, mlen);
	secret_free(m, mlen + 1);
}

static void
pc_cmd_auth(struct pconn *c, const char *arg)
{
	const char *sp = strchr(arg, ' ');
	size_t n = sp != NULL ? (size_t)(sp - arg) : strlen(arg);
	char safe[PC_ARG_MAX + 8];
	unsigned char rnd[8];
	uint64_t r = 0;
	size_t i;

	if (c->helo != 2) {
		pc_reply(c, c->helo == 0 ? PR_NEED_HELO : PR_NEED_EHLO, "AUTH");
		return;
	}
	if (c->auth_user != NULL) {
		pc_reply(c, PR_AUTH_AGAIN);
		return;
	}
	if (c->mail != NULL) {
		pc_reply(c, PR_AUTH_TXN);
		return;
	}
	if (n == 0) {
		pc_reply(c, PR_SYNTAX, "AUTH mechanism [initial-response]");
		return;
	}
	if (pc_word_is(arg, n, "PLAIN")) {
		c->auth_step = PA_PLAIN;
		if (sp == NULL) {
			c->mode = PC_AUTH;
			pc_reply(c, PR_AUTH_MORE, "");
			return;
		}
	} else if (pc_word_is(arg, n, "LOGIN")) {
		if (sp == NULL) {
			pc_auth_prompt(c, PA_LOGIN_USER, "Username:");
			return;
		}
		c->auth_step = PA_LOGIN_USER;
	} else if (pc_word_is(arg, n, "CRAM-MD5")) {
		if (sp != NULL) {
			pc_reply(c, PR_SYNTAX,
			    "AUTH CRAM-MD5 (no initial "
			    "response)");
			return;
		}
		if (RAND_bytes(rnd, sizeof rnd) != 1)
			memset(rnd, 0x5a, sizeof rnd);
		for (i = 0; i < sizeof rnd; i++)
			r = r << 8 | rnd[i];
		(void)snprintf(c->cram_challenge, sizeof c->cram_challenge,
		    "<%llu.%lld@practice.test>",
		    (unsigned long long)(r % 10000000000ull),
		    (long long)time(NULL));
		pc_auth_prompt(c, PA_CRAM, c->cram_challenge);
		return;
	} else {
		pc_safe(safe, sizeof safe, arg, n);
		pc_reply(c, PR_AUTH_MECH, safe);
		return;
	}
	c->mode = PC_AUTH;
	pc_auth_line(c, sp + 1, strlen(sp + 1));
}

/* ---- the command dispatcher ------------------------------------------------ */

static void
pc_command(struct pconn *c, char *line, size_t n)
{
	static const char *const unimplemented[] = {"TURN", "ATRN", "ETRN",
	    "SEND", "SOML", "SAML", "XCLIENT", "XFORWARD", NULL};
	char verb[16], safe[PC_ARG_MAX + 8];
	const char *arg;
	size_t vn = strcspn(line, " ");

	if (memchr(line, '\0', n) != NULL) {
		pc_reply(c, PR_SYNTAX, "a command cannot contain NUL");
		return;
	}
	arg = line + vn;
	while (*arg == ' ')
		arg++;
	pc_safe(verb, sizeof verb, line, vn < sizeof verb - 4 ? vn : 8);
	if (pc_word_is(line, vn, "EHLO"))
		pc_cmd_ehlo(c, arg, 1);
	else if (pc_word_is(line, vn, "HELO"))
		pc_cmd_ehlo(c, arg, 0);
	else if (pc_word_is(line, vn, "MAIL"))
		pc_cmd_mail(c, arg);
	else if (pc_word_is(line, vn, "RCPT"))
		pc_cmd_rcpt(c, arg);
	else if (pc_word_is(line, vn, "DATA"))
		pc_cmd_data(c, arg);
	else if (pc_word_is(line, vn, "BDAT"))
		pc_cmd_bdat(c, arg);
	else if (pc_word_is(line, vn, "RSET")) {
		if (*arg != '\0') {
			pc_reply(c, PR_SYNTAX, "RSET (no arguments)");
			return;
		}
		pc_txn_reset(c);
		pc_reply(c, PR_OK);
	} else if (pc_word_is(line, vn, "NOOP"))
		pc_reply(c, PR_OK);
	else if (pc_word_is(line, vn, "QUIT")) {
		pc_close_with(c, PR_BYE);
	} else if (pc_word_is(line, vn, "VRFY"))
		pc_cmd_vrfy(c, arg, 0);
	else if (pc_word_is(line, vn, "EXPN"))
		pc_cmd_vrfy(c, arg, 1);
	else if (pc_word_is(line, vn, "HELP"))
		pc_cmd_help(c, arg);
	else if (pc_word_is(line, vn, "VERB"))
		pc_reply(c, PR_VERB);
	else if (pc_word_is(line, vn, "STARTTLS"))
		pc_cmd_starttls(c, arg);
	else if (pc_word_is(line, vn, "AUTH"))
		pc_cmd_auth(c, arg);
	else if (pc_value_in(line, vn, unimplemented))
		pc_reply(c, PR_NOT_IMPL, verb);
	else {
		pc_safe(safe, sizeof safe, line, vn);
		pc_reply(c, PR_UNKNOWN, safe);
	}
}

/* ---- input ---------------------------------------------------------------- */

/* DATA content: returns 1 at the end of the message, 0 when it needs input. */
static int
pc_data(struct pconn *c)
{
	const char *p, *nl;
	size_t n, take;

	for (;;) {
		p = buf_peek(&c->in);
		n = buf_used(&c->in);
		if (n == 0)
			return 0;
		if (c->data_bol && p[0] == '.') {
			if (n < 2 || (p[1] == '\r' && n < 3))
				return 0;
			if (p[1] == '\r' && p[2] == '\n') {
				buf_consume(&c->in, 3);
				c->mode = PC_CMD;
				pc_finish_message(c);
				return 1;
			}
			buf_consume(&c->in, 1); /* dot-unstuffing */
			c->data_bol = 0;
			continue;
		}
		nl = memchr(p, '\n', n);
		take = nl != NULL ? (size_t)(nl - p) + 1 : n;
		pc_msg_add(c, p, take);
		buf_consume(&c->in, take);
		c->data_bol = nl != NULL;
	}
}

static int
pc_bdat(struct pconn *c)
{
	size_t n = buf_used(&c->in);

	if (c->bdat_left > 0) {
		if (n == 0)
			return 0;
		if (n > c->bdat_left)
			n = (size_t)c->bdat_left;
		if (c->bdat_reject == PR_COUNT)
			pc_msg_add(c, buf_peek(&c->in), n);
		buf_consume(&c->in, n);
		c->bdat_left -= n;
		if (c->bdat_left > 0)
			return 0;
	}
	pc_bdat_done(c);
	return 1;
}

/* Handles everything complete in the input buffer. */
static void
pc_process(struct pconn *c)
{
	char line[PC_LINE_MAX + 1];
	const char *p, *nl;
	size_t n, len;

	while (!c->dead && !c->closing && !c->paused && !c->tls_start &&
	    buf_used(&c->out) <= PC_OUT_HIGH) {
		if (c->mode == PC_DATA) {
			if (pc_data(c) == 0)
				return;
			continue;
		}
		if (c->mode == PC_BDAT) {
			if (pc_bdat(c) == 0)
				return;
			continue;
		}
		p = buf_peek(&c->in);
		n = buf_used(&c->in);
		nl = memchr(p, '\n', n);
		if (c->discarding) {
			if (nl == NULL) {
				buf_clear(&c->in);
				return;
			}
			buf_consume(&c->in, (size_t)(nl - p) + 1);
			c->discarding = 0;
			pc_auth_reset(c);
			pc_reply(c, PR_TOO_LONG);
			continue;
		}
		if (nl == NULL) {
			if (n > PC_LINE_MAX) {
				pc_log(c, "line over %d octets", PC_LINE_MAX);
				c->discarding = 1;
				buf_clear(&c->in);
			}
			return;
		}
		len = (size_t)(nl - p) + 1;
		if (len > PC_LINE_MAX) {
			buf_consume(&c->in, len);
			pc_auth_reset(c);
			pc_reply(c, PR_TOO_LONG);
			continue;
		}
		len--; /* LF */
		if (len > 0 && p[len - 1] == '\r')
			len--;
		memcpy(line, p, len);
		line[len] = '\0';
		buf_consume(&c->in, (size_t)(nl - p) + 1);
		if (c->mode == PC_AUTH)
			pc_auth_line(c, line, len);
		else
			pc_command(c, line, len);
		OPENSSL_cleanse(line, len);
	}
}

/* ---- transport ---------------------------------------------------------- */

static void
pc_tls_begin(struct pconn *c)
{
	BIO *bio;

	c->tls_start = 0;
	if ((c->ssl = SSL_new(c->p->ssl_ctx)) == NULL ||
	    (bio = smtp_sockbio_new(c->fd)) == NULL) {
		pc_log(c, "cannot start TLS (out of memory?)");
		c->dead = 1;
		return;
	}
	SSL_set_bio(c->ssl, bio, bio);
	SSL_set_accept_state(c->ssl);
	c->handshaking = 1;
}

static void
pc_tls_handshake(struct pconn *c)
{
	unsigned long e;
	char why[256];
	int r;

	c->ssl_want_write = 0;
	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->handshaking = 0;
		c->tls = 1;
		/* RFC 3207 4.2: forget everything learnt before TLS. */
		c->helo = 0;
		free(c->auth_user);
		c->auth_user = NULL;
		pc_auth_reset(c);
		pc_txn_reset(c);
		pc_log(c, "TLS established: %s %s", SSL_get_version(c->ssl),
		    SSL_get_cipher_name(c->ssl));
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return;
	case SSL_ERROR_WANT_WRITE:
		c->ssl_want_write = 1;
		return;
	default:
		e = ERR_get_error();
		if (e != 0)
			ERR_error_string_n(e, why, sizeof why);
		else
			(void)snprintf(why, sizeof why, "connection closed");
		pc_log(c, "TLS handshake failed: %s", why);
		ERR_clear_error();
		c->dead = 1;
	}
}

/* Writes what it can; marks the connection dead on error. */
static void
pc_flush(struct pconn *c)
{
	size_t n, done;
	ssize_t r;
	int e;

	c->ssl_want_write = 0;
	while (!c->dead && (n = buf_used(&c->out)) > 0) {
		if (c->ssl != NULL && !c->handshaking) {
			ERR_clear_error();
			if (SSL_write_ex(c->ssl, buf_peek(&c->out), n, &done) ==
			    1) {
				buf_consume(&c->out, done);
				continue;
			}
			e = SSL_get_error(c->ssl, 0);
			if (e == SSL_ERROR_WANT_WRITE) {
				c->ssl_want_write = 1;
				return;
			}
			if (e == SSL_ERROR_WANT_READ)
				return;
			ERR_clear_error();
			c->dead = 1;
			return;
		}
		r = send(c->fd, buf_peek(&c->out), n, MSG_NOSIGNAL);
		if (r > 0) {
			buf_consume(&c->out, (size_t)r);
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->ssl_want_write = 1;
			return;
		}
		c->dead = 1;
	}
	if (buf_used(&c->out) == 0 && c->tls_start)
		pc_tls_begin(c);
}

/* Reads once: 1 got bytes, 0 would block (or no room), -1 EOF / error. */
static int
pc_read(struct pconn *c)
{
	size_t room = PC_IN_CAP - buf_used(&c->in), got;
	char *dst;
	ssize_t r;
	int e;

	if (room == 0 || (dst = buf_reserve(&c->in, room)) == NULL)
		return 0;
	if (c->ssl != NULL) {
		ERR_clear_error();
		if (SSL_read_ex(c->ssl, dst, room, &got) == 1) {
			buf_commit(&c->in, got);
			return 1;
		}
		e = SSL_get_error(c->ssl, 0);
		if (e == SSL_ERROR_WANT_READ)
			return 0;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->ssl_want_write = 1;
			return 0;
		}
		ERR_clear_error();
		return -1;
	}
	do
		r = recv(c->fd, dst, room, 0);
	while (r == -1 && errno == EINTR);
	if (r > 0) {
		buf_commit(&c->in, (size_t)r);
		return 1;
	}
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return -1;
}

static int
pc_can_read(const struct pconn *c)
{
	return !c->dead && !c->closing && !c->paused && !c->tls_start &&
	    !c->handshaking && c->greeted && buf_used(&c->out) <= PC_OUT_HIGH;
}

/* Processes buffered input, then reads and processes until it would block. */
static void
pc_pump(struct pconn *c)
{
	int i, r;

	for (i = 0; i < PC_READS_PER_WAKE ||
	     (c->ssl != NULL && SSL_pending(c->ssl) > 0);
	     i++) {
		pc_process(c);
		if (!pc_can_read(c))
			break;
		r = pc_read(c);
		if (r == 0)
			break;
		if (r == -1) {
			if (c->mode == PC_DATA || c->mode == PC_BDAT)
				pc_log(c,
				    "client vanished in the middle of "
				    "a message (nothing delivered)");
			else
				pc_log(c, "client closed the connection");
			c->dead = 1;
			break;
		}
		c->last_us = loop_now_us();
	}
	pc_flush(c);
}

static void
pc_free(struct pconn *c)
{
	struct practice *p = c->p;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	p->nconns--;
	loop_fd_del(p->loop, c->fd);
	if (c->greet_timer != 0)
		loop_timer_del(p->loop, c->greet_timer);
	if (c->idle_timer != 0)
		loop_timer_del(p->loop, c->idle_timer);
	if (c->slow_timer != 0)
		loop_timer_del(p->loop, c->slow_timer);
	if (c->ssl != NULL) {
		if (c->tls)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		ERR_clear_error();
	}
	(void)close(c->fd);
	pc_txn_reset(c);
	pc_auth_reset(c);
	free(c->auth_user);
	free(c->slow_rcpt);
	buf_reset(&c->in);
	buf_reset(&c->out);
	free(c);
}

/* After any event: frees a finished connection or sets its poll interest. */
static void
pc_settle(struct pconn *c)
{
	int ev = 0;

	if (!c->dead && c->closing && buf_used(&c->out) == 0)
		c->dead = 1;
	if (c->dead) {
		pc_free(c);
		return;
	}
	if (c->handshaking)
		ev = c->ssl_want_write ? LOOP_WRITE : LOOP_READ;
	else {
		if (buf_used(&c->out) > 0 || c->ssl_want_write)
			ev |= LOOP_WRITE;
		if (pc_can_read(c) || !c->greeted)
			ev |= LOOP_READ;
	}
	loop_fd_set(c->p->loop, c->fd, ev);
}

static void
pc_on_io(int fd, int events, void *arg)
{
	struct pconn *c = arg;

	(void)fd;
	if (!c->greeted) {
		/* Anything before the greeting is an early talker. */
		pc_log(c, "early talker");
		pc_close_with(c, PR_EARLY);
		c->greeted = 1;
		pc_flush(c);
		c->dead = 1;
		pc_settle(c);
		return;
	}
	if ((events & LOOP_ERROR) && !pc_can_read(c) && !c->handshaking)
		c->dead = 1;
	if (!c->dead && c->handshaking) {
		pc_tls_handshake(c);
		if (c->handshaking || c->dead) {
			pc_settle(c);
			return;
		}
	}
	if (!c->dead)
		pc_pump(c);
	pc_settle(c);
}

static void
pc_greet(struct pconn *c)
{
	c->greeted = 1;
	pc_line(c, PR_GREETING, 1, (const char *)NULL);
	pc_flush(c);
}

static void
pc_greet_timer(void *arg)
{
	struct pconn *c = arg;

	c->greet_timer = 0;
	pc_greet(c);
	pc_settle(c);
}

static void
pc_idle_timer(void *arg)
{
	struct pconn *c = arg;
	struct practice *p = c->p;
	uint64_t idle = p->o.idle_ms ? p->o.idle_ms : PC_DEF_IDLE_MS;
	uint64_t since = (loop_now_us() - c->last_us) / 1000u;

	c->idle_timer = 0;
	if (since < idle || c->paused) {
		c->idle_timer = loop_timer_add(
		    p->loop, c->paused ? idle : idle - since, pc_idle_timer, c);
		return;
	}
	pc_log(c, "idle for %llu ms; closing", (unsigned long long)since);
	pc_auth_reset(c);
	c->mode = PC_CMD;
	pc_close_with(c, PR_IDLE);
	pc_flush(c);
	pc_settle(c);
}

/* ---- the listener --------------------------------------------------------- */

static void practice_on_accept(int, int, void *);

static void
practice_accept_again(void *arg)
{
	struct practice *p = arg;

	p->accept_timer = 0;
	loop_fd_add(p->loop, p->lfd, LOOP_READ, practice_on_accept, p);
}

static void
practice_on_accept(int lfd, int events, void *arg)
{
	struct practice *p = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct pconn *c;
	int fd, one = 1, i;
	static const char busy[] =
	    "421 4.3.2 practice.test Too many connections; try again later\r\n";

	(void)events;
	for (i = 0; i < 64; i++) {
		sl = sizeof ss;
		fd = accept(lfd, (struct sockaddr *)&ss, &sl);
		if (fd != -1 &&
		    (fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
		        fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)) {
			(void)close(fd);
			continue;
		}
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				practice_log(p,
				    "accept: %s; pausing for a second",
				    strerror(errno));
				loop_fd_del(p->loop, lfd);
				p->accept_timer = loop_timer_add(
				    p->loop, 1000, practice_accept_again, p);
			}
			return;
		}
		if (p->nconns >= PC_MAX_CONNS) {
			(void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
			(void)close(fd);
			continue;
		}
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c = xcalloc(1, sizeof *c);
		c->p = p;
		c->fd = fd;
		c->id = ++p->next_id;
		c->bdat_reject = PR_COUNT;
		buf_init(&c->in, PC_IN_CAP);
		buf_init(&c->out, PC_OUT_CAP);
		buf_init(&c->msg, PRACTICE_SIZE_LIMIT);
		if (ss.ss_family == AF_INET6)
			(void)inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, c->peer,
			    sizeof c->peer);
		else
			(void)inet_ntop(AF_INET,
			    &((struct sockaddr_in *)&ss)->sin_addr, c->peer,
			    sizeof c->peer);
		c->next = p->conns;
		if (p->conns != NULL)
			p->conns->prev = c;
		p->conns = c;
		p->nconns++;
		c->last_us = loop_now_us();
		c->idle_timer = loop_timer_add(p->loop,
		    p->o.idle_ms ? p->o.idle_ms : PC_DEF_IDLE_MS, pc_idle_timer,
		    c);
		loop_fd_add(p->loop, fd, LOOP_READ, pc_on_io, c);
		pc_log(c, "connected (%zu open)", p->nconns);
		if (p->o.greet_pause_ms > 0)
			c->greet_timer = loop_timer_add(
			    p->loop, p->o.greet_pause_ms, pc_greet_timer, c);
		else
			pc_greet(c);
		pc_settle(c);
	}
}

/* "127.0.0.1:2525", "[::1]:2525", "::1" (port 2525), "127.0.0.1". */
static int
practice_resolve(const char *spec, struct addrinfo **res)
{
	struct addrinfo hints;
	char host[INET6_ADDRSTRLEN + 2], port[16];
	const char *colon, *rb;
	size_t n;

	*res = NULL;
	if (spec[0] == '[') {
		if ((rb = strchr(spec, ']')) == NULL ||
		    (rb[1] != '\0' && rb[1] != ':'))
			return -1;
		n = (size_t)(rb - spec - 1);
		colon = rb[1] == ':' ? rb + 1 : NULL;
		spec++;
	} else {
		colon = strrchr(spec, ':');
		if (colon != NULL && strchr(spec, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		n = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	}
	if (n == 0 || n >= sizeof host)
		return -1;
	if (colon != NULL) {
		char *end;
		long v;

		errno = 0;
		v = strtol(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || *end != '\0' || v < 0 ||
		    v > 65535)
			return -1;
	}
	memcpy(host, spec, n);
	host[n] = '\0';
	(void)snprintf(
	    port, sizeof port, "%s", colon != NULL ? colon + 1 : "2525");
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, res) != 0 || *res == NULL) {
		*res = NULL;
		return -1;
	}
	return 0;
}

int
practice_listen_check(const char *spec, char **errstr)
{
	struct addrinfo *res;

	if (practice_resolve(spec, &res) == -1) {
		*errstr = xasprintf("cannot listen on \"%s\": want an IP "
		                    "address and port such as 127.0.0.1:2525 "
		                    "or [::1]:2525",
		    spec);
		return -1;
	}
	freeaddrinfo(res);
	return 0;
}

static int
practice_listen(struct practice *p, const char *spec, char **errstr)
{
	struct addrinfo *res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char numhost[INET6_ADDRSTRLEN];
	int fd, one = 1;

	if (practice_resolve(spec, &res) == -1)
		return practice_listen_check(spec, errstr);
	fd = socket(
	    res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*errstr =
		    xasprintf("cannot create a socket: %s", strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 512) == -1) {
		*errstr = xasprintf("cannot listen on %s: %s%s", p->o.listen,
		    strerror(errno),
		    errno == EADDRINUSE
		        ? " (another server uses that port: pick another "
		          "with --listen ADDR:PORT)"
		        : "");
		(void)close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		*errstr = xasprintf("getsockname: %s", strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (ss.ss_family == AF_INET6) {
		(void)inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)&ss)->sin6_addr, numhost,
		    sizeof numhost);
		p->address = xasprintf("[%s]:%u", numhost,
		    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	} else {
		(void)inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    numhost, sizeof numhost);
		p->address = xasprintf("%s:%u", numhost,
		    ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
	p->lfd = fd;
	return 0;
}

/* ---- the data directory and the certificate ------------------------------ */

char *
practice_default_dir(char **errstr)
{
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (x != NULL && x[0] == '/')
		return xasprintf("%s/ehlo/practice", x);
	if (home != NULL && home[0] == '/')
		return xasprintf("%s/.local/share/ehlo/practice", home);
	*errstr = xstrdup("cannot find a data directory: set HOME or "
	                  "XDG_DATA_HOME");
	return NULL;
}

/* mkdir -p with mode 0700 for the parts it creates. */
static int
practice_mkdirs(const char *path, char **errstr)
{
	char *s = xstrdup(path), *q;

	for (q = s + 1; *q != '\0'; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(s, 0700) == -1 && errno != EEXIST)
			goto fail;
		*q = '/';
	}
	if (mkdir(s, 0700) == -1 && errno != EEXIST)
		goto fail;
	free(s);
	return 0;
fail:
	*errstr = xasprintf("cannot create %s: %s", s, strerror(errno));
	free(s);
	return -1;
}

static int
practice_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* A new P-256 key and a self-signed certificate valid for five years. */
static int
practice_cert_make(struct practice *p, char **errstr)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	unsigned char serial[8];
	BIGNUM *bn = NULL;
	FILE *f = NULL;
	int fd, rc = -1;

	if ((key = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL)
		goto fail;
	if (RAND_bytes(serial, sizeof serial) != 1)
		goto fail;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof serial, NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto fail;
	name = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 5L * 365 * 86400) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	        (const unsigned char *)"ehlo practice server", -1, -1,
	        0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	        (const unsigned char *)"localhost", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto fail;
	if (practice_ext(x, NID_basic_constraints, "critical,CA:TRUE") == -1 ||
	    practice_ext(x, NID_key_usage,
	        "critical,digitalSignature,keyCertSign") == -1 ||
	    practice_ext(x, NID_ext_key_usage, "serverAuth") == -1 ||
	    practice_ext(x, NID_subject_key_identifier, "hash") == -1 ||
	    practice_ext(x, NID_authority_key_identifier, "keyid:always") ==
	        -1 ||
	    practice_ext(x, NID_subject_alt_name,
	        "DNS:localhost,IP:127.0.0.1,IP:::1") == -1)
		goto fail;
	if (X509_sign(x, key, EVP_sha256()) == 0)
		goto fail;
	(void)unlink(p->keyfile);
	fd = open(p->keyfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			(void)close(fd);
		goto fail;
	}
	if (PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	fd = open(p->cafile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			(void)close(fd);
		goto fail;
	}
	if (PEM_write_X509(f, x) != 1 || fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	rc = 0;
fail:
	if (rc == -1)
		*errstr = xasprintf("cannot make the practice certificate in "
		                    "%s: %s",
		    p->datadir,
		    errno != 0 ? strerror(errno) : "OpenSSL failed");
	if (f != NULL)
		(void)fclose(f);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}

/* 1 when cert.pem exists and is valid for at least another day. */
static int
practice_cert_fresh(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	time_t soon = time(NULL) + 86400;
	int ok;

	if (f == NULL)
		return 0;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	(void)fclose(f);
	if (x == NULL) {
		ERR_clear_error();
		return 0;
	}
	ok = X509_cmp_time(X509_get0_notAfter(x), &soon) > 0;
	X509_free(x);
	return ok;
}

static int
practice_tls_init(struct practice *p, char **errstr)
{
	SSL_CTX *ctx;

	if ((!practice_cert_fresh(p->cafile) ||
	        access(p->keyfile, R_OK) == -1) &&
	    practice_cert_make(p, errstr) == -1)
		return -1;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_use_certificate_file(ctx, p->cafile, SSL_FILETYPE_PEM) !=
	        1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, p->keyfile, SSL_FILETYPE_PEM) !=
	        1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		goto fail;
	}
	p->ssl_ctx = ctx;
	return 0;
fail:
	*errstr = xasprintf("cannot load the practice certificate %s (remove "
	                    "it and %s to make a new pair)",
	    p->cafile, p->keyfile);
	ERR_clear_error();
	return -1;
}

/* ---- public API ----------------------------------------------------------- */

struct practice *
practice_new(struct loop *loop, const struct practice_opts *o, char **errstr)
{
	struct practice *p = xcalloc(1, sizeof *p);

	p->loop = loop;
	p->lfd = -1;
	p->o = *o;
	p->o.listen = NULL;
	p->o.datadir = NULL;
	if (o->datadir != NULL)
		p->datadir = xstrdup(o->datadir);
	else if ((p->datadir = practice_default_dir(errstr)) == NULL)
		goto fail;
	p->o.listen = o->listen != NULL ? o->listen : "127.0.0.1:2525";
	if (practice_listen_check(p->o.listen, errstr) == -1)
		goto fail;
	p->inbox = xasprintf("%s/inbox", p->datadir);
	p->cafile = xasprintf("%s/cert.pem", p->datadir);
	p->keyfile = xasprintf("%s/key.pem", p->datadir);
	if (practice_mkdirs(p->inbox, errstr) == -1 ||
	    practice_tls_init(p, errstr) == -1 ||
	    practice_listen(p, p->o.listen, errstr) == -1)
		goto fail;
	p->o.listen = p->address;
	loop_fd_add(loop, p->lfd, LOOP_READ, practice_on_accept, p);
	practice_log(p, "listening on %s (data in %s)", p->address, p->datadir);
	return p;
fail:
	p->o.listen = NULL;
	practice_free(p);
	return NULL;
}

void
practice_free(struct practice *p)
{
	static const char bye[] = "421 4.3.2 practice.test Shutting down\r\n";
	size_t i;

	if (p == NULL)
		return;
	/* pc_free unlinks the connection, so the head moves on (the
	 * analyser loses track of the unlinking). */
	while (p->conns != NULL) {
		struct pconn *c = p->conns;

		// NOLINTNEXTLINE(clang-analyzer-unix.Malloc)
		if (c->ssl == NULL && !c->closing)
			(void)send(c->fd, bye, sizeof bye - 1, MSG_NOSIGNAL);
		pc_free(c);
	}
	if (p->lfd != -1) {
		loop_fd_del(p->loop, p->lfd);
		(void)close(p->lfd);
	}
	if (p->accept_timer != 0)
		loop_timer_del(p->loop, p->accept_timer);
	for (i = 0; i < PC_GREY_MAX; i++)
		free(p->grey[i].key);
	SSL_CTX_free(p->ssl_ctx);
	free(p->address);
	free(p->datadir);
	free(p->inbox);
	free(p->cafile);
	free(p->keyfile);
	free(p);
}

const char *
practice_address(const struct practice *p)
{
	return p->address;
}

const char *
practice_cafile(const struct practice *p)
{
	return p->cafile;
}

const char *
practice_inbox_dir(const struct practice *p)
{
	return p->inbox;
}

size_t
practice_connection_count(const struct practice *p)
{
	return p->nconns;
}

size_t
practice_buffered(const struct practice *p)
{
	const struct pconn *c;
	size_t n = 0;

	for (c = p->conns; c != NULL; c = c->next)
		n += c->in.cap + c->out.cap + c->msg.cap;
	return n;
}

/* ---- the inbox ------------------------------------------------------------ */

/* The Subject: value of a stored message (first 64 KiB), or "". */
static char *
practice_subject(const char *path)
{
	char buf[65536], *s = NULL;
	const char *p, *end, *eol;
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return xstrdup("");
	n = fread(buf, 1, sizeof buf - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	for (p = buf, end = buf + n; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			break; /* end of the header */
		if (strncasecmp(p, "Subject:", 8) == 0) {
			const char *v = p + 8, *e = eol;

			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			if (e > v && e[-1] == '\r')
				e--;
			s = xstrndup(v, (size_t)(e - v));
			break;
		}
	}
	return s != NULL ? s : xstrdup("");
}

static int
practice_msg_cmp(const void *a, const void *b)
{
	const struct practice_message *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->path, y->path);
}

int
practice_inbox_list(const char *datadir, struct practice_message **out,
    size_t *n, char **errstr)
{
	char *dd = NULL, *inbox, *udir;
	DIR *top, *d;
	struct dirent *u, *e;
	struct practice_message *v = NULL;
	size_t nv = 0;
	struct stat st;

	if (datadir == NULL && (dd = practice_default_dir(errstr)) == NULL)
		return -1;
	inbox = xasprintf("%s/inbox", datadir != NULL ? datadir : dd);
	free(dd);
	*out = NULL;
	*n = 0;
	if ((top = opendir(inbox)) == NULL) {
		if (errno == ENOENT) {
			free(inbox);
			return 0;
		}
		*errstr =
		    xasprintf("cannot read %s: %s", inbox, strerror(errno));
		free(inbox);
		return -1;
	}
	while ((u = readdir(top)) != NULL) {
		if (u->d_name[0] == '.')
			continue;
		udir = xasprintf("%s/%s", inbox, u->d_name);
		if ((d = opendir(udir)) == NULL) {
			free(udir);
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			size_t len = strlen(e->d_name);
			char *path;

			if (e->d_name[0] == '.' || len < 5 ||
			    strcmp(e->d_name + len - 4, ".eml") != 0)
				continue;
			path = xasprintf("%s/%s", udir, e->d_name);
			if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
				free(path);
				continue;
			}
			v = xreallocarray(v, nv + 1, sizeof *v);
			v[nv].user = xstrdup(u->d_name);
			v[nv].path = path;
			v[nv].size = (uint64_t)st.st_size;
			v[nv].mtime = (int64_t)st.st_mtime;
			v[nv].subject = practice_subject(path);
			nv++;
		}
		(void)closedir(d);
		free(udir);
	}
	(void)closedir(top);
	free(inbox);
	if (nv > 1)
		qsort(v, nv, sizeof *v, practice_msg_cmp);
	*out = v;
	*n = nv;
	return 0;
}

void
practice_inbox_free(struct practice_message *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].user);
		free(v[i].path);
		free(v[i].subject);
	}
	free(v);
}
