/*
 * Replays fuzz inputs without libFuzzer: every file named on the command
 * line, and every regular file inside a directory named there, goes once
 * through LLVMFuzzerTestOneInput().  The normal build links it with each
 * target and ctest runs it over tests/fuzz/corpus/<target>/, so the seed
 * corpus and every crash reproducer saved there are regression tests.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Inputs larger than this are not fuzz inputs; refuse rather than guess. */
#define REPLAY_MAX (16u * 1024 * 1024)

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data;
	size_t n;

	if (f == NULL) {
		(void)fprintf(
		    stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	data = malloc(REPLAY_MAX);
	if (data == NULL) {
		(void)fclose(f);
		(void)fprintf(stderr, "replay: out of memory\n");
		return -1;
	}
	n = fread(data, 1, REPLAY_MAX, f);
	if (ferror(f) || n == REPLAY_MAX) {
		(void)fprintf(
		    stderr, "replay: %s: unreadable or too big\n", path);
		(void)fclose(f);
		free(data);
		return -1;
	}
	(void)fclose(f);
	(void)LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

static int
replay_path(const char *path, unsigned *count)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char *child;
	size_t len;
	int rc = 0;

	if (stat(path, &st) == -1) {
		(void)fprintf(
		    stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	if ((d = opendir(path)) == NULL) {
		(void)fprintf(
		    stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		len = strlen(path) + strlen(e->d_name) + 2;
		if ((child = malloc(len)) == NULL)
			abort();
		(void)snprintf(child, len, "%s/%s", path, e->d_name);
		if (replay_path(child, count) == -1)
			rc = -1;
		free(child);
	}
	(void)closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned count = 0;
	int i, rc = 0;

	if (argc < 2) {
		(void)fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) == -1)
			rc = 1;
	(void)printf("replayed %u input(s)\n", count);
	if (count == 0)
		return 1;
	return rc;
}
