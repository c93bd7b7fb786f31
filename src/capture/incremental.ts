// Incremental tree capture against a state manifest (being built).
import { RillError } from '../errors.js';
import type { BufferPool } from './buffer-pool.js';
import type { PathFilter } from './filter.js';
import type { ScanProblem } from './problems.js';
import type { ScanRoot } from './root.js';
import type { CaptureSource } from './source.js';
import type { StatePlan } from './state-plan.js';

export interface TreeCaptureOptions {
  plan: StatePlan;
  stateFile: string;
  chunkSize: number;
  blockSize: number;
  pool?: BufferPool;
  node?: string;
  filter?: PathFilter;
  oneFileSystem?: boolean;
  /** Hash every file, not only those whose size, mtime or ctime moved. */
  checksum?: boolean;
  onProblem?: (p: ScanProblem) => void;
}

export function treeCapture(root: ScanRoot, _options: TreeCaptureOptions): CaptureSource {
  throw new RillError('unimplemented', `incremental capture of ${JSON.stringify(root.path)} is being built`);
}
