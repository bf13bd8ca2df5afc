/*
 * timeexec: runs a command and writes "WALL_NS MAXRSS_KIB STATUS" to
 * RESULT_FILE.  bench/run times every tool through it: the clock runs
 * from fork to wait4, and the peak RSS is wait4's ru_maxrss of the
 * child.  (A child forked from the Python harness itself would inherit
 * the harness's high-water mark, which is why this is a separate small
 * program.)  STATUS is the exit code, or 128 + the signal.
 *
 * Usage: timeexec RESULT_FILE COMMAND [ARG...]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *f;
	pid_t pid;
	int status, code;

	if (argc < 3) {
		fprintf(
		    stderr, "usage: timeexec RESULT_FILE COMMAND [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1) {
		perror("timeexec: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) == -1) {
		perror("timeexec: wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if ((f = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	fprintf(f, "%lld %ld %d\n",
	    (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
	        (t1.tv_nsec - t0.tv_nsec),
	    ru.ru_maxrss, code);
	return fclose(f) == 0 ? 0 : 2;
}
