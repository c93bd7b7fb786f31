/* Open files: open, create, read, write_buf, flush, release, fsync, fallocate, lseek.
 * flock and POSIX locks are kept by the kernel for the mount (see op_init in main.c). */
#include "rillfs.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Backing open flags: O_DIRECT is served by direct_io on the FUSE side and buffered below (FUSE's
 * buffers are not aligned for O_DIRECT); O_APPEND is dropped so a write lands at the offset the
 * kernel chose and the record names it (the kernel computes append offsets itself). */
static int backing_flags(int flags)
{
	flags = (flags & ~(O_DIRECT | O_APPEND | O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW)) | O_CLOEXEC;
	/* --writeback: the kernel reads the rest of a page before writing part of it back */
	if (fs.writeback_ms > 0 && (flags & O_ACCMODE) == O_WRONLY)
		flags = (flags & ~O_ACCMODE) | O_RDWR;
	return flags;
}

static void set_fi(struct fuse_file_info *fi, int fd, int flags)
{
	fi->fh = (uint64_t)fd;
	fi->direct_io = (flags & O_DIRECT) != 0;
}

void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct inode *in = ino_of(ino);
	char p[64];
	proc_path(p, sizeof p, in->fd);
	int trunc = (fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY;
	if (trunc)
		data_begin(in);
	int fd = open(p, backing_flags(fi->flags));
	int err = errno;
	if (trunc) {
		if (fd >= 0) {
			rec_path(REC_TRUNCATE, in, 0, 0, NULL, 0);
			kill_suidgid(in, fd);
			mark_dirty(in);
		}
		data_end(in);
	}
	if (fd < 0) {
		fuse_reply_err(req, err);
		return;
	}
	set_fi(fi, fd, fi->flags);
	if (fuse_reply_open(req, fi) == -ENOENT)
		close(fd);
	else
		wb_opened(in, fi->flags);
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	struct inode *dir = ino_of(parent);
	struct fuse_entry_param e;
	struct creds saved;
	int made = 1;
	ns_begin();
	creds_enter(req, &saved);
	int fd = openat(dir->fd, name, backing_flags(fi->flags) | O_NOFOLLOW | O_CREAT | O_EXCL, mode);
	if (fd < 0 && errno == EEXIST && !(fi->flags & O_EXCL)) {
		made = 0;
		fd = openat(dir->fd, name, backing_flags(fi->flags) | O_NOFOLLOW, mode);
	}
	int err = errno;
	creds_leave(&saved);
	int r = fd < 0 ? -err : ino_lookup(dir, name, &e);
	if (r == 0) {
		struct inode *in = ino_of(e.ino);
		if (made) {
			char path[PATH_BUF];
			if (ino_child_path(dir, name, path, sizeof path) == 0) {
				struct rec_str s = { path, strlen(path) };
				rec_emit(REC_CREATE, 0, e.attr.st_mode & 07777, 0, &s, 1, NULL, 0);
				emit_owner(dir, name, &e.attr);
			}
			mark_dirty(dir);
		} else if (fi->flags & O_TRUNC) {
			rec_path(REC_TRUNCATE, in, 0, 0, NULL, 0);
			if ((fi->flags & O_ACCMODE) != O_RDONLY)
				kill_suidgid(in, fd);
		}
		mark_dirty(in);
	}
	ns_end();
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		fuse_reply_err(req, -r);
		return;
	}
	set_fi(fi, fd, fi->flags);
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		close(fd);
		ino_forget(ino_of(e.ino), 1);
	} else {
		wb_opened(ino_of(e.ino), fi->flags);
	}
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = (int)fi->fh;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf, off_t off, struct fuse_file_info *fi)
{
	struct inode *in = ino_of(ino);
	size_t size = fuse_buf_size(in_buf);
	/* the bytes must be in memory anyway: they are written below and recorded. They usually are
	 * already (the request was read(2) into libfuse's buffer): then they are used where they lie. */
	char *mem = NULL, *data;
	ssize_t got;
	if (in_buf->count == 1 && in_buf->idx == 0 && in_buf->off == 0 && !(in_buf->buf[0].flags & FUSE_BUF_IS_FD)) {
		data = in_buf->buf[0].mem;
		got = (ssize_t)size;
	} else {
		mem = malloc(size ? size : 1);
		if (!mem) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		struct fuse_bufvec dst = FUSE_BUFVEC_INIT(size);
		dst.buf[0].mem = mem;
		got = fuse_buf_copy(&dst, in_buf, 0);
		if (got < 0) {
			free(mem);
			fuse_reply_err(req, (int)-got);
			return;
		}
		data = mem;
	}
	data_begin(in);
	ssize_t n = pwrite((int)fi->fh, data, (size_t)got, off);
	int err = errno;
	if (n > 0) {
#ifndef RILL_BENCH_NO_WRITE_RECORDS
		rec_path(REC_WRITE, in, (uint64_t)off, 0, data, (size_t)n);
#endif
		kill_suidgid(in, (int)fi->fh);
		mark_dirty(in);
	}
	data_end(in);
	free(mem);
	if (n < 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_write(req, (size_t)n);
}

void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	/* close a duplicate: reports deferred write errors (NFS-style) and drops POSIX locks of the owner */
	int fd = dup((int)fi->fh);
	int r = fd < 0 ? -1 : close(fd);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	close((int)fi->fh);
	wb_released(ino_of(ino), fi->flags);
	fuse_reply_err(req, 0);
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	int fd = (int)fi->fh;
	int r = datasync ? fdatasync(fd) : fsync(fd);
	int err = errno;
	if (r == 0)
		rec_commit();
	fuse_reply_err(req, r < 0 ? err : 0);
}

void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, struct fuse_file_info *fi)
{
	struct inode *in = ino_of(ino);
	struct stat before, after;
	data_begin(in);
	int okb = fstat((int)fi->fh, &before) == 0;
	int r = fallocate((int)fi->fh, mode, offset, length);
	int err = errno;
	if (r == 0 && okb && fstat((int)fi->fh, &after) == 0) {
		if (after.st_size != before.st_size)
			rec_path(REC_TRUNCATE, in, (uint64_t)after.st_size, 0, NULL, 0);
		if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
			off_t end = offset + length > after.st_size ? after.st_size : offset + length;
			if (end > offset)
				rec_path(REC_PUNCH, in, (uint64_t)offset, (uint64_t)(end - offset), NULL, 0);
		}
		mark_dirty(in);
	}
	data_end(in);
	fuse_reply_err(req, r < 0 ? err : 0);
}

void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
	(void)ino;
	off_t r = lseek((int)fi->fh, off, whence);
	if (r < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, r);
}

