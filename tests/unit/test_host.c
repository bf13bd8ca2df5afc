/*
 * Unit tests for the session host (tui/host.c) and the probe runner on
 * it (tui/hostprobe.c), against the practice server running in-process
 * on the same loop (as the workbench runs it): the outcome of a session
 * (ok, failed with the last 5xx, temporary failure with the last 4xx, a
 * reply the front end expected, a connection refused, a signal), a host
 * that connects a second time, a probe run and a probe cancelled, and
 * the words a recorded outcome is listed with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/practice.h"
#include "tui/cli.h"
#include "tui/histcmd.h"
#include "tui/host.h"
#include "tui/hostprobe.h"
#include "tui/linemode.h"

#define GUARD_MS 10000

struct fx {
	struct loop *loop;
	struct practice *p;
	char dir[64];
	struct cli_opts o;
};

static struct fx fx;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

static int
setup(void **state)
{
	struct practice_opts po;
	char *err = NULL;

	(void)state;
	memset(&fx, 0, sizeof fx);
	(void)snprintf(fx.dir, sizeof fx.dir, "/tmp/ehlo-host-XXXXXX");
	if (mkdtemp(fx.dir) == NULL)
		return -1;
	fx.loop = loop_new();
	memset(&po, 0, sizeof po);
	po.listen = "127.0.0.1:0";
	po.datadir = fx.dir;
	po.quiet = 1;
	fx.p = practice_new(fx.loop, &po, &err);
	if (fx.p == NULL) {
		print_error("practice_new: %s\n", err);
		free(err);
		return -1;
	}
	fx.o.server = practice_address(fx.p);
	fx.o.helo = "client.test";
	fx.o.no_history = 1;
	fx.o.timeout_ms = 5000;
	fx.o.limit = -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	practice_free(fx.p);
	loop_free(fx.loop);
	(void)nftw(fx.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* ---- a scripted front end ------------------------------------------- */

struct drv {
	const char *const *lines; /* NULL-terminated */
	size_t next;
	int expect_code; /* a reply with this code was expected */
	int abort_signo; /* after the lines: this signal, not QUIT */
	int guard_hit;
};

static void
drv_event(struct host *h, const struct smtp_event *ev, void *arg)
{
	struct drv *d = arg;

	if (ev->type == SMTP_EV_REPLY && ev->reply->code == d->expect_code)
		host_reply_expected(h);
}

static void
drv_step(struct host *h, void *arg)
{
	struct drv *d = arg;
	struct smtp_client *c = host_client(h);
	struct smtp_session *s = host_session(h);
	const char *line;
	char *err = NULL;

	if (smtp_client_is_closed(c)) {
		host_stop(h);
		return;
	}
	if (smtp_client_is_busy(c) || smtp_session_quit_sent(s) ||
	    smtp_session_state(s) == SMTP_STATE_CONNECTING ||
	    smtp_session_state(s) == SMTP_STATE_GREETING)
		return;
	line = d->lines[d->next];
	if (line == NULL && d->abort_signo != 0) {
		host_abort(h, d->abort_signo);
		return;
	}
	if (line == NULL)
		line = "QUIT";
	else
		d->next++;
	assert_int_equal(smtp_client_send(c, line, strlen(line), &err), 0);
}

static void
on_guard(void *arg)
{
	struct drv *d = arg;

	d->guard_hit = 1;
	loop_stop(fx.loop);
}

/* Runs one session on h; returns its exit status and fills *r. */
static int
run_on(struct host *h, struct drv *d, const char *server, struct host_result *r)
{
	char *err = NULL;
	uint64_t guard;
	int status, rc;

	guard = loop_timer_add(fx.loop, GUARD_MS, on_guard, d);
	rc = host_connect(h, server, &err);
	free(err);
	assert_int_not_equal(rc, -1);
	if (rc == 0)
		host_run(h);
	loop_timer_del(fx.loop, guard);
	assert_false(d->guard_hit);
	status = host_exit_status(h);
	host_result(h, status, r);
	host_end(h, status);
	return status;
}

static int
run_lines(struct drv *d, const char *server, struct host_result *r)
{
	struct host_cbs cbs = {.event = drv_event, .step = drv_step};
	struct host *h;
	int status;

	cbs.arg = d;
	h = host_new(fx.loop, &fx.o, 0, &cbs);
	status = run_on(h, d, server, r);
	host_free(h);
	return status;
}

static const char *const to_alice[] = {"EHLO client.test",
    "MAIL FROM:<a@example.test>", "RCPT TO:<alice@practice.test>", NULL};
static const char *const to_unknown[] = {"EHLO client.test",
    "MAIL FROM:<a@example.test>", "RCPT TO:<unknown@practice.test>", NULL};
