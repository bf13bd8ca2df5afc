/*
 * SHA-256 through OpenSSL's EVP interface: a running digest and the
 * digest of a whole file (constant memory).  See digest.h.
 */
#include "protocol/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/localfile.h"
#include "core/xmalloc.h"

struct smtp_sha256 {
	EVP_MD_CTX *ctx;
};

struct smtp_sha256 *
smtp_sha256_new(void)
{
	struct smtp_sha256 *d = xmalloc(sizeof *d);

	if ((d->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
		fatalx("cannot start a SHA-256 digest");
	return d;
}

void
smtp_sha256_update(struct smtp_sha256 *d, const void *p, size_t n)
{
	if (n > 0 && EVP_DigestUpdate(d->ctx, p, n) != 1)
		fatalx("SHA-256 update failed");
}

void
smtp_sha256_final(struct smtp_sha256 *d, char out[SMTP_SHA256_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (d == NULL)
		return;
	if (EVP_DigestFinal_ex(d->ctx, md, &len) != 1 || len != 32)
		fatalx("SHA-256 final failed");
	for (i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[2 * len] = '\0';
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

int
smtp_sha256_file(
    const char *path, char out[SMTP_SHA256_HEX], uint64_t *size, char **errstr)
{
	struct smtp_sha256 *d;
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = localfile_open(path, "the file", 0, NULL, errstr)) == -1)
		return -1;
	d = smtp_sha256_new();
	buf = xmalloc(65536);
	*size = 0;
	while ((n = read(fd, buf, 65536)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*errstr = xasprintf(
			    "cannot read %s: %s", path, strerror(errno));
			smtp_sha256_final(d, out);
			free(buf);
			(void)close(fd);
			return -1;
		}
		smtp_sha256_update(d, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	smtp_sha256_final(d, out);
	free(buf);
	(void)close(fd);
	return 0;
}
