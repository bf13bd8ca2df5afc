/*
 * The JSON that every --json output is made of, in one place, so that
 * each kind of object has one shape wherever it appears (documented,
 * and checked by the tests, in docs/schema.json): every top-level
 * object carries "schema": PRINT_JSON_SCHEMA and a "type"; times are
 * RFC 3339 in UTC with milliseconds; a value that is absent is null,
 * never "" and never a missing key; text that came from the network or
 * the database is escaped (core/escape.h).  Built here: events, TLS
 * details and certificates, the end-of-run summary; the commands add
 * their own fields to objects from print_json_object().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/escape.h"
#include "protocol/tlscheck.h"
#include "protocol/transport.h"
#include "tui/outgate.h"
#include "tui/print.h"

json_t *
print_json_object(const char *type)
{
	json_t *o = json_object();

	(void)json_object_set_new(o, "schema", json_integer(PRINT_JSON_SCHEMA));
	(void)json_object_set_new(o, "type", json_string(type));
	return o;
}

void
print_json_put(json_t *obj)
{
	char *s;

	/* Every top-level object says which shapes it follows. */
	if (json_object_get(obj, "schema") == NULL)
		(void)json_object_set_new(
		    obj, "schema", json_integer(PRINT_JSON_SCHEMA));
	s = json_dumps(obj,
	    JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6) |
	        JSON_PRESERVE_ORDER);
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

json_t *
print_json_str(const char *s)
{
	return s != NULL && *s != '\0' ? print_json_text(s, strlen(s))
	                               : json_null();
}

json_t *
print_json_time_ms(int64_t ms)
{
	char buf[40];
	time_t tt;
	struct tm tm;

	if (ms <= 0)
		return json_null();
	tt = (time_t)(ms / 1000);
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return json_null();
	(void)snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ".%03dZ",
	    (int)(ms % 1000));
	return json_string(buf);
}

json_t *
print_json_time(int64_t t)
{
	return t > 0 ? print_json_time_ms(t * 1000) : json_null();
}

/*
 * OpenSSL's "2026-01-01 00:00:00 UTC" (struct smtp_tls_cert) as
 * RFC 3339; a time already in that form is kept; null otherwise.
 */
static json_t *
cert_time(const char *s)
{
	struct tm tm;
	time_t t;
	int n = 0;

	if (s == NULL || *s == '\0')
		return json_null();
	if (strlen(s) >= 20 && s[10] == 'T')
		return print_json_text(s, strlen(s));
	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d UTC%n", &tm.tm_year, &tm.tm_mon,
	        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    s[n] != '\0')
		return json_null();
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return json_null();
	return print_json_time_ms((int64_t)t * 1000);
}

/* text cut at each sep ("a\nb", "DNS:a, IP:b") as an array of escaped
 * strings; empty for NULL or "". */
static json_t *
split_list(const char *text, const char *sep)
{
	json_t *a = json_array();
	const char *p = text, *e;

	while (p != NULL && *p != '\0') {
		e = strstr(p, sep);
		(void)json_array_append_new(a,
		    print_json_text(
		        p, e != NULL ? (size_t)(e - p) : strlen(p)));
		p = e != NULL ? e + strlen(sep) : NULL;
	}
	return a;
}

json_t *
print_json_cert(const struct smtp_tls_cert *c)
{
	json_t *o = json_object();

	(void)json_object_set_new(o, "subject", print_json_str(c->subject));
	(void)json_object_set_new(o, "issuer", print_json_str(c->issuer));
	(void)json_object_set_new(o, "san", split_list(c->san, ", "));
	(void)json_object_set_new(o, "not_before", cert_time(c->not_before));
	(void)json_object_set_new(o, "not_after", cert_time(c->not_after));
	(void)json_object_set_new(o, "days_left", json_integer(c->days_left));
	(void)json_object_set_new(o, "key",
	    json_pack("{s:o, s:o}", "type", print_json_str(c->key_type), "bits",
	        c->key_bits > 0 ? json_integer(c->key_bits) : json_null()));
	(void)json_object_set_new(o, "sig_alg", print_json_str(c->sig_alg));
	(void)json_object_set_new(o, "sha256", print_json_str(c->sha256));
	(void)json_object_set_new(
	    o, "spki_sha256", print_json_str(c->spki_sha256));
	return o;
}

