/*
 * Shared machinery of the history subcommands (see histcmd.h): opening
 * the store for reading, session ids, events copied into an array (so
 * replay and diff can look ahead), and the text and JSON renderings of
 * a session that `show` and `export` print.
 */
#include "tui/histcmd.h"
#include "tui/print.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/digest.h"
#include "tui/cli.h"
#include "tui/host.h"

int
histcmd_retention(struct hist *h, const struct cli_opts *o, char **errstr)
{
	int64_t age;

	*errstr = NULL;
	if (o->retention == NULL || hist_is_readonly(h) ||
	    (age = cli_parse_age(o->retention)) < 0)
		return 0;
	return hist_prune(h, age, 0, NULL, errstr) == -1 ? -1 : 0;
}

struct hist *
histcmd_open(const struct cli_opts *o, int *missing)
{
	struct hist *h;
	struct stat sb;
	char *path, *err = NULL, *err2 = NULL;
	int live = 0, pending = 0;

	*missing = 0;
	if ((path = hist_db_path(o->db, &err)) == NULL) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		return NULL;
	}
	if (stat(path, &sb) == -1 && errno == ENOENT) {
		*missing = 1;
		free(path);
		return NULL;
	}
	if ((h = hist_open(path, HIST_OPEN_NOCREATE, &err)) == NULL &&
	    (h = hist_open(path, HIST_OPEN_READONLY, &err2)) == NULL) {
		/* The read-write reason says more (locked, damaged...). */
		(void)fprintf(stderr, "ehlo: %s\n", err);
	}
	if (h != NULL && hist_warnings(h) != NULL)
		(void)fprintf(stderr, "ehlo: %s\n", hist_warnings(h));
	if (h != NULL)
		pending = hist_spool_pending(path, &live);
	if (live > 0)
		(void)fprintf(stderr,
		    "ehlo: %d session(s) still being recorded by a running "
		    "ehlo (ehlo run, ehlo send) are not listed until they "
		    "end\n",
		    live);
	/* What the import left, other than those: a read-only database. */
	if (h != NULL && pending > live && hist_is_readonly(h))
		(void)fprintf(stderr,
		    "ehlo: %d recorded session(s) wait in %s-spool and are "
		    "not shown until ehlo can write the database (%s)\n",
		    pending - live, path,
		    err != NULL ? err : "opened read-only");
	free(err);
	free(err2);
	free(path);
	return h;
}

int
histcmd_parse_id(const char *arg, const char *what, int64_t *id)
{
	const char *p = arg;
	char *end;
	long long v;

	if (*p == '#')
		p++;
	errno = 0;
	v = strtoll(p, &end, 10);
	if (*p < '0' || *p > '9' || errno != 0 || *end != '\0' || v <= 0) {
		char *e = escape_dup(arg, strlen(arg));

		(void)fprintf(stderr,
		    "ehlo: \"%s\" is not a %s number; `ehlo %s` lists them\n",
		    e, what, strcmp(what, "draft") == 0 ? "drafts" : "history");
		free(e);
		return -1;
	}
	*id = v;
	return 0;
}

/* ---- events --------------------------------------------------------- */

static int
load_cb(const struct hist_event *ev, void *arg)
{
	struct histcmd_events *es = arg;
	struct histcmd_event *e;

	es->v = xreallocarray(es->v, es->n + 1, sizeof *es->v);
	e = &es->v[es->n++];
	memset(e, 0, sizeof *e);
	e->seq = ev->seq;
	e->t_us = ev->t_us;
	e->dir = ev->dir;
	e->text = xmalloc(ev->len + 1);
	memcpy(e->text, ev->text, ev->len);
	e->text[ev->len] = '\0';
	e->len = ev->len;
	e->stage = ev->stage != NULL ? xstrdup(ev->stage) : NULL;
	e->code = ev->code;
	(void)snprintf(e->enhanced, sizeof e->enhanced, "%s",
	    ev->enhanced != NULL ? ev->enhanced : "");
	e->flags = ev->flags;
	e->stage_no = ev->stage_no;
	e->group = ev->group;
	e->latency_us = ev->latency_us;
	return 0;
}

