/* cocoon's vDSO (built from vdso/ and embedded in cocoon): cocoon's copy
 * of the image, patched at start-up so each exported name points at the
 * implementation that suits this CPU, and its mapping, after read-only
 * [vvar] pages, into guest address spaces. */
#ifndef COCOON_VDSO_H
#define COCOON_VDSO_H

#include "kernel/kernel.h"

struct mm;

/* How the clock functions read the time (vdso/clock.c). */
enum vdso_clock_via { VDSO_CLOCK_SYSCALL, VDSO_CLOCK_LFENCE, VDSO_CLOCK_RDTSCP };
/* How getcpu finds the CPU (vdso/getcpu.c). */
enum vdso_cpu_via { VDSO_CPU_SYSCALL, VDSO_CPU_LSL, VDSO_CPU_RDPID };

struct vdso_choice {
	enum vdso_clock_via clock;
	enum vdso_cpu_via cpu;
};

/* --vdso=MODE, before vdso_init: "auto" (the default), "syscall" (every
 * function makes the system call, and the kernel's clock is the host's
 * clocks, as on a host without a usable TSC), "rdtscp" or "lfence" (that
 * way of reading the TSC). 0 or -EINVAL. */
int vdso_set_mode(const char *mode);

/* Start the sandbox's clock, choose the implementations for this CPU,
 * patch cocoon's copy of the image and set up the [vvar] page (needs the
 * memory file). Once; later calls return the first result. 0 or -errno:
 * -EINVAL for a forced mode the CPU cannot do. */
int vdso_init(void);
/* What vdso_init chose. */
struct vdso_choice vdso_chosen(void);

/* Map the [vvar] pages (and [vvar_vclock], as the host kernel has them)
 * and right above them a private copy of the vDSO into mm, in its mmap
 * area (Linux: arch_setup_additional_pages), in the same context as
 * mm_mmap_anon. The clock's page is the one right before the image.
 * Returns the vDSO's address (the AT_SYSINFO_EHDR value) or -errno. */
long vdso_map(struct mm *mm);
/* The name in /proc/<pid>/maps of a VMA_VVAR mapping at memory-file
 * offset off: "[vvar]" or "[vvar_vclock]". */
const char *vdso_vvar_name(uint64_t off);

/* ---- the image, for tests and tools ---- */

/* The image as built (its exported names at the system-call variants). */
const void *vdso_image(size_t *len);
/* Point the exported names of an image copy at the chosen variants. */
int vdso_patch(void *image, size_t len, const struct vdso_choice *c);
/* Find a dynamic symbol through the image's DT_HASH (gnu false) or
 * DT_GNU_HASH (gnu true) table: its st_value, or 0 if absent. *version
 * gets its version name (NULL if unversioned). */
uint64_t vdso_lookup(const void *image, size_t len, const char *name, bool gnu, const char **version);

#endif
