/*
 * The practice server's mailboxes: the accounts, the local parts with
 * their teaching behaviour (lists, unknown users, full mailboxes,
 * greylisting, slow answers, hang-ups) and the triggers HELP lists;
 * delivery of an accepted message into inbox/<folder>/ as one file with
 * a Received: header; and the inbox listing for `ehlo practice --inbox`
 * and the lessons.
 *
 *   RFC 5321 4.4 (trace information)   RFC 3848 ("with" types)
 *   RFC 5322 3.3 (the date)
 */
#include "protocol/practice/practice_int.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/mime_words.h"

/* ---- mailboxes, accounts, triggers ------------------------------------- */

const struct practice_account practice_accounts[] = {
    {"alice", "wonderland", "Alice Liddell"},
    {"bob", "builder", "Bob the Builder"},
    {"carol", "christmas", "Carol Singer"},
};

size_t
practice_account_count(void)
{
	return PC_NACCOUNTS;
}

const struct practice_account *
practice_account_at(size_t i)
{
	return i < PC_NACCOUNTS ? &practice_accounts[i] : NULL;
}

/* The list staff@ and its members (in order). */
const char *const practice_staff[] = {"alice", "bob", "carol"};

static const struct pc_local practice_locals[] = {
    {"alice", K_MAILBOX, NULL},
    {"bob", K_MAILBOX, NULL},
    {"carol", K_MAILBOX, NULL},
    {"postmaster", K_MAILBOX, NULL},
    {"staff", K_LIST, NULL},
    {"unknown", K_UNKNOWN, "550 5.1.1 user unknown (so does any other name)"},
    {"full", K_FULL, "552 5.2.2 mailbox full"},
    {"greylist", K_GREY,
        "450 4.7.1 greylisted; the same client and sender are accepted "
        "when they retry after 5 seconds"},
    {"tempfail", K_TEMPFAIL, "451 4.3.0 temporary local problem"},
    {"slow", K_SLOW, "250, but only after 10 seconds (try --timeout)"},
    {"bye", K_BYE, "421 4.3.2 and the server hangs up"},
    {"toomany", K_TOOMANY, "452 4.5.3 too many recipients"},
    {"badcontent", K_CONTENT,
        "250, then 554 5.7.1 content rejected after the final dot"},
};
#define PC_NLOCALS (sizeof practice_locals / sizeof practice_locals[0])

const struct practice_trigger practice_triggers[] = {
    {"unknown@practice.test", "550 5.1.1 user unknown (any unknown name)"},
    {"full@practice.test", "552 5.2.2 mailbox full"},
    {"greylist@practice.test",
        "450 4.7.1 greylisted; accepted when the same client and sender "
        "retry after 5 seconds"},
    {"tempfail@practice.test", "451 4.3.0 temporary local problem"},
    {"slow@practice.test", "250 only after 10 seconds (for timeouts)"},
    {"bye@practice.test", "421 4.3.2 and the server hangs up"},
    {"anyone@other.example",
        "554 5.7.1 relay access denied (accepted after AUTH; kept in "
        "inbox/relay, never sent out)"},
    {"MAIL FROM:<...> SIZE=2000000",
        "552 5.3.4 over the 1048576-octet limit (so is a longer message)"},
    {"toomany@practice.test", "452 4.5.3 too many recipients"},
    {"MAIL FROM:<blocked@practice.test>",
        "550 5.7.1 sender address rejected (a policy)"},
    {"badcontent@practice.test",
        "250 to RCPT, then 554 5.7.1 content rejected after the final dot"},
    {"talking before the 220 (--greet-pause MS)",
        "554 5.5.1 and the server hangs up (an early talker)"},
};

size_t
practice_trigger_count(void)
{
	return PC_NTRIGGERS;
}

const struct practice_trigger *
practice_trigger_at(size_t i)
{
	return i < PC_NTRIGGERS ? &practice_triggers[i] : NULL;
}

const char *
practice_known_address_at(size_t i)
{
	static char known[PC_NLOCALS + 2][64];
	static int made;
	size_t k;

	if (!made) {
		for (k = 0; k < PC_NLOCALS; k++)
			(void)snprintf(known[k], sizeof known[k], "%s@%s",
			    practice_locals[k].name, PRACTICE_DOMAIN);
		(void)snprintf(
		    known[k++], sizeof known[0], "%s", PC_BLOCKED_SENDER);
		(void)snprintf(
		    known[k], sizeof known[0], "%s", "anyone@other.example");
		made = 1;
	}
	return i < PC_NLOCALS + 2 ? known[i] : NULL;
}

