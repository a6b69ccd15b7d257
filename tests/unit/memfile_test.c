/* The memory file's allocator: ranges freed with their pages kept serve
 * later memfile_alloc_dirty calls, whole, joined or split. */
#include <string.h>
#include "tests/unit/check.h"
#include "mm/memfile.h"

/* Whether every byte of [off, +len) is c. */
static bool filled(uint64_t off, size_t len, char c)
{
	const char *p = memfile_ptr(off);
	for (size_t i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

int main(void)
{
	CHECK_EQ(memfile_init(), 0, "memfile_init");

	/* An exact size comes back with its pages. */
	int64_t a = memfile_alloc_dirty(2 * PAGE_SIZE);
	CHECK(a >= 0, "allocated two pages at %#llx", (long long)a);
	memset(memfile_ptr((uint64_t)a), 'a', 2 * PAGE_SIZE);
	CHECK(memfile_alloc(PAGE_SIZE) >= 0, "a page kept between, never freed");
	memfile_free((uint64_t)a, 2 * PAGE_SIZE);
	CHECK_EQ(memfile_alloc_dirty(2 * PAGE_SIZE), a, "the freed range serves the same size");
	CHECK(filled((uint64_t)a, 2 * PAGE_SIZE, 'a'), "with its pages");
	memfile_free((uint64_t)a, 2 * PAGE_SIZE);

	/* Pieces of one range freed one by one serve its size again. */
	int64_t b = memfile_alloc_dirty(5 * PAGE_SIZE);
	CHECK(b >= 0 && b != a, "allocated five pages at %#llx", (long long)b);
	memset(memfile_ptr((uint64_t)b), 'b', 5 * PAGE_SIZE);
	CHECK(memfile_alloc(PAGE_SIZE) >= 0, "a page kept after it, never freed");
	memfile_free((uint64_t)b + 3 * PAGE_SIZE, 2 * PAGE_SIZE);
	memfile_free((uint64_t)b, PAGE_SIZE);
	memfile_free((uint64_t)b + PAGE_SIZE, 2 * PAGE_SIZE);
	CHECK_EQ(memfile_alloc_dirty(5 * PAGE_SIZE), b, "the joined pieces serve the whole size");
	CHECK(filled((uint64_t)b, 5 * PAGE_SIZE, 'b'), "with their pages");

	/* A smaller request takes the head of a larger kept range (an exact
	 * one is preferred), and the tail stays kept. */
	memfile_free((uint64_t)b, 5 * PAGE_SIZE);
	CHECK_EQ(memfile_alloc_dirty(2 * PAGE_SIZE), a, "an exact size first");
	CHECK_EQ(memfile_alloc_dirty(3 * PAGE_SIZE), b, "then the head of a larger range");
	CHECK_EQ(memfile_alloc_dirty(2 * PAGE_SIZE), b + 3 * PAGE_SIZE, "and its tail");
	CHECK(filled((uint64_t)b + 3 * PAGE_SIZE, 2 * PAGE_SIZE, 'b'), "with its pages");

	/* Plain allocations never get kept pages: they must read as zero. */
	memfile_free((uint64_t)b, 5 * PAGE_SIZE);
	int64_t c = memfile_alloc(5 * PAGE_SIZE);
	CHECK(c >= 0 && (c + 5 * (int64_t)PAGE_SIZE <= b || c >= b + 5 * (int64_t)PAGE_SIZE),
	      "memfile_alloc does not hand out kept pages");
	CHECK(filled((uint64_t)c, 5 * PAGE_SIZE, 0), "and reads as zero");
	CHECK_DONE();
}
