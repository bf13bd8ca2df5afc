/*
 * The practice server's mail transaction: MAIL FROM with its parameters
 * (SIZE, BODY, SMTPUTF8, RET, ENVID), RCPT TO with NOTIFY and ORCPT and
 * the teaching local parts (greylisting, slow answers, hang-ups), DATA
 * and BDAT, and the transaction state they build in a struct pconn.
 *
 *   RFC 5321 4.1.1.2-4.1.1.4   RFC 1870 SIZE   RFC 6152 8BITMIME
 *   RFC 6531 SMTPUTF8          RFC 3461 DSN    RFC 3030 CHUNKING
 */
#include "protocol/practice/practice_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/xtext.h"

/* ---- transactions --------------------------------------------------------- */

void
pc_txn_reset(struct pconn *c)
{
	size_t i;

	free(c->mail);
	c->mail = NULL;
	for (i = 0; i < c->nrcpts; i++)
		free(c->rcpts[i]);
	free(c->rcpts);
	c->rcpts = NULL;
	c->nrcpts = 0;
	c->rcpt_tries = 0;
	c->smtputf8 = 0;
	buf_reset(&c->msg);
	c->msg_over = 0;
	c->msg_bytes = 0;
}

void
pc_auth_reset(struct pconn *c)
{
	c->auth_step = PA_NONE;
	free(c->login_user);
	c->login_user = NULL;
	OPENSSL_cleanse(c->cram_challenge, sizeof c->cram_challenge);
	pc_scram_free(c->scram);
	c->scram = NULL;
	if (c->mode == PC_AUTH)
		c->mode = PC_CMD;
}

void
pc_msg_add(struct pconn *c, const char *p, size_t n)
{
	c->msg_bytes += n;
	if (c->msg_over)
		return;
	if (c->msg_bytes > PRACTICE_SIZE_LIMIT || buf_add(&c->msg, p, n) != 0) {
		c->msg_over = 1;
		buf_reset(&c->msg);
	}
}

/* 1 when a recipient's content filter refuses every message (badcontent@). */
static int
pc_content_refused(const struct pconn *c)
{
	const struct pc_local *loc;
	const char *at;
	size_t i;

	for (i = 0; i < c->nrcpts; i++) {
		at = strrchr(c->rcpts[i], '@');
		if (at == NULL || strcasecmp(at + 1, PRACTICE_DOMAIN) != 0)
			continue;
		loc = pc_local_find(c->rcpts[i], (size_t)(at - c->rcpts[i]));
		if (loc != NULL && loc->kind == K_CONTENT)
			return 1;
	}
	return 0;
}

void
pc_finish_message(struct pconn *c)
{
	char qid[32], lim[32];

	(void)snprintf(lim, sizeof lim, "%u", PRACTICE_SIZE_LIMIT);
	(void)snprintf(qid, sizeof qid, "P%08llX%04X",
	    (unsigned long long)time(NULL) & 0xffffffffull,
	    c->p->next_msg & 0xffffu);
	if (c->p->o.lmtp) {
		pc_lmtp_finish(c, qid, lim, pc_content_refused(c));
		pc_txn_reset(c);
		return;
	}
	if (c->msg_over) {
		pc_log(c, "message of %llu octets refused (over the limit)",
		    (unsigned long long)c->msg_bytes);
		pc_reply(c, PR_SIZE_DATA, lim);
	} else if (pc_content_refused(c)) {
		pc_log(c, "content refused (badcontent@ among the recipients)");
		pc_reply(c, PR_CONTENT);
	} else {
		if (pc_deliver(c, qid) == 0)
			pc_reply(c, PR_QUEUED, qid);
		else
			pc_reply(c, PR_LOCAL_ERROR);
	}
	pc_txn_reset(c);
}

/* ---- addresses and parameters ------------------------------------------- */

/*
 * Parses "<path>" at s (after "FROM:" or "TO:", blanks allowed before
 * it).  On success *path is the allocated address (source route
 * dropped) and *rest points after '>'.  Returns -1 on bad syntax.
 */
