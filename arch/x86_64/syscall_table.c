/* The x86-64 personality's system-call table, generated from
 * arch/x86_64/syscalls.def. */
#include "kernel/syscall.h"

#define none NULL
static const struct syscall_entry table[] = {
#define SYSCALL(nr, name, handler, support, note) [nr] = { #name, handler, support, note },
#include "arch/x86_64/syscalls.def"
#undef SYSCALL
};
#undef none

const struct personality personality_x86_64 = {
	.name = "x86_64",
	.table = table,
	.nr_syscalls = ARRAY_SIZE(table),
};
