/*
 * The practice server's connection limits (issue 21 item 10), after
 * Postfix's anvil: a total and a per-address count of connections.  A
 * newcomer past either limit takes the place of the connection (of the
 * same address, for the per-address limit) that has gone longest
 * without sending a complete line, provided that is over
 * PRACTICE_EVICT_MS; so a slowloris flood, which trickles bytes and
 * never finishes a line, cannot keep a real client out.  Without such
 * a connection the newcomer gets 421 4.7.0 and is closed: it always
 * hears something.  The total stays below the process's descriptor
 * limit (raised to its hard limit when needed), so accept(2) never
 * fails with EMFILE and leaves clients without a greeting.
 *
 *   RFC 5321 3.8 (421 and closing)   RFC 3463 (4.7.0)
 */
#include "protocol/practice/practice_int.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"

void
pc_limits_init(struct practice *p)
{
	size_t cap = p->o.max_conns ? p->o.max_conns : PRACTICE_MAX_CONNS;
	size_t want = cap + PC_FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want)
			rl.rlim_cur = want;
		else
			rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
			cap = rl.rlim_cur > 2 * PC_FD_RESERVE
			    ? rl.rlim_cur - PC_FD_RESERVE
			    : rl.rlim_cur / 2;
			if (cap == 0)
				cap = 1;
			practice_log(p,
			    "at most %zu connections (the descriptor limit is "
			    "%llu)",
			    cap, (unsigned long long)rl.rlim_cur);
		}
	}
	p->max_conns = cap;
	p->max_per_addr =
	    p->o.max_per_addr ? p->o.max_per_addr : PRACTICE_MAX_PER_ADDR;
}

/* Waiting on the server (a greeting pause, a teaching delay)? */
static int
waits_on_us(const struct pconn *c)
{
	return !c->greeted || c->paused || c->slow_timer != 0;
}

/* The live connection (of peer, unless NULL) longest without a line. */
static struct pconn *
stalest(struct practice *p, const char *peer, size_t *same)
{
	struct pconn *c, *best = NULL;

	*same = 0;
	for (c = p->conns; c != NULL; c = c->next) {
		if (peer != NULL && strcmp(c->peer, peer) != 0)
			continue;
		if (!c->dead)
			++*same;
		if (c->dead || c->closing || waits_on_us(c))
			continue;
		if (best == NULL || c->progress_us < best->progress_us)
			best = c;
	}
	return best;
}

static void
evict(struct pconn *c, const char *why)
{
	static const char bye[] = "421 4.7.0 practice.test Closing the "
	                          "slowest connection to serve another "
	                          "client\r\n";

	pc_log(c, "evicted (%s): no complete line for %llu ms", why,
	    (unsigned long long)((loop_now_us() - c->progress_us) / 1000u));
	/* Plain text only where the connection is plain. */
	if (c->ssl == NULL)
		(void)send(c->fd, bye, sizeof bye - 1, MSG_NOSIGNAL);
	c->dead = 1;
	pc_free(c);
}

int
pc_admit(struct practice *p, int fd, const char *peer)
{
	static const char busy[] = "421 4.7.0 practice.test Too many "
	                           "connections; try again later\r\n";
	static const char busy_addr[] = "421 4.7.0 practice.test Too many "
	                                "connections from your address; try "
	                                "again later\r\n";
	uint64_t now = loop_now_us();
	struct pconn *v;
	size_t n;
	int per;

	v = stalest(p, peer, &n);
	per = n >= p->max_per_addr;
	if (!per && p->nconns < p->max_conns)
		return 1;
	if (!per)
		v = stalest(p, NULL, &n);
	if (v != NULL && now - v->progress_us >= PRACTICE_EVICT_MS * 1000u) {
		evict(v, per ? "per-address limit" : "connection limit");
		return 1;
	}
	practice_log(p, "%s: %s; refused with 421", peer,
	    per ? "too many connections from this address"
	        : "too many connections");
	if (per)
		(void)send(fd, busy_addr, sizeof busy_addr - 1, MSG_NOSIGNAL);
	else
		(void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
	(void)close(fd);
	return 0;
}
