/*
 * SOCKS5 under the SMTP connection: the --socks argument, the messages
 * of RFC 1928 (method selection, CONNECT and its reply) and RFC 1929
 * (user name and password), and the negotiation that runs them on the
 * connected socket to the proxy, one non-blocking read or write at a
 * time, before any SMTP byte.  The password is copied only into the
 * one request that carries it, wiped as soon as it is written.
 *
 *   RFC 1928 sections 3, 4, 5, 6   RFC 1929 section 2
 */
#include "protocol/socks.h"
#include "protocol/transport_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/xmalloc.h"

#define SOCKS_VER 5
#define SOCKS_AUTH_VER 1
#define SOCKS_M_NONE 0x00
#define SOCKS_M_USERPASS 0x02
#define SOCKS_M_REFUSED 0xff
#define SOCKS_ATYP_V4 1
#define SOCKS_ATYP_NAME 3
#define SOCKS_ATYP_V6 4

/* ---- the argument ------------------------------------------------- */

void
smtp_socks_spec_free(struct smtp_socks_spec *s)
{
	if (s == NULL)
		return;
	free(s->host);
	free(s->port);
	free(s->user);
	memset(s, 0, sizeof *s);
}

int
smtp_socks_parse(const char *spec, struct smtp_socks_spec *out, char **errstr)
{
	const char *p = spec, *at;
	char *shown, *hostport;
	int rc;

	memset(out, 0, sizeof *out);
	out->remote_dns = 1;
	if (spec == NULL || *spec == '\0') {
		*errstr = xstrdup("--socks: empty proxy: give HOST:PORT or "
		                  "socks5h://[USER@]HOST:PORT");
		return -1;
	}
	shown = escape_dup(spec, strlen(spec));
	if (strncmp(p, "socks5h://", 10) == 0)
		p += 10;
	else if (strncmp(p, "socks5://", 9) == 0) {
		p += 9;
		out->remote_dns = 0;
	} else if (strstr(p, "://") != NULL) {
		*errstr = xasprintf("--socks: \"%s\" is not a SOCKS5 proxy: "
		                    "give HOST:PORT, socks5://HOST:PORT or "
		                    "socks5h://HOST:PORT (SOCKS4 and HTTP "
		                    "proxies are not supported)",
		    shown);
		free(shown);
		return -1;
	}
	if ((at = strrchr(p, '@')) != NULL) {
		if (memchr(p, ':', (size_t)(at - p)) != NULL) {
			/* Say nothing of what follows the colon. */
			*errstr = xstrdup(
			    "--socks: a password in the proxy URL would show "
			    "in ps, the shell history and the session "
			    "history; give the user alone "
			    "(socks5h://USER@HOST:PORT) and the password in "
			    "EHLO_SOCKS_PASSWORD or in ~/.netrc (machine "
			    "PROXYHOST login USER password ...)");
			free(shown);
			return -1;
		}
		if (at == p) {
			*errstr = xasprintf(
			    "--socks: empty user name in \"%s\"", shown);
			free(shown);
			return -1;
		}
		out->user = xstrndup(p, (size_t)(at - p));
		p = at + 1;
	}
	hostport = xstrdup(p);
	if (hostport[0] != '\0' && hostport[strlen(hostport) - 1] == '/')
		hostport[strlen(hostport) - 1] = '\0';
	rc = smtp_server_parse(
	    hostport, SMTP_SOCKS_DEFAULT_PORT, &out->host, &out->port, errstr);
	free(hostport);
	if (rc == -1) {
		char *why = *errstr;

		*errstr = xasprintf("--socks \"%s\": %s", shown, why);
		free(why);
		free(shown);
		smtp_socks_spec_free(out);
		return -1;
	}
	free(shown);
	return 0;
}

/* ---- the messages ------------------------------------------------- */

size_t
smtp_socks_hello(unsigned char out[4], int with_auth)
{
	out[0] = SOCKS_VER;
	out[1] = with_auth ? 2 : 1;
	out[2] = SOCKS_M_NONE;
	if (!with_auth)
		return 3;
	out[3] = SOCKS_M_USERPASS;
	return 4;
}

