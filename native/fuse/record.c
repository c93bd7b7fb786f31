/* Records on the pipe to Node (format: rillfs.h). One writer at a time, whole records only; a
 * broken pipe ends the layer (rec_fatal) so no change is ever applied without being recorded. */
#include "rillfs.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t out = PTHREAD_MUTEX_INITIALIZER;

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void rec_fatal(const char *why, int err)
{
	fprintf(stderr, "rill-fuse: %s: %s; unmounting %s so applications see errors instead of unrecorded changes\n",
		why, strerror(err), fs.mountpoint);
	detach_our_mount();
	_exit(3);
}

/* Room for records in the channel to Node (1 MiB; a socket doubles it for its overhead), so a
 * writer's reply waits for the kernel to take its record, not for Node to read it, and a 1 MiB write
 * fits. More would loosen backpressure: what sits in the channel is outside --journal-max. The
 * channel is a socketpair when Node spawned us (libuv's stdio pipes are), a pipe otherwise. Either
 * way a record is in the kernel, in order, before we reply. */
void rec_buffer_init(void)
{
	const char *env = getenv("RILL_FUSE_RECBUF");
	int size = env ? atoi(env) : 1024 * 1024;
	if (size < 65536)
		size = 65536;
	if (setsockopt(fs.rec_fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0 &&
	    setsockopt(fs.rec_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) < 0 &&
	    fcntl(fs.rec_fd, F_SETPIPE_SZ, size) < 0)
		fcntl(fs.rec_fd, F_SETPIPE_SZ, 1024 * 1024);
}

/* writev until everything is out (pipes may take a large record in pieces). */
static int write_all(struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t n = writev(fs.rec_fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int rec_emit(int op, uint16_t flags, uint64_t a, uint64_t b, const struct rec_str *strs, int nstr, const void *payload, size_t plen)
{
	unsigned char fixed[REC_FIXED];
	unsigned char lens[2][4];
	struct iovec iov[6];
	int cnt = 0;
	size_t total = REC_FIXED + plen;
	for (int i = 0; i < nstr; i++)
		total += 4 + strs[i].n;
	if (total > UINT32_MAX)
		return -EFBIG;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	put32(fixed, (uint32_t)total);
	fixed[4] = (unsigned char)op;
	fixed[5] = (unsigned char)nstr;
	fixed[6] = (unsigned char)(flags & 0xff);
	fixed[7] = (unsigned char)(flags >> 8);
	put64(fixed + 8, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
	put64(fixed + 16, a);
	put64(fixed + 24, b);
	put64(fixed + 32, 0);
	iov[cnt++] = (struct iovec){ fixed, REC_FIXED };
	for (int i = 0; i < nstr; i++) {
		put32(lens[i], (uint32_t)strs[i].n);
		iov[cnt++] = (struct iovec){ lens[i], 4 };
		iov[cnt++] = (struct iovec){ (void *)strs[i].p, strs[i].n };
	}
	int ring = op == REC_WRITE && ring_takes(plen);
	if (ring) {
		fixed[6] |= REC_F_RING & 0xff;
		fixed[7] |= REC_F_RING >> 8;
		put32(fixed, (uint32_t)(total - plen));
		put64(fixed + 24, plen);
	} else if (plen > 0) {
		iov[cnt++] = (struct iovec){ (void *)payload, plen };
	}
	pthread_mutex_lock(&out);
	if (ring)
		put64(fixed + 32, ring_put(payload, plen));
	int r = write_all(iov, cnt);
	pthread_mutex_unlock(&out);
	if (r < 0)
		rec_fatal("the record pipe to rill capture broke", -r);
	return r;
}

/* The path of in, or why there is none: 1 = unlinked (nothing to record), <0 = unknown. */
static int path_or_gone(struct inode *in, char *buf, size_t size)
{
	int r = ino_path(in, buf, size);
	if (r == 0)
		return 0;
	struct stat st;
	if (fstatat(in->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 && st.st_nlink == 0)
		return 1;
	return r;
}

static void lost(int err)
{
	struct rec_str s = { "", 0 };
	rec_emit(REC_LOST, 0, (uint64_t)-err, 0, &s, 1, NULL, 0);
}

int rec_path(int op, struct inode *in, uint64_t a, uint64_t b, const void *payload, size_t plen)
{
	return rec_path_name(op, in, NULL, a, b, payload, plen);
}

/* A record naming a string after the path (xattr name, e.g. SETXATTR), or none (name NULL). */
int rec_path_name(int op, struct inode *in, const char *name, uint64_t a, uint64_t b, const void *payload, size_t plen)
{
	char path[PATH_BUF];
	int r = path_or_gone(in, path, sizeof path);
	if (r == 1)
		return 0;
	if (r < 0) {
		lost(r);
		return 0;
	}
	struct rec_str s[2] = { { path, strlen(path) }, { name ? name : "", name ? strlen(name) : 0 } };
	return rec_emit(op, S_ISDIR(in->type) ? REC_F_DIR : 0, a, b, s, name ? 2 : 1, payload, plen);
}

/* After a creation: the owner it got (the caller's, or the setgid directory's group). */
void emit_owner(struct inode *parent, const char *name, const struct stat *st)
{
	char path[PATH_BUF];
	if (ino_child_path(parent, name, path, sizeof path) < 0)
		return;
	struct rec_str s = { path, strlen(path) };
	rec_emit(REC_CHOWN, S_ISDIR(st->st_mode) ? REC_F_DIR : 0, st->st_uid, st->st_gid, &s, 1, NULL, 0);
}

void proc_path(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

static pthread_mutex_t ack_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ack_cv = PTHREAD_COND_INITIALIZER;
static uint64_t commits; /* tokens handed out */
static uint64_t acked;   /* highest token Node acknowledged */

void rec_commit(void)
{
	uint64_t token = __atomic_add_fetch(&commits, 1, __ATOMIC_SEQ_CST);
	rec_emit(REC_COMMIT, 0, token, 0, NULL, 0, NULL, 0);
	if (!fs.fsync_acks)
		return;
	/* if Node dies meanwhile, fd 0 ends and the layer exits: the application's fsync fails */
	pthread_mutex_lock(&ack_lock);
	while (acked < token)
		pthread_cond_wait(&ack_cv, &ack_lock);
	pthread_mutex_unlock(&ack_lock);
}

void rec_acked(uint64_t token)
{
	pthread_mutex_lock(&ack_lock);
	if (token > acked)
		acked = token;
	pthread_cond_broadcast(&ack_cv);
	pthread_mutex_unlock(&ack_lock);
}
