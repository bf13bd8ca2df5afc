/*
 * What `ehlo check` prints: the plugin line of the monitoring-plugins
 * guidelines ("SMTP STATE - text | label=value[UOM];warn;crit;min;max
 * ...", one line), or the OpenMetrics text exposition a Prometheus
 * textfile collector or a Pushgateway reads (ending in "# EOF").
 *
 * Or one JSON object a target (--format json, docs/schema.json's
 * "check"), through tui/print_json.c like every --json output.
 *
 * Server text reaches none unescaped: check_text_add makes control
 * characters visible and replaces the characters that carry meaning in
 * a plugin line ('|' starts perfdata, ';' and '=' shape it), so a
 * greeting cannot forge a state, a threshold or a second line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"
#include "protocol/transport.h"
#include "tui/check.h"
#include "tui/print.h"

static const char *const check_state_names[] = {
    "OK", "WARNING", "CRITICAL", "UNKNOWN"};

const char *
check_state_name(int status)
{
	return status >= CHECK_OK && status <= CHECK_UNKNOWN
	    ? check_state_names[status]
	    : "UNKNOWN";
}

void
check_text_add(struct buf *b, const char *text, size_t len, size_t max)
{
	char *p = escape_dup(text, len);
	size_t n = strlen(p), i, cut = n;

	for (i = 0; i < n; i++)
		if (p[i] == '|' || p[i] == ';' || p[i] == '=' ||
		    (unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			p[i] = '_';
	if (n > max) {
		/* At the last space that keeps room for "...", else inside
		 * the word but never inside a UTF-8 sequence. */
		cut = max > 3 ? max - 3 : 0;
		for (i = cut; i > max / 2; i--)
			if (p[i] == ' ')
				break;
		if (i > max / 2)
			cut = i;
		else
			while (
			    cut > 0 && ((unsigned char)p[cut] & 0xc0) == 0x80)
				cut--;
	}
	(void)buf_add(b, p, cut);
	if (cut < n)
		(void)buf_add_str(b, "...");
	free(p);
}

/* " label=1.234567s;W;C;0" with the thresholds in seconds. */
static void
perf_seconds(struct buf *b, const char *label, double ms, double w, double c)
{
	if (ms < 0)
		return;
	(void)buf_add_printf(b, " %s=%.6fs;", label, ms / 1000);
	if (w >= 0)
		(void)buf_add_printf(b, "%g", w / 1000);
	(void)buf_add_str(b, ";");
	if (c >= 0)
		(void)buf_add_printf(b, "%g", c / 1000);
	(void)buf_add_str(b, ";0");
}

static double
phase_ms(const struct check_result *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nphases; i++)
		if (strcmp(r->phases[i].name, name) == 0)
			return r->phases[i].ms;
	return -1;
}

