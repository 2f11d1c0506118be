/* SPDX-License-Identifier: GPL-2.0 */
/* ktap.h - minimal KTAP output and assertion helpers for the hvx selftests. */
#ifndef HVX_KTAP_H
#define HVX_KTAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

static int ktap_planned, ktap_ran, ktap_failed, ktap_skipped;

static inline void ktap_plan(int n)
{
	ktap_planned = n;
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

static inline void ktap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Report one subtest; returns @ok so callers can stop early. */
static inline bool ktap_result(bool ok, const char *name)
{
	ktap_ran++;
	if (!ok)
		ktap_failed++;
	printf("%sok %d %s\n", ok ? "" : "not ", ktap_ran, name);
	fflush(stdout);
	return ok;
}

static inline void ktap_skip(const char *name, const char *why)
{
	ktap_ran++;
	ktap_skipped++;
	printf("ok %d %s # SKIP %s\n", ktap_ran, name, why);
	fflush(stdout);
}

/*
 * Report that @ret is -1 with errno @want (the usual ioctl failure form).
 * The diagnostic says what came back instead.
 */
static inline bool ktap_expect_errno(const char *name, long ret, int want)
{
	int got = errno;

	if (ret == -1 && got == want)
		return ktap_result(true, name);
	ktap_diag("%s: expected -1/%s, got %ld/%s", name, strerror(want), ret,
		  ret == -1 ? strerror(got) : "no error");
	return ktap_result(false, name);
}

static inline int ktap_finish(void)
{
	if (ktap_ran != ktap_planned) {
		ktap_diag("planned %d subtests but ran %d", ktap_planned, ktap_ran);
		return KSFT_FAIL;
	}
	if (ktap_failed)
		return KSFT_FAIL;
	if (ktap_skipped == ktap_ran)
		return KSFT_SKIP;
	return KSFT_PASS;
}

#endif /* HVX_KTAP_H */
