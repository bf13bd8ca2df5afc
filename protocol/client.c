/*
 * The client driver: one connection, one session, one event loop.
 *
 * RFC 5321 (timeouts, 4.5.3.2), RFC 3207 (STARTTLS), RFC 8314 (implicit
 * TLS).
 *
 * Phases of the connection: connecting -> (implicit TLS handshake) ->
 * open -> (STARTTLS handshake) -> open -> closed.  Reading is always on
 * while open; writing is requested only while the session has output or
 * a handshake wants it.  One timer measures the current network step:
 * armed when the client starts waiting (connect, handshake, a reply, the
 * socket draining) and re-armed on every step's completion, so a server
 * that trickles one byte a second still times out.  While the user owes
 * a BDAT chunk only writing is a step: no reply can come before it.
 */
#include "protocol/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/localfile.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/content.h"
#include "protocol/proxyhdr.h"
#include "protocol/tlscheck.h"

#define CLIENT_READ_CHUNK (64 * 1024)
#define CLIENT_BODY_CHUNK (64 * 1024)
/* Refill the output from the body file below this many queued bytes. */
#define CLIENT_BODY_LOW (256 * 1024)

enum client_phase {
	PHASE_IDLE,
	PHASE_CONNECTING,
	PHASE_HANDSHAKE,
	PHASE_OPEN,
	PHASE_CLOSED,
};

struct smtp_client {
	struct loop *loop;
	char *host, *port, *cafile, *verify_name;
	struct smtp_client_opts opts;
	struct smtp_transport *tr;
	struct smtp_session *session;
	smtp_event_cb *cb;
	void *arg;
	enum client_phase phase;
	int fd;
	uint64_t timer;
	uint64_t step_id; /* bumps on progress; the timer checks it */
	uint64_t timer_step;

	/* body streaming: from a file (body_fd) or a caller's source */
	int body_on;
	int body_raw; /* --raw-data: no normalisation, no dot-stuffing */
	char body_tail[2]; /* raw: the last two octets sent */
	smtp_body_read_cb *body_read;
	void *body_arg;
	int body_fd;
	char *body_path; /* the label in messages and the summary */
	struct smtp_dotstuff ds;
	struct smtp_body_stats stats;
	char *inbuf; /* CLIENT_BODY_CHUNK bytes read from the file */
	smtp_body_tee_cb *tee; /* sees the content as sent, or NULL */
	void *tee_arg;

	char *proxy_source, *proxy_dest; /* copies of the options' */

	int quit_done; /* the server answered QUIT */
	uint64_t linger; /* timer that closes after QUIT */
};

static void client_update(struct smtp_client *);
static void transport_down(struct smtp_client *);

static void
on_session_event(const struct smtp_event *ev, void *arg)
{
	struct smtp_client *c = arg;
	char *err = NULL;

	switch (ev->type) {
	case SMTP_EV_REPLY:
		c->step_id++;
		if (ev->stage != NULL && ev->stage->kind == SMTP_STAGE_QUIT)
			c->quit_done = 1;
		break;
	case SMTP_EV_STARTTLS:
		c->step_id++;
		if (smtp_transport_tls_start(c->tr, &c->opts.tls, &err) == -1) {
			smtp_session_fail(c->session, SMTP_FAIL_TLS, "%s", err);
			free(err);
			break;
		}
		c->phase = PHASE_HANDSHAKE;
		break;
	case SMTP_EV_CLOSED:
		/*
		 * The session ended on its own (a malformed reply, junk after
		 * QUIT): nothing more will be read or written, so the
		 * connection goes too, and whoever waits on it sees it closed.
		 */
		transport_down(c);
		break;
	default:
		break;
	}
	c->cb(ev, c->arg);
}

