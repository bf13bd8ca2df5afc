/*
 * The configuration file in msmtp's format (docs/configuration.md): a
 * `defaults` section and named accounts (`account NAME [: PARENT, ...]`),
 * one `key value` per line.  This parser knows the syntax only; what a
 * key means and whether its value is good is tui/cli_config.c's.
 *
 * Untrusted input: any bytes; every error names the file, the line and
 * the problem.
 */
#ifndef EHLO_TUI_CONFIG_H
#define EHLO_TUI_CONFIG_H

#include <stddef.h>

/* One `key value` line, where it was written. */
struct config_setting {
	char *key;
	char *value; /* "" when the line had only the key */
	unsigned line;
};

/*
 * A section: the defaults (name NULL) or an account.  Its settings are
 * what it inherited (the defaults as they were where the account began,
 * then its parents') followed by its own lines: the last setting of a
 * key wins.
 */
struct config_account {
	char *name;
	unsigned line;
	struct config_setting *v;
	size_t n;
};

struct config {
	char *path; /* as given, for messages */
	struct config_account *acc; /* acc[0]: the defaults */
	size_t nacc;
	struct config_setting *lines; /* every setting in file order */
	size_t nlines;
	int has_password; /* a `password` line anywhere */
};

/*
 * Parses text (len bytes, NUL bytes refused) read from path (used in
 * messages only).  Returns NULL with *errstr "PATH:LINE: problem" on a
 * syntax error: an account without a name, a parent not defined above,
 * an account defined twice, an unterminated quote, a bad key.
 */
struct config *config_parse(
    const char *path, const char *text, size_t len, char **errstr);

/*
 * Reads and parses the file at path.  A missing file is NULL with
 * *errstr NULL when !must_exist.  A file holding a `password` that its
 * group or others may read is refused, with the chmod that fixes it.
 */
struct config *config_load(const char *path, int must_exist, char **errstr);

/* The account called name (NULL: the defaults), or NULL. */
const struct config_account *config_account_find(
    const struct config *, const char *name);

/* The last setting of key in a, or NULL. */
const struct config_setting *config_get(
    const struct config_account *a, const char *key);

/*
 * Looks host up in the netrc file at path (curl's reading: `machine`,
 * `default`, `login`, `password`, `macdef` skipped; the entry for host,
 * else default; when user is not NULL the entry's login must be user).
 * Sets *login and *password (allocated; the password is for
 * secret_free_str) or leaves them NULL.  A missing file is 0.  Returns
 * -1 with *errstr on a syntax error.
 */
int config_netrc_lookup(const char *path, const char *host, const char *user,
    char **login, char **password, char **errstr);

/* Wipes every value (a password may be among them), then frees. */
void config_free(struct config *);

#endif
