/* The vDSO image (vdso/, kernel/vdso.c): its ELF shape, both hash tables
 * resolving every exported name to a versioned symbol, the patching of
 * the exported names to each variant, the map of implemented system
 * calls, and the mapping into a guest mm: [vvar] read-only, shared and
 * kernel-owned, the image right after it. */
#include "kernel/syscall.h"
#include "kernel/vdso.h"
#include "mm/memfile.h"
#include "mm/mm.h"
#include "tests/unit/check.h"
#include "vdso-syms.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const char *linux_names[] = {
	"clock_gettime", "__vdso_clock_gettime", "gettimeofday", "__vdso_gettimeofday",
	"time", "__vdso_time", "clock_getres", "__vdso_clock_getres", "getcpu", "__vdso_getcpu",
};

static void test_shape(const unsigned char *img, size_t len)
{
	const Elf64_Ehdr *eh = (const void *)img;
	CHECK(!memcmp(eh->e_ident, ELFMAG, SELFMAG) && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
	      eh->e_type == ET_DYN && eh->e_machine == EM_X86_64, "64-bit x86-64 shared object");
	const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff);
	int loads = 0, dyn = 0, ehf = 0, writable = 0;
	const Elf64_Dyn *d = NULL;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD) {
			loads++;
			writable += !!(ph[i].p_flags & PF_W);
			CHECK(ph[i].p_offset == 0 && ph[i].p_vaddr == 0 && ph[i].p_flags == (PF_R | PF_X) &&
			      ph[i].p_filesz <= len, "the PT_LOAD maps the file from 0, r-x");
		}
		if (ph[i].p_type == PT_DYNAMIC) {
			dyn++;
			d = (const void *)(img + ph[i].p_offset);
		}
		ehf += ph[i].p_type == PT_GNU_EH_FRAME;
	}
	CHECK(loads == 1 && !writable, "one PT_LOAD, not writable");
	CHECK(dyn == 1 && ehf == 1, "PT_DYNAMIC and PT_GNU_EH_FRAME");
	bool hash = false, gnu = false, rel = false;
	for (; d && d->d_tag != DT_NULL; d++) {
		hash |= d->d_tag == DT_HASH;
		gnu |= d->d_tag == DT_GNU_HASH;
		rel |= d->d_tag == DT_RELA || d->d_tag == DT_REL || d->d_tag == DT_TEXTREL ||
		       d->d_tag == DT_JMPREL || d->d_tag == DT_NEEDED;
	}
	CHECK(hash && gnu, "DT_HASH and DT_GNU_HASH");
	CHECK(!rel, "no relocations, no dependencies");
}

static void test_lookup(const unsigned char *img, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(linux_names); i++) {
		const char *v1, *v2;
		uint64_t a = vdso_lookup(img, len, linux_names[i], false, &v1);
		uint64_t b = vdso_lookup(img, len, linux_names[i], true, &v2);
		CHECK(a && a == b && v1 && v2 && !strcmp(v1, "LINUX_2.6") && !strcmp(v2, "LINUX_2.6"),
		      "%s@LINUX_2.6 through both hash tables", linux_names[i]);
	}
	static const char *own[] = { "__vdso_get_syscall_map", "__vdso_rt_sigreturn" };
	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		const char *v;
		uint64_t a = vdso_lookup(img, len, own[i], false, &v);
		CHECK(a && a == vdso_lookup(img, len, own[i], true, NULL) && v && !strcmp(v, "COCOON_1"),
		      "%s@COCOON_1", own[i]);
	}
	CHECK(!vdso_lookup(img, len, "__vdso_nothing", false, NULL) &&
	      !vdso_lookup(img, len, "__vdso_nothing", true, NULL), "an absent name is not found");
	CHECK(!vdso_lookup(img, len, "vdso_impl_clock_gettime_tscp", false, NULL) &&
	      !vdso_lookup(img, len, "vdso_impl_clock_gettime_tscp", true, NULL),
	      "the implementations are not exported");
	CHECK_EQ(vdso_lookup(img, len, "clock_gettime", false, NULL), VDSO_IMPL_clock_gettime_sys,
		 "as built, the names point at the system-call variant");
}

