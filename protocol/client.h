/*
 * The driver that runs an smtp_session over a real connection: it owns
 * the transport (TCP, TLS), registers it with the event loop, moves bytes
 * between the socket and the session, performs the STARTTLS handshake
 * when the session asks for it, streams message bodies from files in
 * constant memory, and enforces the per-step timeout.  Both line mode and
 * the workbench sit on this.
 */
#ifndef EHLO_PROTOCOL_CLIENT_H
#define EHLO_PROTOCOL_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

#include "protocol/session.h"
#include "protocol/transport.h"

struct loop;

struct smtp_client_opts {
	const char *host;
	const char *port;
	int implicit_tls; /* SMTPS: TLS right after connect */
	int tls_ahead; /* STARTTLS will likely follow: make the TLS context
	                * while the connection is being set up */
	struct smtp_tls_opts tls; /* for implicit TLS and STARTTLS */
	int timeout_ms; /* per network step; 0 means 30 s */
	int allow_plaintext_auth; /* see smtp_session_auth_refusal() */
	/* --proxy-header (protocol/proxyhdr.h): 1 or 2 sends a PROXY
	 * protocol header as the first bytes after connect, from
	 * proxy_source ("ADDR:PORT") to proxy_dest (NULL: the peer the
	 * connection reached); 0 sends none.  Checked by the caller
	 * (smtp_proxy_addr_parse); a bad one fails the connection. */
	int proxy_version;
	const char *proxy_source;
	const char *proxy_dest;
	/* issue 18: -4/-6, --source, --dns, --socks (copied by the
	 * transport, except the SOCKS password, which must outlive the
	 * client; not kept in smtp_client_opts()) */
	struct smtp_net_opts net;
};

/* What a body transfer did (valid after it finished). */
struct smtp_body_stats {
	uint64_t wire_bytes; /* including the final ".\r\n" */
	uint64_t lines;
	uint64_t stuffed;
	uint64_t bare_cr, bare_lf;
	size_t longest;
};

struct smtp_client; /* opaque */

/*
 * Creates a client; events of its session go to cb (after the client has
 * seen them).  Strings in opts are copied.
 */
struct smtp_client *smtp_client_new(struct loop *,
    const struct smtp_client_opts *, smtp_event_cb *cb, void *arg);
/* Closes the connection and frees.  NULL is a no-op. */
void smtp_client_free(struct smtp_client *);

/* Starts connecting.  Returns -1 with *errstr when resolution fails. */
int smtp_client_connect(struct smtp_client *, char **errstr);

struct smtp_session *smtp_client_session(struct smtp_client *);
const struct smtp_tls_info *smtp_client_tls_info(const struct smtp_client *);
/* smtp_transport_channel_binding() of the connection: -1 without TLS. */
int smtp_client_channel_binding(const struct smtp_client *, const char **type,
    unsigned char *out, size_t cap, size_t *len);

/* smtp_session_send() and a flush.  Same contract. */
int smtp_client_send(struct smtp_client *, const char *, size_t, char **errstr);
/* smtp_session_send_secret() and a flush. */
int smtp_client_send_secret(
    struct smtp_client *, const char *wire, const char *display, char **errstr);
/* Ends a pipelined group: everything queued leaves in one write. */
void smtp_client_flush(struct smtp_client *);

/*
 * Streams a file as message content (the session must be after 354):
 * CRLF normalisation, dot-stuffing and the final "." are done here, in
 * 64 KiB chunks whatever the file's size.  Returns -1 with *errstr when
 * the file cannot be opened (nothing is sent then).
 */
int smtp_client_body_file(
    struct smtp_client *, const char *path, char **errstr);
/*
 * As smtp_client_body_file(), but the file's octets go as they are: no
 * CRLF normalisation and no dot-stuffing (to reproduce what a broken
 * client sent); the final "." is still added, after a CRLF unless the
 * file ends with one.
 */
int smtp_client_body_file_raw(
    struct smtp_client *, const char *path, char **errstr);
/*
 * A source of message content: copies at most cap bytes into buf and
 * returns the count, 0 at the end, or -1 with *errstr (allocated) when
 * the content cannot be produced.
 */
typedef ssize_t smtp_body_read_cb(
    void *arg, char *buf, size_t cap, char **errstr);

/*
 * Streams content from rd as smtp_client_body_file() streams a file
 * (same normalisation, dot-stuffing, chunking, summary; label stands for
 * the file name in the summary and in errors).  rd is called from the
 * event loop until it returns 0 or -1; arg must live until then (until
 * smtp_client_is_busy() is 0 or the client closes).  An rd error ends
 * the session (SMTP_FAIL_PROTOCOL) so an incomplete message is never
 * delivered.  Returns -1 with *errstr when not after a 354.
 */
int smtp_client_body_source(struct smtp_client *, smtp_body_read_cb *rd,
    void *arg, const char *label, char **errstr);
const struct smtp_body_stats *smtp_client_body_stats(
    const struct smtp_client *);

/*
 * Shows every streamed body (file or source) to cb as it goes on the
 * wire: CRLF line ends, dot-stuffed, the final "." included, before the
 * summary event.  For the recorder, which keeps a composed message it
 * never saw as lines.  cb NULL stops it.
 */
typedef void smtp_body_tee_cb(void *arg, const char *p, size_t n);
void smtp_client_body_tee(struct smtp_client *, smtp_body_tee_cb *, void *);

/* The options the client was made with (strings owned by the client). */
const struct smtp_client_opts *smtp_client_opts(const struct smtp_client *);

/*
 * 1 while something is in flight: connecting, a TLS handshake, replies
 * outstanding, output not yet written, a body still streaming.  While a
 * BDAT chunk is open (smtp_session_chunk_left() > 0) only output and a
 * body count: the reply to BDAT comes after the chunk, so the caller
 * must go on supplying it.
 */
int smtp_client_is_busy(const struct smtp_client *);
/* 1 once the connection is gone (closed or failed). */
int smtp_client_is_closed(const struct smtp_client *);
/* Closes the connection now (after QUIT, or on user request). */
void smtp_client_close(struct smtp_client *);

#endif
