/*
 * SASL client mechanisms for SMTP AUTH, driven by one table.
 *
 *   RFC 4954  SMTP Service Extension for Authentication (334, "*", "=")
 *   RFC 4422  Simple Authentication and Security Layer (mechanism names)
 *   RFC 4616  The PLAIN mechanism
 *   RFC 2195  IMAP/POP AUTHorize Extension (CRAM-MD5)
 *   RFC 2104  HMAC
 *   RFC 4648  Base64 encoding
 *   draft-murchison-sasl-login  The LOGIN mechanism
 *   Google/Microsoft XOAUTH2 (bearer tokens, cf. RFC 6750, RFC 7628)
 *   RFC 7628  OAUTHBEARER (GNU SASL 2.2 has no OAUTHBEARER, so it is here)
 *   RFC 5801  GS2 header and saslname escaping (OAUTHBEARER's a=)
 *   SCRAM and GSSAPI: sasl_gsasl.c, through GNU SASL
 *
 * A struct sasl_client holds the mechanism, a copy of the user and of the
 * secret, and the number of messages already produced (stage); each
 * mechanism is a fixed sequence of messages indexed by that number.  Every
 * message comes out twice: the base64 wire form and a display form in
 * which the secret, and anything derived from it, is SASL_MASK.  Buffers
 * that ever held the secret or its base64 are wiped before they are freed;
 * nothing secret goes through struct buf, whose growth would leave stale
 * copies behind.  The redaction functions do the same for lines the user
 * typed by hand, where the only knowledge is the mechanism and the last
 * challenge.
 */
#include "protocol/sasl_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/escape.h"
#include "core/xmalloc.h"

/* Indexed by enum sasl_mech_id. */
const struct sasl_mech_info sasl_mechs[] = {
    {
        .name = "PLAIN",
        .initial_response = 1,
        .help = "user and password in one base64 message "
                "(authzid NUL user NUL password); use only inside TLS",
        .rfc = "RFC 4616",
        .rank = 20,
    },
    {
        .name = "LOGIN",
        .initial_response = 1,
        .help = "user, then password, each base64 and each answering a "
                "334 prompt (\"Username:\", \"Password:\"); legacy, TLS only",
        .rfc = "draft-murchison-sasl-login",
        .rank = 10,
    },
    {
        .name = "CRAM-MD5",
        .initial_response = 0,
        .help = "challenge-response: user and HMAC-MD5 of the server's "
                "challenge keyed with the password; legacy",
        .rfc = "RFC 2195",
        .rank = 30,
    },
    {
        .name = "XOAUTH2",
        .initial_response = 1,
        .help = "OAuth 2.0 bearer token instead of a password "
                "(Gmail, Microsoft 365); the secret is the access token",
        .rfc = "Google/Microsoft XOAUTH2 (cf. RFC 6750, RFC 7628)",
        .flags = SASL_MECH_TOKEN,
    },
    {
        .name = "OAUTHBEARER",
        .initial_response = 1,
        .help = "OAuth 2.0 bearer token, the IETF standard "
                "(\"n,a=USER,^Aauth=Bearer TOKEN^A^A\"); the secret is the "
                "access token",
        .rfc = "RFC 7628",
        .flags = SASL_MECH_TOKEN,
    },
    {
        .name = "SCRAM-SHA-1",
        .initial_response = 1,
        .help = "salted challenge-response: the password never crosses "
                "the wire and the server proves it knows it too",
        .rfc = "RFC 5802",
        .rank = 40,
    },
    {
        .name = "SCRAM-SHA-1-PLUS",
        .initial_response = 1,
        .help = "SCRAM-SHA-1 bound to this TLS connection (tls-exporter "
                "or tls-unique): a relaying man in the middle fails",
        .rfc = "RFC 5802, RFC 9266",
        .flags = SASL_MECH_PLUS,
        .rank = 50,
    },
    {
        .name = "SCRAM-SHA-256",
        .initial_response = 1,
        .help = "SCRAM with SHA-256: the password never crosses the wire "
                "and the server proves it knows it too",
        .rfc = "RFC 7677",
        .rank = 60,
    },
    {
        .name = "SCRAM-SHA-256-PLUS",
        .initial_response = 1,
        .help = "SCRAM-SHA-256 bound to this TLS connection "
                "(tls-exporter or tls-unique): the best ehlo speaks",
        .rfc = "RFC 7677, RFC 9266",
        .flags = SASL_MECH_PLUS,
        .rank = 70,
    },
    {
        .name = "GSSAPI",
        .initial_response = 1,
        .help = "Kerberos: a ticket from kinit instead of a password "
                "(service principal smtp/HOST)",
        .rfc = "RFC 4752",
        .flags = SASL_MECH_NO_SECRET,
    },
    {.name = NULL},
};

