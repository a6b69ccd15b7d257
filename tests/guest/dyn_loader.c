/* What the kernel tells the program and its dynamic loader at start
 * (auxv, placement, brk) and what ld.so makes of it (the objects it
 * lists). Every line is "yes" in all three builds: the static
 * ones have no interpreter (AT_BASE 0) and skip the dynamic parts. */
#include "util.h"
#include <elf.h>
#include <link.h>
#include <sys/auxv.h>

extern char _start[], end[];

#define ELF_ET_DYN_BASE 0x555555554000UL

int main(void);

struct seen {
	uintptr_t base;
	int objects, base_found, main_found;
};

static int each(struct dl_phdr_info *i, size_t size, void *arg)
{
	struct seen *s = arg;
	s->objects++;
	if (s->base && i->dlpi_addr == s->base)
		s->base_found = 1;
	for (int k = 0; k < i->dlpi_phnum; k++) {
		const ElfW(Phdr) *p = &i->dlpi_phdr[k];
		uintptr_t a = i->dlpi_addr + p->p_vaddr;
		if (p->p_type == PT_LOAD && (uintptr_t)main - a < p->p_memsz)
			s->main_found = 1;
	}
	return 0;
}

int main(void)
{
	uintptr_t base = getauxval(AT_BASE), entry = getauxval(AT_ENTRY);
	const ElfW(Phdr) *ph = (const void *)getauxval(AT_PHDR);
	size_t phnum = getauxval(AT_PHNUM);

	expect(entry == (uintptr_t)_start, "AT_ENTRY is the program's _start");
	/* The bias from PT_PHDR (none in a non-PIE static program: 0). */
	uintptr_t bias = 0;
	int interp = 0, pie = 0, holds_main = 0;
	for (size_t k = 0; k < phnum; k++)
		if (ph[k].p_type == PT_PHDR)
			bias = (uintptr_t)ph - ph[k].p_vaddr;
	for (size_t k = 0; k < phnum; k++) {
		uintptr_t a = bias + ph[k].p_vaddr;
		if (ph[k].p_type == PT_INTERP)
			interp = 1;
		if (ph[k].p_type == PT_LOAD && (uintptr_t)main - a < ph[k].p_memsz)
			holds_main = 1;
	}
	pie = bias != 0;
	expect(holds_main, "a PT_LOAD of AT_PHDR's table holds main");
	expect(interp == (base != 0), "AT_BASE is set exactly when there is a PT_INTERP");
	expect(!base || !memcmp((void *)base, ELFMAG, SELFMAG), "AT_BASE points at an ELF header");
	expect(!base || (base & (PAGE - 1)) == 0, "AT_BASE is page aligned");
	expect(!(interp && pie) || bias - ELF_ET_DYN_BASE < (1UL << 40),
	       "a PIE with an interpreter sits at ELF_ET_DYN_BASE + up to 1 TiB");
	expect(!base || base > (uintptr_t)end, "the interpreter is above the program");
	uintptr_t brk0 = (uintptr_t)sbrk(0);
	expect(brk0 >= (uintptr_t)end && brk0 - (uintptr_t)end < (1UL << 30) + (1UL << 20),
	       "brk starts above the program, within 1 GiB");

	struct seen s = { .base = base };
	dl_iterate_phdr(each, &s);
	expect(s.objects >= 1 && s.main_found, "dl_iterate_phdr lists the program");
	expect(!base || s.base_found, "dl_iterate_phdr lists the interpreter at AT_BASE");

	return expect_failures ? 1 : 0;
}
