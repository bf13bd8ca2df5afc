/*
 * Private to the session engine (session.c, session_reply.c,
 * session_send.c, session_lmtp.c): the session's state and the helpers
 * its rooms share.  session.c owns the life cycle, the stage list, the
 * wait FIFO, events and failures; session_reply.c matches replies to
 * stages and moves the state; session_send.c queues what the user sends
 * (commands, message content, BDAT chunks, SASL responses);
 * session_lmtp.c keeps the accepted recipients whose replies follow the
 * data in LMTP.  Nothing outside these files includes this header.
 */
#ifndef EHLO_PROTOCOL_SESSION_INT_H
#define EHLO_PROTOCOL_SESSION_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "protocol/session.h"

struct smtp_session {
	smtp_event_cb *cb;
	void *arg;
	uint64_t (*now)(void);
	uint64_t t0;

	struct smtp_reply_parser *parser;
	struct smtp_caps caps;
	enum smtp_state state;
	enum smtp_state pred; /* predicted state, see the top comment */
	int tls;
	int authenticated;
	int quit_sent;
	int server_closing;
	int closed;

	struct smtp_stage *stages;
	size_t nstages, capstages;
	size_t *waiting; /* FIFO of stage indexes */
	size_t nwaiting, capwaiting, headwaiting;
	size_t message_stage; /* open MESSAGE stage, or SIZE_MAX */
	size_t last_reply; /* stage index, or SIZE_MAX */

	unsigned txn; /* current transaction number, 0 outside one */
	unsigned ntxn; /* transactions begun on this connection */
	unsigned group, pipelining;
	unsigned line_flags_warned;
	int early_talk; /* a command left before the greeting came */
	int auth_plain_warned; /* AUTH offered without TLS: said once */

	/* SASL typed by hand: what is needed to redact the next response. */
	char auth_mech[32];
	int auth_step;
	char *auth_challenge;

	/* The open BDAT chunk (smtp_session_chunk_left in session.h). */
	uint64_t chunk_left; /* octets the user still has to supply */
	size_t chunk_stage; /* the BDAT stage those octets belong to */

	/* Wire forms of the secrets sent (session_secret.c), wiped on free. */
	struct session_secret {
		char *p;
		size_t len;
	} * secrets;
	size_t nsecrets, capsecrets;
	char *peer; /* "127.0.0.1:25" once connected */
	int downgraded; /* STARTTLS was seen here before, not now */
	int tls_unverified; /* TLS up, certificate not verified (may) */
	int allow_plain_auth; /* --allow-plaintext-auth */

	/* /raw (session_raw.c) */
	char content_tail[4]; /* the last 4 octets of message content */
	int raw_eod_unsure; /* raw content held an end of data other than
	                     * CRLF.CRLF: an early reply answers it */
	char *raw_line; /* a command line sent raw, not ended yet */
	size_t raw_line_len;

	/* LMTP (session_lmtp.c): the accepted RCPT stages of the open
	 * transaction, in order; each gets its own end-of-data reply. */
	int lmtp;
	size_t *lmtp_accepted;
	size_t lmtp_naccepted, lmtp_capaccepted;

	struct buf out;
	/*
	 * Octets at the head of out up to the end of the last command line
	 * (it may hold a SASL response: wiped once sent; streamed message
	 * content after it is not).
	 */
	size_t wipe_left;

	/* The wire tap (session_wire.c): octets consumed from out so far,
	 * and where in that stream secret lines lie with the form shown
	 * for them instead. */
	smtp_wire_cb *wire_cb;
	void *wire_arg;
	uint64_t out_done, in_done;
	struct session_wire_span {
		uint64_t start, len;
		char *display;
	} * spans;
	size_t nspans, capspans;
};

/* Microseconds since the session began. */
uint64_t session_elapsed(const struct smtp_session *);
/* Stamps ev with the time and hands it to the observer. */
void session_emit(struct smtp_session *, struct smtp_event *);

/*
 * Appends a pending stage (display is copied; NULL means "") and
 * returns its index.  It may move s->stages: take pointers after it.
 */
size_t session_stage_add(
    struct smtp_session *, enum smtp_stage_kind, const char *display);
/* The open MESSAGE stage, added on first use (may move s->stages). */
size_t session_message_stage(struct smtp_session *);
void session_stage_finish(
    struct smtp_session *, size_t i, enum smtp_stage_state);

/* The FIFO of stages waiting for a reply: pop returns -1 when empty. */
void session_wait_push(struct smtp_session *, size_t idx);
int session_wait_pop(struct smtp_session *, size_t *idx);

/* Sets the confirmed state (and the predicted one when nothing waits). */
void session_set_state(struct smtp_session *, enum smtp_state);

/* Fails the session (one FAILURE event, then CLOSED). */
void session_fail_f(struct smtp_session *, enum smtp_fail, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Keeps the secrets a line sent as a secret carries (its base64 tokens
 * and what they decode to; login_password: a decoded token without NUL
 * is itself a password, as a LOGIN answer).
 */
void session_secret_wire(
    struct smtp_session *, const char *line, int login_password);
/*
 * A copy of text with every known secret replaced by a mask (*outlen
 * set, NUL added), or NULL when text holds none.
 */
char *session_secret_mask(
    const struct smtp_session *, const char *text, size_t len, size_t *outlen);
/* Wipes the secrets (session free). */
void session_secret_free(struct smtp_session *);

/*
 * session_wire.c: the last n octets queued are a secret line shown as
 * display (copied; CRLF added) by the wire tap; the octets consumed
 * from out (before they leave the buffer), read from the server, and
 * the handshake's summary, each to the tap when there is one; free.
 */
void session_wire_secret(struct smtp_session *, size_t n, const char *display);
void session_wire_out(struct smtp_session *, const char *p, size_t n);
void session_wire_in(struct smtp_session *, const char *p, size_t n);
void session_wire_tls(struct smtp_session *, const char *summary);
void session_wire_free(struct smtp_session *);

/* 1 when a BDAT command line carries the LAST keyword. */
int session_bdat_is_last(const char *line);

/* session_send.c, for session_raw.c: queue (all or nothing; crlf adds
 * one), a SENT event, the end of message content (its stage waits), and
 * the bookkeeping of a command already queued (a stage, its wait, the
 * predicted state; the SENT event unless flags has SMTP_SENT_RAW). */
int session_queue_bytes(
    struct smtp_session *, const char *p, size_t n, int crlf);
void session_emit_sent(struct smtp_session *, const char *text, size_t len,
    unsigned flags, size_t idx);
void session_content_end(struct smtp_session *);
void session_command_track(struct smtp_session *, enum smtp_verb,
    const char *line, const char *display, unsigned flags);
/*
 * A reply that matched no waiting stage after raw content held an
 * unusual end of data: the message stage takes it (*idx).  Returns 1
 * when it did, 0 when the reply answers nothing.
 */
int session_raw_early_end(struct smtp_session *, size_t *idx);

/* session_lmtp.c: a new transaction forgets the recipients; an accepted
 * RCPT (stage idx) is kept; the first reply to the end of data (stage
 * idx) is named after the first recipient and the stages for the others
 * are opened at the head of the wait FIFO. */
void session_lmtp_reset(struct smtp_session *);
void session_lmtp_rcpt(struct smtp_session *, size_t idx);
void session_lmtp_end_reply(struct smtp_session *, size_t idx);

#endif
