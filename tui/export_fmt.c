/*
 * `ehlo export ID --format swaks|curl|script`: hand a recorded session
 * over to automation.  "script" is the `ehlo run` script replay would
 * run (tui/cmd_replay.c).  "swaks" and "curl" are one shell command each
 * that repeats the session's first transaction: EHLO name, STARTTLS or
 * implicit TLS, AUTH mechanism and user, MAIL FROM, every RCPT TO, and
 * the message (inline as a here-document when it was kept, or the file
 * a /body sent); without DATA, swaks stops where the session stopped
 * (--quit-after).  Whatever the tool cannot express (VRFY, more
 * transactions, MAIL parameters, ...) is listed as "#" comments first.
 *
 * Everything comes from the database and is untrusted: every argument
 * is single-quoted for the shell, a value with control characters is
 * left out (and said so), and secrets are never there to include (AUTH
 * is stored masked; the tools ask for the secret).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/proxyhdr.h"
#include "protocol/sasl.h"
#include "tui/cli.h"
#include "tui/histcmd.h"

#define EXPORT_EOF "EHLO_MESSAGE_END"

/*
 * The secret is never in an export: the shell adds it from
 * EHLO_PASSWORD when set (as ehlo takes it), else the tool asks.
 */
#define SECRET_SWAKS "${EHLO_PASSWORD:+--auth-password \"$EHLO_PASSWORD\"}"
#define SECRET_CURL "\"${EHLO_PASSWORD:+:$EHLO_PASSWORD}\""
#define SECRET_BEARER "${EHLO_PASSWORD:+--oauth2-bearer \"$EHLO_PASSWORD\"}"

/*
 * The mechanisms the peers take by name (swaks --auth TYPE, curl
 * --login-options AUTH=TYPE).  Another one (SCRAM, GSSAPI) is not
 * named: the tool picks one the server offers, and a comment says so.
 */
static int
mech_named(const char *mech, int curl)
{
	static const char *const both[] = {
	    "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", NULL};
	size_t i;

	for (i = 0; both[i] != NULL; i++)
		if (strcasecmp(mech, both[i]) == 0)
			return 1;
	return curl && strcasecmp(mech, "OAUTHBEARER") == 0;
}

/* The mechanism's name for a comment: SASL's charset (RFC 4422 3.1)
 * only, so a record cannot end the comment line. */
