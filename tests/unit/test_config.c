/*
 * Unit tests for the configuration file's syntax (tui/config.c), the
 * ~/.netrc reader (tui/config_netrc.c) and the keys applied onto the
 * options (tui/cli_config.c through cli_parse): msmtp's format with
 * defaults, accounts and inheritance; quoting; errors that name the
 * file and the line; the mode check for a file holding a password;
 * command line > account > defaults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "tui/cli.h"
#include "tui/config.h"
#include "tui/lang.h"

static struct config *
parse(const char *text, char **err)
{
	*err = NULL;
	return config_parse("cfg", text, strlen(text), err);
}

static const char *
get(const struct config *cfg, const char *account, const char *key)
{
	const struct config_account *a = config_account_find(cfg, account);
	const struct config_setting *s;

	assert_non_null(a);
	s = config_get(a, key);
	return s != NULL ? s->value : NULL;
}

/* A stanza as msmtp's documentation writes it, pasted as it is. */
static void
test_msmtprc(void **state)
{
	static const char text[] =
	    "# Set default values for all following accounts.\n"
	    "defaults\n"
	    "auth           on\n"
	    "tls            on\n"
	    "tls_trust_file /etc/ssl/certs/ca-certificates.crt\n"
	    "logfile        ~/.msmtp.log\n"
	    "\n"
	    "# Gmail\n"
	    "account        gmail\n"
	    "host           smtp.gmail.com\n"
	    "port           587\n"
	    "from           username@gmail.com\n"
	    "user           username\n"
	    "password       plain-text-password\n"
	    "\n"
	    "# A freemail service\n"
	    "account        freemail : gmail\n"
	    "host           smtp.freemail.example\n"
	    "from           joe_smith@freemail.example\n"
	    "passwordeval   \"gpg --no-tty -q -d ~/.msmtp-password.gpg\"\n"
	    "\n"
	    "# Set a default account\n"
	    "account default : gmail\r\n";
	char *err;
	struct config *cfg = parse(text, &err);

	(void)state;
	assert_null(err);
	assert_non_null(cfg);
	assert_int_equal(cfg->nacc, 4);
	assert_true(cfg->has_password);
	assert_string_equal(get(cfg, "gmail", "host"), "smtp.gmail.com");
	assert_string_equal(get(cfg, "gmail", "auth"), "on"); /* defaults */
	assert_string_equal(get(cfg, "freemail", "port"), "587"); /* parent */
	assert_string_equal(
	    get(cfg, "freemail", "host"), "smtp.freemail.example");
	assert_string_equal(get(cfg, "freemail", "passwordeval"),
	    "gpg --no-tty -q -d ~/.msmtp-password.gpg");
	assert_string_equal(get(cfg, "default", "user"), "username");
	assert_null(get(cfg, NULL, "host"));
	assert_int_equal(
	    config_get(config_account_find(cfg, "gmail"), "host")->line, 10);
	config_free(cfg);
}

static void
test_quotes_and_blanks(void **state)
{
	char *err;
	struct config *cfg =
	    parse("account a\n"
	          "  from   \"Joe \\\"J\\\" <j@x.example>\"  \n"
	          "\tdomain\tmail.example  \n"
	          "tls\n",
	        &err);

	(void)state;
	assert_non_null(cfg);
	assert_string_equal(get(cfg, "a", "from"), "Joe \"J\" <j@x.example>");
	assert_string_equal(get(cfg, "a", "domain"), "mail.example");
	assert_string_equal(get(cfg, "a", "tls"), "");
	config_free(cfg);
}

/* Defaults apply to the accounts defined after them, as in msmtp. */
static void
test_defaults_order(void **state)
{
	char *err;
	struct config *cfg = parse("account early\nhost e\n"
	                           "defaults\nport 2525\n"
	                           "account late\nhost l\nport 26\n"
	                           "account later\nhost m\n",
	    &err);

	(void)state;
	assert_non_null(cfg);
	assert_null(get(cfg, "early", "port"));
	assert_string_equal(get(cfg, "late", "port"), "26");
	assert_string_equal(get(cfg, "later", "port"), "2525");
	config_free(cfg);
}

static void
expect_error(const char *text, const char *want)
{
	char *err = NULL;
	struct config *cfg = parse(text, &err);

	assert_null(cfg);
	assert_non_null(err);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	free(err);
}

static void
test_errors_name_the_line(void **state)
{
	(void)state;
	expect_error("account a\nhost x\naccount b : nope\n",
	    "cfg:3: account \"b\" inherits from \"nope\"");
	expect_error("account a\naccount a\n",
	    "cfg:2: account \"a\" is "
	    "already defined");
	expect_error("account\n", "cfg:1: account wants a NAME");
	expect_error("account a :\n", "cfg:1: an empty parent name");
	expect_error("\n\nfrom \"unterminated\n", "cfg:3: the value's quote");
	expect_error("from \"a\" b\n", "cfg:1: text after the closing quote");
	expect_error("Host x\n", "cfg:1: \"Host\" is not a keyword");
	expect_error("defaults now\n", "cfg:1: defaults takes no value");
	{
		char *err = NULL;

		assert_null(config_parse("cfg", "host a\0b\n", 9, &err));
		assert_non_null(strstr(err, "NUL"));
		free(err);
	}
}

