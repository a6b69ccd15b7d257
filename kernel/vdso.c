/* cocoon's vDSO in the kernel: the image built from vdso/ (embedded below
 * with .incbin), cocoon's copy of it whose exported names point at the
 * implementations that suit this CPU, the [vvar] pages of the sandbox
 * (pages of the memory file, which every guest maps read-only; the clock
 * is published in the last one), and the mapping of both into a guest.
 *
 * The data pages in front of [vdso] are laid out like the host kernel's,
 * so /proc/<pid>/maps reads the same inside and out: [vvar] of the host's
 * size, then [vvar_vclock] if the host has one (Linux 6.13 on; 4 and 2
 * pages), else Linux 6.13's layout. Linux's clock data is in the first
 * page of [vvar]; cocoon's is in the page right before the image (the
 * linker script's vvar_page, reached PC-relative), whichever mapping that
 * is; the other pages read as zeros where Linux's would fault (no guest
 * reads them: only the vDSO knows the layout).
 *
 * The image is linked at address 0 with a single PT_LOAD from file offset
 * 0, so its file bytes are its memory image: an address in it is an
 * offset into the bytes. */
#include <cpuid.h>
#include <elf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "kernel/ktime.h"
#include "kernel/syscall.h"
#include "kernel/vdso.h"
#include "mm/memfile.h"
#include "mm/mm.h"
#include "platform/platform.h"
#include "vdso/vvar.h"
#include "vdso-syms.h" /* generated: VDSO_IMPL_* offsets (vdso/gen-syms.sh) */

__asm__(".section .rodata\n"
	".balign 4096\n"
	"vdso_image_start:\n"
	".incbin \"" VDSO_IMAGE_PATH "\"\n"
	"vdso_image_end:\n"
	".previous\n");
extern const unsigned char vdso_image_start[], vdso_image_end[];

/* Each exported function: its two names and its implementations, indexed
 * by enum vdso_clock_via or enum vdso_cpu_via. */
struct vdso_export {
	const char *names[2];
	bool cpu;
	uint64_t impl[3], size[3];
};

#define IMPLS(f, a, b, c) \
	{ VDSO_IMPL_##f##_##a, VDSO_IMPL_##f##_##b, VDSO_IMPL_##f##_##c }, \
	{ VDSO_IMPL_SIZE_##f##_##a, VDSO_IMPL_SIZE_##f##_##b, VDSO_IMPL_SIZE_##f##_##c }
#define CLOCK_FN(f) { { "__vdso_" #f, #f }, false, IMPLS(f, sys, lfence, tscp) }
#define CPU_FN(f) { { "__vdso_" #f, #f }, true, IMPLS(f, sys, lsl, rdpid) }

static const struct vdso_export exports[] = {
	CLOCK_FN(clock_gettime),
	CLOCK_FN(gettimeofday),
	CLOCK_FN(time),
	CLOCK_FN(clock_getres),
	CPU_FN(getcpu),
};

static struct {
	pthread_once_t once;
	int err;
	enum { MODE_AUTO, MODE_SYSCALL, MODE_RDTSCP, MODE_LFENCE } mode;
	struct vdso_choice choice;
	unsigned char *copy;   /* cocoon's patched copy, len bytes */
	size_t len;            /* the image, in whole pages */
	uint64_t vvar_off;     /* the data pages in the memory file: [vvar], then [vvar_vclock] */
	size_t vvar_pages, vclock_pages;
} vdso = { .once = PTHREAD_ONCE_INIT };

/* ---- reading the image ------------------------------------------------------ */

struct image {
	const unsigned char *b;
	size_t len;
	const Elf64_Sym *sym;
	const char *str;
	const uint32_t *hash, *gnu_hash;
	const Elf64_Half *versym;
	const Elf64_Verdef *verdef;
	size_t nsym;
};

static const void *at(const struct image *im, uint64_t off, size_t n)
{
	return off <= im->len && n <= im->len - off ? im->b + off : NULL;
}

/* Find the dynamic tables; false if the image is not one we can read. */
static bool image_open(struct image *im, const void *b, size_t len)
{
	*im = (struct image){ .b = b, .len = len };
	const Elf64_Ehdr *eh = at(im, 0, sizeof *eh);
	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr))
		return false;
	const Elf64_Phdr *ph = at(im, eh->e_phoff, eh->e_phnum * sizeof *ph);
	const Elf64_Dyn *dyn = NULL;
	for (unsigned i = 0; ph && i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && (ph[i].p_offset != 0 || ph[i].p_vaddr != 0))
			return false;
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = at(im, ph[i].p_offset, ph[i].p_filesz);
	}
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		uint64_t v = dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_SYMTAB: im->sym = at(im, v, sizeof *im->sym); break;
		case DT_STRTAB: im->str = at(im, v, 1); break;
		case DT_HASH: im->hash = at(im, v, 8); break;
		case DT_GNU_HASH: im->gnu_hash = at(im, v, 16); break;
		case DT_VERSYM: im->versym = at(im, v, 2); break;
		case DT_VERDEF: im->verdef = at(im, v, sizeof *im->verdef); break;
		}
	}
	if (!im->sym || !im->str || !im->hash)
		return false;
	im->nsym = im->hash[1]; /* nchain: one entry per symbol */
	return at(im, (const unsigned char *)im->sym - im->b, im->nsym * sizeof *im->sym) != NULL;
}

