/*
 * /auth and /body, shared by line mode and the workbench.  State lives in
 * struct lang: the SASL client between the AUTH command and its final
 * reply, and the file named by /body between DATA and the 354.  Also
 * the secret's way in: EHLO_PASSWORD, taken out of the environment at
 * start, or the terminal; and the rule every AUTH path meets before a
 * secret goes out (no plain text after a STARTTLS downgrade or to a
 * non-loopback address without --allow-plaintext-auth, see
 * smtp_session_auth_refusal).
 */
#include "tui/lang.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "core/localfile.h"
#include "core/xmalloc.h"
#include "protocol/caps.h"
#include "protocol/client.h"
#include "protocol/sasl.h"
#include "tui/record.h"

/* $EHLO_PASSWORD as it was at start (lang_secret_env_take), or NULL. */
static char *lang_env_secret;

/* At exit: the copy goes too. */
static void
lang_secret_env_wipe(void)
{
	secret_free_str(lang_env_secret);
	lang_env_secret = NULL;
}

char *
lang_env_take(const char *name)
{
	char *env = getenv(name), *entry, *copy;
	size_t nl = strlen(name);

	if (env == NULL)
		return NULL;
	copy = xstrdup(env);
	/*
	 * The name goes from environ; then the bytes of "NAME=value"
	 * themselves, which /proc/PID/environ and a core would still show.
	 */
	entry = env - (nl + 1);
	(void)unsetenv(name);
	if (strncmp(entry, name, nl) == 0 && entry[nl] == '=')
		explicit_bzero(entry, nl + 1 + strlen(copy));
	else
		explicit_bzero(env, strlen(copy));
	return copy;
}

void
lang_secret_env_take(void)
{
	char *env = lang_env_take("EHLO_PASSWORD");

	if (env == NULL)
		return;
	if (lang_env_secret == NULL)
		(void)atexit(lang_secret_env_wipe);
	secret_free_str(lang_env_secret);
	lang_env_secret = env;
}

const char *
lang_secret_env(void)
{
	return lang_env_secret;
}

void
lang_secret_preset(const char *secret)
{
	if (lang_env_secret != NULL || secret == NULL)
		return;
	(void)atexit(lang_secret_env_wipe);
	lang_env_secret = xstrdup(secret);
}

/* Beyond this it is not a secret someone typed or pasted. */
#define LANG_SECRET_MAX (1024 * 1024)

/* The line being typed: grows by copying, the old copy wiped. */
struct secret_line {
	char *b;
	size_t n, cap;
};

static void
secret_line_add(struct secret_line *l, char c)
{
	char *bigger;

	if (l->n + 1 >= l->cap) {
		if (l->cap >= LANG_SECRET_MAX)
			return;
		bigger = xmalloc(l->cap * 2);
		memcpy(bigger, l->b, l->n);
		secret_free(l->b, l->cap);
		l->b = bigger;
		l->cap *= 2;
	}
	l->b[l->n++] = c;
}

/*
 * Edits the line from the bytes in buf: 1 at Enter, -1 at Ctrl-D on an
 * empty line, else 0.  Backspace takes one character (all its UTF-8
 * bytes), Ctrl-U all; other control bytes are dropped.
 */
static int
secret_line_feed(struct secret_line *l, const char *buf, size_t len)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)buf[i];
		if (c == '\r' || c == '\n')
			return 1;
		if (c == 0x7f || c == 0x08) {
			while (l->n > 0 && (l->b[l->n - 1] & 0xc0) == 0x80)
				l->n--;
			if (l->n > 0)
				l->n--;
		} else if (c == 0x15)
			l->n = 0;
		else if (c == 0x04 && l->n == 0)
			return -1;
		else if (c >= 0x20)
			secret_line_add(l, (char)c);
	}
	return 0;
}

