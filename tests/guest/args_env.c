/* argv, envp and the auxiliary vector as the kernel laid them out.
 * The runner sets COCOON_TEST_VAR="hello world" and COCOON_TEST_EMPTY=""
 * in the environment of both runs. */
// RUN:
// RUN: one "two words" "" 'x=y' -- --flag "$(printf 'tab\there')"
// RUN: $(seq 1 5000)
#include "util.h"
#include <sys/auxv.h>

int main(int argc, char **argv, char **envp)
{
	printf("argc: %d\n", argc);
	if (argc <= 20) {
		for (int i = 1; i < argc; i++)
			printf("argv[%d]: [%s]\n", i, argv[i]);
	} else {
		uint64_t h = FNV_INIT;
		size_t total = 0;
		for (int i = 1; i < argc; i++) {
			h = fnv1a(h, argv[i], strlen(argv[i]) + 1);
			total += strlen(argv[i]) + 1;
		}
		printf("argv bytes: %zu, fnv: %016llx\n", total, (unsigned long long)h);
	}
	expect(argv[argc] == NULL, "argv[argc] is NULL");
	expect(envp == argv + argc + 1, "envp follows argv");
	/* The strings sit above the pointer arrays, in order. */
	int ordered = 1;
	for (int i = 1; i < argc; i++)
		if (argv[i] != argv[i - 1] + strlen(argv[i - 1]) + 1)
			ordered = 0;
	expect(ordered, "argv strings are contiguous");

	const char *names[] = { "COCOON_TEST_VAR", "COCOON_TEST_EMPTY",
		"COCOON_TEST_UNSET_XYZ", "HOME", "PATH", "LC_ALL" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *v = getenv(names[i]);
		printf("env %s: %s%s%s\n", names[i], v ? "[" : "(unset)", v ? v : "", v ? "]" : "");
	}
	int nenv = 0, eq = 1;
	for (char **e = envp; *e; e++) {
		nenv++;
		if (!strchr(*e, '='))
			eq = 0;
	}
	expect(nenv >= 3, "at least 3 environment strings");
	expect(eq, "every environment string has '='");

	/* Auxiliary vector. */
	resv("AT_PAGESZ", (long)getauxval(AT_PAGESZ));
	expect(getauxval(AT_UID) == getuid(), "AT_UID == getuid()");
	expect(getauxval(AT_EUID) == geteuid(), "AT_EUID == geteuid()");
	expect(getauxval(AT_GID) == getgid(), "AT_GID == getgid()");
	expect(getauxval(AT_EGID) == getegid(), "AT_EGID == getegid()");
	resv("AT_SECURE", (long)getauxval(AT_SECURE));
	expect(getauxval(AT_PHDR) != 0, "AT_PHDR set");
	expect(getauxval(AT_PHENT) == 56, "AT_PHENT == 56");
	expect(getauxval(AT_ENTRY) != 0, "AT_ENTRY set");
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	int nz = 0;
	if (rnd)
		for (int i = 0; i < 16; i++)
			nz |= rnd[i];
	expect(rnd && nz, "AT_RANDOM points at 16 bytes, not all zero");
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	expect(execfn && strcmp(execfn, argv[0]) == 0, "AT_EXECFN == argv[0]");
	/* AT_SYSINFO_EHDR is not checked: it comes with cocoon's own vDSO
	 * (issue 5); until then the entry is absent and libcs fall back to
	 * system calls. */
	expect(getauxval(AT_HWCAP) != 0, "AT_HWCAP set");
	return expect_failures ? 1 : 0;
}
