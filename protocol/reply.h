/*
 * SMTP reply parsing (RFC 5321 section 4.2, RFC 3463 enhanced codes).
 *
 * The parser is incremental: feed it bytes exactly as they came off the
 * wire, split anywhere (even between CR and LF).  It reports every server
 * line as it completes (for the transcript) and every complete reply.
 * Everything it reports points into memory it owns and is valid only
 * during the callback.  All input is untrusted and every buffer is bounded.
 */
#ifndef EHLO_PROTOCOL_REPLY_H
#define EHLO_PROTOCOL_REPLY_H

#include <stddef.h>

/* Bounds.  A line longer than this is truncated (and flagged). */
#define SMTP_REPLY_LINE_MAX 8192
/* More lines than this in one reply is a fatal protocol error. */
#define SMTP_REPLY_LINES_MAX 1000
/* More bytes than this in one reply is a fatal protocol error. */
#define SMTP_REPLY_SIZE_MAX (256 * 1024)

/* Anomalies of a single line; tolerated, but shown to the user. */
#define SMTP_LINE_BARE_LF 0x01 /* ended by LF without CR */
#define SMTP_LINE_NUL 0x02 /* contained NUL bytes */
#define SMTP_LINE_TRUNCATED 0x04 /* longer than SMTP_REPLY_LINE_MAX */
#define SMTP_LINE_BARE_CR 0x08 /* a CR not followed by LF inside */
#define SMTP_LINE_CODE_RANGE 0x10 /* code outside 2xx..5xx (e.g. 199, 600) */

/* Fatal problems: the reply cannot be trusted to match a command. */
enum smtp_reply_error {
	SMTP_REPLY_OK = 0,
	SMTP_REPLY_EBADCODE, /* the line does not start with 3 digits */
	SMTP_REPLY_ESEP, /* 4th char is neither ' ', '-' nor the end */
	SMTP_REPLY_ECODECHANGE, /* a continuation line changed the code */
	SMTP_REPLY_ETOOMANY, /* more than SMTP_REPLY_LINES_MAX lines */
	SMTP_REPLY_ETOOBIG, /* more than SMTP_REPLY_SIZE_MAX bytes */
};

/* One line of a reply, without its line ending. */
struct smtp_reply_line {
	const char *text; /* the whole line as received (may hold NUL) */
	size_t len;
	unsigned flags; /* SMTP_LINE_* */
};

/* A complete reply. */
struct smtp_reply {
	int code; /* 0..999 as sent ("099" is 99; see SMTP_LINE_CODE_RANGE) */
	char enhanced[16]; /* "5.1.1" from the first line, or "" */
	const struct smtp_reply_line *lines;
	size_t nlines;
	unsigned flags; /* OR of all lines' flags */
};

enum smtp_reply_event_type {
	SMTP_REPLY_EV_LINE, /* one server line arrived (transcript) */
	SMTP_REPLY_EV_REPLY, /* a reply is complete */
	SMTP_REPLY_EV_ERROR, /* malformed input; see error and line */
};

struct smtp_reply_event {
	enum smtp_reply_event_type type;
	const struct smtp_reply_line *line; /* LINE, ERROR (offending line) */
	const struct smtp_reply *reply; /* REPLY */
	enum smtp_reply_error error; /* ERROR */
};

typedef void smtp_reply_cb(const struct smtp_reply_event *, void *arg);

struct smtp_reply_parser; /* opaque */

struct smtp_reply_parser *smtp_reply_parser_new(void);
/* NULL is a no-op. */
void smtp_reply_parser_free(struct smtp_reply_parser *);
/* Forgets any partial line or reply (after STARTTLS, on reconnect). */
void smtp_reply_parser_reset(struct smtp_reply_parser *);

/*
 * Consumes all n bytes, calling cb for each LINE, REPLY and ERROR in wire
 * order.  Every line produces a LINE event before its reply or error
 * event.  After an ERROR the partial reply is discarded and parsing
 * resumes at the next line (the caller decides whether to go on).  A
 * reply that passes SMTP_REPLY_LINES_MAX or SMTP_REPLY_SIZE_MAX gives one
 * ERROR; its remaining lines still give LINE events but nothing else,
 * up to and including its final line.  If cb calls
 * smtp_reply_parser_reset() (say after the 220 to STARTTLS), the rest of
 * this buffer is dropped: it arrived before the reset and must not be
 * taken as a reply to anything later (STARTTLS response injection).
 */
void smtp_reply_parser_feed(struct smtp_reply_parser *, const char *, size_t,
    smtp_reply_cb *, void *arg);

/*
 * Bytes of an incomplete line or reply held back (0 when idle).  Inside
 * a callback it also counts the bytes of the current feed not parsed
 * yet, so a handler can tell whether the server sent more after this
 * reply (anything after the 220 to STARTTLS, say).
 */
size_t smtp_reply_parser_pending(const struct smtp_reply_parser *);

/* Human-readable text for an error, e.g. "reply code is not 3 digits". */
const char *smtp_reply_error_str(enum smtp_reply_error);

/*
 * Parses an RFC 3463 enhanced status code ("class.subject.detail", class
 * 2, 4 or 5, subject up to 3 digits, detail up to 3 digits) at the start
 * of text (after the reply code and separator).  Copies it into out
 * (size >= 16) and returns its length, or 0 when there is none.
 */
size_t smtp_enhanced_parse(const char *text, size_t len, char out[16]);

/* Returns the text after "NNN " / "NNN-" (and after the enhanced code
 * when skip_enhanced is set), for display of the meaning. */
const char *smtp_reply_line_text(
    const struct smtp_reply_line *, int skip_enhanced, size_t *lenp);

#endif