json_t *
print_json_tls(const struct smtp_tls_info *ti)
{
	json_t *t = json_object(), *chain = json_array();
	size_t i;

	(void)json_object_set_new(t, "version", print_json_str(ti->version));
	(void)json_object_set_new(t, "cipher", print_json_str(ti->cipher));
	(void)json_object_set_new(t, "group", print_json_str(ti->group));
	(void)json_object_set_new(t, "sni", print_json_str(ti->sni));
	(void)json_object_set_new(t, "alpn", print_json_str(ti->alpn));
	(void)json_object_set_new(t, "verified", json_boolean(ti->verified));
	(void)json_object_set_new(
	    t, "verify_skipped", json_boolean(ti->verify_skipped));
	(void)json_object_set_new(
	    t, "verify_error", print_json_str(ti->verify_error));
	(void)json_object_set_new(
	    t, "ocsp", json_string(smtp_tls_ocsp_name(ti->ocsp_status)));
	(void)json_object_set_new(t, "ocsp_detail", print_json_str(ti->ocsp));
	for (i = 0; i < ti->nchain; i++)
		(void)json_array_append_new(
		    chain, print_json_cert(&ti->chain[i]));
	(void)json_object_set_new(t, "chain", chain);
	/* How verification went (issue 20) and the handshake (issue 19). */
	(void)json_object_set_new(t, "level",
	    json_string(ti->verify_skipped ? "insecure"
	            : ti->opportunistic    ? "may"
	                                   : "verify"));
	(void)json_object_set_new(t, "refused", json_boolean(ti->refused));
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
	} else
		(void)json_object_set_new(t, "dane", json_null());
	return t;
}

/* The text as a JSON string, "" when it is NULL or not UTF-8. */
static json_t *
keep_str(const char *s)
{
	json_t *j = json_string(s != NULL ? s : "");

	return j != NULL ? j : json_string("");
}

void
print_json_tls_keep(json_t *o, const struct smtp_tls_info *ti)
{
	json_t *d, *c;
	size_t i;

	for (i = 0; i < ti->nchain; i++)
		if ((c = json_array_get(json_object_get(o, "chain"), i)) !=
		    NULL) {
			(void)json_object_set_new(
			    c, "sha256", keep_str(ti->chain[i].sha256));
			(void)json_object_set_new(c, "spki_sha256",
			    keep_str(ti->chain[i].spki_sha256));
		}
	(void)json_object_set_new(
	    o, "opportunistic", json_boolean(ti->opportunistic));
	(void)json_object_set_new(o, "refused", json_boolean(ti->refused));
	(void)json_object_set_new(o, "sig_alg", keep_str(ti->sig_alg));
	(void)json_object_set_new(o, "peer_key", keep_str(ti->peer_key));
	(void)json_object_set_new(o, "resumed", json_boolean(ti->resumed));
	if (ti->dane_name == NULL)
		return;
	d = json_array();
	for (i = 0; i < ti->ndane; i++)
		(void)json_array_append_new(d, keep_str(ti->dane[i]));
	(void)json_object_set_new(o, "dane",
	    json_pack("{s:o, s:o, s:i}", "name", keep_str(ti->dane_name),
	        "records", d, "matched", ti->dane_match));
}

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

