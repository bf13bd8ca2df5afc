/*
 * TLS inspection for troubleshooting: what a mail admin wants to know
 * about a finished handshake (RFC 3207 STARTTLS, RFC 8314 implicit TLS,
 * RFC 6125 / RFC 2818 name checks, RFC 5280 validity): the chain as the
 * server sent it, expiry, a name the certificate does not cover, a
 * self-signed certificate, a missing intermediate.  Findings become
 * notes and warnings of the session, so every UI shows them.
 */
#ifndef EHLO_PROTOCOL_TLSCHECK_H
#define EHLO_PROTOCOL_TLSCHECK_H

#include "protocol/session.h"
#include "protocol/transport.h"

/* Certificates expiring within this many days are warned about. */
#define SMTP_TLS_EXPIRY_WARN_DAYS 14

/*
 * 1 when the certificate covers name: an IP literal against its IP
 * subjectAltNames, a host name against its DNS subjectAltNames (one
 * leading "*." label as a wildcard), or against the subject's CN when
 * the certificate has no DNS name at all.  Case-insensitive; a trailing
 * dot on name is ignored.  The strings are the transport's display
 * forms (untrusted, already escaped).
 */
int smtp_tls_cert_matches(const struct smtp_tls_cert *, const char *name);

/* 1 when the certificate names itself as its issuer. */
int smtp_tls_cert_is_self_signed(const struct smtp_tls_cert *);

/*
 * Emits, through the session, a note on the key exchange and SNI, one
 * note per certificate of the chain (subject, issuer, SAN, validity,
 * key, signature) and a warning for each problem: expired or expiring
 * within SMTP_TLS_EXPIRY_WARN_DAYS, a name mismatch with name (the name
 * that was verified, may be an IP literal), a self-signed certificate
 * or a missing intermediate when verification failed.  A stapled OCSP
 * response adds one note with its summary ("OCSP staple: good (...)"),
 * or a warning when it says the certificate is revoked.
 */
void smtp_tls_report(
    struct smtp_session *, const struct smtp_tls_info *, const char *name);

/*
 * What verification said, for a status line: "" when verified, else
 * "certificate NOT verified (opportunistic TLS): REASONS", "(--insecure)"
 * or "refused".  Allocated.
 */
char *smtp_tls_verify_summary(const struct smtp_tls_info *);

/*
 * "29 days left", "1 day left", "expires today" or "expired 12 days ago"
 * for a certificate's days_left, into buf (never a negative count
 * presented as time left).
 */
void smtp_tls_days_text(long days_left, char *buf, size_t size);

/* "none", "good", "revoked", "unknown" or "unusable" (for JSON). */
const char *smtp_tls_ocsp_name(enum smtp_ocsp_status);

#endif
