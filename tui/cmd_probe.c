/*
 * `ehlo probe NAME SERVER`: one diagnostic probe (protocol/probe.h).
 * Prints the dialogue as it happens (C:, S:, *: lines, as line mode),
 * then the verdict, the evidence (the exact dialogue lines that decided
 * it) and what it means.  --json prints one object instead.  Exit 0 for
 * a good or neutral verdict, 1 when a problem was found, 2 for bad
 * usage, 3 when the server could not be probed (network, TLS, timeout).
 * No probe ever sends DATA: nothing is delivered.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "protocol/probe.h"
#include "tui/cli.h"
#include "tui/print.h"
#include "tui/hostprobe.h"
#include "tui/probe_tls.h"

#define PROBE_WRAP 76

static void
print_line(const char *prefix, const char *p, size_t n)
{
	struct buf b;

	buf_init(&b, 0);
	(void)buf_add_str(&b, prefix);
	(void)escape_append(&b, p, n);
	(void)buf_add(&b, "\n", 1);
	(void)fwrite(buf_peek(&b), 1, buf_used(&b), stdout);
	buf_reset(&b);
}

static void
on_event(const struct smtp_event *ev, void *arg)
{
	const int *json = arg;

	if (*json)
		return;
	switch (ev->type) {
	case SMTP_EV_SENT:
		print_line("C: ", ev->text, ev->len);
		break;
	case SMTP_EV_LINE:
		print_line("S: ", ev->text, ev->len);
		break;
	case SMTP_EV_NOTE:
		print_line("*: ", ev->text, ev->len);
		break;
	case SMTP_EV_WARNING:
		print_line("*: warning: ", ev->text, ev->len);
		break;
	case SMTP_EV_FAILURE:
		print_line("*: error: ", ev->text, ev->len);
		break;
	default:
		break;
	}
	(void)fflush(stdout);
}

/* Prints text wrapped at PROBE_WRAP columns, each line after indent. */
static void
print_wrapped(const char *indent, const char *text)
{
	const char *p = text, *sp;
	size_t col = 0, w;

	(void)fputs(indent, stdout);
	while (*p != '\0') {
		sp = strchr(p, ' ');
		w = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (col > 0 && col + 1 + w > PROBE_WRAP - strlen(indent)) {
			(void)printf("\n%s", indent);
			col = 0;
		} else if (col > 0) {
			(void)fputc(' ', stdout);
			col++;
		}
		(void)fwrite(p, 1, w, stdout);
		col += w;
		p += w;
		while (*p == ' ')
			p++;
	}
	(void)fputc('\n', stdout);
}

static void
list_probes(FILE *f)
{
	const struct smtp_probe_info *pi;

	(void)fputs("probes:\n", f);
	for (pi = smtp_probes; pi->name != NULL; pi++)
		(void)fprintf(f, "  %-18s %s\n", pi->name, pi->question);
}

static int
usage_help(void)
{
	(void)puts(
	    "usage: ehlo probe NAME SERVER [--tls|--starttls] "
	    "[--auth MECH --user NAME] [--insecure]\n"
	    "                  [--cafile FILE] [--helo NAME] "
	    "[--timeout SECONDS] [--from ADDRESS]\n"
	    "                  [--to ADDRESS] [--json]\n"
	    "Runs one diagnostic probe; none ever sends DATA, so "
	    "nothing is delivered.\n"
	    "--from: the sender used for MAIL (default: the null "
	    "sender <>); --to: relay: the\n"
	    "foreign recipient; vrfy-expn: an address that exists "
	    "(default postmaster).\n"
	    "--starttls, --auth: each connection is upgraded and logged "
	    "in first (the secret from\n"
	    "EHLO_PASSWORD or asked for), so size and relay can be "
	    "probed on submission ports.\n"
	    "A step refused for a reason other than what the probe "
	    "tests gives \"inconclusive\".\n"
	    "Exit: 0 good, neutral or inconclusive, 1 problem found, 2 bad usage, 3 "
	    "network failure.");
	list_probes(stdout);
	return EXIT_OK;
}

/* The smuggling probe's variants: name, outcome, code, enhanced. */
static json_t *
smuggle_json(const struct smtp_probe_result *r)
{
	json_t *a = json_array(), *v;
	const struct smtp_smuggle_fact *f;
	size_t i;

	for (i = 0; i < SMTP_SMUGGLE_NVARIANTS; i++) {
		f = &r->facts.smuggle[i];
		v = json_object();
		(void)json_object_set_new(
		    v, "name", json_string(smtp_smuggle_variants[i].name));
		(void)json_object_set_new(v, "outcome",
		    json_string(smtp_smuggle_outcome_name(f->outcome)));
		(void)json_object_set_new(v, "code",
		    f->code > 0 ? json_integer(f->code) : json_null());
		(void)json_object_set_new(
		    v, "enhanced", print_json_str(f->enhanced));
		(void)json_array_append_new(a, v);
	}
	return a;
}