struct smtp_client *
smtp_client_new(struct loop *loop, const struct smtp_client_opts *opts,
    smtp_event_cb *cb, void *arg)
{
	struct smtp_client *c = xcalloc(1, sizeof *c);

	c->loop = loop;
	c->opts = *opts;
	c->host = xstrdup(opts->host);
	c->port = xstrdup(opts->port);
	c->opts.host = c->host;
	c->opts.port = c->port;
	if (opts->tls.cafile != NULL)
		c->opts.tls.cafile = c->cafile = xstrdup(opts->tls.cafile);
	c->opts.tls.implicit = opts->implicit_tls;
	if (opts->proxy_source != NULL)
		c->opts.proxy_source = c->proxy_source =
		    xstrdup(opts->proxy_source);
	if (opts->proxy_dest != NULL)
		c->opts.proxy_dest = c->proxy_dest = xstrdup(opts->proxy_dest);
	c->opts.tls.verify_name = c->verify_name = xstrdup(
	    opts->tls.verify_name != NULL ? opts->tls.verify_name : opts->host);
	if (c->opts.timeout_ms <= 0)
		c->opts.timeout_ms = 30000;
	c->cb = cb;
	c->arg = arg;
	c->fd = -1;
	c->body_fd = -1;
	c->tr = smtp_transport_new();
	c->opts.net.timeout_ms = c->opts.timeout_ms;
	smtp_transport_set_net(c->tr, &c->opts.net);
	memset(&c->opts.net, 0, sizeof c->opts.net);
	c->session = smtp_session_new(on_session_event, c);
	if (c->opts.allow_plaintext_auth)
		smtp_session_allow_plaintext_auth(c->session);
	return c;
}

static void
body_stop(struct smtp_client *c)
{
	if (c->body_fd != -1)
		(void)close(c->body_fd);
	c->body_fd = -1;
	c->body_on = 0;
	c->body_raw = 0;
	c->body_read = NULL;
	c->body_arg = NULL;
	free(c->body_path);
	c->body_path = NULL;
	free(c->inbuf);
	c->inbuf = NULL;
}

static void
transport_down(struct smtp_client *c)
{
	if (c->fd != -1)
		loop_fd_del(c->loop, c->fd);
	c->fd = -1;
	if (c->timer != 0)
		loop_timer_del(c->loop, c->timer);
	c->timer = 0;
	if (c->linger != 0)
		loop_timer_del(c->loop, c->linger);
	c->linger = 0;
	smtp_transport_close(c->tr);
	c->phase = PHASE_CLOSED;
	body_stop(c);
}

void
smtp_client_free(struct smtp_client *c)
{
	if (c == NULL)
		return;
	transport_down(c);
	smtp_transport_free(c->tr);
	smtp_session_free(c->session);
	free(c->host);
	free(c->port);
	free(c->cafile);
	free(c->verify_name);
	free(c->proxy_source);
	free(c->proxy_dest);
	free(c);
}

struct smtp_session *
smtp_client_session(struct smtp_client *c)
{
	return c->session;
}

const struct smtp_tls_info *
smtp_client_tls_info(const struct smtp_client *c)
{
	return smtp_transport_tls_info(c->tr);
}

int
smtp_client_channel_binding(const struct smtp_client *c, const char **type,
    unsigned char *out, size_t cap, size_t *len)
{
	return smtp_transport_channel_binding(c->tr, type, out, cap, len);
}

const struct smtp_body_stats *
smtp_client_body_stats(const struct smtp_client *c)
{
	return &c->stats;
}

int
smtp_client_is_closed(const struct smtp_client *c)
{
	return c->phase == PHASE_CLOSED;
}

int
smtp_client_is_busy(const struct smtp_client *c)
{
	size_t out;

	if (c->phase == PHASE_CLOSED)
		return 0;
	if (c->phase == PHASE_CONNECTING || c->phase == PHASE_HANDSHAKE)
		return 1;
	(void)smtp_session_output(c->session, &out);
	/* A BDAT chunk is open: the server waits for the user, not we. */
	if (smtp_session_chunk_left(c->session) > 0)
		return out > 0 || c->body_on;
	return out > 0 || c->body_on || smtp_session_pending(c->session) > 0 ||
	    smtp_session_state(c->session) == SMTP_STATE_TLS;
}

void
smtp_client_close(struct smtp_client *c)
{
	if (c->phase == PHASE_CLOSED)
		return;
	transport_down(c);
	if (!smtp_session_is_closed(c->session))
		smtp_session_eof(c->session);
}

static void
fail(struct smtp_client *c, enum smtp_fail cat, const char *msg)
{
	transport_down(c);
	smtp_session_fail(c->session, cat, "%s", msg);
}