char *
lang_secret_ask(
    const char *what, const char *whose, const char *env, char **errstr)
{
	struct termios old, raw;
	struct secret_line l;
	char chunk[4096], *secret = NULL;
	ssize_t r;
	int fd, done = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		*errstr = xasprintf("no secret: set %s, or run ehlo "
		                    "from a terminal to be asked for it",
		    env);
		return NULL;
	}
	if (tcgetattr(fd, &old) == -1) {
		(void)close(fd);
		*errstr = xasprintf("cannot switch off echo on the terminal; "
		                    "set %s instead",
		    env);
		return NULL;
	}
	/*
	 * Not canonical: the terminal's own line editor stops at 4 KiB,
	 * and bearer tokens are longer.  Signals stay on (Ctrl-C).
	 */
	raw = old;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	(void)tcsetattr(fd, TCSAFLUSH, &raw);
	(void)dprintf(fd, "%s %s (not echoed): ", what, whose);
	l.cap = 256;
	l.n = 0;
	l.b = xmalloc(l.cap);
	while (done == 0) {
		r = read(fd, chunk, sizeof chunk);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			done = -1;
			break;
		}
		done = secret_line_feed(&l, chunk, (size_t)r);
	}
	explicit_bzero(chunk, sizeof chunk);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)dprintf(fd, "\n");
	(void)close(fd);
	if (done == 1) {
		secret = xstrndup(l.b, l.n);
	} else
		*errstr = xstrdup("no secret was entered");
	secret_free(l.b, l.cap);
	return secret;
}

/* $EHLO_PASSWORD (or a configured secret), else asked on the terminal. */
static char *
lang_secret_read(const char *user, char **errstr)
{
	const char *env = lang_secret_env();

	if (env != NULL)
		return xstrdup(env);
	return lang_secret_ask("Secret for", user, "EHLO_PASSWORD", errstr);
}

/* Answers a 334: the next SASL step, or "*" (with a note) to cancel. */
static int
lang_sasl_answer(struct smtp_client *c, struct sasl_client *sasl,
    const struct smtp_reply *r, char **errstr)
{
	char *wire = NULL, *display = NULL, *err = NULL;
	const char *text;
	size_t len;
	int rc;

	text = smtp_reply_line_text(&r->lines[0], 0, &len);
	if (sasl_client_step(sasl, text, len, &wire, &display, &err) == -1) {
		smtp_session_note(
		    smtp_client_session(c), "cancelling AUTH: %s", err);
		free(err);
		return smtp_client_send_secret(c, "*", "*", errstr);
	}
	rc = smtp_client_send_secret(c, wire, display, errstr);
	secret_free_str(wire);
	free(display);
	return rc;
}

/* What a GNU SASL mechanism needs of the connection: the channel
 * binding of its TLS (-PLUS) and the server's name (GSSAPI).  -1 with
 * *errstr for a -PLUS mechanism without TLS (nothing is sent). */
static int
lang_sasl_context(
    struct lang *l, const struct sasl_mech_info *mi, char **errstr)
{
	const struct smtp_client_opts *co = smtp_client_opts(l->client);
	unsigned char cb[64];
	const char *type;
	size_t n;

	if (co != NULL && co->host != NULL)
		sasl_client_set_host(l->sasl, co->host);
	if (!(mi->flags & SASL_MECH_PLUS))
		return 0;
	if (smtp_client_channel_binding(l->client, &type, cb, sizeof cb, &n) ==
	    -1) {
		*errstr = xasprintf("%s needs TLS: its channel binding is data "
		                    "of the TLS connection; use /starttls (or "
		                    "--starttls, --tls) first, or %.*s without "
		                    "-PLUS; nothing was sent",
		    mi->name, (int)(strlen(mi->name) - 5), mi->name);
		return -1;
	}
	sasl_client_set_binding(l->sasl, type, cb, n);
	explicit_bzero(cb, sizeof cb);
	return 0;
}

