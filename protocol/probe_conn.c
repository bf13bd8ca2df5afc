/*
 * The probes' common moves on a connection (protocol/probe_int.h):
 * sending a command and remembering its stage, reading a stage's reply
 * code and enhanced code, and the EHLO every probe starts with (or the
 * one the runner's STARTTLS/AUTH preamble already said).  Used by the
 * runner (probe.c) and the probes in rooms of their own
 * (probe_smuggle.c), below both.
 *
 * RFC 5321 4.1.1.1 (EHLO, HELO).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/probe_int.h"

static int
is2(int code)
{
	return code / 100 == 2;
}

size_t
probe_send(struct smtp_probe *p, const char *fmt, ...)
{
	va_list ap;
	char *line, *err = NULL;
	size_t idx = SIZE_MAX;

	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	if (smtp_client_send(p->client, line, strlen(line), &err) == 0)
		idx = smtp_session_nstages(p->session) - 1;
	else {
		smtp_session_note(p->session, "probe: %s", err);
		free(err);
	}
	free(line);
	return idx;
}

void
probe_enhanced_at(const struct smtp_probe *p, size_t idx, char *out)
{
	const struct smtp_stage *st;

	out[0] = '\0';
	if (idx == SIZE_MAX || p->session == NULL)
		return;
	st = smtp_session_stage(p->session, idx);
	if (st != NULL)
		(void)snprintf(out, 16, "%s", st->enhanced);
}

int
probe_code_at(const struct smtp_probe *p, size_t idx)
{
	const struct smtp_stage *st;

	if (idx == SIZE_MAX || p->session == NULL)
		return 0;
	st = smtp_session_stage(p->session, idx);
	return st != NULL ? st->code : 0;
}

const char *
probe_sender(const struct smtp_probe *p)
{
	return p->from != NULL ? p->from : "";
}

/* The index of the last EHLO stage answered 2xx, or SIZE_MAX. */
static size_t
last_ehlo(const struct smtp_probe *p)
{
	const struct smtp_stage *st;
	size_t i = smtp_session_nstages(p->session);

	while (i-- > 0) {
		st = smtp_session_stage(p->session, i);
		if (st->kind == SMTP_STAGE_EHLO && is2(st->code))
			return i;
	}
	return SIZE_MAX;
}

int
probe_step_ehlo(struct smtp_probe *p)
{
	if (p->phase == 0 && smtp_session_caps(p->session)->valid) {
		/* The runner's preamble (STARTTLS, AUTH) said EHLO. */
		p->ix[IX_EHLO] = last_ehlo(p);
		p->phase = 2;
	}
	if (p->phase == 0) {
		p->phase = 1;
		p->ix[IX_EHLO] = probe_send(p, "EHLO %s", p->helo);
		if (p->ix[IX_EHLO] != SIZE_MAX)
			return 1;
	}
	if (p->phase == 1) {
		p->phase = 2;
		if (!is2(probe_code_at(p, p->ix[IX_EHLO]))) {
			/* No ESMTP: plain HELO keeps the probe going. */
			(void)probe_send(p, "HELO %s", p->helo);
			return 1;
		}
	}
	return 0;
}