int
histcmd_events_load(
    struct hist *h, int64_t id, struct histcmd_events *es, char **errstr)
{
	memset(es, 0, sizeof *es);
	if (hist_events_iter(h, id, load_cb, es, errstr) == -1) {
		histcmd_events_free(es);
		return -1;
	}
	return 0;
}

void
histcmd_events_free(struct histcmd_events *es)
{
	size_t i;

	for (i = 0; i < es->n; i++) {
		free(es->v[i].text);
		free(es->v[i].stage);
	}
	free(es->v);
	es->v = NULL;
	es->n = 0;
}

char *
histcmd_event_text(const struct histcmd_event *e)
{
	const char *hidden = histcmd_event_hidden(e);

	return hidden != NULL ? xstrdup(hidden) : escape_dup(e->text, e->len);
}

const char *
histcmd_event_hidden(const struct histcmd_event *e)
{
	if (e->dir == 'C' && e->stage != NULL &&
	    strcmp(e->stage, "AUTH") == 0 && !(e->flags & HIST_EV_REDACTED))
		return "[AUTH line not shown: not marked redacted]";
	return NULL;
}

/* ---- small renderings ------------------------------------------------ */

struct last_error {
	int code;
	char enhanced[16];
};

static void
last_error_take(
    struct last_error *le, unsigned flags, int code, const char *enhanced)
{
	if (!(flags & HIST_EV_REPLY) || code < 400 || code > 599)
		return;
	le->code = code;
	(void)snprintf(le->enhanced, sizeof le->enhanced, "%s",
	    enhanced != NULL ? enhanced : "");
}

const char *
histcmd_outcome_words(struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es, char *buf, size_t len)
{
	struct last_error le;
	char *err = NULL;
	size_t i;

	memset(&le, 0, sizeof le);
	/* Only a failed session needs its replies read. */
	if ((s->exit_status == EXIT_REPLY || s->exit_status == EXIT_TEMPFAIL) &&
	    es != NULL)
		for (i = 0; i < es->n; i++)
			last_error_take(&le, es->v[i].flags, es->v[i].code,
			    es->v[i].enhanced);
	else if ((s->exit_status == EXIT_REPLY ||
	             s->exit_status == EXIT_TEMPFAIL) &&
	    h != NULL &&
	    hist_session_last_error(h, s->id, &le.code, le.enhanced,
	        sizeof le.enhanced, &err) == -1)
		free(err); /* the words without the code */
	return host_outcome_words(
	    s->exit_status, le.code, le.enhanced, buf, len);
}

void
histcmd_time(int64_t t, int utc, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		(void)snprintf(out, outlen, "%lld", (long long)t);
}

char *
histcmd_socks_via(const struct histcmd_events *es)
{
	const char *text, *end;
	size_t i;

	for (i = 0; i < es->n; i++) {
		if (es->v[i].dir == 'C' || es->v[i].dir == 'S')
			continue;
		text = es->v[i].text;
		if (strncmp(text, "SOCKS5 via ", 11) == 0 &&
		    (end = strstr(text, ": connected to ")) != NULL)
			return xstrndup(text + 11, (size_t)(end - text - 11));
	}
	return NULL;
}

char *
histcmd_server(const struct hist_session *s)
{
	char *e = escape_dup(s->server, strlen(s->server)), *out;

	if (s->server[0] == '/' && s->port == 0)
		return e; /* a UNIX socket (LMTP, issue 18): the path */
	out = strchr(e, ':') != NULL ? xasprintf("[%s]:%d", e, s->port)
	                             : xasprintf("%s:%d", e, s->port);
	free(e);
	return out;
}

/*
 * A body's SHA-256: as stored, or worked out from the content kept (the
 * recorder leaves it to readers then, see tui/record.c).  NULL when
 * neither is there.
 */
static const char *
body_sha256(const struct hist_body *b, char hex[SMTP_SHA256_HEX])
{
	struct smtp_sha256 *d;

	if (b->sha256 != NULL)
		return b->sha256;
	if (b->content == NULL)
		return NULL;
	d = smtp_sha256_new();
	smtp_sha256_update(d, b->content, b->content_len);
	smtp_sha256_final(d, hex);
	return hex;
}

