// The rill stream vocabulary (format v1): every record kind, its fields, and the version bounds.
// This file is the single source of truth; man/rill-stream.5 documents the same table.

/** Format version this code writes. */
export const FORMAT_VERSION = 1;
/** Oldest and newest format versions this code can read. */
export const READ_VERSIONS = { min: 1, max: 1 } as const;
/** Header magic value. */
export const MAGIC = 'rill';

/**
 * A path relative to the stream root: '/'-separated components, never absolute, never '.' or '..',
 * never empty components, never NUL. The empty string names the root itself. File names are bytes on
 * Linux: bytes that are not valid UTF-8 are carried in the string as lone surrogates U+DC80..U+DCFF
 * (one per byte, like Python's surrogateescape); see src/stream/path.ts.
 */
export type Path = string;
/** Nanoseconds since the Unix epoch (signed 64-bit). */
export type Ns = bigint;

interface EventBase {
  /** Strictly increasing within a source; (source, seq) identifies an event everywhere. */
  seq: number;
  /** When the change happened on the source (ns since epoch), where the capture knows it. */
  time?: Ns;
}

export interface MkdirEvent extends EventBase { type: 'mkdir'; path: Path; mode: number }
/** A new, empty regular file (an existing non-directory at that path is replaced). */
export interface CreateEvent extends EventBase { type: 'create'; path: Path; mode: number }
/** Data events (write, truncate, punch) name the volume itself with path '' in a volume stream. */
export interface WriteEvent extends EventBase { type: 'write'; path: Path; offset: number; data: Buffer }
export interface TruncateEvent extends EventBase { type: 'truncate'; path: Path; size: number }
/** A range that reads back as zeros and, where the file system allows, occupies no space. */
export interface PunchEvent extends EventBase { type: 'punch'; path: Path; offset: number; length: number }
/** target is the link's content, stored verbatim, never resolved. */
export interface SymlinkEvent extends EventBase { type: 'symlink'; path: Path; target: Path }
/** A hard link: `path` becomes another name of the existing file `target`. */
export interface LinkEvent extends EventBase { type: 'link'; path: Path; target: Path }
/** Fifos, sockets and device nodes: mode includes the file-type bits (S_IFIFO, S_IFCHR, ...). */
export interface MknodEvent extends EventBase { type: 'mknod'; path: Path; mode: number; rdev: number }
export interface RenameEvent extends EventBase { type: 'rename'; path: Path; to: Path; noreplace?: boolean; exchange?: boolean }
export interface UnlinkEvent extends EventBase { type: 'unlink'; path: Path }
export interface RmdirEvent extends EventBase { type: 'rmdir'; path: Path }
/** Permission bits (07777). */
export interface ChmodEvent extends EventBase { type: 'chmod'; path: Path; mode: number }
/** Does not follow a final symlink. */
export interface ChownEvent extends EventBase { type: 'chown'; path: Path; uid: number; gid: number }
/** Does not follow a final symlink. */
export interface UtimesEvent extends EventBase { type: 'utimes'; path: Path; atime: Ns; mtime: Ns }
export interface SetxattrEvent extends EventBase { type: 'setxattr'; path: Path; name: string; value: Buffer }
export interface RemovexattrEvent extends EventBase { type: 'removexattr'; path: Path; name: string }
/** A transaction boundary: everything before it may be made durable together. */
export interface CommitEvent extends EventBase { type: 'commit' }
export interface BookmarkEvent extends EventBase { type: 'bookmark'; name: string; wall: Ns; consistent: boolean }
/** The file at path has this size and content hash (for verification). */
export interface AssertEvent extends EventBase { type: 'assert'; path: Path; size: number; alg: string; hash: Buffer }
/** Information for people and tools (e.g. a file changed while it was scanned); replay does not change the tree. */
export interface NoteEvent extends EventBase { type: 'note'; code: string; message: string; path?: Path }

export type Event =
  | MkdirEvent | CreateEvent | WriteEvent | TruncateEvent | PunchEvent | SymlinkEvent | LinkEvent
  | MknodEvent | RenameEvent | UnlinkEvent | RmdirEvent | ChmodEvent | ChownEvent | UtimesEvent
  | SetxattrEvent | RemovexattrEvent | CommitEvent | BookmarkEvent | AssertEvent | NoteEvent;

export type EventType = Event['type'];
export type EventOf<T extends EventType> = Extract<Event, { type: T }>;
/** An event before a sequence number is assigned to it. */
export type EventInput = Event extends infer E ? (E extends Event ? Omit<E, 'seq'> : never) : never;

export type RootKind = 'tree' | 'volume';