/* ---- timers ------------------------------------------------------- */

static const char *
waiting_for(struct smtp_client *c)
{
	const struct smtp_stage *st;
	size_t n = smtp_session_nstages(c->session), i;

	if (c->phase == PHASE_CONNECTING)
		return smtp_transport_waiting(c->tr);
	if (c->phase == PHASE_HANDSHAKE)
		return "the TLS handshake";
	for (i = n; i-- > 0;) {
		st = smtp_session_stage(c->session, i);
		if (st->state == SMTP_ST_PENDING && st->kind != SMTP_STAGE_TLS)
			return smtp_stage_kind_name(st->kind);
	}
	return "the server";
}

static void
on_timeout(void *arg)
{
	struct smtp_client *c = arg;
	char *msg;
	const char *what;

	c->timer = 0;
	if (c->timer_step != c->step_id) {
		client_update(c);
		return;
	}
	what = waiting_for(c);
	msg =
	    xasprintf("timed out after %d.%03d s waiting for %s%s "
	              "(--timeout); the server may be slow, tarpitting or gone",
	        c->opts.timeout_ms / 1000, c->opts.timeout_ms % 1000,
	        c->phase == PHASE_CONNECTING ||
	                strcmp(what, "the TLS handshake") == 0 ||
	                strcmp(what, "the server") == 0
	            ? ""
	            : "the reply to ",
	        what);
	fail(c, SMTP_FAIL_TIMEOUT, msg);
	free(msg);
}

static int
waiting(struct smtp_client *c)
{
	size_t out;

	if (c->phase == PHASE_CONNECTING || c->phase == PHASE_HANDSHAKE)
		return 1;
	if (c->phase != PHASE_OPEN)
		return 0;
	(void)smtp_session_output(c->session, &out);
	/*
	 * While a BDAT chunk is owed no reply can come (RFC 3030 2): only
	 * writing is a network step; the user may take their time.
	 */
	if (smtp_session_chunk_left(c->session) > 0)
		return out > 0;
	/* Still no 220 (a 1xx or odd first reply): the greeting is late. */
	return out > 0 || smtp_session_pending(c->session) > 0 ||
	    smtp_session_state(c->session) == SMTP_STATE_GREETING;
}

/* The server answered QUIT but keeps the connection open: close it. */
static void
on_linger(void *arg)
{
	struct smtp_client *c = arg;

	c->linger = 0;
	transport_down(c);
	smtp_session_close(c->session,
	    "the server did not close the "
	    "connection after QUIT; the workbench closed it");
}

static void
arm_timer(struct smtp_client *c)
{
	if (!waiting(c)) {
		if (c->timer != 0)
			loop_timer_del(c->loop, c->timer);
		c->timer = 0;
		return;
	}
	if (c->timer != 0 && c->timer_step == c->step_id)
		return;
	if (c->timer != 0)
		loop_timer_del(c->loop, c->timer);
	c->timer_step = c->step_id;
	c->timer = loop_timer_add(
	    c->loop, (uint64_t)c->opts.timeout_ms, on_timeout, c);
}

/* ---- I/O ---------------------------------------------------------- */

static void body_pump(struct smtp_client *);

static void
do_write(struct smtp_client *c)
{
	const char *p;
	size_t len;
	ssize_t n;
	char *err = NULL;

	for (;;) {
		body_pump(c);
		if (c->phase != PHASE_OPEN)
			return;
		p = smtp_session_output(c->session, &len);
		if (len == 0 || smtp_session_is_pipelining(c->session))
			return;
		n = smtp_transport_write(c->tr, p, len, &err);
		if (n == SMTP_TR_AGAIN)
			return;
		if (n < 0) {
			fail(c, SMTP_FAIL_CLOSED, err);
			free(err);
			return;
		}
		smtp_session_output_consume(c->session, (size_t)n);
		c->step_id++;
	}
}