static void sasl_err_set(char **errstr, const char *fmt, ...) EHLO_PRINTF(2, 3);

static void
sasl_err_set(char **errstr, const char *fmt, ...)
{
	va_list ap;

	if (errstr == NULL)
		return;
	va_start(ap, fmt);
	*errstr = xvasprintf(fmt, ap);
	va_end(ap);
}

const struct sasl_mech_info *
sasl_mech_find(const char *name)
{
	const struct sasl_mech_info *m;

	if (name == NULL)
		return NULL;
	for (m = sasl_mechs; m->name != NULL; m++) {
		if (strcasecmp(m->name, name) == 0)
			return m;
	}
	return NULL;
}

const struct sasl_mech_info *
sasl_mech_choose(const char *const *offered, size_t n, int tls)
{
	const struct sasl_mech_info *m, *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((m = sasl_mech_find(offered[i])) == NULL || m->rank == 0)
			continue;
		if ((m->flags & SASL_MECH_PLUS) && !tls)
			continue;
		if (best == NULL || m->rank > best->rank)
			best = m;
	}
	return best;
}

static int
sasl_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims SP, HT, CR and LF at both ends of p[0..*n). */
static const char *
sasl_trim(const char *p, size_t *n)
{
	while (*n > 0 && sasl_is_space(p[0])) {
		p++;
		(*n)--;
	}
	while (*n > 0 && sasl_is_space(p[*n - 1]))
		(*n)--;
	return p;
}

char *
sasl_decode_challenge(const char *challenge, size_t len)
{
	unsigned char *d;
	size_t dlen;
	char *s;

	if (challenge == NULL)
		return NULL;
	challenge = sasl_trim(challenge, &len);
	if ((d = sasl_b64_decode(challenge, len, &dlen)) == NULL)
		return NULL;
	s = escape_dup((const char *)d, dlen);
	free(d);
	return s;
}

/* The escaped display form of a user name (network- or user-supplied). */
static char *
sasl_user_show(const char *p, size_t n)
{
	return escape_dup(p, n);
}

