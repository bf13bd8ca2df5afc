/*
 * LMTP in the session engine (RFC 2033): the session greets with LHLO
 * instead of EHLO and, after the end of the data (the final dot, or the
 * reply to BDAT ... LAST), the server answers once for every recipient
 * it accepted, in the order of the RCPT commands.  This file keeps the
 * accepted RCPT stages of the current transaction and, when the first
 * end-of-data reply comes, opens one more "end of data" stage per
 * further recipient at the head of the wait FIFO, so each reply lands
 * on its own stage (named after its recipient) ahead of anything
 * pipelined after the data.
 */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/session_int.h"

void
smtp_session_set_lmtp(struct smtp_session *s, int on)
{
	s->lmtp = on != 0;
}

int
smtp_session_is_lmtp(const struct smtp_session *s)
{
	return s->lmtp;
}

void
session_lmtp_reset(struct smtp_session *s)
{
	s->lmtp_naccepted = 0;
}

void
session_lmtp_rcpt(struct smtp_session *s, size_t idx)
{
	if (!s->lmtp)
		return;
	if (s->lmtp_naccepted == s->lmtp_capaccepted) {
		s->lmtp_capaccepted =
		    s->lmtp_capaccepted ? s->lmtp_capaccepted * 2 : 8;
		s->lmtp_accepted = xreallocarray(s->lmtp_accepted,
		    s->lmtp_capaccepted, sizeof *s->lmtp_accepted);
	}
	s->lmtp_accepted[s->lmtp_naccepted++] = idx;
}

/* Puts idx at the head of the wait FIFO: it is answered next. */
static void
wait_push_front(struct smtp_session *s, size_t idx)
{
	if (s->headwaiting > 0) {
		s->waiting[--s->headwaiting] = idx;
		return;
	}
	session_wait_push(s, idx); /* makes room at the tail */
	memmove(s->waiting + s->headwaiting + 1, s->waiting + s->headwaiting,
	    (s->nwaiting - 1 - s->headwaiting) * sizeof *s->waiting);
	s->waiting[s->headwaiting] = idx;
}

/* "for <a@example.org>" from the accepted "RCPT TO:<a@example.org> ..." */
static char *
for_recipient(const struct smtp_session *s, size_t rcpt, const char *what)
{
	const char *cmd = s->stages[rcpt].command;
	const char *lt = strchr(cmd, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt != NULL && gt != NULL)
		return xasprintf("%s for %.*s", what, (int)(gt - lt + 1), lt);
	return xasprintf("%s for %s", what, cmd);
}

void
session_lmtp_end_reply(struct smtp_session *s, size_t idx)
{
	size_t i, n = s->lmtp_naccepted, *added;
	unsigned txn = s->stages[idx].txn;
	char *name;

	if (!s->lmtp || n == 0)
		return;
	s->lmtp_naccepted = 0; /* this transaction's replies are placed */
	if (s->stages[idx].kind == SMTP_STAGE_MESSAGE) {
		/* BDAT keeps its command: LAST is read from it. */
		name = for_recipient(
		    s, s->lmtp_accepted[0], s->stages[idx].command);
		free(s->stages[idx].command);
		s->stages[idx].command = name;
	}
	if (n == 1)
		return;
	added = xcalloc(n - 1, sizeof *added);
	for (i = 1; i < n; i++) {
		name = for_recipient(s, s->lmtp_accepted[i], "reply");
		added[i - 1] = session_stage_add(s, SMTP_STAGE_MESSAGE, name);
		s->stages[added[i - 1]].txn = txn;
		free(name);
	}
	for (i = n - 1; i > 0; i--)
		wait_push_front(s, added[i - 1]);
	free(added);
	smtp_session_note(s,
	    "LMTP: one reply per accepted recipient (%zu) follows the end of "
	    "data (RFC 2033 4.2)",
	    n);
}
