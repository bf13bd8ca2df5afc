/*
 * The connection under an SMTP session: name resolution, non-blocking TCP
 * connect (IPv4 and IPv6, trying each address in turn), implicit TLS
 * (RFC 8314) and the STARTTLS upgrade (RFC 3207) with OpenSSL 3.
 *
 * Nothing here blocks: every call returns at once and says what it is
 * waiting for; the caller polls smtp_transport_fd() for the interest
 * smtp_transport_want() reports, and owns all timeouts.  Certificates
 * are verified by default (chain and host name, SNI sent); the CA store
 * is loaded only when TLS is first started.
 */
#ifndef EHLO_PROTOCOL_TRANSPORT_H
#define EHLO_PROTOCOL_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

#define SMTP_TR_WANT_READ 0x1 /* same values as LOOP_READ / LOOP_WRITE */
#define SMTP_TR_WANT_WRITE 0x2

/* Return values of the I/O calls below. */
#define SMTP_TR_AGAIN (-2) /* would block: poll for smtp_transport_want() */
#define SMTP_TR_ERROR (-1) /* failed: *errstr says why and what to do */

struct smtp_tls_cert {
	char *subject; /* one-line RFC 2253 form */
	char *issuer;
	char *san; /* "DNS:a.example, DNS:b.example, IP:127.0.0.1" or "" */
	char *not_before; /* "2026-01-01 00:00:00 UTC" */
	char *not_after;
	long days_left; /* until not_after, negative when expired */
	char *key_type; /* "RSA", "EC", "ED25519", ... */
	int key_bits;
	char *sig_alg; /* "sha256WithRSAEncryption" */
};

/* The leaf certificate's status in a stapled OCSP response (RFC 6960). */
enum smtp_ocsp_status {
	SMTP_OCSP_NONE, /* nothing stapled */
	SMTP_OCSP_GOOD,
	SMTP_OCSP_REVOKED,
	SMTP_OCSP_UNKNOWN, /* the responder does not know the certificate */
	SMTP_OCSP_UNUSABLE, /* stapled, but no status for the leaf in it:
	                     * unparseable, a response status other than
	                     * successful, or no matching entry */
};

struct smtp_tls_info {
	char *version; /* "TLSv1.3" */
	char *cipher; /* "TLS_AES_256_GCM_SHA384" */
	char *group; /* key exchange group, e.g. "x25519", or "" */
	char *sni; /* the name sent, or "" for IP literals */
	char *alpn; /* "" when none */
	int verified; /* 1: chain and name checked and good */
	int verify_skipped; /* 1: --insecure */
	char *verify_error; /* OpenSSL's reason when not verified, else "" */
	size_t nchain;
	struct smtp_tls_cert *chain; /* as the server sent it, leaf first */
	/*
	 * OCSP stapling (informational: never fails the handshake).  ocsp
	 * is "" when the server stapled nothing, else one line: "good
	 * (this update T, next update T)", "revoked at T, REASON (...)",
	 * "unknown (...)", "response status malformedrequest", "no status
	 * for this certificate", ...; "; signature not verified" or "; out
	 * of date" is appended when the responder's signature or the
	 * validity period does not check out.  Untrusted text, printable.
	 */
	enum smtp_ocsp_status ocsp_status;
	char *ocsp;
};

struct smtp_tls_opts {
	const char *cafile; /* extra trust anchors (PEM), may be NULL */
	int insecure; /* do not fail on verification errors */
	const char *verify_name; /* name to verify and send as SNI;
	                          * NULL: the host given to connect */
};

struct smtp_transport; /* opaque */

/*
 * Splits a SERVER argument: "host", "host:port", "[v6addr]:port",
 * "[v6addr]" or a bare IPv6 address ("::1").  *host and *port are
 * allocated; port defaults to default_port.  Returns -1 with *errstr on
 * bad syntax or a port outside 1..65535.
 */
int smtp_server_parse(const char *server, int default_port, char **host,
    char **port, char **errstr);