struct sasl_client *
sasl_client_new(
    const char *mech, const char *user, const char *secret, char **errstr)
{
	const struct sasl_mech_info *info;
	struct sasl_client *c;
	char *shown;

	if (mech == NULL) {
		sasl_err_set(errstr, "no SASL mechanism given");
		return NULL;
	}
	if ((info = sasl_mech_find(mech)) == NULL) {
		shown = escape_dup(mech, strlen(mech));
		sasl_err_set(errstr,
		    "unknown SASL mechanism \"%s\" (known: " SASL_MECH_NAMES
		    ")",
		    shown);
		free(shown);
		return NULL;
	}
	if (user == NULL || *user == '\0') {
		sasl_err_set(errstr, "%s needs a user name", info->name);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->info = info;
	c->id = (enum sasl_mech_id)(info - sasl_mechs);
	c->user = xstrdup(user);
	c->secret = xstrdup(secret == NULL ? "" : secret);
	return c;
}

void
sasl_client_free(struct sasl_client *c)
{
	if (c == NULL)
		return;
	sasl_gs_end(c->gs);
	secret_free_str(c->user);
	secret_free_str(c->secret);
	free(c->host);
	OPENSSL_cleanse(c, sizeof *c);
	free(c);
}

void
sasl_client_set_binding(struct sasl_client *c, const char *type,
    const unsigned char *data, size_t len)
{
	c->cbtype = NULL;
	c->cblen = 0;
	if (type == NULL || data == NULL || len == 0 || len > sizeof c->cb)
		return;
	if (strcmp(type, "tls-exporter") == 0)
		c->cbtype = "tls-exporter";
	else if (strcmp(type, "tls-unique") == 0)
		c->cbtype = "tls-unique";
	else
		return;
	memcpy(c->cb, data, len);
	c->cblen = len;
}

int
sasl_client_server_proven(const struct sasl_client *c)
{
	if (c->id == SASL_GSSAPI || !sasl_id_is_gsasl(c->id))
		return 1;
	return sasl_gs_is_done(c->gs);
}

void
sasl_client_set_host(struct sasl_client *c, const char *host)
{
	free(c->host);
	c->host = host != NULL ? xstrdup(host) : NULL;
}

/*
 * Base64 of p[0..n), then wipes and frees p (n + 1 bytes, the allocation
 * of the builders below).  The result carries the secret as well.
 */
static char *
sasl_b64_consume(char *p, size_t n)
{
	char *b64 = sasl_b64_encode(p, n);

	secret_free(p, n + 1);
	return b64;
}

/* PLAIN: authzid (empty) NUL user NUL password. */
static void
sasl_plain_build(const struct sasl_client *c, char **wire, char **display)
{
	size_t ulen = strlen(c->user), slen = strlen(c->secret), n;
	char *raw, *user;

	n = 1 + ulen + 1 + slen;
	raw = xmalloc(n + 1);
	raw[0] = '\0';
	memcpy(raw + 1, c->user, ulen);
	raw[1 + ulen] = '\0';
	memcpy(raw + 2 + ulen, c->secret, slen);
	raw[n] = '\0';
	*wire = sasl_b64_consume(raw, n);
	user = sasl_user_show(c->user, ulen);
	*display = xasprintf("[user=%s password=" SASL_MASK "]", user);
	free(user);
}

/* XOAUTH2: "user=" U ^A "auth=Bearer " TOKEN ^A ^A. */
static void
sasl_xoauth2_build(const struct sasl_client *c, char **wire, char **display)
{
	char *raw, *user;

	raw =
	    xasprintf("user=%s\001auth=Bearer %s\001\001", c->user, c->secret);
	*wire = sasl_b64_consume(raw, strlen(raw));
	user = sasl_user_show(c->user, strlen(c->user));
	*display = xasprintf("[user=%s token=" SASL_MASK "]", user);
	free(user);
}

/* RFC 5801 saslname: "," and "=" become "=2C" and "=3D". */
static char *
sasl_saslname(const char *user)
{
	size_t n = strlen(user), i, k = 0;
	char *out = xmalloc(3 * n + 1);

	for (i = 0; i < n; i++) {
		if (user[i] == ',' || user[i] == '=') {
			memcpy(out + k, user[i] == ',' ? "=2C" : "=3D", 3);
			k += 3;
		} else
			out[k++] = user[i];
	}
	out[k] = '\0';
	return out;
}

/* OAUTHBEARER (RFC 7628 3.1): "n,a=" USER "," ^A "auth=Bearer " TOKEN
 * ^A ^A; host and port are optional and not sent. */
static void
sasl_oauthbearer_build(const struct sasl_client *c, char **wire, char **display)
{
	char *raw, *user, *name = sasl_saslname(c->user);

	raw = xasprintf("n,a=%s,\001auth=Bearer %s\001\001", name, c->secret);
	free(name);
	*wire = sasl_b64_consume(raw, strlen(raw));
	user = sasl_user_show(c->user, strlen(c->user));
	*display = xasprintf("[user=%s token=" SASL_MASK "]", user);
	free(user);
}

static void
sasl_login_user_build(const struct sasl_client *c, char **wire, char **display)
{
	char *user;

	*wire = sasl_b64_encode(c->user, strlen(c->user));
	user = sasl_user_show(c->user, strlen(c->user));
	*display = xasprintf("[user=%s]", user);
	free(user);
}

static void
sasl_login_password_build(
    const struct sasl_client *c, char **wire, char **display)
{
	*wire = sasl_b64_encode(c->secret, strlen(c->secret));
	*display = xstrdup("[password=" SASL_MASK "]");
}

/* CRAM-MD5: user SP lowercase-hex(HMAC-MD5(secret, challenge)). */
static int
sasl_cram_build(const struct sasl_client *c, const unsigned char *chal,
    size_t chlen, char **wire, char **display, char **errstr)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	char digest[2 * 16 + 1], *raw, *user;
	size_t maclen = 0, i;

	if (chlen == 0) {
		sasl_err_set(errstr, "empty CRAM-MD5 challenge");
		return -1;
	}
	if (EVP_Q_mac(NULL, "HMAC", NULL, "MD5", NULL, c->secret,
	        strlen(c->secret), chal, chlen, mac, sizeof mac,
	        &maclen) == NULL ||
	    maclen != 16) {
		OPENSSL_cleanse(mac, sizeof mac);
		sasl_err_set(errstr, "OpenSSL has no HMAC-MD5 (FIPS mode?)");
		return -1;
	}
	for (i = 0; i < maclen; i++) {
		digest[2 * i] = hex[mac[i] >> 4];
		digest[2 * i + 1] = hex[mac[i] & 0x0f];
	}
	digest[2 * maclen] = '\0';
	OPENSSL_cleanse(mac, sizeof mac);
	raw = xasprintf("%s %s", c->user, digest);
	OPENSSL_cleanse(digest, sizeof digest);
	*wire = sasl_b64_consume(raw, strlen(raw));
	user = sasl_user_show(c->user, strlen(c->user));
	*display = xasprintf("[user=%s digest=" SASL_MASK "]", user);
	free(user);
	return 0;
}

