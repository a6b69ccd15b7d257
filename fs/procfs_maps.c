/* /proc/<pid>/maps and smaps, and the memory figures of status and statm
 * (Linux's fs/proc/task_mmu.c). The mappings are copied under the
 * process's locks (with references to mapped files), then formatted
 * without them.
 *
 * Names, in Linux's order of precedence (get_vma_name): a file mapping
 * shows its file's path as the reader sees it (with " (deleted)"), shared
 * anonymous memory "[anon_shmem:NAME]" if named with prctl PR_SET_VMA,
 * else "/dev/zero (deleted)" like Linux's shmem; then [vvar],
 * [vvar_vclock] and [vdso] (kernel/vdso.c), [heap] and [stack] by Linux's
 * rules (the mapping holding the initial brk area and mm->start_stack),
 * then "[anon:NAME]". After the guest's mappings come the stub's range,
 * which guests cannot map over (named [cocoon-stub], listed like Linux's
 * gate area) and the host's [vsyscall] line when the host has one.
 *
 * cocoon keeps neighbours apart that Linux would have merged (when their
 * memory-file ranges are not contiguous); they are shown merged, by
 * Linux's rule: the same flags (protection, sharing, VM_ACCOUNT,
 * MAP_NORESERVE), name, and file at contiguous offsets.
 *
 * Resident sizes are the pages the memory file holds for a mapping
 * (mm/rss.c), or the host's page cache for a host file image. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fs/procfs_internal.h"
#include "kernel/task.h"
#include "kernel/vdso.h"
#include "mm/memfile.h"
#include "mm/hostmap.h"
#include "mm/mm.h"
#include "mm/mlock.h"
#include "mm/vma_name.h"
#include "stub/stub_abi.h"

struct vma_snap {
	gaddr_t start, end;
	int prot, flags;
	enum vma_kind kind;
	uint64_t off, file_off;
	const struct host_image *image; /* mapped from a host file (mm/hostmap.h) */
	struct file *file;   /* counted */
	char *name;          /* the path recorded at mmap time (owned) */
	struct vma_name *anon_name; /* counted */
	bool accounted;
	const char *special; /* [vvar], [vvar_vclock], [vdso], [heap], [stack] */
	bool exe;            /* a mapping of the program's own file */
	uint64_t rss;        /* bytes the memory file holds for it */
	bool shared_pages;   /* some of them have another owner too */
	gaddr_t used_lo;     /* a stack's lowest page in use (see stack_start) */
};

struct maps_snap {
	struct vma_snap *v;
	size_t n;
	bool check; /* the reader's access to be checked */
	struct file *exe; /* the process's program, held while its maps are read */
	gaddr_t start_brk, brk, start_stack;
	gaddr_t stack_floor; /* Linux's initial stack VMA start, or 0 */
};

static int take_vmas(struct process *p, struct mm *mm, void *arg)
{
	struct maps_snap *s = arg;
	/* Linux's proc_mem_open: a process without an mm (a zombie) shows
	 * nothing to anyone; else the reader needs
	 * PTRACE_MODE_READ_FSCREDS (same ids and dumpable, or root). */
	if (!mm)
		return 0;
	if (s->check && !proc_may_access_locked(p))
		return -EACCES;
	s->exe = p->exe ? file_get(p->exe) : NULL;
	return 0;
}

static int take_vmas_mm(struct mm *mm, void *arg)
{
	struct maps_snap *s = arg;
	struct inode *exe = s->exe ? s->exe->inode : NULL;
	pthread_rwlock_rdlock(&mm->lock);
	s->start_brk = mm->start_brk;
	s->brk = mm->brk;
	s->start_stack = mm->start_stack;
	s->stack_floor = mm_stack_floor(mm);
	int err = 0;
	if (mm->vmas.n && !(s->v = calloc(mm->vmas.n, sizeof(*s->v))))
		err = -ENOMEM;
	for (size_t k = 0; !err && k < mm->vmas.n; k++) {
		const struct vma *v = &mm->vmas.v[k];
		struct vma_snap *o = &s->v[s->n++];
		*o = (struct vma_snap){ .start = v->start, .end = v->end, .prot = v->prot,
					.flags = v->flags, .kind = v->kind, .off = v->off,
					.file_off = v->file_off, .image = v->image, .accounted = v->accounted,
					.anon_name = vma_name_get(v->anon_name), .used_lo = v->end };
		if (v->kind == VMA_FILE) {
			o->file = v->file ? file_get(v->file) : NULL;
			o->name = v->name ? strdup(v->name) : NULL;
			o->exe = exe && v->file && v->file->inode == exe;
		} else if (v->kind == VMA_VVAR) {
			o->special = vdso_vvar_name(v->off);
		} else if (v->kind == VMA_VDSO) {
			o->special = "[vdso]";
		} else if (v->kind == VMA_STACK && s->stack_floor) {
			o->used_lo = mm_stack_used_lo(v, s->stack_floor);
		}
	}
	pthread_rwlock_unlock(&mm->lock);
	return err;
}

