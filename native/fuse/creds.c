/* Creations run with the caller's fsuid/fsgid (per thread on Linux), so new entries get the owner
 * and group the kernel would give them on the backing file system (setgid directories included). */
#include "rillfs.h"
#include <sys/fsuid.h>

void creds_enter(fuse_req_t req, struct creds *saved)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	saved->gid = (gid_t)setfsgid(ctx->gid);
	saved->uid = (uid_t)setfsuid(ctx->uid);
}

void creds_leave(const struct creds *saved)
{
	setfsuid(saved->uid);
	setfsgid(saved->gid);
}
