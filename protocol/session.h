/*
 * The SMTP client session as a sans-I/O state machine (RFC 5321, with
 * 3207 STARTTLS, 4954 AUTH, 2920 PIPELINING, 3030 CHUNKING).
 *
 * Bytes from the server go in through smtp_session_feed(); bytes for the
 * server come out of smtp_session_output(); everything that happens is
 * reported to one observer callback as events (dialogue lines, replies,
 * stage changes, notes, warnings, failures).  The driver (client.h) owns
 * the socket, TLS and timers and tells the session what happened to them.
 * The session keeps the stage list the stage pane draws: one row per
 * command sent, with its reply code, enhanced code and latency.
 */
#ifndef EHLO_PROTOCOL_SESSION_H
#define EHLO_PROTOCOL_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/caps.h"
#include "protocol/command.h"
#include "protocol/reply.h"

enum smtp_stage_kind {
	SMTP_STAGE_CONNECT = 0,
	SMTP_STAGE_GREETING,
	SMTP_STAGE_EHLO,
	SMTP_STAGE_HELO,
	SMTP_STAGE_STARTTLS,
	SMTP_STAGE_TLS, /* the TLS handshake (implicit or after 220) */
	SMTP_STAGE_AUTH, /* AUTH and each SASL response */
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,
	SMTP_STAGE_DATA, /* DATA and its 354 */
	SMTP_STAGE_MESSAGE, /* the content and the reply to the final "." */
	SMTP_STAGE_BDAT,
	SMTP_STAGE_RSET,
	SMTP_STAGE_VRFY,
	SMTP_STAGE_EXPN,
	SMTP_STAGE_HELP,
	SMTP_STAGE_NOOP,
	SMTP_STAGE_VERB,
	SMTP_STAGE_ETRN,
	SMTP_STAGE_QUIT,
	SMTP_STAGE_XCLIENT, /* Postfix XCLIENT; a 220 is a new greeting */
	SMTP_STAGE_PROXY, /* the PROXY protocol header, sent at connect */
	SMTP_STAGE_OTHER, /* a verb the workbench does not know */
	SMTP_STAGE_KIND_COUNT
};

enum smtp_stage_state {
	SMTP_ST_PENDING = 0, /* sent, no reply yet */
	SMTP_ST_OK, /* 2xx */
	SMTP_ST_MORE, /* 3xx: the server wants more (354, 334) */
	SMTP_ST_TEMPFAIL, /* 4xx */
	SMTP_ST_PERMFAIL, /* 5xx */
	SMTP_ST_ERROR, /* no usable reply: closed, timeout, garbage */
};

/* Categories of asynchronous failure (STYLE.md: a small fixed set). */
enum smtp_fail {
	SMTP_FAIL_CONNECT = 1,
	SMTP_FAIL_TLS,
	SMTP_FAIL_PROTOCOL,
	SMTP_FAIL_TIMEOUT,
	SMTP_FAIL_CLOSED,
};

struct smtp_stage {
	enum smtp_stage_kind kind;
	enum smtp_stage_state state;
	char *command; /* display form of what was sent (redacted) */
	int code; /* reply code, 0 while pending */
	char enhanced[16]; /* "5.1.1" or "" */
	char *text; /* first reply line after the code (raw bytes,
	                       * escape before display), NULL while pending */
	size_t text_len;
	uint64_t t_start_us; /* since the session began */
	uint64_t t_end_us; /* when the reply came (0 while pending) */
	unsigned txn; /* transaction number (MAIL..end), 0 outside */
	unsigned group; /* pipelined group number, 0 when not */
	uint64_t bytes; /* MESSAGE, BDAT: octets of content on the wire */
};

enum smtp_event_type {
	SMTP_EV_SENT, /* a line went out (text: display form) */
	SMTP_EV_LINE, /* a server line came in (text: raw bytes) */
	SMTP_EV_REPLY, /* a reply completed (reply, stage) */
	SMTP_EV_NOTE, /* a workbench note */
	SMTP_EV_WARNING, /* a rule was broken (by either side) */
	SMTP_EV_STAGE, /* a stage was added or changed (stage) */
	SMTP_EV_STARTTLS, /* 220 to STARTTLS: start the TLS handshake now */
	SMTP_EV_FAILURE, /* the session failed (category, text) */
	SMTP_EV_CLOSED, /* the conversation is over (after QUIT or failure) */
};

