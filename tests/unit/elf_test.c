/* ELF validation (kernel/elf.c) and program loading (kernel/exec.c):
 * malformed headers give Linux's errors and never crash; real static
 * binaries parse; loads into an mm without a host process produce the
 * Linux stack layout, and busybox started natively from that image (the
 * memory-file pieces mapped at the guest addresses in a child) runs.
 * Programs with an interpreter: a synthetic one in a temporary sandbox
 * root (and its errors), and the host's ld.so with a real program. */
#include "fs/fs.h"
#include "kernel/elf.h"
#include "kernel/exec.h"
#include "mm/memfile.h"
#include "mm/hostmap.h"
#include "mm/mm.h"
#include "tests/unit/check.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fs/file.h"

/* The kernel file the loader maps from, for a host fd (kept for the run). */
static struct file *file_of(int fd)
{
	return hostfile_new(dup(fd), O_RDONLY, NULL);
}

#define PG 4096UL
#define BASE 0x400000UL

/* x86-64: exit(7) */
static const unsigned char exit7[] = { 0xb8, 0x3c, 0, 0, 0, 0xbf, 7, 0, 0, 0, 0x0f, 0x05 };

static unsigned char img[4 * PG] __attribute__((aligned(16)));

static void put_ehdr(uint16_t type, uint64_t entry, unsigned phnum)
{
	Elf64_Ehdr e = { 0 };
	memcpy(e.e_ident, ELFMAG, SELFMAG);
	e.e_ident[EI_CLASS] = ELFCLASS64;
	e.e_ident[EI_DATA] = ELFDATA2LSB;
	e.e_ident[EI_VERSION] = EV_CURRENT;
	e.e_type = type;
	e.e_machine = EM_X86_64;
	e.e_version = EV_CURRENT;
	e.e_entry = entry;
	e.e_phoff = sizeof(e);
	e.e_ehsize = sizeof(e);
	e.e_phentsize = sizeof(Elf64_Phdr);
	e.e_phnum = (uint16_t)phnum;
	memcpy(img, &e, sizeof(e));
}

static void put_phdr(unsigned i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		     uint64_t filesz, uint64_t memsz)
{
	Elf64_Phdr p = { .p_type = type, .p_flags = flags, .p_offset = off, .p_vaddr = vaddr,
			 .p_paddr = vaddr, .p_filesz = filesz, .p_memsz = memsz, .p_align = PG };
	memcpy(img + sizeof(Elf64_Ehdr) + i * sizeof(p), &p, sizeof(p));
}

static void set_phdr_field(unsigned i, size_t field_off, uint64_t v)
{
	memcpy(img + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr) + field_off, &v, sizeof(v));
}

/* A valid program: text page (headers + code) and a data page with bss,
 * base vaddr `base` (0 for a PIE). */
static void mk_valid(uint16_t type, uint64_t base)
{
	memset(img, 0, sizeof(img));
	put_ehdr(type, base + 0x200, 3);
	put_phdr(0, PT_LOAD, PF_R | PF_X, 0, base, PG, PG);
	put_phdr(1, PT_LOAD, PF_R | PF_W, PG, base + PG, 0x800, 3 * PG);
	put_phdr(2, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
	memcpy(img + 0x200, exit7, sizeof(exit7));
	memset(img + PG, 0xaa, PG); /* data 0x800 bytes, then file bytes that must not show as bss */
}
#define IMG_LEN (2 * PG)

static int parse(size_t len)
{
	struct elf_info info;
	return elf_parse(img, len, &info);
}

static void test_parse_valid(void)
{
	struct elf_info info;
	mk_valid(ET_EXEC, BASE);
	CHECK_EQ(elf_parse(img, IMG_LEN, &info), 0, "valid ET_EXEC parses");
	CHECK_EQ(info.type, ET_EXEC, "type");
	CHECK_EQ(info.entry, BASE + 0x200, "entry");
	CHECK_EQ(info.nload, 2, "two PT_LOADs");
	CHECK_EQ(info.lo, BASE, "lo");
	CHECK_EQ(info.hi, BASE + 4 * PG, "hi");
	CHECK_EQ(info.phdr_addr, BASE + 64, "phdrs found in the first PT_LOAD");
	CHECK_EQ(info.max_align, PG, "max_align");
	CHECK(!info.has_interp && !info.exec_stack, "no interp, no exec stack");

	put_phdr(2, PT_GNU_STACK, PF_R | PF_W | PF_X, 0, 0, 0, 0);
	set_phdr_field(0, offsetof(Elf64_Phdr, p_align), 0x200000);
	set_phdr_field(1, offsetof(Elf64_Phdr, p_align), 0x3000); /* not a power of 2: ignored */
	CHECK_EQ(elf_parse(img, IMG_LEN, &info), 0, "exec stack and p_align");
	CHECK(info.exec_stack, "PT_GNU_STACK PF_X seen");
	CHECK_EQ(info.max_align, 0x200000, "largest power-of-2 p_align");

	/* Segments sharing a page are fine; ending exactly at the task size too. */
	mk_valid(ET_EXEC, BASE);
	put_phdr(0, PT_LOAD, PF_R | PF_X, 0, BASE, 0x800, 0x800);
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0x800, BASE + 0x800, 0x100, 0x100);
	CHECK_EQ(parse(IMG_LEN), 0, "PT_LOADs sharing a page");
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0, GUEST_TASK_SIZE - PG, 0, PG);
	CHECK_EQ(parse(IMG_LEN), 0, "PT_LOAD ending at the task size");

	/* PT_PHDR is the fallback when no PT_LOAD holds the table. */
	mk_valid(ET_EXEC, BASE);
	put_phdr(0, PT_LOAD, PF_R | PF_X, PG, BASE + PG, 0x100, 0x100);
	put_phdr(1, PT_LOAD, PF_R | PF_W, PG, BASE + 2 * PG, 0x100, 0x100);
	put_phdr(2, PT_PHDR, PF_R, 64, 0x123440, 3 * 56, 3 * 56);
	CHECK_EQ(elf_parse(img, IMG_LEN, &info), 0, "phdrs outside the PT_LOADs");
	CHECK(info.has_phdr && info.phdr_addr == 0x123440, "AT_PHDR from PT_PHDR");

	/* Interpreter. */
	mk_valid(ET_DYN, 0);
	put_phdr(2, PT_INTERP, PF_R, 0x300, 0x300, 28, 28);
	strcpy((char *)img + 0x300, "/lib64/ld-linux-x86-64.so.2");
	CHECK_EQ(elf_parse(img, IMG_LEN, &info), 0, "PIE with PT_INTERP parses");
	CHECK(info.has_interp && info.interp_off == 0x300 && info.interp_len == 28, "interp recorded");
	img[0x300 + 27] = 'x';
	CHECK_EQ(parse(IMG_LEN), -ENOEXEC, "interp not NUL-terminated");
	put_phdr(2, PT_INTERP, PF_R, 0x300, 0x300, 1, 1);
	CHECK_EQ(parse(IMG_LEN), -ENOEXEC, "interp of 1 byte");
	put_phdr(2, PT_INTERP, PF_R, 0x300, 0x300, 4097, 4097);
	CHECK_EQ(parse(IMG_LEN), -ENOEXEC, "interp longer than PATH_MAX");
	put_phdr(2, PT_INTERP, PF_R, IMG_LEN - 4, 0, 28, 28);
	CHECK_EQ(parse(IMG_LEN), -EIO, "interp past EOF");
}

