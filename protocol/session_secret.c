/*
 * The session engine's secrets: what a server must never get back onto
 * the screen, the history or an export, and who may be sent one at all.
 *
 * Every secret line that goes out (an AUTH command with an initial
 * response, a SASL response) leaves its wire forms here: each base64
 * token, with and without its padding, and what it carries when decoded
 * (the password of a PLAIN message, the token of an XOAUTH2 one, the
 * answer to a LOGIN password prompt typed by hand).  Front ends that
 * know the plain secret add it too (smtp_session_secret_add).  Every
 * server line is then checked against them before any event shows it
 * (session_secret_mask): a server that echoes "535 you sent AUTH PLAIN
 * <base64>" has its echo replaced by SESSION_SECRET_MASK in every
 * observer, so in the transcript, the database, --json and exports
 * alike.  The forms are wiped when the session is freed.
 *
 * Also the rule for sending a secret at all (smtp_session_auth_refusal):
 * never over TLS whose certificate was not verified (opportunistic TLS,
 * unless --insecure), never on a plain-text connection after a STARTTLS
 * downgrade, and on a
 * plain-text connection only to a loopback address unless the user
 * allowed it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "protocol/sasl.h"
#include "protocol/session_int.h"

/* What replaces a secret found in server text. */
#define SESSION_SECRET_MASK "[secret removed]"

/* Shorter strings are not looked for: they would mask ordinary text. */
#define SESSION_SECRET_MIN 4

static void
secret_keep(struct smtp_session *s, const char *p, size_t n)
{
	size_t i;

	if (n < SESSION_SECRET_MIN)
		return;
	for (i = 0; i < s->nsecrets; i++)
		if (s->secrets[i].len == n &&
		    memcmp(s->secrets[i].p, p, n) == 0)
			return;
	if (s->nsecrets == s->capsecrets) {
		s->capsecrets = s->capsecrets == 0 ? 8 : s->capsecrets * 2;
		s->secrets = xreallocarray(
		    s->secrets, s->capsecrets, sizeof *s->secrets);
	}
	s->secrets[s->nsecrets].p = xstrndup(p, n);
	/* xstrndup stops at a NUL: keep what was really copied. */
	s->secrets[s->nsecrets].len = strlen(s->secrets[s->nsecrets].p);
	if (s->secrets[s->nsecrets].len < SESSION_SECRET_MIN) {
		secret_free_str(s->secrets[s->nsecrets].p);
		return;
	}
	s->nsecrets++;
}

void
smtp_session_secret_add(struct smtp_session *s, const char *p, size_t n)
{
	char *b = sasl_b64_encode(p, n);
	size_t k = strlen(b);

	secret_keep(s, p, n);
	secret_keep(s, b, k);
	while (k > 0 && b[k - 1] == '=')
		k--;
	secret_keep(s, b, k);
	secret_free_str(b);
}

/* The secrets a decoded SASL message carries (d is NUL-terminated). */
static void
secret_add_decoded(struct smtp_session *s, const unsigned char *d, size_t dlen,
    int login_password)
{
	const unsigned char *nul = NULL, *q, *end;
	size_t i;

	for (i = 0; i < dlen; i++)
		if (d[i] == '\0')
			nul = d + i;
	if (nul != NULL) /* PLAIN: authzid NUL user NUL password */
		smtp_session_secret_add(
		    s, (const char *)nul + 1, dlen - (size_t)(nul + 1 - d));
	q = (const unsigned char *)strstr((const char *)d, "auth=Bearer ");
	if (q != NULL) { /* XOAUTH2 */
		q += strlen("auth=Bearer ");
		end = memchr(q, '\001', dlen - (size_t)(q - d));
		smtp_session_secret_add(s, (const char *)q,
		    end != NULL ? (size_t)(end - q) : dlen - (size_t)(q - d));
	}
	if (login_password && nul == NULL)
		smtp_session_secret_add(s, (const char *)d, dlen);
}

void
session_secret_wire(
    struct smtp_session *s, const char *line, int login_password)
{
	const char *p = line, *tok;
	unsigned char *d;
	size_t n, k, dlen;

