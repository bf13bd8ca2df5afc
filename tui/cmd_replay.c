/*
 * `ehlo replay ID [SERVER] [--diff]`: re-runs the client side of a
 * recorded session against the same server or another, in line mode,
 * and records the new session with replay_of = ID.
 *
 * The script is rebuilt from the recorded client lines:
 *   - SMTP commands are sent as recorded (STARTTLS included: line mode
 *     performs the handshake, and the EHLO that followed is a recorded
 *     line of its own);
 *   - an AUTH exchange (stored decoded, secret masked) becomes
 *     "/auth MECH USER": the secret comes from EHLO_PASSWORD or is asked
 *     for again;
 *   - content typed after DATA comes from the stored body (kept when at
 *     most 64 KiB), or from the rows when every line was kept.  Like any
 *     line-mode script, when the server now refuses DATA those lines
 *     reach it as commands (each with a warning); the diff shows DATA;
 *   - a /body FILE becomes /body FILE again, with a warning when the
 *     file's SHA-256 or size changed since the recording;
 *   - pipelined groups become /pipeline ... /end.
 *
 * With --diff both sessions are read back from the database and their
 * replies compared (tui/replay_diff.c); differences are printed and the
 * exit status is 1 when there are any, else 0.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/digest.h"
#include "protocol/sasl.h"
#include "tui/cli.h"
#include "tui/histcmd.h"
#include "tui/print.h"

/* ---- rebuilding the script ----------------------------------------- */

struct build {
	struct hist *h;
	const struct hist_session *s;
	const struct histcmd_events *es;
	struct buf out;
	char *err; /* set when the session cannot be replayed */
	struct buf *warn; /* warnings as lines; NULL: on stderr */
	int pauses; /* the user's waits over a second become /sleep */
};

static void
emit(struct build *b, const char *p, size_t n)
{
	(void)buf_add(&b->out, p, n);
	(void)buf_add(&b->out, "\n", 1);
}

static void
emit_str(struct build *b, const char *s)
{
	emit(b, s, strlen(s));
}

/* Index of the next client row after i, or es->n. */
static size_t
next_client(const struct histcmd_events *es, size_t i)
{
	for (i++; i < es->n && es->v[i].dir != 'C'; i++)
		;
	return i;
}

static int
stage_is(const struct histcmd_event *e, const char *name)
{
	return e->stage != NULL && strcmp(e->stage, name) == 0;
}

/* The last reply after client row i, before the next one; NULL: none. */
static const struct histcmd_event *
exchange_reply(const struct histcmd_events *es, size_t i)
{
	const struct histcmd_event *r = NULL;

	for (i++; i < es->n && es->v[i].dir != 'C'; i++)
		if (es->v[i].flags & HIST_EV_REPLY)
			r = &es->v[i];
	return r;
}

/*
 * An AUTH exchange starting at row i: emits /auth MECH USER and returns
 * the index of the last row of the exchange.  One that failed is not
 * repeated (its secret was wrong, or it was cancelled): a "#" line marks
 * where it was.
 */
static size_t
build_auth(struct build *b, size_t i)
{
	const struct histcmd_events *es = b->es;
	const char *t = es->v[i].text + 4, *end;
	char *mech, *user = NULL, *line;
	const struct histcmd_event *r;
	size_t j, last = i;

	while (*t == ' ')
		t++;
	end = t + strcspn(t, " ");
	mech = xstrndup(t, (size_t)(end - t));
	for (j = i; j < es->n; j = next_client(es, j)) {
		if (j > i &&
		    (!stage_is(&es->v[j], "AUTH") ||
		        strncasecmp(es->v[j].text, "AUTH ", 5) == 0))
			break;
		last = j;
		if (user == NULL)
			user = sasl_display_user(es->v[j].text);
	}
	if ((r = exchange_reply(es, last)) == NULL || r->code / 100 != 2) {
		line = histcmd_event_text(&es->v[i]); /* escaped */
		(void)buf_add_printf(&b->out,
		    "# not repeated: %s (at %.3f s) failed: %d %s\n", line,
		    (double)es->v[i].t_us / 1e6, r != NULL ? r->code : 0,
		    r != NULL ? r->enhanced : "");
		free(line);
	} else if (*mech == '\0' || user == NULL) {
		if (b->err == NULL)
			b->err = xasprintf(
			    "session #%lld: the AUTH exchange at "
			    "%.3f s does not show %s, so it cannot be "
			    "repeated",
			    (long long)b->s->id, (double)es->v[i].t_us / 1e6,
			    *mech == '\0' ? "the mechanism" : "the user name");
	} else {
		line = xasprintf("/auth %s %s", mech, user);
		emit_str(b, line);
		free(line);
	}
	free(mech);
	free(user);
	return last;
}

