// The merge module's public surface: sort-merge as a library call.
export { sortMerge, payloadBudget, type SortMergeOptions, type SortMergeStats } from './sort-merge.js';
