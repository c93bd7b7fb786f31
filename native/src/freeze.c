/* FIFREEZE / FITHAW / syncfs(2): quiesce a file system for `rill freeze`, and make a replica durable for `replay --on-bookmark`. */
#include "args.h"
#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Runs one fd-only call: freezeFs(fd), thawFs(fd), syncFs(fd) -> undefined, throws errno errors. */
static napi_value fd_call(napi_env env, napi_callback_info info, int which, const char *name) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t fd;
  int r;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || rill_get_i64(env, argv[0], &fd))
    return rill_throw_type(env, "expected (fd)");
  do {
    if (which == 0) r = ioctl((int)fd, FIFREEZE, 0);
    else if (which == 1) r = ioctl((int)fd, FITHAW, 0);
    else r = syncfs((int)fd);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return rill_throw_errno(env, errno, name, NULL);
  return rill_undefined(env);
}

napi_value rill_freeze_fs(napi_env env, napi_callback_info info) { return fd_call(env, info, 0, "ioctl(FIFREEZE)"); }
napi_value rill_thaw_fs(napi_env env, napi_callback_info info) { return fd_call(env, info, 1, "ioctl(FITHAW)"); }
napi_value rill_sync_fs(napi_env env, napi_callback_info info) { return fd_call(env, info, 2, "syncfs"); }
