/* Argument conversion and errno-to-exception helpers shared by every syscall family. */
#ifndef RILL_ARGS_H
#define RILL_ARGS_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define RILL_MAX_ARGS 6

/* A path or name argument: a JS string (UTF-8) or a Buffer (raw bytes), NUL-terminated copy. */
typedef struct { char *s; size_t len; } rill_bytes;

int rill_get_bytes(napi_env env, napi_value v, rill_bytes *out);
void rill_free_bytes(rill_bytes *b);
int rill_get_i64(napi_env env, napi_value v, int64_t *out);
int rill_get_bigint(napi_env env, napi_value v, int64_t *out);
/* Throws an Error shaped like Node's fs errors: code, errno, syscall, path. Returns NULL. */
napi_value rill_throw_errno(napi_env env, int err, const char *syscall, const char *path);
napi_value rill_throw_type(napi_env env, const char *msg);
napi_value rill_undefined(napi_env env);
#endif
