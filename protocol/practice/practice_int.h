/*
 * The practice server's rooms and what they share: a small, strict ESMTP
 * server for learners (the public API is protocol/practice.h).
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
 * The rooms:
 *   practice_reply.c   the reply table, logging, writing replies
 *   practice_store.c   accounts, local parts and triggers; delivery into
 *                      the inbox; listing the inbox
 *   practice_mail.c    the mail transaction: MAIL, RCPT, DATA, BDAT, their
 *                      parameters and greylisting
 *   practice_cmd.c     EHLO/HELO, HELP, VRFY/EXPN, STARTTLS, the command
 *                      dispatcher and the input modes
 *   practice_auth.c    AUTH (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256)
 *   practice_scram.c   SCRAM-SHA-256 and -PLUS through GNU SASL
 *   practice_conn.c    one connection's I/O: TLS handshake, reads, writes,
 *                      timers, teardown
 *   practice_server.c  the listener and the public API
 *   practice_cert.c    the data directory and the self-signed certificate
 *   practice_log.c     the log: events, every command (AUTH's secrets
 *                      redacted) and reply with its timing, to the log
 *                      callback and, for a class server, to one
 *                      transcript file per connection
 *   practice_status.c  a class server's live status file for
 *                      `ehlo practice --watch`, and its reader
 * Nothing here prints: the optional log callback gets one line per event
 * with client text already escaped.
 */
#ifndef EHLO_PROTOCOL_PRACTICE_INT_H
#define EHLO_PROTOCOL_PRACTICE_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include <openssl/ssl.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/practice.h"

struct loop;

/* A command or SASL line, CRLF included (RFC 5321 4.5.3.1.6 text line). */
#define PC_LINE_MAX 1000
#define PC_IN_CAP (16 * 1024)
#define PC_OUT_CAP (1024 * 1024)
/* Above this much unsent output the connection is not read. */
#define PC_OUT_HIGH (64 * 1024)
#define PC_MAX_RCPTS 100
/* Descriptors kept free beside the connections (listener, files, TLS). */
#define PC_FD_RESERVE 64
#define PC_GREY_MAX 256
/* Reads per wake-up, so a flood on one connection cannot starve others
 * (a test builds practice_conn.c with 1: tests/CMakeLists.txt). */
#ifndef PC_READS_PER_WAKE
#define PC_READS_PER_WAKE 32
#endif
#define PC_ARG_MAX 200

#define PC_DEF_GREYLIST_MS 5000u
#define PC_DEF_SLOW_MS 10000u
#define PC_DEF_IDLE_MS 300000u

/* The rows of practice_replies[] (practice_reply.c). */
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
	PR_TOO_LONG_AUTH,
	PR_NEED_TLS,
	PR_TLS_FOR_MECH,
	PR_NEED_AUTH,
	PR_SENDER_POLICY,
	PR_CONTENT,
	PR_TOO_MANY_TRIGGER,
	/* issue 18: LMTP (practice_lmtp.c) */
	PR_LMTP_NO_EHLO,
	PR_LMTP_DELIVERED,
	PR_COUNT
};

/* What a local part of practice.test does (practice_store.c). */
enum pc_kind {
	K_MAILBOX,
	K_LIST,
	K_UNKNOWN,
	K_FULL,
	K_GREY,
	K_TEMPFAIL,
	K_SLOW,
	K_BYE,
	K_TOOMANY, /* 452 4.5.3 as if the recipient limit were reached */
	K_CONTENT, /* accepted, but the content is refused after the dot */
};