/*
 * One message of a GNU SASL mechanism: the library's answer to the
 * decoded challenge, as base64 (*wire) and display form.
 */
static int
sasl_gs_message(struct sasl_client *c, const unsigned char *in, size_t inlen,
    char **wire, char **display, char **errstr)
{
	char *out;
	size_t outlen;

	if (sasl_gs_step(c, in, inlen, &out, &outlen, errstr) == -1)
		return -1;
	*wire = sasl_b64_encode(out, outlen);
	*display = sasl_gs_redact(c->id, (const unsigned char *)out, outlen);
	secret_free(out, outlen + 1);
	return 0;
}

int
sasl_client_start(struct sasl_client *c, int use_initial_response, char **wire,
    char **display, char **errstr)
{
	const char *name = c->info->name;
	char *ir = NULL, *shown = NULL;

	*wire = *display = NULL;
	c->stage = 0;
	if (sasl_id_is_gsasl(c->id) && sasl_gs_begin(c, errstr) == -1)
		return -1;
	if (!use_initial_response || !c->info->initial_response) {
		*wire = xasprintf("AUTH %s", name);
		*display = xasprintf("AUTH %s", name);
		return 0;
	}
	switch (c->id) {
	case SASL_PLAIN:
		sasl_plain_build(c, &ir, &shown);
		break;
	case SASL_LOGIN:
		sasl_login_user_build(c, &ir, &shown);
		break;
	case SASL_XOAUTH2:
		sasl_xoauth2_build(c, &ir, &shown);
		break;
	case SASL_OAUTHBEARER:
		sasl_oauthbearer_build(c, &ir, &shown);
		break;
	case SASL_CRAM_MD5:
		fatalx("CRAM-MD5 has no initial response");
	case SASL_SCRAM_SHA1:
	case SASL_SCRAM_SHA1_PLUS:
	case SASL_SCRAM_SHA256:
	case SASL_SCRAM_SHA256_PLUS:
	case SASL_GSSAPI:
		if (sasl_gs_message(c, (const unsigned char *)"", 0, &ir,
		        &shown, errstr) == -1)
			return -1;
		break;
	}
	c->stage = 1;
	/* RFC 4954 4: an empty initial response is sent as "=". */
	*wire = xasprintf("AUTH %s %s", name, *ir != '\0' ? ir : "=");
	*display = xasprintf("AUTH %s %s", name, shown);
	secret_free_str(ir);
	free(shown);
	return 0;
}

