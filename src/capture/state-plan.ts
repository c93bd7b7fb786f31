// What a capture run with --state FILE emits: a change set against the state (same source, seqs
// continuing after its lastSeq, header base = lastSeq), or a full stream (no state yet, or --full).
// A state of another root, another kind, another file system or another --source is refused
// unless --full: its inodes and hashes describe something else, and a change set against it
// would corrupt the replica.
import { randomUUID } from 'node:crypto';
import { RillError } from '../errors.js';
import { hostname } from 'node:os';
import { StateReader, STATE_MAGIC, STATE_VERSION, type StateHeader } from './state-file.js';
import type { ScanRoot } from './root.js';

export interface StatePlanInput {
  /** --state FILE. */
  file: string;
  kind: 'tree' | 'volume';
  /** The root as captured now. */
  root: { path: string; dev: number; ino: number };
  /** --full: ignore the state's content (a foreign or corrupt one too) and emit a full stream. */
  full: boolean;
  /** --source ID, if given. */
  source?: string;
  /** --block-size, if given. */
  blockSize?: number;
}

export interface StatePlan {
  /** The previous state to diff against; undefined for a full stream. Close it when done. */
  old?: StateReader;
  full: boolean;
  source: string;
  /** First seq of this run's events. */
  firstSeq: number;
  /** For a change set: the seq it applies on top of. */
  base?: number;
  blockSize: number;
}

function refuse(file: string, why: string): RillError {
  return new RillError('mismatch', `state file ${JSON.stringify(file)} ${why}`, {
    path: file,
    hint: 'use the state file of this root, or capture with --full to start a new one (its stream is a full one)',
  });
}

/** Why the state does not describe this root, or undefined when it does. */
function mismatch(h: StateHeader, input: StatePlanInput): string | undefined {
  if (h.kind !== input.kind) return `is for a ${h.kind === 'tree' ? 'directory tree' : 'volume'}, and ${input.root.path} is not one`;
  if (h.root.path !== input.root.path) return `belongs to ${h.root.path}, not ${input.root.path}`;
  if (h.root.dev !== input.root.dev || h.root.ino !== input.root.ino) {
    return `was written for another file system at ${h.root.path} (device/inode ${h.root.dev}/${h.root.ino}, now ${input.root.dev}/${input.root.ino}): its inodes mean nothing here`;
  }
  if (input.source !== undefined && input.source !== h.source) return `numbers source ${h.source}, not --source ${input.source}`;
  return undefined;
}

/** Opens the state (if any) and decides what this run emits. */
export function planFromState(input: StatePlanInput, defaultBlockSize: number): StatePlan {
  let old: StateReader | undefined;
  try {
    old = StateReader.open(input.file);
  } catch (err) {
    if (!input.full) throw err;
  }
  if (old === undefined) {
    return { full: true, source: input.source ?? randomUUID(), firstSeq: 1, blockSize: input.blockSize ?? defaultBlockSize };
  }
  const h = old.header;
  const why = mismatch(h, input);
  if (why !== undefined && !input.full) {
    old.close();
    throw refuse(input.file, why);
  }
  // --full keeps numbering the same source where the state is this root's, so a replica follows on.
  const continues = why === undefined;
  const source = continues ? h.source : (input.source ?? randomUUID());
  const firstSeq = continues ? old.lastSeq + 1 : 1;
  const blockSize = input.blockSize ?? h.blockSize;
  if (input.full || blockSize !== h.blockSize) {
    // A new block size makes every old hash useless: the stream is a full one.
    old.close();
    return { full: true, source, firstSeq, blockSize };
  }
  return { old, full: false, source, firstSeq, base: old.lastSeq, blockSize };
}

/** The header of the state a run writes: this root, the plan's source and block size. */
export function stateHeader(root: ScanRoot, plan: StatePlan, node: string | undefined, blockSize = plan.blockSize): StateHeader {
  return {
    magic: STATE_MAGIC,
    version: STATE_VERSION,
    kind: root.kind,
    source: plan.source,
    node: node ?? hostname(),
    root: { path: root.abs, dev: Number(root.st.dev), ino: Number(root.st.ino) },
    blockSize,
    created: Date.now(),
  };
}
