// One error type for the whole library: what went wrong, where (path, stream position), and why (cause).
// Only the CLI layer (src/cli-run.ts) turns a kind into an exit code.

export type ErrorKind =
  | 'usage' // a wrong flag or argument
  | 'stream' // corrupt, truncated, malformed or unsupported stream input
  | 'unsafe' // refused: a path that would leave the root, a symlink in the way, a type conflict
  | 'io' // a file-system operation failed (ENOSPC, EACCES, a missing source, ...)
  | 'mismatch' // the input does not fit: a stream of another source, a gap in seq, a foreign or stale state file
  | 'busy' // in use: another process holds the lock (a journal's writer)
  | 'unimplemented'; // a command of the contract that is not built yet

export interface StreamPosition {
  /** Input name (a file name, or '-' for stdin). */
  input?: string;
  /** Byte offset in the input where the faulty frame or record starts. */
  offset?: number;
  /** 1-based record number within the input (records of all streams concatenated in it). */
  record?: number;
}

export interface RillErrorOptions extends StreamPosition {
  path?: string;
  cause?: unknown;
  /** A hint: what the user can do about it. */
  hint?: string;
}

export class RillError extends Error {
  readonly kind: ErrorKind;
  readonly path?: string;
  readonly input?: string;
  readonly offset?: number;
  readonly record?: number;
  readonly hint?: string;

  constructor(kind: ErrorKind, message: string, options: RillErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RillError';
    this.kind = kind;
    this.path = options.path;
    this.input = options.input;
    this.offset = options.offset;
    this.record = options.record;
    this.hint = options.hint;
  }

  /** One line for stderr: where, what, and what to do. */
  describe(): string {
    const where: string[] = [];
    if (this.input !== undefined) where.push(this.input);
    if (this.offset !== undefined) where.push(`byte ${this.offset}`);
    if (this.record !== undefined) where.push(`record ${this.record}`);
    let line = where.length > 0 ? `${where.join(', ')}: ${this.message}` : this.message;
    const code = (this.cause as NodeJS.ErrnoException | undefined)?.code;
    if (code !== undefined && !line.includes(code)) line += ` (${code})`;
    if (this.hint !== undefined) line += `; ${this.hint}`;
    return line;
  }
}

/** Wraps a failed system call as an io error naming the path (shown as the user sees it). */
export function ioError(what: string, path: string, cause: unknown): RillError {
  const err = cause as NodeJS.ErrnoException;
  const reason = err?.code === 'ENOSPC' ? 'no space left on device (disk full)' : (err?.message ?? String(cause));
  return new RillError('io', `${what} ${JSON.stringify(path)}: ${reason}`, { path, cause });
}