static void
do_read(struct smtp_client *c)
{
	char buf[CLIENT_READ_CHUNK];
	ssize_t n;
	char *err = NULL;

	for (;;) {
		if (c->phase != PHASE_OPEN)
			return;
		n = smtp_transport_read(c->tr, buf, sizeof buf, &err);
		if (n == SMTP_TR_AGAIN)
			return;
		if (n == 0) {
			transport_down(c);
			smtp_session_eof(c->session);
			return;
		}
		if (n < 0) {
			fail(c, SMTP_FAIL_CLOSED, err);
			free(err);
			return;
		}
		smtp_session_feed(c->session, buf, (size_t)n);
		/* STARTTLS accepted: the rest must go through TLS. */
		if (c->phase == PHASE_HANDSHAKE)
			return;
	}
}

static void
do_handshake(struct smtp_client *c)
{
	char *err = NULL, *summary;
	const struct smtp_tls_info *ti;
	int rc;

	rc = smtp_transport_tls_handshake(c->tr, &err);
	if (rc == SMTP_TR_AGAIN)
		return;
	if (rc != 0) {
		/* A refused certificate is shown all the same (issue 20). */
		ti = smtp_transport_tls_info(c->tr);
		if (ti != NULL && ti->refused)
			smtp_tls_report(c->session, ti, c->verify_name);
		fail(c, SMTP_FAIL_TLS, err);
		free(err);
		return;
	}
	c->phase = PHASE_OPEN;
	c->step_id++;
	ti = smtp_transport_tls_info(c->tr);
	summary = xasprintf("%s %s%s%s", ti->version, ti->cipher,
	    ti->verified ? ", certificate verified"
	                 : ", certificate NOT verified: ",
	    ti->verified ? "" : ti->verify_error);
	smtp_session_tls_done(c->session, summary);
	free(summary);
	smtp_tls_report(c->session, ti, c->verify_name);
	if (c->opts.tls.pin != NULL && ti->nchain > 0)
		smtp_session_note(c->session,
		    "public key pin matched: sha256//%s",
		    ti->chain[0].spki_sha256);
	if (!ti->verified && !ti->verify_skipped)
		smtp_session_set_tls_unverified(c->session);
	if (ti->opportunistic && !ti->verified)
		smtp_session_warn(c->session,
		    "certificate NOT verified (%s): opportunistic TLS goes on "
		    "encrypted, but nothing proves who the server is; "
		    "credentials are held back (--starttls requires a "
		    "verified certificate, --insecure sends them anyway)",
		    ti->verify_error);
	if (ti->verify_skipped && !ti->verified)
		smtp_session_warn(c->session,
		    "--insecure: the server's "
		    "identity was not verified; anyone on the path could "
		    "read this session");
}

/*
 * --proxy-header: the header goes out now, the connection's first
 * bytes (before the greeting is read, before implicit TLS).  It fits a
 * new socket's empty send buffer, so one write takes it whole.
 * Returns its display form, or NULL with *errstr.
 */
static char *
proxy_send(struct smtp_client *c, char **errstr)
{
	struct smtp_proxy_addr src, dst;
	unsigned char hdr[SMTP_PROXY_HDR_MAX];
	const char *peer = smtp_transport_peer(c->tr);
	char *why = NULL;
	size_t len;
	ssize_t n;

	if (smtp_proxy_addr_parse(c->opts.proxy_source, &src, &why) == -1) {
		*errstr = xasprintf("--proxy-source: %s", why);
		free(why);
		return NULL;
	}
	if (c->opts.proxy_dest != NULL
	        ? smtp_proxy_addr_parse(c->opts.proxy_dest, &dst, &why) == -1
	        : smtp_proxy_addr_parse(peer, &dst, &why) == -1) {
		free(why);
		*errstr = c->opts.proxy_dest != NULL
		    ? xstrdup("--proxy-dest is not ADDR:PORT")
		    : xasprintf("a PROXY header needs a TCP connection, and "
		                "%s is none (give --proxy-dest ADDR:PORT)",
		          *peer != '\0' ? peer : "this");
		return NULL;
	}
	if (smtp_proxy_build(
	        c->opts.proxy_version, &src, &dst, hdr, &len, errstr) == -1)
		return NULL;
	n = smtp_transport_write(c->tr, hdr, len, &why);
	if (n != (ssize_t)len) {
		*errstr = xasprintf("the PROXY header could not be sent in "
		                    "one write: %s",
		    n < 0 && why != NULL ? why : "the socket took part of it");
		free(why);
		return NULL;
	}
	return smtp_proxy_display(hdr, len);
}

