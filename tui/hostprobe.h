/*
 * A diagnostic probe (protocol/probe.h) run in-process on the session
 * host: its one or two connections are the host's, on the caller's
 * loop, its dialogue is reported event by event as it happens, and it
 * can be cancelled.  `ehlo probe` runs one to the end; the workbench can
 * stream one into its dialogue.  Probes are not recorded in the history
 * (they never deliver mail, and ehlo probe never has).
 */
#ifndef EHLO_TUI_HOSTPROBE_H
#define EHLO_TUI_HOSTPROBE_H

#include "protocol/probe.h"
#include "protocol/session.h"

struct cli_opts;
struct loop;
struct hostprobe; /* opaque */

struct hostprobe_cbs {
	/* Every dialogue event of every connection; may be NULL. */
	void (*event)(const struct smtp_event *, void *arg);
	/* An error of the run itself (a cancel names its reason). */
	void (*error)(const char *msg, void *arg);
	/*
	 * Once, from the loop, when the probe is over (done or cancelled):
	 * the result is valid during the call.  Free the run after the
	 * callback returns, not inside it.
	 */
	void (*done)(const struct smtp_probe_result *, void *arg);
	void *arg;
};

/*
 * Starts probe name against server with the connection options of o
 * (--tls, --cafile, --insecure, --timeout, --helo, --from, one --to);
 * o must outlive the run.  The first connection is made from the
 * loop's next turn.  Returns NULL with *errstr for an unknown probe or
 * a SERVER that cannot be parsed.
 */
struct hostprobe *hostprobe_start(struct loop *, const struct cli_opts *o,
    const char *name, const char *server, const struct hostprobe_cbs *,
    char **errstr);
/*
 * For a front end that owns the loop's before-sleep hook: call once
 * per loop turn while the run is not done.
 */
void hostprobe_before_sleep(struct hostprobe *);
/* Runs the loop until the probe is done (ehlo probe). */
void hostprobe_run(struct hostprobe *);
/*
 * Stops the probe as the user's Ctrl-C does: the connection is closed
 * and no other is opened; done follows from the loop.
 */
void hostprobe_cancel(struct hostprobe *);
/* 1 once done was called. */
int hostprobe_is_done(const struct hostprobe *);
/*
 * The verdict, evidence and meaning (free with smtp_probe_result_free),
 * once done; before, from what was gathered so far.
 */
void hostprobe_result(const struct hostprobe *, struct smtp_probe_result *);
/* Closes what is still open and frees.  NULL: no-op. */
void hostprobe_free(struct hostprobe *);

#endif
