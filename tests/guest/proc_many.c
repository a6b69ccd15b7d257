/* Many processes: 200 children alive at once (each says it is ready,
 * then blocks reading a pipe until the parent releases them all), all
 * reaped with their own statuses; 1000 fork+wait in a row; a chain of
 * 100 processes, each the parent of the next, alive at the same time;
 * 200 zombies at once. */
#include "proc_util.h"

enum { ALIVE = 200, LOOP = 1000, CHAIN = 100 };

static void alive_at_once(void)
{
	printf("-- %d children alive at once\n", ALIVE);
	int release[2], ready[2];
	pipe(release);
	pipe(ready);
	pid_t pids[ALIVE];
	int started = 0;
	for (int i = 0; i < ALIVE; i++) {
		pid_t pid = xfork();
		if (pid == 0) {
			close(release[1]);
			close(ready[0]);
			write(ready[1], "r", 1);
			close(ready[1]);
			char c;
			/* One byte per child; EOF if the parent died. */
			_exit(read(release[0], &c, 1) == 1 ? i % 128 : 255);
		}
		pids[started++] = pid;
	}
	close(ready[1]);
	char buf[ALIVE];
	ssize_t n = read_all(ready[0], buf, sizeof buf);
	close(ready[0]);
	printf("children started: %d, ready: %d\n", started, (int)n);
	/* All are alive now: none can be reaped. */
	int st;
	pid_t r = waitpid(-1, &st, WNOHANG);
	printf("waitpid(-1, WNOHANG) while all block: %d\n", (int)r);
	int alive = 0;
	for (int i = 0; i < started; i++)
		if (kill_child(pids[i], 0) == 0)
			alive++;
	printf("kill(pid, 0) succeeds for: %d\n", alive);
	memset(buf, 'g', sizeof buf);
	write_all(release[1], buf, (size_t)started);
	close(release[1]);
	close(release[0]);
	/* Reap in whatever order they finish, then check every status. */
	int codes[ALIVE];
	for (int i = 0; i < started; i++)
		codes[i] = -1;
	int reaped = 0;
	while ((r = waitpid(-1, &st, 0)) > 0) {
		for (int i = 0; i < started; i++)
			if (pids[i] == r)
				codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 1000;
		reaped++;
	}
	printf("reaped: %d, then waitpid: %s\n", reaped, errname(errno));
	int right = 0;
	for (int i = 0; i < started; i++)
		if (codes[i] == i % 128)
			right++;
	printf("with their own exit status: %d\n", right);
	/* The pids were all different. */
	int distinct = 1;
	for (int i = 0; i < started; i++)
		for (int j = i + 1; j < started; j++)
			if (pids[i] == pids[j])
				distinct = 0;
	expect(distinct, "all pids distinct");
}

static void fork_loop(void)
{
	printf("-- %d fork+wait in a row\n", LOOP);
	int ok = 0, pids_ok = 1;
	pid_t me = getpid();
	for (int i = 0; i < LOOP; i++) {
		pid_t pid = xfork();
		if (pid == 0)
			_exit(getppid() == me ? i & 0xff : 0xff ^ (i & 0xff));
		if (pid <= 0 || pid == me)
			pids_ok = 0;
		int st = reap(pid);
		if (WIFEXITED(st) && WEXITSTATUS(st) == (i & 0xff))
			ok++;
	}
	printf("children exited with the right status: %d\n", ok);
	expect(pids_ok, "every fork returned a new pid");
	errno = 0;
	printf("then: %s\n", wait(NULL) < 0 ? errname(errno) : "another child");
}

/* Each link forks the next, then waits for it; the last reports the
 * chain's length through a pipe once all are alive. */
static int chain_fd;
static int chain_link(int depth)
{
	if (depth == CHAIN) {
		write(chain_fd, &depth, sizeof depth);
		return 0;
	}
	pid_t pid = xfork();
	if (pid == 0)
		_exit(chain_link(depth + 1));
	int st = reap(pid);
	return WIFEXITED(st) ? (WEXITSTATUS(st) + 1) % 256 : 201;
}

static void chain(void)
{
	printf("-- a chain of %d processes\n", CHAIN);
	int p[2];
	pipe(p);
	chain_fd = p[1];
	pid_t pid = xfork();
	if (pid == 0) {
		close(p[0]);
		_exit(chain_link(1));
	}
	close(p[1]);
	int depth = 0;
	read(p[0], &depth, sizeof depth);
	close(p[0]);
	printf("the last link reached depth %d\n", depth);
	int st = reap(pid);
	printf("the first link: %s\n", status_str(st));
}

static void zombies(void)
{
	printf("-- %d zombies at once\n", ALIVE);
	pid_t pids[ALIVE];
	for (int i = 0; i < ALIVE; i++) {
		pids[i] = xfork();
		if (pids[i] == 0)
			_exit(i % 100);
	}
	/* Wait until the last has exited (without reaping) then reap all. */
	siginfo_t si;
	waitid(P_PID, (id_t)pids[ALIVE - 1], &si, WEXITED | WNOWAIT);
	int ok = 0;
	for (int i = 0; i < ALIVE; i++) {
		int st = reap(pids[i]);
		if (WIFEXITED(st) && WEXITSTATUS(st) == i % 100)
			ok++;
	}
	printf("reaped with the right status: %d\n", ok);
}

int main(int argc, char **argv)
{
	proc_init(argc, argv);
	alive_at_once();
	fork_loop();
	chain();
	zombies();
	return expect_failures ? 1 : 0;
}
