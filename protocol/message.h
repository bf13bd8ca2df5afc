/*
 * Composing an Internet message (RFC 5322 with MIME) that streams: a
 * description the caller owns and edits (struct smtp_message), and a
 * builder that checks it against what the server offers, decides every
 * encoding, and then produces the message bytes chunk by chunk, so a
 * 100 MB attachment is read and base64-encoded in fixed-size pieces.
 *
 * The builder's output is what goes into DATA before dot-stuffing: CRLF
 * line ends only, no line over 998 octets, Bcc never in the headers.
 * Text from the user that goes into a header (names, subject, extra
 * headers) must not hold CR, LF or other control characters: such input
 * is refused, never folded or stripped (header injection).
 */
#ifndef EHLO_PROTOCOL_MESSAGE_H
#define EHLO_PROTOCOL_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A list of strings the caller owns. */
struct smtp_message_list {
	const char *const *v;
	size_t n;
};

/*
 * What the user composed.  Every string is UTF-8 and stays the caller's;
 * the builder copies what it keeps.  Address fields take one mailbox per
 * entry or several separated by commas: "a@example.org",
 * "Ann Example <a@example.org>", "\"Doe, Jane\" <j@example.org>", with
 * non-ASCII allowed in display names (encoded-words) and in addresses
 * (only when the server offers SMTPUTF8).
 */
struct smtp_message {
	const char *from; /* one mailbox; required */
	struct smtp_message_list to, cc, bcc, reply_to;
	const char *subject; /* NULL: no Subject header */
	/*
	 * Extra header lines, "Name: value".  Date and Message-ID replace
	 * the generated ones; From, To, Cc, Bcc, Reply-To, Subject,
	 * MIME-Version and Content-* are refused (they have fields, or the
	 * builder writes them).
	 */
	struct smtp_message_list headers;
	/*
	 * The text body: at most one of body_path (a file), body_fd (an
	 * open, seekable descriptor the caller keeps; -1 when unused) and
	 * body_mem/body_len.  None: an empty body.  It is read twice: once
	 * to choose its encoding, once to send it.
	 */
	const char *body_path;
	int body_fd;
	const char *body_mem;
	size_t body_len;
	struct smtp_message_list attach; /* file paths */
	/*
	 * A prepared RFC 5322 message sent as it is (ehlo send --eml):
	 * with eml set, eml_fd is an open, seekable descriptor the caller
	 * keeps.  Only
	 * from (else its From header) and to, cc, bcc (added to its own
	 * with eml_rcpts_from_headers) are used with it.  Line ends become
	 * CRLF; nothing else changes but the removal of its Bcc fields
	 * when eml_rcpts_from_headers (-t) is set.
	 */
	int eml;
	int eml_fd;
	int eml_rcpts_from_headers; /* -t: To, Cc, Bcc from its headers */
};

/* Initialises an empty description (body_fd -1). */
void smtp_message_init(struct smtp_message *);

/* How the builder may encode, and fixed values for tests and previews. */
struct smtp_message_opts {
	int can_8bitmime; /* the server offers 8BITMIME (RFC 6152) */
	int can_smtputf8; /* the server offers SMTPUTF8 (RFC 6531) */
	int64_t date; /* Unix time for Date; 0: now */
	int date_utc; /* 1: +0000, else the local offset */
	const char *message_id; /* "<id@domain>"; NULL: random */
	const char *boundary; /* NULL: random */
	size_t read_chunk; /* bytes per read of a file; 0: 64 KiB */
};

/* Content-Transfer-Encoding chosen for the text body. */
enum smtp_message_cte {
	SMTP_CTE_7BIT,
	SMTP_CTE_8BIT,
	SMTP_CTE_QP,
	SMTP_CTE_BASE64,
};

/* "7bit", "8bit", "quoted-printable" or "base64". */
const char *smtp_message_cte_name(enum smtp_message_cte);

/* What the builder decided; valid while the builder lives. */
struct smtp_message_info {
	const char *env_from; /* the From addr-spec, for MAIL FROM */
	const char *const *rcpts; /* To, Cc and Bcc addr-specs, in order,
	                           * duplicates dropped */
	size_t nrcpts;
	int need_smtputf8; /* an address is not ASCII: MAIL ... SMTPUTF8 */
	int need_8bitmime; /* 8-bit content: MAIL ... BODY=8BITMIME */
	uint64_t size; /* exact octets before dot-stuffing (SIZE=) */
	enum smtp_message_cte body_cte;
	const char *message_id; /* "<...>" */
	const char *date; /* the Date header's value */
	size_t nattach;
	uint64_t body_bytes; /* the text body as read */
};

struct smtp_message_build; /* opaque */

/*
 * Checks msg and prepares its message: parses the addresses, refuses
 * header injection and bad header names, opens and scans the body and
 * every attachment (size, libmagic type), chooses the encodings and
 * builds the headers.  Returns NULL with *errstr naming the field or
 * file and what to do: no From, no recipient, a bad address, a
 * non-ASCII address while opts->can_smtputf8 is 0, CR/LF or a control
 * character in a header value, a file that cannot be read.
 */
struct smtp_message_build *smtp_message_build_new(
    const struct smtp_message *msg, const struct smtp_message_opts *opts,
    char **errstr);
/* Frees and closes the files.  NULL is a no-op. */
void smtp_message_build_free(struct smtp_message_build *);

const struct smtp_message_info *smtp_message_build_info(
    const struct smtp_message_build *);

/*
 * Produces the next at most cap bytes of the message into buf.  Returns
 * the count, 0 once the whole message was produced, or -1 with *errstr
 * when a file cannot be read (the message is then incomplete and must
 * not be delivered).  Memory use does not depend on the message size;
 * any cap (even 1) gives the same bytes in the end.
 */
ssize_t smtp_message_build_read(
    struct smtp_message_build *, char *buf, size_t cap, char **errstr);

/*
 * The first max bytes of the message as it would go out (for a preview
 * pane), NUL-terminated, length in *len; *truncated is set when there
 * was more.  Returns NULL with *errstr like smtp_message_build_new().
 */
char *smtp_message_preview(const struct smtp_message *,
    const struct smtp_message_opts *, size_t max, size_t *len, int *truncated,
    char **errstr);

/*
 * Encoders, public for tests and for the workbench's preview.  Each
 * appends to an allocated string the caller frees.
 *
 * smtp_message_encode_words: an RFC 2047 encoded-word sequence for
 * UTF-8 text, B or Q (the shorter), each word at most 75 octets and the
 * first fitting in a line that has col octets already; words are joined
 * by CRLF SP.  ASCII-only text comes back unchanged.
 */
char *smtp_message_encode_words(const char *text, size_t col);

#endif