/* SMTP_EV_SENT flags */
#define SMTP_SENT_REDACTED 0x1 /* text is not what went on the wire */
#define SMTP_SENT_CONTENT 0x2 /* message content, not a command */
#define SMTP_SENT_SUMMARY 0x4 /* one line standing for much content */
#define SMTP_SENT_RAW                                                          \
	0x8 /* /raw: text is "[raw] " and the exact bytes sent (with
             * their CR, LF, NUL: escape before display) */

struct smtp_event {
	enum smtp_event_type type;
	uint64_t t_us; /* since the session began */
	const char *text; /* see the type; not NUL-safe for
	                                 * LINE: use len */
	size_t len;
	unsigned flags; /* SENT: SMTP_SENT_*; LINE: SMTP_LINE_* */
	const struct smtp_reply *reply; /* REPLY */
	const struct smtp_stage *stage; /* SENT, REPLY, STAGE (may be NULL) */
	size_t stage_index;
	enum smtp_fail category; /* FAILURE */
};

typedef void smtp_event_cb(const struct smtp_event *, void *arg);

struct smtp_session; /* opaque */

/* The observer is called synchronously from every call below. */
struct smtp_session *smtp_session_new(smtp_event_cb *, void *arg);
/* NULL is a no-op.  Never call from inside the observer. */
void smtp_session_free(struct smtp_session *);
/* Replaces the clock (tests); now() returns microseconds. */
void smtp_session_set_clock(struct smtp_session *, uint64_t (*now)(void));

