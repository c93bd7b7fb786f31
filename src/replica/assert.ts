// Content assertions: the replica file at path has the size (and hash, where the algorithm is known
// here) the stream says; a mismatch is divergence and stops the replay.
import { closeSync, constants, fstatSync, readSync } from 'node:fs';
import { createHash, getHashes } from 'node:crypto';
import { RillError } from '../errors.js';
import type { AssertEvent } from '../stream/events.js';
import { showPath } from '../stream/path.js';
import { openRegular } from './fsops.js';
import type { Replica } from './replica.js';

const KNOWN = new Set(getHashes());
const CHUNK = 1 << 20;

/** Checks one assertion against the replica (or the pending file standing for its path). */
export function checkAssertion(e: AssertEvent, r: Replica): void {
  const pending = r.pending.lookup(e.path);
  const fd = pending?.fd ?? openRegular(e.path, r.confine.resolve(e.path, false), constants.O_RDONLY, 'check');
  try {
    const size = fstatSync(fd).size;
    if (size !== e.size) throw diverged(e, `has ${size} bytes in the replica, the stream says ${e.size}`);
    if (!KNOWN.has(e.alg)) {
      r.warnOnce(`alg:${e.alg}`, `warning: cannot check content hashes: unsupported alg ${JSON.stringify(e.alg)} (sizes are checked)`);
      return;
    }
    const digest = hashFd(fd, size, e.alg);
    if (!digest.equals(e.hash)) throw diverged(e, `has ${e.alg} ${digest.toString('hex')} in the replica, the stream says ${e.hash.toString('hex')}`);
  } finally {
    if (pending === undefined) closeSync(fd);
  }
}

function hashFd(fd: number, size: number, alg: string): Buffer {
  const h = createHash(alg);
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let at = 0; at < size; ) {
    const n = readSync(fd, buf, 0, Math.min(CHUNK, size - at), at);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    at += n;
  }
  return h.digest();
}

function diverged(e: AssertEvent, what: string): RillError {
  return new RillError('io', `assertion failed at seq ${e.seq}: ${showPath(e.path)} ${what}`, {
    path: e.path,
    hint: 'the replica has diverged from the source; replay a full stream',
  });
}
