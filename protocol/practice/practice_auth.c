/*
 * The practice server's AUTH: PLAIN, LOGIN, CRAM-MD5 and SCRAM-SHA-256
 * (with -PLUS over TLS; the exchange itself is practice_scram.c) against
 * the built-in accounts, one SASL step per line; secrets are wiped after
 * use.
 *
 *   RFC 4954 AUTH   RFC 4616 PLAIN   RFC 2195 CRAM-MD5   LOGIN (a draft)
 *   RFC 7677 SCRAM-SHA-256 (RFC 5802), -PLUS with RFC 9266 / RFC 5929
 */
#include "protocol/practice/practice_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/xmalloc.h"
#include "protocol/sasl.h"

/* ---- AUTH ----------------------------------------------------------------- */

static const struct practice_account *
pc_account(const char *user, size_t n)
{
	size_t i;

	for (i = 0; i < PC_NACCOUNTS; i++)
		if (strlen(practice_accounts[i].user) == n &&
		    memcmp(practice_accounts[i].user, user, n) == 0)
			return &practice_accounts[i];
	return NULL;
}

static int
pc_password_ok(const struct practice_account *a, const char *pw, size_t n)
{
	return a != NULL && strlen(a->password) == n &&
	    CRYPTO_memcmp(a->password, pw, n) == 0;
}

static void
pc_auth_success(struct pconn *c, const struct practice_account *a)
{
	pc_auth_reset(c);
	c->auth_user = xstrdup(a->user);
	pc_log(c, "authenticated as %s", a->user);
	pc_reply(c, PR_AUTH_OK);
}

static void
pc_auth_failure(struct pconn *c)
{
	pc_auth_reset(c);
	pc_log(c, "authentication failed");
	pc_reply(c, PR_AUTH_FAIL);
}

static void
pc_auth_prompt(struct pconn *c, enum pc_auth_step step, const char *text)
{
	char *b64 = sasl_b64_encode(text, strlen(text));

	c->auth_step = step;
	c->mode = PC_AUTH;
	pc_reply(c, PR_AUTH_MORE, b64);
	free(b64);
}

const char *
pc_auth_keyword(const struct pconn *c)
{
	return c->tls ? "AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 "
	                "SCRAM-SHA-256-PLUS"
	              : "AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256";
}

/*
 * A SCRAM message: the server-first or server-final in a 334, 235 after
 * the client's empty answer to the server-final (RFC 4954 4: no data
 * goes with 235).
 */
static void
pc_auth_scram(struct pconn *c, const unsigned char *m, size_t n)
{
	const struct practice_account *a;
	const char *user;
	char *out, *b64;
	size_t outlen;
	int rc;

	if (c->auth_step == PA_SCRAM_DONE) {
		a = pc_account(c->login_user, strlen(c->login_user));
		if (n == 0 && a != NULL)
			pc_auth_success(c, a);
		else
			pc_auth_failure(c);
		return;
	}
	rc = pc_scram_step(c->scram, m, n, &out, &outlen, &user);
	if (rc == -1) {
		free(out);
		pc_auth_failure(c);
		return;
	}
	if (rc == 0) {
		free(c->login_user);
		c->login_user = xstrdup(user);
		c->auth_step = PA_SCRAM_DONE;
	}
	b64 = sasl_b64_encode(out, outlen);
	free(out);
	c->mode = PC_AUTH;
	pc_reply(c, PR_AUTH_MORE, b64);
	free(b64);
}

