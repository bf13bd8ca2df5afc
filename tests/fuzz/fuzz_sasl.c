/*
 * Fuzz target: the SASL decoders (protocol/sasl.c).  Base64 decode and
 * re-encode must round-trip; a client of each mechanism answers
 * arbitrary 334 challenges; the redaction of hand-typed AUTH lines and
 * responses must never show the secret, whatever surrounds it.  The
 * secret is fixed; everything else comes from the input.
 */
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "fuzz.h"
#include "protocol/sasl.h"

#define SECRET "Zq9-fuzz-secret-XYZ"
#define SECRET_B64 "WnE5LWZ1enotc2VjcmV0LVhZWg"

static char *
cstr(const uint8_t *p, size_t n)
{
	char *s = xmalloc(n + 1);

	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int
holds(const uint8_t *data, size_t size, const char *what)
{
	size_t n = strlen(what), i;

	for (i = 0; i + n <= size; i++)
		if (memcmp(data + i, what, n) == 0)
			return 1;
	return 0;
}

/* 0 when the input itself holds the secret (as a user name, say): then
 * showing it is not a leak. */
static int secret_checks;

static void
no_secret(const char *shown)
{
	if (shown == NULL || !secret_checks)
		return;
	if (strstr(shown, SECRET) != NULL || strstr(shown, SECRET_B64) != NULL)
		fuzz_fail("a display form shows the secret");
}

static void
check_b64(const uint8_t *data, size_t size)
{
	unsigned char *d;
	char *enc;
	size_t dlen;
	unsigned char *again;
	size_t alen;

	d = sasl_b64_decode((const char *)data, size, &dlen);
	if (d == NULL)
		return;
	fuzz_check(d[dlen] == '\0');
	enc = sasl_b64_encode(d, dlen);
	again = sasl_b64_decode(enc, strlen(enc), &alen);
	fuzz_check(
	    again != NULL && alen == dlen && memcmp(again, d, dlen) == 0);
	free(again);
	free(enc);
	free(d);
}

/* "authzid\0user\0secret" with user from the input, base64. */
static void
check_redaction(const char *mech, const char *user, const char *chal)
{
	char payload[600], *b64, *line, *shown;
	size_t ulen = strnlen(user, 256), n = 0;

	payload[n++] = '\0';
	memcpy(payload + n, user, ulen);
	n += ulen;
	payload[n++] = '\0';
	memcpy(payload + n, SECRET, sizeof SECRET - 1);
	n += sizeof SECRET - 1;
	b64 = sasl_b64_encode(payload, n);
	if (strcasecmp(mech, "LOGIN") == 0) {
		/* LOGIN's first response and any answer to a "Username:"
		 * prompt is the user name, shown by design; the answer to
		 * "Password:" never is. */
		shown = sasl_redact_response(mech, 1, "UGFzc3dvcmQ6", b64);
		no_secret(shown);
		free(shown);
		free(b64);
		return;
	}
	shown = sasl_redact_response(mech, 0, NULL, b64);
	no_secret(shown);
	free(shown);
	shown = sasl_redact_response(mech, 1, chal, b64);
	no_secret(shown);
	free(shown);
	line = xasprintf("AUTH %s %s", mech, b64);
	shown = sasl_redact_auth_command(line);
	no_secret(shown);
	free(shown);
	free(line);
	shown = sasl_redact_response(mech, 1, chal, SECRET);
	no_secret(shown);
	free(shown);
	free(b64);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5",
	    "XOAUTH2", "plain", "NOPE", "OAUTHBEARER", "SCRAM-SHA-256",
	    "SCRAM-SHA-1-PLUS"};
	struct sasl_client *c;
	const char *mech;
	char *user, *chal, *wire, *display, *err, *s;
	size_t ulen, off, n;
	int step;

	secret_checks = !holds(data, size, "Zq9") && !holds(data, size, "WnE5");
	check_b64(data, size);
	s = sasl_decode_challenge((const char *)data, size);
	free(s);
	if (size < 2)
		return 0;
	mech = mechs[data[0] % (sizeof mechs / sizeof mechs[0])];
	ulen = data[1] % 32;
	if (ulen > size - 2)
		ulen = size - 2;
	user = cstr(data + 2, ulen);
	off = 2 + ulen;
	chal = cstr(data + off, size - off);
	check_redaction(mech, user, chal);
	s = sasl_redact_auth_command(chal);
	free(s);
	s = sasl_redact_response(mech, data[1] % 3, chal, chal);
	free(s);

	err = NULL;
	c = sasl_client_new(mech, user, SECRET, &err);
	if (c == NULL) {
		fuzz_check(err != NULL);
		free(err);
		free(user);
		free(chal);
		return 0;
	}
	wire = display = NULL;
	err = NULL;
	if (sasl_client_start(c, data[1] & 1, &wire, &display, &err) == -1) {
		/* Only a -PLUS mechanism without a binding cannot start. */
		fuzz_check(err != NULL && wire == NULL && display == NULL);
		free(err);
		sasl_client_free(c);
		free(user);
		free(chal);
		return 0;
	}
	fuzz_check(wire != NULL && display != NULL);
	no_secret(display);
	secret_free_str(wire);
	free(display);
	/* Up to four challenges, cut from the rest of the input at '|'. */
	for (step = 0; step < 4 && off <= size; step++) {
		const uint8_t *bar = memchr(data + off, '|', size - off);

		n = bar != NULL ? (size_t)(bar - (data + off)) : size - off;
		wire = display = err = NULL;
		if (sasl_client_step(c, (const char *)data + off, n, &wire,
		        &display, &err) == 0) {
			fuzz_check(wire != NULL && display != NULL);
			no_secret(display);
			secret_free_str(wire);
			free(display);
		} else {
			fuzz_check(err != NULL);
			free(err);
		}
		off += n + 1;
	}
	sasl_client_free(c);
	free(user);
	free(chal);
	return 0;
}
