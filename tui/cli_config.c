/*
 * The configuration file applied onto struct cli_opts (tui/cli.h):
 * the file's place, the account, and one table of keys, each with what
 * it sets.  A key applies only where the command line left the option
 * unset (command line > account > defaults: the account's settings
 * already end with its own, tui/config.c).  The loaded configuration is
 * kept in a static for the process's life because the options point
 * into it.  Also where the secret comes from when the environment gives
 * none: the password (handed to tui/lang.c, then wiped here),
 * passwordeval, ~/.netrc.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "protocol/sasl.h"
#include "tui/cli.h"
#include "tui/config.h"
#include "tui/lang.h"

/* The configuration in use (reachable until exit: o's strings). */
static struct config *config_loaded;
static char *config_server;
static char *netrc_user;

struct apply {
	struct cli_opts *o;
	const struct config *cfg;
	const struct config_account *acc;
	int tls_mode_given; /* --starttls, --no-starttls or --tls */
};

typedef int config_key_fn(
    struct apply *, const struct config_setting *, char **why);

struct config_key {
	const char *name;
	config_key_fn *fn; /* NULL: msmtp's, not used by ehlo */
};

/* Here, not in cli.c: cli.c calls into this file, not back. */
int
cli_parse_seconds(const char *s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.001) ||
	    v > 86400)
		return -1;
	*ms = (int)(v * 1000 + 0.5);
	return 0;
}

/* on/off; a key alone means on.  -1 for anything else. */
static int
on_off(const char *v)
{
	if (v[0] == '\0' || strcmp(v, "on") == 0)
		return 1;
	if (strcmp(v, "off") == 0)
		return 0;
	return -1;
}

static int
want_on_off(const struct config_setting *s, int *out, char **why)
{
	if ((*out = on_off(s->value)) == -1) {
		*why = xasprintf(
		    "%s wants on or off, not \"%s\"", s->key, s->value);
		return -1;
	}
	return 0;
}

static int
k_host(struct apply *a, const struct config_setting *s, char **why)
{
	if (s->value[0] == '\0' || strpbrk(s->value, " \t/") != NULL) {
		*why = xasprintf("host wants a host name or address, not "
		                 "\"%s\"",
		    s->value);
		return -1;
	}
	(void)a;
	return 0; /* read with port in set_server */
}

static int
k_port(struct apply *a, const struct config_setting *s, char **why)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s->value, &end, 10);
	if (errno != 0 || end == s->value || *end != '\0' || v < 1 ||
	    v > 65535) {
		*why = xasprintf("port wants a number from 1 to 65535, not "
		                 "\"%s\"",
		    s->value);
		return -1;
	}
	a->o->cfg_port = (int)v;
	return 0;
}

static int
k_from(struct apply *a, const struct config_setting *s, char **why)
{
	(void)why;
	if (a->o->from == NULL)
		a->o->from = s->value;
	return 0;
}

static int
k_domain(struct apply *a, const struct config_setting *s, char **why)
{
	if (s->value[0] == '\0') {
		*why = xstrdup("domain wants the name for EHLO/HELO");
		return -1;
	}
	if (a->o->helo == NULL)
		a->o->helo = s->value;
	return 0;
}

static int
k_user(struct apply *a, const struct config_setting *s, char **why)
{
	(void)why;
	/* Only with auth on (msmtp's reading): auth comes first. */
	if (a->o->user == NULL && a->o->auth != NULL && s->value[0] != '\0')
		a->o->user = s->value;
	return 0;
}

static int
k_password(struct apply *a, const struct config_setting *s, char **why)
{
	(void)a;
	(void)why;
	lang_secret_preset(s->value);
	explicit_bzero(s->value, strlen(s->value));
	return 0;
}

static int
k_passwordeval(struct apply *a, const struct config_setting *s, char **why)
{
	(void)why;
	if (s->value[0] != '\0')
		a->o->passwordeval = s->value;
	return 0;
}

