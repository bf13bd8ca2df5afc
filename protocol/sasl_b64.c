/*
 * Base64 for SASL (RFC 4648 4, as RFC 4954 uses it): the one encoder and
 * strict decoder of the SASL rooms (sasl.c, sasl_gsasl.c, the practice
 * server's AUTH) and of the session's secret masking, on OpenSSL's EVP
 * block functions.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/xmalloc.h"
#include "protocol/sasl.h"

/*
 * Base64.  OpenSSL's EVP_DecodeBlock skips surrounding whitespace, accepts
 * '=' anywhere and counts padding as decoded zero bytes, so the input is
 * checked here first and the real length computed from the padding.
 */

static int
sasl_b64_is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

char *
sasl_b64_encode(const void *p, size_t n)
{
	char *out;
	int len;

	if (n > (size_t)INT_MAX / 4 * 3 - 3)
		fatalx("base64 input too large (%zu bytes)", n);
	out = xmalloc((n + 2) / 3 * 4 + 1);
	len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	out[len] = '\0';
	return out;
}

unsigned char *
sasl_b64_decode(const char *s, size_t n, size_t *outlen)
{
	unsigned char *out;
	size_t i, pad = 0, max;
	int len;

	if (n % 4 != 0 || n > (size_t)INT_MAX)
		return NULL;
	if (n > 0 && s[n - 1] == '=') {
		pad = 1;
		if (s[n - 2] == '=')
			pad = 2;
	}
	for (i = 0; i < n - pad; i++) {
		if (!sasl_b64_is_alpha((unsigned char)s[i]))
			return NULL;
	}
	max = n / 4 * 3;
	out = xmalloc(max + 1);
	len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (len < 0 || (size_t)len != max) {
		secret_free(out, max + 1);
		return NULL;
	}
	/* The padding decodes to bytes that are not data; clear them. */
	memset(out + max - pad, 0, pad + 1);
	if (outlen != NULL)
		*outlen = max - pad;
	return out;
}
