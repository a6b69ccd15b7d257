/* The layout shared by the stub (running inside guest host-processes) and
 * the kernel's trap platform. Everything here lives in the memory file, so
 * both sides see the same bytes; what the guest can write is untrusted. */
#ifndef COCOON_STUB_ABI_H
#define COCOON_STUB_ABI_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

/* Fixed addresses in every guest host-process. Guest memory stays below
 * STUB_BASE (GUEST_TASK_SIZE in mm/mm.h). */
#define STUB_BASE        0x7fff00000000UL
#define STUB_CODE_MAX    0x10000UL                   /* code, read+exec */
#define STUB_PROC        (STUB_BASE + STUB_CODE_MAX) /* per-process pages */
#define STUB_ORDERS      STUB_PROC                   /* read-only to the guest */
#define STUB_ORDERS_SIZE 0x8000UL
#define STUB_ACK         (STUB_ORDERS + STUB_ORDERS_SIZE) /* writable */
#define STUB_SETUP_STACK (STUB_ACK + 0x1000)          /* 16 KiB, set-up only */
#define STUB_PROC_SIZE   (STUB_ORDERS_SIZE + 0x1000 + 0x4000)
#define STUB_THREADS     (STUB_BASE + 0x100000UL)
#define STUB_AREA_SIZE   0x10000UL                   /* per thread, aligned */
#define STUB_MAX_THREADS 4096
#define STUB_END         (STUB_THREADS + STUB_MAX_THREADS * STUB_AREA_SIZE)

/* A thread area: [ro page: thread constants][mailbox page][alt stack]. */
#define AREA_CONST_OFF   0x0
#define AREA_MBOX_OFF    0x1000
#define AREA_STACK_OFF   0x2000
#define AREA_STACK_SIZE  (STUB_AREA_SIZE - AREA_STACK_OFF)

/* The host signal the kernel sends a guest host-process to make its
 * running guest thread trap (platform_thread_kick): default-ignored, so a
 * process that has no handler for it yet is not harmed. */
#define STUB_KICK_SIGNAL 23 /* SIGURG */

/* Orders the control thread carries out. */
#define ORDER_MMAP 1
#define ORDER_MUNMAP 2
#define ORDER_MPROTECT 3
#define ORDER_CLONE_THREAD 4
#define ORDER_FORK 5 /* the zygote only: a new host process (off: its pages) */
#define ORDER_BIND 6 /* the control thread to the CPUs of orders->cpu_mask */
/* A private mapping of a host file, at off of the file whose /proc path
 * (of the kernel's own fd) is file_paths[prot >> 16], with prot & 0xff.
 * The control thread opens each path once per batch, at its first
 * order (ORDER_FILE_OPEN in prot): path k becomes fd STUB_FILEFD + k.
 * ORDER_CLOSE_FILES (last in such a batch) closes fds STUB_FILEFD to
 * STUB_FILEFD + len - 1 again. */
#define ORDER_MMAP_FILE 7
#define ORDER_CLOSE_FILES 8
#define ORDER_FILE_OPEN 0x100
#define STUB_MAX_ORDERS 500
#define STUB_MAX_FILE_PATHS 64 /* ORDER_MMAP_FILEs per batch */
#define STUB_FILE_PATH_LEN 32  /* "/proc/<pid>/fd/<fd>" and its NUL */
/* The memory file is a guest host-process's only fd (STUB_MEMFD) between
 * batches; the files opened for ORDER_MMAP_FILE get the lowest free
 * ones, in order. */
#define STUB_FILEFD 1

#ifndef __ASSEMBLER__
/* Mailbox states (the futex word). The guest side sets TRAPPED; the
 * kernel side sets RUNNING. The *_SLEEP variants say the other side is
 * asleep on the futex and must be woken. */
enum {
	MBOX_RUNNING = 0,      /* guest's turn (running guest code) */
	MBOX_RUNNING_KSLEEP,   /* ... and the kernel thread sleeps */
	MBOX_TRAPPED,          /* kernel's turn */
	MBOX_TRAPPED_GSLEEP,   /* ... and the guest thread sleeps */
	MBOX_DEAD,             /* the host process is gone (kernel only) */
};