static bool name_is(const struct image *im, const Elf64_Sym *s, const char *name)
{
	const char *n = at(im, (const unsigned char *)im->str - im->b + s->st_name, strlen(name) + 1);
	return n && !strcmp(n, name);
}

static uint32_t elf_hash(const char *name)
{
	uint32_t h = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h = (h << 4) + *p;
		uint32_t g = h & 0xf0000000u;
		h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

static uint32_t gnu_hash(const char *name)
{
	uint32_t h = 5381;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = h * 33 + *p;
	return h;
}

/* Symbol index by the SysV hash table, 0 if absent. */
static size_t find_sysv(const struct image *im, const char *name)
{
	uint32_t nbucket = im->hash[0];
	const uint32_t *bucket = at(im, (const unsigned char *)im->hash - im->b + 8,
				    (nbucket + im->nsym) * 4);
	if (!bucket || !nbucket)
		return 0;
	const uint32_t *chain = bucket + nbucket;
	for (uint32_t i = bucket[elf_hash(name) % nbucket]; i && i < im->nsym; i = chain[i])
		if (name_is(im, &im->sym[i], name))
			return i;
	return 0;
}

/* Symbol index by the GNU hash table (bloom filter first), 0 if absent. */
static size_t find_gnu(const struct image *im, const char *name)
{
	const uint32_t *g = im->gnu_hash;
	if (!g)
		return 0;
	uint32_t nbucket = g[0], symoff = g[1], bloom_size = g[2], shift = g[3];
	const uint64_t *bloom = at(im, (const unsigned char *)g - im->b + 16, bloom_size * 8);
	if (!bloom || !nbucket || !bloom_size)
		return 0;
	const uint32_t *bucket = at(im, (const unsigned char *)(bloom + bloom_size) - im->b, nbucket * 4);
	if (!bucket)
		return 0;
	const uint32_t *chain = bucket + nbucket;
	uint32_t h = gnu_hash(name);
	uint64_t word = bloom[(h / 64) % bloom_size];
	if (!((word >> (h % 64)) & (word >> ((h >> shift) % 64)) & 1))
		return 0;
	for (uint32_t i = bucket[h % nbucket]; i >= symoff && i < im->nsym; i++) {
		uint32_t ch = chain[i - symoff];
		if ((ch | 1) == (h | 1) && name_is(im, &im->sym[i], name))
			return i;
		if (ch & 1)
			break;
	}
	return 0;
}

static const char *version_of(const struct image *im, size_t i)
{
	if (!im->versym || !im->verdef)
		return NULL;
	unsigned ndx = im->versym[i] & 0x7fff;
	const Elf64_Verdef *d = im->verdef;
	for (;;) {
		if (d->vd_ndx == ndx && !(d->vd_flags & VER_FLG_BASE)) {
			const Elf64_Verdaux *aux = at(im, (const unsigned char *)d - im->b + d->vd_aux,
						      sizeof *aux);
			return aux ? at(im, (const unsigned char *)im->str - im->b + aux->vda_name, 1) : NULL;
		}
		if (!d->vd_next)
			return NULL;
		d = at(im, (const unsigned char *)d - im->b + d->vd_next, sizeof *d);
		if (!d)
			return NULL;
	}
}

uint64_t vdso_lookup(const void *image, size_t len, const char *name, bool gnu, const char **version)
{
	struct image im;
	if (version)
		*version = NULL;
	if (!image_open(&im, image, len))
		return 0;
	size_t i = gnu ? find_gnu(&im, name) : find_sysv(&im, name);
	if (!i)
		return 0;
	if (version)
		*version = version_of(&im, i);
	return im.sym[i].st_value;
}

const void *vdso_image(size_t *len)
{
	*len = (size_t)(vdso_image_end - vdso_image_start);
	return vdso_image_start;
}

int vdso_patch(void *image, size_t len, const struct vdso_choice *c)
{
	struct image im;
	if (!image_open(&im, image, len))
		return -ENOEXEC;
	for (size_t e = 0; e < ARRAY_SIZE(exports); e++) {
		const struct vdso_export *x = &exports[e];
		unsigned via = x->cpu ? (unsigned)c->cpu : (unsigned)c->clock;
		for (int n = 0; n < 2; n++) {
			size_t i = find_sysv(&im, x->names[n]);
			if (!i)
				return -ENOENT;
			Elf64_Sym *s = (Elf64_Sym *)&im.sym[i]; /* im views the writable copy */
			s->st_value = x->impl[via];
			s->st_size = x->size[via];
		}
	}
	return 0;
}

/* ---- choosing ------------------------------------------------------------------ */

int vdso_set_mode(const char *mode)
{
	static const char *names[] = { "auto", "syscall", "rdtscp", "lfence" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(mode, names[i])) {
			vdso.mode = i;
			if (vdso.mode == MODE_SYSCALL)
				ktime_use_host_clocks();
			return 0;
		}
	}
	return -EINVAL;
}

