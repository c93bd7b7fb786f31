/* rill-fuse ROOT [MOUNTPOINT]: open ROOT, mount the passthrough over MOUNTPOINT (default ROOT
 * itself), serve with several threads, and write records to fd 3 (format and commands: rillfs.h).
 * Exit codes: 0 unmounted cleanly, 2 usage, 3 the record pipe broke, 5 ROOT or the mount failed. */
#include "rillfs.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

struct rillfs fs;

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write_buf = op_write_buf,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.create = op_create,
	.fallocate = op_fallocate,
	.lseek = op_lseek,
};

void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_write = 1024 * 1024;
	/* every write comes to us as it is made, unless --writeback asks for the page cache (writeback.c) */
	if (fs.writeback_ms > 0 && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else
		conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	/* locks are kept by the kernel for the mount: all users of ROOT go through it */
	conn->want &= ~(unsigned)(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	/* not v1 (the kernel then clears setuid/setgid with a setattr we record); io.c adds
	 * HANDLE_KILLPRIV_V2 to the INIT reply, which libfuse 3.14 cannot ask for: no
	 * security.capability GETXATTR before every write, and suid/sgid killed here when asked */
	conn->want &= ~(unsigned)FUSE_CAP_HANDLE_KILLPRIV;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
}

/* Stops serving: no mutation in flight, times flushed, unmounted, exit. */
/* set once a stop began: the loop then ends because we unmounted, not because someone else did */
static int stopping;

static void shutdown_now(int code)
{
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	__atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&once);
	wb_drain();
	pause_mutations();
	/* not fuse_session_unmount: when our mount is already gone it may detach what lies below */
	detach_our_mount();
	close(fs.rec_fd);
	_exit(code);
}

static void mark(unsigned long long token, int state)
{
	rec_emit(REC_MARK, 0, token, (uint64_t)state, NULL, 0, NULL, 0);
}

void *command_thread(void *arg)
{
	(void)arg;
	FILE *in = fdopen(0, "r");
	char line[128];
	while (in && fgets(line, sizeof line, in)) {
		unsigned long long token = 0;
		char cmd = 0;
		if (sscanf(line, "%c %llu", &cmd, &token) != 2)
			continue;
		if (cmd == 'P') {
			/* --writeback: what was written before the pause reaches us before the cut */
			wb_flush(1);
			pause_mutations();
			mark(token, 1);
		} else if (cmd == 'R') {
			mark(token, 0);
			resume_mutations();
		} else if (cmd == 'F') {
			flush_times();
			mark(token, 2);
		} else if (cmd == 'A') {
			rec_acked(token);
		}
	}
	/* Node closed our stdin: it is stopping (or gone) */
	shutdown_now(0);
	return NULL;
}

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig = 0;
	sigwait(set, &sig);
	shutdown_now(0);
	return NULL;
}

static int fail(int code, const char *what, const char *path)
{
	fprintf(stderr, "rill-fuse: %s %s: %s\n", what, path, strerror(errno));
	return code;
}

/* Options before ROOT: --writeback MS (page cache, flushed every MS), --dirty-max BYTES, --fsync-acks,
 * --ring-fd FD (the payload ring Node made). */
