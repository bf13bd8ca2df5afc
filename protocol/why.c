/*
 * The cause of a failure in this session (protocol/why.h): a walk over
 * the stages before the failed one, noting what the session had done by
 * then (greeted, TLS up, EHLO since TLS, logged in, a transaction open,
 * a recipient accepted), then a rule per cause, first match wins.
 *
 *   RFC 5321 4.1.4 (order of commands), 3.3 (the transaction), 4.1.2
 *            (parameters only as advertised), 3.6 and 7.1 (relaying)
 *   RFC 3207 4.2 (EHLO again after TLS)   RFC 4954 4, 6 (AUTH, 530/538)
 *   RFC 6409 4.3 (submission needs AUTH)  RFC 1870 6 (SIZE)
 */
#include "protocol/why.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "protocol/caps.h"
#include "protocol/sasl.h"
#include "protocol/session.h"

/* What the session had done before the failed stage. */
struct why_facts {
	int greeted; /* EHLO or HELO answered 250 */
	int tls; /* a TLS handshake succeeded */
	int greeted_since_tls; /* EHLO/HELO 250 after it */
	int auth; /* AUTH answered 235 */
	int txn; /* MAIL accepted, transaction not ended */
	int rcpt; /* a RCPT accepted in the open transaction */
};

static void
why_scan(const struct smtp_session *s, size_t idx, struct why_facts *f)
{
	const struct smtp_stage *st;
	size_t i;

	memset(f, 0, sizeof *f);
	for (i = 0; i < idx; i++) {
		st = smtp_session_stage(s, i);
		switch (st->kind) {
		case SMTP_STAGE_EHLO:
		case SMTP_STAGE_HELO:
			if (st->code == 250) {
				f->greeted = 1;
				f->greeted_since_tls = f->tls;
				f->txn = f->rcpt = 0;
			}
			break;
		case SMTP_STAGE_TLS:
			if (st->state == SMTP_ST_OK) {
				f->tls = 1;
				f->greeted_since_tls = 0;
				f->txn = f->rcpt = 0;
			}
			break;
		case SMTP_STAGE_AUTH:
			if (st->code == 235)
				f->auth = 1;
			break;
		case SMTP_STAGE_MAIL:
			if (st->code == 250)
				f->txn = 1, f->rcpt = 0;
			break;
		case SMTP_STAGE_RCPT:
			if (st->code / 100 == 2 && f->txn)
				f->rcpt = 1;
			break;
		case SMTP_STAGE_MESSAGE:
		case SMTP_STAGE_RSET:
			if (st->code != 0)
				f->txn = f->rcpt = 0;
			break;
		case SMTP_STAGE_BDAT:
			if (st->code != 0 &&
			    strstr(st->command, "LAST") != NULL)
				f->txn = f->rcpt = 0;
			break;
		default:
			break;
		}
	}
}

/* The ESMTP parameters after the path: "SIZE=10 BODY=8BITMIME". */
static const char *
why_params(const char *cmd)
{
	const char *gt = strchr(cmd, '>');

	return gt != NULL ? gt + 1 : NULL;
}

/* The capability a MAIL/RCPT parameter keyword needs, or 0. */
static uint32_t
why_param_cap(const char *kw, size_t n)
{
	static const struct {
		const char *kw;
		uint32_t cap;
	} map[] = {{"SIZE", SMTP_CAP_SIZE}, {"BODY", SMTP_CAP_8BITMIME},
	    {"SMTPUTF8", SMTP_CAP_SMTPUTF8}, {"RET", SMTP_CAP_DSN},
	    {"ENVID", SMTP_CAP_DSN}, {"NOTIFY", SMTP_CAP_DSN},
	    {"ORCPT", SMTP_CAP_DSN}, {"AUTH", SMTP_CAP_AUTH},
	    {"BY", SMTP_CAP_DELIVERBY}, {"REQUIRETLS", SMTP_CAP_REQUIRETLS}};
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strlen(map[i].kw) == n &&
		    strncasecmp(kw, map[i].kw, n) == 0)
			return map[i].cap;
	return 0;
}

