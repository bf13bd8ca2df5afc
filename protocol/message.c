/*
 * Message composition: RFC 5322 headers and a MIME body, produced as a
 * stream.
 *
 *   RFC 5322  Internet Message Format (header fields, folding, the 998
 *             and 78 octet line limits, Date, Message-ID, Bcc)
 *   RFC 2045  MIME part one (MIME-Version, Content-Transfer-Encoding:
 *             7bit, 8bit, quoted-printable, base64 in 76-char lines)
 *   RFC 2046  MIME part two (multipart/mixed, boundaries)
 *   RFC 2047  encoded-words for non-ASCII header text (B and Q)
 *   RFC 2049  MIME conformance
 *   RFC 2183  Content-Disposition
 *   RFC 2231  parameter value encoding and continuations (filenames)
 *   RFC 6531  SMTPUTF8 (non-ASCII addresses), RFC 6532 (UTF-8 headers)
 *   RFC 6152  8BITMIME, RFC 1870 SIZE, RFC 3461 DSN (the envelope facts
 *             the sender needs: see struct smtp_message_info)
 *
 * smtp_message_build_new() does all the deciding up front: it parses
 * the addresses, scans the text body once (8-bit bytes, NUL, the longest
 * line, and the exact size under each encoding), stats the attachments
 * and asks libmagic for their types, then lays the message out as a
 * list of segments: memory (the header block, part headers, boundary
 * lines), the text body (normalised to CRLF, or quoted-printable) and
 * attachments (base64).  smtp_message_build_read() walks the segments,
 * reading files read_chunk bytes at a time into one output buffer, so
 * the memory in use does not depend on the message's size.  Encoders
 * keep their state between chunks (a pending blank in QP, up to two
 * bytes in base64, a CR waiting for its LF), which is why any chunking
 * gives the same bytes.
 */
#include "protocol/message.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <magic.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "core/xmalloc.h"

#define MSG_LINE_SOFT 78 /* RFC 5322 2.1.1: SHOULD */
#define MSG_LINE_HARD 998 /* RFC 5322 2.1.1: MUST */
#define MSG_EW_MAX 75 /* RFC 2047 2: one encoded-word */
#define MSG_EW_LINE 76 /* RFC 2047 2: a line holding encoded-words */
#define MSG_QP_LINE 76 /* RFC 2045 6.7 (5), "=" included */
#define MSG_B64_LINE 76 /* RFC 2045 6.8 */
#define MSG_ADDR_MAX 254 /* RFC 5321 4.5.3.1.3 path, less the <> */
#define MSG_CHUNK_DEFAULT (64 * 1024)

/* ---- small helpers ------------------------------------------------- */

static int
is_ascii(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 0;
	return 1;
}

/*
 * Header text given by the user: CR and LF would start a new header
 * (injection); other controls have no place in a header either.
 */
static int
check_header_text(const char *what, const char *v, char **errstr)
{
	const unsigned char *p;

	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n') {
			*errstr =
			    xasprintf("%s contains a line break (CR or "
			              "LF); header values must be one line, "
			              "so nothing was sent (header injection "
			              "refused)",
			        what);
			return -1;
		}
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			*errstr = xasprintf("%s contains the control character "
			                    "0x%02x; remove it",
			    what, *p);
			return -1;
		}
	}
	return 0;
}

/* Length of the UTF-8 sequence starting at p (1 for invalid bytes). */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	size_t n = 1;

	if (*p >= 0xf0 && *p < 0xf8)
		n = 4;
	else if (*p >= 0xe0)
		n = 3;
	else if (*p >= 0xc0)
		n = 2;
	if (*p >= 0xf8)
		n = 1;
	return n > left ? left : n;
}

static const char hexdig[] = "0123456789ABCDEF";

/* ---- RFC 2047 encoded-words ---------------------------------------- */

/* Q: the "phrase" set of RFC 2047 5 (3) is safe in any header. */
static int
q_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/';
}

static size_t
q_cost(unsigned char c)
{
	return q_safe(c) || c == ' ' ? 1 : 3;
}

static void
q_put(struct buf *out, const unsigned char *p, size_t n)
{
	char t[3];
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == ' ')
			(void)buf_add(out, "_", 1);
		else if (q_safe(p[i]))
			(void)buf_add(out, &p[i], 1);
		else {
			t[0] = '=';
			t[1] = hexdig[p[i] >> 4];
			t[2] = hexdig[p[i] & 15];
			(void)buf_add(out, t, 3);
		}
	}
}

static const char b64dig[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encodes n bytes (n <= 3, padding the rest) into 4 characters at d. */
static void
b64_quantum(char *d, const unsigned char *s, size_t n)
{
	unsigned v = (unsigned)s[0] << 16;

	if (n > 1)
		v |= (unsigned)s[1] << 8;
	if (n > 2)
		v |= s[2];
	d[0] = b64dig[(v >> 18) & 63];
	d[1] = b64dig[(v >> 12) & 63];
	d[2] = n > 1 ? b64dig[(v >> 6) & 63] : '=';
	d[3] = n > 2 ? b64dig[v & 63] : '=';
}

static void
b_put(struct buf *out, const unsigned char *p, size_t n)
{
	char q[4];
	size_t i;

	for (i = 0; i < n; i += 3) {
		b64_quantum(q, p + i, n - i < 3 ? n - i : 3);
		(void)buf_add(out, q, 4);
	}
}

/*
 * Appends text as encoded-words separated by single spaces (the header
 * writer folds at those spaces).  The first word is at most first_max
 * octets, the others MSG_EW_MAX.  A character is never split between
 * two words (RFC 2047 5, last paragraph).
 */
static void
ew_append(struct buf *out, const char *text, size_t n, size_t first_max)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i, qlen = 0, start, cl, payload, wmax, cost, bytes;
	int use_q, first = 1;

	for (i = 0; i < n; i++)
		qlen += q_cost(p[i]);
	use_q = qlen <= (n + 2) / 3 * 4;
	i = 0;
	while (i < n) {
		wmax = first ? first_max : MSG_EW_MAX;
		if (wmax < 12 + 12)
			wmax = 12 + 12; /* room for any one character */
		payload = wmax - 12; /* "=?utf-8?Q?" and "?=" */
		start = i;
		cost = 0;
		while (i < n) {
			cl = utf8_len(p + i, n - i);
			if (use_q) {
				size_t c = 0, k;

				for (k = 0; k < cl; k++)
					c += q_cost(p[i + k]);
				if (cost + c > payload)
					break;
				cost += c;
			} else {
				bytes = i - start + cl;
				if ((bytes + 2) / 3 * 4 > payload)
					break;
			}
			i += cl;
		}
		if (i == start) /* cannot happen: wmax fits any character */
			i += utf8_len(p + i, n - i);
		if (!first)
			(void)buf_add(out, " ", 1);
		(void)buf_add_str(out, use_q ? "=?utf-8?Q?" : "=?utf-8?B?");
		if (use_q)
			q_put(out, p + start, i - start);
		else
			b_put(out, p + start, i - start);
		(void)buf_add(out, "?=", 2);
		first = 0;
	}
}

