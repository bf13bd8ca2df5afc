/*
 * Drafts (history/ rows) as message descriptions (protocol/message.h)
 * and back: the one place that knows how a composed message is laid out
 * in a draft, shared by `ehlo send --draft ID` and the workbench's draft
 * editor.
 *
 * Layout of a draft: env_from is the sender address; env_to a JSON
 * array of every envelope recipient (To, Cc and Bcc); headers a block of
 * "Name: value" lines (LF or CRLF, folded lines allowed) holding From,
 * To, Cc, Bcc, Reply-To, Subject and any extra header; body the text
 * body; attachments a JSON array of file paths (objects with a "path"
 * member are accepted too).  An envelope recipient named in no To, Cc or
 * Bcc header is sent as a Bcc recipient.
 */
#ifndef EHLO_TUI_DRAFT_H
#define EHLO_TUI_DRAFT_H

#include "history/history.h"
#include "protocol/message.h"

/* A message description and the storage its strings point into. */
struct draft_msg {
	struct smtp_message msg;
	char *from, *subject, *body;
	size_t nstr;
	char **strs; /* every list entry, owned */
	const char **to, **cc, **bcc, **reply_to, **headers, **attach;
};

/*
 * Fills dm from draft d (copied: d may be freed afterwards).  Returns 0,
 * or -1 with *errstr when env_to or attachments is not the JSON array
 * it should be, or a header line has no colon.  Free with
 * draft_msg_free() either way.
 */
int draft_msg_load(
    struct draft_msg *dm, const struct hist_draft *d, char **errstr);
void draft_msg_free(struct draft_msg *dm);

/*
 * Fills dm from the stored draft id (hist_draft_get, draft_msg_load).
 * Returns 0, or -1 with *errstr NULL when there is no such draft (the
 * caller says so in its own words) or set for a store error or an
 * unreadable draft.  Free with draft_msg_free() either way.
 */
int draft_msg_get(
    struct draft_msg *dm, struct hist *h, int64_t id, char **errstr);

/*
 * The draft form of msg (id 0: save with hist_draft_save and set the id
 * for later saves).  The strings are allocated: free with
 * draft_hist_free().  A body given as a file or descriptor is not read:
 * only body_mem is kept.
 */
void draft_hist_from_msg(struct hist_draft *d, const struct smtp_message *msg);
void draft_hist_free(struct hist_draft *d);

#endif
