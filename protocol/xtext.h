/*
 * xtext (RFC 3461 section 4): the encoding DSN parameters use for text
 * that may hold "+", "=", blanks or bytes outside printable ASCII
 * (ENVID=, ORCPT=, and AUTH= of RFC 4954 5).  A byte stays as it is
 * when it is printable ASCII ("!" to "~") other than "+" and "="; every
 * other byte becomes "+" followed by two upper-case hex digits.
 */
#ifndef EHLO_PROTOCOL_XTEXT_H
#define EHLO_PROTOCOL_XTEXT_H

#include <stddef.h>

struct buf;

/*
 * Appends the xtext form of p[0..n) to out (3 bytes at most per input
 * byte).  Any byte may be given, NUL included; the output is printable
 * ASCII only, so it can never break a command line.  Returns 0, or -1
 * when out's cap was reached (out then holds a prefix).
 */
int smtp_xtext_append(struct buf *out, const char *p, size_t n);

/* The xtext form of the C string s, allocated; the caller frees it. */
char *smtp_xtext_encode(const char *s);

/* How smtp_xtext_is_valid() reads the two digits after "+". */
enum smtp_xtext_hex {
	SMTP_XTEXT_HEX_UPPER, /* RFC 3461 4: "0"-"9", "A"-"F" only */
	SMTP_XTEXT_HEX_ANY, /* also "a"-"f" (liberal, as servers read) */
};

/*
 * Returns 1 when p[0..n) is well-formed xtext: printable ASCII other
 * than "=", with every "+" followed by two hex digits read as hex says;
 * else 0.  The empty string is valid xtext (callers that need a value
 * check n > 0 themselves).  p is untrusted and need not be terminated.
 */
int smtp_xtext_is_valid(const char *p, size_t n, enum smtp_xtext_hex hex);

#endif