char *
smtp_message_encode_words(const char *text, size_t col)
{
	struct buf b, o;
	const char *p, *sp, *end;
	char *s;

	if (is_ascii(text, strlen(text)))
		return xstrdup(text);
	buf_init(&b, 0);
	ew_append(&b, text, strlen(text),
	    col + 1 < MSG_EW_LINE ? MSG_EW_LINE - col - 1 : 0);
	buf_init(&o, 0);
	p = buf_peek(&b);
	end = p + buf_used(&b);
	while (p < end) {
		sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == NULL)
			sp = end;
		if (buf_used(&o) > 0)
			(void)buf_add(&o, "\r\n ", 3);
		(void)buf_add(&o, p, (size_t)(sp - p));
		p = sp + 1;
	}
	(void)buf_add(&o, "", 1);
	s = xstrdup(buf_peek(&o));
	buf_reset(&b);
	buf_reset(&o);
	return s;
}

/* ---- the header writer --------------------------------------------- */

/*
 * Writes one header field, folding before a blank when the next token
 * would pass 78 octets (RFC 5322 2.2.3: the blank stays, so unfolding
 * gives the original text back).  A token that cannot fit in 998
 * octets is an error.
 */
struct hdrw {
	struct buf *out;
	size_t col;
	size_t ntok;
	int toolong;
};

static void
hw_begin(struct hdrw *w, struct buf *out, const char *name)
{
	w->out = out;
	w->ntok = 0;
	w->toolong = 0;
	(void)buf_add_str(out, name);
	(void)buf_add(out, ":", 1);
	w->col = strlen(name) + 1;
}

/* A token preceded by one blank. */
static void
hw_token(struct hdrw *w, const char *t, size_t n)
{
	if (n > 0 && w->ntok > 0 && w->col + 1 + n > MSG_LINE_SOFT) {
		(void)buf_add(w->out, "\r\n", 2);
		w->col = 0;
	}
	(void)buf_add(w->out, " ", 1);
	(void)buf_add(w->out, t, n);
	w->col += 1 + n;
	if (w->col > MSG_LINE_HARD)
		w->toolong = 1;
	w->ntok++;
}

/* Every blank-separated word of s as a token (runs of blanks kept). */
static void
hw_words(struct hdrw *w, const char *s, size_t n)
{
	const char *end = s + n, *sp;

	for (;;) {
		sp = memchr(s, ' ', (size_t)(end - s));
		if (sp == NULL) {
			hw_token(w, s, (size_t)(end - s));
			return;
		}
		hw_token(w, s, (size_t)(sp - s));
		s = sp + 1;
	}
}

static int
hw_end(struct hdrw *w, const char *name, char **errstr)
{
	(void)buf_add(w->out, "\r\n", 2);
	if (w->toolong) {
		*errstr = xasprintf("the %s header has a word too long for one "
		                    "line (998 octets, RFC 5322); shorten it",
		    name);
		return -1;
	}
	return 0;
}

/* ---- addresses ----------------------------------------------------- */

struct mbox {
	char *display; /* NULL when none */
	char *addr;
};

struct mlist {
	struct mbox *v;
	size_t n;
};

static void
mlist_free(struct mlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].display);
		free(l->v[i].addr);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static char *
