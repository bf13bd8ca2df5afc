/*
 * The session host: one watched SMTP session from the SERVER argument
 * to teardown, written once for every front end (line mode, replay,
 * `ehlo send`, `ehlo check`, probes, and the workbench).  It parses
 * SERVER, picks the HELO name, turns the connection options into client
 * options, makes the client on the caller's loop, records the session
 * (a spool for a short process, or an open database), passes every
 * event to the front end after recording it, turns SIGTERM and SIGHUP
 * into a closed session, and keeps the session's real outcome.
 *
 * The outcome: ok; failed with the last 5xx; temporary failure with the
 * last 4xx; bad input; a network or TLS failure (with its category);
 * aborted (a signal).  A 4xx or 5xx reply counts unless the front end
 * says it was expected (line mode's /expect).  The exit status of the
 * contract (tui/cli.h) follows from it, and is what the history
 * records; host_outcome_words() turns a recorded status and the
 * session's last error reply back into words for the listings.
 */
#ifndef EHLO_TUI_HOST_H
#define EHLO_TUI_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/client.h"
#include "protocol/session.h"

struct cli_opts;
struct hist;
struct loop;
struct record;
struct host; /* opaque */

enum host_outcome {
	HOST_OUTCOME_OK = 0,
	HOST_OUTCOME_FAILED, /* a 5xx that was not expected */
	HOST_OUTCOME_TEMPFAIL, /* a 4xx that was not expected */
	HOST_OUTCOME_BAD_INPUT, /* script, command line or message */
	HOST_OUTCOME_NETWORK, /* connect, TLS, timeout, closed, garbage */
	HOST_OUTCOME_ABORTED, /* a signal (or Ctrl-C in the workbench) */
};

struct host_result {
	enum host_outcome outcome;
	int exit_status;
	int code; /* FAILED, TEMPFAIL: the last counted reply, else 0 */
	char enhanced[16]; /* its enhanced code or "" */
	enum smtp_fail category; /* NETWORK: what failed; 0 when the front
	                          * end decided (STARTTLS not offered) */
	int signo; /* ABORTED: the signal, 0 when unknown */
};

/* What the front end hears; any member may be NULL. */
struct host_cbs {
	/* A new session's client exists, before it connects. */
	void (*attach)(struct host *, void *arg);
	/* Every session event, after it was recorded (and printed). */
	void (*event)(struct host *, const struct smtp_event *, void *arg);
	/* Under host_run, once per loop turn, before output is shown. */
	void (*step)(struct host *, void *arg);
	/* What the wire tap saw (issue 18, --hexdump; protocol/session.h)
	 * while host_set_wire turned it on. */
	void (*wire)(struct host *, const struct smtp_wire *, void *arg);
	/* A host_error message (already recorded) without HOST_PRINT. */
	void (*error)(struct host *, const char *msg, void *arg);
	void *arg;
};

/* host_new flags */
#define HOST_PRINT                                                             \
	0x1 /* dialogue on stdout as line mode prints it
                        * (tui/print.h), errors on stderr too */
#define HOST_SIGNALS                                                           \
	0x2 /* SIGTERM, SIGHUP: close, exit 128 + signo;
                          * the loop must not outlive the host */
#define HOST_TLS_AHEAD 0x4 /* STARTTLS is likely: prepare TLS early */

/*
 * A host on loop for the options o (kept, not copied: they must outlive
 * the host).  Records nothing until host_record_spool or
 * host_record_into.  Never NULL.
 */
struct host *host_new(struct loop *, const struct cli_opts *o, unsigned flags,
    const struct host_cbs *);
/*
 * Closes the connection (no QUIT), ends a session not ended yet with
 * host_exit_status, frees.  Never from inside a callback.  NULL: no-op.
 */
void host_free(struct host *);

/*
 * Record each session the process's way (record_open of o->db with
 * o->no_history; spool: a short process), or into hist, an open
 * database that stays the caller's (record_new: the workbench).
 */
void host_record_spool(struct host *, int spool);
void host_record_into(struct host *, struct hist *);
/* The next session is a replay of session id (0: none). */
void host_set_replay_of(struct host *, int64_t id);
/*
 * The next connection trusts cafile too and verifies the certificate
 * against name instead of the host (NULL: the options' own); copied.
 */
void host_set_tls(struct host *, const char *cafile, const char *name);

/*
 * Where the next host_connect goes: server is host, host:port or
 * [v6addr]:port (NULL: o->server; the default port is 25, 465 with
 * --tls).  Returns -1 with *errstr when it cannot be parsed.
 */
int host_set_server(struct host *, const char *server, char **errstr);
/*
 * Starts a session with server (NULL: the one host_set_server set, else
 * o->server): ends the previous one (with host_exit_status) if any,
 * makes the client, begins the record, connects.  Returns 0; -1 with
 * *errstr when server cannot be parsed (nothing started); 1 with
 * *errstr when the connection failed at once (resolution: a FAILURE
 * event said so too, and the session is over).
 */
int host_connect(struct host *, const char *server, char **errstr);

/*
 * Runs the loop with the host's before-sleep hook (the step callback,
 * then the turn's rows committed before its output is flushed) until
 * host_stop.  For front ends that own the process (line mode, send,
 * check, probes); the workbench calls host_before_sleep from its own
 * hook instead.  host_stop ends host_run (and does nothing outside it).
 */
