/*
 * Fuzz target: the EHLO capability parser (protocol/caps.c).  The input
 * is read as server lines by the reply parser; every complete reply goes
 * through smtp_caps_parse(), whatever its code, and the result must stay
 * inside its fixed arrays, NUL-terminated, and answer the lookups.
 */
#include <string.h>

#include "fuzz.h"
#include "protocol/caps.h"
#include "protocol/reply.h"

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
on_event(const struct smtp_reply_event *ev, void *arg)
{
	struct smtp_caps *caps = arg;
	size_t i;
	int rc;

	if (ev->type != SMTP_REPLY_EV_REPLY)
		return;
	rc = smtp_caps_parse(caps, ev->reply);
	fuzz_check(rc == 0 || rc == -1);
	fuzz_check(rc == 0 || !caps->valid);
	fuzz_check(caps->nauth <= SMTP_AUTH_MECHS_MAX);
	fuzz_check(caps->ncaps <= SMTP_CAPS_MAX);
	fuzz_check(terminated(caps->domain, sizeof caps->domain));
	for (i = 0; i < caps->nauth; i++) {
		fuzz_check(terminated(caps->auth[i], sizeof caps->auth[i]));
		fuzz_check(smtp_caps_has_auth(caps, caps->auth[i]));
	}
	for (i = 0; i < caps->ncaps; i++) {
		fuzz_check(terminated(
		    caps->caps[i].keyword, sizeof caps->caps[i].keyword));
		fuzz_check(terminated(
		    caps->caps[i].params, sizeof caps->caps[i].params));
		fuzz_check(smtp_caps_find(caps, caps->caps[i].keyword) != NULL);
		(void)smtp_caps_flag(caps->caps[i].keyword);
	}
	(void)smtp_caps_has(caps, SMTP_CAP_PIPELINING);
	(void)smtp_caps_has_auth(caps, "plain");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	struct smtp_caps caps;

	memset(&caps, 0, sizeof caps);
	smtp_caps_reset(&caps);
	smtp_reply_parser_feed(p, (const char *)data, size, on_event, &caps);
	smtp_reply_parser_free(p);
	smtp_caps_reset(&caps);
	fuzz_check(!caps.valid && caps.ncaps == 0 && caps.nauth == 0);
	return 0;
}
