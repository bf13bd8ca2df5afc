/*
 * The practice server: a real ESMTP server on loopback for learners,
 * with mailboxes, a list, practice accounts, teaching triggers (recipients
 * that produce each classic failure), STARTTLS with a certificate it
 * makes itself, and an inbox of delivered messages.  It runs inside the
 * workbench's event loop, or alone as `ehlo practice`.  The rooms that
 * implement it are in protocol/practice/ (practice_int.h says which does
 * what).
 */
#ifndef EHLO_PROTOCOL_PRACTICE_H
#define EHLO_PROTOCOL_PRACTICE_H

#include <stddef.h>
#include <stdint.h>

struct loop;

/* The domain every practice mailbox lives in. */
#define PRACTICE_DOMAIN "practice.test"
/* The SIZE limit it advertises and enforces (octets). */
#define PRACTICE_SIZE_LIMIT 1048576u
/* Protocol errors (5xx to bad commands, failed AUTH) before 421. */
#define PRACTICE_MAX_ERRORS 10

/*
 * One line of the server's log (a connection, a delivery, a trigger),
 * with no line ending.  Client-supplied text in it is already escaped.
 */
typedef void practice_log_cb(const char *line, void *arg);

struct practice_opts {
	const char *listen; /* "127.0.0.1:2525"; port 0 picks a free one */
	const char *datadir; /* certificate and inbox live here; NULL: the
	                      * default (practice_default_dir()) */
	int quiet; /* do not call log */
	practice_log_cb *log; /* NULL: no log (nothing below tui/ prints) */
	void *log_arg;
	/* Teaching delays in milliseconds; 0 means the default. */
	unsigned greylist_ms; /* greylist@: retry accepted after 5000 */
	unsigned slow_ms; /* slow@: the reply comes after 10000 */
	/* Wait this long before the greeting and reject clients that talk
	 * first with 554 (an early-talker check); 0: greet at once. */
	unsigned greet_pause_ms;
	unsigned idle_ms; /* close idle connections (421); 0: 300000 */
	/*
	 * Connection limits (issue 21 item 10); 0 means the default.  At
	 * either limit a newcomer evicts the connection (of that address,
	 * for the second) that has gone longest without a complete line,
	 * if that is over PRACTICE_EVICT_MS; else it gets 421 4.7.0.  The
	 * total is kept below the process's descriptor limit.
	 */
	unsigned max_conns; /* all addresses; 0: PRACTICE_MAX_CONNS */
	unsigned max_per_addr; /* one address; 0: PRACTICE_MAX_PER_ADDR */
	/* A submission server's rules (RFC 3207 4, RFC 4954 4, 6409 4.3):
	 * MAIL and AUTH before STARTTLS get 530 5.7.0, a plain-text
	 * mechanism before it 538 5.7.11. */
	int require_tls;
	/* MAIL before a successful AUTH gets 530 5.7.0 (RFC 4954 6). */
	int require_auth;
	/* A receiver open to SMTP smuggling: a line ended by a bare LF
	 * counts as a line, so <LF>.<LF>, <LF>.<CR><LF> and <CR><LF>.<LF>
	 * end the data.  0: only <CR><LF>.<CR><LF> does (RFC 5321
	 * 4.1.1.4). */
	int lenient_eod;
	/*
	 * LMTP (RFC 2033, issue 18): LHLO instead of EHLO (EHLO and HELO
	 * get 500), and after the data one reply per accepted recipient;
	 * full@ is accepted at RCPT and refused (552) after the data.
	 */
	int lmtp;
	/* A class server: more DNS names for the certificate (besides
	 * localhost, 127.0.0.1, ::1 and the listen address), each checked
	 * with practice_name_check(); the certificate is made again when
	 * it does not cover them all. */
	const char *const *names;
	size_t nnames;
	/* A class server (`ehlo practice`, issue 16 item 6): one transcript
	 * per connection under datadir/transcripts (every command and
	 * reply with its timing, AUTH's secrets and message content left
	 * out; pruned past PRACTICE_TRANSCRIPTS_KEEP files or
	 * PRACTICE_TRANSCRIPTS_MAX_AGE seconds) and a live status file,
	 * datadir/status, for `ehlo practice --watch`.  0 for a server
	 * inside the workbench or a lesson. */
	int classroom;
};

/* Transcript retention: the newest this many are kept, none older than
 * this (a live connection's is never removed), each at most this long. */
#define PRACTICE_TRANSCRIPTS_KEEP 1000
#define PRACTICE_TRANSCRIPTS_MAX_AGE (24 * 60 * 60)
#define PRACTICE_TRANSCRIPT_MAX (256 * 1024)

#define PRACTICE_MAX_CONNS 1000
/* Generous: a class of 100 behind one NAT address, or on loopback. */
#define PRACTICE_MAX_PER_ADDR 300
#define PRACTICE_EVICT_MS 1000

/* 0 when name is a host name the certificate can carry (letters,
 * digits, '-' and '.', at most 253 bytes), else -1 with *errstr. */
