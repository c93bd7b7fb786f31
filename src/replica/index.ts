// The replica module's public surface: apply a stream to a directory tree, confined beneath its root.
export { applyRecords } from './apply.js';
export type { ApplyOptions, ApplyStats } from './replica.js';
export { readState, STATE_FILE, type ReplicaState } from './state.js';
export { STATE_DIR } from './confine.js';
