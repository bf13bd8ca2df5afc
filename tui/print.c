/*
 * Dialogue printing for the line-oriented commands.  Text mode writes
 * each event as one line, escaping whatever came from the network
 * (core/escape.h); JSON mode writes one object per event with its type,
 * direction, text, reply facts and stage.  Lines go to stdout through
 * the output gate (tui/outgate.h), which keeps them while the rows
 * they show are not committed; callers flush stdout once per loop
 * turn.
 */
#include "tui/print.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "protocol/tlscheck.h"
#include "protocol/transport.h"
#include "tui/outgate.h"
#include "tui/record.h"

static double
secs(uint64_t us)
{
	return (double)us / 1e6;
}

static void
print_text_sfx(const struct print_opts *po, uint64_t t_us, const char *prefix,
    const char *p, size_t n, const char *suffix)
{
	struct buf b;

	buf_init(&b, 0);
	if (po->timing)
		(void)buf_add_printf(&b, "%8.3f ", secs(t_us));
	(void)buf_add_str(&b, prefix);
	(void)escape_append(&b, p, n);
	if (suffix != NULL)
		(void)buf_add_str(&b, suffix);
	(void)buf_add(&b, "\n", 1);
	outgate_write(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
}

void
print_text(const struct print_opts *po, uint64_t t_us, const char *prefix,
    const char *p, size_t n)
{
	print_text_sfx(po, t_us, prefix, p, n, NULL);
}

/* --timing: the last line of a reply shows its round trip. */
static void
print_server_line(const struct print_opts *po, const struct smtp_event *ev)
{
	const struct smtp_stage *st =
	    po->session != NULL ? smtp_session_awaiting(po->session) : NULL;
	char sfx[48];

	if (!po->timing || st == NULL || (ev->len > 3 && ev->text[3] != ' ')) {
		print_text(po, ev->t_us, "S: ", ev->text, ev->len);
		return;
	}
	(void)snprintf(sfx, sizeof sfx, "   (+%.1f ms)",
	    (double)(ev->t_us - st->t_start_us) / 1000.0);
	print_text_sfx(po, ev->t_us, "S: ", ev->text, ev->len, sfx);
}

void
print_json_put(json_t *obj)
{
	char *s = json_dumps(
	    obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));

	if (s != NULL) {
		outgate_write(s, strlen(s));
		outgate_write("\n", 1);
		free(s);
	}
	json_decref(obj);
}

json_t *
print_json_text(const char *p, size_t n)
{
	char *s = escape_dup(p, n);
	json_t *j = json_string(s);

	free(s);
	return j != NULL ? j : json_string("");
}

static const char *
event_name(enum smtp_event_type t)
{
	switch (t) {
	case SMTP_EV_SENT:
		return "sent";
	case SMTP_EV_LINE:
		return "line";
	case SMTP_EV_REPLY:
		return "reply";
	case SMTP_EV_NOTE:
		return "note";
	case SMTP_EV_WARNING:
		return "warning";
	case SMTP_EV_STAGE:
		return "stage";
	case SMTP_EV_STARTTLS:
		return "starttls";
	case SMTP_EV_FAILURE:
		return "failure";
	case SMTP_EV_CLOSED:
		return "closed";
	}
	return "?";
}

static void
print_json(const struct smtp_event *ev)
{
	json_t *o;
	const struct smtp_stage *st = ev->stage;

	if (ev->type == SMTP_EV_STAGE || ev->type == SMTP_EV_STARTTLS)
		return;
	o = json_object();
	(void)json_object_set_new(o, "t", json_real(secs(ev->t_us)));
	(void)json_object_set_new(o, "type", json_string(event_name(ev->type)));
	switch (ev->type) {
	case SMTP_EV_SENT:
		(void)json_object_set_new(o, "dir", json_string("C"));
		break;
	case SMTP_EV_LINE:
		(void)json_object_set_new(o, "dir", json_string("S"));
		break;
	case SMTP_EV_REPLY:
		break;
	default:
		(void)json_object_set_new(o, "dir", json_string("*"));
		break;
	}
	if (ev->text != NULL)
		(void)json_object_set_new(
		    o, "text", print_json_text(ev->text, ev->len));
	if (ev->type == SMTP_EV_FAILURE)
		(void)json_object_set_new(
		    o, "category", json_string(smtp_fail_name(ev->category)));
	if (ev->type == SMTP_EV_REPLY) {
		(void)json_object_set_new(
		    o, "code", json_integer(ev->reply->code));
		(void)json_object_set_new(
		    o, "enhanced", json_string(ev->reply->enhanced));
		(void)json_object_set_new(
		    o, "lines", json_integer((json_int_t)ev->reply->nlines));
	}
	if (st != NULL && ev->type != SMTP_EV_LINE) {
		(void)json_object_set_new(
		    o, "stage", json_string(smtp_stage_kind_name(st->kind)));
		if (st->txn > 0)
			(void)json_object_set_new(
			    o, "txn", json_integer(st->txn));
		if (st->group > 0)
			(void)json_object_set_new(
			    o, "group", json_integer(st->group));
		if (ev->type == SMTP_EV_REPLY)
			(void)json_object_set_new(o, "latency_ms",
			    json_real((double)(st->t_end_us - st->t_start_us) /
			        1000.0));
	}
	print_json_put(o);
}

