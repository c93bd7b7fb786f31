/*
 * rill-fuse: the FUSE passthrough capture layer of `rill capture --mount` (issue #6).
 *
 * It serves ROOT's contents through a directory descriptor opened before mounting (so it can mount
 * over ROOT itself), performs every operation on the backing file system with *at() system calls
 * on O_PATH descriptors held per inode, and, after a mutation succeeded, writes one record for it
 * to the record pipe (fd 3) before replying to the kernel. Node (src/capture/mount.ts) numbers the
 * records and frames them as the rill stream.
 *
 * Ordering: a data operation (write, truncate, fallocate, setattr, xattrs) holds the namespace lock
 * shared and its inode's mutex from the backing operation until its record is in the pipe; a
 * namespace operation (create, mkdir, rename, link, unlink, ...) holds the namespace lock
 * exclusively over the same span. So the record order is an order the backing file system could
 * have executed them in: two overlapping writers to one file are recorded in the order their
 * pwrite()s happened, and every path in a record is the path the inode had at that moment.
 *
 * Record format (native -> Node, fd 3), all integers little-endian:
 *
 *   offset size
 *   0      4    len      total record length in bytes, this field included
 *   4      1    op       REC_* below
 *   5      1    nstr     number of strings that follow the fixed part (0..2)
 *   6      2    flags    rename: RENAME_NOREPLACE=1, RENAME_EXCHANGE=2; any: 0x8000 = the (first)
 *                         path names a directory; WRITE: 0x4000 = the data is in the payload ring
 *   8      8    time     CLOCK_REALTIME ns when the record was made
 *   16     8    a        op-specific number (offset, mode, uid, atime, token ...)
 *   24     8    b        op-specific number (size, length, rdev, gid, mtime ...)
 *   32     8    c        WRITE with 0x4000: the data's position in the payload ring; else 0
 *   40     ...  nstr times: u32 byte length, then the bytes (a root-relative path, a symlink
 *               target or an xattr name; no NUL terminator, '' is the root)
 *   ...    ...  payload: the rest of the record (write data, xattr value)
 *
 *   op           strings          a        b        payload
 *   MKDIR        path             mode     -        -
 *   CREATE       path             mode     -        -
 *   WRITE        path             offset   -        data
 *   WRITE|0x4000 path             offset   length   -       (data: payload ring, position c)
 *   TRUNCATE     path             size     -        -
 *   PUNCH        path             offset   length   -
 *   SYMLINK      path, target     -        -        -
 *   LINK         path, existing   -        -        -
 *   MKNOD        path             mode     rdev     -       (mode has the S_IF* type bits)
 *   RENAME       from, to         -        -        -       (flags)
 *   UNLINK       path
 *   RMDIR        path
 *   CHMOD        path             mode
 *   CHOWN        path             uid      gid
 *   UTIMES       path             atime ns mtime ns (signed)
 *   SETXATTR     path, name       -        -        value
 *   REMOVEXATTR  path, name
 *   COMMIT       -                token                      (an fsync/fdatasync/fsyncdir succeeded below;
 *                                                             with --fsync-acks its reply waits for "A TOKEN")
 *   MARK         -                token    state             (reply to a command on fd 0, see below)
 *   READY        path (mountpoint) pid     root fd           (mounted and serving; /proc/PID/fd/FD is
 *                                                             the backing tree, below the mount)
 *   LOST         path             errno    -                 (a mutation succeeded but its path could
 *                                                             not be named: replica needs a --scan resync)
 *
 * Payload ring (--ring-fd FD: shared memory Node made, a memfd): RING_HEAD bytes of header, then
 * the data area of the rest's size S. Header: u64 `consumed` at 0, written by Node: every payload
 * ending at or before this position has been written out and its room may be reused. Positions
 * only grow; a payload at position p lies at data[p % S] for its whole length (never cut at the end:
 * the layer skips to the next multiple of S instead). The layer puts write data of RING_MIN bytes or
 * more there, in record order, before the WRITE record that points at it is on the channel, and
 * waits while the ring lacks room. Without --ring-fd every payload is inline.
 *
 * Commands (Node -> native, fd 0), text lines:
 *   "P TOKEN\n"  pause: new mutations wait, in-flight ones finish; times are flushed; then MARK(TOKEN, 1)
 *   "R TOKEN\n"  resume: MARK(TOKEN, 0) then mutations go on
 *   "F TOKEN\n"  flush pending times (utimes records), then MARK(TOKEN, 2)
 *   "A TOKEN\n"  every COMMIT up to TOKEN is durable downstream (--fsync-acks): their fsyncs return
 *   EOF on fd 0  Node is gone: unmount (lazily) and exit.
 * If the record pipe breaks (Node died), the layer unmounts (lazily) and exits at once: the kernel
 * aborts the connection and applications see ENOTCONN, never a silently unrecorded change.
 *
 * Throughput (issue #6 section 7): the record channel holds 1 MiB (rec_buffer_init), so a reply
 * waits for the kernel to take the record, not for Node to read it; writes come as 1 MiB requests
 * (max_write; libfuse asks for max_pages to match) and their bytes are written and recorded from
 * libfuse's buffer without a copy; the layer negotiates FUSE_HANDLE_KILLPRIV_V2 through libfuse's
 * custom-io hooks (io.c), which stops the kernel's security.capability GETXATTR before each write
 * and makes the layer kill suid/sgid where the kernel asks it to.
 */
