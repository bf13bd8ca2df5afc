/*
 * `ehlo probe tls SERVER`: runs the TLS survey (protocol/tls_survey.c)
 * over STARTTLS, or implicit TLS with --tls, and prints which versions
 * and suites were accepted, whose order counts and every weak choice,
 * then a verdict as the other probes do.  --json prints one object.
 */
#include "tui/probe_tls.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/tls_survey.h"
#include "protocol/tlscheck.h"
#include "protocol/transport.h"
#include "tui/cli.h"
#include "tui/print.h"

/*
 * The probe's object (docs/schema.json's probe, as the other probes
 * print it) with the survey's offers, order and key; s is NULL when the
 * survey failed (err says why).
 */
static void
print_json(const char *server, const struct smtp_tls_survey *s, int nweak,
    int status, const char *err)
{
	json_t *o = print_json_object("probe"), *items = json_array(),
	       *ev = json_array(), *it;
	char line[160];
	size_t i;

	for (i = 0; s != NULL && i < s->nitems; i++) {
		it = json_pack("{s:s, s:s, s:b}", "name", s->items[i].name,
		    "kind",
		    s->items[i].kind == 0        ? "version"
		        : s->items[i].kind == 13 ? "tls1.3-suite"
		                                 : "cipher",
		    "accepted", s->items[i].accepted);
		(void)json_object_set_new(
		    it, "weak", print_json_str(s->items[i].weak));
		(void)json_array_append_new(items, it);
		if (s->items[i].accepted && s->items[i].weak != NULL) {
			(void)snprintf(line, sizeof line, "%s: %s",
			    s->items[i].name, s->items[i].weak);
			(void)json_array_append_new(ev, json_string(line));
		}
	}
	(void)json_object_set_new(o, "probe", json_string("tls"));
	(void)json_object_set_new(o, "server", print_json_str(server));
	(void)json_object_set_new(o, "verdict",
	    json_string(s == NULL ? "failed"
	            : nweak > 0   ? "PROBLEM"
	                          : "good"));
	if (s == NULL)
		(void)json_object_set_new(o, "summary", print_json_str(err));
	else {
		(void)snprintf(line, sizeof line, "%d weak choice%s", nweak,
		    nweak == 1 ? "" : "s");
		(void)json_object_set_new(o, "summary", json_string(line));
	}
	(void)json_object_set_new(o, "evidence", ev);
	(void)json_object_set_new(o, "meaning", json_null());
	(void)json_object_set_new(o, "offers", items);
	(void)json_object_set_new(o, "server_order",
	    s == NULL || s->server_order < 0 ? json_null()
	                                     : json_boolean(s->server_order));
	(void)json_object_set_new(o, "key",
	    s != NULL && s->have_cert
	        ? json_pack("{s:s, s:i, s:i}", "type", s->key_type, "bits",
	              s->key_bits, "days_left", (int)s->days_left)
	        : json_null());
	(void)json_object_set_new(o, "weak", json_integer(nweak));
	(void)json_object_set_new(o, "exit", json_integer(status));
	print_json_put(o);
}

/* How many of the key's and certificate's weaknesses apply. */
static int
key_weak(const struct smtp_tls_survey *s, int *small, int *soon)
{
	*small = s->have_cert && s->key_bits > 0 && s->key_bits < 2048 &&
	    strcmp(s->key_type, "RSA") == 0;
	*soon = s->have_cert && s->days_left <= SMTP_TLS_EXPIRY_WARN_DAYS;
	return *small + *soon;
}

/* Weak choices: accepted weak offers, a small key, expiry soon. */
static int
weak_count(const struct smtp_tls_survey *s)
{
	size_t i;
	int n, small, soon;

	n = key_weak(s, &small, &soon);
	for (i = 0; i < s->nitems; i++)
		n += s->items[i].weak != NULL;
	return n;
}

static void
survey_text(const struct smtp_tls_survey *s)
{
	static const char *const heads[] = {
	    "versions", "TLS 1.3 suites", "TLS 1.2 and older ciphers"};
	static const int kinds[] = {0, 13, 12};
	char days[64];
	size_t i, k;
	int any, small, soon;

	for (k = 0; k < 3; k++) {
		(void)printf("%s:\n", heads[k]);
		any = 0;
		for (i = 0; i < s->nitems; i++) {
			const struct smtp_tls_survey_item *it = &s->items[i];

			if (it->kind != kinds[k] || (!it->accepted && k > 0))
				continue;
			any = 1;
			(void)printf("  %-32s %s%s%s\n", it->name,
			    it->accepted ? "accepted" : "refused",
			    it->weak != NULL ? "  WEAK: " : "",
			    it->weak != NULL ? it->weak : "");
		}
		if (!any)
			(void)puts("  (none)");
	}
	(void)printf("order: %s\n",
	    s->server_order < 0 ? "not known (fewer than two TLS 1.2 ciphers)"
	        : s->server_order
	        ? "the server's own (it chose the same cipher whatever "
	          "the client preferred)"
	        : "the client's (the server takes the client's first "
	          "choice)");
	if (s->have_cert) {
		smtp_tls_days_text(s->days_left, days, sizeof days);
		(void)printf("key: %s %d bit; certificate %s\n", s->key_type,
		    s->key_bits, days);
		(void)key_weak(s, &small, &soon);
		if (small)
			(void)printf("  WEAK: RSA key under 2048 bits\n");
		if (soon)
			(void)printf("  WEAK: the certificate expires soon "
			             "(%s)\n",
			    days);
	}
}

int
probe_tls(const struct cli_opts *o, const char *server)
{
	struct smtp_tls_survey_opts so;
	struct smtp_tls_survey s;
	char *host = NULL, *port = NULL, *err = NULL, *helo;
	int status, nweak;

	if (smtp_server_parse(server, o->tls ? 465 : 25, &host, &port, &err) ==
	    -1) {
		status = cli_usage_error("%s", err);
		free(err);
		return status;
	}
	helo = o->helo != NULL ? xstrdup(o->helo) : cli_default_helo(o);
	memset(&so, 0, sizeof so);
	so.host = host;
	so.port = port;
	so.implicit = o->tls;
	so.helo = helo;
	so.sni = o->sni;
	so.timeout_ms = o->timeout_ms;
	if (!o->json)
		(void)printf("*: probe tls: one handshake per version and "
		             "cipher suite with %s\n",
		    server);
	if (smtp_tls_survey_run(&so, &s, &err) == -1) {
		(void)fprintf(stderr, "ehlo: probe tls: %s\n", err);
		status = EXIT_NETWORK;
		nweak = 0;
		if (o->json)
			print_json(server, NULL, nweak, status, err);
		else
			(void)printf("\nverdict: failed - %s\n", err);
		free(err);
	} else {
		nweak = weak_count(&s);
		if (!o->json)
			survey_text(&s);
		status = nweak > 0 ? EXIT_REPLY : EXIT_OK;
		if (o->json)
			print_json(server, &s, nweak, status, NULL);
		else
			(void)printf("\nverdict: %s - %d weak choice%s\n",
			    nweak > 0 ? "PROBLEM" : "good", nweak,
			    nweak == 1 ? "" : "s");
	}
	smtp_tls_survey_free(&s);
	free(helo);
	free(host);
	free(port);
	return status;
}