struct stub_mailbox {
	uint32_t state;
	/* Nonzero: the number of a batch of orders the process's control
	 * thread was woken to carry out on this thread's CPU while the
	 * kernel thread waits on another: the stub, spinning there for the
	 * reply, sleeps on orders->done until that batch is done, so that
	 * the control thread has the CPU and wakes it when done. */
	uint32_t yield_cpu;
	uint64_t spin_tsc;      /* how long the stub spins for a reply (TSC ticks) */
	uint64_t signo;         /* filled by the stub handler */
	uint64_t uc;            /* guest address of the host ucontext */
	uint8_t siginfo[128];
	/* Reply (kernel → stub): load this FS base before returning. */
	uint64_t set_fs;        /* 1: load fs_base */
	uint64_t fs_base;
	uint32_t has_fsgsbase;  /* wrfsbase usable (else arch_prctl) */
	uint32_t has_rdtscp;    /* rdtscp usable: the stub reports its CPU */
	uint32_t cpu;           /* the CPU the trap was taken on (a hint) */
	uint32_t set_cpu;       /* 1: bind to the thread's cpu_mask on resuming */
	/* The host thread's id, written by the control thread when it
	 * clones it: where kicks go (tgkill). The guest can overwrite it,
	 * which only misdirects kicks among its own host threads. */
	int32_t host_tid;
	uint32_t pad2;
};

/* Per-thread constants, read-only to the guest. */
struct stub_thread_const {
	struct { uint64_t ss_sp; int32_t ss_flags; int32_t pad; uint64_t ss_size; } altstack;
	uint64_t empty_mask;
	uint64_t cpu_mask;      /* the thread's CPU (affinity), 0: any */
	/* The guest's pid and tid, kept current by the kernel before every
	 * resume: the stub answers getpid and gettid itself (0: ask). */
	int32_t pid, tid;
};

/* Orders from the kernel to the control thread (read-only to the guest). */

struct stub_order {
	uint32_t kind;
	uint32_t prot;
	uint64_t addr;
	uint64_t len;
	uint64_t off;   /* memory-file offset (mmap) */
};

#define STUB_MAX_FILTER 128

struct stub_sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };

struct stub_orders {
	uint32_t seq;           /* bumped by the kernel per batch (futex) */
	uint32_t count;
	uint32_t memfd;         /* the memory file's fd in the guest process */
	uint32_t kernel_pid;    /* host pid of cocoon, to detect its death */
	/* The batch last done: written by the control thread only, with
	 * pwrite on the memory file (the guest maps this page read-only and
	 * cannot make the call), so the kernel may trust it. */
	uint32_t done;
	uint32_t seq_failed;    /* what `done` gets if an order failed */
	/* seccomp programs (struct sock_fprog: len, pad, pointer) */
	struct { uint16_t len; uint16_t pad[3]; uint64_t filter; } ctrl_prog, guest_prog;
	uint64_t all_mask;
	uint64_t ctrl_spin_tsc; /* how long the control thread spins for orders */
	uint64_t done_off;      /* memory-file offset of `done` */
	uint64_t cpu_mask;      /* the control thread's CPU (affinity), 0: any */
	struct stub_sock_filter ctrl_filter[STUB_MAX_FILTER];
	struct stub_sock_filter guest_filter[STUB_MAX_FILTER];
	struct stub_order ops[STUB_MAX_ORDERS];
	char file_paths[STUB_MAX_FILE_PATHS][STUB_FILE_PATH_LEN];
};

/* Written by the control thread, but writable by guest threads too: the
 * kernel takes these as hints only (a batch is done when orders->done
 * says so). The zygote has no guest threads: its fork_pid is trusted. */
struct stub_ack {
	uint32_t pad;
	uint32_t ctrl_sleeping; /* control thread waits on orders->seq */
	int64_t first_error;    /* first failing op's -errno, 0 if none */
	uint32_t ready;         /* set-up done (a spawned process) */
	int32_t fork_pid;       /* the zygote's last ORDER_FORK: the child's pid */
};


#endif /* __ASSEMBLER__ */

/* Field offsets for stub/control.S (checked in platform/trap/). */
#define ORDERS_SEQ        0
#define ORDERS_COUNT      4
#define ORDERS_MEMFD      8
#define ORDERS_KERNEL_PID 12
#define ORDERS_DONE       16
#define ORDERS_SEQ_FAILED 20
#define ORDERS_GUEST_PROG 40
#define ORDERS_CTRL_SPIN  64
#define ORDERS_DONE_OFF   72
#define ORDERS_CPU_MASK   80
#define ORDERS_OPS        2136
#define ORDER_SIZE        32
#define ORDERS_FILE_PATHS (ORDERS_OPS + STUB_MAX_ORDERS * ORDER_SIZE)
#define ACK_CTRL_SLEEPING 4
#define ACK_FIRST_ERROR   8
#define ACK_FORK_PID      20
#define MBOX_HOST_TID     192
#define CONST_ALTSTACK    0
#define CONST_EMPTY_MASK  24
#define CONST_CPU_MASK    32
#define CONST_PID         40
#define CONST_TID         44

#endif