static const char *const to_tempfail[] = {"EHLO client.test",
    "MAIL FROM:<a@example.test>", "RCPT TO:<tempfail@practice.test>", NULL};

static void
test_outcome_ok(void **state)
{
	struct drv d = {.lines = to_alice};
	struct host_result r;

	(void)state;
	assert_int_equal(run_lines(&d, NULL, &r), EXIT_OK);
	assert_int_equal(r.outcome, HOST_OUTCOME_OK);
	assert_int_equal(r.code, 0);
}

static void
test_outcome_failed_with_the_last_5xx(void **state)
{
	struct drv d = {.lines = to_unknown};
	struct host_result r;

	(void)state;
	assert_int_equal(run_lines(&d, NULL, &r), EXIT_REPLY);
	assert_int_equal(r.outcome, HOST_OUTCOME_FAILED);
	assert_int_equal(r.code, 550);
	assert_string_equal(r.enhanced, "5.1.1");
}

static void
test_outcome_tempfail_with_the_last_4xx(void **state)
{
	struct drv d = {.lines = to_tempfail};
	struct host_result r;

	(void)state;
	/* EX_TEMPFAIL, so a caller retries (issue 17). */
	assert_int_equal(run_lines(&d, NULL, &r), EXIT_TEMPFAIL);
	assert_int_equal(r.outcome, HOST_OUTCOME_TEMPFAIL);
	assert_int_equal(r.code, 451);
	assert_string_equal(r.enhanced, "4.3.0");
}

static void
test_outcome_expected_reply_is_not_a_failure(void **state)
{
	struct drv d = {.lines = to_unknown, .expect_code = 550};
	struct host_result r;

	(void)state;
	assert_int_equal(run_lines(&d, NULL, &r), EXIT_OK);
	assert_int_equal(r.outcome, HOST_OUTCOME_OK);
}

