// The native layer's records (native/fuse/rillfs.h documents the byte format) decoded from the
// pipe's bytes. Byte handling only: no file-system access, no stream vocabulary.

/** Record kinds, numbered as in rillfs.h's enum rec_op. */
export const REC = {
  mkdir: 1, create: 2, write: 3, truncate: 4, punch: 5, symlink: 6, link: 7, mknod: 8, rename: 9, unlink: 10,
  rmdir: 11, chmod: 12, chown: 13, utimes: 14, setxattr: 15, removexattr: 16, commit: 17, mark: 18, ready: 19, lost: 20,
} as const;

export const FIXED = 40;

/** One record as the native layer wrote it. */
export interface NativeRecord {
  op: number;
  flags: number;
  /** CLOCK_REALTIME ns when recorded. */
  time: bigint;
  a: bigint;
  b: bigint;
  /** Paths, symlink targets and xattr names, as bytes. */
  strs: Buffer[];
  /** Write data or an xattr value: a view of the bytes read from the pipe (Node never reuses them). */
  payload: Buffer;
}

/** Why: the pipe delivers bytes in arbitrary pieces; this cuts them into whole records. */
export class RecordDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes needed before the next record is whole (4 until its length is known). */
  private needed = 4;

  /** Whole records in these bytes (and the ones before them); an incomplete tail waits for the next push. */
  push(chunk: Buffer): NativeRecord[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // a big record arrives in many pieces: join them once it is whole, not at every piece
    if (this.pendingBytes < this.needed) return [];
    let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const out: NativeRecord[] = [];
    let at = 0;
    this.needed = 4;
    while (buf.length - at >= 4) {
      const len = buf.readUInt32LE(at);
      if (len < FIXED) throw new Error(`native record at byte ${at} claims ${len} bytes, fewer than its ${FIXED}-byte fixed part`);
      if (buf.length - at < len) {
        this.needed = len; // the pending bytes will start with this record
        break;
      }
      out.push(parse(buf.subarray(at, at + len)));
      at += len;
    }
    buf = buf.subarray(at);
    this.pending = buf.length > 0 ? [buf] : [];
    this.pendingBytes = buf.length;
    return out;
  }

  /** Bytes of an incomplete record left when the pipe ended (0: it ended cleanly). */
  get leftover(): number {
    return this.pendingBytes;
  }
}

function parse(r: Buffer): NativeRecord {
  const nstr = r[5]!;
  const strs: Buffer[] = [];
  let at = FIXED;
  for (let i = 0; i < nstr; i++) {
    const n = r.readUInt32LE(at);
    strs.push(r.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  if (at > r.length) throw new Error(`native record of ${r.length} bytes holds strings past its end`);
  return { op: r[4]!, flags: r.readUInt16LE(6), time: r.readBigUInt64LE(8), a: r.readBigUInt64LE(16), b: r.readBigUInt64LE(24), strs, payload: r.subarray(at) };
}
