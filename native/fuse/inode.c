/* The inode table: one entry per backing inode the kernel knows, with an O_PATH descriptor and
 * the names (parent, name) it has, so a record can name the inode's root-relative path. */
#include "rillfs.h"
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NBUCKETS 65536

static struct inode *buckets[NBUCKETS];
static pthread_mutex_t tbl = PTHREAD_MUTEX_INITIALIZER;

static unsigned hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev;
	return (unsigned)(h >> 48) % NBUCKETS;
}

struct inode *ino_of(fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &fs.root : (struct inode *)(uintptr_t)ino;
}

fuse_ino_t ino_id(struct inode *in)
{
	return in == &fs.root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)in;
}

void ino_table_init(void)
{
	pthread_mutex_init(&fs.root.lock, NULL);
	fs.root.nlookup = 2;
}

static struct inode *find(dev_t dev, ino_t ino)
{
	for (struct inode *in = buckets[hash(dev, ino)]; in; in = in->hnext)
		if (in->dev == dev && in->ino == ino)
			return in;
	return NULL;
}

static void maybe_free(struct inode *in);

/* Removes one name from in's list (tbl held); drops the parent's reference. */
static void remove_name(struct name **pp)
{
	struct name *n = *pp;
	struct inode *parent = n->parent;
	*pp = n->next;
	free(n);
	parent->refs--;
	maybe_free(parent);
}

static void maybe_free(struct inode *in)
{
	if (in == &fs.root || in->nlookup > 0 || in->refs > 0)
		return;
	struct inode **pp = &buckets[hash(in->dev, in->ino)];
	while (*pp != in)
		pp = &(*pp)->hnext;
	*pp = in->hnext;
	while (in->names)
		remove_name(&in->names);
	close(in->fd);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

static void add_name_locked(struct inode *in, struct inode *parent, const char *name)
{
	for (struct name *n = in->names; n; n = n->next)
		if (n->parent == parent && strcmp(n->name, name) == 0)
			return;
	size_t len = strlen(name);
	struct name *n = malloc(sizeof *n + len + 1);
	if (!n)
		return;
	memcpy(n->name, name, len + 1);
	n->parent = parent;
	parent->refs++;
	/* directories have one name: a new one replaces the old */
	if (S_ISDIR(in->type))
		while (in->names)
			remove_name(&in->names);
	n->next = in->names;
	in->names = n;
}

void ino_add_name(struct inode *in, struct inode *parent, const char *name)
{
	pthread_mutex_lock(&tbl);
	add_name_locked(in, parent, name);
	pthread_mutex_unlock(&tbl);
}

/* The inode known under (parent, name), found through the backing file system; tbl held. */
static struct inode *child_locked(struct inode *parent, const char *name)
{
	struct stat st;
	if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) < 0)
		return NULL;
	return find(st.st_dev, st.st_ino);
}

struct inode *ino_find_child(struct inode *parent, const char *name)
{
	pthread_mutex_lock(&tbl);
	struct inode *in = child_locked(parent, name);
	pthread_mutex_unlock(&tbl);
	return in;
}

static void drop_name_locked(struct inode *in, struct inode *parent, const char *name)
{
	for (struct name **pp = &in->names; *pp; pp = &(*pp)->next) {
		if ((*pp)->parent == parent && strcmp((*pp)->name, name) == 0) {
			remove_name(pp);
			return;
		}
	}
}

/* unlinkat under the table lock, dropping the name when it succeeds; returns 0 or -errno. */
int ino_unlink(struct inode *parent, const char *name, int flags)
{
	pthread_mutex_lock(&tbl);
	struct inode *in = child_locked(parent, name);
	int r = unlinkat(parent->fd, name, flags) < 0 ? -errno : 0;
	if (r == 0 && in)
		drop_name_locked(in, parent, name);
	pthread_mutex_unlock(&tbl);
	return r;
}

/* renameat2 under the table lock, moving the names when it succeeds. Returns 1 when the rename
 * did nothing (both names were links to one file), 0 when done, -errno on failure. */
