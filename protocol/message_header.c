/*
 * The header block's pieces for the message builder
 * (protocol/message_int.h): parsing the user's address fields into
 * mailboxes, writing header fields folded at 78 octets with display
 * names quoted or encoded, Date and Message-ID, the extra headers the
 * user may give, and RFC 2231 filenames.  User text that would break a
 * header (CR, LF, controls) is refused here, never folded or stripped.
 *
 *   RFC 5322  header fields, folding, the 998 and 78 octet limits
 *   RFC 2047  encoded-words in display names and unstructured fields
 *   RFC 2231  parameter value encoding and continuations (filenames)
 *   RFC 6532  UTF-8 in headers as is (when SMTPUTF8 carries them)
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/message_int.h"

/*
 * Header text given by the user: CR and LF would start a new header
 * (injection); other controls have no place in a header either.
 */
int
message_check_header_text(const char *what, const char *v, char **errstr)
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

void
message_mlist_free(struct message_mlist *l)
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
parse_mbox(const char *what, const char *s, size_t n, struct message_mbox *m,
    char **errstr)
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
parse_mlist(
    const char *what, const char *value, struct message_mlist *l, char **errstr)
{
	const char *p = value, *start = value;
	int inq = 0, inangle = 0;
	struct message_mbox m;

	if (message_check_header_text(what, value, errstr) == -1)
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

int
message_parse_field(const char *what, const struct smtp_message_list *in,
    struct message_mlist *l, char **errstr)
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
	if (!raw && !message_is_ascii(name, strlen(name))) {
		message_ew_append(&b, name, strlen(name), first_max);
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

int
message_put_mlist(struct buf *out, const char *name,
    const struct message_mlist *l, int raw, char **errstr)
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
int
message_put_unstructured(struct buf *out, const char *name, const char *value,
    int raw, char **errstr)
{
	struct hdrw w;
	struct buf b;
	size_t n = strlen(value);

	hw_begin(&w, out, name);
	if (!raw && !message_is_ascii(value, n)) {
		buf_init(&b, 0);
		message_ew_append(&b, value, n, MSG_EW_LINE - strlen(name) - 2);
		hw_words(&w, buf_peek(&b), buf_used(&b));
		buf_reset(&b);
	} else
		hw_words(&w, value, n);
	return hw_end(&w, name, errstr);
}

/* ---- Date and Message-ID ------------------------------------------- */

char *
message_date(int64_t when, int utc)
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

void
message_random_hex(char *out, size_t nbytes)
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
const char *
message_id_domain(const char *addr)
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

/* ---- extra headers and attachment names --------------------------- */

/* The name of a header the user may not set, with why; NULL: allowed. */
const char *
message_header_refused(const char *name, size_t n)
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
int
message_split_header(
    const char *line, size_t *namelen, const char **value, char **errstr)
{
	const char *colon = strchr(line, ':'), *p;

	if (message_check_header_text("the header", line, errstr) == -1)
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

int
message_mlist_has_nonascii(const struct message_mlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!message_is_ascii(l->v[i].addr, strlen(l->v[i].addr)))
			return 1;
	return 0;
}

/*
 * A Content-Disposition filename parameter: a quoted-string for plain
 * ASCII, else RFC 2231 "filename*=utf-8''%XX" split into continuations
 * (filename*0*, filename*1*, ...) on lines of their own.
 */
void
message_put_filename(struct buf *out, const char *name)
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
			(void)buf_add_printf(&enc, "%%%c%c",
			    message_hexdig[*p >> 4], message_hexdig[*p & 15]);
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
