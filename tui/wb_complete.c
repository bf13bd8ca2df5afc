/*
 * Tab completion in the workbench: the context handed to smtp_complete()
 * (the session's state and extensions, addresses seen, draft numbers,
 * themes, lessons, probes), and the list of matches shown under the
 * dialogue.  Addresses come from typed envelopes, drafts, the envelopes
 * of the last saved sessions, the built-in practice server's mailboxes
 * and triggers, and the addresses a server's HELP reply lists (so a
 * practice server on another machine teaches its own).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/escape.h"
#include "core/xmalloc.h"
#include "history/history.h"
#include "protocol/client.h"
#include "protocol/complete.h"
#include "protocol/lesson.h"
#include "protocol/practice.h"
#include "protocol/probe.h"
#include "protocol/sasl.h"
#include "protocol/why.h"
#include "tui/draft.h"
#include "tui/rl.h"
#include "tui/wb.h"

void
wb_matches_clear(struct wb *wb)
{
	wb_strv_free(&wb->cmp.matches, &wb->cmp.nmatches);
	free(wb->cmp.line);
	wb->cmp.line = NULL;
	wb->dirty = 1;
}

/*
 * Where AUTH LOGIN asks for the user name (a SASL exchange typed by
 * hand), the accounts' names in base64, as the line must carry them;
 * else none.  Allocated, NULL-terminated.
 */
static char **
sasl_user_candidates(struct wb *wb, size_t *n)
{
	const char *prompt;
	char **v;
	size_t i;

	*n = 0;
	(void)smtp_why_sasl(wb->conn.session, &prompt);
	if (strcmp(prompt, "sasl b64(user)> ") != 0)
		return NULL;
	v = xcalloc(wb->cmp.naccounts + 1, sizeof *v);
	for (i = 0; i < wb->cmp.naccounts; i++)
		v[(*n)++] = sasl_b64_encode(
		    wb->cmp.accounts[i], strlen(wb->cmp.accounts[i]));
	return v;
}

char **
wb_on_complete(const char *line, int start, int end, void *arg)
{
	struct wb *wb = arg;
	struct smtp_complete_ctx ctx;
	struct smtp_completion c;
	char **out, **themes, **sasl;
	size_t i, nthemes = 0, nsasl;

	memset(&ctx, 0, sizeof ctx);
	ctx.state = smtp_session_state(wb->conn.session);
	ctx.caps = smtp_session_caps(wb->conn.session);
	ctx.lmtp = smtp_session_is_lmtp(wb->conn.session);
	ctx.addresses.items = (const char *const *)wb->cmp.addresses;
	ctx.addresses.n = wb->cmp.naddresses;
	ctx.hosts.items = (const char *const *)&wb->conn.helo;
	ctx.hosts.n = 1;
	{
		char *dir = theme_user_dir();

		themes = theme_list(dir, &nthemes);
		free(dir);
	}
	ctx.themes.items = (const char *const *)themes;
	ctx.themes.n = nthemes;
	ctx.slash = wb->cmp.slash;
	ctx.nslash = wb->cmp.nslash;
	ctx.drafts.items = (const char *const *)wb->cmp.draft_ids;
	ctx.drafts.n = wb->cmp.ndraft_ids;
	{
		static const char *lessons[64], *probes[32];
		size_t k, nl = 0, np = 0;

		for (k = 0; k < lesson_count() && nl < 64; k++)
			lessons[nl++] = lesson_at(k)->name;
		for (k = 0; smtp_probes[k].name != NULL && np < 32; k++)
			probes[np++] = smtp_probes[k].name;
		ctx.lessons.items = lessons;
		ctx.lessons.n = nl;
		ctx.probes.items = probes;
		ctx.probes.n = np;
	}
	ctx.accounts.items = (const char *const *)wb->cmp.accounts;
	ctx.accounts.n = wb->cmp.naccounts;
	sasl = sasl_user_candidates(wb, &nsasl);
	ctx.sasl.items = (const char *const *)sasl;
	ctx.sasl.n = nsasl;
	(void)smtp_complete(line, (size_t)end, &ctx, &c);
	wb_strv_free(&sasl, &nsasl);
	theme_list_free(themes);
	if (c.want_files) {
		smtp_completion_free(&c);
		return rl_glue_complete_files(line + start, end - start);
	}
	out = xcalloc(c.nmatches + 1, sizeof *out);
	for (i = 0; i < c.nmatches; i++)
		out[i] = xstrdup(c.matches[i]);
	rl_glue_set_append(c.nmatches == 1 ? c.append : 0);
	smtp_completion_free(&c);
	return out;
}

void
wb_on_show_matches(char **matches, int n, void *arg)
{
	struct wb *wb = arg;
	int i;

	wb_matches_clear(wb);
	wb->cmp.matches = xcalloc((size_t)n, sizeof *wb->cmp.matches);
	for (i = 1; i <= n; i++)
		wb->cmp.matches[wb->cmp.nmatches++] =
		    escape_dup(matches[i], strlen(matches[i]));
	wb->cmp.line = xstrdup(rl_glue_line());
}

