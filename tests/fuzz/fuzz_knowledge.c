/*
 * Fuzz target: the knowledge file parser (protocol/knowledge/
 * explain_load.c).  The embedded files are ours, but the parser must
 * cope with any bytes: every entry it keeps has a key, title, meaning
 * and rfc, no text holds a control byte, and every one-line row has a
 * text.  The first byte picks the entry or the onelines grammar.
 */
#include <string.h>

#include "fuzz.h"
#include "protocol/knowledge/explain_int.h"

static void
check_text(const char *s)
{
	if (s == NULL)
		return;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fuzz_fail("a control byte in a parsed text");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct explain_table t;
	struct explain_onelines o;
	size_t i;

	if (size < 1 || size > 65536)
		return 0;
	if (data[0] & 1) {
		explain_onelines_parse(&o, (const char *)data + 1, size - 1);
		for (i = 0; i < o.n; i++) {
			fuzz_check(
			    o.o[i].text != NULL && o.o[i].text[0] != '\0');
			fuzz_check(o.o[i].code >= 0 && o.o[i].code <= 999);
			check_text(o.o[i].verb);
			check_text(o.o[i].enhanced);
			check_text(o.o[i].text);
		}
		explain_onelines_free(&o);
		return 0;
	}
	explain_table_parse(&t, (const char *)data + 1, size - 1);
	for (i = 0; i < t.n; i++) {
		const struct smtp_explain *e = &t.e[i];

		fuzz_check(e->key != NULL && e->key[0] != '\0');
		fuzz_check(strlen(e->key) <= 31);
		fuzz_check(
		    e->title != NULL && e->meaning != NULL && e->rfc != NULL);
		check_text(e->key);
		check_text(e->title);
		check_text(e->meaning);
		check_text(e->causes);
		check_text(e->action);
		check_text(e->servers);
		check_text(e->rfc);
	}
	explain_table_free(&t);
	return 0;
}