static void
test_outcome_network(void **state)
{
	struct drv d = {.lines = to_alice};
	struct host_result r;
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	char server[64];
	int fd;

	(void)state;
	/* A port nobody listens on: bound, then closed. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	(void)close(fd);
	(void)snprintf(
	    server, sizeof server, "127.0.0.1:%d", ntohs(sa.sin_port));
	assert_int_equal(run_lines(&d, server, &r), EXIT_NETWORK);
	assert_int_equal(r.outcome, HOST_OUTCOME_NETWORK);
	assert_int_equal(r.category, SMTP_FAIL_CONNECT);
}

static void
test_outcome_aborted(void **state)
{
	struct drv d = {.lines = to_alice, .abort_signo = SIGTERM};
	struct host_result r;

	(void)state;
	assert_int_equal(run_lines(&d, NULL, &r), 128 + SIGTERM);
	assert_int_equal(r.outcome, HOST_OUTCOME_ABORTED);
	assert_int_equal(r.signo, SIGTERM);
}

/* One host, two sessions: the second starts with a clean outcome. */
static void
test_reconnect_resets_the_outcome(void **state)
{
	struct drv d1 = {.lines = to_unknown}, d2 = {.lines = to_alice};
	struct host_cbs cbs = {.event = drv_event, .step = drv_step};
	struct host_result r;
	struct host *h;

	(void)state;
	cbs.arg = &d1;
	h = host_new(fx.loop, &fx.o, 0, &cbs);
	assert_int_equal(run_on(h, &d1, NULL, &r), EXIT_REPLY);
	/* The driver's state is the callback argument: swap it in. */
	d1 = d2;
	assert_int_equal(run_on(h, &d1, NULL, &r), EXIT_OK);
	assert_int_equal(r.outcome, HOST_OUTCOME_OK);
	host_free(h);
}

/* ---- probes in-process -------------------------------------------- */

struct pr {
	struct hostprobe *hp;
	int events, done, connections;
	enum smtp_probe_verdict verdict;
	int cancel_on_greeting;
};

static void
on_cancel(void *arg)
{
	struct pr *p = arg;

	hostprobe_cancel(p->hp);
}

static void
pr_event(const struct smtp_event *ev, void *arg)
{
	struct pr *p = arg;

	p->events++;
	if (ev->type == SMTP_EV_NOTE && ev->len >= 12 &&
	    memcmp(ev->text, "connected to", 12) == 0)
		p->connections++;
	/* As a Ctrl-C would: from the loop, not inside the event. */
	if (p->cancel_on_greeting && ev->type == SMTP_EV_REPLY &&
	    ev->reply->code == 220)
		(void)loop_timer_add(fx.loop, 0, on_cancel, p);
}

static void
pr_done(const struct smtp_probe_result *r, void *arg)
{
	struct pr *p = arg;

	p->done++;
	p->verdict = r->verdict;
}

static void
run_probe(struct pr *p, const char *name)
{
	struct hostprobe_cbs cbs = {.event = pr_event, .done = pr_done};
	struct drv guard_arg = {0};
	uint64_t guard;
	char *err = NULL;

	cbs.arg = p;
	p->hp = hostprobe_start(fx.loop, &fx.o, name, NULL, &cbs, &err);
	assert_non_null(p->hp);
	guard = loop_timer_add(fx.loop, GUARD_MS, on_guard, &guard_arg);
	hostprobe_run(p->hp);
	loop_timer_del(fx.loop, guard);
	assert_false(guard_arg.guard_hit);
	assert_true(hostprobe_is_done(p->hp));
	hostprobe_free(p->hp);
}

static void
test_probe_in_process(void **state)
{
	struct pr p = {0};

	(void)state;
	run_probe(&p, "pipelining");
	assert_int_equal(p.done, 1);
	assert_int_equal(p.connections, 2); /* the early talker's too */
	assert_int_not_equal(p.verdict, SMTP_PROBE_FAILED);
}

static void
test_probe_cancelled(void **state)
{
	struct pr p = {.cancel_on_greeting = 1};

	(void)state;
	run_probe(&p, "pipelining");
	assert_int_equal(p.done, 1);
	assert_int_equal(p.connections, 1); /* no second connection */
	assert_int_equal(p.verdict, SMTP_PROBE_FAILED);
}

static void
test_probe_bad_name(void **state)
{
	char *err = NULL;

	(void)state;
	assert_null(hostprobe_start(fx.loop, &fx.o, "data", NULL, NULL, &err));
	assert_non_null(strstr(err, "unknown probe"));
	free(err);
}

/* ---- line mode in-process (a replay in the workbench) --------------- */

struct lr {
	struct linemode *l;
	int events, errors, done, status;
	int64_t id;
	int cancel_on_greeting;
};

static void
lr_cancel(void *arg)
{
	struct lr *r = arg;

	linemode_cancel(r->l);
}

static void
lr_event(const struct smtp_event *ev, void *arg)
{
	struct lr *r = arg;

	r->events++;
	if (r->cancel_on_greeting && ev->type == SMTP_EV_REPLY &&
	    ev->reply->code == 220)
		(void)loop_timer_add(fx.loop, 0, lr_cancel, r);
}

static void
lr_error(const char *msg, void *arg)
{
	struct lr *r = arg;

	(void)msg;
	r->errors++;
}

static void
lr_done(int status, int64_t id, void *arg)
{
	struct lr *r = arg;

	r->done++;
	r->status = status;
	r->id = id;
	loop_stop(fx.loop); /* the front end's loop, here the test's */
}

/* The front end's before-sleep hook: the run's turn. */
static void
lr_hook(void *arg)
{
	struct lr *r = arg;

	if (!linemode_is_done(r->l))
		linemode_before_sleep(r->l);
}

static void run_script_on(
    struct lr *, const struct cli_opts *, struct hist *, const char *, int64_t);

static void
run_script(struct lr *r, struct hist *h, const char *script)
{
	run_script_on(r, &fx.o, h, script, 0);
}

static void
run_script_on(struct lr *r, const struct cli_opts *o, struct hist *h,
    const char *script, int64_t replay_of)
{
	struct linemode_cbs cbs = {
	    .event = lr_event, .error = lr_error, .done = lr_done};
	struct drv guard_arg = {0};
	uint64_t guard;
	char *err = NULL;

	cbs.arg = r;
	r->l = linemode_start(
	    fx.loop, o, h, script, strlen(script), replay_of, &cbs, &err);
	assert_non_null(r->l);
	loop_set_before_sleep(fx.loop, lr_hook, r);
	guard = loop_timer_add(fx.loop, GUARD_MS, on_guard, &guard_arg);
	(void)loop_run(fx.loop); /* lr_done stops it */
	loop_timer_del(fx.loop, guard);
	loop_set_before_sleep(fx.loop, NULL, NULL);
	assert_false(guard_arg.guard_hit);
	assert_true(linemode_is_done(r->l));
	linemode_free(r->l);
}

/* As /replay would: the recorded session's client side, again. */
static void
replay_in_process(struct hist *h, const struct hist_session *hs)
{
	struct histcmd_events es;
	struct hist_session *again;
	struct cli_opts o = fx.o;
	struct lr r = {0};
	char *script, *server, *err = NULL;
	size_t len;

	assert_int_equal(histcmd_events_load(h, hs->id, &es, &err), 0);
	script = histcmd_replay_script(h, hs, &es, &len, NULL, &err);
	assert_non_null(script);
	assert_non_null(strstr(script, "RCPT TO:<unknown@practice.test>"));
	server = histcmd_replay_target(hs, &es, NULL, &o);
	assert_string_equal(o.server, fx.o.server);
	run_script_on(&r, &o, h, script, hs->id);
	assert_int_equal(r.status, EXIT_REPLY);
	again = hist_session_get(h, r.id, &err);
	assert_non_null(again);
	assert_int_equal(again->replay_of, hs->id);
	assert_int_equal(again->exit_status, EXIT_REPLY);
	hist_session_free(again);
	free(server);
	free(script);
	histcmd_events_free(&es);
}

static const char script_550[] = "EHLO client.test\n"
                                 "MAIL FROM:<a@example.test>\n"
                                 "RCPT TO:<unknown@practice.test>\n";

static void
test_linemode_in_process(void **state)
{
	struct lr r = {0};
	struct hist *h;
	struct hist_session *hs;
	char path[128], *err = NULL;

	(void)state;
	(void)snprintf(path, sizeof path, "%s/ehlo.db", fx.dir);
	h = hist_open(path, 0, &err);
	assert_non_null(h);
	run_script(&r, h, script_550);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.status, EXIT_REPLY);
	assert_true(r.events > 5);
	assert_true(r.id > 0);
	hs = hist_session_get(h, r.id, &err);
	assert_non_null(hs);
	assert_int_equal(hs->exit_status, EXIT_REPLY);
	replay_in_process(h, hs);
	hist_session_free(hs);
	/* /expect is line mode's: the same 550 expected is a success. */
	memset(&r, 0, sizeof r);
	run_script(&r, NULL,
	    "EHLO client.test\nMAIL FROM:<a@example.test>\n"
	    "RCPT TO:<unknown@practice.test>\n/expect 550\n");
	assert_int_equal(r.status, EXIT_OK);
	assert_int_equal(r.errors, 0);
	/* A failing /expect is an error of the script, reported. */
	memset(&r, 0, sizeof r);
	run_script(&r, NULL, "EHLO client.test\n/expect 5xx\n");
	assert_int_equal(r.status, EXIT_REPLY);
	assert_int_equal(r.errors, 1);
	hist_close(h);
}

