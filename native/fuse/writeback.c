/* --writeback: the kernel's page cache on the mount (FUSE's writeback cache), for small writes at
 * nearly the backing file system's speed.
 *
 * Without it every write(2) is a round trip through this layer before it returns (exact: each call
 * recorded as made). With it write(2) fills the mount's page cache and returns; the kernel writes
 * the dirty pages back to us later as WRITE requests (coalesced, whole pages), and we record them
 * as we apply them to the backing file system, so the stream still follows the backing file
 * system's order: the replica passes through states the master's disk passed through. The kernel
 * writes back at every fsync (then the COMMIT), every close, and whenever it likes; so that the
 * replica trails by milliseconds, not by the kernel's 30 s, the flusher here calls syncfs(2) on the
 * mount every interval while a file is open for writing. A pause (freeze, bookmark) first flushes
 * everything written before it, then holds what comes back afterwards. The mount's dirty-page limit
 * (its backing device's max_bytes in sysfs) is raised to --dirty-max, or the kernel's default for
 * FUSE (1% of the dirty limit, strictly enforced) throttles writers to the old speed.
 *
 * Stopping: flush, detach the mount (no new opens), keep serving and flushing until the files still
 * open for writing are closed or WB_DRAIN_S passed, flush once more, then stop. Pages a still-open
 * file dirties after that are lost with the mount (its fsync/close fail): the stop says so. */
#include "rillfs.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define WB_DRAIN_S 5

/* Inodes with handles open for writing: the ones whose pages may be in the cache, unwritten. */
static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;
static struct inode **wl;
static size_t wn, wcap;

void wb_opened(struct inode *in, int flags)
{
	if (fs.writeback_ms <= 0 || (flags & O_ACCMODE) == O_RDONLY)
		return;
	pthread_mutex_lock(&wlock);
	if (in->wopen++ == 0) {
		if (wn == wcap) {
			size_t cap = wcap ? 2 * wcap : 64;
			struct inode **v = realloc(wl, cap * sizeof *v);
			if (!v) {
				/* not listed: only a pause's wait for its pages is lost, the periodic flush still covers it */
				in->wopen--;
				pthread_mutex_unlock(&wlock);
				return;
			}
			wl = v;
			wcap = cap;
		}
		ino_ref(in);
		wl[wn++] = in;
	}
	pthread_mutex_unlock(&wlock);
}

void wb_released(struct inode *in, int flags)
{
	if (fs.writeback_ms <= 0 || (flags & O_ACCMODE) == O_RDONLY)
		return;
	pthread_mutex_lock(&wlock);
	if (in->wopen > 0 && --in->wopen == 0) {
		for (size_t i = 0; i < wn; i++) {
			if (wl[i] == in) {
				wl[i] = wl[--wn];
				break;
			}
		}
		pthread_mutex_unlock(&wlock);
		ino_unref(in);
		return;
	}
	pthread_mutex_unlock(&wlock);
}

static long open_writers(void)
{
	pthread_mutex_lock(&wlock);
	long n = (long)wn;
	pthread_mutex_unlock(&wlock);
	return n;
}

/* Waits until the pages of every file open for writing have been written back to us (and so
 * recorded). syncfs(2) starts the writeback of the whole mount but, on kernels that stop waiting on
 * FUSE writeback in sync (a stuck server must not hang sync), may return before it is done; a close
 * of the file through the mount writes its pages back and waits for them (fuse_flush), so each such
 * file is opened and closed through the mount, by its path, relative to mfd (the mount's root). */
static void settle(int mfd)
{
	pthread_mutex_lock(&wlock);
	size_t n = wn;
	struct inode **v = n ? malloc(n * sizeof *v) : NULL;
	if (n && !v)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		v[i] = wl[i];
		ino_ref(v[i]);
	}
	pthread_mutex_unlock(&wlock);
	char path[PATH_BUF];
	for (size_t i = 0; i < n; i++) {
		if (ino_path(v[i], path, sizeof path) == 0 && path[0] != 0) {
			int fd = openat(mfd, path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0)
				close(fd);
		}
		ino_unref(v[i]);
	}
	free(v);
}

