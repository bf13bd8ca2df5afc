/*
 * The UNIX-domain socket under an LMTP session (RFC 2033: LMTP servers
 * such as Dovecot's lmtp and Cyrus listen on a socket in the file
 * system).  SERVER forms "unix:/path" and "/path" name one; the
 * transport then connects there instead of resolving a host, and the
 * rest (reads, writes, STARTTLS) is the same file descriptor path as
 * TCP.
 */
#include "protocol/transport_int.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/xmalloc.h"

int
smtp_server_is_unix(const char *server)
{
	return server != NULL &&
	    (server[0] == '/' || strncmp(server, "unix:", 5) == 0);
}

int
smtp_server_is_lmtp(const char *server)
{
	return server != NULL &&
	    (smtp_server_is_unix(server) || strncmp(server, "lmtp://", 7) == 0);
}

int
tr_unix_connect(struct smtp_transport *t, char **errstr)
{
	struct sockaddr_un sun;
	size_t n = strlen(t->host);
	char *shown = escape_dup(t->host, n);
	int fd, err;

	(void)snprintf(t->trying, sizeof t->trying, "unix:%s", shown);
	if (n == 0 || n >= sizeof sun.sun_path) {
		*errstr =
		    xasprintf("the socket path unix:%s is %s (at most %zu "
		              "octets): give a shorter path",
		        shown, n == 0 ? "empty" : "too long",
		        sizeof sun.sun_path - 1);
		free(shown);
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, t->host, n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd != -1 &&
	    (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 ||
	        errno == EINPROGRESS || errno == EAGAIN || errno == EINTR)) {
		t->fd = fd;
		t->state = TR_CONNECTING;
		t->want = SMTP_TR_WANT_WRITE;
		free(shown);
		return 0;
	}
	err = errno;
	if (fd != -1)
		(void)close(fd);
	*errstr = xasprintf("cannot connect to the socket unix:%s: %s. Is an "
	                    "LMTP server listening there? Check the path and "
	                    "its permissions.",
	    shown, strerror(err));
	free(shown);
	return -1;
}