trim_dup(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

static int
check_addr(const char *what, const char *a, char **errstr)
{
	const unsigned char *p;
	const char *at = strrchr(a, '@');

	if (*a == '\0') {
		*errstr = xasprintf("%s: an empty address", what);
		return -1;
	}
	if (at == NULL || at == a || at[1] == '\0') {
		*errstr = xasprintf("%s: \"%s\" is not an address "
		                    "(expected local@domain)",
		    what, a);
		return -1;
	}
	if (strlen(a) > MSG_ADDR_MAX) {
		*errstr = xasprintf("%s: the address is longer than %d "
		                    "octets (RFC 5321)",
		    what, MSG_ADDR_MAX);
		return -1;
	}
	for (p = (const unsigned char *)a; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' ||
		    *p == ',' || *p == '(' || *p == ')') {
			*errstr = xasprintf("%s: \"%s\" has a character an "
			                    "address cannot hold unquoted "
			                    "(blank, control, <>,())",
			    what, a);
			return -1;
		}
	return 0;
}

/* One mailbox: "addr", "<addr>", "Name <addr>" or "\"Name\" <addr>". */
static int
parse_mbox(
    const char *what, const char *s, size_t n, struct mbox *m, char **errstr)
{
	const char *lt = NULL, *gt, *end = s + n, *p;
	int inq = 0;
	char *d, *dn;
	size_t k;

	m->display = m->addr = NULL;
	for (p = s; p < end; p++) {
		if (*p == '\\' && inq && p + 1 < end)
			p++;
		else if (*p == '"')
			inq = !inq;
		else if (*p == '<' && !inq) {
			lt = p;
			break;
		}
	}
	if (lt == NULL) {
		m->addr = trim_dup(s, n);
		return check_addr(what, m->addr, errstr);
	}
	gt = memchr(lt, '>', (size_t)(end - lt));
	if (gt == NULL) {
		*errstr = xasprintf(
		    "%s: \"%.*s\" has \"<\" without \">\"", what, (int)n, s);
		return -1;
	}
	for (p = gt + 1; p < end; p++)
		if (*p != ' ' && *p != '\t') {
			*errstr = xasprintf("%s: text after the address in "
			                    "\"%.*s\"",
			    what, (int)n, s);
			return -1;
		}
	m->addr = trim_dup(lt + 1, (size_t)(gt - lt - 1));
	dn = trim_dup(s, (size_t)(lt - s));
	k = strlen(dn);
	if (k >= 2 && dn[0] == '"' && dn[k - 1] == '"') {
		/* Unquote: the writer quotes again when it must. */
		d = dn;
		for (p = dn + 1; p < dn + k - 1; p++) {
			if (*p == '\\' && p + 1 < dn + k - 1)
				p++;
			*d++ = *p;
		}
		*d = '\0';
	}
	if (*dn != '\0')
		m->display = dn;
	else
		free(dn);
	return check_addr(what, m->addr, errstr);
}

/* Appends the mailboxes of value (commas outside quotes and <>). */
static int
parse_mlist(const char *what, const char *value, struct mlist *l, char **errstr)
{
	const char *p = value, *start = value;
	int inq = 0, inangle = 0;
	struct mbox m;

	if (check_header_text(what, value, errstr) == -1)
		return -1;
	for (;; p++) {
		if (*p == '\\' && inq && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"' && !inangle)
			inq = !inq;
		else if (*p == '<' && !inq)
			inangle = 1;
		else if (*p == '>' && !inq)
			inangle = 0;
		if (*p == '\0' || (*p == ',' && !inq && !inangle)) {
			const char *q = start;

			while (q < p && (*q == ' ' || *q == '\t'))
				q++;
			if (q < p) {
				if (parse_mbox(what, start, (size_t)(p - start),
				        &m, errstr) == -1) {
					free(m.display);
					free(m.addr);
					return -1;
				}
				l->v =
				    xreallocarray(l->v, l->n + 1, sizeof *l->v);
				l->v[l->n++] = m;
			}
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	return 0;
}

static int
parse_field(const char *what, const struct smtp_message_list *in,
    struct mlist *l, char **errstr)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		if (in->v[i] != NULL &&
		    parse_mlist(what, in->v[i], l, errstr) == -1)
			return -1;
	return 0;
}

/* RFC 5322 atext, with UTF-8 allowed when raw (RFC 6532 3.2). */
static int
is_atext(unsigned char c, int raw)
{
	if (c >= 0x80)
		return raw;
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * Tokens of a display name into the header writer, the last one with
 * suffix appended ("," between mailboxes).
 */
static void
put_display(struct hdrw *w, const char *name, int raw, size_t first_max)
{
	struct buf b;
	const unsigned char *p;
	int phrase = 1;

	buf_init(&b, 0);
	if (!raw && !is_ascii(name, strlen(name))) {
		ew_append(&b, name, strlen(name), first_max);
		hw_words(w, buf_peek(&b), buf_used(&b));
		buf_reset(&b);
		return;
	}
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (!is_atext(*p, raw) && *p != ' ')
			phrase = 0;
	if (name[0] == ' ' || strstr(name, "  ") != NULL ||
	    name[strlen(name) - 1] == ' ')
		phrase = 0;
	if (phrase) {
		hw_words(w, name, strlen(name));
		buf_reset(&b);
		return;
	}
	/* A quoted-string: one token (never folded inside). */
	(void)buf_add(&b, "\"", 1);
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			(void)buf_add(&b, "\\", 1);
		(void)buf_add(&b, p, 1);
	}
	(void)buf_add(&b, "\"", 1);
	hw_token(w, buf_peek(&b), buf_used(&b));
	buf_reset(&b);
}

static int
put_mlist(struct buf *out, const char *name, const struct mlist *l, int raw,
    char **errstr)
{
	struct hdrw w;
	struct buf t;
	size_t i;

	hw_begin(&w, out, name);
	buf_init(&t, 0);
	for (i = 0; i < l->n; i++) {
		buf_clear(&t);
		if (l->v[i].display != NULL) {
			put_display(&w, l->v[i].display, raw,
			    MSG_EW_LINE - strlen(name) - 2);
			(void)buf_add(&t, "<", 1);
		}
		(void)buf_add_str(&t, l->v[i].addr);
		if (l->v[i].display != NULL)
			(void)buf_add(&t, ">", 1);
		if (i + 1 < l->n)
			(void)buf_add(&t, ",", 1);
		hw_token(&w, buf_peek(&t), buf_used(&t));
	}
	buf_reset(&t);
	return hw_end(&w, name, errstr);
}

/* An unstructured field (Subject, extra headers). */
static int
put_unstructured(struct buf *out, const char *name, const char *value, int raw,
    char **errstr)
{
	struct hdrw w;
	struct buf b;
	size_t n = strlen(value);

	hw_begin(&w, out, name);
	if (!raw && !is_ascii(value, n)) {
		buf_init(&b, 0);
		ew_append(&b, value, n, MSG_EW_LINE - strlen(name) - 2);
		hw_words(&w, buf_peek(&b), buf_used(&b));
		buf_reset(&b);
	} else
		hw_words(&w, value, n);
	return hw_end(&w, name, errstr);
}

/* ---- Date and Message-ID ------------------------------------------- */

static char *
rfc5322_date(int64_t when, int utc)
{
	static const char days[7][4] = {
	    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = when != 0 ? (time_t)when : time(NULL);
	struct tm tm;
	long off;

	if (utc || localtime_r(&t, &tm) == NULL) {
		(void)gmtime_r(&t, &tm);
		off = 0;
	} else
		off = tm.tm_gmtoff / 60;
	return xasprintf("%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
	    (off < 0 ? -off : off) % 60);
}

static void
random_hex(char *out, size_t nbytes)
{
	unsigned char r[32];
	size_t i;

	if (nbytes > sizeof r)
		nbytes = sizeof r;
	if (RAND_bytes(r, (int)nbytes) != 1)
		fatalx("the random number generator failed (RAND_bytes)");
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = "0123456789abcdef"[r[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

/* The domain for Message-ID: the From domain when it is plain ASCII. */
static const char *
id_domain(const char *addr)
{
	const char *at = strrchr(addr, '@'), *p;

	if (at == NULL)
		return "ehlo.invalid";
	for (p = at + 1; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		        *p == '[' || *p == ']' || *p == ':'))
			return "ehlo.invalid";
	return at + 1;
}

/* ---- body encoders (streaming) ------------------------------------- */

/* CRLF normalisation (7bit, 8bit): bare CR and bare LF become CRLF. */
struct norm {
	int after_cr;
};

/* Appends the transformed in[0..n); at most 2n bytes. */
static void
norm_feed(struct norm *st, const unsigned char *in, size_t n, struct buf *out)
{
	char *d0 = buf_reserve(out, 2 * n + 2), *d = d0;
	size_t i;

	if (d0 == NULL)
		fatalx("message buffer cap");
	for (i = 0; i < n; i++) {
		if (in[i] == '\r') {
			*d++ = '\r';
			*d++ = '\n';
			st->after_cr = 1;
			continue;
		}
		if (in[i] == '\n') {
			if (!st->after_cr) {
				*d++ = '\r';
				*d++ = '\n';
			}
			st->after_cr = 0;
			continue;
		}
		st->after_cr = 0;
		*d++ = (char)in[i];
	}
	buf_commit(out, (size_t)(d - d0));
}

/* Quoted-printable (RFC 2045 6.7), line breaks as hard breaks. */
struct qp {
	size_t col;
	int pend; /* a blank waiting to see what follows, or 0 */
	int after_cr;
};

static char *
qp_soft(struct qp *st, char *d, size_t need)
{
	if (st->col + need > MSG_QP_LINE - 1) {
		*d++ = '=';
		*d++ = '\r';
		*d++ = '\n';
		st->col = 0;
	}
	return d;
}

static char *
qp_hex(struct qp *st, char *d, unsigned char c)
{
	d = qp_soft(st, d, 3);
	*d++ = '=';
	*d++ = hexdig[c >> 4];
	*d++ = hexdig[c & 15];
	st->col += 3;
	return d;
}

/* A blank before a line end must be encoded (RFC 2045 6.7 (3)). */
static char *
qp_flush_blank(struct qp *st, char *d)
{
	if (st->pend != 0)
		d = qp_hex(st, d, (unsigned char)st->pend);
	st->pend = 0;
	return d;
}

static void
qp_feed(struct qp *st, const unsigned char *in, size_t n, struct buf *out)
{
	/* Worst case per byte: "=\r\n" + "=XX" twice (a pending blank). */
	char *d0 = buf_reserve(out, 6 * n + 16), *d = d0;
	size_t i;
	unsigned char c;

	if (d0 == NULL)
		fatalx("message buffer cap");
	for (i = 0; i < n; i++) {
		c = in[i];
		if (c == '\r' || (c == '\n' && !st->after_cr)) {
			d = qp_flush_blank(st, d);
			*d++ = '\r';
			*d++ = '\n';
			st->col = 0;
			st->after_cr = c == '\r';
			continue;
		}
		if (c == '\n') {
			st->after_cr = 0;
			continue;
		}
		st->after_cr = 0;
		if (st->pend != 0) {
			d = qp_soft(st, d, 1);
			*d++ = (char)st->pend;
			st->col++;
			st->pend = 0;
		}
		if (c == ' ' || c == '\t') {
			st->pend = c;
			continue;
		}
		if (c >= 33 && c <= 126 && c != '=') {
			d = qp_soft(st, d, 1);
			*d++ = (char)c;
			st->col++;
		} else
			d = qp_hex(st, d, c);
	}
	buf_commit(out, (size_t)(d - d0));
}

static void
qp_finish(struct qp *st, struct buf *out)
{
	char *d0 = buf_reserve(out, 16), *d = d0;

	if (d0 == NULL)
		fatalx("message buffer cap");
	d = qp_flush_blank(st, d);
	buf_commit(out, (size_t)(d - d0));
}

/* Base64 (RFC 2045 6.8) in 76-character lines joined by CRLF. */
struct b64 {
	unsigned char held[3];
	size_t nheld;
	size_t col;
};

static char *
b64_emit(struct b64 *st, char *d, const unsigned char *q, size_t n)
{
	if (st->col == MSG_B64_LINE) {
		*d++ = '\r';
		*d++ = '\n';
		st->col = 0;
	}
	b64_quantum(d, q, n);
	st->col += 4;
	return d + 4;
}

static void
b64_feed(struct b64 *st, const unsigned char *in, size_t n, struct buf *out)
{
	char *d0 = buf_reserve(out, 2 * n + 16), *d = d0;
	size_t i = 0;

	if (d0 == NULL)
		fatalx("message buffer cap");
	while (st->nheld > 0 && st->nheld < 3 && i < n)
		st->held[st->nheld++] = in[i++];
	if (st->nheld == 3) {
		d = b64_emit(st, d, st->held, 3);
		st->nheld = 0;
	}
	for (; i + 3 <= n; i += 3)
		d = b64_emit(st, d, in + i, 3);
	while (i < n)
		st->held[st->nheld++] = in[i++];
	buf_commit(out, (size_t)(d - d0));
}

static void
b64_finish(struct b64 *st, struct buf *out)
{
	char *d0 = buf_reserve(out, 16), *d = d0;

	if (d0 == NULL)
		fatalx("message buffer cap");
	if (st->nheld > 0)
		d = b64_emit(st, d, st->held, st->nheld);
	st->nheld = 0;
	buf_commit(out, (size_t)(d - d0));
}

static uint64_t
b64_size(uint64_t n)
{
	uint64_t chars = (n + 2) / 3 * 4;

	return chars == 0 ? 0 : chars + 2 * ((chars - 1) / MSG_B64_LINE);
}

/* ---- segments ------------------------------------------------------ */

enum seg_kind {
	SEG_MEM,
	SEG_TEXT, /* the text body, normalised or QP */
	SEG_FILE64, /* an attachment, base64 */
};

struct seg {
	enum seg_kind kind;
	char *mem;
	size_t memlen;
	char *path; /* SEG_FILE64 */
};

struct smtp_message_build {
	struct smtp_message_info info;
	char **rcpts;
	char *env_from, *message_id, *date;

	/* the text body */
	const char *body_mem;
	size_t body_len;
	char *body_path;
	int body_fd; /* the caller's, not closed */
	enum smtp_message_cte cte;

	struct seg *segs;
	size_t nsegs;

	/* generator state */
	size_t chunk;
	size_t cur;
	size_t memoff;
	int started; /* cur's source is open */
	int fd; /* the file being read (ours) */
	int src_fd; /* fd read from (ours or body_fd) */
	uint64_t memread; /* offset into body_mem */
	struct norm norm;
	struct qp qp;
	struct b64 b64;
	unsigned char *inbuf;
	struct buf pend;
};

static void
seg_add(struct smtp_message_build *b, enum seg_kind kind, struct buf *mem,
    const char *path)
{
	struct seg *s;

	b->segs = xreallocarray(b->segs, b->nsegs + 1, sizeof *b->segs);
	s = &b->segs[b->nsegs++];
	memset(s, 0, sizeof *s);
	s->kind = kind;
	if (mem != NULL) {
		s->memlen = buf_used(mem);
		s->mem = xmalloc(s->memlen + 1);
		memcpy(s->mem, buf_peek(mem), s->memlen);
		s->mem[s->memlen] = '\0';
		buf_clear(mem);
	}
	if (path != NULL)
		s->path = xstrdup(path);
}

/* The name of a header the user may not set, with why; NULL: allowed. */
static const char *
header_refused(const char *name, size_t n)
{
	static const struct {
		const char *name;
		const char *why;
	} refused[] = {
	    {"From", "use --from"},
	    {"To", "use --to"},
	    {"Cc", "use --cc"},
	    {"Bcc", "use --bcc (Bcc recipients never appear in the headers)"},
	    {"Reply-To", "use the Reply-To field"},
	    {"Subject", "use --subject"},
	    {"MIME-Version", "ehlo writes the MIME headers itself"},
	    {"Content-Type", "ehlo writes the MIME headers itself"},
	    {"Content-Transfer-Encoding",
	        "ehlo writes the MIME headers itself"},
	    {"Content-Disposition", "ehlo writes the MIME headers itself"},
	};
	size_t i;

	for (i = 0; i < sizeof refused / sizeof refused[0]; i++)
		if (strlen(refused[i].name) == n &&
		    strncasecmp(name, refused[i].name, n) == 0)
			return refused[i].why;
	return NULL;
}

/* Splits "Name: value" after checking both; value points into line. */
static int
split_header(
    const char *line, size_t *namelen, const char **value, char **errstr)
{
	const char *colon = strchr(line, ':'), *p;

	if (check_header_text("the header", line, errstr) == -1)
		return -1;
	if (colon == NULL || colon == line) {
		*errstr =
		    xasprintf("header \"%s\" is not \"Name: value\"", line);
		return -1;
	}
	for (p = line; p < colon; p++)
		if (*p <= 32 || *p >= 127) {
			*errstr = xasprintf("header name \"%.*s\" may hold "
			                    "only printable ASCII without "
			                    "blanks (RFC 5322 2.2)",
			    (int)(colon - line), line);
			return -1;
		}
	*namelen = (size_t)(colon - line);
	p = colon + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	*value = p;
	return 0;
}

/* ---- scanning ------------------------------------------------------ */

struct scan {
	uint64_t in;
	uint64_t norm; /* octets after CRLF normalisation */
	uint64_t qp; /* octets as quoted-printable */
	size_t line, longest;
	int has8, hasnul, after_cr;
};

static void
scan_feed(struct scan *s, struct qp *qp, struct buf *scratch,
    const unsigned char *p, size_t n)
{
	size_t i;

	s->in += n;
	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || (p[i] == '\n' && !s->after_cr)) {
			s->norm += 2;
			if (s->line > s->longest)
				s->longest = s->line;
			s->line = 0;
			s->after_cr = p[i] == '\r';
			continue;
		}
		if (p[i] == '\n') {
			s->after_cr = 0;
			continue;
		}
		s->after_cr = 0;
		s->norm++;
		s->line++;
		if (p[i] >= 0x80)
			s->has8 = 1;
		else if (p[i] == 0)
			s->hasnul = 1;
	}
	qp_feed(qp, p, n, scratch);
	s->qp += buf_used(scratch);
	buf_clear(scratch);
}

/* Opens the body for reading from its start: fd, or -1 for memory. */
static int
body_open(struct smtp_message_build *b, int *own, char **errstr)
{
	int fd;

	*own = 0;
	if (b->body_fd != -1) {
		if (lseek(b->body_fd, 0, SEEK_SET) == -1) {
			*errstr = xasprintf("the body cannot be read twice "
			                    "(seek: %s)",
			    strerror(errno));
			return -2;
		}
		return b->body_fd;
	}
	if (b->body_path == NULL)
		return -1;
	if ((fd = open(b->body_path, O_RDONLY | O_CLOEXEC)) == -1) {
		*errstr = xasprintf("cannot open the body %s: %s", b->body_path,
		    strerror(errno));
		return -2;
	}
	*own = 1;
	return fd;
}

static ssize_t
read_some(int fd, void *p, size_t n)
{
	ssize_t r;

	do
		r = read(fd, p, n);
	while (r == -1 && errno == EINTR);
	return r;
}

static int
scan_body(struct smtp_message_build *b, struct scan *s, char **errstr)
{
	struct qp qp;
	struct buf scratch;
	int fd, own;
	ssize_t r;

	memset(s, 0, sizeof *s);
	memset(&qp, 0, sizeof qp);
	buf_init(&scratch, 0);
	fd = body_open(b, &own, errstr);
	if (fd == -2)
		return -1;
	if (fd == -1) {
		size_t off, n;

		for (off = 0; off < b->body_len; off += n) {
			n = b->body_len - off < b->chunk ? b->body_len - off
			                                 : b->chunk;
			scan_feed(s, &qp, &scratch,
			    (const unsigned char *)b->body_mem + off, n);
		}
	} else {
		while ((r = read_some(fd, b->inbuf, b->chunk)) > 0)
			scan_feed(s, &qp, &scratch, b->inbuf, (size_t)r);
		if (r == -1) {
			*errstr =
			    xasprintf("reading the body: %s", strerror(errno));
			if (own)
				(void)close(fd);
			buf_reset(&scratch);
			return -1;
		}
		if (own)
			(void)close(fd);
	}
	qp_finish(&qp, &scratch);
	s->qp += buf_used(&scratch);
	buf_reset(&scratch);
	if (s->line > s->longest)
		s->longest = s->line;
	return 0;
}

/* ---- building ------------------------------------------------------ */

void
smtp_message_init(struct smtp_message *m)
{
	memset(m, 0, sizeof *m);
	m->body_fd = -1;
}

static int
has_nonascii_addr(const struct mlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!is_ascii(l->v[i].addr, strlen(l->v[i].addr)))
			return 1;
	return 0;
}

static void
add_rcpts(struct smtp_message_build *b, const struct mlist *l)
{
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		for (k = 0; k < b->info.nrcpts; k++)
			if (strcmp(b->rcpts[k], l->v[i].addr) == 0)
				break;
		if (k < b->info.nrcpts)
			continue;
		b->rcpts = xreallocarray(
		    b->rcpts, b->info.nrcpts + 1, sizeof *b->rcpts);
		b->rcpts[b->info.nrcpts++] = xstrdup(l->v[i].addr);
	}
}

/*
 * A Content-Disposition filename parameter: a quoted-string for plain
 * ASCII, else RFC 2231 "filename*=utf-8''%XX" split into continuations
 * (filename*0*, filename*1*, ...) on lines of their own.
 */
static void
put_filename(struct buf *out, const char *name)
{
	const unsigned char *p;
	int plain = 1;
	struct buf enc;
	size_t i, n, part = 0, take;
	const char *e;

	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			plain = 0;
	if (plain && strlen(name) < 900) {
		(void)buf_add_str(out, ";\r\n filename=\"");
		for (p = (const unsigned char *)name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				(void)buf_add(out, "\\", 1);
			(void)buf_add(out, p, 1);
		}
		(void)buf_add(out, "\"", 1);
		return;
	}
	buf_init(&enc, 0);
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		/* RFC 2231 attribute-char, less the tspecials-adjacent ones. */
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p))
			(void)buf_add(&enc, p, 1);
		else
			(void)buf_add_printf(
			    &enc, "%%%c%c", hexdig[*p >> 4], hexdig[*p & 15]);
	}
	e = buf_peek(&enc);
	n = buf_used(&enc);
	for (i = 0; i < n; i += take, part++) {
		/* Lines stay under 78: " filename*N*=" + utf-8'' + take. */
		take = part == 0 ? 50 : 60;
		if (take > n - i)
			take = n - i;
		/* Never split a %XX triplet. */
		if (i + take < n) {
			if (e[i + take - 1] == '%')
				take -= 1;
			else if (take >= 2 && e[i + take - 2] == '%')
				take -= 2;
		}
		(void)buf_add_printf(out, ";\r\n filename*%zu*=%s%.*s", part,
		    part == 0 ? "utf-8''" : "", (int)take, e + i);
	}
	buf_reset(&enc);
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

