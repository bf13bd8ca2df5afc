/*
 * Fuzz target: the history spool's import
 * (history/hist_spool_import.c).  The input is a spool file, as a
 * crash, a full disk or an edit may leave one beside the database.  It is placed in a scratch database's spool
 * directory and imported by hist_open.  The promises: opening succeeds
 * (a bad spool file never makes the database unusable), the file is
 * always gone from the queue afterwards (imported, or kept aside as
 * .damaged with a warning), and the database's schema stays intact.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "fuzz.h"
#include "history/history.h"

static char *dir, *db, *spool;
static unsigned long runs;

static void sweep(int *queued, int *damaged);

/* The scratch directory goes when the fuzzer exits. */
static void
cleanup(void)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-starttls"};
	int q, d;
	size_t i;

	sweep(&q, &d);
	(void)rmdir(spool);
	for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		char *p = xasprintf("%s%s", db, sfx[i]);

		(void)unlink(p);
		free(p);
	}
	(void)rmdir(dir);
}

static void
setup(void)
{
	char tmpl[] = "/tmp/ehlo-fuzz-spool-XXXXXX";
	struct hist *h;
	char *err = NULL;

	if (mkdtemp(tmpl) == NULL)
		fuzz_fail("mkdtemp");
	dir = xstrdup(tmpl);
	db = xasprintf("%s/ehlo.db", dir);
	spool = xasprintf("%s-spool", db);
	if ((h = hist_open(db, 0, &err)) == NULL)
		fuzz_fail(err);
	hist_close(h);
	if (mkdir(spool, 0700) == -1)
		fuzz_fail("mkdir spool");
	(void)atexit(cleanup);
}

/* Counts (and removes) the files of the spool directory by kind. */
static void
sweep(int *queued, int *damaged)
{
	DIR *d = opendir(spool);
	struct dirent *e;

	*queued = *damaged = 0;
	if (d == NULL)
		fuzz_fail("opendir spool");
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		if (strstr(e->d_name, ".damaged") != NULL)
			(*damaged)++;
		else if (strstr(e->d_name, ".spool") != NULL)
			(*queued)++;
		p = xasprintf("%s/%s", spool, e->d_name);
		(void)unlink(p);
		free(p);
	}
	(void)closedir(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hist *h;
	char *path, *err = NULL;
	int queued, damaged, warned;
	FILE *f;

	if (dir == NULL)
		setup();
	/* A fresh database now and then, so it does not grow without end. */
	if (++runs % 2000 == 0) {
		char *wal = xasprintf("%s-wal", db);

		(void)unlink(db);
		(void)unlink(wal);
		free(wal);
		if ((h = hist_open(db, 0, &err)) == NULL)
			fuzz_fail(err);
		hist_close(h);
	}
	/* A new name each time: a name imported once is never again. */
	path = xasprintf("%s/%016lx-1-00000001.spool", spool, runs);
	if ((f = fopen(path, "wb")) == NULL)
		fuzz_fail("fopen");
	if (size > 0 && fwrite(data, 1, size, f) != size)
		fuzz_fail("fwrite");
	if (fclose(f) != 0)
		fuzz_fail("fclose");
	free(path);

	h = hist_open(db, 0, &err);
	if (h == NULL)
		fuzz_fail(err);
	warned = hist_warnings(h) != NULL;
	fuzz_check(hist_schema_version(h) == hist_schema_latest());
	hist_close(h);
	sweep(&queued, &damaged);
	fuzz_check(queued == 0);
	fuzz_check(damaged == warned);
	return 0;
}
