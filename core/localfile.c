/*
 * Local files opened so that nothing can hang (see localfile.h): a
 * path is opened with O_NONBLOCK and judged by fstat(2) on the open
 * descriptor, so what is judged is what is read; a stream is copied
 * into an unlinked file from tmpfile(3), counting as it goes.
 */
#include "core/localfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"

static const char *
kind_name(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO (named pipe)";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

int
localfile_open(const char *path, const char *what, uint64_t max, uint64_t *size,
    char **errstr)
{
	struct stat st;
	int fd, fl;

	if (max == 0)
		max = LOCALFILE_MAX;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		*errstr = xasprintf(
		    "cannot open %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*errstr = xasprintf(
		    "cannot read %s %s: %s", what, path, strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr = xasprintf("%s %s is %s; only a regular file can be "
		                    "sent, as its size must be known (copy it "
		                    "to a file first)",
		    what, path, kind_name(st.st_mode));
		(void)close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		*errstr = xasprintf("%s %s is %llu octets, over the maximum of "
		                    "%llu",
		    what, path, (unsigned long long)st.st_size,
		    (unsigned long long)max);
		(void)close(fd);
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		*errstr = xasprintf(
		    "cannot read %s %s: %s", what, path, strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (size != NULL)
		*size = (uint64_t)st.st_size;
	return fd;
}

int
localfile_spool(int fd, const char *what, uint64_t max, char **errstr)
{
	FILE *f = tmpfile();
	char buf[65536];
	uint64_t total = 0;
	ssize_t n;
	int out;

	if (max == 0)
		max = LOCALFILE_STREAM_MAX;
	if (f == NULL) {
		*errstr = xasprintf("cannot make a temporary file for %s: %s",
		    what, strerror(errno));
		return -1;
	}
	out = dup(fileno(f));
	(void)fclose(f);
	if (out == -1) {
		*errstr = xasprintf("cannot make a temporary file for %s: %s",
		    what, strerror(errno));
		return -1;
	}
	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*errstr =
			    xasprintf("reading %s: %s", what, strerror(errno));
			break;
		}
		if (n == 0)
			return out;
		if ((total += (uint64_t)n) > max) {
			*errstr = xasprintf("%s is over the maximum of %llu "
			                    "octets read from a stream; give a "
			                    "file instead",
			    what, (unsigned long long)max);
			break;
		}
		errno = 0;
		if (write(out, buf, (size_t)n) != n) {
			*errstr = xasprintf(
			    "writing %s to a temporary file: %s", what,
			    errno != 0 ? strerror(errno) : "short write");
			break;
		}
	}
	(void)close(out);
	return -1;
}
