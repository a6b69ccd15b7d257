/* The VFS on a temporary host tree, through the kernel's own interfaces
 * (no guest): the overlay over a read-only host directory (copy-up,
 * whiteouts, opaque directories, merged listings, renames), tmpfs file
 * pages (holes, truncation), lookups that try to leave the root, that
 * the host tree is exactly as it was, and then that the lower layer's
 * answers are kept (missing names, sizes) but never over the sandbox's
 * own changes. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "fs/file.h"
#include "fs/filepages.h"
#include "fs/vfs_ops.h"
#include "mm/memfile.h"

static char top[PATH_MAX / 2];
static struct path root;

static void sh(const char *cmd)
{
	char c[PATH_MAX * 2];
	snprintf(c, sizeof(c), "cd '%s' && %s", top, cmd);
	if (system(c))
		printf("# failed: %s\n", cmd);
}

/* A digest of the host tree: names, modes, sizes, contents. */
static unsigned long tree_sum(void)
{
	char c[PATH_MAX * 2], line[1024];
	snprintf(c, sizeof(c), "cd '%s' && find root outside -printf '%%p %%m %%s %%l\\n' | sort; "
		 "cd '%s' && find root outside -type f -exec cat {} +", top, top);
	FILE *p = popen(c, "r");
	unsigned long h = 5381;
	while (p && fgets(line, sizeof(line), p))
		for (char *s = line; *s; s++)
			h = h * 33 + (unsigned char)*s;
	if (p)
		pclose(p);
	return h;
}

static int lookup(const char *path, int flags, struct walk_result *r)
{
	return walk(&root, &root, path, flags, r);
}

static int exists(const char *path)
{
	struct walk_result r;
	int err = lookup(path, 0, &r);
	if (!err)
		walk_done(&r);
	return err;
}

static int parent(const char *path, struct walk_result *r)
{
	return lookup(path, WALK_PARENT, r);
}

static int do_create(const char *path, mode_t mode, const char *target)
{
	struct walk_result r;
	int err = parent(path, &r);
	if (!err) {
		err = vfs_create(&r.dir, r.last, mode, 0, target, r.slash, NULL);
		walk_done(&r);
	}
	return err;
}

static int do_unlink(const char *path, bool dir)
{
	struct walk_result r;
	int err = parent(path, &r);
	if (!err) {
		err = vfs_unlink(&r.dir, r.last, dir, r.slash);
		walk_done(&r);
	}
	return err;
}

static int do_rename(const char *from, const char *to, unsigned flags)
{
	struct walk_result a, b;
	int err = parent(from, &a);
	if (!err && !(err = parent(to, &b))) {
		do
			err = vfs_rename(&a, &b, flags);
		while (err == -EAGAIN);
		walk_done(&b);
	}
	if (!err || a.dir.dentry)
		walk_done(&a);
	return err;
}

static struct file *do_open(const char *path, int flags)
{
	struct walk_result r;
	struct file *f = NULL;
	if (!lookup(path, WALK_FOLLOW, &r)) {
		if (vfs_open(&r.path, flags, &f))
			f = NULL;
		walk_done(&r);
	}
	return f;
}

static ssize_t fwrite_at(struct file *f, const char *s, off_t pos)
{
	struct iovec iov = { (void *)s, strlen(s) };
	return f->ops->write(f, &iov, 1, pos, 0);
}

static const char *read_all(const char *path)
{
	static char buf[256];
	struct file *f = do_open(path, O_RDONLY);
	if (!f)
		return "(no open)";
	ssize_t n = kernel_pread(f, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	fput(f);
	return buf;
}

struct names {
	struct dir_ctx ctx;
	char list[1024];
};

static int add_name(struct dir_ctx *c, const char *name, size_t len, uint64_t ino, unsigned type)
{
	struct names *n = (struct names *)c;
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)))
		return 0;
	strncat(n->list, name, len);
	strcat(n->list, " ");
	return 0;
}