static bool cpu_has_rdpid(void)
{
	unsigned a, b, c, d;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 22));
}

/* The host's per-CPU segment is there when lsl accepts its selector. */
static bool lsl_works(void)
{
	unsigned p = 0;
	unsigned char ok;
	__asm__ volatile("lsl %2, %0; setz %1" : "=r"(p), "=q"(ok) : "r"(0x7bu) : "cc");
	return ok;
}

static int choose(struct vdso_choice *c)
{
	bool tsc = ktime_uses_tsc(), rdtscp = ktime_cpu_has_rdtscp();
	*c = (struct vdso_choice){ VDSO_CLOCK_SYSCALL, VDSO_CPU_SYSCALL };
	switch (vdso.mode) {
	case MODE_SYSCALL:
		return 0;
	case MODE_RDTSCP:
		if (!tsc || !rdtscp)
			return -EINVAL;
		c->clock = VDSO_CLOCK_RDTSCP;
		break;
	case MODE_LFENCE:
		if (!tsc)
			return -EINVAL;
		c->clock = VDSO_CLOCK_LFENCE;
		break;
	case MODE_AUTO:
		if (tsc)
			c->clock = rdtscp ? VDSO_CLOCK_RDTSCP : VDSO_CLOCK_LFENCE;
		break;
	}
	c->cpu = cpu_has_rdpid() ? VDSO_CPU_RDPID : lsl_works() ? VDSO_CPU_LSL : VDSO_CPU_SYSCALL;
	return 0;
}

/* The map of implemented calls: bit 0x80000000 >> (nr & 31) of word
 * nr >> 5, as ppc64's __kernel_get_syscall_map. */
static void fill_syscall_map(struct vvar_page *p)
{
	const struct personality *pers = &personality_x86_64;
	unsigned n = MIN(pers->nr_syscalls, VVAR_SYSCALL_MAP_WORDS * 32);
	p->syscall_count = n;
	for (unsigned nr = 0; nr < n; nr++)
		if (pers->table[nr].fn)
			p->syscall_map[nr >> 5] |= 0x80000000u >> (nr & 31);
}

/* The host's [vvar] and [vvar_vclock] sizes in pages (cocoon's own
 * mappings); Linux 6.13's when the host shows no [vvar]. */
