/*
 * `ehlo send --eml FILE|-` (a prepared message sent as it is, with -t
 * its recipients from its To, Cc and Bcc) and `--dry-run` (the envelope
 * and the message printed, nothing connected): the parts of `ehlo send`
 * that are not the session (tui/cmd_send.c).
 */
#ifndef EHLO_TUI_SEND_EML_H
#define EHLO_TUI_SEND_EML_H

struct cli_opts;
struct smtp_message;

/*
 * Makes msg (its from, to, cc and bcc already the options') the message
 * in fd (the opened FILE, or standard input spooled to a file), with -t.
 * Refuses the options that compose a message (--subject, --body,
 * --attach, --header, --draft).  Returns 0, or the exit status after
 * printing why.
 */
int send_eml_message(
    const struct cli_opts *o, struct smtp_message *msg, int fd);

/*
 * --dry-run: prints the envelope (MAIL FROM, one RCPT TO per recipient)
 * and the message exactly as it would go into DATA before dot-stuffing
 * (for a server offering 8BITMIME and SMTPUTF8), connecting to nothing;
 * with json, one dry_run object (docs/schema.json) instead.  Returns the
 * exit status.
 */
int send_eml_dry_run(const struct smtp_message *msg, int json);

#endif
