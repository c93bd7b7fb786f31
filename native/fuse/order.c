/* Ordering and quiescence: the pause gate (every mutation passes it), the namespace lock (shared by
 * data operations, exclusive for namespace operations), per-inode mutexes, and the list of inodes
 * whose times changed since their last UTIMES record (flushed periodically and at every pause). */
#include "rillfs.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_rwlock_t ns;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int paused;
static long inflight;
static pthread_mutex_t dirty_lock = PTHREAD_MUTEX_INITIALIZER;
static struct inode *dirty;
/* One flush at a time, so two flushers never emit one inode's times out of order. */
static pthread_mutex_t flushing = PTHREAD_MUTEX_INITIALIZER;

void order_init(void)
{
	pthread_rwlockattr_t a;
	pthread_rwlockattr_init(&a);
	/* writers (renames, creates) must not starve behind a stream of writes */
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&ns, &a);
	pthread_rwlockattr_destroy(&a);
}

static void gate_enter(void)
{
	pthread_mutex_lock(&gate);
	while (paused)
		pthread_cond_wait(&gate_cv, &gate);
	inflight++;
	pthread_mutex_unlock(&gate);
}

static void gate_leave(void)
{
	pthread_mutex_lock(&gate);
	if (--inflight == 0)
		pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate);
}

void data_begin(struct inode *in)
{
	gate_enter();
	pthread_rwlock_rdlock(&ns);
	pthread_mutex_lock(&in->lock);
}

void data_end(struct inode *in)
{
	pthread_mutex_unlock(&in->lock);
	pthread_rwlock_unlock(&ns);
	gate_leave();
}

void ns_begin(void)
{
	gate_enter();
	pthread_rwlock_wrlock(&ns);
}

void ns_end(void)
{
	pthread_rwlock_unlock(&ns);
	gate_leave();
}

void lookup_begin(void)
{
	pthread_rwlock_rdlock(&ns);
}

void lookup_end(void)
{
	pthread_rwlock_unlock(&ns);
}

void mark_dirty(struct inode *in)
{
	pthread_mutex_lock(&dirty_lock);
	if (!in->dirty_times) {
		in->dirty_times = 1;
		ino_ref(in);
		in->dnext = dirty;
		dirty = in;
	}
	pthread_mutex_unlock(&dirty_lock);
}

static void emit_times(struct inode *in)
{
	struct stat st;
	pthread_mutex_lock(&in->lock);
	if (fstatat(in->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 && st.st_nlink > 0) {
		int64_t at = (int64_t)st.st_atim.tv_sec * 1000000000 + st.st_atim.tv_nsec;
		int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		rec_path(REC_UTIMES, in, (uint64_t)at, (uint64_t)mt, NULL, 0);
	}
	pthread_mutex_unlock(&in->lock);
}

void flush_times(void)
{
	pthread_mutex_lock(&flushing);
	lookup_begin();
	/* taken into an array: once its flag is clear, an inode may be put on the list again (dnext reused) */
	pthread_mutex_lock(&dirty_lock);
	size_t n = 0;
	for (struct inode *in = dirty; in; in = in->dnext)
		n++;
	struct inode **v = n ? malloc(n * sizeof *v) : NULL;
	if (n && !v) {
		pthread_mutex_unlock(&dirty_lock);
		lookup_end();
		pthread_mutex_unlock(&flushing);
		return; /* kept dirty: the next flush tries again */
	}
	size_t i = 0;
	for (struct inode *in = dirty; in; in = in->dnext) {
		v[i++] = in;
		in->dirty_times = 0;
	}
	dirty = NULL;
	pthread_mutex_unlock(&dirty_lock);
	/* utimes on a child leaves its directory alone: any order is right */
	for (i = 0; i < n; i++) {
		emit_times(v[i]);
		ino_unref(v[i]);
	}
	free(v);
	lookup_end();
	pthread_mutex_unlock(&flushing);
}

void pause_mutations(void)
{
	pthread_mutex_lock(&gate);
	paused = 1;
	while (inflight > 0)
		pthread_cond_wait(&gate_cv, &gate);
	pthread_mutex_unlock(&gate);
	flush_times();
}

void resume_mutations(void)
{
	pthread_mutex_lock(&gate);
	paused = 0;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate);
}

void *flusher_thread(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec d = { 0, 100 * 1000 * 1000 };
		nanosleep(&d, NULL);
		flush_times();
	}
	return NULL;
}
