/*
 * Internationalised domain names (IDNA 2008, RFC 5890-5893) for a server
 * that did not offer SMTPUTF8 (RFC 6531): a domain typed in Unicode goes
 * on the wire as its A-label ("bücher.example" -> "xn--bcher-kva.example"),
 * through libidn2.  Only protocol/ sees libidn2.
 */
#ifndef EHLO_PROTOCOL_IDN_H
#define EHLO_PROTOCOL_IDN_H

#include <stddef.h>

/*
 * The A-label form of a UTF-8 domain (NFC, non-transitional), allocated;
 * NULL with *errstr (naming the domain and what IDNA 2008 refuses) when
 * it is not a valid IDN.
 */
char *smtp_idn_to_ascii(const char *domain, char **errstr);

/* One domain a line had rewritten. */
struct smtp_idn_change {
	char *ulabel; /* as typed */
	char *alabel; /* as sent */
};

/*
 * Rewrites the Unicode domains of an SMTP command line (n bytes, no CRLF)
 * to A-labels: in MAIL FROM:<...>, RCPT TO:<...>, VRFY and EXPN the
 * domain of an address whose local part is ASCII (a non-ASCII local part
 * needs SMTPUTF8 and is left alone), in EHLO and HELO the argument.
 * With helo_only, only EHLO and HELO (before the server said whether it
 * offers SMTPUTF8).  Returns the new line (allocated) and the changes
 * made (*changes, *nchanges; free with smtp_idn_changes_free), or NULL
 * when nothing was changed; NULL with *errstr when a domain is not a
 * valid IDN.
 */
char *smtp_idn_line(const char *line, size_t n, int helo_only,
    struct smtp_idn_change **changes, size_t *nchanges, char **errstr);
void smtp_idn_changes_free(struct smtp_idn_change *, size_t);

#endif