static void test_patch(const unsigned char *img, size_t len)
{
	static const struct {
		struct vdso_choice c;
		uint64_t cgt, gtod, time, res, cpu;
	} cases[] = {
		{ { VDSO_CLOCK_RDTSCP, VDSO_CPU_RDPID }, VDSO_IMPL_clock_gettime_tscp, VDSO_IMPL_gettimeofday_tscp,
		  VDSO_IMPL_time_tscp, VDSO_IMPL_clock_getres_tscp, VDSO_IMPL_getcpu_rdpid },
		{ { VDSO_CLOCK_LFENCE, VDSO_CPU_LSL }, VDSO_IMPL_clock_gettime_lfence, VDSO_IMPL_gettimeofday_lfence,
		  VDSO_IMPL_time_lfence, VDSO_IMPL_clock_getres_lfence, VDSO_IMPL_getcpu_lsl },
		{ { VDSO_CLOCK_SYSCALL, VDSO_CPU_SYSCALL }, VDSO_IMPL_clock_gettime_sys, VDSO_IMPL_gettimeofday_sys,
		  VDSO_IMPL_time_sys, VDSO_IMPL_clock_getres_sys, VDSO_IMPL_getcpu_sys },
	};
	unsigned char *copy = malloc(len);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memcpy(copy, img, len);
		CHECK_EQ(vdso_patch(copy, len, &cases[i].c), 0, "patch variant %zu", i);
		const uint64_t want[] = { cases[i].cgt, cases[i].gtod, cases[i].time, cases[i].res, cases[i].cpu };
		for (size_t n = 0; n < ARRAY_SIZE(linux_names); n++) {
			uint64_t a = vdso_lookup(copy, len, linux_names[n], false, NULL);
			uint64_t b = vdso_lookup(copy, len, linux_names[n], true, NULL);
			CHECK(a == want[n / 2] && b == a, "variant %zu: %s at %#lx", i, linux_names[n],
			      (unsigned long)a);
		}
		CHECK(!memcmp(copy + 0x40, img + 0x40, 0x100), "patching leaves the headers alone");
	}
	CHECK_EQ(vdso_patch(copy, 16, &cases[0].c), -ENOEXEC, "a truncated image is refused");
	free(copy);
}

/* The image and [vvar] of a guest mm, mapped into this process at the
 * same relative places (as the guest sees them): returns the image. */
static unsigned char *map_like_guest(struct mm *mm, gaddr_t text, size_t len)
{
	struct vma *vv = vma_find(&mm->vmas, text - PAGE_SIZE), *tx = vma_find(&mm->vmas, text);
	unsigned char *p = mmap(NULL, PAGE_SIZE + len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!vv || !tx || p == MAP_FAILED)
		return NULL;
	uint64_t data = vv->off + (text - PAGE_SIZE - vv->start); /* the clock's page */
	if (mmap(p, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, memfile.fd, (off_t)data) == MAP_FAILED ||
	    mmap(p + PAGE_SIZE, len, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, memfile.fd,
		 (off_t)tx->off) == MAP_FAILED)
		return NULL;
	return p + PAGE_SIZE;
}