int practice_name_check(const char *name, char **errstr);

struct practice; /* opaque */

/*
 * Starts listening (creating the data directory, the certificate on
 * first use).  Returns NULL with *errstr when the address is taken or
 * the directory cannot be created.  The address must be an IP literal
 * ("127.0.0.1:0", "[::1]:2525"); the server never resolves names.
 */
struct practice *practice_new(
    struct loop *, const struct practice_opts *, char **errstr);
/* 0 when spec is a valid --listen address, else -1 with *errstr. */
int practice_listen_check(const char *spec, char **errstr);
/* Closes every connection and the listener.  NULL is a no-op. */
void practice_free(struct practice *);

/* "127.0.0.1:PORT" actually bound (owned by the server). */
const char *practice_address(const struct practice *);
/* PEM file of the server's self-signed certificate, for --cafile. */
const char *practice_cafile(const struct practice *);
/* The directory holding inbox/<user>/ with one file per message. */
const char *practice_inbox_dir(const struct practice *);
/* Open connections (tests). */
size_t practice_connection_count(const struct practice *);
/* Bytes of buffer storage held by all connections (tests: a 1 MB line
 * must not make this grow past a fixed cap per connection). */
size_t practice_buffered(const struct practice *);

/* $XDG_DATA_HOME/ehlo/practice or ~/.local/share/ehlo/practice
 * (allocated), or NULL with *errstr. */
char *practice_default_dir(char **errstr);

/* A reply the server can send, for the explanation coverage test. */
struct practice_reply {
	int code;
	const char *enhanced; /* "" when none */
};
/* Every (code, enhanced) pair the server can send. */
size_t practice_reply_count(void);
const struct practice_reply *practice_reply_at(size_t);

/* The practice accounts for AUTH (the same as in HELP and docs/learning.md). */
struct practice_account {
	const char *user; /* "alice" (also the mailbox) */
	const char *password; /* "wonderland": practice only, public */
	const char *name; /* "Alice Liddell" */
};
size_t practice_account_count(void);
const struct practice_account *practice_account_at(size_t);

/* The teaching triggers: a recipient and what it produces. */
struct practice_trigger {
	const char *rcpt; /* "full@practice.test" */
	const char *result; /* "552 5.2.2 mailbox full" */
};
size_t practice_trigger_count(void);
const struct practice_trigger *practice_trigger_at(size_t);

/*
 * The addresses a learner can write to or from, for completion: the
 * mailboxes, the list, every trigger recipient, the blocked sender and
 * an outside address ("alice@practice.test", ...).  NULL past the end.
 * The same list ends the server's HELP reply, so a client elsewhere
 * learns it with smtp_complete_scan_addresses().
 */
const char *practice_known_address_at(size_t i);

/* One delivered message in the inbox. */
struct practice_message {
	char *user; /* the inbox folder: "bob" */
	char *path; /* full path of the .eml file */
	uint64_t size; /* octets */
	char *subject; /* raw Subject: value (untrusted; escape it), or "" */
	int64_t mtime; /* seconds since the epoch */
};

/*
 * Lists the messages under datadir/inbox (datadir NULL: the default),
 * oldest first.  Returns 0 and an allocated array (possibly empty), or
 * -1 with *errstr.  An inbox that does not exist yet is empty.
 */
int practice_inbox_list(const char *datadir, struct practice_message **out,
    size_t *n, char **errstr);
void practice_inbox_free(struct practice_message *, size_t n);

/* ---- a class server's live status (`ehlo practice --watch`) ---------- */

/* One connection as the status file gives it; every string is already
 * escaped (printable, no tab or newline). */
struct practice_status_conn {
	unsigned id;
	char *peer; /* "127.0.0.1" */
	unsigned port; /* the client's port */
	int64_t since; /* connected, seconds since the epoch */
	int64_t closed; /* 0: connected; else when it closed */
	char *stage; /* "greeted", "EHLO", "TLS", "AUTH", "MAIL", "RCPT 2",
	              * "DATA", ... */
	int tls;
	char *user; /* "" before AUTH */
	char *helo; /* "" before HELO/EHLO */
	unsigned delivered;
	unsigned errors;
	char *err_cmd; /* "" when no 4xx/5xx yet */
	char *err_reply;
	char *why; /* why it closed ("" when live or unknown) */
};

struct practice_status {
	long pid;
	char *listen;
	int64_t started, updated;
	unsigned long accepted, delivered;
	struct practice_status_conn *v; /* live first (oldest first), then
	                                 * recently closed (newest first) */
	size_t n;
};

/*
 * Reads datadir's status file (datadir NULL: the default).  Returns 1
 * with *st filled, 0 when no practice server is running with that data
 * directory (no file, or its process is gone), -1 with *errstr when the
 * file cannot be read or is not a status file.
 */
int practice_status_read(
    const char *datadir, struct practice_status *st, char **errstr);
void practice_status_free(struct practice_status *);
/* The status file's path (allocated), for messages and to watch it. */
char *practice_status_path(const char *datadir, char **errstr);

#endif
