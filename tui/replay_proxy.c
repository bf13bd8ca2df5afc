/*
 * A replay sends the PROXY protocol header the recorded session sent
 * (issue 18 item 3): the header is no script line (it goes before the
 * greeting, from the connection itself), so its row, on the PROXY
 * stage, is read back into --proxy-header, --proxy-source and
 * --proxy-dest.  The same version, source and destination go out
 * again, also against another SERVER: the header says what the
 * recorded proxy said.  A --proxy-header given to the replay wins.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/proxyhdr.h"
#include "tui/cli.h"
#include "tui/histcmd.h"

int
histcmd_replay_proxy(const struct histcmd_events *es, struct cli_opts *o,
    char *own[2], char **errstr)
{
	struct smtp_proxy_addr src, dst;
	size_t i;
	int version;

	own[0] = own[1] = NULL;
	if (o->proxy_version != 0)
		return 0;
	for (i = 0; i < es->n; i++) {
		const struct histcmd_event *e = &es->v[i];

		if (e->dir != 'C' || e->stage == NULL ||
		    strcmp(e->stage, "PROXY") != 0)
			continue;
		if (smtp_proxy_display_parse(
		        e->text, &version, &src, &dst, errstr) == -1)
			return -1;
		o->proxy_version = version;
		o->proxy_source = own[0] = smtp_proxy_addr_format(&src);
		o->proxy_dest = own[1] = smtp_proxy_addr_format(&dst);
		return 0;
	}
	return 0;
}
