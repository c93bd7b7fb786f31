/* The payload ring: large write data goes to Node through shared memory instead of the record
 * channel (format: rillfs.h, "Payload ring"). Node made the memory (a memfd, our fd --ring-fd) and
 * maps it too; we copy a write's bytes in once, and its WRITE record on the channel says where they
 * lie. Through a socket the same bytes cost a copy in, a copy out and the kernel's buffers for them:
 * sequential 1 MiB writes through the layer alone ran at half the speed of FUSE without records.
 *
 * Called under record.c's channel lock only, so positions are handed out in record order. When the
 * ring is full (Node behind), the writer waits for Node to move `consumed` on: backpressure as on
 * the channel. If Node dies meanwhile, its end of the channel closes: the waiting writer ends the
 * layer (rec_fatal; the command thread cannot: its shutdown waits for this very write). */
#include "rillfs.h"
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static unsigned char *ring_mem;   /* the mapping: header, then data */
static uint64_t ring_size;        /* bytes of data */
static uint64_t produced;         /* position after the last payload put */

int ring_init(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size <= RING_HEAD + 65536)
		return -EINVAL;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	close(fd);
	ring_mem = m;
	ring_size = (uint64_t)st.st_size - RING_HEAD;
	produced = __atomic_load_n((uint64_t *)ring_mem, __ATOMIC_ACQUIRE);
	return 0;
}

int ring_takes(size_t n)
{
	return ring_mem != NULL && n >= RING_MIN && n <= ring_size / 2;
}

uint64_t ring_put(const void *p, size_t n)
{
	uint64_t pos = produced;
	uint64_t at = pos % ring_size;
	if (at + n > ring_size)
		pos += ring_size - at; /* a payload is never cut: the tail is skipped */
	const uint64_t *consumed = (const uint64_t *)ring_mem;
	uint32_t *waiting = (uint32_t *)(ring_mem + 8);
	/* the timeout only bounds a wakeup lost some unforeseen way */
	struct timespec most = { 0, 20 * 1000 * 1000 };
	while (pos + n - __atomic_load_n(consumed, __ATOMIC_SEQ_CST) > ring_size) {
		/* announce, then look again (Node stores consumed, then looks for waiters) */
		__atomic_store_n(waiting, 1, __ATOMIC_SEQ_CST);
		if (pos + n - __atomic_load_n(consumed, __ATOMIC_SEQ_CST) <= ring_size)
			break;
		syscall(SYS_futex, waiting, FUTEX_WAIT, 1, &most, NULL, 0);
		/* Node died (its end of the channel closed): it will never free room */
		struct pollfd pf = { fs.rec_fd, 0, 0 };
		if (poll(&pf, 1, 0) > 0 && (pf.revents & (POLLHUP | POLLERR)))
			rec_fatal("rill capture went away while a write waited for room in the payload ring", EPIPE);
	}
	memcpy(ring_mem + RING_HEAD + pos % ring_size, p, n);
	produced = pos + n;
	return pos;
}