static int
pc_path_parse(const char *s, char **path, const char **rest, int *nonascii)
{
	const char *p, *start, *at = NULL;
	int quoted = 0;

	while (*s == ' ')
		s++;
	if (*s != '<')
		return -1;
	start = ++s;
	if (*start == '@') { /* obsolete source route "@a,@b:" */
		while (*s != '\0' && *s != ':' && *s != '>')
			s++;
		if (*s != ':')
			return -1;
		start = ++s;
	}
	*nonascii = 0;
	for (p = start; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (quoted) {
			if (ch == '\\' && p[1] != '\0')
				p++;
			else if (ch == '"')
				quoted = 0;
			continue;
		}
		if (ch == '"')
			quoted = 1;
		else if (ch == '>')
			break;
		else if (ch == '@')
			at = p;
		else if (ch <= ' ' || ch == 0x7f || ch == '<' || ch == '(' ||
		    ch == ')' || ch == ',' || ch == ';' || ch == ':' ||
		    ch == '\\' || ch == '[' || ch == ']')
			if (!(at != NULL &&
			        (ch == '[' || ch == ']' || ch == ':')))
				return -1;
		if (ch >= 0x80)
			*nonascii = 1;
	}
	if (*p != '>' || (size_t)(p - start) > 256)
		return -1;
	if (p > start) {
		/* local@domain, both non-empty; "postmaster" alone is legal. */
		if (at == NULL) {
			if (!pc_word_is(
			        start, (size_t)(p - start), "postmaster"))
				return -1;
		} else if (at == start || at + 1 == p || at[1] == '.' ||
		    p[-1] == '.')
			return -1;
	}
	*path = xstrndup(start, (size_t)(p - start));
	*rest = p + 1;
	return 0;
}

/* Next " KEY[=VALUE]" parameter; returns 0 at the end, -1 on junk. */
static int
pc_param_next(const char **s, const char **key, size_t *klen, const char **val,
    size_t *vlen)
{
	const char *p = *s;

	if (*p == '\0')
		return 0;
	if (*p != ' ')
		return -1;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 0;
	*key = p;
	while (*p != '\0' && *p != ' ' && *p != '=')
		p++;
	*klen = (size_t)(p - *key);
	*val = NULL;
	*vlen = 0;
	if (*p == '=') {
		*val = ++p;
		while (*p != '\0' && *p != ' ')
			p++;
		*vlen = (size_t)(p - *val);
	}
	*s = p;
	return *klen > 0 ? 1 : -1;
}

int
pc_value_in(const char *v, size_t n, const char *const *set)
{
	for (; *set != NULL; set++)
		if (pc_word_is(v, n, *set))
			return 1;
	return 0;
}

