/* Extended attributes of a path, never following a final symlink (l*xattr). */
#include "args.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

/* Splits a NUL-separated name list into an array of Buffers. */
static napi_value names_to_array(napi_env env, const char *list, ssize_t n) {
  napi_value result;
  uint32_t i = 0;
  ssize_t pos = 0;
  napi_create_array(env, &result);
  while (pos < n) {
    size_t len = strlen(list + pos);
    napi_value name;
    napi_create_buffer_copy(env, len, list + pos, NULL, &name);
    napi_set_element(env, result, i++, name);
    pos += (ssize_t)len + 1;
  }
  return result;
}

/* listXattr(path) -> Buffer[] of raw names. One system call for the usual short list. */
napi_value rill_list_xattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result = NULL;
  rill_bytes path = {0};
  char small[4096];
  char *list = NULL;
  ssize_t n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      rill_get_bytes(env, argv[0], &path))
    return rill_throw_type(env, "expected (path)");
  n = llistxattr(path.s, small, sizeof small);
  if (n >= 0) { result = names_to_array(env, small, n); goto out; }
  if (errno != ERANGE) { rill_throw_errno(env, errno, "llistxattr", path.s); goto out; }
  for (;;) {
    n = llistxattr(path.s, NULL, 0);
    if (n < 0) { rill_throw_errno(env, errno, "llistxattr", path.s); goto out; }
    free(list);
    list = malloc(n > 0 ? (size_t)n : 1);
    if (list == NULL) { rill_throw_errno(env, ENOMEM, "llistxattr", path.s); goto out; }
    n = llistxattr(path.s, list, (size_t)n);
    if (n >= 0) break;
    if (errno != ERANGE) { rill_throw_errno(env, errno, "llistxattr", path.s); goto out; }
  }
  result = names_to_array(env, list, n);
out:
  free(list);
  rill_free_bytes(&path);
  return result;
}

/* getXattr(path, name) -> Buffer, or null when the attribute does not exist. */
napi_value rill_get_xattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result = NULL;
  rill_bytes path = {0}, name = {0};
  char *val = NULL;
  ssize_t n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      rill_get_bytes(env, argv[0], &path) || rill_get_bytes(env, argv[1], &name)) {
    rill_free_bytes(&path);
    return rill_throw_type(env, "expected (path, name)");
  }
  {
    char small[4096];
    n = lgetxattr(path.s, name.s, small, sizeof small);
    if (n >= 0) {
      napi_create_buffer_copy(env, (size_t)n, small, NULL, &result);
      goto out;
    }
  }
  while (errno == ERANGE) {
    n = lgetxattr(path.s, name.s, NULL, 0);
    if (n < 0) break;
    free(val);
    val = malloc(n > 0 ? (size_t)n : 1);
    if (val == NULL) { errno = ENOMEM; n = -1; break; }
    n = lgetxattr(path.s, name.s, val, (size_t)n);
    if (n >= 0) break;
  }
  if (n < 0) {
    if (errno == ENODATA) napi_get_null(env, &result);
    else rill_throw_errno(env, errno, "lgetxattr", path.s);
    goto out;
  }
  napi_create_buffer_copy(env, (size_t)n, val, NULL, &result);
out:
  free(val);
  rill_free_bytes(&path);
  rill_free_bytes(&name);
  return result;
}

/* setXattr(path, name, value) */
napi_value rill_set_xattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result = NULL;
  rill_bytes path = {0}, name = {0};
  void *data = NULL;
  size_t len = 0;
  bool is_buf = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_is_buffer(env, argv[2], &is_buf) != napi_ok || !is_buf ||
      napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok ||
      rill_get_bytes(env, argv[0], &path) || rill_get_bytes(env, argv[1], &name)) {
    rill_free_bytes(&path);
    return rill_throw_type(env, "expected (path, name, Buffer)");
  }
  if (lsetxattr(path.s, name.s, data, len, 0) < 0) rill_throw_errno(env, errno, "lsetxattr", path.s);
  else result = rill_undefined(env);
  rill_free_bytes(&path);
  rill_free_bytes(&name);
  return result;
}

/* removeXattr(path, name); a missing attribute is not an error. */
napi_value rill_remove_xattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result = NULL;
  rill_bytes path = {0}, name = {0};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      rill_get_bytes(env, argv[0], &path) || rill_get_bytes(env, argv[1], &name)) {
    rill_free_bytes(&path);
    return rill_throw_type(env, "expected (path, name)");
  }
  if (lremovexattr(path.s, name.s) < 0 && errno != ENODATA)
    rill_throw_errno(env, errno, "lremovexattr", path.s);
  else
    result = rill_undefined(env);
  rill_free_bytes(&path);
  rill_free_bytes(&name);
  return result;
}