/* Why a message cannot be sent again: too large, or --no-content. */
static char *
not_kept(const struct build *b, const struct hist_body *body)
{
	uint64_t size = body != NULL ? body->size : 0;

	return xasprintf("session #%lld: the message content (%llu octets) "
	                 "was %s, so it cannot be sent again",
	    (long long)b->s->id, (unsigned long long)size,
	    size > HIST_BODY_INLINE_MAX
	        ? "larger than 64 KiB and not kept"
	        : "not kept (recorded with --no-content)");
}

/* Emits stored content (CRLF lines as sent, dot-stuffed) and the ".". */
static void
emit_body(struct build *b, const struct hist_body *body)
{
	const char *p = body->content, *end = p + body->content_len, *nl;
	size_t j;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		j = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		emit(b, p, j > 0 && p[j - 1] == '\r' ? j - 1 : j);
		p += j + 1;
	}
	emit_str(b, ".");
}

/*
 * The message streamed on summary row i: a /body FILE again (it sends
 * DATA itself), or, for a composed message whose content was kept,
 * DATA (when data is set) and the content.
 */
static void
build_body_file(struct build *b, size_t i, int data)
{
	struct hist_body *body;
	char hex[SMTP_SHA256_HEX], *err = NULL, *line, *e;
	uint64_t size;

	body = hist_body_get(b->h, b->s->id, b->es->v[i].seq, &err);
	if (body != NULL && body->path == NULL && body->content != NULL) {
		if (data)
			emit_str(b, "DATA");
		emit_body(b, body);
		hist_body_free(body);
		return;
	}
	if (body != NULL && body->path == NULL && b->err == NULL) {
		b->err = not_kept(b, body);
		hist_body_free(body);
		return;
	}
	if (body == NULL || body->path == NULL) {
		if (b->err == NULL)
			b->err = err != NULL
			    ? err
			    : xasprintf(
			          "session #%lld: the content of the "
			          "message sent at %.3f s was not recorded, "
			          "so it cannot be sent again",
			          (long long)b->s->id,
			          (double)b->es->v[i].t_us / 1e6);
		else
			free(err);
		hist_body_free(body);
		return;
	}
	e = escape_dup(body->path, strlen(body->path));
	if (smtp_sha256_file(body->path, hex, &size, &err) == -1) {
		if (b->err == NULL)
			b->err = xasprintf("session #%lld sent the file %s, "
			                   "which is gone now (%s)",
			    (long long)b->s->id, e, err);
		free(err);
	} else if (body->sha256 != NULL &&
	    (strcmp(hex, body->sha256) != 0 || size != body->size)) {
		line =
		    xasprintf("warning: %s changed since session #%lld "
		              "(then %llu octets, SHA-256 %.12s...; now %llu "
		              "octets, %.12s...); replay sends it as it is now",
		        e, (long long)b->s->id, (unsigned long long)body->size,
		        body->sha256, (unsigned long long)size, hex);
		if (b->warn != NULL)
			(void)buf_add_printf(b->warn, "%s\n", line);
		else
			(void)fprintf(stderr, "ehlo: %s\n", line);
		free(line);
	}
	line = xasprintf("/body %s", body->path);
	emit_str(b, line);
	free(line);
	free(e);
	hist_body_free(body);
}

/*
 * Message content starting at row i (after DATA): emits every line and
 * the final "." and returns the index of the "." row.
 */
static size_t
build_content(struct build *b, size_t i)
{
	const struct histcmd_events *es = b->es;
	struct hist_body *body;
	char *err = NULL;
	size_t j, dot = es->n;
	int elided = 0;

	for (j = i; j < es->n; j++) {
		if (es->v[j].flags & HIST_EV_ELIDED)
			elided = 1;
		if (es->v[j].dir == 'C' && (es->v[j].flags & HIST_EV_CONTENT) &&
		    es->v[j].len == 1 && es->v[j].text[0] == '.') {
			dot = j;
			break;
		}
	}
	body = dot < es->n ? hist_body_get(b->h, b->s->id, es->v[dot].seq, &err)
	                   : NULL;
	free(err);
	if (body != NULL && body->content != NULL) {
		emit_body(b, body);
	} else if (!elided && dot < es->n) {
		for (j = i; j <= dot; j++)
			if (es->v[j].dir == 'C')
				emit(b, es->v[j].text, es->v[j].len);
	} else if (b->err == NULL)
		b->err = dot == es->n
		    ? xasprintf("session #%lld ended in the middle of its "
		                "message content; there is no whole message to "
		                "send again",
		          (long long)b->s->id)
		    : not_kept(b, body);
	hist_body_free(body);
	return dot < es->n ? dot : es->n - 1;
}