static void
do_connect(struct smtp_client *c)
{
	char *err = NULL, *proxy = NULL;
	int rc = smtp_transport_connect_finish(c->tr, &err);

	if (rc == SMTP_TR_AGAIN) {
		/* An attempt won, or the proxy is talking: the fd changed. */
		if (c->fd != smtp_transport_fd(c->tr)) {
			loop_fd_del(c->loop, c->fd);
			c->fd = smtp_transport_fd(c->tr);
		}
		return;
	}
	if (rc != 0) {
		fail(c, SMTP_FAIL_CONNECT, err);
		free(err);
		return;
	}
	c->step_id++;
	if (c->fd != smtp_transport_fd(c->tr)) {
		loop_fd_del(c->loop, c->fd);
		c->fd = smtp_transport_fd(c->tr);
	}
	if (c->opts.proxy_version != 0) {
		if ((proxy = proxy_send(c, &err)) == NULL) {
			fail(c, SMTP_FAIL_CONNECT, err);
			free(err);
			return;
		}
	}
	smtp_session_connected_proxy(
	    c->session, smtp_transport_peer(c->tr), proxy);
	free(proxy);
	if (smtp_transport_via(c->tr) != NULL)
		smtp_session_note(c->session, "SOCKS5 via %s: connected to %s",
		    smtp_transport_via(c->tr), smtp_transport_peer(c->tr));
	if (c->opts.implicit_tls) {
		if (smtp_transport_tls_start(c->tr, &c->opts.tls, &err) == -1) {
			fail(c, SMTP_FAIL_TLS, err);
			free(err);
			return;
		}
		smtp_session_tls_begin(c->session);
		c->phase = PHASE_HANDSHAKE;
	} else
		c->phase = PHASE_OPEN;
}

static void
on_fd(int fd, int events, void *arg)
{
	struct smtp_client *c = arg;

	(void)fd;
	(void)events;
	switch (c->phase) {
	case PHASE_CONNECTING:
		do_connect(c);
		break;
	case PHASE_HANDSHAKE:
		do_handshake(c);
		break;
	case PHASE_OPEN:
		do_read(c);
		/* TLS may hold decrypted bytes poll() cannot see. */
		while (
		    c->phase == PHASE_OPEN && smtp_transport_pending(c->tr) > 0)
			do_read(c);
		break;
	default:
		break;
	}
	/* A handshake may have become possible right after a read. */
	if (c->phase == PHASE_HANDSHAKE)
		do_handshake(c);
	if (c->phase == PHASE_OPEN)
		do_write(c);
	client_update(c);
}

/* Recomputes poll interest and the timer. */
static void
client_update(struct smtp_client *c)
{
	int want = 0;
	size_t out;

	if (c->phase == PHASE_CLOSED || c->fd == -1) {
		arm_timer(c);
		return;
	}
	switch (c->phase) {
	case PHASE_CONNECTING:
		want = smtp_transport_want(c->tr);
		break;
	case PHASE_HANDSHAKE:
		want = smtp_transport_want(c->tr);
		if (want == 0)
			want = LOOP_READ;
		break;
	case PHASE_OPEN:
		want = LOOP_READ;
		(void)smtp_session_output(c->session, &out);
		if ((out > 0 && !smtp_session_is_pipelining(c->session)) ||
		    (smtp_transport_want(c->tr) & SMTP_TR_WANT_WRITE))
			want |= LOOP_WRITE;
		break;
	default:
		break;
	}
	loop_fd_add(c->loop, c->fd, want, on_fd, c);
	arm_timer(c);
	if (c->quit_done && c->linger == 0 && c->phase == PHASE_OPEN)
		c->linger = loop_timer_add(c->loop, 1000, on_linger, c);
}

