/*
 * `ehlo send --eml FILE|-`, `-t` and `--dry-run` (tui/send_eml.h): the
 * prepared message handed to the one message builder (protocol/message.h,
 * which streams it as it is), and the look before sending, printed from
 * the same builder, so what --dry-run shows is what DATA would carry.
 */
#include "tui/send_eml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "protocol/message.h"
#include "tui/cli.h"

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

int
send_eml_dry_run(const struct smtp_message *msg)
{
	const struct smtp_message_info *info;
	struct smtp_message_build *b;
	struct smtp_message_opts mo;
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
	(void)printf("*: dry run: nothing is sent, no server is contacted\n"
	             "*: envelope:\n"
	             "MAIL FROM:<%s>\n",
	    info->env_from);
	for (i = 0; i < info->nrcpts; i++)
		(void)printf("RCPT TO:<%s>\n", info->rcpts[i]);
	(void)printf("*: message: %llu octets, as DATA would carry it "
	             "(before dot-stuffing):\n",
	    (unsigned long long)info->size);
	while ((n = smtp_message_build_read(b, buf, sizeof buf, &err)) > 0)
		(void)fwrite(buf, 1, (size_t)n, stdout);
	smtp_message_build_free(b);
	if (n == -1) {
		(void)fflush(stdout);
		(void)fprintf(stderr, "ehlo: %s\n", err);
		free(err);
		return EXIT_USAGE;
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_USAGE;
}
