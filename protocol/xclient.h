/*
 * Postfix's XCLIENT command (XCLIENT_README, no RFC): a trusted client
 * tells smtpd whom it speaks for (ADDR=, NAME=, HELO=, ...), and a
 * server that accepts answers 220 with a new greeting: the session
 * starts over and the client sends EHLO again.  This builds the command
 * line from NAME=VALUE pairs as the user types them; the session engine
 * (protocol/session_reply.c) follows the reset.
 */
#ifndef EHLO_PROTOCOL_XCLIENT_H
#define EHLO_PROTOCOL_XCLIENT_H

#include <stddef.h>

struct smtp_caps;

/* The attributes Postfix knows, in its order; NULL-terminated. */
extern const char *const smtp_xclient_attrs[];

/*
 * "XCLIENT NAME=VALUE ..." from text holding one or more NAME=VALUE
 * pairs separated by blanks (a VALUE in double quotes may hold blanks).
 * Names are upper-cased; values are xtext-encoded (RFC 3461 4), so
 * "[UNAVAILABLE]" and "IPV6:2001:db8::1" go as typed and a "+" or "="
 * inside one goes as +2B or +3D.  Allocated; NULL with *errstr when a
 * pair has no "=", an empty name or one not of letters and "_", or text holds none.
 */
char *smtp_xclient_line(const char *text, char **errstr);

/*
 * The first attribute of pairs (what follows the verb of an XCLIENT
 * line: NAME=VALUE pairs separated by blanks) that caps's XCLIENT
 * keyword does not list, copied into out (at most outsz - 1 octets);
 * 0 when every one is listed or caps has no XCLIENT, 1 when one is
 * not.
 */
int smtp_xclient_unlisted(
    const char *pairs, const struct smtp_caps *caps, char *out, size_t outsz);

#endif
