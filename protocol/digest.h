/*
 * SHA-256 for the history recorder (OpenSSL stays in protocol/): a
 * running digest over bytes as they are sent, and the digest of a file,
 * so a recorded /body FILE can tell on replay whether the file changed.
 */
#ifndef EHLO_PROTOCOL_DIGEST_H
#define EHLO_PROTOCOL_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* 64 lowercase hex digits and a NUL. */
#define SMTP_SHA256_HEX 65

struct smtp_sha256; /* opaque running digest */

/* A new running digest; never NULL (allocation failure is fatal). */
struct smtp_sha256 *smtp_sha256_new(void);
/* Adds n bytes. */
void smtp_sha256_update(struct smtp_sha256 *, const void *, size_t n);
/* Writes the hex digest to out and frees.  NULL is a no-op. */
void smtp_sha256_final(struct smtp_sha256 *, char out[SMTP_SHA256_HEX]);

/*
 * Digest and size of a file, read in 64 KiB chunks.  Returns 0, or -1
 * with *errstr when it cannot be opened or read.
 */
int smtp_sha256_file(
    const char *path, char out[SMTP_SHA256_HEX], uint64_t *size, char **errstr);

#endif