static const char *
mech_shown(const char *mech)
{
	return strlen(mech) <= 20 &&
	        strspn(mech, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") ==
	            strlen(mech)
	    ? mech
	    : "(a mechanism)";
}

struct plan {
	char *helo;
	int starttls; /* 1 opportunistic, 2 required (--starttls) */
	char *cafile; /* --cafile of the session, or NULL */
	int insecure; /* --insecure */
	char *mech, *user;
	char *from; /* NULL: no MAIL; "" the null sender */
	char **rcpt;
	size_t nrcpt;
	int data; /* DATA answered with content sent */
	size_t dot; /* index of the "." row, or SIZE_MAX */
	size_t data_row; /* index of the DATA row */
	char *body_path; /* /body FILE of the first transaction */
	int64_t body_seq; /* the summary row of a streamed message, or 0 */
	int pipelining;
	int txn_done;
	char *xclient; /* the first XCLIENT's pairs (wire form), or NULL */
	char *proxy; /* the PROXY header's display form, or NULL */
	struct buf skipped; /* "# ..." lines */
	char *socks; /* issue 18: the SOCKS5 proxy the session went
	              * through ("127.0.0.1:1080"), from its note, or NULL */
};

static int
stage_is(const struct histcmd_event *e, const char *name)
{
	return e->stage != NULL && strcmp(e->stage, name) == 0;
}

static void
skip(struct plan *p, const char *why, const struct histcmd_event *e)
{
	char *t = histcmd_event_text(e);

	(void)buf_add_printf(&p->skipped, "#   %s: %s\n", why, t);
	free(t);
}

/* The word after the verb ("EHLO name" -> "name"), allocated. */
static char *
argument(const char *text)
{
	const char *p = text + strcspn(text, " ");

	p += strspn(p, " ");
	return xstrndup(p, strcspn(p, " "));
}

/* Everything after the verb ("XCLIENT A=1 B=2" -> "A=1 B=2"). */
static char *
argument_rest(const char *text)
{
	const char *p = text + strcspn(text, " ");

	return xstrdup(p + strspn(p, " "));
}

/* The address inside <...> after "MAIL FROM:" / "RCPT TO:". */
static char *
address(const char *text, const char **rest)
{
	const char *lt = strchr(text, '<'), *gt;

	if (lt == NULL || (gt = strchr(lt, '>')) == NULL) {
		*rest = "";
		return NULL;
	}
	*rest = gt + 1 + strspn(gt + 1, " ");
	return xstrndup(lt + 1, (size_t)(gt - lt - 1));
}

static void
plan_build(struct plan *p, struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es)
{
	struct hist_body *body;
	const char *rest;
	char *err = NULL;
	size_t i;

	memset(p, 0, sizeof *p);
	p->dot = p->data_row = SIZE_MAX;
	buf_init(&p->skipped, 0);
	p->cafile = histcmd_session_cafile(s, &p->insecure);
	p->socks = histcmd_socks_via(es);
	for (i = 0; i < es->n; i++) {
		const struct histcmd_event *e = &es->v[i];

		if (e->dir != 'C')
			continue;
		if (e->group > 0)
			p->pipelining = 1;
		if (e->flags & HIST_EV_SUMMARY) {
			if (p->data_row != SIZE_MAX && !p->txn_done) {
				body = hist_body_get(h, s->id, e->seq, &err);
				free(err);
				err = NULL;
				if (body != NULL && body->path != NULL)
					p->body_path = xstrdup(body->path);
				else
					p->body_seq = e->seq;
				hist_body_free(body);
				p->data = 1;
				p->txn_done = 1;
			}
			continue;
		}
		if (e->flags & HIST_EV_CONTENT) {
			if (e->len == 1 && e->text[0] == '.' &&
			    p->data_row != SIZE_MAX && !p->txn_done) {
				p->dot = i;
				p->data = 1;
				p->txn_done = 1;
			}
			continue;
		}
		if (stage_is(e, "EHLO") || stage_is(e, "HELO")) {
			if (p->helo == NULL)
				p->helo = argument(e->text);
		} else if (stage_is(e, "STARTTLS"))
			p->starttls =
			    strcmp(s->tls_mode, "starttls") == 0 ? 2 : 1;
		else if (stage_is(e, "AUTH")) {
			if (strncasecmp(e->text, "AUTH ", 5) == 0 &&
			    p->mech == NULL) {
				p->mech = argument(e->text);
				p->user = sasl_display_user(e->text);
			}
		} else if (stage_is(e, "MAIL") && p->from == NULL) {
			p->from = address(e->text, &rest);
			if (p->from == NULL) {
				skip(p, "a MAIL command it cannot parse", e);
				p->from = xstrdup("");
			} else if (*rest != '\0')
				skip(p, "MAIL parameters", e);
		} else if (stage_is(e, "RCPT") && p->from != NULL &&
		    !p->txn_done) {
			char *a = address(e->text, &rest);

			if (a == NULL) {
				skip(p, "a RCPT command it cannot parse", e);
				continue;
			}
			if (*rest != '\0')
				skip(p, "RCPT parameters", e);
			p->rcpt = xreallocarray(
			    p->rcpt, p->nrcpt + 1, sizeof *p->rcpt);
			p->rcpt[p->nrcpt++] = a;
		} else if (stage_is(e, "DATA") && p->from != NULL &&
		    !p->txn_done)
			p->data_row = i;
		else if (stage_is(e, "QUIT"))
			continue;
		else if (stage_is(e, "PROXY") && p->proxy == NULL)
			p->proxy = xstrdup(e->text);
		else if (stage_is(e, "XCLIENT") && p->xclient == NULL &&
		    p->from == NULL)
			p->xclient = argument_rest(e->text);
		else if (stage_is(e, "RSET") && p->from != NULL && !p->txn_done)
			p->txn_done = 1;
		else
			skip(p,
			    p->txn_done &&
			            (stage_is(e, "MAIL") ||
			                stage_is(e, "RCPT") ||
			                stage_is(e, "DATA"))
			        ? "a later transaction"
			        : "a command",
			    e);
	}
}

static void
plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->nrcpt; i++)
		free(p->rcpt[i]);
	free(p->rcpt);
	free(p->helo);
	free(p->mech);
	free(p->user);
	free(p->from);
	free(p->body_path);
	free(p->cafile);
	free(p->xclient);
	free(p->proxy);
	free(p->socks);
	buf_reset(&p->skipped);
}

/*
 * Appends ' value' single-quoted for the shell; a value with control
 * characters is refused (returns -1) rather than written.
 */
