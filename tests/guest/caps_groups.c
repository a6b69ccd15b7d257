/* capget/capset (versions 1-3, the version write-back, the probe, only
 * dropping), capabilities across setresuid (with and without KEEP_CAPS),
 * setfsuid, the bounding set and execve, and the supplementary groups
 * (getgroups, setgroups, sorted, EPERM without CAP_SETGID, /proc/self/
 * status). Prints facts that hold for root (natively: root with the
 * container's capabilities; under cocoon: the sandbox's root with all)
 * and for any other user. */
#include "util.h"
#include <grp.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* <linux/capability.h> (musl has no kernel headers). */
struct __user_cap_header_struct {
	uint32_t version;
	int pid;
};
struct __user_cap_data_struct {
	uint32_t effective, permitted, inheritable;
};
#define _LINUX_CAPABILITY_VERSION_1 0x19980330
#define _LINUX_CAPABILITY_VERSION_2 0x20071026
#define _LINUX_CAPABILITY_VERSION_3 0x20080522
enum { CAP_CHOWN = 0, CAP_KILL = 5, CAP_SETGID = 6, CAP_SETUID = 7, CAP_NET_RAW = 13, CAP_IPC_LOCK = 14 };

struct caps3 {
	uint64_t eff, prm, inh;
};

static long capget_raw(uint32_t version, int pid, struct __user_cap_data_struct *d, uint32_t *out_version)
{
	struct __user_cap_header_struct h = { version, pid };
	long r = rsys(SYS_capget, &h, d);
	if (out_version)
		*out_version = h.version;
	return r;
}

static struct caps3 get3(void)
{
	struct __user_cap_data_struct d[2] = { { 0 } };
	capget_raw(_LINUX_CAPABILITY_VERSION_3, 0, d, NULL);
	return (struct caps3){ d[0].effective | (uint64_t)d[1].effective << 32,
			       d[0].permitted | (uint64_t)d[1].permitted << 32,
			       d[0].inheritable | (uint64_t)d[1].inheritable << 32 };
}

static long set3(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};
	return rsys(SYS_capset, &h, d);
}

static uint64_t status_hex(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t v = ~0ULL;
	size_t n = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

static void status_line(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t n = strlen(key);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, n) && line[n] == ':')
			printf("status %s", line);
	if (f)
		fclose(f);
}

#define BIT(c) (1ULL << (c))

static void versions(void)
{
	struct __user_cap_data_struct d[2];
	uint32_t v;
	memset(d, 0xa5, sizeof d);
	res("capget v1", capget_raw(_LINUX_CAPABILITY_VERSION_1, 0, d, NULL));
	printf("v1 leaves the second word: %s\n", d[1].effective == 0xa5a5a5a5 ? "yes" : "no");
	res("capget v2", capget_raw(_LINUX_CAPABILITY_VERSION_2, 0, d, NULL));
	res("capget v3", capget_raw(_LINUX_CAPABILITY_VERSION_3, 0, d, NULL));
	res("capget bad version", capget_raw(0x12345678, 0, d, &v));
	printf("version written back: %#x\n", v);
	res("capget probe (NULL data)", capget_raw(0, 0, NULL, &v));
	printf("probe version: %#x\n", v);
	res("capget pid -1", capget_raw(_LINUX_CAPABILITY_VERSION_3, -1, d, NULL));
	res("capget no such pid", capget_raw(_LINUX_CAPABILITY_VERSION_3, 999999, d, NULL));
	res("capget own pid", capget_raw(_LINUX_CAPABILITY_VERSION_3, getpid(), d, NULL));
	res("capget parent", capget_raw(_LINUX_CAPABILITY_VERSION_3, getppid(), d, NULL));
	res("capget bad header", rsys(SYS_capget, 8, d));
	res("capget bad data", capget_raw(_LINUX_CAPABILITY_VERSION_3, 0, (void *)8, NULL));
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 999999 };
	res("capset other pid", rsys(SYS_capset, &h, d));
	h.version = 1;
	res("capset bad version", rsys(SYS_capset, &h, d));
}