/* libmagic's type when it looks like type/subtype, else a safe default. */
static char *
attach_type(magic_t mg, const char *path)
{
	const char *t = mg != NULL ? magic_file(mg, path) : NULL;
	const char *p;
	int slash = 0;

	if (t == NULL || *t == '\0' || strlen(t) > 100)
		return xstrdup("application/octet-stream");
	for (p = t; *p != '\0'; p++) {
		if (*p == '/')
			slash++;
		else if (!((*p >= 'a' && *p <= 'z') ||
		             (*p >= 'A' && *p <= 'Z') ||
		             (*p >= '0' && *p <= '9') || strchr("+-.", *p)))
			return xstrdup("application/octet-stream");
	}
	return xstrdup(slash == 1 ? t : "application/octet-stream");
}

const char *
smtp_message_cte_name(enum smtp_message_cte c)
{
	switch (c) {
	case SMTP_CTE_7BIT:
		return "7bit";
	case SMTP_CTE_8BIT:
		return "8bit";
	case SMTP_CTE_QP:
		return "quoted-printable";
	case SMTP_CTE_BASE64:
		return "base64";
	}
	return "7bit";
}

static int
build(struct smtp_message_build *b, const struct smtp_message *m,
    const struct smtp_message_opts *o, char **errstr)
{
	struct mlist from = {0}, to = {0}, cc = {0}, bcc = {0}, rt = {0};
	struct smtp_message_list fl;
	struct buf h;
	struct scan sc;
	const char *user_date = NULL, *user_id = NULL, *value, *why;
	char *boundary = NULL, *type, hexbuf[65];
	size_t i, namelen;
	int raw, rc = -1, multipart, nbodies;
	uint64_t size = 0, bodysize;
	magic_t mg = NULL;
	struct stat stt;

	buf_init(&h, 0);
	if (m->from == NULL || *m->from == '\0') {
		*errstr = xstrdup("no sender: give --from ADDRESS");
		goto out;
	}
	fl.v = &m->from;
	fl.n = 1;
	if (parse_field("From", &fl, &from, errstr) == -1 ||
	    parse_field("To", &m->to, &to, errstr) == -1 ||
	    parse_field("Cc", &m->cc, &cc, errstr) == -1 ||
	    parse_field("Bcc", &m->bcc, &bcc, errstr) == -1 ||
	    parse_field("Reply-To", &m->reply_to, &rt, errstr) == -1)
		goto out;
	if (from.n != 1) {
		*errstr = xasprintf(
		    "From must be exactly one address, not %zu", from.n);
		goto out;
	}
	add_rcpts(b, &to);
	add_rcpts(b, &cc);
	add_rcpts(b, &bcc);
	b->info.rcpts = (const char *const *)b->rcpts;
	if (b->info.nrcpts == 0) {
		*errstr = xstrdup("no recipient: give --to, --cc or --bcc");
		goto out;
	}
	b->env_from = xstrdup(from.v[0].addr);
	b->info.env_from = b->env_from;
	b->info.need_smtputf8 = has_nonascii_addr(&from) ||
	    has_nonascii_addr(&to) || has_nonascii_addr(&cc) ||
	    has_nonascii_addr(&bcc) || has_nonascii_addr(&rt);
	if (b->info.need_smtputf8 && !o->can_smtputf8) {
		*errstr = xstrdup(
		    "an address is not ASCII and the server does not offer "
		    "SMTPUTF8 (RFC 6531), so it cannot carry it; use an ASCII "
		    "address, or a server that offers SMTPUTF8");
		goto out;
	}
	raw = b->info.need_smtputf8; /* RFC 6532: UTF-8 in headers as is */
	if (m->subject != NULL &&
	    check_header_text("the subject", m->subject, errstr) == -1)
		goto out;
	for (i = 0; i < m->headers.n; i++) {
		if (split_header(m->headers.v[i], &namelen, &value, errstr) ==
		    -1)
			goto out;
		if ((why = header_refused(m->headers.v[i], namelen)) != NULL) {
			*errstr = xasprintf("header \"%.*s\" cannot be given "
			                    "as an extra header: %s",
			    (int)namelen, m->headers.v[i], why);
			goto out;
		}
		if (namelen == 4 &&
		    strncasecmp(m->headers.v[i], "Date", 4) == 0)
			user_date = value;
		if (namelen == 10 &&
		    strncasecmp(m->headers.v[i], "Message-ID", 10) == 0)
			user_id = value;
	}

	/* The body: read once to choose its encoding and know its size. */
	b->body_fd = m->body_fd;
	if (m->body_path != NULL)
		b->body_path = xstrdup(m->body_path);
	b->body_mem = m->body_mem;
	b->body_len = m->body_mem != NULL ? m->body_len : 0;
	if (scan_body(b, &sc, errstr) == -1)
		goto out;
	b->info.body_bytes = sc.in;
	if (!sc.has8 && !sc.hasnul && sc.longest <= MSG_LINE_HARD) {
		b->cte = SMTP_CTE_7BIT;
		bodysize = sc.norm;
	} else if (sc.has8 && !sc.hasnul && sc.longest <= MSG_LINE_HARD &&
	    o->can_8bitmime) {
		b->cte = SMTP_CTE_8BIT;
		bodysize = sc.norm;
		b->info.need_8bitmime = 1;
	} else {
		b->cte = SMTP_CTE_QP;
		bodysize = sc.qp;
	}
	b->info.body_cte = b->cte;
	nbodies =
	    m->body_path != NULL || m->body_fd != -1 || m->body_mem != NULL;

	/* Attachments: readable regular files; their types. */
	if (m->attach.n > 0) {
		/*
		 * libmagic reads up to 7 MB of each file by default; the
		 * start is enough to tell the type, and memory stays flat.
		 */
		size_t bytes_max = 256 * 1024;

		mg = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
		if (mg != NULL &&
		    (magic_load(mg, NULL) != 0 ||
		        magic_setparam(mg, MAGIC_PARAM_BYTES_MAX, &bytes_max) !=
		            0)) {
			magic_close(mg);
			mg = NULL;
		}
	}
	for (i = 0; i < m->attach.n; i++) {
		int fd = open(m->attach.v[i], O_RDONLY | O_CLOEXEC);

		if (fd == -1 || fstat(fd, &stt) == -1 ||
		    !S_ISREG(stt.st_mode)) {
			*errstr = fd == -1
			    ? xasprintf("cannot open the attachment %s: %s",
			          m->attach.v[i], strerror(errno))
			    : xasprintf("the attachment %s is not a regular "
			                "file",
			          m->attach.v[i]);
			if (fd != -1)
				(void)close(fd);
			goto out;
		}
		(void)close(fd);
		size += b64_size((uint64_t)stt.st_size);
	}
	b->info.nattach = m->attach.n;
	multipart = m->attach.n > 0;

	/* The header block. */
	b->date = user_date != NULL ? xstrdup(user_date)
	                            : rfc5322_date(o->date, o->date_utc);
	if (user_id != NULL)
		b->message_id = xstrdup(user_id);
	else if (o->message_id != NULL)
		b->message_id = xstrdup(o->message_id);
	else {
		random_hex(hexbuf, 16);
		b->message_id =
		    xasprintf("<%s@%s>", hexbuf, id_domain(from.v[0].addr));
	}
	b->info.date = b->date;
	b->info.message_id = b->message_id;
	if (user_date == NULL)
		(void)buf_add_printf(&h, "Date: %s\r\n", b->date);
	if (put_mlist(&h, "From", &from, raw, errstr) == -1)
		goto out;
	if (rt.n > 0 && put_mlist(&h, "Reply-To", &rt, raw, errstr) == -1)
		goto out;
	if (to.n > 0 && put_mlist(&h, "To", &to, raw, errstr) == -1)
		goto out;
	if (cc.n > 0 && put_mlist(&h, "Cc", &cc, raw, errstr) == -1)
		goto out;
	if (m->subject != NULL &&
	    put_unstructured(&h, "Subject", m->subject, raw, errstr) == -1)
		goto out;
	if (user_id == NULL)
		(void)buf_add_printf(&h, "Message-ID: %s\r\n", b->message_id);
	for (i = 0; i < m->headers.n; i++) {
		char *name;

		(void)split_header(m->headers.v[i], &namelen, &value, errstr);
		name = xstrndup(m->headers.v[i], namelen);
		rc = put_unstructured(&h, name, value, raw, errstr);
		free(name);
		if (rc == -1)
			goto out;
	}
	(void)buf_add_str(&h, "MIME-Version: 1.0\r\n");
	if (multipart) {
		if (o->boundary != NULL)
			boundary = xstrdup(o->boundary);
		else {
			random_hex(hexbuf, 12);
			/* "=_" never occurs in QP or base64 output. */
			boundary = xasprintf("=_ehlo_%s", hexbuf);
		}
		(void)buf_add_printf(&h,
		    "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n"
		    "\r\n"
		    "This is a multi-part message in MIME format.\r\n",
		    boundary);
	}
	if (!multipart || nbodies) {
		if (multipart)
			(void)buf_add_printf(&h, "\r\n--%s\r\n", boundary);
		(void)buf_add_printf(&h,
		    "Content-Type: text/plain; charset=%s\r\n"
		    "Content-Transfer-Encoding: %s\r\n\r\n",
		    sc.has8 ? "utf-8" : "us-ascii",
		    smtp_message_cte_name(b->cte));
		size += buf_used(&h) + bodysize;
		seg_add(b, SEG_MEM, &h, NULL);
		seg_add(b, SEG_TEXT, NULL, NULL);
	}
	for (i = 0; i < m->attach.n; i++) {
		type = attach_type(mg, m->attach.v[i]);
		(void)buf_add_printf(&h,
		    "\r\n--%s\r\n"
		    "Content-Type: %s\r\n"
		    "Content-Transfer-Encoding: base64\r\n"
		    "Content-Disposition: attachment",
		    boundary, type);
		free(type);
		put_filename(&h, base_name(m->attach.v[i]));
		(void)buf_add_str(&h, "\r\n\r\n");
		size += buf_used(&h);
		seg_add(b, SEG_MEM, &h, NULL);
		seg_add(b, SEG_FILE64, NULL, m->attach.v[i]);
	}
	if (multipart) {
		(void)buf_add_printf(&h, "\r\n--%s--\r\n", boundary);
		size += buf_used(&h);
		seg_add(b, SEG_MEM, &h, NULL);
	}
	b->info.size = size;
	/* UTF-8 written raw into headers is 8-bit content too. */
	if (raw && o->can_8bitmime)
		b->info.need_8bitmime = 1;
	rc = 0;
out:
	if (mg != NULL)
		magic_close(mg);
	free(boundary);
	mlist_free(&from);
	mlist_free(&to);
	mlist_free(&cc);
	mlist_free(&bcc);
	mlist_free(&rt);
	buf_reset(&h);
	return rc;
}

