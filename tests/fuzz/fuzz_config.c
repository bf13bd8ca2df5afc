/*
 * Fuzz target: the configuration file parser (tui/config.c).  Any input
 * gives either a configuration or NULL with a "PATH:LINE: problem"
 * message, never both; every account's settings are lookups that
 * resolve, every setting has a key and a line within the input.
 */
#include <string.h>

#include "fuzz.h"
#include "tui/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg;
	char *err = NULL;
	size_t i, k, lines = 1;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	cfg = config_parse("fuzz.conf", (const char *)data, size, &err);
	if (cfg == NULL) {
		fuzz_check(err != NULL && strncmp(err, "fuzz.conf", 9) == 0);
		free(err);
		return 0;
	}
	fuzz_check(err == NULL);
	fuzz_check(cfg->nacc >= 1 && cfg->acc[0].name == NULL);
	for (i = 0; i < cfg->nlines; i++) {
		fuzz_check(cfg->lines[i].key[0] != '\0');
		fuzz_check(
		    cfg->lines[i].line >= 1 && cfg->lines[i].line <= lines);
	}
	for (i = 0; i < cfg->nacc; i++) {
		fuzz_check(
		    config_account_find(cfg, cfg->acc[i].name) == &cfg->acc[i]);
		for (k = 0; k < cfg->acc[i].n; k++)
			fuzz_check(config_get(&cfg->acc[i],
			               cfg->acc[i].v[k].key) != NULL);
	}
	config_free(cfg);
	return 0;
}
