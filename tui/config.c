/*
 * The configuration file's syntax (tui/config.h): lines are cut at LF
 * (a CR before it goes), blank lines and `#` comments are skipped, the
 * first word is the key, the rest of the line (trimmed, or one double-
 * quoted string with \" and \\) the value.  `defaults` and `account`
 * open sections.  The strings live once, in cfg->lines; an account's
 * settings point at them (the inherited ones first), so wiping the
 * lines wipes every copy.
 */
#include "tui/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"

/* Beyond this a "configuration file" is something else. */
#define CONFIG_MAX_BYTES (1024 * 1024)

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
acc_add(struct config_account *a, const struct config_setting *s)
{
	a->v = xreallocarray(a->v, a->n + 1, sizeof *a->v);
	a->v[a->n++] = *s;
}

/* Appends every setting of from to to (inheritance). */
static void
acc_inherit(struct config_account *to, const struct config_account *from)
{
	size_t i;

	if (from == NULL)
		return;
	for (i = 0; i < from->n; i++)
		acc_add(to, &from->v[i]);
}

const struct config_account *
config_account_find(const struct config *cfg, const char *name)
{
	size_t i;

	if (name == NULL)
		return &cfg->acc[0];
	for (i = 1; i < cfg->nacc; i++)
		if (strcmp(cfg->acc[i].name, name) == 0)
			return &cfg->acc[i];
	return NULL;
}

const struct config_setting *
config_get(const struct config_account *a, const char *key)
{
	size_t i;

	for (i = a->n; i > 0; i--)
		if (strcmp(a->v[i - 1].key, key) == 0)
			return &a->v[i - 1];
	return NULL;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->nlines; i++) {
		free(cfg->lines[i].key);
		secret_free_str(cfg->lines[i].value);
	}
	free(cfg->lines);
	for (i = 0; i < cfg->nacc; i++) {
		free(cfg->acc[i].name);
		free(cfg->acc[i].v);
	}
	free(cfg->acc);
	free(cfg->path);
	free(cfg);
}

/*
 * The value after the key: "" when none, one quoted string, or the rest
 * trimmed.  NULL with *why on a bad quote.
 */
static char *
parse_value(const char *p, const char *end, const char **why)
{
	char *out, *o;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (p == end || *p != '"')
		return xstrndup(p, (size_t)(end - p));
	out = o = xmalloc((size_t)(end - p));
	for (p++; p < end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
			p++;
		*o++ = *p;
	}
	*o = '\0';
	if (p == end || p + 1 != end) {
		*why = p == end ? "the value's quote is not closed"
		                : "text after the closing quote";
		secret_free_str(out);
		return NULL;
	}
	return out;
}

static int
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (is_blank(s[i]) || s[i] == ':' || s[i] == ',' ||
		    (unsigned char)s[i] < 0x20)
			return 0;
	return 1;
}

/* `account NAME [: PARENT, ...]`: a new section; -1 with *err. */
static int
open_account(struct config *cfg, const char *v, unsigned line, char **err)
{
	const char *colon = strchr(v, ':'), *p, *q, *end;
	struct config_account a;
	const struct config_account *parent;
	size_t n;

	end = colon != NULL ? colon : v + strlen(v);
	while (end > v && is_blank(end[-1]))
		end--;
	if (!name_ok(v, (size_t)(end - v))) {
		*err = xstrdup("account wants a NAME (no blanks, ':' or ','), "
		               "as in \"account work\" or \"account work : "
		               "base\"");
		return -1;
	}
	memset(&a, 0, sizeof a);
	a.name = xstrndup(v, (size_t)(end - v));
	a.line = line;
	if (config_account_find(cfg, a.name) != NULL) {
		*err = xasprintf(
		    "account \"%s\" is already defined above", a.name);
		free(a.name);
		return -1;
	}
	acc_inherit(&a, &cfg->acc[0]);
	for (p = colon != NULL ? colon + 1 : NULL; p != NULL; p = q) {
		char *pname;

		while (is_blank(*p))
			p++;
		q = strchr(p, ',');
		end = q != NULL ? q : p + strlen(p);
		n = (size_t)(end - p);
		while (n > 0 && is_blank(p[n - 1]))
			n--;
		pname = xstrndup(p, n);
		parent = name_ok(p, n) ? config_account_find(cfg, pname) : NULL;
		if (parent == NULL) {
			*err = n == 0
			    ? xstrdup("an empty parent name after ':'")
			    : xasprintf("account \"%s\" inherits from \"%s\", "
			                "which is not defined above it",
			          a.name, pname);
			free(pname);
			free(a.name);
			free(a.v);
			return -1;
		}
		free(pname);
		acc_inherit(&a, parent);
		if (q != NULL)
			q++;
	}
	cfg->acc = xreallocarray(cfg->acc, cfg->nacc + 1, sizeof *cfg->acc);
	cfg->acc[cfg->nacc++] = a;
	return 0;
}

