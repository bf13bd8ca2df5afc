/*
 * Unit tests for the troubleshooting toolkit's pure parts: the probe
 * verdicts (protocol/probe.c smtp_probe_judge) from hand-made facts, MX
 * ordering and candidates (protocol/mx.c), domain syntax, and the TLS
 * name matching, self-signed test and OCSP staple report
 * (protocol/tlscheck.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "protocol/caps.h"
#include "protocol/mx.h"
#include "protocol/probe.h"
#include "protocol/tlscheck.h"

/* Facts of a connection that got a greeting and an EHLO reply. */
static struct smtp_probe_facts
greeted(uint32_t caps)
{
	struct smtp_probe_facts f;

	memset(&f, 0, sizeof f);
	f.port = 2525;
	f.greeting_code = 220;
	f.ehlo_code = 250;
	f.caps = caps;
	return f;
}

static enum smtp_probe_verdict
judge(const char *name, const struct smtp_probe_facts *f)
{
	char *s = NULL, *m = NULL;
	enum smtp_probe_verdict v = smtp_probe_judge(name, f, &s, &m);

	assert_non_null(s);
	assert_non_null(m);
	free(s);
	free(m);
	return v;
}

/* A 554 or 421 greeting: nothing was probed, so no verdict (exit 3). */
static void
test_probe_refused_greeting(void **state)
{
	struct smtp_probe_facts f = greeted(SMTP_CAP_PIPELINING);
	const struct smtp_probe_info *p;

	(void)state;
	f.greeting_code = 554;
	for (p = smtp_probes; p->name != NULL; p++)
		assert_int_equal(judge(p->name, &f), SMTP_PROBE_FAILED);
	f.greeting_code = 421;
	assert_int_equal(judge("vrfy-expn", &f), SMTP_PROBE_FAILED);
}

static void
test_probe_list(void **state)
{
	const struct smtp_probe_info *p;
	size_t n = 0;

	(void)state;
	for (p = smtp_probes; p->name != NULL; p++)
		n++;
	assert_int_equal(n, 8); /* six scripted, "smuggling" and "tls" */
	assert_non_null(smtp_probe_find("smuggling"));
	assert_non_null(smtp_probe_find("tls"));
	assert_non_null(smtp_probe_find("relay"));
	assert_non_null(smtp_probe_find("vrfy-expn"));
	assert_null(smtp_probe_find("data"));
	assert_string_equal(
	    smtp_probe_verdict_name(SMTP_PROBE_PROBLEM), "PROBLEM");
}

static void
test_no_greeting_fails(void **state)
{
	struct smtp_probe_facts f;

	(void)state;
	memset(&f, 0, sizeof f);
	assert_int_equal(judge("relay", &f), SMTP_PROBE_FAILED);
	assert_int_equal(judge("size", &f), SMTP_PROBE_FAILED);
	assert_int_equal(judge("pipelining", &f), SMTP_PROBE_FAILED);
}

static void
test_starttls_required(void **state)
{
	struct smtp_probe_facts f = greeted(SMTP_CAP_STARTTLS);

	(void)state;
	/* Postfix submission: 530 to MAIL, 503 to AUTH. */
	f.mail_code = 530;
	f.auth_code = 503;
	assert_int_equal(judge("starttls-required", &f), SMTP_PROBE_GOOD);
	/* Plain port: MAIL accepted. */
	f.mail_code = 250;
	assert_int_equal(judge("starttls-required", &f), SMTP_PROBE_PROBLEM);
	/* ... which a public MX on port 25 must do (RFC 3207 4). */
	f.port = 25;
	assert_int_equal(judge("starttls-required", &f), SMTP_PROBE_NEUTRAL);
	/* AUTH accepted in plain text is a problem on any port. */
	f.auth_code = 334;
	assert_int_equal(judge("starttls-required", &f), SMTP_PROBE_PROBLEM);
	/* Cut short: no verdict. */
	f.auth_code = 0;
	assert_int_equal(judge("starttls-required", &f), SMTP_PROBE_FAILED);
	/* Implicit TLS: nothing in plain text. */
	f.tls = 1;
	assert_int_equal(judge("starttls-required", &f), SMTP_PROBE_NEUTRAL);
}

