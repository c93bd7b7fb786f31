// What a replica durably holds (source and seq), read without changing anything: the position a
// `replay --ack` sink announces in its hello.
import { realpathSync } from 'node:fs';
import { defaultVolumeState, readVolumeState, targetKind } from './volume.js';
import { readState } from './state.js';

/** The last event recorded durably at a tree or volume replica; undefined for a new one. */
export function replicaPosition(root: string, stateFile?: string): { source: string; seq: number } | undefined {
  const kind = targetKind(root);
  if (kind === 'file' || kind === 'device') {
    if (kind === 'device' && stateFile === undefined) return undefined;
    const s = readVolumeState(stateFile ?? defaultVolumeState(realpathSync(root)));
    return s === undefined ? undefined : { source: s.source, seq: s.lastSeq };
  }
  if (kind !== 'directory') return undefined;
  const s = readState(root);
  return s === undefined ? undefined : { source: s.source, seq: s.lastSeq };
}
