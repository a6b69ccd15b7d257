/* Reading a process's /proc files while its threads map and unmap
 * memory: the readers take the process, then its address space, and
 * mmap takes them the other way round (its rlimit checks), so the two
 * must never hold one while waiting for the other (this hung the
 * sandbox). Each file is read while two threads mmap and munmap. */
#include "util.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>

static volatile int stop;

static void *mapper(void *arg)
{
	(void)arg;
	while (!stop) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			munmap(p, 4096);
	}
	return NULL;
}

int main(void)
{
	alarm(60);
	static const char *files[] = { "maps", "smaps", "smaps_rollup", "status", "statm", "stat",
				       "cmdline", "environ", "auxv" };
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, mapper, NULL);
	char path[64], buf[4096];
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		snprintf(path, sizeof(path), "/proc/self/%s", files[f]);
		int ok = 0;
		for (int i = 0; i < 150; i++) {
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			ssize_t n, total = 0;
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				total += n;
			ok += total > 0;
			close(fd);
		}
		printf("%s: read 150 times while mapping, all non-empty: %s\n", files[f], ok == 150 ? "yes" : "no");
	}
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return 0;
}
