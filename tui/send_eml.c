/*
 * `ehlo send --eml FILE|-`, `-t` and `--dry-run` (tui/send_eml.h): the
 * prepared message handed to the one message builder (protocol/message.h,
 * which streams it as it is), and the look before sending, printed from
 * the same builder, so what --dry-run shows is what DATA would carry.
 */
#include "tui/send_eml.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/message.h"
#include "tui/cli.h"
#include "tui/print.h"

int
send_eml_message(const struct cli_opts *o, struct smtp_message *msg, int fd)
{
	if (o->subject != NULL || o->body != NULL || o->attach.n > 0 ||
	    o->header.n > 0 || o->draft != NULL)
		return cli_usage_error(
		    "--eml sends the message as it is; leave out --subject, "
		    "--body, --attach, --header and --draft");
	msg->eml = 1;
	msg->eml_fd = fd;
	msg->eml_rcpts_from_headers = o->rcpts_from_headers;
	return 0;
}

/*
 * --dry-run --json: one dry_run object (docs/schema.json) with the
 * envelope, the size and the message as text (JSON-escaped; bytes that
 * are not UTF-8 as \\xNN, core/escape.h).
 */
static void
dry_run_json(const struct smtp_message_info *info, const struct buf *m)
{
	json_t *o = print_json_object("dry_run"), *to = json_array(), *t;
	size_t i;

	for (i = 0; i < info->nrcpts; i++)
		(void)json_array_append_new(to, print_json_str(info->rcpts[i]));
	(void)json_object_set_new(o, "from", print_json_str(info->env_from));
	(void)json_object_set_new(o, "to", to);
	(void)json_object_set_new(
	    o, "size", json_integer((json_int_t)info->size));
	t = json_stringn(buf_peek(m), buf_used(m));
	(void)json_object_set_new(o, "message",
	    t != NULL ? t : print_json_text(buf_peek(m), buf_used(m)));
	print_json_put(o);
}

int
send_eml_dry_run(const struct smtp_message *msg, int json)
{
	const struct smtp_message_info *info;
	struct smtp_message_build *b;
	struct smtp_message_opts mo;
	struct buf m;
	char buf[65536], *err = NULL;
	ssize_t n;
	size_t i;

	memset(&mo, 0, sizeof mo);
	mo.can_8bitmime = mo.can_smtputf8 = 1;
	if ((b = smtp_message_build_new(msg, &mo, &err)) == NULL) {
		(void)fprintf(stderr, "ehlo: %s; nothing was sent\n", err);
		free(err);
		return EXIT_USAGE;
	}
	info = smtp_message_build_info(b);
	buf_init(&m, 0);
	if (!json) {
		(void)printf(
		    "*: dry run: nothing is sent, no server is contacted\n"
		    "*: envelope:\n"
		    "MAIL FROM:<%s>\n",
		    info->env_from);
		for (i = 0; i < info->nrcpts; i++)
			(void)printf("RCPT TO:<%s>\n", info->rcpts[i]);
		(void)printf("*: message: %llu octets, as DATA would carry it "
		             "(before dot-stuffing):\n",
		    (unsigned long long)info->size);
	}
	while ((n = smtp_message_build_read(b, buf, sizeof buf, &err)) > 0)
		if (json)
			(void)buf_add(&m, buf, (size_t)n);
		else
			(void)fwrite(buf, 1, (size_t)n, stdout);
	if (n != -1 && json)
		dry_run_json(info, &m);
	buf_reset(&m);
	smtp_message_build_free(b);
	if (n == -1) {
		(void)fflush(stdout);
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
}