/* The octets "BDAT n [LAST]" announces (0 when it names none). */
static uint64_t
bdat_size(const char *text)
{
	uint64_t v = 0;
	const char *p = text + 4;

	while (*p == ' ')
		p++;
	while (*p >= '0' && *p <= '9' && v < UINT64_MAX / 10 - 9)
		v = v * 10 + (uint64_t)(*p++ - '0');
	return v;
}

/*
 * A message sent in BDAT chunks starting at the BDAT command row i,
 * when some of its lines were not kept as rows (an elided row before
 * the next command of another stage; it holds the body): emits each
 * BDAT command of the message followed by its chunk cut from the stored
 * body into lines (a last piece without CRLF is a line too: line mode
 * sends a line of exactly the octets left without CRLF), and returns
 * the index of the elided row.  SIZE_MAX when every line was kept (the
 * rows are the script then).
 */
static size_t
build_chunks(struct build *b, size_t i)
{
	const struct histcmd_events *es = b->es;
	struct hist_body *body;
	char *err = NULL;
	const char *p, *end, *nl;
	size_t j, elided = SIZE_MAX;
	uint64_t n;

	for (j = i; j < es->n && elided == SIZE_MAX; j++) {
		if (es->v[j].dir == 'C' && !stage_is(&es->v[j], "BDAT"))
			break;
		if (es->v[j].flags & HIST_EV_ELIDED)
			elided = j;
	}
	if (elided == SIZE_MAX)
		return SIZE_MAX;
	body = hist_body_get(b->h, b->s->id, es->v[elided].seq, &err);
	free(err);
	if (body == NULL || body->content == NULL) {
		if (b->err == NULL)
			b->err = not_kept(b, body);
		hist_body_free(body);
		return elided;
	}
	p = body->content;
	end = p + body->content_len;
	for (j = i; j < elided; j++) {
		const struct histcmd_event *e = &es->v[j];

		if (e->dir != 'C' || (e->flags & HIST_EV_CONTENT))
			continue;
		emit(b, e->text, e->len);
		n = bdat_size(e->text);
		if (n > (uint64_t)(end - p))
			n = (uint64_t)(end - p);
		while (n > 0) {
			nl = memchr(p, '\n', (size_t)n);
			if (nl != NULL && nl > p && nl[-1] == '\r') {
				emit(b, p, (size_t)(nl - 1 - p));
				n -= (uint64_t)(nl + 1 - p);
				p = nl + 1;
			} else {
				emit(b, p, (size_t)n);
				p += n;
				n = 0;
			}
		}
	}
	hist_body_free(body);
	return elided;
}

/* Returns the script (allocated, *len set) or NULL with b->err. */
static char *
build_script(struct build *b, size_t *len)
{
	const struct histcmd_events *es = b->es;
	size_t i, j;
	int group = 0;
	char *script;

	buf_init(&b->out, 0);
	for (i = 0; i < es->n && b->err == NULL; i = next_client(es, i)) {
		const struct histcmd_event *e = &es->v[i];

		if (e->dir != 'C')
			continue;
		if (b->pauses && i > 0 &&
		    (e->group == 0 || e->group != group) &&
		    !(e->flags & (HIST_EV_CONTENT | HIST_EV_SUMMARY)) &&
		    e->t_us >= es->v[i - 1].t_us + 1000000) {
			/* The user waited (a greylisting retry, a slow step). */
			(void)buf_add_printf(&b->out, "/sleep %.1f\n",
			    (double)(e->t_us - es->v[i - 1].t_us) / 1e6);
		}
		if (group != 0 && e->group != group) {
			emit_str(b, "/end");
			group = 0;
		}
		if (e->group > 0 && group == 0) {
			emit_str(b, "/pipeline");
			group = e->group;
		}
		if (e->flags & HIST_EV_SUMMARY) {
			build_body_file(b, i, 0);
		} else if (e->flags & HIST_EV_CONTENT &&
		    stage_is(e, "end of data")) {
			i = build_content(b, i);
		} else if (stage_is(e, "PROXY")) {
			/* Sent at connect: histcmd_replay_proxy. */
		} else if (stage_is(e, "AUTH")) {
			if (strncasecmp(e->text, "AUTH ", 5) == 0)
				i = build_auth(b, i);
		} else if (stage_is(e, "BDAT") &&
		    !(e->flags & HIST_EV_CONTENT) &&
		    (j = build_chunks(b, i)) != SIZE_MAX) {
			i = j;
		} else if (stage_is(e, "DATA") &&
		    (j = next_client(es, i)) < es->n &&
		    (es->v[j].flags & HIST_EV_SUMMARY)) {
			/* /body sends DATA itself. */
			build_body_file(b, j, 1);
			i = j;
		} else
			emit(b, e->text, e->len);
		if (i >= es->n)
			break;
	}
	if (group != 0)
		emit_str(b, "/end");
	if (b->err != NULL) {
		buf_reset(&b->out);
		return NULL;
	}
	*len = buf_used(&b->out);
	script = xmalloc(*len + 1);
	memcpy(script, buf_peek(&b->out), *len);
	script[*len] = '\0';
	buf_reset(&b->out);
	return script;
}

