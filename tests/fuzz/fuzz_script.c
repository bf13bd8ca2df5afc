/*
 * Fuzz target: script lines, as `ehlo run` reads them (the line-mode
 * side of the command table, tui/cmdtab.c, and the SMTP command check
 * behind smtp_client_send).  Each input line goes where line mode sends
 * it: a "/" line to cmdtab_run() in CMD_MODE_LINE, any other line to
 * the client, on a client that never connects, with a front end that
 * only counts what it is told.  The promises:
 *
 *   - cmdtab_run() returns 0 or -1, and -1 only after reporting an error
 *     (tui/cmdtab.h);
 *   - smtp_client_send() on a client without a connection refuses with
 *     a message, never sends.
 */
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "fuzz.h"
#include "protocol/client.h"
#include "tui/cli.h"
#include "tui/cmdtab.h"
#include "tui/lang.h"

#define FS_LINE_MAX 4096
#define FS_LINES_MAX 64

struct fs_fe {
	int calls, errors;
};

static void
fs_said(void *fe, const char *text, int error)
{
	struct fs_fe *f = fe;

	/* Front ends escape what they print; the text must be a string. */
	if (text != NULL)
		fuzz_check(strlen(text) < (size_t)1 << 24);
	f->calls++;
	f->errors += error;
}

static void
fs_note(void *fe, const char *text)
{
	fs_said(fe, text, 0);
}

static void
fs_error(void *fe, const char *text)
{
	fuzz_check(text != NULL);
	fs_said(fe, text, 1);
}

static void
fs_show(void *fe, const char *title, const char *text)
{
	(void)text;
	fs_said(fe, title, 0);
}

static void
fs_auth(void *fe, const char *mech, const char *user)
{
	(void)user;
	fs_said(fe, mech, 0);
}

static void
fs_starttls_sent(void *fe)
{
	fs_said(fe, NULL, 0);
}

static void
fs_expect(void *fe, const char *text)
{
	fs_said(fe, text, 0);
}

static void
fs_explain(void *fe, const char *query, const struct smtp_stage *last)
{
	(void)query;
	(void)last;
	fs_said(fe, NULL, 0);
}

static void
fs_quit(void *fe)
{
	fs_said(fe, NULL, 0);
}

static void
fs_sleep(void *fe, unsigned long ms)
{
	(void)ms;
	fs_said(fe, NULL, 0);
}

static const struct cmd_ops fs_ops = {
    .note = fs_note,
    .error = fs_error,
    .show = fs_show,
    .auth = fs_auth,
    .starttls_sent = fs_starttls_sent,
    .expect_met = fs_expect,
    .expect_failed = fs_expect,
    .explain = fs_explain,
    .quit = fs_quit,
    .sleep = fs_sleep,
};

static void
fs_on_event(const struct smtp_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loop *loop = loop_new();
	struct smtp_client_opts co;
	struct smtp_client *client;
	struct cli_opts o;
	struct lang lang;
	struct cmd_ctx c;
	struct fs_fe f;
	const uint8_t *p = data, *end = data + size, *nl;
	char *line, *err;
	size_t n, lines = 0;
	int rc;

	memset(&co, 0, sizeof co);
	co.host = "127.0.0.1";
	co.port = "9";
	co.timeout_ms = 1000;
	client = smtp_client_new(loop, &co, fs_on_event, NULL);
	memset(&o, 0, sizeof o);
	memset(&lang, 0, sizeof lang);
	lang.client = client;
	memset(&c, 0, sizeof c);
	c.mode = CMD_MODE_LINE;
	c.client = client;
	c.session = smtp_client_session(client);
	c.lang = &lang;
	c.o = &o;
	c.ops = &fs_ops;
	c.fe = &f;
	while (p < end && lines++ < FS_LINES_MAX) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > FS_LINE_MAX)
			n = FS_LINE_MAX;
		line = xmalloc(n + 1);
		memcpy(line, p, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		memset(&f, 0, sizeof f);
		if (line[0] == '/') {
			rc = cmdtab_run(&c, line);
			fuzz_check(rc == 0 || rc == -1);
			fuzz_check(rc == 0 || f.errors > 0);
		} else {
			err = NULL;
			rc = smtp_client_send(client, line, n, &err);
			fuzz_check(rc == -1 && err != NULL);
			free(err);
		}
		free(line);
		p = nl != NULL ? nl + 1 : end;
	}
	lang_reset(&lang);
	smtp_client_free(client);
	loop_free(loop);
	return 0;
}