static void
print_json(const char *name, const char *server,
    const struct smtp_probe_result *r, int status)
{
	json_t *o = print_json_object("probe"), *ev = json_array();
	size_t i;

	for (i = 0; i < r->nevidence; i++)
		(void)json_array_append_new(ev, print_json_str(r->evidence[i]));
	(void)json_object_set_new(o, "probe", json_string(name));
	(void)json_object_set_new(o, "server", print_json_str(server));
	(void)json_object_set_new(
	    o, "verdict", json_string(smtp_probe_verdict_name(r->verdict)));
	(void)json_object_set_new(o, "summary", print_json_str(r->summary));
	(void)json_object_set_new(o, "evidence", ev);
	(void)json_object_set_new(o, "meaning", print_json_str(r->meaning));
	if (strcmp(name, "smuggling") == 0)
		(void)json_object_set_new(o, "variants", smuggle_json(r));
	(void)json_object_set_new(o, "exit", json_integer(status));
	print_json_put(o);
}

static int
run_probe(const struct cli_opts *o, const char *name, const char *server)
{
	struct hostprobe_cbs cbs;
	struct hostprobe *hp;
	struct smtp_probe_result res, *r = &res;
	struct loop *loop;
	char *err = NULL, *esc;
	size_t i;
	int status, json = o->json;

	memset(&cbs, 0, sizeof cbs);
	cbs.event = on_event;
	cbs.arg = &json;
	loop = loop_new();
	hp = hostprobe_start(loop, o, name, server, &cbs, &err);
	if (hp == NULL) {
		status = cli_usage_error("%s", err);
		free(err);
		goto out;
	}
	if (!o->json)
		(void)printf(
		    "*: probe %s: %s\n", name, smtp_probe_find(name)->question);
	hostprobe_run(hp);
	hostprobe_result(hp, r);
	hostprobe_free(hp);
	status = r->verdict == SMTP_PROBE_PROBLEM ? EXIT_REPLY
	    : r->verdict == SMTP_PROBE_FAILED     ? EXIT_NETWORK
	                                          : EXIT_OK;
	if (o->json)
		print_json(name, server, r, status);
	else {
		esc = escape_dup(r->summary, strlen(r->summary));
		(void)printf("\nverdict: %s - %s\n",
		    smtp_probe_verdict_name(r->verdict), esc);
		free(esc);
		if (r->nevidence > 0)
			(void)puts("evidence:");
		for (i = 0; i < r->nevidence; i++)
			(void)printf("  %s\n", r->evidence[i]);
		(void)puts("meaning:");
		print_wrapped("  ", r->meaning);
	}
	(void)fflush(stdout);
	smtp_probe_result_free(r);
out:
	loop_free(loop);
	return status;
}

int
cmd_probe(int argc, char *argv[])
{
	struct cli_opts o;
	int rc;

	rc = cli_parse(argc, argv, CLI_O_CONN | CLI_O_JSON | CLI_O_SEND, &o);
	if (rc != 0) {
		cli_opts_free(&o);
		return rc == 1 ? usage_help() : EXIT_USAGE;
	}
	if (o.nargs == 1 && o.cfg_server != NULL) {
		o.args = xreallocarray(o.args, 2, sizeof *o.args);
		o.args[o.nargs++] = (char *)o.cfg_server;
	}
	/* The plain-text probes set their own TLS and never authenticate:
	 * an account's settings are not theirs. */
	if (o.nargs >= 1 &&
	    (strcmp(o.args[0], "starttls-required") == 0 ||
	        strcmp(o.args[0], "auth-before-tls") == 0))
		cli_config_forget(&o, CLI_CFG_AUTH | CLI_CFG_TLS_MODE);
	if (o.no_starttls || o.cc.n > 0 || o.bcc.n > 0 || o.attach.n > 0 ||
	    o.header.n > 0 || o.subject != NULL || o.body != NULL ||
	    o.draft != NULL || o.partial || o.to.n > 1 || o.eml != NULL ||
	    o.rcpts_from_headers || o.dry_run || o.xclient.n > 0) {
		cli_opts_free(&o);
		return cli_usage_error(
		    "ehlo probe takes NAME SERVER and only --tls, --starttls, "
		    "--auth, --user, --insecure, --cafile, --helo, --timeout, "
		    "--json, --from, one --to and the network path (--socks, "
		    "--source, -4, -6, --proxy-header)");
	}
	if (o.nargs >= 1 && (o.starttls || o.auth != NULL) &&
	    (strcmp(o.args[0], "starttls-required") == 0 ||
	        strcmp(o.args[0], "auth-before-tls") == 0)) {
		rc = cli_usage_error(
		    "the %s probe tests the plain-text session, so it takes "
		    "neither --starttls nor --auth",
		    o.args[0]);
		cli_opts_free(&o);
		return rc;
	}
	if (o.nargs != 2 || smtp_probe_find(o.args[0]) == NULL) {
		if (o.nargs >= 1 && smtp_probe_find(o.args[0]) == NULL)
			(void)fprintf(
			    stderr, "ehlo: unknown probe \"%s\"\n", o.args[0]);
		else
			(void)fputs("ehlo: ehlo probe needs a NAME and a "
			            "SERVER\n",
			    stderr);
		list_probes(stderr);
		cli_opts_free(&o);
		return EXIT_USAGE;
	}
	rc = strcmp(o.args[0], "tls") == 0
	    ? probe_tls(&o, o.args[1])
	    : run_probe(&o, o.args[0], o.args[1]);
	cli_opts_free(&o);
	return rc;
}
