/* MAP_SHARED of a file in the sandbox (tmpfs): writes through the mapping
 * and write(2) see each other, private mappings stay private, a child's
 * writes are shared, data outlives munmap. */
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
int main(void) {
	char path[64]; snprintf(path, sizeof path, "/tmp/mm1.%d", getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ftruncate(fd, 8192);
	char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mmap ok %d\n", m != MAP_FAILED);
	strcpy(m, "through the mapping");
	char buf[32] = {0}; pread(fd, buf, 19, 0); printf("read sees: %s\n", buf);
	pwrite(fd, "WRITE", 5, 4096); printf("map sees: %.5s\n", m + 4096);
	char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	p[0] = 'X'; printf("private: %.5s shared: %.5s\n", p, m);
	if (!fork()) { m[1] = 'Z'; _exit(0); } wait(NULL);
	printf("after child: %.5s\n", m);
	munmap(m, 8192); close(fd);
	fd = open(path, O_RDONLY); memset(buf, 0, 32); read(fd, buf, 19); printf("after munmap: %s\n", buf);
	unlink(path);
	return 0;
}