int
smtp_client_connect(struct smtp_client *c, char **errstr)
{
	char *what = xasprintf("%s port %s%s", c->host, c->port,
	    c->opts.implicit_tls ? " (implicit TLS)" : "");

	smtp_session_connecting(c->session, what);
	free(what);
	if (smtp_transport_connect(c->tr, c->host, c->port, errstr) == -1) {
		smtp_session_fail(c->session, SMTP_FAIL_CONNECT, "%s", *errstr);
		c->phase = PHASE_CLOSED;
		return -1;
	}
	c->fd = smtp_transport_fd(c->tr);
	c->phase = PHASE_CONNECTING;
	c->step_id++;
	client_update(c);
	/* The TCP handshake and the greeting are under way meanwhile. */
	if (c->opts.implicit_tls || c->opts.tls_ahead)
		smtp_transport_tls_prepare(c->opts.tls.cafile);
	return 0;
}

int
smtp_client_send(struct smtp_client *c, const char *p, size_t n, char **errstr)
{
	if (smtp_session_send(c->session, p, n, errstr) == -1)
		return -1;
	smtp_client_flush(c);
	return 0;
}

int
smtp_client_send_secret(
    struct smtp_client *c, const char *wire, const char *display, char **errstr)
{
	if (smtp_session_send_secret(c->session, wire, display, errstr) == -1)
		return -1;
	smtp_client_flush(c);
	return 0;
}

void
smtp_client_flush(struct smtp_client *c)
{
	if (c->phase == PHASE_OPEN)
		do_write(c);
	client_update(c);
}

/* ---- body streaming ----------------------------------------------- */

/*
 * --raw-data: n octets of c->inbuf exactly as the file holds them (n 0:
 * the end: CRLF unless the content ended with one, then ".\r\n").
 * Returns -1 when the body is over.
 */
static int
body_raw_feed(struct smtp_client *c, size_t n)
{
	struct buf *out = smtp_session_body_buf(c->session);
	char *summary;
	int crlf;

	if (out == NULL)
		fatalx("body write outside content state");
	if (n > 0) {
		if (buf_add(out, c->inbuf, n) == -1)
			fatalx("message content over the output cap");
		smtp_session_body_commit(c->session, n);
		c->stats.wire_bytes += n;
		if (n >= 2)
			memcpy(c->body_tail, c->inbuf + n - 2, 2);
		else {
			c->body_tail[0] = c->body_tail[1];
			c->body_tail[1] = c->inbuf[0];
		}
		return 0;
	}
	crlf = c->stats.wire_bytes == 0 ||
	    (c->body_tail[0] == '\r' && c->body_tail[1] == '\n');
	if (buf_add(out, crlf ? ".\r\n" : "\r\n.\r\n", crlf ? 3 : 5) == -1)
		fatalx("message content over the output cap");
	smtp_session_body_commit(c->session, crlf ? 3 : 5);
	summary = xasprintf("[raw message content from %s: %llu octets as "
	                    "they are, not normalised or dot-stuffed] .",
	    c->body_path, (unsigned long long)c->stats.wire_bytes);
	c->stats.wire_bytes += crlf ? 3 : 5;
	smtp_session_body_end(c->session, summary);
	free(summary);
	body_stop(c);
	return -1;
}