struct smtp_message_build *
smtp_message_build_new(const struct smtp_message *m,
    const struct smtp_message_opts *opts, char **errstr)
{
	struct smtp_message_build *b = xcalloc(1, sizeof *b);
	struct smtp_message_opts none;

	if (opts == NULL) {
		memset(&none, 0, sizeof none);
		opts = &none;
	}
	b->fd = -1;
	b->src_fd = -1;
	b->body_fd = -1;
	b->chunk = opts->read_chunk > 0 ? opts->read_chunk : MSG_CHUNK_DEFAULT;
	b->inbuf = xmalloc(b->chunk);
	buf_init(&b->pend, 0);
	if (build(b, m, opts, errstr) == -1) {
		smtp_message_build_free(b);
		return NULL;
	}
	return b;
}

void
smtp_message_build_free(struct smtp_message_build *b)
{
	size_t i;

	if (b == NULL)
		return;
	if (b->fd != -1)
		(void)close(b->fd);
	for (i = 0; i < b->nsegs; i++) {
		free(b->segs[i].mem);
		free(b->segs[i].path);
	}
	free(b->segs);
	for (i = 0; i < b->info.nrcpts; i++)
		free(b->rcpts[i]);
	free(b->rcpts);
	free(b->env_from);
	free(b->message_id);
	free(b->date);
	free(b->body_path);
	free(b->inbuf);
	buf_reset(&b->pend);
	free(b);
}

