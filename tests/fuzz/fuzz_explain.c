/*
 * Fuzz target: explanation lookup (protocol/knowledge/explain.c).
 * Queries are typed by people or pasted from reply lines: any text must
 * give either an explanation or NULL, wrapped text must respect its
 * width, and the one-line meanings must accept any verb, code and
 * enhanced code.
 */
#include <string.h>

#include "core/xmalloc.h"
#include "fuzz.h"
#include "protocol/explain.h"

static void
check_width(const char *text, size_t width)
{
	const char *p = text, *nl;
	size_t cols, i;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		/* Count code points: UTF-8 continuation bytes add no column. */
		for (cols = 0, i = 0; p + i < nl; i++)
			if (((unsigned char)p[i] & 0xc0) != 0x80)
				cols++;
		/* A single word longer than the width may stand alone. */
		if (cols > width && memchr(p, ' ', (size_t)(nl - p)) != NULL &&
		    width >= 20)
			fuzz_fail("a wrapped line is wider than asked");
		p = *nl == '\0' ? nl : nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_explain_hit hits[2];
	char *q, *text, enh[32];
	size_t n, width, i;
	int code;

	if (size < 1 || size > 4096)
		return 0;
	width = 8 + data[0] % 120;
	q = xmalloc(size);
	memcpy(q, data + 1, size - 1);
	q[size - 1] = '\0';

	text = smtp_explain_text(q);
	free(text);
	n = smtp_explain_lookup(q, hits);
	fuzz_check(n <= 2);
	for (i = 0; i < n; i++) {
		fuzz_check(hits[i].entry != NULL);
		fuzz_check(memchr(hits[i].as, '\0', sizeof hits[i].as) != NULL);
		fuzz_check(smtp_explain_kind(hits[i].entry) != NULL);
	}
	if (n > 0) {
		text = smtp_explain_format(hits, n, width);
		fuzz_check(text != NULL);
		check_width(text, width);
		free(text);
	}
	text = smtp_explain_text_width(q, width);
	free(text);

	code = size >= 3 ? (data[1] << 8 | data[2]) % 1000 : 0;
	(void)snprintf(
	    enh, sizeof enh, "%.*s", (int)(size > 8 ? 8 : size - 1), q);
	(void)smtp_explain_oneline(q, code, enh);
	(void)smtp_explain_oneline(NULL, code, "");
	(void)smtp_explain_code(code);
	(void)smtp_explain_enhanced(q);
	(void)smtp_explain_verb(q);
	(void)smtp_explain_class(code % 10);
	(void)smtp_explain_reply_class(code % 10);
	free(q);
	return 0;
}
