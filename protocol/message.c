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
 * This file is the builder and its stream; the encoders live in
 * message_encode.c and the header pieces in message_header.c (shared
 * through message_int.h).
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
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <magic.h>

#include "core/buf.h"
#include "core/localfile.h"
#include "core/xmalloc.h"
#include "protocol/idn.h"
#include "protocol/message_int.h"

#define MSG_CHUNK_DEFAULT (64 * 1024)

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
	uint64_t body_off; /* where body_fd's text starts (--eml -t) */
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
	struct message_norm norm;
	struct message_qp qp;
	struct message_b64 b64;
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

/* ---- scanning ------------------------------------------------------ */

struct scan {
	uint64_t in;
	uint64_t norm; /* octets after CRLF normalisation */
	uint64_t qp; /* octets as quoted-printable */
	size_t line, longest;
	int has8, hasnul, after_cr;
};

static void
scan_feed(struct scan *s, struct message_qp *qp, struct buf *scratch,
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
	message_qp_feed(qp, p, n, scratch);
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
		if (lseek(b->body_fd, (off_t)b->body_off, SEEK_SET) == -1) {
			*errstr = xasprintf("the body cannot be read twice "
			                    "(seek: %s)",
			    strerror(errno));
			return -2;
		}
		return b->body_fd;
	}
	if (b->body_path == NULL)
		return -1;
	if ((fd = localfile_open(b->body_path, "the body", 0, NULL, errstr)) ==
	    -1)
		return -2;
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
	struct message_qp qp;
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
		uint64_t total = 0;

		while ((r = read_some(fd, b->inbuf, b->chunk)) > 0 &&
		    (total += (uint64_t)r) <= LOCALFILE_MAX)
			scan_feed(s, &qp, &scratch, b->inbuf, (size_t)r);
		if (r == -1 || total > LOCALFILE_MAX) {
			*errstr = r == -1
			    ? xasprintf("reading the body: %s", strerror(errno))
			    : xasprintf("the body is over the maximum of %llu "
			                "octets",
			          (unsigned long long)LOCALFILE_MAX);
			if (own)
				(void)close(fd);
			buf_reset(&scratch);
			return -1;
		}
		if (own)
			(void)close(fd);
	}
	message_qp_finish(&qp, &scratch);
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

static void
add_rcpts(struct smtp_message_build *b, const struct message_mlist *l)
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

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

/*
 * Registered types (RFC 4180, 7763, 5545, 6350...) of text files that
 * libmagic can only call text/plain: a CSV file without a header it
 * recognises, Markdown, a calendar.  Checked by the name's extension,
 * and only when libmagic said text/plain.
 */
static const struct {
	const char *ext, *type;
} ext_types[] = {
    {"csv", "text/csv"},
    {"tsv", "text/tab-separated-values"},
    {"md", "text/markdown"},
    {"markdown", "text/markdown"},
    {"ics", "text/calendar"},
    {"vcf", "text/vcard"},
    {"vcard", "text/vcard"},
    {"css", "text/css"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"js", "text/javascript"},
};

/* n octets of s are a MIME token of letters, digits and +-._ */
static int
mime_token(const char *s, size_t n, const char *more)
{
	size_t i;

	if (n == 0 || n > 100)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9') || strchr(more, s[i])))
			return 0;
	return 1;
}

/*
 * The Content-Type of an attachment: libmagic's type when it looks like
 * type/subtype (else application/octet-stream), a registered type for a
 * known extension where libmagic only says text/plain, and for text the
 * charset libmagic found (issue 20 item 12: without it a reader takes
 * US-ASCII, RFC 2046 4.1.2, and shows UTF-8 as garbage).
 */
