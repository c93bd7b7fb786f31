/* getsockopt(SO_PEERCRED) for the control socket server (src/control/peercred.ts): who is on the
 * other end of a Unix socket. A module of its own so the FUSE work leaves rill_sys alone. */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>

static napi_value throw_errno(napi_env env, int err)
{
	napi_throw_error(env, NULL, strerror(err));
	return NULL;
}

static napi_value set_num(napi_env env, napi_value obj, const char *key, double v)
{
	napi_value n;
	napi_create_double(env, v, &n);
	napi_set_named_property(env, obj, key, n);
	return obj;
}

/* peerCred(fd) -> { pid, uid, gid } */
static napi_value peer_cred(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	int32_t fd;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
		napi_throw_type_error(env, NULL, "peerCred(fd): fd must be a number");
		return NULL;
	}
	struct ucred uc;
	socklen_t len = sizeof uc;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return throw_errno(env, errno);
	napi_value obj;
	napi_create_object(env, &obj);
	set_num(env, obj, "pid", uc.pid);
	set_num(env, obj, "uid", uc.uid);
	return set_num(env, obj, "gid", uc.gid);
}

static napi_value init(napi_env env, napi_value exports)
{
	napi_property_descriptor p = { "peerCred", NULL, peer_cred, NULL, NULL, NULL, napi_default, NULL };
	napi_define_properties(env, exports, 1, &p);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