static void test_map(size_t len)
{
	struct mm *mm = mm_new(NULL);
	mm->mmap_base = 0x7f0000000000UL;
	long text = vdso_map(mm);
	CHECK(text > 0 && PAGE_ALIGNED((gaddr_t)text) && (gaddr_t)text < mm->mmap_base, "vdso_map: %#lx",
	      (unsigned long)text);
	if (text <= 0)
		return;
	struct vma *vv = vma_find(&mm->vmas, (gaddr_t)text - PAGE_SIZE), *tx = vma_find(&mm->vmas, (gaddr_t)text);
	CHECK(vv && vv->kind == VMA_VVAR && vv->prot == PROT_READ && (vv->flags & MAP_SHARED) &&
	      vv->end == (gaddr_t)text, "[vvar] (or [vvar_vclock]): read-only shared pages right before the image");
	CHECK(tx && tx->prot == (PROT_READ | PROT_EXEC) && (tx->flags & MAP_PRIVATE) &&
	      tx->end - tx->start == PAGE_ALIGN(len) && tx->kind == VMA_VDSO, "[vdso]: a private r-x copy");
	/* Below the image: [vvar], then [vvar_vclock] if the host has one. */
	size_t ti = tx ? (size_t)(tx - mm->vmas.v) : 0;
	const char *names[2] = { NULL, NULL };
	int nvv = 0;
	for (size_t i = ti; i > 0 && nvv < 2 && mm->vmas.v[i - 1].kind == VMA_VVAR &&
			    mm->vmas.v[i - 1].end == mm->vmas.v[i].start; i--)
		names[nvv++] = vdso_vvar_name(mm->vmas.v[i - 1].off);
	CHECK((nvv == 1 && !strcmp(names[0], "[vvar]")) ||
	      (nvv == 2 && !strcmp(names[0], "[vvar_vclock]") && !strcmp(names[1], "[vvar]")),
	      "[vvar] then [vvar_vclock] (%d mappings)", nvv);

	unsigned char *img = map_like_guest(mm, (gaddr_t)text, PAGE_ALIGN(len));
	CHECK(img != NULL, "mapped here as in the guest");
	if (img) {
		struct vdso_choice c = vdso_chosen();
		uint64_t v = vdso_lookup(img, len, "__vdso_clock_gettime", true, NULL);
		uint64_t want[] = { VDSO_IMPL_clock_gettime_sys, VDSO_IMPL_clock_gettime_lfence,
				    VDSO_IMPL_clock_gettime_tscp };
		CHECK_EQ(v, want[c.clock], "the guest's copy is patched to the chosen variant (%d)", c.clock);

		/* The map of implemented system calls. */
		const uint32_t *(*get_map)(unsigned *) =
			(const uint32_t *(*)(unsigned *))(img + vdso_lookup(img, len, "__vdso_get_syscall_map", false, NULL));
		unsigned count = 0;
		const uint32_t *map = get_map(&count);
		const struct personality *p = &personality_x86_64;
		CHECK_EQ(count, p->nr_syscalls, "map count: the table's size");
		bool same = true;
		for (unsigned nr = 0; nr < count; nr++)
			same &= !!(map[nr >> 5] & (0x80000000u >> (nr & 31))) == (p->table[nr].fn != NULL);
		CHECK(same, "bit 0x80000000 >> (nr & 31) of word nr >> 5 set iff implemented");
		CHECK((map[0] & 0x80000000u) && !(map[134 >> 5] & (0x80000000u >> (134 & 31))),
		      "read (0) yes, uselib (134) no");
		CHECK(get_map(NULL) == map, "count may be NULL");
	}

	/* [vvar] is the kernel's: not writable, and unmapping it frees
	 * nothing (its content stays for the other guests). */
	size_t before = memfile_allocated();
	CHECK_EQ(mm_mprotect(mm, (gaddr_t)text - PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE), -EACCES,
		 "mprotect [vvar] writable: EACCES");
	CHECK_EQ(mm_mprotect(mm, (gaddr_t)text - PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_EXEC), -EACCES,
		 "mprotect [vvar] executable: EACCES");
	CHECK_EQ(mm_munmap(mm, (gaddr_t)text - PAGE_SIZE, PAGE_SIZE), 0, "munmap [vvar]");
	CHECK_EQ(memfile_allocated(), before, "the [vvar] page is not freed with a guest's mapping");
	CHECK_EQ(mm_mprotect(mm, (gaddr_t)text, PAGE_SIZE, PROT_READ | PROT_WRITE), 0,
		 "the image may be made writable (a private copy)");
	mm_put(mm);
}

int main(void)
{
	size_t len;
	const unsigned char *img = vdso_image(&len);
	CHECK(len > sizeof(Elf64_Ehdr) && ((uintptr_t)img & (PAGE_SIZE - 1)) == 0, "embedded image, %zu bytes",
	      len);
	test_shape(img, len);
	test_lookup(img, len);
	test_patch(img, len);
	if (memfile_init() == 0 && vdso_init() == 0)
		test_map(len);
	else
		CHECK(0, "memfile_init and vdso_init");
	CHECK_DONE();
}
