/*
 * `ehlo check`'s command line: the options of the monitoring plugins'
 * check_smtp, with their meanings, so that an existing Nagios or Icinga
 * service definition works with the command name swapped; everything
 * else (SERVER, --insecure, --cafile, --warning MS, --format, ...) goes
 * on to the shared parser (tui/cli.c).  Short options are check's own
 * here (-H -p -4 -6 -e -C -R -f -F -A -U -P -S -s -D -w -c -t -q -v),
 * so they mean nothing to the other subcommands.
 *
 * Also --targets FILE and --parallel N (a fleet, check_fleet.c), and
 * the -4/-6 resolution.
 *
 * A table names each plugin option once (short letter, long name,
 * whether it takes a value); check_opt_set gives the value its meaning.
 * Every usage error is returned as text that names the option, for the
 * UNKNOWN status line.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/transport.h"
#include "tui/check.h"

struct check_optdef {
	char letter; /* the short form, 0: none */
	const char *name; /* the long form */
	int value; /* takes a value */
};

static const struct check_optdef check_optdefs[] = {
    {'H', "hostname", 1},
    {'p', "port", 1},
    {'4', "use-ipv4", 0},
    {'6', "use-ipv6", 0},
    {'e', "expect", 1},
    {'C', "command", 1},
    {'R', "response", 1},
    {'f', "from", 1},
    {'F', "fqdn", 1},
    {'A', "authtype", 1},
    {'U', "authuser", 1},
    {'P', "authpass", 1},
    {'S', NULL, 0}, /* --starttls is the shared option */
    {'s', "ssl", 0},
    {'D', "certificate", 1},
    {'w', NULL, 1}, /* --warning is milliseconds (the shared option) */
    {'c', NULL, 1},
    {'t', NULL, 1}, /* --timeout is the shared option */
    {'q', "ignore-quit-failure", 0},
    {'v', "verbose", 0},
    {'L', "lmtp", 0},
    {'r', "proxy", 0},
    {0, "targets", 1},
    {0, "parallel", 1},
};

#define NOPTDEFS (sizeof check_optdefs / sizeof check_optdefs[0])

/* What was given before the shared options exist (cli_parse zeroes o). */
struct check_raw {
	const char *host, *port, *fqdn, *cert_days, *warn, *crit, *timeout;
	int starttls, tls;
};

static const struct check_optdef *
optdef_short(char c)
{
	size_t i;

	for (i = 0; i < NOPTDEFS; i++)
		if (check_optdefs[i].letter == c)
			return &check_optdefs[i];
	return NULL;
}

static const struct check_optdef *
optdef_long(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NOPTDEFS; i++)
		if (check_optdefs[i].name != NULL &&
		    strlen(check_optdefs[i].name) == len &&
		    strncmp(check_optdefs[i].name, name, len) == 0)
			return &check_optdefs[i];
	return NULL;
}

/* "-w" or "--expect": how the user would recognise the option. */
static char *
opt_label(const struct check_optdef *d, int as_long)
{
	if (as_long || d->letter == 0)
		return xasprintf("--%s", d->name);
	return xasprintf("-%c", d->letter);
}

/* Seconds as a float (-w, -c): 0 .. 86400. */
static int
parse_seconds(const char *s, double *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 86400)
		return -1;
	*ms = v * 1000;
	return 0;
}