/* The first parameter of cmd the capabilities do not cover, or NULL. */
static char *
why_unadvertised(const char *cmd, const struct smtp_caps *caps)
{
	const char *p = why_params(cmd);
	uint32_t cap;
	size_t n, kn;

	if (p == NULL)
		return NULL;
	while (*p != '\0') {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == 0)
			break;
		kn = strcspn(p, "= ");
		if (kn > n)
			kn = n;
		cap = why_param_cap(p, kn);
		if (cap != 0 && (caps == NULL || !smtp_caps_has(caps, cap)))
			return xstrndup(p, kn);
		/* BODY=BINARYMIME needs BINARYMIME, not 8BITMIME. */
		if (cap == SMTP_CAP_8BITMIME && n > 5 &&
		    strncasecmp(p + 5, "BINARYMIME", 10) == 0 &&
		    (caps == NULL || !smtp_caps_has(caps, SMTP_CAP_BINARYMIME)))
			return xstrdup("BODY=BINARYMIME");
		p += n;
	}
	return NULL;
}

/* SIZE=n declared on cmd, or 0. */
static unsigned long long
why_size(const char *cmd)
{
	const char *p = why_params(cmd), *s;

	if (p == NULL)
		return 0;
	for (s = p; *s != '\0'; s++)
		if ((s == p || s[-1] == ' ') && strncasecmp(s, "SIZE=", 5) == 0)
			return strtoull(s + 5, NULL, 10);
	return 0;
}

/* The reply's text names TLS ("Must issue a STARTTLS command first"). */
static int
why_mentions_tls(const struct smtp_stage *st)
{
	size_t i;

	for (i = 0; st->text != NULL && i + 3 <= st->text_len; i++)
		if (strncasecmp(st->text + i, "TLS", 3) == 0)
			return 1;
	return 0;
}

static int
why_is(const struct smtp_stage *st, enum smtp_stage_kind k)
{
	return st->kind == k;
}