struct pc_local {
	const char *name;
	enum pc_kind kind;
	const char *result; /* for HELP and practice_trigger_at() */
};

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
	PA_SCRAM, /* practice_scram.c: client-first, then client-final */
	PA_SCRAM_DONE, /* v= sent: waiting for the empty line */
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
	size_t max_conns, max_per_addr; /* in force (practice_limit.c) */
	/* A class server (o.classroom): practice_log.c, practice_status.c */
	char *tdir; /* datadir/transcripts */
	char *status_path; /* datadir/status */
	uint64_t status_timer; /* a status write is due */
	uint64_t pruned_us; /* the transcripts were last pruned */
	int64_t started; /* seconds since the epoch */
	unsigned long delivered; /* messages accepted, all connections */
	struct pc_gone *gone; /* recently closed connections (a ring) */
	size_t gone_next;
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
	uint64_t progress_us; /* the last complete line, or the connect */
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
	struct pc_scram *scram; /* practice_scram.c: a SCRAM exchange */
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
	int data_cr; /* the last content octet taken was a CR */
	uint64_t bdat_left;
	int bdat_last;
	enum pc_reply_id bdat_reject; /* PR_COUNT when the chunk is good */
	/* the log and the status (practice_log.c, practice_status.c) */
	uint64_t conn_us; /* accepted (monotonic) */
	int64_t conn_wall; /* accepted (seconds since the epoch) */
	unsigned peer_port;
	uint64_t cmd_us; /* the command being answered was taken */
	char *tpath; /* the transcript file; NULL: none (or given up) */
	struct buf tbuf; /* transcript text not written yet */
	uint64_t tsize; /* transcript octets so far */
	char reply_first[200]; /* first line of a multi-line reply (log) */
	unsigned reply_lines;
	char last_cmd[160]; /* the last command as logged (redacted) */
	char err_cmd[160]; /* the command of the last 4xx/5xx */
	char err_reply[200]; /* that reply's (first) line */
	unsigned delivered; /* messages accepted on this connection */
	char end_why[80]; /* why it closed, when known */
};

/* A closed connection kept for --watch's "recently closed" rows. */
#define PC_GONE_MAX 16
struct pc_gone {
	char *row; /* a status row, NULL when the slot is free */
};

/* The tables of practice_store.c (the compiler checks the sizes). */
#define PC_NACCOUNTS 3
#define PC_NTRIGGERS 12
extern const struct practice_account practice_accounts[PC_NACCOUNTS];
extern const struct practice_trigger practice_triggers[PC_NTRIGGERS];
/* The list staff@ and its members (in order). */
extern const char *const practice_staff[3];
/* The sender the practice policy refuses (550 5.7.1 to MAIL). */
#define PC_BLOCKED_SENDER "blocked@" PRACTICE_DOMAIN

/* practice_log.c */
void practice_log(struct practice *p, const char *fmt, ...) EHLO_PRINTF(2, 3);
/* An event of one connection: the log callback and its transcript. */
void pc_log(struct pconn *c, const char *fmt, ...) EHLO_PRINTF(2, 3);
/* A class server: datadir/transcripts made (0700) and pruned; -1 with
 * *errstr when it cannot be made. */
int pc_log_init(struct practice *p, char **errstr);
/* A new connection: its transcript is created (0600) with a header. */
void pc_log_open(struct pconn *c);
/* A command or SASL line as taken (before it runs): logged with AUTH's
 * initial response and every SASL line replaced by their length. */
void pc_log_command(struct pconn *c, const char *line, size_t n);
/* The end of a message's content: its size (content is never logged). */
void pc_log_content(struct pconn *c, uint64_t octets);
/* One reply line just queued (n octets without CRLF); last: the final
 * line of its reply. */
void pc_log_reply(struct pconn *c, enum pc_reply_id id, int code,
    const char *line, size_t n, int last);
/* Writes what the transcript holds (after every event). */
void pc_log_flush(struct pconn *c);
/* The connection ends: a last transcript line, flushed. */
void pc_log_close(struct pconn *c);
void practice_log_free(struct practice *p);

/* practice_status.c */
/* Something a watcher shows changed: the status file is written soon. */
void pc_status_touch(struct practice *p);
/* A connection ends: kept as a recently closed row. */
void pc_status_gone(struct pconn *c);
/* The status file removed, the timer and the ring freed. */
void pc_status_free(struct practice *p);