static void
body_pump(struct smtp_client *c)
{
	struct buf *out;
	size_t queued, before;
	ssize_t n;
	char *summary, *err;

	while (c->body_on) {
		(void)smtp_session_output(c->session, &queued);
		if (queued >= CLIENT_BODY_LOW)
			return;
		err = NULL;
		n = c->body_read(
		    c->body_arg, c->inbuf, CLIENT_BODY_CHUNK, &err);
		if (n < 0) {
			smtp_session_fail(c->session, SMTP_FAIL_PROTOCOL,
			    "reading %s failed mid-message: %s; the message "
			    "was cut short and the connection closed so it "
			    "is not delivered incomplete",
			    c->body_path, err != NULL ? err : "error");
			free(err);
			transport_down(c);
			return;
		}
		/*
		 * Stuffed straight into the session's output, no copy: the
		 * stuffer reserves 2n at once (all or nothing), and less than
		 * CLIENT_BODY_LOW + 2 * CLIENT_BODY_CHUNK is ever queued, far
		 * below the session's cap.
		 */
		if (c->body_raw) {
			if (body_raw_feed(c, (size_t)n) == -1)
				return;
			continue;
		}
		if ((out = smtp_session_body_buf(c->session)) != NULL) {
			before = buf_used(out);
			if ((n == 0 ? smtp_dotstuff_finish(&c->ds, out)
			            : smtp_dotstuff_feed(&c->ds, c->inbuf,
			                  (size_t)n, out)) == -1)
				fatalx("message content over the output cap");
			smtp_session_body_commit(
			    c->session, buf_used(out) - before);
			if (c->tee != NULL)
				c->tee(c->tee_arg, buf_peek(out) + before,
				    buf_used(out) - before);
		} else
			fatalx("body write outside content state");
		if (n == 0) {
			c->stats.wire_bytes = c->ds.out_bytes;
			c->stats.lines = c->ds.lines;
			c->stats.stuffed = c->ds.stuffed;
			c->stats.bare_cr = c->ds.bare_cr;
			c->stats.bare_lf = c->ds.bare_lf;
			c->stats.longest = c->ds.longest;
			summary = xasprintf(
			    "[message content from %s: %llu "
			    "octets on the wire, %llu lines, %llu dots "
			    "stuffed] .",
			    c->body_path,
			    (unsigned long long)c->stats.wire_bytes,
			    (unsigned long long)c->stats.lines,
			    (unsigned long long)c->stats.stuffed);
			smtp_session_body_end(c->session, summary);
			free(summary);
			if (c->stats.bare_cr + c->stats.bare_lf > 0)
				smtp_session_note(c->session,
				    "%llu bare "
				    "CR/LF line ends were sent as CRLF",
				    (unsigned long long)c->stats.bare_cr +
				        c->stats.bare_lf);
			if (c->stats.longest > 998)
				smtp_session_warn(c->session,
				    "the longest "
				    "line has %zu octets; RFC 5322 allows 998 "
				    "and servers may reject or fold it",
				    c->stats.longest);
			body_stop(c);
		}
	}
}

static int
body_start(struct smtp_client *c, smtp_body_read_cb *rd, void *arg,
    const char *label, int fd, int raw)
{
	body_stop(c);
	c->body_on = 1;
	c->body_raw = raw;
	c->body_tail[0] = c->body_tail[1] = '\0';
	c->body_read = rd;
	c->body_arg = arg;
	c->body_fd = fd;
	c->body_path = xstrdup(label);
	c->inbuf = xmalloc(CLIENT_BODY_CHUNK);
	smtp_dotstuff_init(&c->ds);
	memset(&c->stats, 0, sizeof c->stats);
	smtp_client_flush(c);
	return 0;
}

static int
body_check_state(struct smtp_client *c, char **errstr)
{
	if (smtp_session_state(c->session) != SMTP_STATE_CONTENT) {
		*errstr = xstrdup("the server has not accepted DATA with 354; "
		                  "no content can be sent now");
		return -1;
	}
	return 0;
}

static ssize_t
body_file_read(void *arg, char *buf, size_t cap, char **errstr)
{
	struct smtp_client *c = arg;
	ssize_t n;

	do
		n = read(c->body_fd, buf, cap);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		*errstr = xstrdup(strerror(errno));
	return n;
}

static int
body_file(struct smtp_client *c, const char *path, int raw, char **errstr)
{
	int fd;

	if (body_check_state(c, errstr) == -1)
		return -1;
	if ((fd = localfile_open(path, "the body", 0, NULL, errstr)) == -1)
		return -1;
	return body_start(c, body_file_read, c, path, fd, raw);
}

int
smtp_client_body_file(struct smtp_client *c, const char *path, char **errstr)
{
	return body_file(c, path, 0, errstr);
}

int
smtp_client_body_file_raw(
    struct smtp_client *c, const char *path, char **errstr)
{
	return body_file(c, path, 1, errstr);
}

int
smtp_client_body_source(struct smtp_client *c, smtp_body_read_cb *rd, void *arg,
    const char *label, char **errstr)
{
	if (body_check_state(c, errstr) == -1)
		return -1;
	return body_start(c, rd, arg, label, -1, 0);
}

void
smtp_client_body_tee(struct smtp_client *c, smtp_body_tee_cb *cb, void *arg)
{
	c->tee = cb;
	c->tee_arg = arg;
}

const struct smtp_client_opts *
smtp_client_opts(const struct smtp_client *c)
{
	return &c->opts;
}
