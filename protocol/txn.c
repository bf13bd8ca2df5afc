/*
 * The transaction builder (protocol/txn.h): MAIL and RCPT parameters,
 * DATA or BDAT, decided once from the capabilities, the message's facts
 * and the user's DSN options.  Every sender of ehlo builds its envelope
 * here, so the same draft gives the same bytes on the wire whoever
 * sends it.
 *
 *   RFC 5321  4.1.1.2 MAIL, 4.1.1.3 RCPT, 4.1.1.4 DATA
 *   RFC 1870  SIZE=
 *   RFC 6152  BODY=8BITMIME
 *   RFC 6531  SMTPUTF8
 *   RFC 3461  DSN: RET=, ENVID= (4.3, 4.4), NOTIFY= (4.1), ORCPT= (4.2),
 *             values in xtext (4, protocol/xtext.h)
 *   RFC 3030  CHUNKING (BDAT n [LAST]) and BODY=BINARYMIME
 *   RFC 2920  PIPELINING (the caller's choice: the envelope is a list)
 *
 * Everything is decided in smtp_txn_new(): the envelope lines are built
 * into an array, the warnings into another; the cursors (the envelope's
 * next line, the BDAT plan's octets left) are the only state that moves
 * afterwards.
 */
#include "protocol/txn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/caps.h"
#include "protocol/message.h"
#include "protocol/xtext.h"

#define TXN_ENVID_MAX 100 /* RFC 3461 4.4 */

/* Addresses ORCPT's rfc822 type carries as they are (RFC 3461 4.2). */
#define TXN_ORCPT_CHARS                                                        \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"                 \
	"0123456789.-_+=@!#$%&'*/?^`{|}~"

struct smtp_txn {
	char **lines; /* MAIL, then one RCPT per recipient */
	size_t nlines;
	size_t next; /* the envelope cursor */

	struct smtp_txn_warning *warn;
	size_t nwarn;
	unsigned warned;

	int bdat;
	int partial;
	uint64_t size;
	uint64_t left; /* BDAT: octets not yet planned */
	size_t chunk;
	int data_done;
	char dline[32]; /* the data step's line */
};

void
smtp_txn_msg_from_info(
    struct smtp_txn_msg *m, const struct smtp_message_info *info)
{
	memset(m, 0, sizeof *m);
	m->from = info->env_from;
	m->rcpts = info->rcpts;
	m->nrcpts = info->nrcpts;
	m->size = info->size;
	m->body =
	    info->need_8bitmime ? SMTP_TXN_BODY_8BITMIME : SMTP_TXN_BODY_7BIT;
	m->smtputf8 = info->need_smtputf8;
}

/* ---- the DSN values ------------------------------------------------- */

/* NEVER, or a comma list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1). */
static int
txn_notify_ok(const char *v)
{
	const char *w = v;
	size_t n;

	if (strcasecmp(v, "NEVER") == 0)
		return 1;
	for (;;) {
		n = strcspn(w, ",");
		if (!((n == 7 && strncasecmp(w, "SUCCESS", 7) == 0) ||
		        (n == 7 && strncasecmp(w, "FAILURE", 7) == 0) ||
		        (n == 5 && strncasecmp(w, "DELAY", 5) == 0)))
			return 0;
		if (w[n] == '\0')
			return 1;
		w += n + 1;
	}
}

static enum smtp_txn_bad
txn_envid_check(const char *v)
{
	const char *p;

	if (*v == '\0')
		return SMTP_TXN_BAD_ENVID_EMPTY;
	for (p = v; *p != '\0'; p++)
		if (*p < 32 || *p > 126)
			return SMTP_TXN_BAD_ENVID_CHARS;
	if (strlen(v) > TXN_ENVID_MAX)
		return SMTP_TXN_BAD_ENVID_LONG;
	return SMTP_TXN_OK;
}

enum smtp_txn_bad
smtp_txn_opts_check(const struct smtp_txn_opts *o)
{
	if (o->notify != NULL && !txn_notify_ok(o->notify))
		return SMTP_TXN_BAD_NOTIFY;
	if (o->ret != NULL && strcasecmp(o->ret, "FULL") != 0 &&
	    strcasecmp(o->ret, "HDRS") != 0)
		return SMTP_TXN_BAD_RET;
	if (o->envid != NULL)
		return txn_envid_check(o->envid);
	return SMTP_TXN_OK;
}

