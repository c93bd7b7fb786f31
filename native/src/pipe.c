/* fcntl(F_SETPIPE_SZ): larger pipe buffers between rill processes (fewer reads, writes and wake-ups). */
#include "args.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

/* setPipeSize(fd, bytes) -> the new size, or 0 when fd is not a pipe or the size cannot be set. */
napi_value rill_set_pipe_size(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int64_t fd, bytes;
  struct stat st;
  int r = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      rill_get_i64(env, argv[0], &fd) || rill_get_i64(env, argv[1], &bytes))
    return rill_throw_type(env, "expected (fd, bytes)");
  if (fstat((int)fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
    r = fcntl((int)fd, F_SETPIPE_SZ, (int)bytes);
    if (r < 0) r = 0; /* EPERM above /proc/sys/fs/pipe-max-size for non-root, EBUSY: keep the old size */
  }
  napi_create_int32(env, r, &result);
  return result;
}