static void test_parse_errors(void)
{
	static const struct { size_t off; unsigned char v; const char *what; } idents[] = {
		{ 0, 0x7e, "bad magic" },
		{ 3, 'f', "bad magic (last byte)" },
		{ EI_CLASS, ELFCLASS32, "ELFCLASS32" },
		{ EI_DATA, ELFDATA2MSB, "big-endian" },
		{ EI_VERSION, 0, "EI_VERSION 0" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(idents); i++) {
		mk_valid(ET_EXEC, BASE);
		img[idents[i].off] = idents[i].v;
		CHECK_EQ(parse(IMG_LEN), -ENOEXEC, "%s", idents[i].what);
	}
	mk_valid(ET_EXEC, BASE);
	CHECK_EQ(parse(0), -ENOEXEC, "empty file");
	CHECK_EQ(parse(63), -ENOEXEC, "truncated header");
	CHECK_EQ(parse(64 + 56), -ENOEXEC, "truncated phdr table");

	static const struct { size_t off; uint16_t v; const char *what; } fields[] = {
		{ offsetof(Elf64_Ehdr, e_type), ET_REL, "ET_REL" },
		{ offsetof(Elf64_Ehdr, e_type), ET_CORE, "ET_CORE" },
		{ offsetof(Elf64_Ehdr, e_machine), EM_386, "EM_386" },
		{ offsetof(Elf64_Ehdr, e_machine), EM_AARCH64, "EM_AARCH64" },
		{ offsetof(Elf64_Ehdr, e_phentsize), 32, "e_phentsize 32" },
		{ offsetof(Elf64_Ehdr, e_phentsize), 57, "e_phentsize 57" },
		{ offsetof(Elf64_Ehdr, e_phnum), 0, "e_phnum 0" },
		{ offsetof(Elf64_Ehdr, e_phnum), 0xffff, "e_phnum 0xffff" },
		{ offsetof(Elf64_Ehdr, e_phnum), 65536 / 56 + 1, "phdrs over 64 KiB" },
		{ offsetof(Elf64_Ehdr, e_phnum), 65536 / 56, "64 KiB of phdrs past EOF" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		mk_valid(ET_EXEC, BASE);
		memcpy(img + fields[i].off, &fields[i].v, 2);
		CHECK_EQ(parse(IMG_LEN), -ENOEXEC, "%s", fields[i].what);
	}

	uint64_t v;
	mk_valid(ET_EXEC, BASE);
	v = IMG_LEN - 100;
	memcpy(img + offsetof(Elf64_Ehdr, e_phoff), &v, 8);
	CHECK_EQ(parse(IMG_LEN), -ENOEXEC, "e_phoff: table past EOF");
	v = UINT64_MAX - 8;
	memcpy(img + offsetof(Elf64_Ehdr, e_phoff), &v, 8);
	CHECK_EQ(parse(IMG_LEN), -ENOEXEC, "e_phoff overflows");
	mk_valid(ET_EXEC, BASE);
	v = GUEST_TASK_SIZE;
	memcpy(img + offsetof(Elf64_Ehdr, e_entry), &v, 8);
	CHECK_EQ(parse(IMG_LEN), -EINVAL, "ET_EXEC entry above the task size");

	static const struct {
		uint64_t off, vaddr, filesz, memsz;
		int err;
		const char *what;
	} loads[] = {
		{ PG, BASE + PG, 0x800, 0x700, -EINVAL, "p_filesz > p_memsz" },
		{ PG + 8, BASE + PG, 0x100, 0x100, -EINVAL, "p_offset and p_vaddr misaligned" },
		{ PG, BASE + PG + 0x10, 0x100, 0x100, -EINVAL, "p_vaddr and p_offset misaligned" },
		{ 0, 0xfffffffffffff000, 0, 0x2000, -EINVAL, "vaddr + memsz overflows" },
		{ 0, BASE + PG, 0, UINT64_MAX, -EINVAL, "huge p_memsz" },
		{ 0, GUEST_TASK_SIZE - PG, 0, 2 * PG, -EINVAL, "segment above the task size" },
		{ 0, GUEST_TASK_SIZE, 0, 0, -EINVAL, "empty segment at the task size" },
		{ PG, BASE + PG, PG + 1, PG + 1, -ENOEXEC, "file range past EOF" },
		{ 3 * PG, BASE + PG, 1, 1, -ENOEXEC, "p_offset past EOF" },
		{ UINT64_MAX & PAGE_MASK, BASE + PG, PG, PG, -ENOEXEC, "p_offset + p_filesz overflows" },
		{ 0, BASE + 0x800, 0, PG, -ENOEXEC, "overlapping segments" },
		{ 0, BASE - PG, 0, PG, -ENOEXEC, "segments not sorted" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(loads); i++) {
		mk_valid(ET_EXEC, BASE);
		put_phdr(1, PT_LOAD, PF_R | PF_W, loads[i].off, loads[i].vaddr, loads[i].filesz,
			 loads[i].memsz);
		CHECK_EQ(parse(IMG_LEN), loads[i].err, "%s", loads[i].what);
	}
	mk_valid(ET_DYN, 0);
	put_phdr(0, PT_NOTE, PF_R, 0, 0, 0, 0);
	put_phdr(1, PT_NOTE, PF_R, 0, 0, 0, 0);
	CHECK_EQ(parse(IMG_LEN), -EINVAL, "no PT_LOAD");
}

/* Random corruption of a valid image: only the documented errors, and
 * consistent results on success. */
static void test_parse_fuzz(void)
{
	static unsigned char orig[IMG_LEN];
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	int bad = 0, ok = 0;

	mk_valid(ET_DYN, 0);
	put_phdr(2, PT_INTERP, PF_R, 0x300, 0x300, 8, 8);
	strcpy((char *)img + 0x300, "/ld.so");
	memcpy(orig, img, IMG_LEN);
	for (int it = 0; it < 200000; it++) {
		memcpy(img, orig, IMG_LEN);
		int flips = 1 + it % 4;
		for (int k = 0; k < flips; k++) {
			s ^= s << 13, s ^= s >> 7, s ^= s << 17;
			size_t at = (s >> 8) % (64 + 3 * 56);
			img[at] = (s & 1) ? (unsigned char)(s >> 32) : img[at] ^ (unsigned char)(1u << (s >> 40) % 8);
		}
		size_t len = (it % 7 == 0) ? (size_t)(s >> 20) % IMG_LEN : IMG_LEN;
		struct elf_info info;
		int r = elf_parse(img, len, &info);
		if (r == 0) {
			ok++;
			if (info.nload == 0 || info.lo > info.hi || info.hi > GUEST_TASK_SIZE)
				bad++;
		} else if (r != -ENOEXEC && r != -EINVAL && r != -EIO) {
			bad++;
		}
	}
	CHECK(bad == 0 && ok > 0, "200000 corrupted images: %d parsed, %d inconsistent", ok, bad);
}

static void test_parse_real(void)
{
	struct elf_info info;
	void *ph;
	int fd = open("/bin/busybox", O_RDONLY);
	if (fd < 0) {
		printf("ok - # skip: no /bin/busybox\n");
		return;
	}
	CHECK_EQ(elf_read_headers(fd, &info, &ph), 0, "/bin/busybox headers");
	CHECK(info.type == ET_EXEC && !info.has_interp && info.nload >= 2, "busybox: static ET_EXEC");
	CHECK_EQ(info.phdr_addr, info.lo + 64, "busybox AT_PHDR");
	free(ph);
	close(fd);

	fd = open("/bin/ls", O_RDONLY);
	if (fd >= 0) {
		CHECK_EQ(elf_read_headers(fd, &info, &ph), 0, "/bin/ls headers");
		CHECK(info.type == ET_DYN && info.has_interp, "ls: PIE with PT_INTERP");
		free(ph);
		close(fd);
	}
	fd = open("/etc/passwd", O_RDONLY);
	if (fd >= 0) {
		CHECK_EQ(elf_read_headers(fd, &info, &ph), -ENOEXEC, "a text file");
		close(fd);
	}
}

/* ---- loading ---------------------------------------------------------- */

static int img_fd(size_t len)
{
	int fd = memfd_create("elf_test", 0);
	if (fd < 0 || write(fd, img, len) != (ssize_t)len)
		return -1;
	return fd;
}

static int peek(struct mm *mm, gaddr_t addr, void *dst, size_t n)
{
	while (n) {
		size_t avail;
		void *p = mm_translate(mm, addr, false, &avail);
		if (!p)
			return -EFAULT;
		size_t c = MIN(n, avail);
		memcpy(dst, p, c);
		dst = (char *)dst + c;
		addr += c;
		n -= c;
	}
	return 0;
}

static uint64_t peek64(struct mm *mm, gaddr_t addr)
{
	uint64_t v = 0xdeadbeef;
	peek(mm, addr, &v, 8);
	return v;
}

static bool peek_str_eq(struct mm *mm, gaddr_t addr, const char *s)
{
	char buf[256] = { 0 };
	size_t n = strlen(s) + 1;
	return n <= sizeof(buf) && peek(mm, addr, buf, n) == 0 && memcmp(buf, s, n) == 0;
}

/* Map the memory-file pieces of mm at their guest addresses in a child,
 * start the program with the entry registers, and collect its stdout.
 * Returns the exit status, or -1 if the layout collides with the child's
 * own mappings (then the caller skips). */
static int run_native(struct mm *mm, const struct guest_regs *r, char *out, size_t size)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < mm->vmas.n; i++) {
			struct vma *v = &mm->vmas.v[i];
			void *a;
			if (v->image) /* a host file mapped as it is (mm/hostmap.h) */
				a = mmap((void *)v->start, v->end - v->start, v->prot, MAP_PRIVATE | MAP_FIXED_NOREPLACE,
					 v->image->fd, (off_t)v->file_off);
			else if (v->off == NO_BACKING)
				continue;
			else
				a = mmap((void *)v->start, v->end - v->start, v->prot,
					 MAP_SHARED | MAP_FIXED_NOREPLACE, memfile.fd, (off_t)v->off);
			if (a != (void *)v->start)
				_exit(99);
		}
		dup2(p[1], 1);
		alarm(10);
		/* Push the entry on the new stack, clear every register
		 * (rdx too: the psABI atexit pointer), and return into it. */
		__asm__ volatile("mov %0, %%rsp\n\tpush %1\n\t"
				 "xor %%eax, %%eax\n\txor %%ebx, %%ebx\n\txor %%ecx, %%ecx\n\t"
				 "xor %%edx, %%edx\n\txor %%esi, %%esi\n\txor %%edi, %%edi\n\t"
				 "xor %%ebp, %%ebp\n\txor %%r8d, %%r8d\n\txor %%r9d, %%r9d\n\t"
				 "xor %%r10d, %%r10d\n\txor %%r11d, %%r11d\n\txor %%r12d, %%r12d\n\t"
				 "xor %%r13d, %%r13d\n\txor %%r14d, %%r14d\n\txor %%r15d, %%r15d\n\t"
				 "ret" : : "r"(r->rsp), "r"(r->rip) : "memory");
		__builtin_unreachable();
	}
	close(p[1]);
	size_t len = 0;
	ssize_t n;
	while (len + 1 < size && (n = read(p[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 99)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_load_busybox(void)
{
	struct guest_regs r;
	struct elf_info info;
	void *ph;
	char *argv[] = { "busybox", "echo", "hello", "world", NULL };
	char *envp[] = { "A=1", "HOME=/", NULL };
	int fd = open("/bin/busybox", O_RDONLY);
	if (fd < 0 || elf_read_headers(fd, &info, &ph) != 0)
		return;

	struct mm *mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "/bin/busybox", argv, envp, &r), 0, "exec_load busybox");
	CHECK_EQ(r.rip, info.entry, "rip = e_entry");
	CHECK(r.rsp == mm->start_stack && r.rsp % 16 == 0, "rsp 16-aligned = start_stack");
	CHECK(r.eflags == 0x202 && r.csgsfs == 0x002b000000000033ULL, "eflags, cs, ss");
	CHECK(r.rax == 0 && r.rdx == 0 && r.rdi == 0 && r.rbp == 0, "GPRs zero");

	struct vma *st = vma_find(&mm->vmas, r.rsp);
	CHECK(st && st->kind == VMA_STACK && st->end - st->start == EXEC_STACK_RLIMIT &&
	      st->end <= GUEST_TASK_SIZE && st->end > GUEST_TASK_SIZE - (16UL << 30) &&
	      st->prot == (PROT_READ | PROT_WRITE) && (st->flags & MAP_GROWSDOWN), "[stack] VMA");
	CHECK_EQ(peek64(mm, st->end - 8), 0, "NULL word at the top");

	gaddr_t sp = r.rsp;
	CHECK_EQ(peek64(mm, sp), 4, "argc");
	for (int i = 0; i < 4; i++)
		CHECK(peek_str_eq(mm, peek64(mm, sp + 8 + 8 * i), argv[i]), "argv[%d]", i);
	CHECK_EQ(peek64(mm, sp + 8 * 5), 0, "argv NULL");
	CHECK_EQ(peek64(mm, sp + 8 * 6), mm->env_start, "envp[0] at env_start");
	for (int i = 0; i < 2; i++)
		CHECK(peek_str_eq(mm, peek64(mm, sp + 48 + 8 * i), envp[i]), "envp[%d]", i);
	CHECK_EQ(peek64(mm, sp + 8 * 8), 0, "envp NULL");
	CHECK_EQ(mm->arg_start, peek64(mm, sp + 8), "arg_start = argv[0]");
	CHECK_EQ(mm->arg_end - mm->arg_start, sizeof("busybox echo hello world"), "arg range");
	CHECK_EQ(mm->env_end - mm->env_start, sizeof("A=1 HOME=/"), "env range");

	static const uint64_t order[] = { AT_SYSINFO_EHDR, AT_MINSIGSTKSZ, AT_HWCAP, AT_PAGESZ,
		AT_CLKTCK, AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID,
		AT_GID, AT_EGID, AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM, AT_NULL };
	gaddr_t a = sp + 8 * 9;
	bool in_order = true;
	uint64_t val[64] = { 0 };
	for (size_t i = 0; i < ARRAY_SIZE(order); i++, a += 16) {
		uint64_t tag = peek64(mm, a);
		in_order &= tag == order[i];
		if (tag < 64)
			val[tag] = peek64(mm, a + 8);
	}
	CHECK(in_order, "auxv tags in Linux's order");
	CHECK_EQ(peek64(mm, val[AT_SYSINFO_EHDR]), 0x00010102464c457fULL, "AT_SYSINFO_EHDR: the vDSO's ELF header");
	CHECK_EQ(val[AT_PAGESZ], 4096, "AT_PAGESZ");
	CHECK_EQ(val[AT_CLKTCK], 100, "AT_CLKTCK");
	CHECK_EQ(val[AT_PHDR], info.phdr_addr, "AT_PHDR");
	CHECK_EQ(val[AT_PHENT], 56, "AT_PHENT");
	CHECK_EQ(val[AT_PHNUM], info.phnum, "AT_PHNUM");
	CHECK_EQ(val[AT_ENTRY], info.entry, "AT_ENTRY");
	CHECK_EQ(val[AT_UID], getuid(), "AT_UID");
	CHECK(val[AT_MINSIGSTKSZ] >= 2048 && (!getauxval(AT_MINSIGSTKSZ) ||
					      val[AT_MINSIGSTKSZ] == getauxval(AT_MINSIGSTKSZ)),
	      "AT_MINSIGSTKSZ %lu", (unsigned long)val[AT_MINSIGSTKSZ]);
	CHECK(val[AT_HWCAP] & (1 << 25), "AT_HWCAP has SSE");
	CHECK(peek_str_eq(mm, val[AT_EXECFN], "/bin/busybox") && val[AT_EXECFN] == mm->env_end,
	      "AT_EXECFN above the env strings");
	CHECK(peek_str_eq(mm, val[AT_PLATFORM], "x86_64"), "AT_PLATFORM");
	CHECK(val[AT_RANDOM] + 16 == val[AT_PLATFORM] && val[AT_RANDOM] > a, "AT_RANDOM below it");
	CHECK(mm->arg_start - (val[AT_PLATFORM] + 7) < 8192 + 16, "random gap under the strings");

	/* Segment contents, bss and protections. */
	char want[64], got[64];
	CHECK(pread(fd, want, 64, 0) == 64 && peek(mm, info.lo, got, 64) == 0 &&
	      !memcmp(want, got, 64), "ELF header at the base");
	bool prot_ok = true, data_ok = true;
	for (unsigned i = 0; i < info.phnum; i++) {
		Elf64_Phdr p;
		elf_phdr_get(ph, i, &p);
		if (p.p_type != PT_LOAD)
			continue;
		struct vma *v = vma_find(&mm->vmas, p.p_vaddr);
		prot_ok &= v && v->prot == elf_prot(p.p_flags);
		char *f = malloc(p.p_filesz), *m = malloc(p.p_memsz);
		data_ok &= pread(fd, f, p.p_filesz, (off_t)p.p_offset) == (ssize_t)p.p_filesz;
		data_ok &= peek(mm, p.p_vaddr, m, p.p_memsz) == 0 && !memcmp(f, m, p.p_filesz);
		for (size_t k = p.p_filesz; k < p.p_memsz; k++)
			data_ok &= m[k] == 0;
		free(f);
		free(m);
	}
	CHECK(prot_ok, "segment protections");
	CHECK(data_ok, "segment bytes from the file, zero bss");
	CHECK(mm->start_brk == mm->brk && mm->brk >= PAGE_ALIGN(info.hi) + PG &&
	      mm->brk < PAGE_ALIGN(info.hi) + PG + (1UL << 30) && PAGE_ALIGNED(mm->brk),
	      "brk a page + random above the image");
	CHECK(mm->mmap_base < st->start && mm->mmap_base > GUEST_TASK_SIZE - (2UL << 40),
	      "mmap_base below the stack");

	char out[256];
	int rc = run_native(mm, &r, out, sizeof(out));
	if (rc < 0)
		printf("ok - # skip: guest layout collides with the test process\n");
	else
		CHECK(rc == 0 && !strcmp(out, "hello world\n"), "busybox echo runs natively");
	mm_put(mm);

	/* The environment reaches the program. */
	char *envargv[] = { "env", NULL };
	mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "/bin/env", envargv, envp, &r), 0, "exec_load busybox env");
	rc = run_native(mm, &r, out, sizeof(out));
	if (rc >= 0)
		CHECK(rc == 0 && !strcmp(out, "A=1\nHOME=/\n"), "busybox env runs natively");
	mm_put(mm);
	free(ph);
	close(fd);
}

