/*
 * A prepared message (ehlo send --eml): its header block read from the
 * file, the fields the envelope needs (From, To, Cc, Bcc, Message-ID,
 * Date, unfolded), and the header block without its Bcc fields for -t
 * (as sendmail -t and msmtp -t remove them).  The body is never read
 * here: the builder (message.c) streams it from the file as it is, with
 * only line ends normalised; dot-stuffing happens on the way out.
 *   RFC 5322 2.2, 2.2.3  header fields and unfolding
 *   RFC 5322 3.6.3       destination fields: To, Cc, Bcc
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/message_int.h"

/* A header block longer than this is not one. */
#define EML_HEAD_MAX (1024 * 1024)

void
message_eml_head_free(struct message_eml_head *h)
{
	free(h->from);
	free(h->to);
	free(h->cc);
	free(h->bcc);
	free(h->message_id);
	free(h->date);
	free(h->without_bcc);
	memset(h, 0, sizeof *h);
}

/* Appends the unfolded value v[0..n) to *dst, joined by ", ". */
static void
field_add(char **dst, const char *v, size_t n)
{
	struct buf b;
	size_t i;
	char *out;

	buf_init(&b, 0);
	if (*dst != NULL)
		(void)buf_add_printf(&b, "%s, ", *dst);
	while (n > 0 && (*v == ' ' || *v == '\t'))
		v++, n--;
	for (i = 0; i < n; i++)
		if (v[i] != '\r' && v[i] != '\n')
			(void)buf_add(&b, &v[i], 1);
	out = xstrndup(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	for (i = strlen(out);
	     i > 0 && (out[i - 1] == ' ' || out[i - 1] == '\t'); i--)
		out[i - 1] = '\0';
	free(*dst);
	*dst = out;
}

/* The header block's length in p[0..n): through its empty line, or 0. */
static size_t
head_end(const char *p, size_t n)
{
	size_t i;

	if (n >= 1 && p[0] == '\n')
		return 1;
	if (n >= 2 && p[0] == '\r' && p[1] == '\n')
		return 2;
	for (i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

int
message_eml_head_read(
    int fd, int drop_bcc, struct message_eml_head *h, char **errstr)
{
	size_t cap = 8192, n = 0, end = 0, i, line, next, name;
	char *p = xmalloc(cap);
	struct message_norm norm;
	struct buf out;
	ssize_t r;
	int in_bcc = 0;

	memset(h, 0, sizeof *h);
	if (lseek(fd, 0, SEEK_SET) == -1) {
		*errstr = xasprintf("the message cannot be read twice (seek: "
		                    "%s)",
		    strerror(errno));
		free(p);
		return -1;
	}
	for (;;) {
		if ((end = head_end(p, n)) > 0)
			break;
		if (n == cap) {
			if (cap >= EML_HEAD_MAX) {
				*errstr =
				    xasprintf("the message's header "
				              "block is over %d bytes: not "
				              "an RFC 5322 message",
				        EML_HEAD_MAX);
				free(p);
				return -1;
			}
			cap *= 2;
			p = xreallocarray(p, cap, 1);
		}
		r = read(fd, p + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			*errstr = xasprintf(
			    "reading the message: %s", strerror(errno));
			free(p);
			return -1;
		}
		if (r == 0) {
			end = n; /* headers only, no body */
			break;
		}
		n += (size_t)r;
	}
	h->body_off = end;
	buf_init(&out, 0);
	memset(&norm, 0, sizeof norm);
	for (line = 0; line < end; line = next) {
		const char *nl = memchr(p + line, '\n', end - line);

		next = nl != NULL ? (size_t)(nl - p) + 1 : end;
		/* A folded line continues the field before it. */
		if (p[line] == ' ' || p[line] == '\t') {
			if (!in_bcc)
				message_norm_feed(&norm,
				    (const unsigned char *)p + line,
				    next - line, &out);
			continue;
		}
		for (name = line;
		     name < next && p[name] != ':' && p[name] != ' ' &&
		     p[name] != '\t' && p[name] != '\r' && p[name] != '\n';
		     name++)
			;
		in_bcc = 0;
		if (name < next && p[name] == ':') {
			size_t nl_len = name - line, vend = next;
			char **dst = NULL;

			/* The value runs through its folded lines. */
			while (
			    vend < end && (p[vend] == ' ' || p[vend] == '\t')) {
				const char *n2 =
				    memchr(p + vend, '\n', end - vend);

				vend = n2 != NULL ? (size_t)(n2 - p) + 1 : end;
			}
			if (nl_len == 4 &&
			    strncasecmp(p + line, "From", 4) == 0)
				dst = &h->from;
			else if (nl_len == 2 &&
			    strncasecmp(p + line, "To", 2) == 0)
				dst = &h->to;
			else if (nl_len == 2 &&
			    strncasecmp(p + line, "Cc", 2) == 0)
				dst = &h->cc;
			else if (nl_len == 3 &&
			    strncasecmp(p + line, "Bcc", 3) == 0) {
				dst = &h->bcc;
				in_bcc = drop_bcc;
				h->had_bcc = 1;
			} else if (nl_len == 10 &&
			    strncasecmp(p + line, "Message-ID", 10) == 0)
				dst = &h->message_id;
			else if (nl_len == 4 &&
			    strncasecmp(p + line, "Date", 4) == 0)
				dst = &h->date;
			if (dst != NULL)
				field_add(dst, p + name + 1, vend - name - 1);
		}
		if (!in_bcc)
			message_norm_feed(&norm,
			    (const unsigned char *)p + line, next - line, &out);
	}
	for (i = 0; i < end; i++) {
		if (p[i] == '\0')
			*errstr = xstrdup("the message's header block holds a "
			                  "NUL byte: not an RFC 5322 message");
		/*
		 * The block is sent with bare CRs made line ends, so with
		 * its Bcc fields left out a bare CR could start one.
		 */
		else if (drop_bcc && p[i] == '\r' &&
		    (i + 1 == end || p[i + 1] != '\n'))
			*errstr = xstrdup(
			    "the message's header block holds a CR without "
			    "LF, so -t cannot tell where its fields end: "
			    "give it CRLF or LF line ends");
		else
			continue;
		buf_reset(&out);
		free(p);
		message_eml_head_free(h);
		return -1;
	}
	h->without_bcc_len = buf_used(&out);
	h->without_bcc = xstrndup(buf_peek(&out), buf_used(&out));
	buf_reset(&out);
	free(p);
	return 0;
}
