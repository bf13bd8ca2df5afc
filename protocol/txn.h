/*
 * The transaction builder: the one place that turns a message's facts,
 * the server's capabilities and the user's DSN wishes into the command
 * lines of one SMTP transaction.  No I/O: it hands out lines (without
 * CRLF) and the caller sends them and reads the replies.
 *
 *   MAIL FROM:<from> [SIZE=n] [BODY=8BITMIME|BINARYMIME] [SMTPUTF8]
 *                    [RET=FULL|HDRS] [ENVID=xtext]
 *   RCPT TO:<rcpt>   [NOTIFY=...] [ORCPT=rfc822;xtext]      (one each)
 *   DATA             or   BDAT n ... BDAT n LAST
 *
 * Two ways to walk it, on the same object:
 *
 *   - the whole envelope as a list (smtp_txn_envelope): line 0 is MAIL,
 *     line k is recipient k-1; a PIPELINING sender (RFC 2920) writes
 *     them all at once;
 *   - a cursor (smtp_txn_next_envelope): each call gives the next line,
 *     for a sender that waits for every reply.
 *
 * Between the envelope and the data the caller looks at the replies
 * (which recipients were accepted) and decides; smtp_txn_data_next()
 * then gives DATA, or the BDAT chunk headers one by one.
 */
#ifndef EHLO_PROTOCOL_TXN_H
#define EHLO_PROTOCOL_TXN_H

#include <stddef.h>
#include <stdint.h>

struct smtp_caps;
struct smtp_message;
struct smtp_message_build;
struct smtp_message_info;

/* The SIZE of a message not known in advance: no SIZE=, no BDAT plan. */
#define SMTP_TXN_SIZE_UNKNOWN UINT64_MAX
/* BDAT chunk size when smtp_txn_opts.chunk is 0. */
#define SMTP_TXN_CHUNK_DEFAULT (64 * 1024)

/* What the message body needs declared (RFC 6152, RFC 3030 3). */
enum smtp_txn_body {
	SMTP_TXN_BODY_7BIT, /* no BODY= */
	SMTP_TXN_BODY_8BITMIME, /* BODY=8BITMIME */
	SMTP_TXN_BODY_BINARYMIME, /* BODY=BINARYMIME, and BDAT only */
};

/*
 * The message's facts.  Strings stay the caller's; the builder copies
 * what it keeps.  Addresses are addr-specs without the angle brackets
 * ("" for the null reverse-path <>).
 */
struct smtp_txn_msg {
	const char *from;
	const char *const *rcpts;
	size_t nrcpts;
	uint64_t size; /* exact octets (SIZE=, BDAT); SMTP_TXN_SIZE_UNKNOWN */
	enum smtp_txn_body body;
	int smtputf8; /* an address or header is UTF-8 (RFC 6531) */
};

/*
 * Fills m from what the message builder decided (protocol/message.h).
 * m points into info: it is valid while info's builder lives.
 */
void smtp_txn_msg_from_info(
    struct smtp_txn_msg *m, const struct smtp_message_info *info);

/* What the user asked for.  NULL strings: not asked. */
struct smtp_txn_opts {
	const char *notify; /* NEVER, or a list of SUCCESS,FAILURE,DELAY */
	const char *ret; /* FULL or HDRS (any case) */
	const char *envid; /* the envelope id as text; sent as xtext */
	int bdat; /* send with BDAT when the server offers CHUNKING */
	size_t chunk; /* BDAT chunk size; 0: SMTP_TXN_CHUNK_DEFAULT */
	int partial; /* some recipients refused: deliver to the others */
};

