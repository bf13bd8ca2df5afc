/*
 * The options of issue 18 items 2 and 3, checked before any network
 * work: --xclient NAME=VALUE (repeatable, and one value may hold
 * several pairs separated by blanks: `--xclient "ADDR=192.0.2.7
 * NAME=client.example"` and `--xclient ADDR=192.0.2.7 --xclient
 * NAME=client.example` ask for the same line), and the PROXY protocol
 * header: --proxy-header v1|v2 with --proxy-source ADDR:PORT, and
 * --proxy-dest ADDR:PORT (default: the address the connection reached).
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/proxyhdr.h"
#include "protocol/xclient.h"
#include "tui/cli.h"

/* The --xclient values joined by blanks, allocated; NULL when none. */
static char *
cli_xclient_pairs(const struct cli_opts *o)
{
	struct buf b;
	char *r;
	size_t i;

	if (o->xclient.n == 0)
		return NULL;
	buf_init(&b, 0);
	for (i = 0; i < o->xclient.n; i++) {
		if (i > 0)
			(void)buf_add(&b, " ", 1);
		(void)buf_add(&b, o->xclient.v[i], strlen(o->xclient.v[i]));
	}
	r = xstrndup(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	return r;
}

char *
cli_xclient_line(const struct cli_opts *o)
{
	char *pairs = cli_xclient_pairs(o), *line, *err = NULL;

	if (pairs == NULL)
		return NULL;
	line = smtp_xclient_line(pairs, &err);
	free(pairs);
	free(err); /* cli_proxy_check said so before */
	return line;
}

int
cli_proxy_check(const struct cli_opts *o, char **errstr)
{
	struct smtp_proxy_addr src, dst;
	char *pairs = cli_xclient_pairs(o), *line, *err = NULL;

	if (pairs != NULL) {
		line = smtp_xclient_line(pairs, &err);
		free(pairs);
		if (line == NULL) {
			*errstr = xasprintf("--xclient: %s", err);
			free(err);
			return -1;
		}
		free(line);
	}
	if (o->proxy_version == 0) {
		if (o->proxy_source == NULL && o->proxy_dest == NULL)
			return 0;
		*errstr = xstrdup("--proxy-source and --proxy-dest go with "
		                  "--proxy-header v1|v2");
		return -1;
	}
	if (o->proxy_source == NULL) {
		*errstr = xstrdup("--proxy-header needs --proxy-source "
		                  "ADDR:PORT, the client the header speaks for "
		                  "(e.g. 192.0.2.7:4567)");
		return -1;
	}
	if (smtp_proxy_addr_parse(o->proxy_source, &src, &err) == -1) {
		*errstr = xasprintf("--proxy-source: %s", err);
		free(err);
		return -1;
	}
	if (o->proxy_dest == NULL)
		return 0;
	if (smtp_proxy_addr_parse(o->proxy_dest, &dst, &err) == -1) {
		*errstr = xasprintf("--proxy-dest: %s", err);
		free(err);
		return -1;
	}
	if (src.family != dst.family) {
		*errstr =
		    xstrdup("--proxy-source and --proxy-dest must both be "
		            "IPv4 or both IPv6 (one PROXY header carries "
		            "one family)");
		return -1;
	}
	return 0;
}
