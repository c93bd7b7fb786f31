// The journal's public surface: a directory of segment files, each a rill stream; one writer, any
// number of readers (following live, resuming from a position), trimmed behind acknowledgements.
export { JournalWriter, type JournalWriterOptions } from './writer.js';
export { readJournal, type ReadJournalOptions } from './reader.js';
export { trimJournal } from './trim.js';
export { Waker } from './waker.js';
export { journalEnd } from './end.js';
export { NAMESPACE_EVENTS, type Position } from './position.js';
export { listSegments, parseSegmentName, segmentName, type Segment } from './names.js';