/* What is wrong with a DSN value (smtp_txn_opts_check). */
enum smtp_txn_bad {
	SMTP_TXN_OK,
	SMTP_TXN_BAD_NOTIFY, /* not NEVER nor a list of the three words */
	SMTP_TXN_BAD_RET, /* neither FULL nor HDRS */
	SMTP_TXN_BAD_ENVID_EMPTY, /* "" */
	SMTP_TXN_BAD_ENVID_CHARS, /* outside printable ASCII (32-126) */
	SMTP_TXN_BAD_ENVID_LONG, /* over 100 characters (RFC 3461 4.4) */
};

/*
 * Checks the DSN values of o against RFC 3461 4 and returns the first
 * problem, or SMTP_TXN_OK.  For callers that refuse bad input before a
 * session starts, in their own words (`ehlo send`'s usage errors).
 * NOTIFY and RET are case-insensitive; NOTIFY's list has no empty
 * item.
 */
enum smtp_txn_bad smtp_txn_opts_check(const struct smtp_txn_opts *o);

/* Kinds of warning, one bit each. */
#define SMTP_TXN_WARN_SIZE 0x01u /* larger than the server's SIZE limit */
#define SMTP_TXN_WARN_NO_DSN 0x02u /* DSN asked, not offered: left out */
#define SMTP_TXN_WARN_NO_CHUNKING 0x04u /* BDAT asked, not offered */
#define SMTP_TXN_WARN_NO_BODY 0x08u /* BODY= value not offered; sent */
#define SMTP_TXN_WARN_NO_SMTPUTF8 0x10u /* SMTPUTF8 not offered; sent */
#define SMTP_TXN_WARN_ENVID 0x20u /* ENVID outside RFC 3461's rules */

struct smtp_txn_warning {
	unsigned kind; /* one SMTP_TXN_WARN_* */
	const char *text; /* one sentence, no final period */
};

/* One step of the data phase (smtp_txn_data_next). */
struct smtp_txn_data_step {
	const char *line; /* "DATA", "BDAT 65536" or "BDAT 12 LAST" */
	/*
	 * BDAT: exactly this many octets of the message follow the line,
	 * sent as they are (no dot-stuffing, RFC 3030 2).  DATA: the
	 * whole message follows the 354 reply, dot-stuffed, then ".".
	 */
	uint64_t octets;
	int last; /* the last step of the transaction */
};

struct smtp_txn; /* opaque */

/*
 * Builds the transaction for a server whose EHLO reply is caps (NULL,
 * or caps->valid 0 after HELO: no extension at all).  Decides:
 *
 *   - SIZE=n when SIZE is offered and the size is known; a warning
 *     when it is over the server's limit;
 *   - BODY= and SMTPUTF8 whenever msg needs them: they describe the
 *     content, so they are sent even when not offered (with a warning);
 *   - DSN (RET, ENVID as xtext, NOTIFY, and ORCPT=rfc822;xtext for
 *     recipients with a plain ASCII address when NOTIFY is given) only
 *     when DSN is offered, else left out with a warning;
 *   - BDAT when the body is BINARYMIME, or opts->bdat and CHUNKING is
 *     offered (else DATA, with a warning); DATA otherwise.
 *
 * opts may be NULL (nothing asked).  Returns NULL with *errstr (to
 * free) when the input cannot make a transaction: no sender, no
 * recipient, an address with a control character, blank or angle
 * bracket (it would break the command line), or a NOTIFY or RET value
 * smtp_txn_opts_check() refuses.  An ENVID outside RFC 3461's rules
 * (empty, over 100 characters, not printable ASCII) is encoded anyway,
 * with a warning: xtext keeps the line safe.
 */
struct smtp_txn *smtp_txn_new(const struct smtp_caps *caps,
    const struct smtp_txn_msg *msg, const struct smtp_txn_opts *opts,
    char **errstr);
/*
 * The message and its transaction in one step, the way every sender of
 * ehlo makes them: builds msg (protocol/message.h) for a server whose
 * EHLO reply is caps -- 8-bit and UTF-8 content only where 8BITMIME and
 * SMTPUTF8 are offered, Date, Message-ID and boundary fresh -- and the
 * transaction from what the builder decided (smtp_txn_msg_from_info).
 * *build gets the message builder, which the caller streams after DATA
 * and frees after the transaction.  Returns NULL with *errstr (to free)
 * and *build NULL when the message or the transaction cannot be made.
 */