static void
test_auth_before_tls(void **state)
{
	struct smtp_probe_facts f = greeted(SMTP_CAP_STARTTLS);

	(void)state;
	f.auth_code = 503;
	assert_int_equal(judge("auth-before-tls", &f), SMTP_PROBE_GOOD);
	/* Offered but refused when tried: still a problem. */
	f.caps |= SMTP_CAP_AUTH;
	f.nauth = 2;
	assert_int_equal(judge("auth-before-tls", &f), SMTP_PROBE_PROBLEM);
	/* Not offered yet accepted. */
	f.caps = SMTP_CAP_STARTTLS;
	f.nauth = 0;
	f.auth_code = 334;
	assert_int_equal(judge("auth-before-tls", &f), SMTP_PROBE_PROBLEM);
	/* smtp-sink answers 250 to anything: accepted. */
	f.auth_code = 250;
	assert_int_equal(judge("auth-before-tls", &f), SMTP_PROBE_PROBLEM);
}

static void
test_relay(void **state)
{
	struct smtp_probe_facts f = greeted(0);

	(void)state;
	f.mail_code = 250;
	f.rcpt_code = 554;
	assert_int_equal(judge("relay", &f), SMTP_PROBE_GOOD);
	/* 454 4.7.1 is relay denied, temporarily (Postfix
	 * defer_unauth_destination); another 4xx says nothing. */
	f.rcpt_code = 454;
	assert_int_equal(judge("relay", &f), SMTP_PROBE_GOOD);
	f.rcpt_code = 450;
	assert_int_equal(judge("relay", &f), SMTP_PROBE_INCONCLUSIVE);
	f.rcpt_code = 530;
	assert_int_equal(judge("relay", &f), SMTP_PROBE_INCONCLUSIVE);
	f.rcpt_code = 550;
	(void)snprintf(f.rcpt_enhanced, sizeof f.rcpt_enhanced, "5.7.0");
	assert_int_equal(judge("relay", &f), SMTP_PROBE_INCONCLUSIVE);
	f.rcpt_enhanced[0] = '\0';
	f.rcpt_code = 250;
	assert_int_equal(judge("relay", &f), SMTP_PROBE_PROBLEM);
	f.rcpt_code = 251;
	assert_int_equal(judge("relay", &f), SMTP_PROBE_PROBLEM);
	/* Accepted after --auth: what a submission server does. */
	f.authenticated = 1;
	assert_int_equal(judge("relay", &f), SMTP_PROBE_NEUTRAL);
	f.authenticated = 0;
	/* The sender was refused: RCPT never tried. */
	f.mail_code = 553;
	f.rcpt_code = 0;
	assert_int_equal(judge("relay", &f), SMTP_PROBE_INCONCLUSIVE);
	f.mail_code = 250;
	assert_int_equal(judge("relay", &f), SMTP_PROBE_FAILED);
}

static void
test_vrfy_expn(void **state)
{
	struct smtp_probe_facts f = greeted(SMTP_CAP_VRFY);

	(void)state;
	/* Postfix with VRFY on: 252 known, 550 unknown. */
	f.vrfy_known_code = 252;
	f.vrfy_unknown_code = 550;
	f.expn_code = 502;
	assert_int_equal(judge("vrfy-expn", &f), SMTP_PROBE_PROBLEM);
	/* disable_vrfy_command = yes: 502 for both. */
	f.vrfy_known_code = f.vrfy_unknown_code = 502;
	assert_int_equal(judge("vrfy-expn", &f), SMTP_PROBE_GOOD);
	/* aiosmtpd: 252 for any address. */
	f.vrfy_known_code = f.vrfy_unknown_code = 252;
	assert_int_equal(judge("vrfy-expn", &f), SMTP_PROBE_GOOD);
	/* smtp-sink: 250 for any address. */
	f.vrfy_known_code = f.vrfy_unknown_code = 250;
	f.expn_code = 500;
	assert_int_equal(judge("vrfy-expn", &f), SMTP_PROBE_NEUTRAL);
	/* EXPN that lists members. */
	f.expn_code = 250;
	assert_int_equal(judge("vrfy-expn", &f), SMTP_PROBE_PROBLEM);
	/* Both refused alike with 550: maybe the known one is not known. */
	f.vrfy_known_code = f.vrfy_unknown_code = 550;
	f.expn_code = 502;
	assert_int_equal(judge("vrfy-expn", &f), SMTP_PROBE_NEUTRAL);
	/* Exim: 501 "must contain a domain" is syntax, not evidence. */
	f.vrfy_known_code = 252;
	f.vrfy_unknown_code = 501;
	assert_int_equal(judge("vrfy-expn", &f), SMTP_PROBE_INCONCLUSIVE);
	f.vrfy_known_code = 501;
	f.vrfy_unknown_code = 550;
	assert_int_equal(judge("vrfy-expn", &f), SMTP_PROBE_INCONCLUSIVE);
	f.expn_code = 0;
	assert_int_equal(judge("vrfy-expn", &f), SMTP_PROBE_FAILED);
}

