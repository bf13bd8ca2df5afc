/*
 * Local files that become part of a message (a body, an attachment, a
 * message to send as it is) or a body read from standard input.
 *
 * Two dangers, one place (issue 21 item 7): an open(2) that never
 * returns (a FIFO with no writer) and a read that never ends (a
 * device such as /dev/zero, a pipe that never closes).  A path is
 * opened without blocking and must be a regular file, whose size is
 * known before a byte is sent; a stream is copied to an unlinked
 * temporary file up to a documented maximum.  Error texts name `what`
 * ("the body", "the attachment") and say what to do instead.
 */
#ifndef EHLO_CORE_LOCALFILE_H
#define EHLO_CORE_LOCALFILE_H

#include <stdint.h>

/* The largest file taken as a body or attachment: 4 GiB. */
#define LOCALFILE_MAX ((uint64_t)4 << 30)
/* The largest body read from standard input: 256 MiB. */
#define LOCALFILE_STREAM_MAX ((uint64_t)256 << 20)

/*
 * Opens path for reading.  The open cannot block (O_NONBLOCK, cleared
 * again afterwards); anything but a regular file (a FIFO, a device, a
 * directory, a socket) and a file over max octets (0: LOCALFILE_MAX)
 * are refused.  Returns a blocking, close-on-exec descriptor the caller
 * closes, and its size in *size when size is not NULL; or -1 with an
 * allocated message in *errstr naming what and path.
 */
int localfile_open(const char *path, const char *what, uint64_t max,
    uint64_t *size, char **errstr);

/*
 * Copies the stream fd (standard input, say) into an unlinked
 * temporary file, at most max octets (0: LOCALFILE_STREAM_MAX).
 * Returns the temporary file's descriptor (positioned at its end; the
 * caller seeks), or -1 with an allocated message in *errstr: a stream
 * over the maximum is refused once the maximum is passed, without
 * reading on.
 */
int localfile_spool(int fd, const char *what, uint64_t max, char **errstr);

#endif
