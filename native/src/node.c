/* mknod(2): fifos, sockets and device nodes. */
#include "args.h"
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* mknod(path, mode, rdev) where mode carries the file type bits and rdev is the raw dev_t. */
napi_value rill_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result = NULL;
  rill_bytes path = {0};
  int64_t mode, rdev;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      rill_get_i64(env, argv[1], &mode) || rill_get_bigint(env, argv[2], &rdev) ||
      rill_get_bytes(env, argv[0], &path))
    return rill_throw_type(env, "expected (path, mode, rdev)");
  if (mknod(path.s, (mode_t)mode, (dev_t)rdev) < 0) rill_throw_errno(env, errno, "mknod", path.s);
  else result = rill_undefined(env);
  rill_free_bytes(&path);
  return result;
}