static void
test_pipelining(void **state)
{
	struct smtp_probe_facts f = greeted(SMTP_CAP_PIPELINING);
	char *s = NULL, *m = NULL;

	(void)state;
	f.pipe_sent = f.pipe_answered = 4;
	f.early_sent = 1;
	f.early_greeting_code = 554;
	assert_int_equal(
	    smtp_probe_judge("pipelining", &f, &s, &m), SMTP_PROBE_GOOD);
	assert_non_null(strstr(s, "punishes"));
	free(s);
	free(m);
	f.early_greeting_code = 220;
	f.early_ehlo_code = 250;
	assert_int_equal(
	    smtp_probe_judge("pipelining", &f, &s, &m), SMTP_PROBE_GOOD);
	assert_non_null(strstr(s, "tolerates"));
	free(s);
	free(m);
	/* Advertised, but a reply went missing. */
	f.pipe_answered = 3;
	assert_int_equal(judge("pipelining", &f), SMTP_PROBE_PROBLEM);
	f.caps = 0;
	assert_int_equal(judge("pipelining", &f), SMTP_PROBE_NEUTRAL);
}

static void
test_size(void **state)
{
	struct smtp_probe_facts f = greeted(0);

	(void)state;
	assert_int_equal(judge("size", &f), SMTP_PROBE_NEUTRAL);
	f.caps = SMTP_CAP_SIZE;
	assert_int_equal(judge("size", &f), SMTP_PROBE_NEUTRAL);
	f.size_limit = 1000000;
	f.size_over_code = 552;
	f.size_ok_code = 250;
	assert_int_equal(judge("size", &f), SMTP_PROBE_GOOD);
	f.size_over_code = 452;
	assert_int_equal(judge("size", &f), SMTP_PROBE_GOOD);
	f.size_over_code = 250;
	assert_int_equal(judge("size", &f), SMTP_PROBE_PROBLEM);
	f.size_over_code = 0;
	assert_int_equal(judge("size", &f), SMTP_PROBE_FAILED);
}

/* MAIL refused whatever the size (530 5.7.0: STARTTLS required) is no
 * evidence that SIZE is enforced, and the summary says why. */
static void
test_size_refused_for_another_reason(void **state)
{
	struct smtp_probe_facts f = greeted(SMTP_CAP_SIZE);
	char *s = NULL, *m = NULL;

	(void)state;
	f.size_limit = 1000000;
	f.size_over_code = f.size_ok_code = 530;
	(void)snprintf(
	    f.size_over_enhanced, sizeof f.size_over_enhanced, "5.7.0");
	assert_int_equal(
	    smtp_probe_judge("size", &f, &s, &m), SMTP_PROBE_INCONCLUSIVE);
	assert_non_null(strstr(s, "530 5.7.0"));
	assert_non_null(strstr(s, "--starttls"));
	assert_string_equal(
	    smtp_probe_verdict_name(SMTP_PROBE_INCONCLUSIVE), "inconclusive");
	free(s);
	free(m);
	s = smtp_probe_refusal_why(450, "");
	assert_non_null(strstr(s, "temporary"));
	free(s);
	/* Cut short after the first refusal: no verdict. */
	f.size_ok_code = 0;
	assert_int_equal(judge("size", &f), SMTP_PROBE_FAILED);
}

/* The smuggling verdict: which variants ended early, and the fix the
 * greeting's software has. */
