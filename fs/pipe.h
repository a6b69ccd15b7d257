/* Pipes (fs/pipe.c): a ring of page-sized buffers shared by a read file
 * and a write file, with Linux's rules (64 KiB by default, writes up to
 * PIPE_BUF atomic, packet mode with O_DIRECT, F_SETPIPE_SZ), and the
 * pipe side of splice and tee (fs/splice.c).
 *
 * Locking: pipe.lock may be held while the file at the other end of a
 * splice is read or written (as Linux holds pipe->mutex); two pipes are
 * locked in address order. Under it: the guest memory lock (mm.lock,
 * shared, and copy-on-write breaks of the current process) and waitq
 * locks; so nothing may lock a pipe while holding mm.lock. */
#ifndef COCOON_FS_PIPE_H
#define COCOON_FS_PIPE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct file;

struct guest_seg; /* mm/uaccess.h */

/* Both ends of a new pipe: files[0] reads, files[1] writes. flags:
 * O_NONBLOCK, O_DIRECT. 0 or -ENOMEM. */
int pipe_create(int flags, struct file *files[2]);
bool file_is_pipe(const struct file *f);
/* Open the pipe of pipe file f again (/proc/<pid>/fd/N of a pipe), with
 * a FIFO's rules for flags; -ENXIO if f is not a pipe. */
int pipe_reopen(struct file *f, int flags, struct file **out);

/* read/write/readv/writev of the guest on a pipe file f: the segments
 * (checked with access_ok, clamped) are guest memory of the current
 * process; rwf: RWF_* flags. Bytes moved, or -errno (-ERESTARTSYS when
 * interrupted before anything moved). The guest memory lock is not held
 * while the call waits. */
ssize_t pipe_rw_guest(struct file *f, const struct guest_seg *seg, int nseg, int rwf, bool write);

/* F_GETPIPE_SZ and F_SETPIPE_SZ: sys_fcntl calls this for those two
 * commands; -EBADF if f is not a pipe, like Linux. */
long pipe_fcntl(struct file *f, int cmd, unsigned long arg);

/* Splice with a pipe on one side or both (f: the other file, pos: its
 * position or NULL for the file position). nonblock: SPLICE_F_NONBLOCK,
 * the pipe side does not wait. Bytes moved, or -errno. */
ssize_t pipe_splice_read(struct file *pipe, struct file *out, off_t *pos, size_t len,
			 bool nonblock);
ssize_t pipe_splice_write(struct file *in, off_t *pos, struct file *pipe, size_t len,
			  bool nonblock);
ssize_t pipe_splice_pipe(struct file *in, struct file *out, size_t len, bool nonblock);
ssize_t pipe_tee(struct file *in, struct file *out, size_t len, bool nonblock);

#endif