int ino_rename(struct inode *oldp, const char *oldn, struct inode *newp, const char *newn, unsigned flags)
{
	int exchange = (flags & RENAME_EXCHANGE) != 0;
	pthread_mutex_lock(&tbl);
	struct inode *moved = child_locked(oldp, oldn);
	struct inode *target = child_locked(newp, newn);
	int r = renameat2(oldp->fd, oldn, newp->fd, newn, flags) < 0 ? -errno : 0;
	if (r == 0 && moved && moved == target && !exchange) {
		r = 1;
	} else if (r == 0) {
		if (target)
			drop_name_locked(target, newp, newn);
		if (moved)
			drop_name_locked(moved, oldp, oldn);
		if (moved)
			add_name_locked(moved, newp, newn);
		if (target && exchange)
			add_name_locked(target, oldp, oldn);
	}
	pthread_mutex_unlock(&tbl);
	return r;
}

int ino_lookup(struct inode *parent, const char *name, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof *e);
	e->attr_timeout = fs.timeout;
	e->entry_timeout = fs.timeout;
	int fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	pthread_mutex_lock(&tbl);
	struct inode *in = find(e->attr.st_dev, e->attr.st_ino);
	if (in) {
		close(fd);
	} else {
		in = calloc(1, sizeof *in);
		if (!in) {
			pthread_mutex_unlock(&tbl);
			close(fd);
			return -ENOMEM;
		}
		in->fd = fd;
		in->dev = e->attr.st_dev;
		in->ino = e->attr.st_ino;
		in->type = e->attr.st_mode & S_IFMT;
		pthread_mutex_init(&in->lock, NULL);
		unsigned h = hash(in->dev, in->ino);
		in->hnext = buckets[h];
		buckets[h] = in;
	}
	in->nlookup++;
	add_name_locked(in, parent, name);
	pthread_mutex_unlock(&tbl);
	e->ino = ino_id(in);
	return 0;
}

void ino_forget(struct inode *in, uint64_t n)
{
	if (in == &fs.root)
		return;
	pthread_mutex_lock(&tbl);
	in->nlookup = n >= in->nlookup ? 0 : in->nlookup - n;
	maybe_free(in);
	pthread_mutex_unlock(&tbl);
}

static int path_locked(struct inode *in, char *buf, size_t size, int depth)
{
	if (in == &fs.root) {
		buf[0] = '\0';
		return 0;
	}
	if (!in->names || depth > 4096)
		return -ENOENT;
	struct name *n = in->names;
	int r = path_locked(n->parent, buf, size, depth + 1);
	if (r < 0)
		return r;
	size_t used = strlen(buf), len = strlen(n->name);
	if (used + len + 2 > size)
		return -ENAMETOOLONG;
	if (used > 0)
		buf[used++] = '/';
	memcpy(buf + used, n->name, len + 1);
	return 0;
}

int ino_path(struct inode *in, char *buf, size_t size)
{
	pthread_mutex_lock(&tbl);
	int r = path_locked(in, buf, size, 0);
	pthread_mutex_unlock(&tbl);
	return r;
}

int ino_child_path(struct inode *parent, const char *name, char *buf, size_t size)
{
	int r = ino_path(parent, buf, size);
	if (r < 0)
		return r;
	size_t used = strlen(buf), len = strlen(name);
	if (used + len + 2 > size)
		return -ENAMETOOLONG;
	if (used > 0)
		buf[used++] = '/';
	memcpy(buf + used, name, len + 1);
	return 0;
}


/* A reference that keeps in allocated (the dirty-times list holds one). */
void ino_ref(struct inode *in)
{
	pthread_mutex_lock(&tbl);
	in->refs++;
	pthread_mutex_unlock(&tbl);
}

void ino_unref(struct inode *in)
{
	pthread_mutex_lock(&tbl);
	in->refs--;
	maybe_free(in);
	pthread_mutex_unlock(&tbl);
}

/* True when in has a known name (it is still linked in the tree as far as we know). */
int ino_named(struct inode *in)
{
	pthread_mutex_lock(&tbl);
	int r = in == &fs.root || in->names != NULL;
	pthread_mutex_unlock(&tbl);
	return r;
}
