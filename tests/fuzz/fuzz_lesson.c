/*
 * Fuzz target: the lesson file parser (protocol/knowledge/
 * lesson_file.c), which reads a teacher's files (`ehlo lesson --dir`,
 * `--check`).  Any bytes give either a lesson with every required part
 * (a name of a-z0-9-, a title, text, a task, goals each with a hint, an
 * answer) or an error of the form "FILE:LINE: ...".
 */
#include <string.h>

#include "fuzz.h"
#include "protocol/lesson.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lesson *l;
	char *err = NULL;
	size_t i;

	if (size > 70000)
		return 0;
	l = lesson_parse("fuzz.lesson", (const char *)data, size, &err);
	if (l == NULL) {
		fuzz_check(
		    err != NULL && strncmp(err, "fuzz.lesson:", 12) == 0);
		free(err);
		return 0;
	}
	fuzz_check(l->name != NULL && strlen(l->name) >= 1 &&
	    strlen(l->name) <= 31 &&
	    strspn(l->name, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
	        strlen(l->name));
	fuzz_check(l->title != NULL && l->text != NULL && l->task != NULL &&
	    l->answer != NULL && l->ngoals > 0);
	for (i = 0; i < l->ngoals; i++)
		fuzz_check(
		    l->goals[i].text != NULL && l->goals[i].hint != NULL);
	lesson_free(l);
	return 0;
}