static void test_load_synthetic(void)
{
	struct guest_regs r;
	char *argv[] = { "prog", NULL };
	char *envp[] = { NULL };
	char out[16];
	struct mm *mm;
	int fd;

	/* ET_EXEC: text, data + bss; the file bytes after the data must not
	 * show through the bss. */
	mk_valid(ET_EXEC, BASE);
	fd = img_fd(IMG_LEN);
	mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "prog", argv, envp, &r), 0, "exec_load synthetic ET_EXEC");
	unsigned char b[PG];
	CHECK(peek(mm, BASE + PG, b, PG) == 0 && b[0x7ff] == 0xaa && b[0x800] == 0 && b[PG - 1] == 0,
	      "data then zeroed bss tail");
	CHECK(vma_find(&mm->vmas, BASE)->prot == (PROT_READ | PROT_EXEC), "text r-x");
	CHECK(vma_find(&mm->vmas, BASE + 3 * PG)->prot == (PROT_READ | PROT_WRITE), "bss rw-");
	CHECK(!vma_find(&mm->vmas, BASE + 4 * PG), "nothing past the bss");
	int rc = run_native(mm, &r, out, sizeof(out));
	if (rc >= 0)
		CHECK_EQ(rc, 7, "synthetic ET_EXEC runs natively");
	mm_put(mm);
	close(fd);

	/* argc 0 becomes argv {""}. */
	fd = img_fd(IMG_LEN);
	mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "prog", NULL, envp, &r), 0, "exec_load with no argv");
	CHECK(peek64(mm, r.rsp) == 1 && peek_str_eq(mm, peek64(mm, r.rsp + 8), ""), "argv = {\"\"}");
	mm_put(mm);
	close(fd);

	/* Static PIE: placed by the mmap allocator, heap at ELF_ET_DYN_BASE. */
	mk_valid(ET_DYN, 0);
	fd = img_fd(IMG_LEN);
	mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "pie", argv, envp, &r), 0, "exec_load static PIE");
	uint64_t bias = r.rip - 0x200;
	CHECK(PAGE_ALIGNED(bias) && bias >= GUEST_MIN_ADDR && bias + 4 * PG <= mm->mmap_base,
	      "PIE below mmap_base (bias %#lx)", (unsigned long)bias);
	CHECK(mm->brk >= PAGE_ALIGN(ELF_ET_DYN_BASE) && mm->brk < PAGE_ALIGN(ELF_ET_DYN_BASE) + (1UL << 30),
	      "static-PIE brk at ELF_ET_DYN_BASE");
	gaddr_t a = r.rsp + 8 * 4;
	while (peek64(mm, a) != AT_PHDR && peek64(mm, a) != AT_NULL)
		a += 16;
	CHECK_EQ(peek64(mm, a + 8), bias + 64, "PIE AT_PHDR biased");
	rc = run_native(mm, &r, out, sizeof(out));
	if (rc >= 0)
		CHECK_EQ(rc, 7, "static PIE runs natively");
	mm_put(mm);
	close(fd);

	set_phdr_field(0, offsetof(Elf64_Phdr, p_align), 0x200000);
	fd = img_fd(IMG_LEN);
	mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "pie", argv, envp, &r), 0, "exec_load PIE with 2 MiB p_align");
	CHECK_EQ((r.rip - 0x200) % 0x200000, 0, "bias aligned to p_align");
	mm_put(mm);
	close(fd);

	/* Refusals. */
	mk_valid(ET_EXEC, 0x1000);
	fd = img_fd(IMG_LEN);
	mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "low", argv, envp, &r), -EPERM, "ET_EXEC below mmap_min_addr");
	mm_put(mm);
	close(fd);

	mk_valid(ET_EXEC, BASE);
	put_phdr(1, PT_LOAD, PF_R | PF_W, 0, GUEST_TASK_SIZE - 2 * PG, 0, 2 * PG);
	fd = img_fd(IMG_LEN);
	mm = mm_new(NULL);
	int e = exec_load(mm, file_of(fd), fd, "high", argv, envp, &r);
	CHECK(e == 0 || e == -EEXIST, "segment at the top: loads or collides with the stack");
	mm_put(mm);
	close(fd);
}


