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
#include <sys/socket.h>

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
	char *sha256; /* fingerprint of the certificate, "AB:CD:..." */
	char *spki_sha256; /* base64 SHA-256 of its public key (--pin) */
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
	char
	    *sig_alg; /* the server's handshake signature, "rsa_pss_rsae_sha256"
	                * style, or "" */
	char *peer_key; /* the server's key, "RSA 2048", or "" */
	int resumed; /* 1: an earlier session was resumed */
	/* --dane: the TLSA name, one line per record ("3 1 1 ab... (usage
	 * DANE-EE, selector SPKI, matching SHA2-256): MATCHED"), the index
	 * of the record that matched or -1; dane_name NULL without --dane */
	char *dane_name;
	char **dane;
	size_t ndane;
	int dane_match;
	int cert_requested; /* 1: the server asked for a client certificate
	                     * and none was given (--cert) */
	int verified; /* 1: chain and name checked and good */
	int verify_skipped; /* 1: --insecure */
	int opportunistic; /* 1: Postfix's "may" level: not verified is
	                    * reported, the session goes on */
	int refused; /* 1: verification refused the certificate after the
	              * handshake; nothing was sent over this TLS */
	/* Every verification problem, each with OpenSSL's reason first and
	 * the certificate it is about ("certificate has expired
	 * (certificate 1, CN=x: expired on DATE, N days ago)"), "; "
	 * between them; "" when verified.  Printable. */
	char *verify_error;
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

struct smtp_tls_identity; /* a client certificate and its key, loaded */

/* One TLSA record (RFC 6698 2.1). */
struct smtp_tlsa {
	unsigned usage, selector, mtype;
	unsigned char *data;
	size_t len;
};

/* The TLSA records of one _PORT._tcp.HOST (--dane). */
struct smtp_dane {
	char *name; /* "_25._tcp.mx.example" */
	size_t n; /* 0: none, DANE does not apply */
	struct smtp_tlsa *rec;
};

struct smtp_tls_opts {
	const char *cafile; /* extra trust anchors (PEM), may be NULL */
	int insecure; /* do not fail on verification errors */
	int opportunistic; /* Postfix's "may": verify and report, but go on
	                    * when verification fails (STARTTLS taken
	                    * because it was offered, not required) */
	int implicit; /* implicit TLS (hints leave out --no-starttls) */
	/* issue 19: versions and algorithms (NULL/0: OpenSSL's defaults,
	 * TLS 1.2 and later), SNI, a client certificate, pinning, DANE */
	int min_version, max_version; /* smtp_tls_version_parse() values */
	const char *ciphers; /* TLS 1.2 and older, OpenSSL's syntax */
	const char *ciphersuites; /* TLS 1.3 */
	const char *groups; /* "X25519:P-256" */
	const char *sni; /* name sent as SNI instead of verify_name */
	int no_sni; /* send no SNI at all */
	const struct smtp_tls_identity *identity; /* --cert/--key, or NULL */
	const char *pin; /* "sha256//BASE64[;sha256//BASE64...]" or NULL */
	const struct smtp_dane *dane; /* --dane: the records looked up */
	const char *verify_name; /* name to verify and send as SNI;
	                          * NULL: the host given to connect */
};

struct smtp_transport; /* opaque */

/* issue 18: a SOCKS5 proxy between ehlo and the server. */
struct smtp_socks {
	const char *host, *port; /* the proxy */
	int remote_dns; /* 1: the proxy resolves the server's name */
	const char *user; /* RFC 1929, or NULL: no authentication */
	const char *password; /* with user; must outlive the connect */
};

/* issue 18: how the network connection is made (transport_connect.c). */
struct smtp_net_opts {
	int family; /* 0: both (happy eyeballs), AF_INET (-4), AF_INET6 (-6) */
	const char *source; /* --source: a numeric address to bind, or NULL */
	const char *dns; /* --dns SERVER[:PORT], or NULL: the system's */
	int timeout_ms; /* bounds the name lookups (0: 30 s) */
	const struct smtp_socks *socks; /* or NULL: straight to the server */
};

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
 * Sets how the next smtp_transport_connect() reaches the server
 * (strings are copied, except the SOCKS password).  NULL: straight,
 * the system resolver, both families.
 */
void smtp_transport_set_net(
    struct smtp_transport *, const struct smtp_net_opts *);

/*
 * Starts connecting to host/port without blocking: the name is looked
 * up with c-ares (/etc/hosts, then DNS; an IP literal at once), then
 * the addresses are tried as RFC 8305 says (IPv6 first; the next
 * address 250 ms later or as soon as one fails; the first to connect
 * wins, the others are closed), then, with a SOCKS proxy, the SOCKS5
 * negotiation runs.  Returns 0 (in progress: poll smtp_transport_fd()
 * for smtp_transport_want(), then call smtp_transport_connect_finish;
 * the fd may change between calls) or -1 with *errstr.  TCP_NODELAY is
 * set.
 */
