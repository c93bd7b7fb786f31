// What each event does to the replica: one handler per kind, each the same shape (resolve beneath the
// root, one operation on the final component without following it). Failures are wrapped by the caller.
import { chmodSync, fchmodSync, ftruncateSync, linkSync, mkdirSync, renameSync, rmdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { RillError } from '../errors.js';
import type { HandlerTable } from '../stream/events.js';
import { fsPath, parentPath, showPath } from '../stream/path.js';
import { sys } from '../sys/native.js';
import { checkAssertion } from './assert.js';
import { checkDataPath } from './confine.js';
import { kindOf, lookup, putInPlace, typeConflict } from './fsops.js';
import type { Replica } from './replica.js';
import { punchRange } from './punch.js';
import { writeAll } from './xdev.js';

const DEVICE_TYPES = new Map([
  [0o010000, 'a fifo'],
  [0o020000, 'a character device'],
  [0o060000, 'a block device'],
  [0o140000, 'a socket'],
]);

/** The replay table: applies each event kind to the replica. */
export const applyHandlers: HandlerTable<void, Replica> = {
  mkdir(e, r) {
    const abs = r.confine.resolve(e.path, false);
    const st = lookup(abs);
    if (st?.isDirectory() !== true) {
      if (st !== undefined) unlinkSync(abs); // a non-directory in the way is replaced
      mkdirSync(abs, 0o700);
      r.durable.touched(parentPath(e.path));
      r.full?.created(e.path);
    }
    r.dirMode(e.path, abs, e.mode);
  },
  create(e, r) {
    r.pending.start(e.path, e.mode);
    r.stats.files++;
  },
  write(e, r) {
    checkDataPath(e.type, e.path);
    writeAll(r.fd(e.path, 'write to'), e.data, e.offset);
    r.stats.bytes += e.data.length;
  },
  truncate(e, r) {
    checkDataPath(e.type, e.path);
    ftruncateSync(r.fd(e.path, 'truncate'), e.size);
  },
  punch(e, r) {
    checkDataPath(e.type, e.path);
    punchRange(r.fd(e.path, 'punch a hole in'), e.offset, e.length);
  },
  symlink(e, r) {
    putInPlace(r.confine, r.temps, e.path, 'a symbolic link', (abs) => symlinkSync(fsPath(e.target), abs), r.replaceDir);
    r.confine.forget(e.path);
    r.durable.touched(parentPath(e.path));
  },
  link(e, r) {
    const from = r.confine.resolve(e.target, false);
    const target = lookup(from);
    if (target === undefined || target.isDirectory()) {
      const why = target === undefined ? 'does not exist in the replica' : 'is a directory';
      throw new RillError('io', `cannot link ${showPath(e.path)} to ${showPath(e.target)}: the target ${why}`, { path: e.path });
    }
    const here = lookup(r.confine.resolve(e.path, false));
    if (here !== undefined && here.ino === target.ino && here.dev === target.dev) return; // already that file
    putInPlace(r.confine, r.temps, e.path, 'a hard link', (abs) => linkSync(from, abs), r.replaceDir);
    r.durable.touched(parentPath(e.path));
  },
  mknod(e, r) {
    const what = DEVICE_TYPES.get(e.mode & 0o170000);
    if (what === undefined) {
      throw new RillError('stream', `mknod ${showPath(e.path)}: mode 0${e.mode.toString(8)} is not a fifo, socket or device node`, { path: e.path });
    }
    putInPlace(r.confine, r.temps, e.path, what, (abs) => {
      sys.mknod(abs, e.mode, e.rdev);
      chmodSync(abs, e.mode & 0o7777); // mknod applies the umask
    }, r.replaceDir);
    r.durable.touched(parentPath(e.path));
  },
  rename(e, r) {
    if (e.exchange === true) {
      throw new RillError('stream', `rename ${showPath(e.path)} with exchange is not supported yet`, { path: e.path, hint: 'replay a full stream instead' });
    }
    const from = r.confine.resolve(e.path, false, true);
    const to = r.confine.resolve(e.to, false, true);
    const moving = lookup(from);
    const there = lookup(to);
    r.confine.forget(e.path);
    r.confine.forget(e.to);
    if (moving === undefined && there !== undefined && r.wasRenaming(e.seq)) {
      // Made by a replay killed before it could mark it made; what it moved is owed its metadata there.
      if (there.isDirectory()) r.deferred.rename(e.path, e.to);
      return;
    }
    if (e.noreplace === true && there !== undefined) {
      throw new RillError('io', `rename ${showPath(e.path)} to ${showPath(e.to)}: the destination exists in the replica (noreplace)`, { path: e.to });
    }
    if (moving !== undefined && there?.isDirectory() === true && !moving.isDirectory()) throw typeConflict(e.to, `a ${kindOf(moving)}`);
    renameSync(from, to);
    if (moving?.isDirectory() === true) r.deferred.rename(e.path, e.to);
    r.durable.touched(parentPath(e.path));
    r.durable.touched(parentPath(e.to));
  },
  unlink(e, r) {
    const abs = r.confine.resolve(e.path, false, true);
    if (lookup(abs) === undefined) return; // already gone: replay is idempotent
    unlinkSync(abs);
    r.confine.forget(e.path);
    r.durable.touched(parentPath(e.path));
  },
  rmdir(e, r) {
    const abs = r.confine.resolve(e.path, false, true);
    r.deferred.drop(e.path); // also when already gone: a resumed replay rebuilt what it was owed
    if (lookup(abs) === undefined) return;
    rmdirSync(abs);
    r.confine.forget(e.path);
    r.durable.touched(parentPath(e.path));
  },
  chmod(e, r) {
    const p = r.pending.lookup(e.path);
    if (p !== undefined) {
      p.mode = e.mode & 0o7777;
      return fchmodSync(p.fd, p.mode);
    }
    const abs = r.confine.resolve(e.path, true);
    const st = lookup(abs);
    if (st === undefined) throw new RillError('io', `chmod ${showPath(e.path)}: no such entry in the replica`, { path: e.path });
    if (st.isSymbolicLink()) return; // a symlink's mode means nothing on Linux; never chmod through one
    if (st.isDirectory()) return r.dirMode(e.path, abs, e.mode);
    chmodSync(abs, e.mode & 0o7777);
  },
  chown(e, r) {
    r.chown(e.path, e.uid, e.gid);
  },
  utimes(e, r) {
    const abs = r.target(e.path);
    if (r.pending.lookup(e.path) === undefined && lookup(abs)?.isDirectory() === true) return r.dirTimes(e.path, e.atime, e.mtime);
    sys.utimens(abs, e.atime, e.mtime);
  },
  setxattr(e, r) {
    sys.setXattr(r.target(e.path), fsPath(e.name), e.value);
  },
  removexattr(e, r) {
    sys.removeXattr(r.target(e.path), fsPath(e.name));
  },
  commit(e, r) {
    r.commit(e.seq);
  },
  bookmark(e, r) {
    r.commit(e.seq);
    if (r.verbose) r.log(`bookmark ${JSON.stringify(e.name)} at seq ${e.seq}${e.consistent ? ' (consistent)' : ''}`);
  },
  assert(e, r) {
    checkAssertion(e, r);
  },
  note(e, r) {
    if (r.verbose) r.log(`note ${e.code}${e.path === undefined ? '' : ` ${showPath(e.path)}`}: ${e.message}`);
  },
};