int
histcmd_events_lmtp(const struct histcmd_events *es)
{
	const struct histcmd_event *e;
	size_t i;

	for (i = 0; i < es->n; i++) {
		e = &es->v[i];
		if (e->dir != 'C' || e->len < 4 ||
		    (e->flags & HIST_EV_CONTENT) ||
		    (e->len > 4 && e->text[4] != ' '))
			continue;
		if (strncasecmp(e->text, "LHLO", 4) == 0)
			return 1;
		if (strncasecmp(e->text, "EHLO", 4) == 0 ||
		    strncasecmp(e->text, "HELO", 4) == 0)
			return 0;
	}
	return 0;
}

char *
histcmd_replay_target(const struct hist_session *s,
    const struct histcmd_events *es, const char *server, struct cli_opts *o)
{
	char *own;

	if (histcmd_events_lmtp(es))
		o->lmtp = 1;
	if (server != NULL) {
		o->server = server;
		return NULL;
	}
	own = histcmd_server(s);
	o->server = own;
	if (strcmp(s->tls_mode, "tls") == 0)
		o->tls = 1;
	return own;
}

char *
histcmd_replay_script(struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es, size_t *len, struct buf *warnings,
    char **errstr)
{
	return histcmd_replay_script_pauses(h, s, es, len, warnings, 1, errstr);
}

char *
histcmd_replay_script_pauses(struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es, size_t *len, struct buf *warnings,
    int pauses, char **errstr)
{
	struct build b;
	char *script;

	memset(&b, 0, sizeof b);
	b.h = h;
	b.s = s;
	b.es = es;
	b.warn = warnings;
	b.pauses = pauses;
	script = build_script(&b, len);
	*errstr = b.err;
	return script;
}

/* ehlo replay --diff: the differences as text or one JSON object. */
static long
diff_sessions(const struct cli_opts *o, const struct histcmd_events *ea,
    const struct histcmd_events *eb, int64_t ida, int64_t idb)
{
	json_t *top, *arr;
	struct buf text;
	long compared, ndiff;

	if (!o->json) {
		buf_init(&text, 0);
		ndiff =
		    histcmd_replay_diff_text(ea, eb, ida, idb, o->exact, &text);
		(void)fwrite(buf_peek(&text), 1, buf_used(&text), stdout);
		buf_reset(&text);
		return ndiff;
	}
	arr = json_array();
	ndiff = histcmd_replay_compare(ea, eb, o->exact, arr, NULL, &compared);
	top = print_json_object("diff");
	(void)json_object_set_new(top, "original", json_integer(ida));
	(void)json_object_set_new(top, "replay", json_integer(idb));
	(void)json_object_set_new(top, "compared", json_integer(compared));
	(void)json_object_set_new(top, "exact", json_boolean(o->exact));
	(void)json_object_set_new(top, "differences", arr);
	print_json_put(top);
	return ndiff;
}

/* ---- the command ----------------------------------------------------- */

static int
usage_rc(int rc)
{
	if (rc == 1) {
		(void)puts("usage: ehlo replay ID [SERVER] [--diff [--exact]] "
		           "[--no-pauses] [OPTIONS]\n"
		           "Re-runs the client side of a recorded session; "
		           "--diff compares the replies\n"
		           "(exit 1 when they differ; --exact compares the "
		           "greeting, queue ids and dates\n"
		           "too).  The user's waits over a second are kept; "
		           "--no-pauses drops them.\n"
		           "A failed AUTH is not repeated.  Secrets come from "
		           "EHLO_PASSWORD or a prompt.");
		return EXIT_OK;
	}
	return EXIT_USAGE;
}