static char *
write_file(const char *text, mode_t mode)
{
	char path[] = "/tmp/ehlo-test-config-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	(void)close(fd);
	return xstrdup(path);
}

static void
test_mode_check(void **state)
{
	char *p644 = write_file("account a\npassword s3cr3t\n", 0644);
	char *p600 = write_file("account a\npassword s3cr3t\n", 0600);
	char *nopw = write_file("account a\nhost x\n", 0644);
	struct config *cfg;
	char *err;

	(void)state;
	assert_null(config_load(p644, 1, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "chmod 600"));
	assert_non_null(strstr(err, p644));
	free(err);
	assert_non_null(cfg = config_load(p600, 1, &err));
	config_free(cfg);
	assert_non_null(cfg = config_load(nopw, 1, &err));
	config_free(cfg);
	assert_null(config_load("/nonexistent/ehlo/config", 0, &err));
	assert_null(err);
	assert_null(config_load("/nonexistent/ehlo/config", 1, &err));
	assert_non_null(err);
	free(err);
	(void)unlink(p644);
	(void)unlink(p600);
	(void)unlink(nopw);
	free(p644);
	free(p600);
	free(nopw);
}

static void
test_netrc(void **state)
{
	char *path = write_file("machine mx.example.org login bob password "
	                        "b0b\n"
	                        "macdef init\ncd /pub\n\n"
	                        "machine other.example login \"al ice\" "
	                        "password \"p w\\\"d\"\n"
	                        "default login anon password an0n\n",
	    0600);
	char *login, *pw, *err = NULL;

	(void)state;
	assert_int_equal(config_netrc_lookup(
	                     path, "MX.example.org", NULL, &login, &pw, &err),
	    0);
	assert_string_equal(login, "bob");
	assert_string_equal(pw, "b0b");
	free(login);
	secret_free_str(pw);
	assert_int_equal(config_netrc_lookup(path, "other.example", "al ice",
	                     &login, &pw, &err),
	    0);
	assert_string_equal(pw, "p w\"d");
	free(login);
	secret_free_str(pw);
	/* Another user: the host's entry does not answer; default does
	 * not either (its login differs). */
	assert_int_equal(config_netrc_lookup(path, "mx.example.org", "carol",
	                     &login, &pw, &err),
	    0);
	assert_null(pw);
	assert_int_equal(config_netrc_lookup(
	                     path, "unknown.example", NULL, &login, &pw, &err),
	    0);
	assert_string_equal(login, "anon");
	free(login);
	secret_free_str(pw);
	(void)unlink(path);
	free(path);
}

/* cli_parse with a configuration file: what lands in the options. */
static int
parse_args(struct cli_opts *o, const char *cfgtext, const char *a1,
    const char *a2, const char *a3)
{
	char *path = write_file(cfgtext, 0600);
	char *argv[10];
	int argc = 0, rc;

	argv[argc++] = (char *)"run";
	argv[argc++] = (char *)"--config";
	argv[argc++] = path;
	if (a1 != NULL)
		argv[argc++] = (char *)a1;
	if (a2 != NULL)
		argv[argc++] = (char *)a2;
	if (a3 != NULL)
		argv[argc++] = (char *)a3;
	argv[argc] = NULL;
	rc = cli_parse(argc, argv, CLI_O_CONN | CLI_O_HISTORY | CLI_O_SEND, o);
	(void)unlink(path);
	free(path);
	return rc;
}

static const char accounts[] = "defaults\n"
                               "timeout 7\n"
                               "tls on\n"
                               "domain defaults.example\n"
                               "account work\n"
                               "host mail.example.org\n"
                               "port 587\n"
                               "auth cram-md5\n"
                               "user bob\n"
                               "from bob@example.org\n"
                               "domain work.example\n"
                               "tls_starttls off\n"
                               "account v6 : work\n"
                               "host 2001:db8::25\n"
                               "history off\n";