static int options(int *argc, char ***argv)
{
	while (*argc >= 3 && strncmp((*argv)[1], "--", 2) == 0) {
		if (strcmp((*argv)[1], "--fsync-acks") == 0) {
			fs.fsync_acks = 1;
			(*argv)[1] = (*argv)[0];
			*argv += 1;
			*argc -= 1;
			continue;
		}
		char *end;
		unsigned long long v = strtoull((*argv)[2], &end, 10);
		if (*end != 0)
			return -1;
		if (strcmp((*argv)[1], "--writeback") == 0 && v > 0 && v <= 3600000)
			fs.writeback_ms = (long)v;
		else if (strcmp((*argv)[1], "--dirty-max") == 0)
			fs.dirty_max = v;
		else if (strcmp((*argv)[1], "--ring-fd") == 0 && v > 2 && v < 1024)
			fs.ring_fd = (int)v;
		else
			return -1;
		(*argv)[2] = (*argv)[0];
		*argv += 2;
		*argc -= 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (options(&argc, &argv) < 0 || argc < 2 || argc > 3) {
		fprintf(stderr, "usage: rill-fuse [--writeback MS [--dirty-max BYTES]] [--fsync-acks] [--ring-fd FD] ROOT [MOUNTPOINT]  (records on fd 3, commands on fd 0; started by rill capture --mount)\n");
		return 2;
	}
#ifdef RILL_BENCH_NO_WRITE_RECORDS
	fprintf(stderr, "rill-fuse-bare: a benchmark build that records no write data: never capture with it\n");
#endif
	fs.mountpoint = argc == 3 ? argv[2] : argv[1];
	fs.rec_fd = 3;
	fs.timeout = 1.0;
	fs.mount_id = -1;
	if (fcntl(fs.rec_fd, F_GETFD) < 0) {
		fprintf(stderr, "rill-fuse: fd 3 (the record pipe) is not open: run me through rill capture --mount\n");
		return 2;
	}
	rec_buffer_init();
	if (fs.ring_fd > 0) {
		int r = ring_init(fs.ring_fd);
		if (r < 0)
			fprintf(stderr, "rill-fuse: warning: cannot map the payload ring (fd %d): %s; all write data goes through the record channel\n", fs.ring_fd, strerror(-r));
	}
	fs.root_fd = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs.root_fd < 0)
		return fail(5, "cannot open the root", argv[1]);
	struct stat st;
	if (fstat(fs.root_fd, &st) < 0)
		return fail(5, "cannot stat the root", argv[1]);
	fs.root.fd = fs.root_fd;
	fs.root.dev = st.st_dev;
	fs.root.ino = st.st_ino;
	fs.root.type = S_IFDIR;
	ino_table_init();
	order_init();
	umask(0);

	char fsname[64 + PATH_BUF];
	snprintf(fsname, sizeof fsname, "-ofsname=rill:%s,subtype=rill,default_permissions%s", argv[1], getuid() == 0 ? ",allow_other" : "");
	char *fargv[] = { argv[0], fsname, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(2, fargv);
	fs.se = fuse_session_new(&args, &ops, sizeof ops, NULL);
	if (!fs.se) {
		fprintf(stderr, "rill-fuse: cannot create the FUSE session\n");
		return 5;
	}
	/* signals go to one thread; the workers never see them */
	static sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (fuse_session_mount(fs.se, fs.mountpoint) != 0) {
		fprintf(stderr, "rill-fuse: cannot mount on %s (is /dev/fuse there, and are you root or is fusermount3 installed?)\n", fs.mountpoint);
		return 5;
	}
	note_our_mount();
	if (io_init(fs.se) != 0) {
		fprintf(stderr, "rill-fuse: cannot set up the FUSE device's I/O\n");
		detach_our_mount();
		return 5;
	}
	pthread_t t;
	pthread_create(&t, NULL, signal_thread, &set);
	pthread_create(&t, NULL, command_thread, NULL);
	pthread_create(&t, NULL, flusher_thread, NULL);
	if (fs.writeback_ms > 0)
		pthread_create(&t, NULL, wb_thread, NULL);
	struct rec_str s = { fs.mountpoint, strlen(fs.mountpoint) };
	rec_emit(REC_READY, 0, (uint64_t)getpid(), (uint64_t)fs.root_fd, &s, 1, NULL, 0);

	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	/* writers held by a pause each keep a thread: enough left to serve readers meanwhile */
	fuse_loop_cfg_set_max_threads(cfg, 64);
	fuse_loop_cfg_set_clone_fd(cfg, 0);
	int r = fuse_session_loop_mt(fs.se, cfg);
	fuse_loop_cfg_destroy(cfg);
	if (__atomic_load_n(&stopping, __ATOMIC_SEQ_CST))
		shutdown_now(0); /* waits for the stop under way, which exits */
	/* unmounted from outside (umount, fusermount3 -u): the stream ends here */
	fprintf(stderr, "rill-fuse: %s was unmounted; capture ends\n", fs.mountpoint);
	shutdown_now(r < 0 ? 5 : 0);
	return 0;
}