static void root_caps(void)
{
	struct caps3 c = get3();
	printf("effective == permitted: %s\n", c.eff == c.prm ? "yes" : "no");
	printf("CAP_SETUID, CAP_SETGID, CAP_IPC_LOCK: %s\n",
	       (c.eff & (BIT(CAP_SETUID) | BIT(CAP_SETGID) | BIT(CAP_IPC_LOCK))) ==
	       (BIT(CAP_SETUID) | BIT(CAP_SETGID) | BIT(CAP_IPC_LOCK)) ? "yes" : "no");
	printf("inheritable empty: %s\n", c.inh == 0 ? "yes" : "no");
	printf("status agrees: %s\n", status_hex("CapEff") == c.eff && status_hex("CapPrm") == c.prm &&
	       status_hex("CapInh") == c.inh ? "yes" : "no");
	/* Only dropping: effective within permitted, permitted never grows. */
	res("capset drop CAP_NET_RAW from effective", set3(c.eff & ~BIT(CAP_NET_RAW), c.prm, 0));
	printf("dropped: %s\n", get3().eff & BIT(CAP_NET_RAW) ? "no" : "yes");
	res("capset raise it again (still permitted)", set3(c.eff, c.prm, 0));
	res("capset drop CAP_NET_RAW from permitted", set3(c.eff & ~BIT(CAP_NET_RAW), c.prm & ~BIT(CAP_NET_RAW), 0));
	res("capset effective beyond permitted", set3(c.eff, c.prm & ~BIT(CAP_NET_RAW), 0));
	res("capset permitted back", set3(c.eff, c.prm, 0));
	res("capset inheritable within permitted", set3(c.eff & ~BIT(CAP_NET_RAW), c.prm & ~BIT(CAP_NET_RAW),
							 BIT(CAP_CHOWN)));
	printf("status CapInh: %016llx\n", (unsigned long long)status_hex("CapInh"));
	/* v1 clears the upper word. */
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_1, 0 };
	struct __user_cap_data_struct d = { (uint32_t)BIT(CAP_KILL), (uint32_t)BIT(CAP_KILL) | (uint32_t)BIT(CAP_SETUID), 0 };
	res("capset v1", rsys(SYS_capset, &h, &d));
	c = get3();
	printf("after v1: eff %#llx prm %#llx inh %#llx\n", (unsigned long long)c.eff,
	       (unsigned long long)c.prm, (unsigned long long)c.inh);
	res("capset v1 regain CAP_CHOWN", set3(BIT(CAP_CHOWN), BIT(CAP_CHOWN), 0));
}

/* In a child: setresuid away from root and what the sets become. */
static void drop_root(bool keep)
{
	if (keep)
		resv("PR_SET_KEEPCAPS 1", rsys(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0));
	resv("PR_GET_KEEPCAPS", rsys(SYS_prctl, PR_GET_KEEPCAPS, 0, 0, 0, 0));
	res("setresuid(1000, 1000, 1000)", rsys(SYS_setresuid, 1000, 1000, 1000));
	struct caps3 c = get3();
	printf("effective empty: %s, permitted empty: %s\n", c.eff ? "no" : "yes", c.prm ? "no" : "yes");
	if (keep) {
		res("capset effective = permitted", set3(c.prm, c.prm, 0));
		printf("CAP_SETUID effective again: %s\n", get3().eff & BIT(CAP_SETUID) ? "yes" : "no");
		res("setuid(0) with CAP_SETUID", rsys(SYS_setuid, 0));
		printf("euid now %d\n", (int)geteuid());
	} else {
		res("setuid(0) without", rsys(SYS_setuid, 0));
		res("setgroups without CAP_SETGID", rsys(SYS_setgroups, 0, NULL));
		res("capset gain", set3(BIT(CAP_CHOWN), BIT(CAP_CHOWN), 0));
	}
}

static void euid_moves(void)
{
	/* Effective uid away from 0 clears the effective set; back restores it. */
	res("setresuid(-1, 1000, 0)", rsys(SYS_setresuid, -1, 1000, 0));
	struct caps3 c = get3();
	printf("effective empty: %s, permitted kept: %s\n", c.eff ? "no" : "yes",
	       c.prm & BIT(CAP_SETUID) ? "yes" : "no");
	res("setresuid(-1, 0, -1)", rsys(SYS_setresuid, -1, 0, -1));
	c = get3();
	printf("effective == permitted again: %s\n", c.eff == c.prm ? "yes" : "no");
	/* The fs uid takes the file-system capabilities with it. */
	rsys(SYS_setfsuid, 1000);
	c = get3();
	printf("fsuid 1000: CAP_CHOWN %s, CAP_SETUID %s\n", c.eff & BIT(CAP_CHOWN) ? "kept" : "dropped",
	       c.eff & BIT(CAP_SETUID) ? "kept" : "dropped");
	rsys(SYS_setfsuid, 0);
	printf("fsuid 0: CAP_CHOWN %s\n", get3().eff & BIT(CAP_CHOWN) ? "back" : "missing");
}