static void
test_linemode_cancelled(void **state)
{
	struct lr r = {.cancel_on_greeting = 1};

	(void)state;
	run_script(&r, NULL, script_550);
	assert_int_equal(r.done, 1);
	assert_int_equal(r.status, 128 + SIGINT);
	assert_int_equal(r.errors, 1); /* "interrupted by Ctrl-C" */
}

/* ---- the words of a recorded outcome ------------------------------- */

static void
test_outcome_words(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(host_outcome_words(0, 0, NULL, b, sizeof b), "ok");
	assert_string_equal(host_outcome_words(1, 550, "5.1.1", b, sizeof b),
	    "failed 550 5.1.1");
	assert_string_equal(
	    host_outcome_words(1, 554, "", b, sizeof b), "failed 554");
	assert_string_equal(host_outcome_words(1, 451, "4.7.1", b, sizeof b),
	    "temporary failure 451 4.7.1");
	assert_string_equal(
	    host_outcome_words(1, 0, NULL, b, sizeof b), "failed");
	assert_string_equal(
	    host_outcome_words(2, 0, NULL, b, sizeof b), "bad input");
	assert_string_equal(
	    host_outcome_words(3, 421, "4.3.2", b, sizeof b), "network error");
	assert_string_equal(
	    host_outcome_words(130, 0, NULL, b, sizeof b), "aborted");
	assert_string_equal(
	    host_outcome_words(143, 0, NULL, b, sizeof b), "aborted");
	assert_string_equal(
	    host_outcome_words(-1, 0, NULL, b, sizeof b), "unfinished");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outcome_ok),
	    cmocka_unit_test(test_outcome_failed_with_the_last_5xx),
	    cmocka_unit_test(test_outcome_tempfail_with_the_last_4xx),
	    cmocka_unit_test(test_outcome_expected_reply_is_not_a_failure),
	    cmocka_unit_test(test_outcome_network),
	    cmocka_unit_test(test_outcome_aborted),
	    cmocka_unit_test(test_reconnect_resets_the_outcome),
	    cmocka_unit_test(test_probe_in_process),
	    cmocka_unit_test(test_probe_cancelled),
	    cmocka_unit_test(test_probe_bad_name),
	    cmocka_unit_test(test_linemode_in_process),
	    cmocka_unit_test(test_linemode_cancelled),
	    cmocka_unit_test(test_outcome_words),
	};

	(void)signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
