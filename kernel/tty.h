/* Terminals: what every terminal of the sandbox shares (kernel/tty.c) --
 * the session it controls and its foreground process group, Linux's job
 * control rules (tty_jobctrl.c), the termios layout -- and the line
 * discipline of pseudo-terminals (kernel/tty_ldisc.c).
 *
 * Two kinds of terminal: the host terminal cocoon runs on (its line
 * discipline is the host's; guests reach it through a file kind of
 * kernel/tty.c), and the slaves of the sandbox's own pseudo-terminals
 * (fs/pty.c, with kernel/tty_ldisc.c).
 *
 * Controlling terminals are kept per session: a terminal names the
 * session it controls (tty.session, with the leader's identity so that a
 * reused pid is no heir), and a process's controlling terminal is the
 * one of its session, unless it gave it up with TIOCNOTTY.
 *
 * Locking: the job-control fields (session, pgrp, leader) and the list
 * of terminals are under tasklist_lock. A pty's own lock is taken after
 * tasklist_lock, never before it: signals the line discipline raises are
 * sent once the pty lock is released. */
#ifndef COCOON_TTY_H
#define COCOON_TTY_H

#include <stdatomic.h>
#include <sys/ioctl.h>
#include <time.h>
#include "kernel/kernel.h"

struct file;
struct process;

/* Linux's struct termios2 (asm-generic/termbits.h); TCGETS and TCSETS
 * move its first 36 bytes (struct termios of the kernel, not glibc's). */
#define KNCCS 19
struct ktermios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line, c_cc[KNCCS];
	uint32_t c_ispeed, c_ospeed;
};
#define KTERMIOS_V1_SIZE 36
/* The termios2 commands (asm-generic/ioctls.h; glibc has no struct
 * termios2 to spell them with). */
#define KTCGETS2  0x802c542aU
#define KTCSETS2  0x402c542bU
#define KTCSETSW2 0x402c542cU
#define KTCSETSF2 0x402c542dU

struct tty {
	/* tasklist_lock */
	int session;               /* the session it controls; 0: none */
	int pgrp;                  /* its foreground process group; 0: none */
	struct process *leader;    /* the session leader (identity check) */
	struct timespec leader_start;
	struct tty *next;          /* every terminal (tty_register) */
	bool is_host;              /* the host terminal, not a pty slave */
};

/* ---- the host terminal (kernel/tty.c) ------------------------------- */

/* At start-up, before any thread: take over the terminal signals
 * (SIGINT, SIGQUIT, SIGTSTP, SIGHUP, SIGWINCH), which a forwarder thread
 * started by tty_start() sends to the guests' foreground process group,
 * and remember the terminal's modes to restore at exit (also when
 * cocoon dies of a signal). */
void tty_init(void);
void tty_start(void);
/* Restore the terminal modes the guests changed (cocoon's exit). */
void tty_restore(void);
/* A file for a host fd that is a terminal (fs/hostfile.c hands them
 * over): reads and writes with job control, the termios ioctls; NULL if
 * out of memory. Takes over hostfd on success. */
struct file *tty_host_file(int hostfd, int flags, const char *path);
/* /dev/tty: a new file for the caller's controlling terminal, or -ENXIO. */
int tty_open_current(int flags, struct file **out);
/* /dev/console (5:1): the host terminal, or -ENXIO without one. */
int tty_open_console(int flags, struct file **out);

/* ---- job control, shared by every terminal (kernel/tty.c) ----------- */

void tty_register(struct tty *t);   /* a new terminal; tasklist_lock not held */
void tty_unregister(struct tty *t); /* it goes away */
/* Whether t is the controlling terminal of p (tasklist_lock held). */
bool tty_is_ctty_locked(struct tty *t, struct process *p);
/* A read of t by the current process: 0, or -EIO / -ERESTARTSYS after
 * sending SIGTTIN to its group (Linux's job_control()). */
int tty_check_read(struct tty *t);
/* A change of t, or a write with TOSTOP: 0, -EIO or -ERESTARTSYS with
 * SIGTTOU (tty_check_change()). */
int tty_check_change(struct tty *t);
/* The job-control ioctls (TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCSCTTY,
 * TIOCNOTTY) on t through file f (master: f is a pty master, whose
 * commands act on its slave t without being its controlling terminal):
 * the result, or 1 if cmd is none of them. */
long tty_jobctl_ioctl(struct tty *t, struct file *f, bool master, unsigned cmd, gaddr_t arg);
/* Opening t without O_NOCTTY: a session leader without a controlling
 * terminal takes it if nobody has it (tty_open_proc_set_tty). */
void tty_open_set_ctty(struct tty *t, int flags);
/* A hangup (the master of a pty closed): the session loses t, its
 * leader gets SIGHUP and SIGCONT. */