static void
test_smuggling(void **state)
{
	struct smtp_probe_facts f = greeted(0);
	char *s = NULL, *m = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < SMTP_SMUGGLE_NVARIANTS; i++) {
		f.smuggle[i].outcome = smtp_smuggle_variants[i].bare_lf
		    ? SMTP_SMUGGLE_EARLY
		    : SMTP_SMUGGLE_CONTENT;
		f.smuggle[i].code = 250;
	}
	(void)snprintf(f.greeting, sizeof f.greeting, "mx ESMTP Postfix");
	assert_int_equal(
	    smtp_probe_judge("smuggling", &f, &s, &m), SMTP_PROBE_PROBLEM);
	assert_non_null(strstr(s, "<LF>.<LF>, <LF>.<CR><LF>, <CR><LF>.<LF>:"));
	assert_null(strstr(s, "<CR>.<CR>"));
	assert_non_null(strstr(m, "smtpd_forbid_bare_newline = yes"));
	free(s);
	free(m);
	(void)snprintf(f.greeting, sizeof f.greeting, "mx ESMTP Exim 4.96");
	assert_int_equal(
	    smtp_probe_judge("smuggling", &f, &s, &m), SMTP_PROBE_PROBLEM);
	assert_non_null(strstr(m, "4.97.1"));
	free(s);
	free(m);
	/* Rejected or content everywhere: good. */
	f.smuggle[0].outcome = SMTP_SMUGGLE_REJECTED;
	f.smuggle[0].code = 521;
	f.smuggle[1].outcome = f.smuggle[2].outcome = SMTP_SMUGGLE_CONTENT;
	assert_int_equal(judge("smuggling", &f), SMTP_PROBE_GOOD);
	/* Refused before any content: inconclusive, and why. */
	for (i = 0; i < SMTP_SMUGGLE_NVARIANTS; i++)
		memset(&f.smuggle[i], 0, sizeof f.smuggle[i]);
	f.smuggle[0].outcome = SMTP_SMUGGLE_REFUSED;
	f.smuggle[0].code = 530;
	(void)snprintf(
	    f.smuggle[0].enhanced, sizeof f.smuggle[0].enhanced, "5.7.0");
	assert_int_equal(
	    smtp_probe_judge("smuggling", &f, &s, &m), SMTP_PROBE_INCONCLUSIVE);
	assert_non_null(strstr(s, "530 5.7.0"));
	free(s);
	free(m);
	f.smuggle[0].outcome = SMTP_SMUGGLE_CLOSED;
	assert_int_equal(judge("smuggling", &f), SMTP_PROBE_FAILED);
}

static void
test_mx_sort(void **state)
{
	struct smtp_mx_host h[5];
	const char *names[] = {"c", "a", "d", "b", "e"};
	const unsigned prefs[] = {20, 10, 30, 10, 20};
	size_t i;

	(void)state;
	memset(h, 0, sizeof h);
	for (i = 0; i < 5; i++) {
		h[i].name = (char *)names[i];
		h[i].pref = prefs[i];
	}
	smtp_mx_sort(h, 5);
	/* By preference; equal preferences keep the resolver's order. */
	assert_string_equal(h[0].name, "a");
	assert_string_equal(h[1].name, "b");
	assert_string_equal(h[2].name, "c");
	assert_string_equal(h[3].name, "e");
	assert_string_equal(h[4].name, "d");
}

static void
test_mx_candidates(void **state)
{
	struct smtp_mx_list l;
	struct smtp_mx_host h[3];
	struct smtp_mx_candidate *c;
	char *a1[] = {(char *)"192.0.2.1", (char *)"2001:db8::1"};
	char *a3[] = {(char *)"192.0.2.3"};

	(void)state;
	memset(&l, 0, sizeof l);
	memset(h, 0, sizeof h);
	h[0].name = (char *)"mx1.example";
	h[0].pref = 10;
	h[0].addrs = a1;
	h[0].naddrs = 2;
	h[1].name = (char *)"dead.example"; /* no address: skipped */
	h[1].pref = 20;
	h[2].name = (char *)"mx3.example";
	h[2].pref = 30;
	h[2].addrs = a3;
	h[2].naddrs = 1;
	l.hosts = h;
	l.nhosts = 3;
	assert_int_equal(smtp_mx_candidates(&l, &c), 3);
	assert_string_equal(c[0].addr, "192.0.2.1");
	assert_string_equal(c[1].addr, "2001:db8::1");
	assert_string_equal(c[1].host, "mx1.example");
	assert_string_equal(c[2].host, "mx3.example");
	assert_int_equal(c[2].pref, 30);
	free(c);
	l.nhosts = 0;
	assert_int_equal(smtp_mx_candidates(&l, &c), 0);
	assert_null(c);
}

static void
test_domain_valid(void **state)
{
	char big[300];

	(void)state;
	assert_true(smtp_mx_domain_valid("example.org"));
	assert_true(smtp_mx_domain_valid("mx-1.example.org."));
	assert_true(smtp_mx_domain_valid("localhost"));
	assert_false(smtp_mx_domain_valid(""));
	assert_false(smtp_mx_domain_valid("."));
	assert_false(smtp_mx_domain_valid("a..b"));
	assert_false(smtp_mx_domain_valid("-a.example"));
	assert_false(smtp_mx_domain_valid("a-.example"));
	assert_false(smtp_mx_domain_valid("a b.example"));
	assert_false(smtp_mx_domain_valid("a\nb"));
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_false(smtp_mx_domain_valid(big));
}