	/* "AUTH MECH response": only the response is a secret. */
	if (strncasecmp(p, "AUTH", 4) == 0 &&
	    (p[4] == '\0' || p[4] == ' ' || p[4] == '\t')) {
		p += 4;
		p += strspn(p, " \t");
		p += strcspn(p, " \t");
	}
	while (*(p += strspn(p, " \t")) != '\0') {
		tok = p;
		n = strcspn(p, " \t");
		p += n;
		if (n == 1 && (*tok == '*' || *tok == '='))
			continue;
		secret_keep(s, tok, n);
		for (k = n; k > 0 && tok[k - 1] == '='; k--)
			;
		secret_keep(s, tok, k);
		if ((d = sasl_b64_decode(tok, n, &dlen)) != NULL) {
			secret_add_decoded(s, d, dlen, login_password);
			secret_free(d, dlen + 1);
		}
	}
}

void
session_secret_free(struct smtp_session *s)
{
	size_t i;

	for (i = 0; i < s->nsecrets; i++)
		secret_free_str(s->secrets[i].p);
	free(s->secrets);
	s->secrets = NULL;
	s->nsecrets = s->capsecrets = 0;
}

/* The longest secret at text[i], or NULL. */
static const struct session_secret *
secret_at(const struct smtp_session *s, const char *text, size_t len, size_t i)
{
	const struct session_secret *best = NULL;
	size_t k;

	for (k = 0; k < s->nsecrets; k++) {
		const struct session_secret *sec = &s->secrets[k];

		if (sec->len <= len - i &&
		    memcmp(text + i, sec->p, sec->len) == 0 &&
		    (best == NULL || sec->len > best->len))
			best = sec;
	}
	return best;
}

char *
session_secret_mask(
    const struct smtp_session *s, const char *text, size_t len, size_t *outlen)
{
	const struct session_secret *sec;
	struct buf b;
	size_t i, from = 0;
	int found = 0;
	char *out;

	if (s->nsecrets == 0)
		return NULL;
	buf_init(&b, 0);
	for (i = 0; i < len;) {
		if ((sec = secret_at(s, text, len, i)) == NULL) {
			i++;
			continue;
		}
		found = 1;
		(void)buf_add(&b, text + from, i - from);
		(void)buf_add(
		    &b, SESSION_SECRET_MASK, strlen(SESSION_SECRET_MASK));
		i += sec->len;
		from = i;
	}
	if (!found) {
		buf_reset(&b);
		return NULL;
	}
	(void)buf_add(&b, text + from, len - from);
	*outlen = buf_used(&b);
	out = xmalloc(*outlen + 1);
	memcpy(out, buf_peek(&b), *outlen);
	out[*outlen] = '\0';
	buf_reset(&b);
	return out;
}

/* 1 when peer ("127.0.0.1:25", "[::1]:25") is a loopback address. */
static int
peer_is_loopback(const char *peer)
{
	if (peer == NULL)
		return 0;
	return strncmp(peer, "127.", 4) == 0 ||
	    strncmp(peer, "[::1]:", 6) == 0 ||
	    strncasecmp(peer, "[::ffff:127.", 12) == 0;
}

void
smtp_session_set_downgraded(struct smtp_session *s)
{
	s->downgraded = 1;
}

void
smtp_session_allow_plaintext_auth(struct smtp_session *s)
{
	s->allow_plain_auth = 1;
}

void
smtp_session_set_tls_unverified(struct smtp_session *s)
{
	s->tls_unverified = 1;
}

char *
smtp_session_auth_refusal(const struct smtp_session *s)
{
	/* Postfix's "may": encrypted, but to whom is not known. */
	if (s->tls && s->tls_unverified)
		return xstrdup(
		    "not sending credentials: the server's certificate was "
		    "not verified (opportunistic TLS), so they could go to "
		    "an impostor; pass its CA with --cafile, require "
		    "verification with --starttls, or use --insecure to send "
		    "them anyway");
	/* Not connected: nothing can be sent, and sending says so. */
	if (s->tls || s->allow_plain_auth || s->peer == NULL)
		return NULL;
	if (s->downgraded)
		return xstrdup(
		    "not sending credentials: this server offered STARTTLS "
		    "before and does not now (a STARTTLS downgrade); "
		    "--allow-plaintext-auth sends them anyway, in plain text");
	if (peer_is_loopback(s->peer))
		return NULL;
	return xasprintf("not sending credentials: the connection to %s has "
	                 "no TLS and anyone on the path could read them; "
	                 "use /starttls (or --starttls) first, or "
	                 "--allow-plaintext-auth to send them in plain text",
	    s->peer[0] != '\0' ? s->peer : "the server");
}
