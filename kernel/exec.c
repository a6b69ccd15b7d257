/* Program loading and the initial stack: Linux's load_elf_binary(),
 * load_elf_interp(), setup_arg_pages() and create_elf_tables() for
 * x86-64 programs, static or with an interpreter (PT_INTERP).
 * The layout (and its randomisation) follows Linux so that guests see the
 * addresses they would natively. */
#include <cpuid.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kernel/elf.h"
#include "kernel/exec.h"
#include "kernel/task.h"
#include "kernel/vdso.h"
#include "fs/fs.h"
#include "mm/mm.h"

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

#define STACK_RND_MASK 0x3fffffUL       /* 22 bits of pages: 16 GiB */
#define MMAP_RND_BITS 28                /* vm.mmap_rnd_bits default */
#define STACK_GUARD_GAP (256 * PAGE_SIZE)
#define BRK_RND_RANGE (1UL << 30)       /* arch_randomize_brk, 64-bit */
#define ARG_MAX_MIN (32 * PAGE_SIZE)    /* Linux's ARG_MAX floor */
#define PLATFORM "x86_64"

/* What the host kernel tells its own processes about the CPU. */
static struct {
	uint64_t hwcap, hwcap2, minsigstksz;
} host;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_init(void)
{
	unsigned a, b, c, d;

	/* Linux's ELF_HWCAP; glibc's getauxval(AT_HWCAP) is rewritten on
	 * x86, so ask the CPU. */
	if (__get_cpuid(1, &a, &b, &c, &d))
		host.hwcap = d;
	/* Bit 1 (FSGSBASE) says the host kernel enabled wrfsbase, which
	 * guests can then use whatever we say; pass it on truthfully. */
	host.hwcap2 = getauxval(AT_HWCAP2) & 2;
	host.minsigstksz = getauxval(AT_MINSIGSTKSZ);
	if (!host.minsigstksz && __get_cpuid_count(0xd, 0, &a, &b, &c, &d)) {
		/* Pre-5.14 host: Linux's init_sigframe_size(): the largest
		 * frame (ia32 sigframe, 732) + padding 15 + xsave area + magic2
		 * 4 + fregs 112 + xsave alignment 63, rounded to 16. */
		host.minsigstksz = (732 + 15 + b + 4 + 112 + 63 + 15) & ~15UL;
	}
	if (!host.minsigstksz)
		host.minsigstksz = 2048; /* MINSIGSTKSZ */
}

/* Random multiple of the page size below range (Linux randomize_page). */
static uint64_t random_pages(uint64_t range)
{
	return (krandom_u64() % (range / PAGE_SIZE)) * PAGE_SIZE;
}

/* Sum the strings of a NULL-terminated vector; -E2BIG like copy_strings. */
static int count_strings(char *const v[], size_t *count, size_t *bytes)
{
	*count = 0;
	*bytes = 0;
	for (; v && v[*count]; (*count)++) {
		size_t len = strnlen(v[*count], MAX_ARG_STRLEN) + 1;
		if (len > MAX_ARG_STRLEN || *count >= MAX_ARG_STRINGS)
			return -E2BIG;
		*bytes += len;
	}
	return 0;
}

/* Map one PT_LOAD like Linux's elf_load(): the file's pages from the
 * segment's page start (so the bytes around it in its first and last
 * page are the file's too) as a private file mapping, shared with every
 * other process through the page cache until written; the rest of the
 * last file page zeroed and anonymous pages for the bss. */
static int load_segment(struct mm *mm, struct file *file, const Elf64_Phdr *ph, uint64_t bias,
			bool first)
{
	gaddr_t vaddr = bias + ph->p_vaddr;
	gaddr_t start = vaddr & PAGE_MASK;
	gaddr_t end = PAGE_ALIGN(vaddr + ph->p_memsz);
	int prot = elf_prot(ph->p_flags);
	/* Linux: MAP_FIXED_NOREPLACE for the first, so an image that
	 * collides with the stack fails with EEXIST. */
	int fixed = first ? MAP_FIXED_NOREPLACE : MAP_FIXED;
	gaddr_t file_end = ph->p_filesz ? PAGE_ALIGN(vaddr + ph->p_filesz) : start;
	long r;

	if (ph->p_memsz == 0)
		return 0;
	if (start < GUEST_MIN_ADDR)
		return -EPERM; /* vm.mmap_min_addr */
	if (ph->p_filesz) {
		r = mm_mmap_file(mm, start, file_end - start, prot, MAP_PRIVATE | fixed, file,
				 ph->p_offset - (vaddr - start));
		if (r < 0)
			return (int)r;
		if ((gaddr_t)r != start)
			return -EEXIST;
		fixed = MAP_FIXED;
	}
	if (ph->p_memsz > ph->p_filesz) {
		/* Linux's padzero: the file page's tail past p_filesz reads as
		 * zero (only possible, and only required, when writable). */
		gaddr_t zero = vaddr + ph->p_filesz;
		if (ph->p_filesz && (zero & ~PAGE_MASK) && (prot & PROT_WRITE)) {
			static const char zeros[PAGE_SIZE];
			size_t n = PAGE_ALIGN(zero) - zero;
			if (mm_cow_break(mm, zero, n) || mm_poke(mm, zero, zeros, n))
				return -EFAULT;
		}
		if (end > file_end) {
			r = mm_mmap_anon(mm, file_end, end - file_end, prot, MAP_PRIVATE | MAP_ANONYMOUS | fixed,
					 VMA_ANON);
			if (r < 0)
				return (int)r;
			if ((gaddr_t)r != file_end)
				return -EEXIST;
		}
	}
	return 0;
}

