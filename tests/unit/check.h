/* Minimal unit-test helpers: each CHECK prints "ok - ..." or "not ok - ...";
 * tests/run.sh counts those lines. A test binary exits 1 if any failed. */
#ifndef COCOON_CHECK_H
#define COCOON_CHECK_H
#include <stdio.h>
#include <stdlib.h>

static int check_failures;
#define CHECK(cond, ...) do { \
	if (cond) { printf("ok - "); } \
	else { printf("not ok - %s:%d: ", __FILE__, __LINE__); check_failures++; } \
	printf(__VA_ARGS__); printf("\n"); fflush(stdout); \
} while (0)
#define CHECK_EQ(a, b, ...) do { long long _a = (long long)(a), _b = (long long)(b); \
	CHECK(_a == _b, __VA_ARGS__); \
	if (_a != _b) printf("#   got %lld, want %lld\n", _a, _b); } while (0)
#define CHECK_DONE() return check_failures ? 1 : 0
#endif
