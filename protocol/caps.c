/*
 * ESMTP capabilities from an EHLO reply.
 *
 * RFCs: 5321 section 4.1.1.1 (EHLO, ehlo-line grammar); 1870 (SIZE); 2920
 * (PIPELINING); 3207 (STARTTLS); 4954 (AUTH); 4422 (SASL mechanism
 * names); 6152 (8BITMIME); 6531 (SMTPUTF8); 3461 (DSN); 2034
 * (ENHANCEDSTATUSCODES); 3030 (CHUNKING, BINARYMIME); 2852 (DELIVERBY);
 * 8689 (REQUIRETLS); 1985 (ETRN).
 *
 * struct smtp_caps is caller-owned and fixed-size: the server's name, a
 * flag word for the extensions this workbench understands, the SIZE
 * limit, the AUTH mechanisms and every keyword line as offered.  The text
 * comes from the network, so each field is bounded, keywords are kept
 * only when they follow the grammar and parameters are stored as
 * printable ASCII with anything else replaced by '?'.
 */
#include "protocol/caps.h"

#include <string.h>

#include "protocol/reply.h"

/* RFC 4422 section 3.1: mechanism names are at most 20 characters. */
#define CAPS_MECH_NAME_MAX 20

static const struct {
	const char *keyword;
	uint32_t flag;
} caps_known[] = {
    {"PIPELINING", SMTP_CAP_PIPELINING},
    {"SIZE", SMTP_CAP_SIZE},
    {"8BITMIME", SMTP_CAP_8BITMIME},
    {"SMTPUTF8", SMTP_CAP_SMTPUTF8},
    {"STARTTLS", SMTP_CAP_STARTTLS},
    {"AUTH", SMTP_CAP_AUTH},
    {"ENHANCEDSTATUSCODES", SMTP_CAP_ENHANCEDSTATUSCODES},
    {"DSN", SMTP_CAP_DSN},
    {"CHUNKING", SMTP_CAP_CHUNKING},
    {"BINARYMIME", SMTP_CAP_BINARYMIME},
    {"VRFY", SMTP_CAP_VRFY},
    {"ETRN", SMTP_CAP_ETRN},
    {"EXPN", SMTP_CAP_EXPN},
    {"HELP", SMTP_CAP_HELP},
    {"VERB", SMTP_CAP_VERB},
    {"DELIVERBY", SMTP_CAP_DELIVERBY},
    {"REQUIRETLS", SMTP_CAP_REQUIRETLS},
    {"XCLIENT", SMTP_CAP_XCLIENT},
};