/* Gives one plugin option its meaning; -1 with *errstr. */
static int
check_opt_set(struct check_opts *c, struct check_raw *raw,
    const struct check_optdef *d, const char *label, char *value, char **errstr)
{
	if (d->letter == 0 && strcmp(d->name, "targets") == 0) {
		c->targets = value;
		return 0;
	}
	if (d->letter == 0) {
		if (cli_parse_count(value, &c->parallel) == -1 ||
		    c->parallel < 1 || c->parallel > 10000) {
			*errstr = xasprintf("--parallel: %s is not a number of "
			                    "connections (1-10000)",
			    value);
			return -1;
		}
		return 0;
	}
	switch (d->letter) {
	case 'H':
		raw->host = value;
		break;
	case 'p':
		raw->port = value;
		break;
	case '4':
	case '6':
		if (c->family != 0 && c->family != d->letter - '0') {
			*errstr = xstrdup("-4 and -6 contradict each other");
			return -1;
		}
		c->family = d->letter - '0';
		break;
	case 'e':
		c->expect = value;
		break;
	case 'C':
		cli_list_add(&c->cmds, value);
		break;
	case 'R':
		cli_list_add(&c->resps, value);
		break;
	case 'f':
		c->from = value;
		break;
	case 'F':
		raw->fqdn = value;
		break;
	case 'A':
		c->auth_mech = value;
		break;
	case 'U':
		c->auth_user = value;
		break;
	case 'P':
		if (value == NULL) /* never: -P takes a value */
			break;
		free(c->auth_pass);
		c->auth_pass = xstrdup(value);
		explicit_bzero(value, strlen(value));
		break;
	case 'S':
		raw->starttls = 1;
		break;
	case 's':
		raw->tls = 1;
		break;
	case 'D':
		raw->cert_days = value;
		break;
	case 'w':
		raw->warn = value;
		break;
	case 'c':
		raw->crit = value;
		break;
	case 't':
		raw->timeout = value;
		break;
	case 'q':
		c->ignore_quit_failure = 1;
		break;
	case 'v':
		break; /* one line is all a plugin may print */
	case 'L':
		*errstr = xasprintf("%s: LMTP (LHLO) is not something ehlo "
		                    "check speaks; use ehlo run for LMTP",
		    label);
		return -1;
	default:
		*errstr = xasprintf("%s: the PROXY protocol is not something "
		                    "ehlo check speaks",
		    label);
		return -1;
	}
	return 0;
}

/*
 * One argv element that may hold plugin options.  Returns the number of
 * argv elements used (1 or 2), 0 when it is not ours (pass it on), -1
 * with *errstr.
 */
static int
take_option(struct check_opts *c, struct check_raw *raw, int argc, char *argv[],
    int i, char **errstr)
{
	const struct check_optdef *d;
	char *arg = argv[i], *value, *label, *eq;
	int used = 1, rc;

	if (strncmp(arg, "--", 2) == 0) {
		eq = strchr(arg, '=');
		d = optdef_long(arg + 2,
		    eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2));
		if (d == NULL)
			return 0;
		label = opt_label(d, 1);
		if (d->value && eq != NULL)
			value = eq + 1;
		else if (d->value && i + 1 < argc)
			value = argv[i + 1], used = 2;
		else if (d->value || eq != NULL) {
			*errstr = xasprintf(
			    d->value ? "%s needs a value" : "%s takes no value",
			    label);
			free(label);
			return -1;
		} else
			value = NULL;
		rc = check_opt_set(c, raw, d, label, value, errstr);
		free(label);
		return rc == -1 ? -1 : used;
	}
	if (arg[0] != '-' || arg[1] == '\0')
		return 0;
	/* A bundle of short options ("-4S", "-w0.5", "-H host"). */
	if (optdef_short(arg[1]) == NULL)
		return 0;
	for (value = arg + 1; *value != '\0'; value++) {
		d = optdef_short(*value);
		if (d == NULL) {
			*errstr = xasprintf("-%c is not an option of \"ehlo "
			                    "check\" (in %s)",
			    *value, arg);
			return -1;
		}
		label = opt_label(d, 0);
		if (d->value) {
			char *v = value[1] != '\0' ? value + 1
			    : i + 1 < argc         ? argv[i + 1]
			                           : NULL;

			if (v == NULL) {
				*errstr = xasprintf("%s needs a value", label);
				free(label);
				return -1;
			}
			if (value[1] == '\0')
				used = 2;
			rc = check_opt_set(c, raw, d, label, v, errstr);
			free(label);
			return rc == -1 ? -1 : used;
		}
		rc = check_opt_set(c, raw, d, label, NULL, errstr);
		free(label);
		if (rc == -1)
			return -1;
	}
	return used;
}

/* The meanings that need the shared options (after cli_parse). */
static int
check_opts_apply(
    struct check_opts *c, const struct check_raw *raw, char **errstr)
{
	struct cli_opts *o = &c->o;
	char *end;
	long port;