int
sasl_client_step(struct sasl_client *c, const char *challenge, size_t len,
    char **wire, char **display, char **errstr)
{
	unsigned char *chal;
	size_t chlen;
	int stage = c->stage, rc = 0;

	if (challenge == NULL)
		challenge = "";
	challenge = sasl_trim(challenge, &len);
	if ((chal = sasl_b64_decode(challenge, len, &chlen)) == NULL) {
		sasl_err_set(errstr, "the 334 challenge is not valid base64");
		return -1;
	}
	switch (c->id) {
	case SASL_PLAIN:
		if (stage == 0)
			sasl_plain_build(c, wire, display);
		else
			rc = -1;
		break;
	case SASL_LOGIN:
		if (stage == 0)
			sasl_login_user_build(c, wire, display);
		else if (stage == 1)
			sasl_login_password_build(c, wire, display);
		else
			rc = -1;
		break;
	case SASL_CRAM_MD5:
		if (stage == 0) {
			if (sasl_cram_build(
			        c, chal, chlen, wire, display, errstr) == -1) {
				free(chal);
				return -1;
			}
		} else
			rc = -1;
		break;
	case SASL_XOAUTH2:
		if (stage == 0)
			sasl_xoauth2_build(c, wire, display);
		else if (stage == 1) {
			/* The challenge is a JSON error; an empty line ends
			 * the exchange and the server replies 5xx. */
			*wire = xstrdup("");
			*display = xstrdup("[empty response]");
		} else
			rc = -1;
		break;
	case SASL_OAUTHBEARER:
		if (stage == 0)
			sasl_oauthbearer_build(c, wire, display);
		else if (stage == 1) {
			/* RFC 7628 3.2.3: the error is acknowledged with
			 * one ^A; the server then replies 5xx. */
			*wire = sasl_b64_encode("\001", 1);
			*display = xstrdup("[^A: the error is acknowledged]");
		} else
			rc = -1;
		break;
	case SASL_SCRAM_SHA1:
	case SASL_SCRAM_SHA1_PLUS:
	case SASL_SCRAM_SHA256:
	case SASL_SCRAM_SHA256_PLUS:
	case SASL_GSSAPI:
		rc = sasl_gs_message(c, chal, chlen, wire, display, errstr);
		secret_free(chal, chlen + 1);
		if (rc == -1)
			return -1;
		c->stage++;
		return 0;
	}
	free(chal);
	if (rc == -1) {
		sasl_err_set(errstr,
		    "%s has nothing more to send; cancel with \"*\"",
		    c->info->name);
		return -1;
	}
	c->stage++;
	return 0;
}

/*
 * Redaction of hand-typed lines.  Only what is recognisably not secret is
 * shown; every decision that is not sure falls back to SASL_MASKED.
 */

/* Does a decoded LOGIN prompt ask for the user name?  Matches "Username:",
 * "User Name", "user_name", "User" in any case, with trailing NULs,
 * colons and spaces (aiosmtpd sends "User Name\0"). */
static int
sasl_login_prompt_is_user(const char *challenge)
{
	unsigned char *d;
	size_t dlen, clen, i, k = 0;
	char norm[16];

	clen = strlen(challenge);
	challenge = sasl_trim(challenge, &clen);
	if ((d = sasl_b64_decode(challenge, clen, &dlen)) == NULL)
		return 0;
	while (dlen > 0 &&
	    (d[dlen - 1] == '\0' || d[dlen - 1] == ':' ||
	        sasl_is_space((char)d[dlen - 1])))
		dlen--;
	for (i = 0; i < dlen; i++) {
		if (d[i] == ' ' || d[i] == '_' || d[i] == '-')
			continue;
		if (k == sizeof norm - 1) {
			free(d);
			return 0;
		}
		norm[k++] = (char)d[i];
	}
	norm[k] = '\0';
	free(d);
	return strcasecmp(norm, "username") == 0 ||
	    strcasecmp(norm, "user") == 0;
}