void tty_hangup(struct tty *t);
/* Signal t's foreground process group (ISIG characters, SIGWINCH). */
void tty_signal_pgrp(struct tty *t, int sig);
/* The current process exits: if it leads a session, its controlling
 * terminal's foreground group gets SIGHUP and the session loses it
 * (Linux's disassociate_ctty(1) in do_exit). To be called from
 * process_end before the process becomes a zombie. */
void tty_process_exit(struct process *p);

/* The termios ioctls on a struct ktermios (both kinds share the copying
 * rules): cmd's size in bytes, whether it sets, and how (drain/flush
 * first); 0 if cmd is none of them. */
enum { TTY_SET_NOW = 1, TTY_SET_DRAIN, TTY_SET_FLUSH };
size_t tty_termios_cmd(unsigned cmd, int *set);
/* The speeds of a termios set through TCSETS (from c_cflag). */
void tty_termios_speeds(struct ktermios *t);

/* ---- pseudo-terminals (fs/pty.c) ------------------------------------ */

/* /dev/ptmx (5:2): a new master; /dev/pts/N (136 + N/256 : N%256): its
 * slave. 0 or -errno. */
int ptmx_open(int flags, struct file **out);
int pty_slave_open(unsigned index, int flags, struct file **out);
/* A new file for the slave t (/dev/tty of a process whose controlling
 * terminal it is); tasklist_lock held. */
int pty_open_ctty(struct tty *t, int flags, struct file **out);
/* For devpts (fs/devpts.c): whether pty index exists (its slave's owner
 * and a generation that changes when the index is reused), and the
 * existing indexes in order from *index on (1: one found, 0: no more). */
bool pty_exists(unsigned index, uint32_t *uid, uint32_t *gid, uint64_t *gen);
int pty_next(unsigned *index);
/* devpts (fs/devpts.c): its root for the mount table, its st_dev, and
 * the group and mode of a new slave (the host's devpts options). */
struct dentry;
struct dentry *devpts_root(void);
dev_t devpts_dev(void);
uint32_t devpts_slave_gid(uint32_t fsgid);
mode_t devpts_slave_mode(void);
int devpts_open_slave(unsigned index, int flags, struct file **out);

/* ---- the line discipline of ptys (kernel/tty_ldisc.c) --------------- */

#define LDISC_BUF 4096     /* N_TTY_BUF_SIZE */

/* Where the line discipline writes what goes to the master (echoes and
 * processed output): a byte ring of the pty. */
struct tty_queue {
	unsigned char *buf;
	size_t cap, head, tail;    /* free-running */
};
static inline size_t tq_count(const struct tty_queue *q) { return q->head - q->tail; }
static inline size_t tq_room(const struct tty_queue *q) { return q->cap - tq_count(q); }
size_t tq_put(struct tty_queue *q, const void *p, size_t n);
size_t tq_get(struct tty_queue *q, void *p, size_t n);

struct ldisc {
	struct ktermios termios;
	unsigned char rbuf[LDISC_BUF];
	uint64_t rflags[LDISC_BUF / 64]; /* canonical mode: line ends */
	size_t read_head, read_tail, canon_head, line_start;
	unsigned column, canon_column;
	bool erasing, lnext, stopped, icanon;
	struct tty_queue *out;     /* to the master */
};

void ldisc_init(struct ldisc *l, struct tty_queue *out);
/* What input processing of one character asks the caller to do once
 * the pty lock is released. */
struct ldisc_effect {
	int sig;                   /* ISIG: signal the foreground group */
	bool flushed_out;          /* the master's queue was flushed */
};
/* Take input characters from the master side as long as there is room:
 * how many were taken. Stops after a signal character (e->sig) so the
 * caller sends it before the characters that follow are processed. */
size_t ldisc_receive(struct ldisc *l, const unsigned char *p, size_t n, struct ldisc_effect *e);
/* Whether the slave can read (VMIN characters or a line). */
bool ldisc_readable(const struct ldisc *l, size_t amt);
/* Move input to a reader: canonical lines or raw bytes; the count,
 * with *eof_push set for an EOF that ends nothing. */
size_t ldisc_read(struct ldisc *l, unsigned char *buf, size_t n, bool *eof_push);
/* Output processing of what the slave writes (OPOST): how many bytes
 * of p went to the master queue (fewer if it is full). */
size_t ldisc_write(struct ldisc *l, const unsigned char *p, size_t n);
/* FIONREAD of the slave. */
size_t ldisc_inq(const struct ldisc *l);
void ldisc_flush_input(struct ldisc *l);
void ldisc_set_termios(struct ldisc *l, const struct ktermios *t);
/* The standard termios of a pty slave. */
void ldisc_default_termios(struct ktermios *t);

#endif
