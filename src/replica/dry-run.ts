// --dry-run: a second table over the same events that says what each would change, touching nothing
// (paths are still checked for syntax and .rill, so a hostile stream is refused in a dry run too).
import type { Event, HandlerTable } from '../stream/events.js';
import { showPath } from '../stream/path.js';
import { checkDataPath, checkPath } from './confine.js';

/** What a dry run needs to know to describe events. */
export interface DryContext {
  applyOwner: boolean;
}

const oct = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');
const q = showPath;

/** One line per change an event would make; undefined for events that change nothing in the tree. */
export const describeHandlers: HandlerTable<string | undefined, DryContext> = {
  mkdir: (e) => `mkdir ${q(e.path)} mode ${oct(e.mode)}`,
  create: (e) => `create ${q(e.path)} mode ${oct(e.mode)}`,
  write: (e) => `write ${q(e.path)} offset ${e.offset} length ${e.data.length}`,
  truncate: (e) => `truncate ${q(e.path)} size ${e.size}`,
  punch: (e) => `punch ${q(e.path)} offset ${e.offset} length ${e.length}`,
  symlink: (e) => `symlink ${q(e.path)} -> ${q(e.target)}`,
  link: (e) => `link ${q(e.path)} to ${q(e.target)}`,
  mknod: (e) => `mknod ${q(e.path)} mode 0${e.mode.toString(8)} rdev ${e.rdev}`,
  rename: (e) => `rename ${q(e.path)} to ${q(e.to)}${e.noreplace ? ' noreplace' : ''}${e.exchange ? ' exchange' : ''}`,
  unlink: (e) => `unlink ${q(e.path)}`,
  rmdir: (e) => `rmdir ${q(e.path)}`,
  chmod: (e) => `chmod ${q(e.path)} mode ${oct(e.mode)}`,
  chown: (e, c) => (c.applyOwner ? `chown ${q(e.path)} uid ${e.uid} gid ${e.gid}` : undefined),
  utimes: (e) => `utimes ${q(e.path)} atime ${e.atime} mtime ${e.mtime}`,
  setxattr: (e) => `setxattr ${q(e.path)} ${q(e.name)} length ${e.value.length}`,
  removexattr: (e) => `removexattr ${q(e.path)} ${q(e.name)}`,
  commit: () => undefined,
  bookmark: (e) => `bookmark ${JSON.stringify(e.name)}`,
  assert: () => undefined,
  note: () => undefined,
};

/** Checks an event's paths as replay would before any file system access (syntax, .rill and its stash, the volume). */
export function checkEventPaths(e: Event): void {
  switch (e.type) {
    case 'commit':
    case 'bookmark':
    case 'note':
      return;
    case 'rename':
      checkPath(e.path, false, true);
      checkPath(e.to, false, true);
      return;
    case 'unlink':
    case 'rmdir':
      checkPath(e.path, false, true);
      return;
    case 'write':
    case 'truncate':
    case 'punch':
      checkDataPath(e.type, e.path);
      checkPath(e.path, false);
      return;
    case 'link':
      checkPath(e.path, false);
      checkPath(e.target, false);
      return;
    default:
      checkPath(e.path, e.type === 'chmod' || e.type === 'chown' || e.type === 'utimes' || e.type === 'setxattr' || e.type === 'removexattr');
  }
}