static char *
sasl_redact_plain(const unsigned char *d, size_t dlen)
{
	const unsigned char *nul1, *nul2;
	char *authzid, *user, *s;

	if ((nul1 = memchr(d, '\0', dlen)) == NULL)
		return xstrdup(SASL_MASKED);
	nul2 = memchr(nul1 + 1, '\0', dlen - (size_t)(nul1 + 1 - d));
	if (nul2 == NULL)
		return xstrdup(SASL_MASKED);
	user =
	    sasl_user_show((const char *)nul1 + 1, (size_t)(nul2 - nul1 - 1));
	if (nul1 == d)
		s = xasprintf("[user=%s password=" SASL_MASK "]", user);
	else {
		authzid = sasl_user_show((const char *)d, (size_t)(nul1 - d));
		s = xasprintf("[authzid=%s user=%s password=" SASL_MASK "]",
		    authzid, user);
		free(authzid);
	}
	free(user);
	return s;
}

static char *
sasl_redact_cram(const unsigned char *d, size_t dlen)
{
	char *user, *s;
	size_t sp = dlen;

	while (sp > 0 && d[sp - 1] != ' ')
		sp--;
	if (sp <= 1)
		return xstrdup(SASL_MASKED);
	user = sasl_user_show((const char *)d, sp - 1);
	s = xasprintf("[user=%s digest=" SASL_MASK "]", user);
	free(user);
	return s;
}

static char *
sasl_redact_xoauth2(const unsigned char *d, size_t dlen)
{
	const unsigned char *end;
	char *user, *s;

	if (dlen < 5 || memcmp(d, "user=", 5) != 0)
		return xstrdup(SASL_MASKED);
	if ((end = memchr(d + 5, '\001', dlen - 5)) == NULL)
		return xstrdup(SASL_MASKED);
	user = sasl_user_show((const char *)d + 5, (size_t)(end - d - 5));
	s = xasprintf("[user=%s token=" SASL_MASK "]", user);
	free(user);
	return s;
}

/* OAUTHBEARER: "n,a=USER," then ^A-separated pairs with the token. */
static char *
sasl_redact_oauthbearer(const unsigned char *d, size_t dlen)
{
	const unsigned char *end;
	char *user, *s;

	if (dlen == 1 && d[0] == '\001')
		return xstrdup("[^A: the error is acknowledged]");
	if (dlen < 3 || (d[0] != 'n' && d[0] != 'y') || d[1] != ',')
		return xstrdup(SASL_MASKED);
	if (d[2] == ',')
		return xstrdup("[token=" SASL_MASK "]");
	if (dlen < 5 || memcmp(d + 2, "a=", 2) != 0 ||
	    (end = memchr(d + 4, ',', dlen - 4)) == NULL)
		return xstrdup(SASL_MASKED);
	user = sasl_user_show((const char *)d + 4, (size_t)(end - d - 4));
	s = xasprintf("[user=%s token=" SASL_MASK "]", user);
	free(user);
	return s;
}

