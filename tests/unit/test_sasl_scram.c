/*
 * Unit tests for the mechanisms GNU SASL runs (protocol/sasl_gsasl.c)
 * and the new ones of protocol/sasl.c: the choice among offered
 * mechanisms; a whole SCRAM-SHA-256 and SCRAM-SHA-1 exchange against
 * GNU SASL's own server side (the password right and wrong, the server's
 * signature forged, too many iterations); -PLUS without and with a
 * binding; OAUTHBEARER's exact bytes (RFC 7628 3.1) and its error step;
 * and that no display form carries the password, the proof or the
 * token, nor a redaction of a hand-typed SCRAM or OAUTHBEARER line.
 * GSSAPI only as far as no KDC is needed: it asks for no secret and,
 * without a ticket, fails at once with a message that says what to do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gsasl.h>

#include "core/xmalloc.h"
#include "protocol/sasl.h"

#define M SASL_MASK
#define PW "pencil-QX7"

static void
test_choose(void **state)
{
	static const char *const all[] = {"PLAIN", "LOGIN", "SCRAM-SHA-1",
	    "scram-sha-256", "SCRAM-SHA-256-PLUS", "XOAUTH2", "GSSAPI"};
	static const char *const sha1[] = {"LOGIN", "PLAIN", "SCRAM-SHA-1"};
	static const char *const old[] = {"LOGIN", "PLAIN", "CRAM-MD5"};
	static const char *const tokens[] = {
	    "XOAUTH2", "OAUTHBEARER", "GSSAPI", "NTLM"};
	static const char *const plus1[] = {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"};

	(void)state;
	assert_string_equal(
	    sasl_mech_choose(all, 7, 1)->name, "SCRAM-SHA-256-PLUS");
	assert_string_equal(sasl_mech_choose(all, 7, 0)->name, "SCRAM-SHA-256");
	assert_string_equal(sasl_mech_choose(sha1, 3, 1)->name, "SCRAM-SHA-1");
	assert_string_equal(sasl_mech_choose(old, 3, 1)->name, "CRAM-MD5");
	assert_string_equal(sasl_mech_choose(old, 2, 1)->name, "PLAIN");
	assert_string_equal(
	    sasl_mech_choose(plus1, 2, 1)->name, "SCRAM-SHA-1-PLUS");
	assert_string_equal(sasl_mech_choose(plus1, 2, 0)->name, "SCRAM-SHA-1");
	assert_null(sasl_mech_choose(tokens, 4, 1));
	assert_null(sasl_mech_choose(NULL, 0, 1));
}

/* ---- a SCRAM server: GNU SASL's server side, the password PW ---------- */

static int
server_cb(Gsasl *ctx, Gsasl_session *sess, Gsasl_property prop)
{
	(void)ctx;
	if (prop == GSASL_PASSWORD)
		return gsasl_property_set(sess, prop, PW);
	if (prop == GSASL_SCRAM_ITER)
		return gsasl_property_set(sess, prop, "4096");
	return GSASL_NO_CALLBACK;
}

struct server {
	Gsasl *ctx;
	Gsasl_session *sess;
};

static void
server_start(struct server *s, const char *mech)
{
	assert_int_equal(gsasl_init(&s->ctx), GSASL_OK);
	gsasl_callback_set(s->ctx, server_cb);
	assert_int_equal(gsasl_server_start(s->ctx, mech, &s->sess), GSASL_OK);
}

static void
server_end(struct server *s)
{
	gsasl_finish(s->sess);
	gsasl_done(s->ctx);
}

/* The server's answer (base64) to the client's wire line. */
static char *
server_step(struct server *s, const char *b64, int *rc)
{
	char *out = NULL;

	*rc = gsasl_step64(s->sess, b64, &out);
	return out;
}

static void
assert_clean(const char *display)
{
	char *b64 = sasl_b64_encode(PW, strlen(PW));

	assert_null(strstr(display, PW));
	assert_null(strstr(display, b64));
	free(b64);
}