char *
smtp_why(const struct smtp_session *s, size_t idx)
{
	const struct smtp_stage *st = smtp_session_stage(s, idx);
	const struct smtp_caps *caps = smtp_session_caps(s);
	struct why_facts f;
	int txn_cmd, code;
	unsigned long long size;
	char *kw, *out;

	if (st == NULL || st->code < 400 || st->code > 599)
		return NULL;
	code = st->code;
	why_scan(s, idx, &f);
	txn_cmd = why_is(st, SMTP_STAGE_MAIL) || why_is(st, SMTP_STAGE_RCPT) ||
	    why_is(st, SMTP_STAGE_DATA) || why_is(st, SMTP_STAGE_BDAT) ||
	    why_is(st, SMTP_STAGE_AUTH);

	if (txn_cmd && f.tls && !f.greeted_since_tls)
		return xstrdup(
		    "This session: the command came after STARTTLS without a "
		    "new EHLO.  After the TLS handshake the server forgets "
		    "everything said before, the EHLO and its extensions "
		    "included, so the client must start over with EHLO (RFC "
		    "3207 4.2).  Send EHLO again, then repeat the command.");
	if (txn_cmd && !f.greeted && code == 503)
		return xstrdup("This session: no EHLO or HELO was accepted "
		               "yet.  A session starts with EHLO (RFC 5321 "
		               "4.1.4); send EHLO first.");
	if ((why_is(st, SMTP_STAGE_AUTH) || why_is(st, SMTP_STAGE_MAIL)) &&
	    !f.tls &&
	    (code == 538 ||
	        (code == 530 &&
	            (why_is(st, SMTP_STAGE_AUTH) || why_mentions_tls(st)))))
		return xasprintf(
		    "This session: %s before STARTTLS on a server that wants "
		    "TLS first (%s).  Send STARTTLS, EHLO again, then %s.",
		    why_is(st, SMTP_STAGE_AUTH) ? "AUTH" : "MAIL",
		    code == 538 ? "538: this mechanism sends the password as "
		                  "it is, RFC 4954 4 and 6"
		                : "530, RFC 3207 4",
		    why_is(st, SMTP_STAGE_AUTH) ? "AUTH" : "AUTH and MAIL");
	if (why_is(st, SMTP_STAGE_MAIL) && code == 530 && !f.auth)
		return xstrdup("This session: MAIL before AUTH on a server "
		               "that takes mail only from logged-in clients "
		               "(a submission server, RFC 6409 4.3, RFC 4954 "
		               "6).  Log in with AUTH first.");
	if (why_is(st, SMTP_STAGE_MAIL) && code == 503 && f.txn)
		return xstrdup("This session: a transaction is already open "
		               "(MAIL was accepted).  Finish it or end it "
		               "with RSET before a new MAIL (RFC 5321 4.1.4).");
	if (why_is(st, SMTP_STAGE_RCPT) && code == 503 && !f.txn)
		return xstrdup("This session: RCPT before an accepted MAIL.  A "
		               "transaction is MAIL, then RCPT, then DATA (RFC "
		               "5321 3.3); send MAIL FROM first.");
	if ((why_is(st, SMTP_STAGE_DATA) || why_is(st, SMTP_STAGE_BDAT)) &&
	    (code == 503 || code == 554) && !f.rcpt)
		return xasprintf(
		    "This session: %s before any recipient was accepted.  "
		    "The content comes after MAIL and at least one accepted "
		    "RCPT (RFC 5321 3.3).",
		    why_is(st, SMTP_STAGE_DATA) ? "DATA" : "BDAT");
	if ((why_is(st, SMTP_STAGE_MAIL) || why_is(st, SMTP_STAGE_RCPT)) &&
	    (code == 555 || code == 501 || code == 504) &&
	    (kw = why_unadvertised(st->command, caps)) != NULL) {
		out =
		    xasprintf("This session: the parameter %s was not "
		              "advertised in the EHLO reply, and a client may "
		              "use only the extensions the server announced "
		              "(RFC 5321 4.1.2).  Drop it, or check the EHLO "
		              "reply for the extension.",
		        kw);
		free(kw);
		return out;
	}
	if (why_is(st, SMTP_STAGE_MAIL) && code == 552 &&
	    (size = why_size(st->command)) > 0 && caps != NULL &&
	    caps->size_limit > 0 && size > caps->size_limit)
		return xasprintf(
		    "This session: MAIL declared SIZE=%llu, over the limit of "
		    "%llu octets the server advertised with SIZE (RFC 1870 "
		    "6).  The message is too big for this server: make it "
		    "smaller or send it another way.",
		    size, (unsigned long long)caps->size_limit);
	if (why_is(st, SMTP_STAGE_RCPT) && !f.auth &&
	    (strcmp(st->enhanced, "5.7.1") == 0 || code == 554) &&
	    code / 100 == 5)
		return xstrdup(
		    "This session: relaying without AUTH.  The recipient is "
		    "not in one of this server's domains and you have not "
		    "logged in, so it will not pass the mail on (RFC 5321 "
		    "3.6, 7.1).  Log in with AUTH (a submission server), or "
		    "send to the recipient domain's own MX.");
	return NULL;
}

char *
smtp_why_of(const struct smtp_session *s, const struct smtp_stage *st)
{
	size_t i = smtp_session_nstages(s);

	while (i-- > 0)
		if (smtp_session_stage(s, i) == st)
			return smtp_why(s, i);
	return NULL;
}

