/* Registers the system calls Node's fs module does not offer. */
#include "args.h"

napi_value rill_seek_data(napi_env, napi_callback_info);
napi_value rill_seek_hole(napi_env, napi_callback_info);
napi_value rill_list_xattr(napi_env, napi_callback_info);
napi_value rill_get_xattr(napi_env, napi_callback_info);
napi_value rill_set_xattr(napi_env, napi_callback_info);
napi_value rill_remove_xattr(napi_env, napi_callback_info);
napi_value rill_mknod(napi_env, napi_callback_info);
napi_value rill_utimens(napi_env, napi_callback_info);
napi_value rill_punch_hole(napi_env, napi_callback_info);
napi_value rill_set_pipe_size(napi_env, napi_callback_info);
napi_value rill_block_device_size(napi_env, napi_callback_info);
napi_value rill_zero_range(napi_env, napi_callback_info);
napi_value rill_stat_dir(napi_env, napi_callback_info);
napi_value rill_flock_exclusive(napi_env, napi_callback_info);
napi_value rill_freeze_fs(napi_env, napi_callback_info);
napi_value rill_thaw_fs(napi_env, napi_callback_info);
napi_value rill_sync_fs(napi_env, napi_callback_info);
napi_value rill_ring_create(napi_env, napi_callback_info);
napi_value rill_ring_release(napi_env, napi_callback_info);

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"seekData", NULL, rill_seek_data, NULL, NULL, NULL, napi_default, NULL},
    {"seekHole", NULL, rill_seek_hole, NULL, NULL, NULL, napi_default, NULL},
    {"listXattr", NULL, rill_list_xattr, NULL, NULL, NULL, napi_default, NULL},
    {"getXattr", NULL, rill_get_xattr, NULL, NULL, NULL, napi_default, NULL},
    {"setXattr", NULL, rill_set_xattr, NULL, NULL, NULL, napi_default, NULL},
    {"removeXattr", NULL, rill_remove_xattr, NULL, NULL, NULL, napi_default, NULL},
    {"mknod", NULL, rill_mknod, NULL, NULL, NULL, napi_default, NULL},
    {"utimens", NULL, rill_utimens, NULL, NULL, NULL, napi_default, NULL},
    {"punchHole", NULL, rill_punch_hole, NULL, NULL, NULL, napi_default, NULL},
    {"setPipeSize", NULL, rill_set_pipe_size, NULL, NULL, NULL, napi_default, NULL},
    {"blockDeviceSize", NULL, rill_block_device_size, NULL, NULL, NULL, napi_default, NULL},
    {"zeroRange", NULL, rill_zero_range, NULL, NULL, NULL, napi_default, NULL},
    {"statDir", NULL, rill_stat_dir, NULL, NULL, NULL, napi_default, NULL},
    {"flockExclusive", NULL, rill_flock_exclusive, NULL, NULL, NULL, napi_default, NULL},
    {"freezeFs", NULL, rill_freeze_fs, NULL, NULL, NULL, napi_default, NULL},
    {"thawFs", NULL, rill_thaw_fs, NULL, NULL, NULL, napi_default, NULL},
    {"syncFs", NULL, rill_sync_fs, NULL, NULL, NULL, napi_default, NULL},
    {"ringCreate", NULL, rill_ring_create, NULL, NULL, NULL, napi_default, NULL},
    {"ringRelease", NULL, rill_ring_release, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