int
smtp_socks_hello_reply(
    const unsigned char *p, size_t n, int with_auth, int *method, char **errstr)
{
	if (n < 2)
		return 0;
	if (p[0] != SOCKS_VER) {
		*errstr = xasprintf("the proxy does not speak SOCKS5 (its "
		                    "first byte is 0x%02x, not 0x05): check "
		                    "the --socks host and port",
		    p[0]);
		return -1;
	}
	if (p[1] == SOCKS_M_REFUSED) {
		*errstr = xstrdup(with_auth
		        ? "the proxy accepts neither no authentication "
		          "nor a user name and password (RFC 1929)"
		        : "the proxy wants authentication: give a user "
		          "(socks5h://USER@HOST:PORT) and the password "
		          "in EHLO_SOCKS_PASSWORD or ~/.netrc");
		return -1;
	}
	if (p[1] != SOCKS_M_NONE && !(p[1] == SOCKS_M_USERPASS && with_auth)) {
		*errstr = xasprintf("the proxy chose authentication method "
		                    "0x%02x, which ehlo did not offer",
		    p[1]);
		return -1;
	}
	*method = p[1];
	return 2;
}

int
smtp_socks_auth_request(
    unsigned char *out, const char *user, const char *password, char **errstr)
{
	size_t ul = strlen(user), pl = strlen(password);

	if (ul == 0 || ul > 255 || pl == 0 || pl > 255) {
		*errstr = xasprintf("the SOCKS5 %s must be 1 to 255 octets "
		                    "(RFC 1929)",
		    ul == 0 || ul > 255 ? "user name" : "password");
		return -1;
	}
	out[0] = SOCKS_AUTH_VER;
	out[1] = (unsigned char)ul;
	/* Length-prefixed octets on the wire, never a C string. */
	// NOLINTNEXTLINE(bugprone-not-null-terminated-result)
	memcpy(out + 2, user, ul);
	out[2 + ul] = (unsigned char)pl;
	// NOLINTNEXTLINE(bugprone-not-null-terminated-result)
	memcpy(out + 3 + ul, password, pl);
	return (int)(3 + ul + pl);
}

int
smtp_socks_auth_reply(
    const unsigned char *p, size_t n, const char *user, char **errstr)
{
	char *shown;

	if (n < 2)
		return 0;
	if (p[0] != SOCKS_AUTH_VER && p[0] != SOCKS_VER) {
		*errstr = xasprintf("the proxy's answer to the user name and "
		                    "password is malformed (version 0x%02x)",
		    p[0]);
		return -1;
	}
	if (p[1] == 0)
		return 2;
	shown = escape_dup(user, strlen(user));
	*errstr = xasprintf("the SOCKS5 proxy refused the user name \"%s\" "
	                    "or its password (RFC 1929 status %u): check "
	                    "EHLO_SOCKS_PASSWORD or ~/.netrc",
	    shown, p[1]);
	free(shown);
	return -1;
}

int
smtp_socks_connect_request(
    unsigned char *out, const char *host, const char *port, char **errstr)
{
	unsigned char a[16];
	size_t n = 4, hl;
	char *end;
	long v;

	errno = 0;
	v = strtol(port, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535) {
		*errstr = xstrdup("bad port for the SOCKS5 CONNECT");
		return -1;
	}
	out[0] = SOCKS_VER;
	out[1] = 1; /* CONNECT */
	out[2] = 0;
	if (inet_pton(AF_INET, host, a) == 1) {
		out[3] = SOCKS_ATYP_V4;
		memcpy(out + 4, a, 4);
		n += 4;
	} else if (inet_pton(AF_INET6, host, a) == 1) {
		out[3] = SOCKS_ATYP_V6;
		memcpy(out + 4, a, 16);
		n += 16;
	} else {
		hl = strlen(host);
		if (hl == 0 || hl > 255) {
			*errstr = xstrdup("the server name is too long for "
			                  "SOCKS5 (at most 255 octets)");
			return -1;
		}
		out[3] = SOCKS_ATYP_NAME;
		out[4] = (unsigned char)hl;
		memcpy(out + 5, host, hl);
		n += 1 + hl;
	}
	out[n++] = (unsigned char)(v >> 8);
	out[n++] = (unsigned char)(v & 0xff);
	return (int)n;
}