/* A whole exchange; the server's signature forged when forge is set. */
static void
scram_run(const char *mech, const char *password, int forge)
{
	struct sasl_client *c;
	struct server srv;
	char *wire, *display, *err = NULL, *chal, *p;
	int rc;

	c = sasl_client_new(mech, "user", password, &err);
	assert_non_null(c);
	server_start(&srv, mech);
	assert_int_equal(sasl_client_start(c, 1, &wire, &display, &err), 0);
	/* client-first, shown whole: n,,n=user,r=NONCE */
	p = xasprintf("AUTH %s [n,,n=user,r=", mech);
	assert_ptr_equal(strstr(display, p), display);
	free(p);
	chal =
	    server_step(&srv, wire + strlen("AUTH ") + strlen(mech) + 1, &rc);
	assert_int_equal(rc, GSASL_NEEDS_MORE);
	secret_free_str(wire);
	free(display);

	/* client-final: the proof masked */
	assert_int_equal(
	    sasl_client_step(c, chal, strlen(chal), &wire, &display, &err), 0);
	gsasl_free(chal);
	assert_ptr_equal(strstr(display, "[c=biws,r="), display);
	assert_non_null(strstr(display, ",p=" M "]"));
	assert_clean(display);
	{
		/* the proof as sent is not in the display either */
		size_t n;
		unsigned char *d = sasl_b64_decode(wire, strlen(wire), &n);
		char *proof = strstr((char *)d, ",p=");

		assert_non_null(proof);
		assert_null(strstr(display, proof + 3));
		free(d);
	}
	chal = server_step(&srv, wire, &rc);
	secret_free_str(wire);
	free(display);
	if (strcmp(password, PW) != 0) {
		assert_int_equal(rc, GSASL_AUTHENTICATION_ERROR);
		gsasl_free(chal);
		goto out;
	}
	assert_int_equal(rc, GSASL_OK);
	if (forge) { /* v= of another key */
		gsasl_free(chal);
		chal = sasl_b64_encode(
		    "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 46);
		assert_int_equal(sasl_client_step(c, chal, strlen(chal), &wire,
		                     &display, &err),
		    -1);
		assert_non_null(strstr(err, "signature"));
		free(err);
		free(chal);
		goto out;
	}
	/* A 235 before v= would leave the server unproven. */
	assert_int_equal(sasl_client_server_proven(c), 0);
	/* server-final accepted: an empty line goes back */
	assert_int_equal(
	    sasl_client_step(c, chal, strlen(chal), &wire, &display, &err), 0);
	assert_string_equal(wire, "");
	assert_string_equal(display, "[empty response]");
	assert_int_equal(sasl_client_server_proven(c), 1);
	secret_free_str(wire);
	free(display);
	gsasl_free(chal);
	/* and nothing more */
	assert_int_equal(sasl_client_step(c, "", 0, &wire, &display, &err), -1);
	free(err);
out:
	server_end(&srv);
	sasl_client_free(c);
}

static void
test_scram_exchanges(void **state)
{
	(void)state;
	scram_run("SCRAM-SHA-256", PW, 0);
	scram_run("SCRAM-SHA-1", PW, 0);
	scram_run("SCRAM-SHA-256", "wrong-QX7", 0);
	scram_run("SCRAM-SHA-256", PW, 1);
}

/* The client nonce of a client-first wire line ("AUTH MECH base64"). */
static char *
client_nonce(const char *wire)
{
	size_t n;
	unsigned char *d = sasl_b64_decode(
	    strrchr(wire, ' ') + 1, strlen(strrchr(wire, ' ') + 1), &n);
	char *r = xstrdup(strstr((char *)d, ",r=") + 3);

	free(d);
	return r;
}

static void
test_scram_refusals(void **state)
{
	struct sasl_client *c;
	char *wire, *display, *err = NULL, *nonce, *first, *b64;
	unsigned char cb[32];

	(void)state;
	/* Too many iterations: refused before any hashing. */
	c = sasl_client_new("SCRAM-SHA-256", "user", PW, &err);
	assert_int_equal(sasl_client_start(c, 1, &wire, &display, &err), 0);
	nonce = client_nonce(wire);
	secret_free_str(wire);
	free(display);
	first = xasprintf("r=%sxyz,s=QSXCR+Q6sek8bf92,i=2147483647", nonce);
	b64 = sasl_b64_encode(first, strlen(first));
	assert_int_equal(
	    sasl_client_step(c, b64, strlen(b64), &wire, &display, &err), -1);
	assert_non_null(strstr(err, "iterations"));
	free(err);
	err = NULL;
	free(first);
	free(b64);
	free(nonce);
	sasl_client_free(c);

	/* A nonce that is not ours. */
	c = sasl_client_new("SCRAM-SHA-1", "user", PW, &err);
	assert_int_equal(sasl_client_start(c, 0, &wire, &display, &err), 0);
	assert_string_equal(wire, "AUTH SCRAM-SHA-1");
	secret_free_str(wire);
	free(display);
	assert_int_equal(sasl_client_step(c, "", 0, &wire, &display, &err), 0);
	assert_ptr_equal(strstr(display, "[n,,n=user,r="), display);
	secret_free_str(wire);
	free(display);
	b64 = sasl_b64_encode("r=other,s=QSXCR+Q6sek8bf92,i=4096", 33);
	assert_int_equal(
	    sasl_client_step(c, b64, strlen(b64), &wire, &display, &err), -1);
	assert_non_null(strstr(err, "nonce"));
	free(err);
	err = NULL;
	free(b64);
	sasl_client_free(c);

	/* -PLUS: without a binding nothing starts; with one, p=TYPE. */
	c = sasl_client_new("SCRAM-SHA-256-PLUS", "user", PW, &err);
	wire = display = NULL;
	assert_int_equal(sasl_client_start(c, 1, &wire, &display, &err), -1);
	assert_null(wire);
	assert_non_null(strstr(err, "needs TLS"));
	free(err);
	err = NULL;
	memset(cb, 0x42, sizeof cb);
	sasl_client_set_binding(c, "tls-exporter", cb, sizeof cb);
	assert_int_equal(sasl_client_start(c, 1, &wire, &display, &err), 0);
	assert_ptr_equal(
	    strstr(
	        display, "AUTH SCRAM-SHA-256-PLUS [p=tls-exporter,,n=user,r="),
	    display);
	secret_free_str(wire);
	free(display);
	sasl_client_free(c);
}

static void
test_oauthbearer(void **state)
{
	struct sasl_client *c;
	char *wire, *display, *err = NULL, *want, *raw;

	(void)state;
	c = sasl_client_new("OAUTHBEARER", "a,b=c", "ya29.TOKEN", &err);
	assert_int_equal(sasl_client_start(c, 1, &wire, &display, &err), 0);
	raw = "n,a=a=2Cb=3Dc,\001auth=Bearer ya29.TOKEN\001\001";
	want = sasl_b64_encode(raw, strlen(raw));
	assert_string_equal(wire + strlen("AUTH OAUTHBEARER "), want);
	assert_string_equal(
	    display, "AUTH OAUTHBEARER [user=a,b=c token=" M "]");
	assert_null(strstr(display, "ya29"));
	secret_free_str(wire);
	free(display);
	/* The JSON error is acknowledged with one ^A. */
	assert_int_equal(sasl_client_step(c, "eyJzdGF0dXMiOiI0MDEifQ==", 24,
	                     &wire, &display, &err),
	    0);
	assert_string_equal(wire, "AQ==");
	assert_int_equal(sasl_client_server_proven(c), 1);
	secret_free_str(wire);
	free(display);
	assert_int_equal(sasl_client_step(c, "", 0, &wire, &display, &err), -1);
	free(err);
	sasl_client_free(c);
	free(want);
}

static void
test_gssapi_without_ticket(void **state)
{
	char conf[] = "/tmp/ehlo-test-krb5-XXXXXX";
	static const char text[] = "[libdefaults]\n"
	                           " default_realm = EXAMPLE.TEST\n"
	                           " dns_lookup_kdc = false\n"
	                           " dns_lookup_realm = false\n";
	struct sasl_client *c;
	char *wire = NULL, *display = NULL, *err = NULL;
	int fd;

	(void)state;
	assert_true(sasl_mech_find("GSSAPI")->flags & SASL_MECH_NO_SECRET);
	/* A private configuration: no DNS, no credential cache. */
	assert_true((fd = mkstemp(conf)) != -1);
	assert_int_equal(write(fd, text, sizeof text - 1), sizeof text - 1);
	(void)close(fd);
	(void)setenv("KRB5_CONFIG", conf, 1);
	(void)setenv("KRB5CCNAME", "FILE:/nonexistent/ehlo-test-ccache", 1);
	c = sasl_client_new("GSSAPI", "alice", NULL, &err);
	assert_non_null(c);
	assert_int_equal(sasl_client_start(c, 1, &wire, &display, &err), -1);
	assert_non_null(strstr(err, "host name"));
	free(err);
	err = NULL;
	sasl_client_set_host(c, "mx.example.test");
	assert_int_equal(sasl_client_start(c, 1, &wire, &display, &err), -1);
	assert_null(wire);
	assert_non_null(strstr(err, "kinit"));
	assert_non_null(strstr(err, "smtp/mx.example.test"));
	free(err);
	sasl_client_free(c);
	(void)unlink(conf);
}

static void
redact_is(const char *mech, const char *raw, const char *want)
{
	char *b64 = sasl_b64_encode(raw, strlen(raw));
	char *s = sasl_redact_response(mech, 1, NULL, b64);

	assert_string_equal(s, want);
	free(s);
	free(b64);
}

static void
test_redaction(void **state)
{
	char *line, *s, *b64;

	(void)state;
	redact_is("SCRAM-SHA-256", "n,,n=user,r=abc", "[n,,n=user,r=abc]");
	redact_is("scram-sha-1-plus", "p=tls-unique,,n=u,r=x",
	    "[p=tls-unique,,n=u,r=x]");
	redact_is("SCRAM-SHA-256",
	    "c=biws,r=abcdef,p=dHJ1c3QgbWU=", "[c=biws,r=abcdef,p=" M "]");
	redact_is("SCRAM-SHA-256", "hunter2-and-more", "[response " M "]");
	redact_is("SCRAM-SHA-256", "c=biws,r=abc", "[response " M "]");
	redact_is("OAUTHBEARER", "n,a=bob,\001auth=Bearer TOK\001\001",
	    "[user=bob token=" M "]");
	redact_is(
	    "OAUTHBEARER", "n,,\001auth=Bearer TOK\001\001", "[token=" M "]");
	redact_is("OAUTHBEARER", "\001", "[^A: the error is acknowledged]");
	redact_is("OAUTHBEARER", "auth=Bearer TOK", "[response " M "]");
	redact_is("GSSAPI", "\x60\x82\x01\x02", "[GSSAPI token, 4 bytes]");
	/* The user a recorded display names (export, replay). */
	s = sasl_display_user("AUTH PLAIN [user=alice password=" M "]");
	assert_string_equal(s, "alice");
	free(s);
	s = sasl_display_user("AUTH SCRAM-SHA-256 [n,,n=a=2Cb=3Dc,r=xyz]");
	assert_string_equal(s, "a,b=c");
	free(s);
	s = sasl_display_user(
	    "AUTH SCRAM-SHA-1-PLUS [p=tls-unique,,n=bob,r=x]");
	assert_string_equal(s, "bob");
	free(s);
	assert_null(sasl_display_user("[c=biws,r=abc,p=" M "]"));
	assert_null(sasl_display_user("AUTH GSSAPI [GSSAPI token, 4 bytes]"));
	/* The AUTH line typed by hand. */
	b64 = sasl_b64_encode("c=biws,r=n,p=c2VjcmV0", 21);
	line = xasprintf("AUTH SCRAM-SHA-256 %s", b64);
	s = sasl_redact_auth_command(line);
	assert_string_equal(s, "AUTH SCRAM-SHA-256 [c=biws,r=n,p=" M "]");
	free(s);
	free(line);
	free(b64);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_choose),
	    cmocka_unit_test(test_scram_exchanges),
	    cmocka_unit_test(test_scram_refusals),
	    cmocka_unit_test(test_oauthbearer),
	    cmocka_unit_test(test_gssapi_without_ticket),
	    cmocka_unit_test(test_redaction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