const char *
smtp_why_sasl(const struct smtp_session *s, const char **prompt)
{
	const struct smtp_stage *st = NULL;
	const char *mech;
	char *challenge;
	size_t i = smtp_session_nstages(s);
	int password;

	*prompt = "sasl> ";
	if (smtp_session_state(s) != SMTP_STATE_AUTH)
		return NULL;
	while (i-- > 0) {
		st = smtp_session_stage(s, i);
		if (st->kind == SMTP_STAGE_AUTH &&
		    strncasecmp(st->command, "AUTH ", 5) == 0)
			break;
		st = NULL;
	}
	if (st == NULL)
		return NULL;
	mech = st->command + 5;
	if (strncasecmp(mech, "PLAIN", 5) == 0) {
		*prompt = "sasl b64(\\0user\\0pass)> ";
		return "AUTH PLAIN waits for one line: base64 of NUL, the user, "
		       "NUL, the password (RFC 4616 2); /auth PLAIN USER does it "
		       "for you and never shows the password; * cancels.";
	}
	if (strncasecmp(mech, "LOGIN", 5) == 0) {
		/* The last 334's challenge says which half is asked for. */
		st = smtp_session_stage(s, smtp_session_nstages(s) - 1);
		challenge = st != NULL && st->text != NULL
		    ? sasl_decode_challenge(st->text, st->text_len)
		    : NULL;
		password = challenge != NULL &&
		    strncasecmp(challenge, "Password", 8) == 0;
		free(challenge);
		*prompt =
		    password ? "sasl b64(password)> " : "sasl b64(user)> ";
		return password ? "AUTH LOGIN asks for the password: send it "
		                  "base64-encoded; /auth LOGIN USER does both "
		                  "steps for you; * cancels."
		                : "AUTH LOGIN asks for the user name: send it "
		                  "base64-encoded, the password comes next; "
		                  "/auth LOGIN USER does both steps for you; * "
		                  "cancels.";
	}
	if (strncasecmp(mech, "CRAM-MD5", 8) == 0) {
		*prompt = "sasl b64(user hmac)> ";
		return "AUTH CRAM-MD5 sent a challenge: answer base64 of the "
		       "user, a space and the hex HMAC-MD5 of the decoded "
		       "challenge keyed with the password (RFC 2195 2); /auth "
		       "CRAM-MD5 USER computes it; * cancels.";
	}
	if (strncasecmp(mech, "XOAUTH2", 7) == 0) {
		*prompt = "sasl b64(xoauth2)> ";
		return "AUTH XOAUTH2 waits for base64 of user=U ^A auth=Bearer "
		       "TOKEN ^A ^A; after an error (334 with JSON) send an "
		       "empty line; /auth XOAUTH2 USER builds it.";
	}
	if (strncasecmp(mech, "OAUTHBEARER", 11) == 0) {
		*prompt = "sasl b64(oauthbearer)> ";
		return "AUTH OAUTHBEARER waits for base64 of n,a=USER, ^A "
		       "auth=Bearer TOKEN ^A ^A (RFC 7628 3.1); after an error "
		       "(334 with JSON) send AQ== (one ^A); /auth OAUTHBEARER "
		       "USER builds it.";
	}
	if (strncasecmp(mech, "SCRAM-", 6) == 0) {
		*prompt = "sasl b64(scram)> ";
		return "SCRAM goes client-first (n,,n=USER,r=NONCE), "
		       "server-first (r=,s=,i=), client-final (c=,r=,p=PROOF), "
		       "server-final (v=), each base64; the proof needs PBKDF2 "
		       "and HMAC of the password: /auth MECH USER computes "
		       "them (RFC 5802 3); * cancels.";
	}
	if (strncasecmp(mech, "GSSAPI", 6) == 0) {
		*prompt = "sasl b64(gssapi)> ";
		return "GSSAPI waits for Kerberos tokens (RFC 4752): /auth "
		       "GSSAPI USER makes them from the ticket of kinit; * "
		       "cancels.";
	}
	return "The server waits for the next SASL response, base64-encoded; "
	       "* cancels.";
}
