// Where the native FUSE layer's executable is, and the message when it was not built.
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RillError } from '../../errors.js';

/** native/fuse/build/rill-fuse of this package (built by `npm install` when libfuse3's headers are there). */
export const NATIVE_FUSE = fileURLToPath(new URL('../../../native/fuse/build/rill-fuse', import.meta.url));

/** The executable, or a 'not built' error (exit 6) naming the packages to install. */
export function nativeFuse(): string {
  const exe = process.env.RILL_FUSE_BIN ?? NATIVE_FUSE;
  try {
    accessSync(exe, constants.X_OK);
  } catch {
    throw new RillError('unimplemented', `--mount: the FUSE capture layer ${exe} is not built`, {
      hint: 'install libfuse3 (Debian/Ubuntu: apt-get install libfuse3-dev fuse3 pkg-config; Fedora: dnf install fuse3-devel fuse3 pkgconf), then run `npm run install` (or `make -C native/fuse`) in the rill package',
    });
  }
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch (err) {
    throw new RillError('io', '--mount: /dev/fuse cannot be opened', { cause: err, hint: 'load the fuse module (modprobe fuse) and install fuse3; in a container, pass --device /dev/fuse' });
  }
  return exe;
}