/* One SASL message (decoded) for the current step. */
static void
pc_auth_step(struct pconn *c, const unsigned char *m, size_t n)
{
	const struct practice_account *a;
	const unsigned char *z1, *z2;
	unsigned char mac[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	size_t maclen = 0, i, ulen;
	const char *sp;

	switch (c->auth_step) {
	case PA_PLAIN:
		/* authzid NUL authcid NUL passwd (RFC 4616 2) */
		z1 = memchr(m, '\0', n);
		z2 = z1 != NULL ? memchr(z1 + 1, '\0', n - (size_t)(z1 - m) - 1)
		                : NULL;
		if (z2 == NULL) {
			pc_auth_failure(c);
			return;
		}
		a = pc_account((const char *)z1 + 1, (size_t)(z2 - z1 - 1));
		if (z1 != m &&
		    (a == NULL || (size_t)(z1 - m) != strlen(a->user) ||
		        memcmp(m, a->user, strlen(a->user)) != 0))
			a = NULL; /* may act only as oneself */
		if (a != NULL &&
		    pc_password_ok(
		        a, (const char *)z2 + 1, n - (size_t)(z2 - m) - 1))
			pc_auth_success(c, a);
		else
			pc_auth_failure(c);
		return;
	case PA_LOGIN_USER:
		free(c->login_user);
		c->login_user = xstrndup((const char *)m, n);
		pc_auth_prompt(c, PA_LOGIN_PASS, "Password:");
		return;
	case PA_LOGIN_PASS:
		a = pc_account(c->login_user, strlen(c->login_user));
		if (pc_password_ok(a, (const char *)m, n))
			pc_auth_success(c, a);
		else
			pc_auth_failure(c);
		return;
	case PA_CRAM:
		/* user SP lowercase-hex(HMAC-MD5(password, challenge)) */
		sp = memchr(m, ' ', n);
		ulen = sp != NULL ? (size_t)(sp - (const char *)m) : 0;
		a = sp != NULL ? pc_account((const char *)m, ulen) : NULL;
		if (a == NULL ||
		    EVP_Q_mac(NULL, "HMAC", NULL, "MD5", NULL, a->password,
		        strlen(a->password),
		        (const unsigned char *)c->cram_challenge,
		        strlen(c->cram_challenge), mac, sizeof mac,
		        &maclen) == NULL) {
			pc_auth_failure(c);
			return;
		}
		for (i = 0; i < maclen; i++)
			(void)snprintf(hex + 2 * i, 3, "%02x", mac[i]);
		if (n - ulen - 1 == 2 * maclen &&
		    CRYPTO_memcmp(hex, sp + 1, 2 * maclen) == 0)
			pc_auth_success(c, a);
		else
			pc_auth_failure(c);
		OPENSSL_cleanse(mac, sizeof mac);
		OPENSSL_cleanse(hex, sizeof hex);
		return;
	case PA_SCRAM:
	case PA_SCRAM_DONE:
		pc_auth_scram(c, m, n);
		return;
	case PA_NONE:
		break;
	}
	pc_auth_failure(c);
}

/* A base64 line from the client: "*" cancels (RFC 4954 4). */
void
pc_auth_line(struct pconn *c, const char *line, size_t n)
{
	unsigned char *m;
	size_t mlen;

	if (n == 1 && line[0] == '*') {
		pc_auth_reset(c);
		pc_reply(c, PR_AUTH_CANCEL);
		return;
	}
	if (n == 1 && line[0] == '=')
		n = 0; /* an empty initial response */
	if ((m = sasl_b64_decode(line, n, &mlen)) == NULL) {
		pc_auth_reset(c);
		pc_reply(c, PR_AUTH_B64);
		return;
	}
	pc_auth_step(c, m, mlen);
	secret_free(m, mlen + 1);
}

void
pc_cmd_auth(struct pconn *c, const char *arg)
{
	const char *sp = strchr(arg, ' ');
	size_t n = sp != NULL ? (size_t)(sp - arg) : strlen(arg);
	char safe[PC_ARG_MAX + 8];
	unsigned char rnd[8];
	uint64_t r = 0;
	size_t i;

	if (c->helo != 2) {
		pc_reply(c, c->helo == 0 ? PR_NEED_HELO : PR_NEED_EHLO, "AUTH");
		return;
	}
	if (c->auth_user != NULL) {
		pc_reply(c, PR_AUTH_AGAIN);
		return;
	}
	if (c->mail != NULL) {
		pc_reply(c, PR_AUTH_TXN);
		return;
	}
	if (n == 0) {
		pc_reply(c, PR_SYNTAX, "AUTH mechanism [initial-response]");
		return;
	}
	if (c->p->o.require_tls && !c->tls) {
		/* RFC 4954 4 and 6: a mechanism that sends the password as
		 * it is gets 538; any other still waits for TLS (530). */
		if (pc_word_is(arg, n, "PLAIN") ||
		    pc_word_is(arg, n, "LOGIN")) {
			pc_safe(safe, sizeof safe, arg, n);
			pc_reply(c, PR_TLS_FOR_MECH, safe);
		} else
			pc_reply(c, PR_NEED_TLS);
		return;
	}
	if (pc_word_is(arg, n, "PLAIN")) {
		c->auth_step = PA_PLAIN;
		if (sp == NULL) {
			c->mode = PC_AUTH;
			pc_reply(c, PR_AUTH_MORE, "");
			return;
		}
	} else if (pc_word_is(arg, n, "LOGIN")) {
		if (sp == NULL) {
			pc_auth_prompt(c, PA_LOGIN_USER, "Username:");
			return;
		}
		c->auth_step = PA_LOGIN_USER;
	} else if (pc_word_is(arg, n, "CRAM-MD5")) {
		if (sp != NULL) {
			pc_reply(c, PR_SYNTAX,
			    "AUTH CRAM-MD5 (no initial "
			    "response)");
			return;
		}
		if (RAND_bytes(rnd, sizeof rnd) != 1)
			memset(rnd, 0x5a, sizeof rnd);
		for (i = 0; i < sizeof rnd; i++)
			r = r << 8 | rnd[i];
		(void)snprintf(c->cram_challenge, sizeof c->cram_challenge,
		    "<%llu.%lld@practice.test>",
		    (unsigned long long)(r % 10000000000ull),
		    (long long)time(NULL));
		pc_auth_prompt(c, PA_CRAM, c->cram_challenge);
		return;
	} else if (pc_word_is(arg, n, "SCRAM-SHA-256") ||
	    (c->tls && pc_word_is(arg, n, "SCRAM-SHA-256-PLUS"))) {
		pc_safe(safe, sizeof safe, arg, n);
		for (i = 0; safe[i] != '\0'; i++)
			if (safe[i] >= 'a' && safe[i] <= 'z')
				safe[i] = (char)(safe[i] - 'a' + 'A');
		if ((c->scram = pc_scram_new(c, safe)) == NULL) {
			pc_reply(c, PR_AUTH_MECH, safe);
			return;
		}
		c->auth_step = PA_SCRAM;
		if (sp == NULL) {
			c->mode = PC_AUTH;
			pc_reply(c, PR_AUTH_MORE, "");
			return;
		}
	} else {
		pc_safe(safe, sizeof safe, arg, n);
		pc_reply(c, PR_AUTH_MECH, safe);
		return;
	}
	c->mode = PC_AUTH;
	pc_auth_line(c, sp + 1, strlen(sp + 1));
}