/* The names of a directory, sorted. */
static const char *listing(const char *path)
{
	static char out[1024];
	struct walk_result r;
	struct names n = { { add_name }, "" };
	if (lookup(path, WALK_FOLLOW | WALK_DIRECTORY, &r))
		return "(no dir)";
	struct inode *i = walk_inode(&r);
	i->ops->iterate(i, r.path.dentry, &n.ctx);
	walk_done(&r);
	char *v[64];
	int k = 0;
	for (char *s = strtok(n.list, " "); s && k < 64; s = strtok(NULL, " "))
		v[k++] = s;
	for (int a = 0; a < k; a++)
		for (int b = a + 1; b < k; b++)
			if (strcmp(v[a], v[b]) > 0) {
				char *t = v[a];
				v[a] = v[b];
				v[b] = t;
			}
	out[0] = '\0';
	for (int a = 0; a < k; a++) {
		strcat(out, v[a]);
		if (a + 1 < k)
			strcat(out, " ");
	}
	return out;
}

static nlink_t nlink_of(const char *path)
{
	struct walk_result r;
	struct statx x;
	if (lookup(path, 0, &r))
		return 0;
	inode_getattr(walk_inode(&r), &x);
	walk_done(&r);
	return x.stx_nlink;
}

static void filepages_tests(void)
{
	struct filepages fp = { 0 };
	CHECK_EQ(fp_lookup(&fp, 0), -1, "empty: a hole");
	int64_t a = fp_get(&fp, 5, 3);
	CHECK(a >= 0, "page 5 allocated");
	CHECK_EQ(fp_lookup(&fp, 6), a + (int64_t)PAGE_SIZE, "a run is contiguous");
	CHECK_EQ(fp.npages, 3, "three pages");
	CHECK(fp_get(&fp, 1000000, 1) >= 0, "a far page grows the tree");
	CHECK_EQ(fp_next_data(&fp, 0), 5, "next data");
	CHECK_EQ(fp_next_hole(&fp, 5), 8, "next hole");
	CHECK_EQ(fp_next_data(&fp, 8), 1000000, "next data far away");
	fp_punch(&fp, 6, 7);
	CHECK_EQ(fp_lookup(&fp, 6), -1, "punched");
	CHECK_EQ(fp.npages, 3, "pages after the punch");
	size_t before = memfile_allocated();
	fp_free_all(&fp);
	CHECK_EQ(fp.npages, 0, "all freed");
	CHECK_EQ(memfile_allocated(), before - 3 * PAGE_SIZE, "pages went back to the memory file");
	CHECK_EQ(fp_get(&fp, FP_MAX_PAGES, 1), -EFBIG, "beyond the largest file");
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(top, sizeof(top), "%s/test_vfs.XXXXXX", t ? t : "/var/tmp");
	if (!mkdtemp(top))
		return perror("mkdtemp"), 1;
	sh("mkdir -p root/d root/e root/deep/er outside && printf 'lower a' > root/a && "
	   "printf x > root/d/x && printf y > root/d/y && ln -s a root/l && "
	   "printf secret > outside/secret && ln -s ../outside/secret root/up && "
	   "ln -s /outside/secret root/abs && ln -s ../../../../.. root/dots && "
	   "printf deep > root/deep/er/f");
	unsigned long sum = tree_sum();
	CHECK_EQ(memfile_init(), 0, "memory file");
	filepages_tests();

	char hostroot[PATH_MAX];
	snprintf(hostroot, sizeof(hostroot), "%s/root", top);
	CHECK_EQ(fs_init(hostroot), 0, "fs_init over the test tree");
	root = cur_root();

	/* lookups stay inside */
	CHECK_EQ(exists("/up"), 0, "a dangling-looking link is there");
	struct walk_result r;
	CHECK_EQ(lookup("/up", WALK_FOLLOW, &r), -ENOENT, "../outside does not leave the root");
	CHECK_EQ(lookup("/abs", WALK_FOLLOW, &r), -ENOENT, "absolute links start at the root");
	CHECK_EQ(lookup("/dots/dots/a", WALK_FOLLOW, &r), 0, ".. links stop at the root");
	walk_done(&r);
	CHECK_EQ(lookup("/../../../outside/secret", 0, &r), -ENOENT, "/.. is /");
	CHECK_EQ(lookup("/tmp", WALK_DIRECTORY, &r), 0, "/tmp is there");
	CHECK(r.path.mnt != root.mnt, "/tmp is a mount of its own");
	walk_done(&r);
	CHECK_EQ(lookup("/tmp/..", WALK_DIRECTORY, &r), 0, "/tmp/..");
	CHECK(path_equal(&r.path, &root), "/tmp/.. is /");
	walk_done(&r);

	/* copy-up */
	CHECK(!strcmp(read_all("/a"), "lower a"), "the lower file reads");
	struct file *f = do_open("/a", O_RDWR);
	CHECK(f != NULL, "open the lower file for writing");
	CHECK_EQ(fwrite_at(f, "UPPER", 0), 5, "write it");
	fput(f);
	CHECK(!strcmp(read_all("/a"), "UPPER a"), "the overlay has the change (%s)", read_all("/a"));
	CHECK(!strcmp(read_all("/l"), "UPPER a"), "and a link to it too");
	struct file *ro = do_open("/d/y", O_RDONLY);
	f = do_open("/d/y", O_WRONLY | O_TRUNC);
	CHECK(f && ro, "reader and writer of d/y");
	if (f) {
		vfs_truncate(&(struct path){ f->mnt, f->dentry }, 0);
		fwrite_at(f, "new y", 0);
		fput(f);
	}
	char b[16] = { 0 };
	if (ro) {
		kernel_pread(ro, b, sizeof(b) - 1, 0);
		fput(ro);
	}
	CHECK(!strcmp(b, "new y"), "a reader opened before the copy-up sees it too");
	f = do_open("/a", O_RDONLY);
	CHECK_EQ(file_size(f), 7, "file_size after copy-up");
	fput(f);
	f = do_open("/deep/er/f", O_RDONLY);
	CHECK_EQ(file_page_get(f, 0, false), -ENODEV, "a lower file has no pages of its own");
	fput(f);

	/* whiteouts and opaque directories */
	CHECK(!strcmp(listing("/d"), "x y"), "merged listing of d");
	CHECK_EQ(do_unlink("/d/x", false), 0, "unlink a lower file");
	CHECK_EQ(exists("/d/x"), -ENOENT, "it is gone");
	CHECK(!strcmp(listing("/d"), "y"), "the whiteout hides it from the listing");
	CHECK_EQ(do_unlink("/d", true), -ENOTEMPTY, "rmdir a merged dir with a lower file left");
	CHECK_EQ(do_unlink("/d/y", false), 0, "unlink the last one");
	CHECK_EQ(do_unlink("/d", true), 0, "rmdir the now empty merged dir");
	CHECK_EQ(do_create("/d", S_IFDIR | 0755, NULL), 0, "mkdir it again");
	CHECK(!strcmp(listing("/d"), ""), "the new one is opaque");
	CHECK_EQ(exists("/d/x"), -ENOENT, "nothing of the lower shows through");
	CHECK_EQ(do_create("/d/x", S_IFREG | 0644, NULL), 0, "create where a whiteout was");
	CHECK(!strcmp(read_all("/d/x"), ""), "the new file is empty");

	/* renames and links */
	CHECK_EQ(do_rename("/deep", "/moved", 0), 0, "rename a lower directory");
	CHECK(!strcmp(read_all("/moved/er/f"), "deep"), "its lower contents follow it");
	CHECK_EQ(exists("/deep"), -ENOENT, "the old name is whited out");
	CHECK(!strcmp(listing("/"), "a abs d dev dots e l moved proc tmp up"), "root listing");
	CHECK_EQ(do_rename("/moved/er", "/e/er", 0), 0, "move a lower dir into another");
	CHECK_EQ(nlink_of("/e"), 3, "the new parent counts it");
	CHECK_EQ(do_rename("/e", "/e/er/x", 0), -EINVAL, "not into itself");
	CHECK_EQ(do_rename("/a", "/tmp/a", 0), -EXDEV, "not across mounts");
	struct walk_result old, nw;
	lookup("/a", 0, &old);
	parent("/hard", &nw);
	CHECK_EQ(vfs_link(&old.path, &nw.dir, nw.last, false), 0, "hard link to a copied-up file");
	walk_done(&old);
	walk_done(&nw);
	CHECK_EQ(nlink_of("/a"), 2, "two links");
	f = do_open("/hard", O_WRONLY);
	if (f) {
		fwrite_at(f, "H", 0);
		fput(f);
	}
	CHECK(!strcmp(read_all("/a"), "HPPER a"), "both names are one file");

	/* tmpfs */
	CHECK_EQ(do_create("/tmp/big", S_IFREG | 0644, NULL), 0, "a tmpfs file");
	f = do_open("/tmp/big", O_RDWR);
	CHECK(f != NULL, "open it");
	size_t used = memfile_allocated();
	CHECK_EQ(fwrite_at(f, "end", 10 * 1024 * 1024), 3, "write far out");
	CHECK_EQ(memfile_allocated() - used, PAGE_SIZE, "one page for it, the rest a hole");
	CHECK_EQ(file_size(f), 10 * 1024 * 1024 + 3, "its size");
	b[0] = 'x';
	CHECK_EQ(kernel_pread(f, b, 4, 4096), 4, "read in the hole");
	CHECK(!b[0] && !b[3], "zeros");
	int64_t pg = file_page_get(f, 10 * 1024 * 1024 / PAGE_SIZE, false);
	CHECK(pg >= 0 && !memcmp(memfile_ptr(pg), "end", 3), "file_page_get gives the file's own page");
	CHECK_EQ(file_page_get(f, 3, false), -ENXIO, "a hole has no page");
	if (pg >= 0)
		memfile_free(pg, PAGE_SIZE);
	vfs_truncate(&(struct path){ f->mnt, f->dentry }, 5);
	CHECK_EQ(memfile_allocated(), used, "truncation gives the page back");
	fput(f);
	CHECK_EQ(do_unlink("/tmp/big", false), 0, "unlink it");

	/* the host saw none of it */
	CHECK_EQ(tree_sum(), sum, "the host tree is unchanged");

	/* The lower layer is stable: what it said is kept (changes under it
	 * are undefined, as overlayfs's), but not over the sandbox's own. */
	CHECK_EQ(exists("/e/missing"), -ENOENT, "a missing lower name");
	sh("printf z > root/e/missing");
	CHECK_EQ(exists("/e/missing"), -ENOENT, "stays missing when made under the layer");
	CHECK_EQ(do_create("/e/missing", S_IFREG | 0600, NULL), 0, "the sandbox makes it");
	CHECK(!strcmp(read_all("/e/missing"), ""), "and finds its own");
	CHECK_EQ(exists("/e/other"), -ENOENT, "another missing name");
	CHECK_EQ(do_rename("/e/missing", "/e/other", 0), 0, "renamed over it");
	CHECK_EQ(exists("/e/other"), 0, "found under the new name");
	sh("printf kept > root/k");
	f = do_open("/k", O_RDONLY);
	CHECK_EQ(file_size(f), 4, "a lower file's size");
	fput(f);
	sh("printf ' longer' >> root/k");
	f = do_open("/k", O_RDONLY);
	CHECK_EQ(file_size(f), 4, "kept from its lookup");
	fput(f);
	path_put(&root);
	char c[PATH_MAX];
	snprintf(c, sizeof(c), "rm -rf '%s'", top);
	if (system(c))
		printf("# cleanup failed\n");
	CHECK_DONE();
}