/* msmtp's names, lower case, to ehlo's. */
static int
k_auth(struct apply *a, const struct config_setting *s, char **why)
{
	const struct sasl_mech_info *mi;
	int v = on_off(s->value);

	if (a->o->auth != NULL || v == 0)
		return 0;
	a->o->cfg_applied |= CLI_CFG_AUTH;
	if (v == 1) {
		a->o->auth = "PLAIN";
		return 0;
	}
	if ((mi = sasl_mech_find(s->value)) == NULL) {
		*why = xasprintf("auth wants on, off or a mechanism ehlo knows "
		                 "(" SASL_MECH_NAMES "), not \"%s\"",
		    s->value);
		return -1;
	}
	a->o->auth = mi->name;
	return 0;
}

static int
k_tls(struct apply *a, const struct config_setting *s, char **why)
{
	const struct config_setting *st = config_get(a->acc, "tls_starttls");
	int on, starttls = 1;

	if (want_on_off(s, &on, why) == -1)
		return -1;
	if (st != NULL && want_on_off(st, &starttls, why) == -1)
		return -1;
	if (a->tls_mode_given)
		return 0;
	a->o->cfg_applied |= CLI_CFG_TLS_MODE;
	if (!on)
		a->o->no_starttls = 1;
	else if (starttls)
		a->o->starttls = 1;
	else
		a->o->tls = 1;
	return 0;
}

static int
k_tls_starttls(struct apply *a, const struct config_setting *s, char **why)
{
	int on;

	(void)a;
	return want_on_off(s, &on, why); /* read by k_tls */
}

static int
k_trust_file(struct apply *a, const struct config_setting *s, char **why)
{
	if (s->value[0] == '\0') {
		*why = xstrdup("tls_trust_file wants a PEM file, or system");
		return -1;
	}
	if (a->o->cafile == NULL && strcmp(s->value, "system") != 0)
		a->o->cafile = s->value;
	return 0;
}

static int
k_certcheck(struct apply *a, const struct config_setting *s, char **why)
{
	int on;

	if (want_on_off(s, &on, why) == -1)
		return -1;
	if (!on)
		a->o->insecure = 1;
	return 0;
}

static int
k_host_override(struct apply *a, const struct config_setting *s, char **why)
{
	(void)why;
	if (a->o->tls_name == NULL && s->value[0] != '\0')
		a->o->tls_name = s->value;
	return 0;
}

/* --cert and --key (issue 19), loaded by cli_tls_prepare afterwards. */
static int
k_client_cert(struct apply *a, const struct config_setting *s, char **why)
{
	const char **dst =
	    strcmp(s->key, "tls_cert_file") == 0 ? &a->o->cert : &a->o->key;

	if (s->value[0] == '\0') {
		*why = xasprintf("%s wants a PEM file", s->key);
		return -1;
	}
	if (*dst == NULL)
		*dst = s->value;
	return 0;
}

static int
k_timeout(struct apply *a, const struct config_setting *s, char **why)
{
	int ms;

	if (strcmp(s->value, "off") == 0)
		return 0;
	if (cli_parse_seconds(s->value, &ms) == -1) {
		*why = xasprintf("timeout wants seconds between 0.001 and "
		                 "86400, or off, not \"%s\"",
		    s->value);
		return -1;
	}
	if (!a->o->timeout_given)
		a->o->timeout_ms = ms;
	return 0;
}

static int
k_dsn_notify(struct apply *a, const struct config_setting *s, char **why)
{
	(void)why;
	if (a->o->notify == NULL && strcmp(s->value, "off") != 0)
		a->o->notify = s->value;
	return 0;
}

static int
k_dsn_return(struct apply *a, const struct config_setting *s, char **why)
{
	if (strcmp(s->value, "off") == 0)
		return 0;
	if (strcasecmp(s->value, "headers") != 0 &&
	    strcasecmp(s->value, "hdrs") != 0 &&
	    strcasecmp(s->value, "full") != 0) {
		*why = xasprintf("dsn_return wants headers, full or off, not "
		                 "\"%s\"",
		    s->value);
		return -1;
	}
	if (a->o->ret == NULL)
		a->o->ret = strcasecmp(s->value, "full") == 0 ? "FULL" : "HDRS";
	return 0;
}

static int
k_theme(struct apply *a, const struct config_setting *s, char **why)
{
	(void)why;
	if (a->o->theme == NULL && s->value[0] != '\0')
		a->o->theme = s->value;
	return 0;
}

