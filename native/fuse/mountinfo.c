/* Our own mount, and only ours: ROOT is often a mount point itself (/srv/data on its own disk), and
 * when our FUSE mount is already gone (unmounted from outside, or by libfuse), umount2(ROOT) would
 * detach the user's file system instead. So we note our mount's ID when we mount, and detach the
 * mount point only while the topmost mount there is still that one (/proc/self/mountinfo). */
#include "rillfs.h"
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void escape(const char *in, char *out, size_t size)
{
	size_t o = 0;
	for (; *in && o + 5 < size; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\\')
			o += (size_t)snprintf(out + o, size - o, "\\%03o", c);
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
}

/* The ID of the topmost mount at path (mountinfo lists mounts in the order they were stacked), or -1. */
int mount_id_at(const char *path)
{
	static char want[2 * PATH_BUF], line[4 * PATH_BUF];
	escape(path, want, sizeof want);
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	int id = -1;
	while (fgets(line, sizeof line, f)) {
		int mid, parent;
		char mp[4 * PATH_BUF];
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		if (sscanf(line, "%d %d %*s %*s %s", &mid, &parent, mp) == 3 && strcmp(mp, want) == 0)
			id = mid;
	}
	fclose(f);
	return id;
}

void note_our_mount(void)
{
	fs.mount_id = mount_id_at(fs.mountpoint);
}

int detach_our_mount(void)
{
	if (fs.mount_id < 0 || mount_id_at(fs.mountpoint) != fs.mount_id)
		return 0;
	return umount2(fs.mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) == 0 ? 1 : -1;
}