/* ---- building ------------------------------------------------------- */

static int
txn_has(const struct smtp_caps *caps, uint32_t flag)
{
	return caps != NULL && caps->valid && smtp_caps_has(caps, flag);
}

static void txn_warn(struct smtp_txn *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
txn_warn(struct smtp_txn *t, unsigned kind, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	t->warn = xreallocarray(t->warn, t->nwarn + 1, sizeof *t->warn);
	t->warn[t->nwarn].kind = kind;
	t->warn[t->nwarn].text = m;
	t->nwarn++;
	t->warned |= kind;
}

/* An address that would break the command line around it. */
static int
txn_addr_bad(const char *what, const char *a, int empty_ok, char **errstr)
{
	const unsigned char *p;

	if (a == NULL || (*a == '\0' && !empty_ok)) {
		*errstr = xasprintf("no %s address", what);
		return -1;
	}
	for (p = (const unsigned char *)a; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>') {
			*errstr = xasprintf("the %s address holds a control "
			                    "character or an angle bracket; it "
			                    "cannot go into a command",
			    what);
			return -1;
		}
	return 0;
}

static const char *
txn_body_name(const struct smtp_txn_msg *m)
{
	return m->body == SMTP_TXN_BODY_BINARYMIME ? "BINARYMIME" : "8BITMIME";
}

static uint32_t
txn_body_cap(const struct smtp_txn_msg *m)
{
	return m->body == SMTP_TXN_BODY_BINARYMIME ? SMTP_CAP_BINARYMIME
	                                           : SMTP_CAP_8BITMIME;
}

static void
txn_add_line(struct smtp_txn *t, struct buf *b)
{
	t->lines = xreallocarray(t->lines, t->nlines + 1, sizeof *t->lines);
	t->lines[t->nlines++] = xstrndup(buf_peek(b), buf_used(b));
	buf_clear(b);
}

static void
txn_mail(struct smtp_txn *t, const struct smtp_caps *caps,
    const struct smtp_txn_msg *m, const struct smtp_txn_opts *o, int dsn,
    struct buf *b)
{
	(void)buf_add_printf(b, "MAIL FROM:<%s>", m->from);
	if (txn_has(caps, SMTP_CAP_SIZE) && m->size != SMTP_TXN_SIZE_UNKNOWN)
		(void)buf_add_printf(
		    b, " SIZE=%llu", (unsigned long long)m->size);
	if (m->body != SMTP_TXN_BODY_7BIT)
		(void)buf_add_printf(b, " BODY=%s", txn_body_name(m));
	if (m->smtputf8)
		(void)buf_add_str(b, " SMTPUTF8");
	if (dsn && o->ret != NULL)
		(void)buf_add_printf(b, " RET=%s",
		    strcasecmp(o->ret, "FULL") == 0 ? "FULL" : "HDRS");
	if (dsn && o->envid != NULL) {
		(void)buf_add_str(b, " ENVID=");
		(void)smtp_xtext_append(b, o->envid, strlen(o->envid));
	}
	txn_add_line(t, b);
}

static void
txn_rcpt(struct smtp_txn *t, const char *r, const struct smtp_txn_opts *o,
    int dsn, struct buf *b)
{
	const char *p;

	(void)buf_add_printf(b, "RCPT TO:<%s>", r);
	if (dsn && o->notify != NULL) {
		(void)buf_add_str(b, " NOTIFY=");
		for (p = o->notify; *p != '\0'; p++) {
			char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;

			(void)buf_add(b, &c, 1);
		}
		/* The rfc822 type is for plain ASCII addresses. */
		if (strspn(r, TXN_ORCPT_CHARS) == strlen(r)) {
			(void)buf_add_str(b, " ORCPT=rfc822;");
			(void)smtp_xtext_append(b, r, strlen(r));
		}
	}
	txn_add_line(t, b);
}

/* The warnings about what the server lacks, in a fixed order. */
static void
txn_check_caps(struct smtp_txn *t, const struct smtp_caps *caps,
    const struct smtp_txn_msg *m, const struct smtp_txn_opts *o, int dsn_asked)
{
	int bin = m->body == SMTP_TXN_BODY_BINARYMIME;

	if (caps != NULL && caps->size_limit > 0 &&
	    m->size != SMTP_TXN_SIZE_UNKNOWN && m->size > caps->size_limit)
		txn_warn(t, SMTP_TXN_WARN_SIZE,
		    "the message (%llu octets) is larger than the server's "
		    "SIZE limit (%llu); it will probably be refused",
		    (unsigned long long)m->size,
		    (unsigned long long)caps->size_limit);
	if (dsn_asked && !txn_has(caps, SMTP_CAP_DSN))
		txn_warn(t, SMTP_TXN_WARN_NO_DSN,
		    "the server does not offer DSN (RFC 3461): NOTIFY, RET "
		    "and ENVID are left out");
	if (m->body != SMTP_TXN_BODY_7BIT && !txn_has(caps, txn_body_cap(m)))
		txn_warn(t, SMTP_TXN_WARN_NO_BODY,
		    "the server does not offer %s (RFC %s), which the message "
		    "needs; BODY=%s is sent anyway",
		    txn_body_name(m), bin ? "3030" : "6152", txn_body_name(m));
	if (m->smtputf8 && !txn_has(caps, SMTP_CAP_SMTPUTF8))
		txn_warn(t, SMTP_TXN_WARN_NO_SMTPUTF8,
		    "the server does not offer SMTPUTF8 (RFC 6531), which the "
		    "message needs; it is sent anyway");
	if (bin && !txn_has(caps, SMTP_CAP_CHUNKING))
		txn_warn(t, SMTP_TXN_WARN_NO_CHUNKING,
		    "the server does not offer CHUNKING (RFC 3030), and a "
		    "BINARYMIME message can only go with BDAT; BDAT is sent "
		    "anyway");
	else if (o->bdat && !bin && !txn_has(caps, SMTP_CAP_CHUNKING))
		txn_warn(t, SMTP_TXN_WARN_NO_CHUNKING,
		    "the server does not offer CHUNKING (RFC 3030): the "
		    "message goes with DATA");
	if (o->envid != NULL && txn_envid_check(o->envid) != SMTP_TXN_OK &&
	    txn_has(caps, SMTP_CAP_DSN))
		txn_warn(t, SMTP_TXN_WARN_ENVID,
		    "ENVID should be 1 to %d printable ASCII characters (RFC "
		    "3461 4.4); it is sent as xtext anyway",
		    TXN_ENVID_MAX);
}

struct smtp_txn *
smtp_txn_new(const struct smtp_caps *caps, const struct smtp_txn_msg *m,
    const struct smtp_txn_opts *opts, char **errstr)
{
	struct smtp_txn_opts none;
	struct smtp_txn *t;
	struct buf b;
	enum smtp_txn_bad bad;
	size_t i;
	int dsn_asked, dsn;

	if (opts == NULL) {
		memset(&none, 0, sizeof none);
		opts = &none;
	}
	if (m->nrcpts == 0) {
		*errstr = xstrdup("no recipient: a transaction needs one");
		return NULL;
	}
	if (txn_addr_bad("sender", m->from, 1, errstr) == -1)
		return NULL;
	for (i = 0; i < m->nrcpts; i++)
		if (txn_addr_bad("recipient", m->rcpts[i], 0, errstr) == -1)
			return NULL;
	bad = smtp_txn_opts_check(opts);
	if (bad == SMTP_TXN_BAD_NOTIFY) {
		*errstr = xasprintf("NOTIFY wants NEVER or a list of SUCCESS, "
		                    "FAILURE and DELAY, not \"%s\"",
		    opts->notify);
		return NULL;
	}
	if (bad == SMTP_TXN_BAD_RET) {
		*errstr =
		    xasprintf("RET wants FULL or HDRS, not \"%s\"", opts->ret);
		return NULL;
	}

	t = xcalloc(1, sizeof *t);
	dsn_asked =
	    opts->notify != NULL || opts->ret != NULL || opts->envid != NULL;
	dsn = dsn_asked && txn_has(caps, SMTP_CAP_DSN);
	txn_check_caps(t, caps, m, opts, dsn_asked);
	buf_init(&b, 0);
	txn_mail(t, caps, m, opts, dsn, &b);
	for (i = 0; i < m->nrcpts; i++)
		txn_rcpt(t, m->rcpts[i], opts, dsn, &b);
	buf_reset(&b);
	t->bdat = m->body == SMTP_TXN_BODY_BINARYMIME ||
	    (opts->bdat && txn_has(caps, SMTP_CAP_CHUNKING));
	t->size = t->left = m->size;
	t->chunk = opts->chunk > 0 ? opts->chunk : SMTP_TXN_CHUNK_DEFAULT;
	t->partial = opts->partial;
	return t;
}

struct smtp_txn *
smtp_txn_compose(const struct smtp_caps *caps, const struct smtp_message *msg,
    const struct smtp_txn_opts *opts, struct smtp_message_build **build,
    char **errstr)
{
	struct smtp_message_opts mo;
	struct smtp_txn_msg tm;
	struct smtp_txn *t;

	memset(&mo, 0, sizeof mo);
	mo.can_8bitmime = txn_has(caps, SMTP_CAP_8BITMIME);
	mo.can_smtputf8 = txn_has(caps, SMTP_CAP_SMTPUTF8);
	if ((*build = smtp_message_build_new(msg, &mo, errstr)) == NULL)
		return NULL;
	smtp_txn_msg_from_info(&tm, smtp_message_build_info(*build));
	if ((t = smtp_txn_new(caps, &tm, opts, errstr)) == NULL) {
		smtp_message_build_free(*build);
		*build = NULL;
	}
	return t;
}

enum smtp_txn_next
smtp_txn_after_envelope(const struct smtp_txn *t, int mail_code,
    const int *rcpt_codes, size_t *accepted)
{
	size_t i, n = t->nlines - 1, ok = 0;

	if (accepted != NULL)
		*accepted = 0;
	if (mail_code / 100 != 2)
		return SMTP_TXN_NEXT_NO_SENDER;
	for (i = 0; i < n; i++)
		if (rcpt_codes[i] / 100 == 2)
			ok++;
	if (accepted != NULL)
		*accepted = ok;
	if (ok == 0)
		return SMTP_TXN_NEXT_NO_RCPT;
	if (ok < n && !t->partial)
		return SMTP_TXN_NEXT_REFUSED;
	return SMTP_TXN_NEXT_DATA;
}

void
smtp_txn_free(struct smtp_txn *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nlines; i++)
		free(t->lines[i]);
	free(t->lines);
	for (i = 0; i < t->nwarn; i++)
		free((char *)t->warn[i].text);
	free(t->warn);
	free(t);
}