static void snap_free(struct maps_snap *s)
{
	for (size_t k = 0; k < s->n; k++) {
		if (s->v[k].file)
			fput(s->v[k].file);
		free(s->v[k].name);
		vma_name_put(s->v[k].anon_name);
	}
	free(s->v);
}

/* Neighbours Linux would have merged into one VMA: contiguous, with the
 * same flags, kind and name, and the same file at contiguous offsets. */
static bool mergeable(const struct vma_snap *a, const struct vma_snap *b)
{
	if (a->end != b->start || a->prot != b->prot || a->flags != b->flags || a->kind != b->kind ||
	    a->special != b->special || a->accounted != b->accounted ||
	    !vma_name_eq(a->anon_name, b->anon_name) || a->kind == VMA_VVAR || a->kind == VMA_VDSO)
		return false;
	if (a->kind != VMA_FILE)
		return (a->flags & MAP_PRIVATE) || a->file_off + (a->end - a->start) == b->file_off;
	return a->file && b->file && a->file->inode == b->file->inode &&
	       a->file_off + (a->end - a->start) == b->file_off;
}

/* The mappings of the process c names (the caller's access checked if
 * asked), merged as Linux would, with resident sizes if asked. */
static int take_snap(const struct pseudo_ctx *c, bool check, bool rss, struct maps_snap *s)
{
	*s = (struct maps_snap){ .check = check };
	int err = proc_with_mm(c, false, take_vmas, take_vmas_mm, s);
	if (s->exe) {
		fput(s->exe);
		s->exe = NULL;
	}
	if (err) {
		snap_free(s);
		return err;
	}
	size_t n = 0;
	for (size_t k = 0; k < s->n; k++) {
		struct vma_snap *v = &s->v[k];
		if (rss) {
			v->rss = v->image ? host_image_resident(v->image, v->file_off, v->end - v->start)
					  : memfile_resident(v->off, v->end - v->start);
			v->shared_pages = v->off != NO_BACKING && memfile_shared(v->off, v->end - v->start);
		}
		struct vma_snap *last = n ? &s->v[n - 1] : NULL;
		if (last && mergeable(last, v)) {
			last->end = v->end;
			last->used_lo = MIN(last->used_lo, v->used_lo);
			last->rss += v->rss;
			last->shared_pages |= v->shared_pages;
			if (v->file)
				fput(v->file);
			free(v->name);
			vma_name_put(v->anon_name);
			continue;
		}
		s->v[n++] = *v;
	}
	s->n = n;
	/* [heap] and [stack] by Linux's rules, on the merged mappings
	 * (vma_is_initial_heap, vma_is_initial_stack); shmem is a file to
	 * Linux, never either. */
	for (size_t k = 0; k < n; k++) {
		struct vma_snap *v = &s->v[k];
		if (v->special || v->kind == VMA_FILE || (v->flags & MAP_SHARED))
			continue;
		if (v->start < s->brk && v->end > s->start_brk) {
			v->special = "[heap]";
		} else if (v->start <= s->start_stack && v->end >= s->start_stack) {
			v->special = "[stack]";
			if (v->kind == VMA_STACK && s->stack_floor)
				v->start = MAX(v->start, MIN(s->stack_floor, v->used_lo));
		}
	}
	return 0;
}

/* Bytes of [off, off+len) of the memory file that hold pages. */
static bool is_shared(const struct vma_snap *v)
{
	return (v->flags & MAP_SHARED) && v->kind != VMA_VVAR;
}

/* ---- status and statm --------------------------------------------------------- */

