/* fallocate(2): punch holes so zeroed ranges stay sparse. */
#include "args.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>

/* punchHole(fd, offset, length) */
napi_value rill_punch_hole(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int64_t fd, off, len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      rill_get_i64(env, argv[0], &fd) || rill_get_i64(env, argv[1], &off) || rill_get_i64(env, argv[2], &len))
    return rill_throw_type(env, "expected (fd, offset, length)");
  if (fallocate((int)fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0)
    return rill_throw_errno(env, errno, "fallocate(PUNCH_HOLE)", NULL);
  return rill_undefined(env);
}