/* ---- programs with an interpreter ------------------------------------- */

/* Interpreter code at 0x200: write(1, "interp\n", 7), then find AT_ENTRY
 * in the auxv above the initial sp and jump there (exit 99 if none). */
static const unsigned char interp_code[] = {
	0xb8, 0x01, 0x00, 0x00, 0x00, 0xbf, 0x01, 0x00, 0x00, 0x00, 0x48, 0x8d,
	0x35, 0x3d, 0x00, 0x00, 0x00, 0xba, 0x07, 0x00, 0x00, 0x00, 0x0f, 0x05,
	0x48, 0x8b, 0x0c, 0x24, 0x48, 0x8d, 0x74, 0xcc, 0x10, 0x48, 0x8b, 0x06,
	0x48, 0x83, 0xc6, 0x08, 0x48, 0x85, 0xc0, 0x75, 0xf4, 0x48, 0x8b, 0x06,
	0x48, 0x83, 0xf8, 0x09, 0x74, 0x15, 0x48, 0x83, 0xc6, 0x10, 0x48, 0x85,
	0xc0, 0x75, 0xee, 0xb8, 0x3c, 0x00, 0x00, 0x00, 0xbf, 0x63, 0x00, 0x00,
	0x00, 0x0f, 0x05, 0xff, 0x66, 0x08, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x70,
	0x0a,
};

