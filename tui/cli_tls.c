/*
 * The TLS options of the command line (issue 19): --tls-min/--tls-max,
 * --ciphers, --ciphersuites, --groups, --sni/--no-sni, --cert/--key,
 * --pin and --dane.  Each is checked when it is read or, together,
 * before any network work (cli_tls_prepare): OpenSSL is asked whether
 * it knows the ciphers and groups, the client certificate is loaded and
 * an encrypted key's passphrase asked for (EHLO_KEY_PASSPHRASE, else the
 * terminal without echo); the passphrase is wiped once the key is
 * decrypted and never stored.  The protocol side is
 * protocol/tls_opts.c.
 */
#include "tui/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/transport.h"
#include "tui/lang.h"

int
cli_tls_option(
    const char *name, const char *arg, struct cli_opts *o, char **err)
{
	if (strcmp(name, "tls-min") == 0 || strcmp(name, "tls-max") == 0) {
		if (smtp_tls_version_parse(arg) == -1) {
			*err = xasprintf("--%s wants a TLS version: 1.0, "
			                 "1.1, 1.2 or 1.3, not \"%s\"",
			    name, arg);
			return -1;
		}
		*(name[5] == 'i' ? &o->tls_min : &o->tls_max) = arg;
	} else if (strcmp(name, "ciphers") == 0)
		o->ciphers = arg;
	else if (strcmp(name, "ciphersuites") == 0)
		o->ciphersuites = arg;
	else if (strcmp(name, "groups") == 0)
		o->groups = arg;
	else if (strcmp(name, "sni") == 0) {
		if (*arg == '\0') {
			*err = xasprintf("--sni wants a host name; "
			                 "--no-sni sends none");
			return -1;
		}
		o->sni = arg;
	} else if (strcmp(name, "no-sni") == 0)
		o->no_sni = 1;
	else if (strcmp(name, "cert") == 0)
		o->cert = arg;
	else if (strcmp(name, "key") == 0)
		o->key = arg;
	else if (strcmp(name, "pin") == 0) {
		if (strncmp(arg, "sha256//", 8) != 0 || arg[8] == '\0') {
			*err = xasprintf(
			    "--pin wants sha256//BASE64 (the SHA-256 "
			    "of the server's public key, as curl's "
			    "--pinnedpubkey; several joined with \";\"), "
			    "not \"%s\"",
			    arg);
			return -1;
		}
		o->pin = arg;
	} else if (strcmp(name, "dane") == 0)
		o->dane = 1;
	return 0;
}

/* The passphrase of an encrypted --key: the environment or the tty. */
static int
cli_tls_pass(const char *path, char *buf, size_t size, void *arg)
{
	const char *env = getenv("EHLO_KEY_PASSPHRASE");
	char *err = NULL, *p;
	size_t n;

	(void)arg;
	if (env != NULL)
		p = xstrdup(env);
	else if ((p = lang_secret_ask("Passphrase for the key", path,
	              "EHLO_KEY_PASSPHRASE", &err)) == NULL) {
		(void)fprintf(stderr, "ehlo: --key: %s\n", err);
		free(err);
		return -1;
	}
	n = strlen(p);
	if (n >= size) {
		secret_free_str(p);
		return -1;
	}
	memcpy(buf, p, n + 1);
	secret_free_str(p);
	return (int)n;
}

int
cli_tls_prepare(struct cli_opts *o, char **err)
{
	struct smtp_tls_opts t;

	if (o->sni != NULL && o->no_sni) {
		*err = xasprintf("--sni and --no-sni contradict each other");
		return -1;
	}
	if (o->key != NULL && o->cert == NULL) {
		*err = xasprintf("--key %s needs --cert FILE", o->key);
		return -1;
	}
	memset(&t, 0, sizeof t);
	cli_tls_client_opts(o, &t);
	if (smtp_tls_opts_check(&t, err) == -1)
		return -1;
	if (o->cert != NULL && o->tls_identity == NULL) {
		o->tls_identity = smtp_tls_identity_load(
		    o->cert, o->key, cli_tls_pass, NULL, err);
		/* The passphrase served once; it stays nowhere. */
		if (getenv("EHLO_KEY_PASSPHRASE") != NULL)
			(void)unsetenv("EHLO_KEY_PASSPHRASE");
		if (o->tls_identity == NULL)
			return -1;
	}
	return 0;
}

void
cli_tls_client_opts(const struct cli_opts *o, struct smtp_tls_opts *t)
{
	t->min_version =
	    o->tls_min != NULL ? smtp_tls_version_parse(o->tls_min) : 0;
	t->max_version =
	    o->tls_max != NULL ? smtp_tls_version_parse(o->tls_max) : 0;
	t->ciphers = o->ciphers;
	t->ciphersuites = o->ciphersuites;
	t->groups = o->groups;
	t->sni = o->sni;
	t->no_sni = o->no_sni;
	t->identity = o->tls_identity;
	t->pin = o->pin;
}