static const char *
event_kind(const struct histcmd_event *e)
{
	if (e->dir == 'C')
		return "sent";
	if (e->dir == 'S')
		return "line";
	if (e->flags & HIST_EV_FAILURE)
		return "failure";
	if (e->flags & HIST_EV_WARNING)
		return "warning";
	return "note";
}

json_t *
histcmd_session_json(struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es, char **errstr)
{
	json_t *o, *evs, *e, *bodies;
	struct hist_body *b;
	char hex[SMTP_SHA256_HEX], words[64];
	size_t i;

	o = print_json_object("session");
	(void)json_object_set_new(o, "id", json_integer(s->id));
	(void)json_object_set_new(o, "started", print_json_time(s->started));
	(void)json_object_set_new(o, "ended", print_json_time(s->ended));
	(void)json_object_set_new(o, "server", print_json_str(s->server));
	(void)json_object_set_new(o, "port", json_integer(s->port));
	(void)json_object_set_new(o, "tls_mode", print_json_str(s->tls_mode));
	(void)json_object_set_new(o, "tls", print_json_tls_stored(s->tls));
	(void)json_object_set_new(o, "capabilities",
	    s->caps != NULL ? print_json_lines(s->caps) : json_null());
	(void)json_object_set_new(o, "exit",
	    s->exit_status >= 0 ? json_integer(s->exit_status) : json_null());
	(void)json_object_set_new(o, "outcome",
	    json_string(histcmd_outcome_words(h, s, es, words, sizeof words)));
	(void)json_object_set_new(o, "label", print_json_str(s->label));
	(void)json_object_set_new(o, "notes", print_json_str(s->notes));
	(void)json_object_set_new(o, "replay_of",
	    s->replay_of > 0 ? json_integer(s->replay_of) : json_null());
	(void)json_object_set_new(
	    o, "nevents", json_integer((json_int_t)s->nevents));
	(void)json_object_set_new(o, "exported_by", json_null());
	/* A listing (ehlo history) has no events loaded. */
	if (es == NULL) {
		(void)json_object_set_new(o, "events", json_null());
		(void)json_object_set_new(o, "bodies", json_null());
		return o;
	}
	evs = json_array();
	bodies = json_array();
	for (i = 0; i < es->n; i++) {
		const struct histcmd_event *ev = &es->v[i];
		const char *hidden = histcmd_event_hidden(ev);
		struct print_json_ev pe;

		print_json_ev_init(&pe);
		pe.seq = ev->seq;
		pe.t_us = ev->t_us;
		pe.type = event_kind(ev);
		pe.dir = ev->dir;
		pe.text = hidden != NULL ? hidden : ev->text;
		pe.len = hidden != NULL ? strlen(hidden) : ev->len;
		pe.stage = ev->stage;
		if (ev->flags & HIST_EV_REPLY) {
			pe.code = ev->code;
			pe.enhanced = ev->enhanced;
			pe.latency_us = ev->latency_us;
		}
		pe.redacted = (ev->flags & HIST_EV_REDACTED) != 0;
		pe.content =
		    (ev->flags & (HIST_EV_CONTENT | HIST_EV_SUMMARY)) != 0;
		pe.group = ev->group;
		e = print_json_event(&pe);
		(void)json_array_append_new(evs, e);
		if (!(ev->flags &
		        (HIST_EV_CONTENT | HIST_EV_SUMMARY | HIST_EV_ELIDED)))
			continue;
		if ((b = hist_body_get(h, s->id, ev->seq, errstr)) == NULL) {
			if (*errstr != NULL) {
				json_decref(evs);
				json_decref(bodies);
				json_decref(o);
				return NULL;
			}
			continue;
		}
		e = json_object();
		(void)json_object_set_new(e, "seq", json_integer(b->seq));
		(void)json_object_set_new(e, "kind", json_string(b->kind));
		(void)json_object_set_new(e, "path", print_json_str(b->path));
		(void)json_object_set_new(
		    e, "size", json_integer((json_int_t)b->size));
		(void)json_object_set_new(
		    e, "lines", json_integer((json_int_t)b->lines));
		(void)json_object_set_new(
		    e, "sha256", print_json_str(body_sha256(b, hex)));
		(void)json_object_set_new(
		    e, "kept", json_boolean(b->content != NULL));
		(void)json_array_append_new(bodies, e);
		hist_body_free(b);
	}
	(void)json_object_set_new(o, "events", evs);
	(void)json_object_set_new(o, "bodies", bodies);
	return o;
}

