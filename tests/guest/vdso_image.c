/* The vDSO as a guest finds it through AT_SYSINFO_EHDR: the ELF shape a
 * libc relies on (one r-x PT_LOAD, PT_DYNAMIC, no relocations, both hash
 * tables, versions), Linux's LINUX_2.6 names resolving to the same symbol
 * through DT_HASH and DT_GNU_HASH, and unwind information for each
 * function through PT_GNU_EH_FRAME. Only facts Linux's vDSO and cocoon's
 * share are printed. */
#include "util.h"
#include <elf.h>
#include <sys/auxv.h>

static const unsigned char *base;
static const Elf64_Sym *symtab;
static const char *strtab;
static const uint32_t *hash, *gnu_hash;
static const Elf64_Half *versym;
static const Elf64_Verdef *verdef;
static uint64_t load_end;

static uint32_t elf_hash(const char *s)
{
	uint32_t h = 0;
	for (; *s; s++) {
		h = (h << 4) + (unsigned char)*s;
		uint32_t g = h & 0xf0000000u;
		h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

static uint32_t gnu_hash_of(const char *s)
{
	uint32_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static long find_sysv(const char *name)
{
	uint32_t nbucket = hash[0];
	const uint32_t *bucket = hash + 2, *chain = bucket + nbucket;
	for (uint32_t i = bucket[elf_hash(name) % nbucket]; i; i = chain[i])
		if (!strcmp(strtab + symtab[i].st_name, name))
			return i;
	return 0;
}

static long find_gnu(const char *name)
{
	uint32_t nbucket = gnu_hash[0], symoff = gnu_hash[1], nbloom = gnu_hash[2], shift = gnu_hash[3];
	const uint64_t *bloom = (const uint64_t *)(gnu_hash + 4);
	const uint32_t *bucket = (const uint32_t *)(bloom + nbloom), *chain = bucket + nbucket;
	uint32_t h = gnu_hash_of(name);
	uint64_t w = bloom[(h / 64) % nbloom];
	if (!((w >> (h % 64)) & (w >> ((h >> shift) % 64)) & 1))
		return 0;
	for (uint32_t i = bucket[h % nbucket]; i >= symoff; i++) {
		uint32_t c = chain[i - symoff];
		if ((c | 1) == (h | 1) && !strcmp(strtab + symtab[i].st_name, name))
			return i;
		if (c & 1)
			break;
	}
	return 0;
}

static const char *version_of(long i)
{
	unsigned ndx = versym[i] & 0x7fff;
	for (const Elf64_Verdef *d = verdef;; d = (const void *)((const char *)d + d->vd_next)) {
		if (d->vd_ndx == ndx)
			return strtab + ((const Elf64_Verdaux *)((const char *)d + d->vd_aux))->vda_name;
		if (!d->vd_next)
			return "?";
	}
}

/* ---- unwind information (.eh_frame_hdr, .eh_frame) ---- */

static const unsigned char *eh_hdr;

static int32_t s32(const void *p)
{
	int32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Whether an FDE listed in .eh_frame_hdr covers address off (image
 * relative). Handles the encodings GNU ld writes: table datarel sdata4,
 * FDE pc_begin pcrel sdata4. */
static int has_fde(uint64_t off)
{
	if (eh_hdr[0] != 1 || eh_hdr[2] != 0x03 || eh_hdr[3] != 0x3b)
		return 0;
	uint32_t n = (uint32_t)s32(eh_hdr + 8);
	const unsigned char *tab = eh_hdr + 12;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *fde = eh_hdr + s32(tab + 8 * i + 4);
		const unsigned char *pcfield = fde + 8;
		uint64_t begin = (uint64_t)(pcfield + s32(pcfield) - base);
		uint32_t range = (uint32_t)s32(pcfield + 4);
		if (begin <= off && off < begin + range)
			return 1;
	}
	return 0;
}

int main(void)
{
	base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	printf("vdso: %s\n", base ? "present" : "absent");
	if (!base)
		return 1;
	expect(((uintptr_t)base & 4095) == 0, "AT_SYSINFO_EHDR is page aligned");
	const Elf64_Ehdr *eh = (const void *)base;
	printf("elf: %s, %s, %s, %s\n", eh->e_ident[EI_CLASS] == ELFCLASS64 ? "64-bit" : "other",
	       eh->e_ident[EI_DATA] == ELFDATA2LSB ? "little-endian" : "other",
	       eh->e_type == ET_DYN ? "ET_DYN" : "other", eh->e_machine == EM_X86_64 ? "x86-64" : "other");

	const Elf64_Phdr *ph = (const void *)(base + eh->e_phoff);
	int loads = 0, wload = 0, dyn = 0, ehf = 0;
	const Elf64_Dyn *d = NULL;
	for (int i = 0; i < eh->e_phnum; i++) {
		switch (ph[i].p_type) {
		case PT_LOAD:
			loads++;
			wload += !!(ph[i].p_flags & PF_W);
			expect(ph[i].p_vaddr == 0 && ph[i].p_offset == 0 && ph[i].p_flags == (PF_R | PF_X),
			       "the PT_LOAD is r-x, maps the file from offset 0 at address 0");
			load_end = ph[i].p_memsz;
			break;
		case PT_DYNAMIC:
			dyn++;
			d = (const void *)(base + ph[i].p_vaddr);
			break;
		case PT_GNU_EH_FRAME:
			ehf++;
			eh_hdr = base + ph[i].p_vaddr;
			break;
		}
	}
	printf("PT_LOAD: %d (writable: %d), PT_DYNAMIC: %d, PT_GNU_EH_FRAME: %d\n", loads, wload, dyn, ehf);
	if (!d || !eh_hdr)
		return 1;

	const char *soname = NULL;
	uint64_t so = 0;
	int rel = 0, needed = 0;
	for (; d->d_tag != DT_NULL; d++) {
		const void *p = base + d->d_un.d_ptr;
		switch (d->d_tag) {
		case DT_SYMTAB: symtab = p; break;
		case DT_STRTAB: strtab = p; break;
		case DT_HASH: hash = p; break;
		case DT_GNU_HASH: gnu_hash = p; break;
		case DT_VERSYM: versym = p; break;
		case DT_VERDEF: verdef = p; break;
		case DT_SONAME: so = d->d_un.d_val; break;
		case DT_NEEDED: needed++; break;
		case DT_RELA: case DT_REL: case DT_JMPREL: case DT_TEXTREL: rel++; break;
		}
	}
	if (strtab && so)
		soname = strtab + so;
	printf("soname: %s\n", soname ? soname : "(none)");
	printf("DT_HASH: %s, DT_GNU_HASH: %s, versions: %s, relocations: %d, DT_NEEDED: %d\n",
	       hash ? "yes" : "no", gnu_hash ? "yes" : "no", versym && verdef ? "yes" : "no", rel, needed);
	if (!symtab || !strtab || !hash || !gnu_hash || !versym || !verdef)
		return 1;

	static const char *names[] = {
		"clock_gettime", "__vdso_clock_gettime", "gettimeofday", "__vdso_gettimeofday", "time",
		"__vdso_time", "clock_getres", "__vdso_clock_getres", "getcpu", "__vdso_getcpu",
	};
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		long i = find_sysv(names[k]), j = find_gnu(names[k]);
		if (!i || i != j) {
			printf("%s: DT_HASH %s, DT_GNU_HASH %s\n", names[k], i ? "found" : "missing",
			       j ? (i == j ? "same" : "different") : "missing");
			continue;
		}
		const Elf64_Sym *s = &symtab[i];
		printf("%s: %s %s @%s, same through both tables, %s, %s\n", names[k],
		       ELF64_ST_BIND(s->st_info) == STB_WEAK ? "WEAK" : ELF64_ST_BIND(s->st_info) == STB_GLOBAL ? "GLOBAL" : "?",
		       ELF64_ST_TYPE(s->st_info) == STT_FUNC ? "FUNC" : "?", version_of(i),
		       s->st_value && s->st_value < load_end ? "inside the image" : "OUTSIDE the image",
		       has_fde(s->st_value) ? "has unwind info" : "NO unwind info");
	}
	expect(!find_sysv("__vdso_no_such_function") && !find_gnu("__vdso_no_such_function"),
	       "an absent name is absent through both tables");
	return expect_failures != 0;
}