const char *
smtp_socks_reply_text(int rep)
{
	static const char *const text[] = {
	    "succeeded",
	    "general SOCKS server failure",
	    "connection not allowed by the proxy's rules",
	    "network unreachable",
	    "host unreachable",
	    "connection refused",
	    "TTL expired",
	    "command not supported",
	    "address type not supported",
	};

	if (rep >= 0 && (size_t)rep < sizeof text / sizeof text[0])
		return text[rep];
	return "an unassigned reply code";
}

/* What to try next, by reply code. */
static const char *
socks_reply_advice(int rep)
{
	switch (rep) {
	case 2:
		return ": the proxy's rules forbid this destination";
	case 3:
	case 4:
		return ": the proxy cannot reach the server; check the server "
		       "name and port from the proxy's side";
	case 5:
		return ": is a server listening there (as the proxy sees "
		       "it)?";
	case 6:
		return ": the proxy gave up waiting for the server";
	case 8:
		return ": try socks5:// (ehlo resolves the name) or "
		       "socks5h:// (the proxy does)";
	default:
		return "";
	}
}

int
smtp_socks_connect_reply(const unsigned char *p, size_t n, char *bound,
    size_t boundsz, char **errstr)
{
	char addr[INET6_ADDRSTRLEN], *name;
	size_t need;
	unsigned port;

	if (n < 5)
		return 0;
	if (p[0] != SOCKS_VER) {
		*errstr = xasprintf("the proxy's reply to CONNECT is not "
		                    "SOCKS5 (version 0x%02x)",
		    p[0]);
		return -1;
	}
	if (p[1] != 0) {
		*errstr = xasprintf("%s (SOCKS5 reply %u)%s",
		    smtp_socks_reply_text(p[1]), p[1],
		    socks_reply_advice(p[1]));
		return -1;
	}
	switch (p[3]) {
	case SOCKS_ATYP_V4:
		need = 4 + 4 + 2;
		break;
	case SOCKS_ATYP_V6:
		need = 4 + 16 + 2;
		break;
	case SOCKS_ATYP_NAME:
		need = 4 + 1 + (size_t)p[4] + 2;
		break;
	default:
		*errstr = xasprintf("the proxy's reply to CONNECT has an "
		                    "unknown address type %u",
		    p[3]);
		return -1;
	}
	if (n < need)
		return 0;
	port = (unsigned)p[need - 2] << 8 | p[need - 1];
	if (p[3] == SOCKS_ATYP_V4) {
		(void)inet_ntop(AF_INET, p + 4, addr, sizeof addr);
		(void)snprintf(bound, boundsz, "%s:%u", addr, port);
	} else if (p[3] == SOCKS_ATYP_V6) {
		(void)inet_ntop(AF_INET6, p + 4, addr, sizeof addr);
		(void)snprintf(bound, boundsz, "[%s]:%u", addr, port);
	} else {
		name = escape_dup((const char *)p + 5, p[4]);
		(void)snprintf(bound, boundsz, "%s:%u", name, port);
		free(name);
	}
	return (int)need;
}

/* ---- the negotiation on the socket -------------------------------- */

enum socks_step { SOCKS_HELLO, SOCKS_AUTH, SOCKS_CONNECT, SOCKS_DONE };

struct tr_socks {
	enum socks_step step;
	unsigned char out[SMTP_SOCKS_MSG_MAX];
	size_t outlen, outoff;
	unsigned char in[4 + 1 + 255 + 2];
	size_t inlen;
	int with_auth;
	char *target; /* what CONNECT names: a name or an address */
	char *port;
	char *user;
	const char *password; /* the caller's; never copied but into out */
};