const struct smtp_message_info *
smtp_message_build_info(const struct smtp_message_build *b)
{
	return &b->info;
}

/* Moves on to the next segment, closing what the current one opened. */
static void
seg_next(struct smtp_message_build *b)
{
	if (b->fd != -1)
		(void)close(b->fd);
	b->fd = -1;
	b->src_fd = -1;
	b->started = 0;
	b->memoff = 0;
	b->cur++;
}

/*
 * Fills b->pend from the current segment.  Returns 1 when something was
 * produced or a segment ended, 0 at the end, -1 on a read error.
 */
static int
produce(struct smtp_message_build *b, char **errstr)
{
	struct seg *s;
	ssize_t r;
	size_t n;
	int own;

	if (b->cur >= b->nsegs)
		return 0;
	s = &b->segs[b->cur];
	if (s->kind == SEG_MEM) {
		n = s->memlen - b->memoff < b->chunk ? s->memlen - b->memoff
		                                     : b->chunk;
		(void)buf_add(&b->pend, s->mem + b->memoff, n);
		b->memoff += n;
		if (b->memoff >= s->memlen)
			seg_next(b);
		return 1;
	}
	if (!b->started) {
		b->started = 1;
		memset(&b->norm, 0, sizeof b->norm);
		memset(&b->qp, 0, sizeof b->qp);
		memset(&b->b64, 0, sizeof b->b64);
		b->memread = 0;
		if (s->kind == SEG_TEXT) {
			b->src_fd = body_open(b, &own, errstr);
			if (b->src_fd == -2)
				return -1;
			if (own)
				b->fd = b->src_fd;
		} else {
			b->fd = open(s->path, O_RDONLY | O_CLOEXEC);
			if (b->fd == -1) {
				*errstr = xasprintf("cannot open the "
				                    "attachment %s: %s",
				    s->path, strerror(errno));
				return -1;
			}
			b->src_fd = b->fd;
		}
	}
	if (s->kind == SEG_TEXT && b->src_fd == -1) {
		n = b->body_len - b->memread < b->chunk
		    ? (size_t)(b->body_len - b->memread)
		    : b->chunk;
		if (n > 0)
			memcpy(b->inbuf, b->body_mem + b->memread, n);
		b->memread += n;
		r = (ssize_t)n;
	} else if ((r = read_some(b->src_fd, b->inbuf, b->chunk)) == -1) {
		*errstr = xasprintf("reading %s: %s",
		    s->kind == SEG_TEXT
		        ? (b->body_path != NULL ? b->body_path : "the body")
		        : s->path,
		    strerror(errno));
		return -1;
	}
	if (r == 0) {
		if (s->kind == SEG_FILE64)
			b64_finish(&b->b64, &b->pend);
		else if (b->cte == SMTP_CTE_QP)
			qp_finish(&b->qp, &b->pend);
		seg_next(b);
		return 1;
	}
	if (s->kind == SEG_FILE64)
		b64_feed(&b->b64, b->inbuf, (size_t)r, &b->pend);
	else if (b->cte == SMTP_CTE_QP)
		qp_feed(&b->qp, b->inbuf, (size_t)r, &b->pend);
	else
		norm_feed(&b->norm, b->inbuf, (size_t)r, &b->pend);
	return 1;
}

