/*
 * ~/.netrc, read as curl reads it (tui/config.h): tokens separated
 * by blanks and newlines, a token may be double-quoted (\" \\ \n inside);
 * `machine NAME` and `default` open an entry, `login`, `password` and
 * `account` fill it, `macdef NAME` skips to the next empty line.  The
 * entry for the host wins over `default`; a login other than the user
 * asked for does not match.  The file's bytes are wiped after reading.
 */
#include "tui/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"

#define NETRC_MAX_BYTES (1024 * 1024)

struct netrc_entry {
	int is_default;
	char *machine, *login, *password;
};

static void
entry_clear(struct netrc_entry *e)
{
	free(e->machine);
	free(e->login);
	secret_free_str(e->password);
	memset(e, 0, sizeof *e);
}

/* The next token at *p (allocated), or NULL at the end. */
static char *
next_token(const char **p, const char *end)
{
	const char *s = *p;
	char *out, *o;

	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	if (s == end) {
		*p = s;
		return NULL;
	}
	out = o = xmalloc((size_t)(end - s) + 1);
	if (*s == '"') {
		for (s++; s < end && *s != '"'; s++) {
			if (*s == '\\' && s + 1 < end) {
				s++;
				*o++ = *s == 'n' ? '\n' : *s;
				continue;
			}
			*o++ = *s;
		}
		if (s < end)
			s++;
	} else
		while (s < end && *s != ' ' && *s != '\t' && *s != '\n' &&
		    *s != '\r')
			*o++ = *s++;
	*o = '\0';
	*p = s;
	return out;
}

/* Does e answer for host and user? */
static int
entry_matches(const struct netrc_entry *e, const char *host, const char *user)
{
	if (e->password == NULL)
		return 0;
	if (user != NULL && e->login != NULL && strcmp(e->login, user) != 0)
		return 0;
	if (e->is_default)
		return 1;
	return host != NULL && e->machine != NULL &&
	    strcasecmp(e->machine, host) == 0;
}

/* Parses text; the best entry goes to *best.  -1 with *errstr. */
static int
netrc_scan(const char *path, const char *text, size_t len, const char *host,
    const char *user, struct netrc_entry *best, char **errstr)
{
	const char *p = text, *end = text + len, *blank;
	struct netrc_entry cur;
	char *tok, *val;
	int in_entry = 0, rc = 0;

	memset(&cur, 0, sizeof cur);
	for (;;) {
		tok = next_token(&p, end);
		/* An entry ends where the next begins, or at the end. */
		if (tok == NULL || strcmp(tok, "machine") == 0 ||
		    strcmp(tok, "default") == 0) {
			if (in_entry && entry_matches(&cur, host, user) &&
			    (best->password == NULL ||
			        (best->is_default && !cur.is_default))) {
				entry_clear(best);
				*best = cur;
				memset(&cur, 0, sizeof cur);
			}
			entry_clear(&cur);
			if (tok == NULL)
				break;
			in_entry = 1;
			cur.is_default = tok[0] == 'd';
			if (!cur.is_default &&
			    (cur.machine = next_token(&p, end)) == NULL) {
				*errstr = xasprintf("%s: \"machine\" without a "
				                    "name at the end",
				    path);
				rc = -1;
			}
		} else if (strcmp(tok, "macdef") == 0) {
			blank = strstr(p, "\n\n");
			p = blank != NULL ? blank + 2 : end;
		} else if (strcmp(tok, "login") == 0 ||
		    strcmp(tok, "password") == 0 ||
		    strcmp(tok, "account") == 0) {
			if ((val = next_token(&p, end)) == NULL) {
				*errstr = xasprintf("%s: \"%s\" without a "
				                    "value at the end",
				    path, tok);
				rc = -1;
			} else if (tok[0] == 'l') {
				free(cur.login);
				cur.login = val;
			} else if (tok[0] == 'p') {
				secret_free_str(cur.password);
				cur.password = val;
			} else
				secret_free_str(val);
		}
		/* Anything else: curl skips it too. */
		free(tok);
		if (rc == -1)
			break;
	}
	entry_clear(&cur);
	return rc;
}

int
config_netrc_lookup(const char *path, const char *host, const char *user,
    char **login, char **password, char **errstr)
{
	struct netrc_entry best;
	struct stat st;
	char *text;
	ssize_t r;
	size_t n = 0;
	int fd, rc;

	*login = *password = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return 0; /* missing or unreadable: as curl, no entry */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > NETRC_MAX_BYTES) {
		(void)close(fd);
		return 0;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size &&
	    (r = read(fd, text + n, (size_t)st.st_size - n)) > 0)
		n += (size_t)r;
	(void)close(fd);
	text[n] = '\0';
	memset(&best, 0, sizeof best);
	rc = netrc_scan(path, text, n, host, user, &best, errstr);
	secret_free(text, (size_t)st.st_size + 1);
	if (rc == 0 && best.password != NULL) {
		*login = best.login;
		*password = best.password;
		best.login = best.password = NULL;
	}
	entry_clear(&best);
	return rc;
}
