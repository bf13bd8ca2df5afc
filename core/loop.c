/*
 * The poll() loop.  Fds live in a flat array (a session has a handful),
 * timers in an unsorted array scanned each turn (a session has one or
 * two).  Signals are written as one byte each to a non-blocking self-pipe
 * by a tiny async-signal-safe handler and dispatched from the loop.
 */
#include "core/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/xmalloc.h"

struct loop_fd {
	int fd;
	int events;
	loop_fd_cb *cb;
	void *arg;
	int dead;
};

struct loop_timer {
	uint64_t id;
	uint64_t when_us;
	loop_timer_cb *cb;
	void *arg;
};

struct loop_sig {
	int signo;
	loop_signal_cb *cb;
	void *arg;
};

struct loop {
	struct loop_fd *fds;
	size_t nfds, capfds;
	struct loop_timer *timers;
	size_t ntimers, captimers;
	uint64_t next_timer_id;
	struct loop_sig sigs[8];
	size_t nsigs;
	struct pollfd *pfd; /* scratch for poll(), grown with fds */
	size_t cappfd;
	loop_hook_cb *before_sleep;
	void *before_sleep_arg;
	int stop;
};

static int sig_pipe[2] = {-1, -1};

uint64_t
loop_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatalx("clock_gettime failed");
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct loop *
loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof *l);

	l->next_timer_id = 1;
	return l;
}

void
loop_free(struct loop *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nsigs; i++)
		(void)signal(l->sigs[i].signo, SIG_DFL);
	free(l->fds);
	free(l->pfd);
	free(l->timers);
	free(l);
}

static struct loop_fd *
find_fd(struct loop *l, int fd)
{
	size_t i;

	for (i = 0; i < l->nfds; i++)
		if (l->fds[i].fd == fd && !l->fds[i].dead)
			return &l->fds[i];
	return NULL;
}

void
loop_fd_add(struct loop *l, int fd, int events, loop_fd_cb *cb, void *arg)
{
	struct loop_fd *f = find_fd(l, fd);

	if (f == NULL) {
		if (l->nfds == l->capfds) {
			l->capfds = l->capfds ? l->capfds * 2 : 8;
			l->fds =
			    xreallocarray(l->fds, l->capfds, sizeof *l->fds);
		}
		f = &l->fds[l->nfds++];
	}
	f->fd = fd;
	f->events = events;
	f->cb = cb;
	f->arg = arg;
	f->dead = 0;
}

void
loop_fd_set(struct loop *l, int fd, int events)
{
	struct loop_fd *f = find_fd(l, fd);

	if (f != NULL)
		f->events = events;
}

void
loop_fd_del(struct loop *l, int fd)
{
	struct loop_fd *f = find_fd(l, fd);

	if (f != NULL)
		f->dead = 1;
}

uint64_t
loop_timer_add(struct loop *l, uint64_t ms, loop_timer_cb *cb, void *arg)
{
	struct loop_timer *t;

	if (l->ntimers == l->captimers) {
		l->captimers = l->captimers ? l->captimers * 2 : 4;
		l->timers =
		    xreallocarray(l->timers, l->captimers, sizeof *l->timers);
	}
	t = &l->timers[l->ntimers++];
	t->id = l->next_timer_id++;
	t->when_us = loop_now_us() + ms * 1000u;
	t->cb = cb;
	t->arg = arg;
	return t->id;
}

void
loop_timer_del(struct loop *l, uint64_t id)
{
	size_t i;

	for (i = 0; i < l->ntimers; i++) {
		if (l->timers[i].id == id) {
			l->timers[i] = l->timers[--l->ntimers];
			return;
		}
	}
}

static void
sig_handler(int signo)
{
	int saved = errno;
	unsigned char c = (unsigned char)signo;

	if (sig_pipe[1] != -1)
		(void)!write(sig_pipe[1], &c, 1);
	errno = saved;
}

static void
sig_dispatch(int fd, int events, void *arg)
{
	struct loop *l = arg;
	unsigned char c[64];
	ssize_t n, i;
	size_t j;

	(void)events;
	while ((n = read(fd, c, sizeof c)) > 0)
		for (i = 0; i < n; i++)
			for (j = 0; j < l->nsigs; j++)
				if (l->sigs[j].signo == c[i])
					l->sigs[j].cb(c[i], l->sigs[j].arg);
}

int
loop_signal_add(struct loop *l, int signo, loop_signal_cb *cb, void *arg)
{
	struct sigaction sa;
	int i;

	if (l->nsigs == sizeof l->sigs / sizeof l->sigs[0])
		return -1;
	if (sig_pipe[0] == -1) {
		if (pipe(sig_pipe) == -1)
			return -1;
		for (i = 0; i < 2; i++) {
			(void)fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK);
			(void)fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
		}
	}
	loop_fd_add(l, sig_pipe[0], LOOP_READ, sig_dispatch, l);
	l->sigs[l->nsigs].signo = signo;
	l->sigs[l->nsigs].cb = cb;
	l->sigs[l->nsigs].arg = arg;
	l->nsigs++;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sig_handler;
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return sigaction(signo, &sa, NULL);
}

