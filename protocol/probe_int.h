/*
 * Private to the probe runner (protocol/probe.c) and the probes that
 * live in rooms of their own (protocol/probe_smuggle.c): the probe's
 * state and the helpers they share.  Nothing else includes it.
 */
#ifndef EHLO_PROTOCOL_PROBE_INT_H
#define EHLO_PROTOCOL_PROBE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/probe.h"

struct loop;

struct pline {
	char *text; /* "C: ..." / "S: ..." (escaped) */
	unsigned conn;
	int kind; /* stage kind it belongs to, -1: none */
	size_t stage; /* its stage index, SIZE_MAX: none */
	int first; /* the first server line answering its stage */
};

/* Stage indexes of the commands a probe judges (SIZE_MAX: not sent). */
enum {
	IX_EHLO,
	IX_MAIL,
	IX_RCPT,
	IX_AUTH,
	IX_VRFY_KNOWN,
	IX_VRFY_UNKNOWN,
	IX_EXPN,
	IX_SIZE_OVER,
	IX_SIZE_OK,
	IX_PIPE_FIRST,
	IX_PIPE_LAST,
	IX_DATA,
	IX_COUNT
};

struct smtp_probe {
	char *name;
	char *helo, *from, *rcpt;
	struct smtp_client *client;
	struct smtp_session *session;
	unsigned conn; /* 1, 2 */
	int early; /* this connection talks before the greeting */
	int early_done;
	int phase;
	size_t ix[IX_COUNT];
	struct smtp_probe_facts facts;
	struct pline *lines;
	size_t nlines;
	int done; /* no further connection wanted */
	int cancelled;
	char *failure; /* smtp_probe_abandon's reason, or NULL */

	/* the smuggling probe (probe_smuggle.c) */
	struct loop *loop; /* for its pause */
	uint64_t timer; /* the pause's timer, 0: none */
	int pause_over;
	int eod_sent; /* the correct end went */
};

/* Sends a command; returns its stage index, or SIZE_MAX. */
size_t probe_send(struct smtp_probe *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The reply code of stage idx (0: none, or idx SIZE_MAX). */
int probe_code_at(const struct smtp_probe *, size_t idx);
/* The enhanced code of stage idx into out[16] ("" when none). */
void probe_enhanced_at(const struct smtp_probe *, size_t idx, char *out);
/* EHLO (HELO when refused), or the preamble's; 1 when it sent. */
int probe_step_ehlo(struct smtp_probe *);
/* MAIL FROM's address: --from, or "" (the null sender). */
const char *probe_sender(const struct smtp_probe *);

/* The smuggling probe (probe_smuggle.c): its step (1: it sent or
 * waits, 0: done on this connection), its facts after a connection,
 * whether it wants another, its evidence lines, the note before it
 * starts, and its end. */
int probe_smuggle_step(struct smtp_probe *);
void probe_smuggle_collect(struct smtp_probe *);
int probe_smuggle_again(const struct smtp_probe *);
int probe_smuggle_is_evidence(const struct pline *);
void probe_smuggle_attach(struct smtp_probe *);
void probe_smuggle_detach(struct smtp_probe *);

#endif
