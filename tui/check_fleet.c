/*
 * `ehlo check --targets FILE [--parallel N]`: a fleet of checks on one
 * event loop.  FILE holds one target a line: SERVER followed by options
 * of its own (split at blanks; '#' starts a comment line), which come
 * after the command line's, so a line can add -S or -D 30 or override
 * -w.  At most N checks (default 20) are connected at once; as each
 * ends, its line is printed and the next target starts, so memory
 * follows N, not the number of targets.  A summary line ends the output
 * (its state the worst of all: CRITICAL, then WARNING, then UNKNOWN);
 * with --format openmetrics the metrics of every target come as one
 * exposition instead (a family's samples must stay together, so they
 * are gathered first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/check.h"

#define FLEET_DEFAULT_PARALLEL 20

struct fleet_slot {
	struct check_opts co;
	char *line; /* the target's line, cut into argv's words */
	char **argv;
};

struct fleet {
	struct check_opts *base;
	int base_argc;
	char **base_argv; /* the command line without --targets/--parallel */
	FILE *in;
	unsigned long lineno;
	long counts[4];
	struct check_om om;
};

/* How bad a state is, for the worst of many. */
static int
state_rank(int status)
{
	static const int rank[] = {0, 2, 3, 1};

	return status >= 0 && status <= 3 ? rank[status] : 1;
}

static void
fleet_emit(
    struct fleet *f, const struct check_opts *co, const struct check_result *r)
{
	f->counts[r->status >= 0 && r->status <= 3 ? r->status : 3]++;
	if (f->base->openmetrics)
		check_om_add(&f->om, r);
	else if (f->base->json)
		check_print_json(r); /* the object names its server */
	else if (r->target[0] != '\0' &&
	    strstr(r->message, r->target) == NULL) {
		/* Among many lines, each names its target. */
		struct check_result named = *r;
		char *msg = xasprintf("%s: %s", r->target, r->message);

		named.message = msg;
		check_print_plugin(co, &named);
		free(msg);
	} else
		check_print_plugin(co, r);
}

static void
slot_free(struct fleet_slot *s)
{
	check_opts_free(&s->co);
	free(s->line);
	free(s->argv);
	memset(s, 0, sizeof *s);
}

/*
 * Reads the next target into s: 1 when one is ready to start, 0 at the
 * end of the file; a line that does not parse is reported (UNKNOWN) and
 * skipped.
 */
static int
fleet_next(struct fleet *f, struct fleet_slot *s)
{
	char *line = NULL, *p, *err = NULL;
	size_t cap = 0, n;
	int argc, rc;

	for (;;) {
		if (getline(&line, &cap, f->in) == -1) {
			free(line);
			return 0;
		}
		f->lineno++;
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '\n' || *p == '#')
			continue;
		/* The command line's options, then the line's words. */
		n = (size_t)f->base_argc + strlen(p) / 2 + 2;
		s->argv = xcalloc(n, sizeof *s->argv);
		for (argc = 0; argc < f->base_argc; argc++)
			s->argv[argc] = f->base_argv[argc];
		while (*p != '\0') {
			while (
			    *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
				*p++ = '\0';
			if (*p == '\0')
				break;
			s->argv[argc++] = p;
			while (*p != '\0' && *p != ' ' && *p != '\t' &&
			    *p != '\r' && *p != '\n')
				p++;
		}
		s->line = line;
		line = NULL;
		cap = 0;
		rc = check_opts_parse(argc, s->argv, &s->co, &err);
		if (rc == 0 && s->co.targets != NULL) {
			err = xstrdup("--targets inside a targets file");
			rc = -1;
		}
		if (rc == 0) {
			if (s->co.auth_pass == NULL &&
			    f->base->auth_pass != NULL)
				s->co.auth_pass = xstrdup(f->base->auth_pass);
			return 1;
		}
		{
			struct check_result r;
			struct buf t;

			memset(&r, 0, sizeof r);
			buf_init(&t, 0);
			(void)buf_add_printf(
			    &t, "%s line %lu: ", f->base->targets, f->lineno);
			check_text_add(&t,
			    err != NULL ? err
			                : "--help is no "
			                  "target",
			    strlen(err != NULL ? err : "--help is no target"),
			    400);
			(void)buf_add(&t, "", 1);
			r.status = CHECK_UNKNOWN;
			r.target = "";
			r.message = buf_peek(&t);
			r.total_ms = -1;
			if (argc > f->base_argc &&
			    s->argv[f->base_argc][0] != '-')
				r.target = s->argv[f->base_argc];
			fleet_emit(f, f->base, &r);
			buf_reset(&t);
		}
		free(err);
		err = NULL;
		slot_free(s);
	}
}