struct smtp_txn *smtp_txn_compose(const struct smtp_caps *caps,
    const struct smtp_message *msg, const struct smtp_txn_opts *opts,
    struct smtp_message_build **build, char **errstr);
/* Frees the transaction and every line it gave out.  NULL: no-op. */
void smtp_txn_free(struct smtp_txn *);

/*
 * The warnings, in the order they arose; *n gets their count.  Valid
 * while the transaction lives.
 */
const struct smtp_txn_warning *smtp_txn_warnings(
    const struct smtp_txn *, size_t *n);
/* The SMTP_TXN_WARN_* bits of every warning, or'ed. */
unsigned smtp_txn_warned(const struct smtp_txn *);

/*
 * The envelope: MAIL then one RCPT per recipient, in the order of
 * msg->rcpts; *n gets 1 + nrcpts.  Lines have no CRLF and are valid
 * while the transaction lives.
 */
const char *const *smtp_txn_envelope(const struct smtp_txn *, size_t *n);

/*
 * The cursor: the next envelope line not yet handed out (MAIL first),
 * or NULL when all were.  *rcpt (when not NULL) gets the recipient's
 * index for a RCPT line, or SIZE_MAX for MAIL (untouched at NULL).
 * Independent of smtp_txn_envelope(), which never moves it.
 */
const char *smtp_txn_next_envelope(struct smtp_txn *, size_t *rcpt);

/* 1 when the data go with BDAT (CHUNKING, RFC 3030), 0 with DATA. */
int smtp_txn_uses_bdat(const struct smtp_txn *);

/*
 * The next step of the data phase into *step: "DATA" once; or, with
 * BDAT, "BDAT n" (n = opts->chunk) while more than one chunk remains,
 * then "BDAT n LAST" with the rest: 1 to chunk octets, 0 only for an
 * empty message.  Returns 1, or 0 when there is no further step; with
 * BDAT and SMTP_TXN_SIZE_UNKNOWN there is no plan and it returns 0 at
 * once (use smtp_txn_bdat_line() for chunks the caller measures).
 * step->line is valid until the next call or smtp_txn_free().
 */
int smtp_txn_data_next(struct smtp_txn *, struct smtp_txn_data_step *step);

/* What to do once every envelope reply is in (smtp_txn_after_envelope). */
enum smtp_txn_next {
	SMTP_TXN_NEXT_DATA, /* every recipient accepted (or some, partial) */
	SMTP_TXN_NEXT_NO_SENDER, /* MAIL refused: no transaction to reset */
	SMTP_TXN_NEXT_NO_RCPT, /* no recipient accepted: RSET, send nothing */
	SMTP_TXN_NEXT_REFUSED, /* some refused, partial not asked: RSET */
};

/*
 * The one policy for refused recipients, the same for `ehlo send` and
 * `/send`: all or nothing, as a mail client does, unless opts->partial
 * asked to deliver to the accepted ones.  mail_code is MAIL's reply,
 * rcpt_codes[i] the reply to recipient i (every RCPT line of the
 * envelope; ignored when MAIL was refused, so a sender that stops after
 * a refused MAIL may leave them 0).  *accepted (when not NULL) gets the
 * number of recipients accepted.
 */
enum smtp_txn_next smtp_txn_after_envelope(const struct smtp_txn *,
    int mail_code, const int *rcpt_codes, size_t *accepted);

/*
 * "BDAT n" or "BDAT n LAST" into out (cap bytes, 32 is always enough),
 * NUL-terminated.  Returns out.
 */
char *smtp_txn_bdat_line(char *out, size_t cap, uint64_t n, int last);

#endif
