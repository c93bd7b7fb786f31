/* lseek(SEEK_DATA / SEEK_HOLE): find the data extents of a sparse file. */
#include "args.h"
#include <errno.h>
#include <unistd.h>

static napi_value seek_whence(napi_env env, napi_callback_info info, int whence, const char *name) {
  size_t argc = 2;
  napi_value argv[2], result;
  int64_t fd, off;
  off_t r;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      rill_get_i64(env, argv[0], &fd) || rill_get_i64(env, argv[1], &off))
    return rill_throw_type(env, "expected (fd, offset)");
  r = lseek((int)fd, (off_t)off, whence);
  if (r < 0) {
    /* ENXIO: no more data (SEEK_DATA) or offset past the end. */
    if (errno == ENXIO) r = -1;
    else return rill_throw_errno(env, errno, name, NULL);
  }
  napi_create_int64(env, (int64_t)r, &result);
  return result;
}

napi_value rill_seek_data(napi_env env, napi_callback_info info) {
  return seek_whence(env, info, SEEK_DATA, "lseek(SEEK_DATA)");
}

napi_value rill_seek_hole(napi_env env, napi_callback_info info) {
  return seek_whence(env, info, SEEK_HOLE, "lseek(SEEK_HOLE)");
}
