/*
 * The parts of the command language (DESIGN.md section 3) that span
 * several replies and are the same in line mode and in the workbench:
 * `/auth` (the SASL exchange after the AUTH command) and `/body` (DATA,
 * then the file once the server says 354).  Each front end keeps one
 * struct lang per connection and reports what these calls return in its
 * own way.
 */
#ifndef EHLO_TUI_LANG_H
#define EHLO_TUI_LANG_H

struct record;
struct sasl_client;
struct sasl_mech_info;
struct smtp_client;
struct smtp_event;

struct lang {
	struct smtp_client *client; /* the connection (not owned) */
	struct record *rec; /* the recorder, or NULL (not owned) */
	struct sasl_client *sasl; /* an /auth exchange in progress */
	char *pending_body; /* /body waiting for the 354 */
	int pending_raw; /* ... sent raw (--raw-data) */
};

/*
 * EHLO_PASSWORD, read once at start: lang_secret_env_take() keeps a copy,
 * wipes the bytes in the environment and unsets the name (a core or
 * /proc/PID/environ would show it), and wipes the copy at exit;
 * lang_secret_env() is that copy, or NULL.
 */
void lang_secret_env_take(void);
/*
 * Any secret from the environment (EHLO_PASSWORD, EHLO_SOCKS_PASSWORD):
 * a copy of $name (allocated, free with secret_free_str), the variable
 * removed and its bytes wiped; NULL when it is not set.
 */
char *lang_env_take(const char *name);
const char *lang_secret_env(void);
/*
 * A secret from the configuration (password, passwordeval, ~/.netrc):
 * copied and kept as lang_secret_env() unless EHLO_PASSWORD or an
 * earlier preset gave one (the first wins); wiped at exit.
 */
void lang_secret_preset(const char *secret);
/*
 * Asks on /dev/tty without echo: "WHAT WHOSE (not echoed): ".  Any
 * length (the terminal's line limit of 4 KiB is bypassed: the line is
 * edited here, Backspace and Ctrl-U work), up to 1 MiB.  Allocated for
 * secret_free_str; every other copy is wiped.  NULL with *errstr (naming
 * env, the variable to set) when there is no terminal or nothing was
 * entered (Ctrl-D).
 */
char *lang_secret_ask(
    const char *what, const char *whose, const char *env, char **errstr);

/*
 * Why credentials must not be sent on this connection now (no TLS after
 * a STARTTLS downgrade, or to a non-loopback address, without
 * --allow-plaintext-auth), allocated, or NULL.
 */
char *lang_auth_refusal(const struct lang *);

/*
 * The mechanism mech names: sasl_mech_find(), or for "auto" the best
 * the server offered in its last EHLO (sasl_mech_choose: SCRAM first,
 * -PLUS only over TLS), noted in the session.  NULL when unknown; for
 * "auto" with nothing to choose, NULL with *errstr.
 */
const struct sasl_mech_info *lang_auth_mech(
    struct lang *, const char *mech, char **errstr);

/*
 * lang_auth_start with the secret asked for (EHLO_PASSWORD, or the
 * terminal, without echo) and wiped after; a known mechanism needs
 * a user.  Returns -1 with *errstr.
 */
int lang_auth_prompt(
    struct lang *, const char *mech, const char *user, char **errstr);

/*
 * Starts an /auth exchange: mech must be one sasl_mech_find() knows.
 * Refused (nothing sent) when lang_auth_refusal() says so.  The secret
 * is masked in every server line from now on.  Warns (as session warnings) when the server did not offer the
 * mechanism or the connection has no TLS.  secret is copied and may be
 * wiped by the caller at once.  Returns -1 with *errstr.
 */
int lang_auth_start(struct lang *, const char *mech, const char *user,
    const char *secret, char **errstr);

/*
 * /body FILE: checks the file can be read (nothing is sent otherwise),
 * then streams it now when the server is already after 354, else sends
 * DATA and streams it when the 354 comes.  Returns -1 with *errstr.
 */
int lang_body(struct lang *, const char *path, char **errstr);
/* lang_body with the file's octets as they are (ehlo run --raw-data):
 * no normalisation, no dot-stuffing; the final "." still added. */
int lang_body_raw(struct lang *, const char *path, char **errstr);

/*
 * Follows one reply event: answers 334 during /auth, starts the pending
 * body after 354 (a file that became unreadable ends the message empty,
 * so the server leaves DATA).  Returns -1 with *errstr when the user's
 * request could not go on.
 */
int lang_on_reply(struct lang *, const struct smtp_event *, char **errstr);

/* Forgets an exchange or a pending body (new connection, exit). */
void lang_reset(struct lang *);

#endif
