/* Extended attributes, through /proc/self/fd (O_PATH descriptors take no xattr calls). */
#include "rillfs.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/xattr.h>

void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags)
{
	struct inode *in = ino_of(ino);
	char p[64];
	proc_path(p, sizeof p, in->fd);
	data_begin(in);
	int r = setxattr(p, name, value, size, flags);
	int err = errno;
	if (r == 0)
		rec_path_name(REC_SETXATTR, in, name, 0, 0, value, size);
	data_end(in);
	fuse_reply_err(req, r < 0 ? err : 0);
}

void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct inode *in = ino_of(ino);
	char p[64];
	proc_path(p, sizeof p, in->fd);
	data_begin(in);
	int r = removexattr(p, name);
	int err = errno;
	if (r == 0)
		rec_path_name(REC_REMOVEXATTR, in, name, 0, 0, NULL, 0);
	data_end(in);
	fuse_reply_err(req, r < 0 ? err : 0);
}

/* getxattr/listxattr share their reply: size 0 asks for the size, else the bytes (name NULL: list). */
static void reply_xattr_query(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char p[64];
	proc_path(p, sizeof p, ino_of(ino)->fd);
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ssize_t n = name ? getxattr(p, name, buf, size) : listxattr(p, buf, size);
	if (n < 0)
		fuse_reply_err(req, errno);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	reply_xattr_query(req, ino, name, size);
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	reply_xattr_query(req, ino, NULL, size);
}