	if (raw->fqdn != NULL)
		o->helo = raw->fqdn;
	if (raw->starttls)
		o->starttls = 1;
	if (raw->tls)
		o->tls = 1;
	if (raw->timeout != NULL) {
		double ms;

		if (parse_seconds(raw->timeout, &ms) == -1 || ms < 1) {
			*errstr = xasprintf("-t: %s is not a number of seconds "
			                    "(like 10)",
			    raw->timeout);
			return -1;
		}
		o->timeout_ms = (int)ms;
	}
	if (o->warn_ms >= 0)
		c->warn_ms = (double)o->warn_ms;
	if (o->crit_ms >= 0)
		c->crit_ms = (double)o->crit_ms;
	if (raw->warn != NULL && o->warn_ms >= 0) {
		*errstr = xstrdup("-w (seconds) and --warning (milliseconds) "
		                  "both given: keep one");
		return -1;
	}
	if (raw->crit != NULL && o->crit_ms >= 0) {
		*errstr = xstrdup("-c (seconds) and --critical (milliseconds) "
		                  "both given: keep one");
		return -1;
	}
	if (raw->warn != NULL && parse_seconds(raw->warn, &c->warn_ms) == -1) {
		*errstr = xasprintf("-w: %s is not a number of seconds (like "
		                    "0.5)",
		    raw->warn);
		return -1;
	}
	if (raw->crit != NULL && parse_seconds(raw->crit, &c->crit_ms) == -1) {
		*errstr = xasprintf("-c: %s is not a number of seconds (like "
		                    "2.5)",
		    raw->crit);
		return -1;
	}
	if (c->warn_ms >= 0 && c->crit_ms >= 0 && c->warn_ms > c->crit_ms) {
		*errstr = xasprintf("the warning time (%g s) is above the "
		                    "critical time (%g s)",
		    c->warn_ms / 1000, c->crit_ms / 1000);
		return -1;
	}
	if (raw->cert_days != NULL) {
		char *copy = xstrdup(raw->cert_days),
		     *comma = strchr(copy, ',');
		int bad;

		if (comma != NULL)
			*comma = '\0';
		bad = cli_parse_count(copy, &o->cert_days_warn) == -1 ||
		    (comma != NULL &&
		        cli_parse_count(comma + 1, &o->cert_days_crit) == -1);
		free(copy);
		if (bad) {
			*errstr = xasprintf("-D: %s is not WARN[,CRIT] days "
			                    "(like 30,14)",
			    raw->cert_days);
			return -1;
		}
		c->need_cert = 1;
	}
	if (o->cert_days_warn >= 0 && o->cert_days_crit >= 0 &&
	    o->cert_days_crit > o->cert_days_warn) {
		*errstr = xasprintf("certificate days: critical (%ld) above "
		                    "warning (%ld)",
		    o->cert_days_crit, o->cert_days_warn);
		return -1;
	}
	if (c->need_cert && !o->tls) {
		if (o->no_starttls) {
			*errstr = xstrdup("-D checks the certificate, which "
			                  "--no-starttls never gets");
			return -1;
		}
		o->starttls = 1;
	}
	if (o->starttls && o->tls) {
		*errstr = xstrdup("-S (STARTTLS) and -s/--tls (TLS from the "
		                  "first byte) contradict each other");
		return -1;
	}
	if (o->starttls && o->no_starttls) {
		*errstr = xstrdup("-S and --no-starttls contradict each other");
		return -1;
	}
	/* --auth/--user are the same as -A/-U. */
	if (o->auth != NULL)
		c->auth_mech = o->auth;
	if (o->user != NULL)
		c->auth_user = o->user;
	if ((c->auth_mech != NULL) != (c->auth_user != NULL)) {
		*errstr = xstrdup(c->auth_mech != NULL
		        ? "-A MECH needs -U USER"
		        : "-U USER is only used with -A MECH");
		return -1;
	}
	if (c->auth_pass != NULL && c->auth_mech == NULL) {
		*errstr = xstrdup("-P is only used with -A MECH -U USER");
		return -1;
	}
	if (c->resps.n > c->cmds.n) {
		*errstr = xasprintf("-R given %zu times for %zu -C command%s: "
		                    "each -R pairs with the -C before it",
		    c->resps.n, c->cmds.n, c->cmds.n == 1 ? "" : "s");
		return -1;
	}
	c->json = o->json;
	if (o->format != NULL) {
		if (strcmp(o->format, "openmetrics") == 0)
			c->openmetrics = 1;
		else if (strcmp(o->format, "json") == 0)
			c->json = 1;
		else if (strcmp(o->format, "plugin") != 0) {
			*errstr = xasprintf("--format: %s is not plugin, "
			                    "openmetrics or json",
			    o->format);
			return -1;
		}
	}
	if (o->xclient.n > 0) {
		*errstr = xstrdup("--xclient is for run, send and the "
		                  "workbench: a check speaks as itself");
		return -1;
	}
	if (c->json && c->openmetrics) {
		*errstr =
		    xstrdup("--json and --format openmetrics: choose one");
		return -1;
	}
	/* The server: SERVER, or -H [-p]. */
	if (raw->port != NULL) {
		errno = 0;
		port = strtol(raw->port, &end, 10);
		if (errno != 0 || end == raw->port || *end != '\0' ||
		    port < 1 || port > 65535) {
			*errstr = xasprintf(
			    "-p: %s is not a port (1-65535)", raw->port);
			return -1;
		}
	}
	if (raw->host != NULL && o->nargs > 0) {
		*errstr = xasprintf("both -H %s and SERVER %s given: keep one",
		    raw->host, o->args[0]);
		return -1;
	}
	if (o->nargs > 1) {
		*errstr = xasprintf(
		    "one SERVER only (%s, then %s)", o->args[0], o->args[1]);
		return -1;
	}
	if (c->targets != NULL) {
		if (raw->host != NULL || o->nargs > 0) {
			*errstr = xstrdup("--targets FILE names the servers: "
			                  "no SERVER or -H beside it");
			return -1;
		}
		return 0;
	}
	if (c->parallel != 0) {
		*errstr = xstrdup("--parallel goes with --targets FILE");
		return -1;
	}
	if (raw->host == NULL && o->nargs == 0 && o->cfg_server != NULL) {
		c->server = xstrdup(o->cfg_server); /* the account's host */
		return 0;
	}
	if (raw->host == NULL && o->nargs == 0) {
		*errstr = xstrdup("no server: give -H HOST [-p PORT] or "
		                  "SERVER (host, host:port, [v6addr]:port)");
		return -1;
	}
	if (raw->host != NULL) {
		int v6 = strchr(raw->host, ':') != NULL;

		if (raw->port != NULL)
			c->server = xasprintf(
			    v6 ? "[%s]:%s" : "%s:%s", raw->host, raw->port);
		else
			c->server = xasprintf(v6 ? "[%s]" : "%s", raw->host);
	} else if (raw->port != NULL) {
		*errstr = xasprintf("-p %s goes with -H HOST; SERVER takes "
		                    "its port as host:port",
		    raw->port);
		return -1;
	} else
		c->server = xstrdup(o->args[0]);
	return 0;
}

