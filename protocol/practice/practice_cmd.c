/*
 * The practice server's command language outside the transaction:
 * EHLO/HELO, HELP (which lists accounts and triggers), VRFY/EXPN,
 * STARTTLS; the dispatcher that checks order and routes every command
 * line; and the input modes (command lines, DATA content dot-unstuffed
 * as it streams, counted BDAT chunks, SASL lines).
 *
 *   RFC 5321 4.1.1, 4.1.4, 4.5.2   RFC 2920 PIPELINING
 *   RFC 3207 STARTTLS              RFC 3030 CHUNKING
 */
#include "protocol/practice/practice_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/command.h"

static void pc_help_line(struct pconn *c, int last, const char *fmt, ...)
    EHLO_PRINTF(3, 4);

/* ---- commands ------------------------------------------------------------- */

static void
pc_cmd_ehlo(struct pconn *c, const char *arg, int ehlo)
{
	char safe[PC_ARG_MAX + 8], size[64];
	const char *kw;
	static const char *const kws[] = {"PIPELINING", "SIZE", "8BITMIME",
	    "SMTPUTF8", "ENHANCEDSTATUSCODES", "DSN", "CHUNKING", "VRFY",
	    "STARTTLS", "AUTH", "HELP", NULL};
	size_t i, last;

	if (*arg == '\0') {
		pc_reply(
		    c, PR_SYNTAX, ehlo ? "EHLO hostname" : "HELO hostname");
		return;
	}
	pc_txn_reset(c);
	pc_safe(c->helo_name, sizeof c->helo_name, arg, strlen(arg));
	pc_safe(safe, sizeof safe, arg, strlen(arg));
	c->helo = ehlo ? 2 : 1;
	if (!ehlo) {
		pc_reply(c, PR_HELO, safe, c->peer);
		return;
	}
	pc_line(c, PR_EHLO, 0, safe, c->peer);
	for (last = 0; kws[last + 1] != NULL; last++)
		;
	for (i = 0; kws[i] != NULL; i++) {
		if (strcmp(kws[i], "STARTTLS") == 0 &&
		    (c->tls || c->p->ssl_ctx == NULL))
			continue;
		if (strcmp(kws[i], "SIZE") == 0) {
			(void)snprintf(
			    size, sizeof size, "SIZE %u", PRACTICE_SIZE_LIMIT);
			kw = size;
		} else if (strcmp(kws[i], "AUTH") == 0)
			kw = pc_auth_keyword(c);
		else
			kw = kws[i];
		pc_line(c, PR_EHLO_KW, i == last, kw);
	}
}

static void
pc_help_line(struct pconn *c, int last, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	pc_line(c, PR_HELP, last, s);
	free(s);
}

/*
 * "Addresses: a@practice.test b@practice.test ...", in lines of a
 * sensible length: what a client completes after RCPT TO:< (a client
 * on another machine reads them with smtp_complete_scan_addresses()).
 */
static void
pc_help_known(struct pconn *c)
{
	struct buf b;
	const char *a;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; (a = practice_known_address_at(i)) != NULL; i++) {
		if (buf_used(&b) == 0)
			(void)buf_add_printf(&b, "Addresses:");
		(void)buf_add_printf(&b, " %s", a);
		if (buf_used(&b) > 60 ||
		    practice_known_address_at(i + 1) == NULL) {
			pc_help_line(c, 0, "%.*s", (int)buf_used(&b),
			    (const char *)buf_peek(&b));
			buf_clear(&b);
		}
	}
	buf_reset(&b);
}

