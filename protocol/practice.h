/*
 * The practice server: a real ESMTP server on loopback for learners,
 * with mailboxes, a list, practice accounts, teaching triggers (recipients
 * that produce each classic failure), STARTTLS with a certificate it
 * makes itself, and an inbox of delivered messages.  It runs inside the
 * workbench's event loop, or alone as `ehlo practice`.
 */
#ifndef EHLO_PROTOCOL_PRACTICE_H
#define EHLO_PROTOCOL_PRACTICE_H

#include <stddef.h>

struct loop;

struct practice_opts {
	const char *listen;  /* "127.0.0.1:2525"; port 0 picks a free one */
	const char *datadir; /* certificate and inbox live here; NULL: the
	                      * default (practice_default_dir()) */
	int quiet;           /* do not log connections to stderr */
};

struct practice; /* opaque */

/*
 * Starts listening (creating the data directory, the certificate on
 * first use).  Returns NULL with *errstr when the address is taken or
 * the directory cannot be created.
 */
struct practice *practice_new(struct loop *, const struct practice_opts *,
    char **errstr);
/* Closes every connection and the listener.  NULL is a no-op. */
void practice_free(struct practice *);

/* "127.0.0.1:PORT" actually bound (owned by the server). */
const char *practice_address(const struct practice *);
/* PEM file of the server's self-signed certificate, for --cafile. */
const char *practice_cafile(const struct practice *);
/* The directory holding inbox/<user>/ with one file per message. */
const char *practice_inbox_dir(const struct practice *);

/* $XDG_DATA_HOME/ehlo/practice or ~/.local/share/ehlo/practice
 * (allocated), or NULL with *errstr. */
char *practice_default_dir(char **errstr);

/* A reply the server can send, for the explanation coverage test. */
struct practice_reply {
	int code;
	const char *enhanced; /* "" when none */
};
/* Every (code, enhanced) pair the server can send. */
size_t practice_reply_count(void);
const struct practice_reply *practice_reply_at(size_t);

#endif