int
check_opts_parse(int argc, char *argv[], struct check_opts *c, char **errstr)
{
	struct check_raw raw;
	char **rest, *cli_err = NULL;
	int nrest = 1, i, n, rc;

	memset(c, 0, sizeof *c);
	memset(&raw, 0, sizeof raw);
	c->warn_ms = c->crit_ms = -1;
	/* Known first, so that even a usage error comes as asked. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format=openmetrics") == 0 ||
		    (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		        strcmp(argv[i + 1], "openmetrics") == 0))
			c->openmetrics = 1;
		if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "--format=json") == 0 ||
		    (strcmp(argv[i], "--format") == 0 && i + 1 < argc &&
		        strcmp(argv[i + 1], "json") == 0))
			c->json = 1;
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	rest = xcalloc((size_t)argc + 1, sizeof *rest);
	rest[0] = argv[0];
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				rest[nrest++] = argv[i++];
			break;
		}
		n = take_option(c, &raw, argc, argv, i, errstr);
		if (n == -1) {
			free(rest);
			return -1;
		}
		if (n == 0)
			rest[nrest++] = argv[i];
		else
			i += n - 1;
	}
	cli_usage_error_to(&cli_err);
	rc = cli_parse(nrest, rest,
	    CLI_O_CONN | CLI_O_CHECK | CLI_O_FORMAT | CLI_O_JSON, &c->o);
	cli_usage_error_to(NULL);
	/* cli_parse keeps pointers into argv, never into rest itself. */
	free(rest);
	if (rc == -1) {
		*errstr = cli_err != NULL ? cli_err : xstrdup("bad usage");
		return -1;
	}
	free(cli_err);
	if (rc == 1)
		return 1;
	/* An account's AUTH settings are for sending; check authenticates
	 * only when -A/-U or --auth say so on its command line. */
	cli_config_forget(&c->o, CLI_CFG_AUTH);
	return check_opts_apply(c, &raw, errstr);
}

