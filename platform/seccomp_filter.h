/* Builds the seccomp programs of guest host-processes. */
#ifndef COCOON_SECCOMP_FILTER_H
#define COCOON_SECCOMP_FILTER_H

#include "stub/stub_abi.h"

/* The only fd of a guest host-process: the memory file. */
#define STUB_MEMFD 0

enum filter_kind {
	FILTER_CONTROL, /* the control thread: may change the address space */
	FILTER_GUEST,   /* guest threads: only the hand-off's few calls */
};

/* Writes the program into out (at most STUB_MAX_FILTER instructions);
 * returns its length. Calls from outside the stub code
 * [STUB_BASE, STUB_BASE+code_len) trap (SIGSYS); calls from inside it
 * that are not allowed kill the process. */
int seccomp_filter_build(enum filter_kind kind, uint32_t code_len,
			 struct stub_sock_filter *out);

#endif