int proc_vmstat(const struct pseudo_ctx *c, struct proc_vmstat *st)
{
	struct maps_snap s;
	int err = take_snap(c, false, true, &s);
	if (err)
		return err;
	*st = (struct proc_vmstat){ 0 };
	bool code = false;
	for (size_t k = 0; k < s.n; k++) {
		const struct vma_snap *v = &s.v[k];
		uint64_t size = v->end - v->start;
		bool stack = v->kind == VMA_STACK || (v->flags & MAP_GROWSDOWN);
		st->total += size;
		if (v->flags & VMA_LOCKED)
			st->locked += size;
		if ((v->prot & PROT_WRITE) && !is_shared(v) && !stack)
			st->data += size;
		if (stack)
			st->stack += size;
		if ((v->prot & PROT_EXEC) && !(v->prot & PROT_WRITE) && !stack)
			st->exec += size;
		if (v->exe && (v->prot & PROT_EXEC)) {
			if (!code)
				st->start_code = v->start;
			st->end_code = v->end;
			code = true;
		}
		if (v->exe && (v->prot & PROT_WRITE) && !st->start_data)
			st->start_data = v->start;
		if (v->exe)
			st->end_data = v->end;
		uint64_t rss = v->rss;
		if (v->kind == VMA_FILE)
			st->rss_file += rss;
		else if (is_shared(v))
			st->rss_shmem += rss;
		else
			st->rss_anon += rss;
	}
	st->text = MIN(st->end_code - st->start_code, st->exec);
	st->lib = st->exec - st->text;
	snap_free(&s);
	return 0;
}

/* ---- maps and smaps ---------------------------------------------------------------- */

/* Linux's show_vma_header_prefix, then the name from column 73 (seq_pad). */
static void map_line(struct seqbuf *s, gaddr_t start, gaddr_t end, const char *perms,
		     uint64_t off, unsigned maj, unsigned min, uint64_t ino, const char *name)
{
	char head[128];
	int n = snprintf(head, sizeof(head), "%08llx-%08llx %s %08llx %02x:%02x %llu ",
			 (unsigned long long)start, (unsigned long long)end, perms,
			 (unsigned long long)off, maj, min, (unsigned long long)ino);
	seq_write(s, head, n);
	if (name) {
		if (n < 72)
			seq_printf(s, "%*s", 72 - n, "");
		seq_printf(s, " ");
		/* seq_file_path's escape of '\n' (mangle_path: octal) */
		for (const char *c = name; *c; c++)
			if (*c == '\n')
				seq_printf(s, "\\012");
			else
				seq_write(s, c, 1);
	}
	seq_printf(s, "\n");
}

/* The name column and device/inode of one mapping. */
struct vma_id {
	char name[PATH_MAX + 16];
	bool named;
	unsigned maj, min;
	uint64_t ino, off;
};

static void vma_identify(const struct vma_snap *v, struct vma_id *id)
{
	*id = (struct vma_id){ .off = 0 };
	struct file *f = v->file;
	if (v->kind == VMA_FILE) {
		id->off = v->file_off;
		struct statx x;
		if (f && f->ops->statx && !f->ops->statx(f, 0, STATX_INO, &x)) {
			id->maj = x.stx_dev_major;
			id->min = x.stx_dev_minor;
			id->ino = x.stx_ino;
		}
		if (f)
			id->named = proc_file_text(f, id->name, sizeof(id->name)) > 0;
		if (!id->named && v->name) {
			snprintf(id->name, sizeof(id->name), "%s", v->name);
			id->named = true;
		}
	} else if (is_shared(v)) {
		/* Linux's shared anonymous memory is a shmem file: its device,
		 * inode and offset show. */
		if (v->anon_name)
			snprintf(id->name, sizeof(id->name), "[anon_shmem:%s]", v->anon_name->str);
		else
			snprintf(id->name, sizeof(id->name), "/dev/zero (deleted)");
		id->named = true;
		id->min = 1;
		id->ino = v->off == NO_BACKING ? 0 : v->off / PAGE_SIZE + 1;
		id->off = v->file_off;
	} else if (v->special) {
		snprintf(id->name, sizeof(id->name), "%s", v->special);
		id->named = true;
	} else if (v->anon_name) {
		snprintf(id->name, sizeof(id->name), "[anon:%s]", v->anon_name->str);
		id->named = true;
	}
}

static void perms_of(const struct vma_snap *v, char p[5])
{
	p[0] = v->prot & PROT_READ ? 'r' : '-';
	p[1] = v->prot & PROT_WRITE ? 'w' : '-';
	p[2] = v->prot & PROT_EXEC ? 'x' : '-';
	p[3] = is_shared(v) ? 's' : 'p';
	p[4] = '\0';
}