static void
test_apply_precedence(void **state)
{
	struct cli_opts o;

	(void)state;
	/* The account over the defaults. */
	assert_int_equal(parse_args(&o, accounts, "-a", "work", NULL), 0);
	assert_string_equal(o.cfg_server, "mail.example.org:587");
	assert_string_equal(o.auth, "CRAM-MD5");
	assert_string_equal(o.user, "bob");
	assert_string_equal(o.from, "bob@example.org");
	assert_string_equal(o.helo, "work.example");
	assert_int_equal(o.timeout_ms, 7000);
	assert_true(o.tls && !o.starttls); /* tls_starttls off */
	cli_opts_free(&o);
	/* The command line over the account. */
	assert_int_equal(parse_args(&o, accounts, "--account=work",
	                     "--starttls", "--helo=cli.example"),
	    0);
	assert_true(o.starttls && !o.tls);
	assert_string_equal(o.helo, "cli.example");
	cli_opts_free(&o);
	assert_int_equal(
	    parse_args(&o, accounts, "-a", "work", "--timeout=2"), 0);
	assert_int_equal(o.timeout_ms, 2000);
	cli_opts_free(&o);
	/* Only the defaults without -a (no account "default"). */
	assert_int_equal(parse_args(&o, accounts, NULL, NULL, NULL), 0);
	assert_null(o.cfg_server);
	assert_null(o.auth);
	assert_string_equal(o.helo, "defaults.example");
	assert_true(o.starttls);
	cli_opts_free(&o);
	/* Inheritance and an IPv6 host. */
	assert_int_equal(parse_args(&o, accounts, "-a", "v6", NULL), 0);
	assert_string_equal(o.cfg_server, "[2001:db8::25]:587");
	assert_true(o.no_history);
	cli_opts_free(&o);
}

static void
test_apply_errors(void **state)
{
	struct cli_opts o;

	(void)state;
	assert_int_equal(parse_args(&o, accounts, "-a", "nope", NULL), -1);
	cli_opts_free(&o);
	assert_int_equal(
	    parse_args(&o, "account a\nport 0\n", "-a", "a", NULL), -1);
	cli_opts_free(&o);
	assert_int_equal(
	    parse_args(&o, "account a\ntls maybe\n", "-a", "a", NULL), -1);
	cli_opts_free(&o);
	assert_int_equal(
	    parse_args(&o, "account a\nauth ntlm\n", "-a", "a", NULL), -1);
	cli_opts_free(&o);
	/* msmtp's keywords ehlo does not use: reported, not fatal. */
	assert_int_equal(
	    parse_args(&o, "account a\nlogfile x\nsyslog on\nhost h\n", "-a",
	        "a", NULL),
	    0);
	assert_string_equal(o.cfg_server, "h");
	cli_opts_free(&o);
}

/* ehlo's own keys and msmtp's that map onto options. */
static void
test_apply_other_keys(void **state)
{
	struct cli_opts o;

	(void)state;
	assert_int_equal(parse_args(&o,
	                     "account a\n"
	                     "allow_plaintext_auth on\n"
	                     "tls_certcheck off\n"
	                     "tls_trust_file /etc/passwd\n"
	                     "tls_host_override mx.example.org\n"
	                     "dsn_notify failure,delay\n"
	                     "dsn_return headers\n"
	                     "theme high-contrast\n"
	                     "history_db /tmp/ehlo-test.db\n"
	                     "tls off\n",
	                     "-a", "a", NULL),
	    0);
	assert_true(o.allow_plaintext_auth);
	assert_true(o.insecure);
	/* any readable file passes the option check (not parsed here) */
	assert_string_equal(o.cafile, "/etc/passwd");
	assert_string_equal(o.tls_name, "mx.example.org");
	assert_string_equal(o.notify, "failure,delay");
	assert_string_equal(o.ret, "HDRS");
	assert_string_equal(o.theme, "high-contrast");
	assert_string_equal(o.db, "/tmp/ehlo-test.db");
	assert_true(o.no_starttls && !o.starttls && !o.tls);
	cli_opts_free(&o);
	/* Without the key the option stays off; system trust stays NULL. */
	assert_int_equal(parse_args(&o,
	                     "account a\nallow_plaintext_auth off\n"
	                     "tls_trust_file system\n",
	                     "-a", "a", NULL),
	    0);
	assert_false(o.allow_plaintext_auth);
	assert_null(o.cafile);
	cli_opts_free(&o);
	assert_int_equal(parse_args(&o, "account a\nallow_plaintext_auth yes\n",
	                     "-a", "a", NULL),
	    -1);
	cli_opts_free(&o);
}

/* The password goes to the secret store and out of the file's copy. */
static void
test_password_store(void **state)
{
	struct cli_opts o;

	(void)state;
	assert_null(lang_secret_env());
	assert_int_equal(parse_args(&o,
	                     "account a\nauth plain\nuser u\npassword "
	                     "pw-from-config\n",
	                     "-a", "a", NULL),
	    0);
	assert_string_equal(lang_secret_env(), "pw-from-config");
	cli_opts_free(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_msmtprc),
	    cmocka_unit_test(test_quotes_and_blanks),
	    cmocka_unit_test(test_defaults_order),
	    cmocka_unit_test(test_errors_name_the_line),
	    cmocka_unit_test(test_mode_check),
	    cmocka_unit_test(test_netrc),
	    cmocka_unit_test(test_apply_precedence),
	    cmocka_unit_test(test_apply_errors),
	    cmocka_unit_test(test_apply_other_keys),
	    cmocka_unit_test(test_password_store),
	};

	/* No user configuration may leak into these tests. */
	(void)setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
	(void)unsetenv("EHLO_PASSWORD");
	(void)unsetenv("EHLO_DB");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