static char *
attach_type(magic_t mg, const char *path)
{
	const char *t = mg != NULL ? magic_file(mg, path) : NULL;
	const char *semi, *cs = NULL, *ext, *slash;
	size_t tn, cn = 0, i;

	if (t == NULL)
		return xstrdup("application/octet-stream");
	semi = strchr(t, ';');
	tn = semi != NULL ? (size_t)(semi - t) : strlen(t);
	slash = memchr(t, '/', tn);
	if (slash == NULL ||
	    memchr(slash + 1, '/', tn - (size_t)(slash - t) - 1) != NULL ||
	    !mime_token(t, (size_t)(slash - t), "+-.") ||
	    !mime_token(slash + 1, tn - (size_t)(slash - t) - 1, "+-."))
		return xstrdup("application/octet-stream");
	if (strncmp(t, "text/", 5) != 0)
		return xasprintf("%.*s", (int)tn, t);
	if (semi != NULL && (cs = strstr(semi, "charset=")) != NULL) {
		cs += 8;
		cn = strcspn(cs, "; ");
		/* "binary" and "unknown-8bit" name no charset. */
		if (!mime_token(cs, cn, "-._") ||
		    strncmp(cs, "binary", cn) == 0 ||
		    strncmp(cs, "unknown-8bit", cn) == 0)
			cn = 0;
	}
	ext = strrchr(base_name(path), '.');
	if (ext != NULL && tn == 10 && strncmp(t, "text/plain", 10) == 0)
		for (i = 0; i < sizeof ext_types / sizeof ext_types[0]; i++)
			if (strcasecmp(ext + 1, ext_types[i].ext) == 0) {
				t = ext_types[i].type;
				tn = strlen(t);
				break;
			}
	return cn > 0 ? xasprintf("%.*s; charset=%.*s", (int)tn, t, (int)cn, cs)
	              : xasprintf("%.*s", (int)tn, t);
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

/*
 * One destination field of a prepared message into l: its mailboxes, a
 * group ("undisclosed-recipients:;", "team: a@x, b@y;") read as its
 * members.  NULL or empty: none.
 */
static int
eml_field(
    const char *what, const char *v, struct message_mlist *l, char **errstr)
{
	struct smtp_message_list one;
	const char *colon, *at;
	char *inner = NULL;
	size_t n;
	int rc;

	if (v == NULL || *v == '\0')
		return 0;
	colon = strchr(v, ':');
	at = strpbrk(v, "<@\"");
	n = strlen(v);
	if (colon != NULL && (at == NULL || colon < at) && n > 0 &&
	    v[n - 1] == ';') {
		inner = xstrndup(colon + 1, (size_t)(v + n - 1 - (colon + 1)));
		v = inner;
		if (strspn(v, " \t") == strlen(v)) {
			free(inner);
			return 0;
		}
	}
	one.v = &v;
	one.n = 1;
	rc = message_parse_field(what, &one, l, errstr);
	free(inner);
	return rc;
}

/*
 * A prepared message (--eml): the envelope from the options or its
 * fields, then its header block (without Bcc under -t) and body as they
 * are, line ends normalised to CRLF.
 */
static int
build_eml(struct smtp_message_build *b, const struct smtp_message *m,
    const struct smtp_message_opts *o, char **errstr)
{
	struct message_mlist l[7];
	struct message_eml_head eh;
	struct smtp_message_list fl;
	struct buf h;
	struct scan sc;
	size_t i;
	int rc = -1, t = m->eml_rcpts_from_headers;

	memset(l, 0, sizeof l);
	if (message_eml_head_read(m->eml_fd, t, &eh, errstr) == -1)
		return -1;
	buf_init(&h, 0);
	if (m->from == NULL && eh.from == NULL) {
		*errstr = xstrdup("no sender: the message has no From field; "
		                  "give --from ADDRESS");
		goto out;
	}
	fl.v = m->from != NULL ? &m->from : (const char *const *)&eh.from;
	fl.n = 1;
	if (message_parse_field("From", &fl, &l[0], errstr) == -1 ||
	    message_parse_field("--to", &m->to, &l[1], errstr) == -1 ||
	    message_parse_field("--cc", &m->cc, &l[2], errstr) == -1 ||
	    message_parse_field("--bcc", &m->bcc, &l[3], errstr) == -1 ||
	    (t &&
	        (eml_field("To", eh.to, &l[4], errstr) == -1 ||
	            eml_field("Cc", eh.cc, &l[5], errstr) == -1 ||
	            eml_field("Bcc", eh.bcc, &l[6], errstr) == -1)))
		goto out;
	if (l[0].n == 0) {
		*errstr = xstrdup("no sender: the From field names no address; "
		                  "give --from ADDRESS");
		goto out;
	}
	for (i = 1; i < 7; i++)
		add_rcpts(b, &l[i]);
	b->info.rcpts = (const char *const *)b->rcpts;
	if (b->info.nrcpts == 0) {
		*errstr =
		    xstrdup(t ? "no recipient: the message has no To, Cc "
		                "or Bcc address and no --to was given"
		              : "no recipient: give --to ADDRESS, or -t to "
		                "take them from the message's To, Cc and "
		                "Bcc fields");
		goto out;
	}
	b->env_from = xstrdup(l[0].v[0].addr);
	b->info.env_from = b->env_from;
	for (i = 0; i < 7; i++)
		b->info.need_smtputf8 |= message_mlist_has_nonascii(&l[i]);
	if (b->info.need_smtputf8 && !o->can_smtputf8) {
		*errstr = xstrdup(
		    "an address is not ASCII and the server does not offer "
		    "SMTPUTF8 (RFC 6531), so it cannot carry it");
		goto out;
	}
	b->message_id = xstrdup(eh.message_id != NULL ? eh.message_id : "none");
	b->date = xstrdup(eh.date != NULL ? eh.date : "none");
	b->info.message_id = b->message_id;
	b->info.date = b->date;
	/* Under -t the Bcc fields go: the header block from memory. */
	b->body_fd = m->eml_fd;
	b->body_off = t && eh.had_bcc ? eh.body_off : 0;
	if (scan_body(b, &sc, errstr) == -1)
		goto out;
	b->cte = sc.has8 ? SMTP_CTE_8BIT : SMTP_CTE_7BIT; /* never recoded */
	b->info.body_cte = b->cte;
	b->info.body_bytes = sc.in;
	b->info.need_8bitmime = sc.has8 && o->can_8bitmime;
	if (b->body_off > 0) {
		(void)buf_add(&h, eh.without_bcc, eh.without_bcc_len);
		b->info.size = buf_used(&h);
		seg_add(b, SEG_MEM, &h, NULL);
	}
	b->info.size += sc.norm;
	seg_add(b, SEG_TEXT, NULL, NULL);
	rc = 0;
out:
	for (i = 0; i < 7; i++)
		message_mlist_free(&l[i]);
	message_eml_head_free(&eh);
	buf_reset(&h);
	return rc;
}

/*
 * Without SMTPUTF8, a Unicode domain of a header address is written as
 * its A-label (IDNA 2008; an address with a non-ASCII local part still
 * needs SMTPUTF8).  The envelope keeps the typed form: the session sends
 * its A-label and says so (protocol/session_send.c).
 */
static int
idn_header_addrs(struct message_mlist *l, char **errstr)
{
	char *at, *a, *addr;
	size_t i;

	for (i = 0; i < l->n; i++) {
		addr = l->v[i].addr;
		if ((at = strrchr(addr, '@')) == NULL ||
		    message_is_ascii(at + 1, strlen(at + 1)) ||
		    !message_is_ascii(addr, (size_t)(at - addr)))
			continue;
		if ((a = smtp_idn_to_ascii(at + 1, errstr)) == NULL)
			return -1;
		l->v[i].addr = xasprintf("%.*s@%s", (int)(at - addr), addr, a);
		free(addr);
		free(a);
	}
	return 0;
}

static int
build(struct smtp_message_build *b, const struct smtp_message *m,
    const struct smtp_message_opts *o, char **errstr)
{
	struct message_mlist from = {0}, to = {0}, cc = {0}, bcc = {0},
	                     rt = {0};
	struct smtp_message_list fl;
	struct buf h;
	struct scan sc;
	const char *user_date = NULL, *user_id = NULL, *value, *why;
	char *boundary = NULL, *type, hexbuf[65];
	size_t i, namelen;
	int raw, rc = -1, multipart, nbodies;
	uint64_t size = 0, bodysize;
	magic_t mg = NULL;

	if (m->eml)
		return build_eml(b, m, o, errstr);
	buf_init(&h, 0);
	if (m->from == NULL || *m->from == '\0') {
		*errstr = xstrdup("no sender: give --from ADDRESS");
		goto out;
	}
	fl.v = &m->from;
	fl.n = 1;
	if (message_parse_field("From", &fl, &from, errstr) == -1 ||
	    message_parse_field("To", &m->to, &to, errstr) == -1 ||
	    message_parse_field("Cc", &m->cc, &cc, errstr) == -1 ||
	    message_parse_field("Bcc", &m->bcc, &bcc, errstr) == -1 ||
	    message_parse_field("Reply-To", &m->reply_to, &rt, errstr) == -1)
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
	if (!o->can_smtputf8 &&
	    (idn_header_addrs(&from, errstr) == -1 ||
	        idn_header_addrs(&to, errstr) == -1 ||
	        idn_header_addrs(&cc, errstr) == -1 ||
	        idn_header_addrs(&bcc, errstr) == -1 ||
	        idn_header_addrs(&rt, errstr) == -1))
		goto out;
	b->info.need_smtputf8 = message_mlist_has_nonascii(&from) ||
	    message_mlist_has_nonascii(&to) ||
	    message_mlist_has_nonascii(&cc) ||
	    message_mlist_has_nonascii(&bcc) || message_mlist_has_nonascii(&rt);
	if (b->info.need_smtputf8 && !o->can_smtputf8) {
		*errstr = xstrdup(
		    "an address is not ASCII and the server does not offer "
		    "SMTPUTF8 (RFC 6531), so it cannot carry it; use an ASCII "
		    "address, or a server that offers SMTPUTF8");
		goto out;
	}
	raw = b->info.need_smtputf8; /* RFC 6532: UTF-8 in headers as is */
	if (m->subject != NULL &&
	    message_check_header_text("the subject", m->subject, errstr) == -1)
		goto out;
	for (i = 0; i < m->headers.n; i++) {
		if (message_split_header(
		        m->headers.v[i], &namelen, &value, errstr) == -1)
			goto out;
		if ((why = message_header_refused(m->headers.v[i], namelen)) !=
		    NULL) {
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

		mg = magic_open(
		    MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING | MAGIC_ERROR);
		if (mg != NULL &&
		    (magic_load(mg, NULL) != 0 ||
		        magic_setparam(mg, MAGIC_PARAM_BYTES_MAX, &bytes_max) !=
		            0)) {
			magic_close(mg);
			mg = NULL;
		}
	}
	for (i = 0; i < m->attach.n; i++) {
		uint64_t fsize;
		int fd = localfile_open(
		    m->attach.v[i], "the attachment", 0, &fsize, errstr);

		if (fd == -1)
			goto out;
		(void)close(fd);
		size += message_b64_size(fsize);
	}
	b->info.nattach = m->attach.n;
	multipart = m->attach.n > 0;

	/* The header block. */
	b->date = user_date != NULL ? xstrdup(user_date)
	                            : message_date(o->date, o->date_utc);
	if (user_id != NULL)
		b->message_id = xstrdup(user_id);
	else if (o->message_id != NULL)
		b->message_id = xstrdup(o->message_id);
	else {
		message_random_hex(hexbuf, 16);
		b->message_id = xasprintf(
		    "<%s@%s>", hexbuf, message_id_domain(from.v[0].addr));
	}
	b->info.date = b->date;
	b->info.message_id = b->message_id;
	if (user_date == NULL)
		(void)buf_add_printf(&h, "Date: %s\r\n", b->date);
	if (message_put_mlist(&h, "From", &from, raw, errstr) == -1)
		goto out;
	if (rt.n > 0 &&
	    message_put_mlist(&h, "Reply-To", &rt, raw, errstr) == -1)
		goto out;
	if (to.n > 0 && message_put_mlist(&h, "To", &to, raw, errstr) == -1)
		goto out;
	if (cc.n > 0 && message_put_mlist(&h, "Cc", &cc, raw, errstr) == -1)
		goto out;
	if (m->subject != NULL &&
	    message_put_unstructured(&h, "Subject", m->subject, raw, errstr) ==
	        -1)
		goto out;
	if (user_id == NULL)
		(void)buf_add_printf(&h, "Message-ID: %s\r\n", b->message_id);
	for (i = 0; i < m->headers.n; i++) {
		char *name;

		(void)message_split_header(
		    m->headers.v[i], &namelen, &value, errstr);
		name = xstrndup(m->headers.v[i], namelen);
		rc = message_put_unstructured(&h, name, value, raw, errstr);
		free(name);
		if (rc == -1)
			goto out;
	}
	(void)buf_add_str(&h, "MIME-Version: 1.0\r\n");
	if (multipart) {
		if (o->boundary != NULL)
			boundary = xstrdup(o->boundary);
		else {
			message_random_hex(hexbuf, 12);
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
		message_put_filename(&h, base_name(m->attach.v[i]));
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
	message_mlist_free(&from);
	message_mlist_free(&to);
	message_mlist_free(&cc);
	message_mlist_free(&bcc);
	message_mlist_free(&rt);
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
			b->fd = localfile_open(
			    s->path, "the attachment", 0, NULL, errstr);
			if (b->fd == -1)
				return -1;
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
			message_b64_finish(&b->b64, &b->pend);
		else if (b->cte == SMTP_CTE_QP)
			message_qp_finish(&b->qp, &b->pend);
		seg_next(b);
		return 1;
	}
	if (s->kind == SEG_FILE64)
		message_b64_feed(&b->b64, b->inbuf, (size_t)r, &b->pend);
	else if (b->cte == SMTP_CTE_QP)
		message_qp_feed(&b->qp, b->inbuf, (size_t)r, &b->pend);
	else
		message_norm_feed(&b->norm, b->inbuf, (size_t)r, &b->pend);
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
