// The system calls Node's fs module lacks (native/src/*.c): sparse extents, xattrs, mknod, ns times, hole punching.
import { createRequire } from 'node:module';

export interface NativeSys {
  /** Next data offset at or after `offset`, or -1 when there is no more data. */
  seekData(fd: number, offset: number): number;
  /** Next hole offset at or after `offset` (the file size at the end), or -1 past the end. */
  seekHole(fd: number, offset: number): number;
  listXattr(path: string | Buffer): Buffer[];
  getXattr(path: string | Buffer, name: string | Buffer): Buffer | null;
  setXattr(path: string | Buffer, name: string | Buffer, value: Buffer): void;
  removeXattr(path: string | Buffer, name: string | Buffer): void;
  mknod(path: string | Buffer, mode: number, rdev: bigint | number): void;
  utimens(path: string | Buffer, atimeNs: bigint, mtimeNs: bigint): void;
  punchHole(fd: number, offset: number, length: number): void;
  /** Grows a pipe's buffer; returns the new size, or 0 when fd is no pipe or it cannot be changed. */
  setPipeSize(fd: number, bytes: number): number;
  /** Bytes of the block device open at fd (BLKGETSIZE64: fstat reports 0 for a device). */
  blockDeviceSize(fd: number): number;
  /** fallocate(ZERO_RANGE | KEEP_SIZE): [offset, offset+length) reads as zeros (block devices zero it in the kernel). */
  zeroRange(fd: number, offset: number, length: number): void;
  /**
   * A directory's entries with the lstat of each, in readdir order: names each followed by a NUL,
   * stats STAT_FIELDS numbers an entry (see DirStat in src/capture/dir-stat.ts). Opens path O_NOFOLLOW.
   */
  statDir(path: string | Buffer): { names: Buffer; stats: Float64Array };
  /** flock(LOCK_EX | LOCK_NB): true when locked, false when another open file holds it (EWOULDBLOCK); throws on other errors. */
  flockExclusive(fd: number): boolean;
  /** ioctl(FIFREEZE) on an fd of the file system (root only): blocks new writes, syncs, returns; EBUSY when already frozen, EOPNOTSUPP when it cannot be frozen. */
  freezeFs(fd: number): void;
  /** ioctl(FITHAW): EINVAL when the file system is not frozen. */
  thawFs(fd: number): void;
  /** syncfs(2): writes back everything dirty of the file system holding fd. */
  syncFs(fd: number): void;
  /** A memfd of `bytes` (close-on-exec) and its shared mapping: capture --mount's payload ring (src/capture/mount/ring.ts). */
  ringCreate(bytes: number): { fd: number; memory: ArrayBuffer };
  /** Stores the ring's `consumed` position and wakes the layer when it waits for room. */
  ringRelease(memory: ArrayBuffer, consumed: number): void;
}

const require = createRequire(import.meta.url);

function load(): NativeSys {
  const candidates = ['../../native/build/Release/rill_sys.node', '../native/build/Release/rill_sys.node'];
  let lastError: unknown;
  for (const rel of candidates) {
    try {
      return require(rel) as NativeSys;
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(
    `rill's native helper (native/build/Release/rill_sys.node) is not built: run 'npm ci' (needs g++, make, python3)`,
    { cause: lastError },
  );
}

export const sys: NativeSys = load();