static void groups(bool root)
{
	int n = getgroups(0, NULL);
	printf("getgroups(0) >= 0: %s\n", n >= 0 ? "yes" : "no");
	gid_t g[64];
	if (n > 0)
		res("getgroups too small", rsys(SYS_getgroups, n - 1, g));
	res("getgroups size -1", rsys(SYS_getgroups, -1, g));
	if (n > 0)
		res("getgroups bad buffer", rsys(SYS_getgroups, n, 8));
	if (!root) {
		res("setgroups unprivileged", rsys(SYS_setgroups, 0, NULL));
		return;
	}
	gid_t set[] = { 30, 5, 100, 5 };
	res("setgroups 4", rsys(SYS_setgroups, 4, set));
	n = (int)rsys(SYS_getgroups, 64, g);
	printf("getgroups: %d:", n);
	for (int i = 0; i < n; i++)
		printf(" %u", g[i]);
	printf("\n");
	status_line("Groups");
	res("setgroups too many", rsys(SYS_setgroups, 65537, set));
	res("setgroups bad pointer", rsys(SYS_setgroups, 2, 8));
	res("setgroups 0", rsys(SYS_setgroups, 0, NULL));
	resv("getgroups after", rsys(SYS_getgroups, 0, NULL));
	status_line("Groups");
	res("setgroups back", rsys(SYS_setgroups, 1, (gid_t[]){ 0 }));
}

static void bounding(void)
{
	resv("PR_CAPBSET_READ CAP_CHOWN", rsys(SYS_prctl, PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0));
	resv("PR_CAPBSET_READ 64", rsys(SYS_prctl, PR_CAPBSET_READ, 64, 0, 0, 0));
	resv("PR_CAPBSET_DROP CAP_NET_RAW", rsys(SYS_prctl, PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0));
	resv("PR_CAPBSET_READ CAP_NET_RAW", rsys(SYS_prctl, PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0));
	resv("PR_CAPBSET_DROP 64", rsys(SYS_prctl, PR_CAPBSET_DROP, 64, 0, 0, 0));
	resv("PR_CAP_AMBIENT IS_SET CAP_CHOWN", rsys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0));
	resv("PR_CAP_AMBIENT RAISE without inheritable", rsys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
	struct caps3 c = get3();
	res("capset inheritable CAP_CHOWN", set3(c.eff, c.prm, BIT(CAP_CHOWN)));
	resv("PR_CAP_AMBIENT RAISE", rsys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
	resv("PR_CAP_AMBIENT IS_SET", rsys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0));
	printf("status CapAmb: %016llx\n", (unsigned long long)status_hex("CapAmb"));
	resv("PR_CAP_AMBIENT bad op", rsys(SYS_prctl, PR_CAP_AMBIENT, 9, CAP_CHOWN, 0, 0));
	resv("PR_CAP_AMBIENT CLEAR_ALL with arg", rsys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0));
	resv("PR_CAP_AMBIENT CLEAR_ALL", rsys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	resv("PR_GET_SECUREBITS", rsys(SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0, 0));
	resv("PR_SET_SECUREBITS unknown bit", rsys(SYS_prctl, PR_SET_SECUREBITS, 1 << 20, 0, 0, 0));
	resv("PR_SET_SECUREBITS KEEP_CAPS", rsys(SYS_prctl, PR_SET_SECUREBITS, 1 << 4, 0, 0, 0));
	resv("PR_GET_KEEPCAPS", rsys(SYS_prctl, PR_GET_KEEPCAPS, 0, 0, 0, 0));
	resv("PR_SET_KEEPCAPS 2", rsys(SYS_prctl, PR_SET_KEEPCAPS, 2, 0, 0, 0));
}

static int after_exec(void)
{
	struct caps3 c = get3();
	printf("after exec: effective == permitted: %s\n", c.eff == c.prm ? "yes" : "no");
	printf("after exec: CAP_NET_RAW permitted: %s\n", c.prm & BIT(CAP_NET_RAW) ? "yes" : "no");
	printf("after exec: permitted == bounding: %s\n", c.prm == status_hex("CapBnd") ? "yes" : "no");
	resv("after exec: PR_GET_KEEPCAPS", rsys(SYS_prctl, PR_GET_KEEPCAPS, 0, 0, 0, 0));
	return 0;
}

static void in_child(void (*fn)(void), const char *what)
{
	printf("-- %s\n", what);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
}

static void drop_plain(void) { drop_root(false); }
static void drop_keep(void) { drop_root(true); }
static void exec_after_drop(void)
{
	rsys(SYS_prctl, PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0);
	rsys(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0);
	execl("/proc/self/exe", "caps_groups", "after-exec", (char *)NULL);
	printf("exec failed\n");
}
static void root_caps_child(void) { root_caps(); }
static void groups_child(void) { groups(true); }

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "after-exec"))
		return after_exec();
	bool root = geteuid() == 0;
	printf("root: %s\n", root ? "yes" : "no");
	versions();
	if (!root) {
		struct caps3 c = get3();
		printf("no capabilities: %s\n", !c.eff && !c.prm && !c.inh ? "yes" : "no");
		groups(false);
		return 0;
	}
	in_child(root_caps_child, "capset as root");
	in_child(drop_plain, "setresuid away from root");
	in_child(drop_keep, "setresuid away from root with KEEP_CAPS");
	in_child(euid_moves, "effective and fs uid moves");
	in_child(groups_child, "groups");
	in_child(bounding, "bounding set, ambient set, securebits");
	in_child(exec_after_drop, "execve");
	return 0;
}
