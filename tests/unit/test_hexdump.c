/*
 * The hex dump of bytes on the wire (core/hexdump.c) and the session's
 * wire tap that feeds it (protocol/session_wire.c): the exact line
 * format, '.' for every octet that is not printable ASCII, offsets per
 * direction, the TLS and redaction marks, and a secret line seen by the
 * tap only in its redacted form, also when written in two pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/hexdump.h"
#include "protocol/sasl.h"
#include "session_fixture.h"

static void
test_line(void **state)
{
	char line[HEXDUMP_LINE_MAX];
	const char all[16] = "EHLO x\r\n\0\x7f\x80\xff \x1b~A";

	(void)state;
	assert_int_equal(hexdump_line(line, 0, "EHLO x\r\n", 8), 68);
	assert_string_equal(line,
	    "00000000  45 48 4c 4f 20 78 0d 0a  "
	    "                         EHLO x..");
	hexdump_line(line, 0x1234, all, sizeof all);
	assert_string_equal(line,
	    "00001234  45 48 4c 4f 20 78 0d 0a  "
	    "00 7f 80 ff 20 1b 7e 41  EHLO x...... .~A");
	/* More than a line's width is cut; a wide offset keeps its digits. */
	hexdump_line(line, 0x123456789aULL, "0123456789abcdefXYZ", 19);
	assert_string_equal(line,
	    "123456789a  30 31 32 33 34 35 36 37  "
	    "38 39 61 62 63 64 65 66  0123456789abcdef");
	hexdump_line(line, 0, "", 0);
	assert_int_equal(strlen(line), 60);
}

static void
test_chunk(void **state)
{
	struct hexdump hd;
	struct buf b;

	(void)state;
	memset(&hd, 0, sizeof hd);
	buf_init(&b, 0);
	assert_int_equal(
	    hexdump_chunk(&hd, &b, 0, 0, "0123456789abcdef!\r\n", 19), 0);
	assert_int_equal(hexdump_chunk(&hd, &b, 1, HEXDUMP_TLS, "2", 1), 0);
	assert_int_equal(
	    hexdump_chunk(&hd, &b, 0, HEXDUMP_TLS | HEXDUMP_REDACTED, "A", 1),
	    0);
	(void)buf_add(&b, "", 1);
	assert_string_equal(buf_peek(&b),
	    "C> 19 octets\n"
	    "C> 00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  "
	    "0123456789abcdef\n"
	    "C> 00000010  21 0d 0a                                          "
	    "!..\n"
	    "S< 1 octet (TLS, decrypted)\n"
	    "S< 00000000  32                                                "
	    "2\n"
	    "C> 1 octet (TLS, decrypted) (redacted: the line as the dialogue "
	    "shows it, not the octets sent)\n"
	    "C> 00000013  41                                                "
	    "A\n");
	assert_int_equal(hd.off[0], 20);
	assert_int_equal(hd.off[1], 1);
	buf_reset(&b);
}

/* What the tap saw, one record per chunk: "O:...", "I:...", "R:..." */
struct seen {
	char text[2048];
};

static void
on_wire(const struct smtp_wire *w, void *arg)
{
	struct seen *sn = arg;
	size_t k = strlen(sn->text);

	(void)snprintf(sn->text + k, sizeof sn->text - k, "%c%s:%.*s|",
	    w->dir == SMTP_WIRE_IN ? 'I'
	        : w->dir == SMTP_WIRE_OUT
	        ? (w->flags & SMTP_WIRE_REDACTED ? 'R' : 'O')
	        : 'H',
	    w->flags & SMTP_WIRE_TLS ? "t" : "", (int)w->n, w->p);
}

static void
test_tap(void **state)
{
	struct fx *f = *state;
	struct seen sn;
	const char *display = "AUTH PLAIN [user=alice password=" SASL_MASK "]";
	char *err = NULL;
	size_t len;
	uint64_t out, in;

	memset(&sn, 0, sizeof sn);
	smtp_session_wire_tap(f->s, on_wire, &sn);
	connect_ehlo(f);
	assert_int_equal(smtp_session_send_secret(
	                     f->s, "AUTH PLAIN " PLAIN_B64, display, &err),
	    0);
	send_ok(f, "NOOP");
	/* The secret line leaves in two writes, the NOOP with the second. */
	(void)smtp_session_output(f->s, &len);
	smtp_session_output_consume(f->s, 13);
	smtp_session_output_consume(f->s, len - 13);
	/* A server that echoes the secret has it masked. */
	feed(f, "535 5.7.8 you sent " PLAIN_B64 "\r\n250 ok\r\n");
	smtp_session_tls_done(f->s, "TLSv1.3");
	assert_string_equal(sn.text,
	    "I:" GREETING "|O:EHLO client.example\r\n|I:" EHLO_REPLY
	    "|R:AUTH PLAIN [user=alice password=" SASL_MASK "]\r\n"
	    "|O:NOOP\r\n|I:535 5.7.8 you sent [secret removed]\r\n"
	    "250 ok\r\n|Ht:TLSv1.3|");
	assert_null(strstr(sn.text, "AGFsaWNl"));
	/* The counts are the real octets, tap or not. */
	smtp_session_wire_tap(f->s, NULL, NULL);
	feed(f, "250 ok\r\n");
	smtp_session_wire_counts(f->s, &out, &in);
	assert_int_equal(out,
	    strlen("EHLO client.example\r\n") +
	        strlen("AUTH PLAIN " PLAIN_B64 "\r\n") + strlen("NOOP\r\n"));
	assert_int_equal(in,
	    strlen(GREETING EHLO_REPLY) +
	        strlen("535 5.7.8 you sent " PLAIN_B64 "\r\n250 ok\r\n") + 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line),
	    cmocka_unit_test(test_chunk),
	    cmocka_unit_test_setup_teardown(test_tap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
