/* MAP_SHARED mappings of host files (hostfs: --bind) that may be
 * written: every such mapping in the sandbox maps the pages of one
 * *shared image* of the host file, kept in the memory file per host
 * inode (device, inode number) while anything maps it.
 *
 * Coherence provided:
 * - mappings with each other: exact (the same pages), across processes;
 * - mapping -> host file: the bytes the guest changed through mappings
 *   reach the host file on msync, on munmap, when the process exits
 *   (its address space is dropped), and before any read(2) family call
 *   in the sandbox reads that range of the file;
 * - write(2) family calls in the sandbox -> mappings: the written range
 *   is read again into the image;
 * - changes made by the host itself, truncation, and splice/sendfile/
 *   copy_file_range are not seen by an image that exists (it is read
 *   page by page when first mapped).
 * Changed bytes are found by comparing each page with a clean copy of
 * what the host file held, so write-back never rewrites bytes the guest
 * did not change (at most the span between the first and last changed
 * byte of a page), and never extends the file.
 *
 * Locking: images.lock is taken under mm.lock and inode locks; below it
 * only the memory file's pool lock. Host I/O happens under it. */
#ifndef COCOON_MM_MMAP_SHARED_H
#define COCOON_MM_MMAP_SHARED_H

#include "kernel/kernel.h"

struct file;

/* Whether f's MAP_SHARED mappings use a shared image: a host regular
 * file (not an in-memory one) opened for reading and writing. */
bool shared_image_file(const struct file *f);
/* Whether any image exists (the read/write hooks cost nothing until then). */
bool shared_images_exist(void);
/* Page idx of f's image (read from the host file when first asked),
 * with one reference the caller owns: its memory-file offset, or
 * -ENOMEM / -EIO. */
int64_t shared_image_page(struct file *f, uint64_t idx);
/* Write what mappings changed in [off, off+len) of f's image to the host
 * file. 0 or -EIO. Cheap when no image exists. */
int shared_image_sync(struct file *f, uint64_t off, uint64_t len);
/* f's bytes [off, off+len) were written by write(2) & co.: read them
 * into its image, if it has one. */
void shared_image_refresh(struct file *f, uint64_t off, uint64_t len);
/* A mapping of [off, off+len) of f went away (its page references
 * dropped): write back its changes, and let go of the pages nobody maps
 * any more (the image with its last page). */
void shared_image_unmapped(struct file *f, uint64_t off, uint64_t len);

#endif