json_t *
print_json_tls_stored(const char *text)
{
	json_t *j = text != NULL ? json_loads(text, 0, NULL) : NULL, *chain, *c,
	       *out, *dane, *recs;
	struct smtp_tls_info ti;
	struct smtp_tls_cert *certs;
	char **dane_lines = NULL;
	size_t i, n;

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return json_null();
	}
	/* Back into the struct, then out through the one builder: rows
	 * recorded by older versions (key_type, key_bits) come out in the
	 * same shape as new ones. */
	memset(&ti, 0, sizeof ti);
	ti.version = (char *)jstr(j, "version");
	ti.cipher = (char *)jstr(j, "cipher");
	ti.group = (char *)jstr(j, "group");
	ti.sni = (char *)jstr(j, "sni");
	ti.alpn = (char *)jstr(j, "alpn");
	ti.verified = json_is_true(json_object_get(j, "verified"));
	ti.verify_skipped = json_is_true(json_object_get(j, "verify_skipped"));
	ti.verify_error = (char *)jstr(j, "verify_error");
	ti.ocsp = (char *)jstr(j, "ocsp_detail");
	/* Recorded since the TLS levels, the handshake and --dane (older
	 * rows: false, null). */
	ti.opportunistic = json_is_true(json_object_get(j, "opportunistic"));
	ti.refused = json_is_true(json_object_get(j, "refused"));
	ti.sig_alg = (char *)jstr(j, "sig_alg");
	ti.peer_key = (char *)jstr(j, "peer_key");
	ti.resumed = json_is_true(json_object_get(j, "resumed"));
	if ((dane = json_object_get(j, "dane")) != NULL &&
	    json_is_object(dane)) {
		recs = json_object_get(dane, "records");
		ti.dane_name = (char *)jstr(dane, "name");
		ti.ndane = json_array_size(recs);
		dane_lines =
		    calloc(ti.ndane > 0 ? ti.ndane : 1, sizeof *dane_lines);
		for (i = 0; dane_lines != NULL && i < ti.ndane; i++) {
			const char *l =
			    json_string_value(json_array_get(recs, i));

			dane_lines[i] = (char *)(l != NULL ? l : "");
		}
		ti.dane = dane_lines;
		ti.ndane = dane_lines != NULL ? ti.ndane : 0;
		ti.dane_match =
		    (int)json_integer_value(json_object_get(dane, "matched"));
	}
	chain = json_object_get(j, "chain");
	n = json_array_size(chain);
	certs = calloc(n > 0 ? n : 1, sizeof *certs);
	for (i = 0; certs != NULL && i < n; i++) {
		c = json_array_get(chain, i);
		certs[i].subject = (char *)jstr(c, "subject");
		certs[i].issuer = (char *)jstr(c, "issuer");
		certs[i].san = (char *)jstr(c, "san");
		certs[i].not_before = (char *)jstr(c, "not_before");
		certs[i].not_after = (char *)jstr(c, "not_after");
		certs[i].days_left =
		    (long)json_integer_value(json_object_get(c, "days_left"));
		certs[i].key_type = (char *)jstr(c, "key_type");
		certs[i].key_bits =
		    (int)json_integer_value(json_object_get(c, "key_bits"));
		certs[i].sig_alg = (char *)jstr(c, "sig_alg");
		certs[i].sha256 = (char *)jstr(c, "sha256");
		certs[i].spki_sha256 = (char *)jstr(c, "spki_sha256");
	}
	ti.chain = certs;
	ti.nchain = certs != NULL ? n : 0;
	out = print_json_tls(&ti);
	/* The OCSP status as recorded (a name, "none" when absent). */
	(void)json_object_set_new(out, "ocsp",
	    json_string(*jstr(j, "ocsp") != '\0' ? jstr(j, "ocsp") : "none"));
	free(certs);
	free(dane_lines);
	json_decref(j);
	return out;
}

json_t *
print_json_lines(const char *text)
{
	return split_list(text, "\n");
}

static json_t *
int_or_null(int64_t v)
{
	return v > 0 ? json_integer(v) : json_null();
}

json_t *
print_json_event(const struct print_json_ev *e)
{
	json_t *o = json_object();
	char dir[2] = {e->dir, '\0'};

	(void)json_object_set_new(o, "t", json_real((double)e->t_us / 1e6));
	(void)json_object_set_new(o, "type", json_string(e->type));
	(void)json_object_set_new(
	    o, "dir", e->dir != '\0' ? json_string(dir) : json_null());
	(void)json_object_set_new(o, "text",
	    e->text == NULL ? json_null() : print_json_text(e->text, e->len));
	(void)json_object_set_new(o, "seq", int_or_null(e->seq));
	(void)json_object_set_new(o, "stage", print_json_str(e->stage));
	(void)json_object_set_new(o, "txn", int_or_null(e->txn));
	(void)json_object_set_new(o, "group", int_or_null(e->group));
	(void)json_object_set_new(o, "code", int_or_null(e->code));
	(void)json_object_set_new(o, "enhanced", print_json_str(e->enhanced));
	(void)json_object_set_new(o, "lines", int_or_null(e->lines));
	(void)json_object_set_new(o, "latency_ms",
	    e->latency_us >= 0 ? json_real((double)e->latency_us / 1e3)
	                       : json_null());
	(void)json_object_set_new(o, "category", print_json_str(e->category));
	(void)json_object_set_new(o, "redacted",
	    e->redacted < 0 ? json_null() : json_boolean(e->redacted));
	(void)json_object_set_new(o, "content",
	    e->content < 0 ? json_null() : json_boolean(e->content));
	return o;
}

void
print_json_ev_init(struct print_json_ev *e)
{
	memset(e, 0, sizeof *e);
	e->latency_us = -1;
	e->redacted = e->content = -1;
}

json_t *
print_json_summary(int status)
{
	json_t *o = print_json_object("summary");

	(void)json_object_set_new(o, "exit", json_integer(status));
	(void)json_object_set_new(o, "failed_replies", json_null());
	(void)json_object_set_new(o, "capabilities", json_null());
	(void)json_object_set_new(o, "tls", json_null());
	(void)json_object_set_new(o, "delivered", json_null());
	(void)json_object_set_new(o, "message_id", json_null());
	(void)json_object_set_new(o, "size", json_null());
	(void)json_object_set_new(o, "accepted", json_null());
	(void)json_object_set_new(o, "refused", json_null());
	return o;
}