/* An fd on the mount (its root directory), for syncfs; -1 if it cannot be opened. Never call from a
 * worker thread: opening is a request the workers serve. */
static int mount_fd(void)
{
	return open(fs.mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int sync_fd(int fd)
{
	return syncfs(fd) == 0 ? 0 : -errno;
}

int wb_flush(int wait)
{
	if (fs.writeback_ms <= 0)
		return 0;
	int fd = mount_fd();
	if (fd < 0)
		return -errno;
	int r = sync_fd(fd);
	if (wait)
		settle(fd);
	close(fd);
	return r;
}

/* The mount's dirty-page limit: FUSE gives each mount 1% of the system's dirty limit, strictly
 * enforced; at that, writers wait for writeback after a few MiB. */
static void set_dirty_limit(int fd)
{
	struct stat st;
	if (fs.dirty_max == 0 || fstat(fd, &st) < 0)
		return;
	char p[128], v[32];
	snprintf(p, sizeof p, "/sys/class/bdi/%u:%u/max_bytes", major(st.st_dev), minor(st.st_dev));
	int n = snprintf(v, sizeof v, "%llu", (unsigned long long)fs.dirty_max);
	int f = open(p, O_WRONLY | O_CLOEXEC);
	if (f < 0 || write(f, v, (size_t)n) != n)
		fprintf(stderr, "rill-fuse: warning: cannot raise the mount's dirty-page limit (%s: %s): writes are cached up to the kernel's default for FUSE\n", p, strerror(errno));
	if (f >= 0)
		close(f);
	/* strictly enforced, the mount's share is throttled from half of it on; capped by max_bytes it
	 * cannot hold more of the system's dirty memory than that, stuck daemon or not */
	snprintf(p, sizeof p, "/sys/class/bdi/%u:%u/strict_limit", major(st.st_dev), minor(st.st_dev));
	f = open(p, O_WRONLY | O_CLOEXEC);
	if (f >= 0) {
		if (write(f, "0", 1) != 1)
			fprintf(stderr, "rill-fuse: warning: cannot relax the mount's dirty-page throttling (%s: %s)\n", p, strerror(errno));
		close(f);
	}
}

void *wb_thread(void *arg)
{
	(void)arg;
	int fd = mount_fd();
	if (fd < 0) {
		fprintf(stderr, "rill-fuse: warning: cannot open %s to flush its page cache: %s; writes reach the stream when the kernel writes them back (fsync, close, 30 s)\n", fs.mountpoint, strerror(errno));
		return NULL;
	}
	set_dirty_limit(fd);
	close(fd);
	struct timespec d = { fs.writeback_ms / 1000, (long)(fs.writeback_ms % 1000) * 1000000L };
	for (;;) {
		nanosleep(&d, NULL);
		if (open_writers() > 0)
			wb_flush(0);
	}
	return NULL;
}

/* Before stopping: what the page cache holds reaches the backing file system and the stream. */
void wb_drain(void)
{
	/* unmounted from outside: the kernel wrote the cache back when the last file closed */
	if (fs.writeback_ms <= 0 || fs.mount_id < 0 || mount_id_at(fs.mountpoint) != fs.mount_id)
		return;
	int fd = mount_fd();
	if (fd < 0) {
		fprintf(stderr, "rill-fuse: cannot open %s to flush its page cache before stopping: %s\n", fs.mountpoint, strerror(errno));
		return;
	}
	sync_fd(fd);
	detach_our_mount();
	struct timespec start, now, d = { 0, 20 * 1000000L };
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (open_writers() == 0 || now.tv_sec - start.tv_sec >= WB_DRAIN_S)
			break;
		sync_fd(fd);
		nanosleep(&d, NULL);
	}
	sync_fd(fd);
	settle(fd);
	long left = open_writers();
	if (left > 0)
		fprintf(stderr, "rill-fuse: %ld file(s) still open for writing on %s after %d s: what they write from now on is not recorded and fails at their fsync or close; resync the replica with rill capture --scan\n",
			left, fs.mountpoint, WB_DRAIN_S);
	close(fd);
}