/* One line (without its LF); -1 with *err (no file:line yet). */
static int
parse_line(struct config *cfg, size_t *cur, const char *p, const char *end,
    unsigned line, char **err)
{
	const char *k, *why = NULL;
	struct config_setting s;
	char *value;
	size_t klen, i;

	if (end > p && end[-1] == '\r')
		end--;
	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p == '#')
		return 0;
	for (k = p; p < end && !is_blank(*p); p++)
		;
	klen = (size_t)(p - k);
	for (i = 0; i < klen; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || k[i] == '_' ||
		        (k[i] >= '0' && k[i] <= '9'))) {
			*err =
			    xasprintf("\"%.*s\" is not a keyword (keywords "
			              "are lower case letters, digits and _)",
			        (int)(klen > 40 ? 40 : klen), k);
			return -1;
		}
	if ((value = parse_value(p, end, &why)) == NULL) {
		*err = xstrdup(why);
		return -1;
	}
	if (klen == 8 && memcmp(k, "defaults", 8) == 0) {
		*cur = 0;
		if (value[0] != '\0')
			*err = xstrdup("defaults takes no value");
		free(value);
		return *err != NULL ? -1 : 0;
	}
	if (klen == 7 && memcmp(k, "account", 7) == 0) {
		int rc = open_account(cfg, value, line, err);

		free(value);
		*cur = cfg->nacc - 1;
		return rc;
	}
	s.key = xstrndup(k, klen);
	s.value = value;
	s.line = line;
	if (strcmp(s.key, "password") == 0)
		cfg->has_password = 1;
	cfg->lines =
	    xreallocarray(cfg->lines, cfg->nlines + 1, sizeof *cfg->lines);
	cfg->lines[cfg->nlines++] = s;
	acc_add(&cfg->acc[*cur], &s);
	return 0;
}

struct config *
config_parse(const char *path, const char *text, size_t len, char **errstr)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);
	const char *p = text, *end = text + len, *nl;
	size_t cur = 0;
	unsigned line = 0;
	char *err = NULL;

	cfg->path = xstrdup(path);
	cfg->acc = xcalloc(1, sizeof *cfg->acc);
	cfg->nacc = 1;
	if (memchr(text, '\0', len) != NULL) {
		*errstr = xasprintf("%s: holds a NUL byte: not a text "
		                    "configuration file",
		    path);
		config_free(cfg);
		return NULL;
	}
	while (p < end) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (parse_line(cfg, &cur, p, nl, line, &err) == -1) {
			*errstr = xasprintf("%s:%u: %s", path, line, err);
			free(err);
			config_free(cfg);
			return NULL;
		}
		p = nl < end ? nl + 1 : end;
	}
	return cfg;
}

/* The whole file; -1 with *errstr (errno ENOENT kept for the caller). */
static int
read_all(const char *path, int fd, char **out, size_t *len, char **errstr)
{
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	ssize_t r;

	for (;;) {
		if (n == cap) {
			if (cap >= CONFIG_MAX_BYTES) {
				*errstr = xasprintf("%s: over %d bytes: not a "
				                    "configuration file",
				    path, CONFIG_MAX_BYTES);
				secret_free(buf, cap);
				return -1;
			}
			{
				char *bigger = xmalloc(cap * 2);

				memcpy(bigger, buf, n);
				secret_free(buf, cap);
				buf = bigger;
				cap *= 2;
			}
		}
		r = read(fd, buf + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			*errstr = xasprintf(
			    "%s: cannot read: %s", path, strerror(errno));
			secret_free(buf, cap);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return (int)cap;
}

struct config *
config_load(const char *path, int must_exist, char **errstr)
{
	struct config *cfg;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, cap;

	*errstr = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT && !must_exist)
			return NULL;
		*errstr = xasprintf("cannot open the configuration file %s: "
		                    "%s",
		    path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		*errstr = xasprintf("%s: not a regular file", path);
		(void)close(fd);
		return NULL;
	}
	cap = read_all(path, fd, &text, &len, errstr);
	(void)close(fd);
	if (cap == -1)
		return NULL;
	cfg = config_parse(path, text, len, errstr);
	secret_free(text, (size_t)cap);
	if (cfg != NULL && cfg->has_password &&
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		*errstr = xasprintf("%s: holds a password but its group or "
		                    "others may read it (mode %04o); run: "
		                    "chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		config_free(cfg);
		return NULL;
	}
	return cfg;
}