/* The host's [vsyscall] line (cocoon's own maps), if the host has one. */
static pthread_once_t vsyscall_once = PTHREAD_ONCE_INIT;
static char *vsyscall_line;

static void vsyscall_find(void)
{
	FILE *fp = fopen("/proc/self/maps", "re");
	if (!fp)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, fp) > 0)
		if (strstr(line, "[vsyscall]")) {
			vsyscall_line = strdup(line);
			break;
		}
	free(line);
	fclose(fp);
}

/* The memory figures of smaps for one mapping, or summed (smaps_rollup). */
struct mem_stats {
	uint64_t rss, pss, pss_dirty, pss_anon, pss_file, pss_shmem;
	uint64_t shared_clean, shared_dirty, private_clean, private_dirty, anonymous, locked;
};

/* A mapping's figures: its resident pages, halved in Pss when some are
 * shared (cocoon does not count owners per page); anonymous and shmem
 * pages count as dirty, file pages as clean. */
static struct mem_stats vma_stats(const struct vma_snap *v)
{
	uint64_t rss = MIN(v->rss, v->end - v->start); /* [stack] is shown shorter */
	bool shared = v->shared_pages, anon = v->kind != VMA_FILE;
	uint64_t pss = shared ? rss / 2 : rss;
	return (struct mem_stats){
		.rss = rss, .pss = pss, .pss_dirty = anon ? pss : 0,
		.pss_anon = anon && !is_shared(v) ? pss : 0, .pss_file = anon ? 0 : pss,
		.pss_shmem = anon && is_shared(v) ? pss : 0,
		.shared_clean = shared && !anon ? rss : 0, .shared_dirty = shared && anon ? rss : 0,
		.private_clean = !shared && !anon ? rss : 0, .private_dirty = !shared && anon ? rss : 0,
		.anonymous = anon && !is_shared(v) ? rss : 0,
		.locked = (v->flags & VMA_LOCKED) ? pss : 0,
	};
}

/* Linux's __show_smap from Rss to Locked (rollup: with Pss_Anon,
 * Pss_File and Pss_Shmem). */
static void show_stats(struct seqbuf *s, const struct mem_stats *m, bool rollup)
{
#define KB(x) (unsigned long long)((x) >> 10)
	seq_printf(s, "Rss:            %8llu kB\nPss:            %8llu kB\nPss_Dirty:      %8llu kB\n",
		   KB(m->rss), KB(m->pss), KB(m->pss_dirty));
	if (rollup)
		seq_printf(s, "Pss_Anon:       %8llu kB\nPss_File:       %8llu kB\nPss_Shmem:      %8llu kB\n",
			   KB(m->pss_anon), KB(m->pss_file), KB(m->pss_shmem));
	seq_printf(s, "Shared_Clean:   %8llu kB\nShared_Dirty:   %8llu kB\n"
		   "Private_Clean:  %8llu kB\nPrivate_Dirty:  %8llu kB\n"
		   "Referenced:     %8llu kB\nAnonymous:      %8llu kB\n",
		   KB(m->shared_clean), KB(m->shared_dirty), KB(m->private_clean), KB(m->private_dirty),
		   KB(m->rss), KB(m->anonymous));
#undef KB
	seq_printf(s, "KSM:                   0 kB\nLazyFree:              0 kB\n"
		   "AnonHugePages:         0 kB\nShmemPmdMapped:        0 kB\n"
		   "FilePmdMapped:         0 kB\nShared_Hugetlb:        0 kB\n"
		   "Private_Hugetlb:       0 kB\nSwap:                  0 kB\n"
		   "SwapPss:               0 kB\n");
	seq_printf(s, "Locked:         %8llu kB\n", (unsigned long long)(m->locked >> 10));
}

