/* Lookup, forget, attributes: getattr, setattr (chmod/chown/truncate/utimens), statfs, readlink. */
#include "rillfs.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	lookup_begin();
	int r = ino_lookup(ino_of(parent), name, &e);
	lookup_end();
	if (r == -ENOENT) {
		/* a negative entry the kernel may cache: every creation comes through us */
		e.ino = 0;
		e.entry_timeout = fs.timeout;
		fuse_reply_entry(req, &e);
	} else if (r < 0) {
		fuse_reply_err(req, -r);
	} else {
		fuse_reply_entry(req, &e);
	}
}

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	ino_forget(ino_of(ino), nlookup);
	fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		ino_forget(ino_of(forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	if (fstatat(ino_of(ino)->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_attr(req, &st, fs.timeout);
}

static int set_times(struct inode *in, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct timespec tv[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;
	if (fi)
		return futimens((int)fi->fh, tv);
	if (S_ISLNK(in->type))
		return utimensat(in->fd, "", tv, AT_EMPTY_PATH);
	char p[64];
	proc_path(p, sizeof p, in->fd);
	return utimensat(AT_FDCWD, p, tv, 0);
}

/* The backing calls for one setattr; returns 0 or errno. */
static int apply_setattr(struct inode *in, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	char p[64];
	proc_path(p, sizeof p, in->fd);
	if (to_set & FUSE_SET_ATTR_MODE) {
		if ((fi ? fchmod((int)fi->fh, attr->st_mode) : chmod(p, attr->st_mode)) < 0)
			return errno;
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t u = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t g = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
		if (fchownat(in->fd, "", u, g, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return errno;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if ((fi ? ftruncate((int)fi->fh, attr->st_size) : truncate(p, attr->st_size)) < 0)
			return errno;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW)) {
		if (set_times(in, attr, to_set, fi) < 0)
			return errno;
	}
	return 0;
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct inode *in = ino_of(ino);
	struct stat st;
	/* a directory's handle is our struct dir, not a descriptor: go by the inode instead */
	if (!S_ISREG(in->type))
		fi = NULL;
	data_begin(in);
	int err = apply_setattr(in, attr, to_set, fi);
	if (!err && (to_set & FUSE_SET_ATTR_SIZE) && S_ISREG(in->type))
		kill_suidgid(in, fi ? (int)fi->fh : -1);
	/* even a partial failure may have changed something: record what the file now is */
	int got = fstatat(in->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0;
	if (got && (to_set & FUSE_SET_ATTR_SIZE))
		rec_path(REC_TRUNCATE, in, (uint64_t)st.st_size, 0, NULL, 0);
	if (got && (to_set & FUSE_SET_ATTR_MODE))
		rec_path(REC_CHMOD, in, st.st_mode & 07777, 0, NULL, 0);
	if (got && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
		rec_path(REC_CHOWN, in, st.st_uid, st.st_gid, NULL, 0);
		/* chown may have cleared setuid/setgid bits */
		rec_path(REC_CHMOD, in, st.st_mode & 07777, 0, NULL, 0);
	}
	if (got)
		mark_dirty(in);
	data_end(in);
	if (err)
		fuse_reply_err(req, err);
	else if (!got)
		fuse_reply_err(req, errno);
	else
		fuse_reply_attr(req, &st, fs.timeout);
}

void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	if (fstatvfs(ino_of(ino)->fd, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[PATH_MAX + 1];
	ssize_t n = readlinkat(ino_of(ino)->fd, "", buf, sizeof buf);
	if (n < 0)
		fuse_reply_err(req, errno);
	else if ((size_t)n >= sizeof buf)
		fuse_reply_err(req, ENAMETOOLONG);
	else {
		buf[n] = '\0';
		fuse_reply_readlink(req, buf);
	}
}