#ifndef RILLFS_H
#define RILLFS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

enum rec_op {
	REC_MKDIR = 1, REC_CREATE, REC_WRITE, REC_TRUNCATE, REC_PUNCH, REC_SYMLINK, REC_LINK, REC_MKNOD,
	REC_RENAME, REC_UNLINK, REC_RMDIR, REC_CHMOD, REC_CHOWN, REC_UTIMES, REC_SETXATTR,
	REC_REMOVEXATTR, REC_COMMIT, REC_MARK, REC_READY, REC_LOST,
};

#define REC_FIXED 40
#define REC_F_DIR 0x8000
#define REC_F_RING 0x4000

/* A name of an inode: (parent, name). Directories have one; files may have several (hard links). */
struct name {
	struct inode *parent;
	struct name *next;
	char name[];
};

struct inode {
	int fd;                /* O_PATH descriptor of the backing file */
	dev_t dev;
	ino_t ino;
	mode_t type;           /* S_IFMT bits */
	uint64_t nlookup;      /* kernel references (lookup count) */
	uint64_t refs;         /* names of children pointing here, plus the dirty list's hold */
	struct name *names;    /* known names (under table lock) */
	pthread_mutex_t lock;  /* orders data operations and their records */
	int dirty_times;       /* a mutation changed its times since the last UTIMES record */
	int wopen;             /* --writeback: handles open for writing (under writeback.c's lock) */
	struct inode *hnext;   /* hash chain */
	struct inode *dnext;   /* dirty list */
};

struct rillfs {
	int root_fd;
	struct inode root;
	const char *mountpoint;
	int rec_fd;            /* record pipe */
	double timeout;        /* entry/attr cache seconds */
	long writeback_ms;     /* --writeback: flush interval (0: no page cache, every write a round trip) */
	unsigned long long dirty_max; /* --writeback: the mount's dirty-page limit in bytes (0: kernel default) */
	struct fuse_session *se;
	int mount_id;          /* our mount in /proc/self/mountinfo (-1: unknown) */
	int fsync_acks;        /* --fsync-acks: an fsync returns once Node says its COMMIT is durable */
	int ring_fd;           /* --ring-fd: the payload ring's memfd (0: none) */
};

extern struct rillfs fs;

/* inode.c: the inode table and the names of every inode */
struct inode *ino_of(fuse_ino_t ino);
fuse_ino_t ino_id(struct inode *in);
int ino_lookup(struct inode *parent, const char *name, struct fuse_entry_param *e);
void ino_forget(struct inode *in, uint64_t n);
void ino_add_name(struct inode *in, struct inode *parent, const char *name);
int ino_unlink(struct inode *parent, const char *name, int flags);
int ino_rename(struct inode *oldp, const char *oldn, struct inode *newp, const char *newn, unsigned flags);
struct inode *ino_find_child(struct inode *parent, const char *name);
/* The root-relative path of in into buf (NUL-terminated); -ENOENT when it has no known name. */
int ino_path(struct inode *in, char *buf, size_t size);
int ino_child_path(struct inode *parent, const char *name, char *buf, size_t size);
void ino_table_init(void);
void ino_ref(struct inode *in);
void ino_unref(struct inode *in);
int ino_named(struct inode *in);

