/* splice, tee, sendfile and copy_file_range with the files one process
 * has before writable file systems: pipes, /dev/null, read-only host
 * files (/etc/passwd and the runner's fixture). */
#include "util.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#define K_SPLICE_F_NONBLOCK 2

static char buf[1 << 17], want[1 << 17];

static long drain(int fd, char *to, size_t max)
{
	long total = 0;
	for (;;) {
		long r = rsys(SYS_read, fd, to + total, max - total);
		if (r <= 0)
			return total;
		total += r;
	}
}

int main(void)
{
	int p[2], q[2];
	long r;
	int pw = open("/etc/passwd", O_RDONLY);
	long plen = drain(pw, want, sizeof want);
	lseek(pw, 0, SEEK_SET);
	int null = open("/dev/null", O_WRONLY);
	int dir = open("/etc", O_RDONLY | O_DIRECTORY);
	pipe2(p, O_NONBLOCK);
	pipe2(q, O_NONBLOCK);

	/* splice arguments */
	loff_t off = 0;
	resv("splice len 0 (bad fds)", rsys(SYS_splice, 999, NULL, 998, NULL, 0, 0));
	res("splice bad flags", rsys(SYS_splice, pw, NULL, p[1], NULL, 10, 0x10));
	res("splice bad fd in", rsys(SYS_splice, 999, NULL, p[1], NULL, 10, 0));
	res("splice bad fd out", rsys(SYS_splice, pw, NULL, 999, NULL, 10, 0));
	res("splice offset on the pipe side", rsys(SYS_splice, pw, NULL, p[1], &off, 10, 0));
	res("splice no pipe", rsys(SYS_splice, pw, NULL, null, NULL, 10, 0));
	res("splice to the read end", rsys(SYS_splice, pw, NULL, p[0], NULL, 10, 0));
	res("splice from the write end", rsys(SYS_splice, p[1], NULL, null, NULL, 10, 0));
	res("splice a pipe to itself", rsys(SYS_splice, p[0], NULL, p[1], NULL, 10, 0));
	res("splice bad offset pointer", rsys(SYS_splice, pw, (void *)8, p[1], NULL, 10, 0));
	off = -1;
	res("splice negative offset", rsys(SYS_splice, pw, &off, p[1], NULL, 10, 0));
	res("splice from a directory", rsys(SYS_splice, dir, NULL, p[1], NULL, 10, 0));

	/* file to pipe, at the file position and at an offset */
	resv("splice passwd 100 -> pipe", rsys(SYS_splice, pw, NULL, p[1], NULL, 100, 0));
	resv("file position", rsys(SYS_lseek, pw, 0, SEEK_CUR));
	off = 10;
	resv("splice passwd@10 20 -> pipe", rsys(SYS_splice, pw, &off, p[1], NULL, 20, 0));
	printf("offset now %lld, position %ld\n", (long long)off, rsys(SYS_lseek, pw, 0, SEEK_CUR));
	r = drain(p[0], buf, sizeof buf);
	expect(r == 120 && !memcmp(buf, want, 100) && !memcmp(buf + 100, want + 10, 20),
	       "the pipe holds what was spliced (%ld)", r);
	/* a splice into a pipe fills at most its room; what it spliced takes
	 * no merged writes */
	lseek(pw, 0, SEEK_SET);
	resv("splice 1 byte", rsys(SYS_splice, pw, NULL, p[1], NULL, 1, 0));
	resv("write 1 byte after a splice", rsys(SYS_write, p[1], "x", 1));
	long total = 2;
	for (;;) {
		r = rsys(SYS_write, p[1], "y", 1);
		if (r <= 0)
			break;
		total += r;
	}
	printf("then filled with 1-byte writes: %ld bytes in the pipe\n", total);
	res("splice into a full pipe, O_NONBLOCK", rsys(SYS_splice, pw, NULL, p[1], NULL, 10, 0));
	drain(p[0], buf, sizeof buf);
	off = plen - 5;
	resv("splice at the end of the file", rsys(SYS_splice, pw, &off, p[1], NULL, 100, 0));
	off = plen;
	resv("splice past the end of the file", rsys(SYS_splice, pw, &off, p[1], NULL, 100, 0));
	drain(p[0], buf, sizeof buf);

	/* pipe to file, pipe to pipe */
	write(p[1], "hello splice", 12);
	resv("splice pipe -> /dev/null 5", rsys(SYS_splice, p[0], NULL, null, NULL, 5, 0));
	resv("splice pipe -> pipe", rsys(SYS_splice, p[0], NULL, q[1], NULL, 100, 0));
	r = drain(q[0], buf, sizeof buf);
	buf[r] = 0;
	printf("q holds: %s\n", buf);
	res("splice empty pipe, O_NONBLOCK", rsys(SYS_splice, p[0], NULL, null, NULL, 5, 0));
	int b[2];
	pipe(b);
	res("splice empty pipe, SPLICE_F_NONBLOCK", rsys(SYS_splice, b[0], NULL, null, NULL, 5, K_SPLICE_F_NONBLOCK));
	res("splice empty pipe to pipe, nonblock", rsys(SYS_splice, b[0], NULL, q[1], NULL, 5, K_SPLICE_F_NONBLOCK));
	close(b[1]);
	off = 0;
	resv("splice pipe -> /dev/null at offset", rsys(SYS_splice, b[0], NULL, null, &off, 5, 0));
	resv("splice pipe without writers", rsys(SYS_splice, b[0], NULL, null, NULL, 5, 0));
	close(b[0]);
	/* a whole pipe's worth between pipes */
	static char big[65536];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)rng();
	write(p[1], big, sizeof big);
	resv("splice 64 KiB pipe -> pipe", rsys(SYS_splice, p[0], NULL, q[1], NULL, 1 << 20, 0));
	r = drain(q[0], buf, sizeof buf);
	expect(r == 65536 && !memcmp(buf, big, r), "64 KiB moved intact");
	write(p[1], big, 10000);
	resv("splice 3000 of 10000 pipe -> pipe", rsys(SYS_splice, p[0], NULL, q[1], NULL, 3000, 0));
	r = drain(q[0], buf, sizeof buf);
	long r2 = drain(p[0], buf + r, sizeof buf - r);
	expect(r == 3000 && r2 == 7000 && !memcmp(buf, big, 10000), "split at 3000, order kept");

	/* tee */
	res("tee bad flags", rsys(SYS_tee, p[0], q[1], 10, 0x10));
	resv("tee len 0", rsys(SYS_tee, 999, 999, 0, 0));
	res("tee bad fd", rsys(SYS_tee, 999, q[1], 10, 0));
	res("tee not pipes", rsys(SYS_tee, pw, q[1], 10, 0));
	res("tee same pipe", rsys(SYS_tee, p[0], p[1], 10, 0));
	res("tee wrong ends", rsys(SYS_tee, p[1], q[0], 10, 0));
	res("tee empty, nonblocking", rsys(SYS_tee, p[0], q[1], 10, 0));
	write(p[1], "teedata", 7);
	resv("tee 4", rsys(SYS_tee, p[0], q[1], 4, 0));
	resv("tee all", rsys(SYS_tee, p[0], q[1], 100, 0));
	r = drain(q[0], buf, sizeof buf);
	buf[r] = 0;
	printf("tee copies: %s\n", buf);
	r = drain(p[0], buf, sizeof buf);
	buf[r] = 0;
	printf("source kept: %s\n", buf);

	/* sendfile */
	off = 0;
	res("sendfile bad in", rsys(SYS_sendfile, null, 999, NULL, 10));
	res("sendfile bad out", rsys(SYS_sendfile, 999, pw, NULL, 10));
	res("sendfile out read-only", rsys(SYS_sendfile, pw, pw, NULL, 10));
	res("sendfile in write-only", rsys(SYS_sendfile, null, null, NULL, 10));
	res("sendfile offset on a pipe", rsys(SYS_sendfile, null, p[0], &off, 10));
	res("sendfile from a pipe", rsys(SYS_sendfile, null, p[0], NULL, 10));
	res("sendfile bad offset pointer", rsys(SYS_sendfile, null, pw, (void *)8, 10));
	off = -1;
	res("sendfile negative offset", rsys(SYS_sendfile, null, pw, &off, 10));
	lseek(pw, 0, SEEK_SET);
	resv("sendfile passwd -> /dev/null", rsys(SYS_sendfile, null, pw, NULL, 1 << 20));
	resv("position after", rsys(SYS_lseek, pw, 0, SEEK_CUR));
	resv("sendfile at EOF", rsys(SYS_sendfile, null, pw, NULL, 100));
	off = 5;
	resv("sendfile at offset 5, 50 bytes -> pipe", rsys(SYS_sendfile, p[1], pw, &off, 50));
	printf("offset now %lld\n", (long long)off);
	r = drain(p[0], buf, sizeof buf);
	expect(r == 50 && !memcmp(buf, want + 5, 50), "sendfile data");
	lseek(pw, 0, SEEK_SET);
	resv("sendfile whole file -> pipe", rsys(SYS_sendfile, p[1], pw, NULL, 1 << 20));
	resv("position after", rsys(SYS_lseek, pw, 0, SEEK_CUR));
	drain(p[0], buf, sizeof buf);
	resv("sendfile count 0", rsys(SYS_sendfile, null, pw, NULL, 0));
	res("sendfile from a directory", rsys(SYS_sendfile, null, dir, NULL, 10));
	const char *fix = fixture_dir();
	if (fix) {
		char path[512];
		snprintf(path, sizeof path, "%s/big", fix);
		int bigf = open(path, O_RDONLY);
		struct stat st;
		fstat(bigf, &st);
		total = 0;
		uint64_t h = FNV_INIT, h2 = FNV_INIT;
		for (;;) {
			r = rsys(SYS_sendfile, p[1], bigf, NULL, 1 << 20);
			if (r <= 0)
				break;
			long got = drain(p[0], buf, sizeof buf);
			h = fnv1a(h, buf, got);
			total += got;
		}
		lseek(bigf, 0, SEEK_SET);
		for (;;) {
			r = read(bigf, buf, sizeof buf);
			if (r <= 0)
				break;
			h2 = fnv1a(h2, buf, r);
		}
		expect(total == st.st_size && h == h2, "the big fixture through sendfile and a pipe");
	}
	signal(SIGPIPE, SIG_IGN);
	pipe(b);
	close(b[0]);
	res("sendfile to a pipe without readers", rsys(SYS_sendfile, b[1], pw, NULL, 10));
	res("splice to a pipe without readers", rsys(SYS_splice, pw, NULL, b[1], NULL, 10, 0));
	close(b[1]);

	/* copy_file_range: only the checks before writing can be seen here */
	res("copy_file_range bad in", rsys(SYS_copy_file_range, 999, NULL, null, NULL, 10, 0));
	res("copy_file_range bad out", rsys(SYS_copy_file_range, pw, NULL, 999, NULL, 10, 0));
	res("copy_file_range flags", rsys(SYS_copy_file_range, pw, NULL, pw, NULL, 10, 1));
	res("copy_file_range bad offset", rsys(SYS_copy_file_range, pw, (void *)8, pw, NULL, 10, 0));
	res("copy_file_range directory", rsys(SYS_copy_file_range, dir, NULL, pw, NULL, 10, 0));
	res("copy_file_range to a pipe", rsys(SYS_copy_file_range, pw, NULL, p[1], NULL, 10, 0));
	res("copy_file_range to /dev/null", rsys(SYS_copy_file_range, pw, NULL, null, NULL, 10, 0));
	res("copy_file_range out read-only", rsys(SYS_copy_file_range, pw, NULL, pw, NULL, 10, 0));
	res("copy_file_range len 0, out read-only", rsys(SYS_copy_file_range, pw, NULL, pw, NULL, 0, 0));
	return expect_failures != 0;
}