void
loop_set_before_sleep(struct loop *l, loop_hook_cb *cb, void *arg)
{
	l->before_sleep = cb;
	l->before_sleep_arg = arg;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

/*
 * Fires due timers earliest first (ties in the order they were added),
 * rescanning after each callback since it may add or delete timers.
 */
static void
run_timers(struct loop *l)
{
	uint64_t now = loop_now_us();
	size_t i, best;
	struct loop_timer t;

	for (;;) {
		best = SIZE_MAX;
		for (i = 0; i < l->ntimers; i++) {
			if (l->timers[i].when_us > now)
				continue;
			if (best == SIZE_MAX ||
			    l->timers[i].when_us < l->timers[best].when_us ||
			    (l->timers[i].when_us == l->timers[best].when_us &&
			        l->timers[i].id < l->timers[best].id))
				best = i;
		}
		if (best == SIZE_MAX)
			return;
		t = l->timers[best];
		l->timers[best] = l->timers[--l->ntimers];
		t.cb(t.arg);
	}
}

static void
compact_fds(struct loop *l)
{
	size_t i, j = 0;

	for (i = 0; i < l->nfds; i++)
		if (!l->fds[i].dead)
			l->fds[j++] = l->fds[i];
	l->nfds = j;
}

/*
 * Whether an fd other than the signal self-pipe is watched: a signal is
 * no event a program waits for, only one that may cut the wait short.
 */
static int
waits_for_fd(const struct loop *l)
{
	size_t i;

	for (i = 0; i < l->nfds; i++)
		if (l->fds[i].fd != sig_pipe[0])
			return 1;
	return 0;
}

int
loop_run_once(struct loop *l, int max_ms)
{
	struct pollfd *pfd;
	size_t n = 0, i;
	int timeout = max_ms, rc, ev;
	uint64_t now;
	struct loop_fd *f;

	if (l->before_sleep != NULL)
		l->before_sleep(l->before_sleep_arg);
	if (l->stop)
		return 0;
	compact_fds(l);
	if (l->cappfd < l->nfds) {
		l->cappfd = l->nfds;
		l->pfd = xreallocarray(l->pfd, l->cappfd, sizeof *l->pfd);
	}
	pfd = l->pfd;
	for (i = 0; i < l->nfds; i++) {
		pfd[n].fd = l->fds[i].fd;
		pfd[n].events = 0;
		if (l->fds[i].events & LOOP_READ)
			pfd[n].events |= POLLIN;
		if (l->fds[i].events & LOOP_WRITE)
			pfd[n].events |= POLLOUT;
		pfd[n].revents = 0;
		n++;
	}
	now = loop_now_us();
	if (timeout < 0 && l->ntimers == 0 && !waits_for_fd(l)) {
		/*
		 * Nothing could ever wake this poll(): a caller forgot to
		 * stop the loop when its last descriptor went away.
		 */
#ifndef NDEBUG
		fatalx("loop: nothing to wait for and no deadline");
#endif
		errno = EDEADLK;
		return -1;
	}
	for (i = 0; i < l->ntimers; i++) {
		uint64_t left = l->timers[i].when_us > now
		    ? (l->timers[i].when_us - now + 999) / 1000
		    : 0;
		if (timeout < 0 || left < (uint64_t)timeout)
			timeout = (int)(left > 1000000 ? 1000000 : left);
	}
	rc = poll(pfd, (nfds_t)n, timeout);
	if (rc == -1 && errno != EINTR)
		return -1;
	/*
	 * pfd[i] is fds[i] of this turn: slots are only appended until the
	 * next turn compacts them, so a descriptor deleted by an earlier
	 * callback (dead) is skipped even when its number was reused by a
	 * new slot meanwhile; that slot's events come next turn.
	 */
	for (i = 0; rc > 0 && i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		f = &l->fds[i];
		if (f->dead || f->fd != pfd[i].fd)
			continue;
		ev = 0;
		if (pfd[i].revents & POLLIN)
			ev |= LOOP_READ;
		if (pfd[i].revents & POLLOUT)
			ev |= LOOP_WRITE;
		if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL))
			ev |= LOOP_ERROR;
		f->cb(f->fd, ev, f->arg);
	}
	run_timers(l);
	return 0;
}

int
loop_run(struct loop *l)
{
	l->stop = 0;
	while (!l->stop)
		if (loop_run_once(l, -1) == -1)
			return -1;
	return 0;
}