void
wb_remember_address(struct wb *wb, const char *line)
{
	const char *lt = strchr(line, '<'), *gt;
	size_t i, n;

	if (lt == NULL || (gt = strchr(lt, '>')) == NULL || gt == lt + 1)
		return;
	n = (size_t)(gt - lt - 1);
	if (n > 254)
		return;
	for (i = 0; i < wb->cmp.naddresses; i++)
		if (strlen(wb->cmp.addresses[i]) == n &&
		    strncasecmp(wb->cmp.addresses[i], lt + 1, n) == 0)
			return;
	if (wb->cmp.naddresses >= 200)
		return;
	wb->cmp.addresses = xreallocarray(wb->cmp.addresses,
	    wb->cmp.naddresses + 1, sizeof *wb->cmp.addresses);
	wb->cmp.addresses[wb->cmp.naddresses++] = xstrndup(lt + 1, n);
}

static void
learn_one(const char *addr, size_t n, void *arg)
{
	char *line = xasprintf("<%.*s>", (int)n, addr);

	wb_remember_address(arg, line);
	free(line);
}

static void
learn_account(const char *user, size_t n, void *arg)
{
	struct wb *wb = arg;
	size_t i;

	for (i = 0; i < wb->cmp.naccounts; i++)
		if (strlen(wb->cmp.accounts[i]) == n &&
		    strncmp(wb->cmp.accounts[i], user, n) == 0)
			return;
	if (wb->cmp.naccounts >= 50)
		return;
	wb->cmp.accounts = xreallocarray(
	    wb->cmp.accounts, wb->cmp.naccounts + 1, sizeof *wb->cmp.accounts);
	wb->cmp.accounts[wb->cmp.naccounts++] = xstrndup(user, n);
}

void
wb_learn_help_addresses(struct wb *wb, const struct smtp_event *ev)
{
	const struct smtp_stage *st = ev->stage;
	size_t i;

	if (st == NULL || st->command == NULL || ev->reply == NULL ||
	    ev->reply->code / 100 != 2 ||
	    strncasecmp(st->command, "HELP", 4) != 0)
		return;
	for (i = 0; i < ev->reply->nlines; i++) {
		(void)smtp_complete_scan_addresses(ev->reply->lines[i].text,
		    ev->reply->lines[i].len, learn_one, wb);
		(void)smtp_complete_scan_accounts(ev->reply->lines[i].text,
		    ev->reply->lines[i].len, learn_account, wb);
	}
}

void
wb_learn_practice_addresses(struct wb *wb)
{
	const char *a;
	size_t i;

	for (i = 0; (a = practice_known_address_at(i)) != NULL; i++)
		learn_one(a, strlen(a), wb);
	for (i = 0; i < practice_account_count(); i++)
		learn_account(practice_account_at(i)->user,
		    strlen(practice_account_at(i)->user), wb);
}

static void
remember_plain_address(struct wb *wb, const char *addr)
{
	char *line;

	/* "Name <a@b>" or "a@b": the part wb_remember_address() reads. */
	line =
	    strchr(addr, '<') != NULL ? xstrdup(addr) : xasprintf("<%s>", addr);
	wb_remember_address(wb, line);
	free(line);
}

static int
draft_ids_row(const struct hist_draft *d, void *arg)
{
	struct wb *wb = arg;
	struct draft_msg dm;
	char *err = NULL;
	size_t i;

	if (wb->cmp.ndraft_ids < 500) {
		wb->cmp.draft_ids = xreallocarray(wb->cmp.draft_ids,
		    wb->cmp.ndraft_ids + 1, sizeof *wb->cmp.draft_ids);
		wb->cmp.draft_ids[wb->cmp.ndraft_ids++] =
		    xasprintf("%lld", (long long)d->id);
	}
	if (draft_msg_load(&dm, d, &err) == -1) {
		free(err);
		return 0;
	}
	if (dm.msg.from != NULL)
		remember_plain_address(wb, dm.msg.from);
	for (i = 0; i < dm.msg.to.n; i++)
		remember_plain_address(wb, dm.msg.to.v[i]);
	for (i = 0; i < dm.msg.cc.n; i++)
		remember_plain_address(wb, dm.msg.cc.v[i]);
	draft_msg_free(&dm);
	return 0;
}

static int
history_addr_event(const struct hist_event *e, void *arg)
{
	struct wb *wb = arg;
	char *line;

	/* Envelopes come early in a session: do not read a long one whole. */
	if (++wb->cmp.scan_events > 2000)
		return 1;
	if (e->dir != 'C' || e->len < 10 || (e->flags & HIST_EV_CONTENT))
		return 0;
	if (strncasecmp(e->text, "MAIL FROM:", 10) != 0 &&
	    strncasecmp(e->text, "RCPT TO:", 8) != 0)
		return 0;
	line = xstrndup(e->text, e->len);
	wb_remember_address(wb, line);
	free(line);
	return 0;
}

static int
history_addr_session(const struct hist_session *hs, void *arg)
{
	struct wb *wb = arg;
	char *err = NULL;

	wb->cmp.scan_events = 0;
	if (hist_events_iter(wb->hist, hs->id, history_addr_event, wb, &err) ==
	    -1)
		free(err);
	return 0;
}

/* Draft numbers and the drafts' addresses, for completion. */
void
wb_load_draft_completions(struct wb *wb)
{
	char *err = NULL;

	wb_strv_free(&wb->cmp.draft_ids, &wb->cmp.ndraft_ids);
	if (wb->hist == NULL)
		return;
	if (hist_draft_list(wb->hist, draft_ids_row, wb, &err) == -1)
		free(err);
}

/* Addresses from the envelopes of the last sessions (once, at start). */
void
wb_load_history_completions(struct wb *wb)
{
	char *err = NULL;

	if (wb->hist != NULL &&
	    hist_session_list(
	        wb->hist, 20, NULL, history_addr_session, wb, &err) == -1)
		free(err);
}
