/*
 * A TLS survey of a mail server (`ehlo probe tls`): the protocol
 * versions and cipher suites it accepts, one handshake per candidate
 * from a bounded list, whether it imposes its own cipher order, and the
 * weak choices among them.  Blocking (each step bounded by the timeout).
 */
#ifndef EHLO_PROTOCOL_TLS_SURVEY_H
#define EHLO_PROTOCOL_TLS_SURVEY_H

#include <stddef.h>

struct smtp_tls_survey_opts {
	const char *host, *port;
	int implicit; /* TLS from the first byte, else EHLO and STARTTLS */
	const char *helo;
	const char *sni; /* or NULL */
	int timeout_ms; /* per connection step */
};

struct smtp_tls_survey_item {
	char *name; /* "1.2", "TLS_AES_128_GCM_SHA256", "AES128-SHA" */
	int kind; /* 0 a protocol version, 13 a TLS 1.3 suite, 12 a cipher
	           * of TLS 1.2 and older */
	int accepted;
	char *weak; /* why an accepted choice is weak, or NULL */
};

struct smtp_tls_survey {
	struct smtp_tls_survey_item *items;
	size_t nitems;
	int server_order; /* 1 the server's order, 0 the client's, -1 not
	                   * known (fewer than two TLS 1.2 ciphers) */
	int have_cert;
	char *key_type;
	int key_bits;
	long days_left;
};

/*
 * Runs the survey (about 30 connections).  0, or -1 with *errstr when
 * the server could not be reached or accepted no TLS version at all.
 * Free s with smtp_tls_survey_free in both cases.
 */
int smtp_tls_survey_run(const struct smtp_tls_survey_opts *,
    struct smtp_tls_survey *s, char **errstr);
void smtp_tls_survey_free(struct smtp_tls_survey *);

#endif
