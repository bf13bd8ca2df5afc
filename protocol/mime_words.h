/*
 * Reading RFC 2047 encoded-words ("=?UTF-8?B?...?=") in a header value,
 * for display: the practice inbox shows subjects as a reader would.
 */
#ifndef EHLO_PROTOCOL_MIME_WORDS_H
#define EHLO_PROTOCOL_MIME_WORDS_H

#include <stddef.h>

/*
 * Decodes the encoded-words of an unfolded header value v[0..n) (B and
 * Q; charsets UTF-8, US-ASCII and ISO-8859-1, the latter turned into
 * UTF-8) and drops the blanks between two adjacent encoded-words (RFC
 * 2047 6.2).  A word that is malformed or in another charset is left as
 * it was.  Returns an allocated NUL-terminated string; it may hold any
 * bytes (a decoded control character), so escape it before showing it.
 */
char *smtp_mime_decode_words(const char *v, size_t n);

#endif
