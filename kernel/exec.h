/* Loading a program into a fresh address space and building its initial
 * stack (Linux's load_elf_binary + create_elf_tables), for x86-64
 * programs: ET_EXEC and ET_DYN, static or with an interpreter (PT_INTERP,
 * loaded like Linux's load_elf_interp). */
#ifndef COCOON_EXEC_H
#define COCOON_EXEC_H

#include "kernel/kernel.h"
#include <stdbool.h>
#include "arch/x86_64/regs.h"

struct mm;

/* Linux's argument limits (include/uapi/linux/binfmts.h, fs/exec.c). */
#define MAX_ARG_STRLEN (32 * 4096UL)   /* one string, NUL included */
#define MAX_ARG_STRINGS 0x7fffffff
#define EXEC_STACK_RLIMIT (8UL << 20)  /* RLIMIT_STACK default */

/* Where Linux puts a PIE with an interpreter, and the heap of a static
 * PIE: 2/3 of the 47-bit address space (x86-64 ELF_ET_DYN_BASE). */
#define ELF_ET_DYN_BASE 0x555555554aaaUL

/*
 * Load the program (file, readable through host_fd) into mm, which must be new and empty,
 * and build its stack from argv and envp (kernel copies, NULL-terminated;
 * argv may be NULL or empty: Linux then passes argv = {""}). filename is
 * the path as given to execve (AT_EXECFN). On success sets mm's layout
 * fields (mmap_base, start_brk/brk, start_stack, arg and env ranges) and
 * the entry registers *regs, and returns 0.
 *
 * Everything that can fail is checked before mm is touched where
 * possible, so a failing execve can drop the new mm and return the error
 * to the still-intact old image: -E2BIG (arguments), -ENOEXEC, -EINVAL,
 * -EIO, -EACCES (the file); for PT_INTERP the interpreter's lookup
 * errors (-ENOENT, -EACCES... from fs_open_exec, relative to the cwd) and
 * -ELIBBAD/-EIO for a bad interpreter; or -ENOMEM/-EEXIST/-EPERM from
 * mapping.
 *
 * Not done here (the caller's part of execve): the point of no return
 * (other threads, CLOEXEC, signal handlers, comm), the FPU reset (FCW
 * 0x37f, MXCSR 0x1f80), FS/GS base 0.
 */
struct file;
int exec_load(struct mm *mm, struct file *file, int host_fd, const char *filename,
	      char *const argv[], char *const envp[], struct guest_regs *regs);

/* exec_load after `#!` rewriting (Linux's binfmt_script) of the file
 * opened for exec (its reference is taken over). *argv is a malloc'd
 * vector of malloc'd strings, which a script rewrites (the caller frees
 * what *argv is afterwards). path_inaccessible: the file is a
 * close-on-exec fd's /dev/fd name, which a script's interpreter could not
 * open (ENOENT). On success *exe (if not NULL) gets the file actually
 * loaded (the interpreter of a script). kernel/sys_exec.c. */
struct file;
int exec_image(struct mm *mm, struct file *file, const char *filename, char ***argv,
	       char *const envp[], struct guest_regs *regs, bool path_inaccessible, struct file **exe);

#endif