/*
 * LMTP servers (RFC 2033, protocol/transport_unix.c): "unix:/path" and
 * "/path" name a UNIX-domain socket (smtp_server_parse gives the path as
 * the host and "0" as the port, and smtp_transport_connect connects
 * there); "lmtp://host[:port]" is a TCP server (parsed without the
 * scheme).  smtp_server_is_lmtp() is 1 for all three forms.
 */
int smtp_server_is_unix(const char *server);
int smtp_server_is_lmtp(const char *server);

struct smtp_transport *smtp_transport_new(void);
/* Closes (without waiting for TLS close_notify) and frees.  NULL: no-op. */
void smtp_transport_free(struct smtp_transport *);

/*
 * Resolves host/port (getaddrinfo, blocking: loopback and the system
 * resolver are fast enough for an interactive tool) and starts a
 * non-blocking connect to the first address.  Returns 0 (in progress:
 * wait for WRITE then call smtp_transport_connect_finish) or -1 with
 * *errstr.  TCP_NODELAY is set.
 */
int smtp_transport_connect(
    struct smtp_transport *, const char *host, const char *port, char **errstr);
/*
 * Completes the connect after the fd became writable.  Returns 0 when
 * connected, SMTP_TR_AGAIN when it moved on to the next address (wait for
 * WRITE again), SMTP_TR_ERROR when no address worked (*errstr lists why).
 */
int smtp_transport_connect_finish(struct smtp_transport *, char **errstr);

/* Socket to poll, or -1 when closed. */
int smtp_transport_fd(const struct smtp_transport *);
/* SMTP_TR_WANT_* interest for the current operation. */
int smtp_transport_want(const struct smtp_transport *);
/* "127.0.0.1:25" / "[::1]:25" of the connected peer (owned, may be ""). */
const char *smtp_transport_peer(const struct smtp_transport *);

/*
 * Begins TLS on the connected socket (implicit TLS right after connect,
 * or after the server's 220 to STARTTLS).  Loads the CA store on first
 * use.  Returns 0 or -1 with *errstr.  Then call handshake until done.
 */
int smtp_transport_tls_start(
    struct smtp_transport *, const struct smtp_tls_opts *, char **errstr);
/*
 * Drives the handshake.  Returns 0 when TLS is up (info is available),
 * SMTP_TR_AGAIN (poll for want), SMTP_TR_ERROR with *errstr (for a
 * verification failure: OpenSSL's reason and a hint about --cafile and
 * --insecure).
 */
int smtp_transport_tls_handshake(struct smtp_transport *, char **errstr);
/* 1 once TLS is established. */
int smtp_transport_is_tls(const struct smtp_transport *);
/* Details of the TLS session, or NULL before the handshake finished. */
const struct smtp_tls_info *smtp_transport_tls_info(
    const struct smtp_transport *);

/*
 * Reads up to n bytes.  Returns the count, 0 at end of stream,
 * SMTP_TR_AGAIN or SMTP_TR_ERROR (*errstr).  With TLS, call again while
 * smtp_transport_pending() is non-zero: poll() cannot see those bytes.
 */
ssize_t smtp_transport_read(
    struct smtp_transport *, void *, size_t, char **errstr);
/* Bytes already decrypted and buffered inside TLS. */
size_t smtp_transport_pending(const struct smtp_transport *);
/* Writes up to n bytes; returns the count, SMTP_TR_AGAIN or SMTP_TR_ERROR. */
ssize_t smtp_transport_write(
    struct smtp_transport *, const void *, size_t, char **errstr);
/* Sends TLS close_notify (best effort) and closes the socket. */
void smtp_transport_close(struct smtp_transport *);

/*
 * Frees the shared TLS context (and its CA store) made by the first
 * smtp_transport_tls_start().  Optional, at exit or in tests; live
 * transports keep working.  The next TLS start makes a new context.
 */
void smtp_transport_tls_cleanup(void);

/*
 * Makes the shared TLS context (the system store plus cafile) now, if
 * it is not made yet: OpenSSL 3 loads every algorithm for it (~10 M
 * instructions), so a caller does it while the network is slow anyway
 * (the TCP handshake, the greeting) rather than between the 220 to
 * STARTTLS and the handshake.  An error is left for the TLS start.
 */
void smtp_transport_tls_prepare(const char *cafile);

#endif