static char troot[] = "/tmp/cocoon-elf-test.XXXXXX";

static void put_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", troot, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		CHECK(0, "writing %s", p);
	fchmod(fd, mode);
	close(fd);
}

/* An interpreter in img: one r-x page at `base` (0: ET_DYN) with the code
 * above; PG bytes. */
static void mk_interp(uint16_t type, uint64_t base)
{
	memset(img, 0, sizeof(img));
	put_ehdr(type, base + 0x200, 2);
	put_phdr(0, PT_LOAD, PF_R | PF_X, 0, base, PG, PG);
	put_phdr(1, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
	memcpy(img + 0x200, interp_code, sizeof(interp_code));
}

/* A valid program (mk_valid) whose PT_INTERP names path, placed at file
 * offset 2 * PG with filesz len (default: the string and its NUL). The
 * file is 3 pages; returns an fd of it. */
static int prog_with_interp(uint16_t type, const char *path, uint64_t len)
{
	mk_valid(type, type == ET_EXEC ? BASE : 0);
	size_t n = strlen(path) + 1;
	memcpy(img + 2 * PG, path, MIN(n, PG));
	put_phdr(2, PT_INTERP, PF_R, 2 * PG, 2 * PG, len ? len : n, len ? len : n);
	return img_fd(3 * PG);
}

static uint64_t auxv_get(struct mm *mm, const struct guest_regs *r, uint64_t tag)
{
	gaddr_t a = r->rsp + 8 * (peek64(mm, r->rsp) + 2); /* envp */
	while (peek64(mm, a))
		a += 8;
	for (a += 8; peek64(mm, a) != AT_NULL; a += 16)
		if (peek64(mm, a) == tag)
			return peek64(mm, a + 8);
	return 0xdeadbeef;
}

/* exec_load's error for prog_with_interp(type, path, len), the file cut
 * to `cut` bytes if non-zero. */
static int load_err(uint16_t type, const char *path, uint64_t len, off_t cut)
{
	char *argv[] = { "prog", NULL }, *envp[] = { NULL };
	struct guest_regs r;
	int fd = prog_with_interp(type, path, len);
	if (cut && ftruncate(fd, cut) != 0)
		return -1;
	struct mm *mm = mm_new(NULL);
	int err = exec_load(mm, file_of(fd), fd, "prog", argv, envp, &r);
	mm_put(mm);
	close(fd);
	return err;
}

static void test_load_interp(void)
{
	char *argv[] = { "prog", NULL }, *envp[] = { NULL };
	struct guest_regs r;
	char out[64];

	if (!mkdtemp(troot) || fs_init(troot) != 0) {
		CHECK(0, "temporary sandbox root");
		return;
	}
	mk_interp(ET_DYN, 0);
	put_file("ld.so", img, PG, 0755);
	put_file("noexec", img, PG, 0644);
	mk_interp(ET_REL, 0);
	put_file("rel", img, PG, 0755);
	mk_interp(ET_DYN, 0);
	img[offsetof(Elf64_Ehdr, e_machine)] = EM_386;
	put_file("i386", img, PG, 0755);
	mk_interp(ET_DYN, 0);
	img[EI_CLASS] = ELFCLASS32;
	put_file("class32", img, PG, 0755);
	mk_interp(ET_DYN, 0);
	put_phdr(0, PT_NOTE, PF_R, 0, 0, 0, 0);
	put_file("noload", img, PG, 0755);
	mk_interp(ET_EXEC, 0x10000000);
	put_file("fixed", img, PG, 0755);
	mk_interp(ET_EXEC, BASE + PG);
	put_file("overlap", img, PG, 0755);
	put_file("empty", "", 0, 0755);
	put_file("short", img, 40, 0755);
	memset(out, 'x', sizeof(out));
	put_file("text", out, sizeof(out), 0755);
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/dir", troot);
	mkdir(dir, 0755);

	/* A PIE and its interpreter. */
	int fd = prog_with_interp(ET_DYN, "/ld.so", 0);
	struct mm *mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "prog", argv, envp, &r), 0, "exec_load PIE with interpreter");
	uint64_t base = auxv_get(mm, &r, AT_BASE), entry = auxv_get(mm, &r, AT_ENTRY);
	uint64_t bias = auxv_get(mm, &r, AT_PHDR) - 64;
	struct vma *iv = vma_find(&mm->vmas, base);
	CHECK(iv && iv->prot == (PROT_READ | PROT_EXEC) && iv->end <= mm->mmap_base && PAGE_ALIGNED(base),
	      "interpreter mapped r-x below mmap_base (AT_BASE %#lx)", (unsigned long)base);
	unsigned char m[4];
	CHECK(peek(mm, base, m, 4) == 0 && !memcmp(m, ELFMAG, 4), "interpreter bytes at AT_BASE");
	CHECK_EQ(r.rip, base + 0x200, "rip = interpreter entry");
	CHECK_EQ(entry, bias + 0x200, "AT_ENTRY = the program's entry");
	CHECK(PAGE_ALIGNED(bias) && bias >= (ELF_ET_DYN_BASE & PAGE_MASK) &&
	      bias < ELF_ET_DYN_BASE + (1UL << 40), "PIE at ELF_ET_DYN_BASE + random (%#lx)",
	      (unsigned long)bias);
	CHECK(mm->brk >= bias + 5 * PG && mm->brk < bias + 5 * PG + (1UL << 30),
	      "brk a page + random above the PIE");
	int rc = run_native(mm, &r, out, sizeof(out));
	if (rc < 0)
		printf("ok - # skip: guest layout collides with the test process\n");
	else
		CHECK(rc == 7 && !strcmp(out, "interp\n"), "interpreter runs, then the program (%d)", rc);
	mm_put(mm);
	close(fd);

	/* ET_EXEC program, relative interpreter path (from the cwd, "/"). */
	fd = prog_with_interp(ET_EXEC, "ld.so", 0);
	mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "prog", argv, envp, &r), 0, "exec_load ET_EXEC, relative interpreter");
	CHECK(auxv_get(mm, &r, AT_ENTRY) == BASE + 0x200 && auxv_get(mm, &r, AT_PHDR) == BASE + 64,
	      "AT_ENTRY, AT_PHDR of the program");
	CHECK(mm->brk >= BASE + 5 * PG && mm->brk < BASE + 5 * PG + (1UL << 30), "brk above the program");
	rc = run_native(mm, &r, out, sizeof(out));
	if (rc >= 0)
		CHECK(rc == 7 && !strcmp(out, "interp\n"), "ET_EXEC + interpreter runs natively");
	mm_put(mm);
	close(fd);

	/* An ET_EXEC interpreter is loaded at its own addresses (Linux), AT_BASE 0. */
	fd = prog_with_interp(ET_DYN, "/fixed", 0);
	mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "prog", argv, envp, &r), 0, "ET_EXEC interpreter");
	CHECK(r.rip == 0x10000200 && auxv_get(mm, &r, AT_BASE) == 0, "at its vaddr, AT_BASE 0");
	mm_put(mm);
	close(fd);

	static const struct {
		const char *path;
		uint64_t len;
		off_t cut;
		int err;
		const char *what;
	} errs[] = {
		{ "/missing", 0, 0, -ENOENT, "interpreter missing" },
		{ "/noexec", 0, 0, -EACCES, "interpreter not executable (open_exec)" },
		{ "/dir", 0, 0, -EACCES, "interpreter a directory" },
		{ "/dir/", 0, 0, -EACCES, "interpreter a directory, with a slash" },
		{ "/ld.so/", 0, 0, -ENOTDIR, "interpreter with a trailing slash" },
		{ "", 2, 0, -ENOENT, "empty interpreter path" },
		{ "/empty", 0, 0, -EIO, "interpreter empty: short header read" },
		{ "/short", 0, 0, -EIO, "interpreter shorter than an ELF header" },
		{ "/text", 0, 0, -ELIBBAD, "interpreter not ELF" },
		{ "/rel", 0, 0, -ELIBBAD, "interpreter ET_REL" },
		{ "/i386", 0, 0, -ELIBBAD, "interpreter EM_386" },
		{ "/class32", 0, 0, -ELIBBAD, "interpreter ELFCLASS32" },
		{ "/noload", 0, 0, -EINVAL, "interpreter without PT_LOAD" },
		{ "/ld.so", 6, 0, -ENOEXEC, "PT_INTERP not NUL-terminated" },
		{ "/ld.so", 1, 0, -ENOEXEC, "PT_INTERP of 1 byte" },
		{ "", 1, 0, -ENOEXEC, "PT_INTERP of just a NUL" },
		{ "/ld.so", ELF_MAX_INTERP + 1, 0, -ENOEXEC, "PT_INTERP over PATH_MAX" },
		{ "/ld.so", 0, 2 * PG + 3, -EIO, "PT_INTERP past EOF" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(errs); i++)
		CHECK_EQ(load_err(ET_DYN, errs[i].path, errs[i].len, errs[i].cut), errs[i].err, "%s",
			 errs[i].what);
	CHECK_EQ(load_err(ET_EXEC, "/overlap", 0, 0), -EEXIST, "ET_EXEC interpreter over the program");

	/* A PT_INTERP of exactly PATH_MAX bytes is read; its name is too long. */
	char *longp = malloc(ELF_MAX_INTERP);
	memset(longp, 'a', ELF_MAX_INTERP - 1);
	longp[0] = '/';
	longp[ELF_MAX_INTERP - 1] = 0;
	CHECK_EQ(load_err(ET_DYN, longp, 0, 0), -ENAMETOOLONG, "PT_INTERP of PATH_MAX bytes");
	free(longp);

	snprintf(dir, sizeof(dir), "rm -rf '%s'", troot);
	if (system(dir))
		CHECK(0, "removing %s", troot);
}

