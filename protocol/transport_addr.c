/*
 * SERVER arguments and socket addresses as text: "host", "host:port",
 * "[v6addr]:port", a bare IPv6 address, lmtp:// and UNIX socket forms
 * (transport_unix.c), and "127.0.0.1:25" / "[::1]:25" for an address.
 * Shared by the connect, the resolver's --dns and the SOCKS proxy's
 * argument.
 *
 *   RFC 3986 (host:port, [v6]:port)
 */
#include "protocol/transport_int.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/xmalloc.h"

void
tr_addr_format(
    const struct sockaddr *sa, socklen_t salen, char *out, size_t outsz)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, salen, host, sizeof host, serv, sizeof serv,
	        NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		(void)snprintf(out, outsz, "(unknown address)");
		return;
	}
	if (sa->sa_family == AF_INET6)
		(void)snprintf(out, outsz, "[%s]:%s", host, serv);
	else
		(void)snprintf(out, outsz, "%s:%s", host, serv);
}

/*
 * Parses a decimal port: digits only (no sign, no blanks), 1..65535.
 * Returns the value or -1.
 */
static long
tr_port_value(const char *s)
{
	char *end;
	long v;
	size_t i, n;

	n = strlen(s);
	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return -1;
	return v;
}

int
smtp_server_parse(const char *server, int default_port, char **host,
    char **port, char **errstr)
{
	const char *colon, *close, *portstr = NULL;
	char *h, *shown;
	size_t hlen;
	long v;

	*host = *port = NULL;
	if (default_port < 1 || default_port > 65535) {
		*errstr = xasprintf(
		    "bad default port %d: expected 1-65535", default_port);
		return -1;
	}
	if (server == NULL || *server == '\0') {
		*errstr = xstrdup("empty server: expected host, host:port or "
		                  "[v6addr]:port");
		return -1;
	}
	if (smtp_server_is_unix(server)) {
		server += server[0] == '/' ? 0 : 5;
		if (server[0] != '/') {
			shown = escape_dup(server, strlen(server));
			*errstr =
			    xasprintf("the socket path \"%s\" is not "
			              "absolute: give unix:/path/to/socket",
			        shown);
			goto fail;
		}
		*host = xstrdup(server);
		*port = xstrdup("0");
		return 0;
	}
	if (strncmp(server, "lmtp://", 7) == 0)
		server += 7;
	shown = escape_dup(server, strlen(server));
	if (server[0] == '[') {
		close = strchr(server, ']');
		if (close == NULL) {
			*errstr = xasprintf("missing \"]\" in \"%s\": expected "
			                    "[v6addr] or [v6addr]:port",
			    shown);
			goto fail;
		}
		hlen = (size_t)(close - server - 1);
		h = xstrndup(server + 1, hlen);
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1] != '\0') {
			free(h);
			*errstr = xasprintf("unexpected text after \"]\" in "
			                    "\"%s\": expected [v6addr]:port",
			    shown);
			goto fail;
		}
	} else {
		/* Two colons or more: a bare IPv6 address, no port. */
		colon = strchr(server, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - server);
			h = xstrndup(server, hlen);
			portstr = colon + 1;
		} else {
			h = xstrdup(server);
			hlen = strlen(h);
		}
	}
	if (hlen == 0) {
		free(h);
		*errstr = xasprintf("empty host in \"%s\": expected host, "
		                    "host:port or [v6addr]:port",
		    shown);
		goto fail;
	}
	if (portstr != NULL) {
		v = tr_port_value(portstr);
		if (v == -1) {
			char *p = escape_dup(portstr, strlen(portstr));

			free(h);
			*errstr = xasprintf("bad port \"%s\" in \"%s\": "
			                    "expected 1-65535",
			    p, shown);
			free(p);
			goto fail;
		}
	} else
		v = default_port;
	free(shown);
	*host = h;
	*port = xasprintf("%ld", v);
	return 0;
fail:
	free(shown);
	return -1;
}