static void
pc_cmd_help(struct pconn *c, const char *arg)
{
	const struct smtp_command *cmd;
	char safe[PC_ARG_MAX + 8];
	size_t i;

	if (*arg != '\0') {
		if ((cmd = smtp_command_find(arg, strlen(arg))) == NULL) {
			pc_safe(safe, sizeof safe, arg, strlen(arg));
			pc_reply(c, PR_HELP_UNKNOWN, safe);
			return;
		}
		pc_help_line(c, 0, "%s", cmd->syntax);
		if (cmd->verb == SMTP_VERB_AUTH)
			for (i = 0; i < PC_NACCOUNTS; i++)
				pc_help_line(c, 0,
				    "practice account: %s, password %s",
				    practice_accounts[i].user,
				    practice_accounts[i].password);
		if (cmd->verb == SMTP_VERB_VERB)
			pc_help_line(c, 0,
			    "(this server answers as historical sendmail "
			    "did: 250 Verbose mode)");
		pc_help_line(c, 1, "%s (%s)", cmd->help, cmd->rfc);
		return;
	}
	pc_help_line(c, 0,
	    "This is the ehlo practice server for "
	    "practice.test (RFC 5321).");
	pc_help_line(c, 0,
	    "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET VRFY EXPN HELP "
	    "NOOP QUIT VERB STARTTLS AUTH");
	pc_help_line(c, 0,
	    "Mailboxes: alice bob carol postmaster "
	    "@practice.test; the list staff (EXPN staff).");
	pc_help_known(c);
	for (i = 0; i < PC_NACCOUNTS; i++)
		pc_help_line(c, 0, "Account for AUTH: user %s, password %s",
		    practice_accounts[i].user, practice_accounts[i].password);
	pc_help_line(c, 0, "Teaching triggers:");
	for (i = 0; i < PC_NTRIGGERS; i++)
		pc_help_line(c, 0, "  %s -> %s", practice_triggers[i].rcpt,
		    practice_triggers[i].result);
	pc_help_line(c, 0,
	    "Accepted mail lands in the practice inbox (ehlo practice "
	    "--inbox).");
	pc_help_line(c, 1, "HELP <command> explains one command.");
}

/* Splits a VRFY/EXPN argument into local part and domain ("" if none). */
static void
pc_target(const char *arg, char *local, size_t ln, char *dom, size_t dn)
{
	const char *s = arg, *e, *at;
	size_t n;

	while (*s == ' ')
		s++;
	if (*s == '<')
		s++;
	e = s + strcspn(s, ">");
	at = memchr(s, '@', (size_t)(e - s));
	n = (size_t)((at != NULL ? at : e) - s);
	pc_safe(local, ln, s, n);
	if (at != NULL)
		pc_safe(dom, dn, at + 1, (size_t)(e - at - 1));
	else
		dom[0] = '\0';
}

static void
pc_cmd_vrfy(struct pconn *c, const char *arg, int expn)
{
	char local[PC_ARG_MAX + 8], dom[PC_ARG_MAX + 8], *s;
	const struct pc_local *loc;
	size_t i, k;

	if (*arg == '\0') {
		pc_reply(c, PR_SYNTAX, expn ? "EXPN list" : "VRFY address");
		return;
	}
	pc_target(arg, local, sizeof local, dom, sizeof dom);
	if (dom[0] != '\0' && strcasecmp(dom, PRACTICE_DOMAIN) != 0) {
		s = xasprintf("%s@%s", local, dom);
		pc_reply(c, expn ? PR_USER_UNKNOWN : PR_VRFY_REMOTE, s);
		free(s);
		return;
	}
	loc = pc_local_find(local, strlen(local));
	if (loc == NULL || loc->kind == K_UNKNOWN) {
		s = xasprintf("%s@%s", local, PRACTICE_DOMAIN);
		pc_reply(c, PR_USER_UNKNOWN, s);
		free(s);
		return;
	}
	if (loc->kind == K_LIST && expn) {
		for (i = 0; i < 3; i++) {
			for (k = 0; k < PC_NACCOUNTS; k++)
				if (strcmp(practice_accounts[k].user,
				        practice_staff[i]) == 0)
					break;
			s = k < PC_NACCOUNTS
			    ? xasprintf("%s <%s@%s>", practice_accounts[k].name,
			          practice_staff[i], PRACTICE_DOMAIN)
			    : xasprintf("<%s@%s>", practice_staff[i],
			          PRACTICE_DOMAIN);
			pc_line(c, PR_EXPN, i == 2, s);
			free(s);
		}
		return;
	}
	if (loc->kind == K_LIST) {
		s = xasprintf("%s@%s", loc->name, PRACTICE_DOMAIN);
		pc_reply(c, PR_VRFY_LIST, s, loc->name);
		free(s);
		return;
	}
	for (k = 0; k < PC_NACCOUNTS; k++)
		if (strcmp(practice_accounts[k].user, loc->name) == 0)
			break;
	if (k < PC_NACCOUNTS)
		s = xasprintf("%s <%s@%s>", practice_accounts[k].name,
		    loc->name, PRACTICE_DOMAIN);
	else if (loc->result != NULL)
		s = xasprintf("<%s@%s> (a teaching trigger: RCPT TO it gives "
		              "%s)",
		    loc->name, PRACTICE_DOMAIN, loc->result);
	else
		s = xasprintf("<%s@%s>", loc->name, PRACTICE_DOMAIN);
	pc_reply(c, expn ? PR_EXPN : PR_VRFY_USER, s);
	free(s);
}