static char
caps_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static int
caps_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
caps_is_print(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Case-insensitive compare of p[0..n) with the C string s. */
static int
caps_equal(const char *p, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		/* s is a C string and i stops at its NUL; the analyser loses
		 * the memset() of smtp_caps_reset(). */
		/* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
		if (s[i] == '\0' || caps_upper(p[i]) != caps_upper(s[i]))
			return 0;
	return s[n] == '\0';
}

/* Copies p[0..n) into dst (size > 0) as printable ASCII, truncating. */
static void
caps_copy_print(char *dst, size_t size, const char *p, size_t n)
{
	size_t i;

	if (n > size - 1)
		n = size - 1;
	for (i = 0; i < n; i++)
		dst[i] = caps_is_print(p[i]) ? p[i] : '?';
	dst[n] = '\0';
}

void
smtp_caps_reset(struct smtp_caps *caps)
{
	memset(caps, 0, sizeof *caps);
}

uint32_t
smtp_caps_flag(const char *keyword)
{
	size_t i;

	if (keyword == NULL)
		return 0;
	for (i = 0; i < sizeof caps_known / sizeof caps_known[0]; i++)
		if (caps_equal(keyword, strlen(keyword), caps_known[i].keyword))
			return caps_known[i].flag;
	return 0;
}

int
smtp_caps_has(const struct smtp_caps *caps, uint32_t flag)
{
	return caps != NULL && flag != 0 && (caps->flags & flag) == flag;
}

int
smtp_caps_has_auth(const struct smtp_caps *caps, const char *mech)
{
	size_t i;

	if (caps == NULL || mech == NULL)
		return 0;
	for (i = 0; i < caps->nauth; i++)
		if (caps_equal(mech, strlen(mech), caps->auth[i]))
			return 1;
	return 0;
}

const struct smtp_cap *
smtp_caps_find(const struct smtp_caps *caps, const char *keyword)
{
	size_t i;

	if (caps == NULL || keyword == NULL)
		return NULL;
	for (i = 0; i < caps->ncaps; i++)
		if (caps_equal(keyword, strlen(keyword), caps->caps[i].keyword))
			return &caps->caps[i];
	return NULL;
}

/*
 * RFC 1870: "SIZE" alone or "SIZE 0" states no limit.  A value that is
 * not all digits or does not fit 64 bits is treated the same way rather
 * than trusted.
 */
static uint64_t
caps_parse_size(const char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;
	unsigned d;

	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return v;
}

/* Adds the mechanism names in p[0..n), space separated. */
static void
caps_parse_auth(struct smtp_caps *caps, const char *p, size_t n)
{
	size_t i = 0, start, len, k;
	char name[CAPS_MECH_NAME_MAX + 1];
	int ok;

	while (i < n) {
		while (i < n && p[i] == ' ')
			i++;
		start = i;
		while (i < n && p[i] != ' ')
			i++;
		len = i - start;
		if (len == 0 || len > CAPS_MECH_NAME_MAX)
			continue;
		/* RFC 4422 3.1: upper-case letters, digits, '-' and '_'. */
		ok = 1;
		for (k = 0; k < len; k++) {
			name[k] = caps_upper(p[start + k]);
			if (!caps_is_alnum(name[k]) && name[k] != '-' &&
			    name[k] != '_')
				ok = 0;
		}
		name[len] = '\0';
		if (!ok || smtp_caps_has_auth(caps, name) ||
		    caps->nauth >= SMTP_AUTH_MECHS_MAX)
			continue;
		memcpy(caps->auth[caps->nauth++], name, len + 1);
	}
}

/* One keyword line (the text after "250-").  Returns -1 to ignore it. */
static int
caps_parse_line(struct smtp_caps *caps, const char *t, size_t n)
{
	size_t klen = 0, i;
	const char *params;
	size_t plen;
	struct smtp_cap *cap;
	uint32_t flag;
	char kw[SMTP_CAP_KEYWORD_MAX];

	while (klen < n && (caps_is_alnum(t[klen]) || t[klen] == '-'))
		klen++;
	/* ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
	if (klen == 0 || t[0] == '-' || klen >= SMTP_CAP_KEYWORD_MAX)
		return -1;
	/* "AUTH=LOGIN PLAIN" predates RFC 2554 and is still sent. */
	if (klen < n && t[klen] != ' ' &&
	    !(t[klen] == '=' && caps_equal(t, klen, "AUTH")))
		return -1;
	for (i = 0; i < klen; i++)
		kw[i] = caps_upper(t[i]);
	kw[klen] = '\0';
	params = t + klen + (klen < n ? 1 : 0);
	plen = n - (size_t)(params - t);
	while (plen > 0 && *params == ' ') {
		params++;
		plen--;
	}

	flag = smtp_caps_flag(kw);
	/* Postfix sends both "AUTH PLAIN" and "AUTH=PLAIN": merge them. */
	if (flag == SMTP_CAP_AUTH && smtp_caps_find(caps, kw) != NULL) {
		caps_parse_auth(caps, params, plen);
		return 0;
	}
	if (smtp_caps_find(caps, kw) != NULL || caps->ncaps >= SMTP_CAPS_MAX)
		return -1;

	cap = &caps->caps[caps->ncaps++];
	memcpy(cap->keyword, kw, klen + 1);
	caps_copy_print(cap->params, sizeof cap->params, params, plen);
	caps->flags |= flag;
	if (flag == SMTP_CAP_SIZE)
		caps->size_limit = caps_parse_size(params, plen);
	else if (flag == SMTP_CAP_AUTH)
		caps_parse_auth(caps, params, plen);
	return 0;
}

int
smtp_caps_parse(struct smtp_caps *caps, const struct smtp_reply *reply)
{
	const char *t;
	size_t n, i, w;

	smtp_caps_reset(caps);
	if (reply == NULL || reply->nlines == 0 || reply->code < 200 ||
	    reply->code > 299)
		return -1;
	caps->valid = 1;

	/* RFC 5321 4.1.1.1: "250-" domain [ SP ehlo-greet ] */
	t = smtp_reply_line_text(&reply->lines[0], 0, &n);
	for (w = 0; w < n && t[w] != ' '; w++)
		;
	caps_copy_print(caps->domain, sizeof caps->domain, t, w);

	for (i = 1; i < reply->nlines; i++) {
		t = smtp_reply_line_text(&reply->lines[i], 0, &n);
		if (caps_parse_line(caps, t, n) != 0)
			caps->ignored++;
	}
	return 0;
}