static void host_vvar_layout(size_t *vvar, size_t *vclock)
{
	*vvar = 4;
	*vclock = 2;
	FILE *fp = fopen("/proc/self/maps", "re");
	if (!fp)
		return;
	char line[256];
	size_t found_vvar = 0, found_vclock = 0;
	while (fgets(line, sizeof(line), fp)) {
		unsigned long long a, b;
		if (sscanf(line, "%llx-%llx", &a, &b) != 2 || b <= a || (b - a) / PAGE_SIZE > 64)
			continue;
		if (strstr(line, " [vvar]\n"))
			found_vvar = (b - a) / PAGE_SIZE;
		else if (strstr(line, " [vvar_vclock]\n"))
			found_vclock = (b - a) / PAGE_SIZE;
	}
	fclose(fp);
	if (found_vvar) {
		*vvar = found_vvar;
		*vclock = found_vclock;
	}
}

static void vdso_start(void)
{
	size_t n;
	const void *img = vdso_image(&n);
	if ((vdso.err = ktime_init()) || (vdso.err = choose(&vdso.choice)))
		return;
	vdso.len = PAGE_ALIGN(n);
	vdso.copy = calloc(1, vdso.len);
	if (!vdso.copy || !memfile.base) {
		vdso.err = !vdso.copy ? -ENOMEM : -ENODEV;
		return;
	}
	memcpy(vdso.copy, img, n);
	if ((vdso.err = vdso_patch(vdso.copy, n, &vdso.choice)))
		return;
	host_vvar_layout(&vdso.vvar_pages, &vdso.vclock_pages);
	size_t data_len = (vdso.vvar_pages + vdso.vclock_pages) * PAGE_SIZE;
	int64_t off = memfile_alloc(data_len);
	if (off < 0) {
		vdso.err = (int)off;
		return;
	}
	vdso.vvar_off = (uint64_t)off;
	memset(memfile_ptr(vdso.vvar_off), 0, data_len);
	struct vvar_page *page = memfile_ptr(vdso.vvar_off + data_len - PAGE_SIZE);
	fill_syscall_map(page);
	ktime_attach_vvar(page);
}

int vdso_init(void)
{
	pthread_once(&vdso.once, vdso_start);
	return vdso.err;
}

struct vdso_choice vdso_chosen(void)
{
	return vdso.choice;
}

/* ---- mapping ---------------------------------------------------------------------- */

const char *vdso_vvar_name(uint64_t off)
{
	if (off >= vdso.vvar_off && off < vdso.vvar_off + vdso.vvar_pages * PAGE_SIZE)
		return "[vvar]";
	return "[vvar_vclock]";
}

long vdso_map(struct mm *mm)
{
	int err = vdso_init();
	if (err)
		return err;
	size_t data_len = (vdso.vvar_pages + vdso.vclock_pages) * PAGE_SIZE;
	gaddr_t base = mm_find_free(mm, data_len + vdso.len);
	if (!base)
		return -ENOMEM;
	/* [vvar] and [vvar_vclock]: the sandbox's pages, shared, never
	 * writable by guests, never freed with the mapping. Two VMAs that
	 * never merge, like Linux's two special mappings. */
	size_t pages[2] = { vdso.vvar_pages, vdso.vclock_pages };
	gaddr_t at = base;
	for (int k = 0; k < 2; k++) {
		if (!pages[k])
			continue;
		struct vma v = {
			.start = at, .end = at + pages[k] * PAGE_SIZE, .prot = PROT_READ,
			.flags = MAP_SHARED, .kind = VMA_VVAR, .off = vdso.vvar_off + (at - base),
		};
		if (vma_insert(&mm->vmas, &v))
			return -ENOMEM;
		if ((err = platform_as_map(mm->as, v.start, v.end - v.start, PROT_READ, v.off)))
			return err;
		at = v.end;
	}
	/* [vdso]: a private copy, so that writing it (a debugger's
	 * breakpoint after mprotect) touches this process only. */
	gaddr_t text = base + data_len;
	long r = mm_mmap_anon(mm, text, vdso.len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, VMA_VDSO);
	if (r < 0)
		return r;
	if ((err = mm_poke(mm, text, vdso.copy, vdso.len)))
		return err;
	r = mm_mprotect(mm, text, vdso.len, PROT_READ | PROT_EXEC);
	if (r < 0)
		return r;
	/* Linux's [vdso] was never writable: no VM_ACCOUNT. */
	for (gaddr_t a = text; a < text + vdso.len;) {
		struct vma *v = vma_find(&mm->vmas, a);
		if (!v)
			break;
		v->accounted = false;
		a = v->end;
	}
	return (long)text;
}