/* An ELF file being loaded: the program or its interpreter. */
struct image {
	int fd;              /* for reading headers */
	struct file *file;   /* for mapping */
	struct elf_info info;
	void *phdrs;
	uint64_t bias;
};

/* Choose im->bias. ET_EXEC: 0. A PIE with an interpreter: Linux's fixed
 * spot, ELF_ET_DYN_BASE plus arch_mmap_rnd(), aligned to the largest
 * p_align. Anything else ET_DYN (a static PIE, ld.so run directly, an
 * interpreter): where mmap would put it (Linux maps the first segment at
 * its vaddr without MAP_FIXED; a non-zero vaddr is a hint when `hint`),
 * aligned down to the largest p_align. */
static int choose_bias(struct mm *mm, struct image *im, bool pie_with_interp, bool hint)
{
	const struct elf_info *info = &im->info;
	uint64_t total = PAGE_ALIGN(info->hi) - info->lo;
	gaddr_t start;

	im->bias = 0;
	if (info->type == ET_EXEC)
		return 0;
	if (pie_with_interp) {
		start = ELF_ET_DYN_BASE + (krandom_u64() & ((1UL << MMAP_RND_BITS) - 1)) * PAGE_SIZE;
		start &= ~(info->max_align - 1);
		im->bias = start - info->lo;
		return 0;
	}
	if (hint && info->lo >= GUEST_MIN_ADDR && total <= GUEST_TASK_SIZE - info->lo &&
	    vma_range_free(&mm->vmas, info->lo, info->lo + total))
		return 0;
	start = mm_find_free(mm, total);
	if (!start)
		return -ENOMEM;
	start &= ~(info->max_align - 1);
	if (start < GUEST_MIN_ADDR)
		return -ENOMEM;
	im->bias = start - info->lo;
	return 0;
}

/* Map every PT_LOAD of im at its bias. */
static int map_image(struct mm *mm, const struct image *im)
{
	const struct elf_info *info = &im->info;

	if (im->bias + info->entry >= GUEST_TASK_SIZE || im->bias + info->hi > GUEST_TASK_SIZE)
		return -EINVAL;
	/* Later segments are mapped MAP_FIXED: make sure none lands on what
	 * is already there (the stack, or the program under its
	 * interpreter), which Linux would silently replace. Checked before
	 * the first segment is mapped, so this is exact. */
	for (unsigned i = 0; i < info->phnum; i++) {
		Elf64_Phdr ph;
		elf_phdr_get(im->phdrs, i, &ph);
		gaddr_t va = im->bias + ph.p_vaddr;
		if (ph.p_type == PT_LOAD && ph.p_memsz &&
		    !vma_range_free(&mm->vmas, va & PAGE_MASK, PAGE_ALIGN(va + ph.p_memsz)))
			return -EEXIST;
	}
	bool first = true;
	for (unsigned i = 0; i < info->phnum; i++) {
		Elf64_Phdr ph;
		elf_phdr_get(im->phdrs, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		int err = load_segment(mm, im->file, &ph, im->bias, first);
		if (err)
			return err;
		first = false;
	}
	return 0;
}

/* Find, open and check the interpreter named by the program's PT_INTERP
 * (the part of Linux's load_elf_binary before the point of no return),
 * so that a bad one fails execve before the mm is touched. Looked up like
 * open_exec(): from the caller's cwd, and it must be executable. */
static int open_interp(const struct image *prog, struct image *interp)
{
	char *path = malloc(ELF_MAX_INTERP);
	int err;

	if (!path)
		return -ENOMEM;
	err = elf_read_interp(prog->fd, &prog->info, path);
	if (!err) {
		interp->file = fs_open_exec_file(path, &err);
		if (interp->file) {
			interp->fd = fs_exec_fd(interp->file);
			err = interp->fd < 0 ? interp->fd
				: elf_read_interp_headers(interp->fd, &interp->info, &interp->phdrs);
		}
		if (err)
			kdebug("exec: interpreter %s: %s", path, strerror(-err));
	}
	free(path);
	return err;
}

/* Linux's mmap_base(): below the stack's largest random offset, its
 * rlimit and guard gap, minus the mmap randomisation. */
static gaddr_t pick_mmap_base(void)
{
	uint64_t gap = EXEC_STACK_RLIMIT + (STACK_RND_MASK << 12) + STACK_GUARD_GAP;
	uint64_t rnd = (krandom_u64() & ((1UL << MMAP_RND_BITS) - 1)) * PAGE_SIZE;

	gap = MAX(gap, 128UL << 20);
	gap = MIN(gap, GUEST_TASK_SIZE / 6 * 5);
	return PAGE_ALIGN(GUEST_TASK_SIZE - gap - rnd);
}

struct frame {
	char *buf;     /* kernel copy of the stack from base to its top */
	gaddr_t base;
};

static void frame_put(struct frame *f, gaddr_t addr, const void *src, size_t n)
{
	memcpy(f->buf + (addr - f->base), src, n);
}

/* Lay the strings of v out ascending from addr, and their addresses at
 * *slot (one u64 each, then a NULL). Returns the address after them. */
static gaddr_t put_strings(struct frame *f, gaddr_t addr, char *const v[], size_t n,
			   gaddr_t *slot)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i]) + 1;
		frame_put(f, addr, v[i], len);
		frame_put(f, *slot, &addr, 8);
		*slot += 8;
		addr += len;
	}
	*slot += 8; /* the NULL, already zero */
	return addr;
}