static int
pc_digits(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* ---- greylisting ---------------------------------------------------------- */

/* Returns 0 when accepted, else the seconds still to wait. */
static unsigned
pc_greylist(struct pconn *c, const char *rcpt)
{
	struct practice *p = c->p;
	uint64_t now = loop_now_us(), delay, waited;
	char *key = xasprintf("%s %s %s", c->peer, c->mail, rcpt);
	struct pc_grey *g;
	size_t i;

	delay = (uint64_t)(p->o.greylist_ms ? p->o.greylist_ms
	                                    : PC_DEF_GREYLIST_MS) *
	    1000u;
	for (i = 0; i < PC_GREY_MAX; i++) {
		g = &p->grey[i];
		if (g->key == NULL || strcasecmp(g->key, key) != 0)
			continue;
		free(key);
		waited = now - g->first_us;
		if (waited >= delay)
			return 0;
		return (unsigned)((delay - waited + 999999u) / 1000000u);
	}
	g = &p->grey[p->grey_next];
	p->grey_next = (p->grey_next + 1) % PC_GREY_MAX;
	free(g->key);
	g->key = key;
	g->first_us = now;
	return (unsigned)((delay + 999999u) / 1000000u);
}

void
pc_cmd_mail(struct pconn *c, const char *arg)
{
	static const char *const bodies[] = {"7BIT", "8BITMIME", NULL};
	static const char *const rets[] = {"FULL", "HDRS", NULL};
	const char *rest, *k, *v;
	char safe[PC_ARG_MAX + 8], lim[32];
	size_t kn, vn;
	uint64_t size;
	char *path;
	int r, nonascii, utf8 = 0;

	if (c->helo == 0) {
		pc_reply(c, PR_NEED_HELO);
		return;
	}
	if (c->mail != NULL) {
		pc_reply(c, PR_NESTED_MAIL);
		return;
	}
	/* A submission server's order: TLS, then AUTH, then MAIL. */
	if (c->p->o.require_tls && !c->tls) {
		pc_reply(c, PR_NEED_TLS);
		return;
	}
	if (c->p->o.require_auth && c->auth_user == NULL) {
		pc_reply(c, PR_NEED_AUTH);
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0) {
		pc_reply(c, PR_SYNTAX, "MAIL FROM:<address>");
		return;
	}
	if (pc_path_parse(arg + 5, &path, &rest, &nonascii) == -1) {
		pc_safe(safe, sizeof safe, arg + 5, strlen(arg + 5));
		pc_reply(c, PR_BAD_SENDER, safe);
		return;
	}
	pc_safe(safe, sizeof safe, path, strlen(path));
	while ((r = pc_param_next(&rest, &k, &kn, &v, &vn)) == 1) {
		char ks[PC_ARG_MAX + 8];

		pc_safe(ks, sizeof ks, k, kn + (v != NULL ? vn + 1 : 0));
		if (c->helo != 2) {
			pc_reply(c, PR_PARAM, ks);
			goto fail;
		}
		if (pc_word_is(k, kn, "SIZE")) {
			if (v == NULL || pc_digits(v, vn, &size) == -1) {
				pc_reply(c, PR_SYNTAX, "SIZE=octets");
				goto fail;
			}
			if (size > PRACTICE_SIZE_LIMIT) {
				(void)snprintf(
				    lim, sizeof lim, "%u", PRACTICE_SIZE_LIMIT);
				pc_reply(c, PR_SIZE_DECLARED, lim);
				goto fail;
			}
		} else if (pc_word_is(k, kn, "BODY")) {
			if (v == NULL || !pc_value_in(v, vn, bodies)) {
				pc_reply(c, PR_PARAM, ks);
				goto fail;
			}
		} else if (pc_word_is(k, kn, "SMTPUTF8") && v == NULL)
			utf8 = 1;
		else if (pc_word_is(k, kn, "RET")) {
			if (v == NULL || !pc_value_in(v, vn, rets)) {
				pc_reply(c, PR_SYNTAX, "RET=FULL or RET=HDRS");
				goto fail;
			}
		} else if (pc_word_is(k, kn, "ENVID") ||
		    pc_word_is(k, kn, "AUTH")) {
			if (v == NULL ||
			    !smtp_xtext_is_valid(v, vn, SMTP_XTEXT_HEX_ANY)) {
				pc_reply(
				    c, PR_SYNTAX, "ENVID=xtext, AUTH=xtext");
				goto fail;
			}
		} else {
			pc_reply(c, PR_PARAM, ks);
			goto fail;
		}
	}
	if (r == -1) {
		pc_reply(c, PR_SYNTAX, "MAIL FROM:<address> [SP parameters]");
		goto fail;
	}
	if (nonascii && !utf8) {
		pc_reply(c, PR_UTF8, safe);
		goto fail;
	}
	if (strcasecmp(path, PC_BLOCKED_SENDER) == 0) {
		pc_log(c, "sender %s refused by policy", safe);
		pc_reply(c, PR_SENDER_POLICY, safe);
		goto fail;
	}
	c->mail = path;
	c->smtputf8 = utf8;
	pc_reply(c, PR_MAIL_OK, safe);
	return;
fail:
	free(path);
}

static void
pc_rcpt_add(struct pconn *c, char *path)
{
	c->rcpts = xreallocarray(c->rcpts, c->nrcpts + 1, sizeof *c->rcpts);
	c->rcpts[c->nrcpts++] = path;
}

/*
 * The slow@ delay is over (practice_conn.c runs the timer): the
 * recipient is accepted now and input may flow again.
 */
void
pc_slow_accept(struct pconn *c)
{
	char safe[PC_ARG_MAX + 8], secs[16];
	struct practice *p = c->p;

	c->paused = 0;
	pc_safe(safe, sizeof safe, c->slow_rcpt, strlen(c->slow_rcpt));
	(void)snprintf(secs, sizeof secs, "%u",
	    (p->o.slow_ms ? p->o.slow_ms : PC_DEF_SLOW_MS) / 1000u);
	pc_rcpt_add(c, c->slow_rcpt);
	c->slow_rcpt = NULL;
	pc_reply(c, PR_RCPT_SLOW, safe, secs);
}

void
pc_cmd_rcpt(struct pconn *c, const char *arg)
{
	static const char *const notify[] = {
	    "NEVER", "SUCCESS", "FAILURE", "DELAY", NULL};
	const char *rest, *k, *v, *at;
	char safe[PC_ARG_MAX + 8], secs[16];
	const struct pc_local *loc;
	size_t kn, vn, i;
	char *path = NULL;
	int r, nonascii;
	unsigned wait;

	if (c->helo == 0) {
		pc_reply(c, PR_NEED_HELO);
		return;
	}
	if (c->mail == NULL) {
		pc_reply(c, PR_NEED_MAIL, "RCPT");
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0) {
		pc_reply(c, PR_SYNTAX, "RCPT TO:<address>");
		return;
	}
	if (pc_path_parse(arg + 3, &path, &rest, &nonascii) == -1 ||
	    path[0] == '\0') {
		free(path);
		pc_safe(safe, sizeof safe, arg + 3, strlen(arg + 3));
		pc_reply(c, PR_BAD_RCPT, safe);
		return;
	}
	pc_safe(safe, sizeof safe, path, strlen(path));
	while ((r = pc_param_next(&rest, &k, &kn, &v, &vn)) == 1) {
		char ks[PC_ARG_MAX + 8];

		pc_safe(ks, sizeof ks, k, kn + (v != NULL ? vn + 1 : 0));
		if (c->helo != 2) {
			pc_reply(c, PR_PARAM, ks);
			goto fail;
		}
		if (pc_word_is(k, kn, "NOTIFY")) {
			/* a comma list; checked word by word */
			const char *w = v, *e = v != NULL ? v + vn : NULL;

			while (w != NULL && w < e) {
				const char *comma =
				    memchr(w, ',', (size_t)(e - w));
				size_t wn = (size_t)((comma ? comma : e) - w);

				if (!pc_value_in(w, wn, notify)) {
					w = NULL;
					break;
				}
				w = comma ? comma + 1 : e;
			}
			if (w == NULL) {
				pc_reply(c, PR_SYNTAX,
				    "NOTIFY=NEVER or NOTIFY=SUCCESS,FAILURE,"
				    "DELAY");
				goto fail;
			}
		} else if (pc_word_is(k, kn, "ORCPT")) {
			if (v == NULL || memchr(v, ';', vn) == NULL) {
				pc_reply(c, PR_SYNTAX, "ORCPT=rfc822;address");
				goto fail;
			}
		} else {
			pc_reply(c, PR_PARAM, ks);
			goto fail;
		}
	}
	if (r == -1) {
		pc_reply(c, PR_SYNTAX, "RCPT TO:<address> [SP parameters]");
		goto fail;
	}
	c->rcpt_tries++;
	if (nonascii && !c->smtputf8) {
		pc_reply(c, PR_UTF8, safe);
		goto fail;
	}
	if (c->nrcpts >= PC_MAX_RCPTS) {
		pc_reply(c, PR_TOO_MANY_RCPTS);
		goto fail;
	}
	at = strrchr(path, '@');
	if (at != NULL && strcasecmp(at + 1, PRACTICE_DOMAIN) != 0) {
		if (c->auth_user == NULL) {
			pc_log(c, "relay denied for %s", safe);
			pc_reply(c, PR_RELAY, safe);
			goto fail;
		}
		pc_reply(c, PR_RCPT_RELAY, safe, c->auth_user);
		pc_rcpt_add(c, path);
		return;
	}
	loc = pc_local_find(
	    path, at != NULL ? (size_t)(at - path) : strlen(path));
	for (i = 0; i < c->nrcpts && loc != NULL; i++)
		if (strcasecmp(c->rcpts[i], path) == 0) {
			/* the same recipient twice gets one copy */
			pc_reply(c, PR_RCPT_OK, safe);
			goto fail;
		}
	switch (loc != NULL ? loc->kind : K_UNKNOWN) {
	case K_MAILBOX:
		pc_reply(c, PR_RCPT_OK, safe);
		pc_rcpt_add(c, path);
		return;
	case K_LIST:
		pc_reply(c, PR_RCPT_LIST, safe);
		pc_rcpt_add(c, path);
		return;
	case K_UNKNOWN:
		pc_reply(c, PR_USER_UNKNOWN, safe);
		break;
	case K_FULL:
		if (c->p->o.lmtp) { /* refused after the data (LMTP) */
			pc_reply(c, PR_RCPT_OK, safe);
			pc_rcpt_add(c, path);
			return;
		}
		pc_reply(c, PR_FULL, safe);
		break;
	case K_GREY:
		if ((wait = pc_greylist(c, path)) == 0) {
			pc_log(c, "greylisting passed for %s", safe);
			pc_reply(c, PR_RCPT_GREY_OK, safe);
			pc_rcpt_add(c, path);
			return;
		}
		(void)snprintf(secs, sizeof secs, "%u", wait);
		pc_reply(c, PR_GREY, safe, secs);
		break;
	case K_TEMPFAIL:
		pc_reply(c, PR_TEMPFAIL, safe);
		break;
	case K_SLOW:
		pc_log(c, "slow@: replying in %u ms",
		    c->p->o.slow_ms ? c->p->o.slow_ms : PC_DEF_SLOW_MS);
		/* Paused with slow_rcpt set: practice_conn.c starts the
		 * timer once this turn's input is processed. */
		c->paused = 1;
		c->slow_rcpt = path;
		return;
	case K_BYE:
		pc_log(c, "bye@: hanging up");
		pc_close_with(c, PR_RCPT_BYE);
		break;
	case K_TOOMANY:
		pc_reply(c, PR_TOO_MANY_TRIGGER, safe);
		break;
	case K_CONTENT:
		pc_reply(c, PR_RCPT_OK, safe);
		pc_rcpt_add(c, path);
		return;
	}
fail:
	free(path);
}

void
pc_cmd_data(struct pconn *c, const char *arg)
{
	if (*arg != '\0') {
		pc_reply(c, PR_SYNTAX, "DATA (no arguments)");
		return;
	}
	if (c->helo == 0) {
		pc_reply(c, PR_NEED_HELO);
		return;
	}
	if (c->mail == NULL) {
		pc_reply(c, PR_NEED_MAIL, "DATA");
		return;
	}
	if (c->nrcpts == 0) {
		if (c->rcpt_tries > 0)
			pc_reply(c, PR_NO_VALID);
		else
			pc_reply(c, PR_NEED_RCPT, "DATA");
		return;
	}
	if (buf_used(&c->in) > 0) {
		/* RFC 2920 3.1: DATA must be the last command of a group. */
		pc_log(c, "pipelining after DATA; hanging up");
		pc_close_with(c, PR_PIPE_DATA);
		buf_clear(&c->in);
		return;
	}
	buf_reset(&c->msg);
	c->msg_over = 0;
	c->msg_bytes = 0;
	c->data_bol = 1;
	c->mode = PC_DATA;
	pc_reply(c, PR_DATA_GO);
}

void
pc_cmd_bdat(struct pconn *c, const char *arg)
{
	const char *sp = strchr(arg, ' ');
	size_t n = sp != NULL ? (size_t)(sp - arg) : strlen(arg);
	uint64_t size;

	if (pc_digits(arg, n, &size) == -1 ||
	    (sp != NULL && strcasecmp(sp + 1, "LAST") != 0)) {
		/* The chunk size is unknown: its octets will look like
		 * commands, as on any server. */
		pc_reply(c, PR_SYNTAX, "BDAT octets [LAST]");
		return;
	}
	c->bdat_left = size;
	c->bdat_last = sp != NULL;
	c->bdat_reject = PR_COUNT;
	/* RFC 3030 2: the chunk is read even when the command fails. */
	if (c->helo != 2)
		c->bdat_reject = c->helo == 0 ? PR_NEED_HELO : PR_NEED_EHLO;
	else if (c->mail == NULL)
		c->bdat_reject = PR_NEED_MAIL;
	else if (c->nrcpts == 0)
		c->bdat_reject = c->rcpt_tries > 0 ? PR_NO_VALID : PR_NEED_RCPT;
	if (c->bdat_reject == PR_COUNT && c->msg_bytes == 0 && !c->msg_over)
		buf_reset(&c->msg);
	c->mode = PC_BDAT;
}

void
pc_bdat_done(struct pconn *c)
{
	char n[32], lim[32];

	c->mode = PC_CMD;
	if (c->bdat_reject != PR_COUNT) {
		pc_reply(c, c->bdat_reject, "BDAT", (const char *)NULL);
		return;
	}
	if (c->msg_over) {
		(void)snprintf(lim, sizeof lim, "%u", PRACTICE_SIZE_LIMIT);
		pc_reply(c, PR_SIZE_DATA, lim);
		pc_txn_reset(c);
		return;
	}
	if (c->bdat_last) {
		pc_finish_message(c);
		return;
	}
	(void)snprintf(n, sizeof n, "%llu", (unsigned long long)c->msg_bytes);
	pc_reply(c, PR_BDAT_OK, n);
}