const struct pc_local *
pc_local_find(const char *local, size_t n)
{
	size_t i;

	for (i = 0; i < PC_NLOCALS; i++)
		if (pc_word_is(local, n, practice_locals[i].name))
			return &practice_locals[i];
	return NULL;
}

/* ---- delivery ----------------------------------------------------------- */

static const char *const pc_days[] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const pc_months[] = {"Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* RFC 5322 date-time in UTC, independent of the locale. */
static void
pc_date(char *out, size_t n, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	(void)snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    pc_days[tm.tm_wday % 7], tm.tm_mday, pc_months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Header-safe copy of client text: no control characters. */
static void
pc_header_safe(char *out, size_t outsz, const char *s)
{
	size_t k = 0;

	for (; *s != '\0' && k + 1 < outsz; s++)
		out[k++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	out[k] = '\0';
}

static int
pc_mkdir(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
pc_write_all(int fd, const char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Writes one copy into inbox/<folder>/<time>.<n>.eml (via a temp name). */
static int
pc_store(struct pconn *c, const char *folder, const char *rcpt, const char *qid,
    char **where)
{
	struct practice *p = c->p;
	char date[64], helo[256], from[520], to[520];
	char *dir, *tmp, *final = NULL, *head;
	const char *with;
	time_t now = time(NULL);
	int fd, rc = -1;
	unsigned tries;

	dir = xasprintf("%s/%s", p->inbox, folder);
	if (pc_mkdir(p->inbox) == -1 || pc_mkdir(dir) == -1) {
		free(dir);
		return -1;
	}
	tmp = xasprintf("%s/.tmp.%ld.%u", dir, (long)getpid(), p->next_msg);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		free(tmp);
		free(dir);
		return -1;
	}
	pc_date(date, sizeof date, now);
	pc_header_safe(helo, sizeof helo, c->helo_name);
	pc_header_safe(from, sizeof from, c->mail);
	pc_header_safe(to, sizeof to, rcpt);
	if (c->smtputf8)
		with = c->tls ? (c->auth_user ? "UTF8SMTPSA" : "UTF8SMTPS")
		              : (c->auth_user ? "UTF8SMTPA" : "UTF8SMTP");
	else if (c->helo == 1)
		with = "SMTP";
	else
		with = c->tls ? (c->auth_user ? "ESMTPSA" : "ESMTPS")
		              : (c->auth_user ? "ESMTPA" : "ESMTP");
	head = xasprintf("Return-Path: <%s>\r\n"
	                 "Received: from %s (%s)\r\n"
	                 "\tby practice.test (ehlo practice server) with %s "
	                 "id %s%s%s%s\r\n"
	                 "\tfor <%s>; %s\r\n",
	    from, helo, c->peer, with, qid, c->tls ? "\r\n\t(using " : "",
	    c->tls ? SSL_get_version(c->ssl) : "", c->tls ? ")" : "", to, date);
	if (pc_write_all(fd, head, strlen(head)) == 0 &&
	    pc_write_all(fd, buf_peek(&c->msg), buf_used(&c->msg)) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		for (tries = 0; tries < 1000; tries++) {
			free(final);
			final = xasprintf("%s/%lld.%u.eml", dir, (long long)now,
			    p->next_msg++);
			if (link(tmp, final) == 0) {
				rc = 0;
				break;
			}
			if (errno != EEXIST)
				break;
		}
	}
	if (fd != -1)
		(void)close(fd);
	(void)unlink(tmp);
	free(head);
	free(tmp);
	free(dir);
	if (rc == 0)
		*where = final;
	else
		free(final);
	return rc;
}

/* The inbox folder of an accepted recipient, or NULL for a list. */
static const char *
pc_folder(const char *rcpt, char *out, size_t outsz)
{
	const char *at = strrchr(rcpt, '@');
	size_t n = at != NULL ? (size_t)(at - rcpt) : strlen(rcpt), i;

	if (at != NULL && strcasecmp(at + 1, PRACTICE_DOMAIN) != 0)
		return "relay";
	if (n >= outsz)
		n = outsz - 1;
	for (i = 0; i < n; i++)
		out[i] = pc_lower(rcpt[i]);
	out[n] = '\0';
	if (strcmp(out, "staff") == 0)
		return NULL;
	return out;
}

/*
 * Delivers one copy per inbox folder (a list expands to its members; a
 * member named twice gets one copy); -1 if any copy failed.
 */
int
pc_deliver(struct pconn *c, const char *qid)
{
	char folder[64], *where, **done = NULL;
	const char *f, *dest;
	size_t i, k, d, ndone = 0;
	int rc = 0;

	for (i = 0; i < c->nrcpts; i++) {
		f = pc_folder(c->rcpts[i], folder, sizeof folder);
		for (k = 0; k < (f == NULL ? 3 : 1); k++) {
			dest = f != NULL ? f : practice_staff[k];
			for (d = 0; d < ndone; d++)
				if (strcmp(done[d], dest) == 0)
					break;
			if (d < ndone && strcmp(dest, "relay") != 0)
				continue;
			done = xreallocarray(done, ndone + 1, sizeof *done);
			done[ndone++] = xstrdup(dest);
			if (pc_store(c, dest, c->rcpts[i], qid, &where) == -1) {
				pc_log(c, "cannot store a copy for %s: %s",
				    dest, strerror(errno));
				rc = -1;
				continue;
			}
			pc_log(c, "delivered %llu octets to %s",
			    (unsigned long long)buf_used(&c->msg), where);
			free(where);
		}
	}
	for (d = 0; d < ndone; d++)
		free(done[d]);
	free(done);
	return rc;
}

/* ---- the inbox ------------------------------------------------------------ */

/*
 * A header value from p (after "Name:") up to the end of the header
 * field: unfolded (each CRLF before a blank dropped), its RFC 2047
 * encoded-words decoded for display (the caller escapes it).
 */
static char *
subject_value(const char *p, const char *end)
{
	struct buf b;
	const char *eol;
	char *s;

	buf_init(&b, 0);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (;;) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		(void)buf_add(&b, p,
		    (size_t)(eol > p && eol[-1] == '\r' ? eol - 1 - p
		                                        : eol - p));
		if (eol + 1 >= end || (eol[1] != ' ' && eol[1] != '\t'))
			break;
		p = eol + 1;
	}
	s = smtp_mime_decode_words(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	return s;
}

/* The Subject: value of a stored message (first 64 KiB), or "". */
static char *
practice_subject(const char *path)
{
	char buf[65536], *s = NULL;
	const char *p, *end, *eol;
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return xstrdup("");
	n = fread(buf, 1, sizeof buf - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	for (p = buf, end = buf + n; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			break; /* end of the header */
		if (strncasecmp(p, "Subject:", 8) == 0) {
			s = subject_value(p + 8, end);
			break;
		}
	}
	return s != NULL ? s : xstrdup("");
}

static int
practice_msg_cmp(const void *a, const void *b)
{
	const struct practice_message *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->path, y->path);
}

int
practice_inbox_list(const char *datadir, struct practice_message **out,
    size_t *n, char **errstr)
{
	char *dd = NULL, *inbox, *udir;
	DIR *top, *d;
	struct dirent *u, *e;
	struct practice_message *v = NULL;
	size_t nv = 0;
	struct stat st;

	if (datadir == NULL && (dd = practice_default_dir(errstr)) == NULL)
		return -1;
	inbox = xasprintf("%s/inbox", datadir != NULL ? datadir : dd);
	free(dd);
	*out = NULL;
	*n = 0;
	if ((top = opendir(inbox)) == NULL) {
		if (errno == ENOENT) {
			free(inbox);
			return 0;
		}
		*errstr =
		    xasprintf("cannot read %s: %s", inbox, strerror(errno));
		free(inbox);
		return -1;
	}
	while ((u = readdir(top)) != NULL) {
		if (u->d_name[0] == '.')
			continue;
		udir = xasprintf("%s/%s", inbox, u->d_name);
		if ((d = opendir(udir)) == NULL) {
			free(udir);
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			size_t len = strlen(e->d_name);
			char *path;

			if (e->d_name[0] == '.' || len < 5 ||
			    strcmp(e->d_name + len - 4, ".eml") != 0)
				continue;
			path = xasprintf("%s/%s", udir, e->d_name);
			if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
				free(path);
				continue;
			}
			v = xreallocarray(v, nv + 1, sizeof *v);
			v[nv].user = xstrdup(u->d_name);
			v[nv].path = path;
			v[nv].size = (uint64_t)st.st_size;
			v[nv].mtime = (int64_t)st.st_mtime;
			v[nv].subject = practice_subject(path);
			nv++;
		}
		(void)closedir(d);
		free(udir);
	}
	(void)closedir(top);
	free(inbox);
	if (nv > 1)
		qsort(v, nv, sizeof *v, practice_msg_cmp);
	*out = v;
	*n = nv;
	return 0;
}

void
practice_inbox_free(struct practice_message *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].user);
		free(v[i].path);
		free(v[i].subject);
	}
	free(v);
}
