/*
 * Shared by the fuzz targets in this folder.  Each fuzz_*.c defines
 * LLVMFuzzerTestOneInput() for one parser; it is linked either with
 * libFuzzer (EHLO_FUZZ=ON, clang) or with replay.c, which runs every
 * file of the seed corpus through it in the normal build (ctest
 * fuzz/<target>), so a crash once found stays fixed without clang.
 *
 * A target checks the parser's own promises (bounds, NUL termination,
 * agreement between split and whole input, agreement with a reference)
 * and calls fuzz_fail() when one is broken: that aborts, which both
 * libFuzzer and ctest report.
 */
#ifndef EHLO_TESTS_FUZZ_H
#define EHLO_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define fuzz_fail(what)                                                        \
	do {                                                                   \
		(void)fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, \
		    __LINE__, (what));                                         \
		abort();                                                       \
	} while (0)

#define fuzz_check(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(#cond);                                      \
	} while (0)

#endif
