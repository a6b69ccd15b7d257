/* ELF64 x86-64 header parsing and validation, for exec.
 *
 * elf_parse_ehdr() and elf_parse_phdrs() are pure: they look only at the
 * bytes handed to them, never trust a field before checking it, and
 * return 0 or -errno. Errors follow Linux's load_elf_binary():
 *   -ENOEXEC  not an ELF file we can run: bad e_ident, e_type, e_machine,
 *             e_phentsize, phdr table size/position, PT_INTERP size;
 *             also (cocoon's choice, Linux would map and SIGBUS/SIGSEGV
 *             later) PT_LOAD file ranges past EOF, PT_LOADs that are not
 *             sorted by p_vaddr or whose [vaddr, vaddr+memsz) overlap.
 *   -EINVAL   a PT_LOAD Linux refuses while mapping: p_filesz > p_memsz,
 *             a range reaching past the task size, p_offset and p_vaddr
 *             not congruent modulo the page size (mmap's EINVAL); an image
 *             without any PT_LOAD.
 * Page sharing between neighbouring PT_LOADs (one ends and the next
 * starts inside the same page) is allowed: real linkers produce it. */
#ifndef COCOON_ELF_H
#define COCOON_ELF_H

#include <elf.h>
#include "kernel/kernel.h"

/* Linux reads at most 64 KiB of program headers. */
#define ELF_MAX_PHDRS_SIZE 65536U
#define ELF_PHENT_SIZE sizeof(Elf64_Phdr) /* 56 */
/* PT_INTERP path, NUL included: Linux refuses more than PATH_MAX. */
#define ELF_MAX_INTERP 4096U

struct elf_info {
	/* From the ELF header (elf_parse_ehdr). */
	uint16_t type;          /* ET_EXEC or ET_DYN */
	uint64_t entry;         /* e_entry, not biased */
	uint64_t phoff;         /* e_phoff */
	uint16_t phnum;
	uint32_t phdrs_size;    /* phnum * 56, at most ELF_MAX_PHDRS_SIZE */

	/* From the program headers (elf_parse_phdrs); addresses not biased. */
	unsigned nload;         /* number of PT_LOAD entries */
	uint64_t lo;            /* page start of the first PT_LOAD */
	uint64_t hi;            /* end (vaddr + memsz) of the last PT_LOAD */
	uint64_t max_align;     /* largest power-of-2 PT_LOAD p_align, >= PAGE_SIZE */
	uint64_t phdr_addr;     /* phdrs in memory (for AT_PHDR), 0 if unknown */
	bool has_phdr;          /* a PT_PHDR entry exists */
	bool has_interp;        /* PT_INTERP: a dynamically linked program */
	uint64_t interp_off;    /* file range of the interpreter path, */
	uint64_t interp_len;    /* its NUL included */
	bool exec_stack;        /* PT_GNU_STACK asks for PF_X */
};

/* Validate the 64-byte ELF header at buf (len bytes available). */
int elf_parse_ehdr(const void *buf, size_t len, struct elf_info *info);

/* Validate info->phnum program headers at phdrs (info->phdrs_size bytes,
 * any alignment) of a file of file_size bytes; info must come from
 * elf_parse_ehdr(). */
int elf_parse_phdrs(const void *phdrs, uint64_t file_size, struct elf_info *info);

/* Both, over a whole file image in memory (tests, embedded images). */
int elf_parse(const void *file, size_t len, struct elf_info *info);

/* Read and validate the headers of an open host file: fills *info and
 * *phdrs (malloc'd, info->phdrs_size bytes, free() it). 0 or -errno. */
int elf_read_headers(int fd, struct elf_info *info, void **phdrs);

/* Read the PT_INTERP path of a program (info from elf_read_headers) into
 * path (ELF_MAX_INTERP bytes). Like Linux: -EIO if the file is short,
 * -ENOEXEC if the path is not NUL-terminated. */
int elf_read_interp(int fd, const struct elf_info *info, char *path);

/* elf_read_headers for the interpreter, with Linux's errors for it: a
 * file too short for an ELF header is -EIO; any format error (magic,
 * class, machine, e_type, phdrs) is -ELIBBAD. The interpreter's own
 * PT_INTERP is ignored (has_interp false), as Linux ignores it. */
int elf_read_interp_headers(int fd, struct elf_info *info, void **phdrs);

/* Program header i of a table at any alignment. */
void elf_phdr_get(const void *phdrs, unsigned i, Elf64_Phdr *out);

/* mmap protections for p_flags. */
int elf_prot(uint32_t p_flags);

#endif
