/*
 * Completion for the command language, with no UI: given the input line
 * and the cursor, what could come next.  Driven by the command table
 * (verbs legal in the current state first), the server's EHLO reply
 * (ESMTP parameters and AUTH mechanisms only when advertised), and lists
 * the UI supplies (addresses seen, host names, drafts, themes, lessons).
 *
 * Words are split the way the workbench configures readline: a word
 * starts after the last ' ', '\t' or '<' before the cursor.
 */
#ifndef EHLO_PROTOCOL_COMPLETE_H
#define EHLO_PROTOCOL_COMPLETE_H

#include <stddef.h>

#include "protocol/caps.h"
#include "protocol/command.h"

/* A list of strings the UI provides (not owned). */
struct smtp_complete_list {
	const char *const *items;
	size_t n;
};

struct smtp_complete_ctx {
	enum smtp_state state;        /* where the session is */
	const struct smtp_caps *caps; /* NULL or !valid: nothing advertised */
	struct smtp_complete_list addresses; /* for MAIL/RCPT/VRFY/EXPN */
	struct smtp_complete_list hosts;     /* for EHLO/HELO */
	struct smtp_complete_list drafts;    /* for /send */
	struct smtp_complete_list themes;    /* for /theme */
	struct smtp_complete_list lessons;   /* for /lesson */
	/* Workbench commands offered after "/", with their argument kind. */
	struct smtp_complete_list slash;     /* NULL items: the built-in list */
};

struct smtp_completion {
	size_t start;     /* byte offset where the completed word starts */
	char **matches;   /* whole words replacing line[start..cursor) */
	size_t nmatches;  /* sorted, unique, case-insensitive prefix matches */
	char append;      /* after a single match: '>', ' ' or 0 for none */
	int want_files;   /* the word is a file name: the UI lists files */
};

/*
 * Computes the completions for line[0..cursor).  Matching is
 * case-insensitive; a match keeps the case the user typed for the part
 * already typed when the candidate is a verb (so "mai" -> "mail FROM:<")
 * Fills *out (free with smtp_completion_free).  Returns the number of
 * matches.
 */
size_t smtp_complete(const char *line, size_t cursor,
    const struct smtp_complete_ctx *, struct smtp_completion *out);
void smtp_completion_free(struct smtp_completion *);

/* The workbench's / commands, for help and completion. */
struct smtp_slash_command {
	const char *name;  /* "/starttls" */
	const char *args;  /* "MECH [USER]" or "" */
	const char *help;  /* one line */
};
extern const struct smtp_slash_command smtp_slash_commands[];

#endif
