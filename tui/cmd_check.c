/*
 * `ehlo check`: a monitoring check in the monitoring-plugins convention
 * (the one check_smtp follows): one line "SMTP STATE - text | perfdata"
 * and exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; or the same facts as
 * OpenMetrics (--format openmetrics) or JSON (--format json); or a fleet (--targets FILE).  The
 * rooms: check_opts.c (options), check_run.c (the conversation and
 * verdict), check_output.c (printing), check_fleet.c (many at once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/loop.h"
#include "tui/check.h"

/* A usage error: one UNKNOWN result in the format asked for. */
static int
unknown(const struct check_opts *co, const char *why)
{
	struct check_result r;

	memset(&r, 0, sizeof r);
	r.status = CHECK_UNKNOWN;
	r.target = "";
	r.message = why;
	r.total_ms = -1;
	if (co->openmetrics) {
		struct check_om om;

		(void)fprintf(stderr, "ehlo check: %s\n", why);
		check_om_init(&om);
		check_om_add(&om, &r);
		check_om_print(&om);
	} else
		check_print(co, &r);
	return CHECK_UNKNOWN;
}

/* One check, the usual way. */
static int
run_check(struct check_opts *co)
{
	struct loop *loop = loop_new();
	struct check_run *run = check_run_start(loop, co);
	const struct check_result *r;
	int status;

	while (!check_run_done(run))
		check_runs_turn(loop, &run, 1);
	r = check_run_result(run);
	if (co->openmetrics) {
		struct check_om om;

		check_om_init(&om);
		check_om_add(&om, r);
		check_om_print(&om);
	} else
		check_print(co, r);
	status = r->status;
	check_run_free(run);
	loop_free(loop);
	return status;
}

int
cmd_check(int argc, char *argv[])
{
	struct check_opts co;
	char *err = NULL;
	int rc;

	rc = check_opts_parse(argc, argv, &co, &err);
	if (rc == 1) {
		check_opts_free(&co);
		(void)puts(check_opts_help);
		return CHECK_OK;
	}
	if (rc == -1) {
		struct buf t;

		buf_init(&t, 0);
		check_text_add(&t, err, strlen(err), 400);
		(void)buf_add_str(&t, " (usage: ehlo check --help)");
		(void)buf_add(&t, "", 1);
		(void)unknown(&co, buf_peek(&t));
		buf_reset(&t);
		free(err);
		check_opts_free(&co);
		return CHECK_UNKNOWN;
	}
	rc = co.targets != NULL ? check_fleet(&co, argc, argv) : run_check(&co);
	check_opts_free(&co);
	return rc;
}