/* vmflags: the VmFlags line's text if not derived from v. */
static void smaps_fields(struct seqbuf *s, const struct vma_snap *v, const char *vmflags)
{
	struct mem_stats m = vma_stats(v);
	seq_printf(s, "Size:           %8llu kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n",
		   (unsigned long long)((v->end - v->start) >> 10));
	show_stats(s, &m, false);
	seq_printf(s, "THPeligible:           0\n");
	if (vmflags) {
		seq_printf(s, "VmFlags: %s \n", vmflags);
		return;
	}
	/* VmFlags in Linux's order: rd wr ex sh mr mw me ms gd pf io de ac dd */
	bool sh = is_shared(v);
	bool file_ro = v->kind == VMA_FILE && sh && v->file && (v->file->flags & O_ACCMODE) == O_RDONLY;
	seq_printf(s, "VmFlags:");
	if (v->prot & PROT_READ)
		seq_printf(s, " rd");
	if (v->prot & PROT_WRITE)
		seq_printf(s, " wr");
	if (v->prot & PROT_EXEC)
		seq_printf(s, " ex");
	if (sh && !file_ro)
		seq_printf(s, " sh");
	if (v->kind == VMA_VVAR) {
		seq_printf(s, " mr pf io de dd \n");
		return;
	}
	if (v->kind == VMA_VDSO) {
		seq_printf(s, " mr mw me de \n");
		return;
	}
	seq_printf(s, file_ro ? " mr me" : " mr mw me");
	if (sh)
		seq_printf(s, " ms");
	if (v->kind == VMA_STACK || (v->flags & MAP_GROWSDOWN))
		seq_printf(s, " gd");
	if (v->flags & VMA_LOCKED)
		seq_printf(s, " lo");
	if (v->accounted)
		seq_printf(s, " ac");
	if (v->flags & MAP_NORESERVE)
		seq_printf(s, " nr");
	if (v->flags & MAP_STACK) /* Linux: VM_NOHUGEPAGE */
		seq_printf(s, " nh");
	seq_printf(s, " \n");
}

/* After the guest's mappings: the stub's range and the host's gate area. */
static void tail_lines(struct seqbuf *s, bool smaps)
{
	struct vma_snap stub = { .start = STUB_BASE, .end = STUB_END, .prot = PROT_READ | PROT_EXEC,
				 .flags = MAP_PRIVATE, .kind = VMA_ANON, .off = NO_BACKING };
	map_line(s, stub.start, stub.end, "r-xp", 0, 0, 0, 0, "[cocoon-stub]");
	if (smaps)
		smaps_fields(s, &stub, "rd ex");
	pthread_once(&vsyscall_once, vsyscall_find);
	if (vsyscall_line) {
		unsigned long long a, b;
		seq_printf(s, "%s", vsyscall_line);
		if (smaps && sscanf(vsyscall_line, "%llx-%llx", &a, &b) == 2) {
			struct vma_snap g = { .start = a, .end = b, .prot = PROT_EXEC,
					      .flags = MAP_PRIVATE, .off = NO_BACKING };
			smaps_fields(s, &g, "ex");
		}
	}
}

static int show_maps(const struct pseudo_ctx *c, struct seqbuf *s, bool smaps)
{
	struct maps_snap m;
	int err = take_snap(c, true, smaps, &m);
	if (err)
		return err;
	struct vma_id *id = malloc(sizeof(*id));
	if (!id) {
		snap_free(&m);
		return -ENOMEM;
	}
	for (size_t k = 0; k < m.n; k++) {
		const struct vma_snap *v = &m.v[k];
		char perms[5];
		perms_of(v, perms);
		vma_identify(v, id);
		map_line(s, v->start, v->end, perms, id->off, id->maj, id->min, id->ino,
			 id->named ? id->name : NULL);
		if (smaps)
			smaps_fields(s, v, NULL);
	}
	if (m.n) /* a zombie has no mappings at all */
		tail_lines(s, smaps);
	free(id);
	snap_free(&m);
	return 0;
}

/* smaps_rollup: the figures of every guest mapping summed, under a line
 * spanning them (Linux: not the gate area, so not the stub's range). */
int proc_show_smaps_rollup(const struct pseudo_ctx *c, struct seqbuf *s)
{
	struct maps_snap m;
	int err = take_snap(c, true, true, &m);
	if (err)
		return err;
	if (!m.n) { /* Linux: no mm to read */
		snap_free(&m);
		return -ESRCH;
	}
	struct mem_stats sum = { 0 };
	for (size_t k = 0; k < m.n; k++) {
		struct mem_stats one = vma_stats(&m.v[k]);
		for (size_t i = 0; i < sizeof(sum) / sizeof(uint64_t); i++)
			((uint64_t *)&sum)[i] += ((uint64_t *)&one)[i];
	}
	map_line(s, m.v[0].start, m.v[m.n - 1].end, "---p", 0, 0, 0, 0, "[rollup]");
	show_stats(s, &sum, true);
	snap_free(&m);
	return 0;
}

int proc_show_maps(const struct pseudo_ctx *c, struct seqbuf *s) { return show_maps(c, s, false); }
int proc_show_smaps(const struct pseudo_ctx *c, struct seqbuf *s) { return show_maps(c, s, true); }