void
lang_reset(struct lang *l)
{
	sasl_client_free(l->sasl);
	l->sasl = NULL;
	free(l->pending_body);
	l->pending_body = NULL;
}

char *
lang_auth_refusal(const struct lang *l)
{
	return smtp_session_auth_refusal(smtp_client_session(l->client));
}

const struct sasl_mech_info *
lang_auth_mech(struct lang *l, const char *mech, char **errstr)
{
	struct smtp_session *s = smtp_client_session(l->client);
	const struct smtp_caps *caps = smtp_session_caps(s);
	const char *offered[SMTP_AUTH_MECHS_MAX];
	const struct sasl_mech_info *mi;
	size_t i, n = 0;

	if (mech == NULL || strcasecmp(mech, "auto") != 0)
		return sasl_mech_find(mech);
	if (caps->valid)
		for (i = 0; i < caps->nauth && i < SMTP_AUTH_MECHS_MAX; i++)
			offered[n++] = caps->auth[i];
	if ((mi = sasl_mech_choose(offered, n, smtp_session_is_tls(s))) ==
	    NULL) {
		*errstr = xstrdup(n == 0
		        ? "auto: the server offered no AUTH mechanisms (send "
		          "EHLO first, or /starttls: many offer AUTH only "
		          "after it); name one with /auth MECH"
		        : "auto: the server offers no mechanism ehlo chooses "
		          "by itself (SCRAM, CRAM-MD5, PLAIN, LOGIN); name "
		          "one with /auth MECH");
		return NULL;
	}
	smtp_session_note(s,
	    "AUTH auto chose %s, the first the server offers in ehlo's "
	    "order: SCRAM-SHA-256-PLUS (over TLS), SCRAM-SHA-256, "
	    "SCRAM-SHA-1-PLUS, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN",
	    mi->name);
	return mi;
}

int
lang_auth_prompt(
    struct lang *l, const char *mech, const char *user, char **errstr)
{
	const struct sasl_mech_info *mi;
	char *secret = NULL;
	int rc = -1;

	/* An unknown mechanism is refused by lang_auth_start, unprompted. */
	if ((*errstr = lang_auth_refusal(l)) != NULL)
		return -1;
	if ((mi = lang_auth_mech(l, mech, errstr)) == NULL && *errstr != NULL)
		return -1;
	if (mi != NULL)
		mech = mi->name;
	if (mi != NULL && user == NULL)
		*errstr = xasprintf("/auth %s needs a user: /auth %s USER, or "
		                    "--user NAME",
		    mi->name, mi->name);
	else if (mi == NULL || (mi->flags & SASL_MECH_NO_SECRET) ||
	    (secret = lang_secret_read(user, errstr)) != NULL)
		rc = lang_auth_start(
		    l, mech, user, secret != NULL ? secret : "", errstr);
	secret_free_str(secret);
	return rc;
}

int
lang_auth_start(struct lang *l, const char *mech, const char *user,
    const char *secret, char **errstr)
{
	struct smtp_session *s = smtp_client_session(l->client);
	const struct smtp_caps *caps = smtp_session_caps(s);
	const struct sasl_mech_info *mi;
	char *wire = NULL, *display = NULL;
	int rc;

	*errstr = NULL;
	if ((mi = lang_auth_mech(l, mech, errstr)) == NULL && *errstr != NULL)
		return -1;
	if (mi == NULL) {
		*errstr = xasprintf(
		    "unknown AUTH mechanism \"%s\"; ehlo knows " SASL_MECH_NAMES,
		    mech);
		return -1;
	}
	if ((*errstr = lang_auth_refusal(l)) != NULL)
		return -1;
	sasl_client_free(l->sasl);
	if ((l->sasl = sasl_client_new(mi->name, user, secret, errstr)) == NULL)
		return -1;
	if (lang_sasl_context(l, mi, errstr) == -1) {
		sasl_client_free(l->sasl);
		l->sasl = NULL;
		return -1;
	}
	/* A server that echoes it gets it masked (session_secret.c). */
	smtp_session_secret_add(s, secret, strlen(secret));
	if (caps->valid && !smtp_caps_has_auth(caps, mi->name))
		smtp_session_warn(s,
		    "the server did not offer AUTH %s; trying "
		    "anyway",
		    mi->name);
	if (!smtp_session_is_tls(s))
		smtp_session_warn(s,
		    "AUTH on a connection without TLS: the "
		    "secret crosses the network readable by "
		    "anyone on the path");
	if (sasl_client_start(
	        l->sasl, mi->initial_response, &wire, &display, errstr) == -1)
		rc = -1;
	else
		rc = smtp_client_send_secret(l->client, wire, display, errstr);
	if (rc == -1) {
		sasl_client_free(l->sasl);
		l->sasl = NULL;
	}
	secret_free_str(wire);
	free(display);
	return rc;
}

