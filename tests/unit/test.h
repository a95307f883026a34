/*
 * test.h - the tiny unit-test harness every tests/unit/test_<module>.c uses.
 *
 *   PT_TEST(name) { PT_CHECK(x == 1); PT_CHECK_STR(a, "b"); }
 *   int main(void) { PT_RUN(name); ...; return PT_DONE(); }
 *
 * Each check counts once. PT_DONE() prints "<file>: N passed, M failed" and
 * returns non-zero when anything failed; tests/run.sh adds the counts up.
 */
#ifndef PT_TEST_H
#define PT_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pt_test_passed, pt_test_failed;

#define PT_TEST(name) static void name(void)
#define PT_RUN(name) name()

#define PT_CHECK(cond)                                                                    \
	do {                                                                              \
		if (cond) {                                                               \
			pt_test_passed++;                                                 \
		} else {                                                                  \
			pt_test_failed++;                                                 \
			fprintf(stderr, "FAIL %s:%d: %s (in %s)\n", __FILE__, __LINE__, #cond, \
				__func__);                                                \
		}                                                                         \
	} while (0)

#define PT_CHECK_STR(got, want)                                                           \
	do {                                                                              \
		const char *pt_g_ = (got), *pt_w_ = (want);                               \
		if (pt_g_ && pt_w_ && strcmp(pt_g_, pt_w_) == 0) {                        \
			pt_test_passed++;                                                 \
		} else {                                                                  \
			pt_test_failed++;                                                 \
			fprintf(stderr, "FAIL %s:%d: %s == \"%s\", got \"%s\" (in %s)\n",   \
				__FILE__, __LINE__, #got, pt_w_ ? pt_w_ : "(null)",       \
				pt_g_ ? pt_g_ : "(null)", __func__);                      \
		}                                                                         \
	} while (0)

#define PT_CHECK_INT(got, want)                                                           \
	do {                                                                              \
		long long pt_g_ = (long long)(got), pt_w_ = (long long)(want);            \
		if (pt_g_ == pt_w_) {                                                     \
			pt_test_passed++;                                                 \
		} else {                                                                  \
			pt_test_failed++;                                                 \
			fprintf(stderr, "FAIL %s:%d: %s == %lld, got %lld (in %s)\n",       \
				__FILE__, __LINE__, #got, pt_w_, pt_g_, __func__);        \
		}                                                                         \
	} while (0)

/* Remove a test's temporary directory (from mkdtemp) with what is in it. */
static inline void pt_test_rmdir(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

#define PT_DONE()                                                                         \
	(printf("%s: %d passed, %d failed\n", __FILE__, pt_test_passed, pt_test_failed), \
	 pt_test_failed != 0)

#endif