/* A TLS details object as one line: "TLSv1.3 CIPHER, verified". */
static void
print_tls(FILE *f, const char *tls)
{
	json_t *j = json_loads(tls, 0, NULL), *chain, *c;
	const char *version, *cipher, *verr;
	char *e;
	size_t i;

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return;
	}
	version = json_string_value(json_object_get(j, "version"));
	cipher = json_string_value(json_object_get(j, "cipher"));
	verr = json_string_value(json_object_get(j, "verify_error"));
	e = xasprintf("%s %s, certificate %s%s%s",
	    version != NULL ? version : "?", cipher != NULL ? cipher : "?",
	    json_is_true(json_object_get(j, "verified")) ? "verified"
	        : json_is_true(json_object_get(j, "verify_skipped"))
	        ? "NOT verified (--insecure)"
	        : "NOT verified",
	    verr != NULL && *verr ? ": " : "", verr != NULL ? verr : "");
	{
		char *s = escape_dup(e, strlen(e));

		(void)fprintf(f, "tls:       %s\n", s);
		free(s);
	}
	free(e);
	chain = json_object_get(j, "chain");
	for (i = 0; i < json_array_size(chain); i++) {
		const char *subj, *iss, *na;
		char *es, *ei, *en;

		c = json_array_get(chain, i);
		subj = json_string_value(json_object_get(c, "subject"));
		iss = json_string_value(json_object_get(c, "issuer"));
		na = json_string_value(json_object_get(c, "not_after"));
		es = escape_dup(
		    subj != NULL ? subj : "", subj ? strlen(subj) : 0);
		ei = escape_dup(iss != NULL ? iss : "", iss ? strlen(iss) : 0);
		en = escape_dup(na != NULL ? na : "", na ? strlen(na) : 0);
		(void)fprintf(f,
		    "           certificate %zu: %s (issuer %s, until %s)\n", i,
		    es, ei, en);
		free(es);
		free(ei);
		free(en);
	}
	json_decref(j);
}

/* A multi-line field, each line indented like the first. */
static void
print_field(FILE *f, const char *name, const char *value)
{
	const char *p = value, *nl;
	char *e;
	int first = 1;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		e = escape_dup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
		(void)fprintf(f, "%-10s %s\n", first ? name : "", e);
		free(e);
		first = 0;
		p = nl != NULL ? nl + 1 : NULL;
	}
}

void
histcmd_print_header(FILE *f, const struct hist_session *s,
    const struct histcmd_events *es, int utc)
{
	char words[64];
	char when[32], *server = histcmd_server(s);

	histcmd_time(s->started, utc, when, sizeof when);
	(void)fprintf(f, "session:   #%lld\n", (long long)s->id);
	(void)fprintf(f, "server:    %s (%s)\n", server,
	    strcmp(s->tls_mode, "tls") == 0            ? "implicit TLS"
	        : strcmp(s->tls_mode, "starttls") == 0 ? "STARTTLS required"
	                                               : "no TLS required");
	(void)fprintf(f, "started:   %s%s, %.3f s of dialogue\n", when,
	    utc ? " UTC" : "", (double)s->last_t_us / 1e6);
	if (s->exit_status >= 0)
		(void)fprintf(f, "outcome:   exit %d (%s)\n", s->exit_status,
		    histcmd_outcome_words(NULL, s, es, words, sizeof words));
	else
		(void)fprintf(f,
		    "outcome:   unfinished (ehlo was stopped "
		    "or is still running)\n");
	if (s->replay_of > 0)
		(void)fprintf(f, "replay of: #%lld\n", (long long)s->replay_of);
	if (s->label != NULL)
		print_field(f, "label:", s->label);
	if (s->notes != NULL)
		print_field(f, "notes:", s->notes);
	if (s->tls != NULL)
		print_tls(f, s->tls);
	if (s->caps != NULL && *s->caps != '\0')
		print_field(f, "caps:", s->caps);
	free(server);
	(void)fprintf(f, "ehlo:      %s\n", EHLO_VERSION);
}