static int
sh_arg(struct buf *b, const char *opt, const char *value)
{
	const char *p;

	if (!escape_is_clean(value, strlen(value)))
		return -1;
	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	(void)buf_add_printf(b, " %s '", opt);
	for (p = value; *p != '\0'; p++) {
		if (*p == '\'')
			(void)buf_add_str(b, "'\\''");
		else
			(void)buf_add(b, p, 1);
	}
	(void)buf_add_str(b, "'");
	return 0;
}

/*
 * One content line for the here-document: without the transparency dot
 * (RFC 5321 4.5.2), since swaks and curl stuff dots themselves.
 * Returns 1 when the line equals the delimiter.
 */
static int
doc_line(struct buf *b, const char *c, size_t n, const char *delim)
{
	if (n > 0 && c[n - 1] == '\r')
		n--;
	if (n > 0 && c[0] == '.') {
		c++;
		n--;
	}
	(void)buf_add(b, c, n);
	(void)buf_add_str(b, "\n");
	return n == strlen(delim) && memcmp(c, delim, n) == 0;
}

/* Why the message cannot be exported (allocated), from its body row. */
static char *
lost_why(const struct hist_body *body)
{
	if (body == NULL)
		return xstrdup("the message content was not recorded");
	if (body->size > HIST_BODY_INLINE_MAX)
		return xasprintf("the message content (%llu octets) was over "
		                 "%d KiB and not kept",
		    (unsigned long long)body->size,
		    HIST_BODY_INLINE_MAX / 1024);
	return xasprintf("the message content (%llu octets) was not kept "
	                 "(recorded with --no-content)",
	    (unsigned long long)body->size);
}

/*
 * The message as a here-document (" <<'END'\n...END\n"), or -1 with
 * *why (allocated) when it was not kept.
 */
static int
heredoc(struct buf *out, struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es, const struct plan *p, char **why)
{
	struct hist_body *body = NULL;
	struct buf b;
	const char *c, *end, *nl;
	char *err = NULL, delim[48];
	size_t i, n;
	int clash, attempt, rc = 0;

	if (p->body_seq == 0 && p->dot == SIZE_MAX) {
		*why = lost_why(NULL);
		return -1;
	}
	body = hist_body_get(
	    h, s->id, p->body_seq != 0 ? p->body_seq : es->v[p->dot].seq, &err);
	free(err);
	if (p->body_seq != 0 && (body == NULL || body->content == NULL)) {
		*why = lost_why(body);
		hist_body_free(body);
		return -1;
	}
	buf_init(&b, 0);
	for (attempt = 0;; attempt++) {
		(void)snprintf(
		    delim, sizeof delim, "%s%.0d", EXPORT_EOF, attempt);
		buf_clear(&b);
		clash = 0;
		if (body != NULL && body->content != NULL) {
			c = body->content;
			end = c + body->content_len;
			while (c < end) {
				nl = memchr(c, '\n', (size_t)(end - c));
				n = nl != NULL ? (size_t)(nl - c)
				               : (size_t)(end - c);
				clash |= doc_line(&b, c, n, delim);
				c += n + 1;
			}
		} else {
			for (i = p->data_row + 1; i < p->dot && rc == 0; i++) {
				if (es->v[i].flags & HIST_EV_ELIDED)
					rc = -1;
				else if (es->v[i].dir == 'C')
					clash |= doc_line(&b, es->v[i].text,
					    es->v[i].len, delim);
			}
		}
		if (!clash || rc == -1)
			break;
	}
	if (rc == -1)
		*why = lost_why(body);
	if (rc == 0) {
		(void)buf_add_printf(out, " <<'%s'\n", delim);
		(void)buf_add(out, buf_peek(&b), buf_used(&b));
		(void)buf_add_printf(out, "%s\n", delim);
	}
	buf_reset(&b);
	hist_body_free(body);
	return rc;
}

static void
header(FILE *f, const struct hist_session *s, const char *what)
{
	char *e = histcmd_server(s); /* escaped */

	(void)fprintf(f,
	    "# %s for ehlo session #%lld (%s, %s), exported by "
	    "ehlo %s\n",
	    what, (long long)s->id, e, s->tls_mode, EHLO_VERSION);
	free(e);
}

static int
bad_value(char **errstr, const char *what)
{
	*errstr = xasprintf("the session's %s contains control characters; "
	                    "it cannot be put on a command line safely",
	    what);
	return -1;
}

/* The PROXY header as swaks's --proxy-* options (its display form was
 * checked when recorded; one that cannot be read back adds nothing). */