void host_run(struct host *);
void host_stop(struct host *);
/*
 * What host_run does once per loop turn (the step callback, then the
 * turn's rows committed, then stdout flushed under HOST_PRINT), for a
 * front end that owns the loop's before-sleep hook.
 */
void host_before_sleep(struct host *);
/* Commits what was recorded this turn (before drawing it). */
void host_flush(struct host *);

/*
 * Ends the session: commits, flushes stdout, records exit_status, frees
 * the record (the id stays in host_session_id).  Once per connection;
 * the client stays until the next host_connect or host_free.
 */
void host_end(struct host *, int exit_status);

/*
 * SIGTERM, SIGHUP or the user's Ctrl-C: a host_error naming the signal,
 * the session closed ("the workbench closed the connection"), exit
 * status 128 + signo, and the loop stopped under host_run.
 */
void host_abort(struct host *, int signo);

/*
 * An error of the front end: recorded, then printed (HOST_PRINT: stderr
 * and a "*: error:" line) or passed to the error callback; the first
 * status given stays the exit status.
 */
void host_error(struct host *, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the exit status unless one was set before. */
void host_fix_exit(struct host *, int status);
/* The exit status set so far by an error, a failure or a signal, or 0. */
int host_exit_fixed(const struct host *);
/*
 * The last reply (a 4xx or 5xx) was expected: it is not a failure.
 * Only the last reply can be taken back.
 */
void host_reply_expected(struct host *);
/* 4xx and 5xx replies counted as failures so far. */
int host_failed_replies(const struct host *);
/*
 * The status for a session that ends on the last counted reply:
 * EXIT_TEMPFAIL (75) when it was a 4xx, else EXIT_REPLY (1).
 */
int host_reply_exit(const struct host *);
/*
 * The default exit status: the fixed one, else host_reply_exit() when a
 * reply counts as failed, else 0.
 */
int host_exit_status(const struct host *);
/* The outcome when the session ends with exit_status. */
void host_result(const struct host *, int exit_status, struct host_result *);

/* The current session's parts (NULL before host_connect). */
struct smtp_client *host_client(struct host *);
struct smtp_session *host_session(struct host *);
struct record *host_record(struct host *);
/*
 * The name for EHLO/HELO: --helo, else this host's FQDN, else the
 * address literal of the local end towards the server (updated by
 * host_set_server; the pointer stays valid for the host's life).
 */
const char *host_helo(const struct host *);
/*
 * The name for the EHLO after STARTTLS: the one the last EHLO or HELO
 * of this session gave (what the user typed), else host_helo().
 * Allocated.
 */
char *host_helo_again(const struct host *);
/*
 * The hello to send now because XCLIENT was just accepted (its 220 is
 * a new greeting: "EHLO name" as host_helo_again() gives it, LHLO in
 * LMTP), or NULL when the last reply was not that.  Allocated.
 */
char *host_hello_after_xclient(const struct host *);
/*
 * The hello due now (allocated), or NULL: after STARTTLS (*after_tls
 * set) once TLS is up, after XCLIENT (*after_xclient set) once its 220
 * came (host_hello_after_xclient); each flag is cleared when it is
 * settled.  Call when the client is idle.
 */
char *host_hello_due(const struct host *, int *after_tls, int *after_xclient);
/* 1 when a 220 accepted an XCLIENT in this session. */
int host_xclient_accepted(const struct host *);
/*
 * --xclient after EHLO (ehlo run, ehlo send): 0 with *line, the
 * XCLIENT line to send (allocated); or, with *errstr, the exit status
 * of why nothing more goes: the server did not offer XCLIENT (3), or
 * sent is 1 (it went out and the session is still not past it:
 * refused, the status of the reply).
 */
int host_xclient_preamble(
    const struct host *, int sent, char **line, char **errstr);
/* ehlo run --json: the summary object (exit status, failed replies,
 * the capabilities, TLS) on stdout. */
void host_print_json_summary(const struct host *, int status);

/*
 * 1 when the sessions speak LMTP (RFC 2033): --lmtp, or a SERVER that
 * is lmtp://... or a UNIX socket path.  host_hello_verb() is then
 * "LHLO", else "EHLO": what the front ends greet with.
 */
int host_is_lmtp(const struct host *);
/*
 * Turns the wire tap on (for the wire callback: the workbench's
 * /hexdump) or off, for this session and the next ones.  Off, it costs
 * nothing: the octets are not looked at.
 */
void host_set_wire(struct host *, int on);
const char *host_hello_verb(const struct host *);
/* The host and port of the last host_connect ("" before). */
const char *host_peer_host(const struct host *);
const char *host_peer_port(const struct host *);
/* The history id of the last session, 0 when not recorded. */
int64_t host_session_id(const struct host *);

/*
 * The words for a recorded session: "ok", "failed 550 5.1.1",
 * "temporary failure 451 4.7.1", "bad input", "network error",
 * "aborted", "unfinished" (-1); code and enhanced are the session's last
 * 4xx/5xx reply (0 and NULL/"" when none).  Writes into buf.
 */
const char *host_outcome_words(
    int exit_status, int code, const char *enhanced, char *buf, size_t len);
/* The outcome a recorded exit status stands for (code decides 4 or 5). */
enum host_outcome host_outcome_of(int exit_status, int code);

#endif