char *
sasl_redact_response(
    const char *mech, int step, const char *challenge, const char *line)
{
	const struct sasl_mech_info *info;
	unsigned char *d;
	size_t n, dlen;
	char *s, *user;

	if (line == NULL)
		line = "";
	n = strlen(line);
	line = sasl_trim(line, &n);
	if (n == 1 && (line[0] == '*' || line[0] == '='))
		return xstrndup(line, 1);
	if (n == 0)
		return xstrdup("[empty response]");
	if ((info = sasl_mech_find(mech)) == NULL)
		return xstrdup(SASL_MASKED);
	if ((d = sasl_b64_decode(line, n, &dlen)) == NULL)
		return xstrdup(SASL_MASKED);
	switch ((enum sasl_mech_id)(info - sasl_mechs)) {
	case SASL_PLAIN:
		s = sasl_redact_plain(d, dlen);
		break;
	case SASL_LOGIN:
		if ((step == 0 && challenge == NULL) ||
		    (challenge != NULL &&
		        sasl_login_prompt_is_user(challenge))) {
			user = sasl_user_show((const char *)d, dlen);
			s = xasprintf("[user=%s]", user);
			free(user);
		} else
			s = xstrdup(SASL_MASKED);
		break;
	case SASL_CRAM_MD5:
		s = sasl_redact_cram(d, dlen);
		break;
	case SASL_XOAUTH2:
		s = sasl_redact_xoauth2(d, dlen);
		break;
	case SASL_OAUTHBEARER:
		s = sasl_redact_oauthbearer(d, dlen);
		break;
	case SASL_SCRAM_SHA1:
	case SASL_SCRAM_SHA1_PLUS:
	case SASL_SCRAM_SHA256:
	case SASL_SCRAM_SHA256_PLUS:
	case SASL_GSSAPI:
		s = sasl_gs_redact(
		    (enum sasl_mech_id)(info - sasl_mechs), d, dlen);
		break;
	default:
		s = xstrdup(SASL_MASKED);
		break;
	}
	secret_free(d, dlen + 1);
	return s;
}

char *
sasl_display_user(const char *text)
{
	const char *p = text, *end;
	char *out;
	size_t k = 0;

	while ((p = strstr(p, "user=")) != NULL) {
		if (p == text || p[-1] == '[' || p[-1] == ' ') {
			p += 5;
			end = p + strcspn(p, " ]");
			if (end > p)
				return xstrndup(p, (size_t)(end - p));
		}
		p += 5;
	}
	/* SCRAM's client-first: a GS2 header ("n,," "y,," "p=TYPE,,"). */
	if ((p = strchr(text, '[')) == NULL || (p = strstr(p, ",,n=")) == NULL)
		return NULL;
	p += 4;
	end = p + strcspn(p, ",]");
	if (end == p)
		return NULL;
	out = xmalloc((size_t)(end - p) + 1);
	while (p < end) {
		if (end - p >= 3 && memcmp(p, "=2C", 3) == 0) {
			out[k++] = ',';
			p += 3;
		} else if (end - p >= 3 && memcmp(p, "=3D", 3) == 0) {
			out[k++] = '=';
			p += 3;
		} else
			out[k++] = *p++;
	}
	out[k] = '\0';
	return out;
}

/* RFC 4422 3.1: 1 to 20 of [A-Z0-9-_] (any case here, as typed). */
static int
sasl_mech_name_is_valid(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 20)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

char *
sasl_redact_auth_command(const char *line)
{
	const char *verb, *mech, *ir;
	size_t vlen, mlen, irlen;
	char *v, *m, *r, *s;

	if (line == NULL)
		return xstrdup("");
	verb = line + strspn(line, " \t");
	vlen = strcspn(verb, " \t");
	mech = verb + vlen + strspn(verb + vlen, " \t");
	mlen = strcspn(mech, " \t");
	ir = mech + mlen + strspn(mech + mlen, " \t");
	irlen = strlen(ir);
	ir = sasl_trim(ir, &irlen);

	v = escape_dup(verb, vlen);
	if (mlen == 0)
		return v;
	if (!sasl_mech_name_is_valid(mech, mlen)) {
		s = xasprintf("%s " SASL_MASKED, v);
		free(v);
		return s;
	}
	m = xstrndup(mech, mlen);
	if (irlen == 0) {
		s = xasprintf("%s %s", v, m);
	} else {
		r = xstrndup(ir, irlen);
		s = sasl_redact_response(m, 0, NULL, r);
		secret_free(r, irlen + 1);
		r = s;
		s = xasprintf("%s %s %s", v, m, r);
		free(r);
	}
	free(v);
	free(m);
	return s;
}