int exec_load(struct mm *mm, struct file *file, int host_fd, const char *filename,
	      char *const argv[], char *const envp[], struct guest_regs *regs)
{
	static char *const empty_argv[] = { "", NULL };
	struct image prog = { .fd = host_fd, .file = file }, interp = { .fd = -1 };
	const struct elf_info *info = &prog.info;
	size_t argc, envc, arg_bytes, env_bytes, fn_len;
	uint64_t limit, ptr_size;
	int err;

	/* Arguments first: Linux copies them (E2BIG) before it looks at the
	 * file. The strings may take a quarter of the stack rlimit (at most
	 * 3/4 of 8 MiB, at least ARG_MAX) after the pointers to them. */
	if ((err = count_strings(argv, &argc, &arg_bytes)) ||
	    (err = count_strings(envp, &envc, &env_bytes)))
		return err;
	if (argc == 0) { /* Linux >= 5.18 makes argv {""} */
		argv = empty_argv;
		argc = 1;
		arg_bytes = 1;
	}
	fn_len = strnlen(filename, MAX_ARG_STRLEN) + 1;
	if (fn_len > MAX_ARG_STRLEN)
		return -E2BIG;
	limit = MAX(MIN((8UL << 20) / 4 * 3, EXEC_STACK_RLIMIT / 4), ARG_MAX_MIN);
	ptr_size = (argc + envc) * 8;
	if (limit <= ptr_size || fn_len + arg_bytes + env_bytes > limit - ptr_size)
		return -E2BIG;

	err = elf_read_headers(host_fd, &prog.info, &prog.phdrs);
	if (err)
		return err;
	if (info->has_interp && (err = open_interp(&prog, &interp)))
		goto out;
	pthread_once(&host_once, host_init);

	/* Layout: mmap area, then the stack (Linux's setup_arg_pages comes
	 * before the program is mapped), then the program. */
	mm->mmap_base = pick_mmap_base();
	gaddr_t stack_top = GUEST_TASK_SIZE - (krandom_u64() & STACK_RND_MASK) * PAGE_SIZE;
	int stack_prot = PROT_READ | PROT_WRITE | (info->exec_stack ? PROT_EXEC : 0);
	long r = mm_mmap_anon(mm, stack_top - EXEC_STACK_RLIMIT, EXEC_STACK_RLIMIT, stack_prot,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, VMA_STACK);
	if (r < 0) {
		err = (int)r;
		goto out;
	}

	if ((err = choose_bias(mm, &prog, info->has_interp, true)) ||
	    (err = map_image(mm, &prog)))
		goto out;
	/* Linux loads the interpreter after the program; the vaddr hint of
	 * an ET_DYN one counts only under a program loaded at bias 0. */
	if (interp.fd >= 0 &&
	    ((err = choose_bias(mm, &interp, false, prog.bias == 0)) ||
	     (err = map_image(mm, &interp))))
		goto out;

	/* The heap starts a page above the image, randomised; a static PIE
	 * (Linux: "a loader run directly") gets it at ELF_ET_DYN_BASE, out
	 * of the mmap area. The brk call creates the VMA lazily. */
	gaddr_t brk = PAGE_ALIGN(prog.bias + info->hi) + PAGE_SIZE;
	if (info->type == ET_DYN && !info->has_interp)
		brk = PAGE_ALIGN(ELF_ET_DYN_BASE);
	mm->start_brk = mm->brk = brk + random_pages(BRK_RND_RANGE);

	/* The vDSO, after its [vvar] page, in the mmap area once the program
	 * and its interpreter are in place (Linux's
	 * arch_setup_additional_pages); its address leads the auxv. */
	long vdso = vdso_map(mm);
	if (vdso < 0) {
		err = (int)vdso;
		goto out;
	}

	/* The initial stack, top down (guide section 8). */
	gaddr_t p = stack_top - 8;              /* the NULL word */
	gaddr_t execfn = p -= fn_len;
	gaddr_t env_start = p -= env_bytes;
	gaddr_t arg_start = p -= arg_bytes;
	p -= krandom_u64() % 8192;              /* arch_align_stack() */
	p &= ~15UL;
	gaddr_t u_platform = p -= sizeof(PLATFORM);
	gaddr_t u_random = p -= 16;

	uint64_t auxv[2 * 24];
	unsigned na = 0;
#define AUX(tag, val) do { auxv[na++] = (tag); auxv[na++] = (val); } while (0)
	AUX(AT_SYSINFO_EHDR, (uint64_t)vdso);
	AUX(AT_MINSIGSTKSZ, host.minsigstksz);
	AUX(AT_HWCAP, host.hwcap);
	AUX(AT_PAGESZ, PAGE_SIZE);
	AUX(AT_CLKTCK, 100);
	AUX(AT_PHDR, info->phdr_addr + prog.bias);
	AUX(AT_PHENT, ELF_PHENT_SIZE);
	AUX(AT_PHNUM, info->phnum);
	AUX(AT_BASE, interp.fd >= 0 ? interp.bias : 0);
	AUX(AT_FLAGS, 0);
	AUX(AT_ENTRY, info->entry + prog.bias);
	/* The guest runs as the invoking user. */
	struct process *cred = current ? current->proc : NULL;
	AUX(AT_UID, cred ? cred->ruid : getuid());
	AUX(AT_EUID, cred ? cred->uid : geteuid());
	AUX(AT_GID, cred ? cred->rgid : getgid());
	AUX(AT_EGID, cred ? cred->gid : getegid());
	AUX(AT_SECURE, 0);
	AUX(AT_RANDOM, u_random);
	AUX(AT_HWCAP2, host.hwcap2);
	AUX(AT_EXECFN, execfn);
	AUX(AT_PLATFORM, u_platform);
	/* No AT_RSEQ_FEATURE_SIZE/AT_RSEQ_ALIGN: rseq returns ENOSYS. */
	AUX(AT_NULL, 0);
#undef AUX

	size_t words = 1 + (argc + 1) + (envc + 1);
	gaddr_t sp = (p - na * 8 - words * 8) & ~15UL;
	struct frame f = { .base = sp };
	if (!(f.buf = calloc(1, stack_top - sp))) {
		err = -ENOMEM;
		goto out;
	}
	uint8_t rnd[16];
	krandom(rnd, sizeof(rnd));
	frame_put(&f, u_random, rnd, sizeof(rnd));
	frame_put(&f, u_platform, PLATFORM, sizeof(PLATFORM));
	frame_put(&f, execfn, filename, fn_len - 1); /* NUL from calloc */
	uint64_t argc64 = argc;
	frame_put(&f, sp, &argc64, 8);
	gaddr_t slot = sp + 8;
	put_strings(&f, arg_start, argv, argc, &slot);
	put_strings(&f, env_start, envp, envc, &slot);
	frame_put(&f, slot, auxv, na * 8);
	err = mm_poke(mm, sp, f.buf, stack_top - sp);
	free(f.buf);
	if (err)
		goto out;

	mm->start_stack = sp;
	mm->arg_start = arg_start;
	mm->arg_end = mm->env_start = env_start;
	mm->env_end = execfn;

	/* Linux's start_thread(): all other registers zero. */
	memset(regs, 0, sizeof(*regs));
	regs->rip = interp.fd >= 0 ? interp.bias + interp.info.entry : info->entry + prog.bias;
	regs->rsp = sp;
	regs->eflags = 0x202;
	regs->csgsfs = 0x33 | (0x2bULL << 48); /* cs, gs 0, fs 0, ss */
out:
	free(prog.phdrs);
	free(interp.phdrs);
	if (interp.fd >= 0)
		close(interp.fd);
	if (interp.file)
		fput(interp.file);
	return err;
}