/** First record of every stream. */
export interface Header {
  type: 'header';
  magic: typeof MAGIC;
  version: number;
  /** Identifies the event source (a UUID); seq numbers are per source. */
  source: string;
  /** Name of the node (host) that captured the stream. */
  node: string;
  /** What was captured: a directory tree or a single volume (file or block device). */
  kind: RootKind;
  /** The captured root as the source saw it. */
  root: { path: string; dev?: number; ino?: number };
  /** When the stream was started (ns since epoch). */
  created: Ns;
  /** True when the stream carries the full state of the root, not a change set: replay makes the replica exactly this. */
  full?: boolean;
  /**
   * A change set (incremental stream): the seq of the last event of this source the change set
   * applies on top of. Its own events start after it. Replay refuses it unless the replica has
   * applied this source through at least `base` (else seqs base+1.. would be missing).
   */
  base?: number;
  /**
   * This stream is part `part` (1, 2, ...) of a longer stream split across journal segments: it
   * continues the stream that ended with `end.more` just before it. A part has no `full`, and its
   * `base` is the previous part's last seq (so alone it is a valid change set). Absent: part 0.
   */
  part?: number;
}

/** Last record of every complete stream. */
export interface End {
  type: 'end';
  /** Number of events in this stream (records between header and end). */
  count: number;
  /** CRC-32 chained over the CRCs of every frame of this stream before the one holding the end record. */
  checksum: number;
  /** seq of the last event, absent when the stream has none. */
  lastSeq?: number;
  /** The stream goes on in a following part (the journal rotated inside it), or was cut (its writer died). */
  more?: boolean;
}

export type StreamRecord = Header | Event | End;

/**
 * Field kinds, shared by the wire validator, the JSON-lines converter and the docs:
 * entry  non-empty relative Path            path   relative Path, '' = the root
 * raw    text, or bytes when not UTF-8       str    UTF-8 text
 * uint   integer 0..2^53-1                  ns     signed 64-bit integer (bigint in memory)
 * bytes  byte string                         bool   true/false
 * A trailing '?' marks an optional field.
 */
export type FieldKind = 'entry' | 'path' | 'raw' | 'str' | 'uint' | 'ns' | 'bytes' | 'bool';
export type FieldSpec = FieldKind | `${FieldKind}?`;

type Fields<E> = { [K in Exclude<keyof E, 'type' | 'seq' | 'time'>]-?: FieldSpec };

/** The schema of every event kind; a new kind fails to compile until it is listed here. */
export const EVENT_FIELDS: { [T in EventType]: Fields<EventOf<T>> } = {
  mkdir: { path: 'entry', mode: 'uint' },
  create: { path: 'entry', mode: 'uint' },
  write: { path: 'path', offset: 'uint', data: 'bytes' },
  truncate: { path: 'path', size: 'uint' },
  punch: { path: 'path', offset: 'uint', length: 'uint' },
  symlink: { path: 'entry', target: 'raw' },
  link: { path: 'entry', target: 'entry' },
  mknod: { path: 'entry', mode: 'uint', rdev: 'uint' },
  rename: { path: 'entry', to: 'entry', noreplace: 'bool?', exchange: 'bool?' },
  unlink: { path: 'entry' },
  rmdir: { path: 'entry' },
  chmod: { path: 'path', mode: 'uint' },
  chown: { path: 'path', uid: 'uint', gid: 'uint' },
  utimes: { path: 'path', atime: 'ns', mtime: 'ns' },
  setxattr: { path: 'path', name: 'raw', value: 'bytes' },
  removexattr: { path: 'path', name: 'raw' },
  commit: {},
  bookmark: { name: 'str', wall: 'ns', consistent: 'bool' },
  assert: { path: 'entry', size: 'uint', alg: 'str', hash: 'bytes' },
  note: { code: 'str', message: 'str', path: 'path?' },
};

/** Fields every event may carry. */
export const COMMON_FIELDS = { seq: 'uint', time: 'ns?' } as const satisfies Record<string, FieldSpec>;

export const HEADER_FIELDS = {
  magic: 'str', version: 'uint', source: 'str', node: 'str', kind: 'str', created: 'ns', full: 'bool?', base: 'uint?', part: 'uint?',
} as const satisfies Record<string, FieldSpec>;

export const END_FIELDS = { count: 'uint', checksum: 'uint', lastSeq: 'uint?', more: 'bool?' } as const satisfies Record<string, FieldSpec>;

export const EVENT_TYPES = Object.keys(EVENT_FIELDS) as EventType[];

export function isEventType(t: unknown): t is EventType {
  return typeof t === 'string' && Object.hasOwn(EVENT_FIELDS, t);
}

/** Handlers typed over the union: a table must name every event kind (STYLE.md §2). */
export type HandlerTable<R, Ctx = void> = { [T in EventType]: (event: EventOf<T>, ctx: Ctx) => R };

/** Calls the handler for an event's kind. */
export function dispatch<R, Ctx>(table: HandlerTable<R, Ctx>, event: Event, ctx: Ctx): R {
  return (table[event.type] as (e: Event, c: Ctx) => R)(event, ctx);
}