void
histcmd_print_dialogue(FILE *f, struct hist *h, const struct hist_session *s,
    const struct histcmd_events *es, int annotate)
{
	struct hist_body *b;
	char *err = NULL, *t, hex[SMTP_SHA256_HEX];
	const char *prefix, *sha;
	size_t i;

	for (i = 0; i < es->n; i++) {
		const struct histcmd_event *e = &es->v[i];

		prefix = e->dir == 'C'             ? "C: "
		    : e->dir == 'S'                ? "S: "
		    : (e->flags & HIST_EV_FAILURE) ? "*: error: "
		    : (e->flags & HIST_EV_WARNING) ? "*: warning: "
		                                   : "*: ";
		t = histcmd_event_text(e);
		(void)fprintf(
		    f, "%8.3f %s%s", (double)e->t_us / 1e6, prefix, t);
		free(t);
		if (annotate && (e->flags & HIST_EV_REPLY)) {
			(void)fprintf(f, "    [%s %d%s%s",
			    e->stage ? e->stage : "reply", e->code,
			    e->enhanced[0] ? " " : "", e->enhanced);
			if (e->latency_us >= 0)
				(void)fprintf(f, ", %.1f ms",
				    (double)e->latency_us / 1e3);
			(void)fputc(']', f);
		}
		(void)fputc('\n', f);
		if (!annotate ||
		    !(e->flags &
		        (HIST_EV_CONTENT | HIST_EV_SUMMARY | HIST_EV_ELIDED)))
			continue;
		if ((b = hist_body_get(h, s->id, e->seq, &err)) == NULL) {
			free(err);
			err = NULL;
			continue;
		}
		t = b->path != NULL ? escape_dup(b->path, strlen(b->path))
		                    : xstrdup("");
		(void)fprintf(f,
		    "         (message body: %s%s%s, %llu octets, %llu lines, "
		    "SHA-256 %s%s)\n",
		    b->kind, *t ? " " : "", t, (unsigned long long)b->size,
		    (unsigned long long)b->lines,
		    (sha = body_sha256(b, hex)) != NULL ? sha : "unknown",
		    b->content != NULL ? ", content kept" : "");
		free(t);
		hist_body_free(b);
	}
}

int
histcmd_session_load(const struct cli_opts *o, const char *idarg,
    struct hist **hp, struct hist_session **sp, struct histcmd_events *es)
{
	struct hist *h;
	struct hist_session *s;
	char *err = NULL, *path;
	int64_t id;
	int missing;

	*hp = NULL;
	*sp = NULL;
	memset(es, 0, sizeof *es);
	if (histcmd_parse_id(idarg, "session", &id) == -1)
		return EXIT_USAGE;
	if ((h = histcmd_open(o, &missing)) == NULL) {
		if (missing) {
			path = hist_db_path(o->db, &err);
			(void)fprintf(stderr,
			    "ehlo: no session #%lld: no history yet (%s "
			    "does not exist)\n",
			    (long long)id, path != NULL ? path : "no database");
			free(path);
			free(err);
		}
		return EXIT_USAGE;
	}
	if ((s = hist_session_get(h, id, &err)) == NULL) {
		if (err != NULL)
			(void)fprintf(stderr, "ehlo: %s\n", err);
		else
			(void)fprintf(stderr,
			    "ehlo: there is no session #%lld in %s; `ehlo "
			    "history` lists them\n",
			    (long long)id, hist_path(h));
		free(err);
		hist_close(h);
		return EXIT_USAGE;
	}
	if (histcmd_events_load(h, id, es, &err) == -1) {
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		hist_session_free(s);
		hist_close(h);
		return EXIT_USAGE;
	}
	*hp = h;
	*sp = s;
	return EXIT_OK;
}

char *
histcmd_session_cafile(const struct hist_session *s, int *insecure)
{
	json_t *j = s->tls != NULL ? json_loads(s->tls, 0, NULL) : NULL;
	const char *ca;
	char *r = NULL;

	*insecure = 0;
	if (j == NULL)
		return NULL;
	*insecure = json_is_true(json_object_get(j, "verify_skipped"));
	ca = json_string_value(json_object_get(j, "cafile"));
	if (ca != NULL && *ca != '\0')
		r = xstrdup(ca);
	json_decref(j);
	return r;
}