int
cmd_replay(int argc, char *argv[])
{
	struct cli_opts o;
	struct hist *h = NULL;
	struct hist_session *s = NULL;
	struct histcmd_events es, enew;
	struct build b;
	char *script = NULL, *server = NULL, *err = NULL, *via, *socks = NULL;
	char *proxy[2] = {NULL, NULL};
	size_t len = 0;
	int64_t newid = 0;
	int rc;

	rc = cli_parse(argc, argv,
	    CLI_O_CONN | CLI_O_DIFF | CLI_O_HISTORY | CLI_O_JSON |
	        CLI_O_TIMING | CLI_O_PAUSES | CLI_O_HEXDUMP,
	    &o);
	if (rc != 0) {
		cli_opts_free(&o);
		return usage_rc(rc);
	}
	if (o.nargs < 1 || o.nargs > 2) {
		cli_opts_free(&o);
		return cli_usage_error(o.nargs < 1
		        ? "ehlo replay needs a session ID (`ehlo "
		          "history` lists them)"
		        : "ehlo replay takes a session ID and "
		          "optionally a SERVER, nothing more");
	}
	cli_config_forget(&o, CLI_CFG_AUTH | CLI_CFG_TLS_MODE);
	if (o.auth != NULL || o.starttls) {
		cli_opts_free(&o);
		return cli_usage_error(
		    "replay repeats the recorded STARTTLS and AUTH; "
		    "drop %s",
		    o.auth != NULL ? "--auth/--user" : "--starttls");
	}
	if (o.xclient.n > 0) {
		cli_opts_free(&o);
		return cli_usage_error("replay repeats the recorded XCLIENT; "
		                       "drop --xclient");
	}
	if (o.exact && !o.diff) {
		cli_opts_free(&o);
		return cli_usage_error("--exact goes with --diff");
	}
	if (o.diff && o.no_history) {
		cli_opts_free(&o);
		return cli_usage_error("--diff compares the recorded replay, "
		                       "so it cannot go with --no-history");
	}
	rc = histcmd_session_load(&o, o.args[0], &h, &s, &es);
	if (rc != EXIT_OK) {
		cli_opts_free(&o);
		return rc;
	}
	memset(&b, 0, sizeof b);
	b.h = h;
	b.s = s;
	b.es = &es;
	b.pauses = !o.no_pauses;
	if ((script = build_script(&b, &len)) == NULL) {
		(void)fprintf(stderr, "ehlo: cannot replay: %s\n", b.err);
		free(b.err);
		rc = EXIT_USAGE;
		goto out;
	}
	server =
	    histcmd_replay_target(s, &es, o.nargs == 2 ? o.args[1] : NULL, &o);
	if (histcmd_replay_proxy(&es, &o, proxy, &err) == -1) {
		(void)fprintf(stderr, "ehlo: cannot replay: %s\n", err);
		free(err);
		rc = EXIT_USAGE;
		goto out;
	}
	/* Issue 18: against the recorded server, through the recorded
	 * proxy too, unless --socks names one. */
	if (o.nargs == 1 && o.socks == NULL &&
	    (via = histcmd_socks_via(&es)) != NULL) {
		socks = xasprintf("socks5h://%s", via);
		free(via);
		o.socks = socks;
		if (cli_net_prepare(&o, &b.err) == -1) {
			(void)fprintf(
			    stderr, "ehlo: cannot replay: %s\n", b.err);
			free(b.err);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (!o.json)
		(void)printf("*: replaying session #%lld against %s%s%s\n",
		    (long long)s->id, o.server, o.socks != NULL ? " via " : "",
		    o.socks != NULL ? o.socks : "");
	(void)fflush(stdout);
	rc = linemode_run_script(&o, script, len, s->id, &newid);
	if (!o.diff)
		goto out;
	if (newid == 0) {
		(void)fprintf(stderr,
		    "ehlo: --diff needs the replay recorded, "
		    "and history is disabled\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (histcmd_events_load(h, newid, &enew, &err) == -1) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		rc = EXIT_USAGE;
		goto out;
	}
	rc = histcmd_replay_exit(
	    rc, diff_sessions(&o, &es, &enew, s->id, newid));
	histcmd_events_free(&enew);
out:
	free(script);
	free(server);
	free(proxy[0]);
	free(proxy[1]);
	free(socks);
	cli_opts_free(&o);
	histcmd_events_free(&es);
	hist_session_free(s);
	hist_close(h);
	return rc;
}
