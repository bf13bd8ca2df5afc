/*
 * The practice server's data directory and TLS context: a self-signed
 * certificate for localhost, the listen address and every --name (a
 * class server's names) made on first use (and again when it is near
 * its end or misses a name), kept with its key in the 0700 data
 * directory so clients can trust it with --cafile.
 *
 *   RFC 3207 STARTTLS   RFC 5280 (the certificate's extensions)
 */
#include "protocol/practice/practice_int.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/xmalloc.h"

/* ---- the data directory and the certificate ------------------------------ */

char *
practice_default_dir(char **errstr)
{
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (x != NULL && x[0] == '/')
		return xasprintf("%s/ehlo/practice", x);
	if (home != NULL && home[0] == '/')
		return xasprintf("%s/.local/share/ehlo/practice", home);
	*errstr = xstrdup("cannot find a data directory: set HOME or "
	                  "XDG_DATA_HOME");
	return NULL;
}

/* mkdir -p with mode 0700 for the parts it creates. */
int
practice_mkdirs(const char *path, char **errstr)
{
	char *s = xstrdup(path), *q;

	for (q = s + 1; *q != '\0'; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(s, 0700) == -1 && errno != EEXIST)
			goto fail;
		*q = '/';
	}
	if (mkdir(s, 0700) == -1 && errno != EEXIST)
		goto fail;
	free(s);
	return 0;
fail:
	*errstr = xasprintf("cannot create %s: %s", s, strerror(errno));
	free(s);
	return -1;
}

static int
practice_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

int
practice_name_check(const char *name, char **errstr)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		        (name[i] >= 'A' && name[i] <= 'Z') ||
		        (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
		        name[i] == '.'))
			break;
	if (n == 0 || n > 253 || i < n || name[0] == '.' || name[0] == '-') {
		*errstr = xasprintf("--name wants a host name like class.test "
		                    "(letters, digits, '-' and '.'), not "
		                    "\"%.60s\"",
		    name);
		return -1;
	}
	return 0;
}

/* The IP literal of the listen address, or NULL for a wildcard. */
static char *
practice_listen_ip(const char *listen)
{
	const char *end;
	char *ip;

	if (listen[0] == '[') {
		end = strchr(listen, ']');
		ip = end != NULL
		    ? xstrndup(listen + 1, (size_t)(end - listen - 1))
		    : NULL;
	} else {
		end = strrchr(listen, ':');
		ip = end != NULL ? xstrndup(listen, (size_t)(end - listen))
		                 : xstrdup(listen);
	}
	if (ip != NULL &&
	    (strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0 ||
	        strspn(ip, "0123456789abcdefABCDEF.:") != strlen(ip))) {
		free(ip);
		ip = NULL;
	}
	return ip;
}

/* subjectAltName: localhost, loopback, the listen address, --name. */
static char *
practice_san(const struct practice *p)
{
	char *san = xstrdup("DNS:localhost,IP:127.0.0.1,IP:::1"), *old;
	char *ip = practice_listen_ip(p->o.listen);
	char *err = NULL;
	size_t i;

	if (ip != NULL && strcmp(ip, "127.0.0.1") != 0 &&
	    strcmp(ip, "::1") != 0) {
		old = san;
		san = xasprintf("%s,IP:%s", old, ip);
		free(old);
	}
	free(ip);
	for (i = 0; i < p->o.nnames; i++) {
		if (practice_name_check(p->o.names[i], &err) == -1) {
			free(err); /* checked before: never here */
			continue;
		}
		old = san;
		san = xasprintf("%s,DNS:%s", old, p->o.names[i]);
		free(old);
	}
	return san;
}

/* A new P-256 key and a self-signed certificate valid for five years. */
static int
practice_cert_make(struct practice *p, char **errstr)
{
	char *san = practice_san(p);
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	unsigned char serial[8];
	BIGNUM *bn = NULL;
	FILE *f = NULL;
	int fd, rc = -1;

	if ((key = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL)
		goto fail;
	if (RAND_bytes(serial, sizeof serial) != 1)
		goto fail;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof serial, NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto fail;
	name = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 5L * 365 * 86400) == NULL ||
	    X509_set_pubkey(x, key) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	        (const unsigned char *)"ehlo practice server", -1, -1,
	        0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	        (const unsigned char *)"localhost", -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto fail;
	if (practice_ext(x, NID_basic_constraints, "critical,CA:TRUE") == -1 ||
	    practice_ext(x, NID_key_usage,
	        "critical,digitalSignature,keyCertSign") == -1 ||
	    practice_ext(x, NID_ext_key_usage, "serverAuth") == -1 ||
	    practice_ext(x, NID_subject_key_identifier, "hash") == -1 ||
	    practice_ext(x, NID_authority_key_identifier, "keyid:always") ==
	        -1 ||
	    practice_ext(x, NID_subject_alt_name, san) == -1)
		goto fail;
	if (X509_sign(x, key, EVP_sha256()) == 0)
		goto fail;
	(void)unlink(p->keyfile);
	fd = open(p->keyfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			(void)close(fd);
		goto fail;
	}
	if (PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	fd = open(p->cafile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			(void)close(fd);
		goto fail;
	}
	if (PEM_write_X509(f, x) != 1 || fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	f = NULL;
	rc = 0;
fail:
	if (rc == -1)
		*errstr = xasprintf("cannot make the practice certificate in "
		                    "%s: %s",
		    p->datadir,
		    errno != 0 ? strerror(errno) : "OpenSSL failed");
	if (f != NULL)
		(void)fclose(f);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	free(san);
	return rc;
}

/* 1 when cert.pem exists, is valid for at least another day and
 * names every --name and the listen address. */
static int
practice_cert_fresh(const struct practice *p, const char *path)
{
	char *ip = practice_listen_ip(p->o.listen);
	size_t i;
	FILE *f = fopen(path, "r");
	X509 *x;
	time_t soon = time(NULL) + 86400;
	int ok;

	if (f == NULL) {
		free(ip);
		return 0;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	(void)fclose(f);
	if (x == NULL) {
		ERR_clear_error();
		free(ip);
		return 0;
	}
	ok = X509_cmp_time(X509_get0_notAfter(x), &soon) > 0;
	for (i = 0; ok && i < p->o.nnames; i++)
		ok = X509_check_host(x, p->o.names[i], 0, 0, NULL) == 1;
	if (ok && ip != NULL)
		ok = X509_check_ip_asc(x, ip, 0) == 1;
	X509_free(x);
	free(ip);
	ERR_clear_error();
	return ok;
}

int
practice_tls_init(struct practice *p, char **errstr)
{
	SSL_CTX *ctx;

	if ((!practice_cert_fresh(p, p->cafile) ||
	        access(p->keyfile, R_OK) == -1) &&
	    practice_cert_make(p, errstr) == -1)
		return -1;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_use_certificate_file(ctx, p->cafile, SSL_FILETYPE_PEM) !=
	        1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, p->keyfile, SSL_FILETYPE_PEM) !=
	        1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		goto fail;
	}
	p->ssl_ctx = ctx;
	return 0;
fail:
	*errstr = xasprintf("cannot load the practice certificate %s (remove "
	                    "it and %s to make a new pair)",
	    p->cafile, p->keyfile);
	ERR_clear_error();
	return -1;
}
