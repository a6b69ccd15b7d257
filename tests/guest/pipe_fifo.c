/* FIFOs: open rules (a lone non-blocking writer gets ENXIO, a blocking
 * reader waits for a writer), data through them, EOF, and an open FIFO's
 * fstat is its inode's (what lstat of its path says). */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
int main(void) {
	char f[64]; snprintf(f, sizeof f, "/tmp/fifo_test.%d", (int)getpid());
	unlink(f);
	printf("mkfifo %d\n", mkfifo(f, 0600));
	int w = open(f, O_WRONLY | O_NONBLOCK);
	printf("lone nonblock writer: %d %s\n", w, w < 0 ? strerror(errno) : "");
	int r = open(f, O_RDONLY | O_NONBLOCK);
	printf("nonblock reader: %d\n", r >= 0);
	struct stat ls, fs;
	lstat(f, &ls);
	fstat(r, &fs);
	printf("fstat is lstat's: dev %d ino %d mode %d (%o)\n", ls.st_dev == fs.st_dev, ls.st_ino == fs.st_ino,
	       ls.st_mode == fs.st_mode, fs.st_mode);
	fchmod(r, 0640);
	lstat(f, &ls);
	fstat(r, &fs);
	printf("after fchmod: lstat %o, fstat %o\n", ls.st_mode & 07777, fs.st_mode & 07777);
	w = open(f, O_WRONLY);
	printf("writer with reader: %d\n", w >= 0);
	write(w, "hello", 5);
	char buf[16] = {0};
	printf("read %zd %s\n", read(r, buf, sizeof buf), buf);
	close(w); close(r);
	pid_t c = fork();
	if (!c) { int fd = open(f, O_WRONLY); write(fd, "child", 5); close(fd); _exit(0); }
	r = open(f, O_RDONLY);
	memset(buf, 0, sizeof buf);
	ssize_t n = read(r, buf, sizeof buf);
	printf("blocking open + read: %zd %s\n", n, buf);
	n = read(r, buf, sizeof buf);
	printf("eof: %zd\n", n);
	wait(NULL);
	unlink(f);
	return 0;
}
