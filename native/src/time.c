/* utimensat(2) with nanoseconds, never following a final symlink. */
#include "args.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static void to_timespec(int64_t ns, struct timespec *ts) {
  ts->tv_sec = ns / 1000000000;
  ts->tv_nsec = ns % 1000000000;
  if (ts->tv_nsec < 0) { ts->tv_nsec += 1000000000; ts->tv_sec -= 1; }
}

/* utimens(path, atimeNs: bigint, mtimeNs: bigint) */
napi_value rill_utimens(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result = NULL;
  rill_bytes path = {0};
  int64_t at, mt;
  struct timespec ts[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      rill_get_bigint(env, argv[1], &at) || rill_get_bigint(env, argv[2], &mt) ||
      rill_get_bytes(env, argv[0], &path))
    return rill_throw_type(env, "expected (path, atimeNs, mtimeNs)");
  to_timespec(at, &ts[0]);
  to_timespec(mt, &ts[1]);
  if (utimensat(AT_FDCWD, path.s, ts, AT_SYMLINK_NOFOLLOW) < 0)
    rill_throw_errno(env, errno, "utimensat", path.s);
  else
    result = rill_undefined(env);
  rill_free_bytes(&path);
  return result;
}
