/* Shared helpers for guest test programs (tests/guest/X.c).
 *
 * Every guest program is built three ways (glibc static, musl static,
 * glibc dynamic) and run natively and under cocoon; tests/run.sh compares
 * stdout and the exit status. So everything printed must be identical
 * between glibc and musl builds and between runs: no addresses, pids,
 * times, fd numbers; errno values are printed by name via errname().
 *
 * rsys() is a raw `syscall` instruction: it returns what the kernel
 * returned (-errno on failure), with no libc wrapper in between. */
#ifndef COCOON_GUEST_UTIL_H
#define COCOON_GUEST_UTIL_H

#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static inline long rsys6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	__asm__ volatile ("syscall"
		: "=a"(ret)
		: "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
		: "rcx", "r11", "memory");
	return ret;
}
#define RSYS_ARGS(n, a, b, c, d, e, f, ...) \
	rsys6((long)(n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
/* rsys(SYS_x, args...): up to six arguments, missing ones are 0. */
#define rsys(...) RSYS_ARGS(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case ENOEXEC: return "ENOEXEC";
	case EBADF: return "EBADF";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case ENOTBLK: return "ENOTBLK";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case ETXTBSY: return "ETXTBSY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case EROFS: return "EROFS";
	case EMLINK: return "EMLINK";
	case EPIPE: return "EPIPE";
	case EDOM: return "EDOM";
	case ERANGE: return "ERANGE";
	case EDEADLK: return "EDEADLK";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOLCK: return "ENOLCK";
	case ENOSYS: return "ENOSYS";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ELOOP: return "ELOOP";
	case ENOMSG: return "ENOMSG";
	case EIDRM: return "EIDRM";
	case ENOSTR: return "ENOSTR";
	case ENODATA: return "ENODATA";
	case ETIME: return "ETIME";
	case ENOSR: return "ENOSR";
	case ENOLINK: return "ENOLINK";
	case EPROTO: return "EPROTO";
	case EBADMSG: return "EBADMSG";
	case EOVERFLOW: return "EOVERFLOW";
	case EILSEQ: return "EILSEQ";
	case EUSERS: return "EUSERS";
	case ENOTSOCK: return "ENOTSOCK";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case EMSGSIZE: return "EMSGSIZE";
	case EPROTOTYPE: return "EPROTOTYPE";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPFNOSUPPORT: return "EPFNOSUPPORT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case ENETDOWN: return "ENETDOWN";
	case ENETUNREACH: return "ENETUNREACH";
	case ENETRESET: return "ENETRESET";
	case ECONNABORTED: return "ECONNABORTED";
	case ECONNRESET: return "ECONNRESET";
	case ENOBUFS: return "ENOBUFS";
	case EISCONN: return "EISCONN";
	case ENOTCONN: return "ENOTCONN";
	case ESHUTDOWN: return "ESHUTDOWN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EHOSTDOWN: return "EHOSTDOWN";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EALREADY: return "EALREADY";
	case EINPROGRESS: return "EINPROGRESS";
	case ESTALE: return "ESTALE";
	case EDQUOT: return "EDQUOT";
	case ECANCELED: return "ECANCELED";
	case EOWNERDEAD: return "EOWNERDEAD";
	case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
	case ERFKILL: return "ERFKILL";
	case EHWPOISON: return "EHWPOISON";
	case 512: return "ERESTARTSYS(512)";
	case 513: return "ERESTARTNOINTR(513)";
	case 514: return "ERESTARTNOHAND(514)";
	case 515: return "ENOIOCTLCMD(515)";
	case 516: return "ERESTART_RESTARTBLOCK(516)";
	case 524: return "ENOTSUPP(524)";
	}
	static char buf[32];
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

/* A raw return value as text: "ok" for success (value hidden), or the
 * errno name. */
static const char *rstr(long r)
{
	if (r < 0 && r >= -4095)
		return errname((int)-r);
	return "ok";
}

/* Print "label: ok" / "label: ENOENT" for a raw syscall result. */
static void res(const char *label, long r)
{
	printf("%s: %s\n", label, rstr(r));
}

/* Print "label: <value>" (the exact value is deterministic) or the errno. */
static void resv(const char *label, long r)
{
	if (r < 0 && r >= -4095)
		printf("%s: %s\n", label, errname((int)-r));
	else
		printf("%s: %ld\n", label, r);
}

/* Same for a libc call that returns -1 and sets errno. */
static void lres(const char *label, long r)
{
	if (r == -1)
		printf("%s: %s\n", label, errname(errno));
	else
		printf("%s: ok\n", label);
}

/* Checks that must hold both natively and under cocoon. The text is
 * printed either way so a diff shows which one broke. */
static int expect_failures;
static void expect(int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s: ", cond ? "yes" : "NO");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (!cond)
		expect_failures++;
}

/* FNV-1a, 64 bit. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ULL

/* Deterministic PRNG (xorshift64*). */
static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* An environment value or NULL. */
static const char *fixture_dir(void)
{
	return getenv("COCOON_FIXTURE");
}

/* Write a string without stdio (for programs that die abruptly). */
static void say(const char *s)
{
	rsys(SYS_write, 1, s, strlen(s));
}

#define PAGE 4096UL

#endif