/* order.c: namespace lock, pause gate, dirty times */
void order_init(void);
void data_begin(struct inode *in);   /* gate + namespace shared + inode mutex */
void data_end(struct inode *in);
void ns_begin(void);                 /* gate + namespace exclusive */
void ns_end(void);
void lookup_begin(void);             /* namespace shared, no gate */
void lookup_end(void);
void mark_dirty(struct inode *in);   /* caller holds data or ns order */
void flush_times(void);              /* emits UTIMES for dirty inodes */
void pause_mutations(void);
void resume_mutations(void);
void *command_thread(void *arg);
void *flusher_thread(void *arg);

/* ring.c: the payload ring shared with Node (--ring-fd) */
#define RING_HEAD 4096          /* header bytes before the data: u64 consumed at 0, written by Node */
#define RING_MIN (32 * 1024)    /* smaller write data goes on the channel, inline */
int ring_init(int fd);
int ring_takes(size_t n);       /* there is a ring and a payload of n bytes goes into it */
uint64_t ring_put(const void *p, size_t n); /* under the channel lock: copies in (waiting for room), returns the position */

/* record.c: records on the pipe */
struct rec_str { const char *p; size_t n; };
void rec_buffer_init(void);
int rec_emit(int op, uint16_t flags, uint64_t a, uint64_t b, const struct rec_str *strs, int nstr, const void *payload, size_t plen);
/* A record naming in's path (LOST when it has none and is still linked). */
int rec_path(int op, struct inode *in, uint64_t a, uint64_t b, const void *payload, size_t plen);
int rec_path_name(int op, struct inode *in, const char *name, uint64_t a, uint64_t b, const void *payload, size_t plen);
void rec_fatal(const char *why, int err);
/* After an fsync succeeded below: its COMMIT (a = a token), and with --fsync-acks the wait for
 * Node's "A TOKEN" (the journal holds it durably), so the application's fsync means the journal too. */
void rec_commit(void);
void rec_acked(uint64_t token);
void emit_owner(struct inode *parent, const char *name, const struct stat *st);

/* ops_*.c */
void op_init(void *userdata, struct fuse_conn_info *conn);
void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);
void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi);
void op_statfs(fuse_req_t req, fuse_ino_t ino);
void op_readlink(fuse_req_t req, fuse_ino_t ino);
void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi);
void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf, off_t off, struct fuse_file_info *fi);
void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, struct fuse_file_info *fi);
void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi);
void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);
void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name);
void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname);
void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname, unsigned int flags);
void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags);
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* io.c: the FUSE device's I/O hooks (HANDLE_KILLPRIV_V2, which libfuse 3.14 cannot negotiate) */
int io_init(struct fuse_session *se);
int io_kill_suidgid(void);
void kill_suidgid(struct inode *in, int fd);

/* mountinfo.c: detach our mount, never the file system below it */
int mount_id_at(const char *path);
void note_our_mount(void);
int detach_our_mount(void);   /* 1 detached, 0 not ours (already gone), -1 failed */

/* writeback.c: the page cache on the mount (--writeback) */
void wb_opened(struct inode *in, int flags);
void wb_released(struct inode *in, int flags);
int wb_flush(int wait);   /* starts writing the cache back; wait: until the files open for writing are done */
void wb_drain(void);
void *wb_thread(void *arg);

/* creds.c: act with the caller's fsuid/fsgid for creations (so owners and setgid dirs are right) */
struct creds { uid_t uid; gid_t gid; };
void creds_enter(fuse_req_t req, struct creds *saved);
void creds_leave(const struct creds *saved);

/* A /proc/self/fd path for in (for the few calls that need a path). */
void proc_path(char *buf, size_t size, int fd);

#define PATH_BUF 8192

#endif