static void
pc_cmd_starttls(struct pconn *c, const char *arg)
{
	if (*arg != '\0') {
		pc_reply(c, PR_SYNTAX, "STARTTLS (no arguments)");
		return;
	}
	if (c->tls) {
		pc_reply(c, PR_TLS_ACTIVE);
		return;
	}
	if (c->helo != 2) {
		pc_reply(
		    c, c->helo == 0 ? PR_NEED_HELO : PR_NEED_EHLO, "STARTTLS");
		return;
	}
	if (c->p->ssl_ctx == NULL) {
		pc_reply(c, PR_TLS_NA, "no certificate could be made");
		return;
	}
	pc_reply(c, PR_TLS_GO);
	/* Plain text sent after STARTTLS must not survive the upgrade
	 * (RFC 3207 6, the command injection attack). */
	if (buf_used(&c->in) > 0)
		pc_log(c, "discarding %zu octets sent after STARTTLS",
		    buf_used(&c->in));
	buf_clear(&c->in);
	c->tls_start = 1;
}

/* ---- the command dispatcher ------------------------------------------------ */

static void
pc_command(struct pconn *c, char *line, size_t n)
{
	static const char *const unimplemented[] = {"TURN", "ATRN", "ETRN",
	    "SEND", "SOML", "SAML", "XCLIENT", "XFORWARD", NULL};
	char verb[16], safe[PC_ARG_MAX + 8];
	const char *arg;
	size_t vn = strcspn(line, " ");

	if (memchr(line, '\0', n) != NULL) {
		pc_reply(c, PR_SYNTAX, "a command cannot contain NUL");
		return;
	}
	arg = line + vn;
	while (*arg == ' ')
		arg++;
	pc_safe(verb, sizeof verb, line, vn < sizeof verb - 4 ? vn : 8);
	if (c->p->o.lmtp && pc_lmtp_refuse_hello(c, line, vn))
		return;
	/* LMTP's LHLO gets EHLO's reply (RFC 2033 4.1). */
	if (pc_word_is(line, vn, "EHLO") ||
	    (c->p->o.lmtp && pc_word_is(line, vn, "LHLO")))
		pc_cmd_ehlo(c, arg, 1);
	else if (pc_word_is(line, vn, "HELO"))
		pc_cmd_ehlo(c, arg, 0);
	else if (pc_word_is(line, vn, "MAIL"))
		pc_cmd_mail(c, arg);
	else if (pc_word_is(line, vn, "RCPT"))
		pc_cmd_rcpt(c, arg);
	else if (pc_word_is(line, vn, "DATA"))
		pc_cmd_data(c, arg);
	else if (pc_word_is(line, vn, "BDAT"))
		pc_cmd_bdat(c, arg);
	else if (pc_word_is(line, vn, "RSET")) {
		if (*arg != '\0') {
			pc_reply(c, PR_SYNTAX, "RSET (no arguments)");
			return;
		}
		pc_txn_reset(c);
		pc_reply(c, PR_OK);
	} else if (pc_word_is(line, vn, "NOOP"))
		pc_reply(c, PR_OK);
	else if (pc_word_is(line, vn, "QUIT")) {
		pc_close_with(c, PR_BYE);
	} else if (pc_word_is(line, vn, "VRFY"))
		pc_cmd_vrfy(c, arg, 0);
	else if (pc_word_is(line, vn, "EXPN"))
		pc_cmd_vrfy(c, arg, 1);
	else if (pc_word_is(line, vn, "HELP"))
		pc_cmd_help(c, arg);
	else if (pc_word_is(line, vn, "VERB"))
		pc_reply(c, PR_VERB);
	else if (pc_word_is(line, vn, "STARTTLS"))
		pc_cmd_starttls(c, arg);
	else if (pc_word_is(line, vn, "AUTH"))
		pc_cmd_auth(c, arg);
	else if (pc_value_in(line, vn, unimplemented))
		pc_reply(c, PR_NOT_IMPL, verb);
	else {
		pc_safe(safe, sizeof safe, line, vn);
		pc_reply(c, PR_UNKNOWN, safe);
	}
}

