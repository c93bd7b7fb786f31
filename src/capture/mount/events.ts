// Native records → stream events (the vocabulary of src/stream/events.ts). Control records (mark,
// ready, lost) are not events: the caller handles them.
import type { EventInput } from '../../stream/events.js';
import { bytesToPath } from '../../stream/path.js';
import { REC, type NativeRecord } from './records.js';

const num = (v: bigint): number => Number(v);
const signed = (v: bigint): bigint => BigInt.asIntN(64, v);

type Convert = (r: NativeRecord, path: string) => EventInput;

/** One converter per event-bearing record kind; payloads are views of the bytes read from the pipe (reused only once the output has written them: arena.ts). */
const CONVERT: Record<number, Convert> = {
  [REC.mkdir]: (r, path) => ({ type: 'mkdir', path, mode: num(r.a) }),
  [REC.create]: (r, path) => ({ type: 'create', path, mode: num(r.a) }),
  [REC.write]: (r, path) => ({ type: 'write', path, offset: num(r.a), data: r.payload }),
  [REC.truncate]: (r, path) => ({ type: 'truncate', path, size: num(r.a) }),
  [REC.punch]: (r, path) => ({ type: 'punch', path, offset: num(r.a), length: num(r.b) }),
  [REC.symlink]: (r, path) => ({ type: 'symlink', path, target: bytesToPath(r.strs[1]!) }),
  [REC.link]: (r, path) => ({ type: 'link', path, target: bytesToPath(r.strs[1]!) }),
  [REC.mknod]: (r, path) => ({ type: 'mknod', path, mode: num(r.a), rdev: num(r.b) }),
  [REC.rename]: (r, path) => {
    const e: EventInput = { type: 'rename', path, to: bytesToPath(r.strs[1]!) };
    if (r.flags & 1) e.noreplace = true;
    if (r.flags & 2) e.exchange = true;
    return e;
  },
  [REC.unlink]: (_r, path) => ({ type: 'unlink', path }),
  [REC.rmdir]: (_r, path) => ({ type: 'rmdir', path }),
  [REC.chmod]: (r, path) => ({ type: 'chmod', path, mode: num(r.a) }),
  [REC.chown]: (r, path) => ({ type: 'chown', path, uid: num(r.a), gid: num(r.b) }),
  [REC.utimes]: (r, path) => ({ type: 'utimes', path, atime: signed(r.a), mtime: signed(r.b) }),
  [REC.setxattr]: (r, path) => ({ type: 'setxattr', path, name: bytesToPath(r.strs[1]!), value: r.payload }),
  [REC.removexattr]: (r, path) => ({ type: 'removexattr', path, name: bytesToPath(r.strs[1]!) }),
  [REC.commit]: () => ({ type: 'commit' }),
};

/** The event of a record, with its time; undefined for control records. */
export function toEvent(r: NativeRecord): EventInput | undefined {
  const convert = CONVERT[r.op];
  if (convert === undefined) return undefined;
  const e = convert(r, r.strs.length > 0 ? bytesToPath(r.strs[0]!) : '');
  e.time = r.time;
  return e;
}

/** Every path an event names (for the include/exclude filter). */
export function eventPaths(e: EventInput): string[] {
  if (e.type === 'rename') return [e.path, e.to];
  if (e.type === 'link') return [e.path, e.target];
  return 'path' in e && typeof e.path === 'string' ? [e.path] : [];
}
