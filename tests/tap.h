/* Minimal TAP producer for the C tests: ok(), is_int(), is_str(), is_mem(), done_testing(). */
#ifndef MPCI_TESTS_TAP_H
#define MPCI_TESTS_TAP_H
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count_, tap_failed_;

static inline __attribute__((format(printf, 4, 5))) int
tap_ok_(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", pass ? "" : "not ", ++tap_count_);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed_++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

#define ok(c, ...) tap_ok_(!!(c), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (!tap_ok_(g_ == w_, __FILE__, __LINE__, __VA_ARGS__)) \
		printf("#   got %lld, want %lld\n", g_, w_); } while (0)
#define is_str(got, want, ...) do { \
	const char *g_ = (got), *w_ = (want); \
	int p_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_; \
	if (!tap_ok_(p_, __FILE__, __LINE__, __VA_ARGS__)) \
		printf("#   got  \"%s\"\n#   want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } while (0)
#define is_mem(got, want, n, ...) \
	tap_ok_(memcmp((got), (want), (n)) == 0, __FILE__, __LINE__, __VA_ARGS__)
#define diag(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); } while (0)
#define bail_out(...) do { printf("Bail out! "); printf(__VA_ARGS__); printf("\n"); exit(99); } while (0)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_count_);
	return tap_failed_ ? 1 : 0;
}
#endif
