// Moving a finished temp file across a mount boundary (a bind mount inside the replica makes rename
// fail with EXDEV): copy data sparsely and every attribute to a new temp beside the target.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { sys } from '../sys/native.js';

const CHUNK = 1 << 20;

/** Copies the file at src (an open fd) to a new file at dst: data extents, mode, owner, xattrs, ns times. */
export function copyFileAcross(srcFd: number, srcAbs: string | Buffer, dstAbs: string | Buffer, fsync: boolean): void {
  const st = fstatSync(srcFd, { bigint: true });
  const dst = openSync(dstAbs, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
  try {
    const size = Number(st.size);
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = 0;
    while (pos < size) {
      const data = sys.seekData(srcFd, pos);
      if (data < 0) break;
      const hole = sys.seekHole(srcFd, data);
      const end = hole < 0 ? size : hole;
      for (let at = data; at < end; ) {
        const n = readSync(srcFd, buf, 0, Math.min(CHUNK, end - at), at);
        if (n === 0) break;
        writeAll(dst, buf.subarray(0, n), at);
        at += n;
      }
      pos = end;
    }
    ftruncateSync(dst, size);
    for (const name of sys.listXattr(srcAbs)) {
      const value = sys.getXattr(srcAbs, name);
      if (value !== null) sys.setXattr(dstAbs, name, value);
    }
    if (process.geteuid?.() === 0) fchownSync(dst, Number(st.uid), Number(st.gid));
    fchmodSync(dst, Number(st.mode) & 0o7777);
    sys.utimens(dstAbs, st.atimeNs, st.mtimeNs);
    if (fsync) fsyncSync(dst);
  } finally {
    closeSync(dst);
  }
}

/** pwrite of a whole buffer (a regular file may take it in parts). */
export function writeAll(fd: number, data: Buffer, offset: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, offset + done);
}
