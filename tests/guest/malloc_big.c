/* malloc/free of 1 GiB in pieces of 64 KiB..16 MiB, touching every page;
 * then calloc of 1 GiB again (memory handed back and reused must come back
 * zeroed); many small allocations (the brk heap); realloc growth (mremap). */
#include "util.h"

#define TOTAL (1UL << 30)
#define MAXCHUNKS 4096

static unsigned char *chunk[MAXCHUNKS];
static size_t csize[MAXCHUNKS];

static size_t pick_size(void)
{
	/* 64 KiB << (0..8), plus a random page-unaligned tail. */
	size_t s = (64UL << 10) << (rng() % 9);
	s += rng() % s;
	if (s > (16UL << 20))
		s = 16UL << 20;
	return s;
}

static int fill(int n)
{
	size_t total = 0;
	int i = 0;
	while (total < TOTAL && i < MAXCHUNKS) {
		size_t s = pick_size();
		if (s > TOTAL - total)
			s = TOTAL - total;
		chunk[i] = n ? calloc(1, s) : malloc(s);
		if (!chunk[i]) {
			printf("allocation %d of %zu bytes failed\n", i, s);
			exit(1);
		}
		csize[i] = s;
		total += s;
		i++;
	}
	return i;
}

static void shuffle_free(int n)
{
	int order[MAXCHUNKS];
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = rng() % (i + 1);
		int t = order[i]; order[i] = order[j]; order[j] = t;
	}
	for (int i = 0; i < n; i++)
		free(chunk[order[i]]);
}

int main(void)
{
	/* Round 1: malloc, write every page, read back. */
	int n = fill(0);
	uint64_t pages = 0;
	for (int i = 0; i < n; i++) {
		for (size_t off = 0; off < csize[i]; off += PAGE) {
			uint64_t v = ((uint64_t)i << 32) ^ off ^ 0x5a5a5a5a5a5a5a5aULL;
			size_t last = csize[i] - off < PAGE ? csize[i] - off : PAGE;
			memcpy(chunk[i] + off, &v, last < 8 ? last : 8);
			chunk[i][off + last - 1] = (unsigned char)(i + off / PAGE);
			pages++;
		}
	}
	uint64_t h = FNV_INIT;
	for (int i = 0; i < n; i++)
		for (size_t off = 0; off < csize[i]; off += PAGE) {
			size_t last = csize[i] - off < PAGE ? csize[i] - off : PAGE;
			h = fnv1a(h, chunk[i] + off, last < 8 ? last : 8);
			h = fnv1a(h, chunk[i] + off + last - 1, 1);
		}
	printf("round 1: %d chunks, %lu pages touched, checksum %016llx\n", n, (unsigned long)pages,
	       (unsigned long long)h);
	shuffle_free(n);

	/* Round 2: calloc; the memory freed above must come back zeroed. */
	n = fill(1);
	size_t nonzero = 0;
	for (int i = 0; i < n; i++) {
		uint64_t *w = (uint64_t *)chunk[i];
		size_t nw = csize[i] / 8;
		for (size_t k = 0; k < nw; k += 64)   /* one word per cache line */
			if (w[k])
				nonzero++;
		if (csize[i] && chunk[i][csize[i] - 1])
			nonzero++;
		/* and dirty it again */
		memset(chunk[i], 0xa5, csize[i] < 8192 ? csize[i] : 8192);
	}
	printf("round 2: %d chunks, nonzero words in calloc memory: %zu\n", n, nonzero);
	shuffle_free(n);

	/* Many small allocations: the brk heap. */
	enum { NSMALL = 200000 };
	static unsigned char *small[NSMALL];
	h = FNV_INIT;
	for (int i = 0; i < NSMALL; i++) {
		size_t s = 16 + rng() % 1024;
		small[i] = malloc(s);
		if (!small[i]) {
			printf("small allocation failed\n");
			return 1;
		}
		memset(small[i], i & 0xff, s);
		small[i][0] = (unsigned char)s;
	}
	for (int i = 0; i < NSMALL; i += 7)
		h = fnv1a(h, small[i], 2);
	for (int i = 0; i < NSMALL; i += 2)
		free(small[i]);
	for (int i = 1; i < NSMALL; i += 2)
		free(small[i]);
	printf("small: %d allocations, checksum %016llx\n", NSMALL, (unsigned long long)h);

	/* realloc growth 1 byte .. 64 MiB, content preserved. */
	unsigned char *p = malloc(1);
	p[0] = 0x42;
	size_t have = 1;
	int ok = 1;
	for (size_t s = 2; s <= (64UL << 20); s *= 2) {
		p = realloc(p, s);
		if (!p) {
			printf("realloc to %zu failed\n", s);
			return 1;
		}
		for (size_t k = 0; k < have; k += 997)
			if (p[k] != (unsigned char)(k * 7 + 0x42 * (k == 0)) && k)
				ok = 0;
		if (p[0] != 0x42)
			ok = 0;
		for (size_t k = have; k < s; k++)
			p[k] = (unsigned char)(k * 7);
		have = s;
	}
	free(p);
	expect(ok, "realloc growth preserved contents");
	return expect_failures ? 1 : 0;
}