ssize_t
smtp_message_build_read(
    struct smtp_message_build *b, char *dst, size_t cap, char **errstr)
{
	size_t n;
	int rc;

	if (cap > SSIZE_MAX)
		cap = SSIZE_MAX;
	while (buf_used(&b->pend) == 0) {
		rc = produce(b, errstr);
		if (rc <= 0)
			return rc;
	}
	n = buf_used(&b->pend) < cap ? buf_used(&b->pend) : cap;
	memcpy(dst, buf_peek(&b->pend), n);
	buf_consume(&b->pend, n);
	return (ssize_t)n;
}

char *
smtp_message_preview(const struct smtp_message *m,
    const struct smtp_message_opts *o, size_t max, size_t *len, int *truncated,
    char **errstr)
{
	struct smtp_message_build *b = smtp_message_build_new(m, o, errstr);
	char *out, probe;
	size_t got = 0;
	ssize_t r;

	if (b == NULL)
		return NULL;
	out = xmalloc(max + 1);
	r = 1;
	while (got < max &&
	    (r = smtp_message_build_read(b, out + got, max - got, errstr)) > 0)
		got += (size_t)r;
	*truncated = 0;
	if (r > 0 && got == max &&
	    (r = smtp_message_build_read(b, &probe, 1, errstr)) > 0)
		*truncated = 1;
	if (r == -1) {
		free(out);
		smtp_message_build_free(b);
		return NULL;
	}
	out[got] = '\0';
	*len = got;
	smtp_message_build_free(b);
	return out;
}
