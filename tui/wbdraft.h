/*
 * The draft being edited in the workbench: owned copies of every field,
 * turned into a struct smtp_message (protocol/message.h) for the
 * preview and for sending, and into a stored draft (history/) through
 * tui/draft.h.  Editing happens through `/draft` commands on the input
 * line; the workbench shows the fields in a pane.
 */
#ifndef EHLO_TUI_WBDRAFT_H
#define EHLO_TUI_WBDRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/message.h"

struct draft_msg;
struct hist;
struct wdraft; /* opaque */

struct wdraft *wdraft_new(void);
/* NULL is a no-op. */
void wdraft_free(struct wdraft *);

/* Replaces the fields with draft id from the store.  -1 with *errstr. */
int wdraft_load(struct wdraft *, struct hist *, int64_t id, char **errstr);
/* Saves (a new draft the first time).  Returns the id or -1. */
int64_t wdraft_save(struct wdraft *, struct hist *, char **errstr);
/* Forgets the id: the next save makes a copy (duplicate). */
void wdraft_detach(struct wdraft *);
int64_t wdraft_id(const struct wdraft *);

/*
 * Sets a field: "from", "subject" replace; "to", "cc", "bcc",
 * "reply-to", "header", "attach" append (attach checks the file can be
 * read).  value NULL or "" with "clear" semantics: the field is emptied.
 * Returns -1 with *errstr for an unknown field or a CR/LF in the value.
 */
int wdraft_set(
    struct wdraft *, const char *field, const char *value, char **errstr);
/* Appends one line (without line end) to the body. */
void wdraft_body_append(struct wdraft *, const char *line);
/* Replaces the body. */
void wdraft_body_set(struct wdraft *, const char *text, size_t len);
const char *wdraft_body(const struct wdraft *, size_t *len);

/*
 * Fills *msg with views into the draft (valid until the draft changes).
 */
void wdraft_message(const struct wdraft *, struct smtp_message *msg);

/*
 * The draft as `ehlo send --draft` reads it: through its stored form
 * (tui/draft.h), so that both build the same message from it.  dm owns
 * its strings (the draft may change or go meanwhile).  Returns 0, or -1
 * with *errstr as draft_msg_load(); free dm with draft_msg_free()
 * either way.
 */
int wdraft_stored(const struct wdraft *, struct draft_msg *dm, char **errstr);

/* Lines describing the draft for the pane (allocated; free each and the
 * array). */
char **wdraft_describe(const struct wdraft *, size_t *n);

/* The field names wdraft_set accepts, NULL-terminated (completion). */
extern const char *const wdraft_fields[];

#endif