static void
swaks_proxy(struct buf *b, const char *shown)
{
	struct smtp_proxy_addr src, dst;
	char a[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], *err = NULL;
	int version, six;

	if (smtp_proxy_display_parse(shown, &version, &src, &dst, &err) == -1 ||
	    inet_ntop(src.family, src.addr, a, sizeof a) == NULL ||
	    inet_ntop(dst.family, dst.addr, d, sizeof d) == NULL) {
		free(err);
		return;
	}
	six = src.family == AF_INET6;
	(void)buf_add_printf(b,
	    " --proxy-version %d --proxy-family %s --proxy-source %s "
	    "--proxy-source-port %u --proxy-dest %s --proxy-dest-port %u",
	    version,
	    version == 1 ? (six ? "TCP6" : "TCP4")
	                 : (six ? "AF_INET6" : "AF_INET"),
	    a, src.port, d, dst.port);
}

static int
export_swaks(FILE *f, struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es, struct plan *p, char **errstr)
{
	struct buf b, doc;
	char port[16];
	size_t i;
	int rc = 0, implicit = strcmp(s->tls_mode, "tls") == 0;
	const char *quit = NULL;
	char *lost = NULL;

	buf_init(&b, 0);
	buf_init(&doc, 0);
	if (p->data && p->body_path == NULL &&
	    heredoc(&doc, h, s, es, p, &lost) == -1) {
		/* Not kept: swaks sends its own test message instead. */
		buf_clear(&doc);
	}
	(void)snprintf(port, sizeof port, "%d", s->port);
	(void)buf_add_str(&b, "swaks");
	if (sh_arg(&b, "--server", s->server) == -1)
		rc = bad_value(errstr, "server");
	(void)sh_arg(&b, "--port", port);
	if (implicit)
		(void)buf_add_str(&b, " --tls-on-connect");
	else if (p->starttls)
		(void)buf_add_str(
		    &b, p->starttls == 2 ? " --tls" : " --tls-optional");
	if ((implicit || p->starttls) && !p->insecure) {
		/* swaks verifies only when asked; the session did. */
		(void)buf_add_str(&b, " --tls-verify");
		if (p->cafile != NULL &&
		    sh_arg(&b, "--tls-ca-path", p->cafile) == -1)
			rc = bad_value(errstr, "CA file name");
	}
	if (p->helo != NULL && *p->helo != '\0' &&
	    sh_arg(&b, "--ehlo", p->helo) == -1)
		rc = bad_value(errstr, "EHLO name");
	if (p->pipelining)
		(void)buf_add_str(&b, " --pipeline");
	if (p->xclient != NULL && sh_arg(&b, "--xclient", p->xclient) == -1)
		rc = bad_value(errstr, "XCLIENT line");
	if (p->proxy != NULL)
		swaks_proxy(&b, p->proxy);
	if (p->mech != NULL) {
		if (mech_named(p->mech, 0))
			(void)sh_arg(&b, "--auth", p->mech);
		else /* any type the server offers that swaks speaks */
			(void)buf_add_str(&b, " --auth");
		if (p->user != NULL && sh_arg(&b, "--auth-user", p->user) == -1)
			rc = bad_value(errstr, "AUTH user");
		(void)buf_add_str(&b, " " SECRET_SWAKS);
	}
	if (p->from != NULL &&
	    sh_arg(&b, "--from", *p->from == '\0' ? "<>" : p->from) == -1)
		rc = bad_value(errstr, "sender");
	if (p->nrcpt > 0) {
		struct buf to;

		buf_init(&to, 0);
		for (i = 0; i < p->nrcpt; i++)
			(void)buf_add_printf(
			    &to, "%s%s", i > 0 ? "," : "", p->rcpt[i]);
		(void)buf_add(&to, "", 1);
		if (sh_arg(&b, "--to", buf_peek(&to)) == -1)
			rc = bad_value(errstr, "recipients");
		buf_reset(&to);
	}
	if (!p->data)
		quit = p->nrcpt > 0   ? "RCPT"
		    : p->from != NULL ? "MAIL"
		    : p->mech != NULL ? "AUTH"
		    : p->helo != NULL ? "EHLO"
		                      : "BANNER";
	if (quit != NULL)
		(void)buf_add_printf(&b, " --quit-after %s\n", quit);
	else if (p->body_path != NULL) {
		char *arg = xasprintf("@%s", p->body_path);

		if (sh_arg(&b, "--data", arg) == -1)
			rc = bad_value(errstr, "message file name");
		(void)buf_add_str(&b, "\n");
		free(arg);
	} else if (lost == NULL) {
		/*
		 * $(...) drops the here-document's last newline: swaks adds
		 * CRLF "." itself and would otherwise send an extra empty
		 * line.
		 */
		(void)buf_add_str(&b, " --data \"$(cat");
		(void)buf_add(&b, buf_peek(&doc), buf_used(&doc));
		(void)buf_add_str(&b, ")\"\n");
	} else
		(void)buf_add_str(&b, "\n");
	if (rc == 0) {
		header(f, s, "swaks command");
		if (p->mech != NULL)
			(void)fputs("# the AUTH secret is not included: swaks "
			            "takes it from EHLO_PASSWORD, else asks "
			            "for it\n",
			    f);
		if (lost != NULL)
			(void)fprintf(f,
			    "# %s: swaks sends its own test message\n", lost);
		if (p->mech != NULL && !mech_named(p->mech, 0))
			(void)fprintf(f,
			    "# the session used AUTH %s, which swaks does not "
			    "speak: it picks another mechanism the server "
			    "offers\n",
			    mech_shown(p->mech));
		if (p->socks != NULL)
			(void)fprintf(f,
			    "# the session went through the SOCKS5 proxy %s: "
			    "swaks has no SOCKS option (run it under a "
			    "wrapper such as proxychains)\n",
			    p->socks);
		if (buf_used(&p->skipped) > 0)
			(void)fprintf(f,
			    "# not carried over (swaks runs one "
			    "transaction):\n%.*s",
			    (int)buf_used(&p->skipped), buf_peek(&p->skipped));
		(void)fwrite(buf_peek(&b), 1, buf_used(&b), f);
	}
	buf_reset(&b);
	buf_reset(&doc);
	free(lost);
	return rc;
}

