/* flock(2): one writer per journal directory (DIR/lock), released when the descriptor is closed. */
#include "args.h"
#include <errno.h>
#include <sys/file.h>

/* flockExclusive(fd) -> true when locked, false when another open file holds the lock (EWOULDBLOCK). */
napi_value rill_flock_exclusive(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int64_t fd;
  int r;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || rill_get_i64(env, argv[0], &fd))
    return rill_throw_type(env, "expected (fd)");
  do r = flock((int)fd, LOCK_EX | LOCK_NB);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno != EWOULDBLOCK) return rill_throw_errno(env, errno, "flock", NULL);
  napi_get_boolean(env, r == 0, &result);
  return result;
}