/* Enough descriptors for parallel connections (each may add a few). */
static void
fleet_raise_fd_limit(long parallel)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)parallel * 2 + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The command line without --targets FILE and --parallel N. */
static char **
base_args(int argc, char *argv[], int *out_argc)
{
	char **v = xcalloc((size_t)argc + 1, sizeof *v);
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "--targets") == 0 ||
		        strcmp(argv[i], "--parallel") == 0) &&
		    i + 1 < argc) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "--targets=", 10) == 0 ||
		    strncmp(argv[i], "--parallel=", 11) == 0)
			continue;
		v[n++] = argv[i];
	}
	*out_argc = n;
	return v;
}

static void
fleet_summary(const struct fleet *f, int worst, double secs)
{
	long total = f->counts[0] + f->counts[1] + f->counts[2] + f->counts[3];

	(void)printf("SMTP %s - %ld target%s: %ld OK, %ld WARNING, %ld "
	             "CRITICAL, %ld UNKNOWN in %.3f s | targets=%ld;;;0 "
	             "ok=%ld;;;0 warning=%ld;;;0 critical=%ld;;;0 "
	             "unknown=%ld;;;0 time=%.6fs;;;0\n",
	    check_state_name(worst), total, total == 1 ? "" : "s", f->counts[0],
	    f->counts[1], f->counts[2], f->counts[3], secs, total, f->counts[0],
	    f->counts[1], f->counts[2], f->counts[3], secs);
}

int
check_fleet(struct check_opts *base, int argc, char *argv[])
{
	struct fleet f;
	struct fleet_slot *slots;
	struct check_run **runs;
	struct loop *loop;
	long parallel =
	    base->parallel > 0 ? base->parallel : FLEET_DEFAULT_PARALLEL;
	uint64_t t0 = loop_now_us();
	int eof = 0, active, worst = CHECK_OK, i;

	memset(&f, 0, sizeof f);
	f.base = base;
	f.in =
	    strcmp(base->targets, "-") == 0 ? stdin : fopen(base->targets, "r");
	if (f.in == NULL) {
		struct check_result r;
		char *why = xasprintf("--targets: cannot read %s: %s",
		    base->targets, strerror(errno));

		memset(&r, 0, sizeof r);
		r.status = CHECK_UNKNOWN;
		r.target = "";
		r.message = why;
		r.total_ms = -1;
		check_print(base, &r);
		free(why);
		return CHECK_UNKNOWN;
	}
	f.base_argv = base_args(argc, argv, &f.base_argc);
	check_om_init(&f.om);
	fleet_raise_fd_limit(parallel);
	slots = xcalloc((size_t)parallel, sizeof *slots);
	/* An array of pointers: the size of one pointer is meant. */
	runs = xcalloc((size_t)parallel,
	    sizeof *runs); /* NOLINT(bugprone-sizeof-expression) */
	loop = loop_new();
	for (;;) {
		for (i = 0; i < parallel && !eof; i++)
			if (runs[i] == NULL) {
				if (fleet_next(&f, &slots[i]) == 0)
					eof = 1;
				else
					runs[i] =
					    check_run_start(loop, &slots[i].co);
			}
		active = 0;
		for (i = 0; i < parallel; i++)
			active |= runs[i] != NULL;
		if (!active)
			break;
		check_runs_turn(loop, runs, (size_t)parallel);
		for (i = 0; i < parallel; i++) {
			const struct check_result *r;

			if (runs[i] == NULL || !check_run_done(runs[i]))
				continue;
			r = check_run_result(runs[i]);
			fleet_emit(&f, &slots[i].co, r);
			check_run_free(runs[i]);
			runs[i] = NULL;
			slot_free(&slots[i]);
		}
	}
	for (i = 0; i < 4; i++)
		if (f.counts[i] > 0 && state_rank(i) > state_rank(worst))
			worst = i;
	if (base->openmetrics)
		check_om_print(&f.om);
	else if (!base->json) /* JSON: an object a target, no summary */
		fleet_summary(&f, worst, (double)(loop_now_us() - t0) / 1e6);
	loop_free(loop);
	free(runs);
	free(slots);
	free(f.base_argv);
	if (f.in != stdin)
		(void)fclose(f.in);
	return worst;
}