static void
test_tls_name_match(void **state)
{
	struct smtp_tls_cert c;

	(void)state;
	memset(&c, 0, sizeof c);
	c.subject = (char *)"CN=mx.example.org";
	c.issuer = (char *)"CN=Example CA";
	c.san = (char *)"DNS:mx.example.org, DNS:*.mail.example.org, "
	                "IP:127.0.0.1, IP:::1";
	assert_true(smtp_tls_cert_matches(&c, "mx.example.org"));
	assert_true(smtp_tls_cert_matches(&c, "MX.Example.ORG."));
	assert_true(smtp_tls_cert_matches(&c, "a.mail.example.org"));
	assert_false(smtp_tls_cert_matches(&c, "a.b.mail.example.org"));
	assert_false(smtp_tls_cert_matches(&c, "mail.example.org"));
	assert_false(smtp_tls_cert_matches(&c, "example.org"));
	assert_true(smtp_tls_cert_matches(&c, "127.0.0.1"));
	assert_true(smtp_tls_cert_matches(&c, "0:0::1"));
	assert_false(smtp_tls_cert_matches(&c, "127.0.0.2"));
	/* The CN counts only without any DNS name. */
	c.subject = (char *)"CN=other.example";
	assert_false(smtp_tls_cert_matches(&c, "other.example"));
	c.san = (char *)"";
	assert_true(smtp_tls_cert_matches(&c, "other.example"));
	assert_false(smtp_tls_cert_matches(&c, "127.0.0.1"));
	assert_false(smtp_tls_cert_is_self_signed(&c));
	c.issuer = c.subject;
	assert_true(smtp_tls_cert_is_self_signed(&c));
}

/* Notes and warnings smtp_tls_report emitted, "N:" or "W:" each. */
static void
collect_cb(const struct smtp_event *ev, void *arg)
{
	char *seen = arg;
	size_t n = strlen(seen);

	if ((ev->type == SMTP_EV_NOTE || ev->type == SMTP_EV_WARNING) &&
	    n + ev->len + 4 < 1024)
		(void)snprintf(seen + n, 1024 - n, "%s%.*s\n",
		    ev->type == SMTP_EV_NOTE ? "N:" : "W:", (int)ev->len,
		    ev->text);
}

static void
test_tls_report_ocsp(void **state)
{
	struct smtp_tls_cert c;
	struct smtp_tls_info ti;
	struct smtp_session *s;
	char seen[1024];

	(void)state;
	memset(&c, 0, sizeof c);
	c.subject = c.issuer = c.san = (char *)"x";
	c.not_before = c.not_after = c.key_type = c.sig_alg = (char *)"x";
	c.days_left = 100;
	memset(&ti, 0, sizeof ti);
	ti.version = ti.cipher = (char *)"x";
	ti.group = ti.sni = ti.alpn = ti.verify_error = (char *)"";
	ti.verified = 1;
	ti.nchain = 1;
	ti.chain = &c;
	ti.ocsp = (char *)"";
	assert_string_equal(smtp_tls_ocsp_name(ti.ocsp_status), "none");

	seen[0] = '\0';
	s = smtp_session_new(collect_cb, seen);
	smtp_tls_report(s, &ti, NULL);
	assert_null(strstr(seen, "OCSP"));
	ti.ocsp_status = SMTP_OCSP_GOOD;
	ti.ocsp = (char *)"good (this update A, next update B)";
	smtp_tls_report(s, &ti, NULL);
	assert_non_null(
	    strstr(seen, "N:OCSP staple: good (this update A, next update B)"));
	assert_null(strstr(seen, "W:"));
	seen[0] = '\0';
	ti.ocsp_status = SMTP_OCSP_REVOKED;
	ti.ocsp = (char *)"revoked at A, keyCompromise (...)";
	smtp_tls_report(s, &ti, NULL);
	assert_non_null(strstr(seen,
	    "W:the server's own OCSP staple says its "
	    "certificate is revoked: revoked at A"));
	assert_string_equal(smtp_tls_ocsp_name(ti.ocsp_status), "revoked");
	smtp_session_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe_list),
	    cmocka_unit_test(test_probe_refused_greeting),
	    cmocka_unit_test(test_no_greeting_fails),
	    cmocka_unit_test(test_starttls_required),
	    cmocka_unit_test(test_auth_before_tls),
	    cmocka_unit_test(test_relay),
	    cmocka_unit_test(test_vrfy_expn),
	    cmocka_unit_test(test_pipelining),
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_size_refused_for_another_reason),
	    cmocka_unit_test(test_smuggling),
	    cmocka_unit_test(test_mx_sort),
	    cmocka_unit_test(test_mx_candidates),
	    cmocka_unit_test(test_domain_valid),
	    cmocka_unit_test(test_tls_name_match),
	    cmocka_unit_test(test_tls_report_ocsp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
