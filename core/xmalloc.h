/*
 * Allocation helpers that never return NULL, and the fatal-error path.
 * Out of memory and broken invariants end the program through fatalx(),
 * which first runs the hook the UI registered (to restore the terminal).
 */
#ifndef EHLO_CORE_XMALLOC_H
#define EHLO_CORE_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define EHLO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define EHLO_NORETURN __attribute__((noreturn))
#else
#define EHLO_PRINTF(a, b)
#define EHLO_NORETURN
#endif

#if defined(__has_attribute)
#if __has_attribute(fallthrough)
#define FALLTHROUGH __attribute__((fallthrough))
#endif
#endif
#ifndef FALLTHROUGH
#define FALLTHROUGH                                                            \
	do {                                                                   \
	} while (0)
#endif

/* Each returns valid memory or exits through fatalx(); size 0 is allowed. */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *, ...) EHLO_PRINTF(1, 2);
char *xvasprintf(const char *, va_list) EHLO_PRINTF(1, 0);

/*
 * Runs the registered hook (at most once), prints "ehlo: message" to
 * stderr and exits with status 70.  For broken invariants only.
 */
void fatalx(const char *, ...) EHLO_PRINTF(1, 2) EHLO_NORETURN;
/* The hook restores whatever the UI changed (terminal modes). */
void fatal_set_hook(void (*)(void));

/* Overwrites n bytes in a way the compiler cannot elide, then frees. */
void secret_free(void *, size_t);
/* Overwrites a NUL-terminated secret, then frees it.  NULL is a no-op. */
void secret_free_str(char *);

#endif
