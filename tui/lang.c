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
#include <termios.h>
#include <unistd.h>

#include "core/xmalloc.h"
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

void
lang_secret_env_take(void)
{
	static const char name[] = "EHLO_PASSWORD=";
	char *env = getenv("EHLO_PASSWORD"), *entry;

	if (env == NULL)
		return;
	if (lang_env_secret == NULL)
		(void)atexit(lang_secret_env_wipe);
	secret_free_str(lang_env_secret);
	lang_env_secret = xstrdup(env);
	/*
	 * The name goes from environ; then the bytes of "NAME=value"
	 * themselves, which /proc/PID/environ and a core would still show.
	 */
	entry = env - (sizeof name - 1);
	(void)unsetenv("EHLO_PASSWORD");
	if (strncmp(entry, name, sizeof name - 1) == 0)
		explicit_bzero(entry, sizeof name - 1 + strlen(env));
	else
		explicit_bzero(env, strlen(env));
}

const char *
lang_secret_env(void)
{
	return lang_env_secret;
}

/* $EHLO_PASSWORD, else asked on the terminal without echo. */
static char *
lang_secret_read(const char *user, char **errstr)
{
	const char *env = lang_secret_env();

	if (env != NULL)
		return xstrdup(env);
	return lang_secret_ask("Secret for", user, "EHLO_PASSWORD", errstr);
}

char *
lang_secret_ask(
    const char *what, const char *whose, const char *env, char **errstr)
{
	struct termios old, noecho;
	char buf[1024], *secret;
	size_t n = 0;
	ssize_t r;
	int fd;
	char c;

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
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	(void)tcsetattr(fd, TCSAFLUSH, &noecho);
	(void)dprintf(fd, "%s %s (not echoed): ", what, whose);
	while ((r = read(fd, &c, 1)) == 1 && c != '\n' && c != '\r')
		if (n + 1 < sizeof buf)
			buf[n++] = c;
	buf[n] = '\0';
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)dprintf(fd, "\n");
	(void)close(fd);
	if (r != 1) {
		explicit_bzero(buf, sizeof buf);
		*errstr = xstrdup("no secret was entered");
		return NULL;
	}
	secret = xstrdup(buf);
	explicit_bzero(buf, sizeof buf);
	return secret;
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

int
lang_auth_prompt(
    struct lang *l, const char *mech, const char *user, char **errstr)
{
	const struct sasl_mech_info *mi = sasl_mech_find(mech);
	char *secret = NULL;
	int rc = -1;

	/* An unknown mechanism is refused by lang_auth_start, unprompted. */
	if ((*errstr = lang_auth_refusal(l)) != NULL)
		return -1;
	if (mi != NULL && user == NULL)
		*errstr = xasprintf("/auth %s needs a user: /auth %s USER, or "
		                    "--user NAME",
		    mi->name, mi->name);
	else if (mi == NULL ||
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
	const struct sasl_mech_info *mi = sasl_mech_find(mech);
	struct smtp_session *s = smtp_client_session(l->client);
	const struct smtp_caps *caps = smtp_session_caps(s);
	char *wire = NULL, *display = NULL;
	int rc;

	if (mi == NULL) {
		*errstr = xasprintf("unknown AUTH mechanism \"%s\"; ehlo knows "
		                    "PLAIN, LOGIN, CRAM-MD5 and XOAUTH2",
		    mech);
		return -1;
	}
	if ((*errstr = lang_auth_refusal(l)) != NULL)
		return -1;
	sasl_client_free(l->sasl);
	if ((l->sasl = sasl_client_new(mi->name, user, secret, errstr)) == NULL)
		return -1;
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
	sasl_client_start(l->sasl, mi->initial_response, &wire, &display);
	rc = smtp_client_send_secret(l->client, wire, display, errstr);
	if (rc == -1) {
		sasl_client_free(l->sasl);
		l->sasl = NULL;
	}
	secret_free_str(wire);
	free(display);
	return rc;
}

int
lang_body(struct lang *l, const char *path, char **errstr)
{
	struct smtp_session *s = smtp_client_session(l->client);
	int fd;

	if (*path == '\0') {
		*errstr = xstrdup("/body needs a FILE");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*errstr = xasprintf("/body: cannot open %s: %s; nothing was "
		                    "sent",
		    path, strerror(errno));
		return -1;
	}
	(void)close(fd);
	if (smtp_session_state(s) == SMTP_STATE_CONTENT) {
		record_body_file(l->rec, path);
		return smtp_client_body_file(l->client, path, errstr);
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
		sasl_client_free(l->sasl);
		l->sasl = NULL;
	}
	if (st->kind == SMTP_STAGE_DATA && l->pending_body != NULL) {
		if (code == 354) {
			record_body_file(l->rec, l->pending_body);
			if (smtp_client_body_file(
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