void
check_opts_free(struct check_opts *c)
{
	cli_opts_free(&c->o);
	free(c->cmds.v);
	free(c->resps.v);
	free(c->server);
	if (c->auth_pass != NULL) {
		explicit_bzero(c->auth_pass, strlen(c->auth_pass));
		free(c->auth_pass);
	}
	memset(c, 0, sizeof *c);
}

/*
 * -4/-6: server with its host resolved in that family ("[addr]:port"),
 * allocated; *name is the host name to verify TLS against (NULL for an
 * address).  NULL with *errstr when the host has no such address.
 */
char *
check_opts_family_server(
    const struct check_opts *co, const char *server, char **name, char **errstr)
{
	struct addrinfo hints, *res = NULL;
	char addr[INET6_ADDRSTRLEN], *h = NULL, *p = NULL, *out = NULL;
	int rc;

	*name = NULL;
	if (smtp_server_parse(server, co->o.tls ? 465 : 25, &h, &p, errstr) ==
	    -1)
		return NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = co->family == 6 ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(h, NULL, &hints, &res);
	if (rc != 0 || res == NULL)
		*errstr = xasprintf("%s has no IPv%d address (-%d): %s", h,
		    co->family, co->family, gai_strerror(rc));
	else if (getnameinfo(res->ai_addr, res->ai_addrlen, addr, sizeof addr,
	             NULL, 0, NI_NUMERICHOST) != 0)
		*errstr = xasprintf("%s: cannot show its address", h);
	else {
		out = xasprintf(co->family == 6 ? "[%s]:%s" : "%s:%s", addr, p);
		if (strcmp(addr, h) != 0)
			*name = xstrdup(h);
	}
	if (res != NULL)
		freeaddrinfo(res);
	free(h);
	free(p);
	return out;
}

const char check_opts_help[] =
    "usage: ehlo check SERVER | -H HOST [-p PORT] [options]\n"
    "A monitoring plugin (Nagios, Icinga; check_smtp's options): connect,\n"
    "EHLO, STARTTLS when offered, AUTH, MAIL, commands, QUIT.  Prints one\n"
    "line 'SMTP STATE - text | perfdata'; exit 0 OK, 1 WARNING, 2\n"
    "CRITICAL, 3 UNKNOWN.\n"
    "  -H HOST, -p PORT, -4, -6   the server, its port, the address family\n"
    "  -e TEXT                    the greeting must contain TEXT (else "
    "WARNING)\n"
    "  -C CMD [-R REGEX]          send CMD; its reply must match REGEX\n"
    "                             (repeatable, in pairs; else WARNING)\n"
    "  -f ADDR                    send MAIL FROM:<ADDR>\n"
    "  -F NAME, --helo NAME       the name for EHLO\n"
    "  -A MECH -U USER [-P PASS]  authenticate (the secret: EHLO_PASSWORD\n"
    "                             is better than -P, which ps shows)\n"
    "  -S, --starttls             STARTTLS is required; --no-starttls "
    "never\n"
    "  -s, --tls                  TLS from the first byte (SMTPS)\n"
    "  -D WARN[,CRIT]             certificate days to expiry (implies -S)\n"
    "  -w S, -c S                 total time thresholds in seconds "
    "(float)\n"
    "  --warning MS, --critical MS  the same in milliseconds\n"
    "  -t S, --timeout S          bound on each step and the whole check\n"
    "  -q, --ignore-quit-failure  a failed QUIT is no problem\n"
    "  --insecure, --cafile FILE  certificate verification\n"
    "  --socks PROXY, --source ADDR  the network path, as for ehlo run\n"
    "  --format openmetrics       Prometheus/OpenMetrics text instead\n"
    "  --format json, --json      one JSON object a target (the schema in\n"
    "                             docs/schema.json, type check)\n"
    "  --targets FILE [--parallel N]  one target a line (SERVER and its\n"
    "                             own options), N at once (default 20):\n"
    "                             a line each, a summary, the worst state\n"
    "See docs/monitoring.md.";
