/*
 * The network path options (issue 18): --socks (and the configuration's
 * socks, proxy_host/proxy_port and source_ip keys), --source, -4/-6,
 * checked before any network work and turned into the client's
 * smtp_net_opts.
 *
 * The SOCKS password follows the rules of the AUTH secret: never on
 * the command line (a password in the proxy URL is refused), taken
 * from EHLO_SOCKS_PASSWORD (read once at start, then removed from the
 * environment and wiped) or from ~/.netrc (machine PROXYHOST login
 * USER password ...), kept in one place until exit and wiped there; it
 * goes only into the one SOCKS message that carries it.
 */
#include "tui/cli.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/client.h"
#include "protocol/socks.h"
#include "tui/config.h"
#include "tui/lang.h"

static struct smtp_socks_spec net_spec;
static struct smtp_socks net_socks;
static char *net_env_password; /* EHLO_SOCKS_PASSWORD, taken at start */
static char *net_password; /* the one in use (env or ~/.netrc) */

static void
net_wipe(void)
{
	static int registered;

	if (!registered) {
		registered = 1;
		(void)atexit(net_wipe);
		return;
	}
	secret_free_str(net_env_password);
	net_env_password = NULL;
	secret_free_str(net_password);
	net_password = NULL;
	smtp_socks_spec_free(&net_spec);
}

void
cli_net_env_take(void)
{
	if (net_env_password != NULL)
		return;
	if ((net_env_password = lang_env_take("EHLO_SOCKS_PASSWORD")) != NULL)
		net_wipe(); /* registers the wipe at exit */
}

/* The proxy user's password: the environment, else ~/.netrc. */
static int
net_password_find(char **errstr)
{
	char *login = NULL, *secret = NULL, *path = NULL;
	const char *v;
	int rc = 0;

	secret_free_str(net_password);
	net_password = NULL;
	if (net_env_password != NULL) {
		net_password = xstrdup(net_env_password);
		return 0;
	}
	if ((v = getenv("NETRC")) != NULL && *v != '\0')
		path = xstrdup(v);
	else if ((v = getenv("HOME")) != NULL && *v == '/')
		path = xasprintf("%s/.netrc", v);
	if (path != NULL)
		rc = config_netrc_lookup(path, net_spec.host, net_spec.user,
		    &login, &secret, errstr);
	free(path);
	free(login);
	if (rc == -1)
		return -1;
	if (secret == NULL) {
		char *u = escape_dup(net_spec.user, strlen(net_spec.user));
		char *h = escape_dup(net_spec.host, strlen(net_spec.host));

		*errstr = xasprintf("--socks: the proxy user \"%s\" needs a "
		                    "password: set EHLO_SOCKS_PASSWORD, or add "
		                    "\"machine %s login %s password ...\" to "
		                    "~/.netrc",
		    u, h, u);
		free(u);
		free(h);
		return -1;
	}
	net_password = secret;
	return 0;
}

/* --dns: a numeric SERVER[:PORT], said before any network work. */
static int
net_dns_check(const char *dns, char **errstr)
{
	char *host = NULL, *port = NULL, *why = NULL;
	unsigned char tmp[16];
	int ok;

	if (smtp_server_parse(dns, 53, &host, &port, &why) == -1) {
		*errstr = xasprintf("--dns: %s", why);
		free(why);
		return -1;
	}
	ok = inet_pton(AF_INET, host, tmp) == 1 ||
	    inet_pton(AF_INET6, host, tmp) == 1;
	if (!ok)
		*errstr = xasprintf("--dns wants a numeric address "
		                    "(SERVER[:PORT], e.g. 127.0.0.1:5353), not "
		                    "\"%s\"",
		    host);
	free(host);
	free(port);
	return ok ? 0 : -1;
}

int
cli_net_prepare(struct cli_opts *o, char **errstr)
{
	unsigned char tmp[16];

	if (o->source != NULL && inet_pton(AF_INET, o->source, tmp) != 1 &&
	    inet_pton(AF_INET6, o->source, tmp) != 1) {
		char *v = escape_dup(o->source, strlen(o->source));

		*errstr = xasprintf("--source wants a numeric IPv4 or IPv6 "
		                    "address of this machine, not \"%s\"",
		    v);
		free(v);
		return -1;
	}
	if (o->source != NULL && o->family != 0 &&
	    (inet_pton(AF_INET, o->source, tmp) == 1) !=
	        (o->family == AF_INET)) {
		*errstr = xasprintf("--source %s and %s contradict each other",
		    o->source, o->family == AF_INET ? "-4" : "-6");
		return -1;
	}
	if (o->dns != NULL && net_dns_check(o->dns, errstr) == -1)
		return -1;
	smtp_socks_spec_free(&net_spec);
	memset(&net_socks, 0, sizeof net_socks);
	if (o->socks == NULL || strcmp(o->socks, "none") == 0)
		return 0;
	if (smtp_socks_parse(o->socks, &net_spec, errstr) == -1)
		return -1;
	if (net_env_password == NULL)
		net_wipe(); /* registers the wipe at exit */
	if (net_spec.user != NULL && net_password_find(errstr) == -1)
		return -1;
	net_socks.host = net_spec.host;
	net_socks.port = net_spec.port;
	net_socks.remote_dns = net_spec.remote_dns;
	net_socks.user = net_spec.user;
	net_socks.password = net_spec.user != NULL ? net_password : NULL;
	return 0;
}

int
cli_net_proxy(const char **host, const char **port)
{
	if (net_socks.host == NULL)
		return 0;
	*host = net_socks.host;
	*port = net_socks.port;
	return 1;
}

void
cli_net_client_opts(const struct cli_opts *o, struct smtp_net_opts *net)
{
	memset(net, 0, sizeof *net);
	net->family = o->family;
	net->source = o->source;
	net->dns = o->dns;
	net->timeout_ms = o->timeout_ms;
	net->socks = net_socks.host != NULL ? &net_socks : NULL;
}

/* proxy_port after proxy_host (msmtp's keys): "host:port". */
static char net_proxy_buf[600];
static const char *net_proxy_host; /* the proxy_host value in use */

int
cli_net_config_key(
    struct cli_opts *o, const char *key, const char *value, char **why)
{
	if (strcmp(key, "socks") == 0 || strcmp(key, "proxy_host") == 0) {
		if (o->socks == NULL && value[0] != '\0') {
			o->socks = value;
			if (key[0] == 'p')
				net_proxy_host = value;
		}
		return 0;
	}
	if (strcmp(key, "proxy_port") == 0) {
		if (o->socks == NULL || o->socks != net_proxy_host)
			return 0;
		(void)snprintf(net_proxy_buf, sizeof net_proxy_buf,
		    strchr(o->socks, ':') != NULL ? "[%s]:%s" : "%s:%s",
		    o->socks, value);
		o->socks = net_proxy_buf;
		return 0;
	}
	if (strcmp(key, "source_ip") == 0) {
		if (o->source == NULL && value[0] != '\0')
			o->source = value;
		return 0;
	}
	*why = xasprintf("%s: not a network key", key);
	return -1;
}