/* What curl cannot say of issue 18's: XCLIENT, a PROXY header ehlo's. */
static void
curl_lost(struct plan *p)
{
	char *t;

	if (p->xclient != NULL) {
		t = escape_dup(p->xclient, strlen(p->xclient));
		(void)buf_add_printf(&p->skipped,
		    "#   XCLIENT (curl has no such option): XCLIENT %s\n", t);
		free(t);
	}
	if (p->proxy != NULL) {
		t = escape_dup(p->proxy, strlen(p->proxy));
		(void)buf_add_printf(&p->skipped,
		    "#   the PROXY header (curl's --haproxy-protocol sends v1 "
		    "with the connection's own addresses): %s\n",
		    t);
		free(t);
	}
}

static int
export_curl(FILE *f, struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es, struct plan *p, char **errstr)
{
	struct buf b;
	char *url, *lost = NULL;
	size_t i;
	int rc = 0, implicit = strcmp(s->tls_mode, "tls") == 0;

	header(f, s, "curl command");
	curl_lost(p);
	if (!p->data || p->nrcpt == 0) {
		(void)fputs("# curl always sends a message, and this session "
		            "sent none: no curl command repeats it\n",
		    f);
		if (buf_used(&p->skipped) > 0)
			(void)fprintf(f, "# the session sent:\n%.*s",
			    (int)buf_used(&p->skipped), buf_peek(&p->skipped));
		return 0;
	}
	buf_init(&b, 0);
	url = strchr(s->server, ':') != NULL
	    ? xasprintf("%s://[%s]:%d/%s", implicit ? "smtps" : "smtp",
	          s->server, s->port, p->helo != NULL ? p->helo : "")
	    : xasprintf("%s://%s:%d/%s", implicit ? "smtps" : "smtp", s->server,
	          s->port, p->helo != NULL ? p->helo : "");
	/* --globoff: "[...]" in an address literal (the server's or the
	 * EHLO name's) is not one of curl's URL ranges. */
	(void)buf_add_str(&b, "curl --globoff");
	if (sh_arg(&b, "--url", url) == -1)
		rc = bad_value(errstr, "server or EHLO name");
	free(url);
	if (p->starttls && !implicit)
		(void)buf_add_str(
		    &b, p->starttls == 2 ? " --ssl-reqd" : " --ssl");
	/* The proxy resolves the name, as socks5h:// (the note names the
	 * server as the proxy was told: a name or an address). */
	if (p->socks != NULL && sh_arg(&b, "--socks5-hostname", p->socks) == -1)
		rc = bad_value(errstr, "SOCKS proxy");
	if (p->insecure)
		(void)buf_add_str(&b, " --insecure");
	else if (p->cafile != NULL && sh_arg(&b, "--cacert", p->cafile) == -1)
		rc = bad_value(errstr, "CA file name");
	if (p->mech != NULL && p->user != NULL) {
		char *lo = xasprintf("AUTH=%s", p->mech);
		int bearer = strcasecmp(p->mech, "OAUTHBEARER") == 0;

		if (sh_arg(&b, "--user", p->user) == -1)
			rc = bad_value(errstr, "AUTH user");
		/* Right after the quoted user: 'alice'"${...}"; a bearer
		 * token goes as --oauth2-bearer instead. */
		if (bearer)
			(void)buf_add_str(&b, " " SECRET_BEARER);
		else
			(void)buf_add_str(&b, SECRET_CURL);
		if (mech_named(p->mech, 1) &&
		    sh_arg(&b, "--login-options", lo) == -1)
			rc = bad_value(errstr, "AUTH mechanism");
		free(lo);
	}
	if (sh_arg(&b, "--mail-from", p->from) == -1)
		rc = bad_value(errstr, "sender");
	for (i = 0; i < p->nrcpt; i++)
		if (sh_arg(&b, "--mail-rcpt", p->rcpt[i]) == -1)
			rc = bad_value(errstr, "recipients");
	if (p->mech != NULL)
		(void)fputs("# the AUTH secret is not included: curl takes it "
		            "from EHLO_PASSWORD, else asks for it\n",
		    f);
	if (p->mech != NULL && !mech_named(p->mech, 1))
		(void)fprintf(f,
		    "# the session used AUTH %s: curl is not told a "
		    "mechanism and picks one the server offers\n",
		    mech_shown(p->mech));
	if (buf_used(&p->skipped) > 0)
		(void)fprintf(f,
		    "# not carried over (curl sends one message):\n%.*s",
		    (int)buf_used(&p->skipped), buf_peek(&p->skipped));
	if (p->body_path != NULL) {
		if (sh_arg(&b, "--upload-file", p->body_path) == -1)
			rc = bad_value(errstr, "message file name");
		(void)buf_add_str(&b, "\n");
	} else {
		/* --crlf: the here-document has LF line ends. */
		(void)buf_add_str(&b, " --crlf --upload-file -");
		if (heredoc(&b, h, s, es, p, &lost) == -1) {
			buf_reset(&b);
			*errstr = xasprintf("session #%lld: %s, so curl cannot "
			                    "send it again",
			    (long long)s->id, lost);
			free(lost);
			return -1;
		}
	}
	if (rc == 0)
		(void)fwrite(buf_peek(&b), 1, buf_used(&b), f);
	buf_reset(&b);
	return rc;
}

