/* The sandbox's controlling terminal: the host terminal cocoon runs on,
 * seen by guests with their own process groups (kernel/tty.c). */
#ifndef COCOON_TTY_H
#define COCOON_TTY_H

#include "kernel/kernel.h"

/* At start-up, before any thread: take over the terminal signals
 * (SIGINT, SIGQUIT, SIGTSTP, SIGHUP, SIGWINCH), which a forwarder thread
 * started by tty_start() sends to the guests' foreground process group,
 * and remember the terminal's modes to restore at exit. */
void tty_init(void);
void tty_start(void);
/* Restore the terminal modes the guests changed (cocoon's exit). */
void tty_restore(void);
/* The job-control ioctls of the terminal (TIOCGPGRP, TIOCSPGRP,
 * TIOCGSID, TIOCSCTTY, TIOCNOTTY) on a host terminal fd: the result, or
 * 1 if cmd is not one of them. */
long tty_jobctl_ioctl(int hostfd, unsigned cmd, gaddr_t arg);

#endif