const struct smtp_txn_warning *
smtp_txn_warnings(const struct smtp_txn *t, size_t *n)
{
	*n = t->nwarn;
	return t->warn;
}

unsigned
smtp_txn_warned(const struct smtp_txn *t)
{
	return t->warned;
}

const char *const *
smtp_txn_envelope(const struct smtp_txn *t, size_t *n)
{
	*n = t->nlines;
	return (const char *const *)t->lines;
}

const char *
smtp_txn_next_envelope(struct smtp_txn *t, size_t *rcpt)
{
	if (t->next >= t->nlines)
		return NULL;
	if (rcpt != NULL)
		*rcpt = t->next == 0 ? SIZE_MAX : t->next - 1;
	return t->lines[t->next++];
}

int
smtp_txn_uses_bdat(const struct smtp_txn *t)
{
	return t->bdat;
}

char *
smtp_txn_bdat_line(char *out, size_t cap, uint64_t n, int last)
{
	(void)snprintf(out, cap, "BDAT %llu%s", (unsigned long long)n,
	    last ? " LAST" : "");
	return out;
}

int
smtp_txn_data_next(struct smtp_txn *t, struct smtp_txn_data_step *step)
{
	uint64_t n;

	memset(step, 0, sizeof *step);
	if (t->data_done)
		return 0;
	if (!t->bdat) {
		t->data_done = 1;
		(void)snprintf(t->dline, sizeof t->dline, "DATA");
		step->line = t->dline;
		step->octets = t->size;
		step->last = 1;
		return 1;
	}
	if (t->size == SMTP_TXN_SIZE_UNKNOWN) {
		t->data_done = 1;
		return 0;
	}
	n = t->left > t->chunk ? t->chunk : t->left;
	t->left -= n;
	step->last = t->left == 0;
	step->octets = n;
	step->line =
	    smtp_txn_bdat_line(t->dline, sizeof t->dline, n, step->last);
	t->data_done = step->last;
	return 1;
}