int
histcmd_export_automation(FILE *f, struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es, const char *format, int pauses,
    char **errstr)
{
	struct plan p;
	char *script, *server, *ca, *eca, *pown[2];
	struct cli_opts po;
	size_t len;
	int rc, insecure;

	if (strcmp(format, "script") == 0) {
		memset(&po, 0, sizeof po);
		if (histcmd_replay_proxy(es, &po, pown, errstr) == -1)
			return -1;
		script = histcmd_replay_script_pauses(
		    h, s, es, &len, NULL, pauses, errstr);
		if (script == NULL) {
			free(pown[0]);
			free(pown[1]);
			return -1;
		}
		header(f, s, "ehlo run script");
		server = histcmd_server(s); /* escaped */
		ca = histcmd_session_cafile(s, &insecure);
		eca = ca != NULL ? escape_dup(ca, strlen(ca)) : NULL;
		(void)fprintf(f, "# run it with: ehlo run%s%s%s%s",
		    strcmp(s->tls_mode, "tls") == 0 ? " --tls" : "",
		    insecure ? " --insecure" : "",
		    eca != NULL ? " --cafile " : "", eca != NULL ? eca : "");
		if (po.proxy_version != 0)
			(void)fprintf(f,
			    " --proxy-header v%d --proxy-source '%s' "
			    "--proxy-dest '%s'",
			    po.proxy_version, pown[0], pown[1]);
		(void)fprintf(f, " %s FILE\n", server);
		free(pown[0]);
		free(pown[1]);
		free(server);
		free(ca);
		free(eca);
		(void)fwrite(script, 1, len, f);
		free(script);
		return 0;
	}
	plan_build(&p, h, s, es);
	rc = strcmp(format, "swaks") == 0
	    ? export_swaks(f, h, s, es, &p, errstr)
	    : export_curl(f, h, s, es, &p, errstr);
	plan_free(&p);
	return rc;
}
