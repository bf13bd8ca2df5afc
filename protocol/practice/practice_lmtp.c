/*
 * The practice server's LMTP mode (`ehlo practice --lmtp`, RFC 2033),
 * for the lesson on it: the greeting verb is LHLO (EHLO and HELO are
 * answered 500, as RFC 2033 4.1 says an LMTP server must), and after
 * the final dot (or BDAT LAST) each accepted recipient gets its own
 * reply, in RCPT order (RFC 2033 4.2).  To show that one message can
 * succeed for one recipient and fail for another, full@ is accepted at
 * RCPT (practice_mail.c) and refused with 552 5.2.2 after the data,
 * while the others are delivered, each as its own copy.  A message over the size limit
 * or refused by the content filter is refused for every recipient, one
 * reply each.  Everything else is the SMTP server's (practice_cmd.c,
 * practice_mail.c).
 *
 *   RFC 2033 LMTP
 */
#include "protocol/practice/practice_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
pc_lmtp_refuse_hello(struct pconn *c, const char *line, size_t vn)
{
	char verb[8];

	if (!pc_word_is(line, vn, "EHLO") && !pc_word_is(line, vn, "HELO"))
		return 0;
	pc_safe(verb, sizeof verb, line, vn);
	pc_reply(c, PR_LMTP_NO_EHLO, verb);
	return 1;
}

/* 1 when rcpt is a full@ of the practice domain. */
static int
lmtp_is_full(const char *rcpt)
{
	const struct pc_local *loc;
	const char *at = strrchr(rcpt, '@');

	if (at == NULL || strcasecmp(at + 1, PRACTICE_DOMAIN) != 0)
		return 0;
	loc = pc_local_find(rcpt, (size_t)(at - rcpt));
	return loc != NULL && loc->kind == K_FULL;
}

void
pc_lmtp_finish(struct pconn *c, const char *qid, const char *lim, int refused)
{
	char safe[PC_ARG_MAX + 8], **all = c->rcpts;
	size_t i, n = c->nrcpts;

	for (i = 0; i < n; i++) {
		pc_safe(safe, sizeof safe, all[i], strlen(all[i]));
		if (c->msg_over) {
			pc_reply(c, PR_SIZE_DATA, lim);
			continue;
		}
		if (refused) {
			pc_reply(c, PR_CONTENT);
			continue;
		}
		if (lmtp_is_full(all[i])) {
			pc_log(
			    c, "LMTP: %s is full (552 after the data)", safe);
			pc_reply(c, PR_FULL, safe);
			continue;
		}
		/* One recipient's own delivery. */
		c->rcpts = &all[i];
		c->nrcpts = 1;
		if (pc_deliver(c, qid) == 0)
			pc_reply(c, PR_LMTP_DELIVERED, safe, qid);
		else
			pc_reply(c, PR_LOCAL_ERROR);
		c->rcpts = all;
		c->nrcpts = n;
	}
}