void
check_print_plugin(const struct check_opts *c, const struct check_result *r)
{
	const struct cli_opts *o = &c->o;
	struct buf pd;
	static const char *const timed[] = {"connect", "greeting", "tls"};
	char *msg, *p;
	size_t i;

	buf_init(&pd, 0);
	if (r->total_ms >= 0)
		perf_seconds(&pd, "time", r->total_ms, c->warn_ms, c->crit_ms);
	if (r->total_ms >= 0)
		for (i = 0; i < sizeof timed / sizeof timed[0]; i++)
			perf_seconds(
			    &pd, timed[i], phase_ms(r, timed[i]), -1, -1);
	if (r->have_cert) {
		(void)buf_add_printf(&pd, " cert_days=%ld;", r->cert_days);
		if (o->cert_days_warn >= 0)
			(void)buf_add_printf(&pd, "%ld", o->cert_days_warn);
		(void)buf_add_str(&pd, ";");
		if (o->cert_days_crit >= 0)
			(void)buf_add_printf(&pd, "%ld", o->cert_days_crit);
		(void)buf_add_str(&pd, ";;");
	}
	/* The message holds server text made safe already, and text from
	 * the command line (-C, -R, -f): no '|' or line break from it
	 * either. */
	msg = xstrdup(r->message);
	for (p = msg; *p != '\0'; p++)
		if (*p == '|' || (unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '_';
	(void)printf("SMTP %s - %s%s%.*s\n", check_state_name(r->status), msg,
	    buf_used(&pd) > 0 ? " |" : "", (int)buf_used(&pd), buf_peek(&pd));
	(void)fflush(stdout);
	buf_reset(&pd);
	free(msg);
}

void
check_print_json(const struct check_result *r)
{
	json_t *o = json_object(), *times = json_object();
	size_t i;
	int status = r->status >= CHECK_OK && r->status <= CHECK_UNKNOWN
	    ? r->status
	    : CHECK_UNKNOWN;

	(void)json_object_set_new(o, "schema", json_integer(1));
	(void)json_object_set_new(o, "type", json_string("check"));
	(void)json_object_set_new(
	    o, "status", json_string(check_state_name(status)));
	(void)json_object_set_new(o, "exit", json_integer(status));
	(void)json_object_set_new(o, "text",
	    print_json_text(r->message, r->message ? strlen(r->message) : 0));
	(void)json_object_set_new(o, "server", print_json_str(r->target));
	for (i = 0; i < r->nphases; i++)
		(void)json_object_set_new(times, r->phases[i].name,
		    r->phases[i].ms >= 0 ? json_real(r->phases[i].ms)
		                         : json_null());
	if (r->total_ms >= 0)
		(void)json_object_set_new(
		    times, "total", json_real(r->total_ms));
	if (json_object_size(times) > 0)
		(void)json_object_set_new(o, "times", times);
	else {
		json_decref(times);
		(void)json_object_set_new(o, "times", json_null());
	}
	(void)json_object_set_new(o, "certificate",
	    r->tls != NULL && r->tls->nchain > 0
	        ? print_json_cert(&r->tls->chain[0])
	        : json_null());
	(void)json_object_set_new(o, "tls",
	    r->tls != NULL && !r->tls->refused ? print_json_tls(r->tls)
	                                       : json_null());
	print_json_put(o);
	(void)fflush(stdout);
}

void
check_print(const struct check_opts *co, const struct check_result *r)
{
	if (co->json)
		check_print_json(r);
	else
		check_print_plugin(co, r);
}

/* A label value: backslash, double quote and newline escaped. */
static void
om_label(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			(void)buf_add_printf(b, "\\%c", *v);
		else if (*v == '\n')
			(void)buf_add_str(b, "\\n");
		else
			(void)buf_add(b, v, 1);
	}
}

static void
om_family(struct buf *b, const char *name, const char *type, const char *unit,
    const char *help)
{
	(void)buf_add_printf(b, "# TYPE %s %s\n", name, type);
	if (unit != NULL)
		(void)buf_add_printf(b, "# UNIT %s %s\n", name, unit);
	(void)buf_add_printf(b, "# HELP %s %s\n", name, help);
}

/* name{target="..."[,phase="..."]} */
static void
om_sample(
    struct buf *b, const char *name, const char *target, const char *phase)
{
	(void)buf_add_printf(b, "%s{target=\"", name);
	om_label(b, target);
	if (phase != NULL) {
		(void)buf_add_str(b, "\",phase=\"");
		om_label(b, phase);
	}
	(void)buf_add_str(b, "\"} ");
}

void
check_om_init(struct check_om *om)
{
	size_t i;

	for (i = 0; i < CHECK_OM_NFAMILIES; i++)
		buf_init(&om->fam[i], 0);
}

void
check_om_add(struct check_om *om, const struct check_result *r)
{
	struct buf *b;
	size_t i;

	b = &om->fam[CHECK_OM_UP];
	om_sample(b, "smtp_up", r->target, NULL);
	(void)buf_add_printf(
	    b, "%d\n", r->status == CHECK_OK || r->status == CHECK_WARNING);
	b = &om->fam[CHECK_OM_STATE];
	om_sample(b, "smtp_check_state", r->target, NULL);
	(void)buf_add_printf(b, "%d\n", r->status);
	b = &om->fam[CHECK_OM_DURATION];
	for (i = 0; i < r->nphases; i++) {
		if (r->phases[i].ms < 0)
			continue;
		om_sample(
		    b, "smtp_duration_seconds", r->target, r->phases[i].name);
		(void)buf_add_printf(b, "%.6f\n", r->phases[i].ms / 1000);
	}
	if (r->total_ms >= 0) {
		om_sample(b, "smtp_duration_seconds", r->target, "total");
		(void)buf_add_printf(b, "%.6f\n", r->total_ms / 1000);
	}
	b = &om->fam[CHECK_OM_CODE];
	for (i = 0; i < r->nphases; i++) {
		if (r->phases[i].code == 0)
			continue;
		om_sample(b, "smtp_reply_code", r->target, r->phases[i].name);
		(void)buf_add_printf(b, "%d\n", r->phases[i].code);
	}
	if (r->have_cert && r->cert_not_after != 0) {
		b = &om->fam[CHECK_OM_CERT];
		om_sample(b, "smtp_tls_cert_expiry_timestamp_seconds",
		    r->target, NULL);
		(void)buf_add_printf(b, "%lld\n", (long long)r->cert_not_after);
	}
}

void
check_om_print(struct check_om *om)
{
	static const struct {
		const char *name, *unit, *help;
		int always;
	} fams[CHECK_OM_NFAMILIES] = {
	    {"smtp_up", NULL,
	        "1 when the server greeted and the check is OK or WARNING.", 1},
	    {"smtp_check_state", NULL,
	        "The plugin state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.", 1},
	    {"smtp_duration_seconds", "seconds",
	        "Time of each phase of the check; phase total is the whole "
	        "check.",
	        1},
	    {"smtp_reply_code", NULL,
	        "The reply code the server gave at each step.", 1},
	    {"smtp_tls_cert_expiry_timestamp_seconds", "seconds",
	        "When the server's certificate expires (Unix time).", 0},
	};
	struct buf out;
	size_t i;

	buf_init(&out, 0);
	for (i = 0; i < CHECK_OM_NFAMILIES; i++) {
		if (!fams[i].always && buf_used(&om->fam[i]) == 0)
			continue;
		om_family(
		    &out, fams[i].name, "gauge", fams[i].unit, fams[i].help);
		(void)buf_add(
		    &out, buf_peek(&om->fam[i]), buf_used(&om->fam[i]));
		buf_reset(&om->fam[i]);
	}
	(void)buf_add_str(&out, "# EOF\n");
	(void)fwrite(buf_peek(&out), 1, buf_used(&out), stdout);
	(void)fflush(stdout);
	buf_reset(&out);
}
