// A stream whose transactions are unsafe to apply twice, for resume tests: writes to a file that a
// rename then replaces, swaps of files and directories through the stash, hard links, unlinks and
// rmdirs, names reused, and directory modes and times set long before the commit that applies them.
import type { EventInput } from '../../src/stream/events.js';

const T = (n: number): bigint => 1_700_000_000_000_000_000n + BigInt(n) * 1_000_000_007n;
const data = (s: string): Buffer => Buffer.from(s);
/** A name that is not plain ASCII, nor even UTF-8 (journaled in deferred.log as owed its times). */
const SUB2 = 'sub2-\u00e9\udcff';

/** The events of `groups` independent groups: a committed base, then one long transaction of changes. */
export function churn(groups: number): EventInput[] {
  const base: EventInput[] = [];
  const changes: EventInput[] = [];
  const times: EventInput[] = [];
  for (let i = 0; i < groups; i++) {
    const d = `d${i}`;
    const file = (path: string, text: string, mode = 0o644): EventInput[] => [
      { type: 'create', path, mode },
      { type: 'write', path, offset: 0, data: data(text) },
    ];
    base.push(
      { type: 'mkdir', path: d, mode: 0o755 },
      { type: 'mkdir', path: `${d}/sub`, mode: 0o750 },
      { type: 'mkdir', path: `${d}/p`, mode: 0o755 },
      { type: 'mkdir', path: `${d}/q`, mode: 0o711 },
      { type: 'mkdir', path: `${d}/empty`, mode: 0o755 },
      ...file(`${d}/x`, `x${i} first`),
      ...file(`${d}/y`, `y${i} first, longer than x`),
      ...file(`${d}/a`, `a${i}`),
      ...file(`${d}/b`, `b${i} is b`),
      ...file(`${d}/p/f`, `p/f of ${i}`),
      ...file(`${d}/q/g`, `q/g of ${i}`),
      ...file(`${d}/gone`, 'to be removed'),
      ...file(`${d}/sub/keep`, 'in sub'),
    );
    changes.push(
      // Applied again after the rename, this write would land in the file that was x.
      { type: 'write', path: `${d}/y`, offset: 0, data: data(`Y${i} SECOND`) },
      { type: 'rename', path: `${d}/x`, to: `${d}/y` },
      { type: 'write', path: `${d}/y`, offset: 2, data: data('++') },
      // Swaps: applied twice, they swap back.
      { type: 'rename', path: `${d}/a`, to: `.rill/stash/${i}a` },
      { type: 'rename', path: `${d}/b`, to: `${d}/a` },
      { type: 'rename', path: `.rill/stash/${i}a`, to: `${d}/b` },
      { type: 'rename', path: `${d}/p`, to: `.rill/stash/${i}p` },
      { type: 'rename', path: `${d}/q`, to: `${d}/p` },
      { type: 'rename', path: `.rill/stash/${i}p`, to: `${d}/q` },
      { type: 'link', path: `${d}/ln`, target: `${d}/y` },
      { type: 'unlink', path: `${d}/gone` },
      { type: 'rmdir', path: `${d}/empty` },
      ...file(`${d}/gone`, `gone${i} is back`, 0o600),
      { type: 'symlink', path: `${d}/s`, target: 'y' },
      { type: 'mknod', path: `${d}/ff`, mode: 0o010640, rdev: 0 },
      // Directory metadata owed until the commit, carried along by a rename of the directory.
      { type: 'chmod', path: `${d}/sub`, mode: 0o700 },
      { type: 'utimes', path: `${d}/sub`, atime: T(i), mtime: T(i + 1) },
      { type: 'rename', path: `${d}/sub`, to: `${d}/${SUB2}` },
      { type: 'rename', path: `${d}/p/g`, to: `${d}/q/g` },
      { type: 'truncate', path: `${d}/q/g`, size: 3 },
    );
    for (const p of [`${d}/y`, `${d}/a`, `${d}/b`, `${d}/q/f`, `${d}/q/g`, `${d}/gone`, `${d}/s`, `${d}/ff`, `${d}/${SUB2}/keep`, `${d}/p`, `${d}/q`, d]) {
      times.push({ type: 'utimes', path: p, atime: T(7), mtime: T(p.length + i) });
    }
  }
  const half = changes.length >> 1;
  return [
    ...base,
    { type: 'commit' },
    ...changes.slice(0, half),
    { type: 'commit' },
    ...changes.slice(half),
    ...times,
    { type: 'utimes', path: '', atime: T(1), mtime: T(2) },
    { type: 'commit' },
  ];
}
