/* Argument conversion and errno-to-exception helpers shared by every syscall family. */
#include "args.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rill_get_bytes(napi_env env, napi_value v, rill_bytes *out) {
  bool is_buf = false;
  out->s = NULL;
  out->len = 0;
  if (napi_is_buffer(env, v, &is_buf) != napi_ok) return -1;
  if (is_buf) {
    void *data = NULL;
    size_t len = 0;
    if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) return -1;
    out->s = malloc(len + 1);
    if (out->s == NULL) return -1;
    memcpy(out->s, data, len);
    out->s[len] = '\0';
    out->len = len;
    return 0;
  }
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return -1;
  out->s = malloc(len + 1);
  if (out->s == NULL) return -1;
  if (napi_get_value_string_utf8(env, v, out->s, len + 1, &len) != napi_ok) {
    free(out->s);
    out->s = NULL;
    return -1;
  }
  out->len = len;
  return 0;
}

void rill_free_bytes(rill_bytes *b) {
  free(b->s);
  b->s = NULL;
}

int rill_get_i64(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok ? 0 : -1;
}

int rill_get_bigint(napi_env env, napi_value v, int64_t *out) {
  bool lossless = false;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_number) return rill_get_i64(env, v, out);
  if (t != napi_bigint) return -1;
  if (napi_get_value_bigint_int64(env, v, out, &lossless) != napi_ok || !lossless) return -1;
  return 0;
}

napi_value rill_throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  char msg[4096];
  const char *name = strerrorname_np(err);
  napi_value code, message, error, num, sys, p;
  if (name == NULL) name = "EUNKNOWN";
  if (path != NULL)
    snprintf(msg, sizeof msg, "%s: %s, %s '%s'", name, strerror(err), syscall, path);
  else
    snprintf(msg, sizeof msg, "%s: %s, %s", name, strerror(err), syscall);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  if (path != NULL) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &p);
    napi_set_named_property(env, error, "path", p);
  }
  napi_throw(env, error);
  return NULL;
}

napi_value rill_throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

napi_value rill_undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}
