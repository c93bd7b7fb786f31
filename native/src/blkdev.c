/* Block devices as volumes: their size (fstat says 0) and zeroing a range without writing it. */
#include "args.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdint.h>
#include <sys/ioctl.h>

/* blockDeviceSize(fd): bytes of the block device open at fd (ioctl BLKGETSIZE64). */
napi_value rill_block_device_size(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int64_t fd;
  uint64_t bytes = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || rill_get_i64(env, argv[0], &fd))
    return rill_throw_type(env, "expected (fd)");
  if (ioctl((int)fd, BLKGETSIZE64, &bytes) < 0) return rill_throw_errno(env, errno, "ioctl(BLKGETSIZE64)", NULL);
  if (bytes > (uint64_t)9007199254740991ULL) return rill_throw_errno(env, EOVERFLOW, "ioctl(BLKGETSIZE64)", NULL);
  napi_create_int64(env, (int64_t)bytes, &result);
  return result;
}

/* zeroRange(fd, offset, length): fallocate(ZERO_RANGE | KEEP_SIZE); block devices fall back to
   writing zeros in the kernel where the device cannot zero by itself. */
napi_value rill_zero_range(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int64_t fd, off, len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      rill_get_i64(env, argv[0], &fd) || rill_get_i64(env, argv[1], &off) || rill_get_i64(env, argv[2], &len))
    return rill_throw_type(env, "expected (fd, offset, length)");
  if (fallocate((int)fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0)
    return rill_throw_errno(env, errno, "fallocate(ZERO_RANGE)", NULL);
  return rill_undefined(env);
}
