/*
 * The knowledge files, compiled into the binary so ehlo never depends on
 * an install path.  The table is generated at build time by
 * cmake/embed.cmake from protocol/knowledge/NAME.txt, which stay the
 * source of truth.  Private to protocol/knowledge/.
 */
#ifndef EHLO_PROTOCOL_KNOWLEDGE_FILES_H
#define EHLO_PROTOCOL_KNOWLEDGE_FILES_H

#include <stddef.h>

struct knowledge_file {
	const char *name; /* file stem: "replies" */
	const char *text; /* the file's bytes, NUL-terminated */
	size_t len; /* without the NUL */
};

/* Sorted by name; knowledge_file_count entries. */
extern const struct knowledge_file knowledge_files[];
extern const size_t knowledge_file_count;
/* The built-in lessons (protocol/knowledge/lessons/NN-NAME.lesson),
 * sorted by file name, which is their teaching order. */
extern const struct knowledge_file lesson_files[];
extern const size_t lesson_file_count;

#endif