static int
k_history(struct apply *a, const struct config_setting *s, char **why)
{
	int on;

	if (want_on_off(s, &on, why) == -1)
		return -1;
	if (!on)
		a->o->no_history = 1;
	return 0;
}

/* history_retention AGE: older sessions are pruned (issue 17 item 8). */
static int
k_retention(struct apply *a, const struct config_setting *s, char **why)
{
	if (strcmp(s->value, "off") == 0)
		return 0;
	if (cli_parse_age(s->value) < 0) {
		*why = xasprintf("history_retention wants an age such as 90d, "
		                 "12h or 2w, or off, not \"%s\"",
		    s->value);
		return -1;
	}
	a->o->retention = s->value;
	return 0;
}

static int
k_history_db(struct apply *a, const struct config_setting *s, char **why)
{
	const char *env = getenv("EHLO_DB");

	if (s->value[0] == '\0') {
		*why = xstrdup("history_db wants a file name");
		return -1;
	}
	if (a->o->db == NULL && (env == NULL || *env == '\0'))
		a->o->db = s->value;
	return 0;
}

static int
k_plaintext(struct apply *a, const struct config_setting *s, char **why)
{
	int on;

	if (want_on_off(s, &on, why) == -1)
		return -1;
	if (on)
		a->o->allow_plaintext_auth = 1;
	return 0;
}

static int
k_net(struct apply *a, const struct config_setting *s, char **why)
{
	return cli_net_config_key(a->o, s->key, s->value, why);
}

/* In the order they are applied (tls reads tls_starttls itself). */
static const struct config_key config_keys[] = {
    {"host", k_host},
    {"port", k_port},
    {"from", k_from},
    {"domain", k_domain},
    {"auth", k_auth},
    {"user", k_user},
    {"password", k_password},
    {"passwordeval", k_passwordeval},
    {"tls", k_tls},
    {"tls_starttls", k_tls_starttls},
    {"tls_trust_file", k_trust_file},
    {"tls_certcheck", k_certcheck},
    {"tls_host_override", k_host_override},
    {"tls_cert_file", k_client_cert},
    {"tls_key_file", k_client_cert},
    {"timeout", k_timeout},
    {"dsn_notify", k_dsn_notify},
    {"dsn_return", k_dsn_return},
    {"theme", k_theme},
    {"history", k_history},
    {"history_db", k_history_db},
    {"history_retention", k_retention},
    {"allow_plaintext_auth", k_plaintext},
    /* issue 18: the network path (tui/cli_net.c) */
    {"socks", k_net},
    {"proxy_host", k_net},
    {"proxy_port", k_net},
    {"source_ip", k_net},
    /* msmtp's, with nothing to do in ehlo */
    {"logfile", NULL},
    {"logfile_time_format", NULL},
    {"syslog", NULL},
    {"aliases", NULL},
    {"auto_from", NULL},
    {"maildomain", NULL},
    {"protocol", NULL},
    {"tls_fingerprint", NULL},
    {"tls_crl_file", NULL},
    {"tls_priorities", NULL},
    {"tls_min_dh_prime_bits", NULL},
    {"ntlmdomain", NULL},
    {"remove_bcc_headers", NULL},
    {"undisclosed_recipients", NULL},
    {"socket", NULL},
    {"set_from_header", NULL},
    {"set_date_header", NULL},
    {"set_msgid_header", NULL},
    {"add_missing_from_header", NULL},
    {"add_missing_date_header", NULL},
    {"eval", NULL},
    {NULL, NULL},
};

