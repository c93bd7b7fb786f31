// The replica's own state under ROOT/.rill: where replay got to (source, seq), written atomically
// (temp, fsync, rename, fsync the directory) so a crash leaves the old record or the new one.
import { closeSync, constants, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { RillError, ioError } from '../errors.js';
import { Confine, STASH_DIR, STATE_DIR } from './confine.js';
import { replaceDurably } from './durable.js';
import { TMP_DIR } from './temp.js';

/** Progress of a replica: the last event applied and made durable from one source. */
export interface ReplicaState {
  source: string;
  lastSeq: number;
  node: string;
  /** ISO 8601 time of the write. */
  updated: string;
  /**
   * Which stream of the source got the replica to lastSeq: its header's `created` (ns since the
   * epoch, decimal). Absent in records of older versions (then unknown).
   */
  created?: string;
}

/** Root-relative path of the state file. */
export const STATE_FILE = `${STATE_DIR}/state.json`;

/** Creates ROOT (mkdir -p), ROOT/.rill/tmp and ROOT/.rill/stash; returns a Confine for the real root path. */
export function prepareRoot(root: string): Confine {
  try {
    mkdirSync(root, { recursive: true });
  } catch (err) {
    throw ioError('cannot create replica root', root, err);
  }
  const real = realpathSync(resolve(root));
  const st = statSync(real);
  if (!st.isDirectory()) throw new RillError('usage', `replica root ${JSON.stringify(root)} is not a directory`, { path: root });
  const confine = new Confine(real, st.dev);
  for (const dir of [STATE_DIR, TMP_DIR, STASH_DIR]) {
    const abs = confine.abs(dir);
    try {
      mkdirSync(abs, 0o700);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('cannot create', abs.toString(), err);
    }
    const here = lstatSync(abs);
    if (!here.isDirectory()) {
      throw new RillError('unsafe', `${JSON.stringify(abs.toString())} is not a directory (a symlink or file is in the way of rill's state)`, {
        path: abs.toString(),
        hint: 'remove it; replay keeps its state there',
      });
    }
  }
  return confine;
}

/** Reads ROOT/.rill/state.json; undefined when there is none (a new replica). Does not create anything. */
export function readState(root: string): ReplicaState | undefined {
  const file = `${root}/${STATE_FILE}`;
  let text: string;
  try {
    if (!lstatSync(`${root}/${STATE_DIR}`).isDirectory()) return undefined;
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('cannot read replica state', file, err);
  }
  try {
    const s = JSON.parse(text) as ReplicaState;
    if (typeof s.source === 'string' && Number.isSafeInteger(s.lastSeq) && (s.created === undefined || isCreated(s.created))) return s;
  } catch {
    // fall through
  }
  throw new RillError('io', `replica state ${JSON.stringify(file)} is not valid`, { path: file, hint: 'remove it to replay from scratch' });
}

/** A recorded header `created`: a decimal integer (ns since the epoch). */
export function isCreated(v: unknown): v is string {
  return typeof v === 'string' && /^-?[0-9]{1,20}$/.test(v);
}

/** Replaces the state file atomically and durably. */
export function writeState(confine: Confine, state: ReplicaState): void {
  replaceDurably(confine.abs(`${TMP_DIR}/${process.pid}.state`), confine.abs(STATE_FILE), confine.abs(STATE_DIR), `${JSON.stringify(state)}\n`);
}
