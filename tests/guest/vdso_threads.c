/* The vDSO's CLOCK_MONOTONIC never goes backwards across 10^7 reads on
 * two threads, and again on two tasks sharing memory without being
 * threads of one process (clone with CLONE_VM, no CLONE_THREAD): each
 * read is checked against the reader's own previous read and against the
 * latest value either published before it (read before the clock, so a
 * clock read that happened later must not be smaller). Both call
 * __vdso_clock_gettime directly. */
#include "proc_util.h"
#include <elf.h>
#include <pthread.h>
#include <stdbool.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>

#define READS 5000000L /* per task */

typedef int (*cgt_fn)(clockid_t, struct timespec *);
static cgt_fn vcgt;

static void *vdso_sym(const char *name)
{
	const unsigned char *base = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
	if (!base)
		return NULL;
	const Elf64_Ehdr *eh = (const void *)base;
	const Elf64_Phdr *ph = (const void *)(base + eh->e_phoff);
	const Elf64_Dyn *d = NULL;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			d = (const void *)(base + ph[i].p_vaddr);
	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	const uint32_t *hash = NULL;
	for (; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB) sym = (const void *)(base + d->d_un.d_ptr);
		if (d->d_tag == DT_STRTAB) str = (const void *)(base + d->d_un.d_ptr);
		if (d->d_tag == DT_HASH) hash = (const void *)(base + d->d_un.d_ptr);
	}
	for (uint32_t i = 1; sym && str && hash && i < hash[1]; i++)
		if (!strcmp(str + sym[i].st_name, name) && sym[i].st_shndx != SHN_UNDEF)
			return (void *)(base + sym[i].st_value);
	return NULL;
}

static int64_t latest;           /* the largest value published */
static int started;              /* both readers wait for each other */

struct result {
	long own_back, other_back, errors;
};
static struct result results[2];

static int reader(void *arg)
{
	struct result *r = arg;
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < 2)
		;
	int64_t mine = 0;
	for (long i = 0; i < READS; i++) {
		int64_t seen = __atomic_load_n(&latest, __ATOMIC_ACQUIRE);
		struct timespec ts;
		if (vcgt(CLOCK_MONOTONIC, &ts)) {
			r->errors++;
			continue;
		}
		int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		r->own_back += t < mine;
		r->other_back += t < seen;
		mine = t;
		int64_t cur = seen;
		while (cur < t && !__atomic_compare_exchange_n(&latest, &cur, t, false, __ATOMIC_RELEASE,
							       __ATOMIC_RELAXED))
			;
	}
	return 0;
}

static void *reader_thread(void *arg)
{
	reader(arg);
	return NULL;
}

static void check(const char *how)
{
	long own = results[0].own_back + results[1].own_back;
	long other = results[0].other_back + results[1].other_back;
	long errors = results[0].errors + results[1].errors;
	expect(errors == 0, "%s: %ld MONOTONIC reads, no errors", how, 2 * READS);
	expect(own == 0, "%s: none behind the reader's own previous read", how);
	expect(other == 0, "%s: none behind a value either published before it", how);
	memset(results, 0, sizeof results);
	latest = 0;
	started = 0;
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	vcgt = (cgt_fn)vdso_sym("__vdso_clock_gettime");
	if (!vcgt) {
		printf("no __vdso_clock_gettime\n");
		return 1;
	}
	pthread_t t;
	expect(pthread_create(&t, NULL, reader_thread, &results[1]) == 0, "a second thread");
	reader(&results[0]);
	pthread_join(t, NULL);
	check("two threads");

	size_t stack_size = 1 << 16;
	char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t pid = clone(reader, stack + stack_size, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | SIGCHLD,
			  &results[1]);
	expect(pid > 0, "a second task sharing the memory");
	if (pid <= 0)
		return 1;
	reader(&results[0]);
	int st;
	expect(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "it ended");
	check("two tasks sharing memory");
	return expect_failures ? 1 : 0;
}
