/*
 * `ehlo probe tls SERVER` (issue 19): the TLS survey of
 * protocol/tls_survey.c, printed as text or one JSON object.
 */
#ifndef EHLO_TUI_PROBE_TLS_H
#define EHLO_TUI_PROBE_TLS_H

struct cli_opts;

/* Runs the survey of server; returns the exit status (0 nothing weak,
 * 1 weak choices found, 3 the server could not be surveyed). */
int probe_tls(const struct cli_opts *o, const char *server);

#endif
