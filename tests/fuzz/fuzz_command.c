/*
 * Fuzz target: the command language (protocol/command.c and
 * protocol/complete.c), as a script or the input line gives it.  The
 * first two bytes choose the protocol state and what the server
 * advertised; the rest is one typed line.  The check must refuse a line
 * holding CR, LF or NUL and only then; completion must return words
 * that fit the line and its own bounds.
 */
#include <string.h>

#include "fuzz.h"
#include "protocol/caps.h"
#include "protocol/command.h"
#include "protocol/complete.h"
#include "protocol/sasl.h"

static const char *const addresses[] = {
    "alice@example.test", "bob@example.test", "<", ""};
static const char *const hosts[] = {"client.example.test", "localhost"};
/* Every argument kind, as a UI's command table hands them over. */
static const struct smtp_complete_slash slash[] = {
    {"/connect", SMTP_COMPLETE_ARG_HOST, 1},
    {"/auth", SMTP_COMPLETE_ARG_MECH, 1},
    {"/body", SMTP_COMPLETE_ARG_FILE, 1},
    {"/send", SMTP_COMPLETE_ARG_DRAFT, 1},
    {"/theme", SMTP_COMPLETE_ARG_THEME, 1},
    {"/lesson", SMTP_COMPLETE_ARG_LESSON, 1},
    {"/probe", SMTP_COMPLETE_ARG_PROBE, 1},
    {"/expect", SMTP_COMPLETE_ARG_CODE, 1},
    {"/explain", SMTP_COMPLETE_ARG_EXPLAIN, 1},
    {"/draft", SMTP_COMPLETE_ARG_DRAFTCMD, 1},
    {"/open", SMTP_COMPLETE_ARG_HISTORY, 1},
    {"/help", SMTP_COMPLETE_ARG_COMMAND, 1},
    {"/quit", SMTP_COMPLETE_ARG_NONE, 0},
};

static void
caps_from_bits(struct smtp_caps *caps, unsigned bits)
{
	static const char *const mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5"};
	size_t i;

	memset(caps, 0, sizeof *caps);
	smtp_caps_reset(caps);
	if ((bits & 1) == 0)
		return;
	caps->valid = 1;
	caps->flags = (uint32_t)bits * 0x9e3779b1u;
	caps->size_limit = bits & 2 ? 1048576 : 0;
	for (i = 0; i < 3; i++) {
		(void)snprintf(
		    caps->auth[i], sizeof caps->auth[i], "%s", mechs[i]);
		caps->nauth++;
	}
	(void)snprintf(
	    caps->caps[0].keyword, sizeof caps->caps[0].keyword, "%s", "SIZE");
	(void)snprintf(
	    caps->caps[0].params, sizeof caps->caps[0].params, "%s", "1048576");
	caps->ncaps = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_caps caps;
	struct smtp_check check;
	struct smtp_complete_ctx ctx;
	struct smtp_completion comp;
	enum smtp_state state;
	char *line, *shown;
	size_t len, i, n, cursor;
	int has_bad;

	if (size < 2)
		return 0;
	state = (enum smtp_state)(data[0] % SMTP_STATE_COUNT);
	caps_from_bits(&caps, data[1]);
	data += 2;
	size -= 2;

	memset(&check, 0, sizeof check);
	smtp_command_check((const char *)data, size, state, &caps, &check);
	has_bad = memchr(data, '\r', size) != NULL ||
	    memchr(data, '\n', size) != NULL ||
	    memchr(data, '\0', size) != NULL;
	if (has_bad && !check.refused)
		fuzz_fail("a line with CR, LF or NUL was not refused");
	fuzz_check(!check.refused || check.reason != NULL);
	fuzz_check(check.nwarn <= SMTP_CHECK_MAX_WARNINGS);
	for (i = 0; i < check.nwarn; i++)
		fuzz_check(memchr(check.warn[i], '\0', sizeof check.warn[i]));
	(void)smtp_command_lookup((const char *)data, size);
	(void)smtp_state_name(state);

	/* The rest works on C strings, as the input line has them. */
	line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	len = strlen(line);

	memset(&ctx, 0, sizeof ctx);
	ctx.state = state;
	ctx.caps = &caps;
	ctx.addresses.items = addresses;
	ctx.addresses.n = sizeof addresses / sizeof addresses[0];
	ctx.hosts.items = hosts;
	ctx.hosts.n = sizeof hosts / sizeof hosts[0];
	ctx.slash = slash;
	ctx.nslash = sizeof slash / sizeof slash[0];
	for (cursor = 0; cursor <= len; cursor += 1 + len / 4) {
		n = smtp_complete(line, cursor, &ctx, &comp);
		fuzz_check(n == comp.nmatches);
		fuzz_check(comp.nmatches <= SMTP_COMPLETE_MAX);
		fuzz_check(comp.start <= cursor);
		for (i = 0; i < comp.nmatches; i++)
			fuzz_check(
			    strlen(comp.matches[i]) <= SMTP_COMPLETE_ITEM_MAX);
		smtp_completion_free(&comp);
	}

	shown = sasl_redact_auth_command(line);
	fuzz_check(shown != NULL);
	free(shown);
	free(line);
	return 0;
}
