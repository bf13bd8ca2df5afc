/*
 * A small single-threaded poll() event loop: file descriptors with read /
 * write interest, one-shot timers, signals delivered through a self-pipe,
 * and a before-sleep hook (where the UI redraws once per turn).
 */
#ifndef EHLO_CORE_LOOP_H
#define EHLO_CORE_LOOP_H

#include <stdint.h>

struct loop;

#define LOOP_READ 0x1
#define LOOP_WRITE 0x2
/* Passed to the callback (never requested): hang-up or error on the fd. */
#define LOOP_ERROR 0x4

typedef void loop_fd_cb(int fd, int events, void *arg);
typedef void loop_timer_cb(void *arg);
typedef void loop_signal_cb(int signo, void *arg);
typedef void loop_hook_cb(void *arg);

/* Monotonic clock in microseconds. */
uint64_t loop_now_us(void);

struct loop *loop_new(void);
/* Frees the loop; registered fds are not closed.  NULL is a no-op. */
void loop_free(struct loop *);

/*
 * Watches fd for the LOOP_READ/LOOP_WRITE interest in events.  One entry
 * per fd: adding an fd again replaces its callback.  The callback may
 * add or remove any fd, including its own.
 */
void loop_fd_add(struct loop *, int fd, int events, loop_fd_cb *, void *);
void loop_fd_set(struct loop *, int fd, int events);
void loop_fd_del(struct loop *, int fd);

/* One-shot timer after ms milliseconds; returns an id (never 0). */
uint64_t loop_timer_add(struct loop *, uint64_t ms, loop_timer_cb *, void *);
/* Cancels a pending timer; unknown or expired ids are ignored. */
void loop_timer_del(struct loop *, uint64_t id);

/*
 * Delivers signo through the loop (a self-pipe), outside signal context.
 * Returns -1 if the handler could not be installed.
 */
int loop_signal_add(struct loop *, int signo, loop_signal_cb *, void *);

/* Called before every poll() sleep. */
void loop_set_before_sleep(struct loop *, loop_hook_cb *, void *);

/*
 * Runs until loop_stop(); returns 0, or -1 if poll() failed or nothing
 * is left to wait for (see loop_run_once).
 */
int loop_run(struct loop *);
/*
 * Runs one turn, sleeping at most max_ms (-1: until an event).  A turn
 * that would sleep forever with no fd but the signal pipe and no timer
 * never sleeps: it returns -1 with errno EDEADLK (a debug build, without
 * NDEBUG, ends the program through fatalx instead, to show the bug).
 */
int loop_run_once(struct loop *, int max_ms);
void loop_stop(struct loop *);

#endif