/* practice_reply.c */
void pc_safe(char *out, size_t outsz, const char *s, size_t n);
char pc_lower(char ch);
int pc_word_is(const char *p, size_t n, const char *w);
void pc_line(struct pconn *c, enum pc_reply_id id, int last, ...);
void pc_reply(struct pconn *c, enum pc_reply_id id, ...);
void pc_close_with(struct pconn *c, enum pc_reply_id id);

/* practice_store.c */
/* One copy per inbox folder (lists expand); -1 if any copy failed. */
int pc_deliver(struct pconn *c, const char *qid);

/*
 * LMTP (practice_lmtp.c, --lmtp): EHLO and HELO refused (1 when the
 * line was one; LHLO is answered as EHLO by the dispatcher), and the
 * end of the data: one reply per recipient (refused: the content
 * filter refuses the message; lim: the size limit, for its reply).
 */
int pc_lmtp_refuse_hello(struct pconn *c, const char *line, size_t vn);
void pc_lmtp_finish(
    struct pconn *c, const char *qid, const char *lim, int refused);
const struct pc_local *pc_local_find(const char *local, size_t n);

/* practice_mail.c */
void pc_txn_reset(struct pconn *c);
void pc_finish_message(struct pconn *c);
void pc_slow_accept(struct pconn *c);
void pc_auth_reset(struct pconn *c);
void pc_msg_add(struct pconn *c, const char *p, size_t n);
int pc_value_in(const char *v, size_t n, const char *const *set);
void pc_cmd_mail(struct pconn *c, const char *arg);
void pc_cmd_rcpt(struct pconn *c, const char *arg);
void pc_cmd_data(struct pconn *c, const char *arg);
void pc_cmd_bdat(struct pconn *c, const char *arg);
void pc_bdat_done(struct pconn *c);

/* practice_cmd.c */
void pc_process(struct pconn *c);

/* practice_auth.c */
void pc_auth_line(struct pconn *c, const char *line, size_t n);
void pc_cmd_auth(struct pconn *c, const char *arg);
/* The EHLO keyword: "AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256", and
 * SCRAM-SHA-256-PLUS after it once TLS is up. */
const char *pc_auth_keyword(const struct pconn *c);

/* practice_scram.c (SCRAM-SHA-256[-PLUS] through GNU SASL's server) */
struct pc_scram;
/* Starts an exchange for mech; NULL when the library cannot. */
struct pc_scram *pc_scram_new(struct pconn *c, const char *mech);
/* One decoded client message: 1 with *out (allocated) to send in a 334,
 * 0 when the proof was right (*out is then the server-final v=), -1 for
 * a failure.  *user is set (not owned) once the exchange succeeded. */
int pc_scram_step(struct pc_scram *, const unsigned char *in, size_t n,
    char **out, size_t *outlen, const char **user);
void pc_scram_free(struct pc_scram *);

/* practice_conn.c */
void pc_free(struct pconn *c);
void pc_settle(struct pconn *c);
void pc_on_io(int fd, int events, void *arg);
void pc_greet(struct pconn *c);
void pc_greet_timer(void *arg);
void pc_idle_timer(void *arg);

/* practice_limit.c (issue 21 item 10) */
/* Sets p->max_conns (below the descriptor limit) and p->max_per_addr. */
void pc_limits_init(struct practice *p);
/*
 * Whether a newcomer from peer may stay: 1 yes (a stale connection may
 * have been evicted for it), 0 no: 421 4.7.0 was sent on fd and fd is
 * closed.
 */
int pc_admit(struct practice *p, int fd, const char *peer);

/* practice_cert.c */
int practice_mkdirs(const char *path, char **errstr);
int practice_tls_init(struct practice *p, char **errstr);

#endif