/* ---- input ---------------------------------------------------------------- */

/* DATA content: returns 1 at the end of the message, 0 when it needs input. */
static int
pc_data(struct pconn *c)
{
	const char *p, *nl;
	size_t n, take;

	for (;;) {
		p = buf_peek(&c->in);
		n = buf_used(&c->in);
		if (n == 0)
			return 0;
		if (c->data_bol && p[0] == '.') {
			if (n < 2 || (p[1] == '\r' && n < 3))
				return 0;
			/* --lenient-eod: a bare LF ends the line too. */
			if ((p[1] == '\r' && p[2] == '\n') ||
			    (p[1] == '\n' && c->p->o.lenient_eod)) {
				buf_consume(&c->in, p[1] == '\n' ? 2 : 3);
				c->mode = PC_CMD;
				pc_log_content(c, c->msg_bytes);
				pc_finish_message(c);
				return 1;
			}
			buf_consume(&c->in, 1); /* dot-unstuffing */
			c->data_bol = 0;
			c->data_cr = 0;
			continue;
		}
		nl = memchr(p, '\n', n);
		take = nl != NULL ? (size_t)(nl - p) + 1 : n;
		pc_msg_add(c, p, take);
		/* A line starts after CRLF only (RFC 5321 2.3.8), or after
		 * any LF for a lenient receiver. */
		c->data_bol = nl != NULL &&
		    (c->p->o.lenient_eod ||
		        (take >= 2 ? p[take - 2] == '\r' : c->data_cr));
		c->data_cr = p[take - 1] == '\r';
		buf_consume(&c->in, take);
	}
}

static int
pc_bdat(struct pconn *c)
{
	size_t n = buf_used(&c->in);

	if (c->bdat_left > 0) {
		if (n == 0)
			return 0;
		if (n > c->bdat_left)
			n = (size_t)c->bdat_left;
		if (c->bdat_reject == PR_COUNT)
			pc_msg_add(c, buf_peek(&c->in), n);
		buf_consume(&c->in, n);
		c->bdat_left -= n;
		if (c->bdat_left > 0)
			return 0;
	}
	pc_bdat_done(c);
	return 1;
}

/*
 * A line over PC_LINE_MAX: 500 5.5.2 for a command (RFC 5321
 * 4.5.3.1.4), 500 5.5.6 inside a SASL exchange (RFC 4954 4), which
 * also ends the exchange.
 */
static void
pc_too_long(struct pconn *c)
{
	int auth = c->mode == PC_AUTH;

	pc_auth_reset(c);
	pc_reply(c, auth ? PR_TOO_LONG_AUTH : PR_TOO_LONG);
}

/* Handles everything complete in the input buffer. */
void
pc_process(struct pconn *c)
{
	char line[PC_LINE_MAX + 1];
	const char *p, *nl;
	size_t n, len;

	while (!c->dead && !c->closing && !c->paused && !c->tls_start &&
	    buf_used(&c->out) <= PC_OUT_HIGH) {
		if (c->mode == PC_DATA) {
			if (pc_data(c) == 0)
				return;
			continue;
		}
		if (c->mode == PC_BDAT) {
			if (pc_bdat(c) == 0)
				return;
			continue;
		}
		p = buf_peek(&c->in);
		n = buf_used(&c->in);
		nl = memchr(p, '\n', n);
		if (c->discarding) {
			if (nl == NULL) {
				buf_clear(&c->in);
				return;
			}
			buf_consume(&c->in, (size_t)(nl - p) + 1);
			c->discarding = 0;
			pc_too_long(c);
			continue;
		}
		if (nl == NULL) {
			if (n > PC_LINE_MAX) {
				pc_log(c, "line over %d octets", PC_LINE_MAX);
				c->discarding = 1;
				buf_clear(&c->in);
			}
			return;
		}
		len = (size_t)(nl - p) + 1;
		if (len > PC_LINE_MAX) {
			buf_consume(&c->in, len);
			pc_too_long(c);
			continue;
		}
		len--; /* LF */
		if (len > 0 && p[len - 1] == '\r')
			len--;
		memcpy(line, p, len);
		line[len] = '\0';
		buf_consume(&c->in, (size_t)(nl - p) + 1);
		pc_log_command(c, line, len);
		if (c->mode == PC_AUTH)
			pc_auth_line(c, line, len);
		else
			pc_command(c, line, len);
		OPENSSL_cleanse(line, len);
	}
}