void
print_event(const struct print_opts *po, const struct smtp_event *ev)
{
	if (po->json) {
		print_json(ev);
		return;
	}
	switch (ev->type) {
	case SMTP_EV_SENT:
		print_text(po, ev->t_us, "C: ", ev->text, ev->len);
		break;
	case SMTP_EV_LINE:
		print_server_line(po, ev);
		break;
	case SMTP_EV_NOTE:
		print_text(po, ev->t_us, "*: ", ev->text, ev->len);
		break;
	case SMTP_EV_WARNING:
		print_text(po, ev->t_us, "*: warning: ", ev->text, ev->len);
		break;
	case SMTP_EV_FAILURE:
		print_text(po, ev->t_us, "*: error: ", ev->text, ev->len);
		break;
	default:
		break;
	}
}

void
print_workbench_error(struct record *rec, int json, const char *msg)
{
	char *e = escape_dup(msg, strlen(msg));

	record_error(rec, msg);
	record_flush(rec); /* what stdout holds goes out now */
	(void)fflush(stdout);
	(void)fprintf(stderr, "ehlo: %s\n", e);
	if (!json)
		(void)printf("*: error: %s\n", e);
	free(e);
}

/* How verification went (issue 20): the level and a refusal. */
static void
print_json_tls_verify(json_t *t, const struct smtp_tls_info *ti)
{
	(void)json_object_set_new(t, "level",
	    json_string(ti->verify_skipped ? "insecure"
	            : ti->opportunistic    ? "may"
	                                   : "verify"));
	(void)json_object_set_new(t, "refused", json_boolean(ti->refused));
}

static json_t *
print_json_str(const char *s)
{
	return print_json_text(s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

/* The handshake and chain details of issue 19, beside the others. */
static void
print_json_tls_more(json_t *t, const struct smtp_tls_info *ti)
{
	json_t *chain = json_object_get(t, "chain");
	size_t i;

	(void)json_object_set_new(t, "alpn", print_json_str(ti->alpn));
	(void)json_object_set_new(t, "sig_alg", print_json_str(ti->sig_alg));
	(void)json_object_set_new(t, "peer_key", print_json_str(ti->peer_key));
	(void)json_object_set_new(t, "resumed", json_boolean(ti->resumed));
	if (ti->dane_name != NULL) {
		json_t *d = json_array();

		for (i = 0; i < ti->ndane; i++)
			(void)json_array_append_new(
			    d, print_json_str(ti->dane[i]));
		(void)json_object_set_new(t, "dane",
		    json_pack("{s:o, s:o, s:i}", "name",
		        print_json_str(ti->dane_name), "records", d, "matched",
		        ti->dane_match));
	}
	for (i = 0; i < ti->nchain && i < json_array_size(chain); i++) {
		(void)json_object_set_new(json_array_get(chain, i), "sha256",
		    print_json_str(ti->chain[i].sha256));
		(void)json_object_set_new(json_array_get(chain, i),
		    "spki_sha256", print_json_str(ti->chain[i].spki_sha256));
	}
}

json_t *
print_json_tls(const struct smtp_tls_info *ti)
{
	json_t *t, *chain, *c;
	size_t i;

	t = json_object();
	(void)json_object_set_new(
	    t, "version", print_json_text(ti->version, strlen(ti->version)));
	(void)json_object_set_new(
	    t, "cipher", print_json_text(ti->cipher, strlen(ti->cipher)));
	(void)json_object_set_new(
	    t, "group", print_json_text(ti->group, strlen(ti->group)));
	(void)json_object_set_new(
	    t, "sni", print_json_text(ti->sni, strlen(ti->sni)));
	(void)json_object_set_new(t, "verified", json_boolean(ti->verified));
	(void)json_object_set_new(t, "verify_error",
	    print_json_text(ti->verify_error, strlen(ti->verify_error)));
	(void)json_object_set_new(
	    t, "ocsp", json_string(smtp_tls_ocsp_name(ti->ocsp_status)));
	(void)json_object_set_new(
	    t, "ocsp_detail", print_json_text(ti->ocsp, strlen(ti->ocsp)));
	chain = json_array();
	for (i = 0; i < ti->nchain; i++) {
		c = json_object();
		(void)json_object_set_new(c, "subject",
		    print_json_text(
		        ti->chain[i].subject, strlen(ti->chain[i].subject)));
		(void)json_object_set_new(c, "issuer",
		    print_json_text(
		        ti->chain[i].issuer, strlen(ti->chain[i].issuer)));
		(void)json_object_set_new(c, "san",
		    print_json_text(
		        ti->chain[i].san, strlen(ti->chain[i].san)));
		(void)json_object_set_new(c, "not_before",
		    print_json_text(ti->chain[i].not_before,
		        strlen(ti->chain[i].not_before)));
		(void)json_object_set_new(c, "not_after",
		    print_json_text(ti->chain[i].not_after,
		        strlen(ti->chain[i].not_after)));
		(void)json_object_set_new(c, "key",
		    json_pack("{s:s, s:i}", "type", ti->chain[i].key_type,
		        "bits", ti->chain[i].key_bits));
		(void)json_object_set_new(c, "sig_alg",
		    print_json_text(
		        ti->chain[i].sig_alg, strlen(ti->chain[i].sig_alg)));
		(void)json_object_set_new(
		    c, "days_left", json_integer(ti->chain[i].days_left));
		(void)json_array_append_new(chain, c);
	}
	(void)json_object_set_new(t, "chain", chain);
	print_json_tls_verify(t, ti);
	print_json_tls_more(t, ti);
	return t;
}