struct tr_socks *
tr_socks_new(const char *target, const char *port, const char *user,
    const char *password)
{
	struct tr_socks *s = xcalloc(1, sizeof *s);

	s->target = xstrdup(target);
	s->port = xstrdup(port);
	s->with_auth = user != NULL && password != NULL;
	s->user = user != NULL ? xstrdup(user) : NULL;
	s->password = password;
	s->outlen = smtp_socks_hello(s->out, s->with_auth);
	return s;
}

void
tr_socks_free(struct tr_socks *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s->out, sizeof s->out);
	free(s->target);
	free(s->port);
	free(s->user);
	free(s);
}

/* The next request, after the reply to the last one. */
static int
socks_next(struct tr_socks *s, int method, char **errstr)
{
	int n;

	explicit_bzero(s->out, sizeof s->out);
	s->outoff = s->inlen = 0;
	if (s->step == SOCKS_HELLO && method == SOCKS_M_USERPASS) {
		n = smtp_socks_auth_request(
		    s->out, s->user, s->password, errstr);
		s->step = SOCKS_AUTH;
	} else {
		n = smtp_socks_connect_request(
		    s->out, s->target, s->port, errstr);
		s->step = SOCKS_CONNECT;
	}
	if (n < 0)
		return -1;
	s->outlen = (size_t)n;
	return 0;
}

/* How many octets of the current reply to read, at most. */
static size_t
socks_need(const struct tr_socks *s)
{
	if (s->step != SOCKS_CONNECT)
		return 2;
	if (s->inlen < 5)
		return 5;
	return s->in[3] == SOCKS_ATYP_V6  ? 4 + 16 + 2
	    : s->in[3] == SOCKS_ATYP_NAME ? 4 + 1 + (size_t)s->in[4] + 2
	                                  : 4 + 4 + 2;
}

int
tr_socks_io(struct tr_socks *s, int fd, int *want, char *bound, size_t boundsz,
    char **errstr)
{
	ssize_t r;
	int got, method = SOCKS_M_NONE;

	for (;;) {
		if (s->outoff < s->outlen) {
			r = send(fd, s->out + s->outoff, s->outlen - s->outoff,
			    MSG_NOSIGNAL);
			if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
				*want = SMTP_TR_WANT_WRITE;
				return SMTP_TR_AGAIN;
			}
			if (r == -1) {
				*errstr = xasprintf("writing to the proxy "
				                    "failed: %s",
				    strerror(errno));
				return SMTP_TR_ERROR;
			}
			s->outoff += (size_t)r;
			if (s->outoff < s->outlen)
				continue;
			explicit_bzero(s->out, sizeof s->out); /* a secret */
		}
		/* Never past the reply: the greeting may follow at once. */
		r = recv(fd, s->in + s->inlen, socks_need(s) - s->inlen, 0);
		if (r == -1 && (errno == EAGAIN || errno == EINTR)) {
			*want = SMTP_TR_WANT_READ;
			return SMTP_TR_AGAIN;
		}
		if (r <= 0) {
			*errstr = r == 0
			    ? xstrdup("the proxy closed the connection "
			              "during the SOCKS5 negotiation")
			    : xasprintf("reading from the proxy failed: %s",
			          strerror(errno));
			return SMTP_TR_ERROR;
		}
		s->inlen += (size_t)r;
		if (s->step == SOCKS_HELLO)
			got = smtp_socks_hello_reply(
			    s->in, s->inlen, s->with_auth, &method, errstr);
		else if (s->step == SOCKS_AUTH)
			got = smtp_socks_auth_reply(
			    s->in, s->inlen, s->user, errstr);
		else
			got = smtp_socks_connect_reply(
			    s->in, s->inlen, bound, boundsz, errstr);
		if (got < 0)
			return SMTP_TR_ERROR;
		if (got == 0)
			continue;
		if (s->step == SOCKS_CONNECT) {
			s->step = SOCKS_DONE;
			return 0;
		}
		if (socks_next(s, method, errstr) == -1)
			return SMTP_TR_ERROR;
	}
}
