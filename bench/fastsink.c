/*
 * fastsink: the throughput sink for bench/run.
 *
 * A minimal SMTP server that accepts one connection at a time on
 * 127.0.0.1 and never parses message content line by line: in DATA it
 * reads 1 MiB at a time, looks for CRLF "." CRLF with memmem (across read
 * boundaries through a 4-byte carry), and keeps only the octet count and
 * a CRC-32 of what arrived (the terminating ".\r\n" included).  Each
 * finished transaction appends one line to the log file:
 *
 *   rcpt=N bytes=B crc=XXXXXXXX envelope_reads=R
 *
 * so the benchmark can check that every message arrived complete before
 * it counts a time.  envelope_reads is how many reads carried MAIL and
 * RCPT lines: 1 means the envelope arrived in one piece.
 *
 * Usage: fastsink LOGFILE   (prints the port it listens on, then serves
 * until killed).  Benchmark tool only: no TLS, no limits, no security.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#define READ_SIZE (1024 * 1024)
#define LINE_MAX_LEN 4096

static FILE *logf;

static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

struct conn {
	int fd;
	char *buf; /* 4 carry bytes + READ_SIZE */
	char line[LINE_MAX_LEN];
	size_t linelen;
	char out[65536];
	size_t outlen;
	int in_data, quit;
	int rcpt, envelope_reads;
	unsigned long reads, last_env_read;
	unsigned long long bytes;
	uLong crc;
	char carry[4];
};

static void
reply(struct conn *c, const char *s)
{
	size_t n = strlen(s);

	if (c->outlen + n > sizeof c->out) {
		(void)send_all(c->fd, c->out, c->outlen);
		c->outlen = 0;
	}
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
}

static void
command(struct conn *c, char *l)
{
	if (strncasecmp(l, "EHLO", 4) == 0)
		reply(c,
		    "250-fastsink\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
		    "250-SIZE\r\n250 ENHANCEDSTATUSCODES\r\n");
	else if (strncasecmp(l, "HELO", 4) == 0)
		reply(c, "250 fastsink\r\n");
	else if (strncasecmp(l, "MAIL", 4) == 0) {
		c->rcpt = 0;
		reply(c, "250 2.1.0 Ok\r\n");
	} else if (strncasecmp(l, "RCPT", 4) == 0) {
		c->rcpt++;
		reply(c, "250 2.1.5 Ok\r\n");
	} else if (strncasecmp(l, "DATA", 4) == 0) {
		reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
		c->in_data = 1;
		c->bytes = 0;
		c->crc = crc32(0L, Z_NULL, 0);
		memcpy(c->carry, "\0\0\r\n", 4);
	} else if (strncasecmp(l, "QUIT", 4) == 0) {
		reply(c, "221 2.0.0 Bye\r\n");
		c->quit = 1;
	} else if (strncasecmp(l, "RSET", 4) == 0 ||
	    strncasecmp(l, "NOOP", 4) == 0)
		reply(c, "250 2.0.0 Ok\r\n");
	else
		reply(c, "502 5.5.2 Command not implemented\r\n");
}

/* Command bytes: split into lines, answer each; returns bytes used
 * (all, or up to the end of a DATA command's line). */
static size_t
commands(struct conn *c, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !c->in_data && !c->quit; i++) {
		if (c->linelen < LINE_MAX_LEN - 1)
			c->line[c->linelen++] = p[i];
		if (p[i] != '\n')
			continue;
		c->line[c->linelen] = '\0';
		c->linelen = 0;
		if (strncasecmp(c->line, "MAIL", 4) == 0)
			c->envelope_reads = 0;
		if ((strncasecmp(c->line, "MAIL", 4) == 0 ||
		        strncasecmp(c->line, "RCPT", 4) == 0) &&
		    c->last_env_read != c->reads) {
			c->envelope_reads++;
			c->last_env_read = c->reads;
		}
		command(c, c->line);
	}
	return i;
}

/* Content bytes; returns bytes used (up to the end of CRLF.CRLF). */
static size_t
content(struct conn *c, char *p, size_t n)
{
	char *win = p - 4, *hit;
	size_t used;

	memcpy(win, c->carry, 4);
	hit = memmem(win, n + 4, "\r\n.\r\n", 5);
	used = hit == NULL ? n : (size_t)(hit + 5 - p);
	c->crc = crc32_z(c->crc, (const Bytef *)p, used);
	c->bytes += used;
	if (n >= 4)
		memcpy(c->carry, p + n - 4, 4);
	else {
		memmove(c->carry, c->carry + n, 4 - n);
		memcpy(c->carry + 4 - n, p, n);
	}
	if (hit != NULL) {
		c->in_data = 0;
		fprintf(logf,
		    "rcpt=%d bytes=%llu crc=%08lx envelope_reads=%d\n", c->rcpt,
		    c->bytes, (unsigned long)c->crc, c->envelope_reads);
		fflush(logf);
		reply(c, "250 2.0.0 Ok: queued\r\n");
	}
	return used;
}

static void
serve(int fd, char *buf)
{
	struct conn *c = calloc(1, sizeof *c);
	char *p;
	ssize_t n;
	size_t left, used;

	if (c == NULL)
		return;
	c->fd = fd;
	c->buf = buf;
	reply(c, "220 fastsink ESMTP\r\n");
	while (!c->quit) {
		if (c->outlen > 0) {
			if (send_all(fd, c->out, c->outlen) == -1)
				break;
			c->outlen = 0;
		}
		n = recv(fd, buf + 4, READ_SIZE, 0);
		if (n <= 0)
			break;
		c->reads++;
		p = buf + 4;
		left = (size_t)n;
		while (left > 0 && !c->quit) {
			used = c->in_data ? content(c, p, left)
			                  : commands(c, p, left);
			/* content() peeks 4 bytes before p: keep them. */
			p += used;
			left -= used;
			if (left > 0 && c->in_data) {
				memmove(buf + 4, p, left);
				p = buf + 4;
			}
		}
	}
	if (c->outlen > 0)
		(void)send_all(fd, c->out, c->outlen);
	free(c);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int ls, fd, one = 1;
	char *buf;

	if (argc != 2) {
		fprintf(stderr, "usage: fastsink LOGFILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((logf = fopen(argv[1], "a")) == NULL ||
	    (buf = malloc(READ_SIZE + 4)) == NULL) {
		perror("fastsink");
		return 1;
	}
	ls = socket(AF_INET, SOCK_STREAM, 0);
	(void)setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    listen(ls, 64) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sa, &len) == -1) {
		perror("fastsink");
		return 1;
	}
	printf("%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	for (;;) {
		if ((fd = accept(ls, NULL, NULL)) == -1)
			continue;
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		serve(fd, buf);
		(void)close(fd);
	}
}
