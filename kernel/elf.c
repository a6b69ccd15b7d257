/* ELF64 x86-64 header validation (see elf.h for the error rules). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kernel/elf.h"
#include "mm/mm.h"

void elf_phdr_get(const void *phdrs, unsigned i, Elf64_Phdr *out)
{
	/* memcpy: e_phoff may leave the table unaligned in a file buffer. */
	memcpy(out, (const char *)phdrs + (size_t)i * ELF_PHENT_SIZE, sizeof(*out));
}

int elf_prot(uint32_t p_flags)
{
	int prot = 0;
	if (p_flags & PF_R)
		prot |= PROT_READ;
	if (p_flags & PF_W)
		prot |= PROT_WRITE;
	if (p_flags & PF_X)
		prot |= PROT_EXEC;
	return prot;
}

int elf_parse_ehdr(const void *buf, size_t len, struct elf_info *info)
{
	Elf64_Ehdr eh;

	memset(info, 0, sizeof(*info));
	if (len < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, buf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	/* Linux only checks e_machine; the rest of e_ident is checked so a
	 * 32-bit or big-endian file is never read with the wrong layout. */
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_ident[EI_VERSION] != EV_CURRENT)
		return -ENOEXEC;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return -ENOEXEC;
	if (eh.e_machine != EM_X86_64)
		return -ENOEXEC;
	if (eh.e_phentsize != ELF_PHENT_SIZE)
		return -ENOEXEC;
	uint32_t size = (uint32_t)eh.e_phnum * ELF_PHENT_SIZE;
	if (size == 0 || size > ELF_MAX_PHDRS_SIZE)
		return -ENOEXEC;
	if (eh.e_phoff > UINT64_MAX - size)
		return -ENOEXEC;
	/* Linux catches a bad entry after mapping (BAD_ADDR -> EINVAL); for
	 * ET_DYN the bias is unknown here, exec checks it again. */
	if (eh.e_type == ET_EXEC && eh.e_entry >= GUEST_TASK_SIZE)
		return -EINVAL;

	info->type = eh.e_type;
	info->entry = eh.e_entry;
	info->phoff = eh.e_phoff;
	info->phnum = eh.e_phnum;
	info->phdrs_size = size;
	return 0;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* The checks Linux makes on one PT_LOAD, plus ours (file range, order). */
static int check_load(const Elf64_Phdr *ph, uint64_t file_size, uint64_t prev_end,
		      bool first)
{
	if (ph->p_filesz > ph->p_memsz)
		return -EINVAL;
	if (ph->p_vaddr >= GUEST_TASK_SIZE || ph->p_memsz > GUEST_TASK_SIZE ||
	    GUEST_TASK_SIZE - ph->p_memsz < ph->p_vaddr)
		return -EINVAL;
	if (ph->p_filesz) {
		/* The file page must map onto the memory page (mmap's EINVAL). */
		if ((ph->p_offset & (PAGE_SIZE - 1)) != (ph->p_vaddr & (PAGE_SIZE - 1)))
			return -EINVAL;
		if (ph->p_offset > file_size || ph->p_filesz > file_size - ph->p_offset)
			return -ENOEXEC;
	}
	if (!first && ph->p_vaddr < prev_end)
		return -ENOEXEC;
	return 0;
}

int elf_parse_phdrs(const void *phdrs, uint64_t file_size, struct elf_info *info)
{
	uint64_t prev_end = 0, pt_phdr = 0;
	bool covered = false;
	int err;

	if (info->phoff > file_size || info->phdrs_size > file_size - info->phoff)
		return -ENOEXEC;
	info->max_align = PAGE_SIZE;
	for (unsigned i = 0; i < info->phnum; i++) {
		Elf64_Phdr ph;
		elf_phdr_get(phdrs, i, &ph);
		switch (ph.p_type) {
		case PT_LOAD:
			err = check_load(&ph, file_size, prev_end, info->nload == 0);
			if (err)
				return err;
			if (info->nload++ == 0)
				info->lo = ph.p_vaddr & PAGE_MASK;
			prev_end = info->hi = ph.p_vaddr + ph.p_memsz;
			/* Linux skips alignments that are not powers of two. */
			if (is_pow2(ph.p_align) && ph.p_align > info->max_align)
				info->max_align = ph.p_align;
			/* Linux derives AT_PHDR from the PT_LOAD whose file
			 * bytes hold the table (the last such one). */
			if (ph.p_offset <= info->phoff &&
			    info->phoff - ph.p_offset < ph.p_filesz) {
				info->phdr_addr = info->phoff - ph.p_offset + ph.p_vaddr;
				covered = true;
			}
			break;
		case PT_INTERP:
			if (info->has_interp) /* Linux uses the first one */
				break;
			if (ph.p_filesz < 2 || ph.p_filesz > ELF_MAX_INTERP)
				return -ENOEXEC;
			/* Linux's short read of the path gives EIO. */
			if (ph.p_offset > file_size || ph.p_filesz > file_size - ph.p_offset)
				return -EIO;
			info->has_interp = true;
			info->interp_off = ph.p_offset;
			info->interp_len = ph.p_filesz;
			break;
		case PT_GNU_STACK:
			info->exec_stack = (ph.p_flags & PF_X) != 0; /* last wins */
			break;
		case PT_PHDR:
			info->has_phdr = true;
			pt_phdr = ph.p_vaddr;
			break;
		}
	}
	if (info->nload == 0)
		return -EINVAL; /* Linux: total_mapping_size() == 0 */
	if (!covered && info->has_phdr)
		info->phdr_addr = pt_phdr;
	return 0;
}

int elf_parse(const void *file, size_t len, struct elf_info *info)
{
	int err = elf_parse_ehdr(file, len, info);
	if (err)
		return err;
	if (info->phoff > len || info->phdrs_size > len - info->phoff)
		return -ENOEXEC;
	err = elf_parse_phdrs((const char *)file + info->phoff, len, info);
	if (err)
		return err;
	if (info->has_interp && ((const char *)file)[info->interp_off + info->interp_len - 1])
		return -ENOEXEC; /* the path must be NUL-terminated */
	return 0;
}

/* Read exactly len bytes at off; the count read (short at EOF) or -errno. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int elf_read_headers(int fd, struct elf_info *info, void **phdrs)
{
	unsigned char eh[sizeof(Elf64_Ehdr)];
	struct stat st;
	ssize_t n;
	int err;

	*phdrs = NULL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	n = pread_full(fd, eh, sizeof(eh), 0);
	if (n < 0)
		return (int)n;
	err = elf_parse_ehdr(eh, (size_t)n, info);
	if (err)
		return err;
	void *ph = malloc(info->phdrs_size);
	if (!ph)
		return -ENOMEM;
	n = pread_full(fd, ph, info->phdrs_size, info->phoff);
	if (n < 0) {
		err = (int)n;
	} else if ((size_t)n != info->phdrs_size) {
		err = -ENOEXEC; /* Linux: load_elf_phdrs() fails */
	} else {
		err = elf_parse_phdrs(ph, (uint64_t)st.st_size, info);
	}
	if (err) {
		free(ph);
		return err;
	}
	*phdrs = ph;
	return 0;
}

int elf_read_interp(int fd, const struct elf_info *info, char *path)
{
	ssize_t n = pread_full(fd, path, info->interp_len, info->interp_off);
	if (n < 0)
		return (int)n;
	if ((uint64_t)n != info->interp_len)
		return -EIO; /* Linux's elf_read() on a short read */
	if (path[info->interp_len - 1])
		return -ENOEXEC;
	return 0;
}

int elf_read_interp_headers(int fd, struct elf_info *info, void **phdrs)
{
	struct stat st;

	*phdrs = NULL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) && st.st_size < (off_t)sizeof(Elf64_Ehdr))
		return -EIO; /* Linux reads the header with elf_read() */
	int err = elf_read_headers(fd, info, phdrs);
	if (err == -ENOEXEC)
		return -ELIBBAD; /* load_elf_binary's "consistency checks" */
	if (!err)
		info->has_interp = false;
	return err;
}