/* The host's ld.so and a real dynamic program, run natively from the image. */
static void test_load_real_dynamic(void)
{
	char *argv[] = { "echo", "dynamic", "ok", NULL }, *envp[] = { "LC_ALL=C", NULL };
	struct guest_regs r;
	char out[64];
	int fd = open("/bin/echo", O_RDONLY);
	if (fd < 0 || fs_init("/") != 0) {
		printf("ok - # skip: no /bin/echo\n");
		return;
	}
	struct mm *mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "/bin/echo", argv, envp, &r), 0, "exec_load /bin/echo");
	uint64_t base = auxv_get(mm, &r, AT_BASE);
	unsigned char m[4];
	CHECK(base && peek(mm, base, m, 4) == 0 && !memcmp(m, ELFMAG, 4) && r.rip > base,
	      "ld.so at AT_BASE");
	int rc = run_native(mm, &r, out, sizeof(out));
	if (rc < 0)
		printf("ok - # skip: guest layout collides with the test process\n");
	else
		CHECK(rc == 0 && !strcmp(out, "dynamic ok\n"), "ld.so + /bin/echo run natively (%d)", rc);
	mm_put(mm);
	close(fd);
}

static void test_e2big(void)
{
	struct guest_regs r;
	char *envp[] = { NULL };
	size_t big = MAX_ARG_STRLEN - 1;
	char *s = malloc(big + 2);
	memset(s, 'x', big + 1);
	s[big + 1] = 0;

	mk_valid(ET_EXEC, BASE);
	int fd = img_fd(IMG_LEN);
	char *argv1[] = { "p", s, NULL };
	struct mm *mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "p", argv1, envp, &r), -E2BIG, "string over MAX_ARG_STRLEN");
	s[big] = 0;
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "p", argv1, envp, &r), 0, "string of MAX_ARG_STRLEN");
	mm_put(mm);

	/* 2 MiB for strings and pointers: 15 strings of 128 KiB fit, 16 do not. */
	char *argv16[18] = { "p" };
	for (int i = 1; i <= 16; i++)
		argv16[i] = s;
	mm = mm_new(NULL);
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "p", argv16, envp, &r), -E2BIG, "2 MiB of arguments");
	argv16[16] = NULL;
	CHECK_EQ(exec_load(mm, file_of(fd), fd, "p", argv16, envp, &r), 0, "just under 2 MiB of arguments");
	mm_put(mm);
	close(fd);
	free(s);
}

int main(void)
{
	test_parse_valid();
	test_parse_errors();
	test_parse_fuzz();
	test_parse_real();
	if (memfile_init() == 0) {
		test_load_synthetic();
		test_e2big();
		test_load_busybox();
		test_load_interp();
		test_load_real_dynamic();
	} else {
		CHECK(0, "memfile_init");
	}
	CHECK_DONE();
}