static const struct config_key *
key_find(const char *name)
{
	const struct config_key *k;

	for (k = config_keys; k->name != NULL; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* Every line of the file whose keyword ehlo does not use, once. */
static void
report_unused(const struct config *cfg)
{
	const struct config_key *k;
	size_t i;

	for (i = 0; i < cfg->nlines; i++) {
		const struct config_setting *s = &cfg->lines[i];

		if ((k = key_find(s->key)) != NULL && k->fn != NULL)
			continue;
		(void)fprintf(stderr,
		    k != NULL ? "ehlo: %s:%u: msmtp's \"%s\" is not used by "
		                "ehlo (ignored)\n"
		              : "ehlo: %s:%u: unknown keyword \"%s\" "
		                "(ignored)\n",
		    cfg->path, s->line, s->key);
	}
}

/* $XDG_CONFIG_HOME/ehlo/config, else ~/.config/ehlo/config; NULL: none. */
static char *
default_path(void)
{
	const char *v = getenv("XDG_CONFIG_HOME");
	const struct passwd *pw;

	if (v != NULL && *v == '/')
		return xasprintf("%s/ehlo/config", v);
	v = getenv("HOME");
	if ((v == NULL || *v != '/') && (pw = getpwuid(getuid())) != NULL)
		v = pw->pw_dir;
	if (v == NULL || *v != '/')
		return NULL;
	return xasprintf("%s/.config/ehlo/config", v);
}

int64_t
cli_parse_age(const char *s)
{
	static const char units[] = "smhdw";
	static const int64_t mult[] = {1, 60, 3600, 86400, 7 * 86400};
	const char *u;
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0 || v > 100000 || *end == '\0' ||
	    end[1] != '\0' || (u = strchr(units, *end)) == NULL)
		return -1;
	return (int64_t)v * mult[u - units];
}

char **
cli_config_account_names(void)
{
	char *path = default_path(), *err = NULL, **v;
	struct config *cfg = path != NULL ? config_load(path, 0, &err) : NULL;
	size_t i, n = 0;

	free(path);
	free(err);
	v = xcalloc(cfg != NULL ? cfg->nacc + 1 : 1, sizeof *v);
	for (i = 1; cfg != NULL && i < cfg->nacc; i++)
		v[n++] = xstrdup(cfg->acc[i].name);
	config_free(cfg);
	return v;
}

static char *
account_list(const struct config *cfg)
{
	char *s = xstrdup(""), *t;
	size_t i;

	for (i = 1; i < cfg->nacc; i++) {
		t = xasprintf("%s%s%s", s, i > 1 ? ", " : "", cfg->acc[i].name);
		free(s);
		s = t;
	}
	return s;
}

/* The account to apply, or NULL after printing why not. */
static const struct config_account *
pick_account(const struct config *cfg, const char *name)
{
	const struct config_account *acc;
	char *list;

	if (name == NULL) {
		acc = config_account_find(cfg, "default");
		return acc != NULL ? acc : config_account_find(cfg, NULL);
	}
	if ((acc = config_account_find(cfg, name)) != NULL)
		return acc;
	list = account_list(cfg);
	(void)fprintf(stderr, "ehlo: %s: no account \"%s\"%s%s%s\n", cfg->path,
	    name, list[0] != '\0' ? " (accounts: " : " (it defines no account)",
	    list, list[0] != '\0' ? ")" : "");
	free(list);
	return NULL;
}

/* host and port as one SERVER string (IPv6 in brackets). */
static void
set_server(struct cli_opts *o, const struct config_account *acc)
{
	const struct config_setting *h = config_get(acc, "host");

	if (h == NULL)
		return;
	free(config_server);
	if (o->cfg_port != 0)
		config_server = xasprintf(
		    strchr(h->value, ':') != NULL ? "[%s]:%d" : "%s:%d",
		    h->value, o->cfg_port);
	else
		config_server = xstrdup(h->value);
	o->cfg_server = config_server;
}

int
cli_config_apply(struct cli_opts *o)
{
	const struct config_key *k;
	const struct config_setting *s;
	struct apply a;
	char *path, *err = NULL, *why = NULL;

	path = o->config != NULL ? xstrdup(o->config) : default_path();
	if (path == NULL) {
		if (o->account == NULL)
			return 0;
		(void)fprintf(stderr,
		    "ehlo: -a %s: no configuration file "
		    "(no home directory; use --config FILE)\n",
		    o->account);
		return -1;
	}
	config_free(config_loaded);
	config_loaded = config_load(path, o->config != NULL, &err);
	if (config_loaded == NULL) {
		if (err == NULL && o->account != NULL)
			err = xasprintf("-a %s: there is no configuration file "
			                "%s (or give --config FILE)",
			    o->account, path);
		free(path);
		if (err == NULL)
			return 0;
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		return -1;
	}
	free(path);
	report_unused(config_loaded);
	memset(&a, 0, sizeof a);
	a.o = o;
	a.cfg = config_loaded;
	a.tls_mode_given = o->starttls || o->no_starttls || o->tls;
	if ((a.acc = pick_account(config_loaded, o->account)) == NULL)
		return -1;
	for (k = config_keys; k->name != NULL; k++) {
		if (k->fn == NULL || (s = config_get(a.acc, k->name)) == NULL)
			continue;
		if (k->fn(&a, s, &why) == -1) {
			(void)fprintf(stderr, "ehlo: %s:%u: %s\n",
			    config_loaded->path, s->line, why);
			free(why);
			return -1;
		}
	}
	set_server(o, a.acc);
	return 0;
}

/* Runs cmd with /bin/sh -c; its first output line (allocated, for
 * secret_free_str), or NULL with *errstr. */
static char *
passwordeval(const char *cmd, char **errstr)
{
	size_t cap = 4096, n = 0;
	char *buf, *nl, *secret;
	int pfd[2], status;
	ssize_t r;
	pid_t pid;

	if (pipe(pfd) == -1) {
		*errstr = xasprintf("passwordeval: %s", strerror(errno));
		return NULL;
	}
	(void)fflush(NULL);
	if ((pid = fork()) == -1) {
		*errstr = xasprintf("passwordeval: %s", strerror(errno));
		(void)close(pfd[0]);
		(void)close(pfd[1]);
		return NULL;
	}
	if (pid == 0) {
		(void)close(pfd[0]);
		if (dup2(pfd[1], STDOUT_FILENO) == -1)
			_exit(127);
		(void)close(pfd[1]);
		(void)execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	(void)close(pfd[1]);
	buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap && cap < 1024 * 1024) {
			char *bigger = xmalloc(cap * 2);

			memcpy(bigger, buf, n);
			secret_free(buf, cap);
			buf = bigger;
			cap *= 2;
		}
		if (n + 1 >= cap)
			n = 0; /* over 1 MiB: keep reading, keep nothing */
		r = read(pfd[0], buf + n, cap - 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	(void)close(pfd[0]);
	buf[n] = '\0';
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if ((nl = strchr(buf, '\n')) != NULL)
		*nl = '\0';
	if (nl != NULL && nl > buf && nl[-1] == '\r')
		nl[-1] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || buf[0] == '\0') {
		*errstr = !WIFEXITED(status) || WEXITSTATUS(status) != 0
		    ? xasprintf("passwordeval: the command failed (%s %d); "
		                "no secret",
		          WIFEXITED(status) ? "exit status" : "signal",
		          WIFEXITED(status) ? WEXITSTATUS(status)
		                            : WTERMSIG(status))
		    : xstrdup("passwordeval: the command printed no secret");
		secret_free(buf, cap);
		return NULL;
	}
	secret = xstrdup(buf);
	secret_free(buf, cap);
	return secret;
}

int
cli_config_secret(struct cli_opts *o, const char *host, char **errstr)
{
	char *secret = NULL, *login = NULL, *path;
	const char *v;
	int rc = 0;

	if (o->auth == NULL || lang_secret_env() != NULL)
		return 0;
	if (o->passwordeval != NULL) {
		if ((secret = passwordeval(o->passwordeval, errstr)) == NULL)
			return -1;
		lang_secret_preset(secret);
		secret_free_str(secret);
		return 0;
	}
	if ((v = getenv("NETRC")) != NULL && *v != '\0')
		path = xstrdup(v);
	else if ((v = getenv("HOME")) != NULL && *v == '/')
		path = xasprintf("%s/.netrc", v);
	else
		return 0;
	rc = config_netrc_lookup(path, host, o->user, &login, &secret, errstr);
	free(path);
	if (rc == 0 && secret != NULL) {
		if (o->user == NULL && login != NULL) {
			free(netrc_user);
			o->user = netrc_user = login; /* o points at it */
			login = NULL;
		}
		lang_secret_preset(secret);
	}
	free(login);
	secret_free_str(secret);
	return rc;
}