/* Emits a NOTE / WARNING event with printf-formatted text. */
void smtp_session_note(struct smtp_session *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void smtp_session_warn(struct smtp_session *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* The driver reports the transport's progress. */
void smtp_session_connecting(struct smtp_session *, const char *what);
void smtp_session_connected(struct smtp_session *, const char *peer);
/*
 * As smtp_session_connected(), after the driver sent a PROXY protocol
 * header (protocol/proxyhdr.h) as the connection's first bytes: proxy
 * is its display form, shown as a SENT line on a PROXY stage that
 * awaits no reply (NULL: none was sent).
 */
void smtp_session_connected_proxy(
    struct smtp_session *, const char *peer, const char *proxy);
/* Implicit TLS: the handshake starts right after connect. */
void smtp_session_tls_begin(struct smtp_session *);
/* The handshake finished: summary is e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384". */
void smtp_session_tls_done(struct smtp_session *, const char *summary);

/*
 * Feeds bytes read from the server.  Replies complete stages and move
 * the state; malformed replies end the session with SMTP_FAIL_PROTOCOL.
 */
void smtp_session_feed(struct smtp_session *, const char *, size_t);

/*
 * Sends one line the user typed (no CRLF).  Depending on the state it is
 * a line of a BDAT chunk (while smtp_session_chunk_left() > 0, see
 * below), a line of message content (after 354, until "."), a SASL
 * response (after 334; shown redacted), or an SMTP command (checked:
 * warnings are emitted as events and the line is sent anyway).  Returns
 * -1 with *errstr when the line must not be sent (CR, LF or NUL inside;
 * not connected; a chunk line that does not fit).
 */
int smtp_session_send(
    struct smtp_session *, const char *, size_t, char **errstr);

/*
 * Sends p[0..n) exactly (/raw): no CRLF appended, no check, no
 * dot-stuffing, CR, LF and NUL allowed.  One SENT event with
 * SMTP_SENT_RAW (its text "[raw] " and the bytes; no stage).  The
 * session keeps track as well as it can: complete command lines open
 * stages as typed commands do, a partial line waits for the rest of it,
 * a BDAT chunk counts the octets (refused when they do not fit), and in
 * message content <CR><LF>.<CR><LF> ends the message.  An end of data
 * other than that (<LF>.<LF>, <CR>.<CR>, a NUL before the dot...) is
 * content for ehlo, with a warning that the server may see an end
 * there: a reply that then comes before the message's end is taken as
 * the server's answer to the message.  Lines that cannot be read as one
 * command (a bare CR or LF, a NUL) get a warning that ehlo cannot know
 * where the server is.  Returns -1 with *errstr when nothing was sent
 * (not connected, TLS handshake pending, output full).
 */
int smtp_session_send_raw(
    struct smtp_session *, const char *p, size_t n, char **errstr);
/* 1 while raw content held an unusual end of data and the message has
 * not ended for ehlo yet: the server may have ended it (see above). */
int smtp_session_eod_unsure(const struct smtp_session *);

/*
 * Sends a line whose wire form must not be shown (SASL): display is what
 * observers see.  kind is the stage it opens (SMTP_STAGE_AUTH).  Refused
 * (-1, *errstr) while a BDAT chunk is open.
 */
int smtp_session_send_secret(struct smtp_session *, const char *wire,
    const char *display, char **errstr);

/*
 * A secret the session must never let back out of a server line (the
 * password or token a front end sends; what goes out in secret lines is
 * kept already): every server line is shown, recorded and replied with
 * each occurrence masked.  Copied; wiped when the session is freed.
 * Strings under 4 octets are ignored.
 */
void smtp_session_secret_add(struct smtp_session *, const char *, size_t);

/*
 * Marks the connection as a STARTTLS downgrade (the server offered
 * STARTTLS in an earlier session and does not now).
 */
void smtp_session_set_downgraded(struct smtp_session *);

/*
 * LMTP (RFC 2033): the session is LMTP, so after the end of the data
 * (the final "." or BDAT ... LAST) one reply per accepted recipient is
 * awaited, each on its own "end of data" stage named after the
 * recipient ("message content for <a@example.org>", "reply for
 * <b@example.org>"), in RCPT order.  Set before connecting; the front
 * end greets with LHLO.
 */
void smtp_session_set_lmtp(struct smtp_session *, int on);
int smtp_session_is_lmtp(const struct smtp_session *);

/*
 * The wire tap (--hexdump): the octets as they really leave and arrive,
 * in the chunks they were written and read (after TLS decryption: the
 * plaintext), for a hex dump.  Secrets never reach it: a line sent as a
 * secret (SASL) comes as the redacted form the dialogue shows, with
 * SMTP_WIRE_REDACTED, and every known secret inside other octets (a
 * server's echo) is masked as in the dialogue.  The TLS handshake is
 * not dumped: SMTP_WIRE_HANDSHAKE carries its summary instead.
 */
enum smtp_wire_dir {
	SMTP_WIRE_OUT, /* written to the server */
	SMTP_WIRE_IN, /* read from the server */
	SMTP_WIRE_HANDSHAKE, /* a TLS handshake finished (p: its summary) */
};
#define SMTP_WIRE_TLS 0x1 /* the octets went in TLS records */
#define SMTP_WIRE_REDACTED 0x2 /* a secret line's display form */

struct smtp_wire {
	enum smtp_wire_dir dir;
	unsigned flags;
	const char *p; /* not NUL-terminated: use n */
	size_t n;
	uint64_t t_us; /* since the session began */
};
typedef void smtp_wire_cb(const struct smtp_wire *, void *arg);
/* Sets (cb NULL: removes) the tap; from then on, not for the past. */
void smtp_session_wire_tap(struct smtp_session *, smtp_wire_cb *, void *arg);
/* The octets written to and read from the connection so far (tap or
 * not), for a tap set late to start its offsets where the stream is. */
void smtp_session_wire_counts(
    const struct smtp_session *, uint64_t *out, uint64_t *in);

/* The user allows credentials without TLS (--allow-plaintext-auth). */
void smtp_session_allow_plaintext_auth(struct smtp_session *);

/*
 * Marks the TLS now up as unverified and going on anyway (opportunistic
 * TLS, Postfix's "may" level): no credentials are sent over it.
 */
void smtp_session_set_tls_unverified(struct smtp_session *);

/*
 * Why credentials must not be sent now, or NULL when they may: over TLS
 * marked unverified; on a connection without TLS after a downgrade, or
 * to an address that is not loopback, unless
 * smtp_session_allow_plaintext_auth() was called.
 * The reason says how to go on.  Allocated.
 */
char *smtp_session_auth_refusal(const struct smtp_session *);

/*
 * Streaming content for /body and /send, in SMTP_STATE_CONTENT only:
 * body_buf() is the output buffer to append content to, already
 * dot-stuffed and CRLF-normalised (NULL outside content state), and
 * body_commit() counts the n octets appended; body_end() is called
 * after the final ".\r\n" was queued and opens the wait for the reply;
 * summary is shown as one C: line.
 */
void smtp_session_body_end(struct smtp_session *, const char *summary);

struct buf *smtp_session_body_buf(struct smtp_session *);
void smtp_session_body_commit(struct smtp_session *, size_t n);

/*
 * BDAT chunks (RFC 3030).  After "BDAT n [LAST]" with n > 0 is sent, the
 * next n octets are the chunk, not commands: smtp_session_chunk_left()
 * is the count still owed (0 when no chunk is open), and every line
 * given to smtp_session_send() meanwhile goes into the chunk as typed
 * plus CRLF, counted, never dot-stuffed (a chunk has no end marker) and
 * never command-checked.  Each is shown as a SENT event flagged
 * SMTP_SENT_CONTENT on the BDAT stage, like DATA content, and the BDAT
 * stage's bytes grow with it.
 *
 * The contract for front ends: the server answers BDAT only after the
 * whole chunk, so while chunk_left > 0 the reply is not awaited; read
 * the next lines and send them (smtp_client_is_busy() is 0 then, and
 * the client's timeout does not run).  A prompt can show the count
 * ("chunk 7 left>"): the BDAT line sets it and each chunk line lowers it
 * (a SENT event follows each change); it also drops to 0 when the
 * session closes, or when the server answers BDAT early with
 * 500/501/502/504 (it took no chunk; a NOTE says so).  There is no way
 * out of a chunk but to finish it or to close the connection: every
 * line, QUIT and "/quit" included, is chunk content, so a front end that
 * must stop (end of script, the user quits) closes the connection.
 *
 * Fitting: a line of k octets is sent whole when k + 2 <= chunk_left; a
 * line of exactly chunk_left octets is sent without CRLF and ends the
 * chunk in mid-line (the next chunk continues that line); any other
 * line is refused with an *errstr naming the octets left, and nothing is
 * sent, because octets past the count would reach the server as a
 * command.  "BDAT 0" and "BDAT 0 LAST" open no chunk: the reply is
 * awaited at once (BDAT 0 LAST ends a message sent in earlier chunks).
 */
uint64_t smtp_session_chunk_left(const struct smtp_session *);

/* Groups the following commands into one write (RFC 2920). */
void smtp_session_pipeline_begin(struct smtp_session *);
void smtp_session_pipeline_end(struct smtp_session *);
int smtp_session_is_pipelining(const struct smtp_session *);

/* Bytes waiting to be written; pointer valid until the next call. */
const char *smtp_session_output(const struct smtp_session *, size_t *len);
void smtp_session_output_consume(struct smtp_session *, size_t);

/* The driver reports the end of the connection. */
void smtp_session_fail(struct smtp_session *, enum smtp_fail, const char *, ...)
    __attribute__((format(printf, 3, 4)));
/* The server closed the connection (EOF). */
void smtp_session_eof(struct smtp_session *);
/* The client closed the connection on purpose; note says why. */
void smtp_session_close(struct smtp_session *, const char *note);

enum smtp_state smtp_session_state(const struct smtp_session *);
const struct smtp_caps *smtp_session_caps(const struct smtp_session *);
int smtp_session_is_tls(const struct smtp_session *);
/* Commands sent whose replies have not come yet. */
size_t smtp_session_pending(const struct smtp_session *);
/* 1 when the conversation is over (QUIT answered, closed or failed). */
int smtp_session_is_closed(const struct smtp_session *);
/* 1 after a 235 to AUTH. */
int smtp_session_is_authenticated(const struct smtp_session *);
/* 1 once QUIT was sent. */
int smtp_session_quit_sent(const struct smtp_session *);
/* 1 if the server has announced it is closing (421 or 221). */
int smtp_session_server_closing(const struct smtp_session *);

size_t smtp_session_nstages(const struct smtp_session *);
const struct smtp_stage *smtp_session_stage(
    const struct smtp_session *, size_t);
/*
 * The stage the next reply will complete (the oldest command still
 * waiting), or NULL.  During an SMTP_EV_LINE event it is the stage the
 * line answers, so a UI can show a reply's latency on its last line.
 */
const struct smtp_stage *smtp_session_awaiting(const struct smtp_session *);
/* The most recently completed stage that got a reply, or NULL. */
const struct smtp_stage *smtp_session_last_reply(const struct smtp_session *);

/* "MAIL", "end of data", ...; state names "ok", "temporary failure". */
const char *smtp_stage_kind_name(enum smtp_stage_kind);
const char *smtp_stage_state_name(enum smtp_stage_state);
const char *smtp_fail_name(enum smtp_fail);

#endif
