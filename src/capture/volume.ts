// Volume mode: a regular file or block device captured as one volume, by blocks (being built).
import { RillError } from '../errors.js';
import type { BufferPool } from './buffer-pool.js';
import type { ScanProblem } from './problems.js';
import type { ScanRoot } from './root.js';
import type { CaptureSource } from './source.js';
import type { StatePlan } from './state-plan.js';

export interface VolumeOptions {
  chunkSize: number;
  blockSize: number;
  pool?: BufferPool;
  /** The decision from --state (undefined without --state: a full stream, no state written). */
  plan?: StatePlan;
  stateFile?: string;
  node?: string;
  onProblem?: (p: ScanProblem) => void;
}

export function volumeCapture(root: ScanRoot, _options: VolumeOptions): CaptureSource {
  throw new RillError('unimplemented', `capture root ${JSON.stringify(root.path)} is a volume: volume mode is being built`);
}
