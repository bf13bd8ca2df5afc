/*
 * Between the rooms of the explanations: explain_load.c turns the
 * embedded knowledge files (protocol/knowledge/NAME.txt, format in
 * protocol/knowledge/README.md) into tables once, explain.c looks
 * things up in them and formats the text.  Private to
 * protocol/knowledge/.
 */
#ifndef EHLO_PROTOCOL_EXPLAIN_INT_H
#define EHLO_PROTOCOL_EXPLAIN_INT_H

#include <stddef.h>

#include "protocol/explain.h"

/* The entries of one file ("replies", "verbs", ...). */
struct explain_table {
	struct smtp_explain *e;
	size_t n;
	char *strings; /* every text of e, NUL-separated; owns them */
};

/*
 * One row of onelines.txt: (verb, code, enhanced) with a well-known
 * meaning.  verb NULL matches any verb, enhanced NULL any enhanced code.
 */
struct explain_oneline {
	const char *verb;
	int code;
	const char *enhanced;
	const char *text;
};

struct explain_onelines {
	struct explain_oneline *o;
	size_t n;
	char *strings; /* owns the texts of o */
};

/* The kinds of entry, in the order smtp_explain_at() walks them. */
enum explain_kind {
	EXPLAIN_REPLY,
	EXPLAIN_ENHANCED,
	EXPLAIN_VERB,
	EXPLAIN_REPLY_CLASS,
	EXPLAIN_ENHANCED_CLASS,
	EXPLAIN_EXTENSION,
	EXPLAIN_PORT,
	EXPLAIN_MECHANISM,
	EXPLAIN_CONCEPT,
	EXPLAIN_TOPIC, /* topics.txt: "smuggling", "bare-lf" (issue 22) */
	EXPLAIN_NKINDS
};

struct explain_kb {
	struct explain_table t[EXPLAIN_NKINDS];
	struct explain_onelines onelines;
};

/*
 * The knowledge base, parsed from the embedded files on first use and
 * kept for the life of the process.  Never NULL; a file that is missing
 * gives an empty table.
 */
const struct explain_kb *explain_kb(void);

/* The file stem and the kind name ("reply", ...) of kind k. */
const char *explain_kind_file(enum explain_kind k);
const char *explain_kind_name(enum explain_kind k);

/*
 * Parses an entries file (len bytes at text, which need not be
 * NUL-terminated) into t.  Malformed lines are skipped and entries
 * without a key, title, meaning or rfc are dropped, so every entry in t
 * has those four; the others may be NULL.  Texts are single lines of
 * bytes 0x20..0x7e and 0x80..0xff.  Free with explain_table_free().
 */
void explain_table_parse(struct explain_table *t, const char *text, size_t len);
void explain_table_free(struct explain_table *t);

/*
 * Parses onelines.txt (VERB|CODE|ENHANCED|TEXT rows) into o; malformed
 * rows are skipped.  Free with explain_onelines_free().
 */
void explain_onelines_parse(
    struct explain_onelines *o, const char *text, size_t len);
void explain_onelines_free(struct explain_onelines *o);

#endif