static int lang_body_start(struct lang *, const char *, char **);

int
lang_body(struct lang *l, const char *path, char **errstr)
{
	l->pending_raw = 0;
	return lang_body_start(l, path, errstr);
}

int
lang_body_raw(struct lang *l, const char *path, char **errstr)
{
	l->pending_raw = 1;
	return lang_body_start(l, path, errstr);
}

/* Streams path now (after 354) or sends DATA first. */
static int
lang_body_start(struct lang *l, const char *path, char **errstr)
{
	struct smtp_session *s = smtp_client_session(l->client);
	char *err = NULL;
	int fd;

	if (*path == '\0') {
		*errstr = xstrdup("/body needs a FILE");
		return -1;
	}
	if ((fd = localfile_open(path, "the body", 0, NULL, &err)) == -1) {
		*errstr = xasprintf("/body: %s; nothing was sent", err);
		free(err);
		return -1;
	}
	(void)close(fd);
	if (smtp_session_state(s) == SMTP_STATE_CONTENT) {
		record_body_file(l->rec, path);
		return (l->pending_raw
		        ? smtp_client_body_file_raw
		        : smtp_client_body_file)(l->client, path, errstr);
	}
	free(l->pending_body);
	l->pending_body = xstrdup(path);
	if (smtp_client_send(l->client, "DATA", 4, errstr) == -1) {
		free(l->pending_body);
		l->pending_body = NULL;
		return -1;
	}
	return 0;
}

int
lang_on_reply(struct lang *l, const struct smtp_event *ev, char **errstr)
{
	const struct smtp_stage *st = ev->stage;
	int code = ev->reply->code, rc = 0;
	char *err = NULL;

	if (st == NULL)
		return 0;
	if (st->kind == SMTP_STAGE_AUTH && l->sasl != NULL) {
		if (code == 334)
			return lang_sasl_answer(
			    l->client, l->sasl, ev->reply, errstr);
		if (code == 235 && !sasl_client_server_proven(l->sasl))
			smtp_session_warn(smtp_client_session(l->client),
			    "the server accepted before sending its SCRAM "
			    "signature (v=): it was not proven to know the "
			    "password (RFC 5802 5)");
		sasl_client_free(l->sasl);
		l->sasl = NULL;
	}
	if (st->kind == SMTP_STAGE_DATA && l->pending_body != NULL) {
		if (code == 354) {
			record_body_file(l->rec, l->pending_body);
			if ((l->pending_raw ? smtp_client_body_file_raw
			                    : smtp_client_body_file)(
			        l->client, l->pending_body, &err) == -1) {
				/* The server waits for content: end it. */
				*errstr = xasprintf("%s; sending an empty "
				                    "message end so the server "
				                    "leaves DATA",
				    err);
				free(err);
				err = NULL;
				(void)smtp_client_send(l->client, ".", 1, &err);
				free(err);
				rc = -1;
			}
		}
		free(l->pending_body);
		l->pending_body = NULL;
	}
	return rc;
}