int smtp_transport_connect(
    struct smtp_transport *, const char *host, const char *port, char **errstr);
/*
 * Moves the connect on after the fd became ready.  Returns 0 when
 * connected, SMTP_TR_AGAIN while still under way (poll the fd, which
 * may have changed, for smtp_transport_want() again), SMTP_TR_ERROR
 * when no address worked (*errstr lists why).
 */
int smtp_transport_connect_finish(struct smtp_transport *, char **errstr);

/* Socket to poll, or -1 when closed. */
int smtp_transport_fd(const struct smtp_transport *);
/* SMTP_TR_WANT_* interest for the current operation. */
int smtp_transport_want(const struct smtp_transport *);
/*
 * "127.0.0.1:25" / "[::1]:25" of the connected peer (owned, may be "").
 * Through a SOCKS proxy: the server as the proxy was told
 * ("mail.example:25").
 */
const char *smtp_transport_peer(const struct smtp_transport *);
/* The SOCKS proxy's address ("127.0.0.1:1080") once connected through
 * one, else NULL. */
const char *smtp_transport_via(const struct smtp_transport *);
/* What the connect waits for now ("the DNS answer for mail.example
 * from 127.0.0.1:53", "the SOCKS5 proxy 127.0.0.1:1080", "the
 * connection"), for timeout messages.  Owned. */
const char *smtp_transport_waiting(const struct smtp_transport *);

/*
 * This machine's FQDN for name (the canonical name /etc/hosts or DNS
 * gives, through dns or the system's resolver), waiting at most
 * timeout_ms; NULL when there is none in time.  Allocated.
 */
char *smtp_dns_canonname(const char *name, const char *dns, int timeout_ms);
/*
 * The first address of name (port numeric), as the connect would try
 * it first, waiting at most timeout_ms: 0 with *ss and *len, or -1.
 */
int smtp_dns_first_addr(const char *name, const char *port, const char *dns,
    int timeout_ms, struct sockaddr_storage *ss, socklen_t *len);

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
 * The channel binding of the TLS connection for SASL -PLUS mechanisms
 * (transport_cb.c): TLS 1.3 gives *type "tls-exporter" (RFC 9266, 32
 * bytes), TLS 1.2 "tls-unique" (RFC 5929, the first Finished message).
 * Writes at most cap bytes to out and their count to *len.  -1 when
 * there is no finished TLS handshake.  The bytes are not a password but
 * are only for the SASL exchange of this connection.
 */
int smtp_transport_channel_binding(const struct smtp_transport *,
    const char **type, unsigned char *out, size_t cap, size_t *len);

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

/* TLS1_VERSION..TLS1_3_VERSION for "1.0".."1.3" (or "TLSv1.2"), else -1. */
int smtp_tls_version_parse(const char *);
/* "1.0".."1.3" for such a value. */
const char *smtp_tls_version_name(int);

/*
 * Checks the versions, --ciphers, --ciphersuites and --groups of opts
 * with OpenSSL before any network work.  0, or -1 with *errstr naming
 * the option and the value.
 */
int smtp_tls_opts_check(const struct smtp_tls_opts *, char **errstr);

/*
 * Asks for the passphrase of the encrypted key in path: writes it into
 * buf (size bytes, NUL-terminated) and returns its length, or -1.
 */
typedef int smtp_tls_pass_cb(
    const char *path, char *buf, size_t size, void *arg);

/*
 * Loads a client certificate (PEM, its chain may follow it in the file)
 * and its key (PEM; key NULL: the same file).  An encrypted key asks cb
 * for the passphrase, which is not kept.  NULL with *errstr naming the
 * option and what is wrong (unreadable, no certificate, wrong
 * passphrase, a key that does not belong to the certificate).
 */
struct smtp_tls_identity *smtp_tls_identity_load(const char *cert,
    const char *key, smtp_tls_pass_cb *cb, void *arg, char **errstr);
void smtp_tls_identity_free(struct smtp_tls_identity *);

struct smtp_mx_resolver;
/*
 * Looks up the TLSA records of _PORT._tcp.HOST through r (blocking,
 * bounded by its timeout).  A name without records gives a set with n
 * 0.  NULL with *errstr when the resolver failed.
 */
struct smtp_dane *smtp_dane_lookup(struct smtp_mx_resolver *r, const char *host,
    const char *port, char **errstr);
void smtp_dane_free(struct smtp_dane *);

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
