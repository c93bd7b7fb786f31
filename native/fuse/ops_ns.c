/* Namespace operations: mkdir, mknod, symlink, link, unlink, rmdir, rename. Each holds the
 * namespace lock exclusively from the backing call until its record is written. */
#include "rillfs.h"
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum make_kind { MAKE_DIR, MAKE_NODE, MAKE_SYMLINK };

struct make {
	enum make_kind kind;
	mode_t mode;
	dev_t rdev;
	const char *target;
};

static int make_backing(struct inode *dir, const char *name, const struct make *m)
{
	switch (m->kind) {
	case MAKE_DIR:
		return mkdirat(dir->fd, name, m->mode);
	case MAKE_NODE:
		return mknodat(dir->fd, name, m->mode, m->rdev);
	default:
		return symlinkat(m->target, dir->fd, name);
	}
}

static void record_make(struct inode *dir, const char *name, const struct make *m, const struct stat *st)
{
	char path[PATH_BUF];
	if (ino_child_path(dir, name, path, sizeof path) < 0)
		return;
	struct rec_str s[2] = { { path, strlen(path) }, { m->target, m->target ? strlen(m->target) : 0 } };
	if (m->kind == MAKE_DIR)
		rec_emit(REC_MKDIR, REC_F_DIR, st->st_mode & 07777, 0, s, 1, NULL, 0);
	else if (m->kind == MAKE_NODE)
		rec_emit(REC_MKNOD, 0, st->st_mode, st->st_rdev, s, 1, NULL, 0);
	else
		rec_emit(REC_SYMLINK, 0, 0, 0, s, 2, NULL, 0);
	emit_owner(dir, name, st);
}

static void make_entry(fuse_req_t req, fuse_ino_t parent, const char *name, const struct make *m)
{
	struct inode *dir = ino_of(parent);
	struct fuse_entry_param e;
	struct creds saved;
	ns_begin();
	creds_enter(req, &saved);
	int r = make_backing(dir, name, m) < 0 ? -errno : 0;
	creds_leave(&saved);
	if (r == 0)
		r = ino_lookup(dir, name, &e);
	if (r == 0) {
		record_make(dir, name, m, &e.attr);
		mark_dirty(dir);
		mark_dirty(ino_of(e.ino));
	}
	ns_end();
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (fuse_reply_entry(req, &e) == -ENOENT)
		ino_forget(ino_of(e.ino), 1);
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct make m = { MAKE_DIR, mode, 0, NULL };
	make_entry(req, parent, name, &m);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct make m = { MAKE_NODE, mode, rdev, NULL };
	make_entry(req, parent, name, &m);
}

void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct make m = { MAKE_SYMLINK, 0, 0, link };
	make_entry(req, parent, name, &m);
}

void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct inode *in = ino_of(ino), *dir = ino_of(newparent);
	struct fuse_entry_param e;
	char p[64], existing[PATH_BUF], path[PATH_BUF];
	proc_path(p, sizeof p, in->fd);
	ns_begin();
	int known = ino_path(in, existing, sizeof existing) == 0;
	int r = linkat(AT_FDCWD, p, dir->fd, newname, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
	if (r == 0)
		r = ino_lookup(dir, newname, &e);
	if (r == 0 && ino_child_path(dir, newname, path, sizeof path) == 0) {
		struct rec_str s[2] = { { path, strlen(path) }, { existing, strlen(existing) } };
		if (known)
			rec_emit(REC_LINK, 0, 0, 0, s, 2, NULL, 0);
		else
			rec_emit(REC_LOST, 0, ENOENT, 0, s, 1, NULL, 0);
		mark_dirty(dir);
	}
	ns_end();
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (fuse_reply_entry(req, &e) == -ENOENT)
		ino_forget(ino_of(e.ino), 1);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name, int op)
{
	struct inode *dir = ino_of(parent);
	char path[PATH_BUF];
	ns_begin();
	int named = ino_child_path(dir, name, path, sizeof path) == 0;
	int r = ino_unlink(dir, name, op == REC_RMDIR ? AT_REMOVEDIR : 0);
	if (r == 0) {
		struct rec_str s = { path, named ? strlen(path) : 0 };
		if (named)
			rec_emit(op, op == REC_RMDIR ? REC_F_DIR : 0, 0, 0, &s, 1, NULL, 0);
		else
			rec_emit(REC_LOST, 0, ENOENT, 0, &s, 1, NULL, 0);
		mark_dirty(dir);
	}
	ns_end();
	fuse_reply_err(req, -r);
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, REC_UNLINK);
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, REC_RMDIR);
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct inode *from = ino_of(parent), *to = ino_of(newparent);
	char a[PATH_BUF], b[PATH_BUF];
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	ns_begin();
	struct stat st;
	int isdir = fstatat(from->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
	int named = ino_child_path(from, name, a, sizeof a) == 0 && ino_child_path(to, newname, b, sizeof b) == 0;
	int r = ino_rename(from, name, to, newname, flags);
	if (r == 0) {
		struct rec_str s[2] = { { a, strlen(a) }, { b, strlen(b) } };
		uint16_t f = (flags & RENAME_NOREPLACE ? 1 : 0) | (flags & RENAME_EXCHANGE ? 2 : 0) | (isdir ? REC_F_DIR : 0);
		if (named)
			rec_emit(REC_RENAME, f, 0, 0, s, 2, NULL, 0);
		else
			rec_emit(REC_LOST, 0, ENOENT, 0, s, 1, NULL, 0);
		mark_dirty(from);
		mark_dirty(to);
	}
	ns_end();
	fuse_reply_err(req, r < 0 ? -r : 0);
}
