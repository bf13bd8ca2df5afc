/*
 * Library facts for `ehlo --version`; only protocol/ sees OpenSSL.
 */
#include "protocol/version.h"

#include <openssl/crypto.h>

const char *
smtp_openssl_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}
