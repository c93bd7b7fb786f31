/* Shared memory for the payload ring of capture --mount (native/fuse/rillfs.h, "Payload ring"):
 * a memfd of the given size, mapped here; the FUSE layer gets the descriptor and maps it too. */
#include "args.h"
#include <errno.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

/* ringCreate(bytes) -> { fd, memory: ArrayBuffer } (the memfd is close-on-exec: pass it as a spawn stdio entry). */
napi_value rill_ring_create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result, fdv, buf;
  int64_t bytes;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || rill_get_i64(env, argv[0], &bytes) || bytes <= 0)
    return rill_throw_type(env, "expected (bytes)");
  int fd = memfd_create("rill-ring", MFD_CLOEXEC);
  if (fd < 0) return rill_throw_errno(env, errno, "memfd_create", NULL);
  if (ftruncate(fd, (off_t)bytes) < 0) {
    int e = errno;
    close(fd);
    return rill_throw_errno(env, e, "ftruncate", NULL);
  }
  void *m = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (m == MAP_FAILED) {
    int e = errno;
    close(fd);
    return rill_throw_errno(env, e, "mmap", NULL);
  }
  if (napi_create_external_arraybuffer(env, m, (size_t)bytes, unmap, (void *)(uintptr_t)bytes, &buf) != napi_ok) {
    munmap(m, (size_t)bytes);
    close(fd);
    return rill_throw_type(env, "cannot make an ArrayBuffer of the ring");
  }
  napi_create_object(env, &result);
  napi_create_int32(env, fd, &fdv);
  napi_set_named_property(env, result, "fd", fdv);
  napi_set_named_property(env, result, "memory", buf);
  return result;
}

/* ringRelease(memory, consumed): payloads up to position `consumed` are written: stores it in the
 * header and wakes the layer if it waits for room (a full barrier between the two, pairing with the
 * layer's between announcing its wait and reading `consumed` again: rillfs.h, "Payload ring"). */
napi_value rill_ring_release(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *mem;
  size_t len;
  int64_t consumed;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_arraybuffer_info(env, argv[0], &mem, &len) != napi_ok || len < 16 || rill_get_i64(env, argv[1], &consumed))
    return rill_throw_type(env, "expected (ring memory, consumed)");
  __atomic_store_n((uint64_t *)mem, (uint64_t)consumed, __ATOMIC_SEQ_CST);
  uint32_t *waiting = (uint32_t *)((char *)mem + 8);
  if (__atomic_load_n(waiting, __ATOMIC_SEQ_CST) != 0) {
    __atomic_store_n(waiting, 0, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, waiting, FUTEX_WAKE, 1 << 30, NULL, NULL, 0);
  }
  return rill_undefined(env);
}
