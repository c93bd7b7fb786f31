/* The FUSE device's reads and writes, through libfuse's custom-io hooks, for what libfuse 3.14
 * cannot negotiate or pass on: FUSE_HANDLE_KILLPRIV_V2.
 *
 * Why: without it the kernel asks for security.capability (a GETXATTR round trip) before every
 * write(2), to learn whether the write must drop file capabilities; that doubles the round trips
 * of small writes. With HANDLE_KILLPRIV_V2 the kernel marks the superblock SB_NOSEC and, once it
 * found an inode clean, marks it S_NOSEC and stops asking; in exchange the file system kills
 * suid/sgid itself when a write, a truncate or an O_TRUNC open says so (FUSE_WRITE_KILL_SUIDGID,
 * FATTR_KILL_SUIDGID, FUSE_OPEN_KILL_SUIDGID: the caller lacks CAP_FSETID). libfuse 3.14 neither
 * offers the flag nor passes those bits, so: the INIT reply gets the flag added here when the
 * kernel offered it, and each worker thread notes the kill bit of the request it read (libfuse's
 * workers read a request and serve it on the same thread) for io_kill_suidgid(). Capabilities need
 * nothing: the kernel still removes security.capability through us (a recorded REMOVEXATTR) on an
 * inode's first write, and a security.* setxattr clears S_NOSEC. RILL_FUSE_KILLPRIV_V2=0 turns it off. */
#include "rillfs.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static __thread int tls_kill;       /* the request this thread serves asks to kill suid/sgid */
static __thread int tls_init;       /* this thread read INIT: its next reply is INIT's */
static __thread int tls_init_offer; /* ... and the kernel offered HANDLE_KILLPRIV_V2 */
static int killpriv_v2;

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)userdata;
	ssize_t n = read(fd, buf, len);
	tls_kill = 0;
	if (n < (ssize_t)sizeof(struct fuse_in_header))
		return n;
	struct fuse_in_header h;
	memcpy(&h, buf, sizeof h);
	const char *arg = (const char *)buf + sizeof h;
	size_t alen = (size_t)n - sizeof h;
	uint32_t v;
	switch (h.opcode) {
	case FUSE_INIT:
		if (alen >= offsetof(struct fuse_init_in, flags) + sizeof v) {
			memcpy(&v, arg + offsetof(struct fuse_init_in, flags), sizeof v);
			tls_init = 1;
			tls_init_offer = (v & FUSE_HANDLE_KILLPRIV_V2) != 0;
		}
		break;
	case FUSE_WRITE:
		if (alen >= offsetof(struct fuse_write_in, write_flags) + sizeof v) {
			memcpy(&v, arg + offsetof(struct fuse_write_in, write_flags), sizeof v);
			tls_kill = (v & FUSE_WRITE_KILL_SUIDGID) != 0;
		}
		break;
	case FUSE_SETATTR:
		if (alen >= offsetof(struct fuse_setattr_in, valid) + sizeof v) {
			memcpy(&v, arg + offsetof(struct fuse_setattr_in, valid), sizeof v);
			tls_kill = (v & FATTR_KILL_SUIDGID) != 0;
		}
		break;
	case FUSE_OPEN:
		if (alen >= offsetof(struct fuse_open_in, open_flags) + sizeof v) {
			memcpy(&v, arg + offsetof(struct fuse_open_in, open_flags), sizeof v);
			tls_kill = (v & FUSE_OPEN_KILL_SUIDGID) != 0;
		}
		break;
	case FUSE_CREATE:
		if (alen >= offsetof(struct fuse_create_in, open_flags) + sizeof v) {
			memcpy(&v, arg + offsetof(struct fuse_create_in, open_flags), sizeof v);
			tls_kill = (v & FUSE_OPEN_KILL_SUIDGID) != 0;
		}
		break;
	}
	return n;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	if (tls_init && count == 2 && iov[0].iov_len >= sizeof(struct fuse_out_header)) {
		/* INIT's reply: the flag added to a copy (libfuse's is its own) */
		tls_init = 0;
		struct fuse_out_header oh;
		memcpy(&oh, iov[0].iov_base, sizeof oh);
		const char *off = getenv("RILL_FUSE_KILLPRIV_V2");
		struct fuse_init_out out;
		if (oh.error == 0 && tls_init_offer && !(off && strcmp(off, "0") == 0) &&
		    iov[1].iov_len >= offsetof(struct fuse_init_out, flags) + sizeof out.flags && iov[1].iov_len <= sizeof out) {
			memcpy(&out, iov[1].iov_base, iov[1].iov_len);
			out.flags |= FUSE_HANDLE_KILLPRIV_V2;
			struct iovec v[2] = { iov[0], { &out, iov[1].iov_len } };
			ssize_t r = writev(fd, v, 2);
			if (r >= 0)
				killpriv_v2 = 1;
			return r;
		}
	}
	return writev(fd, iov, count);
}

static ssize_t io_splice_send(int fdin, off_t *offin, int fdout, off_t *offout, size_t len, unsigned int flags, void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, len, flags);
}

int io_init(struct fuse_session *se)
{
	static const struct fuse_custom_io io = { .read = io_read, .writev = io_writev, .splice_send = io_splice_send };
	return fuse_session_custom_io(se, &io, fuse_session_fd(se));
}

int io_kill_suidgid(void)
{
	return killpriv_v2 && tls_kill;
}

/* The kernel asked us to kill suid/sgid (the caller lacks CAP_FSETID; we act as root, so the
 * backing file system would not): as the kernel would, suid always, sgid when group-executable.
 * The caller holds the inode's order; the new mode is recorded. */
void kill_suidgid(struct inode *in, int fd)
{
	struct stat st;
	if (!io_kill_suidgid())
		return;
	if ((fd >= 0 ? fstat(fd, &st) : fstatat(in->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) < 0 || !S_ISREG(st.st_mode))
		return;
	mode_t mode = st.st_mode & 07777;
	mode_t want = mode & ~(mode_t)S_ISUID;
	if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		want &= ~(mode_t)S_ISGID;
	if (want == mode)
		return;
	char p[64];
	proc_path(p, sizeof p, in->fd);
	if ((fd >= 0 ? fchmod(fd, want) : chmod(p, want)) == 0) {
		rec_path(REC_CHMOD, in, want, 0, NULL, 0);
		/* the kernel would keep showing the old mode until its attribute cache expires */
		fuse_lowlevel_notify_inval_inode(fs.se, ino_id(in), -1, 0);
	}
}
